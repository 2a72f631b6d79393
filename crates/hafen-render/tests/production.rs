//! What a production reviewer checks in the rendered objects, asserted on the examples and on
//! variants of them: the MTU Cilium is given, routing ranges, the placement of controllers,
//! credentials and the remediation guards. Each test states the upstream fact it relies on.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;

type Files = BTreeMap<String, String>;

fn docs(text: &str) -> Vec<Value> {
    let (nodes, _) = hafen_yaml::parse(text, hafen_diag::FileId(0), &hafen_yaml::Limits::default());
    nodes.iter().map(hafen_yaml::Node::to_json).collect()
}

fn example(name: &str) -> String {
    std::fs::read_to_string(support::root().join("examples").join(name).join("platform.yaml"))
        .unwrap_or_else(|e| panic!("examples/{name}: {e}"))
}

fn render(name: &str, text: &str) -> Files {
    let (loaded, _) = support::load(name, text);
    match hafen_render::render(&loaded) {
        Ok(repo) => repo.files,
        Err(diags) => panic!(
            "{name} does not render: {:?}",
            diags.iter().map(|d| format!("{}: {}", d.code, d.message)).collect::<Vec<_>>()
        ),
    }
}

fn file<'a>(files: &'a Files, path: &str) -> &'a str {
    files.get(path).map(String::as_str).unwrap_or_else(|| panic!("{path} is not rendered"))
}

/// Every document of `path` of the given kind.
fn objects(files: &Files, path: &str, kind: &str) -> Vec<Value> {
    docs(file(files, path))
        .into_iter()
        .filter(|d| d.get("kind").and_then(Value::as_str) == Some(kind))
        .collect()
}

/// Every document of the whole repository of the given kind, with its path.
fn all(files: &Files, kind: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (path, text) in files {
        if !path.ends_with(".yaml") {
            continue;
        }
        for d in docs(text) {
            if d.get("kind").and_then(Value::as_str) == Some(kind) {
                out.push((path.clone(), d));
            }
        }
    }
    out
}

fn cilium_values(files: &Files, cluster: &str) -> Value {
    docs(file(files, &format!("bootstrap/{cluster}/cilium-values.yaml")))
        .into_iter()
        .next()
        .unwrap_or(Value::Null)
}

/// Cilium's `MTU` is the device MTU; Cilium subtracts 80 bytes for WireGuard and 50 (IPv4) for
/// a tunnel itself (cilium pkg/mtu/mtu.go, getRouteMTU). So `auto` passes the underlay.
#[test]
fn cilium_is_given_the_underlay_mtu_and_subtracts_its_own_allowances() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    assert_eq!(cilium_values(&two, "prod-fsn")["MTU"], 1400, "vSwitch");
    assert_eq!(cilium_values(&two, "prod-nbg")["MTU"], 1450, "Hetzner Cloud network");
    let header = file(&two, "bootstrap/prod-fsn/cilium-values.yaml");
    assert!(header.contains("pod route MTU 1320"), "{header}");
    let release = file(&two, "clusters/prod-fsn/platform/network/cilium.yaml");
    assert!(release.contains("MTU: 1400\n"), "{release}");
    assert!(!two.values().any(|t| t.contains("MTU: 1340")), "the reduced value is passed somewhere");

    let k3s = render("k3s", &example("civil-society-k3s"));
    // VXLAN + WireGuard over a 1500 LAN: Cilium gets 1500 and gives pods 1500 − 80 − 50.
    assert_eq!(cilium_values(&k3s, "commons")["MTU"], 1500);
    assert!(file(&k3s, "bootstrap/commons/cilium-values.yaml").contains("pod route MTU 1370"));

    // An explicit pod MTU is what pods get: Cilium is given it plus its allowances.
    let fixed = example("two-stack-hetzner").replacen("mtu: auto", "mtu: 1300", 1);
    let fixed = render("fixed-mtu", &fixed);
    assert_eq!(cilium_values(&fixed, "prod-nbg")["MTU"], 1380);
}
