//! The output being built: files as YAML documents or text, kustomizations, object helpers and
//! names. Everything is collected in ordered maps so the same platform gives the same bytes.

use hafen_diag::Diagnostic;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The repository being built: file path → bytes. YAML documents are emitted as they are
/// added, so the object trees are freed early and the peak memory stays near the output size.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub(crate) files: BTreeMap<String, String>,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

fn comment(header: &str) -> String {
    let mut out = String::new();
    for line in header.lines() {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

impl Out {
    /// Adds YAML documents to a file, creating it with `header` (as `#` comments) if new.
    pub(crate) fn yaml(&mut self, path: impl Into<String>, header: &str, docs: Vec<Value>) {
        let path = path.into();
        let text = self.files.entry(path).or_default();
        let mut first = text.is_empty();
        if first {
            text.push_str(&comment(header));
        }
        for doc in &docs {
            if !first {
                text.push_str("---\n");
            }
            first = false;
            text.push_str(&hafen_yaml::emit(doc));
        }
    }

    /// Writes a text file.
    pub(crate) fn text(&mut self, path: impl Into<String>, text: String) {
        self.files.insert(path.into(), text);
    }

    /// Writes `dir/kustomization.yaml` listing `resources` (relative to `dir`).
    pub(crate) fn kustomization(&mut self, dir: &str, resources: Vec<String>) {
        self.kustomization_with(dir, resources, Map::new());
    }

    /// Like [`Out::kustomization`] with extra top-level fields (patches, components).
    pub(crate) fn kustomization_with(
        &mut self,
        dir: &str,
        resources: Vec<String>,
        extra: Map<String, Value>,
    ) {
        let mut k = Map::new();
        k.insert("apiVersion".into(), json!("kustomize.config.k8s.io/v1beta1"));
        k.insert("kind".into(), json!("Kustomization"));
        k.insert(
            "resources".into(),
            Value::Array(resources.into_iter().map(Value::String).collect()),
        );
        for (key, value) in extra {
            k.insert(key, value);
        }
        let path = if dir.is_empty() {
            "kustomization.yaml".into()
        } else {
            format!("{dir}/kustomization.yaml")
        };
        self.files.remove(&path);
        self.yaml(path, KUSTOMIZATION_HEADER, vec![Value::Object(k)]);
    }

    /// Takes over another part's files and diagnostics (parts render disjoint paths).
    pub(crate) fn merge(&mut self, other: Out) {
        self.files.extend(other.files);
        self.diagnostics.extend(other.diagnostics);
    }
}

const KUSTOMIZATION_HEADER: &str =
    "Rendered by Hafen; build with `kubectl kustomize` or let Flux / Argo CD build it.";

/// Object metadata: name, namespace (when namespaced) and labels.
pub(crate) fn meta(name: &str, namespace: Option<&str>, labels: &Map<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    if let Some(ns) = namespace {
        m.insert("namespace".into(), json!(ns));
    }
    if !labels.is_empty() {
        m.insert("labels".into(), Value::Object(labels.clone()));
    }
    Value::Object(m)
}

/// Merges label maps, later ones winning.
pub(crate) fn labels(parts: &[&Map<String, Value>]) -> Map<String, Value> {
    let mut out = Map::new();
    for part in parts {
        for (k, v) in part.iter() {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// A label map from pairs.
pub(crate) fn label_map(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect()
}

/// Joins name parts with `-`, keeping the result a DNS label of at most 63 characters: a too
/// long name is cut and suffixed with a hash of the whole, so distinct inputs stay distinct.
pub(crate) fn name(parts: &[&str]) -> String {
    let joined = parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("-");
    if joined.len() <= 63 {
        return joined;
    }
    let hash = format!("{:08x}", fnv1a(joined.as_bytes()) as u32);
    let keep: String = joined.chars().take(63 - 9).collect();
    format!("{}-{hash}", keep.trim_end_matches('-'))
}

/// 64-bit FNV-1a: a stable, dependency-free hash for short content-derived name suffixes.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// A short content hash of a JSON value (for machine template names, which must change when
/// their content changes so that Cluster API rolls the machines).
pub(crate) fn content_hash(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    format!("{:08x}", fnv1a(text.as_bytes()) as u32)
}

/// The lowercase hex SHA-256 of `data`, used for Talos Image Factory schematic ids.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hafen_digest::sha256_hex(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_known_vectors() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let long = vec![b'a'; 1000];
        assert_eq!(
            sha256_hex(&long),
            "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        );
    }

    #[test]
    fn long_names_are_cut_to_a_dns_label_and_stay_distinct() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let n1 = name(&[&a, &b, "x"]);
        let n2 = name(&[&a, &b, "y"]);
        assert!(n1.len() <= 63 && n2.len() <= 63);
        assert_ne!(n1, n2);
        assert!(hafen_spec::is_dns_label(&n1), "{n1}");
        assert_eq!(name(&["prod", "workers"]), "prod-workers");
    }
}
