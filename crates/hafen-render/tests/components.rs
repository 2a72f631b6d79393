//! The component list the planner reads (`hafen_render::components`) is exactly what the
//! renderer delivers: every component with a chart appears as a pinned HelmRelease (Flux) or
//! Application (Argo CD) with that chart and version, nothing else is delivered, and the
//! per-node daemon requests the planner subtracts are the ones written into the values.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;

fn docs(text: &str) -> Vec<Value> {
    let (nodes, _) = hafen_yaml::parse(text, hafen_diag::FileId(0), &hafen_yaml::Limits::default());
    nodes.iter().map(hafen_yaml::Node::to_json).collect()
}

/// (chart, version) of every Helm delivery of `cluster` in the rendered repository.
fn delivered(
    files: &std::collections::BTreeMap<String, String>,
    cluster: &str,
) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, text) in files {
        let flux = path.starts_with(&format!("clusters/{cluster}/platform/"));
        let argo = path == &format!("management/delivery/clusters/{cluster}.yaml");
        if !(flux || argo) || !path.ends_with(".yaml") {
            continue;
        }
        for doc in docs(text) {
            match doc.get("kind").and_then(Value::as_str) {
                Some("HelmRelease") => {
                    let chart = doc
                        .pointer("/spec/chart/spec/chart")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let version = doc
                        .pointer("/spec/chart/spec/version")
                        .and_then(Value::as_str)
                        .unwrap_or("(git)");
                    out.insert((chart.to_owned(), version.to_owned()));
                }
                Some("Application") => {
                    let source = doc.pointer("/spec/source").cloned().unwrap_or(Value::Null);
                    if let Some(chart) = source.get("chart").and_then(Value::as_str) {
                        let version = source
                            .get("targetRevision")
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        out.insert((chart.to_owned(), version.to_owned()));
                    } else if source.get("helm").is_some() {
                        let path = source.get("path").and_then(Value::as_str).unwrap_or_default();
                        out.insert((path.to_owned(), "(git)".to_owned()));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn the_component_list_is_what_is_rendered() {
    let mut checked = 0;
    for case in support::cases() {
        let (loaded, _) = support::load(&case.name, &case.text);
        let Ok(repo) = hafen_render::render(&loaded) else { continue };
        for cluster in &loaded.platform.spec.clusters {
            let listed: BTreeSet<(String, String)> = hafen_render::components(&loaded, cluster)
                .into_iter()
                .filter_map(|c| {
                    c.chart
                        .map(|ch| (ch.name, ch.version))
                        .or_else(|| c.git.map(|g| (g.path, "(git)".to_owned())))
                })
                .collect();
            let rendered = delivered(&repo.files, &cluster.name);
            assert_eq!(
                listed, rendered,
                "{} / {}: components() and the rendered releases differ",
                case.name, cluster.name
            );
            checked += 1;
        }
    }
    assert!(checked >= 6, "only {checked} clusters checked");
}

#[test]
fn daemon_requests_are_the_rendered_ones() {
    let case = support::cases()
        .into_iter()
        .find(|c| c.name == "examples/two-stack-hetzner")
        .expect("example");
    let (loaded, _) = support::load(&case.name, &case.text);
    let repo = hafen_render::render(&loaded).expect("renders");
    let cluster = &loaded.platform.spec.clusters[1];
    let components = hafen_render::components(&loaded, cluster);
    let cilium = components.iter().find(|c| c.name == "cilium").expect("cilium");
    let agent = cilium.daemons.iter().find(|d| d.name == "cilium-agent").expect("agent");
    let text = &repo.files[&format!("clusters/{}/platform/network/cilium.yaml", cluster.name)];
    let release = docs(text).into_iter().find(|d| d["kind"] == "HelmRelease").expect("release");
    assert_eq!(
        release.pointer("/spec/values/resources/requests/cpu").and_then(Value::as_str),
        Some(agent.cpu.as_str())
    );
    assert_eq!(
        release.pointer("/spec/values/resources/requests/memory").and_then(Value::as_str),
        Some(agent.memory.as_str())
    );
    // Per-node overhead on a storage node of the bare-metal cluster: Cilium, MetalLB, Piraeus,
    // monitoring, logs and backups all run a daemon there.
    let storage_pool = &cluster.node_pools[0];
    let (cpu, memory) = hafen_render::daemon_overhead(&components, cluster, Some(storage_pool));
    let expected_cpu: u64 = components
        .iter()
        .flat_map(|c| &c.daemons)
        .filter(|d| d.runs_on(cluster, Some(storage_pool)))
        .map(|d| d.cpu_millis)
        .sum();
    assert_eq!(cpu, expected_cpu);
    assert!(cpu >= 100 + 25 + 25 + 100, "{cpu}m is less than Cilium, MetalLB and LINSTOR alone");
    assert!(memory > 512 * 1024 * 1024, "{memory} bytes");
    let (cp_cpu, _) = hafen_render::daemon_overhead(&components, cluster, None);
    assert!(cp_cpu < cpu, "control-plane nodes carry fewer daemons than storage workers");
}

#[test]
fn external_endpoints_name_their_operators() {
    let case = support::cases()
        .into_iter()
        .find(|c| c.name == "examples/two-stack-hetzner")
        .expect("example");
    let (loaded, _) = support::load(&case.name, &case.text);
    let cluster = &loaded.platform.spec.clusters[0];
    let components = hafen_render::components(&loaded, cluster);
    let endpoints: Vec<&hafen_render::Endpoint> =
        components.iter().flat_map(|c| &c.endpoints).collect();
    let purposes: BTreeSet<&str> = endpoints.iter().map(|e| e.purpose.as_str()).collect();
    for purpose in [
        "acme",
        "dns",
        "ntp",
        "registry-mirror",
        "image-registry",
        "chart-repository",
        "git",
        "object-storage",
    ] {
        assert!(purposes.contains(purpose), "no {purpose} endpoint: {purposes:?}");
    }
    let ntp: Vec<&&hafen_render::Endpoint> =
        endpoints.iter().filter(|e| e.purpose == "ntp").collect();
    assert!(ntp.iter().all(|e| {
        e.operator.as_ref().is_some_and(|o| o.country.as_deref() == Some("DE") && !o.us_parent)
    }));
    assert!(!purposes.contains("discovery"), "discovery is off unless enabled");
    let quay = endpoints.iter().find(|e| e.host == "quay.io").expect("quay.io");
    assert!(quay.operator.as_ref().is_some_and(|o| o.us_parent));
}
