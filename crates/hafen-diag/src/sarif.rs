//! SARIF 2.1.0 output, so code-scanning UIs can place findings on the right line.

use crate::{CodeInfo, Diagnostic, Severity, Sources, Span};
use serde_json::{Value, json};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn location(span: Span, sources: &Sources) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(sources.name(span.file)) },
            "region": {
                "startLine": span.start.line,
                "startColumn": span.start.col,
                "endLine": span.end.line,
                "endColumn": span.end.col,
            }
        }
    })
}

/// Turns a user-given path into a relative URI reference: forward slashes, no leading `./`,
/// and spaces and `%` percent-encoded.
fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    for ch in path.chars() {
        match ch {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            // Built-in catalogue files are named `<builtin>/…`; angle brackets are not
            // allowed in a URI reference.
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            _ => out.push(ch),
        }
    }
    out
}

/// Builds a SARIF log with one run. `rules` lists every code that may appear; `help_uri`
/// maps a code to its documentation address, if there is one.
pub fn document(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    rules: &[CodeInfo],
    tool_version: &str,
    help_text: &dyn Fn(&str) -> Option<String>,
) -> Value {
    let rule_objects: Vec<Value> = rules
        .iter()
        .map(|rule| {
            let mut obj = json!({
                "id": rule.code,
                "name": rule.code,
                "shortDescription": { "text": rule.summary },
                "defaultConfiguration": { "level": level(rule.severity) },
            });
            if let Some(text) = help_text(rule.code) {
                obj["help"] = json!({ "text": text });
            }
            obj
        })
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": { "text": message },
            });
            if let Some(idx) = rules.iter().position(|r| r.code == d.code) {
                result["ruleIndex"] = json!(idx);
            }
            if let Some(span) = d.span {
                result["locations"] = json!([location(span, sources)]);
            }
            if !d.labels.is_empty() {
                result["relatedLocations"] = Value::Array(
                    d.labels
                        .iter()
                        .enumerate()
                        .map(|(i, label)| {
                            let mut loc = location(label.span, sources);
                            loc["id"] = json!(i);
                            loc["message"] = json!({ "text": label.message });
                            loc
                        })
                        .collect(),
                );
            }
            if let Some(reason) = &d.suppressed {
                result["suppressions"] = json!([{ "kind": "inSource", "justification": reason }]);
            }
            if let Some(path) = &d.path {
                result["properties"] = json!({ "specPath": path });
            }
            result
        })
        .collect();
    let artifacts: Vec<Value> =
        sources.iter().map(|(_, file)| json!({ "location": { "uri": uri(&file.name) } })).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "hafen",
                    "version": tool_version,
                    "informationUri": "https://hafen.dev",
                    "rules": rule_objects,
                }
            },
            "artifacts": artifacts,
            "results": results,
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Pos, Span};

    #[test]
    fn result_has_region_and_rule_index() {
        let mut sources = Sources::new();
        let file = sources.add("./my dir/p.yaml", "mtu: 1450\n");
        let span = Span { file, start: Pos { line: 1, col: 6 }, end: Pos { line: 1, col: 10 } };
        let rules = [CodeInfo {
            code: "NET001",
            severity: Severity::Error,
            summary: "overlay MTU too large",
        }];
        let d = Diagnostic::error("NET001", "m").with_span(Some(span));
        let doc = document(&[d], &sources, &rules, "0.1.0", &|_| None);
        let result = &doc["runs"][0]["results"][0];
        assert_eq!(result["ruleIndex"], 0);
        assert_eq!(result["level"], "error");
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "my%20dir/p.yaml");
        assert_eq!(loc["region"]["startLine"], 1);
        assert_eq!(loc["region"]["startColumn"], 6);
    }
}
