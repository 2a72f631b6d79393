//! Talos machine configuration patches the spec implies: install image (with the system
//! extensions the storage needs), time servers, registry mirrors, node labels and taints, the
//! CNI and kube-proxy switches, discovery, and for bare metal the per-node network patch that
//! keeps `dhcp: true` on the public interface while adding the vSwitch VLAN.
//!
//! Talos before v1.12 reads time servers, registry mirrors and interfaces from the classic
//! `v1alpha1` document (`machine.time`, `machine.registries`, `machine.network.interfaces`);
//! from v1.12 they are separate documents (`TimeSyncConfig`, `RegistryMirrorConfig`,
//! `LinkConfig`, `DHCPv4Config`, `VLANConfig`). The patches follow the cluster's Talos version;
//! each document is its own strategic merge patch for CABPT/CACPPT and `talosctl`.

use crate::components::{SiteKind, data, site_kind};
use hafen_spec::{Cluster, NodePool, NodeRole, PlatformSpec, StorageDriver};
use serde_json::{Map, Value, json};

/// Time servers of a cluster's nodes: the spec's, else the EU defaults of the data file.
pub(crate) fn time_servers(cluster: &Cluster) -> Vec<String> {
    if cluster.time_servers.is_empty() {
        data().defaults.time_servers.clone()
    } else {
        cluster.time_servers.clone()
    }
}

/// The Talos version of a cluster.
pub(crate) fn version(cluster: &Cluster) -> String {
    cluster.os_version.clone().unwrap_or_else(|| data().defaults.talos_version.clone())
}

/// True when the cluster's Talos reads the separate network, time and registry documents
/// (v1.12 and later).
pub(crate) fn documents(cluster: &Cluster) -> bool {
    let v = version(cluster);
    let mut parts = v.trim_start_matches('v').split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    (major, minor) >= (1, 12)
}

/// Official system extensions the cluster's nodes need.
pub(crate) fn extensions(cluster: &Cluster) -> Vec<&'static str> {
    let mut out = match crate::components::storage_driver(cluster) {
        Some(StorageDriver::Piraeus) => vec!["siderolabs/drbd"],
        Some(StorageDriver::Longhorn) => {
            vec!["siderolabs/iscsi-tools", "siderolabs/util-linux-tools"]
        }
        _ => Vec::new(),
    };
    out.sort_unstable();
    out
}

/// The kernel argument that makes Talos on the `metal` platform read its first machine config
/// from a volume labelled `metal-iso` (file `config.yaml` at its root) instead of waiting in
/// maintenance mode: Talos' metal platform reads `talos.config=metal-iso` that way
/// (`constants.MetalConfigISOLabel`, siderolabs/talos `platform/metal/metal.go`). Only the first
/// boot uses it; from then on the config lives in the STATE partition, which Talos reads first.
pub(crate) const METAL_CONFIG_ARG: &str = "talos.config=metal-iso";

/// Extra kernel arguments of a cluster's Talos images: bare-metal hosts provisioned by CAPH
/// get their config from the `metal-iso` partition the rescue script writes
/// ([`crate::management`]). Cloud servers read theirs from the provider's metadata service and
/// ignore the argument, so one schematic serves a cluster with both.
pub(crate) fn kernel_args(spec: &PlatformSpec, cluster: &Cluster) -> Vec<&'static str> {
    if cluster.sites().iter().any(|s| site_kind(spec, s) == SiteKind::HetznerDedicated) {
        vec![METAL_CONFIG_ARG]
    } else {
        Vec::new()
    }
}

/// The Image Factory schematic as the factory stores it. Its id is the SHA-256 of exactly these
/// bytes (the factory marshals its `Schematic` struct with yaml.v3: four-space indentation,
/// fields in struct order `extraKernelArgs`, `meta`, `systemExtensions`, empty ones omitted),
/// so it can be computed offline: `customization: {}` gives the well-known default
/// `376567988ad370…`.
pub(crate) fn schematic(extensions: &[&str], kernel_args: &[&str]) -> String {
    if extensions.is_empty() && kernel_args.is_empty() {
        return "customization: {}\n".into();
    }
    let mut text = String::from("customization:\n");
    if !kernel_args.is_empty() {
        text.push_str("    extraKernelArgs:\n");
        for arg in kernel_args {
            text.push_str("        - ");
            text.push_str(arg);
            text.push('\n');
        }
    }
    if !extensions.is_empty() {
        text.push_str("    systemExtensions:\n        officialExtensions:\n");
        for ext in extensions {
            text.push_str("            - ");
            text.push_str(ext);
            text.push('\n');
        }
    }
    text
}

/// The schematic of a cluster's nodes.
pub(crate) fn cluster_schematic(spec: &PlatformSpec, cluster: &Cluster) -> String {
    schematic(&extensions(cluster), &kernel_args(spec, cluster))
}

/// The schematic id of a cluster's nodes.
pub(crate) fn schematic_id(spec: &PlatformSpec, cluster: &Cluster) -> String {
    crate::out::sha256_hex(cluster_schematic(spec, cluster).as_bytes())
}

/// The installer image of a cluster's nodes (served by the Image Factory, or its mirror).
pub(crate) fn installer_image(spec: &PlatformSpec, cluster: &Cluster) -> String {
    format!("factory.talos.dev/installer/{}:{}", schematic_id(spec, cluster), version(cluster))
}

/// The name Hetzner Cloud snapshots of this Talos build carry (label `caph-image-name`).
pub(crate) fn hcloud_image_name(spec: &PlatformSpec, cluster: &Cluster) -> String {
    let id = schematic_id(spec, cluster);
    format!("talos-{}-{}", version(cluster), id.get(..8).unwrap_or(&id))
}

/// The public interface of a site's servers: the spec's name, or `eth0` on Hetzner Cloud
/// (Talos' hcloud image keeps kernel names). `None` for bare metal without a name.
pub(crate) fn public_interface(spec: &PlatformSpec, site: &str) -> Option<String> {
    let declared = spec.site(site).and_then(|s| s.network.interface.clone());
    match (declared, site_kind(spec, site)) {
        (Some(name), _) => Some(name),
        (None, SiteKind::HetznerCloud) => Some("eth0".into()),
        (None, _) => None,
    }
}

/// The subnet node IPs come from: the vSwitch VLAN, the provider's private network, or the
/// cluster's `nodeCIDR`.
pub(crate) fn node_subnet(spec: &PlatformSpec, cluster: &Cluster, site: &str) -> Option<String> {
    let s = spec.site(site)?;
    s.network
        .vswitch
        .as_ref()
        .map(|v| v.subnet.clone())
        .or_else(|| s.network.private_network.as_ref().map(|p| p.subnet.clone()))
        .or_else(|| cluster.network.node_cidr.clone())
}

/// Classic registry mirrors: one endpoint per upstream on the mirror, used as written
/// (`overridePath`), and no silent fallback to the upstream when the mirror fails
/// (`skipFallback`): an outage of the mirror shows as failed pulls, not as traffic to the US
/// registries the mirror exists to avoid.
fn mirrors(spec: &PlatformSpec, cluster: &Cluster) -> Option<Value> {
    let mirror = cluster.registry_mirror.as_ref()?;
    let mut map = Map::new();
    for registry in crate::components::mirrored_registries(spec, cluster) {
        map.insert(
            registry.clone(),
            json!({
                "endpoints": [crate::components::mirror_endpoint(mirror, &registry)],
                "overridePath": true,
                "skipFallback": true,
            }),
        );
    }
    Some(Value::Object(map))
}

/// Time and registry documents of Talos v1.12 and later (the same mirror layout as
/// [`mirrors`], with `overridePath` on the endpoint).
fn documents_of(spec: &PlatformSpec, cluster: &Cluster) -> Vec<Value> {
    let mut docs = vec![json!({
        "apiVersion": "v1alpha1",
        "kind": "TimeSyncConfig",
        "ntp": { "servers": time_servers(cluster) },
    })];
    if let Some(mirror) = &cluster.registry_mirror {
        for registry in crate::components::mirrored_registries(spec, cluster) {
            docs.push(json!({
                "apiVersion": "v1alpha1",
                "kind": "RegistryMirrorConfig",
                "name": registry,
                "endpoints": [{ "url": crate::components::mirror_endpoint(mirror, &registry), "overridePath": true }],
                "skipFallback": true,
            }));
        }
    }
    docs
}

/// Node labels Hafen sets on every node of a pool (`None`: control plane).
pub(crate) fn node_labels(
    cluster: &Cluster,
    pool: Option<&NodePool>,
    site: &str,
) -> Map<String, Value> {
    let mut labels = Map::new();
    labels.insert("hafen.dev/cluster".into(), json!(cluster.name));
    labels.insert("hafen.dev/site".into(), json!(site));
    match pool {
        Some(pool) => {
            labels.insert("hafen.dev/pool".into(), json!(pool.name));
            for role in pool.roles() {
                let key = match role {
                    NodeRole::Worker => "hafen.dev/worker",
                    NodeRole::EgressGateway => "hafen.dev/egress-gateway",
                    NodeRole::Ingress => "hafen.dev/ingress",
                    NodeRole::Storage => "hafen.dev/storage",
                };
                labels.insert(key.into(), json!("true"));
            }
            for (k, v) in &pool.labels {
                labels.insert(k.clone(), json!(v));
            }
        }
        None => {
            labels.insert("hafen.dev/pool".into(), json!("control-plane"));
        }
    }
    labels
}

/// Taints of a pool as (key, value, effect). Egress gateways carry a taint so ordinary
/// workloads stay off the nodes whose addresses must keep a clean reputation.
pub(crate) fn node_taints(pool: &NodePool) -> Vec<(String, String, String)> {
    let mut taints = Vec::new();
    let roles = pool.roles();
    if roles.contains(&NodeRole::EgressGateway) && !pool.runs_workloads() {
        taints.push(("hafen.dev/egress-gateway".into(), "true".into(), "NoSchedule".into()));
    }
    for taint in &pool.taints {
        if let Some((kv, effect)) = taint.rsplit_once(':') {
            let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
            taints.push((key.into(), value.into(), effect.into()));
        }
    }
    taints
}

/// The install section of a node's machine config. A Hetzner Cloud server has one disk,
/// `/dev/sda`. Bare metal gets a selector instead of a kernel name (`/dev/nvme0n1` is whichever
/// NVMe controller the kernel enumerated first, which differs between boots, kernels and the
/// rescue system): an NVMe disk. Both layouts read it from `machine.install` of the `v1alpha1`
/// document (the v1.13 schema has no separate install document). Talos uses it only when it
/// installs itself from boot media (servers of your own); a Robot host boots the raw image that
/// the CAPH rescue script wrote to the disk of its `rootDeviceHints.wwn` (also NVMe), and Talos
/// upgrades write to the disk it booted from. Which of two identical NVMe disks a fresh install
/// takes does not matter: the LINSTOR volume takes the other one (`!system_disk`).
fn install(spec: &PlatformSpec, cluster: &Cluster, kind: SiteKind) -> Value {
    let image = installer_image(spec, cluster);
    if kind == SiteKind::HetznerCloud {
        return json!({ "disk": "/dev/sda", "image": image, "wipe": false });
    }
    json!({ "diskSelector": { "type": "nvme" }, "image": image, "wipe": false })
}

/// What a patch is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role<'a> {
    /// Control-plane nodes.
    ControlPlane,
    /// Workers of a pool.
    Worker(&'a NodePool),
}

/// The machine configuration patches for the nodes of `role` at `site`: the `v1alpha1`
/// document first, then (Talos v1.12 and later) the separate time and registry documents.
pub(crate) fn patch(
    spec: &PlatformSpec,
    cluster: &Cluster,
    role: Role<'_>,
    site: &str,
) -> Vec<Value> {
    let pool = match role {
        Role::ControlPlane => None,
        Role::Worker(pool) => Some(pool),
    };
    let kind = site_kind(spec, site);
    let mut machine = Map::new();
    machine.insert("install".into(), install(spec, cluster, kind));
    let documents = documents(cluster);
    if !documents {
        machine.insert("time".into(), json!({ "servers": time_servers(cluster) }));
        if let Some(mirrors) = mirrors(spec, cluster) {
            machine.insert("registries".into(), json!({ "mirrors": mirrors }));
        }
    }
    let mut kubelet = Map::new();
    if let Some(subnet) = node_subnet(spec, cluster, site) {
        kubelet.insert("nodeIP".into(), json!({ "validSubnets": [subnet] }));
    }
    // Local volumes need a host path the kubelet can propagate into pods; on Talos only /var
    // is writable.
    let local_volumes = match crate::components::storage_driver(cluster) {
        Some(StorageDriver::Longhorn) => Some("/var/lib/longhorn"),
        Some(StorageDriver::LocalPath) => Some("/var/local-path-provisioner"),
        _ => None,
    };
    if let Some(path) = local_volumes
        && (pool.is_some() || cluster.control_plane.schedulable)
    {
        kubelet.insert(
            "extraMounts".into(),
            json!([{ "destination": path, "type": "bind", "source": path, "options": ["bind", "rshared", "rw"] }]),
        );
    }
    if !kubelet.is_empty() {
        machine.insert("kubelet".into(), Value::Object(kubelet));
    }
    machine.insert("features".into(), json!({ "kubePrism": { "enabled": true, "port": 7445 } }));
    if extensions(cluster).contains(&"siderolabs/drbd")
        && pool.is_some_and(|p| p.roles().contains(&NodeRole::Storage))
    {
        machine.insert(
            "kernel".into(),
            json!({ "modules": [
                { "name": "drbd", "parameters": ["usermode_helper=disabled"] },
                { "name": "drbd_transport_tcp" }
            ] }),
        );
    }
    machine.insert("nodeLabels".into(), Value::Object(node_labels(cluster, pool, site)));
    if let Some(pool) = pool {
        // Workers may not change their own taints once registered (NodeRestriction), so the
        // kubelet registers the node with them.
        let taints: Vec<Value> = node_taints(pool)
            .into_iter()
            .map(|(key, value, effect)| json!({ "key": key, "value": value, "effect": effect }))
            .collect();
        if !taints.is_empty() {
            let kubelet = machine.entry("kubelet").or_insert_with(|| json!({}));
            if let Some(k) = kubelet.as_object_mut() {
                k.insert("extraConfig".into(), json!({ "registerWithTaints": taints }));
            }
        }
    }

    let mut cl = Map::new();
    cl.insert(
        "network".into(),
        json!({
            "cni": { "name": "none" },
            "podSubnets": [cluster.network.pod_cidr],
            "serviceSubnets": [cluster.network.service_cidr],
        }),
    );
    if cluster.network.kube_proxy_replacement {
        cl.insert("proxy".into(), json!({ "disabled": true }));
    }
    cl.insert("discovery".into(), discovery(cluster));
    if crate::components::has_cloud(spec, cluster) {
        cl.insert("externalCloudProvider".into(), json!({ "enabled": true }));
    }
    if matches!(role, Role::ControlPlane) && cluster.control_plane.schedulable {
        cl.insert("allowSchedulingOnControlPlanes".into(), json!(true));
    }
    if matches!(role, Role::ControlPlane)
        && let Some(vswitch) = spec.site(site).and_then(|s| s.network.vswitch.as_ref())
    {
        // etcd peers talk over the private VLAN only, never over public addresses.
        cl.insert("etcd".into(), json!({ "advertisedSubnets": [vswitch.subnet] }));
    }
    let mut out = vec![json!({ "machine": machine, "cluster": cl })];
    if documents {
        out.extend(documents_of(spec, cluster));
    }
    if let Some(volume) = storage_volume(spec, cluster, pool, site) {
        out.push(volume);
    }
    out
}

/// The raw partition LINSTOR keeps its pool on, by its partition label: the kernel's disk
/// order (`nvme0n1`, `nvme1n1`) is not stable across boots or hardware, the label is.
pub(crate) const STORAGE_DEVICE: &str = "/dev/disk/by-partlabel/r-linstor";

/// The raw volume of a Piraeus storage node: the whole of the first NVMe disk that is not the
/// system disk (Talos evaluates `system_disk` against the disk it booted from), unformatted,
/// labelled `r-linstor` (Talos `RawVolumeConfig`, v1.11 and later).
fn storage_volume(
    spec: &PlatformSpec,
    cluster: &Cluster,
    pool: Option<&NodePool>,
    site: &str,
) -> Option<Value> {
    let pool = pool?;
    if !pool.roles().contains(&NodeRole::Storage)
        || crate::components::storage_driver(cluster) != Some(hafen_spec::StorageDriver::Piraeus)
        || site_kind(spec, site) == SiteKind::HetznerCloud
    {
        return None;
    }
    Some(json!({
        "apiVersion": "v1alpha1",
        "kind": "RawVolumeConfig",
        "name": "linstor",
        "provisioning": {
            "diskSelector": { "match": "!system_disk && disk.transport == \"nvme\"" },
            "minSize": "100GiB",
        },
    }))
}

fn discovery(cluster: &Cluster) -> Value {
    if !cluster.discovery.enabled {
        return json!({ "enabled": false });
    }
    match &cluster.discovery.endpoint {
        Some(endpoint) => json!({
            "enabled": true,
            "registries": { "kubernetes": { "disabled": true }, "service": { "endpoint": endpoint } }
        }),
        None => json!({
            "enabled": true,
            "registries": { "kubernetes": { "disabled": true }, "service": { "disabled": false } }
        }),
    }
}

/// One bare-metal node's own patch: the public interface by its real name with DHCP kept
/// (omitting `dhcp: true` in a classic patch loses the server's public address), plus the
/// vSwitch VLAN with the node's private address and the VLAN's MTU. `routes` are
/// (destination, gateway) pairs over the VLAN: the Hetzner Cloud network a vSwitch is coupled
/// to is reached through the vSwitch gateway, not on-link.
pub(crate) fn node_network_patch(
    cluster: &Cluster,
    interface: &str,
    vlan: u16,
    address: &str,
    prefix: u8,
    mtu: u32,
    routes: &[(String, String)],
) -> Vec<Value> {
    if documents(cluster) {
        let mut vlan_doc = json!({
            "apiVersion": "v1alpha1",
            "kind": "VLANConfig",
            "name": format!("{interface}.{vlan}"),
            "parent": interface,
            "vlanID": vlan,
            "mtu": mtu,
            "addresses": [{ "address": format!("{address}/{prefix}") }],
            "up": true,
        });
        if !routes.is_empty() {
            vlan_doc["routes"] =
                routes.iter().map(|(d, g)| json!({ "destination": d, "gateway": g })).collect();
        }
        return vec![
            json!({ "apiVersion": "v1alpha1", "kind": "LinkConfig", "name": interface, "up": true }),
            json!({ "apiVersion": "v1alpha1", "kind": "DHCPv4Config", "name": interface }),
            vlan_doc,
        ];
    }
    let mut vlan_entry = json!({
        "vlanId": vlan,
        "addresses": [format!("{address}/{prefix}")],
        "mtu": mtu,
    });
    if !routes.is_empty() {
        vlan_entry["routes"] =
            routes.iter().map(|(d, g)| json!({ "network": d, "gateway": g })).collect();
    }
    vec![json!({
        "machine": {
            "network": {
                "interfaces": [{
                    "interface": interface,
                    "dhcp": true,
                    "vlans": [vlan_entry]
                }]
            }
        }
    })]
}

/// A node's patch for one fixed egress address: added to the public interface next to DHCP,
/// and the label the egress policy selects the node by.
pub(crate) fn egress_ip_patch(cluster: &Cluster, interface: &str, ip: &str) -> Vec<Value> {
    let prefix = if ip.contains(':') { 128 } else { 32 };
    let label = json!({ "machine": { "nodeLabels": { "hafen.dev/egress-ip": ip } } });
    if documents(cluster) {
        return vec![
            label,
            json!({
                "apiVersion": "v1alpha1",
                "kind": "LinkConfig",
                "name": interface,
                "up": true,
                "addresses": [{ "address": format!("{ip}/{prefix}") }],
            }),
            json!({ "apiVersion": "v1alpha1", "kind": "DHCPv4Config", "name": interface }),
        ];
    }
    vec![json!({
        "machine": {
            "network": {
                "interfaces": [{
                    "interface": interface,
                    "dhcp": true,
                    "addresses": [format!("{ip}/{prefix}")],
                }]
            },
            "nodeLabels": { "hafen.dev/egress-ip": ip }
        }
    })]
}

/// The `n`-th usable host address of an IPv4 subnet, counting from `.10` (the first nine are
/// left for gateways and hand-placed hosts). `None` when the subnet is too small or not IPv4.
pub(crate) fn host_address(subnet: &str, n: u32) -> Option<(String, u8)> {
    let cidr = hafen_spec::net::Cidr::parse(subnet).ok()?;
    let std::net::IpAddr::V4(base) = cidr.addr else { return None };
    let size: u64 = 1u64 << (32 - u32::from(cidr.prefix.min(32)));
    let offset = 10u64 + u64::from(n);
    if offset >= size.saturating_sub(1) {
        return None;
    }
    let ip = u32::from(base).checked_add(u32::try_from(offset).ok()?)?;
    Some((std::net::Ipv4Addr::from(ip).to_string(), cidr.prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schematic_ids_match_the_image_factory() {
        // Published ids: the default schematic and the DRBD-only schematic.
        assert_eq!(
            crate::out::sha256_hex(schematic(&[], &[]).as_bytes()),
            "376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba"
        );
        assert_eq!(
            crate::out::sha256_hex(schematic(&["siderolabs/drbd"], &[]).as_bytes()),
            "e048aaf4461ff9f9576c9a42f760f2fef566559bd4933f322853ac291e46f238"
        );
    }

    #[test]
    fn kernel_arguments_come_first_in_the_schematic_as_the_factory_marshals_it() {
        assert_eq!(
            schematic(&["siderolabs/drbd"], &[METAL_CONFIG_ARG]),
            "customization:\n    extraKernelArgs:\n        - talos.config=metal-iso\n    systemExtensions:\n        officialExtensions:\n            - siderolabs/drbd\n"
        );
        assert_eq!(
            schematic(&[], &[METAL_CONFIG_ARG]),
            "customization:\n    extraKernelArgs:\n        - talos.config=metal-iso\n"
        );
    }

    #[test]
    fn host_addresses_start_at_ten_and_stay_inside_the_subnet() {
        assert_eq!(host_address("10.0.1.0/24", 0), Some(("10.0.1.10".into(), 24)));
        assert_eq!(host_address("10.0.1.0/24", 5), Some(("10.0.1.15".into(), 24)));
        assert_eq!(host_address("10.0.1.0/24", 244), Some(("10.0.1.254".into(), 24)));
        assert_eq!(host_address("10.0.1.0/24", 245), None);
        assert_eq!(host_address("10.0.1.0/29", 0), None);
        assert_eq!(host_address("fd00::/64", 0), None);
    }

    fn cluster(os_version: &str) -> Cluster {
        serde_json::from_value(json!({
            "name": "c", "site": "s", "kubernetes": "1.34.5", "osVersion": os_version,
            "controlPlane": {"replicas": 3, "serverType": "ax42"},
            "network": {"podCIDR": "10.244.0.0/16", "serviceCIDR": "10.96.0.0/12"},
        }))
        .expect("cluster")
    }

    #[test]
    fn the_patch_layout_follows_the_talos_version() {
        assert!(!documents(&cluster("v1.11.5")));
        assert!(documents(&cluster("v1.12.0")));
        assert!(documents(&cluster("v1.13.9")));
        assert!(documents(&cluster("v2.0.0")));
        let docs =
            node_network_patch(&cluster("v1.13.9"), "enp7s0", 4000, "10.0.1.10", 24, 1400, &[]);
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(kinds, ["LinkConfig", "DHCPv4Config", "VLANConfig"]);
        assert_eq!(docs[2]["parent"], "enp7s0");
        assert_eq!(docs[2]["mtu"], 1400);
    }

    #[test]
    fn the_node_patch_keeps_dhcp_on_the_public_interface() {
        let p =
            &node_network_patch(&cluster("v1.11.5"), "enp7s0", 4000, "10.0.1.10", 24, 1400, &[])[0];
        let iface = &p["machine"]["network"]["interfaces"][0];
        assert_eq!(iface["interface"], "enp7s0");
        assert_eq!(iface["dhcp"], true);
        assert_eq!(iface["vlans"][0]["vlanId"], 4000);
        assert_eq!(iface["vlans"][0]["mtu"], 1400);
        assert_eq!(iface["vlans"][0]["addresses"][0], "10.0.1.10/24");
    }
}
