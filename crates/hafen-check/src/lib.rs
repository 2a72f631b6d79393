//! The rule catalogue. Each rule reasons over the whole loaded platform and reports findings
//! with stable codes, exact object names, the concrete fix and a page of explanation.
//!
//! Rules are plain functions over a [`Ctx`]; [`check`] runs them all, then applies in-spec
//! suppressions. Severity overrides (`--deny`, `--allow`) are applied by [`apply_overrides`].

mod registry;
mod rules;

pub use registry::{Explanation, all_codes, explain, rules};

use hafen_diag::{Diagnostic, Severity};
use hafen_spec::LoadedPlatform;

/// Inputs besides the platform.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The date findings are judged at (YYYY-MM-DD), e.g. for backup age. `None` skips
    /// date-dependent rules, so the result depends only on the input.
    pub as_of: Option<String>,
}

/// What a rule sees.
pub struct Ctx<'a> {
    /// The platform, its spans and its effective catalogue.
    pub loaded: &'a LoadedPlatform,
    /// Options.
    pub options: &'a Options,
}

/// Runs every rule and applies in-spec suppressions. The result is sorted.
pub fn check(loaded: &LoadedPlatform, options: &Options) -> Vec<Diagnostic> {
    let ctx = Ctx { loaded, options };
    let mut out = Vec::new();
    for rule in rules::ALL {
        (rule.run)(&ctx, &mut out);
    }
    apply_suppressions(loaded, &mut out);
    hafen_diag::sort(&mut out);
    out
}

/// A rule: its code metadata and its function.
pub struct RuleFn {
    /// Code, default severity, summary.
    pub info: hafen_diag::CodeInfo,
    /// The check.
    pub run: fn(&Ctx<'_>, &mut Vec<Diagnostic>),
}

/// The object a finding is about, as `kind/name` (`cluster/prod-nbg`), derived from its path.
pub fn object_of(loaded: &LoadedPlatform, path: &str) -> Option<String> {
    let spec = &loaded.platform.spec;
    let index = |prefix: &str| -> Option<usize> {
        let rest = path.strip_prefix(prefix)?;
        rest.split(']').next()?.parse().ok()
    };
    if let Some(i) = index("spec.clusters[") {
        return spec.clusters.get(i).map(|c| format!("cluster/{}", c.name));
    }
    if let Some(i) = index("spec.sites[") {
        return spec.sites.get(i).map(|s| format!("site/{}", s.name));
    }
    if let Some(i) = index("spec.providers[") {
        return spec.providers.get(i).map(|p| format!("provider/{}", p.name));
    }
    if let Some(i) = index("spec.tenants[") {
        return spec.tenants.get(i).map(|t| format!("tenant/{}", t.name));
    }
    if path.starts_with("spec.team") {
        return Some("team".into());
    }
    None
}

fn apply_suppressions(loaded: &LoadedPlatform, diagnostics: &mut [Diagnostic]) {
    let suppressions = &loaded.platform.spec.suppressions;
    for diagnostic in diagnostics.iter_mut() {
        let object = diagnostic.path.as_deref().and_then(|p| object_of(loaded, p));
        for suppression in suppressions {
            if suppression.code != diagnostic.code {
                continue;
            }
            let matches = match &suppression.object {
                None => true,
                Some(wanted) => object.as_deref() == Some(wanted.as_str()),
            };
            if matches {
                diagnostic.suppressed = Some(suppression.reason.clone());
                break;
            }
        }
    }
}

/// Applies `--deny CODE` (raise to error) and `--allow CODE` (suppress) to the findings.
/// `warnings` in `deny` raises every warning.
pub fn apply_overrides(diagnostics: &mut [Diagnostic], deny: &[String], allow: &[String]) {
    for diagnostic in diagnostics.iter_mut() {
        if allow.iter().any(|c| c == diagnostic.code) {
            diagnostic.suppressed.get_or_insert_with(|| "allowed with --allow".into());
        } else if deny.iter().any(|c| {
            c == diagnostic.code || (c == "warnings" && diagnostic.severity == Severity::Warning)
        }) {
            diagnostic.severity = Severity::Error;
        }
    }
}
