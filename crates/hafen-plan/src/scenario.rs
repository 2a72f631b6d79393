//! Failure scenarios: which nodes, sites and providers fail, what that does to each affected
//! cluster (re-placement, budgets, quorum, data), the buffer that would have prevented it, and
//! the search for the worst third of a cluster (adversarial, not only random).

use crate::model::{CopyAt, NodeKind, WorkloadKind, World};
use crate::pack::{self, Baseline, BufferFit, Replacement, ReplacementLeft};
use crate::report::{
    AppImpact, BufferAdvice, DataRisk, QuorumLoss, ReplacementUse, ScenarioResult,
};
use crate::rng::Rng;
use std::collections::BTreeMap;

/// What fails.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    /// Stable id.
    pub id: String,
    /// Kind.
    pub kind: &'static str,
    /// For people.
    pub description: String,
    /// Failed nodes (global ids, sorted).
    pub nodes: Vec<usize>,
    /// Failed sites.
    pub sites: Vec<usize>,
    /// Failed providers.
    pub providers: Vec<usize>,
    /// Name the nodes in the result (not for site/provider scenarios).
    pub list_nodes: bool,
}

/// How bad an outcome is, compared lexicographically (worst first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Damage {
    /// Clusters whose control plane lost quorum.
    pub control_planes_down: u64,
    /// Data lost with no backup to restore.
    pub data_lost: u64,
    /// Databases with no instance left, egress gateways all gone.
    pub groups_lost: u64,
    /// Replicas that could not be restarted.
    pub unplaced: u64,
    /// Apps with no replica running anywhere.
    pub apps_down: u64,
    /// Apps below their disruption budget.
    pub below_budget: u64,
    /// Data that must come back from a backup.
    pub data_restore: u64,
    /// Replicas displaced.
    pub displaced: u64,
}

/// Evaluation of one cluster in one scenario.
#[derive(Debug, Clone)]
pub struct ClusterEval {
    ci: usize,
    cp_total: u64,
    cp_surviving: u64,
    rep: Replacement,
    buffer: Option<BufferFit>,
    no_buffer: Option<String>,
    data: Vec<(usize, usize, u64, &'static str)>,
    pg_lost: Vec<(usize, u64)>,
    egress_lost: Option<u64>,
}

/// Evaluation of one scenario.
#[derive(Debug, Clone)]
pub struct Eval {
    /// The failure.
    pub failure: Failure,
    /// Per affected cluster.
    pub clusters: Vec<ClusterEval>,
    /// Damage.
    pub damage: Damage,
}

/// Shared, read-only inputs of every scenario.
pub struct Ctx<'a> {
    /// The model.
    pub world: &'a World,
    /// Baseline per cluster.
    pub base: &'a [Baseline],
    /// Per workload: the group of the same app (and kind) in every cluster.
    group_of: Vec<usize>,
    /// Groups of workloads that are one app deployed to several clusters.
    groups: Vec<Vec<usize>>,
    /// Per workload: its position in its cluster's workload list.
    pos: Vec<usize>,
}

impl<'a> Ctx<'a> {
    /// Inputs for a world and its baselines.
    pub fn new(world: &'a World, base: &'a [Baseline]) -> Ctx<'a> {
        let mut index: BTreeMap<(&str, &str, bool), usize> = BTreeMap::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut group_of = Vec::with_capacity(world.workloads.len());
        for (i, w) in world.workloads.iter().enumerate() {
            let key = (w.tenant.as_str(), w.app.as_str(), w.kind == WorkloadKind::Postgres);
            let g = *index.entry(key).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            });
            groups[g].push(i);
            group_of.push(g);
        }
        let mut pos = vec![0; world.workloads.len()];
        for c in &world.clusters {
            for (p, &w) in c.workloads.iter().enumerate() {
                if let Some(x) = pos.get_mut(w) {
                    *x = p;
                }
            }
        }
        Ctx { world, base, group_of, groups, pos }
    }
}

/// Evaluates a failure across every cluster it touches.
pub fn evaluate(ctx: &Ctx<'_>, failure: Failure) -> Eval {
    let world = ctx.world;
    let mut site_failed = vec![false; world.sites.len()];
    for &s in &failure.sites {
        if let Some(f) = site_failed.get_mut(s) {
            *f = true;
        }
    }
    let mut provider_failed = vec![false; world.providers.len()];
    for &p in &failure.providers {
        if let Some(f) = provider_failed.get_mut(p) {
            *f = true;
        }
    }
    let mut left: ReplacementLeft =
        world.replacement.iter().map(|o| o.iter().map(|x| x.1).collect()).collect();
    // Affected clusters come from the failed nodes themselves (sorted ids), so a scenario
    // costs what it touches, not the size of the fleet.
    let mut affected: Vec<usize> =
        failure.nodes.iter().filter_map(|&g| world.nodes.get(g).map(|n| n.cluster)).collect();
    affected.sort_unstable();
    affected.dedup();
    let failed = |g: usize| failure.nodes.binary_search(&g).is_ok();
    let mut clusters = Vec::with_capacity(affected.len());
    for ci in affected {
        clusters.push(evaluate_cluster(
            ctx,
            ci,
            &failed,
            &site_failed,
            &provider_failed,
            &mut left,
        ));
    }
    let mut eval = Eval { failure, clusters, damage: Damage::default() };
    eval.damage = damage(ctx, &eval);
    eval
}

fn evaluate_cluster(
    ctx: &Ctx<'_>,
    ci: usize,
    failed: &dyn Fn(usize) -> bool,
    site_failed: &[bool],
    provider_failed: &[bool],
    left: &mut ReplacementLeft,
) -> ClusterEval {
    let world = ctx.world;
    let cluster = &world.clusters[ci];
    let base = &ctx.base[ci];
    let nodes = &world.nodes[cluster.nodes.clone()];
    let is_failed = |g: usize| failed(g);
    let is_site_failed = |s: usize| site_failed.get(s).copied().unwrap_or(false);
    let cp: Vec<usize> =
        cluster.nodes.clone().filter(|&g| world.nodes[g].kind == NodeKind::ControlPlane).collect();
    let cp_total = cp.len() as u64;
    let cp_surviving = cp.iter().filter(|&&g| !is_failed(g)).count() as u64;
    let control_plane_up = cp_total == 0 || cp_surviving > cp_total / 2;
    let rep = pack::replace(world, ci, base, &is_failed, &is_site_failed, left, control_plane_up);
    let unplaced_total: u64 = rep.unplaced.iter().map(|u| u64::from(u.1)).sum();
    let (buffer, no_buffer) = if unplaced_total == 0 {
        (None, None)
    } else if !control_plane_up {
        (
            None,
            Some(
                "the control plane lost etcd quorum: nothing is rescheduled until it is restored"
                    .to_owned(),
            ),
        )
    } else {
        match pack::buffer(world, ci, base, &is_failed, &is_site_failed, &rep.unplaced) {
            Some(b) => (Some(b), None),
            None => (
                None,
                Some(
                    "no surviving site of this cluster has a worker type the unplaced replicas fit: \
                     the cluster needs nodes at a second site (or a second cluster)"
                        .to_owned(),
                ),
            ),
        }
    };
    // Data: a volume is at risk when every live copy sat in the failed domain.
    let alive = |c: &CopyAt| match *c {
        CopyAt::Node(g) => {
            !is_failed(g) && !world.nodes.get(g).is_some_and(|n| is_site_failed(n.site))
        }
        CopyAt::Site(s) => !is_site_failed(s),
    };
    let backup_survives = cluster.has_backups
        && (cluster.backup_site.is_some() || cluster.backup_provider.is_some())
        && !cluster.backup_site.is_some_and(is_site_failed)
        && !cluster
            .backup_provider
            .is_some_and(|p| provider_failed.get(p).copied().unwrap_or(false));
    let backup_unknown =
        cluster.has_backups && cluster.backup_site.is_none() && cluster.backup_provider.is_none();
    let mut data = Vec::new();
    let mut pg_lost = Vec::new();
    for (pos, &w) in cluster.workloads.iter().enumerate() {
        let wk = &world.workloads[w];
        let copies = &base.copies[pos];
        if copies.is_empty() {
            continue;
        }
        let touched = base.placed[pos].iter().any(|&i| is_failed(cluster.nodes.start + i as usize))
            || copies.iter().flatten().any(|c| !alive(c));
        if !touched {
            continue;
        }
        let mut any_alive = copies.iter().any(|set| set.iter().any(alive));
        let surviving_instances = copies.iter().filter(|set| set.iter().any(alive)).count() as u64;
        if let Some(rc) = wk.replica_cluster
            && let Some(other) = world.clusters.get(rc)
            && other.nodes.clone().any(|g| world.nodes[g].runs_apps() && !is_failed(g))
        {
            any_alive = true;
        }
        if wk.kind == WorkloadKind::Postgres && surviving_instances == 0 {
            pg_lost.push((pos, copies.len() as u64));
        }
        if !any_alive {
            let outcome = if backup_survives {
                "restore-from-backup"
            } else if backup_unknown {
                "backup-location-unknown"
            } else {
                "lost"
            };
            for (v, _) in wk.volumes.iter().enumerate() {
                // Physical copies: every replica's volume and every storage replica of it.
                let physical = copies.iter().map(|set| set.len() as u64).sum();
                data.push((pos, v, physical, outcome));
            }
        }
    }
    let egress: Vec<usize> = cluster.nodes.clone().filter(|&g| world.nodes[g].egress).collect();
    let egress_lost = (!egress.is_empty()
        && cluster.egress_ips > 0
        && !cluster.stable_ip_apps.is_empty()
        && egress.iter().all(|&g| is_failed(g)))
    .then_some(egress.len() as u64);
    let _ = nodes;
    ClusterEval { ci, cp_total, cp_surviving, rep, buffer, no_buffer, data, pg_lost, egress_lost }
}

/// Running replicas of a workload (global index) in a scenario.
fn running(ctx: &Ctx<'_>, eval: &Eval, w: usize) -> u64 {
    let wk = &ctx.world.workloads[w];
    let ci = wk.cluster;
    let cluster = &ctx.world.clusters[ci];
    let Some(&pos) = ctx.pos.get(w) else { return 0 };
    if cluster.workloads.get(pos) != Some(&w) {
        return 0;
    }
    let base_running = u64::from(wk.replicas.saturating_sub(ctx.base[ci].unplaced[pos]));
    match eval.clusters.iter().find(|c| c.ci == ci) {
        None => base_running,
        Some(c) => {
            let o = &c.rep.outcomes[pos];
            base_running.saturating_sub(u64::from(o.displaced - o.replaced.min(o.displaced)))
        }
    }
}

fn damage(ctx: &Ctx<'_>, eval: &Eval) -> Damage {
    let mut d = Damage::default();
    for c in &eval.clusters {
        if c.cp_total > 0 && c.cp_surviving <= c.cp_total / 2 {
            d.control_planes_down += 1;
        }
        for x in &c.data {
            if x.3 == "restore-from-backup" {
                d.data_restore += 1;
            } else {
                d.data_lost += 1;
            }
        }
        d.groups_lost += c.pg_lost.len() as u64 + u64::from(c.egress_lost.is_some());
        d.unplaced += c.rep.unplaced.iter().map(|u| u64::from(u.1)).sum::<u64>();
        let cluster = &ctx.world.clusters[c.ci];
        for (pos, o) in c.rep.outcomes.iter().enumerate() {
            if o.displaced == 0 {
                continue;
            }
            d.displaced += u64::from(o.displaced);
            let w = cluster.workloads[pos];
            let run = running(ctx, eval, w);
            if run < u64::from(ctx.world.workloads[w].min_available) {
                d.below_budget += 1;
            }
            if run == 0 && served_elsewhere(ctx, eval, w).is_empty() {
                d.apps_down += 1;
            }
        }
    }
    d
}

fn served_elsewhere(ctx: &Ctx<'_>, eval: &Eval, w: usize) -> Vec<String> {
    let Some(group) = ctx.group_of.get(w).and_then(|&g| ctx.groups.get(g)) else {
        return Vec::new();
    };
    group
        .iter()
        .filter(|&&o| o != w && running(ctx, eval, o) > 0)
        .map(|&o| ctx.world.clusters[ctx.world.workloads[o].cluster].name.clone())
        .collect()
}

fn etcd_fix(ctx: &Ctx<'_>, ci: usize) -> String {
    let world = ctx.world;
    let cluster = &world.clusters[ci];
    let mut per_site: BTreeMap<usize, u64> = BTreeMap::new();
    for g in cluster.nodes.clone() {
        if world.nodes[g].kind == NodeKind::ControlPlane {
            *per_site.entry(world.nodes[g].site).or_default() += 1;
        }
    }
    let total: u64 = per_site.values().sum();
    let split: Vec<String> =
        per_site.iter().map(|(s, n)| format!("{n} at {}", world.sites[*s])).collect();
    if per_site.len() == 2 {
        format!(
            "etcd is split {} over two sites: the larger site takes quorum with it. Put members \
             1+1+1 on three sites (a witness site is enough) or run a separate cluster per site",
            split.join(" + ")
        )
    } else if per_site.len() <= 1 {
        format!(
            "all {total} etcd members share one failure domain ({}): this scenario takes a \
             majority. Spread members over three sites, or run one cluster per site joined by GitOps",
            split.join(", ")
        )
    } else {
        format!(
            "{total} members ({}) lose their majority here; use 5 members over distinct failure domains",
            split.join(", ")
        )
    }
}

/// Turns an evaluation into its report form.
pub fn to_result(ctx: &Ctx<'_>, eval: &Eval) -> ScenarioResult {
    let world = ctx.world;
    let f = &eval.failure;
    let mut apps = Vec::new();
    let mut quorum_lost = Vec::new();
    let mut data_at_risk = Vec::new();
    let mut buffer = Vec::new();
    let mut no_buffer = Vec::new();
    let mut replacement_used = Vec::new();
    let (mut displaced, mut replaced, mut on_repl, mut unplaced, mut lb) = (0, 0, 0, 0, 0);
    for c in &eval.clusters {
        let cluster = &world.clusters[c.ci];
        lb += c.rep.unplaced_lower_bound;
        for (pos, o) in c.rep.outcomes.iter().enumerate() {
            if o.displaced == 0 {
                continue;
            }
            let w = cluster.workloads[pos];
            let wk = &world.workloads[w];
            let lost = u64::from(o.displaced);
            let rep = u64::from(o.replaced);
            displaced += lost;
            replaced += rep;
            on_repl += u64::from(o.on_replacement);
            unplaced += lost - rep.min(lost);
            let run = running(ctx, eval, w);
            let elsewhere = if run == 0 { served_elsewhere(ctx, eval, w) } else { Vec::new() };
            apps.push(AppImpact {
                cluster: cluster.name.clone(),
                app: wk.label(),
                kind: if wk.kind == WorkloadKind::Postgres { "postgres" } else { "app" }.into(),
                replicas: u64::from(wk.replicas),
                lost,
                replaced: rep,
                unplaced: lost - rep.min(lost),
                running: run,
                min_available: u64::from(wk.min_available),
                below_budget: run < u64::from(wk.min_available),
                served_elsewhere: elsewhere,
            });
        }
        if c.cp_total > 0 && c.cp_surviving <= c.cp_total / 2 {
            quorum_lost.push(QuorumLoss {
                cluster: cluster.name.clone(),
                group: "etcd".into(),
                members: c.cp_total,
                surviving: c.cp_surviving,
                needed: c.cp_total / 2 + 1,
                consequence: "the Kubernetes API is read-only at best: no pod is rescheduled, no \
                              deployment changes, until etcd is restored from a snapshot"
                    .into(),
                fix: etcd_fix(ctx, c.ci),
            });
        }
        for &(pos, members) in &c.pg_lost {
            let wk = &world.workloads[cluster.workloads[pos]];
            let fix = if wk.replica_cluster.is_some() {
                "the replica cluster in another cluster can be promoted".to_owned()
            } else {
                format!(
                    "keep an instance outside this failure domain: `postgres.replicaCluster` on a \
                     cluster at another site, or `spread: site` on `{}` with pools at two sites",
                    wk.label()
                )
            };
            quorum_lost.push(QuorumLoss {
                cluster: cluster.name.clone(),
                group: format!("postgres:{}", wk.label()),
                members,
                surviving: 0,
                needed: 1,
                consequence: "no instance with data survives: no failover target".into(),
                fix,
            });
        }
        if let Some(members) = c.egress_lost {
            quorum_lost.push(QuorumLoss {
                cluster: cluster.name.clone(),
                group: "egress-gateway".into(),
                members,
                surviving: 0,
                needed: 1,
                consequence: format!(
                    "apps that need a fixed egress IP ({}) lose it",
                    cluster.stable_ip_apps.join(", ")
                ),
                fix: "put egress gateway nodes in more than one failure domain".into(),
            });
        }
        for &(pos, v, copies, outcome) in &c.data {
            let wk = &world.workloads[cluster.workloads[pos]];
            let (name, bytes) = wk.volumes.get(v).cloned().unwrap_or_default();
            let fix = match outcome {
                "restore-from-backup" => format!(
                    "writes since the last backup ({}) are lost; keep a live copy outside the \
                     failure domain (replica cluster or storage replicas at another site)",
                    cluster.backup_schedule.clone().unwrap_or_default()
                ),
                "backup-location-unknown" => "declare `backups.site`/`backups.provider` so the \
                                              plan can tell whether the backup survives; keep a \
                                              live copy outside the failure domain"
                    .into(),
                _ => "no copy and no backup survive: add backups to another site or provider, \
                      and a live copy outside the failure domain"
                    .into(),
            };
            data_at_risk.push(DataRisk {
                cluster: cluster.name.clone(),
                app: wk.label(),
                volume: name,
                bytes,
                copies,
                outcome: outcome.into(),
                fix,
            });
        }
        if let Some(b) = &c.buffer {
            buffer.push(BufferAdvice {
                cluster: cluster.name.clone(),
                site: world.sites[b.site].clone(),
                server_type: b.server_type.clone(),
                count: b.count,
                lower_bound: b.lower_bound,
                monthly_eur: round2(b.count as f64 * b.unit_eur),
            });
        }
        if let Some(why) = &c.no_buffer {
            no_buffer.push(format!("{}: {why}", cluster.name));
        }
        for &(s, o, n) in &c.rep.servers_used {
            replacement_used.push(ReplacementUse {
                site: world.sites[s].clone(),
                server_type: world.replacement[s][o].0.clone(),
                count: u64::from(n),
            });
        }
    }
    let survivable = unplaced == 0
        && quorum_lost.is_empty()
        && data_at_risk.is_empty()
        && !apps.iter().any(|a| a.below_budget);
    ScenarioResult {
        id: f.id.clone(),
        kind: f.kind.into(),
        description: f.description.clone(),
        failed_nodes: f.nodes.len() as u64,
        failed_node_names: if f.list_nodes {
            f.nodes.iter().map(|&g| world.nodes[g].name.clone()).collect()
        } else {
            Vec::new()
        },
        failed_sites: f.sites.iter().map(|&s| world.sites[s].clone()).collect(),
        failed_providers: f.providers.iter().map(|&p| world.providers[p].clone()).collect(),
        survivable,
        displaced_replicas: displaced,
        replaced_replicas: replaced,
        on_replacement_servers: on_repl,
        unplaced_replicas: unplaced,
        unplaced_lower_bound: lb.min(unplaced),
        gap: unplaced.saturating_sub(lb),
        apps,
        quorum_lost,
        data_at_risk,
        buffer,
        no_buffer_helps: no_buffer,
        replacement_used,
    }
}

pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Nodes of a cluster's local index list that carry the most requests, heaviest first.
fn by_load(ctx: &Ctx<'_>, ci: usize, candidates: &[usize]) -> Vec<usize> {
    let world = ctx.world;
    let cluster = &world.clusters[ci];
    let base = &ctx.base[ci];
    let mut v: Vec<(u64, usize)> = candidates
        .iter()
        .map(|&g| {
            let i = g - cluster.nodes.start;
            let node = &world.nodes[g];
            let used = node.alloc.minus(&base.free[i]);
            let s = used.cpu.saturating_mul(1000) / node.alloc.cpu.max(1)
                + used.mem.saturating_mul(1000) / node.alloc.mem.max(1);
            (s, g)
        })
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    v.into_iter().map(|x| x.1).collect()
}

/// The `n` heaviest nodes of a pool (for user scenarios with `nodes: N`).
pub fn heaviest(ctx: &Ctx<'_>, ci: usize, candidates: &[usize], n: usize) -> Vec<usize> {
    let mut v = by_load(ctx, ci, candidates);
    v.truncate(n);
    v.sort_unstable();
    v
}

/// The worst third of a cluster's non-control-plane nodes: several targeted greedy orders
/// (largest capacity, heaviest load, most data copies, one site first), then seeded swap
/// improvements, each candidate scored by full evaluation.
pub fn worst_third(ctx: &Ctx<'_>, ci: usize, rounds: usize, seed: u64) -> Option<Eval> {
    let world = ctx.world;
    let cluster = &world.clusters[ci];
    let mut candidates: Vec<usize> =
        cluster.nodes.clone().filter(|&g| world.nodes[g].kind != NodeKind::ControlPlane).collect();
    if candidates.is_empty() {
        // A small cluster whose control plane also runs the apps: its third includes them.
        candidates = cluster.nodes.clone().collect();
    }
    if candidates.is_empty() {
        return None;
    }
    let k = candidates.len().div_ceil(3);
    let base = &ctx.base[ci];
    let mut orders: Vec<Vec<usize>> = Vec::new();
    let loaded = by_load(ctx, ci, &candidates);
    orders.push(loaded.clone());
    let mut by_alloc = candidates.clone();
    by_alloc.sort_by(|&a, &b| {
        let (x, y) = (&world.nodes[a].alloc, &world.nodes[b].alloc);
        y.cpu
            .saturating_add(y.mem)
            .cmp(&x.cpu.saturating_add(x.mem))
            .then(loaded.iter().position(|&g| g == a).cmp(&loaded.iter().position(|&g| g == b)))
    });
    orders.push(by_alloc);
    // Nodes holding the most copies of data and database instances.
    let mut copies: BTreeMap<usize, u64> = BTreeMap::new();
    for (pos, sets) in base.copies.iter().enumerate() {
        for (r, set) in sets.iter().enumerate() {
            for c in set {
                if let CopyAt::Node(g) = c {
                    *copies.entry(*g).or_default() += 2;
                }
            }
            if let Some(&i) = base.placed[pos].get(r) {
                *copies.entry(cluster.nodes.start + i as usize).or_default() += 1;
            }
        }
    }
    let mut by_data = loaded.clone();
    by_data.sort_by_key(|g| std::cmp::Reverse(copies.get(g).copied().unwrap_or(0)));
    orders.push(by_data);
    // Correlated: the site with the most load first.
    let mut by_site = loaded.clone();
    let mut site_load: BTreeMap<usize, usize> = BTreeMap::new();
    for (rank, &g) in loaded.iter().enumerate() {
        *site_load.entry(world.nodes[g].site).or_default() += loaded.len() - rank;
    }
    by_site.sort_by_key(|&g| {
        std::cmp::Reverse(site_load.get(&world.nodes[g].site).copied().unwrap_or(0))
    });
    orders.push(by_site);
    let make = |mut chosen: Vec<usize>, how: &str| {
        chosen.sort_unstable();
        Failure {
            id: format!("third:{}", cluster.name),
            kind: "worst-third",
            description: format!(
                "the worst {k} of {} nodes of `{}` (control plane excluded when it has workers) \
                 lost at once ({how}), no replacement beyond the declared capacity",
                candidates.len(),
                cluster.name
            ),
            nodes: chosen,
            sites: Vec::new(),
            providers: Vec::new(),
            list_nodes: true,
        }
    };
    let names = [
        "heaviest load first",
        "largest capacity first",
        "most data copies first",
        "busiest site first",
    ];
    let mut best: Option<Eval> = None;
    for (o, order) in orders.into_iter().enumerate() {
        let chosen: Vec<usize> = order.into_iter().take(k).collect();
        let e = evaluate(ctx, make(chosen, names[o]));
        if best.as_ref().is_none_or(|b| e.damage > b.damage) {
            best = Some(e);
        }
    }
    let mut rng = Rng::new(seed ^ (ci as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
    for _ in 0..rounds {
        let Some(cur) = best.as_ref() else { break };
        let chosen = &cur.failure.nodes;
        let rest: Vec<usize> = candidates.iter().copied().filter(|g| !chosen.contains(g)).collect();
        if rest.is_empty() || chosen.is_empty() {
            break;
        }
        let out = rng.below(chosen.len() as u64) as usize;
        let inn = rest[rng.below(rest.len() as u64) as usize];
        let mut next = chosen.clone();
        next[out] = inn;
        let e = evaluate(ctx, make(next, "improved by seeded swaps"));
        if e.damage > cur.damage {
            best = Some(e);
        }
    }
    best
}

/// A uniformly sampled third of the whole fleet.
pub fn sampled_third(world: &World, seed: u64, index: usize) -> Failure {
    let all: Vec<usize> = (0..world.nodes.len()).collect();
    let k = all.len().div_ceil(3);
    let mut rng = Rng::new(seed.wrapping_add((index as u64).wrapping_mul(0x9E37_79B9)));
    let mut nodes = rng.sample(&all, k);
    nodes.sort_unstable();
    Failure {
        id: format!("sample:{index}"),
        kind: "sampled-third",
        description: format!("sampled third #{index}: {k} of {} nodes of the fleet", all.len()),
        nodes,
        sites: Vec::new(),
        providers: Vec::new(),
        list_nodes: true,
    }
}
