//! K3s bootstrap configuration. There is no Cluster API provider for K3s among the schemas
//! Hafen validates against, so K3s machines are installed by hand from these files (the runbook
//! says how); everything inside the cluster is delivered by GitOps exactly as for Talos.

use crate::out::Out;
use crate::talos;
use hafen_spec::{Cluster, IngressController, NodePool, PlatformSpec, StorageDriver};
use serde_json::{Value, json};

/// The K3s release matching the cluster's Kubernetes version.
pub(crate) fn k3s_version(cluster: &Cluster) -> String {
    let v = cluster.kubernetes.trim_start_matches('v');
    format!("v{v}+k3s1")
}

/// The API endpoint servers advertise and agents join: a name in the cluster's DNS zone when
/// it has one (create the record before installing), else the first server's address.
pub(crate) fn api_host(cluster: &Cluster) -> Option<String> {
    cluster.dns.as_ref().map(|d| format!("api.{}.{}", cluster.name, d.zone))
}

fn header(cluster: &Cluster, what: &str) -> String {
    format!(
        "# {what} of K3s cluster `{}` (K3s {}).\n# Copy to /etc/rancher/k3s/config.yaml before installing K3s; see RUNBOOK.md.\n# Rendered by Hafen. The join token is not here: it is read from /etc/rancher/k3s/token.\n",
        cluster.name,
        k3s_version(cluster)
    )
}

fn labels_args(cluster: &Cluster, pool: Option<&NodePool>) -> Vec<Value> {
    talos::node_labels(cluster, pool, pool.map_or(cluster.site.as_str(), |p| cluster.pool_site(p)))
        .iter()
        .map(|(k, v)| json!(format!("{k}={}", v.as_str().unwrap_or_default())))
        .collect()
}

fn common(spec: &PlatformSpec, cluster: &Cluster, server: bool) -> serde_json::Map<String, Value> {
    let mut c = serde_json::Map::new();
    c.insert("token-file".into(), json!("/etc/rancher/k3s/token"));
    if server {
        c.insert("flannel-backend".into(), json!("none"));
        c.insert("disable-network-policy".into(), json!(true));
        if cluster.network.kube_proxy_replacement && api_host(cluster).is_some() {
            c.insert("disable-kube-proxy".into(), json!(true));
        }
        let mut disable = vec![json!("servicelb")];
        if cluster.ingress == IngressController::Traefik {
            // Traefik comes pinned through GitOps instead of K3s' bundled chart.
            disable.push(json!("traefik"));
        }
        if crate::components::storage_driver(cluster) != Some(StorageDriver::LocalPath) {
            disable.push(json!("local-storage"));
        }
        c.insert("disable".into(), Value::Array(disable));
        c.insert("cluster-cidr".into(), json!(cluster.network.pod_cidr));
        c.insert("service-cidr".into(), json!(cluster.network.service_cidr));
        c.insert("secrets-encryption".into(), json!(true));
        c.insert("write-kubeconfig-mode".into(), json!("0600"));
        if let Some(host) = api_host(cluster) {
            c.insert("tls-san".into(), json!([host]));
        }
    }
    if cluster.registry_mirror.is_some() {
        // Pull only through the mirrors of registries.yaml; containerd otherwise falls back to
        // the upstream registry whenever the mirror fails (K3s "Default Endpoint Fallback").
        c.insert("disable-default-registry-endpoint".into(), json!(true));
    }
    let _ = spec;
    c
}

/// Writes the K3s files of a cluster under `bootstrap/<cluster>/k3s/`.
pub(crate) fn render(out: &mut Out, spec: &PlatformSpec, cluster: &Cluster) {
    let dir = format!("bootstrap/{}/k3s", cluster.name);
    let mut first = common(spec, cluster, true);
    first.insert("cluster-init".into(), json!(true));
    first.insert("node-label".into(), Value::Array(labels_args(cluster, None)));
    if !cluster.control_plane.schedulable {
        first.insert(
            "node-taint".into(),
            json!(["node-role.kubernetes.io/control-plane=true:NoSchedule"]),
        );
    }
    out.text(
        format!("{dir}/server-first.yaml"),
        header(cluster, "First server") + &hafen_yaml::emit(&Value::Object(first)),
    );
    if cluster.control_plane.replicas > 1 {
        let mut join = common(spec, cluster, true);
        let host = api_host(cluster).unwrap_or_else(|| "<first server address>".into());
        join.insert("server".into(), json!(format!("https://{host}:6443")));
        join.insert("node-label".into(), Value::Array(labels_args(cluster, None)));
        if !cluster.control_plane.schedulable {
            join.insert(
                "node-taint".into(),
                json!(["node-role.kubernetes.io/control-plane=true:NoSchedule"]),
            );
        }
        out.text(
            format!("{dir}/server-join.yaml"),
            header(cluster, "Further servers") + &hafen_yaml::emit(&Value::Object(join)),
        );
    }
    for pool in &cluster.node_pools {
        let mut agent = common(spec, cluster, false);
        let host = api_host(cluster).unwrap_or_else(|| "<first server address>".into());
        agent.insert("server".into(), json!(format!("https://{host}:6443")));
        agent.insert("node-label".into(), Value::Array(labels_args(cluster, Some(pool))));
        let taints: Vec<Value> = talos::node_taints(pool)
            .into_iter()
            .map(|(key, value, effect)| json!(format!("{key}={value}:{effect}")))
            .collect();
        if !taints.is_empty() {
            agent.insert("node-taint".into(), Value::Array(taints));
        }
        out.text(
            format!("{dir}/agent-{}.yaml", pool.name),
            header(cluster, &format!("Agents of pool `{}`", pool.name))
                + &hafen_yaml::emit(&Value::Object(agent)),
        );
    }
    if let Some(mirror) = &cluster.registry_mirror {
        let mut mirrors = serde_json::Map::new();
        for registry in crate::components::mirrored_registries(spec, cluster) {
            let endpoint = crate::components::mirror_endpoint(mirror, &registry);
            mirrors.insert(registry, json!({ "endpoint": [endpoint] }));
        }
        let text = format!(
            "# Registry mirrors of K3s cluster `{}`: copy to /etc/rancher/k3s/registries.yaml on every node.\n# Each upstream has its own path on the mirror (used as written, no /v2 added); the nodes run\n# with disable-default-registry-endpoint, so a mirror outage fails pulls instead of silently\n# pulling from the upstream.\n# Rendered by Hafen.\n{}",
            cluster.name,
            hafen_yaml::emit(&json!({ "mirrors": mirrors }))
        );
        out.text(format!("{dir}/registries.yaml"), text);
    }
    let mut chrony = format!(
        "# Time servers of K3s cluster `{}`: copy to /etc/chrony/sources.d/hafen.sources.\n# Rendered by Hafen.\n",
        cluster.name
    );
    for server in talos::time_servers(cluster) {
        chrony.push_str(&format!("server {server} iburst\n"));
    }
    out.text(format!("{dir}/chrony.sources"), chrony);
}
