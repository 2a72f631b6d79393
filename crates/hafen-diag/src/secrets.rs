//! Which keys name a secret, and where their values sit on a line of YAML, so that no
//! renderer quotes a secret in an excerpt whatever finding the line is shown for (a typo'd
//! `token:` field is reported as an unknown field, and its value must still not be printed).
//!
//! The spec loader uses the same key test for its plaintext-secret check, so the two never
//! disagree about what a secret-bearing name is.

/// Words that make a key secret-bearing wherever they occur in it (`dbPassword`, `authtoken`).
const SECRET_WORDS: &[&str] =
    &["password", "passwd", "passphrase", "secret", "token", "credential", "apikey", "privatekey"];

/// Words that, before `key`, make it a secret key (`api_key`, `privateKey`, `ACCESS_KEY`).
const KEY_KINDS: &[&str] =
    &["api", "private", "access", "secret", "signing", "encryption", "master", "client", "auth"];

/// Last words that say the key names something *about* a secret, not the secret itself:
/// `SECRET_STORE: openbao`, `API_KEY_HEADER: X-Api-Key`, `PASSWORD_FILE: /run/secrets/db`.
const ABOUT_WORDS: &[&str] = &[
    "algorithm",
    "audience",
    "backend",
    "count",
    "dir",
    "email",
    "enabled",
    "endpoint",
    "env",
    "expires",
    "expiry",
    "field",
    "file",
    "format",
    "header",
    "host",
    "id",
    "issuer",
    "kind",
    "length",
    "location",
    "max",
    "min",
    "mode",
    "mount",
    "name",
    "param",
    "path",
    "policy",
    "prefix",
    "provider",
    "realm",
    "ref",
    "reference",
    "required",
    "rotation",
    "scope",
    "size",
    "source",
    "store",
    "timeout",
    "ttl",
    "type",
    "uri",
    "url",
    "user",
    "username",
    "var",
    "version",
];

/// Splits `DB_PASSWORD`, `dbPassword`, `api-key.v2` into lowercase words.
fn words(key: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in key.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut word = String::new();
        let mut prev_lower = false;
        for c in part.chars() {
            if c.is_ascii_uppercase() && prev_lower && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            word.push(c.to_ascii_lowercase());
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// True when a key names a secret value: it holds a secret word (`password`, `token`,
/// `secret`, `credential`, `api_key`, ...) and does not end in a word that makes it
/// metadata about a secret (`_STORE`, `_HEADER`, `_FILE`, `Ref`, ...).
pub fn is_secret_key(key: &str) -> bool {
    let words = words(key);
    let Some(last) = words.iter().rposition(|w| {
        SECRET_WORDS.iter().any(|s| w.contains(s))
            || w == "pwd"
            || w == "credentials"
            || (w == "key" || w == "keys")
    }) else {
        return false;
    };
    let is_key_word = |i: usize| matches!(words[i].as_str(), "key" | "keys");
    // A bare `key` (as in `secretRef: {name: db, key: password}`) names a key of a Secret.
    let strong = (0..=last).any(|i| {
        let w = &words[i];
        SECRET_WORDS.iter().any(|s| w.contains(s))
            || w == "pwd"
            || (is_key_word(i) && i > 0 && KEY_KINDS.contains(&words[i - 1].as_str()))
    });
    if !strong {
        return false;
    }
    let final_word = words.last().map(String::as_str).unwrap_or("");
    !(last + 1 < words.len() && ABOUT_WORDS.contains(&final_word))
}

/// Character ranges `[start, end)` of the values on a YAML line whose keys are
/// secret-bearing, in block (`token: abc`) and flow (`{ name: x, token: abc }`) style.
/// Collections as values are not masked; their own keys are looked at instead.
pub fn secret_value_ranges(line: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut depth: usize = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '#' if i == 0 || chars[i - 1].is_whitespace() => break,
            '{' | '[' => {
                depth += 1;
                i += 1;
                continue;
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                i += 1;
                continue;
            }
            _ => {}
        }
        let at_key_start = i == 0 || matches!(chars[i - 1], ' ' | '\t' | '{' | ',' | '[');
        if !at_key_start || !(c.is_alphanumeric() || matches!(c, '_' | '"' | '\'')) {
            i += 1;
            continue;
        }
        // Read a key: quoted, or plain up to `:`.
        let (key, after) = if c == '"' || c == '\'' {
            match chars[i + 1..].iter().position(|&q| q == c) {
                Some(len) => (chars[i + 1..i + 1 + len].iter().collect::<String>(), i + len + 2),
                None => break,
            }
        } else {
            let mut j = i;
            while j < chars.len()
                && (chars[j].is_alphanumeric() || matches!(chars[j], '_' | '-' | '.' | '/'))
            {
                j += 1;
            }
            (chars[i..j].iter().collect::<String>(), j)
        };
        let is_key = chars.get(after) == Some(&':')
            && chars.get(after + 1).is_none_or(|c| c.is_whitespace());
        if !is_key {
            i = after.max(i + 1);
            continue;
        }
        let mut v = after + 1;
        while v < chars.len() && chars[v].is_whitespace() {
            v += 1;
        }
        if !is_secret_key(&key) || v >= chars.len() || matches!(chars[v], '{' | '[' | '#') {
            i = v.max(after + 1);
            continue;
        }
        let end = if chars[v] == '"' || chars[v] == '\'' {
            let quote = chars[v];
            let mut e = v + 1;
            while e < chars.len() && chars[e] != quote {
                if quote == '"' && chars[e] == '\\' {
                    e += 1;
                }
                e += 1;
            }
            (e + 1).min(chars.len())
        } else {
            let mut e = v;
            while e < chars.len() {
                let ch = chars[e];
                if depth > 0 && matches!(ch, ',' | '}' | ']') {
                    break;
                }
                if ch == '#' && chars[e - 1].is_whitespace() {
                    break;
                }
                e += 1;
            }
            while e > v && chars[e - 1].is_whitespace() {
                e -= 1;
            }
            e
        };
        if end > v {
            out.push((v, end));
        }
        i = end.max(v + 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_by_their_words() {
        for key in [
            "DB_PASSWORD",
            "DATABASE_PASSWORD",
            "db_passwd",
            "token",
            "GITHUB_TOKEN",
            "authToken",
            "apiKey",
            "API_KEY",
            "SSH_PRIVATE_KEY",
            "secret_key",
            "SMTP_CREDENTIALS",
            "WEBHOOK_SECRET",
            "PASSWORD_PROD",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "SECRET_STORE",
            "API_KEY_HEADER",
            "PASSWORD_FILE",
            "secretRef",
            "key",
            "name",
            "SSH_PUBLIC_KEY",
            "MONKEY",
            "LOG_LEVEL",
            "TOKEN_TTL",
            "keyboard",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    fn masked(line: &str) -> String {
        let mut chars: Vec<char> = line.chars().collect();
        for (a, b) in secret_value_ranges(line) {
            for c in &mut chars[a..b] {
                *c = '•';
            }
        }
        chars.into_iter().collect()
    }

    #[test]
    fn values_of_secret_keys_are_found_in_block_and_flow_style() {
        assert_eq!(masked("    token: hcloud-abcdef"), "    token: •••••••••••••");
        assert_eq!(
            masked("  - { name: hcloud, type: hetzner-cloud, token: hcloud-abc }"),
            "  - { name: hcloud, type: hetzner-cloud, token: •••••••••• }"
        );
        assert_eq!(masked("password: \"a, b\" # old"), "password: •••••• # old");
        assert_eq!(masked("DB_PASSWORD: hunter2"), "DB_PASSWORD: •••••••");
        let reference = "- { env: DB_PASSWORD, secretRef: { name: shop-db, key: password } }";
        assert_eq!(masked(reference), reference);
        assert_eq!(masked("SECRET_STORE: openbao"), "SECRET_STORE: openbao");
        assert_eq!(masked("credentials:"), "credentials:");
        assert_eq!(masked("url: https://x.example/token: no"), "url: https://x.example/token: no");
    }
}
