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
    buffer: Vec<BufferFit>,
    no_buffer: Vec<String>,
    data: Vec<(usize, usize, u64, &'static str)>,
    /// Databases (positions) with no instance running here after re-placement.
    pg_down: Vec<usize>,
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

    /// Instances (replicas) of workload `w` that keep a live copy of their data.
    fn live_copies(
        &self,
        w: usize,
        failed: &dyn Fn(usize) -> bool,
        site_failed: &dyn Fn(usize) -> bool,
    ) -> usize {
        let Some(wk) = self.world.workloads.get(w) else { return 0 };
        let Some(&pos) = self.pos.get(w) else { return 0 };
        let Some(copies) = self.base.get(wk.cluster).and_then(|b| b.copies.get(pos)) else {
            return 0;
        };
        copies
            .iter()
            .filter(|set| set.iter().any(|c| pack::copy_alive(self.world, c, failed, site_failed)))
            .count()
    }
}

/// Evaluates a failure across every cluster it touches.
pub fn evaluate(ctx: &Ctx<'_>, failure: Failure) -> Eval {
    evaluate_with(ctx, failure, true)
}

/// Like [`evaluate`], without the buffer advice: for the many evaluations that only compare
/// damage (sampled thirds, worst-third candidates). Damage never depends on the buffer, and
/// sizing buffers is the costliest part of a scenario.
pub fn evaluate_damage(ctx: &Ctx<'_>, failure: Failure) -> Eval {
    evaluate_with(ctx, failure, false)
}

fn evaluate_with(ctx: &Ctx<'_>, failure: Failure, buffers: bool) -> Eval {
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
        world.replacement.iter().map(|o| o.iter().map(|x| x.count).collect()).collect();
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
            buffers,
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
    buffers: bool,
) -> ClusterEval {
    let world = ctx.world;
    let cluster = &world.clusters[ci];
    let base = &ctx.base[ci];
    let is_failed = |g: usize| failed(g);
    let is_site_failed = |s: usize| site_failed.get(s).copied().unwrap_or(false);
    let cp: Vec<usize> =
        cluster.nodes.clone().filter(|&g| world.nodes[g].kind == NodeKind::ControlPlane).collect();
    let cp_total = cp.len() as u64;
    let cp_surviving = cp.iter().filter(|&&g| !is_failed(g)).count() as u64;
    let control_plane_up = cp_total == 0 || cp_surviving > cp_total / 2;
    // A database instance whose own data is gone is re-created (a new volume, cloned) from a
    // live instance: a sibling, or for a replica cluster the primary it follows.
    let clone_source = |pos: usize| -> bool {
        let Some(&w) = cluster.workloads.get(pos) else { return false };
        let wk = &world.workloads[w];
        if wk.kind != WorkloadKind::Postgres {
            return false;
        }
        ctx.live_copies(w, &is_failed, &is_site_failed) > 0
            || wk.standby_of.is_some_and(|p| ctx.live_copies(p, &is_failed, &is_site_failed) > 0)
    };
    let rep = pack::replace(
        world,
        ci,
        base,
        &is_failed,
        &is_site_failed,
        left,
        control_plane_up,
        &clone_source,
    );
    let (buffer, no_buffer) = if rep.unplaced.is_empty() || !buffers {
        (Vec::new(), Vec::new())
    } else if !control_plane_up {
        (
            Vec::new(),
            vec![
                "the control plane lost etcd quorum: nothing is rescheduled until it is restored"
                    .to_owned(),
            ],
        )
    } else {
        pack::buffer(world, ci, base, &is_failed, &is_site_failed, &rep.unplaced, &rep.servers_used)
    };
    // Data: a volume is at risk when every live copy sat in the failed domain.
    let backup_survives = cluster.has_backups
        && (cluster.backup_site.is_some() || cluster.backup_provider.is_some())
        && !cluster.backup_site.is_some_and(is_site_failed)
        && !cluster
            .backup_provider
            .is_some_and(|p| provider_failed.get(p).copied().unwrap_or(false));
    let backup_unknown =
        cluster.has_backups && cluster.backup_site.is_none() && cluster.backup_provider.is_none();
    let mut data = Vec::new();
    let mut pg_down = Vec::new();
    for (pos, &w) in cluster.workloads.iter().enumerate() {
        let wk = &world.workloads[w];
        let o = &rep.outcomes[pos];
        if wk.kind == WorkloadKind::Postgres
            && wk.standby_of.is_none()
            && wk.replicas > 0
            && o.displaced > 0
        {
            let running = wk
                .replicas
                .saturating_sub(base.unplaced[pos])
                .saturating_sub(o.displaced.saturating_sub(o.replaced));
            if running == 0 {
                pg_down.push(pos);
            }
        }
        let copies = &base.copies[pos];
        // A replica cluster's data is the primary's: its loss is reported with the primary.
        if copies.is_empty() || wk.standby_of.is_some() {
            continue;
        }
        let alive = |c: &CopyAt| pack::copy_alive(world, c, &is_failed, &is_site_failed);
        let touched = o.displaced > 0 || copies.iter().flatten().any(|c| !alive(c));
        if !touched {
            continue;
        }
        let any_alive = copies.iter().any(|set| set.iter().any(alive))
            || wk.standby.is_some_and(|s| ctx.live_copies(s, &is_failed, &is_site_failed) > 0);
        if !any_alive {
            let outcome = if backup_survives {
                "restore-from-backup"
            } else if backup_unknown {
                "backup-location-unknown"
            } else {
                "lost"
            };
            // Physical copies: every replica's volume and every storage replica of it, and the
            // replica cluster's.
            let mut physical: u64 = copies.iter().map(|set| set.len() as u64).sum();
            if let Some(sw) = wk.standby {
                let sc = &world.workloads[sw];
                if let Some(set) = ctx.base.get(sc.cluster).and_then(|b| b.copies.get(ctx.pos[sw]))
                {
                    physical += set.iter().map(|x| x.len() as u64).sum::<u64>();
                }
            }
            for (v, _) in wk.volumes.iter().enumerate() {
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
    ClusterEval { ci, cp_total, cp_surviving, rep, buffer, no_buffer, data, pg_down, egress_lost }
}

/// Replicas of a workload (global index) that run before anything fails.
fn baseline_running(ctx: &Ctx<'_>, w: usize) -> u64 {
    let wk = &ctx.world.workloads[w];
    let unplaced = ctx.pos.get(w).and_then(|&p| ctx.base[wk.cluster].unplaced.get(p)).copied();
    u64::from(wk.replicas.saturating_sub(unplaced.unwrap_or(0)))
}

/// The running replicas below which a scenario puts a workload under its disruption budget:
/// the budget, or what runs before anything fails when that is already less. A shortfall at
/// baseline is reported once (`capacity[].belowBudgetAtBaseline`); a scenario is judged by
/// what the failure adds to it.
fn budget(ctx: &Ctx<'_>, w: usize) -> u64 {
    u64::from(ctx.world.workloads[w].min_available).min(baseline_running(ctx, w))
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
        d.add(&cluster_damage(ctx, eval, c));
    }
    d
}

impl Damage {
    fn add(&mut self, o: &Damage) {
        self.control_planes_down += o.control_planes_down;
        self.data_lost += o.data_lost;
        self.groups_lost += o.groups_lost;
        self.unplaced += o.unplaced;
        self.apps_down += o.apps_down;
        self.below_budget += o.below_budget;
        self.data_restore += o.data_restore;
        self.displaced += o.displaced;
    }
}

/// The damage one affected cluster takes in a scenario.
fn cluster_damage(ctx: &Ctx<'_>, eval: &Eval, c: &ClusterEval) -> Damage {
    let mut d = Damage::default();
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
    d.groups_lost += c.pg_down.len() as u64 + u64::from(c.egress_lost.is_some());
    d.unplaced += c.rep.unplaced_total();
    let cluster = &ctx.world.clusters[c.ci];
    for (pos, o) in c.rep.outcomes.iter().enumerate() {
        if o.displaced == 0 {
            continue;
        }
        d.displaced += u64::from(o.displaced);
        let w = cluster.workloads[pos];
        let run = running(ctx, eval, w);
        if run < budget(ctx, w) {
            d.below_budget += 1;
        }
        if run == 0 && served_elsewhere(ctx, eval, w).is_empty() {
            d.apps_down += 1;
        }
    }
    d
}

/// Per affected cluster of a scenario: its index and the damage it took there.
pub fn damage_by_cluster(ctx: &Ctx<'_>, eval: &Eval) -> Vec<(usize, Damage)> {
    eval.clusters.iter().map(|c| (c.ci, cluster_damage(ctx, eval, c))).collect()
}

fn served_elsewhere(ctx: &Ctx<'_>, eval: &Eval, w: usize) -> Vec<String> {
    let world = ctx.world;
    if let Some(wk) = world.workloads.get(w)
        && wk.kind == WorkloadKind::Postgres
    {
        // Another cluster's database of the same app holds other data; only the replica
        // cluster (or, for the replica cluster, its primary) holds this one.
        return wk
            .standby
            .or(wk.standby_of)
            .filter(|&o| running(ctx, eval, o) > 0)
            .map(|o| vec![world.clusters[world.workloads[o].cluster].name.clone()])
            .unwrap_or_default();
    }
    let Some(group) = ctx.group_of.get(w).and_then(|&g| ctx.groups.get(g)) else {
        return Vec::new();
    };
    group
        .iter()
        .filter(|&&o| o != w && running(ctx, eval, o) > 0)
        .map(|&o| ctx.world.clusters[ctx.world.workloads[o].cluster].name.clone())
        .collect()
}

/// Failure domains (locations) the cluster's app nodes stand in, with their sites.
fn app_domains(world: &World, ci: usize) -> Vec<usize> {
    let mut out: Vec<usize> = world.clusters[ci]
        .nodes
        .clone()
        .filter(|&g| world.nodes[g].runs_apps())
        .map(|g| world.site_domain[world.nodes[g].site])
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn domain_name(world: &World, d: usize) -> String {
    let dom = &world.domains[d];
    if dom.sites.len() == 1 {
        format!("`{}` ({})", world.sites[dom.sites[0]], dom.location)
    } else {
        format!(
            "{} (sites {}, one location)",
            dom.location,
            dom.sites
                .iter()
                .map(|&s| format!("`{}`", world.sites[s]))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

fn etcd_fix(ctx: &Ctx<'_>, ci: usize, failure: &Failure) -> String {
    let world = ctx.world;
    let cluster = &world.clusters[ci];
    // Members per failure domain: two sites at one location are one domain.
    let mut per_domain: BTreeMap<usize, u64> = BTreeMap::new();
    let mut lost = 0;
    for g in cluster.nodes.clone() {
        if world.nodes[g].kind == NodeKind::ControlPlane {
            *per_domain.entry(world.site_domain[world.nodes[g].site]).or_default() += 1;
            lost += u64::from(failure.nodes.binary_search(&g).is_ok());
        }
    }
    let total: u64 = per_domain.values().sum();
    let split: Vec<String> =
        per_domain.iter().map(|(d, n)| format!("{n} at {}", domain_name(world, *d))).collect();
    let topology = if per_domain.len() == 2 {
        format!(
            "etcd is split {} over two failure domains: the larger one takes quorum with it. Put \
             members 1+1+1 in three locations (a witness location is enough; \
             `controlPlane.sites`) or run a separate cluster per site",
            split.join(" + ")
        )
    } else if per_domain.len() <= 1 {
        format!(
            "all {total} etcd members share one failure domain ({}): a failure of it takes a \
             majority. Spread members over three locations (`controlPlane.sites`), or run one \
             cluster per site joined by GitOps",
            split.join(", ")
        )
    } else {
        String::new()
    };
    match failure.kind {
        "site" | "location" if !topology.is_empty() => topology,
        "provider" if per_domain.len() >= 3 => format!(
            "the members stand in distinct locations ({}), all at one provider: a provider-wide \
             outage takes them together. Only a member at a second provider, or a separate \
             cluster there joined by GitOps, survives it",
            split.join(", ")
        ),
        "site" | "location" | "provider" => topology,
        _ if !topology.is_empty() => {
            format!("{lost} of {total} members were among the failed nodes; {topology}")
        }
        _ => format!(
            "{lost} of {total} members were among the failed nodes. They already stand in \
             distinct locations ({}); a set of failed nodes can still hold a majority of them. \
             Keep the control plane in its own pools, one per location, so that what fails \
             together is one member, and keep etcd snapshots off-site and restore-tested",
            split.join(", ")
        ),
    }
}

/// The fix for a database whose instances all failed together, naming fields that exist.
fn pg_fix(ctx: &Ctx<'_>, ci: usize, w: usize) -> String {
    let world = ctx.world;
    let wk = &world.workloads[w];
    let cluster = &world.clusters[ci];
    let app = format!("app `{}` of tenant `{}`", wk.app, wk.tenant);
    let doms = app_domains(world, ci);
    let here: Vec<usize> =
        cluster.nodes.clone().map(|g| world.site_domain[world.nodes[g].site]).collect();
    // Clusters whose app nodes stand in another failure domain: replica cluster candidates.
    let others: Vec<String> = world
        .clusters
        .iter()
        .enumerate()
        .filter(|(k, _)| *k != ci)
        .filter(|(k, _)| app_domains(world, *k).iter().any(|d| !here.contains(d)))
        .map(|(_, c)| format!("`{}`", c.name))
        .take(3)
        .collect();
    let standby_cluster = wk.standby.map(|s| world.workloads[s].cluster);
    let replica = if let Some(sc) = standby_cluster
        && app_domains(world, sc).iter().all(|d| here.contains(d))
    {
        format!(
            "its replica cluster in `{}` stands in the same failure domain ({}): set `postgres.replicaCluster` of {app} to a cluster at another location{}",
            world.clusters[sc].name,
            app_domains(world, sc)
                .iter()
                .map(|&d| domain_name(world, d))
                .collect::<Vec<_>>()
                .join(", "),
            if others.is_empty() {
                " (none in this spec yet)".to_owned()
            } else {
                format!(" ({})", others.join(" or "))
            }
        )
    } else if others.is_empty() {
        format!(
            "`postgres.replicaCluster` of {app} naming a cluster at another location (none in this spec yet)"
        )
    } else {
        format!("`postgres.replicaCluster` of {app} set to {}", others.join(" or "))
    };
    let spread = if wk.placement == crate::model::Placement::DistinctSites {
        if doms.len() >= 2 {
            format!(
                "its instances already keep to distinct sites (`spread: site`), but the sites \
                 failed together: give cluster `{}` app nodes at another location",
                cluster.name
            )
        } else {
            format!(
                "`spread: site` is set, but cluster `{}` has app nodes in one location only: add a \
                 node pool (`nodePools[].site`) at another location",
                cluster.name
            )
        }
    } else if doms.len() >= 2 {
        format!(
            "`spread: site` on {app} (CloudNativePG then keeps its instances on distinct sites; \
             cluster `{}` has app nodes in {})",
            cluster.name,
            doms.iter().map(|&d| domain_name(world, d)).collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "`spread: site` on {app} together with a node pool of cluster `{}` at another \
             location (`nodePools[].site`)",
            cluster.name
        )
    };
    format!("keep an instance outside this failure domain: {replica}, or {spread}")
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
                replica_of: wk
                    .standby_of
                    .map(|p| world.clusters[world.workloads[p].cluster].name.clone()),
                replicas: u64::from(wk.replicas),
                lost,
                replaced: rep,
                unplaced: lost - rep.min(lost),
                without_data: u64::from(o.no_data),
                running: run,
                min_available: u64::from(wk.min_available),
                baseline_running: baseline_running(ctx, w),
                below_budget: run < budget(ctx, w),
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
                fix: etcd_fix(ctx, c.ci, f),
            });
        }
        for &pos in &c.pg_down {
            let w = cluster.workloads[pos];
            let wk = &world.workloads[w];
            let standby_run = wk.standby.map(|s| running(ctx, eval, s)).unwrap_or(0);
            let data_lost = c.data.iter().any(|x| x.0 == pos);
            let standby_name = wk
                .standby
                .map(|s| world.clusters[world.workloads[s].cluster].name.clone())
                .unwrap_or_default();
            let (consequence, fix) = if standby_run > 0 {
                (
                    format!(
                        "no instance left in `{}`: writes stop until the replica cluster in `{standby_name}` is promoted (a manual step; it trails the primary by the WAL archive)",
                        cluster.name
                    ),
                    // The live copy outside the domain is there already: nothing to add to the spec.
                    format!(
                        "promote the replica cluster in `{standby_name}` (runbook: database failover)"
                    ),
                )
            } else if data_lost {
                (
                    "no instance with data survives: no failover target".to_owned(),
                    pg_fix(ctx, c.ci, w),
                )
            } else {
                (
                    "its data survives, but no instance can run where the data is (see the buffer or the reason no buffer helps)".to_owned(),
                    pg_fix(ctx, c.ci, w),
                )
            };
            quorum_lost.push(QuorumLoss {
                cluster: cluster.name.clone(),
                group: format!("postgres:{}", wk.label()),
                // Counted in this cluster: a replica cluster elsewhere is a standby that is
                // promoted by hand, not a member that takes over (the consequence names it).
                members: u64::from(wk.replicas),
                surviving: running(ctx, eval, w),
                needed: 1,
                consequence,
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
            let crate::model::WorkloadVolume { name, bytes, .. } =
                wk.volumes.get(v).cloned().unwrap_or_default();
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
        for b in &c.buffer {
            buffer.push(BufferAdvice {
                cluster: cluster.name.clone(),
                site: world.sites[b.site].clone(),
                server_type: b.server_type.clone(),
                count: b.count,
                lower_bound: b.lower_bound,
                monthly_eur: round2(b.count as f64 * b.unit_eur),
                orderable: b.orderable,
            });
        }
        for why in &c.no_buffer {
            no_buffer.push(format!("{}: {why}", cluster.name));
        }
        for &(s, o, n) in &c.rep.servers_used {
            let spare = &world.replacement[s][o];
            replacement_used.push(ReplacementUse {
                site: world.sites[s].clone(),
                server_type: spare.server_type.clone(),
                count: u64::from(n),
                spare_of: spare.spare_of.clone(),
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

/// Which nodes a worst third is chosen from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThirdOf {
    /// Every node of the cluster, control plane and egress nodes included.
    All,
    /// Every node but the control plane: the capacity view, with etcd intact.
    Workers,
}

/// The nodes a worst third of `ci` is drawn from (`None` when that view adds nothing: no
/// nodes, or, for `Workers`, a cluster with no control plane or nothing else).
pub fn third_candidates(world: &World, ci: usize, of: ThirdOf) -> Option<Vec<usize>> {
    let cluster = &world.clusters[ci];
    let all: Vec<usize> = cluster.nodes.clone().collect();
    let out = match of {
        ThirdOf::All => all,
        ThirdOf::Workers => {
            let w: Vec<usize> = all
                .iter()
                .copied()
                .filter(|&g| world.nodes[g].kind != NodeKind::ControlPlane)
                .collect();
            if w.len() == all.len() {
                return None;
            }
            w
        }
    };
    (!out.is_empty()).then_some(out)
}

/// The worst third of a cluster (⌈n/3⌉ of its nodes, chosen adversarially): candidate sets
/// built from every way a third hurts — the heaviest, largest and most data-laden nodes, each
/// failure domain, each pool, an etcd majority, every egress gateway, whole databases, and
/// the worst of the sampled thirds (`seeds`) where it fits — each filled up to a third with
/// the heaviest remaining nodes and scored by full evaluation (quorum and data loss outrank
/// unplaced replicas), then seeded swaps from the worst.
pub fn worst_third(
    ctx: &Ctx<'_>,
    ci: usize,
    of: ThirdOf,
    rounds: usize,
    seed: u64,
    seeds: &[Vec<usize>],
) -> Option<Eval> {
    let world = ctx.world;
    let cluster = &world.clusters[ci];
    let candidates = third_candidates(world, ci, of)?;
    let n = candidates.len();
    let k = n.div_ceil(3);
    let base = &ctx.base[ci];
    let loaded = by_load(ctx, ci, &candidates);
    let is_candidate = |g: &usize| candidates.binary_search(g).is_ok();
    // Seeds: (how, nodes in priority order); each is cut or filled to k.
    let mut seeds_in: Vec<(String, Vec<usize>)> = Vec::new();
    seeds_in.push(("heaviest load first".into(), loaded.clone()));
    let mut by_alloc = loaded.clone();
    by_alloc.sort_by(|&a, &b| {
        let (x, y) = (&world.nodes[a].alloc, &world.nodes[b].alloc);
        y.cpu.saturating_add(y.mem).cmp(&x.cpu.saturating_add(x.mem))
    });
    seeds_in.push(("largest capacity first".into(), by_alloc));
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
    seeds_in.push(("most data copies first".into(), by_data));
    // Each failure domain (a location: its sites fail together), heaviest first.
    let mut doms: Vec<usize> =
        candidates.iter().map(|&g| world.site_domain[world.nodes[g].site]).collect();
    doms.sort_unstable();
    doms.dedup();
    for d in doms {
        let nodes: Vec<usize> = loaded
            .iter()
            .copied()
            .filter(|&g| world.site_domain[world.nodes[g].site] == d)
            .collect();
        seeds_in.push((format!("location {} first", world.domains[d].location), nodes));
    }
    // Each pool (the control plane is pool `control-plane`).
    let mut pools: Vec<&str> = Vec::new();
    for &g in &candidates {
        if !pools.contains(&world.nodes[g].pool_name.as_str()) {
            pools.push(&world.nodes[g].pool_name);
        }
    }
    for p in pools {
        let nodes: Vec<usize> =
            loaded.iter().copied().filter(|&g| world.nodes[g].pool_name == p).collect();
        seeds_in.push((format!("pool `{p}` first"), nodes));
    }
    // An etcd majority, from the failure domain holding the most members.
    let cp: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&g| world.nodes[g].kind == NodeKind::ControlPlane)
        .collect();
    if !cp.is_empty() {
        let mut per: BTreeMap<usize, usize> = BTreeMap::new();
        for &g in &cp {
            *per.entry(world.site_domain[world.nodes[g].site]).or_default() += 1;
        }
        let mut cp_sorted = cp.clone();
        cp_sorted.sort_by_key(|&g| {
            (std::cmp::Reverse(per.get(&world.site_domain[world.nodes[g].site]).copied()), g)
        });
        cp_sorted.truncate(cp.len() / 2 + 1);
        seeds_in.push(("an etcd majority first".into(), cp_sorted));
    }
    // Every egress gateway.
    let egress: Vec<usize> =
        candidates.iter().copied().filter(|&g| world.nodes[g].egress).collect();
    if !egress.is_empty() {
        seeds_in.push(("every egress gateway first".into(), egress));
    }
    // Whole databases: every node holding an instance or a copy of one, smallest sets first.
    let mut dbs: Vec<Vec<usize>> = Vec::new();
    for (pos, &w) in cluster.workloads.iter().enumerate() {
        if world.workloads[w].kind != WorkloadKind::Postgres {
            continue;
        }
        let mut set: Vec<usize> =
            base.placed[pos].iter().map(|&i| cluster.nodes.start + i as usize).collect();
        for c in base.copies[pos].iter().flatten() {
            if let CopyAt::Node(g) = c {
                set.push(*g);
            }
        }
        set.sort_unstable();
        set.dedup();
        if !set.is_empty() && set.len() <= k && set.iter().all(is_candidate) {
            dbs.push(set);
        }
    }
    if !dbs.is_empty() {
        dbs.sort_by_key(Vec::len);
        let mut nodes: Vec<usize> = Vec::new();
        for set in dbs {
            let new: Vec<usize> = set.into_iter().filter(|g| !nodes.contains(g)).collect();
            if nodes.len() + new.len() <= k {
                nodes.extend(new);
            }
        }
        seeds_in.push(("whole databases first".into(), nodes));
    }
    for s in seeds {
        let mine: Vec<usize> = s.iter().copied().filter(is_candidate).collect();
        if !mine.is_empty() && mine.len() <= k {
            seeds_in.push(("the worst sampled third, filled up".into(), mine));
        }
    }
    let (id, what) = match of {
        ThirdOf::All => (format!("third:{}", cluster.name), "nodes"),
        ThirdOf::Workers => {
            (format!("third:{}/workers", cluster.name), "nodes other than the control plane")
        }
    };
    let make = |mut chosen: Vec<usize>, how: &str| {
        chosen.sort_unstable();
        Failure {
            id: id.clone(),
            kind: match of {
                ThirdOf::All => "worst-third",
                ThirdOf::Workers => "worst-third-workers",
            },
            description: format!(
                "the worst {k} of {n} {what} of `{}` lost at once ({how}), no replacement beyond the declared capacity",
                cluster.name
            ),
            nodes: chosen,
            sites: Vec::new(),
            providers: Vec::new(),
            list_nodes: true,
        }
    };
    let fill = |first: &[usize]| -> Vec<usize> {
        let mut out: Vec<usize> = Vec::with_capacity(k);
        for &g in first.iter().chain(loaded.iter()) {
            if out.len() == k {
                break;
            }
            if !out.contains(&g) {
                out.push(g);
            }
        }
        out.sort_unstable();
        out
    };
    let mut best: Option<Eval> = None;
    let mut tried: Vec<Vec<usize>> = Vec::new();
    for (how, first) in seeds_in {
        let chosen = fill(&first);
        if tried.contains(&chosen) {
            continue;
        }
        tried.push(chosen.clone());
        let e = evaluate_damage(ctx, make(chosen, &how));
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
        let e = evaluate_damage(ctx, make(next, "improved by seeded swaps"));
        if e.damage > cur.damage {
            best = Some(e);
        }
    }
    // The chosen third is reported in full: now with its buffer advice.
    best.map(|b| evaluate(ctx, b.failure))
}

/// Candidates for the worst third of the whole fleet (⌈N/3⌉ of all N nodes), for platforms of
/// several clusters: every cluster's etcd majority first, then the clusters' own worst thirds,
/// each failure domain and each provider that fits, and the worst sampled third (`sample`).
/// The caller scores them by full evaluation; the worst is never milder than the sample.
pub fn fleet_third_candidates(
    world: &World,
    cluster_thirds: &[Vec<usize>],
    sample: Option<Vec<usize>>,
) -> Vec<Failure> {
    let n = world.nodes.len();
    if n == 0 {
        return Vec::new();
    }
    let k = n.div_ceil(3);
    // Padding: the clusters' worst thirds round robin, then every node in order.
    let mut pad: Vec<usize> = Vec::with_capacity(n);
    let longest = cluster_thirds.iter().map(Vec::len).max().unwrap_or(0);
    for r in 0..longest {
        for t in cluster_thirds {
            if let Some(&g) = t.get(r) {
                pad.push(g);
            }
        }
    }
    pad.extend(0..n);
    let fill = |first: &[usize]| -> Vec<usize> {
        let mut seen = vec![false; n];
        let mut out = Vec::with_capacity(k);
        for &g in first.iter().chain(pad.iter()) {
            if out.len() == k {
                break;
            }
            if g < n && !seen[g] {
                seen[g] = true;
                out.push(g);
            }
        }
        out.sort_unstable();
        out
    };
    let mut seeds: Vec<(String, Vec<usize>)> = Vec::new();
    let mut majorities = Vec::new();
    for c in &world.clusters {
        let cp: Vec<usize> =
            c.nodes.clone().filter(|&g| world.nodes[g].kind == NodeKind::ControlPlane).collect();
        majorities.extend(cp.iter().copied().take(cp.len() / 2 + usize::from(!cp.is_empty())));
    }
    seeds.push(("every cluster's etcd majority first".into(), majorities));
    seeds.push(("the clusters' worst thirds first".into(), Vec::new()));
    for d in &world.domains {
        let nodes: Vec<usize> =
            (0..n).filter(|&g| d.sites.contains(&world.nodes[g].site)).collect();
        if nodes.len() <= k {
            seeds.push((format!("location {} first", d.location), nodes));
        }
    }
    for (p, name) in world.providers.iter().enumerate() {
        let nodes: Vec<usize> = (0..n).filter(|&g| world.nodes[g].provider == p).collect();
        if nodes.len() <= k {
            seeds.push((format!("provider `{name}` first"), nodes));
        }
    }
    if let Some(s) = sample {
        seeds.push(("the worst sampled third".into(), s));
    }
    let mut out: Vec<Failure> = Vec::new();
    for (how, first) in seeds {
        let chosen = fill(&first);
        if out.iter().any(|f| f.nodes == chosen) {
            continue;
        }
        out.push(Failure {
            id: "third:fleet".into(),
            kind: "worst-third",
            description: format!(
                "the worst {k} of all {n} nodes of the fleet lost at once ({how}), no replacement beyond the declared capacity"
            ),
            nodes: chosen,
            sites: Vec::new(),
            providers: Vec::new(),
            list_nodes: true,
        });
    }
    out
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
