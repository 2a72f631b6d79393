//! Hardware rules: memory integrity, remote hands, and machines too small for their job.

use crate::platform::{Alloc, NodeGroup, workload_capacity};
use crate::{Ctx, facts};
use hafen_catalog::ProviderInfo;
use hafen_diag::Diagnostic;
use hafen_spec::quantity::{format_bytes, format_cpu};

/// The path of a group's server type.
fn server_type_path(g: &NodeGroup<'_>) -> String {
    format!("{}.serverType", g.path)
}

rule!(HW001, Error, "server type with 256 GB of memory or more and no ECC", hw001);

fn hw001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let mut seen: Vec<String> = Vec::new();
        for g in ctx.node_groups(i) {
            let Some(server) = g.server else { continue };
            if server.memory_gib < 256.0 || server.ecc || seen.contains(&g.path) {
                continue;
            }
            seen.push(g.path.clone());
            let Some(info) = ctx.site_info(g.site) else { continue };
            out.push(
                ctx.finding(
                    "HW001",
                    &server_type_path(&g),
                    format!(
                        "{} of cluster `{}` uses `{}` with {} GiB of memory and no ECC",
                        g.label, cluster.name, g.server_type, server.memory_gib
                    ),
                )
                .with_span_label("non-ECC memory at this size")
                .with_help(ecc_help(ctx, &g, info, server.memory_gib)),
            );
        }
    }
}

/// The fix for a large non-ECC machine: other server types where the provider sells them,
/// the hardware itself where the machines are the team's own.
fn ecc_help(ctx: &Ctx<'_>, g: &NodeGroup<'_>, info: &ProviderInfo, memory: f64) -> String {
    if info.category == hafen_catalog::Category::SelfHosted {
        let provider = ctx.site(g.site).map_or("", |s| s.provider.as_str());
        return format!(
            "these are your own machines: fit registered ECC memory (a server board and CPU that support it) or use machines that have it, then declare `ecc: true` on server type `{}` of provider `{provider}`; if they already have ECC, only the declaration is missing",
            g.server_type
        );
    }
    let mut names: Vec<&str> = info
        .server_types
        .iter()
        .filter(|s| s.ecc && s.memory_gib >= memory * 0.5)
        .map(|s| s.name.as_str())
        .collect();
    names.truncate(4);
    if names.is_empty() {
        format!(
            "the catalogue lists no server type of {} with ECC and at least {:.0} GiB: split the load over smaller ECC machines, choose another provider, or declare the type you mean in a catalogue file (`--catalog`)",
            info.display_name,
            memory * 0.5
        )
    } else {
        format!(
            "choose a server type with ECC memory at {} (e.g. one of: {})",
            info.display_name,
            names.join(", ")
        )
    }
}

/// Requested CPU and memory of every replica on a cluster.
pub(super) fn requested(ctx: &Ctx<'_>, cluster: &str) -> (u64, u64) {
    ctx.demands(cluster).iter().fold((0, 0), |(c, m), d| {
        (
            c.saturating_add(d.cpu.saturating_mul(u64::from(d.replicas))),
            m.saturating_add(d.memory.saturating_mul(u64::from(d.replicas))),
        )
    })
}

/// Allocatable of the replacement servers a site declares, joining cluster `index`.
pub(super) fn replacement(ctx: &Ctx<'_>, index: usize, site: &str) -> (u64, u64) {
    let Some(s) = ctx.site(site) else { return (0, 0) };
    s.replacement_capacity.iter().fold((0, 0), |(c, m), r| match ctx.server(site, &r.server_type) {
        Some(server) => {
            let (ac, am) = ctx.plain_worker_allocatable(index, server);
            (
                c.saturating_add(ac.saturating_mul(u64::from(r.count))),
                m.saturating_add(am.saturating_mul(u64::from(r.count))),
            )
        }
        None => (c, m),
    })
}

/// The largest node at a site without remote power-on, what is left without it, and what
/// the cluster requests.
pub(super) struct NoSpare<'a> {
    pub(super) group: NodeGroup<'a>,
    pub(super) left: Alloc,
    pub(super) want: Alloc,
}

/// For clusters with workload nodes at a site without remote power-on: the site, the
/// largest node there, and what is left after losing it, when that is below the requests.
pub(super) fn no_spare_at_dark_site<'a>(ctx: &Ctx<'a>, index: usize) -> Option<NoSpare<'a>> {
    let cluster = ctx.spec().clusters.get(index)?;
    let groups = ctx.node_groups(index);
    if groups.iter().any(|g| g.workloads && g.server.is_none()) {
        return None;
    }
    let (want_cpu, want_mem) = requested(ctx, &cluster.name);
    if want_cpu == 0 && want_mem == 0 {
        return None;
    }
    let total = workload_capacity(&groups).total();
    for g in groups.iter().filter(|g| g.workloads && g.count > 0 && !ctx.remote_power_on(g.site)) {
        let largest = groups
            .iter()
            .filter(|x| x.workloads && x.site == g.site && x.count > 0)
            .filter_map(|x| x.alloc.map(|a| (x, a)))
            .max_by_key(|(_, (c, m))| (*m, *c))?;
        let (mut spare_cpu, mut spare_mem) = replacement(ctx, index, g.site);
        // Rented spares a pool lists beyond its count are ready to take a dead node's place.
        for x in groups.iter().filter(|x| x.workloads && x.site == g.site && x.spares > 0) {
            let Some((c, m)) = x.alloc else { continue };
            spare_cpu = spare_cpu.saturating_add(c.saturating_mul(u64::from(x.spares)));
            spare_mem = spare_mem.saturating_add(m.saturating_mul(u64::from(x.spares)));
        }
        let left = (
            total.0.saturating_sub(largest.1.0).saturating_add(spare_cpu),
            total.1.saturating_sub(largest.1.1).saturating_add(spare_mem),
        );
        if left.0 < want_cpu || left.1 < want_mem {
            return Some(NoSpare { group: largest.0.clone(), left, want: (want_cpu, want_mem) });
        }
    }
    None
}

rule!(HW002, Error, "no spare node where a dead server waits for provider staff", hw002);

fn hw002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if !ctx.production(cluster) {
            continue;
        }
        let groups = ctx.node_groups(i);
        let workload_nodes: u64 =
            groups.iter().filter(|g| g.workloads).map(|g| u64::from(g.count)).sum();
        let ingress = |g: &NodeGroup<'_>| g.roles.contains(&hafen_spec::NodeRole::Ingress);
        let single = groups
            .iter()
            .filter(|g| g.count == 1 && g.spares == 0 && !ctx.remote_power_on(g.site))
            .find(|g| (g.workloads && workload_nodes == 1) || ingress(g));
        if let Some(g) = single {
            let what = if g.workloads && workload_nodes == 1 {
                "the only node that runs workloads"
            } else {
                "the only ingress node"
            };
            out.push(
                ctx.finding(
                    "HW002",
                    &format!("{}.count", g.path),
                    format!(
                        "{} of cluster `{}` is {what}, at site `{}` where a dead server stays off until provider staff switch it on",
                        g.label, cluster.name, g.site
                    ),
                )
                .with_span_label("no remote power-on, no spare")
                .with_help(format!(
                    "use `count: 2` or more `{}`, so a dead server does not stop the cluster while the support ticket is open",
                    g.server_type
                )),
            );
            continue;
        }
        let Some(NoSpare { group, left, want }) = no_spare_at_dark_site(ctx, i) else {
            spread_without_spare(ctx, i, out);
            continue;
        };
        let pool =
            group.pool.map_or_else(|| "the control plane".into(), |p| format!("node pool `{p}`"));
        out.push(
            ctx.finding(
                "HW002",
                &format!("{}.count", group.path),
                format!(
                    "cluster `{}` has no spare node at site `{}`, where a dead server stays off until provider staff switch it on: losing one `{}` leaves {} CPU and {} allocatable for {} CPU and {} of requests",
                    cluster.name,
                    group.site,
                    group.server_type,
                    format_cpu(left.0),
                    format_bytes(left.1),
                    format_cpu(want.0),
                    format_bytes(want.1)
                ),
            )
            .with_span_label("no remote power-on, no N+1")
            .with_help(format!(
                "add one `{}` to {pool} (count {}), so the workloads of a dead node fit on the rest while the ticket is open; set `remotePowerOn: true` on the site only if its data centre really has it",
                group.server_type,
                group.count + 1
            )),
        );
    }
}

/// Capacity may fit, but a workload spread one replica per node over exactly as many nodes,
/// all at sites where a dead server waits for staff, leaves a replica Pending for the whole
/// support ticket: the spread has no spare node.
fn spread_without_spare(ctx: &Ctx<'_>, index: usize, out: &mut Vec<Diagnostic>) {
    let Some(cluster) = ctx.spec().clusters.get(index) else { return };
    let groups = ctx.node_groups(index);
    let workers: Vec<&NodeGroup<'_>> =
        groups.iter().filter(|g| g.workloads && g.count > 0).collect();
    if workers.is_empty() || workers.iter().any(|g| ctx.remote_power_on(g.site)) {
        return;
    }
    // A rented spare (a `serverIds` entry beyond the count) takes the dead node's place, so
    // the spread has its spare node.
    if workers.iter().any(|g| g.spares > 0) {
        return;
    }
    let nodes: u64 = workers.iter().map(|g| u64::from(g.count)).sum();
    let Some(d) = ctx
        .demands(&cluster.name)
        .iter()
        .find(|d| d.one_per_node && u64::from(d.replicas) == nodes && nodes >= 2)
    else {
        return;
    };
    let Some(pool) = workers.iter().rev().find(|g| g.pool.is_some()) else { return };
    let site = pool.site;
    let finding = ctx
        .finding(
            "HW002",
            &format!("{}.count", pool.path),
            format!(
                "{} of tenant `{}` runs {} replicas one per node on the {nodes} nodes of cluster `{}` at site `{site}`, where a dead server stays off until provider staff switch it on: one dead server leaves a replica Pending until the ticket is closed",
                d.label, d.tenant.name, d.replicas, cluster.name
            ),
        )
        .with_span_label("no spare node for the spread")
        .with_help(format!(
            "add one `{}` to {} (count {}), or run {} replicas; set `remotePowerOn: true` on the site only if its data centre really has it",
            pool.server_type,
            pool.label,
            pool.count.saturating_add(1),
            d.replicas.saturating_sub(1)
        ));
    out.push(ctx.label(finding, &format!("{}.replicas", d.path), "one replica per node"));
}

rule!(HW003, Warning, "control-plane or storage nodes without ECC memory", hw003);

fn hw003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let groups = ctx.node_groups(i);
        let replicated = matches!(
            ctx.storage_driver(cluster),
            Some(hafen_spec::StorageDriver::Longhorn | hafen_spec::StorageDriver::Piraeus)
        );
        let storage: Vec<String> = if replicated {
            super::topology::storage_groups(&groups).iter().map(|g| g.path.clone()).collect()
        } else {
            Vec::new()
        };
        let mut seen: Vec<String> = Vec::new();
        for g in &groups {
            let Some(server) = g.server else { continue };
            // HW001 already reports large non-ECC machines as errors.
            if server.ecc || server.memory_gib >= 256.0 || seen.contains(&g.path) {
                continue;
            }
            let role = if g.is_control_plane() {
                "etcd (the cluster's whole state)"
            } else if storage.contains(&g.path) {
                "replicas of persistent volumes"
            } else {
                continue;
            };
            seen.push(g.path.clone());
            out.push(
                ctx.finding(
                    "HW003",
                    &server_type_path(g),
                    format!(
                        "{} of cluster `{}` keeps {role} on `{}`, which has no ECC memory",
                        g.label, cluster.name, g.server_type
                    ),
                )
                .with_span_label("bit flips corrupt state silently")
                .with_help(ctx.site_info(g.site).map_or_else(
                    || "use a server type with ECC memory".into(),
                    |info| ecc_help(ctx, g, info, server.memory_gib),
                )),
            );
        }
    }
}

rule!(
    HW004,
    Error,
    "control-plane server type below the minimum for a Kubernetes control plane",
    hw004
);

fn hw004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let min = &facts::get().control_plane;
    if min.min_cores == 0 {
        return;
    }
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(g) = ctx.node_groups(i).into_iter().find(NodeGroup::is_control_plane) else {
            continue;
        };
        let Some(server) = g.server else { continue };
        if server.cores >= min.min_cores && server.memory_gib >= min.min_memory_gib {
            continue;
        }
        let suggestion = ctx
            .site_info(g.site)
            .and_then(|info| {
                info.server_types
                    .iter()
                    .filter(|s| {
                        s.cores >= min.min_cores && s.memory_gib >= min.min_memory_gib.max(4.0)
                    })
                    .filter(|s| s.availability.as_ref().is_none_or(|a| a.orderable))
                    .filter(|s| s.arch == server.arch)
                    .min_by(|a, b| a.price.monthly_eur.total_cmp(&b.price.monthly_eur))
            })
            .map(|s| format!(" (e.g. `{}`: {} cores, {} GiB)", s.name, s.cores, s.memory_gib))
            .unwrap_or_default();
        out.push(
            ctx.finding(
                "HW004",
                &format!("spec.clusters[{i}].controlPlane.serverType"),
                format!(
                    "control plane of cluster `{}` runs on `{}` ({} cores, {} GiB), below the {} cores and {} GiB a control-plane machine needs",
                    cluster.name, g.server_type, server.cores, server.memory_gib, min.min_cores, min.min_memory_gib
                ),
            )
            .with_span_label("etcd and the API server starve here")
            .with_help(format!(
                "use a server type with at least {} cores and 4 GiB{suggestion}",
                min.min_cores
            )),
        );
    }
}
