//! YAML in and out, with every node's location kept.
//!
//! [`parse`] turns text into a tree of [`Node`]s, each with a [`Span`], and reports problems
//! (syntax errors, duplicate keys, alias bombs, over-deep nesting) as diagnostics rather than
//! failing. Scalars resolve by the YAML 1.2 core schema, so `yes` and `on` stay strings and
//! `2026-10-01` is a string, not a timestamp. [`emit`] writes canonical, deterministic YAML that
//! both YAML 1.1 and 1.2 readers (kustomize, Flux, Argo CD) read back to the same values.

mod emit;
mod node;
mod parse;
pub mod schema;
pub mod text;

pub use emit::{emit, emit_documents, is_plain_safe};
pub use node::{Entry, Node, ScalarStyle, Value};
pub use parse::{Limits, parse};

/// Reads one of the repository's embedded data files (facts with dates and sources) into its
/// type. The error names the file and the first problem; callers' tests keep the files valid.
pub fn data_file<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
    let mut sources = hafen_diag::Sources::new();
    let file = sources.add(name, text);
    let (docs, diagnostics) = parse(text, file, &Limits::default());
    if let Some(d) = diagnostics.first() {
        return Err(format!("{name}: {}", d.message));
    }
    let doc = docs.first().ok_or_else(|| format!("{name}: empty"))?;
    serde_json::from_value(doc.to_json()).map_err(|e| format!("{name}: {e}"))
}

/// Codes of diagnostics this crate produces.
pub mod codes {
    /// The text is not valid YAML.
    pub const SYNTAX: &str = "YAML001";
    /// A mapping has the same key twice.
    pub const DUPLICATE_KEY: &str = "YAML002";
    /// The input exceeds a size, depth or alias-expansion budget.
    pub const LIMIT: &str = "YAML003";
    /// A YAML feature Hafen does not accept here (custom tags, complex keys, non-finite numbers).
    pub const UNSUPPORTED: &str = "YAML004";
    /// A mapping has a key the schema does not know.
    pub const UNKNOWN_FIELD: &str = "SPEC001";
    /// A value has the wrong type.
    pub const WRONG_TYPE: &str = "SPEC002";
    /// A required key is missing.
    pub const MISSING_FIELD: &str = "SPEC003";
    /// A value is of the right type but not allowed (not in the list, out of range).
    pub const INVALID_VALUE: &str = "SPEC004";
    /// A string holds a control character ([`crate::text`]); registered by `hafen-spec`.
    pub const CONTROL_CHARACTER: &str = "SPEC012";
}

/// Metadata for the codes above.
pub const CODES: &[hafen_diag::CodeInfo] = &[
    hafen_diag::CodeInfo {
        code: codes::SYNTAX,
        severity: hafen_diag::Severity::Error,
        summary: "the file is not valid YAML",
    },
    hafen_diag::CodeInfo {
        code: codes::DUPLICATE_KEY,
        severity: hafen_diag::Severity::Error,
        summary: "a mapping repeats a key; only one value can be meant",
    },
    hafen_diag::CodeInfo {
        code: codes::LIMIT,
        severity: hafen_diag::Severity::Error,
        summary: "the input exceeds a size, nesting or alias-expansion budget",
    },
    hafen_diag::CodeInfo {
        code: codes::UNSUPPORTED,
        severity: hafen_diag::Severity::Error,
        summary: "a YAML feature that a platform spec cannot use (custom tags, complex keys)",
    },
    hafen_diag::CodeInfo {
        code: codes::UNKNOWN_FIELD,
        severity: hafen_diag::Severity::Error,
        summary: "a key that the schema does not define (often a typo)",
    },
    hafen_diag::CodeInfo {
        code: codes::WRONG_TYPE,
        severity: hafen_diag::Severity::Error,
        summary: "a value of the wrong type (text where a number belongs, a list where a mapping belongs)",
    },
    hafen_diag::CodeInfo {
        code: codes::MISSING_FIELD,
        severity: hafen_diag::Severity::Error,
        summary: "a required key is missing",
    },
    hafen_diag::CodeInfo {
        code: codes::INVALID_VALUE,
        severity: hafen_diag::Severity::Error,
        summary: "a value outside the allowed set or range",
    },
];
