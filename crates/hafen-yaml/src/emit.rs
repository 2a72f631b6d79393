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
            write_scalar(&mut out, other);
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
    out.extend(std::iter::repeat_n(' ', n));
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
    // Most keys are short: only a long one needs counting (and the explicit form).
    if key.len() > IMPLICIT_KEY_MAX && string(key).chars().count() > IMPLICIT_KEY_MAX {
        out.push_str("? ");
        write_string(out, key);
        out.push('\n');
        indent(out, level);
    } else {
        write_string(out, key);
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
            write_scalar(out, other);
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
                write_scalar(out, other);
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

/// Writes a scalar in place: the emitter's hot path, so no string of its own per value.
fn write_scalar(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let text = n.to_string();
            out.push_str(&text);
            if n.is_f64() && !text.contains(['.', 'e', 'E']) {
                out.push_str(".0");
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn string(s: &str) -> String {
    let mut out = String::new();
    write_string(&mut out, s);
    out
}

fn write_string(out: &mut String, s: &str) {
    if is_plain_safe(s) { out.push_str(s) } else { write_double_quoted(out, s) }
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
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
    if s.ends_with(':') {
        return false;
    }
    // One pass (this runs for every scalar of every rendered file): `: ` and ` #` end a plain
    // scalar, and control or line-breaking characters cannot stand in one.
    let mut previous = '\0';
    for c in s.chars() {
        if (previous == ':' && c == ' ')
            || (previous == ' ' && c == '#')
            || c.is_control()
            || matches!(c, '\u{feff}' | '\u{85}' | '\u{2028}' | '\u{2029}')
        {
            return false;
        }
        previous = c;
    }
    !looks_special(s)
}

/// Values YAML 1.1 or 1.2 would resolve to something other than a string.
fn looks_special(s: &str) -> bool {
    // Every keyword below is at most five characters: longer strings skip the lowercase copy.
    let lower = if s.len() <= 5 { s.to_ascii_lowercase() } else { String::new() };
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
