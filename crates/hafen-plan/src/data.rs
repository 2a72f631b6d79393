//! Facts the planner reasons with — comparison prices, endpoint jurisdictions — kept as dated,
//! sourced YAML under `data/plan/` and embedded here, so a price or an operator changes in a
//! data file, never in code. Kubelet reservations are `hafen_check::allocatable`'s, shared with
//! the capacity rules.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const COMPARISON: &str = include_str!("../../../data/plan/comparison.yaml");
const ENDPOINTS: &str = include_str!("../../../data/plan/endpoints.yaml");

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
    hafen_yaml::data_file(name, text)
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
    if let Err(e) = hafen_check::allocatable::check_file() {
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
}
