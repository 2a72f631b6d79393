//! The rule catalogue. Each rule reasons over the whole loaded platform and reports findings
//! with stable codes, exact object names, the concrete fix and a page of explanation.
//!
//! Rules are plain functions over a [`Ctx`]; [`check`] runs them all, then applies in-spec
//! suppressions. Severity overrides (`--deny`, `--allow`) are applied by [`apply_overrides`].

pub mod allocatable;
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
    apply_suppressions(loaded, options, &mut out);
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

/// Codes this crate reports about the spec's suppressions themselves (the rules' codes are
/// in [`rules`]).
pub const CODES: &[hafen_diag::CodeInfo] = &[hafen_diag::CodeInfo {
    code: UNUSED_SUPPRESSION,
    severity: Severity::Warning,
    summary: "a suppression that matches no finding",
}];

/// The code of an in-spec suppression that matched no finding.
pub const UNUSED_SUPPRESSION: &str = "SUP001";

/// The shortest reason a reviewer can act on, in characters.
const MIN_REASON_CHARS: usize = 8;

/// Rules that only run with a date ([`Options::as_of`]): without one, their suppressions
/// are not reported as unused.
const DATED_RULES: &[&str] = &["OPS004", "OPS005", "OPS011", "VER001", "VER004"];

/// Every object a suppression can name, as `kind/name`.
fn known_objects(loaded: &LoadedPlatform) -> Vec<String> {
    let spec = &loaded.platform.spec;
    let mut out: Vec<String> = ["team", "gitops", "management", "operations", "links"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    for c in &spec.clusters {
        out.push(format!("cluster/{}", c.name));
        out.extend(c.node_pools.iter().map(|p| format!("pool/{}/{}", c.name, p.name)));
    }
    for t in &spec.tenants {
        out.push(format!("tenant/{}", t.name));
        out.extend(t.apps.iter().map(|a| format!("app/{}/{}", t.name, a.name)));
    }
    out.extend(spec.sites.iter().map(|s| format!("site/{}", s.name)));
    out.extend(spec.providers.iter().map(|p| format!("provider/{}", p.name)));
    out.extend(spec.endpoints.iter().map(|e| format!("endpoint/{}", e.name)));
    out
}

/// The canonical spelling of a code Hafen has (any case), or the closest one as a hint.
pub fn resolve_code<'c>(
    text: &str,
    codes: &'c [hafen_diag::CodeInfo],
) -> Result<&'c str, Option<&'c str>> {
    let wanted = text.trim();
    match codes.iter().find(|c| c.code.eq_ignore_ascii_case(wanted)) {
        Some(c) => Ok(c.code),
        None => Err(hafen_yaml::schema::did_you_mean(wanted, codes.iter().map(|c| c.code))),
    }
}

/// Checks each suppression on its own (reason, code, object), applies the valid ones, and
/// reports every problem separately: a short reason does not hide an unknown code, and a
/// suppression that silences nothing is reported where it stands.
fn apply_suppressions(
    loaded: &LoadedPlatform,
    options: &Options,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let suppressions = &loaded.platform.spec.suppressions;
    if suppressions.is_empty() {
        return;
    }
    let spans = &loaded.spans;
    let codes = registry::all_codes();
    let objects = known_objects(loaded);
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut valid = vec![true; suppressions.len()];
    for (i, s) in suppressions.iter().enumerate() {
        let at = |field: &str| {
            let path = format!("spec.suppressions[{i}].{field}");
            (spans.nearest(&path), path)
        };
        let reason = s.reason.trim();
        let length = reason.chars().count();
        if length < MIN_REASON_CHARS {
            valid[i] = false;
            let (span, path) = at("reason");
            let what = match length {
                0 => "is empty".to_owned(),
                1 => "has 1 character".to_owned(),
                n => format!("has {n} characters"),
            };
            problems.push(
                Diagnostic::error(
                    hafen_spec::codes::INVALID_FORMAT,
                    format!(
                        "the reason of the suppression of `{}` {what}; a reason needs at least {MIN_REASON_CHARS}, so a reviewer can tell why the finding is accepted",
                        s.code
                    ),
                )
                .with_span(span)
                .with_path(path)
                .with_span_label("too short to review")
                .with_help("write who accepted the finding, why, and until when, e.g. `reason: Two-person team until the March hire; paid support covers nights`; the suppression takes effect once the reason is there"),
            );
        }
        // Renderer codes (RENDERnnn) are Hafen's too, but reported by `render`, never here.
        let render_code = s.code.trim().to_ascii_uppercase();
        let resolved = match render_code.strip_prefix("RENDER") {
            Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(render_code.as_str())
            }
            _ => resolve_code(&s.code, &codes),
        };
        match resolved {
            Ok(code) if !rules::ALL.iter().any(|r| r.info.code == code) => {
                valid[i] = false;
                let (span, path) = at("code");
                problems.push(
                    Diagnostic::warning(
                        UNUSED_SUPPRESSION,
                        if code.starts_with("RENDER") {
                            format!("the suppression of `{code}` can never match: `{code}` is reported by `hafen render`, which does not read suppressions")
                        } else {
                            format!("the suppression of `{code}` can never match: `{code}` is reported while the spec loads, before any rule runs")
                        },
                    )
                    .with_span(span)
                    .with_path(path)
                    .with_span_label("not a rule")
                    .with_help(format!("fix what `{code}` reports instead, and remove this suppression")),
                );
            }
            Ok(_) => {}
            Err(hint) => {
                valid[i] = false;
                let (span, path) = at("code");
                let help = match hint {
                    Some(h) => {
                        format!("did you mean `{h}`? `hafen explain --list` shows every code")
                    }
                    None => "`hafen explain --list` shows every code".to_owned(),
                };
                problems.push(
                    Diagnostic::error(
                        hafen_spec::codes::UNDEFINED_REFERENCE,
                        format!(
                            "the suppression names code `{}`, which Hafen does not have",
                            s.code
                        ),
                    )
                    .with_span(span)
                    .with_path(path)
                    .with_span_label("no such code")
                    .with_help(help),
                );
            }
        }
        if let Some(object) = &s.object
            && !objects.contains(object)
        {
            valid[i] = false;
            let (span, path) = at("object");
            // Compare names within the kind: every `cluster/…` shares the prefix, so a whole-
            // string match would suggest some cluster for any typo.
            let (kind, name) = object.split_once('/').unwrap_or((object.as_str(), ""));
            let same: Vec<&str> = objects
                .iter()
                .filter(|o| o.split_once('/').is_some_and(|(k, _)| k == kind))
                .map(String::as_str)
                .collect();
            let names = same.iter().filter_map(|o| o.split_once('/').map(|(_, n)| n));
            let help = match hafen_yaml::schema::did_you_mean(name, names) {
                Some(n) if !name.is_empty() => format!("did you mean `{kind}/{n}`?"),
                _ if !same.is_empty() => format!(
                    "objects of this kind: {}",
                    same.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
                ),
                _ => "name an object as `cluster/<name>`, `pool/<cluster>/<pool>`, `tenant/<name>`, `app/<tenant>/<app>`, `site/<name>`, `provider/<name>`, `endpoint/<name>`, or one of `team`, `gitops`, `management`, `operations`, `links`".to_owned(),
            };
            problems.push(
                Diagnostic::error(
                    hafen_spec::codes::UNDEFINED_REFERENCE,
                    format!(
                        "the suppression of `{}` names object `{object}`, which is not in this spec",
                        s.code
                    ),
                )
                .with_span(span)
                .with_path(path)
                .with_span_label("no such object")
                .with_help(help),
            );
        }
    }
    let mut used = vec![false; suppressions.len()];
    for diagnostic in diagnostics.iter_mut() {
        let objects = diagnostic.path.as_deref().map(|p| objects_of(loaded, p)).unwrap_or_default();
        for (i, suppression) in suppressions.iter().enumerate() {
            if !valid[i] || !suppression.code.trim().eq_ignore_ascii_case(diagnostic.code) {
                continue;
            }
            let matches = match &suppression.object {
                None => true,
                Some(wanted) => objects.iter().any(|o| o == wanted),
            };
            if matches {
                diagnostic.suppressed = Some(suppression.reason.clone());
                used[i] = true;
                break;
            }
        }
    }
    for (i, s) in suppressions.iter().enumerate() {
        let code = s.code.trim().to_ascii_uppercase();
        if !valid[i] || used[i] || (options.as_of.is_none() && DATED_RULES.contains(&code.as_str()))
        {
            continue;
        }
        let path = format!("spec.suppressions[{i}].code");
        let scope = s.object.as_ref().map(|o| format!(" for `{o}`")).unwrap_or_default();
        problems.push(
            Diagnostic::warning(
                UNUSED_SUPPRESSION,
                format!("the suppression of `{code}`{scope} matches no finding"),
            )
            .with_span(spans.nearest(&path))
            .with_path(path)
            .with_span_label("suppresses nothing")
            .with_help("remove it: the finding it accepted is gone (or it never matched), and a stale suppression would silently hide the problem if it came back"),
        );
    }
    diagnostics.extend(problems);
}

/// Applies `--deny CODE` (raise to error) and `--allow CODE` (suppress) to the findings.
/// `warnings` in `deny` raises every warning.
/// Codes compare case-insensitively; the edges reject unknown codes before calling this.
pub fn apply_overrides(diagnostics: &mut [Diagnostic], deny: &[String], allow: &[String]) {
    for diagnostic in diagnostics.iter_mut() {
        if allow.iter().any(|c| c.trim().eq_ignore_ascii_case(diagnostic.code)) {
            diagnostic.suppressed.get_or_insert_with(|| "allowed with --allow".into());
        } else if deny.iter().any(|c| {
            let c = c.trim();
            c.eq_ignore_ascii_case(diagnostic.code)
                || (c.eq_ignore_ascii_case("warnings") && diagnostic.severity == Severity::Warning)
        }) {
            diagnostic.severity = Severity::Error;
        }
    }
}
