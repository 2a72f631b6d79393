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
    "SPEC005", "SPEC006", "SPEC007", "SPEC008", "SPEC009", "SPEC010", "SPEC011", "CAT001",
    "CAT002", "CAT003", "CAT004", "NET001", "NET002", "TOP001", "HW001",
];

/// Metadata of every code: loader codes first, then rules in catalogue order.
pub fn all_codes() -> Vec<CodeInfo> {
    let mut out: Vec<CodeInfo> = Vec::new();
    out.extend_from_slice(hafen_yaml::CODES);
    out.extend_from_slice(hafen_spec::CODES);
    out.extend_from_slice(hafen_catalog::CODES);
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
        }
        for (code, _) in DOCS {
            assert!(codes.iter().any(|c| c.code == *code), "docs/rules/{code}.md has no code");
        }
    }
}
