//! Whole-platform views the rules share: which provider and location a site has, whether two
//! sites reach each other privately and how far apart they are, which nodes a cluster has and
//! what they can hold, and what the tenants ask of each cluster. Rules reason over these, so
//! two rules can never disagree about, say, whether a link is private.

use crate::Ctx;
use crate::allocatable;
use crate::facts;
use hafen_catalog::{Location, ProviderInfo, ServerType};
use hafen_diag::{Diagnostic, Severity};
use hafen_spec::{
    App, AppKind, Cluster, Environment, NodePool, NodeRole, Provider, Site, StorageDriver, Tenant,
    quantity,
};

/// One group of identical nodes of a cluster: the control plane or a node pool.
#[derive(Debug, Clone)]
pub(crate) struct NodeGroup<'a> {
    /// `control plane` or `node pool `name``.
    pub(crate) label: String,
    /// The pool name, or `None` for the control plane.
    pub(crate) pool: Option<&'a str>,
    /// Spec path of the group (`spec.clusters[0].nodePools[1]`).
    pub(crate) path: String,
    /// Site name.
    pub(crate) site: &'a str,
    /// Server type name.
    pub(crate) server_type: &'a str,
    /// Catalogue entry of the server type, when known.
    pub(crate) server: Option<&'a ServerType>,
    /// Number of nodes.
    pub(crate) count: u32,
    /// Rented spare servers the group lists beyond its count (`serverIds` longer than the
    /// count): registered as hosts of the pool, so a remediated machine lands on one at once
    /// instead of waiting for a new order or a support ticket. Counted once, on the first
    /// site of a control plane.
    pub(crate) spares: u32,
    /// True when ordinary workloads are scheduled here.
    pub(crate) workloads: bool,
    /// Roles (empty for the control plane).
    pub(crate) roles: Vec<NodeRole>,
    /// Allocatable of one node (CPU millicores, memory bytes), when the server type is known:
    /// the planner's model, with the daemons the renderer writes on this group's nodes.
    pub(crate) alloc: Option<Alloc>,
}

impl NodeGroup<'_> {
    /// True for the control plane.
    pub(crate) fn is_control_plane(&self) -> bool {
        self.pool.is_none()
    }
}

/// What one replica of a workload asks for, in one cluster; `shared_storage` is the workload's.
#[derive(Debug, Clone)]
pub(crate) struct Demand<'a> {
    /// The tenant.
    pub(crate) tenant: &'a Tenant,
    /// The app.
    pub(crate) app: &'a App,
    /// Spec path of the app.
    pub(crate) path: String,
    /// `app `web`` or `PostgreSQL of app `web``.
    pub(crate) label: String,
    /// Replicas (instances).
    pub(crate) replicas: u32,
    /// CPU per replica, millicores.
    pub(crate) cpu: u64,
    /// Memory per replica, bytes.
    pub(crate) memory: u64,
    /// Persistent storage per replica, bytes (volumes each replica claims for itself).
    pub(crate) storage: u64,
    /// Persistent storage all replicas share, bytes (one claim however many replicas).
    pub(crate) shared_storage: u64,
    /// True when at most one replica may run per node.
    pub(crate) one_per_node: bool,
}

/// Allocatable CPU (millicores) and memory (bytes).
pub(crate) type Alloc = (u64, u64);

/// Great-circle distance in km.
pub(crate) fn distance_km(a: &Location, b: &Location) -> Option<f64> {
    let (lat1, lon1, lat2, lon2) = (a.latitude?, a.longitude?, b.latitude?, b.longitude?);
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    Some(2.0 * 6371.0 * h.sqrt().asin())
}

/// A round trip between two sites: measured on a link, or estimated from the distance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rtt {
    /// Milliseconds.
    pub(crate) ms: f64,
    /// True when taken from `spec.links[].rttMs`.
    pub(crate) measured: bool,
    /// Distance, when both locations have coordinates.
    pub(crate) km: Option<f64>,
}

/// The host of a URL or of `user@host:path` Git syntax, lowercased, without port.
pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = match url.split_once("://") {
        Some((_, rest)) => rest,
        // scp-like Git syntax: git@host:org/repo.git
        None => url.split_once(':').map(|(h, _)| h)?,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    if host.is_empty() { None } else { Some(host.to_ascii_lowercase()) }
}

/// The registry host of an image reference; Docker Hub when the first part is not a host.
pub(crate) fn image_registry(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.split(':').next().unwrap_or(first).to_ascii_lowercase()
        }
        _ => "docker.io".into(),
    }
}

/// Parses `1.34.5` or `v1.34` into (major, minor).
pub(crate) fn minor_of(version: &str) -> Option<(u32, u32)> {
    let v = version.trim().strip_prefix('v').unwrap_or(version.trim());
    let mut parts = v.split(['.', '+', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

impl Demand<'_> {
    /// True when the workload keeps persistent data (own or shared volumes, a database).
    pub(crate) fn holds_data(&self) -> bool {
        self.storage > 0 || self.shared_storage > 0
    }
}

/// A failure domain; see [`Ctx::domain`]. Two sites are one domain when their keys match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Domain {
    key: String,
    /// The location name the domain is known by.
    pub(crate) location: String,
}

/// Per-cluster views that many rules need, computed once per check.
#[derive(Debug, Default)]
pub(crate) struct Views<'a> {
    groups: Vec<Vec<NodeGroup<'a>>>,
    demands: Vec<Vec<Demand<'a>>>,
    /// What the renderer runs on each cluster, for per-node daemon requests.
    components: Vec<Vec<hafen_render::Component>>,
}

impl<'a> Ctx<'a> {
    /// A context with its views computed.
    pub(crate) fn new(
        loaded: &'a hafen_spec::LoadedPlatform,
        options: &'a crate::Options,
    ) -> Ctx<'a> {
        let mut ctx = Ctx { loaded, options, views: Views::default() };
        let clusters = &loaded.platform.spec.clusters;
        ctx.views.components =
            clusters.iter().map(|c| hafen_render::components(loaded, c)).collect();
        let groups = (0..clusters.len()).map(|i| ctx.compute_node_groups(i)).collect();
        let mut demands: Vec<Vec<Demand<'a>>> = vec![Vec::new(); clusters.len()];
        for (t, tenant) in loaded.platform.spec.tenants.iter().enumerate() {
            let mine = ctx.tenant_demands(t);
            for name in &tenant.clusters {
                if let Some(c) = clusters.iter().position(|c| c.name == *name)
                    && let Some(slot) = demands.get_mut(c)
                {
                    // A tenant listed twice for one cluster is still deployed once.
                    if !slot.iter().any(|d| std::ptr::eq(d.tenant, tenant)) {
                        slot.extend(mine.iter().cloned());
                    }
                }
            }
        }
        ctx.views.groups = groups;
        ctx.views.demands = demands;
        ctx
    }

    /// The platform spec.
    pub(crate) fn spec(&self) -> &'a hafen_spec::PlatformSpec {
        &self.loaded.platform.spec
    }

    /// A finding of `code` at `path`, with the code's default severity.
    pub(crate) fn finding(
        &self,
        code: &'static str,
        path: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        let severity = crate::rules::ALL
            .iter()
            .find(|r| r.info.code == code)
            .map_or(Severity::Warning, |r| r.info.severity);
        Diagnostic::new(code, severity, message)
            .with_span(self.loaded.spans.nearest(path))
            .with_path(path)
    }

    /// A secondary label at a spec path.
    pub(crate) fn label(
        &self,
        d: Diagnostic,
        path: &str,
        message: impl Into<String>,
    ) -> Diagnostic {
        d.with_label(self.loaded.spans.nearest(path), message)
    }

    /// Index of a cluster by name.
    pub(crate) fn cluster_index(&self, name: &str) -> Option<usize> {
        self.spec().clusters.iter().position(|c| c.name == name)
    }

    /// Catalogue facts of a provider.
    pub(crate) fn provider_info(&self, provider: &Provider) -> Option<&'a ProviderInfo> {
        self.loaded.catalog.provider(&provider.type_)
    }

    /// The provider of a site.
    pub(crate) fn site_provider(&self, site: &str) -> Option<&'a Provider> {
        self.spec().site_provider(site)
    }

    /// Catalogue facts of a site's provider.
    pub(crate) fn site_info(&self, site: &str) -> Option<&'a ProviderInfo> {
        self.site_provider(site).and_then(|p| self.provider_info(p))
    }

    /// The catalogue location of a site.
    pub(crate) fn location(&self, site: &str) -> Option<&'a Location> {
        let s = self.spec().site(site)?;
        self.site_info(site)?.location(&s.location)
    }

    /// True when a US company controls the provider (spec `legal` first, then the catalogue).
    pub(crate) fn us_parent(&self, provider: &Provider) -> bool {
        match &provider.legal {
            Some(legal) => legal.us_parent,
            None => self.provider_info(provider).is_some_and(|i| i.company.us_parent),
        }
    }

    /// A provider for messages: `provider `hcloud` (Hetzner Online GmbH)`, or with the
    /// declared seat when the spec overrides the legal facts.
    pub(crate) fn company(&self, provider: &Provider) -> String {
        match (&provider.legal, self.provider_info(provider)) {
            (Some(legal), _) => {
                format!("provider `{}` (declared seat: {})", provider.name, legal.country)
            }
            (None, Some(info)) => format!("provider `{}` ({})", provider.name, info.company.name),
            (None, None) => format!("provider `{}`", provider.name),
        }
    }

    /// Whether a dead server at the site can be powered on without support staff.
    pub(crate) fn remote_power_on(&self, site: &str) -> bool {
        let Some(s) = self.spec().site(site) else { return true };
        if let Some(v) = s.remote_power_on {
            return v;
        }
        let provider = self.site_provider(site);
        if let Some(v) = provider.and_then(|p| p.remote_power_on) {
            return v;
        }
        if let Some(v) = self.location(site).and_then(|l| l.remote_power_on) {
            return v;
        }
        self.site_info(site).is_none_or(|i| i.remote_power_on)
    }

    /// The link declared between two sites, if any.
    pub(crate) fn link(&self, a: &str, b: &str) -> Option<(usize, &'a hafen_spec::Link)> {
        self.spec().links.iter().enumerate().find(|(_, l)| {
            l.sites.len() == 2
                && ((l.sites[0] == a && l.sites[1] == b) || (l.sites[0] == b && l.sites[1] == a))
        })
    }

    /// True when the site has a provider private network or a vSwitch. An underlay MTU equal
    /// to the provider's private-network MTU (1450 on Hetzner Cloud) says the same: node
    /// traffic runs over that network even when its subnet is not written down.
    pub(crate) fn has_private_network(&self, site: &str) -> bool {
        let Some(s) = self.spec().site(site) else { return false };
        if s.network.private_network.is_some() || s.network.vswitch.is_some() {
            return true;
        }
        let private_mtu = self
            .site_info(site)
            .and_then(|info| info.limits.as_ref())
            .and_then(|l| l.private_network_mtu);
        private_mtu.is_some() && s.network.underlay_mtu == private_mtu
    }

    /// True when traffic between two sites stays off the public internet: the same site, a
    /// link marked private, or two sites of one provider account in one network zone that
    /// both have the provider's private network.
    pub(crate) fn private_reachable(&self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        if let Some((_, link)) = self.link(a, b) {
            return link.private;
        }
        let (Some(sa), Some(sb)) = (self.spec().site(a), self.spec().site(b)) else {
            return false;
        };
        let zone = |s: &str| self.location(s).and_then(|l| l.network_zone.clone());
        sa.provider == sb.provider
            && zone(a).is_some()
            && zone(a) == zone(b)
            && self.has_private_network(a)
            && self.has_private_network(b)
    }

    /// Round trip between two sites: the link's measured value, else estimated from the
    /// distance (fibre at 200 km/ms with a 1.5 route factor, both ways).
    pub(crate) fn rtt(&self, a: &str, b: &str) -> Option<Rtt> {
        let km = match (self.location(a), self.location(b)) {
            (Some(la), Some(lb)) => distance_km(la, lb),
            _ => None,
        };
        if let Some(ms) = self.link(a, b).and_then(|(_, l)| l.rtt_ms) {
            return Some(Rtt { ms, measured: true, km });
        }
        km.map(|km| Rtt { ms: km * 1.5 * 2.0 / 200.0, measured: false, km: Some(km) })
    }

    /// The failure domain of a site: what one fire, power cut, network or capacity incident
    /// at one data-centre park takes together. Sites of one company at one catalogue
    /// location (two Hetzner Cloud sites at `nbg1`, or a cloud and a dedicated site both at
    /// `fsn1`) are one domain however many site names the spec gives them. Self-hosted sites
    /// are their own domain, unless sites of one self-hosted provider declare the same
    /// location.
    pub(crate) fn domain(&self, site: &str) -> Domain {
        let Some(s) = self.site(site) else {
            return Domain { key: format!("site:{site}"), location: site.to_owned() };
        };
        let self_hosted =
            self.site_info(site).is_none_or(|i| i.category == hafen_catalog::Category::SelfHosted);
        let key = if self_hosted {
            format!("own:{}:{}", s.provider, s.location)
        } else {
            let company = self.site_info(site).map_or("", |i| i.company.name.as_str());
            format!("company:{company}:{}", s.location)
        };
        Domain { key, location: s.location.clone() }
    }

    /// True when two sites are one failure domain.
    pub(crate) fn same_domain(&self, a: &str, b: &str) -> bool {
        a == b || self.domain(a) == self.domain(b)
    }

    /// Sites grouped by failure domain, in first-seen order.
    pub(crate) fn group_by_domain<'s>(&self, sites: &[&'s str]) -> Vec<Vec<&'s str>> {
        let mut out: Vec<(Domain, Vec<&'s str>)> = Vec::new();
        for site in sites {
            let domain = self.domain(site);
            match out.iter_mut().find(|(d, _)| *d == domain) {
                Some((_, members)) => {
                    if !members.contains(site) {
                        members.push(site);
                    }
                }
                None => out.push((domain, vec![site])),
            }
        }
        out.into_iter().map(|(_, sites)| sites).collect()
    }

    /// Where a group of sites of one domain stands, for messages: `` `hcloud` location
    /// `nbg1` `` when one provider holds them all, else the company's location.
    pub(crate) fn domain_label(&self, sites: &[&str]) -> String {
        let Some(first) = sites.first() else { return String::new() };
        let Some(s) = self.site(first) else { return format!("site `{first}`") };
        let one_provider =
            sites.iter().all(|x| self.site(x).is_some_and(|y| y.provider == s.provider));
        if one_provider {
            format!("`{}` location `{}`", s.provider, s.location)
        } else {
            let company = self.site_info(first).map_or("", |i| i.company.name.as_str());
            format!("{company}'s location `{}`", s.location)
        }
    }

    /// The sentence that tells why distinct site names are one failure domain, e.g.
    /// "`nbg` and `nbg-b` are both in `hcloud` location `nbg1`: one failure domain".
    pub(crate) fn domain_note(&self, sites: &[&str]) -> Option<String> {
        if sites.len() < 2 {
            return None;
        }
        let names: Vec<String> = sites.iter().map(|s| format!("`{s}`")).collect();
        let listed = match names.split_last() {
            Some((last, rest)) if rest.len() == 1 => format!("{} and {last}", rest[0]),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        };
        let all = if sites.len() == 2 { "both" } else { "all" };
        Some(format!("{listed} are {all} in {}: one failure domain", self.domain_label(sites)))
    }

    /// True when two sites stand in the same city (same location, or closer than the
    /// campus distance).
    pub(crate) fn same_city(&self, a: &str, b: &str) -> bool {
        if a == b {
            return true;
        }
        let (Some(la), Some(lb)) = (self.location(a), self.location(b)) else {
            return false;
        };
        match distance_km(la, lb) {
            Some(km) => km < facts::get().latency.same_city_km,
            None => la.city == lb.city && la.country == lb.country,
        }
    }

    /// The effective environment of a cluster.
    pub(crate) fn production(&self, cluster: &Cluster) -> bool {
        cluster.environment(self.spec()) == Environment::Production
    }

    /// A server type as offered at a site.
    pub(crate) fn server(&self, site: &str, name: &str) -> Option<&'a ServerType> {
        self.site_info(site)?.server_type(name)
    }

    /// The node groups of a cluster, control plane first.
    pub(crate) fn node_groups(&self, index: usize) -> Vec<NodeGroup<'a>> {
        self.views.groups.get(index).cloned().unwrap_or_default()
    }

    /// Allocatable of one node of `server` in cluster `index`, in `pool` (`None`: the control
    /// plane), in millicores and bytes.
    pub(crate) fn node_allocatable(
        &self,
        index: usize,
        server: &ServerType,
        pool: Option<&NodePool>,
    ) -> Alloc {
        let Some(cluster) = self.spec().clusters.get(index) else { return (0, 0) };
        let components = self.views.components.get(index).map_or(&[][..], Vec::as_slice);
        let (cpu, mib) = allocatable::node_allocatable(components, cluster, server, pool);
        (cpu, mib.saturating_mul(1024 * 1024))
    }

    /// Allocatable of one replacement or buffer server of `server` joining cluster `index` as a
    /// plain worker.
    pub(crate) fn plain_worker_allocatable(&self, index: usize, server: &ServerType) -> Alloc {
        self.node_allocatable(index, server, Some(&allocatable::plain_worker(&server.name)))
    }

    fn compute_node_groups(&self, index: usize) -> Vec<NodeGroup<'a>> {
        let Some(cluster) = self.spec().clusters.get(index) else { return Vec::new() };
        let mut out = Vec::new();
        // Control-plane members are placed round-robin over the listed sites.
        let cp_sites = cluster.control_plane_sites();
        let slots = cp_sites.len().max(1) as u32;
        let replicas = cluster.control_plane.replicas;
        let mut per_site: Vec<(&str, u32)> = Vec::new();
        for (k, site) in cp_sites.iter().enumerate() {
            let count = replicas / slots + u32::from((k as u32) < replicas % slots);
            if count == 0 {
                continue;
            }
            match per_site.iter_mut().find(|(s, _)| s == site) {
                Some((_, n)) => *n = n.saturating_add(count),
                None => per_site.push((site, count)),
            }
        }
        let cp_spares =
            (cluster.control_plane.server_ids.len() as u64).saturating_sub(u64::from(replicas));
        let mut cp_spares = u32::try_from(cp_spares).unwrap_or(u32::MAX);
        for (site, count) in per_site {
            let spares = std::mem::take(&mut cp_spares);
            out.push(NodeGroup {
                label: "control plane".into(),
                pool: None,
                path: format!("spec.clusters[{index}].controlPlane"),
                site,
                server_type: &cluster.control_plane.server_type,
                server: self.server(site, &cluster.control_plane.server_type),
                count,
                spares,
                workloads: cluster.control_plane.schedulable,
                roles: Vec::new(),
                alloc: self
                    .server(site, &cluster.control_plane.server_type)
                    .map(|s| self.node_allocatable(index, s, None)),
            });
        }
        for (j, pool) in cluster.node_pools.iter().enumerate() {
            let site = cluster.pool_site(pool);
            out.push(NodeGroup {
                label: format!("node pool `{}`", pool.name),
                pool: Some(&pool.name),
                path: format!("spec.clusters[{index}].nodePools[{j}]"),
                site,
                server_type: &pool.server_type,
                server: self.server(site, &pool.server_type),
                count: pool.count,
                spares: u32::try_from(
                    (pool.server_ids.len() as u64).saturating_sub(u64::from(pool.count)),
                )
                .unwrap_or(u32::MAX),
                workloads: pool.takes_tenant_pods(),
                roles: pool.roles(),
                alloc: self
                    .server(site, &pool.server_type)
                    .map(|s| self.node_allocatable(index, s, Some(pool))),
            });
        }
        out
    }

    /// Tenants deployed to a cluster, with their indices.
    pub(crate) fn tenants_on(&self, cluster: &str) -> Vec<(usize, &'a Tenant)> {
        self.spec()
            .tenants
            .iter()
            .enumerate()
            .filter(|(_, t)| t.clusters.iter().any(|c| c == cluster))
            .collect()
    }

    /// Every replica set the tenants of a cluster run there: apps and their PostgreSQL.
    pub(crate) fn demands(&self, cluster: &str) -> &[Demand<'a>] {
        self.cluster_index(cluster)
            .and_then(|i| self.views.demands.get(i))
            .map_or(&[], Vec::as_slice)
    }

    /// The replica sets of one tenant, as deployed to each of its clusters.
    pub(crate) fn tenant_demands(&self, i: usize) -> Vec<Demand<'a>> {
        let mut out = Vec::new();
        if let Some(tenant) = self.spec().tenants.get(i) {
            let tenant_path = format!("spec.tenants[{i}]");
            for (j, app) in tenant.apps.iter().enumerate() {
                let path = format!("{tenant_path}.apps[{j}]");
                let cpu = quantity::cpu_millis(&app.resources.cpu).unwrap_or(0);
                let memory = quantity::bytes(&app.resources.memory).unwrap_or(0);
                let size = |shared: bool| {
                    app.volumes
                        .iter()
                        .filter(|v| v.shared == shared)
                        .filter_map(|v| quantity::bytes(&v.size))
                        .fold(0u64, u64::saturating_add)
                };
                let (storage, shared_storage) = (size(false), size(true));
                let what = if app.kind == AppKind::ControlPlane { "control plane" } else { "app" };
                out.push(Demand {
                    tenant,
                    app,
                    path: path.clone(),
                    label: format!("{what} `{}`", app.name),
                    replicas: app.replicas,
                    cpu,
                    memory,
                    storage,
                    shared_storage,
                    one_per_node: app.replicas >= 2 && app.spread() != hafen_spec::Spread::None,
                });
                if let Some(pg) = &app.postgres {
                    let (cpu, memory) = match &pg.resources {
                        Some(r) => (
                            quantity::cpu_millis(&r.cpu).unwrap_or(0),
                            quantity::bytes(&r.memory).unwrap_or(0),
                        ),
                        None => (500, 1 << 30),
                    };
                    out.push(Demand {
                        tenant,
                        app,
                        path: format!("{path}.postgres"),
                        label: format!("PostgreSQL of app `{}`", app.name),
                        replicas: pg.replicas,
                        cpu,
                        memory,
                        storage: quantity::bytes(&pg.size).unwrap_or(0),
                        shared_storage: 0,
                        one_per_node: pg.replicas >= 2,
                    });
                }
            }
        }
        out
    }

    /// The storage driver of a cluster, if declared.
    pub(crate) fn storage_driver(&self, cluster: &Cluster) -> Option<StorageDriver> {
        cluster.storage.as_ref().map(|s| s.default)
    }

    /// A site by name.
    pub(crate) fn site(&self, name: &str) -> Option<&'a Site> {
        self.spec().site(name)
    }
}

/// The workload nodes of a cluster as (allocatable per node, number of nodes), so that no
/// count in the spec, however large, is expanded node by node.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fleet {
    kinds: Vec<(Alloc, u64)>,
}

impl Fleet {
    /// Number of nodes.
    pub(crate) fn count(&self) -> u64 {
        self.kinds.iter().fold(0u64, |n, (_, k)| n.saturating_add(*k))
    }

    /// Allocatable over all nodes.
    pub(crate) fn total(&self) -> Alloc {
        self.kinds.iter().fold((0, 0), |(c, m), ((a, b), k)| {
            (c.saturating_add(a.saturating_mul(*k)), m.saturating_add(b.saturating_mul(*k)))
        })
    }

    /// Allocatable after losing the `lost` largest nodes (by memory, then CPU).
    pub(crate) fn without_largest(&self, lost: u64) -> Alloc {
        let mut kinds = self.kinds.clone();
        kinds.sort_by_key(|&((cpu, mem), _)| std::cmp::Reverse((mem, cpu)));
        let mut left = lost;
        let mut out: Alloc = (0, 0);
        for ((cpu, mem), count) in kinds {
            let gone = count.min(left);
            left -= gone;
            let kept = count - gone;
            out = (
                out.0.saturating_add(cpu.saturating_mul(kept)),
                out.1.saturating_add(mem.saturating_mul(kept)),
            );
        }
        out
    }

    /// The largest node (by memory, then CPU).
    pub(crate) fn largest(&self) -> Alloc {
        self.kinds.iter().map(|(a, _)| *a).max_by_key(|&(c, m)| (m, c)).unwrap_or((0, 0))
    }

    /// True when one node can hold a replica of this size.
    pub(crate) fn fits(&self, cpu: u64, memory: u64) -> bool {
        self.kinds.iter().any(|((c, m), k)| *k > 0 && *c >= cpu && *m >= memory)
    }
}

/// The allocatable capacity of the groups that run workloads.
pub(crate) fn workload_capacity(groups: &[NodeGroup<'_>]) -> Fleet {
    let kinds = groups
        .iter()
        .filter(|g| g.workloads && g.count > 0)
        .filter_map(|g| g.alloc.map(|a| (a, u64::from(g.count))))
        .collect();
    Fleet { kinds }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_registries() {
        assert_eq!(url_host("ssh://git@github.com/org/repo.git").as_deref(), Some("github.com"));
        assert_eq!(url_host("git@gitlab.com:org/repo.git").as_deref(), Some("gitlab.com"));
        assert_eq!(
            url_host("https://user:pw@git.example.eu:8443/x").as_deref(),
            Some("git.example.eu")
        );
        assert_eq!(url_host("https://[fd00::1]:6443/").as_deref(), Some("fd00::1"));
        assert_eq!(url_host("no-scheme"), None);
        assert_eq!(image_registry("nginx:1.27"), "docker.io");
        assert_eq!(image_registry("bitnami/redis:7"), "docker.io");
        assert_eq!(image_registry("ghcr.io/org/app:v1"), "ghcr.io");
        assert_eq!(image_registry("registry.example.eu:5000/a/b:1"), "registry.example.eu");
        assert_eq!(image_registry("localhost/a:1"), "localhost");
        assert_eq!(minor_of("1.34.5"), Some((1, 34)));
        assert_eq!(minor_of("v1.11.5"), Some((1, 11)));
        assert_eq!(minor_of("v1.34.5+k3s1"), Some((1, 34)));
        assert_eq!(minor_of("x"), None);
    }

    #[test]
    fn distance_nbg_fsn() {
        let l = |lat, lon| Location {
            name: "x".into(),
            city: "c".into(),
            country: "DE".into(),
            latitude: Some(lat),
            longitude: Some(lon),
            network_zone: None,
            remote_power_on: None,
        };
        let km = distance_km(&l(49.45, 11.08), &l(50.48, 12.37)).unwrap();
        assert!((140.0..160.0).contains(&km), "{km}");
    }
}
