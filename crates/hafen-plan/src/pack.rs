//! Packing: the baseline placement of every replica, first-fit-decreasing re-placement of the
//! replicas a failure displaces (survivors keep their nodes), the buffer that would absorb what
//! does not fit, and lower bounds that say how far from optimal each answer can be.
//!
//! Replicas of one workload are an equivalence class (same requests, same spread): classes
//! are sorted once by the cluster-autoscaler key (cpu/avg-node-cpu + mem/avg-node-mem,
//! descending) and each class scans the nodes with its own cursor, so a scenario costs
//! O(classes × nodes + replicas) rather than O(replicas × nodes).

use crate::model::{CopyAt, Res, WorkloadKind, World};
use hafen_spec::{Spread, StorageDriver};

/// One class of identical items for the pure bin-packing helpers.
#[derive(Debug, Clone, Copy)]
pub struct Item {
    /// Size of one item.
    pub size: Res,
    /// How many.
    pub count: u64,
    /// True when no two items of this class may share a bin (anti-affinity).
    pub distinct: bool,
}

fn key(size: &Res, scale: &Res) -> f64 {
    let c = if scale.cpu > 0 { size.cpu as f64 / scale.cpu as f64 } else { 0.0 };
    let m = if scale.mem > 0 { size.mem as f64 / scale.mem as f64 } else { 0.0 };
    c + m
}

fn order(items: &[Item], scale: &Res) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    idx.sort_by(|&a, &b| {
        key(&items[b].size, scale).total_cmp(&key(&items[a].size, scale)).then(a.cmp(&b))
    });
    idx
}

/// Above this many items the helpers decline (a spec with millions of replicas per cluster is a
/// typo, and the answer would not be read).
pub const MAX_ITEMS: u64 = 2_000_000;

/// First-fit decreasing into identical empty bins: the number of bins opened, or `None` when
/// an item does not fit an empty bin.
pub fn ffd_bins(items: &[Item], bin: Res) -> Option<u64> {
    if items.iter().fold(0u64, |a, i| a.saturating_add(i.count)) > MAX_ITEMS {
        return None;
    }
    let mut bins: Vec<Res> = Vec::new();
    // Which class last used each bin, for anti-affinity.
    let mut holds: Vec<usize> = Vec::new();
    for i in order(items, &bin) {
        let item = items[i];
        if item.count > 0 && !bin.fits(&item.size) {
            return None;
        }
        let mut cursor = 0;
        for _ in 0..item.count {
            let mut placed = false;
            while cursor < bins.len() {
                let b = cursor;
                if (!item.distinct || holds[b] != i) && bins[b].fits(&item.size) {
                    bins[b].sub(&item.size);
                    holds[b] = i;
                    placed = true;
                    if item.distinct {
                        cursor = b + 1;
                    }
                    break;
                }
                cursor += 1;
            }
            if !placed {
                let mut b = bin;
                b.sub(&item.size);
                bins.push(b);
                holds.push(i);
                cursor = if item.distinct { bins.len() } else { bins.len() - 1 };
            }
        }
    }
    Some(bins.len() as u64)
}

/// Packs into exactly `k` identical bins, each replica going to the bin it leaves with the
/// most bottleneck slack (worst fit): for anti-affinity classes this spreads like round robin,
/// where first fit leaves a tail of half-empty bins. True when everything fits.
fn fits_in(items: &[Item], bin: Res, k: usize) -> bool {
    let mut bins = vec![bin; k];
    let mut holds = vec![usize::MAX; k];
    let slack = |r: &Res| {
        let f = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        f(r.cpu, bin.cpu).min(f(r.mem, bin.mem)).min(f(r.pods, bin.pods))
    };
    for i in order(items, &bin) {
        let item = items[i];
        for _ in 0..item.count {
            let mut best: Option<(usize, f64)> = None;
            for b in 0..k {
                if (item.distinct && holds[b] == i) || !bins[b].fits(&item.size) {
                    continue;
                }
                let s = slack(&bins[b].minus(&item.size));
                if best.is_none_or(|(_, x)| s > x) {
                    best = Some((b, s));
                }
            }
            let Some((b, _)) = best else { return false };
            bins[b].sub(&item.size);
            holds[b] = i;
        }
    }
    true
}

/// The fewest bins found by first-fit decreasing or by worst-fit into a fixed number of bins
/// searched from the lower bound up: never worse than FFD.
pub fn best_bins(items: &[Item], bin: Res) -> Option<u64> {
    let ffd = ffd_bins(items, bin)?;
    let lb = lower_bound_bins(items, bin).min(ffd);
    if lb == ffd {
        return Some(ffd);
    }
    // Binary search over k in [lb, ffd): worst-fit feasibility is nearly monotone in k, and
    // every answer it returns is a verified packing.
    let (mut lo, mut hi) = (lb, ffd);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if fits_in(items, bin, mid as usize) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(hi)
}

/// A lower bound on the bins any packing needs: the continuous bound per resource
/// (⌈Σ size / capacity⌉), the large-item bound (items above half a bin in some resource never
/// share a bin), and the largest anti-affinity class.
pub fn lower_bound_bins(items: &[Item], bin: Res) -> u64 {
    let mut total = Res::default();
    let mut large = [0u64; 3];
    let mut group = 0;
    for item in items {
        total.add(&item.size.times(item.count));
        if item.size.cpu.saturating_mul(2) > bin.cpu {
            large[0] = large[0].saturating_add(item.count);
        }
        if item.size.mem.saturating_mul(2) > bin.mem {
            large[1] = large[1].saturating_add(item.count);
        }
        if item.size.pods.saturating_mul(2) > bin.pods {
            large[2] = large[2].saturating_add(item.count);
        }
        if item.distinct {
            group = group.max(item.count);
        }
    }
    let ceil =
        |a: u64, b: u64| if b == 0 { if a > 0 { u64::MAX } else { 0 } } else { a.div_ceil(b) };
    [
        ceil(total.cpu, bin.cpu),
        ceil(total.mem, bin.mem),
        ceil(total.pods, bin.pods),
        large[0],
        large[1],
        large[2],
        group,
    ]
    .into_iter()
    .max()
    .unwrap_or(0)
}

/// The steady state of one cluster: where every replica runs and what is left free.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Per workload position (in the cluster's list): local node of each placed replica.
    pub placed: Vec<Vec<u32>>,
    /// Per workload position: replicas that found no node even before any failure.
    pub unplaced: Vec<u32>,
    /// Per local node: free capacity.
    pub free: Vec<Res>,
    /// Per local node: (workload position, replicas) running there.
    pub load: Vec<Vec<(u32, u32)>>,
    /// Per workload position, per placed replica: where copies of its volume live.
    pub copies: Vec<Vec<Vec<CopyAt>>>,
    /// Local nodes that run tenant apps, in order.
    pub app_nodes: Vec<u32>,
    /// Average allocatable of app nodes (sort scale).
    pub scale: Res,
    /// Workload positions in first-fit-decreasing order.
    pub ffd_order: Vec<u32>,
}

fn score(free: &Res, alloc: &Res) -> f64 {
    let c = if alloc.cpu > 0 { free.cpu as f64 / alloc.cpu as f64 } else { 0.0 };
    let m = if alloc.mem > 0 { free.mem as f64 / alloc.mem as f64 } else { 0.0 };
    c + m
}

/// Places every replica of a cluster like the default scheduler: largest classes first, each
/// replica on the least-allocated node that fits and respects the spread.
pub fn baseline(world: &World, ci: usize) -> Baseline {
    let cluster = &world.clusters[ci];
    let nodes = &world.nodes[cluster.nodes.clone()];
    let n = nodes.len();
    let mut free: Vec<Res> = nodes.iter().map(|x| x.alloc).collect();
    let app_nodes: Vec<u32> = (0..n as u32).filter(|&i| nodes[i as usize].runs_apps()).collect();
    let mut scale = Res::default();
    for &i in &app_nodes {
        scale.add(&nodes[i as usize].alloc);
    }
    let count = app_nodes.len().max(1) as u64;
    scale = Res { cpu: scale.cpu / count, mem: scale.mem / count, pods: scale.pods / count };
    let wl = &cluster.workloads;
    let items: Vec<Item> = wl
        .iter()
        .map(|&w| {
            let w = &world.workloads[w];
            Item { size: w.req, count: u64::from(w.replicas), distinct: w.spread != Spread::None }
        })
        .collect();
    let ffd_order: Vec<u32> = order(&items, &scale).into_iter().map(|i| i as u32).collect();
    let mut placed = vec![Vec::new(); wl.len()];
    let mut unplaced = vec![0u32; wl.len()];
    let mut load: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    let mut holds = vec![u32::MAX; n];
    let nsites = world.sites.len();
    for &pos in &ffd_order {
        let w = &world.workloads[wl[pos as usize]];
        let mut per_site = vec![0u32; nsites];
        for _ in 0..w.replicas {
            // Candidate sites in preference order.
            let mut sites: Vec<usize> = Vec::new();
            if w.spread == Spread::Site {
                let mut s: Vec<usize> = (0..nsites).collect();
                s.sort_by_key(|&s| (per_site[s], s));
                sites = s;
            } else {
                sites.push(cluster.site);
                sites.extend((0..nsites).filter(|&s| s != cluster.site));
            }
            let mut best: Option<(u32, f64)> = None;
            for &site in &sites {
                for &i in &app_nodes {
                    let node = &nodes[i as usize];
                    if node.site != site || (w.spread != Spread::None && holds[i as usize] == pos) {
                        continue;
                    }
                    if !free[i as usize].fits(&w.req) {
                        continue;
                    }
                    let s = score(&free[i as usize], &node.alloc);
                    if best.is_none_or(|(_, b)| s > b) {
                        best = Some((i, s));
                    }
                }
                if best.is_some() {
                    break;
                }
            }
            match best {
                Some((i, _)) => {
                    let iu = i as usize;
                    free[iu].sub(&w.req);
                    holds[iu] = pos;
                    placed[pos as usize].push(i);
                    per_site[nodes[iu].site] += 1;
                    match load[iu].last_mut() {
                        Some((p, c)) if *p == pos => *c += 1,
                        _ => load[iu].push((pos, 1)),
                    }
                }
                None => {
                    // Nodes only fill up: if this replica fits nowhere, neither does any
                    // further identical one. This also bounds the work for absurd replica counts.
                    unplaced[pos as usize] += w.replicas - placed[pos as usize].len() as u32;
                    break;
                }
            }
        }
    }
    // Copies of each replica's data, by storage driver.
    let storage_nodes: Vec<u32> =
        app_nodes.iter().copied().filter(|&i| nodes[i as usize].storage).collect();
    let copies = wl
        .iter()
        .enumerate()
        .map(|(pos, &w)| {
            let w = &world.workloads[w];
            if w.volumes.is_empty() && w.kind != WorkloadKind::Postgres {
                return Vec::new();
            }
            placed[pos]
                .iter()
                .enumerate()
                .map(|(r, &i)| {
                    let node = &nodes[i as usize];
                    match cluster.storage {
                        Some(StorageDriver::HcloudVolumes) => vec![CopyAt::Site(node.site)],
                        Some(StorageDriver::Piraeus | StorageDriver::Longhorn)
                            if !storage_nodes.is_empty() =>
                        {
                            let k =
                                (cluster.storage_replicas.max(1) as usize).min(storage_nodes.len());
                            let start = storage_nodes
                                .iter()
                                .position(|&s| s == i)
                                .unwrap_or(r % storage_nodes.len());
                            (0..k)
                                .map(|j| {
                                    let s = storage_nodes[(start + j) % storage_nodes.len()];
                                    CopyAt::Node(cluster.nodes.start + s as usize)
                                })
                                .collect()
                        }
                        _ => vec![CopyAt::Node(cluster.nodes.start + i as usize)],
                    }
                })
                .collect()
        })
        .collect();
    Baseline { placed, unplaced, free, load, copies, app_nodes, scale, ffd_order }
}

/// Per workload result of one scenario in one cluster.
#[derive(Debug, Clone, Default)]
pub struct WorkloadOutcome {
    /// Replicas lost with failed nodes.
    pub displaced: u32,
    /// Of those, restarted elsewhere.
    pub replaced: u32,
    /// Of those, on replacement servers.
    pub on_replacement: u32,
}

/// Replacement servers still deliverable in this scenario: per site, per offer, count left.
pub type ReplacementLeft = Vec<Vec<u32>>;

/// The result of re-placing one cluster's displaced replicas.
#[derive(Debug, Clone, Default)]
pub struct Replacement {
    /// Per workload position.
    pub outcomes: Vec<WorkloadOutcome>,
    /// Unplaced replicas: (workload position, count), in FFD order.
    pub unplaced: Vec<(u32, u32)>,
    /// Replacement servers used: (site, offer index, count).
    pub servers_used: Vec<(usize, usize, u32)>,
    /// Lower bound on unplaced replicas.
    pub unplaced_lower_bound: u64,
}

/// Re-places the displaced replicas of one cluster: survivors stay, displaced replicas go
/// first-fit-decreasing onto surviving app nodes, then onto replacement servers the provider
/// can still deliver at surviving sites of the cluster.
pub fn replace(
    world: &World,
    ci: usize,
    base: &Baseline,
    failed: &dyn Fn(usize) -> bool,
    site_failed: &dyn Fn(usize) -> bool,
    left: &mut ReplacementLeft,
    control_plane_up: bool,
) -> Replacement {
    let cluster = &world.clusters[ci];
    let start = cluster.nodes.start;
    let nodes = &world.nodes[cluster.nodes.clone()];
    let wl = &cluster.workloads;
    let mut outcomes = vec![WorkloadOutcome::default(); wl.len()];
    let mut dead = vec![false; nodes.len()];
    let mut any = false;
    for (i, d) in dead.iter_mut().enumerate() {
        *d = failed(start + i);
        if *d {
            any = true;
            for &(pos, c) in &base.load[i] {
                outcomes[pos as usize].displaced += c;
            }
        }
    }
    let mut result = Replacement { outcomes, ..Replacement::default() };
    if !any {
        return result;
    }
    let cluster_sites: Vec<usize> = {
        let mut s: Vec<usize> = nodes.iter().map(|n| n.site).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    // Lower bound on what cannot be placed (aggregate and per-class distinctness).
    result.unplaced_lower_bound = unplaced_lower_bound(
        world,
        ci,
        base,
        &dead,
        &cluster_sites,
        site_failed,
        left,
        &result.outcomes,
    );
    if !control_plane_up {
        // Without etcd quorum nothing can be rescheduled: that is a fact, so the bound is exact.
        result.unplaced_lower_bound = result.outcomes.iter().map(|o| u64::from(o.displaced)).sum();
        for &pos in &base.ffd_order {
            let d = result.outcomes[pos as usize].displaced;
            if d > 0 {
                result.unplaced.push((pos, d));
            }
        }
        return result;
    }
    let mut free = base.free.clone();
    let mut holds = vec![u32::MAX; nodes.len()];
    // Replacement servers opened in this scenario: (site, offer, free, holds).
    let mut extra: Vec<(usize, usize, Res, u32)> = Vec::new();
    let nsites = world.sites.len();
    for &pos in &base.ffd_order {
        let p = pos as usize;
        let displaced = result.outcomes[p].displaced;
        if displaced == 0 {
            continue;
        }
        let w = &world.workloads[wl[p]];
        let distinct = w.spread != Spread::None;
        let mut per_site = vec![0u32; nsites];
        for &i in &base.placed[p] {
            if !dead[i as usize] {
                holds[i as usize] = pos;
                per_site[nodes[i as usize].site] += 1;
            }
        }
        let mut cursor = 0usize;
        let mut site_cursor = vec![0usize; nsites];
        for _ in 0..displaced {
            let mut found: Option<usize> = None;
            if w.spread == Spread::Site {
                let mut order: Vec<usize> = cluster_sites.clone();
                order.sort_by_key(|&s| (per_site[s], s));
                'sites: for s in order {
                    while site_cursor[s] < base.app_nodes.len() {
                        let i = base.app_nodes[site_cursor[s]] as usize;
                        if nodes[i].site == s && !dead[i] && holds[i] != pos && free[i].fits(&w.req)
                        {
                            found = Some(i);
                            site_cursor[s] += 1;
                            break 'sites;
                        }
                        site_cursor[s] += 1;
                    }
                }
            } else {
                while cursor < base.app_nodes.len() {
                    let i = base.app_nodes[cursor] as usize;
                    if !dead[i] && (!distinct || holds[i] != pos) && free[i].fits(&w.req) {
                        found = Some(i);
                        if distinct {
                            cursor += 1;
                        }
                        break;
                    }
                    cursor += 1;
                }
            }
            if let Some(i) = found {
                free[i].sub(&w.req);
                holds[i] = pos;
                per_site[nodes[i].site] += 1;
                result.outcomes[p].replaced += 1;
                continue;
            }
            // Replacement servers already opened, then new ones.
            let mut placed = false;
            for e in extra.iter_mut() {
                if (!distinct || e.3 != pos) && e.2.fits(&w.req) {
                    e.2.sub(&w.req);
                    e.3 = pos;
                    placed = true;
                    break;
                }
            }
            if !placed {
                'open: for &s in &cluster_sites {
                    if site_failed(s) {
                        continue;
                    }
                    let (Some(offers), Some(counts)) = (world.replacement.get(s), left.get_mut(s))
                    else {
                        continue;
                    };
                    for (o, offer) in offers.iter().enumerate() {
                        if counts.get(o).copied().unwrap_or(0) > 0 && offer.2.fits(&w.req) {
                            counts[o] -= 1;
                            let mut f = offer.2;
                            f.sub(&w.req);
                            extra.push((s, o, f, pos));
                            match result.servers_used.iter_mut().find(|u| u.0 == s && u.1 == o) {
                                Some(u) => u.2 += 1,
                                None => result.servers_used.push((s, o, 1)),
                            }
                            placed = true;
                            break 'open;
                        }
                    }
                }
            }
            if placed {
                result.outcomes[p].replaced += 1;
                result.outcomes[p].on_replacement += 1;
            } else {
                match result.unplaced.last_mut() {
                    Some((q, c)) if *q == pos => *c += 1,
                    _ => result.unplaced.push((pos, 1)),
                }
            }
        }
    }
    result
}

/// A lower bound on the number of displaced replicas that no placement can restart, given the
/// survivors' free capacity and the replacement servers left.
#[allow(clippy::too_many_arguments)]
fn unplaced_lower_bound(
    world: &World,
    ci: usize,
    base: &Baseline,
    dead: &[bool],
    cluster_sites: &[usize],
    site_failed: &dyn Fn(usize) -> bool,
    left: &ReplacementLeft,
    outcomes: &[WorkloadOutcome],
) -> u64 {
    let cluster = &world.clusters[ci];
    let wl = &cluster.workloads;
    let mut capacity = Res::default();
    let mut node_free: Vec<Res> = Vec::new();
    for &i in &base.app_nodes {
        if !dead[i as usize] {
            capacity.add(&base.free[i as usize]);
            node_free.push(base.free[i as usize]);
        }
    }
    let mut spare: Vec<(Res, u32)> = Vec::new();
    for &s in cluster_sites {
        if site_failed(s) {
            continue;
        }
        if let (Some(offers), Some(counts)) = (world.replacement.get(s), left.get(s)) {
            for (o, offer) in offers.iter().enumerate() {
                let c = counts.get(o).copied().unwrap_or(0);
                if c > 0 {
                    capacity.add(&offer.2.times(u64::from(c)));
                    spare.push((offer.2, c));
                }
            }
        }
    }
    // Aggregate: drop the largest replicas until the rest fits the total free capacity.
    let mut demand = Res::default();
    let mut sizes: Vec<Res> = Vec::new();
    let mut per_class = 0u64;
    for (pos, o) in outcomes.iter().enumerate() {
        if o.displaced == 0 {
            continue;
        }
        let w = &world.workloads[wl[pos]];
        demand.add(&w.req.times(u64::from(o.displaced)));
        for _ in 0..o.displaced.min(4096) {
            sizes.push(w.req);
        }
        // Per class: hosts that could ever take one replica.
        let holders: Vec<u32> =
            base.placed[pos].iter().copied().filter(|&i| !dead[i as usize]).collect();
        let mut hosts = 0u64;
        for &i in &base.app_nodes {
            if dead[i as usize] || !base.free[i as usize].fits(&w.req) {
                continue;
            }
            if w.spread != Spread::None && holders.contains(&i) {
                continue;
            }
            hosts = hosts.saturating_add(if w.spread == Spread::None { u64::MAX / 4 } else { 1 });
        }
        for (alloc, c) in &spare {
            if alloc.fits(&w.req) {
                hosts = hosts.saturating_add(if w.spread == Spread::None {
                    u64::MAX / 4
                } else {
                    u64::from(*c)
                });
            }
        }
        per_class = per_class.saturating_add(u64::from(o.displaced).saturating_sub(hosts));
    }
    let mut aggregate = 0u64;
    for r in 0..3 {
        let get = |x: &Res| match r {
            0 => x.cpu,
            1 => x.mem,
            _ => x.pods,
        };
        let excess = get(&demand).saturating_sub(get(&capacity));
        if excess == 0 {
            continue;
        }
        let mut v: Vec<u64> = sizes.iter().map(get).collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        let mut sum = 0;
        let mut k = 0;
        for s in v {
            if sum >= excess {
                break;
            }
            sum = s.saturating_add(sum);
            k += 1;
        }
        aggregate = aggregate.max(k);
    }
    aggregate.max(per_class)
}

/// Advice: extra nodes of one type at one site that make a scenario fit.
#[derive(Debug, Clone)]
pub struct BufferFit {
    /// Site.
    pub site: usize,
    /// Server type.
    pub server_type: String,
    /// Nodes first-fit-decreasing needs.
    pub count: u64,
    /// Lower bound on nodes of this type.
    pub lower_bound: u64,
    /// Monthly price of one.
    pub unit_eur: f64,
}

/// The cheapest buffer (one server type at one surviving site of the cluster) that absorbs
/// the unplaced replicas, found by first-fit-decreasing into new empty nodes.
pub fn buffer(
    world: &World,
    ci: usize,
    base: &Baseline,
    dead: &dyn Fn(usize) -> bool,
    site_failed: &dyn Fn(usize) -> bool,
    unplaced: &[(u32, u32)],
) -> Option<BufferFit> {
    let cluster = &world.clusters[ci];
    let start = cluster.nodes.start;
    let wl = &cluster.workloads;
    let items: Vec<Item> = unplaced
        .iter()
        .map(|&(pos, c)| {
            let w = &world.workloads[wl[pos as usize]];
            Item { size: w.req, count: u64::from(c), distinct: w.spread != Spread::None }
        })
        .collect();
    // Totals for the continuous bound: everything that must run vs what survives.
    let mut demand = Res::default();
    let mut capacity = Res::default();
    let mut surviving = 0u64;
    for (pos, &w) in wl.iter().enumerate() {
        let w = &world.workloads[w];
        let running = u64::from(w.replicas.saturating_sub(base.unplaced[pos]));
        demand.add(&w.req.times(running));
    }
    for &i in &base.app_nodes {
        let g = start + i as usize;
        if !dead(g) {
            capacity.add(&world.nodes[g].alloc);
            surviving += 1;
        }
    }
    let mut best: Option<BufferFit> = None;
    for (site, st) in &cluster.worker_types {
        if site_failed(*site) {
            continue;
        }
        let Some(alloc) = world.nodes[cluster.nodes.clone()]
            .iter()
            .find(|n| n.site == *site && &n.server_type == st && n.runs_apps())
            .map(|n| n.alloc)
        else {
            continue;
        };
        let Some(count) = best_bins(&items, alloc) else { continue };
        let ceil = |a: u64, b: u64| if b == 0 { 0 } else { a.div_ceil(b) };
        let l1 = [
            ceil(demand.cpu.saturating_sub(capacity.cpu), alloc.cpu),
            ceil(demand.mem.saturating_sub(capacity.mem), alloc.mem),
            ceil(demand.pods.saturating_sub(capacity.pods), alloc.pods),
        ]
        .into_iter()
        .max()
        .unwrap_or(0);
        let conflict = unplaced
            .iter()
            .map(|&(pos, _)| {
                let w = &world.workloads[wl[pos as usize]];
                if w.spread == Spread::None {
                    0
                } else {
                    u64::from(w.replicas.saturating_sub(base.unplaced[pos as usize]))
                        .saturating_sub(surviving)
                }
            })
            .max()
            .unwrap_or(0);
        let lower_bound = l1.max(conflict).max(u64::from(count > 0)).min(count);
        let unit = world.prices.get(&(*site, st.clone())).copied().unwrap_or(0.0);
        let candidate =
            BufferFit { site: *site, server_type: st.clone(), count, lower_bound, unit_eur: unit };
        let better = match &best {
            None => true,
            Some(b) => {
                let (c1, c2) = (candidate.count as f64 * unit, b.count as f64 * b.unit_eur);
                c1 < c2 - 1e-9 || ((c1 - c2).abs() <= 1e-9 && candidate.count < b.count)
            }
        };
        if better {
            best = Some(candidate);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(cpu: u64, mem: u64) -> Res {
        Res { cpu, mem, pods: 1 }
    }

    fn bin(cpu: u64, mem: u64) -> Res {
        Res { cpu, mem, pods: 110 }
    }

    #[test]
    fn ffd_is_optimal_when_it_meets_the_continuous_bound() {
        // Six items of 500m/1Gi and two of 1000m/2Gi into 2000m/4Gi bins: total 5000m → L1 = 3,
        // and FFD fills the two large ones plus halves exactly: 3 bins, gap 0 (proved optimal).
        let items = [
            Item { size: r(1000, 2048), count: 2, distinct: false },
            Item { size: r(500, 1024), count: 6, distinct: false },
        ];
        let b = bin(2000, 4096);
        assert_eq!(ffd_bins(&items, b), Some(3));
        assert_eq!(lower_bound_bins(&items, b), 3);
    }

    #[test]
    fn ffd_can_exceed_the_bound_and_the_gap_is_reported() {
        // Classic FFD worst case family in one dimension (capacity 100, memory irrelevant):
        // 2×51, 2×27, 2×26, 4×23 (total 300 → L1 = 3). An optimal packing uses 3 bins
        // {51,26,23}, {51,26,23}, {27,27,23,23}; FFD puts 51+27 and 51+27 first and then
        // needs a fourth bin. The lower bound stays 3, so the gap is 1.
        let items = [
            Item { size: r(51, 1), count: 2, distinct: false },
            Item { size: r(27, 1), count: 2, distinct: false },
            Item { size: r(26, 1), count: 2, distinct: false },
            Item { size: r(23, 1), count: 4, distinct: false },
        ];
        let b = Res { cpu: 100, mem: 1000, pods: 100 };
        let ffd = ffd_bins(&items, b).unwrap_or(0);
        let lb = lower_bound_bins(&items, b);
        assert_eq!(lb, 3);
        assert_eq!(ffd, 4);
        assert_eq!(ffd - lb, 1);
    }

    #[test]
    fn anti_affinity_needs_one_bin_per_replica() {
        // Five tiny replicas that may not share a node need five nodes, and the bound knows it.
        let items = [Item { size: r(10, 10), count: 5, distinct: true }];
        let b = bin(4000, 8192);
        assert_eq!(ffd_bins(&items, b), Some(5));
        assert_eq!(lower_bound_bins(&items, b), 5);
    }

    #[test]
    fn large_items_never_share() {
        // Three items of 60 % CPU: continuous bound 2, large-item bound 3 = FFD.
        let items = [Item { size: r(600, 10), count: 3, distinct: false }];
        let b = bin(1000, 1000);
        assert_eq!(lower_bound_bins(&items, b), 3);
        assert_eq!(ffd_bins(&items, b), Some(3));
    }

    #[test]
    fn worst_fit_closes_the_anti_affinity_tail() {
        // 25 classes of 12 replicas that may not share a node, 10 pod slots per node: 300 pods
        // need at least 30 nodes. First fit opens extra nodes for the last classes; the
        // fixed-k search meets the bound exactly.
        let items: Vec<Item> = (0..25)
            .map(|i| Item {
                size: Res { cpu: 100 + i, mem: 100, pods: 1 },
                count: 12,
                distinct: true,
            })
            .collect();
        let b = Res { cpu: 100_000, mem: 100_000, pods: 10 };
        let lb = lower_bound_bins(&items, b);
        assert_eq!(lb, 30);
        let ffd = ffd_bins(&items, b).unwrap_or(0);
        assert!(ffd >= lb);
        assert_eq!(best_bins(&items, b), Some(30));
    }

    #[test]
    fn lower_bound_never_exceeds_the_packing_on_random_instances() {
        let mut rng = crate::rng::Rng::new(42);
        for _ in 0..200 {
            let n = 1 + rng.below(8) as usize;
            let items: Vec<Item> = (0..n)
                .map(|_| Item {
                    size: Res { cpu: 50 + rng.below(900), mem: 64 + rng.below(4000), pods: 1 },
                    count: 1 + rng.below(6),
                    distinct: rng.below(2) == 0,
                })
                .collect();
            let b = Res { cpu: 1000, mem: 4096, pods: 20 };
            let ffd = ffd_bins(&items, b).unwrap_or(u64::MAX);
            let best = best_bins(&items, b).unwrap_or(u64::MAX);
            let lb = lower_bound_bins(&items, b);
            assert!(lb <= best && best <= ffd, "lb {lb} best {best} ffd {ffd}");
        }
    }

    #[test]
    fn an_item_larger_than_a_bin_is_infeasible() {
        let items = [Item { size: r(5000, 10), count: 1, distinct: false }];
        assert_eq!(ffd_bins(&items, bin(4000, 8192)), None);
    }
}
