//! The exit plan: everything at a source (provider or site) moved to a target (provider, site
//! or catalogue provider type) — the ordered steps, the retargeted spec as a unified diff, the
//! data to move with its egress cost, and the findings the target would raise.

use crate::diff;
use crate::scenario::round2;
use hafen_catalog::{Catalog, ProviderInfo, ServerType};
use hafen_spec::{LoadedPlatform, Platform, StorageDriver, quantity};
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
    /// Findings of the loader and the rule catalogue on the retargeted spec.
    pub findings: Vec<Finding>,
    /// Why the plan could not be made, when it could not.
    pub error: Option<String>,
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
    /// How: `postgres replica cluster` or `volume copy`.
    pub method: String,
}

/// What moving the data costs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressCost {
    /// TB (10^12 bytes).
    pub tb: f64,
    /// Overage price at the source, EUR/TB.
    #[serde(rename = "eurPerTB")]
    pub eur_per_tb: f64,
    /// tb × price, if none of it is covered by included traffic.
    #[serde(rename = "eur")]
    pub eur: f64,
    /// Included traffic at the source per month, TB, which may absorb it.
    #[serde(rename = "includedTB")]
    pub included_tb: Option<f64>,
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

/// The target's smallest server type with at least the cores and memory of `st` (same
/// architecture preferred), or its largest when none is big enough.
fn map_type(target: &ProviderInfo, st: &ServerType) -> Option<String> {
    let mut fits: Vec<&ServerType> = target
        .server_types
        .iter()
        .filter(|t| t.cores >= st.cores && t.memory_gib >= st.memory_gib)
        .collect();
    fits.sort_by(|a, b| {
        (a.arch != st.arch)
            .cmp(&(b.arch != st.arch))
            .then((a.cpu != st.cpu).cmp(&(b.cpu != st.cpu)))
            .then(a.price.monthly_eur.total_cmp(&b.price.monthly_eur))
            .then(a.name.cmp(&b.name))
    });
    fits.first().map(|t| t.name.clone()).or_else(|| {
        target
            .server_types
            .iter()
            .max_by(|a, b| a.cores.cmp(&b.cores).then(a.memory_gib.total_cmp(&b.memory_gib)))
            .map(|t| t.name.clone())
    })
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
            included_tb: None,
            source: String::new(),
        },
        diff: String::new(),
        findings: Vec::new(),
        error: Some(error),
    }
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
        return empty(
            source,
            target,
            format!("`{source}` is neither a provider nor a site of this platform"),
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
        return empty(
            source,
            target,
            format!(
                "`{target}` is not a site, a provider or a catalogue provider type (known types: {})",
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
    for s in &source_sites {
        let Some(old) = spec.site(s) else { continue };
        let old_info = spec.provider(&old.provider).and_then(|p| catalog.provider(&p.type_));
        let (to, location) = match &target_site {
            Some(t) => (t.clone(), spec.site(t).map(|x| x.location.clone()).unwrap_or_default()),
            None => {
                // Nearest location of the target provider (by coordinates when both are known).
                let here = old_info.and_then(|i| i.location(&old.location));
                let loc = tinfo
                    .locations
                    .iter()
                    .min_by(|a, b| {
                        let d = |l: &hafen_catalog::Location| match (here, l.latitude, l.longitude)
                        {
                            (Some(h), Some(la), Some(lo)) => {
                                let (hla, hlo) =
                                    (h.latitude.unwrap_or(la), h.longitude.unwrap_or(lo));
                                (hla - la).powi(2) + (hlo - lo).powi(2)
                            }
                            _ => f64::MAX,
                        };
                        d(a).total_cmp(&d(b)).then(a.name.cmp(&b.name))
                    })
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                (dns_label(&format!("{loc}-{target_provider}")), loc)
            }
        };
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
                    && let Some(new) = map_type(tinfo, st)
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
    // Rewrite sites.
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
                s.network.vswitch = None;
                s.network.interface = None;
                new_sites.push(s);
            }
        } else {
            new_sites.push(site.clone());
        }
    }
    after.spec.sites = new_sites;
    let cloud_storage = tinfo.volumes.is_some() && tinfo.type_ == "hetzner-cloud";
    let mut moved_clusters = Vec::new();
    for k in after.spec.clusters.iter_mut() {
        let touches = k.sites().iter().any(|s| source_sites.iter().any(|x| x == s));
        if !touches {
            continue;
        }
        moved_clusters.push(k.name.clone());
        let cp_site = k.control_plane_sites().first().map(|s| (*s).to_owned()).unwrap_or_default();
        k.control_plane.server_type = map_st(&cp_site, &k.control_plane.server_type);
        for s in k.control_plane.sites.iter_mut() {
            *s = rename(s);
        }
        let cluster_site = k.site.clone();
        for p in k.node_pools.iter_mut() {
            let ps = p.site.clone().unwrap_or_else(|| cluster_site.clone());
            p.server_type = map_st(&ps, &p.server_type);
            if let Some(s) = p.site.as_mut() {
                *s = rename(s);
            }
        }
        k.site = rename(&k.site);
        if let Some(st) = k.storage.as_mut() {
            match (st.default, cloud_storage) {
                (StorageDriver::HcloudVolumes, false) => st.default = StorageDriver::Piraeus,
                (
                    StorageDriver::Piraeus | StorageDriver::Longhorn | StorageDriver::LocalPath,
                    true,
                ) => {}
                _ => {}
            }
        }
    }
    for k in after.spec.clusters.iter_mut() {
        if let Some(b) = k.backups.as_mut() {
            if let Some(s) = b.site.as_mut() {
                *s = rename(s);
            }
            if source_kind == "provider" && b.provider.as_deref() == Some(source) {
                b.provider = Some(target_provider.clone());
            }
        }
    }
    for l in after.spec.links.iter_mut() {
        for s in l.sites.iter_mut() {
            *s = rename(s);
        }
    }
    after.spec.links.retain(|l| l.sites.first() != l.sites.get(1));
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
    // The source provider goes when nothing uses it any more.
    if source_kind == "provider" {
        let used = after.spec.sites.iter().any(|s| s.provider == source);
        if !used {
            after.spec.providers.retain(|p| p.name != source);
        }
    } else {
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
    for d in all.iter().filter(|d| d.suppressed.is_none()) {
        findings.push(Finding {
            code: d.code.to_owned(),
            severity: format!("{:?}", d.severity).to_ascii_lowercase(),
            message: d.message.clone(),
        });
    }
    // Data to move.
    let mut data = Vec::new();
    for t in &spec.tenants {
        for c in t.clusters.iter().filter(|c| moved_clusters.contains(c)) {
            for a in &t.apps {
                if let Some(pg) = &a.postgres {
                    data.push(DataMove {
                        cluster: c.clone(),
                        app: format!("{}/{}-db", t.name, a.name),
                        volume: "pgdata".into(),
                        bytes: quantity::bytes(&pg.size).unwrap_or(0),
                        method: "CloudNativePG replica cluster at the new site, streaming from the current primary; promote at cut-over".into(),
                    });
                }
                for v in &a.volumes {
                    data.push(DataMove {
                        cluster: c.clone(),
                        app: format!("{}/{}", t.name, a.name),
                        volume: v.name.clone(),
                        bytes: quantity::bytes(&v.size)
                            .unwrap_or(0)
                            .saturating_mul(u64::from(a.replicas.max(1))),
                        method:
                            "volume copy (restic/Velero backup and restore, or rsync) per replica"
                                .into(),
                    });
                }
            }
        }
    }
    let total_bytes: u64 = data.iter().fold(0u64, |a, d| a.saturating_add(d.bytes));
    let tb = total_bytes as f64 / 1e12;
    let src_info = source_sites
        .first()
        .and_then(|s| spec.site_provider(s))
        .and_then(|p| catalog.provider(&p.type_));
    let egress = match src_info.and_then(|i| i.traffic.as_ref()) {
        Some(t) => EgressCost {
            tb: (tb * 1000.0).round() / 1000.0,
            eur_per_tb: t.overage_eur_per_tb,
            eur: round2(tb * t.overage_eur_per_tb),
            included_tb: t.included_tb_per_server,
            source: format!("{} ({})", t.source, t.date),
        },
        None => EgressCost {
            tb,
            eur_per_tb: 0.0,
            eur: 0.0,
            included_tb: None,
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
    push(
        "New site",
        format!(
            "Declare {site_list} at {} and check stock before ordering{}; map server types {}.",
            tinfo.display_name,
            if tinfo.type_.starts_with("hetzner") {
                " (Hetzner API: server_types[].locations[].available)"
            } else {
                ""
            },
            moves
                .iter()
                .flat_map(|m| m.server_types.iter().map(|t| format!("{}→{}", t.from, t.to)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    push(
        "New cluster",
        format!(
            "Render and bootstrap {} at the new site next to the old one (temporary names, non-overlapping pod/service CIDRs while both are meshed); deliver tenants with GitOps.",
            moved_clusters.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
        ),
    );
    push(
        "Replicate data at application level",
        format!(
            "{} item(s), {:.1} GB: databases as CloudNativePG replica clusters streaming from the current primaries, volumes by backup/restore; verify with a restore test.",
            data.len(),
            total_bytes as f64 / 1e9
        ),
    );
    let domains: Vec<String> = spec
        .tenants
        .iter()
        .filter(|t| t.clusters.iter().any(|c| moved_clusters.contains(c)))
        .flat_map(|t| t.apps.iter().flat_map(|a| a.domains.iter().cloned()))
        .collect();
    push(
        "DNS cut-over",
        format!(
            "Lower TTLs a day ahead; promote the replica databases; switch {} to the new ingress; keep the old cluster read-only until traffic has drained.",
            if domains.is_empty() { "service records".into() } else { domains.join(", ") }
        ),
    );
    push(
        "Retirement",
        format!(
            "Delete the old clusters and servers at {}; revoke and delete their credentials; cancel dedicated servers with notice; remove the provider from the spec when nothing uses it.",
            source_sites.join(", ")
        ),
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
        findings,
        error: None,
    }
}
