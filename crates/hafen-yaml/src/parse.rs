//! Text to spanned tree, collecting problems as diagnostics.

use crate::codes;
use crate::node::{Entry, Node, ScalarStyle, Value};
use hafen_diag::{Diagnostic, FileId, Pos, Span};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle as SStyle, Tag};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// Budgets that keep hostile input (alias bombs, deep nesting, huge files) bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Most nodes after alias expansion, over all documents.
    pub max_nodes: usize,
    /// Deepest nesting of collections.
    pub max_depth: usize,
    /// Alias expansion may copy at most this many times the input's size, in bytes ...
    pub expansion_factor: usize,
    /// ... but always at least this many bytes (small files may use anchors freely) ...
    pub min_expansion_bytes: usize,
    /// ... and never more than this many, whatever the input's size.
    pub max_expansion_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            max_nodes: 4_000_000,
            max_depth: 128,
            expansion_factor: 16,
            min_expansion_bytes: 4 * 1024 * 1024,
            max_expansion_bytes: 64 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The alias-expansion budget in bytes for an input of `input_bytes`.
    pub fn expansion_budget(&self, input_bytes: usize) -> usize {
        input_bytes
            .saturating_mul(self.expansion_factor)
            .max(self.min_expansion_bytes)
            .min(self.max_expansion_bytes)
    }
}

/// What building the tree cost; kept so tests can see that a bomb is stopped early.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Bytes copied for aliases (and for the anchor table), by [`cost`].
    pub(crate) expanded_bytes: usize,
    /// Aliases expanded.
    pub(crate) aliases: usize,
    /// Keys compared with each other to find duplicates (and merged keys already present).
    pub(crate) key_comparisons: usize,
}

/// A mapping at most this long is searched key by key; a longer one gets a hash index.
/// Most mappings in a spec are short, and a scan of a few keys is cheaper than hashing.
const INDEX_FROM: usize = 16;

/// Finds a key among the entries of an open mapping in O(1), so the duplicate check costs
/// O(n) for a mapping of n keys instead of O(n²). The index holds only a hash of each key
/// and the position of the first entry with that hash, not a copy of the key: a hash shared
/// by two different keys falls back to a scan, which gives the same answer.
#[derive(Default)]
struct KeyIndex {
    /// Hash of a key → position of the first entry with that hash, once the mapping has
    /// [`INDEX_FROM`] entries.
    by_hash: Option<HashMap<u64, usize>>,
}

impl KeyIndex {
    /// The position of the entry whose key is `key`: entries are unique, so this is the
    /// first (and only) time it was written.
    fn find(
        &self,
        entries: &[Entry],
        key: &str,
        hasher: &RandomState,
        stats: &mut Stats,
    ) -> Option<usize> {
        let scan = |stats: &mut Stats| {
            entries.iter().position(|e| {
                stats.key_comparisons += 1;
                e.key == key
            })
        };
        let Some(by_hash) = &self.by_hash else { return scan(stats) };
        let &at = by_hash.get(&hasher.hash_one(key))?;
        stats.key_comparisons += 1;
        if entries[at].key == key { Some(at) } else { scan(stats) }
    }

    /// Records the entry just pushed (the last one), building the index when the mapping
    /// reaches [`INDEX_FROM`] entries.
    fn added(&mut self, entries: &[Entry], hasher: &RandomState) {
        match &mut self.by_hash {
            Some(by_hash) => {
                if let Some(last) = entries.len().checked_sub(1) {
                    by_hash.entry(hasher.hash_one(&entries[last].key)).or_insert(last);
                }
            }
            None if entries.len() >= INDEX_FROM => {
                let mut by_hash = HashMap::with_capacity(entries.len() * 2);
                for (at, e) in entries.iter().enumerate() {
                    by_hash.entry(hasher.hash_one(&e.key)).or_insert(at);
                }
                self.by_hash = Some(by_hash);
            }
            None => {}
        }
    }
}

/// What a copy of `node` costs in memory: every node and mapping entry, plus the text of
/// every scalar and key. Counting bytes, not nodes, is what catches one large string
/// aliased thousands of times.
fn cost(node: &Node) -> usize {
    let own = std::mem::size_of::<Node>() + node.raw.as_ref().map_or(0, String::len);
    own.saturating_add(match &node.value {
        Value::Str(s) => s.len(),
        Value::Seq(items) => items.iter().fold(0usize, |acc, n| acc.saturating_add(cost(n))),
        Value::Map(entries) => entries.iter().fold(0usize, |acc, e| {
            acc.saturating_add(std::mem::size_of::<Entry>() - std::mem::size_of::<Node>())
                .saturating_add(e.key.len())
                .saturating_add(cost(&e.value))
        }),
        _ => 0,
    })
}

enum Frame {
    Seq {
        start: Span,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Span,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Span)>,
        merges: Vec<Node>,
        keys: KeyIndex,
    },
}

struct Builder {
    file: FileId,
    limits: Limits,
    stack: Vec<Frame>,
    /// Anchored nodes with their [`cost`], computed once.
    anchors: HashMap<usize, (Node, usize)>,
    documents: Vec<Node>,
    diagnostics: Vec<Diagnostic>,
    nodes: usize,
    /// Bytes alias expansion may still copy.
    budget: usize,
    stats: Stats,
    /// Hashes keys for [`KeyIndex`]; randomly seeded, so crafted keys cannot make them
    /// collide. Only lookups use it, never an iteration order, so output does not depend on it.
    hasher: RandomState,
}

fn pos(marker: &Marker) -> Pos {
    Pos {
        line: u32::try_from(marker.line()).unwrap_or(u32::MAX),
        col: u32::try_from(marker.col() + 1).unwrap_or(u32::MAX),
    }
}

/// Parses every document in `text`. Returns the documents that could be built and every
/// problem found; on a syntax error or an exceeded budget the document list is empty.
pub fn parse(text: &str, file: FileId, limits: &Limits) -> (Vec<Node>, Vec<Diagnostic>) {
    let (docs, diagnostics, _) = parse_with_stats(text, file, limits);
    (docs, diagnostics)
}

pub(crate) fn parse_with_stats(
    text: &str,
    file: FileId,
    limits: &Limits,
) -> (Vec<Node>, Vec<Diagnostic>, Stats) {
    if text.len() > limits.max_bytes {
        let d = Diagnostic::error(
            codes::LIMIT,
            format!(
                "input is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        )
        .with_span(Some(Span::point(file, Pos { line: 1, col: 1 })))
        .with_help("split the platform into several files, or check that this is the right file");
        return (Vec::new(), vec![d], Stats::default());
    }
    if let Some(d) = nul_byte(text, file) {
        return (Vec::new(), vec![d], Stats::default());
    }
    let mut builder = Builder {
        file,
        limits: *limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        diagnostics: Vec::new(),
        nodes: 0,
        budget: limits.expansion_budget(text.len()),
        stats: Stats::default(),
        hasher: RandomState::new(),
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_event() {
            None => break,
            Some(Ok((event, span))) => {
                let span = Span { file, start: pos(&span.start), end: pos(&span.end) };
                if let Err(fatal) = builder.on_event(event, span) {
                    return (Vec::new(), vec![*fatal], builder.stats);
                }
            }
            Some(Err(err)) => {
                let d = syntax_error(err.info(), pos(err.marker()), text, file, &builder.stack);
                return (Vec::new(), vec![d], builder.stats);
            }
        }
    }
    (builder.documents, builder.diagnostics, builder.stats)
}

/// `12.0 MiB`, or bytes below one MiB.
fn mib(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{bytes} bytes")
    }
}

/// The diagnostic for a parser error: where it broke (moved back onto the text when the
/// parser ran past the end), where the unclosed construct began, and a fix.
fn syntax_error(info: &str, at: Pos, text: &str, file: FileId, stack: &[Frame]) -> Diagnostic {
    let broke = Span::point(file, clamp_to_text(text, at));
    if info.contains("recursion limit") {
        return Diagnostic::error(
            codes::LIMIT,
            "nesting too deep: more than 255 `[` or `{` are open at once",
        )
        .with_span(Some(broke))
        .with_span_label("the parser stops here")
        .with_help(
            "a platform spec never nests more than a few levels; look for a run of unclosed `[` or `{`, or check that this is the right file",
        );
    }
    // The innermost collection still open, if it is a flow collection (`[` or `{`).
    let open = stack.last().and_then(|frame| {
        let start = match frame {
            Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
        };
        let opener = char_at(text, start.start)?;
        matches!(opener, '[' | '{').then_some((opener, Span::point(file, start.start)))
    });
    let mut d = Diagnostic::error(codes::SYNTAX, format!("invalid YAML: {info}"));
    match open {
        Some((opener, start))
            if info.contains("flow sequence") || info.contains("flow mapping") =>
        {
            let (what, closer) = if opener == '[' { ("list", ']') } else { ("mapping", '}') };
            d = d
                .with_span(Some(start))
                .with_span_label(format!("this {what} is not closed"))
                .with_label(Some(broke), format!("expected `,` or `{closer}` here"));
        }
        Some((opener, start)) => {
            let what = if opener == '[' { "list" } else { "mapping" };
            d = d
                .with_span(Some(broke))
                .with_span_label("the parser stops here")
                .with_label(Some(start), format!("inside the {what} opened here"));
        }
        None => d = d.with_span(Some(broke)).with_span_label("the parser stops here"),
    }
    d.with_help(syntax_help(info, text, at))
}

/// Moves a position the parser reports past the end of a line or of the text back onto the
/// last character it read, so the excerpt shows the line that needs the fix.
fn clamp_to_text(text: &str, at: Pos) -> Pos {
    let lines: Vec<&str> = text.lines().collect();
    let line_len = |line: usize| lines.get(line.wrapping_sub(1)).map_or(0, |l| l.chars().count());
    let mut line = at.line as usize;
    if line == 0 {
        return Pos { line: 1, col: 1 };
    }
    if line > lines.len() || (at.col == 1 && line_len(line) == 0) {
        // Past the end, or at the start of an empty line: point after the last text before.
        line = line.min(lines.len());
        while line > 1 && lines[line - 1].trim().is_empty() {
            line -= 1;
        }
        if line == 0 {
            return Pos { line: 1, col: 1 };
        }
        let col = u32::try_from(line_len(line) + 1).unwrap_or(u32::MAX);
        return Pos { line: u32::try_from(line).unwrap_or(u32::MAX), col };
    }
    let max_col = u32::try_from(line_len(line) + 1).unwrap_or(u32::MAX);
    Pos { line: at.line, col: at.col.min(max_col) }
}

fn char_at(text: &str, at: Pos) -> Option<char> {
    text.lines()
        .nth((at.line as usize).checked_sub(1)?)?
        .chars()
        .nth((at.col as usize).checked_sub(1)?)
}

/// A NUL byte anywhere in the text, as a diagnostic. The parser takes NUL for the end of the
/// input: in a comment it would silently drop the rest of the file, in quotes it reports an
/// unclosed string, elsewhere "found unprintable character" — none of which names the byte,
/// which is invisible in the excerpt and in most editors. So NUL is found before parsing.
fn nul_byte(text: &str, file: FileId) -> Option<Diagnostic> {
    let offset = text.find('\0')?;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let at = Pos {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        col: u32::try_from(col).unwrap_or(u32::MAX),
    };
    let count = text.bytes().filter(|&b| b == 0).count();
    let more = match count {
        1 => String::new(),
        2 => " (and 1 more)".to_owned(),
        n => format!(" (and {} more)", n - 1),
    };
    let d = if looks_like_utf16(text) {
        Diagnostic::error(
            codes::SYNTAX,
            "the file is UTF-16 text, not UTF-8: a NUL byte (U+0000) follows most of its letters",
        )
        .with_help("save the file as UTF-8, e.g. `iconv -f utf-16le -t utf-8 FILE > FILE.utf8` (`utf-16be` if the NUL bytes come first)")
    } else {
        Diagnostic::error(
            codes::SYNTAX,
            format!("the file contains a NUL byte (U+0000) at line {line}, column {col}{more}"),
        )
        .with_help("delete the NUL byte: YAML allows it nowhere, not even quoted; editors rarely show it (`grep -c -P '\\x00' FILE` counts the lines that have one, `tr -d '\\000'` removes them); a NUL byte in a text file usually means it was damaged in a copy or is not the spec")
    };
    Some(d.with_span(Some(Span::point(file, at))).with_span_label("NUL byte here"))
}

/// True when a NUL byte follows or precedes most characters at the start of the text:
/// UTF-16 read as UTF-8 (its byte-order mark lost, or never written).
fn looks_like_utf16(text: &str) -> bool {
    let head: Vec<u8> = text.bytes().take(64).collect();
    let nuls = head.iter().filter(|&&b| b == 0).count();
    head.len() >= 8 && nuls * 3 >= head.len()
}

fn syntax_help(info: &str, text: &str, at: Pos) -> String {
    let line = text.lines().nth((at.line as usize).saturating_sub(1)).unwrap_or("");
    // By word: "unprintable" contains "tab" too.
    if line.contains('\t')
        || info.split(|c: char| !c.is_alphabetic()).any(|w| w == "tab" || w == "tabs")
    {
        return "YAML indentation must use spaces; replace the tab characters".into();
    }
    if info.contains("flow sequence") {
        return "close the list with `]` (items are separated by `,`), or write it as a block list with one `- item` per line".into();
    }
    if info.contains("flow mapping") {
        return "close the mapping with `}` (entries are separated by `,`), or write it as a block mapping with one `key: value` per line".into();
    }
    if info.contains("quoted scalar") {
        return "close the quoted text with the quote it starts with; inside double quotes write `\\\"` for a quote, inside single quotes `''`".into();
    }
    if info.contains("mapping values are not allowed") {
        return "a `: ` starts a new key here; put the value in quotes if it contains a colon, or fix the indentation".into();
    }
    if info.contains("did not find expected key") || info.contains("block mapping") {
        return "check that this line is indented like its siblings".into();
    }
    if info.contains("unknown anchor") || info.contains("undefined") {
        return "define the anchor (`&name`) before using the alias (`*name`)".into();
    }
    "check this line and the one before it for an unclosed quote or bracket and for indentation that does not match its siblings".into()
}

impl Builder {
    fn count(&mut self, n: usize, span: Span) -> Result<(), Box<Diagnostic>> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(Box::new(Diagnostic::error(
                codes::LIMIT,
                format!(
                    "input expands to more than {} nodes (aliases included)",
                    self.limits.max_nodes
                ),
            )
            .with_span(Some(span))
            .with_help(
                "this looks like an alias bomb; write the values out instead of nesting aliases",
            )));
        }
        Ok(())
    }

    /// Charges `bytes` of copying to the alias-expansion budget.
    fn charge(&mut self, bytes: usize, span: Span) -> Result<(), Box<Diagnostic>> {
        let Some(left) = self.budget.checked_sub(bytes) else {
            let limit = self.budget + self.stats.expanded_bytes;
            return Err(Box::new(
                Diagnostic::error(
                    codes::LIMIT,
                    format!(
                        "aliases expand the input to more than {} (the limit is {} times the input's size, at least {} and at most {})",
                        mib(limit),
                        self.limits.expansion_factor,
                        mib(self.limits.min_expansion_bytes),
                        mib(self.limits.max_expansion_bytes),
                    ),
                )
                .with_span(Some(span))
                .with_span_label("expanding this alias goes over the limit")
                .with_help(
                    "this looks like an alias bomb; write the values out instead of aliasing large or nested anchors",
                ),
            ));
        };
        self.budget = left;
        self.stats.expanded_bytes += bytes;
        Ok(())
    }

    /// Keeps a copy of an anchored node for later aliases; the copy is charged too.
    fn anchor(&mut self, anchor: usize, node: &Node, span: Span) -> Result<(), Box<Diagnostic>> {
        if anchor == 0 {
            return Ok(());
        }
        let bytes = cost(node);
        self.charge(bytes, span)?;
        self.anchors.insert(anchor, (node.clone(), bytes));
        Ok(())
    }

    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), Box<Diagnostic>> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(_) => self.anchors.clear(),
            Event::Alias(id) => {
                let Some((node, bytes)) = self.anchors.get(&id) else {
                    return Err(Box::new(
                        Diagnostic::error(codes::SYNTAX, "alias refers to an unknown anchor")
                            .with_span(Some(span)),
                    ));
                };
                let (size, bytes) = (node.size(), *bytes);
                // Both budgets are checked before the copy is made, so a bomb never gets to
                // allocate what it asks for.
                self.count(size, span)?;
                self.charge(bytes, span)?;
                let mut node = self.anchors[&id].0.clone();
                self.stats.aliases += 1;
                node.span = span;
                self.push(node)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, span)?;
                if let Some(Frame::Map { key: key @ None, .. }) = self.stack.last_mut() {
                    // Keys are always text, whatever they look like or are tagged as.
                    *key = Some((text.into_owned(), span));
                    return Ok(());
                }
                let (value, node_style) = self.resolve(&text, style, tag.as_deref(), span);
                // Kept only when it says more than the value (`1.30` for 1.3, `0x10` for 16):
                // one allocation per plain number would double a large file's footprint.
                let raw = match &value {
                    Value::Str(_) => None,
                    Value::Int(i) if i.to_string() == *text => None,
                    Value::Bool(b) if b.to_string() == *text => None,
                    _ => Some(text.into_owned()),
                };
                let node = Node { value, span, style: node_style, raw };
                self.anchor(anchor, &node, span)?;
                self.push(node)?;
            }
            Event::SequenceStart(anchor, _tag) => {
                self.count(1, span)?;
                self.enter(span)?;
                self.stack.push(Frame::Seq { start: span, anchor, items: Vec::new() });
            }
            Event::MappingStart(anchor, _tag) => {
                self.count(1, span)?;
                self.enter(span)?;
                self.stack.push(Frame::Map {
                    start: span,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    merges: Vec::new(),
                    keys: KeyIndex::default(),
                });
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq { start, anchor, items }) = self.stack.pop() {
                    let node = Node {
                        value: Value::Seq(items),
                        span: Span { file: self.file, start: start.start, end: span.end },
                        style: ScalarStyle::Collection,
                        raw: None,
                    };
                    self.anchor(anchor, &node, span)?;
                    self.push(node)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { start, anchor, mut entries, merges, mut keys, .. }) =
                    self.stack.pop()
                {
                    for merged in merges {
                        self.apply_merge(&mut entries, &mut keys, merged);
                    }
                    let node = Node {
                        value: Value::Map(entries),
                        span: Span { file: self.file, start: start.start, end: span.end },
                        style: ScalarStyle::Collection,
                        raw: None,
                    };
                    self.anchor(anchor, &node, span)?;
                    self.push(node)?;
                }
            }
        }
        Ok(())
    }

    fn enter(&mut self, span: Span) -> Result<(), Box<Diagnostic>> {
        if let Some(Frame::Map { key: None, .. }) = self.stack.last() {
            return Err(Box::new(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    "a mapping key must be plain text, not a list or mapping",
                )
                .with_span(Some(span))
                .with_help("write the key as a simple string"),
            ));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(Box::new(
                Diagnostic::error(
                    codes::LIMIT,
                    format!("nesting deeper than {} levels", self.limits.max_depth),
                )
                .with_span(Some(span))
                .with_help("a platform spec never needs this depth; check the file"),
            ));
        }
        Ok(())
    }

    fn apply_merge(&mut self, entries: &mut Vec<Entry>, keys: &mut KeyIndex, merged: Node) {
        let maps = match merged.value {
            Value::Map(map) => vec![map],
            Value::Seq(items) => items
                .into_iter()
                .filter_map(|item| match item.value {
                    Value::Map(map) => Some(map),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for map in maps {
            for entry in map {
                if keys.find(entries, &entry.key, &self.hasher, &mut self.stats).is_none() {
                    entries.push(entry);
                    keys.added(entries, &self.hasher);
                }
            }
        }
    }

    fn push(&mut self, node: Node) -> Result<(), Box<Diagnostic>> {
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, merges, keys, .. }) => {
                let Some((name, key_span)) = key.take() else {
                    // A collection in key position was rejected in `enter`; aliases land here.
                    return Err(Box::new(
                        Diagnostic::error(
                            codes::UNSUPPORTED,
                            "a mapping key must be plain text, not an alias",
                        )
                        .with_span(Some(node.span)),
                    ));
                };
                if name == "<<" {
                    if matches!(node.value, Value::Map(_) | Value::Seq(_)) {
                        merges.push(node);
                        return Ok(());
                    }
                    self.diagnostics.push(
                        Diagnostic::error(
                            codes::UNSUPPORTED,
                            "a merge key `<<` needs a mapping or a list of mappings",
                        )
                        .with_span(Some(node.span)),
                    );
                    return Ok(());
                }
                if let Some(first) = keys.find(entries, &name, &self.hasher, &mut self.stats) {
                    let first_span = entries[first].key_span;
                    self.diagnostics.push(
                        Diagnostic::error(codes::DUPLICATE_KEY, format!("duplicate key `{name}`"))
                            .with_span(Some(key_span))
                            .with_span_label("repeated here")
                            .with_label(Some(first_span), "first written here")
                            .with_help(
                                "remove one of the two; YAML readers disagree on which one wins",
                            ),
                    );
                    // The first is kept, unless it is empty and the repeat is not (a key
                    // written twice, once bare): checking the empty one would report every
                    // reference into it as undefined, burying this finding.
                    if matches!(entries[first].value.value, Value::Null)
                        && !matches!(node.value, Value::Null)
                    {
                        entries[first].value = node;
                    }
                    return Ok(());
                }
                entries.push(Entry { key: name, key_span, value: node });
                keys.added(entries, &self.hasher);
            }
        }
        Ok(())
    }

    fn resolve(
        &mut self,
        text: &str,
        style: SStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> (Value, ScalarStyle) {
        let node_style = match style {
            SStyle::Plain => ScalarStyle::Plain,
            SStyle::SingleQuoted | SStyle::DoubleQuoted => ScalarStyle::Quoted,
            SStyle::Literal | SStyle::Folded => ScalarStyle::Block,
        };
        if let Some(tag) = tag {
            if tag.is_yaml_core_schema() {
                match tag.suffix.as_str() {
                    "str" => return (Value::Str(text.to_owned()), node_style),
                    "null" | "bool" | "int" | "float" => {
                        return (resolve_plain(text, span, &mut self.diagnostics), node_style);
                    }
                    _ => {}
                }
            } else if !(tag.handle == "!" && tag.suffix.is_empty()) {
                self.diagnostics.push(
                    Diagnostic::error(codes::UNSUPPORTED, format!("unsupported YAML tag `{tag}`"))
                        .with_span(Some(span))
                        .with_help(
                            "remove the tag; secrets are referenced with `secretRef`, not tags",
                        ),
                );
            }
            return (Value::Str(text.to_owned()), node_style);
        }
        if node_style != ScalarStyle::Plain {
            return (Value::Str(text.to_owned()), node_style);
        }
        (resolve_plain(text, span, &mut self.diagnostics), node_style)
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str, span: Span, diagnostics: &mut Vec<Diagnostic>) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            diagnostics.push(
                Diagnostic::error(codes::UNSUPPORTED, format!("`{text}` is not a finite number"))
                    .with_span(Some(span))
                    .with_help("use a finite number, or quote the value if it is text"),
            );
            return Value::Str(text.to_owned());
        }
        _ => {}
    }
    if let Some(int) = parse_int(text) {
        return Value::Int(int);
    }
    if let Some(f) =
        is_float(text).then(|| text.parse::<f64>().ok()).flatten().filter(|f| f.is_finite())
    {
        return Value::Float(f);
    }
    Value::Str(text.to_owned())
}

fn parse_int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok()
}

fn is_float(text: &str) -> bool {
    // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit()))
                && (!int.is_empty() || !frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = match exponent {
        Some(e) => {
            let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        None => true,
    };
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let (docs, diags) = parse(text, FileId(0), &Limits::default());
        assert!(diags.is_empty(), "{diags:?}");
        docs.into_iter().next().unwrap()
    }

    #[test]
    fn core_schema_scalars() {
        let node = one("a: yes\nb: 1.34\nc: \"3\"\nd: 2026-10-01\ne: 0x10\nf: ~\ng: on\nh: 1e3\n");
        let json = node.to_json();
        assert_eq!(json["a"], "yes");
        assert_eq!(json["b"], 1.34);
        assert_eq!(json["c"], "3");
        assert_eq!(json["d"], "2026-10-01");
        assert_eq!(json["e"], 16);
        assert!(json["f"].is_null());
        assert_eq!(json["g"], "on");
        assert_eq!(json["h"], 1000.0);
    }

    #[test]
    fn spans_are_one_based() {
        let node = one("spec:\n  mtu: 1450\n");
        let spec = node.get("spec").unwrap();
        assert_eq!((spec.key_span.start.line, spec.key_span.start.col), (1, 1));
        let mtu = spec.value.get("mtu").unwrap();
        assert_eq!((mtu.key_span.start.line, mtu.key_span.start.col), (2, 3));
        assert_eq!((mtu.value.span.start.line, mtu.value.span.start.col), (2, 8));
        assert_eq!(mtu.value.span.end.col, 12);
    }

    #[test]
    fn duplicate_keys_are_reported_with_both_places() {
        let (_, diags) = parse("a: 1\nb: 2\na: 3\n", FileId(0), &Limits::default());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::DUPLICATE_KEY);
        assert_eq!(diags[0].span.unwrap().start.line, 3);
        assert_eq!(diags[0].labels[0].span.start.line, 1);
    }

    #[test]
    fn a_key_written_twice_keeps_the_first_value_unless_that_one_is_empty() {
        let (docs, diags) = parse("a: 1\nb:\na: 3\nb: [x]\n", FileId(0), &Limits::default());
        assert_eq!(diags.len(), 2, "{diags:?}");
        let doc = &docs[0];
        assert!(matches!(doc.get("a").map(|e| &e.value.value), Some(Value::Int(1))));
        assert!(matches!(doc.get("b").map(|e| &e.value.value), Some(Value::Seq(_))));
    }

    /// `k0: 0` ... one key per line, `n` distinct keys.
    fn long_mapping(n: usize) -> String {
        let mut text = String::with_capacity(n * 16);
        for i in 0..n {
            text.push_str(&format!("k{i}: {i}\n"));
        }
        text
    }

    #[test]
    fn duplicate_keys_in_a_long_mapping_are_reported_with_both_places() {
        // Duplicates of keys before and after the index is built, and of the last key.
        let n = 1000;
        let mut text = long_mapping(n);
        for i in [0, 3, INDEX_FROM - 1, INDEX_FROM, 500, n - 1] {
            text.push_str(&format!("k{i}: again\n"));
        }
        let (docs, diags) = parse(&text, FileId(0), &Limits::default());
        let lines: Vec<(String, u32, u32, u32)> = diags
            .iter()
            .map(|d| {
                assert_eq!(d.code, codes::DUPLICATE_KEY);
                assert_eq!(d.labels.len(), 1);
                assert_eq!(d.labels[0].message, "first written here");
                assert_eq!(
                    d.help.as_deref(),
                    Some("remove one of the two; YAML readers disagree on which one wins")
                );
                let at = d.span.unwrap();
                (d.message.clone(), at.start.line, at.start.col, d.labels[0].span.start.line)
            })
            .collect();
        let first = |i: usize| u32::try_from(i + 1).unwrap();
        let again = |k: u32| u32::try_from(n).unwrap() + k;
        assert_eq!(
            lines,
            vec![
                ("duplicate key `k0`".to_owned(), again(1), 1, first(0)),
                ("duplicate key `k3`".to_owned(), again(2), 1, first(3)),
                (
                    format!("duplicate key `k{}`", INDEX_FROM - 1),
                    again(3),
                    1,
                    first(INDEX_FROM - 1)
                ),
                (format!("duplicate key `k{INDEX_FROM}`"), again(4), 1, first(INDEX_FROM)),
                ("duplicate key `k500`".to_owned(), again(5), 1, first(500)),
                (format!("duplicate key `k{}`", n - 1), again(6), 1, first(n - 1)),
            ]
        );
        // The first value wins, and the mapping keeps one entry per key, in source order.
        let json = docs[0].to_json();
        assert_eq!(json["k500"], 500);
        let Value::Map(entries) = &docs[0].value else { panic!("not a mapping") };
        assert_eq!(entries.len(), n);
        assert_eq!(entries[n - 1].key, format!("k{}", n - 1));
    }

    #[test]
    fn merge_keys_into_a_long_mapping_fill_only_missing_entries() {
        let mut text = String::from("base: &b\n");
        for i in 0..100 {
            text.push_str(&format!("  m{i}: base\n"));
        }
        text.push_str("thing:\n  <<: *b\n");
        for i in (0..100).step_by(2) {
            text.push_str(&format!("  m{i}: own\n"));
        }
        let node = one(&text);
        let thing = node.get("thing").unwrap();
        let Value::Map(entries) = &thing.value.value else { panic!("not a mapping") };
        assert_eq!(entries.len(), 100);
        let json = node.to_json();
        assert_eq!(json["thing"]["m0"], "own");
        assert_eq!(json["thing"]["m1"], "base");
        assert_eq!(json["thing"]["m98"], "own");
        assert_eq!(json["thing"]["m99"], "base");
    }

    #[test]
    fn the_duplicate_check_compares_each_key_a_bounded_number_of_times() {
        // Counted, not timed, so it holds on any machine: a scan of all earlier keys would
        // make n²/2 (12.5 million) comparisons here.
        let n = 5000;
        let mut text = long_mapping(n);
        text.push_str("k4321: again\n");
        let (docs, diags, stats) = parse_with_stats(&text, FileId(0), &Limits::default());
        assert_eq!(docs.len(), 1);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(stats.key_comparisons < 4 * n, "{stats:?}");
    }

    #[test]
    fn alias_bomb_hits_the_budget() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let (docs, diags) = parse(&text, FileId(0), &Limits::default());
        assert!(docs.is_empty());
        assert_eq!(diags[0].code, codes::LIMIT);
    }

    #[test]
    fn one_large_string_aliased_many_times_is_stopped_by_bytes_not_nodes() {
        // 1 MiB of text aliased 3,000 times: only 3,000 nodes, but 3 GiB if expanded.
        let big = "x".repeat(1024 * 1024);
        let mut text = format!("big: &s {big}\nrefs:\n");
        for _ in 0..3000 {
            text.push_str("  - *s\n");
        }
        let limits = Limits::default();
        let (docs, diags, stats) = parse_with_stats(&text, FileId(0), &limits);
        assert!(docs.is_empty());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, codes::LIMIT);
        assert!(diags[0].message.contains("aliases expand"), "{}", diags[0].message);
        let budget = limits.expansion_budget(text.len());
        assert_eq!(budget, 16 * text.len());
        // Nothing beyond the budget was copied, and the expansion stopped after a handful of
        // aliases instead of running through all 3,000.
        assert!(stats.expanded_bytes <= budget, "{stats:?}");
        assert!(stats.aliases < 16, "{stats:?}");
        // The error points at the first alias that would have gone over.
        assert_eq!(diags[0].span.unwrap().start.line, 3 + stats.aliases as u32);
    }

    #[test]
    fn nested_alias_bomb_stops_at_the_small_file_budget() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let prev = i - 1;
            let refs = vec![format!("*a{prev}"); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let limits = Limits::default();
        let (docs, diags, stats) = parse_with_stats(&text, FileId(0), &limits);
        assert!(docs.is_empty());
        assert_eq!(diags[0].code, codes::LIMIT);
        assert_eq!(limits.expansion_budget(text.len()), limits.min_expansion_bytes);
        assert!(stats.expanded_bytes <= limits.min_expansion_bytes, "{stats:?}");
        // Stopped at the fifth level (10^5 nodes), long before the node limit of 4 million.
        assert!(diags[0].span.unwrap().start.line <= 6, "{:?}", diags[0].span);
    }

    #[test]
    fn ordinary_anchors_stay_well_inside_the_budget() {
        let mut text = String::from(
            "pool: &pool {serverType: cpx42, count: 3, labels: {tier: web}}\npools:\n",
        );
        for _ in 0..1000 {
            text.push_str("  - *pool\n");
        }
        let (docs, diags, stats) = parse_with_stats(&text, FileId(0), &Limits::default());
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(docs.len(), 1);
        assert_eq!(stats.aliases, 1000);
        assert!(stats.expanded_bytes > 1000 * 3 * std::mem::size_of::<Node>());
    }

    #[test]
    fn the_budget_grows_with_the_input_up_to_a_cap() {
        let limits = Limits::default();
        assert_eq!(limits.expansion_budget(0), 4 * 1024 * 1024);
        assert_eq!(limits.expansion_budget(1024 * 1024), 16 * 1024 * 1024);
        assert_eq!(limits.expansion_budget(32 * 1024 * 1024), 64 * 1024 * 1024);
    }

    #[test]
    fn unclosed_flow_list_points_at_its_opening_bracket_and_where_it_broke() {
        let (docs, diags) = parse("a: [unclosed\n", FileId(0), &Limits::default());
        assert!(docs.is_empty());
        let d = &diags[0];
        assert_eq!(d.code, codes::SYNTAX);
        let at = d.span.unwrap().start;
        assert_eq!((at.line, at.col), (1, 4));
        assert_eq!(d.labels.len(), 1);
        let broke = d.labels[0].span.start;
        assert_eq!((broke.line, broke.col), (1, 13));
        assert!(d.help.as_deref().unwrap_or("").contains("`]`"), "{:?}", d.help);
    }

    #[test]
    fn every_syntax_error_has_a_help_line_and_a_position_on_the_text() {
        for text in [
            "a: \"abc\nb: 1\n",
            "a: b: c\n",
            "a: [1,\n  2,\n  3\nb: 4\n",
            "a: {b: 1\n",
            "- a\nb: 1\n",
        ] {
            let (_, diags) = parse(text, FileId(0), &Limits::default());
            assert_eq!(diags.len(), 1, "{text:?}: {diags:?}");
            assert!(diags[0].help.is_some(), "{text:?}: {diags:?}");
            let at = diags[0].span.unwrap().start;
            let line = text.lines().nth(at.line as usize - 1);
            assert!(
                line.is_some_and(|l| at.col as usize <= l.chars().count() + 1),
                "{text:?}: {at:?}"
            );
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let text = "[".repeat(10_000);
        let (docs, diags) = parse(&text, FileId(0), &Limits::default());
        assert!(docs.is_empty());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::LIMIT);
        assert!(diags[0].help.is_some());
    }

    #[test]
    fn merge_keys_fill_missing_entries() {
        let node = one("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n");
        let json = node.to_json();
        assert_eq!(json["thing"]["x"], 1);
        assert_eq!(json["thing"]["y"], 3);
    }

    #[test]
    fn syntax_error_is_located_with_help() {
        let (docs, diags) = parse("a:\n\tb: 1\n", FileId(0), &Limits::default());
        assert!(docs.is_empty());
        assert_eq!(diags[0].code, codes::SYNTAX);
        assert!(diags[0].help.as_deref().unwrap_or("").contains("tab"));
    }

    #[test]
    fn a_nul_byte_is_named_wherever_it_is() {
        // In a value, quoted, in a block scalar, in a comment (where the parser would stop
        // reading and drop the rest of the file), at the start.
        for (text, line, col) in [
            ("a: 1\nname: a\0b\n", 2, 8),
            ("a: \"x\0y\"\n", 1, 6),
            ("a: |\n  x\0y\n", 2, 4),
            ("a: 1 # c\0\nb: 2\n", 1, 9),
            ("\0a: 1\n", 1, 1),
        ] {
            let (docs, diags) = parse(text, FileId(0), &Limits::default());
            assert!(docs.is_empty(), "{text:?}");
            assert_eq!(diags.len(), 1, "{text:?}: {diags:?}");
            let d = &diags[0];
            assert_eq!(d.code, codes::SYNTAX);
            assert!(d.message.contains("NUL byte (U+0000)"), "{text:?}: {}", d.message);
            let at = d.span.unwrap().start;
            assert_eq!((at.line, at.col), (line, col), "{text:?}");
            let help = d.help.as_deref().unwrap_or("");
            assert!(help.starts_with("delete the NUL byte"), "{text:?}: {help}");
            assert!(!help.contains("tab") && !help.contains("quote it"), "{text:?}: {help}");
        }
        let utf16: String =
            "apiVersion: hafen.dev/v1alpha1\n".chars().flat_map(|c| [c, '\0']).collect();
        let (_, diags) = parse(&utf16, FileId(0), &Limits::default());
        assert!(diags[0].message.contains("UTF-16"), "{diags:?}");
        assert!(diags[0].help.as_deref().unwrap_or("").contains("iconv"));
    }

    #[test]
    fn tab_help_is_given_for_tabs_only() {
        let (_, diags) = parse("a:\n\tb: 1\n", FileId(0), &Limits::default());
        assert!(diags[0].help.as_deref().unwrap_or("").contains("tab"));
        let (_, diags) = parse("a: [1\n", FileId(0), &Limits::default());
        assert!(!diags[0].help.as_deref().unwrap_or("").contains("tab"), "{diags:?}");
    }

    #[test]
    fn custom_tags_are_rejected() {
        let (_, diags) = parse("a: !vault secret/x\n", FileId(0), &Limits::default());
        assert_eq!(diags[0].code, codes::UNSUPPORTED);
    }
}
