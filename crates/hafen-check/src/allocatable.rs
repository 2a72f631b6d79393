//! What the kubelet leaves for pods on a node — kube-reserved, the OS's system-reserved, the
//! eviction threshold and the per-node daemons the renderer writes — in one place, so `check`'s
//! capacity rules and the planner's simulation compute the same allocatable from the same
//! dated facts (`data/check/reservation.yaml`) and the same rendered daemon requests.

use hafen_catalog::ServerType;
use hafen_render::components::Component;
use hafen_spec::{Cluster, NodePool, Os};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const RESERVATION: &str = include_str!("../../../data/check/reservation.yaml");
const MIB: f64 = 1024.0 * 1024.0;

/// One slice of a tiered reservation: `fraction` of everything up to `upto` (cumulative).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// Upper end of the slice in GiB (memory) or cores (CPU); none for the last slice.
    #[serde(alias = "uptoGiB", alias = "uptoCores")]
    pub upto: Option<f64>,
    /// Share of the slice reserved.
    pub fraction: f64,
}

/// kube-reserved tiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeReserved {
    /// Where the formula comes from.
    pub source: String,
    /// When it was read.
    pub date: String,
    /// Memory slices.
    pub memory_tiers: Vec<Tier>,
    /// CPU slices.
    pub cpu_tiers: Vec<Tier>,
}

/// The kubelet's hard eviction threshold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Eviction {
    /// MiB kept free.
    #[serde(rename = "memoryMiB")]
    pub memory_mib: u64,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
}

/// What the OS reserves by itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemReserved {
    /// Millicores.
    pub cpu_millis: u64,
    /// MiB on workers.
    #[serde(rename = "workerMemoryMiB")]
    pub worker_memory_mib: u64,
    /// MiB on control-plane nodes.
    #[serde(rename = "controlPlaneMemoryMiB")]
    pub control_plane_memory_mib: u64,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
}

/// Per-OS system reservations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemReservedByOs {
    /// Talos.
    pub talos: SystemReserved,
    /// K3s.
    pub k3s: SystemReserved,
}

/// Pods per node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxPods {
    /// Default pod limit.
    pub per_node: u64,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
}

/// `data/check/reservation.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    /// kube-reserved.
    pub kube_reserved: KubeReserved,
    /// Eviction threshold.
    pub eviction_hard: Eviction,
    /// OS reservations.
    pub system_reserved: SystemReservedByOs,
    /// Pod limit.
    pub max_pods: MaxPods,
}

fn parse(text: &str) -> Result<Reservation, String> {
    hafen_yaml::data_file("data/check/reservation.yaml", text)
}

/// The embedded file's parse result, for tests.
pub fn check_file() -> Result<(), String> {
    parse(RESERVATION).map(|_| ())
}

/// The embedded reservation facts. The file is checked by this crate's tests; a broken file
/// falls back to the Talos defaults with no kube-reserved so neither check nor plan panics.
pub fn reservation() -> &'static Reservation {
    static R: OnceLock<Reservation> = OnceLock::new();
    R.get_or_init(|| {
        parse(RESERVATION).unwrap_or_else(|_| {
            let sr = |cpu, w, c| SystemReserved {
                cpu_millis: cpu,
                worker_memory_mib: w,
                control_plane_memory_mib: c,
                source: "fallback".into(),
                date: String::new(),
            };
            Reservation {
                kube_reserved: KubeReserved {
                    source: "fallback".into(),
                    date: String::new(),
                    memory_tiers: Vec::new(),
                    cpu_tiers: Vec::new(),
                },
                eviction_hard: Eviction {
                    memory_mib: 100,
                    source: "fallback".into(),
                    date: String::new(),
                },
                system_reserved: SystemReservedByOs { talos: sr(50, 384, 512), k3s: sr(0, 0, 0) },
                max_pods: MaxPods { per_node: 110, source: "fallback".into(), date: String::new() },
            }
        })
    })
}

fn tiered(amount: f64, tiers: &[Tier]) -> f64 {
    let mut reserved = 0.0;
    let mut lower = 0.0;
    for tier in tiers {
        let upper = tier.upto.unwrap_or(f64::INFINITY);
        if amount > lower {
            reserved += (amount.min(upper) - lower) * tier.fraction;
        }
        lower = upper;
        if amount <= upper {
            break;
        }
    }
    reserved
}

/// kube-reserved for a machine of `cores` and `mem_gib`: (millicores, MiB).
pub fn kube_reserved(cores: f64, mem_gib: f64) -> (u64, u64) {
    let r = reservation();
    let cpu = tiered(cores, &r.kube_reserved.cpu_tiers) * 1000.0;
    let mem = tiered(mem_gib, &r.kube_reserved.memory_tiers) * 1024.0;
    (cpu.ceil() as u64, mem.ceil() as u64)
}

/// What the OS reserves by itself on a node of `cluster`: (millicores, MiB).
pub fn system_reserved(cluster: &Cluster, control_plane: bool) -> (u64, u64) {
    let r = reservation();
    let sys = match cluster.os {
        Os::Talos => &r.system_reserved.talos,
        Os::K3s => &r.system_reserved.k3s,
    };
    let mem = if control_plane { sys.control_plane_memory_mib } else { sys.worker_memory_mib };
    (sys.cpu_millis, mem)
}

/// The per-node daemons the renderer writes for a node of `pool` (`None`: control plane), with
/// their summed requests (millicores, MiB, pods) and names: the same list
/// `hafen_render::components` renders, so the overhead and the rendered requests cannot drift.
pub fn node_daemons(
    components: &[Component],
    cluster: &Cluster,
    pool: Option<&NodePool>,
) -> ((u64, u64, u64), Vec<String>) {
    let (mut cpu, mut mem, mut pods) = (0u64, 0u64, 0u64);
    let mut names = Vec::new();
    for d in components.iter().flat_map(|c| &c.daemons) {
        if !d.runs_on(cluster, pool) {
            continue;
        }
        cpu = cpu.saturating_add(d.cpu_millis);
        mem = mem.saturating_add((d.memory_bytes as f64 / MIB).ceil() as u64);
        pods = pods.saturating_add(1);
        names.push(d.name.clone());
    }
    ((cpu, mem, pods), names)
}

/// A pool of one plain worker of `server_type`: what a buffer or replacement server joins as.
pub fn plain_worker(server_type: &str) -> NodePool {
    NodePool {
        name: "buffer".into(),
        server_type: server_type.to_owned(),
        count: 1,
        roles: Vec::new(),
        site: None,
        labels: std::collections::BTreeMap::new(),
        taints: Vec::new(),
        server_ids: Vec::new(),
    }
}

/// Capacity of one node of `server`: (millicores, MiB, pods). Kubelet counts logical CPUs: a
/// dedicated server's hardware threads, a cloud vCPU each.
pub fn capacity(server: &ServerType) -> (u64, u64, u64) {
    (
        u64::from(server.cpus()).saturating_mul(1000),
        (server.memory_gib.max(0.0) * 1024.0).floor() as u64,
        reservation().max_pods.per_node,
    )
}

/// Allocatable CPU (millicores) and memory (MiB) of one node of `server` in `cluster`: its
/// capacity less kube-reserved, system-reserved, the eviction threshold and `daemons`
/// (millicores, MiB).
pub fn allocatable(
    cluster: &Cluster,
    server: &ServerType,
    control_plane: bool,
    daemons: (u64, u64),
) -> (u64, u64) {
    let (cap_cpu, cap_mem, _) = capacity(server);
    let (kcpu, kmem) = kube_reserved(f64::from(server.cpus()), server.memory_gib.max(0.0));
    let (scpu, smem) = system_reserved(cluster, control_plane);
    let eviction = reservation().eviction_hard.memory_mib;
    (
        cap_cpu.saturating_sub(kcpu).saturating_sub(scpu).saturating_sub(daemons.0),
        cap_mem
            .saturating_sub(kmem)
            .saturating_sub(smem)
            .saturating_sub(eviction)
            .saturating_sub(daemons.1),
    )
}

/// Allocatable CPU (millicores) and memory (MiB) of one node of `server` in `pool` (`None`: the
/// control plane) of `cluster`, with the daemons `components` run there.
pub fn node_allocatable(
    components: &[Component],
    cluster: &Cluster,
    server: &ServerType,
    pool: Option<&NodePool>,
) -> (u64, u64) {
    let ((cpu, mem, _), _) = node_daemons(components, cluster, pool);
    allocatable(cluster, server, pool.is_none(), (cpu, mem))
}

/// [`node_allocatable`] with the components the renderer writes for `cluster` of `loaded`.
pub fn for_node(
    loaded: &hafen_spec::LoadedPlatform,
    cluster: &Cluster,
    server: &ServerType,
    pool: Option<&NodePool>,
) -> (u64, u64) {
    node_allocatable(&hafen_render::components(loaded, cluster), cluster, server, pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_parses_and_is_dated() {
        assert_eq!(check_file(), Ok(()));
        let dated = |d: &str| d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-';
        let r = reservation();
        assert!(dated(&r.kube_reserved.date) && !r.kube_reserved.source.is_empty());
        assert!(dated(&r.system_reserved.talos.date) && dated(&r.system_reserved.k3s.date));
        assert!(dated(&r.eviction_hard.date) && dated(&r.max_pods.date));
    }

    #[test]
    fn kube_reserved_follows_the_documented_tiers() {
        // By hand: 8 cores → 60 + 10 + 2×5 + 4×2.5 = 90 m; 32 GiB → 1 + 0.8 + 0.8 + 16×0.06 = 3.56 GiB.
        assert_eq!(kube_reserved(8.0, 32.0), (90, 3646));
        // 1 core, 2 GiB: 60 m, 512 MiB.
        assert_eq!(kube_reserved(1.0, 2.0), (60, 512));
        // 48 cores, 192 GiB: 60+10+10+44×2.5 = 190 m; 1+0.8+0.8+112×0.06+64×0.02 = 10.6 GiB.
        let (cpu, mem) = kube_reserved(48.0, 192.0);
        assert_eq!(cpu, 190);
        assert!((mem as f64 - 10.6 * 1024.0).abs() < 2.0, "{mem}");
    }
}
