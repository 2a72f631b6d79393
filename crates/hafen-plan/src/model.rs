//! The simulation model: nodes with allocatable capacity after the documented reservation and
//! daemon overhead, workloads (app replicas and Postgres instances) with requests, spread and
//! disruption budgets, their baseline placement, and the copies of their data.
//!
//! Allocatable per node (documented in `data/check/reservation.yaml` and printed in the report):
//!
//! ```text
//! allocatable = capacity − kubeReserved(tiers) − systemReserved(OS) − evictionHard − Σ daemons
//! ```

use hafen_catalog::{Category, ServerType};
use hafen_check::allocatable;
use hafen_render::components::Component;
use hafen_spec::{Cluster, LoadedPlatform, NodePool, NodeRole, Spread, StorageDriver, quantity};
use std::collections::BTreeMap;

const MIB: f64 = 1024.0 * 1024.0;

/// CPU (millicores), memory (MiB) and pod slots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Res {
    /// Millicores.
    pub cpu: u64,
    /// MiB.
    pub mem: u64,
    /// Pods.
    pub pods: u64,
}

impl Res {
    pub(crate) fn fits(&self, need: &Res) -> bool {
        self.cpu >= need.cpu && self.mem >= need.mem && self.pods >= need.pods
    }
    pub(crate) fn sub(&mut self, o: &Res) {
        self.cpu = self.cpu.saturating_sub(o.cpu);
        self.mem = self.mem.saturating_sub(o.mem);
        self.pods = self.pods.saturating_sub(o.pods);
    }
    pub(crate) fn add(&mut self, o: &Res) {
        self.cpu = self.cpu.saturating_add(o.cpu);
        self.mem = self.mem.saturating_add(o.mem);
        self.pods = self.pods.saturating_add(o.pods);
    }
    pub(crate) fn minus(mut self, o: &Res) -> Res {
        self.sub(o);
        self
    }
    pub(crate) fn times(&self, n: u64) -> Res {
        Res {
            cpu: self.cpu.saturating_mul(n),
            mem: self.mem.saturating_mul(n),
            pods: self.pods.saturating_mul(n),
        }
    }
}

/// What a node does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// etcd member and API server; no tenant apps.
    ControlPlane,
    /// Runs tenant apps.
    Worker,
    /// Egress gateway only; no tenant apps.
    Egress,
}

/// A node in the model.
#[derive(Debug, Clone)]
pub struct Node {
    /// `cluster/pool-i` or `cluster/control-plane-i`.
    pub name: String,
    /// Cluster index.
    pub cluster: usize,
    /// Pool index; `None` for the control plane.
    pub pool: Option<usize>,
    /// Pool name (`control-plane` for the control plane).
    pub pool_name: String,
    /// Site index.
    pub site: usize,
    /// Provider index.
    pub provider: usize,
    /// Server type.
    pub server_type: String,
    /// Role.
    pub kind: NodeKind,
    /// True for storage-role nodes (replicated storage lives here).
    pub storage: bool,
    /// True when the node can take egress gateway duty.
    pub egress: bool,
    /// True for control-plane nodes that also run tenant apps (`controlPlane.schedulable`).
    pub schedulable: bool,
    /// For pods.
    pub alloc: Res,
}

impl Node {
    /// True when tenant apps may run here.
    pub fn runs_apps(&self) -> bool {
        self.kind == NodeKind::Worker || (self.kind == NodeKind::ControlPlane && self.schedulable)
    }
}

/// Where a copy of data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyAt {
    /// On a node's disk (local path, DRBD/Longhorn replica).
    Node(usize),
    /// A network volume at a site (survives node loss, not site loss).
    Site(usize),
}

/// How the scheduler may place a workload's replicas: the constraints the renderer writes,
/// read the way kube-scheduler enforces them.
///
/// | spec | rendered | model |
/// |---|---|---|
/// | `spread: none` | nothing | `Free` |
/// | `spread: node` (apps, 2+ replicas) | required pod anti-affinity on `kubernetes.io/hostname` (a soft `ScheduleAnyway` spread over sites is only a preference and is not counted on) | `DistinctNodes` |
/// | `spread: site` (apps) | anti-affinity on the hostname plus a topology spread on the site label, `maxSkew: 1`, `DoNotSchedule`, `nodeTaintsPolicy: Honor` | `SiteSkew` |
/// | databases (CloudNativePG) | required anti-affinity on the hostname, or on the site label when the app says `spread: site` | `DistinctNodes` / `DistinctSites` |
///
/// `SiteSkew` counts the sites that have a live app node of the cluster as domains (`Honor`
/// drops nodes tainted unreachable, so a failed site is no domain); a replica may go to a site
/// only while that site holds no more replicas than the emptiest domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// No constraint.
    Free,
    /// At most one replica per node.
    DistinctNodes,
    /// One per node, and no site more than one replica ahead of the emptiest site.
    SiteSkew,
    /// At most one replica per site.
    DistinctSites,
}

impl Placement {
    /// True when no two replicas may share a node.
    pub fn distinct(self) -> bool {
        self != Placement::Free
    }
}

/// What a workload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkloadKind {
    /// An app's replicas.
    App,
    /// A CloudNativePG cluster's instances.
    Postgres,
}

/// A persistent volume of a workload.
#[derive(Debug, Clone, Default)]
pub struct WorkloadVolume {
    /// Name.
    pub name: String,
    /// Bytes of one copy.
    pub bytes: u64,
    /// One volume all replicas share (ReadWriteMany), not one per replica.
    pub shared: bool,
}

/// Replicas of one app (or one database) in one cluster: an equivalence class for packing.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Cluster index.
    pub cluster: usize,
    /// Tenant name.
    pub tenant: String,
    /// App name.
    pub app: String,
    /// App or database.
    pub kind: WorkloadKind,
    /// Replicas (instances).
    pub replicas: u32,
    /// Requests of one replica.
    pub req: Res,
    /// Spread as the spec says it.
    pub spread: Spread,
    /// The placement constraint the rendered objects impose.
    pub placement: Placement,
    /// Minimum available.
    pub min_available: u32,
    /// Volumes.
    pub volumes: Vec<WorkloadVolume>,
    /// For Postgres: another cluster holding a replica cluster.
    pub replica_cluster: Option<usize>,
    /// For a primary database: the workload of its replica cluster (standby) elsewhere.
    pub standby: Option<usize>,
    /// For a replica cluster (standby): the workload of the primary database it follows.
    pub standby_of: Option<usize>,
}

impl Workload {
    /// `tenant/app` (databases: `tenant/app-db`).
    pub fn label(&self) -> String {
        match self.kind {
            WorkloadKind::App => format!("{}/{}", self.tenant, self.app),
            WorkloadKind::Postgres => format!("{}/{}-db", self.tenant, self.app),
        }
    }
}

/// Sites that fail together: the sites of one company at one location code (two accounts, or
/// a cloud and a dedicated site of one provider, in the same data-centre park).
#[derive(Debug, Clone)]
pub struct Domain {
    /// `company name/location`, for people.
    pub label: String,
    /// Provider type of the first site, for the scenario id.
    pub provider_type: String,
    /// Location code.
    pub location: String,
    /// Site indices.
    pub sites: Vec<usize>,
}

/// How one server type turns into allocatable capacity.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    /// Server type.
    pub server_type: String,
    /// Role the figures are for.
    pub role: String,
    /// Capacity.
    pub capacity: ResOut,
    /// kube-reserved.
    pub kube_reserved: ResOut,
    /// OS reservation.
    pub system_reserved: ResOut,
    /// Eviction threshold.
    pub eviction: ResOut,
    /// Σ per-node daemons.
    pub daemons: ResOut,
    /// Daemon names.
    pub daemon_names: Vec<String>,
    /// Left for pods.
    pub allocatable: ResOut,
}

/// Resources as written in the report: millicores, MiB, pods.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ResOut {
    /// Millicores.
    pub cpu_millis: u64,
    /// MiB.
    #[serde(rename = "memoryMiB")]
    pub memory_mib: u64,
    /// Pods.
    pub pods: u64,
}

impl From<Res> for ResOut {
    fn from(r: Res) -> ResOut {
        ResOut { cpu_millis: r.cpu, memory_mib: r.mem, pods: r.pods }
    }
}

/// Per cluster facts the simulation needs.
#[derive(Debug, Clone)]
pub struct ClusterInfo {
    /// Name.
    pub name: String,
    /// Global node range `[start, end)`.
    pub nodes: std::ops::Range<usize>,
    /// Workload indices.
    pub workloads: Vec<usize>,
    /// Storage driver.
    pub storage: Option<StorageDriver>,
    /// Replicas per volume for replicated drivers.
    pub storage_replicas: u32,
    /// Site of the backup target.
    pub backup_site: Option<usize>,
    /// Provider of the backup target.
    pub backup_provider: Option<usize>,
    /// True when backups are configured at all.
    pub has_backups: bool,
    /// Backup schedule.
    pub backup_schedule: Option<String>,
    /// Egress IPs configured.
    pub egress_ips: usize,
    /// Apps that need a stable egress IP.
    pub stable_ip_apps: Vec<String>,
    /// Primary site.
    pub site: usize,
    /// Server types of workload pools per site, in spec order.
    pub worker_types: Vec<(usize, String)>,
    /// Candidates for buffer advice: the pools' own types and every other type the site's
    /// provider offers there.
    pub buffer_types: Vec<BufferType>,
}

/// A server type that could be added as buffer at a site.
#[derive(Debug, Clone)]
pub struct BufferType {
    /// Site.
    pub site: usize,
    /// Server type.
    pub server_type: String,
    /// Allocatable of one such worker in this cluster.
    pub alloc: Res,
    /// Monthly price.
    pub price: f64,
    /// False when the catalogue records that the provider currently refuses orders.
    pub orderable: bool,
    /// True for a type a pool of this cluster already uses.
    pub own: bool,
}

/// Servers that can join a cluster during a scenario at one site.
#[derive(Debug, Clone)]
pub struct Spare {
    /// Server type.
    pub server_type: String,
    /// How many.
    pub count: u32,
    /// Allocatable of one as it joins (a plain worker, or the pool's own role for spares).
    pub alloc: Res,
    /// Monthly price of one.
    pub price: f64,
    /// Only this cluster may use them: a pool's own spare servers join only its
    /// MachineDeployment. `None`: any cluster at the site (declared replacement capacity).
    pub cluster: Option<usize>,
    /// For spare servers: `cluster/pool` whose `serverIds` list them.
    pub spare_of: Option<String>,
}

impl Spare {
    /// True when cluster `ci` may use these servers.
    pub fn usable_by(&self, ci: usize) -> bool {
        self.cluster.is_none_or(|c| c == ci)
    }
}

/// Everything the scenarios run over.
#[derive(Debug, Clone)]
pub struct World {
    /// Site names.
    pub sites: Vec<String>,
    /// Failure domain of each site (index into `domains`).
    pub site_domain: Vec<usize>,
    /// Failure domains: sites that share a company's location.
    pub domains: Vec<Domain>,
    /// Provider of each site.
    pub site_provider: Vec<usize>,
    /// Provider names.
    pub providers: Vec<String>,
    /// Nodes, grouped by cluster.
    pub nodes: Vec<Node>,
    /// Clusters.
    pub clusters: Vec<ClusterInfo>,
    /// Workloads.
    pub workloads: Vec<Workload>,
    /// Allocation per (cluster, server type, role), for the report.
    pub allocations: Vec<(usize, Allocation)>,
    /// Replacement capacity per site: servers the provider can deliver now
    /// (`sites[].replacementCapacity`) and rented spare servers a pool lists beyond its count.
    pub replacement: Vec<Vec<Spare>>,
    /// Monthly price per (site, server type), for buffer costs.
    pub prices: BTreeMap<(usize, String), f64>,
    /// Assumptions the model made (for the report).
    pub notes: Vec<String>,
}

/// The per-node daemons the renderer writes for a node of `pool` (`None`: control plane), with
/// their summed requests: `hafen_check::allocatable::node_daemons`, which the capacity rules use
/// too.
pub fn node_daemons(
    components: &[Component],
    cluster: &Cluster,
    pool: Option<&NodePool>,
) -> (Res, Vec<String>) {
    let ((cpu, mem, pods), names) = allocatable::node_daemons(components, cluster, pool);
    (Res { cpu, mem, pods }, names)
}

/// A pool with spare servers: (pool index, `None` for the control plane; site; server type;
/// spares; role; holds storage).
type SparePool<'a> = (Option<usize>, &'a str, &'a str, u32, NodeKind, bool);

/// Allocatable of one node and the derivation.
pub fn allocation(
    cluster: &Cluster,
    st: &ServerType,
    kind: NodeKind,
    storage_node: bool,
    daemons: (Res, Vec<String>),
) -> (Res, Allocation) {
    let (cpu, mem, pods) = allocatable::capacity(st);
    let capacity = Res { cpu, mem, pods };
    let (kcpu, kmem) = allocatable::kube_reserved(f64::from(st.cpus()), st.memory_gib.max(0.0));
    let (sys_cpu, sys_mem) = allocatable::system_reserved(cluster, kind == NodeKind::ControlPlane);
    let kube = Res { cpu: kcpu, mem: kmem, pods: 0 };
    let system = Res { cpu: sys_cpu, mem: sys_mem, pods: 0 };
    let eviction =
        Res { cpu: 0, mem: allocatable::reservation().eviction_hard.memory_mib, pods: 0 };
    let (daemons, names) = daemons;
    let alloc = capacity.minus(&kube).minus(&system).minus(&eviction).minus(&daemons);
    let role = match kind {
        NodeKind::ControlPlane => "control-plane",
        NodeKind::Worker if storage_node => "worker+storage",
        NodeKind::Worker => "worker",
        NodeKind::Egress => "egress",
    };
    (
        alloc,
        Allocation {
            server_type: st.name.clone(),
            role: role.into(),
            capacity: capacity.into(),
            kube_reserved: kube.into(),
            system_reserved: system.into(),
            eviction: eviction.into(),
            daemons: daemons.into(),
            daemon_names: names,
            allocatable: alloc.into(),
        },
    )
}

fn mib_of(text: &str) -> u64 {
    quantity::bytes(text).map(|b| (b as f64 / MIB).ceil() as u64).unwrap_or(0)
}

/// The workloads of one app: its replicas in every cluster of its tenant, its database there,
/// and the database's replica cluster (standby) where `postgres.replicaCluster` puts it. As the
/// renderer does, the primary is the first of the tenant's clusters other than the replica
/// cluster; the standby runs `postgres.replicas` instances in the replica cluster.
fn add_app(
    workloads: &mut Vec<Workload>,
    clusters: &mut [ClusterInfo],
    spec: &hafen_spec::PlatformSpec,
    tenant: &hafen_spec::Tenant,
    app: &hafen_spec::App,
) {
    let cluster_idx = |n: &str| spec.clusters.iter().position(|c| c.name == n);
    let pg = app.postgres.as_ref();
    let replica = pg.and_then(|p| p.replica_cluster.as_deref()).and_then(cluster_idx);
    let primary = replica
        .and_then(|r| tenant.clusters.iter().filter_map(|c| cluster_idx(c)).find(|&c| c != r));
    let db_req = pg.map(|pg| {
        let (cpu, mem) = pg
            .resources
            .as_ref()
            .map(|r| (r.cpu.as_str(), r.memory.as_str()))
            .unwrap_or(("500m", "1Gi"));
        Res { cpu: quantity::cpu_millis(cpu).unwrap_or(500), mem: mib_of(mem), pods: 1 }
    });
    // CloudNativePG keeps instances on distinct nodes, or on distinct sites when the app
    // asks for site spread (the renderer sets the anti-affinity's topology key to the site).
    let db_placement = if app.spread() == Spread::Site {
        Placement::DistinctSites
    } else {
        Placement::DistinctNodes
    };
    let app_placement = match app.spread() {
        Spread::None => Placement::Free,
        Spread::Node => Placement::DistinctNodes,
        Spread::Site => Placement::SiteSkew,
    };
    let mut primary_db = None;
    let mut standby_db = None;
    let mut seen: Vec<usize> = Vec::new();
    for cname in &tenant.clusters {
        let Some(ci) = cluster_idx(cname) else { continue };
        if seen.contains(&ci) {
            continue;
        }
        seen.push(ci);
        let req = Res {
            cpu: quantity::cpu_millis(&app.resources.cpu).unwrap_or(0),
            mem: mib_of(&app.resources.memory),
            pods: 1,
        };
        let idx = workloads.len();
        workloads.push(Workload {
            cluster: ci,
            tenant: tenant.name.clone(),
            app: app.name.clone(),
            kind: WorkloadKind::App,
            replicas: app.replicas,
            req,
            spread: app.spread(),
            placement: app_placement,
            min_available: app.min_available().min(app.replicas),
            volumes: app
                .volumes
                .iter()
                .map(|v| WorkloadVolume {
                    name: v.name.clone(),
                    bytes: quantity::bytes(&v.size).unwrap_or(0),
                    shared: v.shared,
                })
                .collect(),
            replica_cluster: None,
            standby: None,
            standby_of: None,
        });
        if let Some(c) = clusters.get_mut(ci) {
            c.workloads.push(idx);
            if app.egress.stable_ip {
                c.stable_ip_apps.push(format!("{}/{}", tenant.name, app.name));
            }
        }
        if let (Some(pg), Some(req)) = (pg, db_req) {
            let idx = workloads.len();
            let is_standby = replica == Some(ci) && primary.is_some();
            workloads.push(db_workload(tenant, app, pg, ci, req, db_placement, is_standby));
            if is_standby {
                standby_db = Some(idx);
            } else if primary == Some(ci) {
                primary_db = Some(idx);
            }
            if let Some(c) = clusters.get_mut(ci) {
                c.workloads.push(idx);
            }
        }
    }
    // A replica cluster on a cluster the tenant does not run on: the standby alone.
    if let (Some(pg), Some(req), Some(rc), Some(_)) = (pg, db_req, replica, primary)
        && standby_db.is_none()
    {
        let idx = workloads.len();
        workloads.push(db_workload(tenant, app, pg, rc, req, db_placement, true));
        standby_db = Some(idx);
        if let Some(c) = clusters.get_mut(rc) {
            c.workloads.push(idx);
        }
    }
    if let (Some(p), Some(s)) = (primary_db, standby_db) {
        workloads[p].standby = Some(s);
        workloads[p].replica_cluster = Some(workloads[s].cluster);
        workloads[s].standby_of = Some(p);
        workloads[s].replica_cluster = None;
    }
}

fn db_workload(
    tenant: &hafen_spec::Tenant,
    app: &hafen_spec::App,
    pg: &hafen_spec::Postgres,
    ci: usize,
    req: Res,
    placement: Placement,
    standby: bool,
) -> Workload {
    Workload {
        cluster: ci,
        tenant: tenant.name.clone(),
        app: app.name.clone(),
        kind: WorkloadKind::Postgres,
        replicas: pg.replicas,
        req,
        spread: app.spread(),
        placement,
        // A database needs one instance with its data to serve; a standby serves nobody
        // until it is promoted, so its loss costs protection, not availability.
        min_available: if standby { 0 } else { 1.min(pg.replicas) },
        volumes: vec![WorkloadVolume {
            name: "pgdata".into(),
            bytes: quantity::bytes(&pg.size).unwrap_or(0),
            shared: false,
        }],
        replica_cluster: None,
        standby: None,
        standby_of: None,
    }
}

/// Groups sites into failure domains: one per (company, location code).
fn domains(
    spec: &hafen_spec::PlatformSpec,
    catalog: &hafen_catalog::Catalog,
) -> (Vec<usize>, Vec<Domain>) {
    let mut out: Vec<Domain> = Vec::new();
    let mut of = Vec::with_capacity(spec.sites.len());
    for (si, site) in spec.sites.iter().enumerate() {
        let provider = spec.provider(&site.provider);
        let type_ = provider.map(|p| p.type_.clone()).unwrap_or_default();
        let company = provider
            .and_then(|p| catalog.provider(&p.type_))
            // Own servers: each provider entry is its own operator's premises.
            .filter(|i| i.category != Category::SelfHosted)
            .map(|i| i.company.name.clone())
            .unwrap_or_else(|| format!("provider {}", site.provider));
        let label = format!("{company}/{}", site.location);
        match out.iter().position(|d| d.label == label) {
            Some(d) => {
                out[d].sites.push(si);
                of.push(d);
            }
            None => {
                of.push(out.len());
                out.push(Domain {
                    label,
                    provider_type: type_,
                    location: site.location.clone(),
                    sites: vec![si],
                });
            }
        }
    }
    (of, out)
}

/// Builds the model from a loaded platform.
pub fn build(loaded: &LoadedPlatform) -> World {
    let spec = &loaded.platform.spec;
    let catalog = &loaded.catalog;
    let sites: Vec<String> = spec.sites.iter().map(|s| s.name.clone()).collect();
    let providers: Vec<String> = spec.providers.iter().map(|p| p.name.clone()).collect();
    let site_idx = |name: &str| sites.iter().position(|s| s == name);
    let provider_idx = |name: &str| providers.iter().position(|p| p == name);
    let site_provider: Vec<usize> =
        spec.sites.iter().map(|s| provider_idx(&s.provider).unwrap_or(0)).collect();
    let server_type = |site: usize, name: &str| -> Option<(&ServerType, Option<Category>)> {
        let provider = spec.providers.get(*site_provider.get(site)?)?;
        let info = catalog.provider(&provider.type_)?;
        Some((info.server_type(name)?, Some(info.category)))
    };
    let mut notes = Vec::new();
    let mut nodes = Vec::new();
    let mut clusters = Vec::new();
    let mut workloads = Vec::new();
    let mut allocations: Vec<(usize, Allocation)> = Vec::new();
    // Rented spare servers (`serverIds` beyond a pool's count): (site, spare).
    let mut pool_spares: Vec<(usize, Spare)> = Vec::new();
    let mut prices = BTreeMap::new();
    let mut seen_alloc: BTreeMap<(usize, String, String), ()> = BTreeMap::new();
    for (ci, cluster) in spec.clusters.iter().enumerate() {
        let start = nodes.len();
        let components = hafen_render::components(loaded, cluster);
        let has_storage_role =
            cluster.node_pools.iter().any(|p| p.roles().contains(&NodeRole::Storage));
        let cp_sites = cluster.control_plane_sites();
        let mut push_node = |nodes: &mut Vec<Node>,
                             name: String,
                             pool: Option<usize>,
                             pool_name: &str,
                             site_name: &str,
                             st_name: &str,
                             kind: NodeKind,
                             storage: bool,
                             egress: bool| {
            let Some(site) = site_idx(site_name) else { return };
            let Some((st, _)) = server_type(site, st_name) else {
                return;
            };
            let on =
                node_daemons(&components, cluster, pool.and_then(|p| cluster.node_pools.get(p)));
            let (alloc, derivation) = allocation(cluster, st, kind, storage, on);
            let key = (ci, st.name.clone(), derivation.role.clone());
            if seen_alloc.insert(key, ()).is_none() {
                allocations.push((ci, derivation));
            }
            prices.insert((site, st.name.clone()), st.price.monthly_eur);
            nodes.push(Node {
                name,
                cluster: ci,
                pool,
                pool_name: pool_name.to_owned(),
                site,
                provider: site_provider.get(site).copied().unwrap_or(0),
                server_type: st.name.clone(),
                kind,
                storage,
                egress,
                schedulable: kind == NodeKind::ControlPlane && cluster.control_plane.schedulable,
                alloc,
            });
        };
        for i in 0..cluster.control_plane.replicas as usize {
            // Control-plane nodes go round-robin over the listed sites, as the renderer places them.
            let site = cp_sites.get(i % cp_sites.len().max(1)).copied().unwrap_or(&cluster.site);
            push_node(
                &mut nodes,
                format!("{}/control-plane-{}", cluster.name, i + 1),
                None,
                "control-plane",
                site,
                &cluster.control_plane.server_type,
                NodeKind::ControlPlane,
                // Schedulable control planes of clusters without storage pools hold the
                // replicated volumes too.
                cluster.control_plane.schedulable && !has_storage_role,
                false,
            );
        }
        let mut worker_types = Vec::new();
        if cluster.control_plane.schedulable {
            for site in &cp_sites {
                if let Some(s) = site_idx(site)
                    && !worker_types.contains(&(s, cluster.control_plane.server_type.clone()))
                {
                    worker_types.push((s, cluster.control_plane.server_type.clone()));
                }
            }
        }
        for (pi, pool) in cluster.node_pools.iter().enumerate() {
            let roles = pool.roles();
            // Tenant apps carry no tolerations: a tainted pool is not theirs.
            let works = pool.takes_tenant_pods();
            let storage = works && (roles.contains(&NodeRole::Storage) || !has_storage_role);
            let egress = roles.contains(&NodeRole::EgressGateway);
            let kind = if works { NodeKind::Worker } else { NodeKind::Egress };
            let site = cluster.pool_site(pool);
            if works
                && let Some(s) = site_idx(site)
                && !worker_types.contains(&(s, pool.server_type.clone()))
            {
                worker_types.push((s, pool.server_type.clone()));
            }
            for i in 0..pool.count as usize {
                push_node(
                    &mut nodes,
                    format!("{}/{}-{}", cluster.name, pool.name, i + 1),
                    Some(pi),
                    &pool.name,
                    site,
                    &pool.server_type,
                    kind,
                    storage,
                    egress,
                );
            }
        }
        let end = nodes.len();
        // Spare servers a pool rents beyond its count (more `serverIds` than `count`): the
        // renderer registers them as hosts of the pool, so a remediated machine lands on one
        // at once. They join only this pool, with its role, at its site. A control plane's
        // spares carry apps only when it is schedulable.
        let mut spare_pools: Vec<SparePool<'_>> = Vec::new();
        if cluster.control_plane.schedulable {
            let listed = cluster.control_plane.server_ids.len() as u32;
            let cp_site = cp_sites.first().copied().unwrap_or(&cluster.site);
            if listed > cluster.control_plane.replicas {
                spare_pools.push((
                    None,
                    cp_site,
                    &cluster.control_plane.server_type,
                    listed - cluster.control_plane.replicas,
                    NodeKind::ControlPlane,
                    !has_storage_role,
                ));
            }
        }
        for (pi, pool) in cluster.node_pools.iter().enumerate() {
            let listed = pool.server_ids.len() as u32;
            if listed <= pool.count || !pool.takes_tenant_pods() {
                continue;
            }
            let storage = pool.roles().contains(&NodeRole::Storage) || !has_storage_role;
            spare_pools.push((
                Some(pi),
                cluster.pool_site(pool),
                &pool.server_type,
                listed - pool.count,
                NodeKind::Worker,
                storage,
            ));
        }
        for (pool, site_name, st_name, count, kind, storage) in spare_pools {
            let Some(site) = site_idx(site_name) else { continue };
            let Some((st, _)) = server_type(site, st_name) else { continue };
            let on =
                node_daemons(&components, cluster, pool.and_then(|p| cluster.node_pools.get(p)));
            let (alloc, _) = allocation(cluster, st, kind, storage, on);
            let pool_name =
                pool.and_then(|p| cluster.node_pools.get(p)).map_or("control-plane", |p| &p.name);
            pool_spares.push((
                site,
                Spare {
                    server_type: st.name.clone(),
                    count,
                    alloc,
                    price: st.price.monthly_eur,
                    cluster: Some(ci),
                    spare_of: Some(format!("{}/{pool_name}", cluster.name)),
                },
            ));
        }
        let mut buffer_types = Vec::new();
        for site_name in cluster.sites() {
            let Some(si) = site_idx(site_name) else { continue };
            let Some(site) = spec.sites.get(si) else { continue };
            let Some(info) = spec.provider(&site.provider).and_then(|p| catalog.provider(&p.type_))
            else {
                continue;
            };
            for st in &info.server_types {
                let own = worker_types.contains(&(si, st.name.clone()));
                let here = st.locations.as_ref().is_none_or(|l| l.contains(&site.location));
                if !own && !here {
                    continue;
                }
                let orderable = st.availability.as_ref().is_none_or(|a| a.orderable);
                if !own && !orderable {
                    continue;
                }
                let on =
                    node_daemons(&components, cluster, Some(&allocatable::plain_worker(&st.name)));
                let (alloc, _) = allocation(cluster, st, NodeKind::Worker, !has_storage_role, on);
                buffer_types.push(BufferType {
                    site: si,
                    server_type: st.name.clone(),
                    alloc,
                    price: st.price.monthly_eur,
                    orderable,
                    own,
                });
            }
        }
        let backups = cluster.backups.as_ref();
        clusters.push(ClusterInfo {
            name: cluster.name.clone(),
            nodes: start..end,
            workloads: Vec::new(),
            storage: cluster.storage.as_ref().map(|s| s.default),
            storage_replicas: cluster.storage.as_ref().and_then(|s| s.replicas).unwrap_or(2),
            backup_site: backups.and_then(|b| b.site.as_deref()).and_then(site_idx),
            backup_provider: backups.and_then(|b| b.provider.as_deref()).and_then(provider_idx),
            has_backups: backups.is_some(),
            backup_schedule: backups.map(|b| b.schedule.clone()),
            egress_ips: cluster.network.egress.as_ref().map(|e| e.ips.len()).unwrap_or(0),
            stable_ip_apps: Vec::new(),
            site: site_idx(&cluster.site).unwrap_or(0),
            worker_types,
            buffer_types,
        });
    }
    for tenant in &spec.tenants {
        for app in &tenant.apps {
            add_app(&mut workloads, &mut clusters, spec, tenant, app);
        }
    }
    let mut replacement: Vec<Vec<Spare>> = vec![Vec::new(); sites.len()];
    // A pool's own spares first: they are rented and ready, so a scenario uses them before
    // anything the provider would have to deliver.
    for (site, spare) in pool_spares {
        if let Some(slot) = replacement.get_mut(site) {
            slot.push(spare);
        }
    }
    for (si, site) in spec.sites.iter().enumerate() {
        for r in &site.replacement_capacity {
            let Some((st, _)) = server_type(si, &r.server_type) else { continue };
            // Replacement servers join as workers of the first cluster at the site; the
            // reservation of that cluster's OS applies.
            let cluster = spec
                .clusters
                .iter()
                .find(|c| c.sites().contains(&site.name.as_str()))
                .or(spec.clusters.first());
            let Some(cluster) = cluster else { continue };
            let components = hafen_render::components(loaded, cluster);
            let on = node_daemons(&components, cluster, Some(&allocatable::plain_worker(&st.name)));
            let (alloc, _) = allocation(cluster, st, NodeKind::Worker, false, on);
            prices.insert((si, st.name.clone()), st.price.monthly_eur);
            if let Some(slot) = replacement.get_mut(si) {
                slot.push(Spare {
                    server_type: st.name.clone(),
                    count: r.count,
                    alloc,
                    price: st.price.monthly_eur,
                    cluster: None,
                    spare_of: None,
                });
            }
        }
    }
    notes.push(
        "Replicas are placed like the default scheduler would (least-allocated node first); \
         apps without `spread: site` prefer their cluster's primary site, so nothing forces a \
         second site."
            .into(),
    );
    notes.push(
        "Control-plane nodes (unless `controlPlane.schedulable`) and egress-only nodes run no \
         tenant apps. `spread: node` is one replica per node (required anti-affinity); \
         `spread: site` is one per node and no site more than one replica ahead of the emptiest \
         surviving site (maxSkew 1, DoNotSchedule, failed sites are no domain); Postgres \
         instances keep to distinct nodes, or distinct sites with `spread: site` \
         (CloudNativePG anti-affinity)."
            .into(),
    );
    let (site_domain, domains) = domains(spec, catalog);
    World {
        sites,
        site_domain,
        domains,
        site_provider,
        providers,
        nodes,
        clusters,
        workloads,
        allocations,
        replacement,
        prices,
        notes,
    }
}
