//! Canonical YAML output from JSON values.
//!
//! The output keeps map order as given, indents by two spaces, writes lists of a mapping's key
//! at the key's indentation (as kustomize does), and quotes every string a YAML 1.1 or 1.2 reader
//! could take for something else (`yes`, `on`, `1e3`, `2026-10-01`, `0755`, `1:20`, ...).

use serde_json::Value;
use std::fmt::Write;

/// Emits one document, ending with a newline.
pub fn emit(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

/// Emits several documents separated by `---`.
pub fn emit_documents(values: &[Value]) -> String {
    let mut out = String::new();
    for (idx, value) in values.iter().enumerate() {
        if idx > 0 {
            out.push_str("---\n");
        }
        out.push_str(&emit(value));
    }
    out
}

fn indent(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

/// YAML limits implicit keys to 1024 characters; longer ones need the explicit `? key` form.
const IMPLICIT_KEY_MAX: usize = 1000;

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, level: usize) {
    for (key, value) in map {
        indent(out, level);
        write_key(out, key, level);
        write_value_after_key(out, value, level);
    }
}

fn write_key(out: &mut String, key: &str, level: usize) {
    let text = string(key, true);
    if text.chars().count() > IMPLICIT_KEY_MAX {
        out.push_str("? ");
        out.push_str(&text);
        out.push('\n');
        indent(out, level);
    } else {
        out.push_str(&text);
    }
    out.push(':');
}

fn write_value_after_key(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, level + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, level);
        }
        Value::String(s) if block_literal_ok(s) => {
            write_block(out, s, level + 2);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first key shares the line with the dash.
                let mut first = true;
                for (key, value) in map {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        indent(out, level + 2);
                    }
                    write_key(out, key, level + 2);
                    write_value_after_key(out, value, level + 2);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_seq(out, inner, level + 2);
            }
            Value::String(s) if block_literal_ok(s) => write_block(out, s, level + 2),
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// Multi-line text reads best as a literal block, when it can be written as one exactly.
fn block_literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && !s.ends_with("\n\n")
        && !s.contains('\r')
        && s.lines().all(|l| !l.ends_with([' ', '\t']))
        && s.chars().all(|c| c == '\n' || c == '\t' || !c.is_control())
}

fn write_block(out: &mut String, s: &str, level: usize) {
    out.push_str(if s.ends_with('\n') { " |\n" } else { " |-\n" });
    for line in s.trim_end_matches('\n').split('\n') {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            let text = n.to_string();
            if n.is_f64() && !text.contains(['.', 'e', 'E']) { format!("{text}.0") } else { text }
        }
        Value::String(s) => string(s, false),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

fn string(s: &str, _is_key: bool) -> String {
    if is_plain_safe(s) { s.to_owned() } else { double_quoted(s) }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// True when `s` can be written unquoted and every YAML 1.1 and 1.2 reader reads it back as
/// the same string.
pub fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-foo` and `:foo` are legal plain scalars, but quoting them costs nothing.
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if s.chars().any(|c| {
        c.is_control() || c == '\u{feff}' || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}'
    }) {
        return false;
    }
    !looks_special(s)
}

/// Values YAML 1.1 or 1.2 would resolve to something other than a string.
fn looks_special(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "~" | "null"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "on"
            | "off"
            | "y"
            | "n"
            | "<<"
            | "="
            | ".inf"
            | "+.inf"
            | "-.inf"
            | ".nan"
    ) {
        return true;
    }
    // Anything that starts like a number (digits, sign, dot) and contains only number-ish
    // characters: covers ints, floats, octal, hex, `1_000`, sexagesimal `1:20` and dates.
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let starts_numeric = body.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if starts_numeric
        && body.chars().all(|c| {
            c.is_ascii_hexdigit()
                || matches!(
                    c,
                    '.' | '_'
                        | ':'
                        | '-'
                        | '+'
                        | 'x'
                        | 'X'
                        | 'o'
                        | 'O'
                        | 'e'
                        | 'E'
                        | 'T'
                        | 't'
                        | 'Z'
                        | 'z'
                        | ' '
                )
        })
    {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, parse};
    use hafen_diag::FileId;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn layout_matches_kustomize_style() {
        let value = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "x", "labels": {}},
            "data": {"a": "yes", "b": "2026-10-01", "c": "1.34", "d": "plain text", "e": "line1\nline2\n"},
            "list": [{"name": "a", "value": 1}, "s", []],
        });
        let text = emit(&value);
        assert_eq!(
            text,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {}\ndata:\n  a: \"yes\"\n  b: \"2026-10-01\"\n  c: \"1.34\"\n  d: plain text\n  e: |\n    line1\n    line2\nlist:\n- name: a\n  value: 1\n- s\n- []\n"
        );
    }

    fn arb_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|i| json!(i)),
            (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(serde_json::Value::String),
            "[a-z0-9 .:#\\-\n]{0,16}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("[a-zA-Z0-9_.:/ -]{1,8}", inner, 0..5)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    #[test]
    fn long_keys_use_the_explicit_form() {
        let key = "k".repeat(1100);
        for value in [
            json!({ key.clone(): 1 }),
            json!([{ "a": 1, key.clone(): {"x": [1, 2]} }]),
            json!({ key.clone(): [1] }),
        ] {
            let text = emit(&value);
            let (docs, diags) = parse(&text, FileId(0), &Limits::default());
            assert!(diags.is_empty(), "{diags:?}");
            assert_eq!(docs[0].to_json(), value);
        }
    }

    proptest! {
        #[test]
        fn emitted_yaml_reads_back_identically(value in arb_json()) {
            let text = emit(&value);
            let (docs, diags) = parse(&text, FileId(0), &Limits::default());
            prop_assert!(diags.is_empty(), "{:?}\n{}", diags, text);
            prop_assert_eq!(docs.len(), 1, "{}", text);
            prop_assert_eq!(docs[0].to_json(), value, "{}", text);
        }
    }
}
