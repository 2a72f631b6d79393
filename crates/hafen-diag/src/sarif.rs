//! SARIF 2.1.0 output, so code-scanning UIs can place findings on the right line.

use crate::{CodeInfo, Diagnostic, Severity, Sources, Span, mask_credentials};
use serde_json::{Value, json};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The base id of paths relative to the directory the tool ran in (SARIF §3.14.14; the
/// name code-scanning services expect).
pub const SRCROOT: &str = "%SRCROOT%";

/// Where an input file is, as a SARIF `artifactLocation`: a relative reference against
/// [`SRCROOT`] when the file is under the directory the tool ran in (or was named relative
/// to it), else an absolute `file://` URI. `root` is that directory, absolute, when the
/// caller knows it (the core never reads the working directory itself).
fn artifact_location(name: &str, root: Option<&str>) -> Value {
    let path = name.replace('\\', "/");
    // Built-in catalogue files (`<builtin>/…`) are embedded data, not files anywhere.
    if path.starts_with('<') {
        return json!({ "uri": encode(&path) });
    }
    let absolute = path.starts_with('/') || windows_drive(&path);
    let full = match (absolute, root) {
        (true, _) => Some(normalize(&path)),
        (false, Some(root)) => Some(normalize(&format!("{}/{path}", root.trim_end_matches('/')))),
        (false, None) => None,
    };
    match (full, root) {
        (Some(full), Some(root)) => {
            let root = normalize(root);
            let prefix = format!("{}/", root.trim_end_matches('/'));
            match full.strip_prefix(&prefix) {
                Some(rest) => json!({ "uri": encode(rest), "uriBaseId": SRCROOT }),
                None => json!({ "uri": file_uri(&full) }),
            }
        }
        (Some(full), None) => json!({ "uri": file_uri(&full) }),
        // Relative, and the directory unknown: relative to where the tool ran all the same.
        (None, _) => {
            let rel = normalize(&path);
            if rel.starts_with("../") || rel == ".." {
                json!({ "uri": encode(&rel) })
            } else {
                json!({ "uri": encode(&rel), "uriBaseId": SRCROOT })
            }
        }
    }
}

fn windows_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/'
}

/// `file:///abs/path` (or `file:///C:/…`), percent-encoded.
fn file_uri(absolute: &str) -> String {
    let path = if absolute.starts_with('/') { absolute.to_owned() } else { format!("/{absolute}") };
    format!("file://{}", encode(&path))
}

/// Removes `.` segments, resolves `..` where it can, and drops repeated slashes.
fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute { format!("/{joined}") } else { joined }
}

/// Percent-encodes everything but unreserved characters, `/` and a drive colon (RFC 3986).
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, byte) in path.bytes().enumerate() {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
            || (byte == b':' && i == 2 && path.starts_with('/'));
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn location(span: Span, sources: &Sources, root: Option<&str>) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": artifact_location(sources.name(span.file), root),
            "region": {
                "startLine": span.start.line,
                "startColumn": span.start.col,
                "endLine": span.end.line,
                "endColumn": span.end.col,
            }
        }
    })
}

/// Builds a SARIF log with one run. `rules` lists every code that may appear; `help_text`
/// maps a code to its explanation, if there is one. Paths relative to nothing known are
/// given against [`SRCROOT`]; see [`document_at`] to resolve them.
pub fn document(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    rules: &[CodeInfo],
    tool_version: &str,
    help_text: &dyn Fn(&str) -> Option<String>,
) -> Value {
    document_at(diagnostics, sources, rules, tool_version, help_text, None)
}

/// [`document`], with the absolute directory the tool ran in: files under it get URIs
/// relative to [`SRCROOT`] (declared in `originalUriBaseIds`), others absolute `file://` URIs.
pub fn document_at(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    rules: &[CodeInfo],
    tool_version: &str,
    help_text: &dyn Fn(&str) -> Option<String>,
    root: Option<&str>,
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
            let mut message = mask_credentials(&d.message).into_owned();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(&mask_credentials(help));
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
                result["locations"] = json!([location(span, sources, root)]);
            }
            if !d.labels.is_empty() {
                result["relatedLocations"] = Value::Array(
                    d.labels
                        .iter()
                        .enumerate()
                        .map(|(i, label)| {
                            let mut loc = location(label.span, sources, root);
                            loc["id"] = json!(i);
                            loc["message"] = json!({ "text": mask_credentials(&label.message) });
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
    let artifacts: Vec<Value> = sources
        .iter()
        .map(|(_, file)| json!({ "location": artifact_location(&file.name, root) }))
        .collect();
    let mut run = json!({
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
    });
    // The base is declared once; without a known directory it is left to the consumer
    // (SARIF §3.14.14: a base id without `uri` is resolved by the viewer).
    run["originalUriBaseIds"] = match root {
        Some(root) => {
            json!({ SRCROOT: { "uri": format!("{}/", file_uri(&normalize(root)).trim_end_matches('/')) } })
        }
        None => json!({ SRCROOT: { "description": { "text": "the directory hafen ran in" } } }),
    };
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run]
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
        assert_eq!(loc["artifactLocation"]["uriBaseId"], SRCROOT);
        assert_eq!(loc["region"]["startLine"], 1);
        assert_eq!(loc["region"]["startColumn"], 6);
    }

    #[test]
    fn uris_are_relative_to_the_source_root_or_absolute_file_uris() {
        let root = Some("/home/ops/platform");
        let at = |name: &str, root: Option<&str>| artifact_location(name, root);
        assert_eq!(
            at("/home/ops/platform/envs/prod.yaml", root),
            json!({ "uri": "envs/prod.yaml", "uriBaseId": SRCROOT })
        );
        assert_eq!(at("./envs/../p.yaml", root), json!({ "uri": "p.yaml", "uriBaseId": SRCROOT }));
        assert_eq!(
            at("/tmp/review/i05 etcd.yaml", root),
            json!({ "uri": "file:///tmp/review/i05%20etcd.yaml" })
        );
        assert_eq!(at("../other/p.yaml", root), json!({ "uri": "file:///home/ops/other/p.yaml" }));
        assert_eq!(at("/tmp/p.yaml", None), json!({ "uri": "file:///tmp/p.yaml" }));
        assert_eq!(at("p.yaml", None), json!({ "uri": "p.yaml", "uriBaseId": SRCROOT }));
        assert_eq!(at("../p.yaml", None), json!({ "uri": "../p.yaml" }));
        assert_eq!(
            at("/home/ops/platform-2/p.yaml", root),
            json!({ "uri": "file:///home/ops/platform-2/p.yaml" })
        );
        assert_eq!(
            at("/srv/plätze#1?.yaml", None),
            json!({ "uri": "file:///srv/pl%C3%A4tze%231%3F.yaml" })
        );
        assert_eq!(at("C:\\work\\p.yaml", None), json!({ "uri": "file:///C:/work/p.yaml" }));
        assert_eq!(
            at("<builtin>/catalog/hetzner-cloud.yaml", root),
            json!({ "uri": "%3Cbuiltin%3E/catalog/hetzner-cloud.yaml" })
        );
    }

    #[test]
    fn the_source_root_is_declared_once() {
        let mut sources = Sources::new();
        let file = sources.add("/home/ops/platform/p.yaml", "mtu: 1450\n");
        let span = Span { file, start: Pos { line: 1, col: 6 }, end: Pos { line: 1, col: 10 } };
        let d = Diagnostic::error("NET001", "m").with_span(Some(span));
        let doc = document_at(&[d], &sources, &[], "0.1.0", &|_| None, Some("/home/ops/platform"));
        let run = &doc["runs"][0];
        assert_eq!(run["originalUriBaseIds"][SRCROOT]["uri"], "file:///home/ops/platform/");
        assert_eq!(run["artifacts"][0]["location"]["uri"], "p.yaml");
        let loc = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(loc["uriBaseId"], SRCROOT);
    }
}
