//! `check`'s capacity rules and the planner must agree on what a node can hold: both take
//! `hafen_check::allocatable`, and this test holds them to it on every example, node group by
//! node group, so a finding's "offers 7.6 CPU" and the plan's derivation table never differ.

mod common;

use common::load;
use hafen_plan::Options;

fn examples() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path().join("platform.yaml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            out.push((path.display().to_string(), text));
        }
    }
    out.sort();
    assert!(out.len() >= 3, "the three examples");
    out
}

#[test]
fn check_and_plan_compute_the_same_allocatable_for_every_node_group() {
    let mut total = 0;
    for (path, text) in examples() {
        let loaded = load(&text);
        let report = hafen_plan::plan(
            &loaded,
            &Options { samples: 0, ..Options::default() },
            &mut |_, _| {},
        );
        let spec = &loaded.platform.spec;
        let mut compared = 0;
        for cluster in &spec.clusters {
            let server_at = |site: &str, name: &str| {
                let site = spec.site(site)?;
                let provider = spec.provider(&site.provider)?;
                loaded.catalog.provider(&provider.type_)?.server_type(name).cloned()
            };
            let mut groups = vec![(
                None,
                cluster.control_plane_sites()[0].to_owned(),
                cluster.control_plane.server_type.clone(),
            )];
            for pool in &cluster.node_pools {
                groups.push((
                    Some(pool),
                    cluster.pool_site(pool).to_owned(),
                    pool.server_type.clone(),
                ));
            }
            for (pool, site, type_name) in groups {
                let Some(server) = server_at(&site, &type_name) else { continue };
                let (cpu, mib) =
                    hafen_check::allocatable::for_node(&loaded, cluster, &server, pool);
                let planned: Vec<(u64, u64)> = report
                    .reservation
                    .per_server_type
                    .iter()
                    .filter(|a| a.cluster == cluster.name && a.allocation.server_type == type_name)
                    .filter(|a| (a.allocation.role == "control-plane") == pool.is_none())
                    .map(|a| {
                        (a.allocation.allocatable.cpu_millis, a.allocation.allocatable.memory_mib)
                    })
                    .collect();
                assert!(
                    planned.contains(&(cpu, mib)),
                    "{path}: cluster {} {}: check computes {cpu} m / {mib} MiB, the plan {planned:?}",
                    cluster.name,
                    pool.map_or("control plane", |p| p.name.as_str()),
                );
                compared += 1;
            }
        }
        assert!(compared >= 1, "{path}: compared {compared} node groups");
        total += compared;
    }
    assert!(total >= 8, "compared {total} node groups over the examples");
}
