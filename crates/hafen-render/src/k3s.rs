//! K3s bootstrap configuration. There is no Cluster API provider for K3s among the schemas
//! Hafen validates against, so K3s machines are installed from these files (the runbook says
//! how); everything inside the cluster is delivered by GitOps exactly as for Talos.
//!
//! On Hetzner Cloud a K3s cluster runs the external Hetzner cloud controller: K3s' embedded one
//! is off, kubelets register with `cloud-provider=external`, and every node joins on its address
//! in the cluster's Cloud network. Its servers are created with `hcloud server create` from
//! rendered cloud-init user data that installs the pinned K3s release with the rendered
//! configuration; the user data holds no secret, the join token reaches each server over SSH.

use crate::components::{has_cloud, has_metal};
use crate::{Ctx, codes, talos};
use hafen_spec::{Cluster, IngressController, NodePool, Os, PlatformSpec, StorageDriver};
use serde_json::{Value, json};

/// The K3s release of a cluster: the spec's `osVersion` when it names a K3s build, else the
/// first K3s build of the cluster's Kubernetes version.
pub(crate) fn k3s_version(cluster: &Cluster) -> String {
    if let Some(v) = cluster.os_version.as_deref().filter(|v| v.contains("+k3s")) {
        return if v.starts_with('v') { v.to_owned() } else { format!("v{v}") };
    }
    let v = cluster.kubernetes.trim_start_matches('v');
    format!("v{v}+k3s1")
}

/// The API endpoint servers advertise and agents join: a name in the cluster's DNS zone when
/// it has one (create the record before installing), else the first server's address.
pub(crate) fn api_host(cluster: &Cluster) -> Option<String> {
    cluster.dns.as_ref().map(|d| format!("api.{}.{}", cluster.name, d.zone))
}

/// True when every node of the K3s cluster is a Hetzner Cloud server, so the Hetzner cloud
/// controller initialises all of them.
pub(crate) fn on_cloud(spec: &PlatformSpec, cluster: &Cluster) -> bool {
    has_cloud(spec, cluster) && !has_metal(spec, cluster)
}

/// The address agents and further servers join at, as written into their configuration.
fn join_host(spec: &PlatformSpec, cluster: &Cluster) -> String {
    api_host(cluster).unwrap_or_else(|| {
        if on_cloud(spec, cluster) {
            format!("<address of load balancer {}>", api_load_balancer(cluster))
        } else {
            "<first server address>".into()
        }
    })
}

/// Where the per-node settings go that only the server itself knows (its address in the Cloud
/// network, its name): a K3s drop-in next to the rendered configuration, written at first boot.
const NODE_DROP_IN: &str = "/etc/rancher/k3s/config.yaml.d/10-node.yaml";
/// The join token on every node; never rendered, copied there over SSH (RUNBOOK.md).
const TOKEN_FILE: &str = "/etc/rancher/k3s/token";

fn header(spec: &PlatformSpec, cluster: &Cluster, what: &str) -> String {
    let mut text = format!(
        "# {what} of K3s cluster `{}` (K3s {}).\n# Copy to /etc/rancher/k3s/config.yaml before installing K3s; see RUNBOOK.md.\n# Rendered by Hafen. The join token is not here: it is read from {TOKEN_FILE}.\n",
        cluster.name,
        k3s_version(cluster)
    );
    if on_cloud(spec, cluster) {
        text.push_str(&format!(
            "# Hetzner Cloud: the user data in cloud-init/ installs this file. The Hetzner cloud controller\n# initialises the nodes (K3s' embedded one is off, kubelets run with cloud-provider=external).\n# node-ip (the address in network `{}`) and node-name (the server name) come from\n# {NODE_DROP_IN}, written at first boot from the metadata service.\n# No flannel-iface: flannel is off; Cilium and etcd use the node IP.\n",
            cluster.name
        ));
    }
    text
}

fn labels_args(cluster: &Cluster, pool: Option<&NodePool>) -> Vec<Value> {
    talos::node_labels(cluster, pool, pool.map_or(cluster.site.as_str(), |p| cluster.pool_site(p)))
        .iter()
        .map(|(k, v)| json!(format!("{k}={}", v.as_str().unwrap_or_default())))
        .collect()
}

fn common(spec: &PlatformSpec, cluster: &Cluster, server: bool) -> serde_json::Map<String, Value> {
    let mut c = serde_json::Map::new();
    c.insert("token-file".into(), json!(TOKEN_FILE));
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
        if on_cloud(spec, cluster) {
            // The Hetzner cloud controller sets provider IDs, addresses and zones and lifts the
            // uninitialised taint; K3s' embedded controller would compete with it.
            c.insert("disable-cloud-controller".into(), json!(true));
        }
        c.insert("cluster-cidr".into(), json!(cluster.network.pod_cidr));
        c.insert("service-cidr".into(), json!(cluster.network.service_cidr));
        c.insert("secrets-encryption".into(), json!(true));
        c.insert("write-kubeconfig-mode".into(), json!("0600"));
        if let Some(host) = api_host(cluster) {
            c.insert("tls-san".into(), json!([host]));
        }
    }
    if on_cloud(spec, cluster) {
        c.insert("kubelet-arg".into(), json!(["cloud-provider=external"]));
    }
    if cluster.registry_mirror.is_some() {
        // Pull only through the mirrors of registries.yaml; containerd otherwise falls back to
        // the upstream registry whenever the mirror fails (K3s "Default Endpoint Fallback").
        c.insert("disable-default-registry-endpoint".into(), json!(true));
    }
    c
}

fn control_plane_taint() -> Value {
    json!(["node-role.kubernetes.io/control-plane=true:NoSchedule"])
}

/// One rendered K3s role: its file stem, its configuration text, and whether it is a server.
struct RoleConfig {
    stem: String,
    text: String,
    server: bool,
}

fn configs(spec: &PlatformSpec, cluster: &Cluster) -> Vec<RoleConfig> {
    let mut out = Vec::new();
    let mut first = common(spec, cluster, true);
    first.insert("cluster-init".into(), json!(true));
    first.insert("node-label".into(), Value::Array(labels_args(cluster, None)));
    if !cluster.control_plane.schedulable {
        first.insert("node-taint".into(), control_plane_taint());
    }
    out.push(RoleConfig {
        stem: "server-first".into(),
        text: header(spec, cluster, "First server") + &hafen_yaml::emit(&Value::Object(first)),
        server: true,
    });
    // A replaced first server joins like the others, so the join file exists for every
    // cluster; a second `cluster-init` would start a second, empty cluster.
    let mut join = common(spec, cluster, true);
    join.insert("server".into(), json!(format!("https://{}:6443", join_host(spec, cluster))));
    join.insert("node-label".into(), Value::Array(labels_args(cluster, None)));
    if !cluster.control_plane.schedulable {
        join.insert("node-taint".into(), control_plane_taint());
    }
    if cluster.control_plane.replicas > 1 || on_cloud(spec, cluster) {
        out.push(RoleConfig {
            stem: "server-join".into(),
            text: header(spec, cluster, "Further servers")
                + &hafen_yaml::emit(&Value::Object(join)),
            server: true,
        });
    }
    for pool in &cluster.node_pools {
        let mut agent = common(spec, cluster, false);
        agent.insert("server".into(), json!(format!("https://{}:6443", join_host(spec, cluster))));
        agent.insert("node-label".into(), Value::Array(labels_args(cluster, Some(pool))));
        let taints: Vec<Value> = talos::node_taints(pool)
            .into_iter()
            .map(|(key, value, effect)| json!(format!("{key}={value}:{effect}")))
            .collect();
        if !taints.is_empty() {
            agent.insert("node-taint".into(), Value::Array(taints));
        }
        out.push(RoleConfig {
            stem: format!("agent-{}", pool.name),
            text: header(spec, cluster, &format!("Agents of pool `{}`", pool.name))
                + &hafen_yaml::emit(&Value::Object(agent)),
            server: false,
        });
    }
    out
}

fn registries(spec: &PlatformSpec, cluster: &Cluster) -> Option<String> {
    let mirror = cluster.registry_mirror.as_ref()?;
    let mut mirrors = serde_json::Map::new();
    for registry in crate::components::mirrored_registries(spec, cluster) {
        let endpoint = crate::components::mirror_endpoint(mirror, &registry);
        mirrors.insert(registry, json!({ "endpoint": [endpoint] }));
    }
    Some(format!(
        "# Registry mirrors of K3s cluster `{}`: copy to /etc/rancher/k3s/registries.yaml on every node.\n# Each upstream has its own path on the mirror (used as written, no /v2 added); the nodes run\n# with disable-default-registry-endpoint, so a mirror outage fails pulls instead of silently\n# pulling from the upstream.\n# Rendered by Hafen.\n{}",
        cluster.name,
        hafen_yaml::emit(&json!({ "mirrors": mirrors }))
    ))
}

fn chrony(cluster: &Cluster) -> String {
    let mut chrony = format!(
        "# Time servers of K3s cluster `{}`: copy to /etc/chrony/sources.d/hafen.sources.\n# Rendered by Hafen.\n",
        cluster.name
    );
    for server in talos::time_servers(cluster) {
        chrony.push_str(&format!("server {server} iburst\n"));
    }
    chrony
}

/// Writes the K3s files of a cluster under `bootstrap/<cluster>/k3s/`.
pub(crate) fn render(ctx: &mut Ctx<'_>, index: usize, cluster: &Cluster) {
    let spec = ctx.spec;
    if has_cloud(spec, cluster) && has_metal(spec, cluster) {
        ctx.error(
            codes::UNSUPPORTED,
            format!(
                "K3s cluster `{}` has nodes on Hetzner Cloud and elsewhere: the Hetzner cloud controller initialises only Cloud servers, so the other nodes would keep the uninitialised taint",
                cluster.name
            ),
            &format!("spec.clusters[{index}]"),
            "put every node of a K3s cluster on Hetzner Cloud sites (or none), or run the mixed cluster on Talos",
        );
        return;
    }
    if on_cloud(spec, cluster)
        && !cluster
            .sites()
            .iter()
            .any(|s| spec.site(s).is_some_and(|x| x.network.private_network.is_some()))
    {
        let site = spec.sites.iter().position(|s| s.name == cluster.site).unwrap_or(0);
        ctx.error(
            codes::MISSING,
            format!(
                "K3s cluster `{}` runs on Hetzner Cloud without a Cloud network: its nodes, etcd and the cloud controller's load balancers need private addresses",
                cluster.name
            ),
            &format!("spec.sites[{site}].network.privateNetwork"),
            "give the cluster's site a private network, e.g. `network: { privateNetwork: { subnet: 10.0.0.0/16 } }`",
        );
        return;
    }
    let dir = format!("bootstrap/{}/k3s", cluster.name);
    let registries = registries(spec, cluster);
    let chrony = chrony(cluster);
    let roles = configs(spec, cluster);
    for role in &roles {
        ctx.out.text(format!("{dir}/{}.yaml", role.stem), role.text.clone());
    }
    if let Some(text) = &registries {
        ctx.out.text(format!("{dir}/registries.yaml"), text.clone());
    }
    ctx.out.text(format!("{dir}/chrony.sources"), chrony.clone());
    if on_cloud(spec, cluster) {
        for role in &roles {
            ctx.out.text(
                format!("{dir}/cloud-init/{}.yaml", role.stem),
                user_data(cluster, role, registries.as_deref(), &chrony),
            );
        }
    }
}

/// The install command of the pinned release; K3s reads /etc/rancher/k3s/config.yaml itself.
pub(crate) fn install_command(cluster: &Cluster, server: bool, start: bool) -> String {
    format!(
        "curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION='{}'{} sh -s - {}",
        k3s_version(cluster),
        if start { "" } else { " INSTALL_K3S_SKIP_START=true" },
        if server { "server" } else { "agent" }
    )
}

/// cloud-init user data of one role on Hetzner Cloud: the rendered files, the node's own
/// address and name from the metadata service, chrony with the cluster's time servers only,
/// and the pinned K3s installed but not started (it starts once the token is there).
fn user_data(
    cluster: &Cluster,
    role: &RoleConfig,
    registries: Option<&str>,
    chrony: &str,
) -> String {
    let mut files = vec![json!({
        "path": "/etc/rancher/k3s/config.yaml",
        "permissions": "0600",
        "content": role.text,
    })];
    if let Some(text) = registries {
        files.push(json!({ "path": "/etc/rancher/k3s/registries.yaml", "permissions": "0600", "content": text }));
    }
    files.push(json!({ "path": "/etc/chrony/sources.d/hafen.sources", "permissions": "0644", "content": chrony }));
    let node = format!(
        "set -eu\nmd=http://169.254.169.254/hetzner/v1/metadata\nip=$(curl -fsS \"$md/private-networks\" | sed -n 's/^- ip: //p' | head -n 1)\nname=$(curl -fsS \"$md/hostname\")\ntest -n \"$ip\"\ntest -n \"$name\"\nmkdir -p /etc/rancher/k3s/config.yaml.d\nprintf 'node-ip: %s\\nnode-name: %s\\n' \"$ip\" \"$name\" > {NODE_DROP_IN}\n"
    );
    let doc = json!({
        "package_update": true,
        "packages": ["chrony", "curl"],
        "write_files": files,
        "runcmd": [
            node,
            // Only the cluster's time servers, not the distribution's default pools.
            "sed -i 's/^pool /#pool /' /etc/chrony/chrony.conf && systemctl restart chrony",
            install_command(cluster, role.server, false),
        ],
    });
    format!(
        "#cloud-config\n# User data of the {} of K3s cluster `{}` on Hetzner Cloud (K3s {}), for\n# `hcloud server create --user-data-from-file` (RUNBOOK.md). Rendered by Hafen.\n# No secret is in here (user data is readable from the server's metadata service): K3s is\n# installed but not started; it starts once the join token has been copied to\n# {TOKEN_FILE} over SSH.\n{}",
        match role.stem.as_str() {
            "server-first" => "first server".to_owned(),
            "server-join" => "further servers".to_owned(),
            other => format!("agents of pool `{}`", other.trim_start_matches("agent-")),
        },
        cluster.name,
        k3s_version(cluster),
        hafen_yaml::emit(&doc)
    )
}

/// The name of the load balancer in front of the K3s API on Hetzner Cloud.
pub(crate) fn api_load_balancer(cluster: &Cluster) -> String {
    format!("{}-api", cluster.name)
}

/// One group of identical servers to create on Hetzner Cloud.
pub(crate) struct CloudServers {
    /// Server names in creation order; the server name is the node name.
    pub(crate) names: Vec<String>,
    /// Pool label value (`control-plane` for servers).
    pub(crate) pool: String,
    /// Hetzner Cloud server type.
    pub(crate) server_type: String,
    /// Location code.
    pub(crate) location: String,
    /// Spread placement group, when the group fits in one.
    pub(crate) placement_group: Option<String>,
    /// Rendered user data file (relative to the repository root).
    pub(crate) user_data: String,
    /// The systemd unit the installer creates: `k3s` or `k3s-agent`.
    pub(crate) service: &'static str,
    /// Whether these are servers (control plane) or agents.
    pub(crate) server: bool,
}

/// Everything the runbook creates on Hetzner Cloud for a K3s cluster.
pub(crate) struct CloudPlan {
    pub(crate) network: String,
    pub(crate) ip_range: String,
    pub(crate) subnet: String,
    pub(crate) zone: String,
    pub(crate) firewall: String,
    pub(crate) load_balancer: String,
    pub(crate) load_balancer_location: String,
    pub(crate) image: String,
    pub(crate) placement_groups: Vec<String>,
    pub(crate) groups: Vec<CloudServers>,
    /// Pools too large for one spread placement group.
    pub(crate) unplaced: Vec<String>,
}

/// The Hetzner Cloud resources of a K3s cluster whose nodes are all Cloud servers (`None` for
/// any other cluster).
pub(crate) fn cloud_plan(ctx: &Ctx<'_>, cluster: &Cluster) -> Option<CloudPlan> {
    let spec = ctx.spec;
    if cluster.os != Os::K3s || !on_cloud(spec, cluster) {
        return None;
    }
    let location = |site: &str| spec.site(site).map(|s| s.location.clone()).unwrap_or_default();
    let network_site = cluster
        .sites()
        .into_iter()
        .find(|s| spec.site(s).is_some_and(|x| x.network.private_network.is_some()))?;
    let private = spec.site(network_site)?.network.private_network.as_ref()?;
    let ip_range = match crate::management::hcloud_network_range(spec, cluster) {
        Some(Ok(range)) => range,
        _ => private.subnet.clone(),
    };
    let zone = ctx
        .loaded
        .catalog
        .providers
        .iter()
        .flat_map(|p| &p.locations)
        .find(|l| l.name == location(network_site))
        .and_then(|l| l.network_zone.clone())
        .unwrap_or_else(|| "eu-central".into());
    let limit = crate::management::placement_group_limit(ctx);
    let n = &cluster.name;
    let dir = format!("bootstrap/{n}/k3s/cloud-init");
    let mut groups = Vec::new();
    let mut placement_groups = Vec::new();
    let mut unplaced = Vec::new();
    // Control plane: one location per member in turn when it spans several (no location holds
    // a quorum), else one spread group so no two members share a host.
    let cp_sites = cluster.control_plane_sites();
    let cp_group = (cp_sites.len() == 1 && cluster.control_plane.replicas <= limit)
        .then(|| format!("{n}-control-plane"));
    if let Some(g) = &cp_group {
        placement_groups.push(g.clone());
    }
    for i in 1..=cluster.control_plane.replicas {
        let at = usize::try_from(i - 1).unwrap_or(0) % cp_sites.len().max(1);
        let site = cp_sites.get(at).copied().unwrap_or(cluster.site.as_str());
        let stem = if i == 1 { "server-first" } else { "server-join" };
        groups.push(CloudServers {
            names: vec![format!("{n}-control-plane-{i}")],
            pool: "control-plane".into(),
            server_type: cluster.control_plane.server_type.clone(),
            location: location(site),
            placement_group: cp_group.clone(),
            user_data: format!("{dir}/{stem}.yaml"),
            service: "k3s",
            server: true,
        });
    }
    for pool in &cluster.node_pools {
        let group = (pool.count <= limit).then(|| format!("{n}-{}", pool.name));
        match &group {
            Some(g) => placement_groups.push(g.clone()),
            None => unplaced.push(pool.name.clone()),
        }
        groups.push(CloudServers {
            names: (1..=pool.count).map(|i| format!("{n}-{}-{i}", pool.name)).collect(),
            pool: pool.name.clone(),
            server_type: pool.server_type.clone(),
            location: location(cluster.pool_site(pool)),
            placement_group: group,
            user_data: format!("{dir}/agent-{}.yaml", pool.name),
            service: "k3s-agent",
            server: false,
        });
    }
    Some(CloudPlan {
        network: n.clone(),
        ip_range,
        subnet: crate::management::server_subnet(ctx, &private.subnet),
        zone,
        firewall: format!("{n}-nodes"),
        load_balancer: api_load_balancer(cluster),
        load_balancer_location: location(cp_sites.first().copied().unwrap_or(&cluster.site)),
        image: crate::components::data().defaults.hcloud_k3s_image.clone(),
        placement_groups,
        groups,
        unplaced,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(kubernetes: &str, os_version: Option<&str>) -> Cluster {
        let mut c = json!({
            "name": "c", "site": "s", "kubernetes": kubernetes, "os": "k3s",
            "controlPlane": {"replicas": 3, "serverType": "cpx32"},
            "network": {"podCIDR": "10.42.0.0/16", "serviceCIDR": "10.43.0.0/16"},
        });
        if let Some(v) = os_version {
            c["osVersion"] = json!(v);
        }
        serde_json::from_value(c).expect("cluster")
    }

    #[test]
    fn the_release_is_the_pinned_k3s_build_or_the_first_of_the_kubernetes_version() {
        assert_eq!(k3s_version(&cluster("1.34.5", None)), "v1.34.5+k3s1");
        assert_eq!(k3s_version(&cluster("1.34.5", Some("v1.34.5+k3s2"))), "v1.34.5+k3s2");
        assert_eq!(k3s_version(&cluster("1.34.5", Some("1.34.5+k3s3"))), "v1.34.5+k3s3");
        // A Talos-style version is not a K3s build: the Kubernetes version decides.
        assert_eq!(k3s_version(&cluster("v1.34.5", Some("v1.11.0"))), "v1.34.5+k3s1");
    }
}
