//! Packing: the baseline placement of every replica, first-fit-decreasing re-placement of the
//! replicas a failure displaces (survivors keep their nodes), the buffer that would absorb what
//! does not fit, and lower bounds that say how far from optimal each answer can be.
//!
//! Replicas of one workload are an equivalence class (same requests, same spread): classes
//! are sorted once by the cluster-autoscaler key (cpu/avg-node-cpu + mem/avg-node-mem,
//! descending) and each class scans the nodes with its own cursor, so a scenario costs
//! O(classes × nodes + replicas) rather than O(replicas × nodes).

use crate::model::{CopyAt, Placement, Res, WorkloadKind, World};
use hafen_spec::StorageDriver;

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
    /// Per site (global index): the local app nodes there, in order.
    pub by_site: Vec<Vec<u32>>,
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

/// The sites a replica may go to under its placement rule, given the replicas per site and
/// the sites that are spreading domains (live app nodes): `None` means any site. For
/// `SiteSkew` only the emptiest domains qualify (placing there keeps the skew at most 1);
/// for `DistinctSites` only domains without a replica.
fn allowed_sites(
    placement: Placement,
    per_site: &[u32],
    domains: &[usize],
    out: &mut Vec<usize>,
) -> bool {
    out.clear();
    match placement {
        Placement::SiteSkew => {
            let min = domains.iter().map(|&s| per_site[s]).min().unwrap_or(0);
            out.extend(domains.iter().copied().filter(|&s| per_site[s] == min));
            true
        }
        Placement::DistinctSites => {
            out.extend(domains.iter().copied().filter(|&s| per_site[s] == 0));
            true
        }
        Placement::Free | Placement::DistinctNodes => false,
    }
}

/// Places every replica of a cluster like the default scheduler: largest classes first, each
/// replica on the least-allocated node that fits and respects its placement rule. Apps
/// without a site rule prefer the cluster's primary site (nothing forces a second site).
pub fn baseline(world: &World, ci: usize) -> Baseline {
    let cluster = &world.clusters[ci];
    let nodes = &world.nodes[cluster.nodes.clone()];
    let n = nodes.len();
    let mut free: Vec<Res> = nodes.iter().map(|x| x.alloc).collect();
    let app_nodes: Vec<u32> = (0..n as u32).filter(|&i| nodes[i as usize].runs_apps()).collect();
    let nsites = world.sites.len();
    let mut by_site: Vec<Vec<u32>> = vec![Vec::new(); nsites];
    for &i in &app_nodes {
        if let Some(v) = by_site.get_mut(nodes[i as usize].site) {
            v.push(i);
        }
    }
    let domains: Vec<usize> = (0..nsites).filter(|&s| !by_site[s].is_empty()).collect();
    let mut preference: Vec<usize> =
        domains.iter().copied().filter(|&s| s == cluster.site).collect();
    preference.extend(domains.iter().copied().filter(|&s| s != cluster.site));
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
            Item { size: w.req, count: u64::from(w.replicas), distinct: w.placement.distinct() }
        })
        .collect();
    let ffd_order: Vec<u32> = order(&items, &scale).into_iter().map(|i| i as u32).collect();
    let mut placed = vec![Vec::new(); wl.len()];
    let mut unplaced = vec![0u32; wl.len()];
    let mut load: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    let mut holds = vec![u32::MAX; n];
    let mut sites: Vec<usize> = Vec::new();
    for &pos in &ffd_order {
        let w = &world.workloads[wl[pos as usize]];
        let distinct = w.placement.distinct();
        let mut per_site = vec![0u32; nsites];
        for _ in 0..w.replicas {
            let restricted = allowed_sites(w.placement, &per_site, &domains, &mut sites);
            let candidates: &[usize] = if restricted { &sites } else { &preference };
            let mut best: Option<(u32, f64)> = None;
            for &site in candidates {
                for &i in &by_site[site] {
                    let iu = i as usize;
                    if (distinct && holds[iu] == pos) || !free[iu].fits(&w.req) {
                        continue;
                    }
                    let s = score(&free[iu], &nodes[iu].alloc);
                    if best.is_none_or(|(_, b)| s > b) {
                        best = Some((i, s));
                    }
                }
                // Site rules choose among all allowed sites at once (the scheduler scores
                // every feasible node); otherwise the first site with room wins.
                if best.is_some() && !restricted {
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
                    // Nodes only fill up and a failed attempt changes nothing: if this replica
                    // fits nowhere, neither does any further identical one. This also bounds
                    // the work for absurd replica counts.
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
    Baseline { placed, unplaced, free, load, copies, app_nodes, by_site, scale, ffd_order }
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
    /// Of those not restarted, the ones whose data did not survive anywhere they could use.
    pub no_data: u32,
}

/// Where a displaced replica may restart, given where its data survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    /// No data, data on replicated storage with a live copy (attached over the network), or a
    /// database instance re-cloned from a live instance.
    Anywhere,
    /// A network volume that lives at this site (Hetzner Cloud volumes are location-bound).
    Site(usize),
    /// Its data is gone (a node-local volume on a failed node, or every copy failed).
    NoData,
}

/// What an unplaced replica would need to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A node with room anywhere in the cluster.
    Anywhere,
    /// A node with room at this site (its volume is there, or the site spread sends it there).
    Site(usize),
    /// Its data: no node helps.
    NoData,
    /// A site without an instance of it (one instance per site): a new site.
    NewSite,
    /// A working control plane: nothing is rescheduled while etcd has no quorum.
    ControlPlane,
}

/// Replacement servers still deliverable in this scenario: per site, per offer, count left.
pub type ReplacementLeft = Vec<Vec<u32>>;

/// The result of re-placing one cluster's displaced replicas.
#[derive(Debug, Clone, Default)]
pub struct Replacement {
    /// Per workload position.
    pub outcomes: Vec<WorkloadOutcome>,
    /// Unplaced replicas: (workload position, count, what they need), in FFD order.
    pub unplaced: Vec<(u32, u32, Need)>,
    /// Replacement servers used: (site, offer index, count).
    pub servers_used: Vec<(usize, usize, u32)>,
    /// Lower bound on unplaced replicas.
    pub unplaced_lower_bound: u64,
}

impl Replacement {
    /// Σ unplaced replicas.
    pub fn unplaced_total(&self) -> u64 {
        self.unplaced.iter().map(|u| u64::from(u.1)).sum()
    }
}

/// Whether a copy of data survives the failure.
pub fn copy_alive(
    world: &World,
    c: &CopyAt,
    failed: &dyn Fn(usize) -> bool,
    site_failed: &dyn Fn(usize) -> bool,
) -> bool {
    match *c {
        CopyAt::Node(g) => !failed(g) && !world.nodes.get(g).is_some_and(|n| site_failed(n.site)),
        CopyAt::Site(s) => !site_failed(s),
    }
}

/// True when replica `r` of workload `pos` (on local node `i`) does not run after the
/// failure: its node failed, or every copy of its data did.
#[allow(clippy::too_many_arguments)]
fn replica_lost(
    world: &World,
    base: &Baseline,
    pos: usize,
    r: usize,
    i: u32,
    dead: &[bool],
    failed: &dyn Fn(usize) -> bool,
    site_failed: &dyn Fn(usize) -> bool,
) -> bool {
    if dead[i as usize] {
        return true;
    }
    let set = base.copies.get(pos).and_then(|c| c.get(r)).map(Vec::as_slice).unwrap_or(&[]);
    !set.is_empty() && !set.iter().any(|c| copy_alive(world, c, failed, site_failed))
}

/// Where the displaced replicas of one workload (position `pos`) may restart, one entry per
/// displaced replica, the most constrained first. `clone_source` says whether a database has
/// a live instance to clone a lost instance from.
fn homes(
    world: &World,
    base: &Baseline,
    pos: usize,
    dead: &[bool],
    failed: &dyn Fn(usize) -> bool,
    site_failed: &dyn Fn(usize) -> bool,
    clone_source: bool,
) -> Vec<Home> {
    let copies = &base.copies[pos];
    let mut out: Vec<Home> = base.placed[pos]
        .iter()
        .enumerate()
        .filter(|&(r, &i)| replica_lost(world, base, pos, r, i, dead, failed, site_failed))
        .map(|(r, _)| {
            let set = copies.get(r).map(Vec::as_slice).unwrap_or(&[]);
            let live = set.iter().find(|c| copy_alive(world, c, failed, site_failed));
            match live {
                Some(CopyAt::Site(s)) => Home::Site(*s),
                Some(CopyAt::Node(_)) => Home::Anywhere,
                None if clone_source => Home::Anywhere,
                None => Home::NoData,
            }
        })
        .collect();
    let rank = |h: &Home| match h {
        Home::Site(s) => (0, *s),
        Home::Anywhere => (1, 0),
        Home::NoData => (2, 0),
    };
    out.sort_by_key(rank);
    out
}

/// Scans `nodes` from `cursor` for the first live node that may take one more replica; the
/// cursor only moves past nodes that can never take one (dead, full for this size, or already
/// holding a replica of an anti-affine class), so a class costs one pass over the nodes.
#[allow(clippy::too_many_arguments)]
fn scan(
    candidates: &[u32],
    cursor: &mut usize,
    dead: &[bool],
    holds: &[u32],
    free: &[Res],
    pos: u32,
    distinct: bool,
    req: &Res,
) -> Option<usize> {
    while *cursor < candidates.len() {
        let i = candidates[*cursor] as usize;
        if !dead[i] && (!distinct || holds[i] != pos) && free[i].fits(req) {
            if distinct {
                *cursor += 1;
            }
            return Some(i);
        }
        *cursor += 1;
    }
    None
}

/// Re-places the displaced replicas of one cluster: survivors stay, displaced replicas go
/// first-fit-decreasing onto surviving app nodes their data and placement rule allow, then
/// onto replacement servers the provider can still deliver at surviving sites of the cluster.
#[allow(clippy::too_many_arguments)]
pub fn replace(
    world: &World,
    ci: usize,
    base: &Baseline,
    failed: &dyn Fn(usize) -> bool,
    site_failed: &dyn Fn(usize) -> bool,
    left: &mut ReplacementLeft,
    control_plane_up: bool,
    clone_source: &dyn Fn(usize) -> bool,
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
    if !any {
        return Replacement { outcomes, ..Replacement::default() };
    }
    // A replica on a surviving node whose every copy of data failed (replicated storage on
    // other nodes) is as good as lost: it is displaced too, and restarts where data lives.
    let mut broken = vec![false; wl.len()];
    for (p, copies) in base.copies.iter().enumerate() {
        for (r, &i) in base.placed[p].iter().enumerate() {
            let set = copies.get(r).map(Vec::as_slice).unwrap_or(&[]);
            if !dead[i as usize]
                && !set.is_empty()
                && !set.iter().any(|c| copy_alive(world, c, failed, site_failed))
            {
                outcomes[p].displaced += 1;
                broken[p] = true;
            }
        }
    }
    let mut result = Replacement { outcomes, ..Replacement::default() };
    let cluster_sites: Vec<usize> = {
        let mut s: Vec<usize> = nodes.iter().map(|n| n.site).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    // Where each displaced replica with data may go.
    let mut all_homes: Vec<Option<Vec<Home>>> = vec![None; wl.len()];
    for (p, o) in result.outcomes.iter().enumerate() {
        if o.displaced > 0 && !base.copies[p].is_empty() {
            all_homes[p] = Some(homes(world, base, p, &dead, failed, site_failed, clone_source(p)));
        }
    }
    if !control_plane_up {
        // Without etcd quorum nothing can be rescheduled: that is a fact, so the bound is exact.
        result.unplaced_lower_bound = result.outcomes.iter().map(|o| u64::from(o.displaced)).sum();
        for &pos in &base.ffd_order {
            let d = result.outcomes[pos as usize].displaced;
            // Replicas whose data is gone stay gone once etcd is back, too.
            result.outcomes[pos as usize].no_data = all_homes[pos as usize]
                .as_ref()
                .map(|h| h.iter().filter(|x| **x == Home::NoData).count() as u32)
                .unwrap_or(0);
            if d > 0 {
                result.unplaced.push((pos, d, Need::ControlPlane));
            }
        }
        return result;
    }
    // Spreading domains: sites with a live app node (failed nodes are tainted and do not count).
    let nsites = world.sites.len();
    let domains: Vec<usize> =
        (0..nsites).filter(|&s| base.by_site[s].iter().any(|&i| !dead[i as usize])).collect();
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
        &all_homes,
    );
    let mut free = base.free.clone();
    let mut holds = vec![u32::MAX; nodes.len()];
    // Replacement servers opened in this scenario: (site, offer, free, holds).
    let mut extra: Vec<(usize, usize, Res, u32)> = Vec::new();
    let mut allowed: Vec<usize> = Vec::new();
    let mut one: Vec<usize> = Vec::new();
    for &pos in &base.ffd_order {
        let p = pos as usize;
        let displaced = result.outcomes[p].displaced;
        if displaced == 0 {
            continue;
        }
        let w = &world.workloads[wl[p]];
        let distinct = w.placement.distinct();
        let mut per_site = vec![0u32; nsites];
        for (r, &i) in base.placed[p].iter().enumerate() {
            let lost = dead[i as usize]
                || (broken[p] && replica_lost(world, base, p, r, i, &dead, failed, site_failed));
            if !lost {
                holds[i as usize] = pos;
                per_site[nodes[i as usize].site] += 1;
            }
        }
        let list = all_homes[p].take().unwrap_or_else(|| vec![Home::Anywhere; displaced as usize]);
        let mut cursor = 0usize;
        let mut site_cursor = vec![0usize; nsites];
        // Replicas that wait for a site of the spread (water-filled over the emptiest sites).
        let mut waiting = vec![0u32; nsites];
        for home in list {
            let mut need = Need::Anywhere;
            let mut found: Option<usize> = None;
            let restricted = match home {
                Home::NoData => {
                    result.outcomes[p].no_data += 1;
                    push_unplaced(&mut result.unplaced, pos, Need::NoData);
                    continue;
                }
                Home::Site(s) => {
                    let rule = allowed_sites(w.placement, &per_site, &domains, &mut allowed);
                    one.clear();
                    if !rule || allowed.contains(&s) {
                        one.push(s);
                    }
                    need = Need::Site(s);
                    std::mem::swap(&mut allowed, &mut one);
                    true
                }
                Home::Anywhere => allowed_sites(w.placement, &per_site, &domains, &mut allowed),
            };
            if restricted {
                allowed.sort_by_key(|&s| (per_site[s], s));
                for &s in &allowed {
                    if let Some(i) = scan(
                        &base.by_site[s],
                        &mut site_cursor[s],
                        &dead,
                        &holds,
                        &free,
                        pos,
                        distinct,
                        &w.req,
                    ) {
                        found = Some(i);
                        break;
                    }
                }
            } else {
                found =
                    scan(&base.app_nodes, &mut cursor, &dead, &holds, &free, pos, distinct, &w.req);
            }
            if let Some(i) = found {
                free[i].sub(&w.req);
                holds[i] = pos;
                per_site[nodes[i].site] += 1;
                result.outcomes[p].replaced += 1;
                continue;
            }
            let site_ok = |s: usize| !restricted || allowed.contains(&s);
            // Replacement servers already opened, then new ones.
            let mut placed_at: Option<usize> = None;
            for e in extra.iter_mut() {
                if site_ok(e.0) && (!distinct || e.3 != pos) && e.2.fits(&w.req) {
                    e.2.sub(&w.req);
                    e.3 = pos;
                    placed_at = Some(e.0);
                    break;
                }
            }
            if placed_at.is_none() {
                'open: for &s in &cluster_sites {
                    if site_failed(s) || !site_ok(s) {
                        continue;
                    }
                    let (Some(offers), Some(counts)) = (world.replacement.get(s), left.get_mut(s))
                    else {
                        continue;
                    };
                    for (o, offer) in offers.iter().enumerate() {
                        if counts.get(o).copied().unwrap_or(0) > 0
                            && offer.usable_by(ci)
                            && offer.alloc.fits(&w.req)
                        {
                            counts[o] -= 1;
                            let mut f = offer.alloc;
                            f.sub(&w.req);
                            extra.push((s, o, f, pos));
                            match result.servers_used.iter_mut().find(|u| u.0 == s && u.1 == o) {
                                Some(u) => u.2 += 1,
                                None => result.servers_used.push((s, o, 1)),
                            }
                            placed_at = Some(s);
                            break 'open;
                        }
                    }
                }
            }
            if let Some(s) = placed_at {
                per_site[s] += 1;
                result.outcomes[p].replaced += 1;
                result.outcomes[p].on_replacement += 1;
                continue;
            }
            // Unplaced: say what would let it run.
            if home == Home::Anywhere {
                need = match w.placement {
                    Placement::SiteSkew => domains
                        .iter()
                        .copied()
                        .min_by_key(|&s| (per_site[s] + waiting[s], s))
                        .map(|s| {
                            waiting[s] += 1;
                            Need::Site(s)
                        })
                        .unwrap_or(Need::NewSite),
                    Placement::DistinctSites => domains
                        .iter()
                        .copied()
                        .find(|&s| per_site[s] + waiting[s] == 0)
                        .map(|s| {
                            waiting[s] += 1;
                            Need::Site(s)
                        })
                        .unwrap_or(Need::NewSite),
                    Placement::Free | Placement::DistinctNodes => Need::Anywhere,
                };
            }
            push_unplaced(&mut result.unplaced, pos, need);
        }
    }
    result
}

fn push_unplaced(list: &mut Vec<(u32, u32, Need)>, pos: u32, need: Need) {
    match list.last_mut() {
        Some((q, c, n)) if *q == pos && *n == need => *c += 1,
        _ => list.push((pos, 1, need)),
    }
}

/// A lower bound on the number of displaced replicas that no placement can restart, given the
/// survivors' free capacity, the replacement servers left and where each replica's data lives.
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
    homes: &[Option<Vec<Home>>],
) -> u64 {
    let cluster = &world.clusters[ci];
    let nodes = &world.nodes[cluster.nodes.clone()];
    let wl = &cluster.workloads;
    let mut capacity = Res::default();
    for &i in &base.app_nodes {
        if !dead[i as usize] {
            capacity.add(&base.free[i as usize]);
        }
    }
    // (site, allocatable, count) of replacement servers still deliverable.
    let mut spare: Vec<(usize, Res, u32)> = Vec::new();
    for &s in cluster_sites {
        if site_failed(s) {
            continue;
        }
        if let (Some(offers), Some(counts)) = (world.replacement.get(s), left.get(s)) {
            for (o, offer) in offers.iter().enumerate() {
                let c = counts.get(o).copied().unwrap_or(0);
                if c > 0 && offer.usable_by(ci) {
                    capacity.add(&offer.alloc.times(u64::from(c)));
                    spare.push((s, offer.alloc, c));
                }
            }
        }
    }
    // Aggregate: drop the largest replicas until the rest fits the total free capacity.
    let mut demand = Res::default();
    let mut sizes: Vec<Res> = Vec::new();
    let mut forced = 0u64;
    let mut per_class = 0u64;
    let mut site_need: Vec<(usize, u64)> = Vec::new();
    for (pos, o) in outcomes.iter().enumerate() {
        if o.displaced == 0 {
            continue;
        }
        let w = &world.workloads[wl[pos]];
        // Replicas whose data is gone can never restart; replicas bound to a site only there.
        site_need.clear();
        let mut no_data = 0u64;
        if let Some(h) = &homes[pos] {
            for x in h {
                match x {
                    Home::NoData => no_data += 1,
                    Home::Site(s) => match site_need.iter_mut().find(|e| e.0 == *s) {
                        Some(e) => e.1 += 1,
                        None => site_need.push((*s, 1)),
                    },
                    Home::Anywhere => {}
                }
            }
        }
        forced += no_data;
        let movable = u64::from(o.displaced).saturating_sub(no_data);
        demand.add(&w.req.times(movable));
        for _ in 0..movable.min(4096) {
            sizes.push(w.req);
        }
        // Per class: hosts that could ever take one replica (surviving nodes with room, minus
        // those already holding one under anti-affinity), per site and in total.
        let fits = |i: u32| !dead[i as usize] && base.free[i as usize].fits(&w.req);
        let unlimited = u64::MAX / 4;
        let hosts_at = |site: Option<usize>| -> u64 {
            if w.placement == Placement::DistinctSites {
                // One instance per site: hosts are the surviving sites without one that have
                // room on a live node or a replacement server.
                let held = |s: usize| {
                    base.placed[pos]
                        .iter()
                        .any(|&i| !dead[i as usize] && nodes[i as usize].site == s)
                };
                return cluster_sites
                    .iter()
                    .filter(|&&s| site.is_none_or(|x| x == s) && !site_failed(s) && !held(s))
                    .filter(|&&s| {
                        base.by_site[s].iter().any(|&i| fits(i))
                            || spare.iter().any(|(x, a, _)| *x == s && a.fits(&w.req))
                    })
                    .count() as u64;
            }
            let on = |i: &u32| site.is_none_or(|s| nodes[*i as usize].site == s);
            let mut hosts = if !w.placement.distinct() {
                if base.app_nodes.iter().filter(|i| on(i)).any(|&i| fits(i)) {
                    unlimited
                } else {
                    0
                }
            } else {
                let open = base.app_nodes.iter().filter(|i| on(i) && fits(**i)).count() as u64;
                let held = base.placed[pos].iter().filter(|i| on(i) && fits(**i)).count() as u64;
                open.saturating_sub(held)
            };
            for (s, alloc, c) in &spare {
                if site.is_none_or(|x| x == *s) && alloc.fits(&w.req) {
                    hosts = hosts.saturating_add(if w.placement.distinct() {
                        u64::from(*c)
                    } else {
                        unlimited
                    });
                }
            }
            hosts
        };
        let mut bound_deficit = 0u64;
        for &(s, n) in &site_need {
            bound_deficit = bound_deficit.saturating_add(n.saturating_sub(hosts_at(Some(s))));
        }
        let total_deficit = movable.saturating_sub(hosts_at(None));
        per_class = per_class.saturating_add(no_data + bound_deficit.max(total_deficit));
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
    (forced + aggregate).max(per_class)
}

/// Advice: extra nodes of one type at one site that make a scenario fit. A buffer of two types
/// (a mix, when it is cheaper than any one type) is two of these at one site.
#[derive(Debug, Clone)]
pub struct BufferFit {
    /// Site.
    pub site: usize,
    /// Server type.
    pub server_type: String,
    /// Nodes the packing needs.
    pub count: u64,
    /// Lower bound on nodes of this type (in a mix: given the other type's count).
    pub lower_bound: u64,
    /// Monthly price of one.
    pub unit_eur: f64,
    /// False when the catalogue says the provider refuses orders for this type now.
    pub orderable: bool,
}

fn cost_of(fits: &[BufferFit]) -> f64 {
    fits.iter().map(|b| b.count as f64 * b.unit_eur).sum()
}

/// What any buffer must add on top of the survivors and the replacement servers the scenario
/// used: the resources the whole cluster's demand exceeds that capacity by, and the nodes the
/// largest anti-affinity class still lacks. Zero when the unplaced replicas are bound to sites
/// (the bound is for the cluster as a whole).
#[derive(Debug, Clone, Copy, Default)]
struct Shortfall {
    excess: Res,
    conflict: u64,
}

impl Shortfall {
    /// Fewest nodes of one allocatable that cover the need.
    fn nodes_of(&self, a: &Res) -> u64 {
        let ceil =
            |x: u64, y: u64| if y == 0 { if x > 0 { u64::MAX } else { 0 } } else { x.div_ceil(y) };
        [
            ceil(self.excess.cpu, a.cpu),
            ceil(self.excess.mem, a.mem),
            ceil(self.excess.pods, a.pods),
            self.conflict,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// Fewest nodes of `a` that cover the need next to `n` nodes of `b`.
    fn nodes_next_to(&self, a: &Res, b: &Res, n: u64) -> u64 {
        let rest = Shortfall {
            excess: self.excess.minus(&b.times(n)),
            conflict: self.conflict.saturating_sub(n),
        };
        rest.nodes_of(a)
    }
}

/// The cheapest buffer that absorbs the unplaced replicas: replicas that may run anywhere get
/// nodes at one surviving site of the cluster, replicas bound to a site (their volume is
/// there, or the site spread sends them there) get nodes at that site. Each group gets one
/// server type, or a mix of two at one site when that is cheaper. The unplaced replicas are
/// what is left after the survivors and the replacement servers (`used`) took their share,
/// and the cluster-wide bound counts those servers as capacity. Replicas whose data is gone,
/// or that need a site of their own, are not bufferable; the second value says why.
pub fn buffer(
    world: &World,
    ci: usize,
    base: &Baseline,
    dead: &dyn Fn(usize) -> bool,
    site_failed: &dyn Fn(usize) -> bool,
    unplaced: &[(u32, u32, Need)],
    used: &[(usize, usize, u32)],
) -> (Vec<BufferFit>, Vec<String>) {
    let cluster = &world.clusters[ci];
    let start = cluster.nodes.start;
    let wl = &cluster.workloads;
    let mut groups: Vec<(Option<usize>, Vec<Item>)> = Vec::new();
    let mut why: Vec<String> = Vec::new();
    for &(pos, c, need) in unplaced {
        let w = &world.workloads[wl[pos as usize]];
        let item = Item { size: w.req, count: u64::from(c), distinct: w.placement.distinct() };
        let at = match need {
            Need::Anywhere => None,
            Need::Site(s) => Some(s),
            Need::NoData => {
                why.push(format!(
                    "`{}`: {c} replica(s) lost their data with the failed domain; no node brings it back (restore from a backup, or keep a live copy outside the domain)",
                    w.label()
                ));
                continue;
            }
            Need::NewSite => {
                why.push(format!(
                    "`{}`: one instance per site and every surviving site holds one; it needs app nodes at another site",
                    w.label()
                ));
                continue;
            }
            Need::ControlPlane => continue,
        };
        match groups.iter_mut().find(|g| g.0 == at) {
            Some(g) => g.1.push(item),
            None => groups.push((at, vec![item])),
        }
    }
    // Free group first, then site groups in site order.
    groups.sort_by_key(|g| g.0.map(|s| s + 1).unwrap_or(0));
    // Totals for the continuous bound: everything that must run vs what survives, replacement
    // servers the scenario opened included.
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
    for &(s, o, n) in used {
        if let Some(spare) = world.replacement.get(s).and_then(|x| x.get(o)) {
            capacity.add(&spare.alloc.times(u64::from(n)));
            surviving += u64::from(n);
        }
    }
    let conflict = unplaced
        .iter()
        .filter(|u| u.2 == Need::Anywhere)
        .map(|&(pos, _, _)| {
            let w = &world.workloads[wl[pos as usize]];
            if !w.placement.distinct() {
                0
            } else {
                u64::from(w.replicas.saturating_sub(base.unplaced[pos as usize]))
                    .saturating_sub(surviving)
            }
        })
        .max()
        .unwrap_or(0);
    let none = Shortfall::default();
    // Replicas that may run anywhere can share the new nodes of a site group: when that is
    // cheaper than buying for both apart, they join it.
    if groups.len() >= 2 && groups[0].0.is_none() {
        let free_cost =
            cheapest(world, ci, &groups[0].1, None, site_failed, &none).map(|b| cost_of(&b));
        let mut merged = None;
        for (g, (at, items)) in groups.iter().enumerate().skip(1) {
            let apart = cheapest(world, ci, items, *at, site_failed, &none).map(|b| cost_of(&b));
            let mut all = items.clone();
            all.extend(groups[0].1.iter().copied());
            let together = cheapest(world, ci, &all, *at, site_failed, &none).map(|b| cost_of(&b));
            if let (Some(f), Some(a), Some(t)) = (free_cost, apart, together)
                && t <= f + a + 1e-9
            {
                merged = Some((g, all));
                break;
            }
        }
        if let Some((g, all)) = merged {
            groups[g].1 = all;
            groups.remove(0);
        }
    }
    let only_free = groups.len() == 1 && groups[0].0.is_none();
    let need =
        if only_free { Shortfall { excess: demand.minus(&capacity), conflict } } else { none };
    let mut out = Vec::new();
    for (at, items) in &groups {
        match cheapest(world, ci, items, *at, site_failed, &need) {
            Some(b) => out.extend(b),
            None => why.push(match at {
                Some(s) => format!(
                    "replicas bound to site `{}` fit no server type offered there",
                    world.sites[*s]
                ),
                None => "no surviving site of this cluster has a worker type the unplaced replicas fit: the cluster needs nodes at a second site (or a second cluster)".to_owned(),
            }),
        }
    }
    (out, why)
}

/// Candidate types a mix is drawn from: the cheapest few by their single-type bound.
const MIX_TYPES: usize = 4;
/// Nodes of the second type in a mix: a mix replaces the tail of a single-type buffer.
const MIX_SECOND: u64 = 3;

/// The cheapest buffer (orderable first) at `site` (any surviving site when `None`) that packs
/// `items` into new empty nodes: the best single type by branch and bound over the
/// candidates' lower bounds, then, when it takes two or more nodes, the cheapest mix of two
/// types at one site among the [`MIX_TYPES`] most promising ones, with one to [`MIX_SECOND`]
/// nodes of the second type and the fewest of the first that pack. A mix wins only when it
/// is strictly cheaper.
fn cheapest(
    world: &World,
    ci: usize,
    items: &[Item],
    site: Option<usize>,
    site_failed: &dyn Fn(usize) -> bool,
    need: &Shortfall,
) -> Option<Vec<BufferFit>> {
    let cluster = &world.clusters[ci];
    let mut candidates: Vec<(usize, u64)> = Vec::new();
    for (i, bt) in cluster.buffer_types.iter().enumerate() {
        if site_failed(bt.site) || site.is_some_and(|s| s != bt.site) {
            continue;
        }
        let a = bt.alloc;
        if !items.iter().all(|it| a.fits(&it.size)) {
            continue;
        }
        let lb = need.nodes_of(&a).max(lower_bound_bins(items, a)).max(1);
        candidates.push((i, lb));
    }
    let types = &cluster.buffer_types;
    candidates.sort_by(|&(i, lb_i), &(j, lb_j)| {
        let (a, b) = (&types[i], &types[j]);
        (!a.orderable)
            .cmp(&!b.orderable)
            .then((lb_i as f64 * a.price).total_cmp(&(lb_j as f64 * b.price)))
            .then(lb_i.cmp(&lb_j))
            .then((!a.own).cmp(&!b.own))
            .then(i.cmp(&j))
    });
    let mut best: Option<(BufferFit, bool)> = None;
    for &(i, lb) in &candidates {
        let bt = &types[i];
        if let Some((b, _)) = &best {
            if b.orderable && !bt.orderable {
                break;
            }
            if lb as f64 * bt.price > b.count as f64 * b.unit_eur + 1e-9 {
                break;
            }
        }
        let Some(count) = best_bins(items, bt.alloc) else { continue };
        let count = count.max(need.nodes_of(&bt.alloc));
        let candidate = BufferFit {
            site: bt.site,
            server_type: bt.server_type.clone(),
            count,
            lower_bound: lb.min(count),
            unit_eur: bt.price,
            orderable: bt.orderable,
        };
        // Orderable first, then cheapest per month, then fewest nodes, then the pools' own types.
        let better = match &best {
            None => true,
            Some((b, own)) => {
                let (c1, c2) =
                    (candidate.count as f64 * candidate.unit_eur, b.count as f64 * b.unit_eur);
                (candidate.orderable && !b.orderable)
                    || (candidate.orderable == b.orderable
                        && (c1 < c2 - 1e-9
                            || ((c1 - c2).abs() <= 1e-9
                                && (candidate.count, !bt.own) < (b.count, !*own))))
            }
        };
        if better {
            best = Some((candidate, bt.own));
        }
    }
    let (single, _) = best?;
    if single.count < 2 {
        return Some(vec![single]);
    }
    // A mix of two types at one site: the first type's nodes, plus one to MIX_SECOND of the
    // second type (which need not fit every item alone).
    let mut pool: Vec<usize> = Vec::new();
    for (i, bt) in types.iter().enumerate() {
        if site_failed(bt.site)
            || site.is_some_and(|s| s != bt.site)
            || bt.orderable != single.orderable
            || !items.iter().any(|it| bt.alloc.fits(&it.size))
        {
            continue;
        }
        pool.push(i);
    }
    let single_lb = |i: usize| {
        need.nodes_of(&types[i].alloc).max(lower_bound_bins(items, types[i].alloc)).max(1)
    };
    pool.sort_by(|&i, &j| {
        (single_lb(i) as f64 * types[i].price)
            .total_cmp(&(single_lb(j) as f64 * types[j].price))
            .then(i.cmp(&j))
    });
    pool.truncate(MIX_TYPES);
    let mut best_cost = cost_of(std::slice::from_ref(&single));
    let mut mix: Option<Vec<BufferFit>> = None;
    let demand = items.iter().fold(Res::default(), |mut t, it| {
        t.add(&it.size.times(it.count));
        t
    });
    let largest_class = items.iter().filter(|it| it.distinct).map(|it| it.count).max().unwrap_or(0);
    for &a in &pool {
        for &b in &pool {
            let (ta, tb) = (&types[a], &types[b]);
            if a == b
                || ta.site != tb.site
                || !items.iter().all(|it| ta.alloc.fits(&it.size) || tb.alloc.fits(&it.size))
            {
                continue;
            }
            for nb in 1..=MIX_SECOND.min(single.count - 1) {
                // The items' own bound and the cluster's, next to `nb` of the second type.
                let items_need = Shortfall {
                    excess: demand.minus(&tb.alloc.times(nb)),
                    conflict: largest_class.saturating_sub(nb),
                };
                let first = need
                    .nodes_next_to(&ta.alloc, &tb.alloc, nb)
                    .max(items_need.nodes_of(&ta.alloc))
                    .max(1);
                for na in first..first.saturating_add(4) {
                    let cost = na as f64 * ta.price + nb as f64 * tb.price;
                    if cost >= best_cost - 1e-9 {
                        break;
                    }
                    let mut bins = vec![ta.alloc; na as usize];
                    bins.extend(std::iter::repeat_n(tb.alloc, nb as usize));
                    if fits_bins(items, &bins) {
                        let lb_a = need
                            .nodes_next_to(&ta.alloc, &tb.alloc, nb)
                            .max(items_need.nodes_of(&ta.alloc))
                            .max(1)
                            .min(na);
                        let lb_b = need
                            .nodes_next_to(&tb.alloc, &ta.alloc, na)
                            .max(
                                Shortfall {
                                    excess: demand.minus(&ta.alloc.times(na)),
                                    conflict: largest_class.saturating_sub(na),
                                }
                                .nodes_of(&tb.alloc),
                            )
                            .min(nb);
                        best_cost = cost;
                        mix = Some(vec![
                            BufferFit {
                                site: ta.site,
                                server_type: ta.server_type.clone(),
                                count: na,
                                lower_bound: lb_a,
                                unit_eur: ta.price,
                                orderable: ta.orderable,
                            },
                            BufferFit {
                                site: tb.site,
                                server_type: tb.server_type.clone(),
                                count: nb,
                                lower_bound: lb_b,
                                unit_eur: tb.price,
                                orderable: tb.orderable,
                            },
                        ]);
                        break;
                    }
                }
            }
        }
    }
    Some(mix.unwrap_or_else(|| vec![single]))
}

/// Packs `items` into the given empty bins (of any sizes), trying worst fit by each bin's own
/// relative slack and then first fit over the bins largest first: true when one of them
/// places everything (a verified packing; false means neither heuristic found one).
fn fits_bins(items: &[Item], bins: &[Res]) -> bool {
    if bins.is_empty() {
        return items.iter().all(|i| i.count == 0);
    }
    let mut scale = Res::default();
    for b in bins {
        scale.add(b);
    }
    let n = bins.len() as u64;
    let scale = Res { cpu: scale.cpu / n, mem: scale.mem / n, pods: scale.pods / n };
    let ord = order(items, &scale);
    let worst_fit = || {
        let mut free = bins.to_vec();
        let mut holds = vec![usize::MAX; bins.len()];
        for &i in &ord {
            let item = items[i];
            for _ in 0..item.count {
                let mut best: Option<(usize, f64)> = None;
                for (b, f) in free.iter().enumerate() {
                    if (item.distinct && holds[b] == i) || !f.fits(&item.size) {
                        continue;
                    }
                    let left = f.minus(&item.size);
                    let cap = &bins[b];
                    let r = |x: u64, y: u64| if y == 0 { 1.0 } else { x as f64 / y as f64 };
                    let s =
                        r(left.cpu, cap.cpu).min(r(left.mem, cap.mem)).min(r(left.pods, cap.pods));
                    if best.is_none_or(|(_, x)| s > x) {
                        best = Some((b, s));
                    }
                }
                let Some((b, _)) = best else { return false };
                free[b].sub(&item.size);
                holds[b] = i;
            }
        }
        true
    };
    let first_fit = || {
        let mut idx: Vec<usize> = (0..bins.len()).collect();
        idx.sort_by(|&a, &b| {
            key(&bins[b], &scale).total_cmp(&key(&bins[a], &scale)).then(a.cmp(&b))
        });
        let mut free: Vec<Res> = idx.iter().map(|&b| bins[b]).collect();
        let mut holds = vec![usize::MAX; bins.len()];
        for &i in &ord {
            let item = items[i];
            for _ in 0..item.count {
                let Some(b) = (0..free.len())
                    .find(|&b| (!item.distinct || holds[b] != i) && free[b].fits(&item.size))
                else {
                    return false;
                };
                free[b].sub(&item.size);
                holds[b] = i;
            }
        }
        true
    };
    worst_fit() || first_fit()
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
