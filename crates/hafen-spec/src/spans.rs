//! Spec path → source location, so every layer can point at `file:line:column`.

use hafen_diag::Span;
use hafen_yaml::{Node, Value};
use std::collections::HashMap;

/// Locations of every node of a document, keyed by spec path such as
/// `spec.clusters[0].network.mtu`.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    values: HashMap<String, Span>,
    keys: HashMap<String, Span>,
}

impl SpanIndex {
    /// Indexes a document.
    pub fn build(doc: &Node) -> SpanIndex {
        let mut index = SpanIndex::default();
        index.values.insert(String::new(), doc.span);
        let mut stack: Vec<(String, &Node)> = vec![(String::new(), doc)];
        while let Some((path, node)) = stack.pop() {
            match &node.value {
                Value::Map(entries) => {
                    for entry in entries {
                        let child = if path.is_empty() {
                            entry.key.clone()
                        } else {
                            format!("{path}.{}", entry.key)
                        };
                        index.keys.insert(child.clone(), entry.key_span);
                        index.values.insert(child.clone(), entry.value.span);
                        stack.push((child, &entry.value));
                    }
                }
                Value::Seq(items) => {
                    for (idx, item) in items.iter().enumerate() {
                        let child = format!("{path}[{idx}]");
                        index.values.insert(child.clone(), item.span);
                        stack.push((child, item));
                    }
                }
                _ => {}
            }
        }
        index
    }

    /// Adds the locations of another document, re-keyed: a path `from` + rest becomes `to` +
    /// rest, and `renames` map whole paths (e.g. `metadata.name` → `spec.tenants[3].name`).
    pub fn graft(&mut self, other: &SpanIndex, from: &str, to: &str, renames: &[(&str, String)]) {
        let rekey = |path: &str| -> Option<String> {
            if let Some((_, target)) = renames.iter().find(|(p, _)| *p == path) {
                return Some(target.clone());
            }
            if path == from {
                return Some(to.to_owned());
            }
            path.strip_prefix(from)
                .filter(|rest| rest.starts_with(['.', '[']))
                .map(|rest| format!("{to}{rest}"))
        };
        for (path, span) in &other.values {
            if let Some(key) = rekey(path) {
                self.values.insert(key, *span);
            }
        }
        for (path, span) in &other.keys {
            if let Some(key) = rekey(path) {
                self.keys.insert(key, *span);
            }
        }
    }

    /// The value at `path`, if it was written.
    pub fn value(&self, path: &str) -> Option<Span> {
        self.values.get(path).copied()
    }

    /// The key of `path`, if it was written as a mapping key.
    pub fn key(&self, path: &str) -> Option<Span> {
        self.keys.get(path).copied()
    }

    /// The value at `path`, or else the closest written ancestor's key or value. Use this for
    /// values that may come from defaults.
    pub fn nearest(&self, path: &str) -> Option<Span> {
        let mut current = path;
        loop {
            if let Some(span) = self.values.get(current) {
                return Some(*span);
            }
            let cut = current.rfind(['.', '['])?;
            current = &current[..cut];
            if let Some(span) = self.keys.get(current) {
                return Some(*span);
            }
        }
    }

    /// For a named object (a list item with a `name`), the span of its name value, else the item.
    pub fn object(&self, path: &str) -> Option<Span> {
        self.value(&format!("{path}.name")).or_else(|| self.nearest(path))
    }
}
