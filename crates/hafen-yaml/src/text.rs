//! Control characters in input text (SPEC012). Every string of a spec or catalogue ends up
//! somewhere a person or a parser reads it: an object name, a rendered manifest, the README,
//! a terminal, a log line. A control character there recolours or clears terminals, hides
//! text in diffs and reviews, or splits a line that a tool reads as one; a bidirectional
//! override makes a reviewer read text in another order than the tools do. None of that
//! belongs in a platform's input, so the loaders refuse it with the place, instead of passing
//! it on to the renderer.

use crate::codes;
use crate::node::{Node, Value};
use hafen_diag::Diagnostic;

/// Where in a document text may hold what, by key.
#[derive(Debug, Clone, Copy)]
pub struct TextRules<'a> {
    /// Keys whose value is prose for people, where a tab or a line break is part of the text.
    pub free_text: &'a [&'a str],
    /// Keys of mappings whose values may be secrets: they are named by path, never quoted.
    pub hidden: &'a [&'a str],
}

/// True for a character no spec text may hold: C0 and C1 controls and DEL, and the Unicode
/// controls that reorder text (bidirectional embeddings, overrides and isolates).
fn forbidden(c: char, free_text: bool) -> bool {
    if free_text && matches!(c, '\t' | '\n') {
        return false;
    }
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The name of a forbidden character, for messages.
fn name(c: char) -> String {
    const C0: [&str; 32] = [
        "NUL",
        "SOH",
        "STX",
        "ETX",
        "EOT",
        "ENQ",
        "ACK",
        "BEL",
        "BS",
        "tab",
        "line feed",
        "VT",
        "FF",
        "carriage return",
        "SO",
        "SI",
        "DLE",
        "DC1",
        "DC2",
        "DC3",
        "DC4",
        "NAK",
        "SYN",
        "ETB",
        "CAN",
        "EM",
        "SUB",
        "ESC",
        "FS",
        "GS",
        "RS",
        "US",
    ];
    let code = u32::from(c);
    let what = match code {
        0..=31 => format!("control character {}", C0[code as usize]),
        0x7f => "control character DEL".to_owned(),
        0x80..=0x9f => "C1 control character".to_owned(),
        _ => "bidirectional control character".to_owned(),
    };
    format!("{what} (U+{code:04X})")
}

/// How to get rid of it.
fn fix(c: char, free_text: bool) -> String {
    match c {
        '\n' => "write the value on one line: remove the line break (in double quotes, `\\n` is one; a `|` or `>` block adds one at its end unless written `|-` or `>-`)".into(),
        '\r' => "remove the carriage return (in double quotes `\\r` is one; in a block scalar it comes from Windows line endings: save the file with LF line endings)".into(),
        '\t' => "replace the tab with a space (in double quotes `\\t` is a tab)".into(),
        '\u{1b}' => "remove the escape sequence: in double quotes `\\e` or `\\x1b` writes ESC, which starts terminal colour and cursor codes".into(),
        _ if u32::from(c) >= 0x202a => "remove the character: it is invisible, and it makes text display in another order than it is read (for right-to-left text, the characters themselves set the direction)".into(),
        _ if free_text => "remove the character; only tabs and line breaks may be part of free text".into(),
        _ => "remove the character (in double quotes, escapes such as `\\a`, `\\b`, `\\x07` or `\\u0007` write one)".into(),
    }
}

/// Every string (values and keys) of a document that holds a forbidden character, as SPEC012
/// diagnostics at their path in the document.
pub fn control_characters(doc: &Node, rules: TextRules<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut path = String::new();
    walk(doc, &mut path, None, None, rules, &mut out);
    out
}

fn walk(
    node: &Node,
    path: &mut String,
    key: Option<&str>,
    parent: Option<&str>,
    rules: TextRules<'_>,
    out: &mut Vec<Diagnostic>,
) {
    match &node.value {
        Value::Str(text) => {
            let free = key.is_some_and(|k| rules.free_text.contains(&k));
            let hidden = parent.is_some_and(|p| rules.hidden.contains(&p));
            if let Some(d) = check(text, free, hidden, path, "", rules) {
                out.push(d.with_span(Some(node.span)));
            }
        }
        Value::Seq(items) => {
            let len = path.len();
            for (i, item) in items.iter().enumerate() {
                use std::fmt::Write as _;
                let _ = write!(path, "[{i}]");
                walk(item, path, None, key, rules, out);
                path.truncate(len);
            }
        }
        Value::Map(entries) => {
            let len = path.len();
            for entry in entries {
                if len > 0 {
                    path.push('.');
                }
                path.push_str(&entry.key);
                if let Some(d) = check(&entry.key, false, false, path, "the key ", rules) {
                    out.push(d.with_span(Some(entry.key_span)));
                }
                walk(&entry.value, path, Some(&entry.key), key, rules, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn check(
    text: &str,
    free: bool,
    hidden: bool,
    path: &str,
    what: &str,
    rules: TextRules<'_>,
) -> Option<Diagnostic> {
    let (at, c) = text.chars().enumerate().find(|(_, c)| forbidden(*c, free))?;
    let count = text.chars().filter(|c| forbidden(*c, free)).count();
    let more = if count > 1 { format!(" and {} more", count - 1) } else { String::new() };
    let place = if hidden { format!("the value of `{path}`") } else { format!("{what}`{text}`") };
    let mut d = Diagnostic::error(
        codes::CONTROL_CHARACTER,
        format!("{place} contains the {} at character {}{more}", name(c), at + 1),
    )
    .with_path(path)
    .with_span_label("control character in this text")
    .with_help(fix(c, free))
    .with_note(note(rules));
    if hidden {
        d = d.redacted();
    }
    Some(d)
}

fn note(rules: TextRules<'_>) -> String {
    let keys: Vec<String> = rules.free_text.iter().map(|k| format!("`{k}`")).collect();
    let free = match keys.len() {
        0 => "no text here may hold tabs or line breaks".to_owned(),
        1 => format!("only {} may hold tabs and line breaks", keys[0]),
        n => format!(
            "only {} and {} may hold tabs and line breaks",
            keys[..n - 1].join(", "),
            keys[n - 1]
        ),
    };
    format!(
        "control characters recolour or clear the terminals and logs that print this text, and split lines that tools read as one; {free}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafen_diag::FileId;

    fn scan(yaml: &str) -> Vec<Diagnostic> {
        let (docs, diags) = crate::parse(yaml, FileId(0), &crate::Limits::default());
        assert!(diags.is_empty(), "{diags:?}");
        let rules = TextRules { free_text: &["description", "reason"], hidden: &["env", "labels"] };
        control_characters(&docs[0], rules)
    }

    #[test]
    fn control_characters_are_found_in_values_keys_and_lists() {
        let found = scan(
            "metadata: { name: \"a\\e[31mb\" }\nspec:\n  tags: [ok, \"x\\ty\"]\n  labels: { \"k\\x07\": v, team: \"\\u202eevil\" }\n  env: { TOKEN: \"s3cr3t\\r\" }\n",
        );
        let paths: Vec<&str> = found.iter().filter_map(|d| d.path.as_deref()).collect();
        assert_eq!(
            paths,
            [
                "metadata.name",
                "spec.tags[1]",
                "spec.labels.k\u{7}",
                "spec.labels.team",
                "spec.env.TOKEN"
            ]
        );
        assert!(found[0].message.contains("ESC (U+001B) at character 2"), "{}", found[0].message);
        assert!(found[1].help.as_deref().unwrap_or("").contains("tab"));
        assert!(found[2].message.starts_with("the key "), "{}", found[2].message);
        assert!(found[3].message.contains("bidirectional"));
        // A value under `env` or `labels` may be a secret: named by its path, never quoted.
        assert!(found[4].redact && !found[4].message.contains("s3cr3t"), "{:?}", found[4]);
    }

    #[test]
    fn free_text_may_hold_tabs_and_line_breaks_but_nothing_else() {
        assert!(scan("description: \"two\\n\\tlines\"\nreason: |\n  long\n  reason\n").is_empty());
        let found = scan("description: \"bell\\a\"\nname: |\n  two\n  lines\n");
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].help.as_deref().unwrap_or("").contains("`|-`"), "{:?}", found[1]);
        // Right-to-left text is fine; only the invisible reordering controls are refused.
        assert!(scan("description: \"שלום world\"\n").is_empty());
    }
}
