//! Spec path → source location, so every layer can point at `file:line:column`.
//!
//! The index keeps the parsed documents and walks them on demand: diagnostics are few and
//! documents are large, so resolving a handful of paths lazily is far cheaper than indexing
//! every node up front (a 60,000-replica platform has over half a million nodes).

use hafen_diag::Span;
use hafen_yaml::{Node, Value};
use std::sync::Arc;

/// One document mounted at a prefix of the merged spec.
#[derive(Debug, Clone)]
struct Mount {
    /// Prefix in the merged spec, e.g. `spec.tenants[3]`; empty for the platform document.
    to: String,
    /// The matching prefix inside the document, e.g. `spec`.
    from: String,
    /// Whole-path renames from merged path to document path.
    renames: Vec<(String, String)>,
    doc: Arc<Node>,
}

/// Locations of every node of the loaded documents, by spec path such as
/// `spec.clusters[0].network.mtu`.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    mounts: Vec<Mount>,
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Option<Vec<Segment<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let end = stripped.find(']')?;
            out.push(Segment::Index(stripped[..end].parse().ok()?));
            rest = &stripped[end + 1..];
        }
    }
    Some(out)
}

/// Walks to `path`; returns (key span of the last step, the node).
fn walk<'n>(doc: &'n Node, path: &str) -> Option<(Option<Span>, &'n Node)> {
    let mut node = doc;
    let mut key_span = None;
    for segment in segments(path)? {
        match (segment, &node.value) {
            (Segment::Key(key), Value::Map(entries)) => {
                let entry = entries.iter().find(|e| e.key == key)?;
                key_span = Some(entry.key_span);
                node = &entry.value;
            }
            (Segment::Index(idx), Value::Seq(items)) => {
                node = items.get(idx)?;
                key_span = None;
            }
            _ => return None,
        }
    }
    Some((key_span, node))
}

impl SpanIndex {
    /// Indexes a document, keeping it.
    pub fn new(doc: Node) -> SpanIndex {
        SpanIndex {
            mounts: vec![Mount {
                to: String::new(),
                from: String::new(),
                renames: Vec::new(),
                doc: Arc::new(doc),
            }],
        }
    }

    /// Indexes a copy of a document.
    pub fn build(doc: &Node) -> SpanIndex {
        SpanIndex::new(doc.clone())
    }

    /// Adds another document, re-keyed: a path `from` + rest becomes `to` + rest, and `renames`
    /// map whole paths (e.g. `metadata.name` → `spec.tenants[3].name`).
    pub fn graft(&mut self, other: &SpanIndex, from: &str, to: &str, renames: &[(&str, String)]) {
        for mount in &other.mounts {
            self.mounts.push(Mount {
                to: to.to_owned(),
                from: from.to_owned(),
                renames: renames
                    .iter()
                    .map(|(doc_path, merged)| (merged.clone(), (*doc_path).to_owned()))
                    .collect(),
                doc: mount.doc.clone(),
            });
        }
    }

    /// Finds the document and the path inside it for a merged path; later mounts (grafts)
    /// take precedence over the platform document they extend.
    fn resolve(&self, path: &str) -> Option<(Option<Span>, &Node)> {
        for mount in self.mounts.iter().rev() {
            if let Some((_, doc_path)) = mount.renames.iter().find(|(merged, _)| merged == path) {
                return walk(&mount.doc, doc_path);
            }
            if mount.to.is_empty() {
                return walk(&mount.doc, path);
            }
            if path == mount.to {
                return walk(&mount.doc, &mount.from);
            }
            if let Some(rest) =
                path.strip_prefix(mount.to.as_str()).filter(|r| r.starts_with(['.', '[']))
            {
                return walk(&mount.doc, &format!("{}{rest}", mount.from));
            }
        }
        None
    }

    /// The value at `path`, if it was written.
    pub fn value(&self, path: &str) -> Option<Span> {
        self.resolve(path).map(|(_, node)| node.span)
    }

    /// The key of `path`, if it was written as a mapping key.
    pub fn key(&self, path: &str) -> Option<Span> {
        self.resolve(path).and_then(|(key, _)| key)
    }

    /// The value at `path`, or else the closest written ancestor's key or value. Use this for
    /// values that may come from defaults.
    pub fn nearest(&self, path: &str) -> Option<Span> {
        let mut current = path;
        loop {
            if let Some(span) = self.value(current) {
                return Some(span);
            }
            let cut = current.rfind(['.', '['])?;
            current = &current[..cut];
            if let Some(span) = self.key(current) {
                return Some(span);
            }
        }
    }

    /// For a named object (a list item with a `name`), the span of its name value, else the item.
    pub fn object(&self, path: &str) -> Option<Span> {
        self.value(&format!("{path}.name")).or_else(|| self.nearest(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hafen_diag::FileId;
    use hafen_yaml::{Limits, parse};

    fn doc(text: &str, file: u32) -> Node {
        parse(text, FileId(file), &Limits::default()).0.remove(0)
    }

    #[test]
    fn resolves_values_keys_and_nearest() {
        let index = SpanIndex::build(&doc(
            "spec:\n  clusters:\n    - name: a\n      network: {mtu: 1400}\n",
            0,
        ));
        let mtu = index.value("spec.clusters[0].network.mtu").unwrap();
        assert_eq!((mtu.start.line, mtu.start.col), (4, 22));
        assert_eq!(index.key("spec.clusters[0].network").unwrap().start.col, 7);
        // `routing` was not written: the nearest written ancestor is the network mapping.
        assert_eq!(index.nearest("spec.clusters[0].network.routing").unwrap().start.line, 4);
        assert_eq!(index.object("spec.clusters[0]").unwrap().start.col, 13);
        assert!(index.value("spec.clusters[5]").is_none());
    }

    #[test]
    fn grafted_documents_answer_for_their_prefix() {
        let mut index = SpanIndex::build(&doc("spec:\n  tenants: []\n", 0));
        let tenant =
            SpanIndex::build(&doc("metadata: {name: shop}\nspec:\n  clusters: [prod]\n", 1));
        index.graft(
            &tenant,
            "spec",
            "spec.tenants[0]",
            &[("metadata.name", "spec.tenants[0].name".into())],
        );
        let cluster = index.value("spec.tenants[0].clusters[0]").unwrap();
        assert_eq!((cluster.file, cluster.start.line), (FileId(1), 3));
        assert_eq!(index.value("spec.tenants[0].name").unwrap().file, FileId(1));
        assert_eq!(index.value("spec.tenants").unwrap().file, FileId(0));
    }
}
