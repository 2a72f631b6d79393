//! The field review of the planner (issue 5), one test per finding, on the platforms it was
//! found on (`tests/specs/`): what the spec deploys is what is priced, the planner and the
//! rendered objects agree on where replicas may go, rented spare servers are capacity, the
//! buffer is what is left to buy after replacement servers, an exit does not create the
//! findings it reports, and a shortfall before anything fails is not blamed on a failure.

mod common;

use common::{load, scenario};
use hafen_plan::{Options, Report};

fn spec(name: &str) -> String {
    let path = format!("{}/tests/specs/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn plan(text: &str) -> Report {
    hafen_plan::plan(&load(text), &Options { samples: 10, ..Options::default() }, &mut |_, _| {})
}

fn exit(text: &str, source: &str, target: &str) -> hafen_plan::exit::ExitPlan {
    let options =
        Options { samples: 0, exit: Some((source.into(), target.into())), ..Options::default() };
    hafen_plan::plan(&load(text), &options, &mut |_, _| {})
        .exit
        .unwrap_or_else(|| panic!("no exit"))
}

fn lines<'a>(r: &'a Report, cluster: &str) -> &'a [hafen_plan::cost::CostLine] {
    &r.cost
        .clusters
        .iter()
        .find(|c| c.cluster == cluster)
        .unwrap_or_else(|| panic!("{cluster}"))
        .lines
}

/// Finding 1: a K3s cluster on STACKIT servers is self-managed, so its servers are billed and
/// no SKE fee is, with or without schedulable control planes.
#[test]
fn stackit_k3s_bills_its_servers_and_no_managed_fee() {
    let r = plan(&spec("stackit-k3s"));
    let l = lines(&r, "small");
    assert!(!l.iter().any(|x| x.item == "control-plane"), "{l:?}");
    let servers: Vec<_> = l.iter().filter(|x| x.item == "servers").collect();
    // By hand: 3 × g2i.4 at €147.30 (2026-09-23) = €441.90.
    assert_eq!(servers.len(), 1);
    assert_eq!(
        (servers[0].quantity, servers[0].unit_eur, servers[0].monthly_eur),
        (3.0, 147.30, 441.90)
    );
    // Volumes: 2 × 30 Gi + 100 Gi = 171.80 GB on STACKIT block storage (g2i has no local
    // disk) × €0.052 = €8.93; total €450.83.
    let v = l.iter().find(|x| x.item == "volumes").unwrap_or_else(|| panic!("{l:?}"));
    assert_eq!((v.quantity, v.unit_eur, v.monthly_eur), (171.8, 0.052, 8.93));
    assert_eq!(r.cost.infrastructure_monthly_eur, 450.83);
    let this = &r.cost.comparison[0];
    assert_eq!((this.vcpus, this.memory_gib, this.control_plane_eur), (12.0, 48.0, 0.0));
    assert!(r.cost.notes.iter().any(|n| n.contains("self-managed K3s") && n.contains("74.63")));
    // No managed control plane, so no lock-in points for one.
    let lock = &r.sovereignty.platform.lock_in.contributions;
    assert!(!lock.iter().any(|c| c.fact.contains("managed Kubernetes")), "{lock:?}");

    let r = plan(&spec("stackit-k3s-workers"));
    let l = lines(&r, "small");
    assert!(!l.iter().any(|x| x.item == "control-plane"), "{l:?}");
    let billed: f64 = l.iter().filter(|x| x.item == "servers").map(|x| x.monthly_eur).sum();
    // 3 × g2i.4 €441.90 + 3 × g2i.8 at €294.60 = €883.80.
    assert!((billed - 1325.70).abs() < 0.005, "{billed}");
    assert_eq!(r.cost.comparison[0].control_plane_eur, 441.90);
}

/// Finding 2: `spread: site` renders a required anti-affinity on the hostname, so the
/// rendered pods, the planner and TOP009 all hold at most one replica per node.
#[test]
fn site_spread_is_one_replica_per_node_in_the_render_too() {
    let loaded = load(&spec("same-park"));
    let repo = hafen_render::render(&loaded).unwrap_or_else(|d| panic!("render: {d:?}"));
    let base = repo.files.get("tenants/news/base/front.yaml").unwrap_or_else(|| panic!("front"));
    let (nodes, _) = hafen_yaml::parse(base, hafen_diag::FileId(0), &hafen_yaml::Limits::default());
    let deployment = nodes
        .iter()
        .map(hafen_yaml::Node::to_json)
        .find(|d| d["kind"] == "Deployment")
        .unwrap_or_else(|| panic!("no Deployment in {base}"));
    let pod = &deployment["spec"]["template"]["spec"];
    let anti =
        &pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
    assert_eq!(anti[0]["topologyKey"], "kubernetes.io/hostname", "{pod}");
    assert_eq!(anti[0]["labelSelector"]["matchLabels"]["app.kubernetes.io/name"], "front", "{pod}");
    // No skew-based spread over hostnames, which would allow two replicas on one node.
    assert!(!base.contains("maxSkew"), "{base}");
    // The site spread comes with the overlay of this two-site cluster.
    let patch = repo
        .files
        .get("tenants/news/overlays/park/patches/front-spread-sites.yaml")
        .unwrap_or_else(|| {
            panic!(
                "site spread patch: {:?}",
                repo.files.keys().filter(|k| k.contains("news")).collect::<Vec<_>>()
            )
        });
    assert!(patch.contains("hafen.dev/site") && patch.contains("DoNotSchedule"), "{patch}");
    // Six replicas, four worker nodes: two stay Pending, and planner and check say so.
    let r = plan(&spec("same-park"));
    let park = &r.capacity[0];
    assert_eq!(
        park.unplaced_at_baseline.iter().map(|u| (u.app.as_str(), u.replicas)).collect::<Vec<_>>(),
        vec![("news/front", 2)]
    );
    let findings = hafen_check::check(&loaded, &hafen_check::Options::default());
    assert!(findings.iter().any(|d| d.code == "TOP009" && d.message.contains("`front`")));
}

/// Finding 3: servers listed beyond a pool's count are rented spares, registered as hosts:
/// a node loss lands on one, no buffer is advised, and the spare is billed.
#[test]
fn rented_spare_servers_absorb_a_node_loss_and_are_billed() {
    let r = plan(&spec("metal-spares"));
    let s = scenario(&r, "node:metal/workers-1");
    assert!(s.survivable, "{s:?}");
    assert!(s.on_replacement_servers > 0 && s.buffer.is_empty(), "{s:?}");
    let used = &s.replacement_used;
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!((used[0].server_type.as_str(), used[0].count), ("ax102", 1));
    assert_eq!(used[0].spare_of.as_deref(), Some("metal/workers"));
    // Losing the whole pool uses the one spare and buys what is left.
    let pool = scenario(&r, "pool:metal/workers");
    assert!(pool.replacement_used.iter().any(|u| u.spare_of.is_some()));
    // Billed: 3 in use + 1 spare × €104.00 = €416.00, and 3 × ax42 × €46.00 = €138.00.
    let l = lines(&r, "metal");
    let workers =
        l.iter().find(|x| x.detail.starts_with("pool workers")).unwrap_or_else(|| panic!("{l:?}"));
    assert_eq!((workers.quantity, workers.monthly_eur), (4.0, 416.0));
    assert!(workers.detail.contains("1 spare"), "{}", workers.detail);
    assert_eq!(r.cost.infrastructure_monthly_eur, 554.0);
    // The comparison prices the workload, not the idle spare: 3 × 32 threads.
    assert_eq!(r.cost.comparison[0].vcpus, 96.0);
}

/// Finding 4a: the buffer is what is left to buy after the declared replacement server: one
/// ccx33 takes two replicas, so a cpx52 (€100.49) suffices where a cpx62 is needed without it.
#[test]
fn the_buffer_is_sized_after_the_replacement_servers() {
    let with = plan(&spec("replacement-ccx33"));
    let s = scenario(&with, "user:two-workers");
    assert_eq!(s.replacement_used.iter().map(|u| u.count).sum::<u64>(), 1);
    let b: Vec<_> =
        s.buffer.iter().map(|b| (b.server_type.as_str(), b.count, b.monthly_eur)).collect();
    assert_eq!(b, vec![("cpx52", 1, 100.49)], "{s:?}");
    let without = plan(&spec("no-replacement"));
    let s = scenario(&without, "user:two-workers");
    let b: Vec<_> =
        s.buffer.iter().map(|b| (b.server_type.as_str(), b.count, b.monthly_eur)).collect();
    assert_eq!(b, vec![("cpx62", 1, 129.99)], "{s:?}");
}

/// Finding 4b: two types at one site when that is cheaper than one: a 4-vCPU and a 2-vCPU
/// server (€129.70) instead of two 4-vCPU servers (€172.94); and the advice works.
#[test]
fn a_mix_of_two_types_is_advised_when_cheaper_and_it_fits() {
    let text = spec("scaleway-third");
    let r = plan(&text);
    let s = scenario(&r, "user:two-workers");
    let mut b: Vec<_> = s.buffer.iter().map(|b| (b.server_type.clone(), b.count)).collect();
    b.sort();
    assert_eq!(b, vec![("basic3-x2c-8g".to_owned(), 1), ("basic3-x4c-16g".to_owned(), 1)], "{s:?}");
    let total: f64 = s.buffer.iter().map(|b| b.monthly_eur).sum();
    assert!((total - 129.70).abs() < 0.005 && total < 2.0 * 86.47, "{total}");
    assert!(s.buffer.iter().all(|b| b.orderable && b.lower_bound <= b.count));
    // Applying it: the advised servers ready at the site (the same baseline, the same failed
    // nodes), the failure is survivable.
    let ready = s
        .buffer
        .iter()
        .map(|b| format!("{{ serverType: {}, count: {} }}", b.server_type, b.count))
        .collect::<Vec<_>>()
        .join(", ");
    let fixed = text.replace(
        "      network: { underlayMTU: 1500, privateNetwork: { subnet: 10.0.0.0/16 } }",
        &format!(
            "      network: {{ underlayMTU: 1500, privateNetwork: {{ subnet: 10.0.0.0/16 }} }}\n      replacementCapacity: [ {ready} ]"
        ),
    );
    assert_ne!(fixed, text);
    let after = plan(&fixed);
    let s = scenario(&after, "user:two-workers");
    assert!(s.survivable, "{s:?}");
    assert_eq!(s.replacement_used.iter().map(|u| u.count).sum::<u64>(), 2, "{s:?}");
}

/// Finding 5: the exit of the DR cluster maps to types the target sells and lands at a
/// location independent of the primary and of the backups, so it creates none of the
/// findings it would report.
#[test]
fn an_exit_keeps_the_dr_site_independent_and_orders_only_sellable_types() {
    let text = spec("mixed-dr");
    let x = exit(&text, "scw", "hz");
    assert_eq!(x.error, None);
    let m = &x.sites[0];
    assert_ne!(m.location, "nbg1", "the primary and both backups stand at nbg1: {m:?}");
    assert_eq!(m.location, "fsn1", "the nearest independent Hetzner location to Paris");
    let loaded = load(&text);
    let hz = loaded.catalog.provider("hetzner-cloud").unwrap_or_else(|| panic!("catalogue"));
    for t in &m.server_types {
        let st = hz.server_type(&t.to).unwrap_or_else(|| panic!("{}", t.to));
        assert!(st.availability.as_ref().is_none_or(|a| a.orderable), "{} is not orderable", t.to);
    }
    assert!(x.review.iter().any(|r| r.message.contains("not the nearer `nbg1`")), "{:?}", x.review);
    let new: Vec<&str> = x.findings.iter().filter(|f| f.new).map(|f| f.code.as_str()).collect();
    for code in ["CAP005", "TOP006", "TOP007", "OPS003"] {
        assert!(!new.contains(&code), "the exit causes {code}: {:?}", x.findings);
    }
    // Findings the spec raises today are marked as such.
    assert!(x.findings.iter().any(|f| f.code == "TOP009" && !f.new), "{:?}", x.findings);
    // The replica cluster is rebuilt from the primary at Hetzner: only the mailer's spool and
    // the backup bucket leave Scaleway, which does not bill egress.
    let db =
        x.data.iter().find(|d| d.app == "shop/store-db").unwrap_or_else(|| panic!("{:?}", x.data));
    assert!(!db.leaves_source && db.method.contains("primary in `hz`"), "{db:?}");
    assert_eq!((x.egress.eur, x.egress.list_eur), (0.0, 0.0));
}

/// Finding 6: moving one site of a stretched cluster to its other site moves nodes within the
/// cluster, copies nothing that is not at the source, and bills no egress the included
/// traffic covers.
#[test]
fn a_site_exit_inside_a_stretched_cluster_moves_nodes_not_the_cluster() {
    let x = exit(&spec("two-site-etcd"), "fsn1", "nbg1");
    assert_eq!(x.error, None);
    assert!(!x.steps.iter().any(|s| s.title == "New cluster"), "{:?}", x.steps);
    let inside = x
        .steps
        .iter()
        .find(|s| s.title == "Move within the cluster")
        .unwrap_or_else(|| panic!("{:?}", x.steps));
    assert!(
        inside.detail.contains("`stretch` keeps running at `nbg1`")
            && inside.detail.contains("etcd"),
        "{}",
        inside.detail
    );
    assert!(!x.steps.iter().any(|s| s.title == "DNS cut-over"), "the cluster's own site stays");
    // The planner places both database instances at nbg1 (the cluster's site): nothing at
    // fsn1 holds data.
    assert!(x.data.is_empty(), "{:?}", x.data);
    assert_eq!((x.egress.tb, x.egress.eur), (0.0, 0.0));
    // The renamed control-plane sites are not listed twice.
    assert!(!x.retargeted.contains("- nbg1\n      - nbg1"), "{}", x.retargeted);
    assert!(x.review.iter().any(|r| r.path.ends_with("controlPlane.sites")), "{:?}", x.review);
    // Within one provider no credential placeholder is invented.
    assert!(!x.retargeted.contains("hcloud-api"), "{}", x.retargeted);
}

/// Finding 7: a dedicated server's allocatable CPU follows its hardware threads (kubelet
/// counts 32 CPUs on a 16-core SMT CPU); the per-core cost claim reports per thread too.
#[test]
fn bare_metal_cpu_is_counted_in_hardware_threads() {
    let r = plan(&spec("metal-spares"));
    let a = r
        .reservation
        .per_server_type
        .iter()
        .find(|a| a.allocation.server_type == "ax102")
        .unwrap_or_else(|| panic!("ax102"));
    assert_eq!(a.allocation.capacity.cpu_millis, 32_000);
    assert!(a.allocation.allocatable.cpu_millis > 31_000, "{:?}", a.allocation);
    let fact = r
        .cost
        .seed_facts
        .iter()
        .find(|f| f.id == "metal-per-core")
        .unwrap_or_else(|| panic!("seed fact"));
    let per = |name: &str| fact.figures.iter().find(|f| f.name.contains(name)).map(|f| f.value);
    let (core, thread) = (per("per core"), per("per hardware thread"));
    assert!(core.zip(thread).is_some_and(|(c, t)| t < c), "{:?}", fact.figures);
    assert!(fact.derivation.contains("threads on"), "{}", fact.derivation);
}

/// Finding 8: Scaleway instances have no local disk, so Longhorn's copies are block volumes
/// and priced; the missing IPv4 price is said, not printed as 0; Scaleway's own object
/// storage is Scaleway's.
#[test]
fn scaleway_storage_is_priced_and_missing_prices_are_named() {
    let r = plan(&spec("mixed-dr"));
    let l = lines(&r, "scw");
    let v = l.iter().find(|x| x.item == "volumes").unwrap_or_else(|| panic!("{l:?}"));
    // By hand: the replica cluster's 2 × 200 Gi + the spool 2 × 20 Gi = 440 Gi = 472.45 GB,
    // 2 Longhorn copies = 944.89 GB × €0.08 (2026-08-14) = €75.59.
    assert_eq!((v.quantity, v.unit_eur, v.monthly_eur), (944.89, 0.08, 75.59));
    assert_eq!(v.price_date, "2026-08-14");
    assert!(r.cost.clusters.iter().flat_map(|c| &c.lines).all(|x| !x.price_date.is_empty()));
    assert!(r.cost.notes.iter().any(|n| n.contains("IPv4 at Scaleway") && n.contains("6 server")));
    // MetalLB, not a Scaleway load balancer, announces the ingress the render writes.
    assert!(!l.iter().any(|x| x.item == "load-balancer"), "{l:?}");
    let dep = r
        .sovereignty
        .dependencies
        .iter()
        .find(|d| d.host == "s3.fr-par.scw.cloud")
        .unwrap_or_else(|| {
            panic!("{:?}", r.sovereignty.dependencies.iter().map(|d| &d.host).collect::<Vec<_>>())
        });
    assert!(dep.operator.as_deref().is_some_and(|o| o.starts_with("Scaleway")), "{dep:?}");
    assert_eq!(dep.us_parent, Some(false));
    assert_eq!(dep.known_from, "catalogue");
}

/// Finding 9: an app below its budget before anything fails is reported once; a node loss
/// that restores every replica is survivable.
#[test]
fn a_baseline_shortfall_is_reported_once_not_in_every_scenario() {
    let r = plan(&spec("baseline-shortfall"));
    let short = &r.capacity[0].below_budget_at_baseline;
    assert_eq!(short.len(), 1, "{short:?}");
    assert_eq!(
        (short[0].app.as_str(), short[0].running, short[0].min_available),
        ("jobs/tiny", 120, 399)
    );
    let node = scenario(&r, "node:pk/w-1");
    assert!(node.survivable, "{node:?}");
    let tiny =
        node.apps.iter().find(|a| a.app == "jobs/tiny").unwrap_or_else(|| panic!("{node:?}"));
    assert_eq!((tiny.running, tiny.baseline_running, tiny.below_budget), (120, 120, false));
    // Losing the pool takes it lower than it was: that is the failure's doing.
    let pool = scenario(&r, "pool:pk/w");
    assert!(pool.apps.iter().any(|a| a.app == "jobs/tiny" && a.below_budget && a.running < 120));
    assert!(hafen_plan::to_text(&r).contains("BELOW BUDGET BEFORE ANYTHING FAILS"));
}
