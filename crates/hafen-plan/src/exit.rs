//! The exit plan: everything at a source (provider or site) moved to a target (provider, site
//! or catalogue provider type) — the ordered steps, the retargeted spec as a unified diff, the
//! data to move with its egress cost, and the findings the target would raise.

use crate::diff;
use crate::scenario::round2;
use hafen_catalog::{Catalog, Category, ProviderInfo, ServerType};
use hafen_spec::{LoadedPlatform, NodeRole, Platform, StorageDriver, quantity};
use serde::Serialize;
use serde_json::Value;

/// Exit section.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExitPlan {
    /// As asked.
    pub source: String,
    /// `provider` or `site`; `unknown` when neither.
    pub source_kind: String,
    /// As asked.
    pub target: String,
    /// `provider`, `site`, `provider-type` or `unknown`.
    pub target_kind: String,
    /// Sites that move.
    pub sites: Vec<SiteMove>,
    /// Clusters that move.
    pub clusters: Vec<String>,
    /// Ordered steps.
    pub steps: Vec<Step>,
    /// Data that crosses the network.
    pub data: Vec<DataMove>,
    /// Σ data.
    pub total_bytes: u64,
    /// Egress cost of moving it.
    pub egress: EgressCost,
    /// Unified diff of the canonical spec before → after.
    pub diff: String,
    /// The retargeted spec itself (canonical YAML), as checked for `findings`.
    pub retargeted: String,
    /// Findings of the loader and the rule catalogue on the retargeted spec.
    pub findings: Vec<Finding>,
    /// What the retargeting changed or could not decide: facts that do not survive a move
    /// (links, site networks, provider-owned addresses, backup endpoints), placeholders to fill
    /// (credentials) and choices Hafen could not make (storage).
    pub review: Vec<ReviewItem>,
    /// Why the plan could not be made, when it could not.
    pub error: Option<String>,
}

/// One thing a person must look at before the retargeted spec is applied.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewItem {
    /// `blocker` (the target cannot run as written) or `review` (changed or dropped, check it).
    pub severity: String,
    /// Spec path in the retargeted spec, e.g. `spec.links[0]`.
    pub path: String,
    /// What happened and what to do.
    pub message: String,
}

/// A site's move.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteMove {
    /// Old site.
    pub from: String,
    /// New site.
    pub to: String,
    /// New provider.
    pub provider: String,
    /// New location.
    pub location: String,
    /// Server types mapped old → new.
    pub server_types: Vec<TypeMapping>,
}

/// One server type's replacement at the target.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TypeMapping {
    /// Type at the source.
    pub from: String,
    /// Smallest target type with at least its cores and memory.
    pub to: String,
}

/// One step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// 1-based.
    pub number: usize,
    /// Short title.
    pub title: String,
    /// What to do.
    pub detail: String,
}

/// Data to copy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataMove {
    /// Cluster.
    pub cluster: String,
    /// `tenant/app` or `tenant/app-db`.
    pub app: String,
    /// Volume.
    pub volume: String,
    /// Bytes that cross the network.
    pub bytes: u64,
    /// How it gets to the target.
    pub method: String,
    /// True when the bytes leave the source (priced as its egress); false when the new copy
    /// is built from a copy outside the source.
    pub leaves_source: bool,
}

/// What moving the data costs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressCost {
    /// TB (10^12 bytes) that leave the source.
    pub tb: f64,
    /// Overage price at the source, EUR/TB.
    #[serde(rename = "eurPerTB")]
    pub eur_per_tb: f64,
    /// As billed: what the spare included traffic does not absorb, × price.
    #[serde(rename = "eur")]
    pub eur: f64,
    /// tb × price, before any included traffic.
    #[serde(rename = "listEUR")]
    pub list_eur: f64,
    /// Included traffic at the source per server and month, TB.
    #[serde(rename = "includedTB")]
    pub included_tb: Option<f64>,
    /// Included traffic the source's servers leave unused in a month after the platform's own
    /// declared egress there (`traffic.egressTB`), TB: it absorbs the move first.
    #[serde(rename = "spareIncludedTB")]
    pub spare_included_tb: Option<f64>,
    /// Price source and date.
    pub source: String,
}

/// A finding on the retargeted spec.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Code.
    pub code: String,
    /// `error`, `warning`, ...
    pub severity: String,
    /// Message.
    pub message: String,
    /// False when the spec raises the same finding today: the move does not cause it.
    pub new: bool,
}

fn dns_label(s: &str) -> String {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    out.trim_matches('-').chars().take(63).collect()
}

/// The target's cheapest server type with at least the logical CPUs and memory of `st` (same
/// architecture and CPU kind preferred) that the target sells now at `location`, or its
/// largest such type when none is big enough. Types the catalogue records as not orderable,
/// or as absent from the location, are never chosen: the retargeted spec would name servers
/// nobody can order (CAP005).
fn map_type(target: &ProviderInfo, st: &ServerType, location: &str) -> Option<String> {
    let sellable: Vec<&ServerType> = target
        .server_types
        .iter()
        .filter(|t| t.availability.as_ref().is_none_or(|a| a.orderable))
        .filter(|t| t.locations.as_ref().is_none_or(|l| l.iter().any(|x| x == location)))
        .collect();
    let mut fits: Vec<&ServerType> = sellable
        .iter()
        .copied()
        .filter(|t| t.cpus() >= st.cpus() && t.memory_gib >= st.memory_gib)
        .collect();
    fits.sort_by(|a, b| {
        (a.arch != st.arch)
            .cmp(&(b.arch != st.arch))
            .then((a.cpu != st.cpu).cmp(&(b.cpu != st.cpu)))
            .then(a.price.monthly_eur.total_cmp(&b.price.monthly_eur))
            .then(a.name.cmp(&b.name))
    });
    fits.first().map(|t| t.name.clone()).or_else(|| {
        sellable
            .iter()
            .max_by(|a, b| a.cpus().cmp(&b.cpus()).then(a.memory_gib.total_cmp(&b.memory_gib)))
            .map(|t| t.name.clone())
    })
}

/// Sites a moved site must stay independent of, with why: the backup site of each cluster
/// that runs there, the sites of clusters whose backups are stored there, and for databases
/// with a replica cluster the sites of the other side. Sites that move too are left out.
fn must_be_independent_of(
    spec: &hafen_spec::PlatformSpec,
    site: &str,
    moving: &[String],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let push = |out: &mut Vec<(String, String)>, s: &str, why: String| {
        if moving.iter().any(|m| m == s) {
            return;
        }
        match out.iter_mut().find(|(x, _)| x == s) {
            Some((_, reasons)) if !reasons.contains(&why) => {
                reasons.push_str("; ");
                reasons.push_str(&why);
            }
            Some(_) => {}
            None => out.push((s.to_owned(), why)),
        }
    };
    for k in spec.clusters.iter().filter(|k| k.sites().contains(&site)) {
        if let Some(b) = k.backups.as_ref().and_then(|b| b.site.as_deref()) {
            push(&mut out, b, format!("the backups of `{}`", k.name));
        }
        for t in &spec.tenants {
            for a in &t.apps {
                let Some(rc) = a.postgres.as_ref().and_then(|p| p.replica_cluster.as_deref())
                else {
                    continue;
                };
                let primary = t.clusters.iter().find(|c| c.as_str() != rc);
                let other = if rc == k.name {
                    primary.map(String::as_str)
                } else if primary.is_some_and(|p| *p == k.name) {
                    Some(rc)
                } else {
                    None
                };
                let Some(other) = other.and_then(|o| spec.clusters.iter().find(|c| c.name == o))
                else {
                    continue;
                };
                for s in other.sites() {
                    push(
                        &mut out,
                        s,
                        format!(
                            "`{}`, the other side of the replica cluster of `{}/{}`",
                            other.name, t.name, a.name
                        ),
                    );
                }
            }
        }
    }
    for k in &spec.clusters {
        if k.backups.as_ref().and_then(|b| b.site.as_deref()) == Some(site) {
            for s in k.sites() {
                push(&mut out, s, format!("`{}`, whose backups are stored at `{site}`", k.name));
            }
        }
    }
    out
}

fn prune(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for x in map.values_mut() {
                prune(x);
            }
            map.retain(|_, x| {
                !(x.is_null()
                    || x.as_array().is_some_and(Vec::is_empty)
                    || x.as_object().is_some_and(serde_json::Map::is_empty))
            });
        }
        Value::Array(items) => items.iter_mut().for_each(prune),
        _ => {}
    }
}

/// Canonical YAML of a platform (defaults written out, empty values dropped).
pub fn canonical(platform: &Platform) -> String {
    let mut v = serde_json::to_value(platform).unwrap_or(Value::Null);
    prune(&mut v);
    hafen_yaml::emit(&v)
}

fn empty(source: &str, target: &str, error: String) -> ExitPlan {
    ExitPlan {
        source: source.into(),
        source_kind: "unknown".into(),
        target: target.into(),
        target_kind: "unknown".into(),
        sites: Vec::new(),
        clusters: Vec::new(),
        steps: Vec::new(),
        data: Vec::new(),
        total_bytes: 0,
        egress: EgressCost {
            tb: 0.0,
            eur_per_tb: 0.0,
            eur: 0.0,
            list_eur: 0.0,
            included_tb: None,
            spare_included_tb: None,
            source: String::new(),
        },
        diff: String::new(),
        retargeted: String::new(),
        findings: Vec::new(),
        review: Vec::new(),
        error: Some(error),
    }
}

fn review(severity: &str, path: String, message: String) -> ReviewItem {
    ReviewItem { severity: severity.into(), path, message }
}

/// Plans the exit from `source` to `target`.
pub fn plan_exit(loaded: &LoadedPlatform, source: &str, target: &str) -> ExitPlan {
    let spec = &loaded.platform.spec;
    let catalog: &Catalog = &loaded.catalog;
    let (source_kind, source_sites): (&str, Vec<String>) = if spec.provider(source).is_some() {
        (
            "provider",
            spec.sites.iter().filter(|s| s.provider == source).map(|s| s.name.clone()).collect(),
        )
    } else if spec.site(source).is_some() {
        ("site", vec![source.to_owned()])
    } else {
        let names: Vec<&str> = spec
            .providers
            .iter()
            .map(|p| p.name.as_str())
            .chain(spec.sites.iter().map(|s| s.name.as_str()))
            .collect();
        let hint = match hafen_yaml::schema::did_you_mean(source, names.iter().copied()) {
            Some(s) => format!("; did you mean `{s}`?"),
            None => format!(
                "; providers and sites: {}",
                names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
        };
        return empty(
            source,
            target,
            format!("`{source}` is neither a provider nor a site of this platform{hint}"),
        );
    };
    let mut after = loaded.platform.clone();
    // Resolve the target: an existing site, an existing provider, or a catalogue type.
    let (target_kind, target_provider, target_site): (&str, String, Option<String>) = if let Some(
        site,
    ) =
        spec.site(target)
    {
        ("site", site.provider.clone(), Some(site.name.clone()))
    } else if spec.provider(target).is_some() {
        ("provider", target.to_owned(), None)
    } else if catalog.provider(target).is_some() {
        let name = dns_label(target);
        if spec.provider(&name).is_none() {
            after.spec.providers.push(hafen_spec::Provider {
                name: name.clone(),
                type_: target.to_owned(),
                remote_power_on: None,
                credentials: Vec::new(),
                legal: None,
                locations: Vec::new(),
                server_types: Vec::new(),
            });
        }
        ("provider-type", name, None)
    } else {
        let known: Vec<&str> = catalog.provider_types().collect();
        let names: Vec<&str> = spec
            .providers
            .iter()
            .map(|p| p.name.as_str())
            .chain(spec.sites.iter().map(|s| s.name.as_str()))
            .chain(known.iter().copied())
            .collect();
        let hint = hafen_yaml::schema::did_you_mean(target, names.iter().copied())
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        return empty(
            source,
            target,
            format!(
                "`{target}` is not a site, a provider or a catalogue provider type ({hint}known types: {})",
                known.join(", ")
            ),
        );
    };
    if source_sites.iter().any(|s| Some(s) == target_site.as_ref())
        || (source_kind == "provider" && source == target_provider)
    {
        return empty(source, target, "source and target are the same".into());
    }
    let target_type = after
        .spec
        .providers
        .iter()
        .find(|p| p.name == target_provider)
        .map(|p| p.type_.clone())
        .unwrap_or_default();
    let Some(tinfo) = catalog.provider(&target_type) else {
        return empty(
            source,
            target,
            format!("provider type `{target_type}` is not in the catalogue"),
        );
    };
    // Site moves.
    let mut moves: Vec<SiteMove> = Vec::new();
    // (new site, location) chosen so far, and why a move did not take the nearest location.
    let mut chosen: Vec<(String, String)> = Vec::new();
    let mut placement_notes: Vec<String> = Vec::new();
    for s in &source_sites {
        let Some(old) = spec.site(s) else { continue };
        let old_info = spec.provider(&old.provider).and_then(|p| catalog.provider(&p.type_));
        let (to, location) = match &target_site {
            Some(t) => (t.clone(), spec.site(t).map(|x| x.location.clone()).unwrap_or_default()),
            None => {
                // Nearest location of the target provider (by coordinates when both are known)
                // outside the failure domains the moved site must stay independent of: the same
                // company at the same location fails together.
                let here = old_info.and_then(|i| i.location(&old.location));
                let distance = |l: &hafen_catalog::Location| match (here, l.latitude, l.longitude) {
                    (Some(h), Some(la), Some(lo)) => {
                        let (hla, hlo) = (h.latitude.unwrap_or(la), h.longitude.unwrap_or(lo));
                        (hla - la).powi(2) + (hlo - lo).powi(2)
                    }
                    _ => f64::MAX,
                };
                let mut by_distance: Vec<&hafen_catalog::Location> =
                    tinfo.locations.iter().collect();
                by_distance
                    .sort_by(|a, b| distance(a).total_cmp(&distance(b)).then(a.name.cmp(&b.name)));
                let independent = must_be_independent_of(spec, s, &source_sites);
                let conflict = |loc: &str| -> Vec<String> {
                    independent
                        .iter()
                        .filter(|(site, _)| {
                            spec.site(site).is_some_and(|x| {
                                x.location == loc
                                    && spec
                                        .provider(&x.provider)
                                        .and_then(|p| catalog.provider(&p.type_))
                                        .is_some_and(|i| i.company.name == tinfo.company.name)
                            }) || chosen.iter().any(|(n, l)| n == site && l == loc)
                        })
                        .map(|(site, why)| format!("`{site}` ({why})"))
                        .collect()
                };
                let pick = by_distance.iter().find(|l| conflict(&l.name).is_empty());
                let loc = match (pick, by_distance.first()) {
                    (Some(l), Some(nearest)) => {
                        if l.name != nearest.name {
                            placement_notes.push(format!(
                                "`{s}` goes to {} at `{}`, not the nearer `{}`: {} stand{} there, and the same company at one location fails together",
                                tinfo.display_name,
                                l.name,
                                nearest.name,
                                conflict(&nearest.name).join(", "),
                                if conflict(&nearest.name).len() == 1 { "s" } else { "" }
                            ));
                        }
                        l.name.clone()
                    }
                    (None, Some(nearest)) => {
                        placement_notes.push(format!(
                            "every location of {} shares a failure domain with {}: `{s}` goes to the nearest, `{}`, and is not independent of them; choose another target",
                            tinfo.display_name,
                            conflict(&nearest.name).join(", "),
                            nearest.name
                        ));
                        nearest.name.clone()
                    }
                    _ => String::new(),
                };
                (dns_label(&format!("{loc}-{target_provider}")), loc)
            }
        };
        chosen.push((to.clone(), location.clone()));
        let mut types: Vec<TypeMapping> = Vec::new();
        for k in &spec.clusters {
            let mut uses: Vec<&str> = Vec::new();
            if k.control_plane_sites().contains(&s.as_str()) {
                uses.push(&k.control_plane.server_type);
            }
            for p in &k.node_pools {
                if k.pool_site(p) == s {
                    uses.push(&p.server_type);
                }
            }
            for u in uses {
                if types.iter().any(|t| t.from == u) {
                    continue;
                }
                if let Some(st) = old_info.and_then(|i| i.server_type(u))
                    && let Some(new) = map_type(tinfo, st, &location)
                {
                    types.push(TypeMapping { from: u.to_owned(), to: new });
                }
            }
        }
        moves.push(SiteMove {
            from: s.clone(),
            to,
            provider: target_provider.clone(),
            location,
            server_types: types,
        });
    }
    let rename = |name: &str| -> String {
        moves
            .iter()
            .find(|m| m.from == name)
            .map(|m| m.to.clone())
            .unwrap_or_else(|| name.to_owned())
    };
    let map_st = |site: &str, st: &str| -> String {
        moves
            .iter()
            .find(|m| m.from == site)
            .and_then(|m| m.server_types.iter().find(|t| t.from == st).map(|t| t.to.clone()))
            .unwrap_or_else(|| st.to_owned())
    };
    let mut notes: Vec<ReviewItem> = Vec::new();
    for n in placement_notes {
        notes.push(review("review", "spec.sites".into(), n));
    }
    let company = |provider: &str| -> Option<String> {
        after
            .spec
            .providers
            .iter()
            .find(|p| p.name == provider)
            .and_then(|p| catalog.provider(&p.type_))
            .map(|i| i.company.name.clone())
    };
    // Old site → (company, location) and new site → (company, location): a backup endpoint
    // survives only a move within one company's location (the same data-centre park).
    let place_of = |site: &str| -> Option<(Option<String>, String)> {
        spec.site(site).map(|s| (company(&s.provider), s.location.clone()))
    };
    // Rewrite sites. A site's network facts (MTU, private network) belong to the old
    // provider's network: they do not survive a move.
    let mut new_sites = Vec::new();
    for site in &after.spec.sites {
        if let Some(m) = moves.iter().find(|m| m.from == site.name) {
            if target_site.is_none() && !new_sites.iter().any(|s: &hafen_spec::Site| s.name == m.to)
            {
                let mut s = site.clone();
                s.name = m.to.clone();
                s.provider = target_provider.clone();
                s.location = m.location.clone();
                s.replacement_capacity.clear();
                s.remote_power_on = None;
                let had_network = site.network.underlay_mtu.is_some()
                    || site.network.private_network.is_some()
                    || site.network.vswitch.is_some()
                    || site.network.interface.is_some();
                s.network = hafen_spec::SiteNetwork::default();
                if had_network {
                    notes.push(review(
                        "review",
                        format!("spec.sites[{}].network", new_sites.len()),
                        format!(
                            "the network of `{}` (underlay MTU, private network, vSwitch, interface names) belongs to the old provider and was dropped: declare the new site's network at {}",
                            site.name, tinfo.display_name
                        ),
                    ));
                }
                new_sites.push(s);
            }
        } else {
            new_sites.push(site.clone());
        }
    }
    after.spec.sites = new_sites;
    // Storage at the target: its own block-storage CSI where Hafen renders one (Hetzner Cloud
    // volumes), else replicated storage on the servers' local disks, else nothing works.
    let block_storage = tinfo.volumes.is_some() && tinfo.type_ == "hetzner-cloud";
    let mut moved_clusters = Vec::new();
    for (ki, k) in after.spec.clusters.iter_mut().enumerate() {
        let touches = k.sites().iter().any(|s| source_sites.iter().any(|x| x == s));
        if !touches {
            continue;
        }
        moved_clusters.push(k.name.clone());
        let cp_site = k.control_plane_sites().first().map(|s| (*s).to_owned()).unwrap_or_default();
        k.control_plane.server_type = map_st(&cp_site, &k.control_plane.server_type);
        let mut cp_sites: Vec<String> = Vec::new();
        for s in &k.control_plane.sites {
            let s = rename(s);
            if !cp_sites.contains(&s) {
                cp_sites.push(s);
            }
        }
        if cp_sites.len() < k.control_plane.sites.len() {
            notes.push(review(
                "review",
                format!("spec.clusters[{ki}].controlPlane.sites"),
                format!(
                    "the control plane of `{}` stood at {}; after the move its members share {}: the etcd members of the moved site join the others, so the control plane loses a failure domain",
                    k.name,
                    k.control_plane.sites.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "),
                    cp_sites.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        // One site left, the cluster's own: the list says nothing the cluster's site does not.
        k.control_plane.sites = if cp_sites.len() == 1 && cp_sites[0] == rename(&k.site) {
            Vec::new()
        } else {
            cp_sites
        };
        let cluster_site = k.site.clone();
        let mut moved_pools = Vec::new();
        for (pi, p) in k.node_pools.iter_mut().enumerate() {
            let ps = p.site.clone().unwrap_or_else(|| cluster_site.clone());
            if source_sites.contains(&ps) {
                moved_pools.push(pi);
                // Servers of the old provider are not the target's: ids and labels go.
                p.server_ids.clear();
            }
            p.server_type = map_st(&ps, &p.server_type);
            if let Some(s) = p.site.as_mut() {
                *s = rename(s);
            }
        }
        k.site = rename(&k.site);
        // Addresses belong to the provider that routes them.
        if let Some(e) = k.network.egress.as_mut()
            && !e.ips.is_empty()
            && source_sites.contains(&cluster_site)
        {
            notes.push(review(
                "review",
                format!("spec.clusters[{ki}].network.egress.ips"),
                format!(
                    "egress IPs {} of `{}` are addresses of the old provider and were dropped: order fixed addresses at {}, check their reputation, and update every allow-list that names the old ones",
                    e.ips.join(", "),
                    k.name,
                    tinfo.display_name
                ),
            ));
            e.ips.clear();
        }
        if !k.network.load_balancer_ips.is_empty() && source_sites.contains(&cluster_site) {
            notes.push(review(
                "review",
                format!("spec.clusters[{ki}].network.loadBalancerIPs"),
                format!(
                    "load-balancer addresses {} of `{}` were routed by the old provider and were dropped",
                    k.network.load_balancer_ips.join(", "),
                    k.name
                ),
            ));
            k.network.load_balancer_ips.clear();
        }
        if let Some(st) = k.storage.as_mut() {
            let types: Vec<Option<&ServerType>> = moved_pools
                .iter()
                .filter_map(|&pi| k.node_pools.get(pi))
                .map(|p| tinfo.server_type(&p.server_type))
                .collect();
            let local_disks = !types.is_empty()
                && types.iter().all(|t| t.is_some_and(|t| t.disk_gb.unwrap_or(0) > 0));
            let path = format!("spec.clusters[{ki}].storage");
            if block_storage {
                if st.default != StorageDriver::HcloudVolumes {
                    notes.push(review(
                        "review",
                        path,
                        format!(
                            "`{}` storage becomes {}'s block storage (`hcloud-volumes`, priced in the catalogue); volumes are copied at application level (see the data to move)",
                            k.name, tinfo.display_name
                        ),
                    ));
                }
                st.default = StorageDriver::HcloudVolumes;
                st.replicas = None;
            } else if local_disks {
                if !matches!(st.default, StorageDriver::Piraeus | StorageDriver::Longhorn) {
                    st.default = StorageDriver::Piraeus;
                    notes.push(review(
                        "review",
                        path,
                        format!(
                            "{} has no block storage Hafen renders: `{}` keeps volumes on the servers' local disks, replicated with Piraeus",
                            tinfo.display_name, k.name
                        ),
                    ));
                }
                // Replicated storage needs storage nodes: the moved worker pools hold them.
                let has_storage =
                    k.node_pools.iter().any(|p| p.roles().contains(&NodeRole::Storage));
                if !has_storage {
                    for &pi in &moved_pools {
                        if let Some(p) = k.node_pools.get_mut(pi)
                            && p.runs_workloads()
                        {
                            let mut roles = p.roles();
                            roles.push(NodeRole::Storage);
                            p.roles = roles;
                        }
                    }
                }
            } else {
                notes.push(review(
                    "blocker",
                    path,
                    format!(
                        "{} offers no storage Hafen can render for `{}`: no block-storage driver for it, and the mapped server types have no local disks in the catalogue. Choose server types with local disks, or keep the volumes' apps at another provider",
                        tinfo.display_name, k.name
                    ),
                ));
            }
        }
    }
    // Backups: a target at a moved site moves with it; its endpoint only survives a move
    // within one company's location. Otherwise the bucket itself must move.
    let mut buckets: Vec<(String, String)> = Vec::new();
    for (ki, k) in after.spec.clusters.iter_mut().enumerate() {
        let Some(b) = k.backups.as_mut() else { continue };
        let old_site = b.site.clone();
        let site_moves = old_site.as_ref().is_some_and(|s| source_sites.contains(s));
        let provider_moves = source_kind == "provider" && b.provider.as_deref() == Some(source);
        if !site_moves && !provider_moves {
            continue;
        }
        let new_site = old_site.as_deref().map(rename);
        let new_provider = new_site
            .as_deref()
            .and_then(|s| after.spec.sites.iter().find(|x| x.name == s))
            .map(|s| s.provider.clone())
            .unwrap_or_else(|| target_provider.clone());
        let same_place = match (old_site.as_deref().and_then(place_of), new_site.as_deref()) {
            (Some((c, loc)), Some(ns)) => {
                let new = after.spec.sites.iter().find(|x| x.name == ns);
                c.is_some() && new.is_some_and(|n| n.location == loc && company(&n.provider) == c)
            }
            _ => false,
        };
        b.site = new_site;
        b.provider = Some(new_provider.clone());
        if !same_place {
            if let Some(e) = b.endpoint.take() {
                notes.push(review(
                    "review",
                    format!("spec.clusters[{ki}].backups.endpoint"),
                    format!(
                        "backups of `{}` pointed at `{e}` at the old provider: set the S3 endpoint of the new target at `{new_provider}`",
                        k.name
                    ),
                ));
            }
            buckets.push((k.name.clone(), b.target.clone()));
        }
    }
    // Links: measured round trips and privacy are facts of the old path.
    let mut kept_links = Vec::new();
    for (li, l) in after.spec.links.iter().enumerate() {
        if l.sites.iter().any(|s| source_sites.contains(s)) {
            notes.push(review(
                "review",
                format!("spec.links[{li}]"),
                format!(
                    "link {} ({}{}) was dropped: its round trip and privacy are facts of the old path; measure the new one and declare it (`rttMs`, `private`)",
                    l.sites.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(" ↔ "),
                    l.rtt_ms.map(|r| format!("{r} ms, ")).unwrap_or_default(),
                    if l.private { "private" } else { "public" }
                ),
            ));
        } else {
            kept_links.push(l.clone());
        }
    }
    after.spec.links = kept_links;
    if let Some(m) = after.spec.management.as_mut() {
        m.site = rename(&m.site);
    }
    for sc in after.spec.scenarios.iter_mut() {
        for s in sc.fail.sites.iter_mut() {
            *s = rename(s);
        }
        if source_kind == "provider" {
            for p in sc.fail.providers.iter_mut() {
                if p == source {
                    *p = target_provider.clone();
                }
            }
        }
    }
    // The source's providers go when nothing uses them any more (their credentials with them).
    let old_providers: Vec<String> =
        source_sites.iter().filter_map(|s| spec.site(s).map(|x| x.provider.clone())).collect();
    for name in old_providers {
        let used = after.spec.sites.iter().any(|s| s.provider == name)
            || after.spec.clusters.iter().any(|k| {
                k.backups.as_ref().and_then(|b| b.provider.as_deref()) == Some(name.as_str())
            });
        if !used && after.spec.providers.iter().any(|p| p.name == name) {
            after.spec.providers.retain(|p| p.name != name);
            notes.push(review(
                "review",
                "spec.providers".into(),
                format!(
                    "provider `{name}` is no longer used and was removed with its credentials: revoke them at the provider after retirement"
                ),
            ));
        }
    }
    if source_kind != "provider" {
        let used = after.spec.clusters.iter().any(|k| k.sites().contains(&source));
        let referenced = after.spec.management.as_ref().is_some_and(|m| m.site == source)
            || after
                .spec
                .clusters
                .iter()
                .any(|k| k.backups.as_ref().and_then(|b| b.site.as_deref()) == Some(source));
        if !used && !referenced && target_site.is_some() {
            after.spec.sites.retain(|s| s.name != source);
            after.spec.links.retain(|l| !l.sites.iter().any(|s| s == source));
        }
    }
    // The target's API credential: a placeholder the runbook names, delivered where the
    // source provider's credential went (never an account-wide one to a workload cluster).
    let mut credential_step = None;
    // A provider the platform already runs on keeps however it is reached today; only a
    // provider new to the platform needs its credential named.
    let new_provider = !spec.sites.iter().any(|s| s.provider == target_provider);
    if let Some(pi) = after.spec.providers.iter().position(|p| p.name == target_provider)
        && after.spec.providers[pi].credentials.is_empty()
        && new_provider
    {
        let account = tinfo.category == Category::Dedicated;
        let store = spec
            .providers
            .iter()
            .flat_map(|p| &p.credentials)
            .find_map(|c| c.secret_ref.store.clone());
        let mut delivered = vec!["management".to_owned()];
        if !account && block_storage {
            // Cloud controller and CSI run in the clusters and need the project token there.
            delivered.extend(moved_clusters.iter().cloned());
        }
        let name = format!("{target_provider}-api");
        let secret = hafen_spec::SecretRef {
            name: target_provider.clone(),
            key: Some("token".into()),
            store: store.clone(),
        };
        credential_step = Some(format!(
            "store the {} API credential as secret `{}` key `token`{} before rendering (`spec.providers[{pi}].credentials` names it; scope {})",
            tinfo.display_name,
            secret.name,
            store.as_deref().map(|s| format!(" in `{s}`")).unwrap_or_default(),
            if account { "account: it stays in the management cluster" } else { "project" }
        ));
        after.spec.providers[pi].credentials.push(hafen_spec::Credential {
            name,
            scope: if account {
                hafen_spec::CredentialScope::Account
            } else {
                hafen_spec::CredentialScope::Project
            },
            secret_ref: secret,
            delivered_to: delivered,
        });
        notes.push(review(
            "review",
            format!("spec.providers[{pi}].credentials[0]"),
            format!(
                "a placeholder credential for `{target_provider}` was added: {}",
                credential_step.clone().unwrap_or_default()
            ),
        ));
    }
    let before_text = canonical(&loaded.platform);
    let after_text = canonical(&after);
    let diff = diff::unified(
        &before_text,
        &after_text,
        "platform.yaml (now)",
        "platform.yaml (after exit)",
        3,
    );
    // Findings on the retargeted spec.
    let mut findings = Vec::new();
    let mut sources = hafen_diag::Sources::new();
    let (reloaded, diags) =
        hafen_spec::load_str("retargeted.yaml", &after_text, &mut sources, catalog);
    let mut all = diags;
    if let Some(l) = &reloaded {
        all.extend(hafen_check::check(l, &hafen_check::Options::default()));
    }
    // What the spec raises today, so the plan can tell which findings the move itself causes.
    let today: Vec<(String, String)> = hafen_check::check(loaded, &hafen_check::Options::default())
        .into_iter()
        .filter(|d| d.suppressed.is_none())
        .map(|d| (d.code.to_owned(), d.message))
        .collect();
    for d in all.iter().filter(|d| d.suppressed.is_none()) {
        findings.push(Finding {
            code: d.code.to_owned(),
            severity: format!("{:?}", d.severity).to_ascii_lowercase(),
            message: d.message.clone(),
            new: !today.iter().any(|(c, m)| c == d.code && *m == d.message),
        });
    }
    // Clusters that move whole (every site of theirs is a source) get a new cluster at the
    // target; a cluster that also runs elsewhere (a stretched cluster, or a pool at another
    // site) stays and moves its nodes at the source within itself.
    let whole: Vec<String> = spec
        .clusters
        .iter()
        .filter(|k| moved_clusters.contains(&k.name))
        .filter(|k| k.sites().iter().all(|s| source_sites.iter().any(|x| x == s)))
        .map(|k| k.name.clone())
        .collect();
    let partial: Vec<&hafen_spec::Cluster> = spec
        .clusters
        .iter()
        .filter(|k| moved_clusters.contains(&k.name) && !whole.contains(&k.name))
        .collect();
    // Data to move: what the planner's own placement puts at the source sites.
    let mut data = data_at_source(loaded, &source_sites, &moved_clusters, &whole);
    // Backup buckets at the source: at least one full copy of what the cluster backs up.
    for (cluster, target) in &buckets {
        data.push(DataMove {
            cluster: cluster.clone(),
            app: "backups".into(),
            volume: target.clone(),
            bytes: cluster_data_bytes(spec, cluster),
            method: "copy the bucket to the target's object storage (rclone sync or the store's replication), then repoint `backups.endpoint`; the spec does not give the bucket's size: at least one full backup of the cluster's volumes, more with retained history".into(),
            leaves_source: true,
        });
    }
    let total_bytes: u64 = data.iter().fold(0u64, |a, d| a.saturating_add(d.bytes));
    let leaving: u64 =
        data.iter().filter(|d| d.leaves_source).fold(0u64, |a, d| a.saturating_add(d.bytes));
    let tb = leaving as f64 / 1e12;
    let src_info = source_sites
        .first()
        .and_then(|s| spec.site_provider(s))
        .and_then(|p| catalog.provider(&p.type_));
    let egress = match src_info.and_then(|i| i.traffic.as_ref()) {
        Some(t) => {
            // Included traffic is per server and month; what the platform's own declared
            // egress at the source leaves of it this month absorbs the move.
            let servers = source_servers(spec, &source_sites);
            let own: f64 = spec
                .clusters
                .iter()
                .filter(|k| source_sites.contains(&k.site))
                .map(|k| k.traffic.egress_tb.max(0.0))
                .sum();
            // No allowance at all means unmetered: nothing is billed.
            let spare = t.included_tb_per_server.map(|per| (per * servers as f64 - own).max(0.0));
            let billed_tb = spare.map(|x| (tb - x).max(0.0)).unwrap_or(0.0);
            EgressCost {
                tb: (tb * 1000.0).round() / 1000.0,
                eur_per_tb: t.overage_eur_per_tb,
                eur: round2(billed_tb * t.overage_eur_per_tb),
                list_eur: round2(tb * t.overage_eur_per_tb),
                included_tb: t.included_tb_per_server,
                spare_included_tb: spare.map(|x| (x * 1000.0).round() / 1000.0),
                source: format!("{} ({})", t.source, t.date),
            }
        }
        None => EgressCost {
            tb,
            eur_per_tb: 0.0,
            eur: 0.0,
            list_eur: 0.0,
            included_tb: None,
            spare_included_tb: None,
            source: "no traffic price in the catalogue".into(),
        },
    };
    // Steps.
    let mut steps = Vec::new();
    let mut push = |title: &str, detail: String| {
        let number = steps.len() + 1;
        steps.push(Step { number, title: title.into(), detail });
    };
    let site_list = moves
        .iter()
        .map(|m| format!("`{}` → `{}` ({} {})", m.from, m.to, m.provider, m.location))
        .collect::<Vec<_>>()
        .join(", ");
    let mapping = moves
        .iter()
        .flat_map(|m| m.server_types.iter().map(|t| format!("{}→{}", t.from, t.to)))
        .collect::<Vec<_>>()
        .join(", ");
    let stock = if tinfo.type_.starts_with("hetzner") {
        " (Hetzner API: server_types[].locations[].available)"
    } else {
        ""
    };
    if target_site.is_some() {
        push(
            "Target site",
            format!(
                "Move {site_list}: the site exists already; check stock at {} before ordering{stock}; map server types {mapping}{}.",
                tinfo.display_name,
                credential_step.clone().map(|c| format!("; {c}")).unwrap_or_default()
            ),
        );
    } else {
        push(
            "New site",
            format!(
                "Declare {site_list} at {} and check stock before ordering{stock}; map server types {mapping}{}.",
                tinfo.display_name,
                credential_step.clone().map(|c| format!("; {c}")).unwrap_or_default()
            ),
        );
    }
    if !whole.is_empty() {
        push(
            "New cluster",
            format!(
                "Render and bootstrap {} at the new site next to the old one (temporary names, non-overlapping pod/service CIDRs while both are meshed); deliver tenants with GitOps.",
                whole.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    for k in &partial {
        let at_source = |s: &str| source_sites.iter().any(|x| x == s);
        let pools: Vec<String> = k
            .node_pools
            .iter()
            .filter(|p| at_source(k.pool_site(p)))
            .map(|p| format!("`{}` ({} × {})", p.name, p.count, p.server_type))
            .collect();
        let cp_sites = k.control_plane_sites();
        let members = (0..k.control_plane.replicas as usize)
            .filter(|i| {
                at_source(cp_sites.get(i % cp_sites.len().max(1)).copied().unwrap_or(&k.site))
            })
            .count();
        let stays: Vec<String> =
            k.sites().into_iter().filter(|s| !at_source(s)).map(|s| format!("`{s}`")).collect();
        let mut parts = Vec::new();
        if !pools.is_empty() {
            parts.push(format!(
                "scale the moved pool{} {} up at the target (the retargeted spec's nodes join the running cluster), then cordon and drain the nodes at the source and delete them",
                if pools.len() == 1 { "" } else { "s" },
                pools.join(", ")
            ));
        }
        if members > 0 {
            parts.push(format!(
                "replace the {members} etcd member(s) at the source one at a time (a new member joins at the target before an old one leaves, so quorum holds throughout)"
            ));
        }
        push(
            "Move within the cluster",
            format!(
                "`{}` keeps running at {}: no new cluster. {}.",
                k.name,
                stays.join(", "),
                if parts.is_empty() {
                    "nothing of it stands at the source".to_owned()
                } else {
                    parts.join("; ")
                }
            ),
        );
    }
    push(
        "Replicate data at application level",
        if data.is_empty() {
            "Nothing to copy: no volume or database instance of the moved clusters stands at the source.".to_owned()
        } else {
            format!(
                "{} item(s), {:.1} GB ({:.1} GB of it leaves the source): databases through CloudNativePG (replica clusters or new instances cloned from a live one), volumes by backup/restore; verify with a restore test.",
                data.len(),
                total_bytes as f64 / 1e9,
                leaving as f64 / 1e9
            )
        },
    );
    // The ingress address moves with a whole cluster, or with the site a stretched cluster's
    // load balancer stands at (its own site).
    let ingress_moves: Vec<&str> = spec
        .clusters
        .iter()
        .filter(|k| {
            whole.contains(&k.name)
                || (moved_clusters.contains(&k.name) && source_sites.contains(&k.site))
        })
        .map(|k| k.name.as_str())
        .collect();
    let domains: Vec<String> = spec
        .tenants
        .iter()
        .filter(|t| t.clusters.iter().any(|c| ingress_moves.contains(&c.as_str())))
        .flat_map(|t| t.apps.iter().flat_map(|a| a.domains.iter().cloned()))
        .collect();
    // A database whose primary moves is promoted at the target; a replica cluster that moves
    // simply follows its primary again.
    let promote = data.iter().any(|d| d.leaves_source && d.volume == "pgdata");
    if ingress_moves.is_empty() {
        push(
            "No DNS cut-over",
            "The moved clusters keep their ingress where it is (their own site does not move): no record changes.".to_owned(),
        );
    } else {
        push(
            "DNS cut-over",
            format!(
                "Lower TTLs a day ahead; {}switch {} to the new ingress; keep the old cluster read-only until traffic has drained.",
                if promote { "promote the replica databases at the target; " } else { "" },
                if domains.is_empty() { "service records".into() } else { domains.join(", ") }
            ),
        );
    }
    push(
        "Retirement",
        if whole.is_empty() {
            format!(
                "Delete the drained servers at {}; cancel dedicated servers with notice; remove the site from the spec when nothing uses it.",
                source_sites.join(", ")
            )
        } else {
            format!(
                "Delete the old clusters and servers at {}; revoke and delete their credentials; cancel dedicated servers with notice; remove the provider from the spec when nothing uses it.",
                source_sites.join(", ")
            )
        },
    );
    ExitPlan {
        source: source.into(),
        source_kind: source_kind.into(),
        target: target.into(),
        target_kind: target_kind.into(),
        sites: moves,
        clusters: moved_clusters,
        steps,
        data,
        total_bytes,
        egress,
        diff,
        retargeted: after_text,
        findings,
        review: notes,
        error: None,
    }
}

/// Servers at the source sites (nodes of every cluster there), for the included traffic.
fn source_servers(spec: &hafen_spec::PlatformSpec, sources: &[String]) -> u64 {
    let at = |s: &str| sources.iter().any(|x| x == s);
    let mut n = 0u64;
    for k in &spec.clusters {
        let cp = k.control_plane_sites();
        for i in 0..k.control_plane.replicas as usize {
            if at(cp.get(i % cp.len().max(1)).copied().unwrap_or(&k.site)) {
                n += 1;
            }
        }
        for p in &k.node_pools {
            if at(k.pool_site(p)) {
                n += u64::from(p.count);
            }
        }
    }
    n
}

/// The volumes and database instances of the moved clusters that stand at the source sites,
/// where the planner's baseline placement puts them (the placement the scenarios use), and
/// whether their bytes leave the source: a copy that lives outside the source (a database
/// instance elsewhere, a storage replica on another site's node, a replica cluster's primary)
/// is what the new instance is built from instead.
fn data_at_source(
    loaded: &LoadedPlatform,
    sources: &[String],
    moved: &[String],
    whole: &[String],
) -> Vec<DataMove> {
    use crate::model::{CopyAt, WorkloadKind};
    let world = crate::model::build(loaded);
    let src: Vec<usize> =
        (0..world.sites.len()).filter(|&s| sources.iter().any(|x| *x == world.sites[s])).collect();
    let at_source = |site: usize| src.contains(&site);
    let mut out = Vec::new();
    for (ci, c) in world.clusters.iter().enumerate() {
        if !moved.contains(&c.name) {
            continue;
        }
        let base = crate::pack::baseline(&world, ci);
        let whole_move = whole.contains(&c.name);
        for (pos, &w) in c.workloads.iter().enumerate() {
            let wk = &world.workloads[w];
            let (mut here, mut elsewhere, mut stranded) = (0u64, 0u64, 0u64);
            for (r, &i) in base.placed[pos].iter().enumerate() {
                let node = &world.nodes[c.nodes.start + i as usize];
                if !at_source(node.site) {
                    elsewhere += 1;
                    continue;
                }
                here += 1;
                let outside = base.copies[pos].get(r).is_some_and(|set| {
                    set.iter().any(|x| match *x {
                        CopyAt::Node(g) => world.nodes.get(g).is_some_and(|n| !at_source(n.site)),
                        CopyAt::Site(s) => !at_source(s),
                    })
                });
                if !outside {
                    stranded += 1;
                }
            }
            if here == 0 {
                continue;
            }
            match wk.kind {
                WorkloadKind::Postgres => {
                    let size = wk.volumes.first().map(|v| v.bytes).unwrap_or(0);
                    let (bytes, method, leaves) = if let Some(p) = wk.standby_of {
                        let primary = &world.clusters[world.workloads[p].cluster].name;
                        (
                            size,
                            format!(
                                "the replica cluster is bootstrapped again at the target, streaming from the primary in `{primary}`; nothing is copied from the old replica"
                            ),
                            moved.contains(primary),
                        )
                    } else if elsewhere > 0 {
                        (
                            size.saturating_mul(here),
                            format!(
                                "{here} instance(s) at the source re-created at the target by CloudNativePG, cloned from the {elsewhere} outside it; nothing leaves the source"
                            ),
                            false,
                        )
                    } else if whole_move {
                        (
                            size,
                            "CloudNativePG replica cluster at the new site, streaming from the current primary; promote at cut-over".to_owned(),
                            true,
                        )
                    } else {
                        (
                            size.saturating_mul(here),
                            "new instances at the target cloned from the current primary one at a time (CloudNativePG), then switch over and remove the old ones".to_owned(),
                            true,
                        )
                    };
                    out.push(DataMove {
                        cluster: c.name.clone(),
                        app: wk.label(),
                        volume: "pgdata".into(),
                        bytes,
                        method,
                        leaves_source: leaves,
                    });
                }
                WorkloadKind::App => {
                    for vol in &wk.volumes {
                        let (name, size) = (&vol.name, vol.bytes);
                        // A shared volume is one copy however many replicas mount it.
                        let copies = |n: u64| if vol.shared { n.min(1) } else { n };
                        if stranded > 0 {
                            out.push(DataMove {
                                cluster: c.name.clone(),
                                app: wk.label(),
                                volume: name.clone(),
                                bytes: size.saturating_mul(copies(stranded)),
                                method: "volume copy (restic/Velero backup and restore, or rsync) per replica".into(),
                                leaves_source: true,
                            });
                        }
                        // A shared volume copied over already needs no rebuild.
                        if here > stranded && !(vol.shared && stranded > 0) {
                            out.push(DataMove {
                                cluster: c.name.clone(),
                                app: wk.label(),
                                volume: name.clone(),
                                bytes: size.saturating_mul(copies(here - stranded)),
                                method: "the storage layer rebuilds the replica at the target from its copy outside the source; nothing leaves the source".into(),
                                leaves_source: false,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

/// Bytes of one copy of every volume and database a cluster holds (its tenants' apps).
fn cluster_data_bytes(spec: &hafen_spec::PlatformSpec, cluster: &str) -> u64 {
    let mut bytes = 0u64;
    for t in spec.tenants.iter().filter(|t| t.clusters.iter().any(|c| c == cluster)) {
        for a in &t.apps {
            if let Some(pg) = &a.postgres {
                bytes = bytes.saturating_add(quantity::bytes(&pg.size).unwrap_or(0));
            }
            bytes = bytes.saturating_add(a.volume_bytes());
        }
    }
    bytes
}
