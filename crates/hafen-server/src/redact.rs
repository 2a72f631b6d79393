//! The last line of defence against secret leakage (Argo CD CVE-2025-23216, CVE-2023-25163:
//! secret values in error messages and diff views). The spec should hold references only and
//! the loader rejects plain secret values (SPEC011) — but the diagnostic that rejects one
//! quotes it in its excerpt. So the server collects the values such findings point at, masks
//! them in every document it keeps or records, masks the password part of any URL
//! (`scheme://user:password@host`), and scrubs every answer once more on the way out (raw,
//! HTML-escaped and JSON-escaped forms), the server token included.

use serde_json::Value;

/// Codes whose excerpt quotes a secret value.
const SECRET_CODES: &[&str] = &["SPEC011"];

/// What replaces a secret.
pub(crate) const MASK: &str = "••••••";

/// Values never to send.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Collects the secrets the check findings point at, and masks them in the document.
    pub(crate) fn from_check(doc: &mut Value) -> Redactor {
        let mut redactor = Redactor::default();
        if let Some(list) = doc.get_mut("diagnostics").and_then(Value::as_array_mut) {
            for d in list {
                let secret_code = d
                    .get("code")
                    .and_then(Value::as_str)
                    .is_some_and(|c| SECRET_CODES.contains(&c));
                if !secret_code {
                    continue;
                }
                if let Some(Value::String(excerpt)) = d.get("excerpt") {
                    redactor.add(unquote(excerpt));
                }
                if let Some(obj) = d.as_object_mut() {
                    obj.insert("excerpt".into(), Value::String(MASK.into()));
                }
            }
        }
        redactor.scrub_value(doc);
        redactor
    }

    /// Adds a value to mask (values shorter than 4 characters would mask ordinary words).
    pub(crate) fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.chars().count() >= 4 && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret containing another is masked whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Masks secrets and URL passwords in a string.
    pub(crate) fn scrub_string(&self, text: &mut String) {
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                *text = text.replace(secret.as_str(), MASK);
            }
        }
        if text.contains("://")
            && let Some(masked) = mask_url_passwords(text)
        {
            *text = masked;
        }
    }

    /// Masks every string (and key) in a JSON value.
    pub(crate) fn scrub_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => self.scrub_string(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_value(v)),
            Value::Object(map) => {
                let needs_key_scrub = map.keys().any(|k| {
                    let mut k2 = k.clone();
                    self.scrub_string(&mut k2);
                    &k2 != k
                });
                if needs_key_scrub {
                    let old = std::mem::take(map);
                    for (mut k, mut v) in old {
                        self.scrub_string(&mut k);
                        self.scrub_value(&mut v);
                        map.insert(k, v);
                    }
                } else {
                    map.values_mut().for_each(|v| self.scrub_value(v));
                }
            }
            _ => {}
        }
    }

    /// Scrubs an outgoing body: each secret (plus `extra`, the token) in raw, HTML-escaped
    /// and JSON-escaped form. Returns the new body when something was masked.
    pub(crate) fn scrub_output(&self, body: &str, extra: Option<&str>) -> Option<String> {
        let mut out: Option<String> = None;
        let all = self.secrets.iter().map(String::as_str).chain(extra.filter(|t| !t.is_empty()));
        for secret in all {
            let forms = [
                secret.to_owned(),
                crate::html::esc(secret),
                serde_json::to_string(secret)
                    .map(|s| s.trim_matches('"').to_owned())
                    .unwrap_or_default(),
            ];
            for form in forms.iter().filter(|f| !f.is_empty()) {
                let current = out.as_deref().unwrap_or(body);
                if current.contains(form.as_str()) {
                    out = Some(current.replace(form.as_str(), MASK));
                }
            }
        }
        out
    }
}

fn unquote(excerpt: &str) -> &str {
    let t = excerpt.trim();
    for q in ['"', '\''] {
        if let Some(inner) = t.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    t
}

/// `scheme://user:password@host` → `scheme://user:••••••@host`. None when nothing changed.
fn mask_url_passwords(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || "/?#\"'<>`\\".contains(c))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at_sign) => {
                let userinfo = &authority[..at_sign];
                match userinfo.find(':') {
                    Some(colon) if colon + 1 < userinfo.len() => {
                        out.push_str(&userinfo[..=colon]);
                        out.push_str(MASK);
                        out.push_str(&authority[at_sign..]);
                        changed = true;
                    }
                    _ => out.push_str(authority),
                }
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_url_passwords_only() {
        assert_eq!(
            mask_url_passwords("repo https://deploy:s3cr3t@git.example.eu/x.git and ssh://git@h/x"),
            Some(format!("repo https://deploy:{MASK}@git.example.eu/x.git and ssh://git@h/x"))
        );
        assert_eq!(mask_url_passwords("https://example.eu/a@b"), None);
        assert_eq!(mask_url_passwords("no urls"), None);
        assert_eq!(mask_url_passwords("smtp://u:p@ss@mail"), Some(format!("smtp://u:{MASK}@mail")));
    }

    #[test]
    fn collects_secret_excerpts_and_masks_everywhere() {
        let mut doc = json!({"diagnostics": [
            {"code": "SPEC011", "excerpt": "\"hunter2-value\"", "message": "m"},
            {"code": "NET001", "excerpt": "1450", "message": "echo hunter2-value"},
        ]});
        let r = Redactor::from_check(&mut doc);
        let text = doc.to_string();
        assert!(!text.contains("hunter2-value"), "{text}");
        assert!(text.contains("1450"));
        assert_eq!(r.scrub_output("a hunter2-value b", None), Some(format!("a {MASK} b")));
        assert_eq!(r.scrub_output("tok&lt;x", Some("tok<x")), Some(MASK.to_string()));
        assert_eq!(r.scrub_output("nothing", Some("tok")), None);
    }
}
