//! The stable JSON form of diagnostics (`--format json`).
//!
//! Shape (version 1): `{"version":1,"summary":{...},"diagnostics":[{code, severity, message,
//! file, line, column, endLine, endColumn, path, excerpt, help, notes, labels, suppressed}]}`.
//! Fields are only ever added, never renamed or removed, within a version.

use crate::{Diagnostic, Sources, Span, Summary, mask_credentials};
use serde_json::{Map, Value, json};

/// One diagnostic as a JSON object.
pub fn diagnostic(d: &Diagnostic, sources: &Sources) -> Value {
    let mut obj = Map::new();
    obj.insert("code".into(), json!(d.code));
    obj.insert("severity".into(), json!(d.severity.as_str()));
    obj.insert("message".into(), json!(mask_credentials(&d.message)));
    insert_span(&mut obj, d.span, sources);
    let redact = d.must_redact(sources);
    if redact && obj.get("excerpt").is_some_and(|e| !e.is_null()) {
        obj.insert("excerpt".into(), json!(crate::MASK_CHAR.to_string().repeat(6)));
    }
    obj.insert("redacted".into(), json!(redact));
    obj.insert("path".into(), json!(d.path));
    obj.insert("help".into(), json!(d.help.as_deref().map(mask_credentials)));
    let notes: Vec<String> = d.notes.iter().map(|n| mask_credentials(n).into_owned()).collect();
    obj.insert("notes".into(), json!(notes));
    let labels: Vec<Value> = d
        .labels
        .iter()
        .map(|label| {
            let mut l = Map::new();
            insert_span(&mut l, Some(label.span), sources);
            l.insert("message".into(), json!(mask_credentials(&label.message)));
            Value::Object(l)
        })
        .collect();
    obj.insert("labels".into(), Value::Array(labels));
    obj.insert("suppressed".into(), json!(d.suppressed));
    Value::Object(obj)
}

fn insert_span(obj: &mut Map<String, Value>, span: Option<Span>, sources: &Sources) {
    match span {
        Some(span) => {
            obj.insert("file".into(), json!(sources.name(span.file)));
            obj.insert("line".into(), json!(span.start.line));
            obj.insert("column".into(), json!(span.start.col));
            obj.insert("endLine".into(), json!(span.end.line));
            obj.insert("endColumn".into(), json!(span.end.col));
            // A label's excerpt may hold a credential no rule pointed at: masked in place.
            let excerpt = sources
                .get(span.file)
                .and_then(|f| f.excerpt(span))
                .map(|e| mask_credentials(&e).into_owned());
            obj.insert("excerpt".into(), json!(excerpt));
        }
        None => {
            for key in ["file", "line", "column", "endLine", "endColumn", "excerpt"] {
                obj.insert(key.into(), Value::Null);
            }
        }
    }
}

/// The summary object.
pub fn summary(summary: Summary) -> Value {
    json!({
        "errors": summary.errors,
        "warnings": summary.warnings,
        "infos": summary.infos,
        "suppressed": summary.suppressed,
    })
}

/// The whole document for a list of diagnostics.
pub fn document(diagnostics: &[Diagnostic], sources: &Sources) -> Value {
    json!({
        "version": 1,
        "summary": summary(Summary::of(diagnostics)),
        "diagnostics": diagnostics.iter().map(|d| diagnostic(d, sources)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Pos, Span};

    #[test]
    fn carries_location_and_excerpt() {
        let mut sources = Sources::new();
        let file = sources.add("p.yaml", "mtu: 1450\n");
        let span = Span { file, start: Pos { line: 1, col: 6 }, end: Pos { line: 1, col: 10 } };
        let d = Diagnostic::error("NET001", "m").with_span(Some(span));
        let doc = document(&[d], &sources);
        let first = &doc["diagnostics"][0];
        assert_eq!(first["file"], "p.yaml");
        assert_eq!(first["line"], 1);
        assert_eq!(first["column"], 6);
        assert_eq!(first["excerpt"], "1450");
        assert_eq!(doc["summary"]["errors"], 1);
    }
}
