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

/// The lowercase hex SHA-256 of `data` (FIPS 180-4), used for Talos Image Factory schematic ids.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for chunk in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh.wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *slot = slot.wrapping_add(v);
        }
    }
    h.iter().map(|v| format!("{v:08x}")).collect()
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
