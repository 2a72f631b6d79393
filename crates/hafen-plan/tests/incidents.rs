//! Incident reconstructions: the planner must name what breaks and a buffer (or topology
//! change) that prevents it — and applying that advice must make the scenario survivable.

mod common;

use common::{plan, platform, scenario};

const NBG: &str = "    - { name: nbg1-cloud, provider: hcloud, location: nbg1 }";

fn night_cluster(workers: u32) -> String {
    night_cluster_with(workers, "")
}

fn night_cluster_with(workers: u32, extra_pool: &str) -> String {
    format!(
        r#"    - name: prod
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: {{ replicas: 3, serverType: cpx32 }}
      nodePools:
        - {{ name: workers, serverType: ccx23, count: {workers} }}{extra_pool}
      network: {{ podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }}
      storage: {{ default: hcloud-volumes }}"#
    )
}

const SHOP: &str = r#"    - name: shop
      clusters: [prod]
      apps:
        - { name: api, image: registry.example.eu/shop/api:1.0.0, replicas: 6, resources: { cpu: "1", memory: 2Gi } }
        - { name: web, image: registry.example.eu/shop/web:1.0.0, replicas: 4, resources: { cpu: 1500m, memory: 3Gi } }
        - { name: jobs, image: registry.example.eu/shop/jobs:1.0.0, replicas: 6, spread: none, resources: { cpu: 500m, memory: 1Gi } }"#;

const NIGHT: &str = r#"    - name: night-of-11-july
      description: a third of the workers gone while the provider answers resource_unavailable
      fail: { nodePools: [prod/workers], nodes: 2 }"#;

#[test]
fn a_third_of_the_cluster_lost_without_replacement_capacity() {
    let report = plan(&platform(NBG, &night_cluster(6), SHOP, NIGHT));
    let night = scenario(&report, "user:night-of-11-july");
    assert!(!night.survivable);
    assert_eq!(night.failed_nodes, 2);
    assert!(night.unplaced_replicas > 0);
    // The planner names the apps that break: api needs six distinct nodes and four survive.
    let broken: Vec<&str> =
        night.apps.iter().filter(|a| a.unplaced > 0).map(|a| a.app.as_str()).collect();
    assert!(broken.contains(&"shop/api"), "{broken:?}");
    let api = night.apps.iter().find(|a| a.app == "shop/api").unwrap_or_else(|| panic!("api"));
    assert!(api.below_budget, "6 replicas, min 5 available, at most 4 nodes left");
    // ... and the buffer that prevents it, at the site, of the pool's type, with its bound.
    let buffer = night.buffer.first().unwrap_or_else(|| panic!("no buffer advice: {night:?}"));
    assert_eq!(buffer.site, "nbg1-cloud");
    assert!(buffer.orderable, "never advise a type the provider refuses to sell");
    assert!(buffer.count >= 2 && buffer.lower_bound >= 2 && buffer.lower_bound <= buffer.count);
    // Cheapest fix: never dearer than the same count of the pool's own type.
    assert!(buffer.monthly_eur > 0.0 && buffer.monthly_eur <= buffer.count as f64 * 85.99 + 1e-6);
    // The adversarial worst third of the cluster is at least as bad as the user's night.
    let third = scenario(&report, "third:prod");
    assert!(third.unplaced_replicas >= night.unplaced_replicas);

    // Applying the advice: a spare pool of the advised type and size, same failure — survivable.
    let spare = format!(
        "\n        - {{ name: spare, serverType: {}, count: {} }}",
        buffer.server_type, buffer.count
    );
    let fixed = plan(&platform(NBG, &night_cluster_with(6, &spare), SHOP, NIGHT));
    let night = scenario(&fixed, "user:night-of-11-july");
    assert!(night.survivable, "{night:?}");
}

#[test]
fn declared_replacement_capacity_absorbs_the_night() {
    let site = "    - { name: nbg1-cloud, provider: hcloud, location: nbg1, replacementCapacity: [ { serverType: ccx23, count: 2 } ] }";
    let report = plan(&platform(site, &night_cluster(6), SHOP, NIGHT));
    let night = scenario(&report, "user:night-of-11-july");
    assert!(night.survivable, "{night:?}");
    assert!(night.on_replacement_servers > 0);
    assert_eq!(night.replacement_used.first().map(|r| r.count), Some(2));
}

fn three_sites() -> String {
    [
        "    - { name: nbg1-cloud, provider: hcloud, location: nbg1 }",
        "    - { name: fsn1-cloud, provider: hcloud, location: fsn1 }",
        "    - { name: hel1-cloud, provider: hcloud, location: hel1 }",
    ]
    .join("\n")
}

fn stretched(cp_sites: &str, pools: &str) -> String {
    format!(
        r#"    - name: stretched
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: {{ replicas: 3, serverType: cpx32, sites: [{cp_sites}] }}
      nodePools:
{pools}
      network: {{ podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }}
      storage: {{ default: hcloud-volumes }}"#
    )
}

const TWO_POOLS: &str = "        - { name: a, serverType: ccx23, count: 3 }\n        - { name: b, serverType: ccx23, count: 3, site: fsn1-cloud }";

const BANK: &str = r#"    - name: bank
      clusters: [stretched]
      personalData: true
      apps:
        - name: ledger
          image: registry.example.eu/bank/ledger:4.2.0
          replicas: 2
          resources: { cpu: 500m, memory: 1Gi }
          postgres: { size: 100Gi, replicas: 2 }"#;

#[test]
fn a_two_site_etcd_loses_quorum_with_its_larger_site() {
    let report = plan(&platform(
        &three_sites(),
        &stretched("nbg1-cloud, fsn1-cloud", TWO_POOLS),
        BANK,
        "    []",
    ));
    let nbg = scenario(&report, "site:nbg1-cloud");
    let etcd =
        nbg.quorum_lost.iter().find(|q| q.group == "etcd").unwrap_or_else(|| panic!("{nbg:?}"));
    assert_eq!((etcd.members, etcd.surviving, etcd.needed), (3, 1, 2));
    assert!(etcd.fix.contains("1+1+1"), "{}", etcd.fix);
    assert!(!nbg.survivable);
    assert!(
        nbg.no_buffer_helps.iter().any(|n| n.contains("etcd")),
        "no node buffer fixes lost quorum"
    );
    // The smaller site takes only one member.
    let fsn = scenario(&report, "site:fsn1-cloud");
    assert!(!fsn.quorum_lost.iter().any(|q| q.group == "etcd"));

    // The fix: one member per site — no single site takes the majority.
    let fixed = plan(&platform(
        &three_sites(),
        &stretched("nbg1-cloud, fsn1-cloud, hel1-cloud", TWO_POOLS),
        BANK,
        "    []",
    ));
    for site in ["nbg1-cloud", "fsn1-cloud", "hel1-cloud"] {
        let s = scenario(&fixed, &format!("site:{site}"));
        assert!(!s.quorum_lost.iter().any(|q| q.group == "etcd"), "{site}: {s:?}");
    }
}

#[test]
fn a_database_whose_replica_shares_the_primarys_site_is_lost_with_it() {
    let report = plan(&platform(
        &three_sites(),
        &stretched("nbg1-cloud, fsn1-cloud, hel1-cloud", TWO_POOLS),
        BANK,
        "    []",
    ));
    let nbg = scenario(&report, "site:nbg1-cloud");
    let risk = nbg
        .data_at_risk
        .iter()
        .find(|d| d.app == "bank/ledger-db")
        .unwrap_or_else(|| panic!("{nbg:?}"));
    assert_eq!(risk.outcome, "lost", "no backups declared");
    assert_eq!(risk.copies, 2);
    assert_eq!(risk.bytes, 100 * 1024 * 1024 * 1024);
    let pg = nbg
        .quorum_lost
        .iter()
        .find(|q| q.group == "postgres:bank/ledger-db")
        .unwrap_or_else(|| panic!("{nbg:?}"));
    assert!(pg.fix.contains("spread: site") || pg.fix.contains("replicaCluster"), "{}", pg.fix);
    // A single node never loses the database: the instances sit on distinct nodes.
    assert!(
        report.scenarios.iter().filter(|s| s.kind == "node").all(|s| s.data_at_risk.is_empty())
    );

    // The fix: spread the app (and so its database instances) over sites.
    let spread = BANK.replace(
        "replicas: 2\n          resources",
        "replicas: 2\n          spread: site\n          resources",
    );
    let fixed = plan(&platform(
        &three_sites(),
        &stretched("nbg1-cloud, fsn1-cloud, hel1-cloud", TWO_POOLS),
        &spread,
        "    []",
    ));
    for site in ["nbg1-cloud", "fsn1-cloud"] {
        let s = scenario(&fixed, &format!("site:{site}"));
        assert!(s.data_at_risk.is_empty(), "{site}: {:?}", s.data_at_risk);
        assert!(s.quorum_lost.is_empty(), "{site}: {:?}", s.quorum_lost);
        // The database keeps serving from the other site; its second instance waits, because
        // CloudNativePG's site anti-affinity allows one instance per site and only one site
        // with app nodes is left.
        let db =
            s.apps.iter().find(|a| a.app == "bank/ledger-db").unwrap_or_else(|| panic!("{s:?}"));
        assert_eq!((db.running, db.unplaced, db.without_data), (1, 1, 0), "{site}: {db:?}");
        assert!(s.no_buffer_helps.iter().any(|n| n.contains("another site")), "{site}: {s:?}");
        assert_eq!(s.gap, 0, "the bound knows one instance per site: {s:?}");
    }
    // With app nodes at all three sites, a site's loss is survivable.
    let three = TWO_POOLS.to_owned()
        + "\n        - { name: c, serverType: ccx23, count: 3, site: hel1-cloud }";
    let fixed = plan(&platform(
        &three_sites(),
        &stretched("nbg1-cloud, fsn1-cloud, hel1-cloud", &three),
        &spread,
        "    []",
    ));
    for site in ["nbg1-cloud", "fsn1-cloud", "hel1-cloud"] {
        let s = scenario(&fixed, &format!("site:{site}"));
        assert!(s.survivable, "{site}: {s:?}");
    }
}

#[test]
fn a_replica_cluster_at_the_same_site_is_no_protection() {
    let clusters = r#"    - name: prod
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: { replicas: 3, serverType: cpx32 }
      nodePools:
        - { name: workers, serverType: ccx23, count: 3 }
      network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }
      storage: { default: hcloud-volumes }
    - name: dr
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: { replicas: 3, serverType: cpx32 }
      nodePools:
        - { name: workers, serverType: ccx23, count: 2 }
      network: { podCIDR: 10.245.0.0/16, serviceCIDR: 10.112.0.0/12 }
      storage: { default: hcloud-volumes }"#;
    let tenants = r#"    - name: bank
      clusters: [prod]
      apps:
        - name: ledger
          image: registry.example.eu/bank/ledger:4.2.0
          replicas: 2
          resources: { cpu: 500m, memory: 1Gi }
          postgres: { size: 10Gi, replicas: 2, replicaCluster: dr }"#;
    let report = plan(&platform(NBG, clusters, tenants, "    []"));
    let site = scenario(&report, "site:nbg1-cloud");
    assert!(
        site.data_at_risk.iter().any(|d| d.app == "bank/ledger-db" && d.outcome == "lost"),
        "{site:?}"
    );
    // The primary cluster's instances are counted (the replica cluster is a standby promoted
    // by hand, not a member) and lost, and the fix names the real problem: the replica
    // cluster shares the failure domain.
    let q = site
        .quorum_lost
        .iter()
        .find(|q| q.group == "postgres:bank/ledger-db")
        .unwrap_or_else(|| panic!("{site:?}"));
    assert_eq!((q.members, q.surviving), (2, 0), "{q:?}");
    assert!(
        q.fix.contains("replica cluster in `dr` stands in the same failure domain"),
        "{}",
        q.fix
    );
    assert!(
        site.apps.iter().any(|a| a.cluster == "dr" && a.replica_of.as_deref() == Some("prod")),
        "the replica cluster is simulated in `dr`: {site:?}"
    );
    // Losing only the primary cluster's workers leaves the replica cluster's copy.
    let pool = scenario(&report, "pool:prod/workers");
    assert!(pool.data_at_risk.is_empty(), "{pool:?}");
}

#[test]
fn absurd_sizes_neither_panic_nor_hang() {
    let clusters = r#"    - name: prod
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: { replicas: 1, serverType: cpx22 }
      nodePools:
        - { name: workers, serverType: ccx23, count: 3 }
        - { name: empty, serverType: ccx23, count: 0 }
      network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }
      storage: { default: local-path }
    - name: bare
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: { replicas: 1, serverType: cpx22 }
      network: { podCIDR: 10.245.0.0/16, serviceCIDR: 10.112.0.0/12 }"#;
    let tenants = r#"    - name: t
      clusters: [prod, bare]
      apps:
        - { name: many, image: registry.example.eu/t/many:1, replicas: 10000, spread: none, resources: { cpu: "0", memory: "0" } }
        - { name: huge, image: registry.example.eu/t/huge:1, replicas: 3, resources: { cpu: "100000", memory: 1000Pi } }
        - { name: none, image: registry.example.eu/t/none:1, replicas: 0, resources: { cpu: 100m, memory: 1Mi } }
        - name: db
          image: registry.example.eu/t/db:1
          replicas: 1
          resources: { cpu: 100m, memory: 64Mi }
          volumes: [ { name: data, size: 1000Pi, mountPath: /data } ]
          postgres: { size: 1000Pi, replicas: 5000 }"#;
    // The loader caps replicas per app (SPEC004); the planner must still cope with the
    // largest count the model can hold.
    let mut loaded = common::load(&platform(NBG, clusters, tenants, "    []"));
    loaded.platform.spec.tenants[0].apps[0].replicas = u32::MAX;
    let started = std::time::Instant::now();
    let report = hafen_plan::plan(
        &loaded,
        &hafen_plan::Options { samples: 20, ..hafen_plan::Options::default() },
        &mut |_, _| {},
    );
    assert!(started.elapsed().as_secs() < 30);
    let prod =
        report.capacity.iter().find(|c| c.cluster == "prod").unwrap_or_else(|| panic!("prod"));
    assert!(prod.unplaced_at_baseline.iter().any(|u| u.app == "t/huge" && u.replicas == 3));
    assert!(prod.unplaced_at_baseline.iter().any(|u| u.app == "t/many"));
    let bare =
        report.capacity.iter().find(|c| c.cluster == "bare").unwrap_or_else(|| panic!("bare"));
    assert_eq!(bare.app_nodes, 0);
    assert!(serde_json::to_string(&report).is_ok_and(|s| s.contains("\"version\":1")));
    assert!(!hafen_plan::to_text(&report).is_empty());
}
