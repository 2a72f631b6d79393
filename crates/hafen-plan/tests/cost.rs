//! Cost figures checked by hand against the dated prices: cost per provider, the egress-only
//! comparison with its derivation, AWS's own compute rates, the field reports' claims
//! recomputed, and control-plane nodes that run apps counted as workload capacity.

mod common;

use common::{example, load};
use hafen_plan::Options;

fn report(text: &str) -> hafen_plan::Report {
    hafen_plan::plan(&load(text), &Options { samples: 0, ..Options::default() }, &mut |_, _| {})
}

fn civil_society() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/civil-society-k3s/platform.yaml"
    ))
    .unwrap_or_else(|e| panic!("example: {e}"))
}

#[test]
fn cost_per_provider_adds_up_to_the_platform() {
    let r = report(&example());
    let p = |name: &str| {
        r.cost.providers.iter().find(|p| p.provider == name).unwrap_or_else(|| panic!("{name}"))
    };
    // By hand (see example.rs): prod-nbg at Hetzner Cloud €997.98, prod-fsn on Robot €628.60.
    assert!((p("hcloud").monthly_eur - 997.98).abs() < 0.005, "{:?}", p("hcloud"));
    assert!((p("robot").monthly_eur - 628.60).abs() < 0.005, "{:?}", p("robot"));
    assert_eq!(p("hcloud").clusters, vec!["prod-nbg".to_owned()]);
    assert_eq!(p("hcloud").type_, "hetzner-cloud");
    let sum: f64 = r.cost.providers.iter().map(|p| p.monthly_eur).sum();
    assert!((sum - r.cost.infrastructure_monthly_eur).abs() < 0.01);
    assert!((p("hcloud").share_percent - 61.4).abs() < 0.05, "997.98 / 1626.58");
    // Every line names the provider that bills it.
    assert!(r.cost.clusters.iter().flat_map(|c| &c.lines).all(|l| !l.provider.is_empty()));
    let text = hafen_plan::to_text(&r);
    assert!(text.contains("Per provider") && text.contains("1,626.58"), "platform total shown");
}

#[test]
fn the_egress_of_one_cluster_is_priced_alone_with_its_arithmetic() {
    let r = report(&example());
    let e = r
        .cost
        .egress
        .iter()
        .find(|e| e.cluster == "prod-nbg")
        .unwrap_or_else(|| panic!("{:?}", r.cost.egress));
    assert_eq!(e.egress_tb, 17.5);
    let row = |o: &str| e.rows.iter().find(|x| x.offer == o).unwrap_or_else(|| panic!("{o}"));
    // Hetzner Cloud: 11 servers × 20 TB included, so nothing billed; €1.00/TB at list price.
    let here = row("this-platform");
    assert_eq!((here.billed_eur, here.list_eur), (0.0, 17.5));
    assert!(here.derivation.contains("220 TB included"), "{}", here.derivation);
    // GCP by hand: 17.5e12 B = 16,298 GiB; 1,023 × 0.12 + 9,216 × 0.11 + 6,058 × 0.08 = $1,621
    // → €1,401 at 0.8645 €/$.
    let gcp = row("gcp-gke");
    assert!((gcp.billed_eur - 1401.5).abs() < 2.0, "{gcp:?}");
    assert!(
        gcp.derivation.contains("16298 GiB") && gcp.derivation.contains("× $0.11"),
        "{}",
        gcp.derivation
    );
    assert_eq!(row("stackit-ske").billed_eur, 0.0);
    let md = hafen_plan::to_markdown(&r);
    assert!(md.contains("Egress alone: `prod-nbg`, 17.5 TB"), "markdown shows the egress line");
}

#[test]
fn aws_has_its_own_compute_rates() {
    let r = report(&example());
    let row =
        |o: &str| r.cost.comparison.iter().find(|c| c.offer == o).unwrap_or_else(|| panic!("{o}"));
    let (aws, gcp) = (row("aws-eks"), row("gcp-gke"));
    assert_ne!(aws.compute_eur, gcp.compute_eur, "AWS priced at GCP's rates");
    // By hand: Fargate $0.04048 per vCPU-hour and $0.004445 per GB-hour, 730 h, 0.8645 €/$.
    let expect = (aws.vcpus * 0.04048 + aws.memory_gib * 0.004445) * 730.0 * 0.8645;
    assert!((aws.compute_eur - expect).abs() < 0.05, "{} vs {expect}", aws.compute_eur);
    assert!(!aws.verified, "secondary sources are marked");
    assert!(aws.sources.iter().any(|s| s.contains("Fargate") && s.contains("2026-03-10")));
}

#[test]
fn the_field_reports_cost_claims_are_recomputed() {
    let r = report(&example());
    let fact =
        |id: &str| r.cost.seed_facts.iter().find(|f| f.id == id).unwrap_or_else(|| panic!("{id}"));
    let egress = fact("egress-17.5tb");
    let fig = |f: &hafen_plan::cost::SeedFact, name: &str| {
        f.figures.iter().find(|x| x.name.contains(name)).map(|x| x.value).unwrap_or(f64::NAN)
    };
    assert!((fig(egress, "GKE") - 1401.5).abs() < 2.0, "{egress:?}");
    assert_eq!(fig(egress, "at list price"), 17.5);
    assert_eq!(egress.verdict, "same-order");
    assert!(egress.derivation.contains("not derivable"), "the 33 € is explained, not faked");
    // Managed markup for this workload: (compute + control plane) at the offer vs here.
    let markup = fact("managed-markup");
    let row =
        |o: &str| r.cost.comparison.iter().find(|c| c.offer == o).unwrap_or_else(|| panic!("{o}"));
    let this = row("this-platform");
    let stackit = row("stackit-ske");
    let by_hand = ((stackit.compute_eur + stackit.control_plane_eur)
        / (this.compute_eur + this.control_plane_eur)
        - 1.0)
        * 100.0;
    assert!((fig(markup, "STACKIT") - by_hand).abs() < 0.01, "{markup:?}");
    // Bare metal per core: medians over the catalogue's types.
    let metal = fact("metal-per-core");
    let cheaper = fig(metal, "cheaper per core");
    assert!(cheaper > 0.0 && cheaper < 100.0, "{metal:?}");
    assert!(
        metal.derivation.contains("unverified"),
        "recalled prices are flagged: {}",
        metal.derivation
    );
}

#[test]
fn control_plane_nodes_that_run_apps_are_workload_capacity() {
    let r = report(&civil_society());
    let row =
        |o: &str| r.cost.comparison.iter().find(|c| c.offer == o).unwrap_or_else(|| panic!("{o}"));
    let this = row("this-platform");
    // Three schedulable r640 (16 cores, 128 GiB) are the whole workload capacity.
    assert_eq!((this.vcpus, this.memory_gib), (48.0, 384.0));
    assert_eq!(this.control_plane_eur, 0.0);
    assert!((this.compute_eur - 3.0 * 95.0).abs() < 0.005);
    let ovh = row("ovh-mks");
    assert!(ovh.compute_eur > 0.0, "EU managed Kubernetes is not free: {ovh:?}");
    let gcp = row("gcp-gke");
    assert!(gcp.compute_eur > 0.0);
    assert!(r.cost.notes.iter().any(|n| n.contains("schedulable")));
}

/// The example with a 100 GiB volume on the shop's storefront (3 replicas), shared or not.
fn with_volume(shared: bool) -> String {
    let text = example();
    let anchor = "          domains: [shop.example.eu]\n";
    assert!(text.contains(anchor), "the example still has the storefront");
    text.replacen(
        anchor,
        &format!(
            "{anchor}          volumes: [{{ name: uploads, size: 100Gi, mountPath: /srv/uploads, shared: {shared} }}]\n"
        ),
        1,
    )
}

#[test]
fn a_shared_volume_is_priced_once_and_a_per_replica_volume_once_per_replica() {
    let volume_gb = |text: &str| {
        let r = report(text);
        let c =
            r.cost.clusters.iter().find(|c| c.cluster == "prod-nbg").unwrap_or_else(|| panic!());
        let line = c.lines.iter().find(|l| l.item == "volumes").unwrap_or_else(|| panic!("{c:?}"));
        assert_eq!(line.unit, "GB", "{line:?}");
        line.quantity
    };
    let base = volume_gb(&example());
    let gib100 = 100.0 * 1.073_741_824;
    let shared = volume_gb(&with_volume(true)) - base;
    let own = volume_gb(&with_volume(false)) - base;
    assert!((shared - gib100).abs() < 1.0, "one shared copy: {shared} GB");
    assert!((own - 3.0 * gib100).abs() < 1.0, "three claims: {own} GB");
}
