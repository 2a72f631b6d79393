//! The planner: what the platform can carry, what breaks when parts of it fail while the
//! provider has no spare capacity, what it costs, who can reach its data, and how to leave.
//!
//! Everything is a pure function of the loaded platform and [`Options`]; the report is plain
//! data with a stable JSON form (`version` field, documented in `docs/plan-json.md`) and text
//! and Markdown renderings. Scenarios run on a few scoped threads, each scenario a pure
//! function of its input, and results are collected by index, so the output never depends on
//! thread timing.

pub mod cost;
pub mod data;
pub mod diff;
pub mod exit;
pub mod model;
pub mod pack;
mod render;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sovereignty;

pub use render::{to_markdown, to_text};
pub use report::*;

use hafen_spec::LoadedPlatform;
use scenario::{Ctx, Failure};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The JSON format version.
pub const VERSION: u32 = 1;

/// Planner inputs besides the platform.
#[derive(Debug, Clone)]
pub struct Options {
    /// Exit planning: move everything at `source` (provider or site) to `target`.
    pub exit: Option<(String, String)>,
    /// Seed of the sampled thirds and the adversarial search.
    pub seed: u64,
    /// Sampled thirds of the fleet.
    pub samples: usize,
    /// Swap-improvement rounds of the adversarial worst-third search, per cluster.
    pub adversarial_rounds: usize,
    /// Worker threads (0 = [`DEFAULT_THREADS`]). The result never depends on it.
    pub threads: usize,
}

/// Worker threads when the caller does not say: the two cores the brief's targets are set
/// on. A fixed number rather than the machine's parallelism, because asking the operating
/// system is environment the core does not read (the edges may pass their own).
pub const DEFAULT_THREADS: usize = 2;

impl Default for Options {
    fn default() -> Options {
        Options { exit: None, seed: 20_250_711, samples: 100, adversarial_rounds: 16, threads: 0 }
    }
}

enum Job {
    Batch(Vec<Failure>),
    Worst(usize, scenario::ThirdOf),
    Sample(usize),
}

impl Job {
    /// Scenarios this job reports, for the progress bar: it counts what the report counts.
    fn scenarios(&self) -> usize {
        match self {
            Job::Batch(fs) => fs.len(),
            Job::Worst(..) | Job::Sample(_) => 1,
        }
    }
}

enum Out {
    Results(Vec<ScenarioResult>),
    /// A worst third and the nodes it failed.
    Worst(Option<(Box<ScenarioResult>, Vec<usize>)>),
    Sample(scenario::Damage, Vec<(usize, scenario::Damage)>),
}

/// Runs `jobs` on `threads` threads; `progress(done, total)` counts scenarios: `offset` of
/// them done before this call, `total` in the whole plan.
fn run_parallel<J: Sync, T: Send>(
    jobs: &[J],
    threads: usize,
    f: &(dyn Fn(&J) -> T + Sync),
    weight: &(dyn Fn(&J) -> usize + Sync),
    (offset, grand_total): (usize, usize),
    progress: &mut dyn FnMut(usize, usize),
) -> Vec<T> {
    let total = jobs.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let done_weight = AtomicUsize::new(0);
    let mut slots: Vec<Option<T>> = (0..total).map(|_| None).collect();
    std::thread::scope(|s| {
        let worker = || {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                out.push((i, f(job)));
                done.fetch_add(1, Ordering::Relaxed);
                done_weight.fetch_add(weight(job), Ordering::Relaxed);
            }
            out
        };
        let handles: Vec<_> = (1..threads.max(1)).map(|_| s.spawn(worker)).collect();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else { break };
            let t = f(job);
            if let Some(slot) = slots.get_mut(i) {
                *slot = Some(t);
            }
            done.fetch_add(1, Ordering::Relaxed);
            let d = done_weight.fetch_add(weight(job), Ordering::Relaxed) + weight(job);
            progress((offset + d).min(grand_total), grand_total);
        }
        for h in handles {
            if let Ok(out) = h.join() {
                for (i, t) in out {
                    if let Some(slot) = slots.get_mut(i) {
                        *slot = Some(t);
                    }
                }
            }
        }
    });
    // A job whose thread failed is recomputed here, so the result never depends on it.
    let out = slots
        .into_iter()
        .enumerate()
        .map(|(i, t)| match t {
            Some(t) => t,
            None => f(&jobs[i]),
        })
        .collect();
    let all: usize = jobs.iter().map(weight).sum();
    progress((offset + all).min(grand_total), grand_total);
    out
}

fn failures(world: &model::World, ctx: &Ctx<'_>, loaded: &LoadedPlatform) -> Vec<Job> {
    let mut jobs = Vec::new();
    // Single nodes, batched.
    let singles: Vec<Failure> = world
        .nodes
        .iter()
        .enumerate()
        .map(|(g, n)| Failure {
            id: format!("node:{}", n.name),
            kind: "node",
            description: format!(
                "node `{}` ({}, {}) lost",
                n.name, n.server_type, world.sites[n.site]
            ),
            nodes: vec![g],
            list_nodes: true,
            ..Failure::default()
        })
        .collect();
    for chunk in singles.chunks(64) {
        jobs.push(Job::Batch(chunk.to_vec()));
    }
    // Pools, control planes included.
    let mut pools = Vec::new();
    for (ci, c) in world.clusters.iter().enumerate() {
        let mut names: Vec<String> = Vec::new();
        for g in c.nodes.clone() {
            if !names.contains(&world.nodes[g].pool_name) {
                names.push(world.nodes[g].pool_name.clone());
            }
        }
        for name in names {
            let nodes: Vec<usize> =
                c.nodes.clone().filter(|&g| world.nodes[g].pool_name == name).collect();
            pools.push(Failure {
                id: format!("pool:{}/{}", c.name, name),
                kind: "pool",
                description: format!(
                    "every node of pool `{}/{}` lost ({} nodes)",
                    c.name,
                    name,
                    nodes.len()
                ),
                nodes,
                list_nodes: true,
                ..Failure::default()
            });
        }
        let _ = ci;
    }
    jobs.push(Job::Batch(pools));
    let mut sites = Vec::new();
    for (s, name) in world.sites.iter().enumerate() {
        let nodes: Vec<usize> =
            (0..world.nodes.len()).filter(|&g| world.nodes[g].site == s).collect();
        sites.push(Failure {
            id: format!("site:{name}"),
            kind: "site",
            description: format!(
                "site `{name}` lost with its {} nodes and its volumes",
                nodes.len()
            ),
            nodes,
            sites: vec![s],
            ..Failure::default()
        });
    }
    // Sites of one company at one location fail together: one scenario for them all.
    for d in world.domains.iter().filter(|d| d.sites.len() >= 2) {
        let nodes: Vec<usize> =
            (0..world.nodes.len()).filter(|&g| d.sites.contains(&world.nodes[g].site)).collect();
        let names: Vec<&str> = d.sites.iter().map(|&s| world.sites[s].as_str()).collect();
        sites.push(Failure {
            id: format!("location:{}", d.location) + &format!(":{}", names.join("+")),
            kind: "location",
            description: format!(
                "location `{}` ({}) lost: sites {} share it, with their {} nodes and volumes",
                d.location,
                d.label,
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
                nodes.len()
            ),
            nodes,
            sites: d.sites.clone(),
            ..Failure::default()
        });
    }
    let mut providers = Vec::new();
    for (p, name) in world.providers.iter().enumerate() {
        let site_ids: Vec<usize> =
            (0..world.sites.len()).filter(|&s| world.site_provider[s] == p).collect();
        let nodes: Vec<usize> =
            (0..world.nodes.len()).filter(|&g| world.nodes[g].provider == p).collect();
        providers.push(Failure {
            id: format!("provider:{name}"),
            kind: "provider",
            description: format!(
                "provider `{name}` lost: {} site{}, {} node{}",
                site_ids.len(),
                if site_ids.len() == 1 { "" } else { "s" },
                nodes.len(),
                if nodes.len() == 1 { "" } else { "s" },
            ),
            nodes,
            sites: site_ids,
            providers: vec![p],
            ..Failure::default()
        });
    }
    for f in sites.into_iter().chain(providers) {
        jobs.push(Job::Batch(vec![f]));
    }
    // User scenarios.
    let spec = &loaded.platform.spec;
    for sc in &spec.scenarios {
        let mut f = Failure {
            id: format!("user:{}", sc.name),
            kind: "user",
            description: sc.description.clone().unwrap_or_else(|| sc.name.clone()),
            list_nodes: true,
            ..Failure::default()
        };
        for s in &sc.fail.sites {
            if let Some(i) = world.sites.iter().position(|x| x == s) {
                f.sites.push(i);
                f.nodes.extend((0..world.nodes.len()).filter(|&g| world.nodes[g].site == i));
            }
        }
        for p in &sc.fail.providers {
            if let Some(i) = world.providers.iter().position(|x| x == p) {
                f.providers.push(i);
                f.sites.extend((0..world.sites.len()).filter(|&s| world.site_provider[s] == i));
                f.nodes.extend((0..world.nodes.len()).filter(|&g| world.nodes[g].provider == i));
            }
        }
        for pool in &sc.fail.node_pools {
            let Some((cname, pname)) = pool.split_once('/') else { continue };
            let Some(ci) = world.clusters.iter().position(|c| c.name == cname) else { continue };
            let members: Vec<usize> = world.clusters[ci]
                .nodes
                .clone()
                .filter(|&g| world.nodes[g].pool_name == pname)
                .collect();
            match sc.fail.nodes {
                Some(n) => f.nodes.extend(scenario::heaviest(ctx, ci, &members, n as usize)),
                None => f.nodes.extend(members),
            }
        }
        f.nodes.sort_unstable();
        f.nodes.dedup();
        f.sites.sort_unstable();
        f.sites.dedup();
        f.providers.sort_unstable();
        f.providers.dedup();
        f.list_nodes = f.sites.is_empty();
        jobs.push(Job::Batch(vec![f]));
    }
    jobs
}

/// Computes the plan. `progress(done, total)` is called while scenarios run.
pub fn plan(
    loaded: &LoadedPlatform,
    options: &Options,
    progress: &mut dyn FnMut(usize, usize),
) -> Report {
    let world = model::build(loaded);
    let threads = if options.threads == 0 { DEFAULT_THREADS } else { options.threads };
    let cluster_ids: Vec<usize> = (0..world.clusters.len()).collect();
    let base = run_parallel(
        &cluster_ids,
        threads,
        &|&ci| pack::baseline(&world, ci),
        &|_| 0,
        (0, 0),
        &mut |_, _| {},
    );
    let ctx = Ctx::new(&world, &base);
    let mut jobs = failures(&world, &ctx, loaded);
    for i in 0..options.samples {
        jobs.push(Job::Sample(i));
    }
    // The worst thirds run second: each starts from the sampled third that hurt its cluster
    // most, so no worst third is ever milder than a sample.
    let mut worst_jobs = Vec::new();
    for ci in 0..world.clusters.len() {
        for of in [scenario::ThirdOf::All, scenario::ThirdOf::Workers] {
            if scenario::third_candidates(&world, ci, of).is_some() {
                worst_jobs.push(Job::Worst(ci, of));
            }
        }
    }
    let first: usize = jobs.iter().map(Job::scenarios).sum();
    // A fleet of several clusters gets a worst third of its own, after the clusters'.
    let fleet = world.clusters.len() >= 2 && !world.nodes.is_empty();
    let grand_total =
        first + worst_jobs.iter().map(Job::scenarios).sum::<usize>() + usize::from(fleet);
    let seed = options.seed;
    let rounds = options.adversarial_rounds;
    let mut worst_sample: Vec<Option<(scenario::Damage, usize)>> = vec![None; world.clusters.len()];
    let run = |job: &Job, seeds: &[Option<(scenario::Damage, usize)>]| -> Out {
        match job {
            Job::Batch(fs) => Out::Results(
                fs.iter()
                    .map(|f| scenario::to_result(&ctx, &scenario::evaluate(&ctx, f.clone())))
                    .collect(),
            ),
            Job::Worst(ci, of) => {
                let from: Vec<Vec<usize>> = seeds
                    .get(*ci)
                    .copied()
                    .flatten()
                    .map(|(_, i)| scenario::sampled_third(&world, seed, i).nodes)
                    .into_iter()
                    .collect();
                Out::Worst(
                    scenario::worst_third(&ctx, *ci, *of, rounds, seed, &from)
                        .map(|e| (Box::new(scenario::to_result(&ctx, &e)), e.failure.nodes)),
                )
            }
            // Only the damage is kept; the worst sample is evaluated again in full at the end
            // (evaluation is pure), so memory stays flat however many samples run.
            Job::Sample(i) => {
                let e = scenario::evaluate_damage(&ctx, scenario::sampled_third(&world, seed, *i));
                Out::Sample(e.damage, scenario::damage_by_cluster(&ctx, &e))
            }
        }
    };
    let outs =
        run_parallel(&jobs, threads, &|j| run(j, &[]), &Job::scenarios, (0, grand_total), progress);
    let mut scenarios = Vec::new();
    let mut user = Vec::new();
    let mut sample_evals = Vec::new();
    for (job, out) in jobs.iter().zip(outs) {
        match out {
            Out::Results(rs) => {
                for r in rs {
                    if r.kind == "user" {
                        user.push(r);
                    } else {
                        scenarios.push(r);
                    }
                }
            }
            Out::Worst(_) => {}
            Out::Sample(d, per_cluster) => {
                if let Job::Sample(i) = job {
                    for (ci, cd) in per_cluster {
                        if let Some(slot) = worst_sample.get_mut(ci)
                            && slot.is_none_or(|(w, _)| cd > w)
                        {
                            *slot = Some((cd, *i));
                        }
                    }
                }
                sample_evals.push(d);
            }
        }
    }
    let outs = run_parallel(
        &worst_jobs,
        threads,
        &|j| run(j, &worst_sample),
        &Job::scenarios,
        (first, grand_total),
        progress,
    );
    let mut worst_thirds: Vec<ScenarioResult> = Vec::new();
    let mut cluster_thirds: Vec<Vec<usize>> = Vec::new();
    for (job, out) in worst_jobs.iter().zip(outs) {
        if let Out::Worst(Some((r, nodes))) = out {
            if matches!(job, Job::Worst(_, scenario::ThirdOf::All)) {
                cluster_thirds.push(nodes);
            }
            worst_thirds.push(*r);
        }
    }
    if fleet {
        let worst_sample = worst_sample_index(&sample_evals);
        let from = worst_sample.map(|i| scenario::sampled_third(&world, seed, i).nodes);
        let candidates = scenario::fleet_third_candidates(&world, &cluster_thirds, from);
        let damages = run_parallel(
            &candidates,
            threads,
            &|f| scenario::evaluate_damage(&ctx, f.clone()).damage,
            &|_| 0,
            (grand_total, grand_total),
            &mut |_, _| {},
        );
        // The first of equally bad candidates wins, whatever the thread timing.
        let best = damages
            .iter()
            .enumerate()
            .max_by(|(i, a), (j, b)| a.cmp(b).then(j.cmp(i)))
            .map(|(i, _)| i);
        if let Some(f) = best.and_then(|i| candidates.get(i)) {
            worst_thirds.push(scenario::to_result(&ctx, &scenario::evaluate(&ctx, f.clone())));
        }
        progress(grand_total, grand_total);
    }
    scenarios.extend(worst_thirds);
    scenarios.extend(user);
    let samples = summarize_samples(&ctx, &world, seed, &sample_evals);
    let mut by_kind: Vec<KindCount> = Vec::new();
    for s in &scenarios {
        match by_kind.iter_mut().find(|k| k.kind == s.kind) {
            Some(k) => {
                k.total += 1;
                k.survivable += usize::from(s.survivable);
            }
            None => by_kind.push(KindCount {
                kind: s.kind.clone(),
                total: 1,
                survivable: usize::from(s.survivable),
            }),
        }
    }
    if samples.count > 0 {
        by_kind.push(KindCount {
            kind: "sampled-third".into(),
            total: samples.count,
            survivable: samples.survivable,
        });
    }
    let summary = Summary {
        scenarios: scenarios.len() + samples.count,
        survivable: scenarios.iter().filter(|s| s.survivable).count() + samples.survivable,
        by_kind,
        max_gap: scenarios
            .iter()
            .map(|s| s.gap)
            .chain(samples.worst.iter().map(|w| w.gap))
            .max()
            .unwrap_or(0),
    };
    let capacity = capacity(&world, &base);
    let r = hafen_check::allocatable::reservation();
    let reservation = ReservationDoc {
        formula: "allocatable = capacity − kubeReserved − systemReserved − evictionHard − Σ per-node daemon requests; \
                  capacity CPU = logical CPUs, as kubelet counts them (a dedicated server's hardware threads, `threads` in the catalogue; a cloud vCPU is one thread); \
                  kubeReserved CPU = 6 % of the first core + 1 % of the second + 0.5 % of cores 3–4 + 0.25 % above 4; \
                  kubeReserved memory = 25 % of the first 4 GiB + 20 % of the next 4 + 10 % of the next 8 + 6 % of the next 112 + 2 % above 128 GiB; \
                  pods = kubelet maxPods minus one per daemon"
            .into(),
        sources: vec![
            format!("kubeReserved: {} ({})", r.kube_reserved.source, r.kube_reserved.date),
            format!("systemReserved (Talos): {} ({})", r.system_reserved.talos.source, r.system_reserved.talos.date),
            format!("systemReserved (K3s): {} ({})", r.system_reserved.k3s.source, r.system_reserved.k3s.date),
            format!("evictionHard: {} ({})", r.eviction_hard.source, r.eviction_hard.date),
            format!("maxPods: {} ({})", r.max_pods.source, r.max_pods.date),
        ],
        per_server_type: world
            .allocations
            .iter()
            .map(|(ci, a)| ClusterAllocation { cluster: world.clusters[*ci].name.clone(), allocation: a.clone() })
            .collect(),
        daemon_table: "per-node DaemonSet requests from hafen_render::components (data/components.yaml): \
                       the requests the rendered values carry, so planner and repository agree"
            .into(),
    };
    let exit = options.exit.as_ref().map(|(s, t)| exit::plan_exit(loaded, s, t));
    let mut assumptions = world.notes.clone();
    assumptions.push(
        "Replacement capacity is what `sites[].replacementCapacity` declares, shared by the clusters at that site in a scenario; default none (scarcity)."
            .into(),
    );
    assumptions.push(
        "Worst third: ⌈n/3⌉ of all n nodes of a cluster, control plane and egress gateways included (`third:<cluster>`), and of its nodes other than the control plane (`third:<cluster>/workers`, etcd intact: the capacity view). Chosen adversarially: candidate thirds from the heaviest, largest and most data-laden nodes, each location, each pool, an etcd majority, all egress gateways, whole databases and the sampled third that hurt the cluster most, each filled up with the heaviest nodes and scored by full evaluation (lost quorum and lost data outrank unplaced replicas), then seeded swaps. A platform of several clusters also gets `third:fleet`, ⌈N/3⌉ of all N nodes, the worst of every cluster's etcd majority, the clusters' worst thirds, each location and provider that fits, and the worst sample. Sampled thirds draw ⌈N/3⌉ of all N nodes uniformly with the seed."
            .into(),
    );
    assumptions.push(
        "User scenarios with `nodes: N` lose the N most loaded nodes of each listed pool; buffer advice considers every type the site's provider sells there now and the pools' own types."
            .into(),
    );
    assumptions.push(
        "Data copies: Hetzner Cloud volumes survive node loss but not site loss, and a replica that uses one restarts only at its site (volumes are location-bound); Piraeus/Longhorn keep `storage.replicas` copies on storage nodes and attach anywhere in the cluster while one copy lives; other volumes live on the node and do not move. A replica whose data is gone does not run. A database instance whose volume is gone is re-created from a live instance (a sibling, or for a replica cluster its primary) once its volume claim is deleted. A database's replica cluster (`postgres.replicaCluster`) runs `postgres.replicas` instances there and is simulated as a member of the database's group."
            .into(),
    );
    Report {
        version: VERSION,
        platform: loaded.platform.metadata.name.clone(),
        settings: Settings { seed, samples: options.samples, adversarial_rounds: rounds },
        reservation,
        capacity,
        scenarios,
        samples,
        summary,
        cost: cost::cost(loaded),
        sovereignty: sovereignty::sovereignty(loaded),
        exit,
        assumptions,
    }
}

/// The most damaging sample (the first of equals).
fn worst_sample_index(damages: &[scenario::Damage]) -> Option<usize> {
    damages.iter().enumerate().max_by(|(i, a), (j, b)| a.cmp(b).then(j.cmp(i))).map(|(i, _)| i)
}

fn summarize_samples(
    ctx: &Ctx<'_>,
    world: &model::World,
    seed: u64,
    damages: &[scenario::Damage],
) -> Samples {
    let survivable = |d: &scenario::Damage| {
        d.unplaced == 0
            && d.control_planes_down == 0
            && d.data_lost == 0
            && d.data_restore == 0
            && d.below_budget == 0
            && d.groups_lost == 0
    };
    let worst = worst_sample_index(damages).map(|i| {
        scenario::to_result(ctx, &scenario::evaluate(ctx, scenario::sampled_third(world, seed, i)))
    });
    Samples {
        count: damages.len(),
        nodes_per_sample: world.nodes.len().div_ceil(3) as u64,
        survivable: damages.iter().filter(|d| survivable(d)).count(),
        with_unplaced: damages.iter().filter(|d| d.unplaced > 0).count(),
        with_etcd_quorum_lost: damages.iter().filter(|d| d.control_planes_down > 0).count(),
        with_data_at_risk: damages.iter().filter(|d| d.data_lost + d.data_restore > 0).count(),
        unplaced_per_sample: damages.iter().map(|d| d.unplaced).collect(),
        worst,
    }
}

fn capacity(world: &model::World, base: &[pack::Baseline]) -> Vec<ClusterCapacity> {
    world
        .clusters
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            let nodes = &world.nodes[c.nodes.clone()];
            let mut alloc = model::Res::default();
            let mut app_nodes = 0;
            for n in nodes.iter().filter(|n| n.runs_apps()) {
                alloc.add(&n.alloc);
                app_nodes += 1;
            }
            let mut req = model::Res::default();
            let mut items = Vec::new();
            let mut unplaced = Vec::new();
            let mut short = Vec::new();
            for (pos, &w) in c.workloads.iter().enumerate() {
                let wk = &world.workloads[w];
                req.add(&wk.req.times(u64::from(wk.replicas)));
                items.push(pack::Item {
                    size: wk.req,
                    count: u64::from(wk.replicas),
                    distinct: wk.placement.distinct(),
                });
                let u = base[ci].unplaced.get(pos).copied().unwrap_or(0);
                if u > 0 {
                    unplaced.push(Unplaced { app: wk.label(), replicas: u64::from(u) });
                }
                let running = wk.replicas.saturating_sub(u);
                if running < wk.min_available {
                    short.push(BaselineShortfall {
                        app: wk.label(),
                        replicas: u64::from(wk.replicas),
                        running: u64::from(running),
                        min_available: u64::from(wk.min_available),
                    });
                }
            }
            let pct = |a: u64, b: u64| {
                if b == 0 { 0.0 } else { (a as f64 * 1000.0 / b as f64).round() / 10.0 }
            };
            let consolidation = c.worker_types.first().and_then(|(site, st)| {
                let bin = nodes
                    .iter()
                    .find(|n| n.site == *site && &n.server_type == st && n.runs_apps())?
                    .alloc;
                Some(Consolidation {
                    server_type: st.clone(),
                    ffd_nodes: pack::ffd_bins(&items, bin)?,
                    packed_nodes: pack::best_bins(&items, bin)?,
                    lower_bound: pack::lower_bound_bins(&items, bin),
                })
            });
            ClusterCapacity {
                cluster: c.name.clone(),
                nodes: nodes.len() as u64,
                app_nodes,
                allocatable: alloc.into(),
                requests: req.into(),
                utilization_percent: Utilization {
                    cpu: pct(req.cpu, alloc.cpu),
                    memory: pct(req.mem, alloc.mem),
                    pods: pct(req.pods, alloc.pods),
                },
                unplaced_at_baseline: unplaced,
                below_budget_at_baseline: short,
                consolidation,
            }
        })
        .collect()
}
