//! Topology and quorum rules: etcd and PostgreSQL placement, stretched clusters, single
//! sites, the management plane's reach, and replicas that cannot spread.

use crate::Ctx;
use crate::facts;
use hafen_diag::Diagnostic;
use hafen_spec::{EndpointPurpose, Environment, StorageDriver};

rule!(
    TOP001,
    Error,
    "control plane with an even number of nodes, or fewer than 3 in production",
    top001
);

fn top001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let replicas = cluster.control_plane.replicas;
        let production = cluster.environment(spec) == Environment::Production;
        let path = format!("spec.clusters[{i}].controlPlane.replicas");
        if replicas % 2 == 0 && replicas > 0 {
            let tolerated = (replicas - 1) / 2;
            out.push(
                ctx.finding(
                    "TOP001",
                    &path,
                    format!("cluster `{}` has {replicas} control-plane nodes, an even etcd membership", cluster.name),
                )
                .with_span_label(format!("tolerates {tolerated} failure(s), like {}", replicas - 1))
                .with_help(format!(
                    "use {} control-plane nodes: the extra member adds failure exposure without adding tolerance",
                    replicas + 1
                )),
            );
        } else if production && replicas < 3 {
            out.push(
                ctx.finding(
                    "TOP001",
                    &path,
                    format!("production cluster `{}` has {replicas} control-plane node(s); one failure stops the API", cluster.name),
                )
                .with_span_label("no etcd quorum after one failure")
                .with_help("use 3 control-plane nodes, or mark the cluster `environment: development`"),
            );
        }
    }
}

/// etcd members per site of a cluster's control plane, in placement order.
fn members_per_site<'a>(ctx: &Ctx<'a>, index: usize) -> Vec<(&'a str, u32)> {
    ctx.node_groups(index)
        .into_iter()
        .filter(|g| g.is_control_plane())
        .map(|g| (g.site, g.count))
        .collect()
}

rule!(TOP002, Error, "etcd members spread so that losing one failure domain loses quorum", top002);

fn top002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let members = members_per_site(ctx, i);
        let sites: Vec<&str> = members.iter().map(|(s, _)| *s).collect();
        // Members per failure domain: two site names at one location fail together.
        let domains: Vec<(Vec<&str>, u32)> = ctx
            .group_by_domain(&sites)
            .into_iter()
            .map(|group| {
                let n = members
                    .iter()
                    .filter(|(s, _)| group.contains(s))
                    .fold(0u32, |t, (_, n)| t.saturating_add(*n));
                (group, n)
            })
            .collect();
        if domains.len() < 2 {
            continue;
        }
        let total: u32 = domains.iter().fold(0u32, |t, (_, n)| t.saturating_add(*n));
        let quorum = total / 2 + 1;
        let Some((group, lost)) =
            domains.iter().filter(|(_, n)| total - n < quorum).max_by_key(|(_, n)| *n)
        else {
            continue;
        };
        let names = |g: &[&str]| g.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" + ");
        let layout: Vec<String> =
            domains.iter().map(|(g, n)| format!("{n} in {}", names(g))).collect();
        let what = if group.len() == 1 {
            format!("site {}", names(group))
        } else {
            ctx.domain_label(group)
        };
        let help = if domains.len() == 2 {
            format!(
                "two failure domains cannot hold a majority against either's loss: add a third site at another location with one member (e.g. {}), or keep each cluster's control plane in one site and run a second cluster in the other",
                balanced(total.max(3), 3)
            )
        } else {
            format!(
                "spread the members so that no failure domain holds {} or more, e.g. {}",
                total - quorum + 1,
                balanced(total, domains.len())
            )
        };
        let mut d = ctx
            .finding(
                "TOP002",
                &format!("spec.clusters[{i}].controlPlane.sites"),
                format!(
                    "cluster `{}` places its {total} etcd members as {}: losing {what} leaves {} of {total}, below the quorum of {quorum}",
                    cluster.name,
                    layout.join(", "),
                    total - lost
                ),
            )
            .with_span_label(format!("{what} holds a majority"))
            .with_help(help);
        for (g, _) in &domains {
            if let Some(note) = ctx.domain_note(g) {
                d = d.with_note(note);
            }
        }
        out.push(d);
    }
}

fn balanced(total: u32, sites: usize) -> String {
    let sites = sites.max(1) as u32;
    let mut parts: Vec<String> = Vec::new();
    for k in 0..sites {
        parts.push((total / sites + u32::from(k < total % sites)).to_string());
    }
    format!("{} over {sites} sites", parts.join("+"))
}

/// Pairs of distinct control-plane sites of a cluster.
fn cp_site_pairs<'a>(ctx: &Ctx<'a>, index: usize) -> Vec<(&'a str, &'a str)> {
    let sites: Vec<&str> = members_per_site(ctx, index).into_iter().map(|(s, _)| s).collect();
    let mut out = Vec::new();
    for (k, a) in sites.iter().enumerate() {
        for b in &sites[k + 1..] {
            out.push((*a, *b));
        }
    }
    out
}

fn beyond_etcd_budget(ctx: &Ctx<'_>, a: &str, b: &str) -> Option<String> {
    let budget = &facts::get().latency;
    let rtt = ctx.rtt(a, b)?;
    if rtt.measured {
        (rtt.ms > budget.etcd_max_rtt_ms).then(|| {
            format!(
                "{:.1} ms measured round trip, above etcd's budget of {} ms",
                rtt.ms, budget.etcd_max_rtt_ms
            )
        })
    } else {
        let km = rtt.km?;
        (km > budget.etcd_max_distance_km).then(|| {
            format!("about {km:.0} km apart (~{:.0} ms round trip), beyond the {} km at which etcd degrades", rtt.ms, budget.etcd_max_distance_km)
        })
    }
}

rule!(TOP003, Error, "control plane stretched beyond etcd's latency budget", top003);

fn top003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        for (a, b) in cp_site_pairs(ctx, i) {
            let Some(why) = beyond_etcd_budget(ctx, a, b) else { continue };
            out.push(
                ctx.finding(
                    "TOP003",
                    &format!("spec.clusters[{i}].controlPlane.sites"),
                    format!(
                        "cluster `{}` stretches its control plane over sites `{a}` and `{b}`, {why}",
                        cluster.name
                    ),
                )
                .with_span_label("every etcd write waits for the far site")
                .with_help(format!(
                    "run one cluster per region (a cluster at `{a}` and one at `{b}`), delivered from the same Git repository and joined with Cluster Mesh; replicate data at the application level"
                )),
            );
            break;
        }
    }
}

rule!(TOP004, Warning, "control plane stretched across cities", top004);

fn top004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let pairs = cp_site_pairs(ctx, i);
        if pairs.iter().any(|(a, b)| beyond_etcd_budget(ctx, a, b).is_some()) {
            continue;
        }
        let Some((a, b)) = pairs.into_iter().find(|(a, b)| !ctx.same_city(a, b)) else { continue };
        let city = |s: &str| ctx.location(s).map_or_else(|| s.to_owned(), |l| l.city.clone());
        let rtt = ctx
            .rtt(a, b)
            .map(|r| {
                format!(" ({:.1} ms {})", r.ms, if r.measured { "measured" } else { "estimated" })
            })
            .unwrap_or_default();
        out.push(
            ctx.finding(
                "TOP004",
                &format!("spec.clusters[{i}].controlPlane.sites"),
                format!(
                    "cluster `{}` stretches its control plane across cities: `{a}` in {} and `{b}` in {}{rtt}",
                    cluster.name,
                    city(a),
                    city(b)
                ),
            )
            .with_span_label("one etcd, one blast radius for both cities")
            .with_help("a failed upgrade, a bad config change or a broken operator now takes down both cities at once; run a separate cluster per city, joined by GitOps and Cluster Mesh, and keep stretched control planes to one campus"),
        );
    }
}

rule!(TOP005, Warning, "replicated storage stretched beyond its latency budget", top005);

fn top005(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let budget = facts::get().latency.storage_max_rtt_ms;
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(driver) = ctx.storage_driver(cluster) else { continue };
        if !matches!(driver, StorageDriver::Longhorn | StorageDriver::Piraeus) {
            continue;
        }
        let groups = ctx.node_groups(i);
        let mut sites: Vec<&str> = Vec::new();
        for g in storage_groups(&groups) {
            if !sites.contains(&g.site) {
                sites.push(g.site);
            }
        }
        'pairs: for (k, a) in sites.iter().enumerate() {
            for b in &sites[k + 1..] {
                let Some(rtt) = ctx.rtt(a, b) else { continue };
                if rtt.ms <= budget {
                    continue;
                }
                out.push(
                    ctx.finding(
                        "TOP005",
                        &format!("spec.clusters[{i}].storage"),
                        format!(
                            "cluster `{}` replicates volumes between sites `{a}` and `{b}`, {:.0} ms apart ({}), above the {budget} ms replicated block storage tolerates",
                            cluster.name,
                            rtt.ms,
                            if rtt.measured { "measured" } else { "estimated from the distance" }
                        ),
                    )
                    .with_span_label("synchronous replication over a long link")
                    .with_help("keep storage nodes of a cluster in one site and replicate data between regions at the application level (PostgreSQL replica clusters, object storage replication)"),
                );
                break 'pairs;
            }
        }
    }
}

/// The node groups that hold replicated volumes: pools with the `storage` role, else every
/// group that runs workloads.
pub(super) fn storage_groups<'g, 'a>(
    groups: &'g [crate::platform::NodeGroup<'a>],
) -> Vec<&'g crate::platform::NodeGroup<'a>> {
    let tagged: Vec<_> =
        groups.iter().filter(|g| g.roles.contains(&hafen_spec::NodeRole::Storage)).collect();
    if tagged.is_empty() { groups.iter().filter(|g| g.workloads).collect() } else { tagged }
}

rule!(TOP006, Warning, "every production control plane stands in one failure domain", top006);

fn top006(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let mut sites: Vec<&str> = Vec::new();
    let mut first: Option<usize> = None;
    for (i, cluster) in spec.clusters.iter().enumerate() {
        if !ctx.production(cluster) {
            continue;
        }
        first.get_or_insert(i);
        for (site, _) in members_per_site(ctx, i) {
            if !sites.contains(&site) {
                sites.push(site);
            }
        }
    }
    let Some(i) = first else { return };
    let groups = ctx.group_by_domain(&sites);
    let [group] = groups.as_slice() else { return };
    let names: Vec<String> = spec
        .clusters
        .iter()
        .filter(|c| ctx.production(c))
        .map(|c| format!("`{}`", c.name))
        .collect();
    let replacement =
        group.iter().any(|s| ctx.site(s).is_some_and(|s| !s.replacement_capacity.is_empty()));
    let note = if replacement {
        ""
    } else if group.len() == 1 {
        "; the site declares no replacement capacity, so after a partial loss nothing can be rebuilt there either"
    } else {
        "; no site there declares replacement capacity, so after a partial loss nothing can be rebuilt there either"
    };
    let place = match group.as_slice() {
        [site] => format!("site `{site}`"),
        _ => format!(
            "{}, which are one failure domain",
            group.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        ),
    };
    let place = if group.len() == 1 { place } else { format!("sites {place}") };
    let mut d = ctx
        .finding(
            "TOP006",
            &format!("spec.clusters[{i}].site"),
            format!(
                "the control plane of every production cluster ({}) stands in {place}: one power, network or capacity incident there takes the whole platform down{note}",
                names.join(", ")
            ),
        )
        .with_span_label(if group.len() == 1 {
            "the only site with a production control plane"
        } else {
            "the only failure domain with a production control plane"
        })
        .with_help(format!(
            "add a second site at another location (ideally another provider) with its own cluster, delivered from the same repository; if one site is a deliberate choice (a personal or association cloud), this is a warning and does not fail `hafen check`: record the decision with `suppressions: [{{code: TOP006, object: cluster/{}, reason: \"<who accepted it, why, until when>\"}}]`",
            spec.clusters[i].name
        ));
    if let Some(n) = ctx.domain_note(group) {
        d = d.with_note(n);
    }
    out.push(d);
}

rule!(
    TOP007,
    Error,
    "PostgreSQL replica cluster in the same failure domain as its primary",
    top007
);

fn top007(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (i, tenant) in spec.tenants.iter().enumerate() {
        for (j, app) in tenant.apps.iter().enumerate() {
            let Some(pg) = &app.postgres else { continue };
            let Some(replica_name) = &pg.replica_cluster else { continue };
            let Some(replica) = spec.cluster(replica_name) else { continue };
            let mut primaries: Vec<&str> =
                tenant.clusters.iter().map(String::as_str).filter(|c| c != replica_name).collect();
            if primaries.is_empty() {
                primaries.push(replica_name);
            }
            for primary_name in primaries {
                let Some(primary) = spec.cluster(primary_name) else { continue };
                let primary_sites = primary.sites();
                let replica_sites = replica.sites();
                // The first pair of sites, one of each cluster, that is one failure domain.
                let Some((p_site, r_site)) = primary_sites.iter().find_map(|p| {
                    replica_sites.iter().find(|r| ctx.same_domain(p, r)).map(|r| (*p, *r))
                }) else {
                    continue;
                };
                let msg = if primary_name == replica_name {
                    format!(
                        "PostgreSQL of app `{}` (tenant `{}`) names its own cluster `{replica_name}` as replica cluster: primary and replica share site `{p_site}`",
                        app.name, tenant.name
                    )
                } else if p_site == r_site {
                    format!(
                        "PostgreSQL of app `{}` (tenant `{}`) keeps its replica in cluster `{replica_name}`, which shares site `{p_site}` with the primary in cluster `{primary_name}`",
                        app.name, tenant.name
                    )
                } else {
                    format!(
                        "PostgreSQL of app `{}` (tenant `{}`) keeps its replica in cluster `{replica_name}` at site `{r_site}`, the same failure domain ({}) as the primary in cluster `{primary_name}` at site `{p_site}`",
                        app.name,
                        tenant.name,
                        ctx.domain_label(&[p_site, r_site])
                    )
                };
                let other = spec
                    .clusters
                    .iter()
                    .find(|c| {
                        !c.sites()
                            .iter()
                            .any(|s| primary_sites.iter().any(|p| ctx.same_domain(p, s)))
                    })
                    .map(|c| format!("e.g. `replicaCluster: {}`", c.name))
                    .unwrap_or_else(|| {
                        "no cluster of this spec stands in another failure domain yet: add one at another location".into()
                    });
                let note = if p_site == r_site { None } else { ctx.domain_note(&[p_site, r_site]) };
                out.push(
                    ctx.finding(
                        "TOP007",
                        &format!("spec.tenants[{i}].apps[{j}].postgres.replicaCluster"),
                        msg,
                    )
                    .with_span_label("one site incident takes primary and replica")
                    .with_help(format!(
                        "put the replica in a cluster at another location ({other})"
                    )),
                );
                if let (Some(n), Some(d)) = (note, out.last_mut()) {
                    d.notes.push(n);
                }
            }
        }
    }
}

rule!(
    TOP008,
    Warning,
    "production PostgreSQL with a single instance and no replica cluster",
    top008
);

fn top008(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (i, tenant) in spec.tenants.iter().enumerate() {
        let production =
            tenant.clusters.iter().filter_map(|c| spec.cluster(c)).any(|c| ctx.production(c));
        if !production {
            continue;
        }
        for (j, app) in tenant.apps.iter().enumerate() {
            let Some(pg) = &app.postgres else { continue };
            if pg.replicas >= 2 || pg.replica_cluster.is_some() {
                continue;
            }
            out.push(
                ctx.finding(
                    "TOP008",
                    &format!("spec.tenants[{i}].apps[{j}].postgres.replicas"),
                    format!(
                        "PostgreSQL of app `{}` (tenant `{}`) runs {} instance(s) in production: a node failure stops the database until the node returns, and its volume is the only copy",
                        app.name, tenant.name, pg.replicas
                    ),
                )
                .with_span_label("no standby to fail over to")
                .with_help("use `replicas: 2` (a synchronous standby on another node), and a `replicaCluster` in another site for disaster recovery"),
            );
        }
    }
}

rule!(TOP009, Error, "more replicas than nodes they may spread over", top009);

fn top009(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (c, cluster) in ctx.spec().clusters.iter().enumerate() {
        let groups = ctx.node_groups(c);
        let nodes: u64 = groups.iter().filter(|g| g.workloads).map(|g| u64::from(g.count)).sum();
        if nodes == 0 {
            continue;
        }
        let mut reported: Vec<String> = Vec::new();
        for d in ctx.demands(&cluster.name) {
            let replicas = u64::from(d.replicas);
            if !d.one_per_node || replicas <= nodes || reported.contains(&d.path) {
                continue;
            }
            reported.push(d.path.clone());
            out.push(
                ctx.finding(
                    "TOP009",
                    &format!("{}.replicas", d.path),
                    format!(
                        "{} of tenant `{}` wants {} replicas at most one per node, but cluster `{}` has {nodes} node(s) that run workloads",
                        d.label, d.tenant.name, d.replicas, cluster.name
                    ),
                )
                .with_span_label(format!("{} replica(s) stay Pending", replicas - nodes))
                .with_help(format!(
                    "lower `replicas` to {nodes} or add {} node(s) to a worker pool of cluster `{}`",
                    replicas - nodes,
                    cluster.name
                )),
            );
        }
    }
}

rule!(TOP010, Warning, "disruption budget that blocks every node drain", top010);

fn top010(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, tenant) in ctx.spec().tenants.iter().enumerate() {
        for (j, app) in tenant.apps.iter().enumerate() {
            let Some(min) = app.min_available else { continue };
            if min == 0 || min < app.replicas {
                continue;
            }
            out.push(
                ctx.finding(
                    "TOP010",
                    &format!("spec.tenants[{i}].apps[{j}].minAvailable"),
                    format!(
                        "app `{}` of tenant `{}` requires {min} of its {} replica(s) available at all times, so no node running it can ever be drained",
                        app.name, tenant.name, app.replicas
                    ),
                )
                .with_span_label("the PodDisruptionBudget allows zero evictions")
                .with_help(if app.replicas >= 2 {
                    format!("set `minAvailable: {}` (or drop it for the default of replicas − 1)", app.replicas - 1)
                } else {
                    "run 2 replicas with `minAvailable: 1`, or drop `minAvailable`; otherwise Kubernetes and OS upgrades hang at this node".into()
                }),
            );
        }
    }
}

/// Whether a site is in another provider domain than every site of a cluster: another
/// provider account or another network zone.
fn foreign(ctx: &Ctx<'_>, site: &str, cluster_sites: &[&str]) -> bool {
    let zone = |s: &str| ctx.location(s).and_then(|l| l.network_zone.clone());
    let provider = |s: &str| ctx.site(s).map(|x| x.provider.clone());
    cluster_sites.iter().all(|c| provider(c) != provider(site) || zone(c) != zone(site))
}

rule!(
    TOP011,
    Error,
    "management cluster at a provider no workload cluster uses, reachable only over the internet",
    top011
);

fn top011(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let Some(management) = &spec.management else { return };
    let m_site = management.site.as_str();
    let Some(m_provider) = ctx.site_provider(m_site) else { return };
    // Judgment: the management cluster reaches workload API servers over TLS with client
    // certificates, and the provider APIs it calls are public anyway, so crossing the internet
    // to the clusters of a second provider is the normal multi-provider setup, not a defect.
    // The failure is a management cluster left behind at a provider (or network zone) where no
    // workload cluster runs: every cluster depends on a place the platform does not live in.
    let at_home = spec.clusters.iter().any(|c| {
        let sites = c.sites();
        !foreign(ctx, m_site, &sites) || sites.iter().any(|s| ctx.private_reachable(s, m_site))
    });
    if at_home {
        return;
    }
    for (i, cluster) in spec.clusters.iter().enumerate() {
        if management.cluster.as_deref() == Some(cluster.name.as_str()) {
            continue;
        }
        let sites = cluster.sites();
        if sites.iter().any(|s| ctx.private_reachable(s, m_site)) || !foreign(ctx, m_site, &sites) {
            continue;
        }
        let d = ctx
            .finding(
                "TOP011",
                "spec.management.site",
                format!(
                    "the management cluster runs at site `{m_site}` of {}, where no workload cluster runs, and workload cluster `{}` at site `{}` reaches it only over the public internet",
                    ctx.company(m_provider),
                    cluster.name,
                    cluster.site
                ),
            )
            .with_span_label("no workload cluster here, no private path")
            .with_help(format!(
                "run the management cluster where workload clusters run (e.g. `management: {{site: {}}}`; clusters at another provider are then managed over the internet with TLS, which is fine), or join the sites by VPN or interconnect and declare it: `links: [{{sites: [{m_site}, {}], private: true}}]`",
                cluster.site, cluster.site
            ));
        out.push(ctx.label(
            d,
            &format!("spec.clusters[{i}].site"),
            format!("cluster `{}` stands here", cluster.name),
        ));
    }
}

rule!(
    TOP012,
    Warning,
    "self-hosted Git server or registry that clusters reach only over the internet",
    top012
);

fn top012(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (e, endpoint) in spec.endpoints.iter().enumerate() {
        if !matches!(endpoint.purpose, EndpointPurpose::Git | EndpointPurpose::Registry) {
            continue;
        }
        let Some(site) = &endpoint.site else { continue };
        let Some(provider) = ctx.site_provider(site) else { continue };
        let cut: Vec<&str> = spec
            .clusters
            .iter()
            .filter(|c| {
                let sites = c.sites();
                !sites.iter().any(|s| ctx.private_reachable(s, site)) && foreign(ctx, site, &sites)
            })
            .map(|c| c.name.as_str())
            .collect();
        if cut.is_empty() {
            continue;
        }
        let what = if endpoint.purpose == EndpointPurpose::Git { "Git server" } else { "registry" };
        out.push(
            ctx.finding(
                "TOP012",
                &format!("spec.endpoints[{e}].site"),
                format!(
                    "{what} `{}` runs at site `{site}` of {}, which cluster(s) {} reach only over the public internet",
                    endpoint.name,
                    ctx.company(provider),
                    cut.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                ),
            )
            .with_span_label("delivery depends on a public path to another provider")
            .with_help(format!(
                "host the {what} at the clusters' provider, mirror it there, or declare the private path once it exists (`links: [{{sites: [{site}, <cluster site>], private: true}}]`)"
            )),
        );
    }
}

rule!(TOP013, Error, "volume replicas exceed the nodes that hold storage", top013);

fn top013(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(storage) = &cluster.storage else { continue };
        if !matches!(storage.default, StorageDriver::Longhorn | StorageDriver::Piraeus) {
            continue;
        }
        let replicas = u64::from(storage.replicas.unwrap_or(2));
        let groups = ctx.node_groups(i);
        let holders = storage_groups(&groups);
        let nodes: u64 = holders.iter().map(|g| u64::from(g.count)).sum();
        if replicas <= nodes {
            continue;
        }
        out.push(
            ctx.finding(
                "TOP013",
                &format!("spec.clusters[{i}].storage.replicas"),
                format!(
                    "cluster `{}` keeps {replicas} replicas of every volume, but only {nodes} node(s) hold storage",
                    cluster.name
                ),
            )
            .with_span_label("replicas must sit on distinct nodes")
            .with_help(format!(
                "lower `replicas` to {} or add storage nodes; new volumes stay degraded or fail to provision",
                nodes.max(1)
            )),
        );
    }
}

rule!(TOP014, Warning, "production data on node-local storage without replication", top014);

fn top014(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(storage) = &cluster.storage else { continue };
        let single_copy = match storage.default {
            StorageDriver::LocalPath => true,
            StorageDriver::Longhorn | StorageDriver::Piraeus => storage.replicas == Some(1),
            StorageDriver::HcloudVolumes => false,
        };
        if !single_copy || !ctx.production(cluster) {
            continue;
        }
        let (field, how) = if storage.default == StorageDriver::LocalPath {
            ("default", "on node-local paths")
        } else {
            ("replicas", "in a single replica on one node's disk")
        };
        let stateful: Vec<String> = ctx
            .demands(&cluster.name)
            .iter()
            .filter(|d| d.holds_data())
            .map(|d| d.label.clone())
            .collect();
        if stateful.is_empty() {
            continue;
        }
        out.push(
            ctx.finding(
                "TOP014",
                &format!("spec.clusters[{i}].storage.{field}"),
                format!(
                    "production cluster `{}` keeps the data of {} {how}: when that node dies, the data waits for it or is gone",
                    cluster.name,
                    stateful.join(", ")
                ),
            )
            .with_span_label("no second copy")
            .with_help("use replicated storage (`piraeus` or `longhorn` with 2+ replicas) or provider volumes (`hcloud-volumes`)"),
        );
    }
}

/// The company behind a provider of the spec, by name; `None` for self-hosted providers
/// (nobody else can lock the team out of its own servers) and unknown types.
fn provider_company<'a>(ctx: &Ctx<'a>, name: &str) -> Option<&'a str> {
    let provider = ctx.spec().provider(name)?;
    let info = ctx.provider_info(provider)?;
    (info.category != hafen_catalog::Category::SelfHosted).then_some(info.company.name.as_str())
}

/// The company that holds a cluster's backups, when the spec says so: the site's provider,
/// the object storage its endpoint names, or the provider named. `None` when unknown.
fn backup_company<'a>(ctx: &Ctx<'a>, cluster: &'a hafen_spec::Cluster) -> Option<&'a str> {
    let backups = cluster.backups.as_ref()?;
    if let Some(site) = &backups.site {
        let provider = ctx.site(site)?.provider.as_str();
        return provider_company(ctx, provider);
    }
    let host = backups.endpoint.as_deref().and_then(crate::platform::url_host);
    if let Some(stored) = host.as_deref().and_then(super::operations::location_of) {
        return Some(stored.company);
    }
    provider_company(ctx, backups.provider.as_deref()?)
}

rule!(
    TOP015,
    Info,
    "every production cluster and every backup of its data at one provider",
    top015
);

fn top015(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let production: Vec<(usize, &hafen_spec::Cluster)> =
        spec.clusters.iter().enumerate().filter(|(_, c)| ctx.production(c)).collect();
    if production.is_empty() {
        return;
    }
    // One failure domain is TOP006's finding; this one is about a second domain that does not
    // help because the same company runs it.
    let sites: Vec<&str> = production.iter().flat_map(|(_, c)| c.sites()).collect();
    if ctx.group_by_domain(&sites).len() < 2 {
        return;
    }
    let mut providers: Vec<&str> = Vec::new();
    let mut company: Option<&str> = None;
    for site in &sites {
        let Some(provider) = ctx.site(site).map(|s| s.provider.as_str()) else { return };
        let Some(c) = provider_company(ctx, provider) else { return };
        if company.is_some_and(|known| known != c) {
            return;
        }
        company = Some(c);
        if !providers.contains(&provider) {
            providers.push(provider);
        }
    }
    let Some(company) = company else { return };
    // Only data that could be lost with the account counts: a stateless platform is rebuilt
    // from Git elsewhere. Every stateful cluster must provably back up to the same company.
    let stateful: Vec<&(usize, &hafen_spec::Cluster)> = production
        .iter()
        .filter(|(_, c)| ctx.demands(&c.name).iter().any(|d| d.holds_data()))
        .collect();
    if stateful.is_empty() || !stateful.iter().all(|(_, c)| backup_company(ctx, c) == Some(company))
    {
        return;
    }
    let names: Vec<String> = production.iter().map(|(_, c)| format!("`{}`", c.name)).collect();
    let accounts: Vec<String> = providers.iter().map(|p| format!("`{p}`")).collect();
    let Some((at, _)) = stateful.first() else { return };
    let path = format!("spec.clusters[{at}].backups");
    out.push(
        ctx.finding(
            "TOP015",
            &path,
            format!(
                "every production cluster ({}) and every backup of its data is at {company} (provider {}): a locked account, a billing dispute or a provider-wide outage takes the whole platform and all copies of its data at once",
                names.join(", "),
                accounts.join(", ")
            ),
        )
        .with_span_label(format!("the backups stay with {company} too"))
        .with_help(format!(
            "keep at least one copy of the data at another company (backups to object storage at Scaleway, OVHcloud, IONOS or your own servers), rehearse the exit with `hafen plan --exit {}`; or accept the risk with a suppression that says why",
            providers.first().copied().unwrap_or("<provider>")
        )),
    );
}
