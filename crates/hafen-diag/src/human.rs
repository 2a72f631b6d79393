//! Human-readable rendering in the style of compiler errors, with colour only on request.
//!
//! Every piece of text printed here (messages, labels, help, notes, file names, excerpts) may
//! come from the spec, so control characters are escaped (`\u{1b}`): a spec must not be able
//! to move the cursor, retitle the terminal or split a header line. Values of secret-bearing
//! keys are masked in every excerpt, whatever the finding.

use crate::{Diagnostic, Severity, Sources, Span, mask_credentials};
use std::fmt::Write;

/// Terminal styling; all empty when colour is off.
struct Style {
    bold: &'static str,
    reset: &'static str,
    gutter: &'static str,
    note: &'static str,
}

fn severity_colour(severity: Severity, color: bool) -> &'static str {
    if !color {
        return "";
    }
    match severity {
        Severity::Error => "\x1b[1;31m",
        Severity::Warning => "\x1b[1;33m",
        Severity::Info => "\x1b[1;36m",
    }
}

/// Renders every diagnostic, separated by blank lines. `color` adds ANSI escapes.
pub fn render(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    // A secret one finding points at stays masked in every other finding that quotes its line.
    let secrets: Vec<Span> =
        diagnostics.iter().filter(|d| d.must_redact(sources)).filter_map(|d| d.span).collect();
    let mut out = String::new();
    for (idx, diagnostic) in diagnostics.iter().enumerate() {
        if idx > 0 {
            out.push('\n');
        }
        render_with(&mut out, diagnostic, sources, color, &secrets);
    }
    out
}

/// Renders one diagnostic.
pub fn render_one(out: &mut String, d: &Diagnostic, sources: &Sources, color: bool) {
    let secrets: Vec<Span> = d.span.filter(|_| d.must_redact(sources)).into_iter().collect();
    render_with(out, d, sources, color, &secrets);
}

fn render_with(out: &mut String, d: &Diagnostic, sources: &Sources, color: bool, secrets: &[Span]) {
    let style = if color {
        Style { bold: "\x1b[1m", reset: "\x1b[0m", gutter: "\x1b[1;34m", note: "\x1b[1m" }
    } else {
        Style { bold: "", reset: "", gutter: "", note: "" }
    };
    let sev = severity_colour(d.severity, color);
    let suppressed = if d.suppressed.is_some() { " (suppressed)" } else { "" };
    let _ = writeln!(
        out,
        "{sev}{}[{}]{}{}{}: {}{}",
        d.severity,
        escape(d.code),
        style.reset,
        suppressed,
        style.bold,
        escape(&mask_credentials(&d.message)),
        style.reset
    );
    let width = gutter_width(d);
    let pad = " ".repeat(width);
    let bar_pad = " ".repeat(width + 1);
    if let Some(span) = d.span {
        let _ = writeln!(
            out,
            "{pad}{}-->{} {}:{}:{}",
            style.gutter,
            style.reset,
            escape(sources.name(span.file)),
            span.start.line,
            span.start.col
        );
        let redact = d.must_redact(sources);
        let label = d.span_label.as_deref();
        snippet(out, sources, span, label, '^', sev, &style, width, redact, secrets);
    } else if let Some(path) = &d.path {
        let _ = writeln!(out, "{pad}{}-->{} {}", style.gutter, style.reset, escape(path));
    }
    for label in &d.labels {
        let _ = writeln!(
            out,
            "{pad}{}:::{} {}:{}:{}",
            style.gutter,
            style.reset,
            escape(sources.name(label.span.file)),
            label.span.start.line,
            label.span.start.col
        );
        let colour = if color { "\x1b[1;34m" } else { "" };
        let message = mask_credentials(&label.message);
        snippet(
            out,
            sources,
            label.span,
            Some(&message),
            '-',
            colour,
            &style,
            width,
            false,
            secrets,
        );
    }
    if let Some(help) = &d.help {
        let _ = writeln!(
            out,
            "{bar_pad}{}={} {}help{}: {}",
            style.gutter,
            style.reset,
            style.note,
            style.reset,
            escape(&mask_credentials(help))
        );
    }
    for note in &d.notes {
        let _ = writeln!(
            out,
            "{bar_pad}{}={} {}note{}: {}",
            style.gutter,
            style.reset,
            style.note,
            style.reset,
            escape(&mask_credentials(note))
        );
    }
    if let Some(reason) = &d.suppressed {
        let _ = writeln!(
            out,
            "{bar_pad}{}={} {}suppressed{}: {}",
            style.gutter,
            style.reset,
            style.note,
            style.reset,
            escape(reason)
        );
    }
}

fn gutter_width(d: &Diagnostic) -> usize {
    let max_line = d
        .span
        .iter()
        .chain(d.labels.iter().map(|l| &l.span))
        .map(|s| s.start.line)
        .max()
        .unwrap_or(1);
    max_line.to_string().len()
}

#[allow(clippy::too_many_arguments)]
fn snippet(
    out: &mut String,
    sources: &Sources,
    span: Span,
    label: Option<&str>,
    marker: char,
    colour: &str,
    style: &Style,
    width: usize,
    redact: bool,
    secrets: &[Span],
) {
    let Some(file) = sources.get(span.file) else { return };
    let Some(line) = file.line(span.start.line) else { return };
    let pad = " ".repeat(width + 1);
    let line_no = span.start.line.to_string();
    // Credentials in URLs are masked wherever they stand on the line, not only under the span,
    // and so is the text under any other finding's secret on this line.
    let mut chars: Vec<char> =
        mask_credentials(line).chars().map(|c| if c == '\t' { ' ' } else { c }).collect();
    for secret in secrets.iter().filter(|s| s.file == span.file && s.start.line == span.start.line)
    {
        let from = (secret.start.col as usize).saturating_sub(1);
        let to = if secret.end.line == secret.start.line {
            (secret.end.col as usize).saturating_sub(1)
        } else {
            chars.len()
        };
        for ch in chars.iter_mut().take(to).skip(from) {
            *ch = crate::MASK_CHAR;
        }
    }
    let start = (span.start.col as usize).saturating_sub(1).min(chars.len());
    let end = if span.end.line == span.start.line {
        (span.end.col as usize).saturating_sub(1)
    } else {
        chars.len()
    };
    if redact {
        for ch in chars.iter_mut().take(end.min(line.chars().count())).skip(start) {
            *ch = crate::MASK_CHAR;
        }
    }
    for (a, b) in crate::secrets::secret_value_ranges(line) {
        for ch in chars.iter_mut().take(b).skip(a) {
            *ch = crate::MASK_CHAR;
        }
    }
    // Very long lines (minified or hostile input) are shown as a window around the span.
    let (from, to) = if chars.len() > MAX_LINE {
        let from = start.saturating_sub(MAX_LINE / 3);
        (from, (from + MAX_LINE).min(chars.len()))
    } else {
        (0, chars.len())
    };
    // Escapes widen a character, so the underline is placed by the shown width.
    let pieces: Vec<String> = chars[from..to].iter().map(|&c| escape_char(c)).collect();
    let width_of = |range: &[String]| range.iter().map(|p| p.chars().count()).sum::<usize>();
    let mut shown: String = pieces.concat();
    let mut offset = width_of(&pieces[..start - from]);
    if from > 0 {
        shown.insert(0, '…');
        offset += 1;
    }
    if to < chars.len() {
        shown.push('…');
    }
    let _ = writeln!(out, "{pad}{}|{}", style.gutter, style.reset);
    let _ = writeln!(
        out,
        "{}{line_no}{} |{} {shown}",
        style.gutter,
        " ".repeat(width - line_no.len()),
        style.reset
    );
    let covered = start.min(to)..end.min(to).max(start.min(to));
    let len = width_of(&pieces[covered.start - from..covered.end - from]).max(1);
    let underline: String = std::iter::repeat_n(marker, len).collect();
    let label = label.map(|l| format!(" {}", escape(l))).unwrap_or_default();
    let reset = if colour.is_empty() { "" } else { style.reset };
    let _ = writeln!(
        out,
        "{pad}{}|{} {}{colour}{underline}{label}{reset}",
        style.gutter,
        style.reset,
        " ".repeat(offset)
    );
}

/// True for characters a terminal acts on instead of showing: C0 controls, DEL, C1 controls,
/// and the bidirectional overrides that make text read differently from what it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape_char(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        c if is_unsafe(c) => format!("\\u{{{:x}}}", u32::from(c)),
        c => c.to_string(),
    }
}

/// The text with every control character written as an escape (`\n`, `\u{1b}`).
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().map(escape_char).collect())
}

/// Longest excerpt line shown in full.
const MAX_LINE: usize = 160;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Diagnostic, Pos, Sources, Span};

    #[test]
    fn renders_location_excerpt_and_help_without_colour() {
        let mut sources = Sources::new();
        let file = sources.add("platform.yaml", "spec:\n  mtu: 1450\n");
        let span = Span { file, start: Pos { line: 2, col: 8 }, end: Pos { line: 2, col: 12 } };
        let d = Diagnostic::error("NET001", "overlay MTU 1450 exceeds the underlay")
            .with_span(Some(span))
            .with_span_label("too large")
            .with_help("set `mtu: 1340`");
        let text = render(&[d], &sources, false);
        assert_eq!(
            text,
            "error[NET001]: overlay MTU 1450 exceeds the underlay\n --> platform.yaml:2:8\n  |\n2 |   mtu: 1450\n  |        ^^^^ too large\n  = help: set `mtu: 1340`\n"
        );
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn redacted_spans_are_masked() {
        let mut sources = Sources::new();
        let file = sources.add("p.yaml", "env:\n  DB_PASSWORD: hunter2-horse\n");
        let span = Span { file, start: Pos { line: 2, col: 16 }, end: Pos { line: 2, col: 29 } };
        let d = Diagnostic::error("SPEC011", "secret").with_span(Some(span)).redacted();
        let text = render(&[d], &sources, false);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("DB_PASSWORD: •••••••••••••"), "{text}");
    }

    #[test]
    fn a_secret_stays_masked_where_another_finding_quotes_its_line() {
        let mut sources = Sources::new();
        let line = "env: { KEY: sk_live_abcdefghijklmnop, URL: 'https://u:pw1234@h.example.eu' }\n";
        let file = sources.add("p.yaml", line);
        let key = Span { file, start: Pos { line: 1, col: 13 }, end: Pos { line: 1, col: 37 } };
        let url = Span { file, start: Pos { line: 1, col: 44 }, end: Pos { line: 1, col: 74 } };
        let secret = Diagnostic::error("SEC009", "token").with_span(Some(key)).redacted();
        // Another rule about the URL, which neither knows about the token nor marks itself.
        let other = Diagnostic::warning("SOV007", "a US host").with_span(Some(url));
        let text = render(&[secret, other], &sources, false);
        assert!(!text.contains("sk_live") && !text.contains("pw1234"), "{text}");
        assert!(text.contains("KEY: ••••") && text.contains("URL: ••••"), "{text}");
    }

    #[test]
    fn control_characters_are_escaped_everywhere() {
        let mut sources = Sources::new();
        let file = sources.add("p.yaml", "image: \"x\"\nraw: a\u{1b}[2Jb\n");
        let span = Span { file, start: Pos { line: 2, col: 6 }, end: Pos { line: 2, col: 11 } };
        let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\nkind: Secret\u{202e}";
        let d = Diagnostic::warning("VER003", format!("image `{hostile}` has no tag"))
            .with_span(Some(span))
            .with_span_label(hostile)
            .with_label(Some(span), hostile)
            .with_help(hostile)
            .with_note(hostile);
        let mut d = d;
        d.suppressed = Some(hostile.into());
        let text = render(&[d], &sources, false);
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(!text.contains('\u{202e}'));
        // One header line: the newline in the message is shown as `\n`.
        assert!(
            text.starts_with("warning[VER003] (suppressed): image `\\u{1b}]0;pwned\\u{7}"),
            "{text}"
        );
        assert!(text.lines().next().unwrap().ends_with("has no tag"), "{text}");
        assert_eq!(text.matches("\\u{1b}").count(), 2 * 6 + 2, "{text}");
        // The excerpt's underline still sits under the escaped text.
        assert!(text.contains("2 | raw: a\\u{1b}[2Jb\n  |      ^^^^^^^^^^"), "{text}");
    }

    #[test]
    fn values_of_secret_keys_are_masked_in_every_excerpt() {
        let mut sources = Sources::new();
        let file = sources.add(
            "p.yaml",
            "providers:\n  - { name: hcloud, type: hetzner-cloud, token: hcloud-abcdef0123 }\n",
        );
        // An unknown-field finding points at the key, not the value, and is not `redact`.
        let span = Span { file, start: Pos { line: 2, col: 42 }, end: Pos { line: 2, col: 47 } };
        let d = Diagnostic::error("SPEC001", "unknown field `token` in `spec.providers[0]`")
            .with_span(Some(span))
            .with_label(Some(span), "here");
        let text = render(&[d], &sources, false);
        assert!(!text.contains("abcdef"), "{text}");
        assert!(text.contains("token: ••••••••••••••••• }"), "{text}");
        assert!(text.contains("name: hcloud, type: hetzner-cloud"), "{text}");
    }

    #[test]
    fn colour_only_when_asked() {
        let sources = Sources::new();
        let d = Diagnostic::warning("OPS001", "on-call rotation of 2");
        assert!(render(std::slice::from_ref(&d), &sources, true).contains('\x1b'));
        assert!(!render(&[d], &sources, false).contains('\x1b'));
    }
}
