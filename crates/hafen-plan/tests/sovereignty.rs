//! The SEAL mapping follows the framework's scale (a US-parent provider is at most SEAL-1, and
//! data outside the EU has not even formal EU jurisdiction), and telemetry to an unknown party
//! is a data-protection concern, not only an independence one.

mod common;

fn spec(location: &str, country: &str, endpoints: &str) -> String {
    format!(
        r#"apiVersion: hafen.dev/v1alpha1
kind: Platform
metadata: {{ name: us }}
spec:
  team: {{ onCall: 3 }}
  gitops: {{ repo: ssh://git@git.example.eu/platform/us.git }}
  providers:
    - name: bigcloud
      type: self-hosted
      legal: {{ country: US, usParent: true }}
      locations:
        - {{ name: {location}, city: Somewhere, country: {country} }}
      serverTypes:
        - {{ name: m-8, cores: 8, memoryGiB: 32, arch: amd64, cpu: dedicated, ecc: true, price: {{ monthlyEUR: 100, date: 2026-11-01, source: "test fixture" }} }}
  sites:
    - {{ name: dc, provider: bigcloud, location: {location} }}
  clusters:
    - name: prod
      site: dc
      kubernetes: "1.34.5"
      controlPlane: {{ replicas: 3, serverType: m-8 }}
      nodePools:
        - {{ name: workers, serverType: m-8, count: 3 }}
      network: {{ podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }}
      registryMirror: https://registry.example.eu
  tenants:
    - name: t
      clusters: [prod]
      apps:
        - {{ name: web, image: registry.example.eu/t/web:1.0.0, replicas: 2, resources: {{ cpu: 500m, memory: 1Gi }} }}
  endpoints:
{endpoints}
"#
    )
}

#[test]
fn a_us_parent_provider_in_ashburn_is_seal_0_and_in_frankfurt_seal_1() {
    let ashburn = common::plan(&spec("ash", "US", "    []"));
    let sv = &ashburn.sovereignty;
    assert_eq!(sv.seal.level, "SEAL-0", "{:?}", sv.seal);
    assert!(sv.seal.reasons.iter().any(|r| r.contains("`dc` (ash, US)")), "{:?}", sv.seal);
    let p = &sv.providers[0];
    assert_eq!(p.site_countries[0].country.as_deref(), Some("US"));
    assert!(
        sv.platform.data_protection.contributions.iter().any(|c| c.fact.contains("outside the EU")),
        "{:?}",
        sv.platform.data_protection
    );
    let frankfurt = common::plan(&spec("fra", "DE", "    []"));
    assert_eq!(frankfurt.sovereignty.seal.level, "SEAL-1", "{:?}", frankfurt.sovereignty.seal);
    assert!(
        frankfurt.sovereignty.seal.reasons.iter().any(|r| r.contains("US parent")),
        "{:?}",
        frankfurt.sovereignty.seal
    );
}

#[test]
fn telemetry_to_an_unknown_party_costs_data_protection() {
    let endpoints = "    - { name: stats, url: https://collect.analytics-unknown.example.net, purpose: telemetry }";
    let with = common::plan(&spec("fra", "DE", endpoints));
    let without = common::plan(&spec("fra", "DE", "    []"));
    let dp = &with.sovereignty.platform.data_protection;
    assert!(
        dp.contributions
            .iter()
            .any(|c| c.points < 0 && c.fact.contains("collect.analytics-unknown.example.net")),
        "{dp:?}"
    );
    assert!(dp.score < without.sovereignty.platform.data_protection.score);
    // ... and it still counts against independence as an unknown dependency.
    assert!(
        with.sovereignty
            .platform
            .independence
            .contributions
            .iter()
            .any(|c| c.fact.contains("collect.analytics-unknown.example.net"))
    );
}
