//! The sovereignty report: who can legally reach the data (jurisdiction of every provider and
//! every external endpoint the rendered platform depends on), scored on the three distinct
//! fears — data protection, independence, lock-in — with every contributing fact listed, EU or
//! self-hosted substitutes for US dependencies, and the framework mappings that are mechanical.

use crate::data::{self, HostFact};
use hafen_render::components::{Component, Operator};
use hafen_spec::{DnsProvider, LoadedPlatform, StorageDriver};
use serde::Serialize;
use std::collections::BTreeSet;

/// Sovereignty section.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SovereigntyReport {
    /// Providers and their jurisdiction.
    pub providers: Vec<ProviderJurisdiction>,
    /// External endpoints (bill of materials).
    pub dependencies: Vec<Dependency>,
    /// Scores for the platform as a whole.
    pub platform: Scores,
    /// Scores per tenant.
    pub tenants: Vec<TenantSovereignty>,
    /// EU Cloud Sovereignty Framework SEAL level, where mechanical.
    pub seal: Seal,
    /// SecNumCloud §19.6 checks per provider.
    pub sec_num_cloud: Vec<SecNumCloud>,
    /// What no spec can show.
    pub not_mechanical: Vec<String>,
}

/// A provider's legal facts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderJurisdiction {
    /// Provider name in the spec.
    pub provider: String,
    /// Catalogue type.
    #[serde(rename = "type")]
    pub type_: String,
    /// Operator.
    pub operator: String,
    /// Seat country.
    pub country: Option<String>,
    /// US parent (CLOUD Act reach).
    pub us_parent: bool,
    /// Sites at this provider.
    pub sites: Vec<String>,
    /// Where each of those sites stands: `{site, location, country}` (country null when the
    /// catalogue does not know the location).
    pub site_countries: Vec<SiteCountry>,
    /// Source and date.
    pub source: String,
}

/// The country a site stands in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteCountry {
    /// Site.
    pub site: String,
    /// The provider's location code.
    pub location: String,
    /// ISO 3166 country of the location, from the catalogue (or the spec's own locations).
    pub country: Option<String>,
}

/// One external endpoint.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dependency {
    /// `registry`, `git`, `dns`, `discovery`, `time`, `certificates`, `storage`, `charts`, ...
    pub purpose: String,
    /// Host.
    pub host: String,
    /// Who uses it: `platform`, clusters, or `tenant/<name>`.
    pub used_by: Vec<String>,
    /// Operator, when known.
    pub operator: Option<String>,
    /// Seat country, when known.
    pub country: Option<String>,
    /// US parent; none when unknown.
    pub us_parent: Option<bool>,
    /// `own` (a domain of this platform), `catalogue`, `spec` or `unknown`.
    pub known_from: String,
    /// Source and date of the fact.
    pub source: Option<String>,
    /// False when not re-read against a primary source.
    pub verified: bool,
    /// EU or self-hosted replacements.
    pub substitutes: Vec<String>,
}

/// One fact's contribution to a score.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contribution {
    /// Points taken off (negative).
    pub points: i32,
    /// The fact.
    pub fact: String,
}

/// A score out of 100 (100 = no concern found).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    /// 0–100.
    pub score: u32,
    /// `good` (≥ 80), `fair` (≥ 50) or `poor`.
    pub level: String,
    /// Derivation.
    pub contributions: Vec<Contribution>,
}

/// The three fears.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scores {
    /// Who can legally reach the data.
    pub data_protection: Score,
    /// Who can switch it off or break it.
    pub independence: Score,
    /// How hard it is to leave.
    pub lock_in: Score,
}

/// Per tenant.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSovereignty {
    /// Tenant.
    pub tenant: String,
    /// Processes personal data.
    pub personal_data: bool,
    /// Providers holding its data.
    pub providers: Vec<String>,
    /// Its external endpoints (hosts).
    pub dependencies: Vec<String>,
    /// Scores.
    pub scores: Scores,
}

/// SEAL mapping.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seal {
    /// `SEAL-0` … `SEAL-4`, the highest level the spec's facts support.
    pub level: String,
    /// Why.
    pub reasons: Vec<String>,
}

/// SecNumCloud §19.6 for one provider.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecNumCloud {
    /// Provider.
    pub provider: String,
    /// Registered office in the EU.
    pub seat_in_eu: Option<bool>,
    /// `fails`, `seat-passes-ownership-unchecked` or `unknown`.
    pub verdict: String,
    /// Why.
    pub reason: String,
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|x| x.1).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|x| x.1).unwrap_or(rest);
    let end = rest.find(['/', ':']).unwrap_or(rest.len());
    rest[..end].to_ascii_lowercase()
}

/// The registry host of an image reference (`nginx` → `docker.io`).
pub fn image_registry(image: &str) -> String {
    match image.split_once('/') {
        Some((first, _)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            first.split(':').next().unwrap_or(first).to_ascii_lowercase()
        }
        _ => "docker.io".into(),
    }
}

/// Substitutes by purpose, for US hosts the endpoint facts do not list.
fn generic_substitutes(purpose: &str) -> Vec<String> {
    let s: &[&str] = match purpose {
        "charts" => &["charts mirrored as OCI artifacts into the platform registry"],
        "registry" => &["self-hosted Harbor or Zot pull-through cache (cluster.registryMirror)"],
        "dns" => &["deSEC (DE)", "Hetzner DNS (DE)", "own PowerDNS/Knot with RFC 2136"],
        "git" => &["Codeberg (DE)", "self-hosted Forgejo"],
        "storage" => &["object storage at an EU provider or a second own site"],
        _ => &["an EU-operated or self-hosted equivalent"],
    };
    s.iter().map(|x| (*x).to_owned()).collect()
}

struct Collector<'a> {
    loaded: &'a LoadedPlatform,
    own: Vec<String>,
    deps: Vec<Dependency>,
}

impl Collector<'_> {
    fn is_own(&self, host: &str) -> bool {
        self.own.iter().any(|d| host == d || host.ends_with(&format!(".{d}")))
    }

    fn add(&mut self, purpose: &str, host: &str, user: &str) {
        self.add_with(purpose, host, user, None);
    }

    fn add_with(&mut self, purpose: &str, host: &str, user: &str, rendered: Option<&Operator>) {
        if host.is_empty() {
            return;
        }
        if let Some(d) = self.deps.iter_mut().find(|d| d.purpose == purpose && d.host == host) {
            if !d.used_by.iter().any(|u| u == user) {
                d.used_by.push(user.to_owned());
            }
            return;
        }
        let spec_ep =
            self.loaded.platform.spec.endpoints.iter().find(|e| {
                host_of(&e.url) == host && (e.country.is_some() || e.us_parent.is_some())
            });
        let fact: Option<&HostFact> = data::endpoints().lookup(host);
        let dep = if let Some(e) = spec_ep {
            Dependency {
                purpose: purpose.into(),
                host: host.into(),
                used_by: vec![user.into()],
                operator: e.operator.clone(),
                country: e.country.clone(),
                us_parent: e.us_parent,
                known_from: "spec".into(),
                source: Some(format!("spec.endpoints `{}`", e.name)),
                verified: true,
                substitutes: Vec::new(),
            }
        } else if self.is_own(host) {
            Dependency {
                purpose: purpose.into(),
                host: host.into(),
                used_by: vec![user.into()],
                operator: Some("this platform's operator (own domain)".into()),
                country: None,
                us_parent: Some(false),
                known_from: "own".into(),
                source: None,
                verified: true,
                substitutes: Vec::new(),
            }
        } else if let Some(f) = fact {
            Dependency {
                purpose: purpose.into(),
                host: host.into(),
                used_by: vec![user.into()],
                operator: Some(f.operator.clone()),
                country: f.country.clone(),
                us_parent: Some(f.us_parent),
                known_from: "catalogue".into(),
                source: Some(format!("{} ({})", f.source, f.date)),
                verified: f.verified,
                substitutes: if f.us_parent { f.substitutes.clone() } else { Vec::new() },
            }
        } else if let Some(op) = rendered {
            Dependency {
                purpose: purpose.into(),
                host: host.into(),
                used_by: vec![user.into()],
                operator: Some(op.operator.clone()),
                country: op.country.clone(),
                us_parent: Some(op.us_parent),
                known_from: "render-data".into(),
                source: Some(
                    "operators of data/components.yaml (the renderer's component facts)".into(),
                ),
                verified: false,
                substitutes: if op.us_parent { generic_substitutes(purpose) } else { Vec::new() },
            }
        } else {
            Dependency {
                purpose: purpose.into(),
                host: host.into(),
                used_by: vec![user.into()],
                operator: None,
                country: None,
                us_parent: None,
                known_from: "unknown".into(),
                source: None,
                verified: false,
                substitutes: Vec::new(),
            }
        };
        self.deps.push(dep);
    }
}

fn score(contributions: Vec<Contribution>) -> Score {
    let total: i32 = contributions.iter().map(|c| c.points).sum();
    let s = (100 + total).clamp(0, 100) as u32;
    let level = if s >= 80 {
        "good"
    } else if s >= 50 {
        "fair"
    } else {
        "poor"
    };
    Score { score: s, level: level.into(), contributions }
}

fn c(points: i32, fact: String) -> Contribution {
    Contribution { points, fact }
}

/// Scores for a set of clusters, providers and dependencies.
fn scores(
    providers: &[&ProviderJurisdiction],
    deps: &[&Dependency],
    clusters: &[&hafen_spec::Cluster],
    personal_data: bool,
) -> Scores {
    let eu = data::endpoints();
    let mut dp = Vec::new();
    let mut ind = Vec::new();
    let mut lock = Vec::new();
    for p in providers {
        if p.us_parent {
            dp.push(c(
                if personal_data { -45 } else { -35 },
                format!(
                    "provider `{}` ({}) has a US parent: the US CLOUD Act reaches the data wherever the servers stand{}",
                    p.provider,
                    p.operator,
                    if personal_data { "; personal data makes this a GDPR transfer question" } else { "" }
                ),
            ));
        } else if let Some(country) = &p.country
            && !eu.is_eu(country)
        {
            dp.push(c(
                -20,
                format!("provider `{}` is seated outside the EU/EEA ({country})", p.provider),
            ));
        } else if p.country.is_none() {
            dp.push(c(-5, format!("provider `{}` has no declared seat country", p.provider)));
        }
        for sc in &p.site_countries {
            let used = clusters.iter().any(|k| {
                k.sites().contains(&sc.site.as_str())
                    || k.backups.as_ref().and_then(|b| b.site.as_deref()) == Some(sc.site.as_str())
            });
            if let Some(country) = &sc.country
                && used
                && !eu.is_eu(country)
            {
                dp.push(c(
                    -20,
                    format!(
                        "site `{}` stands in {country}, outside the EU/EEA: the data there is under that country's law",
                        sc.site
                    ),
                ));
            }
        }
    }
    let mut us_by_purpose: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut unknown_hosts: Vec<String> = Vec::new();
    for d in deps {
        let us = d.us_parent == Some(true);
        let unknown = d.us_parent.is_none();
        let who = d.operator.clone().unwrap_or_else(|| "unknown operator".into());
        // Telemetry carries data about the platform and its users out: a privacy question
        // first, whoever runs the receiving end.
        if d.purpose == "telemetry" && (us || unknown) {
            dp.push(c(
                -10,
                if us {
                    format!("telemetry goes to `{}` ({who}): usage data leaves to a US-controlled party", d.host)
                } else {
                    format!(
                        "telemetry goes to `{}`, whose operator and jurisdiction are unknown: usage data leaves to a party nobody has identified (declare it in spec.endpoints, or switch the telemetry off)",
                        d.host
                    )
                },
            ));
        }
        match (d.purpose.as_str(), us, unknown) {
            ("storage", true, _) => dp.push(c(
                -30,
                format!("backups at `{}` ({who}): a US-controlled copy of all data", d.host),
            )),
            ("storage", _, true) => {
                dp.push(c(-10, format!("backup target `{}` has no known jurisdiction", d.host)))
            }
            ("git", true, _) => {
                dp.push(c(-10, format!("the platform repository (topology, encrypted secrets) is hosted at `{}` ({who})", d.host)));
                ind.push(c(-10, format!("delivery stops when `{}` ({who}) is unreachable or the account is suspended", d.host)));
            }
            ("dns", true, _) => {
                dp.push(c(
                    -5,
                    format!(
                        "DNS at `{}` ({who}) sees every lookup of the platform's names",
                        d.host
                    ),
                ));
                ind.push(c(
                    -15,
                    format!("DNS for the platform's names is run by `{}` ({who})", d.host),
                ));
                lock.push(c(-5, format!("records are managed through `{}`'s API", d.host)));
            }
            ("discovery", true, _) => {
                ind.push(c(-10, format!("node discovery through `{}` ({who})", d.host)))
            }
            ("certificates", true, _) => ind.push(c(
                -5,
                format!(
                    "certificates renew through `{}` ({who}); an outage stops renewals",
                    d.host
                ),
            )),
            // Many hosts of one kind weigh as one capped fact, listed together below.
            (purpose, true, _) => {
                us_by_purpose.entry(purpose.to_owned()).or_default().push(d.host.clone())
            }
            (_, _, true) => unknown_hosts.push(format!("{} ({})", d.host, d.purpose)),
            _ => {}
        }
    }
    // (points per host, cap, what it means)
    let weight = |purpose: &str| -> (i32, i32, &'static str) {
        match purpose {
            "registry" => (-8, -24, "images pulled without a mirror on the path from"),
            "image-factory" => (-5, -5, "node images built by"),
            "charts" => (-2, -8, "charts fetched from"),
            "time" => (-5, -5, "time from"),
            _ => (-5, -10, "calls"),
        }
    };
    for (purpose, hosts) in &us_by_purpose {
        let (per, cap, what) = weight(purpose);
        let points = (per * hosts.len() as i32).max(cap);
        ind.push(c(
            points,
            format!(
                "{purpose}: {what} US-controlled {}",
                hosts.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    if !unknown_hosts.is_empty() {
        ind.push(c(
            (-2 * unknown_hosts.len() as i32).max(-6),
            format!(
                "no known jurisdiction (declare them in spec.endpoints): {}",
                unknown_hosts.join(", ")
            ),
        ));
    }
    // Two accounts (cloud and dedicated) at one company are still one company.
    let provider_names: BTreeSet<&str> = providers.iter().map(|p| p.operator.as_str()).collect();
    let mut sites: BTreeSet<&str> = BTreeSet::new();
    for k in clusters {
        for s in k.sites() {
            sites.insert(s);
        }
    }
    if provider_names.len() == 1 && !clusters.is_empty() {
        let p = provider_names.iter().next().copied().unwrap_or_default();
        ind.push(c(-15, format!("every cluster runs at one company ({p}): one account suspension or company-wide incident takes everything")));
        lock.push(c(
            -10,
            format!(
                "no second company is in use: leaving {p} means building the alternative first"
            ),
        ));
    }
    if sites.len() == 1 && !clusters.is_empty() {
        ind.push(c(-10, "everything stands at one site".into()));
    }
    for k in clusters {
        match k.storage.as_ref().map(|s| s.default) {
            Some(StorageDriver::HcloudVolumes) => lock.push(c(-8, format!("cluster `{}` keeps volumes in provider block storage (CSI-specific; data must be copied out to leave)", k.name))),
            Some(StorageDriver::Piraeus | StorageDriver::Longhorn | StorageDriver::LocalPath) | None => {}
        }
        if let Some(d) = &k.dns {
            match d.provider {
                DnsProvider::Hetzner | DnsProvider::Ovh => lock.push(c(
                    -3,
                    format!("cluster `{}` manages DNS through a provider API", k.name),
                )),
                DnsProvider::Rfc2136
                | DnsProvider::Pdns
                | DnsProvider::Cloudflare
                | DnsProvider::Route53 => {}
            }
        }
        // No spec field selects a provider's managed Kubernetes: every control plane is
        // rendered self-managed (Talos or K3s), so the provider's category adds no lock-in.
    }
    if lock.is_empty() {
        lock.push(c(0, "plain Kubernetes, GitOps repository and portable storage: nothing provider-specific found".into()));
    }
    Scores { data_protection: score(dp), independence: score(ind), lock_in: score(lock) }
}

/// Builds the sovereignty section.
pub fn sovereignty(loaded: &LoadedPlatform) -> SovereigntyReport {
    let spec = &loaded.platform.spec;
    let eu = data::endpoints();
    let mut providers = Vec::new();
    for p in &spec.providers {
        let info = loaded.catalog.provider(&p.type_);
        let (operator, mut country, mut us, source) = match info {
            Some(i) => (
                i.company.name.clone(),
                i.company.country.clone(),
                i.company.us_parent,
                format!("{} ({})", i.company.source, i.company.date),
            ),
            None => ("unknown".into(), None, false, "not in the catalogue".into()),
        };
        if let Some(legal) = &p.legal {
            country = Some(legal.country.clone());
            us = legal.us_parent;
        }
        let here: Vec<&hafen_spec::Site> =
            spec.sites.iter().filter(|s| s.provider == p.name).collect();
        providers.push(ProviderJurisdiction {
            provider: p.name.clone(),
            type_: p.type_.clone(),
            operator,
            country,
            us_parent: us,
            sites: here.iter().map(|s| s.name.clone()).collect(),
            site_countries: here
                .iter()
                .map(|s| SiteCountry {
                    site: s.name.clone(),
                    location: s.location.clone(),
                    country: info.and_then(|i| i.location(&s.location)).map(|l| l.country.clone()),
                })
                .collect(),
            source,
        });
    }
    // Domains that are the platform's own.
    let mut own: Vec<String> = Vec::new();
    for k in &spec.clusters {
        if let Some(d) = &k.dns {
            own.push(d.zone.to_ascii_lowercase());
        }
    }
    for t in &spec.tenants {
        for a in &t.apps {
            for d in &a.domains {
                let parts: Vec<&str> = d.split('.').collect();
                if parts.len() >= 2 {
                    own.push(parts[parts.len() - 2..].join(".").to_ascii_lowercase());
                }
            }
        }
    }
    own.sort();
    own.dedup();
    let mut col = Collector { loaded, own, deps: Vec::new() };
    let repo = &spec.gitops.repo;
    let git_host = if let Some(rest) = repo.strip_prefix("git@") {
        rest.split(':').next().unwrap_or("").to_ascii_lowercase()
    } else {
        host_of(repo)
    };
    col.add("git", &git_host, "platform");
    // What the rendered platform calls, component by component: the renderer's own list
    // (`hafen_render::components`), so the bill of materials matches the repository.
    let purpose_of = |p: &str| -> String {
        match p {
            "chart-repository" | "provider-manifests" => "charts",
            "image-registry" | "registry-mirror" => "registry",
            "acme" => "certificates",
            "ntp" => "time",
            "object-storage" => "storage",
            "secret-store" => "secrets",
            other => other,
        }
        .to_owned()
    };
    let add_components = |col: &mut Collector<'_>, comps: &[Component], user: &str| {
        for c in comps {
            for e in &c.endpoints {
                // A pull-through mirror takes the upstream registries off the nodes' path.
                if e.purpose == "image-registry" && c.mirror.is_some() {
                    continue;
                }
                col.add_with(&purpose_of(&e.purpose), &e.host, user, e.operator.as_ref());
            }
        }
    };
    add_components(
        &mut col,
        &hafen_render::components::management_components(loaded),
        "management",
    );
    for k in &spec.clusters {
        let comps = hafen_render::components::components(loaded, k);
        add_components(&mut col, &comps, &format!("cluster/{}", k.name));
    }
    for t in &spec.tenants {
        for a in &t.apps {
            col.add("registry", &image_registry(&a.image), &format!("tenant/{}", t.name));
        }
    }
    for e in &spec.endpoints {
        let purpose = serde_json::to_value(e.purpose)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "other".into());
        col.add(&purpose, &host_of(&e.url), "platform");
    }
    let deps = col.deps;
    let all_clusters: Vec<&hafen_spec::Cluster> = spec.clusters.iter().collect();
    let used_providers: Vec<&ProviderJurisdiction> = providers
        .iter()
        .filter(|p| {
            spec.clusters.iter().any(|k| k.sites().iter().any(|s| p.sites.iter().any(|x| x == s)))
        })
        .collect();
    let any_personal = spec.tenants.iter().any(|t| t.personal_data);
    let platform_deps: Vec<&Dependency> = deps.iter().collect();
    let platform = scores(&used_providers, &platform_deps, &all_clusters, any_personal);
    let mut tenants = Vec::new();
    for t in &spec.tenants {
        let clusters: Vec<&hafen_spec::Cluster> =
            spec.clusters.iter().filter(|k| t.clusters.contains(&k.name)).collect();
        let provs: Vec<&ProviderJurisdiction> = providers
            .iter()
            .filter(|p| {
                clusters.iter().any(|k| k.sites().iter().any(|s| p.sites.iter().any(|x| x == s)))
            })
            .collect();
        let users: Vec<String> = clusters
            .iter()
            .map(|k| format!("cluster/{}", k.name))
            .chain([format!("tenant/{}", t.name), "platform".into()])
            .collect();
        let tdeps: Vec<&Dependency> =
            deps.iter().filter(|d| d.used_by.iter().any(|u| users.contains(u))).collect();
        tenants.push(TenantSovereignty {
            tenant: t.name.clone(),
            personal_data: t.personal_data,
            providers: provs.iter().map(|p| p.provider.clone()).collect(),
            dependencies: tdeps.iter().map(|d| d.host.clone()).collect(),
            scores: scores(&provs, &tdeps, &clusters, t.personal_data),
        });
    }
    // SEAL: the part of the scale the spec's facts decide.
    let mut reasons = Vec::new();
    let us_provider = used_providers.iter().any(|p| p.us_parent);
    let us_runtime: Vec<&Dependency> = deps
        .iter()
        .filter(|d| {
            d.us_parent == Some(true)
                && matches!(
                    d.purpose.as_str(),
                    "registry" | "dns" | "discovery" | "git" | "storage"
                )
        })
        .collect();
    // Where the data stands: the sites the clusters and their backups use.
    let data_sites: BTreeSet<&str> = spec
        .clusters
        .iter()
        .flat_map(|k| {
            k.sites().into_iter().chain(k.backups.as_ref().and_then(|b| b.site.as_deref()))
        })
        .collect();
    let outside: Vec<String> = providers
        .iter()
        .flat_map(|p| &p.site_countries)
        .filter(|sc| data_sites.contains(sc.site.as_str()))
        .filter_map(|sc| {
            let country = sc.country.as_deref()?;
            (!eu.is_eu(country)).then(|| format!("`{}` ({}, {country})", sc.site, sc.location))
        })
        .collect();
    let non_eu_seat: Vec<&ProviderJurisdiction> = used_providers
        .iter()
        .copied()
        .filter(|p| !p.us_parent && p.country.as_deref().is_some_and(|c| !eu.is_eu(c)))
        .collect();
    let level = if !outside.is_empty() {
        reasons.push(format!(
            "data stands outside the EU/EEA at {}: not even formal EU jurisdiction holds there (SEAL-0)",
            outside.join(", ")
        ));
        if us_provider {
            reasons.push(
                "a provider holding data has a US parent as well: with EU sites it would reach SEAL-1 at most".into(),
            );
        }
        "SEAL-0"
    } else if us_provider || !non_eu_seat.is_empty() {
        reasons.push(if us_provider {
            "a provider holding data has a US parent: its servers stand in the EU, but non-EU control means formal EU jurisdiction only (SEAL-1 at most)".into()
        } else {
            format!(
                "provider {} is controlled from outside the EU: formal EU jurisdiction only (SEAL-1 at most)",
                non_eu_seat.iter().map(|p| format!("`{}`", p.provider)).collect::<Vec<_>>().join(", ")
            )
        });
        "SEAL-1"
    } else if !us_runtime.is_empty() {
        reasons.push(
            "every provider is EU-controlled, so EU law is enforceable on the data (SEAL-2)".into(),
        );
        reasons.push(format!(
            "SEAL-3 (technological resilience) is not reached: the runtime depends on US-controlled {}",
            us_runtime.iter().map(|d| format!("`{}` ({})", d.host, d.purpose)).collect::<Vec<_>>().join(", ")
        ));
        "SEAL-2"
    } else {
        reasons.push("every provider is EU-controlled and no runtime dependency (registry path, DNS, discovery, Git, backups) is US-controlled (SEAL-3 as far as a spec can show)".into());
        reasons.push("SEAL-4 needs supply-chain evidence (hardware and firmware origin, SOV-5) that a spec cannot carry".into());
        "SEAL-3"
    };
    let sec_num_cloud = providers
        .iter()
        .map(|p| {
            let seat = p.country.as_deref().map(|c| eu.is_eu(c));
            let (verdict, reason) = if p.us_parent {
                ("fails", "a US parent holds more than the 24 % individual non-EU threshold of §19.6".to_owned())
            } else {
                match seat {
                    Some(true) => ("seat-passes-ownership-unchecked", "registered office in the EU; the ≤24 % individual / ≤39 % collective non-EU holding thresholds need the shareholder register".to_owned()),
                    Some(false) => ("fails", "registered office outside the EU".to_owned()),
                    None => ("unknown", "no seat country known".to_owned()),
                }
            };
            SecNumCloud { provider: p.provider.clone(), seat_in_eu: seat, verdict: verdict.into(), reason }
        })
        .collect();
    SovereigntyReport {
        providers,
        dependencies: deps,
        platform,
        tenants,
        seal: Seal { level: level.into(), reasons },
        sec_num_cloud,
        not_mechanical: vec![
            "SEAL levels weigh eight objectives (CSF v1.2.1; weights from secondary sources); only ownership/jurisdiction (SOV-1/2) and runtime dependencies (SOV-3/4/6 in part) follow from a spec".into(),
            "supply chain (SOV-5: hardware and firmware origin), security certifications and audits (SOV-7), environmental criteria (SOV-8) and where support staff sit (SOV-4) need evidence outside the spec".into(),
            "SecNumCloud ownership shares and control rights need the provider's shareholder register; the catalogue only records the seat and whether there is a US parent".into(),
        ],
    }
}
