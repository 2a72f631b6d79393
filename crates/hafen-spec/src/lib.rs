//! The platform spec: its types, its JSON Schema, and loading with located diagnostics.
//!
//! Loading is three passes over the spanned YAML tree: the schema walk reports every unknown
//! field, wrong type and missing field at once; deserialization then cannot fail; the
//! semantic pass checks names, references and value formats against each other and against
//! the provider catalogue. The result keeps a [`SpanIndex`] so later layers (rules, render)
//! can point at `file:line:column` by spec path. Nothing here reads files.

pub mod credentials;
pub mod formats;
pub mod git;
pub mod image;
mod model;
pub mod mtu;
pub mod net;
pub mod quantity;
mod secret;
mod spans;
mod validate;

pub use model::*;
pub use spans::SpanIndex;

use hafen_catalog::Catalog;
use hafen_diag::{Diagnostic, FileId, Pos, Sources, Span};
use hafen_yaml::{Limits, Node, Value, schema};
use serde_json::Value as Json;
use std::sync::OnceLock;

/// Diagnostic codes of the loader (beyond the YAML and schema codes).
pub mod codes {
    /// Two objects of the same kind share a name.
    pub const DUPLICATE_NAME: &str = "SPEC005";
    /// A reference names an object that does not exist.
    pub const UNDEFINED_REFERENCE: &str = "SPEC006";
    /// A name is not a valid DNS label.
    pub const INVALID_NAME: &str = "SPEC007";
    /// A value has the right type but a wrong format (CIDR, quantity, date, version, URL).
    pub const INVALID_FORMAT: &str = "SPEC008";
    /// A document of an unknown `kind` or `apiVersion`.
    pub const UNKNOWN_KIND: &str = "SPEC009";
    /// No `kind: Platform` document, or more than one.
    pub const PLATFORM_COUNT: &str = "SPEC010";
    /// A secret value written into the spec.
    pub const PLAINTEXT_SECRET: &str = "SPEC011";
    /// A control character in spec text (found by `hafen_yaml::text`, also in catalogues).
    pub const CONTROL_CHARACTER: &str = hafen_yaml::codes::CONTROL_CHARACTER;
}

/// Sizes the planner and renderer model object by object (every node, every replica), capped
/// so that no spec can make `plan` or `render` allocate or run without bound. They are far
/// above any real platform: the synthetic benchmark platform scaled tenfold has 21,000 nodes
/// and 610,000 replicas. The per-cluster caps are the largest cluster Kubernetes says it is
/// designed for: at most 5,000 nodes and 150,000 pods (kubernetes.io, "Considerations for
/// large clusters", v1.35).
pub mod limits {
    /// Nodes in one node pool.
    pub const POOL_NODES: u32 = 5_000;
    /// Nodes in one cluster, control plane included.
    pub const CLUSTER_NODES: u64 = 5_000;
    /// Replicas (app replicas and database instances) in one cluster.
    pub const CLUSTER_REPLICAS: u64 = 150_000;
    /// Control-plane nodes of one cluster.
    pub const CONTROL_PLANE_NODES: u32 = 99;
    /// Replicas of one app, and instances of one app's database.
    pub const APP_REPLICAS: u32 = 10_000;
    /// Nodes of the whole platform: control planes and pools of every cluster.
    pub const PLATFORM_NODES: u64 = 50_000;
    /// Replicas of the whole platform: every app and database instance, in every cluster its
    /// tenant is deployed to.
    pub const PLATFORM_REPLICAS: u64 = 1_000_000;
    /// User-defined failure scenarios (each is simulated in full).
    pub const SCENARIOS: usize = 1_000;
}

/// Metadata for the codes above.
pub const CODES: &[hafen_diag::CodeInfo] = &[
    hafen_diag::CodeInfo {
        code: codes::DUPLICATE_NAME,
        severity: hafen_diag::Severity::Error,
        summary: "two objects of the same kind share a name",
    },
    hafen_diag::CodeInfo {
        code: codes::UNDEFINED_REFERENCE,
        severity: hafen_diag::Severity::Error,
        summary: "a reference to a provider, site, cluster or pool that is not defined",
    },
    hafen_diag::CodeInfo {
        code: codes::INVALID_NAME,
        severity: hafen_diag::Severity::Error,
        summary: "a name that is not a DNS label (it becomes a Kubernetes name and a folder)",
    },
    hafen_diag::CodeInfo {
        code: codes::INVALID_FORMAT,
        severity: hafen_diag::Severity::Error,
        summary: "a malformed CIDR, address, quantity, date, version, URL or image reference",
    },
    hafen_diag::CodeInfo {
        code: codes::UNKNOWN_KIND,
        severity: hafen_diag::Severity::Error,
        summary: "a document whose apiVersion or kind Hafen does not read",
    },
    hafen_diag::CodeInfo {
        code: codes::PLATFORM_COUNT,
        severity: hafen_diag::Severity::Error,
        summary: "the input must hold exactly one `kind: Platform` document",
    },
    hafen_diag::CodeInfo {
        code: codes::PLAINTEXT_SECRET,
        severity: hafen_diag::Severity::Error,
        summary: "a secret value written into the spec instead of a reference",
    },
    hafen_diag::CodeInfo {
        code: codes::CONTROL_CHARACTER,
        severity: hafen_diag::Severity::Error,
        summary: "a control character in spec text (a name, a value, a description)",
    },
];

/// The current `apiVersion`.
pub const API_VERSION: &str = "hafen.dev/v1alpha1";

/// The JSON Schema of a platform document, as generated from the types.
pub fn json_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA
        .get_or_init(|| serde_json::to_value(schemars::schema_for!(Platform)).unwrap_or(Json::Null))
}

/// The JSON Schema of a tenant document (`kind: Tenant`).
pub fn tenant_json_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        serde_json::to_value(schemars::schema_for!(TenantDocument)).unwrap_or(Json::Null)
    })
}

/// The tenant schema as committed to `schema/tenant.schema.json`.
pub fn tenant_json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(tenant_json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The schema as committed to `schema/platform.schema.json` (pretty JSON, trailing newline).
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// A loaded, valid platform with everything later layers need to point back at the source.
#[derive(Debug, Clone)]
pub struct LoadedPlatform {
    /// The platform.
    pub platform: Platform,
    /// Spec path → source location.
    pub spans: SpanIndex,
    /// The catalogue extended with the spec's inline locations and server types.
    pub catalog: Catalog,
}

/// Loads the platform from every document of the given files.
///
/// Returns the platform when no error was found, and every diagnostic either way.
pub fn load(
    files: &[FileId],
    sources: &Sources,
    catalog: &Catalog,
) -> (Option<LoadedPlatform>, Vec<Diagnostic>) {
    let (loaded, diagnostics) = load_for_check(files, sources, catalog);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    (loaded, diagnostics)
}

/// True for loader errors that leave a platform every rule can still judge: a plaintext
/// secret is reported and its value dropped, and nothing else about the spec is in doubt; a
/// provider type, server type or location the catalogue does not describe leaves the spec
/// well-formed, only without provider facts for that object, and rules that need those facts
/// skip it (an EOL Kubernetes version or a two-member etcd on an unknown provider is still
/// reported in the same run).
pub fn checkable_despite(d: &Diagnostic) -> bool {
    d.code == codes::PLAINTEXT_SECRET
        || d.code == hafen_catalog::codes::UNKNOWN_PROVIDER_TYPE
        || d.code == hafen_catalog::codes::UNKNOWN_SERVER_TYPE
        || d.code == hafen_catalog::codes::UNKNOWN_LOCATION
}

/// Like [`load`], but also returns the platform when its only errors are ones the rules can
/// be run past ([`checkable_despite`]: plaintext secrets, whose values are removed, and
/// objects the catalogue does not know), so that `check` reports everything in one run.
/// Never plan or render what this returns when it comes with errors; [`load`] is the gate
/// for those.
pub fn load_for_check(
    files: &[FileId],
    sources: &Sources,
    catalog: &Catalog,
) -> (Option<LoadedPlatform>, Vec<Diagnostic>) {
    let limits = Limits::default();
    let mut diagnostics = Vec::new();
    let mut platform_docs: Vec<Node> = Vec::new();
    let mut tenant_docs: Vec<Node> = Vec::new();
    for &file in files {
        let Some(source) = sources.get(file) else { continue };
        let (docs, diags) = hafen_yaml::parse(&source.text, file, &limits);
        diagnostics.extend(diags);
        for doc in docs {
            if matches!(doc.value, Value::Null) {
                continue;
            }
            match check_kind(&doc) {
                Err(d) => diagnostics.push(d),
                Ok(DocKind::Platform) => platform_docs.push(doc),
                Ok(DocKind::Tenant) => tenant_docs.push(doc),
            }
        }
    }
    if platform_docs.len() != 1 {
        if diagnostics.is_empty() || !platform_docs.is_empty() {
            let mut d = Diagnostic::error(
                codes::PLATFORM_COUNT,
                format!(
                    "expected exactly one `kind: Platform` document, found {}",
                    platform_docs.len()
                ),
            );
            if let Some(second) = platform_docs.get(1) {
                d = d
                    .with_span(Some(second.span))
                    .with_label(Some(platform_docs[0].span), "first platform here")
                    .with_help("keep one Platform document; split large platforms with YAML anchors or several clusters");
            } else {
                let at = files.first().map(|&f| Span::point(f, Pos { line: 1, col: 1 }));
                d = d.with_span(at).with_help(format!(
                    "start the file with `apiVersion: {API_VERSION}` and `kind: Platform`; `hafen init` writes a template"
                ));
            }
            diagnostics.push(d);
        }
        return (None, diagnostics);
    }
    let doc = platform_docs.remove(0);
    let control = hafen_yaml::text::control_characters(&doc, TEXT_RULES);
    let (platform, mut schema_diags) = schema::decode::<Platform>(&doc, json_schema(), "");
    drop_unknown_keys_reported(&mut schema_diags, &control);
    let mut schema_failed = !schema_diags.is_empty();
    // With structural errors, a repaired copy still lets the semantic pass report its
    // findings now rather than after the next edit.
    let platform = platform.or_else(|| {
        serde_json::from_value::<Platform>(schema::repair(&doc, &schema_diags, json_schema())).ok()
    });
    let mut spans = SpanIndex::new(doc);
    let mut reported = schema::reported_paths(&schema_diags);
    diagnostics.extend(schema_diags);
    reported.extend(control.iter().filter_map(|d| d.path.clone()));
    diagnostics.extend(control);
    let Some(mut platform) = platform else { return (None, diagnostics) };
    for tenant_doc in tenant_docs {
        let index = platform.spec.tenants.len();
        let to = format!("spec.tenants[{index}]");
        let mut control = hafen_yaml::text::control_characters(&tenant_doc, TEXT_RULES);
        let (tenant, mut diags) =
            schema::decode::<TenantDocument>(&tenant_doc, tenant_json_schema(), "");
        drop_unknown_keys_reported(&mut diags, &control);
        for d in &mut control {
            d.path = d.path.as_deref().map(|p| rekey_tenant_path(p, &to));
        }
        let tenant = tenant.or_else(|| {
            serde_json::from_value::<TenantDocument>(schema::repair(
                &tenant_doc,
                &diags,
                tenant_json_schema(),
            ))
            .ok()
        });
        schema_failed |= !diags.is_empty();
        reported.extend(schema::reported_paths(&diags).iter().map(|p| rekey_tenant_path(p, &to)));
        diagnostics.extend(diags);
        reported.extend(control.iter().filter_map(|d| d.path.clone()));
        diagnostics.extend(control);
        if let Some(tenant) = tenant {
            let renames = [("metadata.name", format!("{to}.name"))];
            spans.graft(&SpanIndex::new(tenant_doc), "spec", &to, &renames);
            platform.spec.tenants.push(tenant.into());
        }
    }
    let mut diags = secret::take_secrets(&mut platform, &spans);
    let (catalog, semantic) = validate::validate(&platform, &spans, catalog);
    provider_network_facts(&mut platform, &catalog);
    diags.extend(semantic);
    diagnostics.extend(
        diags
            .into_iter()
            .filter(|d| !d.path.as_deref().is_some_and(|p| schema::covered(&reported, p))),
    );
    if schema_failed || diagnostics.iter().any(|d| d.is_error() && !checkable_despite(d)) {
        return (None, diagnostics);
    }
    (Some(LoadedPlatform { platform, spans, catalog }), diagnostics)
}

/// Copies the provider facts the pod MTU arithmetic needs onto the sites: the MTU of the
/// provider's private network, the default underlay of a site that declares one.
fn provider_network_facts(platform: &mut Platform, catalog: &Catalog) {
    let spec = &mut platform.spec;
    for site in &mut spec.sites {
        if site.network.private_network.is_none() {
            continue;
        }
        let provider_type =
            spec.providers.iter().find(|p| p.name == site.provider).map(|p| p.type_.as_str());
        site.network.private_network_mtu = provider_type
            .and_then(|t| catalog.provider(t))
            .and_then(|info| info.limits.as_ref())
            .and_then(|l| l.private_network_mtu);
    }
}

/// Free text for people (a tab or a line break is part of it), and the mappings whose values
/// may be secrets (SPEC011 looks at the same ones), for the control-character scan.
const TEXT_RULES: hafen_yaml::text::TextRules<'static> = hafen_yaml::text::TextRules {
    free_text: &["description", "reason"],
    hidden: &["env", "labels"],
};

/// A key with a control character is not a field name either; the control character is the
/// finding (SPEC012), not a second "unknown field" at the same place.
fn drop_unknown_keys_reported(schema_diags: &mut Vec<Diagnostic>, control: &[Diagnostic]) {
    schema_diags.retain(|d| {
        d.code != hafen_yaml::codes::UNKNOWN_FIELD
            || !control.iter().any(|c| c.path.is_some() && c.path == d.path)
    });
}

/// The merged-platform path of a path inside a tenant document.
fn rekey_tenant_path(path: &str, to: &str) -> String {
    match path {
        "metadata.name" => format!("{to}.name"),
        _ => path
            .strip_prefix("spec")
            .map(|rest| format!("{to}{rest}"))
            .unwrap_or_else(|| path.to_owned()),
    }
}

enum DocKind {
    Platform,
    Tenant,
}

fn check_kind(doc: &Node) -> Result<DocKind, Diagnostic> {
    let Value::Map(_) = doc.value else {
        return Err(Diagnostic::error(
            codes::UNKNOWN_KIND,
            format!("a document must be a mapping, found {}", doc.value.kind_name()),
        )
        .with_span(Some(doc.span))
        .with_help(format!(
            "start the document with `apiVersion: {API_VERSION}` and `kind: Platform`"
        )));
    };
    let kind = doc.get("kind");
    match kind.and_then(|k| k.value.as_str()) {
        Some("Platform") | None => Ok(DocKind::Platform),
        Some("Tenant") => Ok(DocKind::Tenant),
        Some(other) => Err(
            Diagnostic::error(codes::UNKNOWN_KIND, format!("unknown document kind `{other}`"))
                .with_span(kind.map(|k| k.value.span))
                .with_span_label("not a kind Hafen reads")
                .with_help("use `kind: Platform` (once) and `kind: Tenant` (one per tenant file); catalogue files are passed with `--catalog`"),
        ),
    }
}

/// Loads from text in one call, for tests and tools. Registers the text as `name`.
pub fn load_str(
    name: &str,
    text: &str,
    sources: &mut Sources,
    catalog: &Catalog,
) -> (Option<LoadedPlatform>, Vec<Diagnostic>) {
    let file = sources.add(name, text);
    load(&[file], sources, catalog)
}

/// True when `name` is a DNS-1123 label: 1–63 of `a-z0-9-`, not starting or ending with `-`.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

impl Cluster {
    /// The effective environment of this cluster.
    pub fn environment(&self, platform: &PlatformSpec) -> Environment {
        self.environment.unwrap_or(platform.environment)
    }

    /// Sites of the control-plane nodes, in placement order.
    pub fn control_plane_sites(&self) -> Vec<&str> {
        if self.control_plane.sites.is_empty() {
            vec![self.site.as_str()]
        } else {
            self.control_plane.sites.iter().map(String::as_str).collect()
        }
    }

    /// The site of a node pool.
    pub fn pool_site<'a>(&'a self, pool: &'a NodePool) -> &'a str {
        pool.site.as_deref().unwrap_or(&self.site)
    }

    /// Every site this cluster has nodes at, primary first.
    pub fn sites(&self) -> Vec<&str> {
        let mut out = vec![self.site.as_str()];
        for site in self
            .control_plane_sites()
            .into_iter()
            .chain(self.node_pools.iter().map(|p| self.pool_site(p)))
        {
            if !out.contains(&site) {
                out.push(site);
            }
        }
        out
    }
}

impl NodePool {
    /// Roles, defaulting to `[worker]`.
    pub fn roles(&self) -> Vec<NodeRole> {
        if self.roles.is_empty() { vec![NodeRole::Worker] } else { self.roles.clone() }
    }

    /// True when ordinary workloads may run here.
    pub fn runs_workloads(&self) -> bool {
        self.roles()
            .iter()
            .any(|r| matches!(r, NodeRole::Worker | NodeRole::Ingress | NodeRole::Storage))
    }

    /// True when tenant apps can be scheduled here: the pool runs workloads and carries no
    /// `NoSchedule` or `NoExecute` taint (tenant apps carry no tolerations).
    pub fn takes_tenant_pods(&self) -> bool {
        self.runs_workloads()
            && !self.taints.iter().any(|t| t.ends_with(":NoSchedule") || t.ends_with(":NoExecute"))
    }
}

impl App {
    /// Bytes of one copy of the app's volumes: a shared volume once, a per-replica volume once
    /// per replica, as the rendered claims (unparsable sizes count as 0; the loader reports them).
    pub fn volume_bytes(&self) -> u64 {
        self.volumes.iter().fold(0u64, |total, v| {
            let size = quantity::bytes(&v.size).unwrap_or(0);
            let copies = if v.shared { 1 } else { u64::from(self.replicas) };
            total.saturating_add(size.saturating_mul(copies))
        })
    }

    /// Effective spread.
    pub fn spread(&self) -> Spread {
        self.spread.unwrap_or(if self.replicas >= 2 { Spread::Node } else { Spread::None })
    }

    /// Effective minimum available replicas during voluntary disruption.
    pub fn min_available(&self) -> u32 {
        self.min_available.unwrap_or(self.replicas.saturating_sub(1))
    }

    /// Effective container port.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(8080)
    }
}

impl PlatformSpec {
    /// A provider by name.
    pub fn provider(&self, name: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.name == name)
    }

    /// A site by name.
    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.name == name)
    }

    /// A cluster by name.
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The provider of a site.
    pub fn site_provider(&self, site: &str) -> Option<&Provider> {
        self.site(site).and_then(|s| self.provider(&s.provider))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = include_str!("../../../tests/rules/base.yaml");

    fn load_text(text: &str) -> (Option<LoadedPlatform>, Vec<Diagnostic>, Sources) {
        let mut sources = Sources::new();
        let (catalog, _) = Catalog::builtin(&mut sources);
        let file = sources.add("p.yaml", text);
        let (loaded, diagnostics) = load_for_check(&[file], &sources, &catalog);
        (loaded, diagnostics, sources)
    }

    fn edit(pairs: &[(&str, &str)]) -> String {
        let mut text = BASE.to_owned();
        for (from, to) in pairs {
            assert!(text.contains(from), "{from}");
            text = text.replacen(from, to, 1);
        }
        text
    }

    fn found<'d>(diagnostics: &'d [Diagnostic], code: &str, path: &str) -> &'d Diagnostic {
        diagnostics
            .iter()
            .find(|d| d.code == code && d.path.as_deref() == Some(path))
            .unwrap_or_else(|| panic!("no {code} at {path}: {diagnostics:#?}"))
    }

    #[test]
    fn the_base_fixture_loads_cleanly() {
        let (loaded, diagnostics, _) = load_text(BASE);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        assert!(loaded.is_some());
    }

    #[test]
    fn sizes_that_drive_planning_are_capped_with_a_located_fix() {
        let (loaded, diagnostics, _) = load_text(&edit(&[
            ("count: 3 }", "count: 1000000000 }"),
            (
                "controlPlane: { replicas: 3, serverType: cpx32 }",
                "controlPlane: { replicas: 100001, serverType: cpx32 }",
            ),
            ("replicas: 2\n", "replicas: 4000000000\n"),
        ]));
        assert!(loaded.is_none());
        for path in [
            "spec.clusters[0].nodePools[0].count",
            "spec.clusters[0].controlPlane.replicas",
            "spec.tenants[0].apps[0].replicas",
        ] {
            let d = found(&diagnostics, hafen_yaml::codes::INVALID_VALUE, path);
            assert!(d.span.is_some() && d.help.is_some(), "{d:#?}");
        }
    }

    #[test]
    fn platform_totals_are_capped_too() {
        let pools: String = (0..11)
            .map(|i| format!("        - {{ name: w{i}, serverType: cpx42, count: 5000 }}\n"))
            .collect();
        let text = edit(&[("        - { name: workers, serverType: cpx42, count: 3 }\n", &pools)]);
        let (loaded, diagnostics, _) = load_text(&text);
        assert!(loaded.is_none());
        let d = diagnostics
            .iter()
            .find(|d| d.message.contains("cluster `prod-nbg` has 55003 nodes"))
            .expect("cluster total");
        assert!(d.span.is_some() && d.help.is_some());
        assert_eq!(d.path.as_deref(), Some("spec.clusters[0].nodePools[0].count"));
        assert_eq!(
            diagnostics.len(),
            1,
            "counted at the cap, the platform is within its own: {diagnostics:#?}"
        );
        // Eleven clusters of 5,000 nodes are each fine, but not all together.
        let from = BASE.find("    - name: prod-fsn").unwrap();
        let cluster = &BASE[from..BASE.find("  tenants:").unwrap()];
        let mut clusters = String::new();
        for k in 0..11 {
            clusters.push_str(
                &cluster
                    .replace("name: prod-fsn", &format!("name: c{k}"))
                    .replace("count: 3 }", "count: 4997 }")
                    .replace("10.110.0.0/16", &format!("10.{}.0.0/16", 120 + k))
                    .replace("10.111.0.0/16", &format!("10.{}.0.0/16", 140 + k)),
            );
        }
        let text = BASE.replace(cluster, &clusters);
        let (_, diagnostics, _) = load_text(&text);
        let d = diagnostics
            .iter()
            .find(|d| d.message.contains("the platform has 55006 nodes over all clusters"))
            .unwrap_or_else(|| panic!("{diagnostics:#?}"));
        assert!(d.span.is_some() && d.help.is_some());
    }

    #[test]
    fn replicas_per_cluster_are_capped_where_kubernetes_stops() {
        let apps: String = (0..16)
            .map(|k| format!("        - {{ name: a{k}, image: registry.example.eu/shop/a:1, replicas: 10000, resources: {{ cpu: 1m, memory: 1Mi }} }}\n"))
            .collect();
        let text = edit(&[("clusters: [prod-nbg, prod-fsn]", "clusters: [prod-nbg]")]);
        let text = text.replacen("      apps:\n", &format!("      apps:\n{apps}"), 1);
        let (loaded, diagnostics, _) = load_text(&text);
        assert!(loaded.is_none());
        let d = diagnostics
            .iter()
            .find(|d| d.message.contains("cluster `prod-nbg` runs 160002 replicas"))
            .unwrap_or_else(|| panic!("{diagnostics:#?}"));
        assert_eq!(d.path.as_deref(), Some("spec.tenants[0].apps[0].replicas"));
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    }

    #[test]
    fn an_integer_type_error_does_not_hide_reference_and_duplicate_errors() {
        for bad in ["onCall: three", "onCall: -3"] {
            let text = edit(&[
                ("onCall: 3", bad),
                ("clusters: [prod-nbg, prod-fsn]", "clusters: [prod-nbg, prod-nowhere]"),
                ("serverType: cpx42", "serverType: cpx4200"),
                (
                    "controlPlane: { replicas: 3, serverType: cpx32 }",
                    "controlPlane: { replicas: three, serverType: cpx32 }",
                ),
            ]) + "    - name: shop\n      clusters: [prod-nbg]\n";
            let (loaded, diagnostics, _) = load_text(&text);
            assert!(loaded.is_none());
            let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
            for code in ["SPEC002", "SPEC005", "SPEC006", "CAT002"] {
                assert!(codes.contains(&code), "{bad}: {code} missing: {diagnostics:#?}");
            }
            // The stand-ins never show: nothing is reported twice at the same path.
            let mut paths: Vec<&str> =
                diagnostics.iter().filter_map(|d| d.path.as_deref()).collect();
            let all = paths.len();
            paths.sort_unstable();
            paths.dedup();
            assert_eq!(paths.len(), all, "{diagnostics:#?}");
        }
    }

    #[test]
    fn a_misspelt_required_key_with_a_wrong_value_does_not_hide_other_errors() {
        let text = edit(&[
            // A typo of a required key, with a value that would not fit it either.
            ("      site: nbg\n", "      sitess: [x]\n"),
            // A required mapping missing, a pool written as a word, a misspelt mapping key
            // whose value is wrong inside.
            (
                "      controlPlane: { replicas: 3, serverType: cpx32 }\n      nodePools:\n        - { name: workers, serverType: cpx42, count: 3 }\n      network: { encryption: wireguard, podCIDR: 10.110.0.0/16",
                "      nodePools: [workers]\n      netwrk: { encryption: wirequard, podCIDR: 10.110.0.0/16",
            ),
            // ... and broken references and formats elsewhere, reported in the same run.
            ("clusters: [prod-nbg, prod-fsn]", "clusters: [prod-nbg, prod-nowhere]"),
            (
                "image: registry.example.eu/shop/web:1.4.2",
                "image: \"Registry.example.eu/Shop/web:1.4.2\"",
            ),
            ("certificates: { email: ops@example.eu }", "certificates: { email: ops }"),
        ]);
        let (loaded, diagnostics, _) = load_text(&text);
        assert!(loaded.is_none());
        let paths: Vec<(&str, &str)> =
            diagnostics.iter().map(|d| (d.code, d.path.as_deref().unwrap_or(""))).collect();
        for want in [
            ("SPEC001", "spec.clusters[0].sitess"),
            ("SPEC003", "spec.clusters[1].controlPlane"),
            ("SPEC002", "spec.clusters[1].nodePools[0]"),
            ("SPEC001", "spec.clusters[1].netwrk"),
            // What is wrong inside the misspelt mapping, at the key it will have.
            ("SPEC004", "spec.clusters[1].network.encryption"),
            ("SPEC006", "spec.tenants[0].clusters[1]"),
            ("SPEC008", "spec.tenants[0].apps[0].image"),
            ("SPEC008", "spec.clusters[0].certificates.email"),
        ] {
            assert!(paths.contains(&want), "{want:?} missing: {paths:#?}");
        }
        // The stand-ins never show: nothing at or below a path the schema pass reported.
        let mut seen: Vec<&str> = paths.iter().map(|(_, p)| *p).collect();
        let all = seen.len();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), all, "{diagnostics:#?}");
        assert!(
            !paths.iter().any(|(_, p)| (p.starts_with("spec.clusters[1].network")
                && *p != "spec.clusters[1].network.encryption")
                || p.starts_with("spec.clusters[1].controlPlane.")
                || p.starts_with("spec.clusters[1].nodePools[0].")
                || *p == "spec.clusters[0].site"),
            "{paths:#?}"
        );
        assert!(
            !diagnostics.iter().any(|d| d.help.as_deref().is_some_and(|h| h.contains("``"))),
            "a blank stand-in name is never suggested: {diagnostics:#?}"
        );
    }

    #[test]
    fn malformed_image_references_are_located_errors() {
        for image in [
            "\"reg.example.org/x:1\\e[2J\"",
            "Reg.Example.org/UPPER/x:1",
            "\"reg.example.org/x:1 --privileged\"",
        ] {
            let (loaded, diagnostics, _) =
                load_text(&edit(&[("registry.example.eu/shop/web:1.4.2", image)]));
            assert!(loaded.is_none(), "{image}");
            // A control character is that finding alone, not also a malformed reference.
            let code = if image.contains("\\e") {
                codes::CONTROL_CHARACTER
            } else {
                codes::INVALID_FORMAT
            };
            let d = found(&diagnostics, code, "spec.tenants[0].apps[0].image");
            assert!(d.span.is_some() && d.help.is_some(), "{d:#?}");
            assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        }
        let (_, diagnostics, _) = load_text(&edit(&[(
            "registry.example.eu/shop/web:1.4.2",
            "Reg.Example.org/UPPER/x:1",
        )]));
        assert_eq!(diagnostics[0].help.as_deref(), Some("write `reg.example.org/upper/x:1`"));
    }

    #[test]
    fn a_plaintext_secret_is_an_error_that_leaves_the_platform_checkable() {
        let text = edit(&[(
            "resources: { cpu: 250m, memory: 512Mi }\n",
            "resources: { cpu: 250m, memory: 512Mi }\n          env: { DATABASE_PASSWORD: hunter2, GH: ghp_abcdefghijklmnopqrstuvwxyz0123456789, LOG_LEVEL: info, SECRET_STORE: openbao, API_KEY_HEADER: X-Api-Key }\n",
        )]);
        let (loaded, diagnostics, _) = load_text(&text);
        let secrets: Vec<&Diagnostic> =
            diagnostics.iter().filter(|d| d.code == codes::PLAINTEXT_SECRET).collect();
        assert_eq!(secrets.len(), 2, "{diagnostics:#?}");
        assert!(secrets.iter().all(|d| d.redact && d.span.is_some()));
        assert_eq!(diagnostics.len(), 2, "only the two secrets: {diagnostics:#?}");
        let loaded = loaded.expect("checkable");
        let env = &loaded.platform.spec.tenants[0].apps[0].env;
        assert_eq!(env.keys().collect::<Vec<_>>(), ["API_KEY_HEADER", "LOG_LEVEL", "SECRET_STORE"]);
        // ... but never plannable or renderable.
        let mut sources = Sources::new();
        let (catalog, _) = Catalog::builtin(&mut sources);
        assert!(load_str("p.yaml", &text, &mut sources, &catalog).0.is_none());
    }

    #[test]
    fn objects_the_catalogue_does_not_know_leave_the_platform_checkable_but_not_loadable() {
        let text = edit(&[("type: hetzner-cloud", "type: hetzner-clod")]);
        let (loaded, diagnostics, _) = load_text(&text);
        assert!(diagnostics.iter().any(|d| d.code == "CAT001"), "{diagnostics:#?}");
        assert!(loaded.is_some(), "CAT001 alone leaves the spec checkable: {diagnostics:#?}");
        let text = edit(&[("serverType: cpx42", "serverType: cpx4200")]);
        let (loaded, diagnostics, _) = load_text(&text);
        assert!(diagnostics.iter().all(|d| d.code == "CAT002"), "{diagnostics:#?}");
        assert!(loaded.is_some());
        // ... but never plannable or renderable.
        let mut sources = Sources::new();
        let (catalog, _) = Catalog::builtin(&mut sources);
        assert!(load_str("p.yaml", &text, &mut sources, &catalog).0.is_none());
        // A structural error next to it still stops the rules.
        let text =
            edit(&[("serverType: cpx42", "serverType: cpx4200"), ("onCall: 3", "onCall: x")]);
        assert!(load_text(&text).0.is_none());
    }

    #[test]
    fn a_private_network_without_underlay_mtu_carries_the_providers_mtu() {
        let text = edit(&[(
            "network: { underlayMTU: 1450, privateNetwork: { subnet: 10.0.0.0/16 } }",
            "network: { privateNetwork: { subnet: 10.0.0.0/16 } }",
        )]);
        let (loaded, diagnostics, _) = load_text(&text);
        let loaded = loaded.unwrap_or_else(|| panic!("{diagnostics:#?}"));
        let spec = &loaded.platform.spec;
        let cluster = &spec.clusters[0];
        let under = mtu::underlay(spec, cluster);
        assert_eq!((under.mtu, under.source.as_str()), (1450, "the provider's private network"));
        assert_eq!(under.path.as_deref(), Some("spec.sites[0].network.privateNetwork"));
        // WireGuard over IPv4: 1450 − 60, as if `underlayMTU: 1450` were written.
        assert_eq!(mtu::pod_mtu(spec, cluster), 1390);
        // A provider fact, not a spec field: the canonical spec does not grow an MTU.
        let yaml = serde_json::to_string(&loaded.platform).unwrap_or_default();
        assert!(
            !yaml.contains("privateNetworkMtu") && yaml.contains("\"underlayMTU\":null"),
            "{yaml}"
        );
    }

    #[test]
    fn secrets_in_labels_are_found_by_shape() {
        let text = edit(&[(
            "  name: fixture\n",
            "  name: fixture\n  labels: { api-token: ghp_abcdefghijklmnopqrstuvwxyz0123456789, team: web }\n",
        )]);
        let (loaded, diagnostics, _) = load_text(&text);
        let d = found(&diagnostics, codes::PLAINTEXT_SECRET, "metadata.labels.api-token");
        assert!(d.notes[0].contains("looks like a GitHub personal access token"), "{d:#?}");
        assert_eq!(loaded.unwrap().platform.metadata.labels.len(), 1);
    }

    #[test]
    fn control_characters_are_one_finding_each_and_never_reach_the_render() {
        let text = edit(&[
            ("        - name: web\n", "        - name: \"we\\tb\"\n"),
            ("  name: fixture\n", "  name: fixture\n  \"descr\\eiption\": x\n"),
        ]);
        let (loaded, diagnostics, _) = load_text(&text);
        assert!(loaded.is_none());
        let codes: Vec<(&str, Option<&str>)> =
            diagnostics.iter().map(|d| (d.code, d.path.as_deref())).collect();
        assert_eq!(
            codes,
            [
                (codes::CONTROL_CHARACTER, Some("metadata.descr\u{1b}iption")),
                (codes::CONTROL_CHARACTER, Some("spec.tenants[0].apps[0].name")),
            ],
            "not also an unknown field or a name that is no DNS label: {diagnostics:#?}"
        );
        // A tenant file's findings carry the merged path, and its own text in the message.
        let mut sources = Sources::new();
        let (catalog, _) = Catalog::builtin(&mut sources);
        let main = sources.add("p.yaml", BASE);
        let tenant = sources.add(
            "t.yaml",
            "apiVersion: hafen.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ops }\nspec: { clusters: [prod-nbg], group: \"a\\rb\" }\n",
        );
        let (loaded, diagnostics) = load_for_check(&[main, tenant], &sources, &catalog);
        assert!(loaded.is_none());
        assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
        assert_eq!(diagnostics[0].path.as_deref(), Some("spec.tenants[1].group"));
        assert!(diagnostics[0].message.contains("carriage return"), "{:?}", diagnostics[0]);
    }

    #[test]
    fn a_name_with_nothing_to_keep_still_gets_a_fix() {
        let (_, diagnostics, _) =
            load_text(&edit(&[("        - name: web\n", "        - name: \".\"\n")]));
        let d = found(&diagnostics, codes::INVALID_NAME, "spec.tenants[0].apps[0].name");
        assert!(d.help.as_deref().is_some_and(|h| h.contains("`app-1`")), "{d:#?}");
    }
}
