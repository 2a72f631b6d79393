//! Credentials recognisable by their value alone, from `data/spec/credential-formats.yaml`:
//! one list, with its sources, for the loader (SPEC011 on environment values and labels) and
//! the rule catalogue (SEC009 on every other string), so the two never disagree about what a
//! GitHub token looks like.

use serde::Deserialize;
use std::sync::OnceLock;

/// The embedded data file.
pub const CREDENTIAL_FORMATS_YAML: &str =
    include_str!("../../../data/spec/credential-formats.yaml");

/// A credential format: a prefix its issuer chose, a minimum length, and optionally a word
/// the value must also contain (PEM blocks).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialFormat {
    /// What the value starts with (`ghp_`).
    pub prefix: String,
    /// A word the value must also contain (`PRIVATE KEY` after `-----BEGIN`).
    #[serde(default)]
    pub contains: Option<String>,
    /// What it is, for messages: `a GitHub personal access token`.
    pub what: String,
    /// Shortest length of a real one (the whole word, prefix included).
    pub min_length: usize,
}

/// The file: provenance (read by the test, so a list without a date and a source cannot be
/// merged) and the formats.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(not(test), allow(dead_code))]
struct FormatsFile {
    source: String,
    date: String,
    formats: Vec<CredentialFormat>,
}

fn parse(text: &str) -> Result<FormatsFile, String> {
    hafen_yaml::data_file("data/spec/credential-formats.yaml", text)
}

/// The embedded formats. A broken data file is caught by this module's test; at run time it
/// degrades to no formats rather than a panic.
pub fn formats() -> &'static [CredentialFormat] {
    static FORMATS: OnceLock<Vec<CredentialFormat>> = OnceLock::new();
    FORMATS.get_or_init(|| parse(CREDENTIAL_FORMATS_YAML).map(|f| f.formats).unwrap_or_default())
}

fn matches(format: &CredentialFormat, text: &str) -> bool {
    text.starts_with(format.prefix.as_str())
        && text.len() >= format.min_length
        && format.contains.as_deref().is_none_or(|w| text.contains(w))
}

/// The credential `value` holds, when its format gives it away: the whole value (a PEM block
/// spans lines), or any word of it (`Bearer ghp_…`, `token=glpat-…`). A known prefix in prose
/// (`AKIA is the prefix of AWS keys`) is too short a word to match.
pub fn credential_format(value: &str) -> Option<&'static CredentialFormat> {
    let value = value.trim();
    let all = formats();
    if let Some(f) = all.iter().find(|f| f.contains.is_some() && matches(f, value)) {
        return Some(f);
    }
    value
        .split(|c: char| c.is_whitespace() || ",;'\"=&?()[]{}<>@:".contains(c))
        .filter(|w| !w.is_empty())
        .find_map(|word| {
            all.iter().find(|f| {
                f.contains.is_none()
                    && matches(f, word)
                    && word.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_loads_and_is_dated() {
        let file = parse(CREDENTIAL_FORMATS_YAML).expect("parses");
        assert!(hafen_catalog::parse_date(&file.date).is_some(), "bad date {}", file.date);
        assert!(file.source.len() > 20, "missing source");
        assert!(file.formats.len() >= 10);
        assert_eq!(formats().len(), file.formats.len());
    }

    #[test]
    fn formats_are_recognised_and_prose_is_not() {
        let what = |v: &str| credential_format(v).map(|f| f.prefix.as_str());
        assert_eq!(what("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), Some("ghp_"));
        assert_eq!(what("Bearer ghp_abcdefghijklmnopqrstuvwxyz0123456789"), Some("ghp_"));
        assert_eq!(what("sk_live_51H8xYzAbCdEfGhIjKlMnOpQr"), Some("sk_live_"));
        assert_eq!(what("AKIAIOSFODNN7EXAMPLE"), Some("AKIA"));
        assert_eq!(what("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg"), Some("-----BEGIN"));
        assert_eq!(what("-----BEGIN CERTIFICATE-----\nMIIEvQIBADANBg"), None);
        assert_eq!(what("AKIA is the prefix of AWS keys"), None);
        assert_eq!(what("ghp_short"), None);
        assert_eq!(what("pk_live_51H8xYzAbCdEfGhIjKlMnOpQr"), None, "publishable keys are public");
    }
}
