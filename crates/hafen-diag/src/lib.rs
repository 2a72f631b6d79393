//! The diagnostic model shared by every Hafen layer, and its renderers.
//!
//! A [`Diagnostic`] carries a stable code, a severity, a message, an optional primary
//! [`Span`] into a file registered in [`Sources`], secondary labels, a help line and notes.
//! Producers (the spec loader, the rule catalogue, the renderer) only build values; the
//! renderers in [`human`], [`json`] and [`sarif`] turn a list of them into text.
//! Nothing here touches the file system or the terminal: colour is a parameter.

pub mod human;
pub mod json;
pub mod sarif;
pub mod secrets;
mod source;

pub use source::{FileId, Pos, SourceFile, Sources, Span};

use std::fmt;

/// How bad a finding is. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Info,
    /// Likely wrong or risky; fails a run only under `--deny`.
    Warning,
    /// Wrong: the platform would break or the input cannot be used.
    Error,
}

impl Severity {
    /// The lowercase word used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses the lowercase word.
    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary location with its own short message.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What this location contributes, e.g. "first defined here".
    pub message: String,
}

/// One finding about the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// Stable code such as `NET001`; see `hafen explain`.
    pub code: &'static str,
    /// Severity after `--deny`/`--allow` adjustments.
    pub severity: Severity,
    /// One sentence naming the exact objects involved, lowercase start, no trailing period.
    pub message: String,
    /// The main location, if the finding has one.
    pub span: Option<Span>,
    /// Short text shown under the primary underline.
    pub span_label: Option<String>,
    /// The spec path of the primary location, e.g. `spec.clusters[0].network.mtu`.
    pub path: Option<String>,
    /// Further locations.
    pub labels: Vec<Label>,
    /// The concrete fix, with the computed value where there is one.
    pub help: Option<String>,
    /// Extra context lines.
    pub notes: Vec<String>,
    /// Set when an in-spec suppression or `--allow` silenced this finding: the reason.
    pub suppressed: Option<String>,
    /// True when the text under the primary span is a secret: every renderer masks it.
    pub redact: bool,
}

impl Diagnostic {
    /// Starts a diagnostic with no location.
    pub fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            span: None,
            span_label: None,
            path: None,
            labels: Vec::new(),
            help: None,
            notes: Vec::new(),
            suppressed: None,
            redact: false,
        }
    }

    /// Shorthand for an error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Error, message)
    }

    /// Shorthand for a warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Warning, message)
    }

    /// Shorthand for an informational finding.
    pub fn info(code: &'static str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, Severity::Info, message)
    }

    /// Sets the primary location.
    pub fn with_span(mut self, span: Option<Span>) -> Diagnostic {
        self.span = span;
        self
    }

    /// Sets the text under the primary underline.
    pub fn with_span_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.span_label = Some(label.into());
        self
    }

    /// Sets the spec path of the primary location.
    pub fn with_path(mut self, path: impl Into<String>) -> Diagnostic {
        self.path = Some(path.into());
        self
    }

    /// Adds a secondary location; ignored when the span is unknown.
    pub fn with_label(mut self, span: Option<Span>, message: impl Into<String>) -> Diagnostic {
        if let Some(span) = span {
            self.labels.push(Label { span, message: message.into() });
        }
        self
    }

    /// Marks the text under the primary span as secret, so no output quotes it.
    pub fn redacted(mut self) -> Diagnostic {
        self.redact = true;
        self
    }

    /// Sets the fix.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// True when this finding counts (not suppressed) and is an error.
    pub fn is_error(&self) -> bool {
        self.suppressed.is_none() && self.severity == Severity::Error
    }
}

/// What replaces a secret in an excerpt.
pub const MASK_CHAR: char = '•';

/// The character ranges (start, end; counted in `char`s) of credentials written into URLs in
/// `text`: the userinfo of `scheme://user:password@host` or of `https://token@host`. A bare
/// user name of another scheme (`ssh://git@host`) is not a secret and is left alone.
pub fn credential_ranges(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 <= chars.len() {
        if chars[i] != ':' || chars.get(i + 1) != Some(&'/') || chars.get(i + 2) != Some(&'/') {
            i += 1;
            continue;
        }
        // The scheme: letters, digits, `+`, `-`, `.` before `://`.
        let mut s = i;
        while s > 0
            && (chars[s - 1].is_ascii_alphanumeric() || matches!(chars[s - 1], '+' | '-' | '.'))
        {
            s -= 1;
        }
        let scheme: String = chars[s..i].iter().collect::<String>().to_ascii_lowercase();
        let start = i + 3;
        // The authority ends at the path, query, fragment, or anything that cannot be in a URL.
        let mut end = start;
        while end < chars.len()
            && !matches!(
                chars[end],
                '/' | '?' | '#' | '\'' | '"' | '`' | '<' | '>' | '{' | '}' | '[' | ']' | ','
            )
            && !chars[end].is_whitespace()
        {
            end += 1;
        }
        if let Some(at) = chars[start..end].iter().rposition(|c| *c == '@') {
            let userinfo = &chars[start..start + at];
            let secret = userinfo.contains(&':')
                || matches!(scheme.as_str(), "http" | "https" | "s3" | "git+https" | "oci");
            if !userinfo.is_empty() && secret {
                out.push((start, start + at));
            }
        }
        i = end.max(i + 3);
    }
    out
}

/// `text` with every credential in a URL replaced by [`MASK_CHAR`], one for one, so columns
/// stay where they were.
pub fn mask_credentials(text: &str) -> std::borrow::Cow<'_, str> {
    let ranges = credential_ranges(text);
    if ranges.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let masked: String = text
        .chars()
        .enumerate()
        .map(|(k, c)| if ranges.iter().any(|(a, b)| (*a..*b).contains(&k)) { MASK_CHAR } else { c })
        .collect();
    std::borrow::Cow::Owned(masked)
}

impl Diagnostic {
    /// True when no output may quote the text under the primary span: the producer said so,
    /// or that text holds a credential in a URL (whatever rule points at it).
    pub fn must_redact(&self, sources: &Sources) -> bool {
        self.redact
            || self
                .span
                .and_then(|span| sources.get(span.file).and_then(|f| f.excerpt(span)))
                .is_some_and(|text| !credential_ranges(&text).is_empty())
    }
}

/// Counts per severity of the diagnostics that are not suppressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Error count.
    pub errors: usize,
    /// Warning count.
    pub warnings: usize,
    /// Info count.
    pub infos: usize,
    /// Suppressed findings, whatever their severity.
    pub suppressed: usize,
}

impl Summary {
    /// Tallies a list.
    pub fn of(diagnostics: &[Diagnostic]) -> Summary {
        let mut summary = Summary::default();
        for diagnostic in diagnostics {
            if diagnostic.suppressed.is_some() {
                summary.suppressed += 1;
                continue;
            }
            match diagnostic.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
        summary
    }
}

/// Sorts diagnostics into a stable order: by file, position, then code and message.
/// Every renderer calls this so output never depends on the order rules ran in.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.span.map(|s| (s.file.0, s.start.line, s.start.col)).unwrap_or((u32::MAX, 0, 0))
        };
        key(a).cmp(&key(b)).then_with(|| a.code.cmp(b.code)).then_with(|| a.message.cmp(&b.message))
    });
}

/// Metadata about a code, used by SARIF and `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    /// The stable code.
    pub code: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line.
    pub summary: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_found_and_masked_one_for_one() {
        let line = "gitops: { repo: 'https://deploy:hunter2xyz@github.com/a/b.git', mirror: https://robot:S3cret@registry.example.eu }";
        let masked = mask_credentials(line);
        assert!(!masked.contains("hunter2xyz") && !masked.contains("S3cret"), "{masked}");
        assert!(!masked.contains("deploy") && !masked.contains("robot"), "{masked}");
        assert_eq!(masked.chars().count(), line.chars().count());
        assert!(masked.contains("@github.com/a/b.git") && masked.contains("@registry.example.eu"));
        // A token as the user of an HTTP URL is a secret; the ssh user `git` is not.
        assert_eq!(credential_ranges("https://ghp_abc@github.com/x").len(), 1);
        assert!(credential_ranges("ssh://git@git.example.eu/platform.git").is_empty());
        assert!(credential_ranges("git@gitlab.com:org/repo.git").is_empty());
        assert_eq!(credential_ranges("s3://AKIA:wJal@b/x").len(), 1);
        assert_eq!(credential_ranges("postgres://app:pw@db:5432/app").len(), 1);
        assert!(credential_ranges("mail ops@example.eu, see https://example.eu/@team").is_empty());
        assert!(matches!(mask_credentials("no urls here"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn a_span_over_a_credential_must_be_redacted_whoever_reports_it() {
        let mut sources = Sources::new();
        let file = sources.add("p.yaml", "repo: https://u:pw@github.com/x\n");
        let span = Span { file, start: Pos { line: 1, col: 7 }, end: Pos { line: 1, col: 32 } };
        let d = Diagnostic::warning("SOV006", "m").with_span(Some(span));
        assert!(d.must_redact(&sources));
        let clean = sources.add("q.yaml", "repo: ssh://git@git.example.eu/x\n");
        let span =
            Span { file: clean, start: Pos { line: 1, col: 7 }, end: Pos { line: 1, col: 34 } };
        assert!(!Diagnostic::warning("X", "m").with_span(Some(span)).must_redact(&sources));
    }
}
