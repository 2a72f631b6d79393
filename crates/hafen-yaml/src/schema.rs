//! Checks a spanned YAML tree against a JSON Schema and reports *every* problem, located.
//!
//! Serde stops at the first error and cannot say where in the file it was. This walker checks
//! the subset of JSON Schema that `schemars` emits for Hafen's types (`$ref`, `type`,
//! `properties`, `required`, `additionalProperties`, `enum`, `const`, `anyOf`/`oneOf`, `items`,
//! `minimum`/`maximum`) and produces one diagnostic per problem, with a hint. A document
//! that passes deserializes without error.

use crate::codes;
use crate::node::{Node, ScalarStyle, Value};
use hafen_diag::{Diagnostic, Span};
use serde_json::{Map, Value as Json};

/// Validates `node` against `schema`, whose `$defs` are resolved from `root`.
/// `path` is the spec path of `node`, and `key_span` the span of the key that holds it.
pub fn validate(
    node: &Node,
    schema: &Json,
    root: &Json,
    path: &str,
    key_span: Option<Span>,
    out: &mut Vec<Diagnostic>,
) {
    let mut path = path.to_owned();
    Walker { root, partial: false }.check(node, schema, &mut path, key_span, out);
}

/// Like [`validate`], but missing required fields are not reported: for override files that
/// only name what changes.
pub fn validate_partial(node: &Node, root: &Json, path: &str, out: &mut Vec<Diagnostic>) {
    let mut path = path.to_owned();
    Walker { root, partial: true }.check(node, root, &mut path, None, out);
}

struct Walker<'a> {
    root: &'a Json,
    partial: bool,
}

fn obj(schema: &Json) -> Option<&Map<String, Json>> {
    schema.as_object()
}

/// Suggests the closest candidate, if one is close enough to be a likely typo.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let lower = word.to_ascii_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        let score = if candidate.to_ascii_lowercase() == lower {
            2.0
        } else {
            strsim::jaro_winkler(&lower, &candidate.to_ascii_lowercase())
        };
        if score >= 0.8 && best.is_none_or(|(_, s)| score > s) {
            best = Some((candidate, score));
        }
    }
    best.map(|(c, _)| c)
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("the string \"{}\"", truncate(s)),
        Value::Int(i) => format!("the integer {i}"),
        // Very large or small numbers in exponent form, as the user most likely wrote them,
        // not as hundreds of digits.
        Value::Float(f) if *f != 0.0 && !(1e-6..1e15).contains(&f.abs()) => {
            format!("the number {f:e}")
        }
        Value::Float(f) => format!("the number {f}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Null => "null (an empty value)".into(),
        Value::Seq(_) => "a list".into(),
        Value::Map(_) => "a mapping".into(),
    }
}

/// [`describe`], but without the text when the key names a secret (`token`, `password`):
/// a message must not quote what an excerpt masks.
fn describe_at(node: &Node, path: &str) -> String {
    let key = path.rsplit(['.', '[']).next().unwrap_or(path);
    match &node.value {
        Value::Str(_) if hafen_diag::secrets::is_secret_key(key) => "a string".into(),
        _ => describe(node),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.into()
    }
}

fn type_matches(node: &Node, ty: &str) -> bool {
    matches!(
        (ty, &node.value),
        ("null", Value::Null)
            | ("boolean", Value::Bool(_))
            | ("integer", Value::Int(_))
            | ("number", Value::Int(_) | Value::Float(_))
            | ("string", Value::Str(_))
            | ("array", Value::Seq(_))
            | ("object", Value::Map(_))
    )
}

fn type_noun(ty: &str) -> &'static str {
    match ty {
        "null" => "null",
        "boolean" => "a boolean (true or false)",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        _ => "a value",
    }
}

impl Walker<'_> {
    fn resolve<'s>(&'s self, mut schema: &'s Json) -> &'s Json {
        for _ in 0..32 {
            let Some(reference) = schema.get("$ref").and_then(Json::as_str) else { break };
            let Some(name) = reference.strip_prefix("#/$defs/") else { break };
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    /// The allowed values when a schema is an enumeration, however it is spelled (`enum`,
    /// `const`, or `oneOf`/`anyOf` of those, as schemars writes documented enums).
    fn enum_values(&self, schema: &Json) -> Option<Vec<Json>> {
        let schema = self.resolve(schema);
        if let Some(values) = allowed_values(schema) {
            return Some(values);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = schema.get(key).and_then(Json::as_array) {
                let mut values = Vec::new();
                for alt in alts {
                    values.extend(self.enum_values(alt)?);
                }
                return (!values.is_empty()).then_some(values);
            }
        }
        None
    }

    fn types<'s>(&'s self, schema: &'s Json) -> Vec<&'s str> {
        let schema = self.resolve(schema);
        if let Some(ty) = schema.get("type") {
            return match ty {
                Json::String(s) => vec![s.as_str()],
                Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
                _ => Vec::new(),
            };
        }
        if schema.get("enum").is_some() || schema.get("const").is_some() {
            return vec!["string"];
        }
        let mut out = Vec::new();
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = schema.get(key).and_then(Json::as_array) {
                for alt in alts {
                    for t in self.types(alt) {
                        if !out.contains(&t) {
                            out.push(t);
                        }
                    }
                }
            }
        }
        out
    }

    /// Human description of what a schema accepts: "`auto` or an integer".
    fn expectation(&self, schema: &Json) -> String {
        let schema = self.resolve(schema);
        if let Some(values) = self.enum_values(schema) {
            return one_of_words(&values);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = schema.get(key).and_then(Json::as_array) {
                let parts: Vec<String> = alts
                    .iter()
                    .filter(|alt| self.types(alt) != ["null"])
                    .map(|alt| self.expectation(alt))
                    .collect();
                return parts.join(" or ");
            }
        }
        let types = self.types(schema);
        types.iter().map(|t| type_noun(t)).collect::<Vec<_>>().join(" or ")
    }

    fn check(
        &self,
        node: &Node,
        schema: &Json,
        path: &mut String,
        key_span: Option<Span>,
        out: &mut Vec<Diagnostic>,
    ) {
        let schema = self.resolve(schema);
        if schema.as_bool() == Some(true) {
            return;
        }
        if let Some(values) = self.enum_values(schema) {
            if !values.contains(&node.to_json()) {
                out.push(self.not_allowed(node, &values, path));
            }
            return;
        }
        // Alternatives: Option<T> (`anyOf: [T, null]`), untagged enums.
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = schema.get(key).and_then(Json::as_array) {
                self.check_alternatives(node, schema, alts, path, out);
                return;
            }
        }
        if let Some(values) = allowed_values(schema) {
            let json = node.to_json();
            if !values.contains(&json) {
                out.push(self.not_allowed(node, &values, path));
            }
            return;
        }
        let types = self.types(schema);
        if !types.is_empty() && !types.iter().any(|t| type_matches(node, t)) {
            out.push(self.wrong_type(node, &types, path));
            return;
        }
        match &node.value {
            Value::Map(entries) => self.check_object(node, entries, schema, path, key_span, out),
            Value::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    let len = path.len();
                    for (idx, item) in items.iter().enumerate() {
                        use std::fmt::Write as _;
                        let _ = write!(path, "[{idx}]");
                        self.check(item, item_schema, path, None, out);
                        path.truncate(len);
                    }
                }
            }
            Value::Int(_) | Value::Float(_) => self.check_range(node, schema, path, out),
            _ => {}
        }
    }

    fn check_alternatives(
        &self,
        node: &Node,
        schema: &Json,
        alts: &[Json],
        path: &mut String,
        out: &mut Vec<Diagnostic>,
    ) {
        let mut attempts: Vec<Vec<Diagnostic>> = Vec::new();
        for alt in alts {
            let mut errs = Vec::new();
            self.check(node, alt, path, None, &mut errs);
            if errs.is_empty() {
                return;
            }
            attempts.push(errs);
        }
        // If exactly one alternative accepts this kind of value, its errors are the useful ones.
        let matching: Vec<usize> = alts
            .iter()
            .enumerate()
            .filter(|(_, alt)| {
                let types = self.types(alt);
                types.iter().any(|t| type_matches(node, t)) && self.enum_values(alt).is_none()
            })
            .map(|(i, _)| i)
            .collect();
        if matching.len() == 1 {
            out.append(&mut attempts[matching[0]]);
            return;
        }
        let expected = self.expectation(schema);
        out.push(
            Diagnostic::error(
                codes::WRONG_TYPE,
                format!("`{path}` must be {expected}, found {}", describe_at(node, path)),
            )
            .with_span(Some(node.span))
            .with_path(path.as_str())
            .with_span_label(format!("expected {expected}"))
            .with_help(format!("use {expected}")),
        );
    }

    fn check_range(&self, node: &Node, schema: &Json, path: &str, out: &mut Vec<Diagnostic>) {
        let value = match node.value {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => return,
        };
        if !value.is_finite() {
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`{path}` must be a finite number, found {}", describe_at(node, path)),
                )
                .with_span(Some(node.span))
                .with_path(path)
                .with_span_label("not a finite number")
                .with_help("write the real figure (`.inf` and `.nan` are not amounts)"),
            );
            return;
        }
        let min = schema.get("minimum").and_then(Json::as_f64);
        // The integer width the value is read into bounds it where the schema states no
        // maximum, so a count just above 2³² is a located range error, not a failed read.
        let width = match schema.get("format").and_then(Json::as_str) {
            Some("uint8") => Some(f64::from(u8::MAX)),
            Some("uint16") => Some(f64::from(u16::MAX)),
            Some("uint32") => Some(f64::from(u32::MAX)),
            Some("int32") => Some(f64::from(i32::MAX)),
            _ => None,
        };
        let max = match (schema.get("maximum").and_then(Json::as_f64), width) {
            (Some(m), Some(w)) => Some(m.min(w)),
            (m, w) => m.or(w),
        };
        let bad = min.is_some_and(|m| value < m) || max.is_some_and(|m| value > m);
        if bad {
            let range = match (min, max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => String::new(),
            };
            out.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("`{path}` must be {range}, found {}", describe_at(node, path)),
                )
                .with_span(Some(node.span))
                .with_path(path)
                .with_span_label(format!("must be {range}"))
                .with_help(match (min, max) {
                    (Some(_), Some(_)) => format!("use a value {range}"),
                    _ => format!("use a value of {range}"),
                }),
            );
        }
    }

    fn check_object(
        &self,
        node: &Node,
        entries: &[crate::node::Entry],
        schema: &Json,
        path: &mut String,
        key_span: Option<Span>,
        out: &mut Vec<Diagnostic>,
    ) {
        let empty = Map::new();
        let properties = schema.get("properties").and_then(obj).unwrap_or(&empty);
        let additional = schema.get("additionalProperties");
        let mut suggested: Vec<&str> = Vec::new();
        let parent_len = path.len();
        for entry in entries {
            if parent_len > 0 {
                path.push('.');
            }
            path.push_str(&entry.key);
            if let Some(prop) = properties.get(&entry.key) {
                self.check(&entry.value, prop, path, Some(entry.key_span), out);
            } else {
                match additional {
                    Some(Json::Bool(false)) => {
                        let message = if parent_len == 0 {
                            format!("unknown top-level field `{}`", entry.key)
                        } else {
                            format!("unknown field `{}` in `{}`", entry.key, &path[..parent_len])
                        };
                        let mut d = Diagnostic::error(codes::UNKNOWN_FIELD, message)
                            .with_span(Some(entry.key_span))
                            .with_path(path.as_str())
                            .with_span_label("not a known field");
                        let names: Vec<&str> = properties.keys().map(String::as_str).collect();
                        if let Some(suggestion) = did_you_mean(&entry.key, names.iter().copied()) {
                            suggested.push(suggestion);
                            d = d.with_help(format!("did you mean `{suggestion}`?"));
                            let meant = properties.get(suggestion).unwrap_or(&Json::Null);
                            let fits = self.kind_fits(&entry.value, meant);
                            if !fits {
                                d = d.with_note(format!(
                                    "`{suggestion}` must be {}; this is {}",
                                    self.expectation(meant),
                                    describe_at(&entry.value, path)
                                ));
                            }
                            out.push(d);
                            // What is wrong inside the value is reported now, at the key it
                            // will have once renamed, not after the next edit.
                            if fits && !entries.iter().any(|e| e.key == suggestion) {
                                let mut meant_path = path[..parent_len].to_owned();
                                if parent_len > 0 {
                                    meant_path.push('.');
                                }
                                meant_path.push_str(suggestion);
                                self.check(
                                    &entry.value,
                                    meant,
                                    &mut meant_path,
                                    Some(entry.key_span),
                                    out,
                                );
                            }
                            path.truncate(parent_len);
                            continue;
                        } else {
                            d = d.with_help(format!(
                                "known fields here: {}",
                                names
                                    .iter()
                                    .map(|n| format!("`{n}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                        }
                        out.push(d);
                    }
                    Some(extra) if extra.is_object() => {
                        self.check(&entry.value, extra, path, Some(entry.key_span), out);
                    }
                    _ => {}
                }
            }
            path.truncate(parent_len);
        }
        let path = path.as_str();
        if let Some(required) =
            schema.get("required").and_then(Json::as_array).filter(|_| !self.partial)
        {
            for name in required.iter().filter_map(Json::as_str) {
                // A misspelt key already got a "did you mean" pointing here.
                if entries.iter().any(|e| e.key == name) || suggested.contains(&name) {
                    continue;
                }
                let what = properties
                    .get(name)
                    .map(|p| self.expectation(p))
                    .unwrap_or_else(|| "a value".into());
                let message = if path.is_empty() {
                    format!("missing top-level field `{name}`")
                } else {
                    format!("missing field `{name}` in `{path}`")
                };
                let mut d = Diagnostic::error(codes::MISSING_FIELD, message)
                    .with_span(Some(key_span.unwrap_or(node.span)))
                    .with_path(if path.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{path}.{name}")
                    })
                    .with_span_label(format!("needs `{name}`"));
                let description = properties
                    .get(name)
                    .and_then(|p| {
                        p.get("description").or_else(|| self.resolve(p).get("description"))
                    })
                    .and_then(Json::as_str)
                    .map(first_sentence);
                d = d.with_help(match description {
                    Some(text) => format!("add `{name}:` ({what}): {text}"),
                    None => format!("add `{name}:` ({what})"),
                });
                out.push(d);
            }
        }
    }

    /// True when `node` is of a kind `schema` accepts (a mapping for a mapping, a number for a
    /// number, ...), whatever is wrong inside it.
    fn kind_fits(&self, node: &Node, schema: &Json) -> bool {
        let types = self.types(schema);
        types.is_empty() || types.iter().any(|t| type_matches(node, t))
    }

    fn wrong_type(&self, node: &Node, types: &[&str], path: &str) -> Diagnostic {
        let expected = types.iter().map(|t| type_noun(t)).collect::<Vec<_>>().join(" or ");
        let mut d = Diagnostic::error(
            codes::WRONG_TYPE,
            format!("`{path}` must be {expected}, found {}", describe_at(node, path)),
        )
        .with_span(Some(node.span))
        .with_path(path)
        .with_span_label(format!("expected {expected}"));
        let wants_number = types.iter().any(|t| matches!(*t, "integer" | "number"));
        match &node.value {
            Value::Str(s)
                if wants_number
                    && node.style == ScalarStyle::Quoted
                    && s.trim().parse::<f64>().is_ok() =>
            {
                d = d.with_help(format!("remove the quotes: `{}`", s.trim()));
            }
            Value::Str(s)
                if types.contains(&"boolean")
                    && matches!(
                        s.to_ascii_lowercase().as_str(),
                        "yes" | "no" | "on" | "off" | "y" | "n"
                    ) =>
            {
                d = d.with_help(
                    "write `true` or `false`; YAML 1.2 reads `yes`/`no`/`on`/`off` as text",
                );
            }
            Value::Int(_) | Value::Float(_) | Value::Bool(_) if types.contains(&"string") => {
                let raw = node_raw(node);
                d = d.with_help(format!("quote it: `\"{raw}\"`"));
                if let Value::Float(_) = node.value {
                    d = d.with_note("unquoted, a version such as 1.30 is read as the number 1.3");
                }
            }
            Value::Null => {
                d = d.with_help("give a value, or remove the key if it is optional");
            }
            Value::Float(f) if types.contains(&"integer") && !types.contains(&"number") => {
                let help = if f.fract() != 0.0 {
                    format!("use a whole number, e.g. `{}`", f.round())
                } else if f.abs() < 1e15 {
                    format!("write it as a whole number in digits: `{}`", *f as i64)
                } else {
                    "this number is far too large here; check the value".to_owned()
                };
                d = d.with_help(help);
            }
            Value::Str(s) if wants_number && number_word(s).is_some() => {
                let n = number_word(s).unwrap_or_default();
                d = d.with_help(format!("write the number in digits: `{n}`"));
            }
            Value::Seq(items)
                if items.len() == 1
                    && types.iter().any(|t| type_matches(&items[0], t))
                    && !matches!(items[0].value, Value::Seq(_) | Value::Map(_)) =>
            {
                let raw = node_raw(&items[0]);
                d = d.with_help(format!("write the single value without brackets: `{raw}`"));
            }
            _ => {
                d = d.with_help(format!("write {}", example_words(types)));
            }
        }
        d
    }

    fn not_allowed(&self, node: &Node, values: &[Json], path: &str) -> Diagnostic {
        let words = one_of_words(values);
        let mut d = Diagnostic::error(
            codes::INVALID_VALUE,
            format!("`{path}` must be {words}, found {}", describe_at(node, path)),
        )
        .with_span(Some(node.span))
        .with_path(path)
        .with_span_label("not an allowed value");
        if let Value::Str(s) = &node.value {
            let names: Vec<&str> = values.iter().filter_map(Json::as_str).collect();
            if let Some(suggestion) = did_you_mean(s, names.iter().copied()) {
                d = d.with_help(format!("did you mean `{suggestion}`?"));
                return d;
            }
        }
        d.with_help(format!("use {words}"))
    }
}

/// The value of an English number word, for `replicas: two`.
fn number_word(text: &str) -> Option<u32> {
    const WORDS: [&str; 13] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve",
    ];
    let lower = text.trim().to_ascii_lowercase();
    WORDS.iter().position(|w| *w == lower).and_then(|i| u32::try_from(i).ok())
}

/// "an integer such as `3`", for the help of a wrong type.
fn example_words(types: &[&str]) -> String {
    let one = |t: &str| match t {
        "integer" => "a whole number such as `3` (digits, no quotes)".to_owned(),
        "number" => "a number such as `3` or `0.5`".to_owned(),
        "string" => "text, in quotes when it looks like a number: `\"1.0\"`".to_owned(),
        "boolean" => "`true` or `false`".to_owned(),
        "array" => "a list: `[a, b]`, or one `- item` per line".to_owned(),
        "object" => "a mapping: one `key: value` per line, indented below the key".to_owned(),
        "null" => "nothing (remove the value)".to_owned(),
        other => format!("a value of type {other}"),
    };
    types.iter().filter(|t| **t != "null").map(|t| one(t)).collect::<Vec<_>>().join(", or ")
}

fn node_raw(node: &Node) -> String {
    if let Some(raw) = &node.raw {
        return raw.clone();
    }
    match &node.value {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => s.clone(),
        _ => String::new(),
    }
}

fn first_sentence(text: &str) -> String {
    let text = text.split("\n\n").next().unwrap_or(text).replace('\n', " ");
    match text.find(". ") {
        Some(i) => text[..=i].to_owned(),
        None => text,
    }
}

fn allowed_values(schema: &Json) -> Option<Vec<Json>> {
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        return Some(values.clone());
    }
    schema.get("const").map(|c| vec![c.clone()])
}

fn one_of_words(values: &[Json]) -> String {
    let words: Vec<String> = values
        .iter()
        .map(|v| match v {
            Json::String(s) => format!("`{s}`"),
            other => format!("`{other}`"),
        })
        .collect();
    match words.len() {
        0 => "nothing".into(),
        1 => words[0].clone(),
        2 => format!("{} or {}", words[0], words[1]),
        _ => format!("one of {}", words.join(", ")),
    }
}

/// Validates a document and, when it is valid, deserializes it. With `partial`, missing
/// required fields are not reported (used for override files that only name what changes).
pub fn decode<T: serde::de::DeserializeOwned>(
    node: &Node,
    root: &Json,
    path: &str,
) -> (Option<T>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    validate(node, root, root, path, None, &mut diagnostics);
    if !diagnostics.is_empty() {
        return (None, diagnostics);
    }
    match serde_json::from_value::<T>(node.to_json()) {
        Ok(value) => (Some(value), diagnostics),
        Err(err) => {
            // The schema and the types disagree: a bug, but still a located answer.
            diagnostics.push(
                Diagnostic::error(
                    codes::INVALID_VALUE,
                    format!("this document cannot be read: {err}"),
                )
                .with_span(Some(node.span))
                .with_help("please report this: the schema accepted a value the reader refused"),
            );
            (None, diagnostics)
        }
    }
}

/// Splits a spec path (`spec.clusters[0].network.mtu`) into keys and indices.
fn path_segments(path: &str) -> Vec<Result<String, usize>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push(Ok(rest[..i].to_owned()));
            }
            rest = &rest[i..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(end) = stripped.find(']') else { break };
                if let Ok(idx) = stripped[..end].parse() {
                    out.push(Err(idx));
                }
                rest = &stripped[end + 1..];
            }
        } else if !rest.is_empty() {
            out.push(Ok(rest.to_owned()));
        }
    }
    out
}

/// Best-effort repair of a document that failed validation, so semantic checks can still run
/// and report their problems in the same pass: unknown keys are dropped (or moved to the key
/// they most likely meant), scalars are coerced to the expected type where the text allows
/// (`"3"` → 3, `1.30` → "1.30"), other invalid values of optional fields are dropped so their
/// defaults apply, and invalid or missing required numbers, booleans and enumerations get a
/// valid stand-in (the suggested spelling, the default, or the smallest allowed value). The
/// stand-ins are never seen: the load fails on the schema errors, and semantic findings at a
/// path the schema already reported are dropped. Returns the repaired JSON.
pub fn repair(node: &Node, diagnostics: &[Diagnostic], root: &Json) -> Json {
    let mut json = node.to_json();
    let walker = Walker { root, partial: false };
    for d in diagnostics {
        let Some(path) = d.path.as_deref() else { continue };
        let segments = path_segments(path);
        let Some((last, parents)) = segments.split_last() else { continue };
        let pointer: String = parents
            .iter()
            .map(|seg| match seg {
                Ok(key) => format!("/{}", key.replace('~', "~0").replace('/', "~1")),
                Err(idx) => format!("/{idx}"),
            })
            .collect();
        let parent_schema = walker.schema_at(root, parents);
        let field_schema = parent_schema.and_then(|p| walker.descend(p, last));
        let required = match (parent_schema, last) {
            (Some(p), Ok(key)) => walker
                .object_schema(p, key)
                .and_then(|o| o.get("required"))
                .and_then(Json::as_array)
                .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(key.as_str()))),
            // A list item cannot be dropped without moving its siblings' paths.
            (_, Err(_)) => true,
            _ => false,
        };
        let stand_in = field_schema.and_then(|f| walker.stand_in(f, d, 0));
        // A misspelt key moves to the key it most likely meant if its value is of a kind that
        // fits there (the problems inside it were reported at the meant key and are repaired
        // there next); otherwise the meant key, when required, gets a stand-in, so that one
        // typo with a wrong value does not stop every other check.
        let meant = (d.code == codes::UNKNOWN_FIELD).then(|| meant_key(d)).flatten();
        let relocation = meant.map(|meant| {
            let meant_seg = Ok(meant.to_owned());
            let meant_schema = parent_schema.and_then(|p| walker.descend(p, &meant_seg));
            let fits = meant_schema
                .zip(node_at(node, &segments))
                .is_some_and(|(schema, value)| walker.kind_fits(value, schema));
            let meant_required = parent_schema
                .and_then(|p| walker.object_schema(p, meant))
                .and_then(|o| o.get("required"))
                .and_then(Json::as_array)
                .is_some_and(|r| r.iter().any(|n| n.as_str() == Some(meant)));
            let stand_in = if meant_required {
                meant_schema.and_then(|s| walker.stand_in(s, d, 0))
            } else {
                None
            };
            (meant, fits, stand_in)
        });
        let Some(target) = json.pointer_mut(&pointer) else { continue };
        match last {
            Ok(key) => {
                let Some(map) = target.as_object_mut() else { continue };
                if let Some((meant, fits, meant_stand_in)) = relocation {
                    let value = map.remove(key);
                    if !map.contains_key(meant) {
                        match (fits, value, meant_stand_in) {
                            (true, Some(value), _) | (false, _, Some(value)) => {
                                map.insert(meant.to_owned(), value);
                            }
                            _ => {}
                        }
                    }
                    continue;
                }
                repair_entry(map, key, d, required, stand_in);
            }
            Err(idx) => {
                let Some(item) = target.as_array_mut().and_then(|items| items.get_mut(*idx)) else {
                    continue;
                };
                if matches!(d.code, codes::WRONG_TYPE | codes::INVALID_VALUE)
                    && let Some(value) = coerce(item, d).or(stand_in)
                {
                    *item = value;
                }
            }
        }
    }
    json
}

/// The key a misspelt key most likely meant, from its "did you mean" help.
fn meant_key(d: &Diagnostic) -> Option<&str> {
    d.help.as_deref()?.strip_prefix("did you mean `")?.split('`').next()
}

/// The node at a spec path below `node`.
fn node_at<'n>(node: &'n Node, segments: &[Result<String, usize>]) -> Option<&'n Node> {
    let mut current = node;
    for segment in segments {
        current = match (segment, &current.value) {
            (Ok(key), Value::Map(_)) => &current.get(key)?.value,
            (Err(idx), Value::Seq(items)) => items.get(*idx)?,
            _ => return None,
        };
    }
    Some(current)
}

/// The spec paths a set of schema diagnostics speak for: each one's own path and, for a
/// misspelt key, the key it most likely meant (which the repair filled). Semantic findings
/// at or below these paths judge a stand-in, not what was written, and are not reported.
pub fn reported_paths(diagnostics: &[Diagnostic]) -> Vec<String> {
    let mut out = Vec::new();
    for d in diagnostics {
        let Some(path) = d.path.as_deref() else { continue };
        out.push(path.to_owned());
        if d.code == codes::UNKNOWN_FIELD
            && let Some(meant) = meant_key(d)
        {
            let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
            out.push(if parent.is_empty() {
                meant.to_owned()
            } else {
                format!("{parent}.{meant}")
            });
        }
    }
    out
}

/// True when `path` is one of `reported` or lies below one.
pub fn covered(reported: &[String], path: &str) -> bool {
    reported.iter().any(|r| {
        path.strip_prefix(r.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
    })
}

fn repair_entry(
    map: &mut Map<String, Json>,
    key: &str,
    d: &Diagnostic,
    required: bool,
    stand_in: Option<Json>,
) {
    match d.code {
        codes::UNKNOWN_FIELD => {
            map.remove(key);
        }
        codes::INVALID_VALUE | codes::WRONG_TYPE => {
            let coerced = map.get(key).and_then(|value| coerce(value, d));
            match coerced.or(if required { stand_in } else { None }) {
                Some(value) => {
                    map.insert(key.to_owned(), value);
                }
                None => {
                    map.remove(key);
                }
            }
        }
        codes::MISSING_FIELD => {
            if let Some(value) = stand_in
                && !map.contains_key(key)
            {
                map.insert(key.to_owned(), value);
            }
        }
        _ => {}
    }
}

/// The value a wrong-type scalar was most likely meant to be, when its text says so.
fn coerce(value: &Json, d: &Diagnostic) -> Option<Json> {
    if d.code != codes::WRONG_TYPE {
        return None;
    }
    match value {
        Json::String(s) if d.message.contains("must be an integer") => {
            s.trim().parse::<i64>().ok().map(Json::from)
        }
        Json::String(s) if d.message.contains("must be a number") => {
            s.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Json::Number)
        }
        Json::Number(_) | Json::Bool(_) if d.message.contains("must be a string") => d
            .help
            .as_deref()
            .and_then(|h| h.split('"').nth(1))
            .map(|raw| Json::String(raw.to_owned())),
        _ => None,
    }
}

impl Walker<'_> {
    /// The schema of the value at `segments` below `schema`.
    fn schema_at<'s>(
        &'s self,
        schema: &'s Json,
        segments: &[Result<String, usize>],
    ) -> Option<&'s Json> {
        let mut current = schema;
        for segment in segments {
            current = self.descend(current, segment)?;
        }
        Some(current)
    }

    /// The object alternative of `schema` that declares `key` (through `$ref`, `Option`'s
    /// `anyOf` and untagged enums).
    fn object_schema<'s>(&'s self, schema: &'s Json, key: &str) -> Option<&'s Json> {
        let schema = self.resolve(schema);
        if schema.get("properties").and_then(|p| p.get(key)).is_some()
            || schema.get("additionalProperties").is_some_and(Json::is_object)
        {
            return Some(schema);
        }
        for alts in ["anyOf", "oneOf"] {
            for alt in schema.get(alts).and_then(Json::as_array).into_iter().flatten() {
                if let Some(found) = self.object_schema(alt, key) {
                    return Some(found);
                }
            }
        }
        None
    }

    fn descend<'s>(
        &'s self,
        schema: &'s Json,
        segment: &Result<String, usize>,
    ) -> Option<&'s Json> {
        match segment {
            Ok(key) => {
                let object = self.object_schema(schema, key)?;
                object
                    .get("properties")
                    .and_then(|p| p.get(key.as_str()))
                    .or_else(|| object.get("additionalProperties").filter(|a| a.is_object()))
            }
            Err(_) => self.items_schema(schema),
        }
    }

    fn items_schema<'s>(&'s self, schema: &'s Json) -> Option<&'s Json> {
        let schema = self.resolve(schema);
        if let Some(items) = schema.get("items") {
            return Some(items);
        }
        for alts in ["anyOf", "oneOf"] {
            for alt in schema.get(alts).and_then(Json::as_array).into_iter().flatten() {
                if let Some(found) = self.items_schema(alt) {
                    return Some(found);
                }
            }
        }
        None
    }

    /// A valid value for `schema`: the spelling the diagnostic suggests, the default, the
    /// first allowed value, the allowed number closest to 1, an empty text or list, or a
    /// mapping of stand-ins for its required fields. Never seen: it only lets the other
    /// checks run, and what they find at or below its path is not reported.
    fn stand_in(&self, schema: &Json, d: &Diagnostic, depth: usize) -> Option<Json> {
        if depth > 16 {
            return None;
        }
        let schema = self.resolve(schema);
        if let Some(values) = self.enum_values(schema) {
            let suggested = d
                .help
                .as_deref()
                .and_then(|h| h.strip_prefix("did you mean `"))
                .and_then(|h| h.split('`').next())
                .map(|s| Json::String(s.to_owned()))
                .filter(|s| values.contains(s));
            return suggested.or_else(|| values.first().cloned());
        }
        if let Some(default) = schema.get("default").filter(|v| !v.is_null()) {
            return Some(default.clone());
        }
        for alts in ["anyOf", "oneOf"] {
            if let Some(alts) = schema.get(alts).and_then(Json::as_array) {
                return alts
                    .iter()
                    .filter(|alt| self.types(alt) != ["null"])
                    .find_map(|alt| self.stand_in(alt, d, depth + 1));
            }
        }
        let types = self.types(schema);
        let min = schema.get("minimum").and_then(Json::as_f64);
        let max = schema.get("maximum").and_then(Json::as_f64);
        let near_one = || {
            let v = min.map_or(1.0, |m| m.max(1.0));
            max.map_or(v, |m| v.min(m))
        };
        if types.contains(&"integer") {
            return Some(Json::from(near_one().ceil() as i64));
        }
        if types.contains(&"number") {
            return serde_json::Number::from_f64(near_one()).map(Json::Number);
        }
        if types.contains(&"boolean") {
            return Some(Json::Bool(false));
        }
        if types.contains(&"string") {
            return Some(Json::String(String::new()));
        }
        if types.contains(&"array") {
            return Some(Json::Array(Vec::new()));
        }
        if types.contains(&"object") {
            let mut map = Map::new();
            let properties = schema.get("properties").and_then(obj);
            for name in schema.get("required").and_then(Json::as_array).into_iter().flatten() {
                let name = name.as_str()?;
                let property = properties.and_then(|p| p.get(name))?;
                map.insert(name.to_owned(), self.stand_in(property, d, depth + 1)?);
            }
            return Some(Json::Object(map));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Limits, parse};
    use hafen_diag::FileId;
    use serde_json::json;

    fn run(yaml: &str, schema: &Json) -> Vec<Diagnostic> {
        let (docs, diags) = parse(yaml, FileId(0), &Limits::default());
        assert!(diags.is_empty());
        let mut out = Vec::new();
        validate(&docs[0], schema, schema, "", None, &mut out);
        out
    }

    fn schema() -> Json {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name", "mtu"],
            "properties": {
                "name": {"type": "string", "description": "The name. More text."},
                "count": {"type": "integer", "minimum": 0, "maximum": 255},
                "mtu": {"$ref": "#/$defs/Mtu"},
                "engine": {"$ref": "#/$defs/Engine"},
                "opt": {"anyOf": [{"$ref": "#/$defs/B"}, {"type": "null"}]},
                "items": {"type": "array", "items": {"$ref": "#/$defs/B"}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "$defs": {
                "Mtu": {"anyOf": [{"type": "string", "enum": ["auto"]}, {"type": "integer", "minimum": 0}]},
                "Engine": {"oneOf": [{"type": "string", "const": "flux"}, {"type": "string", "enum": ["argocd"]}]},
                "B": {"type": "object", "additionalProperties": false, "required": ["x"], "properties": {"x": {"type": "number"}}},
            }
        })
    }

    #[test]
    fn integers_are_bounded_by_their_width_and_huge_numbers_read_as_written() {
        let schema = json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer", "format": "uint32", "minimum": 0},
                "port": {"type": "integer", "format": "uint16", "minimum": 0, "maximum": 70000},
                "tb": {"type": "number", "format": "double", "minimum": 0, "maximum": 1000},
            }
        });
        let diags = run("count: 4294967297\nport: 65536\ntb: 1e308\n", &schema);
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(diags.len(), 3, "{messages:#?}");
        assert!(diags.iter().all(|d| d.code == codes::INVALID_VALUE && d.span.is_some()));
        assert!(messages[0].contains("between 0 and 4294967295"), "{}", messages[0]);
        assert!(messages[1].contains("between 0 and 65535"), "the narrower bound: {}", messages[1]);
        assert!(messages[2].ends_with("found the number 1e308"), "{}", messages[2]);
        assert!(run("count: 4294967295\nport: 65535\ntb: 1000\n", &schema).is_empty());
    }

    #[test]
    fn reports_every_problem_at_once() {
        let diags = run(
            "nmae: a\ncount: \"3\"\nmtu: big\nengine: flxu\nopt: {x: no}\nitems: [{y: 1}]\nlabels: {a: 1}\n",
            &schema(),
        );
        let codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
        assert!(codes.contains(&codes::UNKNOWN_FIELD), "{diags:#?}");
        assert!(codes.contains(&codes::MISSING_FIELD));
        assert!(codes.contains(&codes::WRONG_TYPE));
        assert!(codes.contains(&codes::INVALID_VALUE));
        let unknown = diags
            .iter()
            .find(|d| d.code == codes::UNKNOWN_FIELD && d.message.contains("nmae"))
            .unwrap();
        assert_eq!(unknown.help.as_deref(), Some("did you mean `name`?"));
        let quoted = diags.iter().find(|d| d.path.as_deref() == Some("count")).unwrap();
        assert_eq!(quoted.help.as_deref(), Some("remove the quotes: `3`"));
        let engine = diags.iter().find(|d| d.path.as_deref() == Some("engine")).unwrap();
        assert_eq!(engine.help.as_deref(), Some("did you mean `flux`?"));
        let mtu = diags.iter().find(|d| d.path.as_deref() == Some("mtu")).unwrap();
        assert!(mtu.message.contains("`auto` or an integer"), "{}", mtu.message);
        assert!(diags.iter().any(|d| d.path.as_deref() == Some("items[0].y")));
        assert!(diags.iter().any(|d| d.path.as_deref() == Some("labels.a")));
        assert!(diags.iter().any(|d| d.path.as_deref() == Some("opt.x")));
        assert!(diags.len() >= 8, "{diags:#?}");
    }

    #[test]
    fn numbers_for_strings_get_a_quote_hint() {
        let diags = run("name: 1.30\nmtu: auto\n", &schema());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].help.as_deref(), Some("quote it: `\"1.30\"`"));
        assert!(diags[0].notes[0].contains("1.3"));
    }

    #[test]
    fn range_is_checked() {
        let diags = run("name: a\nmtu: 1\ncount: 300\n", &schema());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, codes::INVALID_VALUE);
    }

    fn repaired(yaml: &str, schema: &Json) -> Json {
        let (docs, _) = parse(yaml, FileId(0), &Limits::default());
        let mut out = Vec::new();
        validate(&docs[0], schema, schema, "", None, &mut out);
        repair(&docs[0], &out, schema)
    }

    fn required_numbers() -> Json {
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["onCall", "replicas", "engine", "roles"],
            "properties": {
                "onCall": {"type": "integer", "minimum": 0},
                "replicas": {"type": "integer", "minimum": 0, "maximum": 99},
                "share": {"type": ["number", "null"], "default": null},
                "engine": {"$ref": "#/$defs/Engine"},
                "roles": {"type": "array", "items": {"$ref": "#/$defs/Engine"}},
                "pool": {"anyOf": [{"$ref": "#/$defs/Pool"}, {"type": "null"}]},
            },
            "$defs": {
                "Engine": {"oneOf": [{"type": "string", "const": "flux"}, {"type": "string", "const": "argocd"}]},
                "Pool": {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 1}}},
            }
        })
    }

    #[test]
    fn repair_gives_required_numbers_and_enumerations_a_valid_stand_in() {
        let schema = required_numbers();
        let json = repaired(
            "onCall: three\nreplicas: -3\nengine: flxu\nroles: [flux, nope]\npool: {count: many}\nshare: lots\n",
            &schema,
        );
        assert_eq!(json["onCall"], 1);
        assert_eq!(json["replicas"], 1);
        assert_eq!(json["engine"], "flux", "the suggested spelling");
        assert_eq!(json["roles"], json!(["flux", "flux"]));
        assert_eq!(json["pool"]["count"], 1);
        assert!(json.get("share").is_none(), "optional: dropped, so the default applies");
        // The repaired document is valid, so it deserializes and the semantic pass can run.
        let mut out = Vec::new();
        let (docs, _) = parse(&crate::emit(&json), FileId(0), &Limits::default());
        validate(&docs[0], &schema, &schema, "", None, &mut out);
        assert!(out.is_empty(), "{out:#?}");
    }

    #[test]
    fn repair_fills_missing_required_numbers() {
        let json = repaired("engine: argocd\nroles: []\n", &required_numbers());
        assert_eq!(json["onCall"], 1);
        assert_eq!(json["replicas"], 1);
    }

    #[test]
    fn wrong_types_always_come_with_a_fix() {
        let schema = json!({
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "count": {"type": "integer"},
                "name": {"type": "string"},
                "mtu": {"anyOf": [{"type": "string", "enum": ["auto"]}, {"type": "integer"}]},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            }
        });
        let diags = run("replicas: two\ncount: [3]\nname: {a: 1}\nmtu: [1]\nport: 0\n", &schema);
        let help = |p: &str| {
            diags.iter().find(|d| d.path.as_deref() == Some(p)).and_then(|d| d.help.clone())
        };
        assert_eq!(help("replicas").as_deref(), Some("write the number in digits: `2`"));
        assert_eq!(help("count").as_deref(), Some("write the single value without brackets: `3`"));
        assert!(help("name").is_some_and(|h| h.contains("text")), "{diags:#?}");
        assert!(help("mtu").is_some_and(|h| h.contains("`auto`")), "{diags:#?}");
        assert_eq!(help("port").as_deref(), Some("use a value between 1 and 65535"));
    }

    #[test]
    fn messages_do_not_quote_the_value_of_a_secret_key() {
        let schema = json!({
            "type": "object",
            "properties": {"apiToken": {"type": "array"}, "name": {"type": "integer"}}
        });
        let diags = run("apiToken: ghp_abcdefghijklmnopqrstuvwxyz0123456789\nname: web\n", &schema);
        assert_eq!(diags.len(), 2);
        assert!(diags.iter().all(|d| !d.message.contains("ghp_")), "{diags:#?}");
        assert!(diags.iter().any(|d| d.message.contains("\"web\"")), "{diags:#?}");
    }

    #[test]
    fn top_level_problems_do_not_say_the_document() {
        let diags = run("a: 1\nmtu: 1\n", &schema());
        assert!(diags.iter().any(|d| d.message == "unknown top-level field `a`"), "{diags:#?}");
        assert!(diags.iter().any(|d| d.message == "missing top-level field `name`"), "{diags:#?}");
    }

    #[test]
    fn valid_document_passes() {
        assert!(
            run("name: a\nmtu: 1400\nengine: argocd\nopt: null\nitems: [{x: 1.5}]\n", &schema())
                .is_empty()
        );
    }
}
