//! The platform components a cluster gets, as data: chart, version, image sources, external
//! endpoints and per-node daemon requests. The renderer and the planner both read this list, so
//! the daemon overhead the planner subtracts and the requests the renderer writes never drift.
//!
//! Facts (versions, repositories, requests, operators) live in `data/components.yaml`, embedded
//! at compile time; which components a cluster gets follows from the spec.

use hafen_spec::{
    Cluster, IngressController, LoadedPlatform, LogsStack, MetricsStack, NodePool, NodeRole, Os,
    PlatformSpec, SecretsBackend, StorageDriver,
};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const DATA: &str = include_str!("../../../data/components.yaml");

/// A Helm chart pinned to one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Chart {
    /// Chart repository URL (`https://…`).
    pub repository: String,
    /// Chart name in the repository.
    pub name: String,
    /// Pinned chart version.
    pub version: String,
}

/// A chart taken from a Git repository at a tag (for projects without a chart repository).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitChart {
    /// Clone URL.
    pub url: String,
    /// Tag.
    pub tag: String,
    /// Chart folder inside the repository.
    pub path: String,
}

/// Where a daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DaemonNodes {
    /// Every node, control plane included.
    All,
    /// Every node that is not control plane.
    Workers,
    /// Nodes of pools with role `storage`.
    Storage,
}

/// A per-node pod of a component (a DaemonSet) and what it requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Daemon {
    /// Pod name prefix.
    pub name: String,
    /// CPU request as written into the values, e.g. `100m`.
    pub cpu: String,
    /// Memory request as written into the values, e.g. `256Mi`.
    pub memory: String,
    /// The CPU request in millicores.
    pub cpu_millis: u64,
    /// The memory request in bytes.
    pub memory_bytes: u64,
    /// Where it runs.
    pub nodes: DaemonNodes,
}

impl Daemon {
    /// True when this daemon runs on a node of `pool` of `cluster`, or on one of its
    /// control-plane nodes for `None` (workers' daemons run there too when the control plane
    /// is schedulable).
    pub fn runs_on(&self, cluster: &Cluster, pool: Option<&NodePool>) -> bool {
        match (self.nodes, pool) {
            (DaemonNodes::All, _) => true,
            (DaemonNodes::Workers, Some(_)) => true,
            (DaemonNodes::Workers, None) => cluster.control_plane.schedulable,
            (DaemonNodes::Storage, Some(pool)) => pool.roles().contains(&NodeRole::Storage),
            (DaemonNodes::Storage, None) => {
                cluster.control_plane.schedulable && cluster.node_pools.is_empty()
            }
        }
    }
}

/// Who operates a host, for the sovereignty bill of materials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Operator {
    /// Host name or domain suffix it applies to.
    pub host: String,
    /// Company or project operating it.
    pub operator: String,
    /// ISO 3166 country of the operator's seat.
    pub country: Option<String>,
    /// True when a US company controls the operator.
    pub us_parent: bool,
}

/// An external service a component calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// What for: `chart-repository`, `image-registry`, `registry-mirror`, `acme`, `dns`, `ntp`,
    /// `discovery`, `git`, `object-storage`, `secret-store`, `provider-api`, `image-factory`, …
    pub purpose: String,
    /// URL or host as written.
    pub url: String,
    /// Host name extracted from the URL.
    pub host: String,
    /// Operator facts when the host is known to the data file.
    pub operator: Option<Operator>,
}

/// One rendered platform component of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// Stable id, e.g. `cilium`.
    pub name: String,
    /// Name for people.
    pub display_name: String,
    /// What it does here.
    pub purpose: String,
    /// Namespace it runs in.
    pub namespace: String,
    /// Application version.
    pub version: String,
    /// The chart, when delivered as a Helm release.
    pub chart: Option<Chart>,
    /// The chart's Git source, when there is no chart repository.
    pub git: Option<GitChart>,
    /// Image repositories it pulls (upstream names, before any mirror).
    pub images: Vec<String>,
    /// Registry hosts of those images, sorted.
    pub registries: Vec<String>,
    /// The pull-through mirror nodes pull through, when the cluster has one.
    pub mirror: Option<String>,
    /// External services it calls (chart repository, registries, ACME, DNS, NTP, …).
    pub endpoints: Vec<Endpoint>,
    /// Per-node daemons and their requests.
    pub daemons: Vec<Daemon>,
    /// Tags of auxiliary images the values name (plugins, webhooks).
    pub pins: std::collections::BTreeMap<String, String>,
    /// Where the version facts come from.
    pub source: String,
    /// When they were read.
    pub date: String,
    /// False when a version was inferred rather than read.
    pub verified: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawDaemon {
    name: String,
    cpu: String,
    memory: String,
    nodes: DaemonNodes,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawEndpoint {
    purpose: String,
    url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawComponent {
    name: String,
    display_name: String,
    purpose: String,
    namespace: String,
    version: String,
    #[serde(default)]
    chart: Option<Chart>,
    #[serde(default)]
    git: Option<GitChart>,
    #[serde(default)]
    images: Vec<String>,
    #[serde(default)]
    endpoints: Vec<RawEndpoint>,
    #[serde(default)]
    daemons: Vec<RawDaemon>,
    #[serde(default)]
    pins: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    #[allow(dead_code)]
    requests_source: Option<String>,
    source: String,
    date: String,
    verified: bool,
}

/// Defaults the renderer uses when the spec does not say.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Defaults {
    /// Talos version when a cluster names none.
    pub talos_version: String,
    /// Where that choice comes from.
    pub talos_version_source: String,
    /// When.
    pub talos_version_date: String,
    /// NTP servers when a cluster names none.
    pub time_servers: Vec<String>,
    /// Where they come from.
    pub time_servers_source: String,
    /// When.
    pub time_servers_date: String,
    /// ACME directory when a cluster names none.
    pub acme_server: String,
    /// Where it comes from.
    pub acme_server_source: String,
    /// When.
    pub acme_server_date: String,
    /// Talos Image Factory.
    pub image_factory: String,
    /// Sidero Labs' public discovery service (used only when discovery is enabled without an endpoint).
    pub discovery_service: String,
    /// Hetzner Cloud system image the servers of K3s clusters are created from.
    pub hcloud_k3s_image: String,
    /// Where that choice comes from.
    pub hcloud_k3s_image_source: String,
    /// When.
    pub hcloud_k3s_image_date: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawFile {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    defaults: Defaults,
    components: Vec<RawComponent>,
    operators: Vec<Operator>,
    #[allow(dead_code)]
    operators_source: String,
    #[allow(dead_code)]
    operators_date: String,
}

/// The parsed data file.
#[derive(Debug, Clone)]
pub struct Data {
    /// Defaults.
    pub defaults: Defaults,
    /// Every known component, with daemon requests parsed.
    pub components: Vec<Component>,
    /// Host operators.
    pub operators: Vec<Operator>,
}

/// The embedded component data. The file is checked by this crate's tests; should it ever be
/// broken, every lookup finds nothing rather than panicking.
pub fn data() -> &'static Data {
    static DATA_CELL: OnceLock<Data> = OnceLock::new();
    DATA_CELL.get_or_init(|| parse(DATA).unwrap_or_else(|_| empty()))
}

fn empty() -> Data {
    Data {
        defaults: Defaults {
            talos_version: String::new(),
            talos_version_source: String::new(),
            talos_version_date: String::new(),
            time_servers: Vec::new(),
            time_servers_source: String::new(),
            time_servers_date: String::new(),
            acme_server: String::new(),
            acme_server_source: String::new(),
            acme_server_date: String::new(),
            image_factory: String::new(),
            discovery_service: String::new(),
            hcloud_k3s_image: String::new(),
            hcloud_k3s_image_source: String::new(),
            hcloud_k3s_image_date: String::new(),
        },
        components: Vec::new(),
        operators: Vec::new(),
    }
}

/// Parses a components data file (the embedded one, or a test's).
pub(crate) fn parse(text: &str) -> Result<Data, String> {
    let limits = hafen_yaml::Limits::default();
    let (docs, diagnostics) = hafen_yaml::parse(text, hafen_diag::FileId(u32::MAX), &limits);
    if let Some(d) = diagnostics.first() {
        return Err(d.message.clone());
    }
    let doc = docs.first().ok_or("empty components file")?;
    let raw: RawFile = serde_json::from_value(doc.to_json()).map_err(|e| e.to_string())?;
    let mut components = Vec::new();
    for c in raw.components {
        let mut daemons = Vec::new();
        for d in c.daemons {
            let cpu_millis = hafen_spec::quantity::cpu_millis(&d.cpu)
                .ok_or(format!("{}: bad cpu `{}`", c.name, d.cpu))?;
            let memory_bytes = hafen_spec::quantity::bytes(&d.memory)
                .ok_or(format!("{}: bad memory `{}`", c.name, d.memory))?;
            daemons.push(Daemon {
                name: d.name,
                cpu: d.cpu,
                memory: d.memory,
                cpu_millis,
                memory_bytes,
                nodes: d.nodes,
            });
        }
        let endpoints = c
            .endpoints
            .into_iter()
            .map(|e| endpoint_with(&raw.operators, &e.purpose, &e.url))
            .collect();
        components.push(Component {
            registries: registries(&c.images),
            name: c.name,
            display_name: c.display_name,
            purpose: c.purpose,
            namespace: c.namespace,
            version: c.version,
            chart: c.chart,
            git: c.git,
            images: c.images,
            mirror: None,
            endpoints,
            daemons,
            pins: c.pins,
            source: c.source,
            date: c.date,
            verified: c.verified,
        });
    }
    Ok(Data { defaults: raw.defaults, components, operators: raw.operators })
}

fn registries(images: &[String]) -> Vec<String> {
    let mut out: Vec<String> = images
        .iter()
        .map(|i| i.split('/').next().unwrap_or_default().to_owned())
        .filter(|h| !h.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The host part of a URL or host string (`https://a.b:8443/x` → `a.b`).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let host = if rest.starts_with('[') {
        rest.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or_default().to_owned()
    };
    host.to_ascii_lowercase()
}

/// The operator of a host: an exact entry, else the entry for its closest parent domain.
pub fn operator_of<'a>(operators: &'a [Operator], host: &str) -> Option<&'a Operator> {
    let mut candidate = host;
    loop {
        if let Some(op) = operators.iter().find(|o| o.host == candidate) {
            return Some(op);
        }
        let (_, parent) = candidate.split_once('.')?;
        if !parent.contains('.') && parent != "io" {
            // Stop before bare top-level domains, except the `github.io`-style entries above.
            return operators.iter().find(|o| o.host == parent);
        }
        candidate = parent;
    }
}

fn endpoint_with(operators: &[Operator], purpose: &str, url: &str) -> Endpoint {
    let host = host_of(url);
    Endpoint {
        purpose: purpose.to_owned(),
        url: url.to_owned(),
        operator: operator_of(operators, &host).cloned(),
        host,
    }
}

/// An endpoint with operator facts from the data file.
pub(crate) fn endpoint(purpose: &str, url: &str) -> Endpoint {
    endpoint_with(&data().operators, purpose, url)
}

/// A component of the data file by name.
pub fn lookup(name: &str) -> Option<&'static Component> {
    data().components.iter().find(|c| c.name == name)
}

/// How a site's machines are provisioned, from its provider's catalogue type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// Hetzner Cloud servers (CAPH `HCloudMachineTemplate`).
    HetznerCloud,
    /// Hetzner Robot dedicated servers (CAPH `HetznerBareMetalMachineTemplate`).
    HetznerDedicated,
    /// Any other provider: machines are installed from rendered configuration files.
    Other,
}

/// The kind of a site.
pub fn site_kind(spec: &PlatformSpec, site: &str) -> SiteKind {
    match spec.site_provider(site).map(|p| p.type_.as_str()) {
        Some("hetzner-cloud") => SiteKind::HetznerCloud,
        Some("hetzner-dedicated") => SiteKind::HetznerDedicated,
        _ => SiteKind::Other,
    }
}

/// True when some site of the cluster is Hetzner Cloud.
pub(crate) fn has_cloud(spec: &PlatformSpec, cluster: &Cluster) -> bool {
    cluster.sites().iter().any(|s| site_kind(spec, s) == SiteKind::HetznerCloud)
}

/// True when some site of the cluster is not Hetzner Cloud (bare metal or own servers).
pub(crate) fn has_metal(spec: &PlatformSpec, cluster: &Cluster) -> bool {
    cluster.sites().iter().any(|s| site_kind(spec, s) != SiteKind::HetznerCloud)
}

/// True when an app deployed on `cluster` (or replicated to it) asks for Postgres.
pub(crate) fn needs_postgres(spec: &PlatformSpec, cluster: &Cluster) -> bool {
    spec.tenants.iter().any(|t| {
        t.apps.iter().any(|a| {
            a.postgres.as_ref().is_some_and(|pg| {
                t.clusters.contains(&cluster.name)
                    || pg.replica_cluster.as_deref() == Some(cluster.name.as_str())
            })
        })
    })
}

/// The storage driver a cluster uses by default (K3s brings local-path; Talos gets what the
/// spec names, or nothing).
pub(crate) fn storage_driver(cluster: &Cluster) -> Option<StorageDriver> {
    cluster.storage.as_ref().map(|s| s.default)
}

/// The delivery engine of the platform runs in each workload cluster only for Flux; Argo CD
/// runs once, in the management cluster.
fn delivery(spec: &PlatformSpec) -> &'static str {
    match spec.gitops.engine {
        hafen_spec::GitOpsEngine::Flux => "flux",
        hafen_spec::GitOpsEngine::Argocd => "argo-cd",
    }
}

/// The names of the components rendered into `cluster`, in install order.
pub(crate) fn names_for(spec: &PlatformSpec, cluster: &Cluster) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    names.push(match cluster.os {
        Os::Talos => "talos",
        Os::K3s => "k3s",
    });
    if delivery(spec) == "flux" {
        names.push("flux");
    }
    names.push("cilium");
    if has_cloud(spec, cluster) {
        names.push("hcloud-ccm");
        names.push("hcloud-csi");
    }
    if has_metal(spec, cluster) {
        names.push("metallb");
    }
    if cluster.ingress == IngressController::Traefik {
        names.push("traefik");
    }
    if cluster.certificates.is_some() {
        names.push("cert-manager");
    }
    if cluster.dns.is_some() {
        names.push("external-dns");
    }
    match storage_driver(cluster) {
        Some(StorageDriver::Piraeus) => names.push("piraeus"),
        Some(StorageDriver::Longhorn) => names.push("longhorn"),
        Some(StorageDriver::LocalPath) if cluster.os == Os::Talos => names.push("local-path"),
        _ => {}
    }
    if needs_postgres(spec, cluster) {
        names.push("cloudnative-pg");
    }
    if cluster.secrets.backend == SecretsBackend::Openbao {
        names.push("external-secrets");
        if cluster.secrets.address.is_none() {
            names.push("openbao");
        }
    }
    match cluster.monitoring.metrics {
        MetricsStack::VictoriaMetrics => names.push("victoria-metrics"),
        MetricsStack::Prometheus => names.push("kube-prometheus-stack"),
        MetricsStack::None => {}
    }
    if cluster.monitoring.logs == LogsStack::Loki {
        names.push("loki");
        names.push("fluent-bit");
    }
    if cluster.backups.is_some() {
        names.push("velero");
    }
    names
}

/// The components of the management cluster: Cluster API and its providers, and the delivery
/// engine (Flux applies `management/`; Argo CD, when chosen, runs here for every cluster).
pub fn management_components(loaded: &LoadedPlatform) -> Vec<Component> {
    let spec = &loaded.platform.spec;
    let mut names = vec!["cluster-api", "cabpt", "cacppt"];
    if spec.clusters.iter().any(|c| c.sites().iter().any(|s| site_kind(spec, s) != SiteKind::Other))
    {
        names.push("caph");
    }
    names.push(delivery(spec));
    let mut out: Vec<Component> = names.into_iter().filter_map(lookup).cloned().collect();
    for component in &mut out {
        add_delivery_endpoints(spec, component);
    }
    out
}

fn add_chart_endpoint(component: &mut Component) {
    if let Some(chart) = &component.chart {
        let e = endpoint("chart-repository", &chart.repository);
        component.endpoints.insert(0, e);
    }
    if let Some(git) = &component.git {
        let e = endpoint("chart-repository", &git.url);
        component.endpoints.insert(0, e);
    }
}

fn add_delivery_endpoints(spec: &PlatformSpec, component: &mut Component) {
    add_chart_endpoint(component);
    if component.name == "flux" || component.name == "argo-cd" {
        component.endpoints.push(endpoint("git", &spec.gitops.repo));
    }
    for registry in component.registries.clone() {
        component.endpoints.push(endpoint("image-registry", &registry));
    }
}

/// The upstream registries a cluster's pull-through mirror must serve: every registry an image
/// of the cluster's components or of its tenants' apps comes from (the README's dependency
/// table lists the same), except the mirror's own host. Sorted.
pub(crate) fn mirrored_registries(spec: &PlatformSpec, cluster: &Cluster) -> Vec<String> {
    let Some(mirror) = &cluster.registry_mirror else { return Vec::new() };
    let own = host_of(mirror);
    let mut out: Vec<String> = names_for(spec, cluster)
        .into_iter()
        .filter_map(lookup)
        .flat_map(|c| c.registries.clone())
        .collect();
    for t in spec.tenants.iter().filter(|t| t.clusters.contains(&cluster.name)) {
        out.extend(t.apps.iter().flat_map(|a| registries(std::slice::from_ref(&a.image))));
    }
    out.retain(|r| r != &own);
    out.sort();
    out.dedup();
    out
}

/// The endpoint of one upstream registry on a cluster's pull-through mirror: each upstream has
/// its own path (`<mirror>/v2/<upstream>`, a proxy-cache project per upstream), so the mirror
/// never has to guess which upstream an image name means.
pub(crate) fn mirror_endpoint(mirror: &str, registry: &str) -> String {
    format!("{}/v2/{registry}", mirror.trim_end_matches('/'))
}

/// The rendered components of `cluster`, each with its chart, images, endpoints and per-node
/// daemon requests. The list matches what [`crate::render`] writes for that cluster.
pub fn components(loaded: &LoadedPlatform, cluster: &Cluster) -> Vec<Component> {
    let spec = &loaded.platform.spec;
    let defaults = &data().defaults;
    let mut out = Vec::new();
    for name in names_for(spec, cluster) {
        let Some(base) = lookup(name) else { continue };
        let mut c = base.clone();
        c.mirror = cluster.registry_mirror.clone();
        if c.name == "talos" {
            c.version =
                cluster.os_version.clone().unwrap_or_else(|| defaults.talos_version.clone());
        }
        if c.name == "k3s" {
            c.version = crate::k3s::k3s_version(cluster);
        }
        add_delivery_endpoints(spec, &mut c);
        if let Some(mirror) = &cluster.registry_mirror {
            c.endpoints.push(endpoint("registry-mirror", mirror));
        }
        match c.name.as_str() {
            "talos" | "k3s" => {
                for server in crate::talos::time_servers(cluster) {
                    c.endpoints.push(endpoint("ntp", &server));
                }
                if c.name == "talos" {
                    c.endpoints.push(endpoint("image-factory", &defaults.image_factory));
                    if cluster.discovery.enabled {
                        let url = cluster
                            .discovery
                            .endpoint
                            .clone()
                            .unwrap_or_else(|| defaults.discovery_service.clone());
                        c.endpoints.push(endpoint("discovery", &url));
                    }
                }
            }
            "cert-manager" => {
                let acme = cluster
                    .certificates
                    .as_ref()
                    .and_then(|c| c.acme_server.clone())
                    .unwrap_or_else(|| defaults.acme_server.clone());
                c.endpoints.push(endpoint("acme", &acme));
            }
            "external-dns" => {
                if let Some(dns) = &cluster.dns {
                    let url = crate::platform::dns_endpoint(dns);
                    c.endpoints.push(endpoint("dns", &url));
                }
            }
            "velero" => {
                if let Some(b) = &cluster.backups {
                    let url = b.endpoint.clone().unwrap_or_else(|| b.target.clone());
                    c.endpoints.push(endpoint("object-storage", &url));
                }
            }
            "external-secrets" => {
                if let Some(address) = &cluster.secrets.address {
                    c.endpoints.push(endpoint("secret-store", address));
                }
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Sum of the daemon requests on one node of `pool` of `cluster` (`None`: a control-plane
/// node), as (millicores, bytes). `components` is what [`components`] returned for the cluster.
pub fn daemon_overhead(
    components: &[Component],
    cluster: &Cluster,
    pool: Option<&NodePool>,
) -> (u64, u64) {
    components
        .iter()
        .flat_map(|c| &c.daemons)
        .filter(|d| d.runs_on(cluster, pool))
        .fold((0, 0), |(cpu, mem), d| (cpu + d.cpu_millis, mem + d.memory_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_data_parses_and_every_component_is_dated_and_sourced() {
        let data = parse(DATA).expect("data/components.yaml parses");
        assert!(data.components.len() >= 20);
        for c in &data.components {
            assert!(hafen_catalog::parse_date(&c.date).is_some(), "{}: date {}", c.name, c.date);
            assert!(!c.source.trim().is_empty(), "{} has no source", c.name);
            if let Some(chart) = &c.chart {
                assert!(chart.repository.starts_with("https://"), "{}", c.name);
                assert!(!chart.version.is_empty());
            }
        }
        let mut names: Vec<&str> = data.components.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "component names are unique");
        assert!(!data.defaults.time_servers.is_empty());
    }

    #[test]
    fn a_broken_data_file_is_an_error_not_a_panic() {
        assert!(parse("components: [").is_err());
        assert!(parse("apiVersion: x\nkind: y\n").is_err());
        let bad_cpu = DATA.replace(
            "cpu: 100m, memory: 256Mi, nodes: all",
            "cpu: lots, memory: 256Mi, nodes: all",
        );
        assert!(parse(&bad_cpu).is_err());
    }

    #[test]
    fn hosts_and_operators_resolve_by_parent_domain() {
        assert_eq!(host_of("https://fsn1.your-objectstorage.com/x"), "fsn1.your-objectstorage.com");
        assert_eq!(host_of("ssh://git@git.example.eu/platform/beach.git"), "git.example.eu");
        assert_eq!(host_of("ns1.example.eu"), "ns1.example.eu");
        assert_eq!(host_of("https://[2001:db8::1]:8443/"), "[2001:db8::1]");
        let ops = &data().operators;
        assert_eq!(
            operator_of(ops, "fsn1.your-objectstorage.com").map(|o| o.country.as_deref()),
            Some(Some("DE"))
        );
        assert!(operator_of(ops, "metallb.github.io").is_some_and(|o| o.us_parent));
        assert!(operator_of(ops, "acme-v02.api.letsencrypt.org").is_some_and(|o| o.us_parent));
        assert!(operator_of(ops, "registry.example.eu").is_none());
    }

    #[test]
    fn daemon_placement_follows_roles() {
        let cilium = lookup("cilium").expect("cilium");
        let piraeus = lookup("piraeus").expect("piraeus");
        let storage_pool: NodePool = serde_json::from_value(serde_json::json!(
            {"name": "s", "serverType": "ax102", "count": 3, "roles": ["worker", "storage"]}
        ))
        .expect("pool");
        let plain_pool: NodePool = serde_json::from_value(
            serde_json::json!({"name": "w", "serverType": "ax102", "count": 3}),
        )
        .expect("pool");
        let mut cluster: Cluster = serde_json::from_value(serde_json::json!({
            "name": "c", "site": "s", "kubernetes": "1.34.5",
            "controlPlane": {"replicas": 3, "serverType": "ax42"},
            "network": {"podCIDR": "10.244.0.0/16", "serviceCIDR": "10.96.0.0/12"},
        }))
        .expect("cluster");
        let all = [cilium.clone(), piraeus.clone()];
        let (cp_cpu, _) = daemon_overhead(&all, &cluster, None);
        let (storage_cpu, _) = daemon_overhead(&all, &cluster, Some(&storage_pool));
        let (plain_cpu, _) = daemon_overhead(&all, &cluster, Some(&plain_pool));
        assert_eq!(cp_cpu, 125, "control plane runs only cilium's daemons");
        assert_eq!(storage_cpu, 125 + 140);
        assert_eq!(plain_cpu, 125 + 40);
        cluster.control_plane.schedulable = true;
        let (cp_cpu, _) = daemon_overhead(&all, &cluster, None);
        assert_eq!(
            cp_cpu,
            125 + 40 + 100,
            "a schedulable control plane without pools also stores data"
        );
    }
}
