//! The placement model agrees with what the renderer writes and the scheduler enforces: site
//! spread is a maxSkew-1 topology spread over surviving sites, CloudNativePG's site
//! anti-affinity allows one instance per site, location-bound volumes pin their replicas, data
//! that is gone never "runs", sites at one location fail together, replica clusters are
//! simulated, and the worst third is never milder than what a pool or a sample does.

mod common;

use common::{example, plan, platform, scenario};
use hafen_plan::{Report, ScenarioResult};

fn cluster(name: &str, cp_sites: &str, pools: &str, storage: &str) -> String {
    format!(
        r#"    - name: {name}
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: {{ replicas: 3, serverType: cpx32, sites: [{cp_sites}] }}
      nodePools:
{pools}
      network: {{ podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }}
      storage: {{ default: {storage} }}"#
    )
}

fn sites(list: &[(&str, &str)]) -> String {
    list.iter()
        .map(|(n, l)| format!("    - {{ name: {n}, provider: hcloud, location: {l} }}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn three_sites() -> String {
    sites(&[("nbg1-cloud", "nbg1"), ("fsn1-cloud", "fsn1"), ("hel1-cloud", "hel1")])
}

fn app_impact<'a>(s: &'a ScenarioResult, app: &str) -> &'a hafen_plan::AppImpact {
    s.apps.iter().find(|a| a.app == app).unwrap_or_else(|| panic!("{app} not in {s:?}"))
}

/// Damage as the planner ranks it, from the report form: quorum lost (etcd first), data lost,
/// groups lost, unplaced replicas.
fn rank(s: &ScenarioResult) -> (usize, usize, usize, u64) {
    let etcd = s.quorum_lost.iter().filter(|q| q.group == "etcd").count();
    let data = s.data_at_risk.iter().filter(|d| d.outcome != "restore-from-backup").count();
    let groups = s.quorum_lost.len() - etcd;
    (etcd, data, groups, s.unplaced_replicas)
}

/// An app whose data is reported lost is never reported running.
fn assert_lost_data_does_not_run(report: &Report) {
    for s in report.scenarios.iter().chain(report.samples.worst.iter()) {
        for d in &s.data_at_risk {
            let a =
                s.apps.iter().find(|a| a.app == d.app && a.cluster == d.cluster).unwrap_or_else(
                    || panic!("{}: {} has data at risk but lost no replica", s.id, d.app),
                );
            assert_eq!(a.running, 0, "{}: {} lost its data but runs {}", s.id, d.app, a.running);
        }
    }
}

#[test]
fn site_spread_keeps_the_skew_at_one_over_live_sites() {
    // Three nodes at nbg1, one at fsn1, four replicas that must spread over sites (maxSkew 1,
    // DoNotSchedule) and may not share a node: 2 + 1, and the fourth would make the skew 2.
    let pools = "        - { name: a, serverType: ccx23, count: 3 }\n        - { name: b, serverType: ccx23, count: 1, site: fsn1-cloud }";
    let tenants = r#"    - name: shop
      clusters: [stretched]
      apps:
        - { name: web, image: registry.example.eu/shop/web:1.0.0, replicas: 4, spread: site, resources: { cpu: 500m, memory: 1Gi } }"#;
    let report = plan(&platform(
        &three_sites(),
        &cluster("stretched", "nbg1-cloud, fsn1-cloud, hel1-cloud", pools, "hcloud-volumes"),
        tenants,
        "    []",
    ));
    let cap = &report.capacity[0];
    assert!(
        cap.unplaced_at_baseline.iter().any(|u| u.app == "shop/web" && u.replicas == 1),
        "{cap:?}"
    );
    // fsn1 lost: it is no spreading domain any more (nodeTaintsPolicy: Honor), so its replica
    // comes back at nbg1, on the one node there without a replica.
    let fsn = scenario(&report, "site:fsn1-cloud");
    let web = app_impact(fsn, "shop/web");
    assert_eq!((web.lost, web.replaced, web.running), (1, 1, 3), "{fsn:?}");
}

#[test]
fn site_spread_databases_keep_one_instance_per_site_and_the_fix_names_real_fields() {
    let pools = "        - { name: a, serverType: ccx23, count: 3 }\n        - { name: b, serverType: ccx23, count: 3, site: fsn1-cloud }";
    let db = |spread: &str| {
        format!(
            r#"    - name: bank
      clusters: [stretched]
      apps:
        - name: ledger
          image: registry.example.eu/bank/ledger:4.2.0
          replicas: 2{spread}
          resources: {{ cpu: 500m, memory: 1Gi }}
          postgres: {{ size: 10Gi, replicas: 3 }}"#
        )
    };
    // Three instances, two sites with app nodes, one instance per site: one waits.
    let report = plan(&platform(
        &three_sites(),
        &cluster("stretched", "nbg1-cloud, fsn1-cloud, hel1-cloud", pools, "hcloud-volumes"),
        &db("\n          spread: site"),
        "    []",
    ));
    let cap = &report.capacity[0];
    assert!(
        cap.unplaced_at_baseline.iter().any(|u| u.app == "bank/ledger-db" && u.replicas == 1),
        "{cap:?}"
    );
    // Without site spread all instances share nbg1 and go with it; the fix names the app's
    // `spread` field and the database's `postgres.replicaCluster`, not a `ledger-db` app.
    let report = plan(&platform(
        &three_sites(),
        &cluster("stretched", "nbg1-cloud, fsn1-cloud, hel1-cloud", pools, "hcloud-volumes"),
        &db(""),
        "    []",
    ));
    let nbg = scenario(&report, "site:nbg1-cloud");
    let q = nbg
        .quorum_lost
        .iter()
        .find(|q| q.group == "postgres:bank/ledger-db")
        .unwrap_or_else(|| panic!("{nbg:?}"));
    assert!(q.fix.contains("`spread: site` on app `ledger` of tenant `bank`"), "{}", q.fix);
    assert!(q.fix.contains("`postgres.replicaCluster`"), "{}", q.fix);
    assert!(!q.fix.contains("on `bank/ledger-db`"), "{}", q.fix);
}

const CRM: &str = r#"    - name: crm
      clusters: [prod]
      apps:
        - name: app
          image: registry.example.eu/crm/app:1.0.0
          replicas: 2
          resources: { cpu: 500m, memory: 1Gi }
          postgres: { size: 100Gi, replicas: 2 }"#;

#[test]
fn hetzner_cloud_volumes_pin_their_replicas_to_their_location() {
    // The reviewer's spec (c): pools at nbg1 and fsn1; the database's volumes are at nbg1.
    let pools = "        - { name: w-nbg, serverType: ccx23, count: 3 }\n        - { name: w-fsn, serverType: ccx23, count: 3, site: fsn1-cloud }";
    let report = plan(&platform(
        &three_sites(),
        &cluster("prod", "nbg1-cloud, fsn1-cloud, hel1-cloud", pools, "hcloud-volumes"),
        CRM,
        "    []",
    ));
    // The nbg1 pool fails: the volumes survive at nbg1, but no node there can mount them, and
    // fsn1 nodes cannot (volumes are location-bound). The app itself moves to fsn1.
    let pool = scenario(&report, "pool:prod/w-nbg");
    assert!(!pool.survivable, "{pool:?}");
    let db = app_impact(pool, "crm/app-db");
    assert_eq!((db.replaced, db.unplaced, db.running, db.without_data), (0, 2, 0, 0), "{db:?}");
    assert_eq!(app_impact(pool, "crm/app").running, 2);
    assert!(pool.data_at_risk.is_empty(), "the volumes are alive");
    assert!(
        pool.buffer.iter().any(|b| b.site == "nbg1-cloud"),
        "the buffer stands where the volumes are: {:?}",
        pool.buffer
    );
    // The nbg1 site fails: the data is lost, and the database is not "running 2".
    let site = scenario(&report, "site:nbg1-cloud");
    let db = app_impact(site, "crm/app-db");
    assert_eq!((db.replaced, db.running, db.without_data), (0, 0, 2), "{db:?}");
    assert!(site.data_at_risk.iter().any(|d| d.app == "crm/app-db" && d.outcome == "lost"));
    assert!(site.no_buffer_helps.iter().any(|n| n.contains("lost their data")), "{site:?}");
    assert_lost_data_does_not_run(&report);
}

#[test]
fn local_volumes_do_not_follow_their_replica_to_another_node() {
    let clusters = r#"    - name: prod
      site: nbg1-cloud
      kubernetes: "1.34.5"
      controlPlane: { replicas: 3, serverType: cpx32 }
      nodePools:
        - { name: workers, serverType: ccx23, count: 4 }
      network: { podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12 }
      storage: { default: local-path }"#;
    let tenants = r#"    - name: t
      clusters: [prod]
      apps:
        - name: queue
          image: registry.example.eu/t/queue:1.0.0
          replicas: 2
          resources: { cpu: 500m, memory: 1Gi }
          volumes: [ { name: data, size: 10Gi, mountPath: /data } ]"#;
    let report = plan(&platform(
        "    - { name: nbg1-cloud, provider: hcloud, location: nbg1 }",
        clusters,
        tenants,
        "    []",
    ));
    // Whichever node holds a replica: losing it leaves that replica without its volume.
    let hit: Vec<&ScenarioResult> =
        report.scenarios.iter().filter(|s| s.kind == "node" && !s.apps.is_empty()).collect();
    assert_eq!(hit.len(), 2, "two replicas on two nodes");
    for s in hit {
        let q = app_impact(s, "t/queue");
        assert_eq!((q.lost, q.replaced, q.without_data, q.running), (1, 0, 1, 1), "{s:?}");
        assert!(s.data_at_risk.is_empty(), "the other replica keeps its data");
    }
    assert_lost_data_does_not_run(&report);
}

#[test]
fn sites_at_one_location_fail_together() {
    let list = sites(&[("fsn1-a", "fsn1"), ("fsn1-b", "fsn1"), ("nbg1-cloud", "nbg1")]);
    let pools = "        - { name: a, serverType: ccx23, count: 2, site: fsn1-a }\n        - { name: b, serverType: ccx23, count: 2, site: fsn1-b }";
    let tenants = r#"    - name: bank
      clusters: [prod]
      apps:
        - name: ledger
          image: registry.example.eu/bank/ledger:4.2.0
          replicas: 2
          spread: site
          resources: { cpu: 500m, memory: 1Gi }
          postgres: { size: 10Gi, replicas: 2 }"#;
    let report = plan(&platform(
        &list,
        &cluster("prod", "fsn1-a, fsn1-b, nbg1-cloud", pools, "hcloud-volumes"),
        tenants,
        "    []",
    ));
    // One site alone: one etcd member, one database instance, survivable in data terms.
    let a = scenario(&report, "site:fsn1-a");
    assert!(a.quorum_lost.iter().all(|q| q.group != "etcd"), "{a:?}");
    assert!(a.data_at_risk.is_empty(), "{a:?}");
    // The location: both sites, two of three etcd members, both database instances.
    let loc = scenario(&report, "location:fsn1:fsn1-a+fsn1-b");
    assert_eq!(loc.kind, "location");
    assert_eq!(loc.failed_sites, vec!["fsn1-a".to_owned(), "fsn1-b".to_owned()]);
    let etcd =
        loc.quorum_lost.iter().find(|q| q.group == "etcd").unwrap_or_else(|| panic!("{loc:?}"));
    assert!(etcd.fix.contains("two failure domains"), "{}", etcd.fix);
    assert!(loc.data_at_risk.iter().any(|d| d.app == "bank/ledger-db"), "{loc:?}");
    let pg = loc
        .quorum_lost
        .iter()
        .find(|q| q.group == "postgres:bank/ledger-db")
        .unwrap_or_else(|| panic!("{loc:?}"));
    assert!(pg.fix.contains("another location"), "{}", pg.fix);
    // The worst third sees the location as one domain too.
    let third = scenario(&report, "third:prod");
    assert!(rank(third) >= rank(loc) || third.failed_nodes < loc.failed_nodes, "{third:?}");
    // A platform without shared locations has no location scenario.
    let plain = plan(&platform(
        &three_sites(),
        &cluster(
            "prod",
            "nbg1-cloud, fsn1-cloud, hel1-cloud",
            "        - { name: a, serverType: ccx23, count: 2 }",
            "hcloud-volumes",
        ),
        tenants.replace("spread: site\n          ", "").as_str(),
        "    []",
    ));
    assert!(plain.scenarios.iter().all(|s| s.kind != "location"));
}

#[test]
fn the_worst_third_is_at_least_as_bad_as_a_pool_that_fits_in_it_and_as_every_sample() {
    let report = common::plan_with(
        &example(),
        &hafen_plan::Options { samples: 60, ..hafen_plan::Options::default() },
    );
    // prod-nbg: 11 nodes, a third is 4; its two egress gateways fit in it.
    let egress = scenario(&report, "pool:prod-nbg/egress");
    assert!(!egress.survivable && egress.quorum_lost.iter().any(|q| q.group == "egress-gateway"));
    let third = scenario(&report, "third:prod-nbg");
    assert!(!third.survivable, "{third:?}");
    assert!(rank(third) >= rank(egress), "{:?} < {:?}", rank(third), rank(egress));
    // The control plane counts: four of eleven nodes can hold two of three etcd members.
    assert!(third.quorum_lost.iter().any(|q| q.group == "etcd"), "{third:?}");
    // A fleet of two clusters has a worst third of its own, never milder than any sample.
    let fleet = scenario(&report, "third:fleet");
    let worst = report.samples.worst.as_ref().unwrap_or_else(|| panic!("no sample"));
    assert!(rank(fleet) >= rank(worst), "{:?} < sample {:?}", rank(fleet), rank(worst));
    assert_eq!(fleet.failed_nodes, 7, "⌈20 / 3⌉");
    // The capacity view keeps etcd and still finds the egress gateways.
    let workers = scenario(&report, "third:prod-nbg/workers");
    assert_eq!(workers.kind, "worst-third-workers");
    assert!(!workers.failed_node_names.iter().any(|n| n.contains("control-plane")));
    assert!(rank(workers) >= rank(egress), "{workers:?}");
}

#[test]
fn a_stretched_etcd_is_lost_by_the_worst_third_whenever_a_sample_loses_it() {
    // The reviewer's spec (b): one cluster over two sites, etcd 2 + 1.
    let list = sites(&[("nbg1-cloud", "nbg1"), ("fsn1-cloud", "fsn1")]);
    let pools = "        - { name: w-nbg, serverType: ccx23, count: 3 }\n        - { name: w-fsn, serverType: ccx23, count: 3, site: fsn1-cloud }";
    let tenants = r#"    - name: portal
      clusters: [stretch]
      apps:
        - { name: web, image: registry.example.eu/portal/web:1.0.0, replicas: 4, spread: site, resources: { cpu: "1", memory: 2Gi } }"#;
    let report = common::plan_with(
        &platform(
            &list,
            &cluster("stretch", "nbg1-cloud, fsn1-cloud", pools, "hcloud-volumes"),
            tenants,
            "    []",
        ),
        &hafen_plan::Options { samples: 100, ..hafen_plan::Options::default() },
    );
    assert!(report.samples.with_etcd_quorum_lost > 0);
    let third = scenario(&report, "third:stretch");
    assert!(third.quorum_lost.iter().any(|q| q.group == "etcd"), "{third:?}");
    let worst = report.samples.worst.as_ref().unwrap_or_else(|| panic!("no sample"));
    assert!(rank(third) >= rank(worst), "{:?} < sample {:?}", rank(third), rank(worst));
}

#[test]
fn replica_clusters_are_simulated_in_the_cluster_that_holds_them() {
    let report = plan(&example());
    // The storefront database's replica cluster runs in prod-fsn: losing that site loses it.
    let fsn = scenario(&report, "site:fsn1-metal");
    let standby = fsn
        .apps
        .iter()
        .find(|a| a.app == "shop/storefront-db" && a.cluster == "prod-fsn")
        .unwrap_or_else(|| panic!("the replica cluster is not simulated: {fsn:?}"));
    assert_eq!(standby.replica_of.as_deref(), Some("prod-nbg"));
    assert_eq!((standby.replicas, standby.lost, standby.running), (2, 2, 0));
    // ... while the primary lives on: no data at risk, no group lost for the storefront.
    assert!(!fsn.data_at_risk.iter().any(|d| d.app == "shop/storefront-db"));
    assert!(!fsn.quorum_lost.iter().any(|q| q.group == "postgres:shop/storefront-db"));
    // Losing the primary's site leaves the replica cluster: a promotion, not data loss.
    let nbg = scenario(&report, "site:nbg1-cloud");
    let q = nbg
        .quorum_lost
        .iter()
        .find(|q| q.group == "postgres:shop/storefront-db")
        .unwrap_or_else(|| panic!("{nbg:?}"));
    // Counted in prod-nbg: none of its 2 instances is left; the consequence names the standby.
    assert_eq!((q.members, q.surviving), (2, 0), "{q:?}");
    assert!(
        q.consequence.contains("promoted") && q.consequence.contains("prod-fsn"),
        "{}",
        q.consequence
    );
    assert!(!nbg.data_at_risk.iter().any(|d| d.app == "shop/storefront-db"));
    assert_eq!(app_impact(nbg, "shop/storefront-db").served_elsewhere, vec!["prod-fsn".to_owned()]);
    assert_lost_data_does_not_run(&report);
    // The replica cluster's instances take capacity in prod-fsn.
    let fsn_cap = report
        .capacity
        .iter()
        .find(|c| c.cluster == "prod-fsn")
        .unwrap_or_else(|| panic!("prod-fsn"));
    let without = plan(&example().replace(", replicaCluster: prod-fsn", ""));
    let fsn_without = without
        .capacity
        .iter()
        .find(|c| c.cluster == "prod-fsn")
        .unwrap_or_else(|| panic!("prod-fsn"));
    assert_eq!(fsn_cap.requests.pods, fsn_without.requests.pods + 2);
}
