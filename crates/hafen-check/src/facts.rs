//! Facts the rules reason with (support windows, latency budgets, US-controlled hosts), read
//! from `data/check/facts.yaml` so every figure keeps its date and source outside the code.

// The `date` and `source` fields are provenance: only the data test reads them, but they
// must parse so a fact without them cannot be merged.
#![cfg_attr(not(test), allow(dead_code))]

use serde::Deserialize;
use std::sync::OnceLock;

/// The embedded data file.
pub(crate) const FACTS_YAML: &str = include_str!("../../../data/check/facts.yaml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Facts {
    pub(crate) kubernetes: Kubernetes,
    pub(crate) talos: Talos,
    pub(crate) postgres: Postgres,
    pub(crate) latency: Latency,
    pub(crate) control_plane: ControlPlaneMin,
    pub(crate) nested_control_plane: NestedControlPlane,
    pub(crate) nodes: Nodes,
    pub(crate) registry_blocks: RegistryBlocks,
    pub(crate) object_storage: Vec<ObjectStorage>,
    pub(crate) us_services: UsServices,
    pub(crate) us_operators: UsOperators,
    pub(crate) dns_providers: DnsProviders,
    pub(crate) data_protection: DataProtection,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Kubernetes {
    pub(crate) source: String,
    pub(crate) date: String,
    /// Days past the end of life after which VER001 is an error rather than a warning.
    pub(crate) error_after_days: i64,
    pub(crate) minors: Vec<KubernetesMinor>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KubernetesMinor {
    pub(crate) minor: String,
    pub(crate) released: String,
    pub(crate) end_of_life: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Talos {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) releases: Vec<TalosRelease>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TalosRelease {
    pub(crate) minor: String,
    /// Oldest and newest supported Kubernetes minor.
    pub(crate) kubernetes: Vec<String>,
    #[serde(default = "yes")]
    pub(crate) verified: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Postgres {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) majors: Vec<PostgresMajor>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PostgresMajor {
    pub(crate) major: u32,
    pub(crate) end_of_life: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Latency {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) etcd_max_distance_km: f64,
    pub(crate) etcd_max_rtt_ms: f64,
    pub(crate) storage_max_rtt_ms: f64,
    pub(crate) same_city_km: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ControlPlaneMin {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) min_cores: u32,
    #[serde(rename = "minMemoryGiB")]
    pub(crate) min_memory_gib: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NestedControlPlane {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) min_cpu_millis: u64,
    #[serde(default)]
    pub(crate) images: Vec<ControlPlaneImage>,
}

/// An image that runs a control plane, recognised by one component of its path.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ControlPlaneImage {
    pub(crate) component: String,
    pub(crate) what: String,
    pub(crate) min_cpu_millis: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Nodes {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) pod_cidr_mask_size: u8,
    pub(crate) max_pods_per_node: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RegistryBlocks {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) provider_types: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectStorage {
    /// Host suffixes, most specific first: the label left of the first that matches names
    /// the place.
    pub(crate) host_suffixes: Vec<String>,
    pub(crate) company: String,
    /// Text before the place in its label (`s3-` in `s3-eu-central-1`).
    #[serde(default)]
    pub(crate) label_prefix: Option<String>,
    /// Region label → the catalogue locations it serves; empty when the label is the
    /// location.
    #[serde(default)]
    pub(crate) regions: std::collections::BTreeMap<String, Vec<String>>,
    pub(crate) source: String,
    pub(crate) date: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsServices {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) entries: Vec<UsService>,
    pub(crate) substitutes: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsService {
    pub(crate) host: String,
    pub(crate) operator: String,
    pub(crate) purpose: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UsOperators {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) names: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DnsProviders {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) entries: Vec<DnsProviderFact>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DnsProviderFact {
    pub(crate) name: String,
    pub(crate) operator: String,
    pub(crate) us_parent: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DataProtection {
    pub(crate) source: String,
    pub(crate) date: String,
    pub(crate) eea: Vec<String>,
    pub(crate) adequacy: Vec<String>,
}

/// Parses the data file; the error names what is wrong.
pub(crate) fn parse(text: &str) -> Result<Facts, String> {
    hafen_yaml::data_file("data/check/facts.yaml", text)
}

/// The embedded facts. A broken data file is caught by this module's test; at run time it
/// degrades to no facts (rules that need them stay silent) rather than a panic.
pub(crate) fn get() -> &'static Facts {
    static FACTS: OnceLock<Facts> = OnceLock::new();
    FACTS.get_or_init(|| parse(FACTS_YAML).unwrap_or_default())
}

impl Facts {
    /// The control-plane image an image reference runs, if any: a path component after the
    /// registry host (without tag or digest) names it.
    pub(crate) fn control_plane_image(&self, image: &str) -> Option<&ControlPlaneImage> {
        let name = image.split('@').next().unwrap_or(image);
        let mut parts: Vec<&str> = name.split('/').collect();
        if parts.len() > 1
            && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
        {
            parts.remove(0);
        }
        let parts: Vec<String> =
            parts.iter().map(|p| p.split(':').next().unwrap_or(p).to_ascii_lowercase()).collect();
        self.nested_control_plane.images.iter().find(|i| parts.contains(&i.component))
    }

    /// The US-controlled service a host belongs to, matching exactly or as a dot suffix.
    pub(crate) fn us_service(&self, host: &str) -> Option<&UsService> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.us_services.entries.iter().find(|e| {
            host == e.host
                || host.strip_suffix(e.host.as_str()).is_some_and(|rest| rest.ends_with('.'))
        })
    }

    /// The US-controlled company an operator text names, if any: a listed name that appears
    /// as whole words (`Cloudflare, Inc.` names Cloudflare; `Amazonas Hosting` names no one).
    pub(crate) fn us_operator(&self, operator: &str) -> Option<&str> {
        let text = operator.to_ascii_lowercase();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphanumeric());
        self.us_operators.names.iter().map(String::as_str).find(|name| {
            let name = name.to_ascii_lowercase();
            text.match_indices(&name).any(|(at, _)| {
                boundary(text[..at].chars().next_back())
                    && boundary(text[at + name.len()..].chars().next())
            })
        })
    }

    /// The substitute text for a purpose.
    pub(crate) fn substitute(&self, purpose: &str) -> &str {
        self.us_services
            .substitutes
            .get(purpose)
            .or_else(|| self.us_services.substitutes.get("other"))
            .map_or("an EU-operated or self-hosted equivalent", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_load_and_are_dated() {
        let facts = parse(FACTS_YAML).unwrap();
        let dated = [
            (&facts.kubernetes.date, &facts.kubernetes.source),
            (&facts.talos.date, &facts.talos.source),
            (&facts.postgres.date, &facts.postgres.source),
            (&facts.latency.date, &facts.latency.source),
            (&facts.control_plane.date, &facts.control_plane.source),
            (&facts.nested_control_plane.date, &facts.nested_control_plane.source),
            (&facts.nodes.date, &facts.nodes.source),
            (&facts.registry_blocks.date, &facts.registry_blocks.source),
            (&facts.us_services.date, &facts.us_services.source),
            (&facts.us_operators.date, &facts.us_operators.source),
            (&facts.dns_providers.date, &facts.dns_providers.source),
            (&facts.data_protection.date, &facts.data_protection.source),
        ];
        for (date, source) in dated {
            assert!(hafen_catalog::parse_date(date).is_some(), "bad date {date}");
            assert!(source.len() > 10, "missing source");
        }
        for o in &facts.object_storage {
            assert!(hafen_catalog::parse_date(&o.date).is_some() && !o.source.is_empty());
        }
        for m in &facts.kubernetes.minors {
            assert!(hafen_catalog::parse_date(&m.released).is_some(), "{}", m.minor);
            assert!(hafen_catalog::parse_date(&m.end_of_life).is_some(), "{}", m.minor);
        }
        for m in &facts.postgres.majors {
            assert!(hafen_catalog::parse_date(&m.end_of_life).is_some(), "{}", m.major);
        }
        for t in &facts.talos.releases {
            assert_eq!(t.kubernetes.len(), 2, "talos {}", t.minor);
        }
        assert!(facts.kubernetes.error_after_days > 0);
        assert_eq!(facts.nodes.max_pods_per_node, 110);
        assert!(facts.data_protection.eea.iter().any(|c| c == "NO"));
        assert!(get().us_service("ghcr.io").is_some());
        assert!(get().us_service("eu-central-1.amazonaws.com").is_some());
        assert!(get().us_service("notamazonaws.com").is_none());
        assert!(get().us_service("registry.example.eu").is_none());
        assert_eq!(get().us_operator("Cloudflare, Inc."), Some("Cloudflare"));
        assert_eq!(get().us_operator("Amazon Web Services EMEA SARL"), Some("Amazon"));
        assert_eq!(get().us_operator("Amazonas Hosting GmbH"), None);
        assert_eq!(get().us_operator("Hetzner Online GmbH"), None);
        assert!(get().us_service("region1.v2.argotunnel.com").is_some());
        let cp = |image: &str| get().control_plane_image(image).map(|i| i.component.as_str());
        assert_eq!(cp("ghcr.io/loft-sh/vcluster:0.20.0"), Some("vcluster"));
        assert_eq!(cp("registry.example.eu/vcluster/k8s:v1.35.2"), Some("vcluster"));
        assert_eq!(cp("rancher/k3s:v1.36.1-k3s1"), Some("k3s"));
        assert_eq!(cp("registry.k8s.io/kube-apiserver:v1.36.3"), Some("kube-apiserver"));
        assert_eq!(cp("quay.io/coreos/etcd@sha256:abc"), Some("etcd"));
        assert_eq!(cp("clastix/kamaji:v1.0.0"), Some("kamaji"));
        assert_eq!(cp("registry.example.eu/shop/etcd-backup:1.0"), None);
        assert_eq!(cp("etcd.example.eu/shop/web:1.0"), None);
    }
}
