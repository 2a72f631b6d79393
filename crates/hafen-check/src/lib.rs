//! The rule catalogue. Each rule reasons over the whole loaded platform and reports findings
//! with stable codes, exact object names, the concrete fix and a page of explanation.
//!
//! Rules are plain functions over a [`Ctx`]; [`check`] runs them all, then applies in-spec
//! suppressions. Severity overrides (`--deny`, `--allow`) are applied by [`apply_overrides`].

mod facts;
mod platform;
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
    /// Node groups and workload demands per cluster, computed once.
    pub(crate) views: platform::Views<'a>,
}

/// Runs every rule and applies in-spec suppressions. The result is sorted.
pub fn check(loaded: &LoadedPlatform, options: &Options) -> Vec<Diagnostic> {
    let ctx = Ctx::new(loaded, options);
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

/// The objects a finding is about, most specific first, as `kind/name` (`app/shop/storefront`,
/// `tenant/shop`, `cluster/prod-nbg`), derived from its spec path. A suppression names one.
pub fn objects_of(loaded: &LoadedPlatform, path: &str) -> Vec<String> {
    let spec = &loaded.platform.spec;
    let index = |text: &str, prefix: &str| -> Option<usize> {
        let rest = text.strip_prefix(prefix)?;
        rest.split(']').next()?.parse().ok()
    };
    let mut out = Vec::new();
    if let Some(i) = index(path, "spec.clusters[") {
        if let Some(c) = spec.clusters.get(i) {
            let rest = path.split_once(']').map_or("", |(_, r)| r);
            if let Some(j) = index(rest, ".nodePools[")
                && let Some(p) = c.node_pools.get(j)
            {
                out.push(format!("pool/{}/{}", c.name, p.name));
            }
            out.push(format!("cluster/{}", c.name));
        }
    } else if let Some(i) = index(path, "spec.tenants[") {
        if let Some(t) = spec.tenants.get(i) {
            let rest = path.split_once(']').map_or("", |(_, r)| r);
            if let Some(j) = index(rest, ".apps[")
                && let Some(a) = t.apps.get(j)
            {
                out.push(format!("app/{}/{}", t.name, a.name));
            }
            out.push(format!("tenant/{}", t.name));
        }
    } else if let Some(i) = index(path, "spec.sites[") {
        out.extend(spec.sites.get(i).map(|s| format!("site/{}", s.name)));
    } else if let Some(i) = index(path, "spec.providers[") {
        out.extend(spec.providers.get(i).map(|p| format!("provider/{}", p.name)));
    } else if let Some(i) = index(path, "spec.endpoints[") {
        out.extend(spec.endpoints.get(i).map(|e| format!("endpoint/{}", e.name)));
    } else {
        for top in ["team", "gitops", "management", "operations", "links"] {
            if path == format!("spec.{top}")
                || path.starts_with(&format!("spec.{top}."))
                || path.starts_with(&format!("spec.{top}["))
            {
                out.push(top.to_owned());
            }
        }
    }
    out
}

/// The most specific object a finding is about; see [`objects_of`].
pub fn object_of(loaded: &LoadedPlatform, path: &str) -> Option<String> {
    objects_of(loaded, path).into_iter().next()
}

fn apply_suppressions(loaded: &LoadedPlatform, diagnostics: &mut [Diagnostic]) {
    let suppressions = &loaded.platform.spec.suppressions;
    for diagnostic in diagnostics.iter_mut() {
        let objects = diagnostic.path.as_deref().map(|p| objects_of(loaded, p)).unwrap_or_default();
        for suppression in suppressions {
            if !suppression.code.eq_ignore_ascii_case(diagnostic.code) {
                continue;
            }
            let matches = match &suppression.object {
                None => true,
                Some(wanted) => objects.iter().any(|o| o == wanted),
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
