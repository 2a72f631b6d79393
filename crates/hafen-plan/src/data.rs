//! Facts the planner reasons with — kubelet reservations, comparison prices, endpoint
//! jurisdictions — kept as dated, sourced YAML under `data/plan/` and embedded here,
//! so a price or an operator changes in a data file, never in code.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const RESERVATION: &str = include_str!("../../../data/plan/reservation.yaml");
const COMPARISON: &str = include_str!("../../../data/plan/comparison.yaml");
const ENDPOINTS: &str = include_str!("../../../data/plan/endpoints.yaml");

/// One slice of a tiered reservation: `fraction` of everything up to `upto` (cumulative).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tier {
    /// Upper end of the slice in GiB (memory) or cores (CPU); none for the last slice.
    #[serde(alias = "uptoGiB", alias = "uptoCores")]
    pub upto: Option<f64>,
    /// Share of the slice reserved.
    pub fraction: f64,
}

/// kube-reserved tiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeReserved {
    /// Where the formula comes from.
    pub source: String,
    /// When it was read.
    pub date: String,
    /// Memory slices.
    pub memory_tiers: Vec<Tier>,
    /// CPU slices.
    pub cpu_tiers: Vec<Tier>,
}

/// The kubelet's hard eviction threshold.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Eviction {
    /// MiB kept free.
    #[serde(rename = "memoryMiB")]
    pub memory_mib: u64,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
}

/// What the OS reserves by itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemReserved {
    /// Millicores.
    pub cpu_millis: u64,
    /// MiB on workers.
    #[serde(rename = "workerMemoryMiB")]
    pub worker_memory_mib: u64,
    /// MiB on control-plane nodes.
    #[serde(rename = "controlPlaneMemoryMiB")]
    pub control_plane_memory_mib: u64,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
}

/// Per-OS system reservations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SystemReservedByOs {
    /// Talos.
    pub talos: SystemReserved,
    /// K3s.
    pub k3s: SystemReserved,
}

/// Pods per node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MaxPods {
    /// Default pod limit.
    pub per_node: u64,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
}

/// `data/plan/reservation.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    /// kube-reserved.
    pub kube_reserved: KubeReserved,
    /// Eviction threshold.
    pub eviction_hard: Eviction,
    /// OS reservations.
    pub system_reserved: SystemReservedByOs,
    /// Pod limit.
    pub max_pods: MaxPods,
}

/// An egress price slice.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressTier {
    /// Cumulative upper end in the offer's unit; none for the last.
    #[serde(rename = "uptoGB")]
    pub upto_gb: Option<f64>,
    /// Price per unit.
    #[serde(rename = "perGB")]
    pub per_gb: f64,
}

/// A comparison offer (hyperscaler or EU managed Kubernetes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// Id.
    pub name: String,
    /// For people.
    pub display_name: String,
    /// `us-hyperscaler` or `eu-managed`.
    pub kind: String,
    /// `USD` or `EUR`.
    pub currency: String,
    /// Price per vCPU-hour.
    pub vcpu_hour: f64,
    /// Price per GB-hour of memory.
    pub gb_hour: f64,
    /// Source of the compute prices.
    pub compute_source: String,
    /// Date of the compute prices.
    pub compute_date: String,
    /// Control-plane fee per cluster and month.
    pub control_plane_monthly: f64,
    /// Source.
    pub control_plane_source: String,
    /// Date.
    pub control_plane_date: String,
    /// Free egress per month in the offer's unit.
    #[serde(rename = "egressFreeGB")]
    pub egress_free_gb: f64,
    /// `GB` (10^9 bytes) or `GiB`.
    pub egress_unit: String,
    /// Tiers.
    pub egress_tiers: Vec<EgressTier>,
    /// Source.
    pub egress_source: String,
    /// Date.
    pub egress_date: String,
    /// False when not checked.
    #[serde(default)]
    pub verified: bool,
}

/// A dated exchange rate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rate {
    /// EUR per USD.
    pub rate: f64,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
}

/// `data/plan/comparison.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    /// Hours billed per month.
    pub hours_per_month: f64,
    /// USD → EUR.
    pub usd_to_eur: Rate,
    /// Offers.
    pub offers: Vec<Offer>,
    /// The field reports' cost claims and which figures check them.
    pub seed_facts: SeedFacts,
}

/// A claim from the field reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// The claim as the report makes it.
    pub claim: String,
    /// Where it is made.
    pub source: String,
}

/// The egress claim and the figures that check it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EgressClaim {
    /// The claim.
    #[serde(flatten)]
    pub claim: Claim,
    /// Terabytes.
    pub tb: f64,
    /// Comparison offer of the hyperscaler side.
    pub offer: String,
    /// Catalogue provider type of the other side.
    pub provider: String,
    /// What the claim says the hyperscaler side cost, EUR.
    #[serde(rename = "offerEUR")]
    pub offer_eur: f64,
    /// What the claim says the other side cost, EUR.
    #[serde(rename = "providerEUR")]
    pub provider_eur: f64,
}

/// Bare metal against cloud, per core.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerCoreClaim {
    /// The claim.
    #[serde(flatten)]
    pub claim: Claim,
    /// Catalogue type of the bare-metal side.
    pub metal: String,
    /// Catalogue type of the cloud side.
    pub cloud: String,
}

/// `seedFacts` of `data/plan/comparison.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedFacts {
    /// Egress on a hyperscaler against Hetzner.
    pub egress: EgressClaim,
    /// Managed Kubernetes markup.
    pub managed_markup: Claim,
    /// Bare metal per core.
    pub metal_per_core: PerCoreClaim,
}

/// Who runs a host.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostFact {
    /// Host or domain suffix.
    pub host: String,
    /// Operator.
    pub operator: String,
    /// ISO country; none when mixed.
    pub country: Option<String>,
    /// True when US-controlled.
    pub us_parent: bool,
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
    /// False when not re-read against a primary source.
    #[serde(default)]
    pub verified: bool,
    /// EU or self-hosted replacements.
    #[serde(default)]
    pub substitutes: Vec<String>,
}

/// `data/plan/endpoints.yaml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    /// Host facts.
    pub hosts: Vec<HostFact>,
    /// EU and EEA countries.
    #[serde(default)]
    pub eu_countries: EuCountries,
}

/// The countries where EU data-protection law applies directly.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EuCountries {
    /// Source.
    pub source: String,
    /// Date.
    pub date: String,
    /// ISO 3166 codes.
    pub codes: Vec<String>,
}

impl Endpoints {
    /// True for an EU/EEA country code.
    pub fn is_eu(&self, country: &str) -> bool {
        self.eu_countries.codes.iter().any(|c| c.eq_ignore_ascii_case(country))
    }

    /// The fact for a host: exact match or the longest matching domain suffix.
    pub fn lookup(&self, host: &str) -> Option<&HostFact> {
        let host = host.to_ascii_lowercase();
        self.hosts
            .iter()
            .filter(|f| {
                let h = f.host.to_ascii_lowercase();
                host == h || host.ends_with(&format!(".{h}"))
            })
            .max_by_key(|f| f.host.len())
    }
}

fn parse<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> Result<T, String> {
    let mut sources = hafen_diag::Sources::new();
    let file = sources.add(name, text);
    let (docs, diags) = hafen_yaml::parse(text, file, &hafen_yaml::Limits::default());
    if let Some(d) = diags.first() {
        return Err(format!("{name}: {}", d.message));
    }
    let doc = docs.first().ok_or_else(|| format!("{name}: empty"))?;
    serde_json::from_value(doc.to_json()).map_err(|e| format!("{name}: {e}"))
}

/// The embedded reservation facts. The file is checked by this crate's tests; a broken file
/// falls back to the Talos defaults with no kube-reserved so the planner never panics.
pub fn reservation() -> &'static Reservation {
    static R: OnceLock<Reservation> = OnceLock::new();
    R.get_or_init(|| {
        parse("reservation.yaml", RESERVATION).unwrap_or_else(|_| {
            let sr = |cpu, w, c| SystemReserved {
                cpu_millis: cpu,
                worker_memory_mib: w,
                control_plane_memory_mib: c,
                source: "fallback".into(),
                date: String::new(),
            };
            Reservation {
                kube_reserved: KubeReserved {
                    source: "fallback".into(),
                    date: String::new(),
                    memory_tiers: Vec::new(),
                    cpu_tiers: Vec::new(),
                },
                eviction_hard: Eviction {
                    memory_mib: 100,
                    source: "fallback".into(),
                    date: String::new(),
                },
                system_reserved: SystemReservedByOs { talos: sr(50, 384, 512), k3s: sr(0, 0, 0) },
                max_pods: MaxPods { per_node: 110, source: "fallback".into(), date: String::new() },
            }
        })
    })
}

/// The embedded comparison prices.
pub fn comparison() -> Option<&'static Comparison> {
    static C: OnceLock<Option<Comparison>> = OnceLock::new();
    C.get_or_init(|| parse("comparison.yaml", COMPARISON).ok()).as_ref()
}

/// The embedded endpoint facts.
pub fn endpoints() -> &'static Endpoints {
    static E: OnceLock<Endpoints> = OnceLock::new();
    E.get_or_init(|| parse("endpoints.yaml", ENDPOINTS).unwrap_or_default())
}

/// Parse results of every embedded file, for tests.
pub fn check_files() -> Vec<String> {
    let mut errors = Vec::new();
    if let Err(e) = parse::<Reservation>("reservation.yaml", RESERVATION) {
        errors.push(e);
    }
    if let Err(e) = parse::<Comparison>("comparison.yaml", COMPARISON) {
        errors.push(e);
    }
    if let Err(e) = parse::<Endpoints>("endpoints.yaml", ENDPOINTS) {
        errors.push(e);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_parses() {
        assert_eq!(check_files(), Vec::<String>::new());
        assert!(comparison().is_some_and(|c| c.offers.len() >= 4));
    }

    #[test]
    fn every_fact_has_a_date_and_a_source() {
        let dated = |d: &str| d.len() == 10 && d.as_bytes()[4] == b'-' && d.as_bytes()[7] == b'-';
        for h in &endpoints().hosts {
            assert!(dated(&h.date) && !h.source.is_empty(), "host {}", h.host);
            if h.us_parent {
                assert!(
                    !h.substitutes.is_empty(),
                    "US host {} needs an EU or self-hosted substitute",
                    h.host
                );
            }
        }
        let c = comparison().unwrap_or_else(|| panic!("comparison.yaml"));
        assert!(dated(&c.usd_to_eur.date));
        for o in &c.offers {
            assert!(
                dated(&o.compute_date) && dated(&o.egress_date) && dated(&o.control_plane_date),
                "{}",
                o.name
            );
        }
        let r = reservation();
        assert!(dated(&r.kube_reserved.date) && dated(&r.system_reserved.talos.date));
    }

    #[test]
    fn host_lookup_takes_the_longest_suffix() {
        let e = endpoints();
        assert_eq!(
            e.lookup("time.cloudflare.com").map(|h| h.host.as_str()),
            Some("time.cloudflare.com")
        );
        assert_eq!(e.lookup("api.cloudflare.com").map(|h| h.host.as_str()), Some("cloudflare.com"));
        assert_eq!(e.lookup("ptbtime1.ptb.de").map(|h| h.country.as_deref()), Some(Some("DE")));
        assert!(e.lookup("example.org").is_none());
        assert!(e.is_eu("de") && !e.is_eu("US"));
    }

    #[test]
    fn kube_reserved_follows_the_documented_tiers() {
        // By hand: 8 cores → 60 + 10 + 2×5 + 4×2.5 = 90 m; 32 GiB → 1 + 0.8 + 0.8 + 16×0.06 = 3.56 GiB.
        assert_eq!(crate::model::kube_reserved(8.0, 32.0), (90, 3646));
        // 1 core, 2 GiB: 60 m, 512 MiB.
        assert_eq!(crate::model::kube_reserved(1.0, 2.0), (60, 512));
        // 48 cores, 192 GiB: 60+10+10+44×2.5 = 190 m; 1+0.8+0.8+112×0.06+64×0.02 = 10.6 GiB.
        let (cpu, mem) = crate::model::kube_reserved(48.0, 192.0);
        assert_eq!(cpu, 190);
        assert!((mem as f64 - 10.6 * 1024.0).abs() < 2.0, "{mem}");
    }
}
