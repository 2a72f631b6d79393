//! Recognising secret values written into the spec (SPEC011): by the shape of well-known
//! credentials, whatever the variable is called, and by a secret-bearing name with a value
//! that could be one. Public material that looks random (digests, UUIDs, `age1…` recipients,
//! SSH public keys, certificates) and values that only describe a secret (a store name, a
//! header name, a file path, a placeholder) are not secrets.

use crate::codes;
use crate::{Platform, SpanIndex};
use hafen_diag::Diagnostic;
use hafen_diag::secrets::is_secret_key;
use std::collections::BTreeMap;

/// Finds secret values in plain env and labels, reports each (SPEC011, located, masked) and
/// removes it from `platform`, so nothing downstream trusts or uses it. Reporting does not
/// stop loading: every other finding is still reported in the same run, while `plan` and
/// `render` refuse a spec with this error.
pub(crate) fn take_secrets(platform: &mut Platform, spans: &SpanIndex) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut report = |path: String, message: String, reason: &str, help: String| {
        out.push(
            Diagnostic::error(codes::PLAINTEXT_SECRET, message)
                .with_span(spans.nearest(&path))
                .with_path(path)
                .with_span_label("this would be committed to Git in plain text")
                .redacted()
                .with_help(help)
                .with_note(format!("{reason}; Hafen does not use it")),
        );
    };
    let scan_labels = |labels: &mut BTreeMap<String, String>,
                       at: &str,
                       whose: &str,
                       report: &mut dyn FnMut(String, String, &str, String)| {
        labels.retain(|key, value| {
                let Some(reason) = secret_reason(key, value) else { return true };
                report(
                    format!("{at}.{key}"),
                    format!("label `{key}` of {whose} holds a secret value"),
                    &reason,
                    "labels are public metadata in every cluster; remove the value and keep secrets in OpenBao or a SOPS file".into(),
                );
                false
            });
    };
    let name = platform.metadata.name.clone();
    scan_labels(
        &mut platform.metadata.labels,
        "metadata.labels",
        &format!("platform `{name}`"),
        &mut report,
    );
    for (i, cluster) in platform.spec.clusters.iter_mut().enumerate() {
        for (j, pool) in cluster.node_pools.iter_mut().enumerate() {
            let whose = format!("node pool `{}/{}`", cluster.name, pool.name);
            scan_labels(
                &mut pool.labels,
                &format!("spec.clusters[{i}].nodePools[{j}].labels"),
                &whose,
                &mut report,
            );
        }
    }
    for (i, tenant) in platform.spec.tenants.iter_mut().enumerate() {
        for (j, app) in tenant.apps.iter_mut().enumerate() {
            let app_name = app.name.clone();
            app.env.retain(|key, value| {
                let Some(reason) = secret_reason(key, value) else { return true };
                report(
                    format!("spec.tenants[{i}].apps[{j}].env.{key}"),
                    format!("app `{app_name}` has a secret value in plain environment variable `{key}`"),
                    &reason,
                    format!("move it to `secrets:` as `{{env: {key}, secretRef: {{name: …, key: …}}}}` and keep the value in OpenBao or a SOPS file"),
                );
                false
            });
        }
    }
    out
}

/// Why `value`, written under `key`, looks like a secret (`the value looks like a GitHub
/// token`); `None` when it does not.
pub(crate) fn secret_reason(key: &str, value: &str) -> Option<String> {
    let value = value.trim();
    if let Some(reason) = credential_shape(value) {
        return Some(reason);
    }
    (is_secret_key(key) && could_be_secret(value))
        .then(|| "its name says it holds a secret, and the value is not a reference".to_owned())
}

/// Well-known credential formats, anywhere in the value: the issuers' prefixes
/// (`crate::credentials`, shared with SEC009), URLs with a password, JSON Web Tokens, and long
/// random-looking words.
fn credential_shape(value: &str) -> Option<String> {
    if let Some(format) = crate::credentials::credential_format(value) {
        return Some(format!("the value looks like {}", format.what));
    }
    if url_with_password(value) {
        return Some("the value looks like a URL with a password".to_owned());
    }
    // Public by design: SSH public keys, certificates, and Stripe's publishable keys, which
    // are meant to be shipped to browsers.
    let public_key = ["ssh-", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-", "pk_live_", "pk_test_"]
        .iter()
        .any(|p| value.starts_with(p))
        || value.contains("-----BEGIN CERTIFICATE")
        || value.contains("-----BEGIN PUBLIC KEY");
    for word in value
        .split(|c: char| c.is_whitespace() || ",;'\"=&?()[]{}<>@:".contains(c))
        .filter(|w| !w.is_empty())
    {
        if json_web_token(word) {
            return Some("the value looks like a JSON Web Token".to_owned());
        }
        if !public_key && random_looking(word) {
            return Some("the value looks like a long random token".to_owned());
        }
    }
    None
}

/// `header.payload.signature`, each base64url, header and payload JSON objects (`eyJ`).
fn json_web_token(word: &str) -> bool {
    let part = |p: &str| {
        p.len() >= 4 && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| part(p))
}

/// A long word of base64/base64url characters that mixes upper case, lower case and digits
/// like random data does. Pure hex (hashes, digests, UUIDs) and single-case words
/// (`age1…`, DNS names, identifiers) never match; neither does camel case, whose capitals
/// only start words.
fn random_looking(word: &str) -> bool {
    let word = word.trim_end_matches('=');
    if word.len() < 32 || word.starts_with("AAAA") {
        return false;
    }
    if !word.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_')) {
        return false;
    }
    if word.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return false;
    }
    let upper = word.chars().filter(char::is_ascii_uppercase).count();
    let lower = word.chars().filter(char::is_ascii_lowercase).count();
    let digits = word.chars().filter(char::is_ascii_digit).count();
    let letters = upper + lower;
    if letters == 0 || digits < 2 {
        return false;
    }
    let upper_share = upper as f64 / letters as f64;
    (0.25..=0.75).contains(&upper_share) && shannon_entropy(word) >= 4.0
}

/// Bits per character.
fn shannon_entropy(word: &str) -> f64 {
    let mut counts = [0u32; 128];
    for b in word.bytes() {
        counts[usize::from(b & 0x7f)] += 1;
    }
    let n = word.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

fn url_with_password(value: &str) -> bool {
    value.split_once("://").is_some_and(|(_, rest)| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        authority.rsplit_once('@').is_some_and(|(userinfo, _)| {
            userinfo
                .split_once(':')
                .is_some_and(|(_, password)| !password.is_empty() && !is_placeholder(password))
        })
    })
}

fn is_placeholder(value: &str) -> bool {
    (value.starts_with("${") || value.starts_with("$(") || value.starts_with("{{"))
        || (value.starts_with('$')
            && value.len() > 1
            && value[1..].chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        || (value.starts_with('<') && value.ends_with('>'))
}

/// Values that cannot be a secret even under a secret-bearing name.
fn could_be_secret(value: &str) -> bool {
    const WORDS: &[&str] = &[
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "none",
        "null",
        "enabled",
        "disabled",
        "required",
        "optional",
        "auto",
        "default",
        "bearer",
        "basic",
        "authorization",
        "openbao",
        "vault",
        "sops",
        "kubernetes",
        "external-secrets",
        "file",
        "env",
    ];
    if value.chars().count() < 6 || is_placeholder(value) {
        return false;
    }
    if WORDS.contains(&value.to_ascii_lowercase().as_str()) {
        return false;
    }
    // A mounted file or a folder, not the value itself.
    if value.starts_with('/') || value.starts_with("./") {
        return false;
    }
    // A URL without credentials (those are caught by shape).
    if value.contains("://") {
        return false;
    }
    // An HTTP header name such as `X-Api-Key`.
    let header = value.split('-').count() >= 2
        && value.split('-').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && part.chars().all(|c| c.is_ascii_alphabetic())
        });
    !header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_shapes_are_secrets_whatever_the_name() {
        for (key, value) in [
            ("TLS_KEY_PEM", "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
            ("SSH", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA"),
            ("PAYMENT", "sk_live_51H8xYzAbCdEfGhIjKlMnOpQr"),
            ("PAYMENT", "rk_live_51H8xYzAbCdEfGhIjKlMnOpQr"),
            ("GH", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            ("GH", "gho_abcdefghijklmnopqrstuvwxyz0123456789"),
            ("GH", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
            ("GL", "glpat-abcdefghij0123456789"),
            ("SLACK", "xoxb-1234567890-abcdefghij"),
            ("AWS", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AUTH",
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            ),
            ("HCLOUD", "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz01"),
            ("AWS_SECRET_ACCESS", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ("DATABASE_URL", "postgres://app:S3cretPass@db:5432/app"),
            ("AGE", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"),
        ] {
            assert!(secret_reason(key, value).is_some(), "{key}: {value}");
        }
    }

    #[test]
    fn public_or_descriptive_values_are_not_secrets() {
        for (key, value) in [
            (
                "IMAGE_DIGEST",
                "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            (
                "IMAGE",
                "registry.example.eu/shop/web@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            ),
            ("GIT_COMMIT", "3f786850e387550fdab836ed7e6dc881de23001b"),
            ("STRIPE_PUBLISHABLE", "pk_live_51H8xYzAbCdEfGhIjKlMnOpQr"),
            ("REQUEST_ID", "123e4567-e89b-12d3-a456-426614174000"),
            ("AGE_RECIPIENT", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"),
            (
                "SSH_PUBLIC_KEY",
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGbI1rlO9Ip8FSYsh4R8F5NzN1lTn5wFqKk5p0D1j2Xk ops@example.eu",
            ),
            ("UPSTREAM", "https://api.example.eu/v1/items"),
            ("SECRET_STORE", "openbao"),
            ("API_KEY_HEADER", "X-Api-Key"),
            ("AUTH_HEADER_NAME", "Authorization"),
            ("DB_PASSWORD_FILE", "/run/secrets/db-password"),
            ("DB_PASSWORD", "${DB_PASSWORD}"),
            ("TOKEN", "true"),
            ("LOG_LEVEL", "info"),
            ("SERVICE_CLASS", "MyService2ConnectionPoolMaxIdleTimeout"),
            ("DATABASE_URL", "postgres://app:${DB_PASSWORD}@db:5432/app"),
            ("DATABASE_URL", "postgres://db.example.eu:5432/app"),
        ] {
            assert_eq!(secret_reason(key, value), None, "{key}: {value}");
        }
    }

    #[test]
    fn a_secret_name_still_flags_a_plain_password() {
        assert!(secret_reason("DATABASE_PASSWORD", "hunter2").is_some());
        assert!(secret_reason("db_passwd", "hunter2hunter2").is_some());
        assert!(secret_reason("SMTP_CREDENTIALS", "user:pass").is_some());
        assert_eq!(secret_reason("DATABASE_PASSWORD", "abc"), None, "too short to be one");
    }
}
