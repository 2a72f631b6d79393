//! The one API the edges (CLI, server) call: a [`Workspace`] of input texts, and the
//! operations over it. Edges read files and write output; everything here is pure, so the
//! dashboard and the CLI can never disagree about a finding, a figure or a rendered byte.

pub use hafen_catalog::Catalog;
pub use hafen_check::{Explanation, Options as CheckOptions};
pub use hafen_diag::{Diagnostic, FileId, Severity, Sources, Summary};
pub use hafen_plan::{Options as PlanOptions, Report as PlanReport};
pub use hafen_render::{Repo, is_safe_relative_path};
pub use hafen_spec::LoadedPlatform;

/// Input texts of one run: the catalogue (built-in plus overrides) and the spec files.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Every text read, for locating diagnostics.
    pub sources: Sources,
    /// The merged catalogue.
    pub catalog: Catalog,
    /// Spec files, in the order given.
    pub spec_files: Vec<FileId>,
    /// Problems with catalogue files.
    pub catalog_diagnostics: Vec<Diagnostic>,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace::new()
    }
}

impl Workspace {
    /// A workspace with the built-in catalogue.
    pub fn new() -> Workspace {
        let mut sources = Sources::new();
        let (catalog, catalog_diagnostics) = Catalog::builtin(&mut sources);
        Workspace { sources, catalog, spec_files: Vec::new(), catalog_diagnostics }
    }

    /// Merges a user catalogue file (only changed fields needed for existing entries).
    pub fn add_catalog(&mut self, name: &str, text: &str) {
        let file = self.sources.add(name, text);
        let diagnostics = self.catalog.merge_text(text, file, true);
        self.catalog_diagnostics.extend(diagnostics);
    }

    /// Adds a spec file.
    pub fn add_spec(&mut self, name: &str, text: &str) -> FileId {
        let file = self.sources.add(name, text);
        self.spec_files.push(file);
        file
    }

    /// Loads the platform. Catalogue problems come first. `None` on any error: this is the
    /// gate for `plan` and `render`.
    pub fn load(&self) -> (Option<LoadedPlatform>, Vec<Diagnostic>) {
        let (loaded, diagnostics) = self.load_for_check();
        if diagnostics.iter().any(Diagnostic::is_error) {
            return (None, diagnostics);
        }
        (loaded, diagnostics)
    }

    /// Loads the platform for `check`: also when its only errors leave it judgeable by the
    /// rules (a plaintext secret, whose value is dropped; an object the catalogue does not
    /// know). Not for planning or rendering.
    pub fn load_for_check(&self) -> (Option<LoadedPlatform>, Vec<Diagnostic>) {
        let mut diagnostics = self.catalog_diagnostics.clone();
        if diagnostics.iter().any(Diagnostic::is_error) {
            return (None, diagnostics);
        }
        let (loaded, more) =
            hafen_spec::load_for_check(&self.spec_files, &self.sources, &self.catalog);
        diagnostics.extend(more);
        hafen_diag::sort(&mut diagnostics);
        (loaded, diagnostics)
    }
}

/// Options of `check`.
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    /// Rule options.
    pub options: CheckOptions,
    /// Codes raised to error (`warnings` raises all warnings).
    pub deny: Vec<String>,
    /// Codes suppressed.
    pub allow: Vec<String>,
}

/// Result of `check`: loader findings, rule findings and the renderer's refusals, sorted.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The platform, when it loaded without errors (what `plan` and `render` may use).
    pub loaded: Option<LoadedPlatform>,
    /// Every finding.
    pub diagnostics: Vec<Diagnostic>,
    /// True when the rules ran: the platform loaded, possibly with errors that leave it
    /// judgeable (a plaintext secret, an object the catalogue does not know).
    pub rules_ran: bool,
    /// The repository `render` writes for this platform, when it loaded and the renderer
    /// refused nothing; `hafen render` and `hafen run` write this one instead of rendering
    /// again.
    pub repo: Option<Repo>,
}

impl CheckOutcome {
    /// True when a finding is an unsuppressed error.
    pub fn failed(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads and checks, and renders in memory whenever the platform loads: what `render` would
/// refuse is a finding of `check` too, so the two never disagree and a spec that passes
/// `check` renders.
pub fn check(workspace: &Workspace, request: &CheckRequest) -> CheckOutcome {
    let (checkable, mut diagnostics) = workspace.load_for_check();
    // Decided before any suppression: a silenced load error still keeps plan and render out.
    let load_failed = diagnostics.iter().any(Diagnostic::is_error);
    if let Some(loaded) = &checkable {
        suppress_in_spec(loaded, &mut diagnostics);
        diagnostics.extend(hafen_check::check(loaded, &request.options));
    }
    hafen_check::apply_overrides(&mut diagnostics, &request.deny, &request.allow);
    let rules_ran = checkable.is_some();
    let loaded = if load_failed { None } else { checkable };
    let mut repo = None;
    if let Some(loaded) = &loaded {
        match hafen_render::render(loaded) {
            Ok(rendered) => repo = Some(rendered),
            Err(mut refused) => {
                hafen_check::apply_overrides(&mut refused, &request.deny, &request.allow);
                diagnostics.extend(not_reported_yet(refused, &diagnostics));
            }
        }
    }
    hafen_diag::sort(&mut diagnostics);
    CheckOutcome { loaded, diagnostics, rules_ran, repo }
}

/// The renderer's refusals, less those at a place where `check` already reports an error
/// (a credential in the repository URL is SEC003 there, and the secret guard's RENDER002
/// about the same value would say it twice).
fn not_reported_yet(refused: Vec<Diagnostic>, reported: &[Diagnostic]) -> Vec<Diagnostic> {
    refused
        .into_iter()
        .filter(|r| {
            !reported.iter().any(|d| {
                d.is_error()
                    && ((r.path.is_some() && d.path == r.path)
                        || (r.span.is_some() && d.span == r.span))
            })
        })
        .collect()
}

/// The spec's own suppressions, applied to the loader findings that let the rules run (the
/// rules apply them to their own findings).
fn suppress_in_spec(loaded: &LoadedPlatform, diagnostics: &mut [Diagnostic]) {
    // Only a plaintext secret can be accepted in the spec; an object the catalogue does not
    // know is fixed in the spec or a `--catalog` file, never suppressed.
    let suppressible = |d: &Diagnostic| d.code == hafen_spec::codes::PLAINTEXT_SECRET;
    for d in diagnostics.iter_mut().filter(|d| suppressible(d)) {
        let objects =
            d.path.as_deref().map(|p| hafen_check::objects_of(loaded, p)).unwrap_or_default();
        let found = loaded.platform.spec.suppressions.iter().find(|s| {
            s.code.eq_ignore_ascii_case(d.code)
                && s.object.as_ref().is_none_or(|o| objects.iter().any(|x| x == o))
        });
        if let Some(suppression) = found {
            d.suppressed = Some(suppression.reason.clone());
        }
    }
}

/// Plans a loaded platform.
pub fn plan(
    loaded: &LoadedPlatform,
    options: &PlanOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> PlanReport {
    hafen_plan::plan(loaded, options, progress)
}

/// Renders a loaded platform. [`check`] has done this already when it returns a repository.
pub fn render(loaded: &LoadedPlatform) -> Result<Repo, Vec<Diagnostic>> {
    hafen_render::render(loaded)
}

/// Human rendering of diagnostics.
pub fn diagnostics_human(diagnostics: &[Diagnostic], sources: &Sources, color: bool) -> String {
    hafen_diag::human::render(diagnostics, sources, color)
}

/// JSON document of diagnostics.
pub fn diagnostics_json(diagnostics: &[Diagnostic], sources: &Sources) -> serde_json::Value {
    hafen_diag::json::document(diagnostics, sources)
}

/// SARIF log of diagnostics, with relative input paths given against `%SRCROOT%`.
pub fn diagnostics_sarif(diagnostics: &[Diagnostic], sources: &Sources) -> serde_json::Value {
    diagnostics_sarif_at(diagnostics, sources, None)
}

/// SARIF log of diagnostics; `root` is the absolute directory the tool ran in, so files under
/// it get URIs relative to `%SRCROOT%` and others absolute `file://` URIs.
pub fn diagnostics_sarif_at(
    diagnostics: &[Diagnostic],
    sources: &Sources,
    root: Option<&str>,
) -> serde_json::Value {
    let codes = all_codes();
    hafen_diag::sarif::document_at(
        diagnostics,
        sources,
        &codes,
        env!("CARGO_PKG_VERSION"),
        &|code| explain(code).map(|e| e.text.to_owned()),
        root,
    )
}

/// Plan as terminal text.
pub fn plan_text(report: &PlanReport) -> String {
    hafen_plan::to_text(report)
}

/// Plan as Markdown.
pub fn plan_markdown(report: &PlanReport) -> String {
    hafen_plan::to_markdown(report)
}

/// The platform JSON Schema, as committed to `schema/platform.schema.json`.
pub fn spec_schema_text() -> String {
    hafen_spec::json_schema_text()
}

/// The tenant-file JSON Schema, as committed to `schema/tenant.schema.json`.
pub fn tenant_schema_text() -> String {
    hafen_spec::tenant_json_schema_text()
}

/// Every diagnostic code: loader codes, rules, then renderer codes.
pub fn all_codes() -> Vec<hafen_diag::CodeInfo> {
    let mut codes = hafen_check::all_codes();
    codes.extend_from_slice(hafen_render::CODES);
    codes
}

/// The canonical spelling of any code (`ops001` is `OPS001`), or the closest code as a hint;
/// the edges reject unknown `--deny`/`--allow` codes with it.
pub fn resolve_code(text: &str) -> Result<&'static str, Option<&'static str>> {
    static CODES: std::sync::OnceLock<Vec<hafen_diag::CodeInfo>> = std::sync::OnceLock::new();
    hafen_check::resolve_code(text, CODES.get_or_init(all_codes))
}

/// The explanation page of any code, case-insensitively.
pub fn explain(code: &str) -> Option<Explanation> {
    if let Some(found) = hafen_check::explain(code) {
        return Some(found);
    }
    let code = code.to_ascii_uppercase();
    let info = hafen_render::CODES.iter().find(|c| c.code == code)?;
    Some(Explanation { info: *info, text: hafen_render::explanation(&code)? })
}

/// The explanation of a code as a stable JSON document (`hafen explain CODE --format json`,
/// `GET /api/explain/{code}`): `version` (1), `code`, `severity` (the default), `summary`,
/// `title` and `area` from the page, `sections` (each `heading` and its `text`, in page
/// order) and `explanation`, the whole Markdown page.
pub fn explanation_json(code: &str) -> Option<serde_json::Value> {
    let found = explain(code)?;
    let page = found.text;
    let mut lines = page.lines();
    let title = lines
        .next()
        .and_then(|h| h.strip_prefix("# "))
        .map(|h| h.split_once(": ").map_or(h, |(_, t)| t).trim().to_owned())
        .unwrap_or_else(|| found.info.summary.to_owned());
    let area = page.lines().find_map(|l| l.strip_prefix("Area: ")).map(|a| {
        a.split(". Default severity").next().unwrap_or(a).trim_end_matches('.').to_owned()
    });
    let mut sections: Vec<(String, Vec<&str>)> = Vec::new();
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            sections.push((heading.trim().to_owned(), Vec::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push(line);
        }
    }
    let sections: Vec<serde_json::Value> = sections
        .into_iter()
        .map(|(heading, body)| {
            serde_json::json!({ "heading": heading, "text": body.join("\n").trim() })
        })
        .collect();
    Some(serde_json::json!({
        "version": 1,
        "code": found.info.code,
        "severity": found.info.severity.as_str(),
        "summary": found.info.summary,
        "title": title,
        "area": area,
        "sections": sections,
        "explanation": page,
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_code_has_an_explanation_page() {
        let codes = super::all_codes();
        for (i, code) in codes.iter().enumerate() {
            assert!(!codes[..i].iter().any(|c| c.code == code.code), "duplicate {}", code.code);
            let page = super::explain(code.code).map(|e| e.text).unwrap_or_default();
            assert!(page.starts_with(&format!("# {}", code.code)), "{} has no page", code.code);
            assert!(page.contains("## Fix"), "{} page has no Fix section", code.code);
        }
    }

    #[test]
    fn explanations_as_json_have_a_stable_shape() {
        let doc = super::explanation_json("net001").expect("NET001");
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["code"], "NET001");
        assert_eq!(doc["severity"], "error");
        assert_eq!(doc["area"], "network");
        assert_eq!(doc["title"], "pod MTU larger than the underlay MTU minus overhead");
        assert_eq!(doc["sections"][0]["heading"], "What it catches");
        assert!(doc["explanation"].as_str().is_some_and(|t| t.starts_with("# NET001")));
        for code in super::all_codes() {
            let doc = super::explanation_json(code.code).expect("every code");
            let headings: Vec<&str> = doc["sections"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s["heading"].as_str())
                .collect();
            assert!(headings.contains(&"Fix"), "{}: {headings:?}", code.code);
            assert!(
                doc["area"].is_string() && doc["title"].as_str().is_some_and(|t| !t.is_empty())
            );
        }
        assert!(super::explanation_json("NOPE999").is_none());
    }
}
