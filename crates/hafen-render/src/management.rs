//! Cluster API objects for the management cluster: per Talos workload cluster a `Cluster`,
//! the Hetzner provider's infrastructure (`HetznerCluster`, machine templates for cloud and
//! bare-metal sites, `HetznerBareMetalHost`s), the Talos control plane and bootstrap templates
//! with the patches the spec implies, a `MachineDeployment` per node pool and
//! `MachineHealthCheck`s that stop remediating when too much is unhealthy at once.
//!
//! Explicit objects rather than a `ClusterClass`: the clusters of a platform differ in
//! providers, sites and patches, and a class would move that difference into variables and
//! patches the reader has to evaluate in their head. Explicit objects are what Cluster API
//! reconciles, so they are also what a reviewer should read.
//!
//! K3s clusters and clusters on servers without a Cluster API provider get plain files under
//! `bootstrap/` instead.

use crate::components::{SiteKind, site_kind};
use crate::out::{content_hash, label_map, meta, name};
use crate::talos::{self, Role};
use crate::{Ctx, codes};
use hafen_spec::{Cluster, Os};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const CAPI: &str = "cluster.x-k8s.io/v1beta2";
const INFRA: &str = "infrastructure.cluster.x-k8s.io/v1beta1";
const INFRA_GROUP: &str = "infrastructure.cluster.x-k8s.io";
const BOOTSTRAP: &str = "bootstrap.cluster.x-k8s.io/v1alpha3";
const CONTROLPLANE: &str = "controlplane.cluster.x-k8s.io/v1alpha3";

/// The secret in each cluster namespace of the management cluster that holds the Hetzner
/// credentials CAPH uses. It stays in the management cluster: CAPH is told not to copy it.
pub(crate) const HETZNER_SECRET: &str = "hetzner";
/// The secret with the SSH key CAPH uses for the Robot rescue system.
pub(crate) const ROBOT_SSH_SECRET: &str = "robot-ssh";
/// The command file CAPH runs in the rescue system to write the Talos image to disk. CAPH
/// accepts only a basename below `/shared`; its validation required the prefix
/// `image-url-command-` until upstream PR #2121 relaxed it, so this name passes either rule.
pub(crate) const IMAGE_COMMAND: &str = "image-url-command-hafen-talos";

/// How a cluster's machines are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Machines {
    /// Cluster API with the Hetzner provider and the Talos providers.
    ClusterApi,
    /// Talos installed by hand from rendered patches (servers without a Cluster API provider).
    TalosByHand,
    /// K3s installed by hand from rendered configuration files.
    K3s,
}

/// How the machines of `cluster` are created.
pub(crate) fn machines(ctx: &Ctx<'_>, cluster: &Cluster) -> Machines {
    if cluster.os == Os::K3s {
        return Machines::K3s;
    }
    let any_capi = cluster.sites().iter().any(|s| site_kind(ctx.spec, s) != SiteKind::Other);
    if any_capi { Machines::ClusterApi } else { Machines::TalosByHand }
}

fn file_header(cluster: &Cluster, what: &str) -> String {
    format!(
        "{what} of workload cluster `{}`. Applied to the Cluster API management cluster.\nRendered by Hafen from the platform spec; edit the spec, not this file.",
        cluster.name
    )
}

/// One strategic patch string per document.
fn patch_texts(docs: &[Value]) -> Vec<Value> {
    docs.iter().map(|d| Value::String(hafen_yaml::emit(d))).collect()
}

struct Pending {
    cluster: String,
    files: Vec<String>,
}

/// Renders `management/` and the day-0 files under `bootstrap/`.
pub(crate) fn render(ctx: &mut Ctx<'_>) {
    let mut clusters: Vec<Pending> = Vec::new();
    // The vSwitch of a site is shared by every cluster there, so node addresses count per site.
    let mut next_address: BTreeMap<String, u32> = BTreeMap::new();
    for (index, cluster) in ctx.spec.clusters.iter().enumerate() {
        match machines(ctx, cluster) {
            Machines::K3s => crate::k3s::render(ctx, index, cluster),
            Machines::TalosByHand => talos_by_hand(ctx, cluster),
            Machines::ClusterApi => {
                if let Some(files) = cluster_api(ctx, index, cluster, &mut next_address) {
                    clusters.push(Pending { cluster: cluster.name.clone(), files });
                }
            }
        }
    }
    let mut resources = Vec::new();
    for pending in &clusters {
        let dir = format!("management/clusters/{}", pending.cluster);
        ctx.out.kustomization(&dir, pending.files.clone());
        resources.push(format!("clusters/{}", pending.cluster));
    }
    if clusters.iter().any(|_| true) && needs_image_command(ctx) {
        image_command(ctx);
    }
    if needs_management(ctx) {
        resources.insert(0, "delivery".into());
        ctx.out.kustomization("management", resources);
    }
}

/// True when the platform needs a management cluster: Cluster API creates machines, or Argo CD
/// runs there for every cluster.
pub(crate) fn needs_management(ctx: &Ctx<'_>) -> bool {
    ctx.spec.gitops.engine == hafen_spec::GitOpsEngine::Argocd
        || ctx.spec.clusters.iter().any(|c| machines(ctx, c) == Machines::ClusterApi)
}

fn needs_image_command(ctx: &Ctx<'_>) -> bool {
    ctx.spec.clusters.iter().any(|c| {
        machines(ctx, c) == Machines::ClusterApi
            && c.sites().iter().any(|s| site_kind(ctx.spec, s) == SiteKind::HetznerDedicated)
    })
}

/// The script CAPH copies into the Robot rescue system to write Talos to the host's system disk
/// and hand it its machine config. CAPH calls it with the image URL, the path of the bootstrap
/// data (the Talos machine config CABPT/CACPPT generated for this machine), the machine name
/// and the root device it resolved from the host's `rootDeviceHints` (its WWN, set after
/// inspection). The image goes to that one disk, never to a kernel name such as `nvme0n1`, whose
/// numbering differs between boots and kernels. Robot servers arrive with a software RAID over
/// both disks: every array is stopped and every member's RAID and filesystem signatures are
/// wiped, on both disks, so neither Talos nor LINSTOR finds a stale array on the second disk.
/// The machine config goes to a small partition at the end of the system disk, named and
/// labelled `metal-iso` with `config.yaml` at its root, which Talos' metal platform reads at
/// first boot because the image boots with `talos.config=metal-iso` (schematic
/// `extraKernelArgs`, [`talos::kernel_args`]); without it the host would wait in maintenance
/// mode for a config nobody sends.
fn image_command(ctx: &mut Ctx<'_>) {
    let script = "#!/bin/sh\n\
# Rendered by Hafen. CAPH runs this in the Hetzner rescue system of a bare-metal host (see\n\
# installImage.imageURLCommand) with four arguments: the image URL, the bootstrap data file\n\
# (the Talos machine config of this machine), the machine name, and the root device it resolved\n\
# from the host's rootDeviceHints.wwn (RUNBOOK.md: set after inspection).\n\
# It wipes every NVMe disk (the RAID of the Robot installation spans both), writes the Talos raw\n\
# image to that device, by its WWN, however the rescue kernel numbers the disks, and puts the\n\
# machine config on a 16 MiB partition at the end of that disk, named and labelled metal-iso\n\
# with config.yaml at its root: the image boots with talos.config=metal-iso (Image Factory\n\
# schematic, extraKernelArgs), so Talos reads it at first boot and keeps it in its STATE\n\
# partition from then on. Talos boots from this disk (its system disk; upgrades write there too)\n\
# and provisions the storage partition on another NVMe disk itself (RawVolumeConfig,\n\
# `!system_disk`). CAPH treats the last output line IMAGE_URL_DONE as success.\n\
# Mount it into the CAPH controller below /shared (RUNBOOK.md, day 0, step 2).\n\
set -eu\n\
url=\"$1\"\n\
config=\"$2\"\n\
if [ ! -s \"$config\" ]; then\n\
  echo \"no bootstrap data at $config: CAPH passes the machine config as the second argument\" >&2\n\
  exit 1\n\
fi\n\
set -- ${4:-}\n\
if [ \"$#\" -ne 1 ]; then\n\
  echo \"expected one root device from rootDeviceHints.wwn, got: ${*:-none}\" >&2\n\
  exit 1\n\
fi\n\
disk=\"/dev/$1\"\n\
if [ \"$(lsblk -dno TRAN \"$disk\")\" != nvme ]; then\n\
  echo \"root device $disk is not an NVMe disk; the Talos config selects the system disk by type nvme\" >&2\n\
  exit 1\n\
fi\n\
for md in $(lsblk -dpno NAME | grep -E '/md'); do mdadm --stop \"$md\" || true; done\n\
for d in $(lsblk -dpno NAME,TRAN | awk '$2 == \"nvme\" { print $1 }'); do\n\
  for part in $(lsblk -pno NAME \"$d\" | tail -n +2); do\n\
    mdadm --zero-superblock \"$part\" 2>/dev/null || true\n\
    wipefs -a \"$part\" || true\n\
  done\n\
  wipefs -a \"$d\"\n\
done\n\
curl -fsSL \"$url\" | zstd -dc | dd of=\"$disk\" bs=4M conv=fsync\n\
sync\n\
# The image's GPT ends where the image ends: move the backup table to the end of the disk,\n\
# then add the config partition in the last 16 MiB before it (1 MiB aligned).\n\
sfdisk --relocate gpt-bak-std \"$disk\"\n\
sector=$(blockdev --getss \"$disk\")\n\
sectors=$(( $(blockdev --getsize64 \"$disk\") / sector ))\n\
mib=$(( 1048576 / sector ))\n\
size=$(( 16 * mib ))\n\
start=$(( (sectors - size - mib) / mib * mib ))\n\
echo \"start=$start, size=$size, name=metal-iso\" | sfdisk --append \"$disk\"\n\
udevadm settle\n\
part=$(lsblk -lnpo NAME,PARTLABEL \"$disk\" | awk '$2 == \"metal-iso\" { print $1 }')\n\
if [ -z \"$part\" ]; then\n\
  echo \"the metal-iso partition on $disk did not appear\" >&2\n\
  exit 1\n\
fi\n\
mkfs.ext4 -F -q -L metal-iso \"$part\"\n\
mnt=$(mktemp -d)\n\
mount \"$part\" \"$mnt\"\n\
install -m 0600 \"$config\" \"$mnt/config.yaml\"\n\
umount \"$mnt\"\n\
sync\n\
echo IMAGE_URL_DONE\n";
    ctx.out.text(format!("bootstrap/management/caph/{IMAGE_COMMAND}"), script.to_owned());
}

fn talos_by_hand(ctx: &mut Ctx<'_>, cluster: &Cluster) {
    let dir = format!("bootstrap/{}/talos", cluster.name);
    let header = |what: &str| {
        format!(
            "Talos machine-config patch for the {what} of cluster `{}` (Talos {}).\nUse with `talosctl gen config --config-patch-{}` (RUNBOOK.md). Rendered by Hafen.",
            cluster.name,
            talos::version(cluster),
            if what == "control plane" { "control-plane" } else { "worker" },
        )
    };
    let cp_site =
        cluster.control_plane_sites().first().map(|s| (*s).to_owned()).unwrap_or_default();
    let cp = talos::patch(ctx.spec, cluster, Role::ControlPlane, &cp_site);
    ctx.out.yaml(format!("{dir}/controlplane.patch.yaml"), &header("control plane"), cp);
    for pool in &cluster.node_pools {
        let site = cluster.pool_site(pool).to_owned();
        let patch = talos::patch(ctx.spec, cluster, Role::Worker(pool), &site);
        ctx.out.yaml(
            format!("{dir}/worker-{}.patch.yaml", pool.name),
            &header(&format!("pool `{}`", pool.name)),
            patch,
        );
    }
    ctx.out.text(format!("{dir}/schematic.yaml"), talos::cluster_schematic(ctx.spec, cluster));
    egress_patches(ctx, cluster);
}

/// The kind of machines of the control plane, when all its sites agree.
fn control_plane_kind(ctx: &mut Ctx<'_>, index: usize, cluster: &Cluster) -> Option<SiteKind> {
    let kinds: Vec<SiteKind> =
        cluster.control_plane_sites().iter().map(|s| site_kind(ctx.spec, s)).collect();
    let first = *kinds.first()?;
    if kinds.iter().any(|k| *k != first) || first == SiteKind::Other {
        ctx.error(
            codes::UNSUPPORTED,
            format!(
                "the control plane of cluster `{}` spans sites of different kinds (cloud, bare metal, own servers)",
                cluster.name
            ),
            &format!("spec.clusters[{index}].controlPlane.sites"),
            "a Talos control plane has one machine template; place it on sites of one provider kind",
        );
        return None;
    }
    Some(first)
}

fn k8s_version(ctx: &mut Ctx<'_>, index: usize, cluster: &Cluster) -> Option<String> {
    let v = cluster.kubernetes.trim_start_matches('v');
    if v.split('.').count() != 3 {
        ctx.error(
            codes::MISSING,
            format!(
                "Cluster API needs a full Kubernetes version, `{}` has no patch release",
                cluster.kubernetes
            ),
            &format!("spec.clusters[{index}].kubernetes"),
            "write the patch release too, e.g. `\"1.34.5\"`",
        );
        return None;
    }
    Some(format!("v{v}"))
}

/// Locations of the control-plane sites, deduplicated, in placement order.
fn control_plane_regions(ctx: &Ctx<'_>, cluster: &Cluster) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for site in cluster.control_plane_sites() {
        if let Some(s) = ctx.spec.site(site)
            && !out.contains(&s.location)
        {
            out.push(s.location.clone());
        }
    }
    out
}

fn location(ctx: &Ctx<'_>, site: &str) -> String {
    ctx.spec.site(site).map(|s| s.location.clone()).unwrap_or_default()
}

/// `maxUnhealthy` of a worker MachineHealthCheck as an int-or-string.
/// The maxUnhealthy guard of a pool of `size` machines. Cluster API rounds a percentage down
/// (33% of 2 is 0, and remediation never happens), so the default is an absolute count: at
/// least one machine, and never more than a minority of the pool.
fn max_unhealthy(cluster: &Cluster, size: u32) -> Value {
    match cluster.max_unhealthy.as_deref() {
        Some(v) if !v.ends_with('%') => v.parse::<u64>().map_or(json!(v), |n| json!(n)),
        Some(v) => json!(v),
        None => json!((size.saturating_sub(1) / 2).max(1)),
    }
}

fn cluster_api(
    ctx: &mut Ctx<'_>,
    index: usize,
    cluster: &Cluster,
    next_address: &mut BTreeMap<String, u32>,
) -> Option<Vec<String>> {
    let path = format!("spec.clusters[{index}]");
    let cp_kind = control_plane_kind(ctx, index, cluster)?;
    let version = k8s_version(ctx, index, cluster)?;
    for (j, pool) in cluster.node_pools.iter().enumerate() {
        if site_kind(ctx.spec, cluster.pool_site(pool)) == SiteKind::Other {
            ctx.error(
                codes::UNSUPPORTED,
                format!(
                    "pool `{}` of cluster `{}` is on servers without a Cluster API provider while the rest of the cluster is managed by Cluster API",
                    pool.name, cluster.name
                ),
                &format!("{path}.nodePools[{j}].site"),
                "put the pool on a Hetzner site, or run the whole cluster on own servers",
            );
            return None;
        }
    }
    for site in cluster.sites() {
        let s = ctx.spec.site(site);
        let has_vswitch = s.is_some_and(|s| s.network.vswitch.is_some());
        if has_vswitch && talos::public_interface(ctx.spec, site).is_none() {
            let i = ctx.spec.sites.iter().position(|x| x.name == site).unwrap_or(0);
            ctx.error(
                codes::MISSING,
                format!("site `{site}` has a vSwitch but its servers' public interface is not named"),
                &format!("spec.sites[{i}].network"),
                "add `interface:` with the real name, e.g. `enp7s0` (see `talosctl get links`); `eth0` does not exist on bare metal",
            );
            return None;
        }
    }

    let ns = cluster.name.as_str();
    let labels = ctx.labels(&[("hafen.dev/cluster", ns)]);
    let talos_version = talos::version(cluster);
    let mut files = vec!["namespace.yaml".to_owned(), "cluster.yaml".to_owned()];
    ctx.out.yaml(
        format!("management/clusters/{ns}/namespace.yaml"),
        &file_header(cluster, "Namespace of the Cluster API objects"),
        vec![
            json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns, None, &labels) }),
        ],
    );

    // Cluster and HetznerCluster.
    let regions = control_plane_regions(ctx, cluster);
    let primary = regions.first().cloned().unwrap_or_default();
    let cloud_site =
        cluster.sites().into_iter().find(|s| site_kind(ctx.spec, s) == SiteKind::HetznerCloud);
    let network = cloud_site.and_then(|s| ctx.spec.site(s)).and_then(|s| {
        s.network.private_network.as_ref().map(|p| (p.subnet.clone(), s.location.clone()))
    });
    let mut hetzner = serde_json::Map::new();
    hetzner.insert("controlPlaneRegions".into(), json!(regions));
    hetzner.insert(
        "controlPlaneLoadBalancer".into(),
        json!({ "enabled": true, "region": primary, "type": "lb11" }),
    );
    match &network {
        Some((cidr, loc)) => {
            let zone = ctx
                .loaded
                .catalog
                .providers
                .iter()
                .flat_map(|p| &p.locations)
                .find(|l| &l.name == loc)
                .and_then(|l| l.network_zone.clone())
                .unwrap_or_else(|| "eu-central".into());
            let subnet = server_subnet(ctx, cidr);
            // The cloud controller's route controller programs one route per node for its pod
            // range, and the Hetzner Cloud API refuses a route outside the network's IP range:
            // the network spans the servers' subnet and the pod range.
            let range = match hcloud_network_range(ctx.spec, cluster) {
                Some(Ok(range)) => range,
                Some(Err(message)) => {
                    let site = cloud_site.unwrap_or_default();
                    let i = ctx.spec.sites.iter().position(|x| x.name == site).unwrap_or(0);
                    ctx.error(
                        codes::UNSUPPORTED,
                        message,
                        &format!("spec.sites[{i}].network.privateNetwork.subnet"),
                        "choose a pod range from the same private block as the network (for example both in 10.0.0.0/8), so one Hetzner Cloud network can hold the servers' subnet and the routes to every pod range",
                    );
                    return None;
                }
                None => cidr.clone(),
            };
            hetzner.insert(
                "hcloudNetwork".into(),
                json!({ "enabled": true, "cidrBlock": range, "subnetCidrBlock": subnet, "networkZone": zone }),
            );
        }
        None => {
            hetzner.insert("hcloudNetwork".into(), json!({ "enabled": false }));
        }
    }
    let mut groups = Vec::new();
    if cp_kind == SiteKind::HetznerCloud {
        groups.push(json!({ "name": "control-plane", "type": "spread" }));
    }
    let group_limit = placement_group_limit(ctx);
    for pool in &cluster.node_pools {
        if site_kind(ctx.spec, cluster.pool_site(pool)) == SiteKind::HetznerCloud
            && pool.count <= group_limit
        {
            groups.push(json!({ "name": pool.name, "type": "spread" }));
        }
    }
    if !groups.is_empty() {
        hetzner.insert("hcloudPlacementGroups".into(), Value::Array(groups));
    }
    hetzner.insert(
        "hetznerSecretRef".into(),
        json!({
            "name": HETZNER_SECRET,
            "key": { "hcloudToken": "hcloud", "hetznerRobotUser": "robot-user", "hetznerRobotPassword": "robot-password" }
        }),
    );
    // The Robot credential is account-wide (it can reinstall or cancel any server): it stays
    // in the management cluster and is never copied into the workload cluster.
    hetzner.insert("skipCreatingHetznerSecretInWorkloadCluster".into(), json!(true));
    let has_dedicated =
        cluster.sites().iter().any(|s| site_kind(ctx.spec, s) == SiteKind::HetznerDedicated);
    if has_dedicated {
        hetzner.insert("sshKeys".into(), json!({ "robotRescueSecretRef": ssh_ref() }));
    } else {
        hetzner.insert("sshKeys".into(), json!({}));
    }
    let capi_cluster = json!({
        "apiVersion": CAPI,
        "kind": "Cluster",
        "metadata": meta(ns, Some(ns), &labels),
        "spec": {
            "clusterNetwork": {
                "pods": { "cidrBlocks": [cluster.network.pod_cidr] },
                "services": { "cidrBlocks": [cluster.network.service_cidr] },
            },
            "controlPlaneRef": { "apiGroup": "controlplane.cluster.x-k8s.io", "kind": "TalosControlPlane", "name": name(&[ns, "control-plane"]) },
            "infrastructureRef": { "apiGroup": INFRA_GROUP, "kind": "HetznerCluster", "name": ns },
        }
    });
    let mut hetzner_meta = meta(ns, Some(ns), &labels);
    if cluster.sites().iter().any(|s| site_kind(ctx.spec, s) == SiteKind::HetznerDedicated)
        && let Some(m) = hetzner_meta.as_object_mut()
    {
        // Bare-metal machines get `hrobot://<server number>` as provider ID, the format the
        // Hetzner cloud controller writes and the one the rendered kubelets register with.
        m.insert(
            "annotations".into(),
            json!({ "capi.syself.com/use-hrobot-provider-id-for-baremetal": "true" }),
        );
    }
    let hetzner_cluster = json!({
        "apiVersion": INFRA,
        "kind": "HetznerCluster",
        "metadata": hetzner_meta,
        "spec": hetzner,
    });
    ctx.out.yaml(
        format!("management/clusters/{ns}/cluster.yaml"),
        &file_header(cluster, "Cluster and Hetzner infrastructure"),
        vec![capi_cluster, hetzner_cluster],
    );

    // Control plane.
    let cp_site =
        cluster.control_plane_sites().first().map(|s| (*s).to_owned()).unwrap_or_default();
    let cp_labels =
        crate::out::labels(&[&labels, &label_map(&[("hafen.dev/pool", "control-plane")])]);
    let (cp_template, cp_template_kind) = machine_template(
        ctx,
        cluster,
        cp_kind,
        "control-plane",
        &cluster.control_plane.server_type,
        Some("control-plane"),
        &cp_labels,
    );
    let cp_patch = talos::patch(ctx.spec, cluster, Role::ControlPlane, &cp_site);
    let spares = cluster.control_plane.server_ids.len() > cluster.control_plane.replicas as usize;
    let surge = if cp_kind == SiteKind::HetznerCloud || spares { 1 } else { 0 };
    let tcp = json!({
        "apiVersion": CONTROLPLANE,
        "kind": "TalosControlPlane",
        "metadata": meta(&name(&[ns, "control-plane"]), Some(ns), &labels),
        "spec": {
            "version": version,
            "replicas": cluster.control_plane.replicas,
            "infrastructureTemplate": { "apiVersion": INFRA, "kind": cp_template_kind, "name": cp_template["metadata"]["name"] },
            "controlPlaneConfig": {
                "controlplane": {
                    "generateType": "controlplane",
                    "talosVersion": talos_version,
                    "strategicPatches": patch_texts(&cp_patch),
                }
            },
            "rolloutStrategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": surge } },
        }
    });
    let (cp_mhc, cp_remediation) = health_check(
        ns,
        &name(&[ns, "control-plane"]),
        json!({ "matchLabels": { "cluster.x-k8s.io/control-plane": "" } }),
        cp_kind,
        // Remediate one control-plane machine at a time: two at once can cost etcd its quorum.
        json!(1),
        &labels,
    );
    ctx.out.yaml(
        format!("management/clusters/{ns}/control-plane.yaml"),
        &file_header(
            cluster,
            &format!(
                "Control plane ({} × {})",
                cluster.control_plane.replicas, cluster.control_plane.server_type
            ),
        ),
        vec![tcp, cp_template, cp_remediation, cp_mhc],
    );
    files.push("control-plane.yaml".into());

    let spread = crate::docs::control_plane_spread(cluster);
    let quorum = cluster.control_plane.replicas / 2 + 1;
    if spread.len() > 1
        && let Some((site, n)) = spread.iter().find(|(_, n)| *n >= quorum)
    {
        ctx.open_items.push(format!(
            "The control plane of `{}` places {n} of {} members at `{site}`: losing that site loses the etcd quorum. Spread it over at least three sites, or keep it at one site and rely on the other cluster.",
            cluster.name, cluster.control_plane.replicas
        ));
    }
    for pool in &cluster.node_pools {
        let cloud = site_kind(ctx.spec, cluster.pool_site(pool)) == SiteKind::HetznerCloud;
        if cloud && pool.count > group_limit {
            ctx.open_items.push(format!(
                "Pool `{}` of `{}` has {} servers, more than a Hetzner spread placement group holds ({group_limit}): it gets no placement group, so several of its servers may share a host.",
                pool.name, cluster.name, pool.count
            ));
        }
    }
    if cluster.network.routing == hafen_spec::Routing::Native
        && cluster.sites().iter().any(|s| {
            site_kind(ctx.spec, s) == SiteKind::HetznerCloud
                && ctx.spec.site(s).is_some_and(|x| x.network.private_network.is_none())
        })
    {
        ctx.open_items.push(format!(
            "`{}` routes pods natively on Hetzner Cloud, but a site has no `privateNetwork`: the cloud controller can only program pod routes into a private network. Add one, or use `routing: tunnel`.",
            cluster.name
        ));
    }

    if cluster.network.routing == hafen_spec::Routing::Native
        && !crate::components::has_cloud(ctx.spec, cluster)
        && !crate::platform::shared_layer2(ctx, cluster)
    {
        ctx.open_items.push(format!(
            "`{}` routes pods natively, but its bare-metal servers share no layer 2 (no vSwitch): nodes cannot reach each other's pod ranges. Add a vSwitch to the site, or use `routing: tunnel`.",
            cluster.name
        ));
    }

    let mut host_patches = node_patches(ctx, index, cluster, next_address);

    // Node pools.
    for pool in &cluster.node_pools {
        if per_host(ctx, cluster, pool) {
            let (docs, file) = per_host_pool(
                ctx,
                cluster,
                pool,
                &labels,
                &version,
                &talos_version,
                &mut host_patches,
            );
            ctx.out.yaml(
                format!("management/clusters/{ns}/{file}"),
                &file_header(
                    cluster,
                    &format!(
                        "Node pool `{}` ({} × {} at {}, one MachineDeployment per Robot server whose Talos config\ncarries the host's own vSwitch address and provider ID, so a replaced machine comes up complete)",
                        pool.name, pool.count, pool.server_type, cluster.pool_site(pool)
                    ),
                ),
                docs,
            );
            files.push(file);
            continue;
        }
        let site = cluster.pool_site(pool).to_owned();
        let kind = site_kind(ctx.spec, &site);
        let pool_labels =
            crate::out::labels(&[&labels, &label_map(&[("hafen.dev/pool", &pool.name)])]);
        let group = (kind == SiteKind::HetznerCloud && pool.count <= group_limit)
            .then_some(pool.name.as_str());
        let (template, template_kind) = machine_template(
            ctx,
            cluster,
            kind,
            &pool.name,
            &pool.server_type,
            group,
            &pool_labels,
        );
        let patch = talos::patch(ctx.spec, cluster, Role::Worker(pool), &site);
        let bootstrap_spec = json!({
            "template": { "spec": {
                "generateType": "worker",
                "talosVersion": talos_version,
                "strategicPatches": patch_texts(&patch),
            } }
        });
        let bootstrap_name = name(&[ns, &pool.name, &content_hash(&bootstrap_spec)]);
        let bootstrap = json!({
            "apiVersion": BOOTSTRAP,
            "kind": "TalosConfigTemplate",
            "metadata": meta(&bootstrap_name, Some(ns), &pool_labels),
            "spec": bootstrap_spec,
        });
        let md_name = name(&[ns, &pool.name]);
        let selector = json!({ "cluster.x-k8s.io/cluster-name": ns, "hafen.dev/pool": pool.name });
        let spares = pool.server_ids.len() > pool.count as usize;
        let (max_surge, max_unavailable) =
            if kind == SiteKind::HetznerCloud || spares { (1, 0) } else { (0, 1) };
        let mut template_spec = serde_json::Map::new();
        template_spec.insert("clusterName".into(), json!(ns));
        template_spec.insert("version".into(), json!(version));
        template_spec.insert("bootstrap".into(), json!({ "configRef": { "apiGroup": "bootstrap.cluster.x-k8s.io", "kind": "TalosConfigTemplate", "name": bootstrap_name } }));
        template_spec.insert("infrastructureRef".into(), json!({ "apiGroup": INFRA_GROUP, "kind": template_kind, "name": template["metadata"]["name"] }));
        if kind == SiteKind::HetznerCloud {
            template_spec.insert("failureDomain".into(), json!(location(ctx, &site)));
        }
        let md = json!({
            "apiVersion": CAPI,
            "kind": "MachineDeployment",
            "metadata": meta(&md_name, Some(ns), &pool_labels),
            "spec": {
                "clusterName": ns,
                "replicas": pool.count,
                "selector": { "matchLabels": selector },
                "template": {
                    "metadata": { "labels": selector },
                    "spec": template_spec,
                },
                "rollout": { "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": max_surge, "maxUnavailable": max_unavailable } } },
            }
        });
        let (mhc, remediation) = health_check(
            ns,
            &md_name,
            json!({ "matchLabels": selector }),
            kind,
            max_unhealthy(cluster, pool.count),
            &pool_labels,
        );
        let file = format!("pool-{}.yaml", pool.name);
        ctx.out.yaml(
            format!("management/clusters/{ns}/{file}"),
            &file_header(
                cluster,
                &format!(
                    "Node pool `{}` ({} × {} at {})",
                    pool.name, pool.count, pool.server_type, site
                ),
            ),
            vec![md, template, bootstrap, remediation, mhc],
        );
        files.push(file);
    }

    // Bare-metal hosts and the per-node network patches.
    let hosts = bare_metal_hosts(ctx, cluster, &labels);
    if !hosts.is_empty() {
        ctx.out.yaml(
            format!("management/clusters/{ns}/hosts.yaml"),
            &file_header(cluster, "Hetzner Robot servers CAPH may provision (by server number)"),
            hosts,
        );
        files.push("hosts.yaml".into());
    }
    egress_patches(ctx, cluster);
    ctx.out.text(
        format!("bootstrap/{ns}/talos/schematic.yaml"),
        talos::cluster_schematic(ctx.spec, cluster),
    );
    Some(files)
}

/// The first /24 of the cloud network that overlaps no vSwitch subnet of the platform (the
/// vSwitch subnets of a coupled network live inside the same range).
/// The private blocks of RFC 1918, the only ranges a Hetzner Cloud network may use.
const PRIVATE_BLOCKS: &[&str] = &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// The smallest IPv4 prefix that holds every given range.
pub(crate) fn supernet(ranges: &[hafen_spec::net::Cidr]) -> Option<hafen_spec::net::Cidr> {
    let mut lo = u32::MAX;
    let mut hi = 0u32;
    for r in ranges {
        if !r.addr.is_ipv4() {
            return None;
        }
        let (a, b) = r.range();
        lo = lo.min(u32::try_from(a).ok()?);
        hi = hi.max(u32::try_from(b).ok()?);
    }
    if lo > hi {
        return None;
    }
    let prefix = (lo ^ hi).leading_zeros().min(32);
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    Some(hafen_spec::net::Cidr {
        addr: std::net::IpAddr::V4(std::net::Ipv4Addr::from(lo & mask)),
        prefix: prefix as u8,
    })
}

/// The IP range of a cluster's Hetzner Cloud network: the site's private subnet widened until
/// it also holds the cluster's pod range (routes to pods must lie inside the network). `None`
/// when the cluster has no Cloud network, `Err` when no private block holds both.
pub(crate) fn hcloud_network_range(
    spec: &hafen_spec::PlatformSpec,
    cluster: &Cluster,
) -> Option<Result<String, String>> {
    let site =
        cluster.sites().into_iter().find(|s| site_kind(spec, s) == SiteKind::HetznerCloud)?;
    let subnet = spec.site(site)?.network.private_network.as_ref()?.subnet.clone();
    // In tunnel mode no route to a pod range is programmed; the network holds the servers
    // (and a coupled vSwitch subnet) only.
    if cluster.network.routing == hafen_spec::Routing::Tunnel {
        return Some(Ok(subnet));
    }
    let parse = |t: &str| hafen_spec::net::Cidr::parse(t).ok();
    let (Some(net), Some(pods)) = (parse(&subnet), parse(&cluster.network.pod_cidr)) else {
        return Some(Ok(subnet));
    };
    let wide = supernet(&[net, pods]);
    let fits = wide.is_some_and(|w| {
        PRIVATE_BLOCKS.iter().filter_map(|b| parse(b)).any(|b| {
            let (lo, hi) = b.range();
            let (a, z) = w.range();
            lo <= a && z <= hi
        })
    });
    match wide {
        Some(w) if fits => Some(Ok(w.to_string())),
        _ => Some(Err(format!(
            "the Hetzner Cloud network of cluster `{}` must hold both its servers' subnet {subnet} and its pod range {} (the cloud controller's routes to pods must lie inside the network), but no private block (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) holds both",
            cluster.name, cluster.network.pod_cidr
        ))),
    }
}

pub(crate) fn server_subnet(ctx: &Ctx<'_>, cidr: &str) -> String {
    let Ok(net) = hafen_spec::net::Cidr::parse(cidr) else { return cidr.to_owned() };
    let std::net::IpAddr::V4(base) = net.addr else { return cidr.to_owned() };
    if net.prefix > 24 {
        return cidr.to_owned();
    }
    let vswitches: Vec<hafen_spec::net::Cidr> = ctx
        .spec
        .sites
        .iter()
        .filter_map(|s| s.network.vswitch.as_ref())
        .filter_map(|v| hafen_spec::net::Cidr::parse(&v.subnet).ok())
        .collect();
    let count = 1u32 << (24 - u32::from(net.prefix));
    for i in 0..count.min(256) {
        let Some(addr) = u32::from(base).checked_add(i << 8) else { break };
        let candidate = format!("{}/24", std::net::Ipv4Addr::from(addr));
        let Ok(c) = hafen_spec::net::Cidr::parse(&candidate) else { continue };
        if !vswitches.iter().any(|v| v.overlaps(&c)) {
            return candidate;
        }
    }
    cidr.to_owned()
}

fn ssh_ref() -> Value {
    json!({
        "name": ROBOT_SSH_SECRET,
        "key": { "name": "sshkey-name", "publicKey": "ssh-publickey", "privateKey": "ssh-privatekey" }
    })
}

/// The infrastructure machine template of a pool (or the control plane): an
/// `HCloudMachineTemplate` on cloud sites, a `HetznerBareMetalMachineTemplate` that claims
/// hosts by label on dedicated sites. Its name carries a hash of its content, so a change
/// makes a new template and Cluster API rolls the machines.
fn machine_template(
    ctx: &Ctx<'_>,
    cluster: &Cluster,
    kind: SiteKind,
    pool: &str,
    server_type: &str,
    placement_group: Option<&str>,
    labels: &serde_json::Map<String, Value>,
) -> (Value, &'static str) {
    let ns = cluster.name.as_str();
    let (kind_name, spec) = if kind == SiteKind::HetznerCloud {
        let mut spec = serde_json::Map::new();
        spec.insert("type".into(), json!(server_type));
        spec.insert("imageName".into(), json!(talos::hcloud_image_name(ctx.spec, cluster)));
        if let Some(group) = placement_group {
            spec.insert("placementGroupName".into(), json!(group));
        }
        spec.insert("publicNetwork".into(), json!({ "enableIPv4": true, "enableIPv6": true }));
        ("HCloudMachineTemplate", json!({ "template": { "spec": spec } }))
    } else {
        let image_url = format!(
            "{}/image/{}/{}/metal-amd64.raw.zst",
            crate::components::data().defaults.image_factory,
            talos::schematic_id(ctx.spec, cluster),
            talos::version(cluster)
        );
        (
            "HetznerBareMetalMachineTemplate",
            json!({ "template": { "spec": {
                "hostSelector": { "matchLabels": { "hafen.dev/cluster": ns, "hafen.dev/pool": pool } },
                // The command writes the image itself: CAPH's webhook requires an empty
                // `image.name` (and `image.path`) when `imageURLCommand` is set.
                "installImage": {
                    "image": { "url": image_url },
                    "imageURLCommand": IMAGE_COMMAND,
                    "partitions": [{ "mount": "/", "fileSystem": "ext4", "size": "all" }],
                },
                "sshSpec": { "secretRef": ssh_ref(), "noSSHAfterInstallImage": true },
            } } }),
        )
    };
    let template_name = name(&[ns, pool, &content_hash(&spec)]);
    (
        json!({
            "apiVersion": INFRA,
            "kind": kind_name,
            "metadata": meta(&template_name, Some(ns), labels),
            "spec": spec,
        }),
        kind_name,
    )
}

/// A MachineHealthCheck and its remediation template (reboot once, then replace).
fn health_check(
    ns: &str,
    target: &str,
    selector: Value,
    kind: SiteKind,
    guard: Value,
    labels: &serde_json::Map<String, Value>,
) -> (Value, Value) {
    let (remediation_kind, startup, strategy) = if kind == SiteKind::HetznerCloud {
        (
            "HCloudRemediationTemplate",
            1200,
            json!({ "type": "Reboot", "retryLimit": 1, "timeout": "180s" }),
        )
    } else {
        // A bare-metal install through the rescue system takes long, and a dead server waits
        // for the provider's staff where remote power-on is missing: give it time.
        (
            "HetznerBareMetalRemediationTemplate",
            3600,
            json!({ "type": "Reboot", "retryLimit": 1, "timeout": "600s" }),
        )
    };
    let remediation_name = name(&[target, "remediation"]);
    let remediation = json!({
        "apiVersion": INFRA,
        "kind": remediation_kind,
        "metadata": meta(&remediation_name, Some(ns), labels),
        "spec": { "template": { "spec": { "strategy": strategy } } },
    });
    let mhc = json!({
        "apiVersion": CAPI,
        "kind": "MachineHealthCheck",
        "metadata": meta(target, Some(ns), labels),
        "spec": {
            "clusterName": ns,
            "selector": selector,
            "checks": {
                "nodeStartupTimeoutSeconds": startup,
                "unhealthyNodeConditions": [
                    { "type": "Ready", "status": "Unknown", "timeoutSeconds": 300 },
                    { "type": "Ready", "status": "False", "timeoutSeconds": 300 },
                ],
            },
            "remediation": {
                // The maxUnhealthy guard: when more than this is unhealthy at once, the cause is
                // not the machines (network, provider outage) and replacing them makes it worse.
                "triggerIf": { "unhealthyLessThanOrEqualTo": guard },
                "templateRef": { "apiVersion": INFRA, "kind": remediation_kind, "name": remediation_name },
            },
        }
    });
    (mhc, remediation)
}

/// A bare-metal pool as one MachineDeployment per listed Robot server (replicas 1 for the first
/// `count`, 0 for spares), each selecting exactly its host and bootstrapped with a
/// TalosConfigTemplate that holds the pool's patch plus the host's VLAN address and provider ID.
/// One MachineHealthCheck covers the pool.
#[allow(clippy::too_many_arguments)]
fn per_host_pool(
    ctx: &mut Ctx<'_>,
    cluster: &Cluster,
    pool: &hafen_spec::NodePool,
    labels: &serde_json::Map<String, Value>,
    version: &str,
    talos_version: &str,
    host_patches: &mut BTreeMap<(String, u64), Vec<Value>>,
) -> (Vec<Value>, String) {
    let ns = cluster.name.as_str();
    let site = cluster.pool_site(pool).to_owned();
    let pool_labels = crate::out::labels(&[labels, &label_map(&[("hafen.dev/pool", &pool.name)])]);
    let base = talos::patch(ctx.spec, cluster, Role::Worker(pool), &site);
    let mut docs = Vec::new();
    for (i, id) in pool.server_ids.iter().enumerate() {
        let host = id.to_string();
        let host_labels =
            crate::out::labels(&[&pool_labels, &label_map(&[("hafen.dev/host", &host)])]);
        let (mut template, template_kind) = machine_template(
            ctx,
            cluster,
            SiteKind::HetznerDedicated,
            &pool.name,
            &pool.server_type,
            None,
            &host_labels,
        );
        // Exactly this host: its VLAN address and provider ID are in the config below.
        if let Some(sel) = template.pointer_mut("/spec/template/spec/hostSelector/matchLabels")
            && let Some(sel) = sel.as_object_mut()
        {
            sel.insert("hafen.dev/host".into(), json!(host));
        }
        let spec_only = template["spec"].clone();
        if let Some(m) = template.pointer_mut("/metadata/name") {
            *m = json!(name(&[ns, &pool.name, &host, &content_hash(&spec_only)]));
        }
        // The host's vSwitch patch (with its provider ID), or the provider ID alone.
        let mut patch = host_patches.remove(&(pool.name.clone(), *id)).unwrap_or_else(|| {
            vec![json!({ "machine": { "kubelet": { "extraConfig": { "providerID": robot_provider_id(*id) } } } })]
        });
        patch.extend(base.iter().cloned());
        // The egress pool's n-th listed server holds the n-th fixed egress address: Cluster API
        // then brings a replaced host up with its address and the label the policy selects.
        if let Some(ip) = egress_ip_of_host(cluster, pool, i)
            && let Some(interface) = talos::public_interface(ctx.spec, &site)
        {
            patch.extend(talos::egress_ip_patch(cluster, &interface, ip));
        }
        let bootstrap_spec = json!({
            "template": { "spec": {
                "generateType": "worker",
                "talosVersion": talos_version,
                "strategicPatches": patch_texts(&patch),
            } }
        });
        let bootstrap_name = name(&[ns, &pool.name, &host, &content_hash(&bootstrap_spec)]);
        let bootstrap = json!({
            "apiVersion": BOOTSTRAP,
            "kind": "TalosConfigTemplate",
            "metadata": meta(&bootstrap_name, Some(ns), &host_labels),
            "spec": bootstrap_spec,
        });
        let selector = json!({
            "cluster.x-k8s.io/cluster-name": ns,
            "hafen.dev/pool": pool.name,
            "hafen.dev/host": host,
        });
        let replicas = u32::from(i < pool.count as usize);
        let md = json!({
            "apiVersion": CAPI,
            "kind": "MachineDeployment",
            "metadata": meta(&name(&[ns, &pool.name, &host]), Some(ns), &host_labels),
            "spec": {
                "clusterName": ns,
                "replicas": replicas,
                "selector": { "matchLabels": selector },
                "template": {
                    "metadata": { "labels": selector },
                    "spec": {
                        "clusterName": ns,
                        "version": version,
                        "bootstrap": { "configRef": { "apiGroup": "bootstrap.cluster.x-k8s.io", "kind": "TalosConfigTemplate", "name": bootstrap_name } },
                        "infrastructureRef": { "apiGroup": INFRA_GROUP, "kind": template_kind, "name": template["metadata"]["name"] },
                    },
                },
                // One host: the machine is replaced in place (there is no second host to surge to).
                "rollout": { "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxSurge": 0, "maxUnavailable": 1 } } },
            }
        });
        docs.push(md);
        docs.push(template);
        docs.push(bootstrap);
    }
    let md_name = name(&[ns, &pool.name]);
    let (mhc, remediation) = health_check(
        ns,
        &md_name,
        json!({ "matchLabels": { "cluster.x-k8s.io/cluster-name": ns, "hafen.dev/pool": pool.name } }),
        SiteKind::HetznerDedicated,
        max_unhealthy(cluster, pool.count),
        &pool_labels,
    );
    docs.push(remediation);
    docs.push(mhc);
    (docs, format!("pool-{}.yaml", pool.name))
}

fn host_objects(
    ns: &str,
    pool: &str,
    site: &str,
    ids: &[u64],
    labels: &serde_json::Map<String, Value>,
) -> Vec<Value> {
    ids.iter()
        .map(|id| {
            let l = crate::out::labels(&[
                labels,
                &label_map(&[
                    ("hafen.dev/pool", pool),
                    ("hafen.dev/site", site),
                    ("hafen.dev/host", &id.to_string()),
                ]),
            ]);
            json!({
                "apiVersion": INFRA,
                "kind": "HetznerBareMetalHost",
                "metadata": meta(&name(&["bm", &id.to_string()]), Some(ns), &l),
                "spec": { "serverID": id, "description": format!("{pool} of {ns} at {site}") },
            })
        })
        .collect()
}

fn bare_metal_hosts(
    ctx: &Ctx<'_>,
    cluster: &Cluster,
    labels: &serde_json::Map<String, Value>,
) -> Vec<Value> {
    let ns = cluster.name.as_str();
    let mut out = Vec::new();
    if let Some(site) = cluster.control_plane_sites().first()
        && site_kind(ctx.spec, site) == SiteKind::HetznerDedicated
    {
        out.extend(host_objects(
            ns,
            "control-plane",
            site,
            &cluster.control_plane.server_ids,
            labels,
        ));
    }
    for pool in &cluster.node_pools {
        let site = cluster.pool_site(pool);
        if site_kind(ctx.spec, site) == SiteKind::HetznerDedicated {
            out.extend(host_objects(ns, &pool.name, site, &pool.server_ids, labels));
        }
    }
    out
}

/// One patch per bare-metal node on a vSwitch site: the VLAN with the node's own address (a
/// machine template is shared by the whole pool, so per-node addresses cannot live there).
/// True when a pool's machines are rendered one MachineDeployment per listed Robot server, so
/// that each host's own VLAN address and provider ID are part of what Cluster API applies.
pub(crate) fn per_host(ctx: &Ctx<'_>, cluster: &Cluster, pool: &hafen_spec::NodePool) -> bool {
    let site = cluster.pool_site(pool);
    site_kind(ctx.spec, site) == SiteKind::HetznerDedicated && !pool.server_ids.is_empty()
}

/// The provider ID of a Robot server, as the Hetzner cloud controller writes it and as CAPH
/// expects it with `capi.syself.com/use-hrobot-provider-id-for-baremetal: "true"`.
pub(crate) fn robot_provider_id(id: u64) -> String {
    format!("hrobot://{id}")
}

/// Per-node network patches of bare-metal nodes on a vSwitch. Nodes of pools rendered per host
/// get theirs back (keyed by pool and server number) to carry in their own TalosConfigTemplate;
/// the others (the control plane, whose one config is shared by all members, and pools without
/// listed servers) are written as files to apply by hand.
fn node_patches(
    ctx: &mut Ctx<'_>,
    index: usize,
    cluster: &Cluster,
    next_address: &mut BTreeMap<String, u32>,
) -> BTreeMap<(String, u64), Vec<Value>> {
    let mut per_host_patches = BTreeMap::new();
    let per_host_pools: Vec<String> = cluster
        .node_pools
        .iter()
        .filter(|p| per_host(ctx, cluster, p))
        .map(|p| p.name.clone())
        .collect();
    let mut slots: Vec<(String, String, usize, Option<u64>)> = Vec::new();
    let cp_site =
        cluster.control_plane_sites().first().map(|s| (*s).to_owned()).unwrap_or_default();
    let cp_count =
        (cluster.control_plane.replicas as usize).max(cluster.control_plane.server_ids.len());
    for n in 0..cp_count {
        slots.push((
            "control-plane".into(),
            cp_site.clone(),
            n,
            cluster.control_plane.server_ids.get(n).copied(),
        ));
    }
    for pool in &cluster.node_pools {
        let count = (pool.count as usize).max(pool.server_ids.len());
        for n in 0..count {
            slots.push((
                pool.name.clone(),
                cluster.pool_site(pool).to_owned(),
                n,
                pool.server_ids.get(n).copied(),
            ));
        }
    }
    for (pool, site, n, id) in slots {
        let Some(s) = ctx.spec.site(&site) else { continue };
        let Some(vswitch) = s.network.vswitch.clone() else { continue };
        if site_kind(ctx.spec, &site) != SiteKind::HetznerDedicated {
            continue;
        }
        let Some(interface) = talos::public_interface(ctx.spec, &site) else { continue };
        let counter = next_address.entry(site.clone()).or_insert(0);
        let Some((address, prefix)) = talos::host_address(&vswitch.subnet, *counter) else {
            let i = ctx.spec.sites.iter().position(|x| x.name == site).unwrap_or(0);
            ctx.error(
                codes::MISSING,
                format!("the vSwitch subnet `{}` of site `{site}` has no address left for node {} of pool `{pool}`", vswitch.subnet, n + 1),
                &format!("spec.sites[{i}].network.vswitch.subnet"),
                "use a larger subnet (node addresses start at .10)",
            );
            let _ = index;
            return per_host_patches;
        };
        *counter += 1;
        // A vSwitch coupled to a Hetzner Cloud network reaches the Cloud servers through the
        // vSwitch gateway (the first address of the vSwitch subnet), not on-link.
        let routes: Vec<(String, String)> = crate::mesh::coupling(ctx.spec, &site)
            .map(|c| vec![(c.cloud_subnet, c.gateway)])
            .unwrap_or_default();
        let mut patch = talos::node_network_patch(
            cluster,
            &interface,
            vswitch.vlan,
            &address,
            prefix,
            vswitch.mtu,
            &routes,
        );
        if let Some(id) = id {
            // Cluster API matches a Machine to its Node by provider ID. No cloud controller runs
            // for bare metal (the Robot credential stays in the management cluster), so the
            // kubelet registers the node with the ID CAPH gives the machine.
            patch.insert(
                0,
                json!({ "machine": { "kubelet": { "extraConfig": { "providerID": robot_provider_id(id) } } } }),
            );
            if per_host_pools.contains(&pool) {
                per_host_patches.insert((pool, id), patch);
                continue;
            }
        }
        let slot = match id {
            Some(id) => format!("{pool}-bm-{id}"),
            None => format!("{pool}-{}", n + 1),
        };
        let header = format!(
            "Network of node `{slot}` of cluster `{}` at {site}: public interface {interface} keeps DHCP,\nVLAN {} carries {address}/{prefix} with MTU {}.\nApply to the machine that holds this slot as soon as it runs (and again to any machine that replaces it,\nsee RUNBOOK.md): talosctl -n <public address> patch machineconfig --patch @this-file\nRendered by Hafen.",
            cluster.name, vswitch.vlan, vswitch.mtu
        );
        ctx.out.yaml(format!("bootstrap/{}/nodes/{slot}.patch.yaml", cluster.name), &header, patch);
    }
    per_host_patches
}

/// The fixed egress address the `i`-th listed server of an egress pool holds, when the pool
/// gets one machine per listed server.
pub(crate) fn egress_ip_of_host<'a>(
    cluster: &'a Cluster,
    pool: &hafen_spec::NodePool,
    i: usize,
) -> Option<&'a String> {
    let egress = cluster.network.egress.as_ref()?;
    let egress_pool = crate::platform::egress_pool(cluster)?;
    if egress_pool.name != pool.name || pool.server_ids.is_empty() {
        return None;
    }
    egress.ips.get(i)
}

/// True when Cluster API applies every fixed egress address with its host's machine config
/// (a per-host egress pool with at least as many listed servers as addresses).
pub(crate) fn egress_by_cluster_api(ctx: &Ctx<'_>, cluster: &Cluster) -> bool {
    let Some(egress) = &cluster.network.egress else { return false };
    let Some(pool) = crate::platform::egress_pool(cluster) else { return false };
    !egress.ips.is_empty()
        && per_host(ctx, cluster, pool)
        && pool.server_ids.len().min(pool.count as usize) >= egress.ips.len()
}

/// One patch per fixed egress address, for the egress node that holds it.
fn egress_patches(ctx: &mut Ctx<'_>, cluster: &Cluster) {
    if egress_by_cluster_api(ctx, cluster) {
        return;
    }
    let Some(egress) = &cluster.network.egress else { return };
    let Some(pool) = crate::platform::egress_pool(cluster) else { return };
    let site = cluster.pool_site(pool).to_owned();
    let Some(interface) = talos::public_interface(ctx.spec, &site) else { return };
    for ip in &egress.ips {
        let patch = talos::egress_ip_patch(cluster, &interface, ip);
        let header = format!(
            "Fixed egress address {ip} of cluster `{}`: apply to the one egress node (pool `{}`) that holds it,\nafter the provider routes the address to that server. Rendered by Hafen.",
            cluster.name, pool.name
        );
        let file = ip.replace([':', '.'], "-");
        ctx.out.yaml(
            format!("bootstrap/{}/egress/{file}.patch.yaml", cluster.name),
            &header,
            patch,
        );
    }
}

/// Servers Hetzner Cloud allows in one spread placement group (catalogue limit; 10 without it).
pub(crate) fn placement_group_limit(ctx: &Ctx<'_>) -> u32 {
    ctx.loaded
        .catalog
        .provider("hetzner-cloud")
        .and_then(|p| p.limits.as_ref())
        .and_then(|l| l.servers_per_placement_group)
        .unwrap_or(10)
}
