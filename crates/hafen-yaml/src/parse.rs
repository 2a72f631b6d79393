//! Text to spanned tree, collecting problems as diagnostics.

use crate::codes;
use crate::node::{Entry, Node, ScalarStyle, Value};
use hafen_diag::{Diagnostic, FileId, Pos, Span};
use saphyr_parser::{Event, Marker, Parser, ScalarStyle as SStyle, Tag};
use std::collections::HashMap;

/// Budgets that keep hostile input (alias bombs, deep nesting, huge files) bounded.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Most nodes after alias expansion, over all documents.
    pub max_nodes: usize,
    /// Deepest nesting of collections.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_bytes: 32 * 1024 * 1024, max_nodes: 4_000_000, max_depth: 128 }
    }
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
    },
}

struct Builder {
    file: FileId,
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    documents: Vec<Node>,
    diagnostics: Vec<Diagnostic>,
    nodes: usize,
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
        return (Vec::new(), vec![d]);
    }
    let mut builder = Builder {
        file,
        limits: *limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        documents: Vec::new(),
        diagnostics: Vec::new(),
        nodes: 0,
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next_event() {
            None => break,
            Some(Ok((event, span))) => {
                let span = Span { file, start: pos(&span.start), end: pos(&span.end) };
                if let Err(fatal) = builder.on_event(event, span) {
                    return (Vec::new(), vec![*fatal]);
                }
            }
            Some(Err(err)) => {
                let at = Span::point(file, pos(err.marker()));
                let mut d =
                    Diagnostic::error(codes::SYNTAX, format!("invalid YAML: {}", err.info()))
                        .with_span(Some(at));
                if let Some(help) = syntax_help(err.info(), text, at) {
                    d = d.with_help(help);
                }
                return (Vec::new(), vec![d]);
            }
        }
    }
    (builder.documents, builder.diagnostics)
}

fn syntax_help(info: &str, text: &str, at: Span) -> Option<String> {
    let line = text.lines().nth((at.start.line as usize).saturating_sub(1)).unwrap_or("");
    if line.contains('\t') || info.contains("tab") {
        return Some("YAML indentation must use spaces; replace the tab characters".into());
    }
    if info.contains("mapping values are not allowed") {
        return Some(
            "a `: ` starts a new key here; put the value in quotes if it contains a colon, or fix the indentation".into(),
        );
    }
    if info.contains("did not find expected key") || info.contains("block mapping") {
        return Some("check that this line is indented like its siblings".into());
    }
    if info.contains("did not find expected") && (info.contains(']') || info.contains('}')) {
        return Some("a flow collection (`[...]` or `{...}`) is not closed".into());
    }
    if info.contains("unknown anchor") || info.contains("undefined") {
        return Some("define the anchor (`&name`) before using the alias (`*name`)".into());
    }
    None
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

    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), Box<Diagnostic>> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(_) => self.anchors.clear(),
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id) else {
                    return Err(Box::new(
                        Diagnostic::error(codes::SYNTAX, "alias refers to an unknown anchor")
                            .with_span(Some(span)),
                    ));
                };
                let size = node.size();
                let mut node = node.clone();
                self.count(size, span)?;
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
                let raw = match value {
                    Value::Str(_) => None,
                    _ => Some(text.into_owned()),
                };
                let node = Node { value, span, style: node_style, raw };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
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
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
                    self.push(node)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map { start, anchor, mut entries, merges, .. }) =
                    self.stack.pop()
                {
                    for merged in merges {
                        self.apply_merge(&mut entries, merged);
                    }
                    let node = Node {
                        value: Value::Map(entries),
                        span: Span { file: self.file, start: start.start, end: span.end },
                        style: ScalarStyle::Collection,
                        raw: None,
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, node.clone());
                    }
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

    fn apply_merge(&mut self, entries: &mut Vec<Entry>, merged: Node) {
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
                if !entries.iter().any(|e| e.key == entry.key) {
                    entries.push(entry);
                }
            }
        }
    }

    fn push(&mut self, node: Node) -> Result<(), Box<Diagnostic>> {
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, merges, .. }) => {
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
                if let Some(first) = entries.iter().find(|e| e.key == name) {
                    let first_span = first.key_span;
                    self.diagnostics.push(
                        Diagnostic::error(codes::DUPLICATE_KEY, format!("duplicate key `{name}`"))
                            .with_span(Some(key_span))
                            .with_span_label("repeated here")
                            .with_label(Some(first_span), "first written here")
                            .with_help(
                                "remove one of the two; YAML readers disagree on which one wins",
                            ),
                    );
                    return Ok(());
                }
                entries.push(Entry { key: name, key_span, value: node });
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
    fn deep_nesting_is_bounded() {
        let text = "[".repeat(10_000);
        let (docs, diags) = parse(&text, FileId(0), &Limits::default());
        assert!(docs.is_empty());
        assert_eq!(diags.len(), 1);
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
    fn custom_tags_are_rejected() {
        let (_, diags) = parse("a: !vault secret/x\n", FileId(0), &Limits::default());
        assert_eq!(diags[0].code, codes::UNSUPPORTED);
    }
}
