//! The last line of defence before anything is written: no secret value may land in the
//! rendered repository. The spec holds only references; this scan looks at every rendered file
//! for credentials in URLs, secret-looking values next to secret-sounding keys, private keys,
//! and `kind: Secret` objects whose data is not SOPS-encrypted. A finding fails the render with
//! a diagnostic located at the spec value it came from, when that can be traced.

use crate::{Repo, codes};
use hafen_diag::Diagnostic;
use hafen_spec::LoadedPlatform;

/// One suspicious piece of text in a rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What was found.
    pub what: String,
    /// The suspicious text, with the secret part masked.
    pub masked: String,
}

/// True for `scheme://user:password@host` (a password in the user-info part).
pub fn url_with_password(text: &str) -> bool {
    // A password in a URL needs an `@`; most lines have none, and this runs for every line.
    if !text.contains('@') {
        return false;
    }
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let after = &rest[pos + 3..];
        let authority = after.split(['/', '?', '#', ' ', '"', '\'']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
            && !password.is_empty()
            && !password.starts_with("${")
        {
            return true;
        }
        rest = after;
    }
    false
}

const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "ACCESS_KEY",
];

/// A `key: value` or `KEY=value` line whose key sounds secret and whose value looks like one
/// (not a reference, a name, or a template).
fn secret_word(key: &str) -> bool {
    let key = key.as_bytes();
    SECRET_WORDS.iter().any(|w| {
        let w = w.as_bytes();
        key.len() >= w.len()
            && key.windows(w.len()).any(|win| {
                win.iter()
                    .zip(w)
                    .all(|(a, b)| a.to_ascii_uppercase() == *b || (*a == b'-' && *b == b'_'))
            })
    })
}

fn secret_assignment(line: &str) -> Option<String> {
    let trimmed = line.trim_start().trim_start_matches("- ");
    let (key, value) = split_key(trimmed).or_else(|| trimmed.split_once('='))?;
    secret_value(key, value)
}

/// `key: value` split at the first `: `, as `split_once(": ")` does, without setting up a
/// substring search for every rendered line.
fn split_key(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(|&b| b == b':') {
        let colon = from + at;
        if bytes.get(colon + 1) == Some(&b' ') {
            return Some((&line[..colon], &line[colon + 2..]));
        }
        from = colon + 1;
    }
    None
}

/// The key when `key` sounds secret and `value` looks like a secret rather than a reference,
/// a name or a template.
fn secret_value(key: &str, value: &str) -> Option<String> {
    if !secret_word(key.trim().trim_matches('"')) {
        return None;
    }
    let value = value.trim().trim_matches('"');
    let harmless = value.is_empty()
        || value.len() < 12
        || value.starts_with("${")
        || value.starts_with("ENC[")
        || value.starts_with("{{")
        || value.contains("{{ .")
        || value.contains(' ')
        || value.starts_with('<')
        || value.contains("://")
        || value.contains('/')
        || value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'.' || b.is_ascii_digit());
    if harmless {
        return None;
    }
    // Mixed-case letters with digits, or long base64/hex: the shape of a generated secret.
    let has_upper = value.bytes().any(|b| b.is_ascii_uppercase());
    let has_lower = value.bytes().any(|b| b.is_ascii_lowercase());
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    ((has_upper && has_lower && has_digit) || value.len() >= 32).then(|| key.trim().to_owned())
}

fn mask(text: &str) -> String {
    let keep: String = text.chars().take(6).collect();
    format!("{keep}…")
}

/// Every suspicious text in the rendered files.
pub fn findings(repo: &Repo) -> Vec<Finding> {
    let files: Vec<(&String, &String)> = repo.files.iter().collect();
    let (left, right) = files.split_at(files.len().div_ceil(2));
    // Two halves on two threads; joined in order, so the result is the same either way.
    let (mut a, b) = std::thread::scope(|scope| {
        let handle = scope.spawn(|| findings_in(right));
        let a = findings_in(left);
        let b = handle.join().unwrap_or_else(|_| {
            vec![Finding {
                path: String::new(),
                line: 0,
                what: "a scan that could not finish".into(),
                masked: String::new(),
            }]
        });
        (a, b)
    });
    a.extend(b);
    a
}

fn findings_in(files: &[(&String, &String)]) -> Vec<Finding> {
    let mut out = Vec::new();
    for (path, content) in files {
        let path: &String = path;
        let mut secret_doc: Option<usize> = None;
        let mut sops_doc = false;
        let mut data_seen = false;
        // Kubernetes writes variables as `- name: X` followed by `value: Y`.
        let mut last_name: Option<&str> = None;
        for (i, line) in content.lines().enumerate() {
            let n = i + 1;
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') {
                continue;
            }
            if let Some(value) = trimmed.strip_prefix("value: ")
                && let Some(name) = last_name
                && let Some(key) = secret_value(name, value)
            {
                out.push(Finding {
                    path: path.clone(),
                    line: n,
                    what: format!("a secret-looking value for `{key}`"),
                    masked: mask(trimmed),
                });
            }
            last_name = trimmed.strip_prefix("- name: ").or_else(|| trimmed.strip_prefix("name: "));
            if line == "---" {
                if let Some(start) = secret_doc
                    && data_seen
                    && !sops_doc
                {
                    out.push(Finding {
                        path: path.clone(),
                        line: start,
                        what: "a Secret whose data is not SOPS-encrypted".into(),
                        masked: "kind: Secret".into(),
                    });
                }
                secret_doc = None;
                sops_doc = false;
                data_seen = false;
                continue;
            }
            if line == "kind: Secret" {
                secret_doc = Some(n);
            }
            if line.starts_with("sops:") {
                sops_doc = true;
            }
            if line.starts_with("data:") || line.starts_with("stringData:") {
                data_seen = true;
            }
            if url_with_password(line) {
                out.push(Finding {
                    path: path.clone(),
                    line: n,
                    what: "a password in a URL".into(),
                    masked: mask(line.trim()),
                });
            }
            // `K` first: a cheap byte search that every private-key line passes.
            if line.contains('K') && line.contains("-----BEGIN") && line.contains("PRIVATE KEY") {
                out.push(Finding {
                    path: path.clone(),
                    line: n,
                    what: "a private key".into(),
                    masked: "-----BEGIN … PRIVATE KEY".into(),
                });
            }
            if let Some(key) = secret_assignment(line) {
                out.push(Finding {
                    path: path.clone(),
                    line: n,
                    what: format!("a secret-looking value for `{key}`"),
                    masked: mask(line.trim()),
                });
            }
        }
        if let Some(start) = secret_doc
            && data_seen
            && !sops_doc
        {
            out.push(Finding {
                path: path.clone(),
                line: start,
                what: "a Secret whose data is not SOPS-encrypted".into(),
                masked: "kind: Secret".into(),
            });
        }
    }
    out
}

/// Spec values a finding could have come from, for locating the diagnostic.
fn spec_sources(loaded: &LoadedPlatform) -> Vec<(String, String)> {
    let spec = &loaded.platform.spec;
    let mut out = vec![("spec.gitops.repo".to_owned(), spec.gitops.repo.clone())];
    for (i, c) in spec.clusters.iter().enumerate() {
        if let Some(m) = &c.registry_mirror {
            out.push((format!("spec.clusters[{i}].registryMirror"), m.clone()));
        }
        if let Some(b) = &c.backups {
            out.push((format!("spec.clusters[{i}].backups.target"), b.target.clone()));
            if let Some(e) = &b.endpoint {
                out.push((format!("spec.clusters[{i}].backups.endpoint"), e.clone()));
            }
        }
        if let Some(a) = &c.secrets.address {
            out.push((format!("spec.clusters[{i}].secrets.address"), a.clone()));
        }
        if let Some(d) = &c.dns
            && let Some(s) = &d.server
        {
            out.push((format!("spec.clusters[{i}].dns.server"), s.clone()));
        }
        if let Some(e) = &c.discovery.endpoint {
            out.push((format!("spec.clusters[{i}].discovery.endpoint"), e.clone()));
        }
        if let Some(a) = c.certificates.as_ref().and_then(|x| x.acme_server.clone()) {
            out.push((format!("spec.clusters[{i}].certificates.acmeServer"), a));
        }
    }
    for (i, t) in spec.tenants.iter().enumerate() {
        for (j, a) in t.apps.iter().enumerate() {
            out.push((format!("spec.tenants[{i}].apps[{j}].image"), a.image.clone()));
            for (k, v) in &a.env {
                out.push((format!("spec.tenants[{i}].apps[{j}].env.{k}"), format!("{k}: {v}")));
                out.push((format!("spec.tenants[{i}].apps[{j}].env.{k}"), v.clone()));
            }
        }
    }
    out
}

/// Scans the rendered repository. Findings that come from one spec value become one error
/// located at that value; the others one error per file.
pub fn scan(loaded: &LoadedPlatform, repo: &Repo) -> Vec<Diagnostic> {
    let sources = spec_sources(loaded);
    // (origin spec path or file path) → (what, first file, first line, masked, count)
    let mut groups: Vec<(Option<String>, String, Finding, usize)> = Vec::new();
    for f in findings(repo) {
        let line_text = repo
            .files
            .get(&f.path)
            .and_then(|c| c.lines().nth(f.line.saturating_sub(1)))
            .unwrap_or_default();
        let origin = sources
            .iter()
            .find(|(_, v)| v.len() >= 4 && line_text.contains(v.as_str()))
            .map(|(p, _)| p.clone());
        let key = origin.clone().unwrap_or_else(|| f.path.clone());
        match groups.iter_mut().find(|(o, k, g, _)| *o == origin && *k == key && g.what == f.what) {
            Some(group) => group.3 += 1,
            None => groups.push((origin, key, f, 1)),
        }
    }
    groups
        .into_iter()
        .map(|(origin, _, f, count)| {
            let place = if count > 1 {
                format!("`{}` line {} and {} more places", f.path, f.line, count - 1)
            } else {
                format!("`{}` line {}", f.path, f.line)
            };
            let mut d = Diagnostic::error(
                codes::SECRET_IN_OUTPUT,
                format!("{} would be written to {place} (`{}`)", f.what, f.masked),
            )
            .with_help("keep only a reference in the spec (`secretRef: {name: …, key: …}`) and the value in OpenBao or a SOPS file")
            .with_note("nothing was written: a value in the rendered repository ends up in Git history")
            .redacted();
            if let Some(path) = origin {
                d = d
                    .with_span(loaded.spans.nearest(&path))
                    .with_path(path)
                    .with_span_label("this value would be committed");
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[(&str, &str)]) -> Repo {
        let mut r = Repo::default();
        for (p, c) in files {
            r.insert((*p).into(), (*c).into());
        }
        r
    }

    #[test]
    fn passwords_in_urls_are_found_and_plain_urls_are_not() {
        assert!(url_with_password("url: https://deploy:s3cr3tT0ken@git.example.eu/x.git"));
        assert!(url_with_password("  - --server=postgres://app:hunter2@db:5432/app"));
        assert!(!url_with_password("url: ssh://git@git.example.eu/platform/beach.git"));
        assert!(!url_with_password("url: https://registry.example.eu"));
        assert!(!url_with_password("host: https://[2001:db8::1]:8443/x"));
        assert!(!url_with_password("url: https://user:${TOKEN}@example.eu"));
    }

    #[test]
    fn split_key_agrees_with_split_once() {
        for line in ["a: b", "a:b: c", "url: https://x:1/y", ":", ": ", "no colon", "k:  v", "é: ü"]
        {
            assert_eq!(split_key(line), line.split_once(": "), "{line}");
        }
    }

    #[test]
    fn secret_values_are_found_and_references_are_not() {
        let r = repo(&[
            ("a.yaml", "env:\n- name: X\n  value: y\nAPI_TOKEN: Zk39sLqP0aXw8RtY\n"),
            (
                "b.yaml",
                "secretKeyRef:\n  name: app-secrets\n  key: SMTP_PASSWORD\npassword: app-db-app\n",
            ),
            ("c.yaml", "kind: Secret\nmetadata:\n  name: x\ndata:\n  token: aGVsbG8=\n"),
            (
                "d.yaml",
                "kind: Secret\nmetadata:\n  name: x\ndata:\n  token: ENC[AES256_GCM,data:abc]\nsops:\n  age: []\n",
            ),
            ("e.yaml", "key: |\n  -----BEGIN OPENSSH PRIVATE KEY-----\n"),
        ]);
        let f = findings(&r);
        let paths: Vec<&str> = f.iter().map(|x| x.path.as_str()).collect();
        assert!(paths.contains(&"a.yaml"), "{f:?}");
        assert!(!paths.contains(&"b.yaml"), "{f:?}");
        assert!(paths.contains(&"c.yaml"), "{f:?}");
        assert!(!paths.contains(&"d.yaml"), "{f:?}");
        assert!(paths.contains(&"e.yaml"), "{f:?}");
        assert!(f.iter().all(|x| !x.masked.contains("Zk39sLqP0aXw8RtY")), "values are masked");
    }
}
