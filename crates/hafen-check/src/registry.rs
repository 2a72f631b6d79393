//! Every diagnostic code Hafen can emit, with its explanation page.
//!
//! Explanations live in `docs/rules/CODE.md` and are embedded here, so `hafen explain` works
//! offline and the same text is served by the dashboard and written into SARIF.

use crate::rules::ALL;
use hafen_diag::CodeInfo;

/// A code with its explanation.
#[derive(Debug, Clone, Copy)]
pub struct Explanation {
    /// Code metadata.
    pub info: CodeInfo,
    /// Markdown page.
    pub text: &'static str,
}

macro_rules! docs {
    ($($code:literal),* $(,)?) => {
        &[$(($code, include_str!(concat!("../../../docs/rules/", $code, ".md")))),*]
    };
}

/// Explanation pages by code.
static DOCS: &[(&str, &str)] = docs![
    "YAML001", "YAML002", "YAML003", "YAML004", "SPEC001", "SPEC002", "SPEC003", "SPEC004",
    "SPEC005", "SPEC006", "SPEC007", "SPEC008", "SPEC009", "SPEC010", "SPEC011", "SPEC012",
    "CAT001", "CAT002", "CAT003", "CAT004", "NET001", "NET002", "NET003", "NET004", "NET005",
    "NET006", "NET007", "NET008", "NET009", "NET010", "NET011", "NET012", "NET013", "EGR001",
    "EGR002", "EGR003", "EGR004", "TOP001", "TOP002", "TOP003", "TOP004", "TOP005", "TOP006",
    "TOP007", "TOP008", "TOP009", "TOP010", "TOP011", "TOP012", "TOP013", "TOP014", "TOP015",
    "HW001", "HW002", "HW003", "HW004", "CAP001", "CAP002", "CAP003", "CAP004", "CAP005", "CAP006",
    "CAP007", "CAP008", "CAP009", "CAP010", "CAP011", "CAP012", "CAP013", "SEC001", "SEC002",
    "SEC003", "SEC004", "SEC005", "SEC006", "SEC007", "SEC008", "SEC009", "SOV001", "SOV002",
    "SOV003", "SOV004", "SOV005", "SOV006", "SOV007", "SOV008", "SOV009", "SOV010", "SOV011",
    "OPS001", "OPS002", "OPS003", "OPS004", "OPS005", "OPS006", "OPS007", "OPS008", "OPS009",
    "OPS010", "OPS011", "VER001", "VER002", "VER003", "VER004", "SUP001",
];

/// Metadata of every code: loader codes first, then the suppression code, then rules in
/// catalogue order.
pub fn all_codes() -> Vec<CodeInfo> {
    let mut out: Vec<CodeInfo> = Vec::new();
    out.extend_from_slice(hafen_yaml::CODES);
    out.extend_from_slice(hafen_spec::CODES);
    out.extend_from_slice(hafen_catalog::CODES);
    out.extend_from_slice(crate::CODES);
    out.extend(ALL.iter().map(|r| r.info));
    out
}

/// The codes that are rules (run by `check`), as opposed to loader codes.
pub fn rules() -> Vec<CodeInfo> {
    ALL.iter().map(|r| r.info).collect()
}

/// The explanation of a code, case-insensitively.
pub fn explain(code: &str) -> Option<Explanation> {
    let code = code.to_ascii_uppercase();
    let info = all_codes().into_iter().find(|c| c.code == code)?;
    let text = DOCS.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)?;
    Some(Explanation { info, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_unique_and_explained() {
        let codes = all_codes();
        for (i, code) in codes.iter().enumerate() {
            assert!(
                !codes[..i].iter().any(|c| c.code == code.code),
                "duplicate code {}",
                code.code
            );
            let doc = DOCS.iter().find(|(c, _)| *c == code.code);
            let Some((_, text)) = doc else {
                panic!("{} has no docs/rules/{}.md", code.code, code.code)
            };
            assert!(
                text.starts_with(&format!("# {}", code.code)),
                "{} page must start with its code",
                code.code
            );
            assert!(text.contains("## Fix"), "{} page needs a Fix section", code.code);
            let first = text.lines().next().unwrap_or("");
            assert!(
                first.starts_with(&format!("# {}: ", code.code))
                    && first.len() > code.code.len() + 4,
                "{} page must start with `# {}: summary`",
                code.code,
                code.code
            );
        }
        for rule in rules() {
            let Some((_, text)) = DOCS.iter().find(|(c, _)| *c == rule.code) else { continue };
            for section in ["## What it catches", "## The incident behind it", "## Fix"] {
                assert!(text.contains(section), "docs/rules/{}.md lacks `{section}`", rule.code);
            }
        }
        for (code, _) in DOCS {
            assert!(codes.iter().any(|c| c.code == *code), "docs/rules/{code}.md has no code");
        }
    }
}
