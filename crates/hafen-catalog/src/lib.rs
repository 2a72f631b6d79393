//! The provider catalogue: facts about providers as data, each with its date and source.
//!
//! The built-in catalogue is the YAML under `data/catalog/`, embedded at compile time. A user
//! file in the same format overrides or extends it: providers merge by `type`, server types
//! and locations by `name`, and any field given replaces the built-in one. Nothing here reads
//! files; callers pass text in.

mod model;

pub use model::*;

use hafen_diag::{Diagnostic, FileId, Sources};
use hafen_yaml::{Limits as ParseLimits, Node, schema};
use serde_json::Value as Json;
use std::sync::OnceLock;

/// The built-in data files, by display name.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("<builtin>/hetzner-cloud.yaml", include_str!("../../../data/catalog/hetzner-cloud.yaml")),
    (
        "<builtin>/hetzner-dedicated.yaml",
        include_str!("../../../data/catalog/hetzner-dedicated.yaml"),
    ),
    ("<builtin>/self-hosted.yaml", include_str!("../../../data/catalog/self-hosted.yaml")),
    ("<builtin>/stackit.yaml", include_str!("../../../data/catalog/stackit.yaml")),
    ("<builtin>/scaleway.yaml", include_str!("../../../data/catalog/scaleway.yaml")),
    ("<builtin>/ovhcloud.yaml", include_str!("../../../data/catalog/ovhcloud.yaml")),
    ("<builtin>/ionos.yaml", include_str!("../../../data/catalog/ionos.yaml")),
];

/// Diagnostic codes of this crate.
pub mod codes {
    /// The spec names a provider type the catalogue does not know.
    pub const UNKNOWN_PROVIDER_TYPE: &str = "CAT001";
    /// The spec names a server type the provider does not offer.
    pub const UNKNOWN_SERVER_TYPE: &str = "CAT002";
    /// The spec names a location the provider does not have.
    pub const UNKNOWN_LOCATION: &str = "CAT003";
    /// A catalogue file is not usable.
    pub const BAD_CATALOG: &str = "CAT004";
}

/// Metadata for the codes above.
pub const CODES: &[hafen_diag::CodeInfo] = &[
    hafen_diag::CodeInfo {
        code: codes::UNKNOWN_PROVIDER_TYPE,
        severity: hafen_diag::Severity::Error,
        summary: "a provider type that no catalogue describes",
    },
    hafen_diag::CodeInfo {
        code: codes::UNKNOWN_SERVER_TYPE,
        severity: hafen_diag::Severity::Error,
        summary: "a server type the site's provider does not offer",
    },
    hafen_diag::CodeInfo {
        code: codes::UNKNOWN_LOCATION,
        severity: hafen_diag::Severity::Error,
        summary: "a location the site's provider does not have",
    },
    hafen_diag::CodeInfo {
        code: codes::BAD_CATALOG,
        severity: hafen_diag::Severity::Error,
        summary: "a catalogue file that cannot be used",
    },
];

/// The JSON Schema of a catalogue file.
pub fn json_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::to_value(schemars::schema_for!(CatalogFile)).unwrap_or(Json::Null)
    })
}

/// The merged catalogue used by a run.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Providers by type, in the order first seen.
    pub providers: Vec<ProviderInfo>,
}

impl Catalog {
    /// The built-in catalogue. Its files are checked by this crate's tests, so the errors are
    /// only reachable if a data file is broken; the caller reports them.
    pub fn builtin(sources: &mut Sources) -> (Catalog, Vec<Diagnostic>) {
        let mut catalog = Catalog::default();
        let mut diagnostics = Vec::new();
        for (name, text) in BUILTIN_FILES {
            let file = sources.add(*name, *text);
            diagnostics.extend(catalog.merge_text(text, file, false));
        }
        (catalog, diagnostics)
    }

    /// Merges a catalogue file. With `partial`, entries that override an existing provider,
    /// server type or location need only the fields they change.
    pub fn merge_text(&mut self, text: &str, file: FileId, partial: bool) -> Vec<Diagnostic> {
        let (docs, mut diagnostics) = hafen_yaml::parse(text, file, &ParseLimits::default());
        if !diagnostics.is_empty() {
            return diagnostics;
        }
        // Catalogue text reaches the plan, the dashboard and terminals like spec text does.
        let rules = hafen_yaml::text::TextRules { free_text: &["source"], hidden: &[] };
        diagnostics
            .extend(docs.iter().flat_map(|d| hafen_yaml::text::control_characters(d, rules)));
        if !diagnostics.is_empty() {
            return diagnostics;
        }
        for doc in docs {
            diagnostics.extend(self.merge_node(&doc, partial));
        }
        diagnostics
    }

    fn merge_node(&mut self, doc: &Node, partial: bool) -> Vec<Diagnostic> {
        let root = json_schema();
        let mut diagnostics = Vec::new();
        if !partial {
            let (file, diags) = schema::decode::<CatalogFile>(doc, root, "");
            diagnostics.extend(diags);
            if let Some(file) = file {
                for provider in file.providers {
                    self.upsert(provider);
                }
            }
            return diagnostics;
        }
        schema::validate_partial(doc, root, "", &mut diagnostics);
        // Entries new to the catalogue must be complete.
        let provider_schema = &root["$defs"]["ProviderInfo"];
        let server_schema = &root["$defs"]["ServerType"];
        let location_schema = &root["$defs"]["Location"];
        let mut merged: Vec<Json> =
            self.providers.iter().filter_map(|p| serde_json::to_value(p).ok()).collect();
        if let Some(hafen_yaml::Entry { value: providers, .. }) = doc.get("providers")
            && let hafen_yaml::Value::Seq(items) = &providers.value
        {
            for (idx, item) in items.iter().enumerate() {
                let path = format!("providers[{idx}]");
                let ty = item.get("type").and_then(|e| e.value.as_str()).unwrap_or("");
                let existing = merged.iter_mut().find(|p| p["type"] == ty);
                match existing {
                    None => {
                        schema::validate(
                            item,
                            provider_schema,
                            root,
                            &path,
                            None,
                            &mut diagnostics,
                        );
                        merged.push(item.to_json());
                    }
                    Some(target) => {
                        check_new_children(
                            item,
                            target,
                            "serverTypes",
                            server_schema,
                            root,
                            &path,
                            &mut diagnostics,
                        );
                        check_new_children(
                            item,
                            target,
                            "locations",
                            location_schema,
                            root,
                            &path,
                            &mut diagnostics,
                        );
                        deep_merge(target, item.to_json());
                    }
                }
            }
        }
        if !diagnostics.is_empty() {
            // A new entry is checked twice (partially, then whole); report each problem once.
            let mut seen = Vec::new();
            diagnostics.retain(|d| {
                let key = (d.code, d.span, d.message.clone());
                let fresh = !seen.contains(&key);
                seen.push(key);
                fresh
            });
            return diagnostics;
        }
        match serde_json::from_value::<Vec<ProviderInfo>>(Json::Array(merged)) {
            Ok(providers) => self.providers = providers,
            Err(err) => diagnostics.push(
                Diagnostic::error(
                    codes::BAD_CATALOG,
                    format!("the merged catalogue cannot be read: {err}"),
                )
                .with_span(Some(doc.span)),
            ),
        }
        diagnostics
    }

    fn upsert(&mut self, provider: ProviderInfo) {
        match self.providers.iter_mut().find(|p| p.type_ == provider.type_) {
            Some(existing) => *existing = provider,
            None => self.providers.push(provider),
        }
    }

    /// A provider by type.
    pub fn provider(&self, type_: &str) -> Option<&ProviderInfo> {
        self.providers.iter().find(|p| p.type_ == type_)
    }

    /// Every provider type, for suggestions.
    pub fn provider_types(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(|p| p.type_.as_str())
    }
}

fn check_new_children(
    item: &Node,
    target: &Json,
    key: &str,
    schema: &Json,
    root: &Json,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(entry) = item.get(key) else { return };
    let hafen_yaml::Value::Seq(children) = &entry.value.value else { return };
    for (idx, child) in children.iter().enumerate() {
        let name = child.get("name").and_then(|e| e.value.as_str()).unwrap_or("");
        let known = target[key].as_array().is_some_and(|a| a.iter().any(|c| c["name"] == name));
        if !known {
            schema::validate(
                child,
                schema,
                root,
                &format!("{path}.{key}[{idx}]"),
                None,
                diagnostics,
            );
        }
    }
}

/// Merges `patch` into `target`: objects key by key, lists of objects by `name`, else replace.
fn deep_merge(target: &mut Json, patch: Json) {
    match (target, patch) {
        (Json::Object(target), Json::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (Json::Array(target), Json::Array(patch))
            if patch.iter().all(|p| p.get("name").is_some()) =>
        {
            for item in patch {
                match target.iter_mut().find(|t| t.get("name") == item.get("name")) {
                    Some(existing) => deep_merge(existing, item),
                    None => target.push(item),
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// Parses `YYYY-MM-DD` into (year, month, day), checking the calendar.
pub fn parse_date(text: &str) -> Option<(i32, u32, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year: i32 = text[0..4].parse().ok()?;
    let month: u32 = text[5..7].parse().ok()?;
    let day: u32 = text[8..10].parse().ok()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&day).then_some((year, month, day))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Whole days from `earlier` to `later`, both `YYYY-MM-DD`.
pub fn days_between(earlier: &str, later: &str) -> Option<i64> {
    let (y1, m1, d1) = parse_date(earlier)?;
    let (y2, m2, d2) = parse_date(later)?;
    Some(days_from_civil(y2, m2, d2) - days_from_civil(y1, m1, d1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_loads_and_every_price_is_dated_and_sourced() {
        let mut sources = Sources::new();
        let (catalog, diagnostics) = Catalog::builtin(&mut sources);
        assert!(
            diagnostics.is_empty(),
            "{}",
            hafen_diag::human::render(&diagnostics, &sources, false)
        );
        let cloud = catalog.provider("hetzner-cloud").unwrap();
        assert!(!cloud.company.us_parent);
        let cpx32 = cloud.server_type("cpx32").unwrap();
        assert_eq!(cpx32.cores, 4);
        for provider in &catalog.providers {
            for st in &provider.server_types {
                assert!(parse_date(&st.price.date).is_some(), "{} {}", provider.type_, st.name);
                assert!(!st.price.source.trim().is_empty());
            }
        }
        assert_eq!(
            catalog.provider("hetzner-dedicated").unwrap().location("fsn1").unwrap().city,
            "Falkenstein"
        );
    }

    #[test]
    fn user_file_overrides_a_price_and_adds_a_type() {
        let mut sources = Sources::new();
        let (mut catalog, _) = Catalog::builtin(&mut sources);
        let text = "apiVersion: hafen.dev/v1alpha1\nkind: Catalog\nproviders:\n- type: hetzner-cloud\n  serverTypes:\n  - name: cpx32\n    price: {monthlyEUR: 40.0, date: 2026-11-01, source: invoice}\n  - name: custom1\n    cores: 2\n    memoryGiB: 4\n    arch: amd64\n    cpu: shared\n    ecc: false\n    price: {monthlyEUR: 1.0, date: 2026-11-01, source: invoice}\n";
        let file = sources.add("mine.yaml", text);
        let diagnostics = catalog.merge_text(text, file, true);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let cloud = catalog.provider("hetzner-cloud").unwrap();
        assert_eq!(cloud.server_type("cpx32").unwrap().price.monthly_eur, 40.0);
        assert_eq!(cloud.server_type("cpx32").unwrap().cores, 4);
        assert!(cloud.server_type("custom1").is_some());
    }

    #[test]
    fn incomplete_new_entry_is_located() {
        let mut sources = Sources::new();
        let (mut catalog, _) = Catalog::builtin(&mut sources);
        let text = "apiVersion: hafen.dev/v1alpha1\nkind: Catalog\nproviders:\n- type: hetzner-cloud\n  serverTypes:\n  - name: new1\n    cores: two\n";
        let file = sources.add("mine.yaml", text);
        let diagnostics = catalog.merge_text(text, file, true);
        assert!(diagnostics.iter().any(|d| d.span.unwrap().start.line == 7), "{diagnostics:?}");
        assert!(diagnostics.iter().any(|d| d.code == hafen_yaml::codes::MISSING_FIELD));
    }

    #[test]
    fn control_characters_in_a_user_file_are_refused_and_nothing_is_merged() {
        let mut sources = Sources::new();
        let (mut catalog, _) = Catalog::builtin(&mut sources);
        let text = "apiVersion: hafen.dev/v1alpha1\nkind: Catalog\nproviders:\n- type: hetzner-cloud\n  serverTypes:\n  - name: cpx32\n    price: {monthlyEUR: 40.0, date: 2026-11-01, source: \"invoice\\n2026-11\"}\n  - name: \"cpx\\e[2J\"\n";
        let file = sources.add("mine.yaml", text);
        let diagnostics = catalog.merge_text(text, file, true);
        assert_eq!(diagnostics.len(), 1, "a line break in a source is prose: {diagnostics:?}");
        assert_eq!(diagnostics[0].code, "SPEC012");
        assert_eq!(diagnostics[0].path.as_deref(), Some("providers[0].serverTypes[1].name"));
        let cpx32 = catalog.provider("hetzner-cloud").unwrap().server_type("cpx32").unwrap();
        assert_ne!(cpx32.price.monthly_eur, 40.0, "nothing of the file is merged");
    }

    #[test]
    fn dates() {
        assert_eq!(days_between("2026-10-01", "2026-11-22"), Some(52));
        assert!(parse_date("2026-02-29").is_none());
        assert!(parse_date("2028-02-29").is_some());
    }
}
