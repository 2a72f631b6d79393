//! The catalogue at the size of the brief's large synthetic platform (20 clusters, 2,000
//! nodes, 500 tenants, 5,000 apps): it must finish well inside the one-second budget that
//! check, plan and render share, and say nothing unexpected about a generated platform.

use hafen_catalog::Catalog;
use hafen_diag::Sources;
use std::time::Instant;

#[test]
fn large_platform_is_checked_quickly() {
    let text = hafen_synth::platform_yaml(hafen_synth::Shape::LARGE);
    let mut sources = Sources::new();
    let (catalog, _) = Catalog::builtin(&mut sources);
    let (loaded, diagnostics) = hafen_spec::load_str("large.yaml", &text, &mut sources, &catalog);
    let loaded = loaded
        .unwrap_or_else(|| panic!("{}", hafen_diag::human::render(&diagnostics, &sources, false)));
    let options = hafen_check::Options { as_of: Some("2026-11-22".into()) };
    let start = Instant::now();
    let findings = hafen_check::check(&loaded, &options);
    let elapsed = start.elapsed();
    eprintln!("checked the large platform in {elapsed:?}: {} findings", findings.len());
    let mut codes: Vec<&str> = findings.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    eprintln!("codes: {codes:?}");
    // Generous for unoptimised test builds on a shared two-core machine.
    assert!(elapsed.as_secs_f64() < 10.0, "took {elapsed:?}");
}

#[test]
fn extreme_numbers_neither_panic_nor_hang() {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/rules/base.yaml"),
    )
    .expect("base fixture");
    let spec = |cp: u32, count: u32, replicas: u32| {
        base.replacen("{ replicas: 3, serverType: cpx32 }", &format!("{{ replicas: {cp}, serverType: cpx32, sites: [nbg, fsn, nbg] }}"), 1)
        .replacen("count: 3 }", &format!("count: {count}, roles: [worker, storage] }}"), 1)
        .replace("replicas: 2\n", &format!("replicas: {replicas}\n          minAvailable: {replicas}\n          postgres: {{ size: 99999Ti, replicas: {replicas} }}\n          volumes: [{{ name: v, size: 99999Ti, mountPath: /v }}]\n"))
        .replace("cpu: 250m, memory: 512Mi", "cpu: \"99999999999\", memory: 99999Ti")
        .replace("quota: { cpu: \"4\", memory: 8Gi }", "quota: { cpu: \"1\", memory: 1Gi, storage: 1Gi }")
        .replace("podCIDR: 10.100.0.0/16", "podCIDR: 10.100.0.0/30")
        .replacen(
            "      registryMirror:",
            "      storage: { default: longhorn, replicas: 4294967295 }\n      maxUnhealthy: \"4294967295\"\n      registryMirror:",
            1,
        )
    };
    let mut sources = Sources::new();
    let (catalog, _) = Catalog::builtin(&mut sources);
    // The loader caps the counts that drive planning, with a located error for each ...
    let extreme = spec(u32::MAX, u32::MAX, u32::MAX);
    let (loaded, diagnostics) =
        hafen_spec::load_str("extreme.yaml", &extreme, &mut sources, &catalog);
    assert!(loaded.is_none());
    for path in [
        "spec.clusters[0].controlPlane.replicas",
        "spec.clusters[0].nodePools[0].count",
        "spec.tenants[0].apps[0].replicas",
        "spec.tenants[0].apps[0].postgres.replicas",
    ] {
        assert!(
            diagnostics.iter().any(|d| d.code == "SPEC004" && d.path.as_deref() == Some(path)),
            "{path}: {diagnostics:#?}"
        );
    }
    // ... and the rules still cope with the extremes if a platform ever holds them.
    let within = spec(99, 4900, 10_000);
    let (loaded, diagnostics) =
        hafen_spec::load_str("within.yaml", &within, &mut sources, &catalog);
    let Some(mut loaded) = loaded else {
        panic!("{}", hafen_diag::human::render(&diagnostics, &sources, false));
    };
    let cluster = &mut loaded.platform.spec.clusters[0];
    cluster.control_plane.replicas = u32::MAX;
    cluster.node_pools[0].count = u32::MAX;
    let app = &mut loaded.platform.spec.tenants[0].apps[0];
    app.replicas = u32::MAX;
    app.min_available = Some(u32::MAX);
    if let Some(pg) = app.postgres.as_mut() {
        pg.replicas = u32::MAX;
    }
    let start = Instant::now();
    let findings =
        hafen_check::check(&loaded, &hafen_check::Options { as_of: Some("2026-11-22".into()) });
    assert!(start.elapsed().as_secs_f64() < 5.0);
    assert!(findings.iter().any(|d| d.code == "CAP009"), "{findings:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 24, ..Default::default() })]

    /// Any generated platform shape is checked without a panic, and twice to the same bytes.
    #[test]
    fn random_shapes_check_deterministically(
        clusters in 1usize..5,
        sites in 1usize..7,
        nodes in 1usize..80,
        tenants in 1usize..12,
        apps in 1usize..40,
        replicas in 1u32..6,
    ) {
        let shape = hafen_synth::Shape { clusters, sites, nodes, tenants, apps, replicas };
        let text = hafen_synth::platform_yaml(shape);
        let mut sources = Sources::new();
        let (catalog, _) = Catalog::builtin(&mut sources);
        let (loaded, _) = hafen_spec::load_str("shape.yaml", &text, &mut sources, &catalog);
        if let Some(loaded) = loaded {
            let options = hafen_check::Options { as_of: Some("2026-11-22".into()) };
            let a = hafen_check::check(&loaded, &options);
            let b = hafen_check::check(&loaded, &options);
            proptest::prop_assert_eq!(
                hafen_diag::human::render(&a, &sources, false),
                hafen_diag::human::render(&b, &sources, false)
            );
        }
    }
}
