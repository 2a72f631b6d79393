//! The repository's own documentation: `README.md` (what the repository is, how it is laid
//! out, how it deploys without Hafen, and why the judgment calls are what they are) and
//! `RUNBOOK.md` (day-0 bootstrap and day-2 operations with this platform's names, sites and
//! versions). Both are generated from the spec, so they change whenever the topology does.

use crate::components::{self, SiteKind, site_kind};
use crate::management::{HETZNER_SECRET, IMAGE_COMMAND, Machines, ROBOT_SSH_SECRET, machines};
use crate::{Ctx, k3s, talos, tenants};
use hafen_spec::{Cluster, GitOpsEngine, Mtu, Os, SecretsBackend};
use std::collections::BTreeSet;
use std::fmt::Write;

fn engine(ctx: &Ctx<'_>) -> &'static str {
    match ctx.spec.gitops.engine {
        GitOpsEngine::Flux => "Flux",
        GitOpsEngine::Argocd => "Argo CD",
    }
}

/// The MTU arithmetic of a cluster as Cilium does it: the `MTU` value Cilium is given, what
/// it subtracts, the pod route MTU, and the strict maximum `hafen check` (NET001) allows.
pub(crate) fn mtu_line(ctx: &Ctx<'_>, cluster: &Cluster) -> String {
    let (max, under, _) = hafen_spec::mtu::max_pod_mtu(ctx.spec, cluster);
    let cilium = hafen_spec::mtu::cilium_mtu(ctx.spec, cluster);
    let mut text = match cluster.network.mtu {
        Mtu::Auto(_) => format!("Cilium `MTU: {}` (the underlay, {})", cilium.base, under.source),
        Mtu::Value(v) => format!(
            "Cilium `MTU: {}` (the spec's pod MTU {v} plus Cilium's allowances)",
            cilium.base
        ),
    };
    for head in &cilium.overheads {
        let _ = write!(text, " − {} ({})", head.bytes, head.what);
    }
    let _ = write!(
        text,
        " = pod route MTU {}; the strict maximum over this underlay is {max}",
        cilium.route
    );
    text
}

fn version(cluster: &Cluster) -> String {
    match cluster.os {
        Os::Talos => format!("Talos {}", talos::version(cluster)),
        Os::K3s => format!("K3s {}", k3s::k3s_version(cluster)),
    }
}

fn pools(cluster: &Cluster) -> String {
    let mut parts = vec![format!(
        "control plane {} × {}",
        cluster.control_plane.replicas, cluster.control_plane.server_type
    )];
    for p in &cluster.node_pools {
        parts.push(format!("{} {} × {}", p.name, p.count, p.server_type));
    }
    parts.join("; ")
}

fn sorted_tenants<'a>(ctx: &Ctx<'a>) -> Vec<&'a hafen_spec::Tenant> {
    let mut t: Vec<&hafen_spec::Tenant> = ctx.spec.tenants.iter().collect();
    t.sort_by(|a, b| a.name.cmp(&b.name));
    t
}

fn sorted_apps(tenant: &hafen_spec::Tenant) -> Vec<&hafen_spec::App> {
    let mut a: Vec<&hafen_spec::App> = tenant.apps.iter().collect();
    a.sort_by(|x, y| x.name.cmp(&y.name));
    a
}

/// How many control-plane members each control-plane site holds: the Talos control-plane
/// provider places each new machine in the least-used failure domain, so they fill evenly.
pub(crate) fn control_plane_spread(cluster: &Cluster) -> Vec<(String, u32)> {
    let sites = cluster.control_plane_sites();
    let n = u32::try_from(sites.len()).unwrap_or(1).max(1);
    sites
        .iter()
        .enumerate()
        .map(|(i, site)| {
            let i = u32::try_from(i).unwrap_or(0);
            let extra = u32::from(i < cluster.control_plane.replicas % n);
            ((*site).to_owned(), cluster.control_plane.replicas / n + extra)
        })
        .collect()
}

fn placement(ctx: &Ctx<'_>, cluster: &Cluster) -> String {
    let spread = control_plane_spread(cluster);
    if let [(site, count)] = spread.as_slice() {
        let hosts = if site_kind(ctx.spec, site) == SiteKind::HetznerCloud {
            "on different hosts (spread placement group)"
        } else {
            "one per server"
        };
        return format!("{count} at {site}, {hosts}");
    }
    let parts: Vec<String> = spread.iter().map(|(s, n)| format!("{n} at {s}")).collect();
    let quorum = cluster.control_plane.replicas / 2 + 1;
    let safe = spread.iter().all(|(_, n)| *n < quorum);
    format!(
        "{}{}",
        parts.join(", "),
        if safe { "; no site holds a quorum" } else { "; one site holds a quorum" }
    )
}

/// Writes README.md and RUNBOOK.md.
pub(crate) fn render(ctx: &mut Ctx<'_>) {
    let readme = readme(ctx);
    let runbook = runbook(ctx);
    ctx.out.text("README.md", readme);
    ctx.out.text("RUNBOOK.md", runbook);
}

#[allow(clippy::too_many_lines)]
fn readme(ctx: &Ctx<'_>) -> String {
    let spec = ctx.spec;
    let mut s = String::new();
    let _ = writeln!(s, "# Platform `{}`\n", ctx.platform);
    if let Some(d) = &ctx.loaded.platform.metadata.description {
        let _ = writeln!(s, "{d}\n");
    }
    let _ = writeln!(
        s,
        "This repository is the whole platform as plain Kubernetes YAML and `kustomization.yaml` files:\n\
the machines (Cluster API with the Hetzner and Talos providers), every workload cluster's platform\n\
components, and every tenant's apps. {} applies it. It was rendered by Hafen from `platform.yaml`,\n\
but nothing here needs Hafen: delete Hafen and this repository still deploys with stock {}, `kubectl`,\n\
`clusterctl` and `talosctl`. No state is kept anywhere else; the repository is the truth.\n",
        engine(ctx),
        engine(ctx)
    );
    let _ = writeln!(
        s,
        "Change the platform by editing the spec and rendering again (`hafen render platform.yaml --out .`);\nCI runs `hafen render --check` so that a hand edit here and the spec cannot drift apart. Files\nHafen did not write are never changed or deleted by a render.\n"
    );
    let _ = writeln!(s, "To bring it up, follow [RUNBOOK.md](RUNBOOK.md) (day 0, then day 2).\n");

    let _ = writeln!(s, "## Layout\n");
    let _ = writeln!(s, "| Folder | What | Applied by |\n|---|---|---|");
    if crate::management::needs_management(ctx) {
        let _ = writeln!(
            s,
            "| `management/` | Cluster API objects of every workload cluster (`clusters/<cluster>/`) and the delivery entry point (`delivery/`) | {} in the management cluster |",
            engine(ctx)
        );
    }
    match spec.gitops.engine {
        GitOpsEngine::Flux => {
            let _ = writeln!(
                s,
                "| `clusters/<cluster>/` | `flux/` (source and entry point), `platform.yaml` and `tenants.yaml` (the Flux Kustomizations, ordered by `dependsOn`), `platform/` (one folder per layer, applied in this order: `network/`, `storage/`, `storage-config/`, `secret-operators/`, `secrets/`, `controllers/`, `configs/`) | Flux in that cluster |"
            );
        }
        GitOpsEngine::Argocd => {
            let _ = writeln!(
                s,
                "| `clusters/<cluster>/platform/` | plain configuration objects (`secrets/`, `configs/`); the Helm components are Argo CD Applications in `management/delivery/clusters/<cluster>.yaml` | Argo CD in the management cluster |"
            );
        }
    }
    let _ = writeln!(
        s,
        "| `tenants/<tenant>/` | `namespace/` (namespace, quota, limits, network policies, RBAC), `base/` (the apps, defined once), `overlays/<cluster>/` (only true per-cluster differences) | the cluster's {} |",
        engine(ctx)
    );
    let _ = writeln!(
        s,
        "| `bootstrap/` | files used by hand on day 0: Talos patches per bare-metal node, Cilium values for the first install, K3s configuration, the Talos image schematic | people, following the runbook |\n"
    );

    let _ = writeln!(s, "## Clusters\n");
    let _ = writeln!(
        s,
        "| Cluster | Sites | OS | Kubernetes | Machines | Control plane | MTU | Egress IPs |\n|---|---|---|---|---|---|---|---|"
    );
    for c in &spec.clusters {
        let egress = c.network.egress.as_ref().map(|e| e.ips.join(", ")).unwrap_or_default();
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
            c.name,
            c.sites().join(", "),
            version(c),
            c.kubernetes,
            pools(c),
            placement(ctx, c),
            mtu_line(ctx, c),
            if egress.is_empty() { "none".into() } else { egress }
        );
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Components\n");
    let _ = writeln!(
        s,
        "Every third-party chart is pinned to one version with explicit values. Versions marked *unverified*\nwere inferred from the chart's release line; confirm them with `helm search repo` before a rollout.\n"
    );
    let mut seen: Vec<String> = Vec::new();
    let _ = writeln!(s, "| Component | Version | Chart | Clusters |\n|---|---|---|---|");
    let mut rows: Vec<(String, String)> = Vec::new();
    for c in &spec.clusters {
        for comp in components::components(ctx.loaded, c) {
            if let Some(row) = rows.iter_mut().find(|(n, _)| *n == comp.name) {
                row.1.push_str(&format!(", `{}`", c.name));
            } else {
                rows.push((comp.name.clone(), format!("`{}`", c.name)));
            }
        }
    }
    for (name, clusters) in &rows {
        let Some(comp) = components::lookup(name) else { continue };
        if seen.contains(name) {
            continue;
        }
        seen.push(name.clone());
        let chart = comp
            .chart
            .as_ref()
            .map(|ch| format!("`{}` {} from {}", ch.name, ch.version, ch.repository))
            .or_else(|| {
                comp.git.as_ref().map(|g| format!("`{}` at {} in {}", g.path, g.tag, g.url))
            })
            .unwrap_or_else(|| "—".into());
        let verified = if comp.verified { "" } else { " (*unverified*)" };
        let _ = writeln!(
            s,
            "| {} | {}{} | {} | {} |",
            comp.display_name, comp.version, verified, chart, clusters
        );
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## External services this platform depends on\n");
    let _ = writeln!(s, "| Purpose | Host | Operator |\n|---|---|---|");
    let mut endpoints: Vec<(String, String, String)> = Vec::new();
    for c in &spec.clusters {
        for comp in components::components(ctx.loaded, c) {
            for e in comp.endpoints {
                let op = e
                    .operator
                    .as_ref()
                    .map(|o| {
                        format!(
                            "{} ({}{})",
                            o.operator,
                            o.country.clone().unwrap_or_else(|| "?".into()),
                            if o.us_parent { ", US parent" } else { "" }
                        )
                    })
                    .unwrap_or_else(|| "yours or unknown".into());
                let row = (e.purpose.clone(), e.host.clone(), op);
                if !endpoints.contains(&row) {
                    endpoints.push(row);
                }
            }
        }
    }
    endpoints.sort();
    for (purpose, host, op) in &endpoints {
        let _ = writeln!(s, "| {purpose} | `{host}` | {op} |");
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Why it looks like this\n");
    let notes = [
        "**Explicit Cluster API objects, no ClusterClass.** The clusters differ in provider, sites and machine patches; a class would move those differences into variables and patches you would have to evaluate in your head. What is here is what Cluster API reconciles. Machine template names carry a hash of their content, so any change creates a new template and Cluster API rolls the machines.",
        "**Control-plane placement.** Control-plane machines are spread over the control-plane sites by the Talos control-plane provider (least-used failure domain first) and, on Hetzner Cloud, over different hosts by a spread placement group. The control-plane MachineHealthCheck remediates one machine at a time, so remediation never costs etcd its quorum.",
        "**The maxUnhealthy guard.** Worker MachineHealthChecks stop remediating when more than the guard (`remediation.triggerIf.unhealthyLessThanOrEqualTo`, Cluster API's `maxUnhealthy`) is unhealthy at once: then the cause is the network or the provider, and creating servers during a capacity shortage makes it worse. The guard is a count computed from the pool's size (at least one machine, never more than a minority), not a percentage: Cluster API rounds percentages down, so 33% of a two-node pool would be zero and nothing would ever be remediated.",
        "**Bare-metal machines match their nodes by provider ID.** Cluster API pairs a Machine with its Node through `spec.providerID`. No cloud controller runs for the bare-metal clusters: the upstream Hetzner cloud controller needs the account-wide Robot credential, which never leaves the management cluster, and it finds a Robot server by a name that Talos nodes do not carry. Instead every bare-metal host's kubelet registers with the provider ID CAPH gives its machine, `hrobot://<server number>` (HetznerCluster annotation `capi.syself.com/use-hrobot-provider-id-for-baremetal: \"true\"`, the documented format of both CAPH and the Hetzner cloud controller). Pools whose servers are listed under `serverIds:` get one MachineDeployment per server, whose Talos config carries that host's provider ID and vSwitch address, so a machine Cluster API replaces comes up complete. The control plane has one Talos config for all members, so its per-member patches (`bootstrap/<cluster>/nodes/`) are applied by hand (RUNBOOK.md).",
        "**Credentials are references.** The account-wide Robot credential stays in the management cluster (`skipCreatingHetznerSecretInWorkloadCluster: true`); workload clusters get only a project token, delivered from the secret store. No file here contains a secret value, and `hafen render` refuses to write one.",
        "**Pod MTU.** Cilium's `MTU` value is the device MTU, not the pod MTU: Cilium itself subtracts 80 bytes for WireGuard (for IPv4 and IPv6 alike) and, in tunnel mode, 50 (IPv4) or 70 (IPv6) for the tunnel header, and gives pods the rest as their route MTU. So with `mtu: auto` Cilium gets the underlay MTU (a Hetzner vSwitch carries 1400, so pods get 1400 − 80 = 1320), and with an explicit `mtu: N` it gets N plus those allowances, so pods get exactly N. The strict IPv4 maximum (1400 − 60 = 1340 on a vSwitch) is what `hafen check` (NET001) allows for an explicit value; a pod MTU one byte above the underlay's means silent packet loss. The table above shows the arithmetic per cluster.",
        "**Egress.** All tenant namespaces (label `hafen.dev/tenant`) leave through the egress gateway nodes and their fixed addresses; platform namespaces (kube-system, the GitOps engine, monitoring and the other platform components) are excluded, so a platform restart never depends on the gateways.",
        "**Helm without hidden state.** Charts are pinned; Flux's drift detection puts back anything changed by hand and Helm keeps three revisions. Argo CD renders charts itself and keeps no Helm release at all.",
        "**Sovereign defaults.** Time from PTB (Germany), Talos discovery off unless enabled, Traefik, Grafana, Loki and Longhorn telemetry and update checks off, DNS through your own server or your provider, never a US DNS service unless the spec chooses one.",
        "**Storage keeps data.** Storage classes use `reclaimPolicy: Retain`: deleting a claim (or pruning an app) never deletes its volume.",
    ];
    for n in notes {
        let _ = writeln!(s, "- {n}");
    }
    if spec.clusters.iter().any(|c| c.network.mesh.is_some()) {
        let _ = writeln!(s, "- {}", mesh_note(ctx));
    }
    let k3s_cloud: Vec<String> = spec
        .clusters
        .iter()
        .filter(|c| k3s::cloud_plan(ctx, c).is_some())
        .map(|c| format!("`{}`", c.name))
        .collect();
    if !k3s_cloud.is_empty() {
        let _ = writeln!(
            s,
            "- **K3s on Hetzner Cloud.** {} run{} K3s with the Hetzner cloud controller instead of K3s' embedded one (`disable-cloud-controller`, kubelets with `cloud-provider=external`): provider IDs, zones, addresses and load balancers come from Hetzner. Every node joins on its address in the Cloud network, read from the metadata service at first boot, so etcd, Cilium and the load balancers' targets stay off the public addresses, which a Cloud Firewall closes except for SSH. No Cluster API provider for K3s is among the schemas this repository is validated against, so the servers are created with `hcloud server create` from the user data in `bootstrap/<cluster>/k3s/cloud-init/` (RUNBOOK.md). It installs the pinned K3s release and holds no secret: the join token is copied over SSH, because every process on a server can read its user data.",
            k3s_cloud.join(", "),
            if k3s_cloud.len() == 1 { "s" } else { "" }
        );
    }
    let default_acme: Vec<String> = spec
        .clusters
        .iter()
        .filter(|c| c.certificates.as_ref().is_some_and(|x| x.acme_server.is_none()))
        .map(|c| format!("`{}`", c.name))
        .collect();
    if !default_acme.is_empty() {
        let _ = writeln!(
            s,
            "- **Certificates from a US operator.** No ACME server is configured for {}, so certificates come from Let's Encrypt (`{}`), run by the Internet Security Research Group in the US: it sees every public name of this platform, and an outage or a US decision stops renewals. To use a European ACME CA instead, set `certificates.acmeServer` to its directory URL and render again (a CA that requires an external account binding is not expressible in the spec yet).",
            default_acme.join(", "),
            components::data().defaults.acme_server
        );
    }
    let mirrored: Vec<String> = spec
        .clusters
        .iter()
        .filter_map(|c| {
            let m = c.registry_mirror.as_ref()?;
            Some(format!(
                "`{}`: {}",
                c.name,
                components::mirrored_registries(spec, c)
                    .iter()
                    .map(|r| format!("`{}`", components::mirror_endpoint(m, r)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
        .collect();
    if !mirrored.is_empty() {
        let _ = writeln!(
            s,
            "- **Registry mirror.** Every upstream registry an image here comes from has its own path on the mirror, used as written (Talos `overridePath`; K3s takes an endpoint path as given), for example a proxy-cache project per upstream named like it: {}. Fallback to the upstream is off (Talos `skipFallback`, K3s `disable-default-registry-endpoint`): when the mirror is down, pulls fail visibly instead of quietly going to the upstream. Bare-metal Talos hosts download their raw disk image over HTTPS from the Image Factory during provisioning (a file, which a registry mirror cannot serve); to keep that off the Image Factory too, host a copy of the image and point the machine templates' `installImage.image.url` at it.",
            mirrored.join("; ")
        );
    }
    if !ctx.open_items.is_empty() {
        let _ = writeln!(s, "\n## Open items\n");
        let _ =
            writeln!(s, "The spec leaves these open; they need a decision or a step by hand:\n");
        for item in &ctx.open_items {
            let _ = writeln!(s, "- {item}");
        }
    }
    let _ = writeln!(s, "\n## Known limits\n");
    if spec
        .tenants
        .iter()
        .flat_map(|t| &t.apps)
        .any(|a| a.replicas > 1 && a.volumes.iter().any(|v| v.shared))
    {
        let _ = writeln!(
            s,
            "- Shared volumes (`shared: true`, ReadWriteMany) are served by Longhorn over NFSv4 from one share-manager pod per volume: every node needs an NFSv4 client (on Debian and Ubuntu the `nfs-common` package), and the volume is briefly unavailable while that pod moves to another node."
        );
    }
    let _ = writeln!(
        s,
        "- Bare-metal nodes on a vSwitch need their own VLAN address; a machine template is shared by a whole pool, so those addresses live in `bootstrap/<cluster>/nodes/` and are applied with `talosctl` (RUNBOOK)."
    );
    let _ = writeln!(
        s,
        "- Disk WWNs of Robot servers are not known before the first inspection: add `rootDeviceHints` with `kubectl patch` after CAPH has read the hardware (RUNBOOK)."
    );
    let _ = writeln!(
        s,
        "- Fixed egress addresses must be routed to the egress node by the provider (floating or additional IP). Bare-metal egress pools with listed servers get them in each host's machine config (the n-th listed server holds the n-th address); elsewhere, a pool's machines share one config, so the patches in `bootstrap/<cluster>/egress/` add each address to its node by hand (Hetzner Cloud floating IPs are also assigned to a server by hand)."
    );
    if spec.clusters.iter().any(|c| {
        components::has_metal(spec, c)
            && c.network.load_balancer_ips.is_empty()
            && c.sites()
                .iter()
                .any(|x| spec.site(x).is_some_and(|site| site.network.vswitch.is_some()))
    }) {
        let _ = writeln!(
            s,
            "- On vSwitch sites without `loadBalancerIPs`, MetalLB hands out the top of the VLAN subnet: private addresses. The public path to them is a Hetzner Load Balancer on a cloud network coupled to the vSwitch, or routed public addresses given as `loadBalancerIPs`."
        );
    }
    s
}

/// The day-0 setup of a cluster's own OpenBao: initialise once, unseal every raft member, check
/// the raft peers, and create the KV v2 engine, the Kubernetes auth mount, policies and roles
/// the cluster's secret stores use (mount `secret`, auth path `kubernetes-<cluster>`).
fn openbao_setup(ctx: &Ctx<'_>, c: &Cluster, store_paths: &[(String, Vec<String>)]) -> String {
    let n = &c.name;
    let mut out = format!(
        "Secrets: {} installs OpenBao (three raft members, `openbao-0..2`); they start sealed and the secret layers wait for them. With no auto-unseal (no KMS or HSM the platform trusts), every member must be unsealed by hand, now and after every restart of its pod.\n\n   ```sh\n   kubectl -n openbao exec -it openbao-0 -- bao operator init -key-shares=5 -key-threshold=3   # once: keep the 5 unseal keys and the root token offline, with different people\n   for i in 0 1 2; do for k in 1 2 3; do kubectl -n openbao exec -it openbao-$i -- bao operator unseal; done; done   # 3 keys per member; openbao-1 and -2 join the raft through retry_join\n   kubectl -n openbao exec -it openbao-0 -- bao operator raft list-peers   # three voters\n   kubectl -n openbao exec -it openbao-0 -- sh   # then, after `bao login` with the root token:\n   bao secrets enable -path=secret kv-v2\n   bao auth enable -path=kubernetes-{n} kubernetes\n   bao write auth/kubernetes-{n}/config kubernetes_host=https://kubernetes.default.svc\n",
        engine(ctx)
    );
    let tenants_here: BTreeSet<String> =
        ctx.placement.tenants_on(n).iter().map(|t| format!("tenant-{}", t.name)).collect();
    let here = format!("`{n}`");
    for (role, items) in store_paths {
        let tenant = role.strip_prefix("tenant-").map(str::to_owned);
        let mine: Vec<String> = items
            .iter()
            .filter(|i| match &tenant {
                Some(_) => tenants_here.contains(role),
                None => i.contains(&here),
            })
            .filter_map(|i| i.split('`').nth(1).map(str::to_owned))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let paths: Vec<String> = mine
            .iter()
            .map(|p| format!("path \"secret/data/{p}\" {{ capabilities = [\"read\"] }}"))
            .collect();
        let (sa, ns) = match &tenant {
            Some(t) => ("openbao".to_owned(), t.clone()),
            None => ("external-secrets".to_owned(), "external-secrets".to_owned()),
        };
        let _ = write!(
            out,
            "   printf '%s\\n' {} | bao policy write {n}-{role} -\n   bao write auth/kubernetes-{n}/role/{role} bound_service_account_names={sa} bound_service_account_namespaces={ns} policies={n}-{role} ttl=1h\n",
            paths.iter().map(|p| format!("'{p}'")).collect::<Vec<_>>().join(" "),
        );
    }
    out.push_str("   ```\n\n   Then write each value of step 1 with `bao kv put secret/<path> <property>=...` (from your workstation, never into this repository).");
    out
}

/// The README's explanation of the Cluster Mesh datapath and how the members reach each other.
fn mesh_note(ctx: &Ctx<'_>) -> String {
    let spec = ctx.spec;
    let mut out = String::from(
        "**Cluster Mesh.** Cilium needs one datapath mode across a mesh, and in native routing the network between the clusters must route every member's pod ranges. Between a Hetzner Cloud network and a bare-metal vSwitch nothing does: the cloud controller programs Cloud routes only for its own cloud servers, and the per-node pod ranges of the bare-metal cluster are handed out by Kubernetes at run time. A mesh that spans such networks therefore tunnels (VXLAN between node addresses, inside WireGuard where encryption is on), and the nodes only need to reach each other's node addresses.",
    );
    let mut couplings = Vec::new();
    for site in &spec.sites {
        if let Some(c) = crate::mesh::coupling(spec, &site.name) {
            couplings.push(format!(
                "the vSwitch (VLAN {}, {}) of `{}` is coupled to the Cloud network `{}` of `{}` (RUNBOOK), and its nodes route {} through the vSwitch gateway {}",
                c.vlan, c.vswitch_subnet, site.name, c.network, c.cloud_site, c.cloud_subnet, c.gateway
            ));
        }
    }
    if !couplings.is_empty() {
        let _ = write!(out, " Node addresses across the private link: {}.", couplings.join("; "));
    }
    let private: Vec<String> = spec
        .clusters
        .iter()
        .filter(|c| crate::mesh::private_only(ctx, c))
        .filter_map(|c| {
            crate::mesh::apiserver_private_ip(ctx, c).map(|ip| format!("`{}` at {ip}", c.name))
        })
        .collect();
    if !private.is_empty() {
        let _ = write!(
            out,
            " Every member is reached over the private link, so each Cluster Mesh API server answers on a fixed private load-balancer address and has no public one ({}); peers connect to it as `<cluster>.mesh.cilium.io`, the name in its certificate.",
            private.join(", ")
        );
    }
    out
}

/// Numbered steps whose numbers follow what this platform needs.
struct Steps(usize);

impl Steps {
    fn next(&mut self) -> usize {
        self.0 += 1;
        self.0
    }
}

/// A list that keeps each item once, in the order first pushed.
#[derive(Default)]
struct Unique {
    items: Vec<String>,
    seen: BTreeSet<String>,
}

impl Unique {
    fn push(&mut self, item: String) {
        if !self.seen.contains(&item) {
            self.seen.insert(item.clone());
            self.items.push(item);
        }
    }
}

/// The secret-store paths each OpenBao role must read, for the runbook. Computed once per
/// runbook: each cluster's steps read it, and it grows with the tenants' databases.
fn store_paths(ctx: &Ctx<'_>) -> Vec<(String, Vec<String>)> {
    let spec = ctx.spec;
    // Items in the order first seen, each once; the sets keep that check O(log n).
    let mut platform = Unique::default();
    let mut backups = Unique::default();
    let push = |v: &mut Unique, item: String| v.push(item);
    for c in spec.clusters.iter().filter(|c| c.secrets.backend == SecretsBackend::Openbao) {
        for p in &spec.providers {
            for cred in &p.credentials {
                if p.type_ == "hetzner-cloud" && cred.delivered_to.contains(&c.name) {
                    push(
                        &mut platform,
                        format!(
                            "`{}` (property `{}`) for `{}`",
                            cred.secret_ref.name,
                            cred.secret_ref.key.clone().unwrap_or_else(|| "token".into()),
                            c.name
                        ),
                    );
                }
            }
        }
        if let Some(dns) = &c.dns
            && let Some(r) = &dns.secret_ref
        {
            let props: Vec<String> = crate::platform::dns_secret_keys(dns)
                .into_iter()
                .map(|(_, p)| format!("`{p}`"))
                .collect();
            let tsig = if dns.provider == hafen_spec::DnsProvider::Rfc2136 {
                format!(
                    "; the TSIG key is named `{}` on the DNS server, for ExternalDNS and cert-manager's DNS-01 solver",
                    crate::platform::tsig_key_name(dns)
                )
            } else {
                String::new()
            };
            push(
                &mut platform,
                format!("`{}` (properties {}{tsig}) for `{}`", r.name, props.join(", "), c.name),
            );
        }
        if let Some(r) = c.backups.as_ref().and_then(|b| b.secret_ref.as_ref()) {
            push(
                &mut platform,
                format!(
                    "`{}` (properties `accessKeyId`, `secretAccessKey`) for `{}`",
                    r.name, c.name
                ),
            );
        }
    }
    if let (Some(home), Some(r)) = (crate::platform::argocd_home(ctx), &spec.gitops.secret_ref)
        && spec.cluster(&home).is_some_and(|c| c.secrets.backend == SecretsBackend::Openbao)
    {
        let props: Vec<String> = crate::platform::argocd_repo_keys(&spec.gitops.repo, r)
            .into_iter()
            .map(|(_, p)| format!("`{p}`"))
            .collect();
        push(
            &mut platform,
            format!(
                "`{}` (properties {}: Argo CD's repository credential) for `{home}`",
                r.name,
                props.join(", ")
            ),
        );
    }
    // Each tenant database has its own S3 key, limited to its own archive prefixes (one per
    // cluster that keeps or follows the database).
    // The clusters that back databases up with a key from OpenBao, found once, not per app.
    let archives: Vec<(&Cluster, &hafen_spec::Backups)> = spec
        .clusters
        .iter()
        .filter(|c| c.secrets.backend == SecretsBackend::Openbao)
        .filter_map(|c| c.backups.as_ref().filter(|b| b.secret_ref.is_some()).map(|b| (c, b)))
        .collect();
    for t in sorted_tenants(ctx) {
        for a in sorted_apps(t) {
            let Some(pg) = &a.postgres else { continue };
            let mut prefixes = Vec::new();
            let mut clusters = Vec::new();
            for &(c, b) in &archives {
                let here = t.clusters.contains(&c.name)
                    || pg.replica_cluster.as_deref() == Some(c.name.as_str());
                if !here {
                    continue;
                }
                prefixes.push(format!(
                    "`{}/cnpg/{}/{}/`",
                    b.target.trim_end_matches('/'),
                    t.name,
                    a.name
                ));
                clusters.push(format!("`{}`", c.name));
            }
            if !prefixes.is_empty() {
                push(
                    &mut backups,
                    format!(
                        "`{}` (properties `accessKeyId`, `secretAccessKey`: a key of its own that can read and write only {}) for {}",
                        tenants::db_backup_path(t, a),
                        prefixes.join(", "),
                        clusters.join(", ")
                    ),
                );
            }
        }
    }
    let mut out = vec![("external-secrets".to_owned(), platform.items)];
    if !backups.items.is_empty() {
        out.push(("backups".to_owned(), backups.items));
    }
    for t in sorted_tenants(ctx) {
        let on_openbao = t
            .clusters
            .iter()
            .filter_map(|c| spec.cluster(c))
            .any(|c| c.secrets.backend == SecretsBackend::Openbao);
        if !on_openbao {
            continue;
        }
        let mut paths = Vec::new();
        for a in sorted_apps(t) {
            for sec in &a.secrets {
                paths.push(format!(
                    "`{}`{} as `{}` of app `{}`",
                    sec.secret_ref.name,
                    sec.secret_ref
                        .key
                        .as_ref()
                        .map(|k| format!(" (property `{k}`)"))
                        .unwrap_or_default(),
                    sec.env,
                    a.name
                ));
            }
        }
        if !paths.is_empty() {
            out.push((format!("tenant-{}", t.name), paths));
        }
    }
    out
}

#[allow(clippy::too_many_lines)]
fn runbook(ctx: &Ctx<'_>) -> String {
    let spec = ctx.spec;
    let mut s = String::new();
    let data = components::data();
    let v = |name: &str| components::lookup(name).map(|c| c.version.clone()).unwrap_or_default();
    let _ = writeln!(s, "# Runbook of platform `{}`\n", ctx.platform);
    let sites: Vec<String> = spec
        .sites
        .iter()
        .map(|x| format!("`{}` ({} {})", x.name, x.provider, x.location))
        .collect();
    let clusters: Vec<String> = spec.clusters.iter().map(|c| format!("`{}`", c.name)).collect();
    let _ = writeln!(
        s,
        "Generated by Hafen from the platform spec for this topology: sites {}; clusters {}; {} tenants.\n\
It is rendered again with every change of the spec, so it always describes the platform as it is.\n\
If the platform was changed without the spec, this runbook is wrong: render, review the diff, commit.\n",
        sites.join(", "),
        clusters.join(", "),
        spec.tenants.len()
    );
    if let Some(ops) = &spec.operations {
        if let Some(d) = &ops.last_topology_change {
            let _ = writeln!(s, "Last topology change recorded in the spec: {d}.");
        }
        if let Some(d) = &ops.runbook_reviewed {
            let _ = writeln!(s, "Runbook last reviewed by a person: {d}.\n");
        }
    }
    let capi: Vec<&Cluster> =
        spec.clusters.iter().filter(|c| machines(ctx, c) == Machines::ClusterApi).collect();
    let dedicated = capi
        .iter()
        .any(|c| c.sites().iter().any(|x| site_kind(spec, x) == SiteKind::HetznerDedicated));
    let argo = spec.gitops.engine == GitOpsEngine::Argocd;
    let needs_management = !capi.is_empty() || argo;
    let self_managed = spec
        .management
        .as_ref()
        .and_then(|m| m.cluster.clone())
        .filter(|c| capi.iter().any(|x| &x.name == c));
    let mut steps = Steps(0);

    let _ = writeln!(s, "## Day 0: bootstrap\n");
    let _ = writeln!(s, "### {}. Before you start\n", steps.next());
    let mut tools = vec!["`kubectl`".to_owned(), "`helm`".to_owned()];
    if !capi.is_empty() {
        tools.push(format!("`clusterctl` {}", v("cluster-api")));
    }
    if spec.clusters.iter().any(|c| c.os == Os::Talos) {
        tools.push("`talosctl` matching the Talos versions below".into());
    }
    if spec.clusters.iter().any(|c| k3s::cloud_plan(ctx, c).is_some()) {
        tools.push("`hcloud` with a context for the Hetzner Cloud project".into());
    }
    tools.push(if argo { "`argocd`".to_owned() } else { format!("`flux` {}", v("flux")) });
    let _ = writeln!(s, "Tools: {}.", tools.join(", "));
    let paths = store_paths(ctx);
    if paths.iter().any(|(_, p)| !p.is_empty()) {
        let _ = writeln!(
            s,
            "\nSecrets this platform reads, by OpenBao role (create them first; the repository holds only these references):\n"
        );
        for (role, items) in &paths {
            if items.is_empty() {
                continue;
            }
            let _ = writeln!(s, "- role `{role}`:");
            for item in items {
                let _ = writeln!(s, "  - {item}");
            }
        }
        let _ = writeln!(s);
    }
    if spec.clusters.iter().any(|c| c.secrets.backend == SecretsBackend::Sops) {
        let _ = writeln!(
            s,
            "\nClusters with SOPS secrets read encrypted files instead; each `secrets/README.md` (under `clusters/<cluster>/platform/` and `tenants/<tenant>/`) lists the files expected there.\n"
        );
    }
    for p in &spec.providers {
        for c in &p.credentials {
            if c.scope == hafen_spec::CredentialScope::Account {
                let _ = writeln!(
                    s,
                    "\n`{}` of provider `{}` is account-wide: it goes into the management cluster only (step below), never into a workload cluster.",
                    c.name, p.name
                );
            }
        }
    }

    if needs_management {
        let mgmt_site = spec
            .management
            .as_ref()
            .map(|m| m.site.clone())
            .unwrap_or_else(|| spec.sites.first().map(|x| x.name.clone()).unwrap_or_default());
        let _ = writeln!(s, "\n### {}. Management cluster at `{mgmt_site}`\n", steps.next());
        match &self_managed {
            Some(c) => {
                let _ = writeln!(
                    s,
                    "The management cluster is `{c}` itself. Start from a temporary cluster on your workstation (`talosctl cluster create` is enough),\ninstall the providers there, let it create `{c}` (see its steps under Workload clusters), then move the Cluster API objects into `{c}`:\n"
                );
                let _ = writeln!(
                    s,
                    "```sh\nclusterctl init --core cluster-api:{} --bootstrap talos:{} --control-plane talos:{} --infrastructure hetzner:{}\nkubectl apply -k management/clusters/{c}\n# ... once {c} runs (its network and cloud controller installed):\nclusterctl init --kubeconfig {c}.kubeconfig --core cluster-api:{} --bootstrap talos:{} --control-plane talos:{} --infrastructure hetzner:{}\nclusterctl move --to-kubeconfig {c}.kubeconfig -n {c}\n```\n\nFrom then on `{c}` manages itself and the other clusters; run the delivery step on `{c}`.\n",
                    v("cluster-api"),
                    v("cabpt"),
                    v("cacppt"),
                    v("caph"),
                    v("cluster-api"),
                    v("cabpt"),
                    v("cacppt"),
                    v("caph")
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "Any small Kubernetes cluster works (three control-plane nodes if it must survive a node loss); it holds the\nCluster API state and the account-wide credentials, so run it at one of your own sites, not at a third party."
                );
                if !capi.is_empty() {
                    let _ = writeln!(
                        s,
                        "Install the providers:\n\n```sh\nclusterctl init --core cluster-api:{} --bootstrap talos:{} --control-plane talos:{} --infrastructure hetzner:{}\n```\n",
                        v("cluster-api"),
                        v("cabpt"),
                        v("cacppt"),
                        v("caph")
                    );
                } else {
                    let _ = writeln!(s);
                }
            }
        }
        if dedicated {
            let _ = writeln!(
                s,
                "Bare-metal hosts are written with `bootstrap/management/caph/{IMAGE_COMMAND}`: add it to the CAPH controller below `/shared`:\n"
            );
            let _ = writeln!(
                s,
                "```sh\nkubectl -n caph-system create configmap {IMAGE_COMMAND} --from-file=bootstrap/management/caph/{IMAGE_COMMAND}\nkubectl -n caph-system patch deployment caph-controller-manager --type=json -p '[\n  {{\"op\":\"add\",\"path\":\"/spec/template/spec/volumes/-\",\"value\":{{\"name\":\"hafen\",\"configMap\":{{\"name\":\"{IMAGE_COMMAND}\",\"defaultMode\":493}}}}}},\n  {{\"op\":\"add\",\"path\":\"/spec/template/spec/containers/0/volumeMounts/-\",\"value\":{{\"name\":\"hafen\",\"mountPath\":\"/shared/{IMAGE_COMMAND}\",\"subPath\":\"{IMAGE_COMMAND}\"}}}}]'\n```\n"
            );
        }
    }
    if !capi.is_empty() {
        let _ = writeln!(s, "### {}. Credentials in the management cluster\n", steps.next());
        let keys = if dedicated {
            "keys `hcloud`, `robot-user`, `robot-password`"
        } else {
            "key `hcloud`: the Hetzner Cloud project token"
        };
        let _ = writeln!(
            s,
            "For every Cluster API cluster, one Secret `{HETZNER_SECRET}` in the cluster's namespace ({keys}){}:\n",
            if dedicated {
                format!(
                    ", and `{ROBOT_SSH_SECRET}` with the rescue SSH key (keys `sshkey-name`, `ssh-publickey`, `ssh-privatekey`)"
                )
            } else {
                String::new()
            }
        );
        let _ = writeln!(s, "```sh");
        for c in &capi {
            let n = &c.name;
            let robot = c.sites().iter().any(|x| site_kind(spec, x) == SiteKind::HetznerDedicated);
            let _ = writeln!(s, "kubectl create namespace {n}");
            if robot {
                let _ = writeln!(
                    s,
                    "kubectl -n {n} create secret generic {HETZNER_SECRET} --from-literal=hcloud=\"$HCLOUD_TOKEN\" --from-literal=robot-user=\"$ROBOT_USER\" --from-literal=robot-password=\"$ROBOT_PASSWORD\""
                );
                let _ = writeln!(
                    s,
                    "kubectl -n {n} create secret generic {ROBOT_SSH_SECRET} --from-literal=sshkey-name=hafen-rescue --from-file=ssh-publickey=./rescue.pub --from-file=ssh-privatekey=./rescue"
                );
            } else {
                let _ = writeln!(
                    s,
                    "kubectl -n {n} create secret generic {HETZNER_SECRET} --from-literal=hcloud=\"$HCLOUD_TOKEN\""
                );
            }
        }
        let _ = writeln!(s, "```\n");
        if dedicated {
            let _ = writeln!(
                s,
                "These stay in the management cluster: the Robot credential can reinstall, rescue or cancel any server.\n"
            );
        }
    }

    if spec.clusters.iter().any(|c| c.os == Os::Talos) {
        let _ = writeln!(s, "### {}. Talos images\n", steps.next());
        let mut uploaded: Vec<String> = Vec::new();
        for c in spec.clusters.iter().filter(|c| c.os == Os::Talos) {
            let id = talos::schematic_id(c);
            let ver = talos::version(c);
            let ext = talos::extensions(c);
            let _ = writeln!(
                s,
                "- `{}`: Talos {ver}, Image Factory schematic `{id}` ({}; `bootstrap/{}/talos/schematic.yaml`).",
                c.name,
                if ext.is_empty() { "no extensions".to_owned() } else { ext.join(", ") },
                c.name
            );
            let image = talos::hcloud_image_name(c);
            if c.sites().iter().any(|x| site_kind(spec, x) == SiteKind::HetznerCloud)
                && !uploaded.contains(&image)
            {
                uploaded.push(image.clone());
                let _ = writeln!(
                    s,
                    "\n  ```sh\n  hcloud-upload-image upload --architecture x86 \\\n    --image-url {}/image/{id}/{ver}/hcloud-amd64.raw.xz \\\n    --labels caph-image-name={image}\n  ```\n",
                    data.defaults.image_factory
                );
            }
        }
        let _ = writeln!(s);
    }

    if needs_management {
        let _ = writeln!(s, "### {}. Delivery in the management cluster\n", steps.next());
        match spec.gitops.engine {
            GitOpsEngine::Flux => {
                let _ = writeln!(
                    s,
                    "```sh\nflux install --version={}\n{}kubectl apply -k management/delivery\n```\n",
                    v("flux"),
                    crate::delivery::flux_git_secret_command(ctx)
                        .map(|c| format!("{c}\n"))
                        .unwrap_or_default(),
                );
            }
            GitOpsEngine::Argocd => {
                let chart = components::lookup("argo-cd").and_then(|c| c.chart.clone());
                let repo = &spec.gitops.repo;
                let https = repo.starts_with("https://") || repo.starts_with("http://");
                let secret = crate::platform::argocd_repo_secret(ctx);
                let creds = if https {
                    "--from-literal=username=<git user> --from-literal=password=\"$GIT_TOKEN\""
                } else {
                    "--from-file=sshPrivateKey=./deploy-key"
                };
                let _ = writeln!(
                    s,
                    "```sh\nhelm install argocd argo-cd --repo {} --version {} -n argocd --create-namespace --set dex.enabled=false\nkubectl -n argocd create secret generic {secret} --from-literal=type=git --from-literal=url={repo} {creds}\nkubectl -n argocd label secret {secret} argocd.argoproj.io/secret-type=repository\nkubectl apply -k management/delivery\n```\n",
                    chart.as_ref().map(|c| c.repository.clone()).unwrap_or_default(),
                    chart.as_ref().map(|c| c.version.clone()).unwrap_or_default(),
                );
                let _ = writeln!(
                    s,
                    "The repository is reached over {}, so its credential Secret `{secret}` holds {} (a read-only {}). {}\n",
                    if https { "HTTPS" } else { "SSH" },
                    if https { "`username` and `password`" } else { "`sshPrivateKey`" },
                    if https { "access token as the password" } else { "deploy key" },
                    match (crate::platform::argocd_home(ctx), &spec.gitops.secret_ref) {
                        (Some(home), Some(r))
                            if spec
                                .cluster(&home)
                                .is_some_and(|c| c.secrets.backend == SecretsBackend::Openbao) =>
                            format!(
                                "Once External Secrets runs in `{home}`, `clusters/{home}/platform/secrets/argocd-repository.yaml` keeps it current from OpenBao (`{}`).",
                                r.name
                            ),
                        _ => "Nothing renews it: rotate it by hand.".to_owned(),
                    }
                );
                let _ = writeln!(
                    s,
                    "Argo CD must report the health of child Applications for the sync waves to order them: add the `argoproj.io/Application` health check to `argocd-cm` (`resource.customizations.health.argoproj.io_Application`).\n"
                );
                if let Some(c) = &self_managed {
                    let _ = writeln!(
                        s,
                        "Argo CD runs in `{c}`: the Applications for `{c}` target `in-cluster`, Argo CD's own name for the cluster it runs in, so `{c}` is never registered (and never renamed).\n"
                    );
                }
            }
        }
        if !capi.is_empty() {
            let _ =
                writeln!(s, "The management cluster now creates the Cluster API clusters below.\n");
        }
    }

    let _ = writeln!(s, "### {}. Workload clusters\n", steps.next());
    let mut first = true;
    for (i, c) in spec.clusters.iter().enumerate() {
        let n = &c.name;
        let mut step = Steps(0);
        let _ = writeln!(
            s,
            "#### {}. `{n}` at {}{}\n",
            i + 1,
            c.sites().join(", "),
            if first { " (first workload cluster)" } else { "" }
        );
        first = false;
        let _ = writeln!(
            s,
            "{} · Kubernetes {} · {} · {}\n",
            version(c),
            c.kubernetes,
            pools(c),
            mtu_line(ctx, c)
        );
        match machines(ctx, c) {
            Machines::ClusterApi => {
                let _ = writeln!(
                    s,
                    "{}. Wait for the machines: `kubectl -n {n} get cluster,taloscontrolplane,machinedeployment,machine`.",
                    step.next()
                );
                if c.sites().iter().any(|x| site_kind(spec, x) == SiteKind::HetznerDedicated) {
                    let listed = c.control_plane.server_ids.len()
                        + c.node_pools.iter().map(|p| p.server_ids.len()).sum::<usize>();
                    if listed == 0 {
                        let _ = writeln!(
                            s,
                            "   Register the Robot servers: one `HetznerBareMetalHost` each in namespace `{n}` with labels `hafen.dev/cluster: {n}` and `hafen.dev/pool: <pool>` (or list their numbers under `serverIds:` in the spec and render)."
                        );
                    }
                    let _ = writeln!(
                        s,
                        "   After CAPH has inspected each host, set its system disk (an NVMe disk; the rescue script writes Talos to exactly this one and refuses any other): `kubectl -n {n} patch hetznerbaremetalhost <host> --type=merge -p '{{\"spec\":{{\"rootDeviceHints\":{{\"wwn\":\"<wwn from status.hardwareDetails.storage>\"}}}}}}'`."
                    );
                    let _ = writeln!(
                        s,
                        "   Worker pools whose servers are listed under `serverIds:` need nothing by hand: each host's machine config carries its vSwitch address and provider ID. Every other bare-metal node (the control plane, whose one Talos config is shared by all members, and pools without listed servers) needs its patch as soon as it runs: `talosctl -n <public address> patch machineconfig --patch @bootstrap/{n}/nodes/<node>.patch.yaml` (one file per node; etcd and the kubelet wait for it), and, since the kubelet registered before the patch, its provider ID so Cluster API can match it: `kubectl patch node <node> --type=merge -p '{{\"spec\":{{\"providerID\":\"hrobot://<server number>\"}}}}'` (allowed once, while the field is empty)."
                    );
                }
                let _ = writeln!(
                    s,
                    "{}. Access: `clusterctl get kubeconfig {n} -n {n} > {n}.kubeconfig` and `kubectl -n {n} get secret {n}-talosconfig -o jsonpath='{{.data.talosconfig}}' | base64 -d > {n}.talosconfig`.",
                    step.next()
                );
            }
            Machines::TalosByHand => {
                let _ = writeln!(
                    s,
                    "{}. Generate and apply the machine configuration:\n   `talosctl gen config {n} https://<api address>:6443 --kubernetes-version {} --config-patch-control-plane @bootstrap/{n}/talos/controlplane.patch.yaml{}`, then `talosctl apply-config` per node and `talosctl bootstrap` once.",
                    step.next(),
                    c.kubernetes,
                    if c.node_pools.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " --config-patch-worker @bootstrap/{n}/talos/worker-<pool>.patch.yaml"
                        )
                    }
                );
            }
            Machines::K3s => match k3s::cloud_plan(ctx, c) {
                Some(plan) => k3s_cloud_day0(&mut s, &mut step, c, &plan),
                None => {
                    let host = k3s::api_host(c).unwrap_or_else(|| "<first server address>".into());
                    let _ = writeln!(
                        s,
                        "{}. Create `{host}` in DNS pointing at the servers. On the first server put a random join token in `/etc/rancher/k3s/token` (keep a copy in your secret store), copy `bootstrap/{n}/k3s/server-first.yaml` to `/etc/rancher/k3s/config.yaml`{}, and install K3s {}: `{}`.",
                        step.next(),
                        if c.registry_mirror.is_some() {
                            format!(
                                " and `bootstrap/{n}/k3s/registries.yaml` to `/etc/rancher/k3s/registries.yaml`"
                            )
                        } else {
                            String::new()
                        },
                        k3s::k3s_version(c),
                        k3s::install_command(c, true, true)
                    );
                    let _ = writeln!(
                        s,
                        "   Further servers use `server-join.yaml`{}; every node gets `chrony.sources` (time from {}).",
                        if c.node_pools.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ", agents `agent-<pool>.yaml` (`{}`)",
                                k3s::install_command(c, false, true)
                            )
                        },
                        talos::time_servers(c).join(", ")
                    );
                }
            },
        }
        for site in &spec.sites {
            if let Some(cp) = crate::mesh::coupling(spec, &site.name).filter(|cp| cp.network == n) {
                let _ = writeln!(
                    s,
                    "{}. Couple the vSwitch of `{}` (VLAN {}) to this cluster's Cloud network, so its servers and the Cloud servers reach each other privately: note the vSwitch id in Robot, then `hcloud network add-subnet {n} --type vswitch --vswitch-id <id> --network-zone eu-central --ip-range {}`. The bare-metal nodes route {} through the vSwitch gateway {} (in their machine config).",
                    step.next(),
                    site.name,
                    cp.vlan,
                    cp.vswitch_subnet,
                    cp.cloud_subnet,
                    cp.gateway
                );
            }
        }
        let _ = writeln!(
            s,
            "{}. Network first (nodes stay NotReady until the CNI runs): {}`helm install cilium cilium --repo https://helm.cilium.io --version {} -n kube-system -f bootstrap/{n}/cilium-values.yaml`.",
            step.next(),
            match &c.network.mesh {
                Some(m) => format!(
                    "create the Secret `cilium-ca` in `kube-system` with the CA shared by every cluster of mesh `{}` (id {} here; from your secret store), so their Cluster Mesh certificates trust each other, then ",
                    m.name.clone().unwrap_or_else(|| ctx.platform.to_owned()),
                    m.id
                ),
                None => String::new(),
            },
            v("cilium")
        );
        if components::has_cloud(spec, c) {
            let _ = writeln!(
                s,
                "{}. Cloud controller (removes the uninitialised taint): `kubectl -n kube-system create secret generic hcloud --from-literal=token=\"$HCLOUD_PROJECT_TOKEN\" --from-literal=network={n}`, then `helm install hcloud-cloud-controller-manager hcloud-cloud-controller-manager --repo https://charts.hetzner.cloud --version {} -n kube-system -f bootstrap/{n}/hcloud-cloud-controller-manager-values.yaml`.",
                step.next(),
                components::lookup("hcloud-ccm")
                    .and_then(|x| x.chart.clone())
                    .map(|ch| ch.version)
                    .unwrap_or_default()
            );
        }
        match c.secrets.backend {
            // The in-cluster OpenBao is installed by the delivery engine: set up after it.
            SecretsBackend::Openbao if c.secrets.address.is_none() => {}
            SecretsBackend::Openbao => {
                let addr = c.secrets.address.clone().map(|a| format!("`{a}`")).unwrap_or_default();
                let roles: Vec<String> = paths
                    .iter()
                    .filter(|(_, p)| !p.is_empty())
                    .map(|(r, _)| format!("`{r}`"))
                    .collect();
                let _ = writeln!(
                    s,
                    "{}. Secrets: in OpenBao at {addr}, enable Kubernetes auth at `kubernetes-{n}` for this cluster, with the roles {} (bound to `external-secrets/external-secrets`, and each tenant's `<tenant>/openbao` service account) reading the paths of step 1.",
                    step.next(),
                    roles.join(", ")
                );
            }
            // The age key lives in `flux-system`, which `flux install` creates: see Delivery.
            SecretsBackend::Sops => {}
        }
        match spec.gitops.engine {
            GitOpsEngine::Flux => {
                let sops = c.secrets.backend == SecretsBackend::Sops;
                let _ = writeln!(
                    s,
                    "{}. Delivery: `flux install --version={}`{}{}, then `kubectl apply -k clusters/{n}/flux`. Flux takes over the releases installed by hand (same names) and applies the platform in order: network → storage → secret operators → secrets → controllers → configuration → tenants (`flux get kustomizations` shows the progress).",
                    step.next(),
                    v("flux"),
                    crate::delivery::flux_git_secret_command(ctx)
                        .map(|c| format!(", `{c}` (the Secret the GitRepository `platform` reads)"))
                        .unwrap_or_default(),
                    if sops {
                        format!(
                            ", the age key Flux decrypts with (`flux-system` exists now): `kubectl -n flux-system create secret generic sops-age --from-file=age.agekey=./age.agekey`, and the encrypted files listed in `clusters/{n}/platform/secrets/README.md` and `tenants/<tenant>/secrets/README.md` committed"
                        )
                    } else {
                        String::new()
                    }
                );
            }
            GitOpsEngine::Argocd
                if crate::platform::argocd_home(ctx).as_deref() == Some(n.as_str()) =>
            {
                let _ = writeln!(
                    s,
                    "{}. Delivery: nothing to register, Argo CD runs here (`in-cluster`). The Applications in `management/delivery/clusters/{n}.yaml` install the platform in sync-wave order.",
                    step.next()
                );
            }
            GitOpsEngine::Argocd => {
                let _ = writeln!(
                    s,
                    "{}. Delivery: register the cluster in Argo CD under the name `{n}`: `argocd cluster add <context> --name {n}`. The Applications in `management/delivery/clusters/{n}.yaml` then install the platform in sync-wave order.",
                    step.next()
                );
            }
        }
        if c.secrets.backend == SecretsBackend::Openbao && c.secrets.address.is_none() {
            let _ = writeln!(s, "{}. {}", step.next(), openbao_setup(ctx, c, &paths));
        }
        if let Some(e) = c.network.egress.as_ref().filter(|e| !e.ips.is_empty()) {
            let pool = crate::platform::egress_pool(c).map(|p| p.name.clone()).unwrap_or_default();
            if crate::management::egress_by_cluster_api(ctx, c) {
                let holders: Vec<String> = crate::platform::egress_pool(c)
                    .map(|p| {
                        e.ips
                            .iter()
                            .zip(&p.server_ids)
                            .map(|(ip, id)| format!("{ip} on server {id}"))
                            .collect()
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{}. Egress: each egress host's machine config carries its fixed address and the label `hafen.dev/egress-ip` ({}), so Cluster API applies them, also to a replaced host. By hand only: route each address to its server at the provider (Robot: an additional IP or subnet on that server).",
                    step.next(),
                    holders.join(", ")
                );
            } else if c.os == Os::Talos {
                let _ = writeln!(
                    s,
                    "{}. Egress: route each fixed address ({}) to one node of pool `{pool}` (Hetzner floating or additional IP), then on that node `talosctl patch machineconfig --patch @bootstrap/{n}/egress/<address>.patch.yaml`; the patch adds the address and the label `hafen.dev/egress-ip` the egress policy selects.",
                    step.next(),
                    e.ips.join(", ")
                );
            } else {
                let _ = writeln!(
                    s,
                    "{}. Egress: route each fixed address ({}) to one node of pool `{pool}`, add it to that node's public interface, and label the node: `kubectl label node <node> hafen.dev/egress-ip=<address>` (the egress policy selects by this label).",
                    step.next(),
                    e.ips.join(", ")
                );
            }
        }
        let _ = writeln!(s);
    }

    let _ = writeln!(s, "## Day 2: operations\n");
    let _ = writeln!(s, "### Upgrade Kubernetes or Talos\n");
    for c in &spec.clusters {
        let _ = writeln!(s, "- `{}` runs {} and Kubernetes {}.", c.name, version(c), c.kubernetes);
    }
    let _ = writeln!(
        s,
        "\nChange `kubernetes:` (one minor version at a time) or `osVersion:` in the spec, render, review, commit.\nCluster API replaces the control plane one machine at a time (`TalosControlPlane`), then each pool's machines\n(new machine templates, `maxSurge` 1 where spare capacity exists). Watch with `kubectl -n <cluster> get machines -w`.\nOn K3s, run the K3s installer with the new `INSTALL_K3S_VERSION` server by server, then agent by agent.\nCheck the plan first (`hafen plan platform.yaml`): a rolling upgrade needs room for one node's pods.\n"
    );

    let _ = writeln!(s, "### Add a node pool\n");
    if let Some(c) = spec.clusters.first() {
        let _ = writeln!(
            s,
            "Add it to the cluster in the spec, for example to `{}`:\n\n```yaml\nnodePools:\n  - {{ name: workers-2, serverType: {}, count: 3 }}\n```\n\nRun `hafen check` and `hafen plan` (capacity, placement group limits), render and commit. {}\n",
            c.name,
            c.node_pools
                .first()
                .map_or(c.control_plane.server_type.as_str(), |p| p.server_type.as_str()),
            if machines(ctx, c) == Machines::K3s {
                format!(
                    "Then install the new agents with `bootstrap/{}/k3s/agent-workers-2.yaml` as on day 0.",
                    c.name
                )
            } else {
                format!(
                    "{} creates the machines\n(`management/clusters/{}/pool-workers-2.yaml`); on bare metal first order the servers and list them under `serverIds:`.",
                    engine(ctx),
                    c.name
                )
            }
        );
    }
    for c in spec.clusters.iter().filter(|c| k3s::cloud_plan(ctx, c).is_some()) {
        let _ = writeln!(
            s,
            "On Hetzner Cloud (`{n}`): create the pool's placement group and servers as on day 0, `hcloud placement-group create --name {n}-<pool> --type spread`, then the `for` loop of a pool with the rendered `bootstrap/{n}/k3s/cloud-init/agent-<pool>.yaml`.\n",
            n = c.name
        );
    }

    k3s_cloud_day2(ctx, &mut s);

    let _ = writeln!(s, "### Replace a failed bare-metal node\n");
    let mut any_metal = false;
    for c in &spec.clusters {
        for site in c.sites() {
            if site_kind(spec, site) != SiteKind::HetznerDedicated
                && !(c.os == Os::K3s || machines(ctx, c) == Machines::TalosByHand)
            {
                continue;
            }
            if site_kind(spec, site) == SiteKind::HetznerCloud {
                continue;
            }
            any_metal = true;
            let power_on = spec
                .site(site)
                .and_then(|x| x.remote_power_on)
                .or_else(|| spec.site_provider(site).and_then(|p| p.remote_power_on));
            let _ = writeln!(
                s,
                "- `{}` at `{site}`{}:",
                c.name,
                match power_on {
                    Some(false) =>
                        " (no remote power-on: a dead server waits for the provider's staff)",
                    _ => "",
                }
            );
            if machines(ctx, c) == Machines::ClusterApi {
                let _ = writeln!(
                    s,
                    "  1. `kubectl -n {n} get machines,hetznerbaremetalhosts` shows the failed machine; its MachineHealthCheck reboots it once through the Robot API, then replaces it, unless more than the guard is unhealthy (then find the common cause first).",
                    n = c.name
                );
                let _ = writeln!(
                    s,
                    "  2. If the hardware is dead, open a support request with the provider and take the server out: set `maintenanceMode: true` on its `HetznerBareMetalHost` (`kubectl -n {} patch hetznerbaremetalhost bm-<number> --type=merge -p '{{\"spec\":{{\"maintenanceMode\":true}}}}'`).",
                    c.name
                );
                let _ = writeln!(
                    s,
                    "  3. A spare listed in `serverIds:` is claimed automatically; otherwise order a server, replace the failed number in `serverIds:`, render, commit."
                );
                let _ = writeln!(
                    s,
                    "  4. A worker of a pool with listed servers comes up complete. A control-plane node (or a node of a pool without listed servers) needs its patch from `bootstrap/{}/nodes/` with `talosctl` (vSwitch address) and its provider ID (`kubectl patch node <node> --type=merge -p '{{\"spec\":{{\"providerID\":\"hrobot://<server number>\"}}}}'`); then check `kubectl get nodes`.",
                    c.name
                );
            } else {
                let _ = writeln!(
                    s,
                    "  Reinstall the replacement with the same files from `bootstrap/{}/` and join it; remove the dead node with `kubectl delete node`.",
                    c.name
                );
            }
        }
    }
    if !any_metal {
        let by_cluster_api = spec.clusters.iter().any(|c| machines(ctx, c) == Machines::ClusterApi);
        let _ = writeln!(
            s,
            "{}",
            if by_cluster_api {
                "This platform has no bare-metal site: failed cloud servers are replaced by their MachineHealthCheck."
            } else {
                "This platform has no bare-metal site."
            }
        );
    }
    let _ = writeln!(s);

    let own_bao: Vec<String> = spec
        .clusters
        .iter()
        .filter(|c| c.secrets.backend == SecretsBackend::Openbao && c.secrets.address.is_none())
        .map(|c| format!("`{}`", c.name))
        .collect();
    if !own_bao.is_empty() {
        let _ = writeln!(s, "### OpenBao after a restart\n");
        let _ = writeln!(
            s,
            "OpenBao in {} has no auto-unseal: a member whose pod restarts (node reboot, upgrade, eviction) comes back sealed and serves nothing until it is unsealed with three of the five keys: `kubectl -n openbao exec -it openbao-<i> -- bao operator unseal` (three times). Raft keeps serving while two of three members are unsealed; `bao operator raft list-peers` shows who is back. To stop doing this by hand, add a `seal` stanza (a transit seal on another OpenBao, or a KMS or HSM you trust) to the raft configuration and migrate the seal once (`bao operator unseal -migrate`).\n",
            own_bao.join(", ")
        );
    }
    let _ = writeln!(s, "### Restore from backup\n");
    for c in &spec.clusters {
        let Some(b) = &c.backups else {
            let _ = writeln!(s, "- `{}` has no backups configured.", c.name);
            continue;
        };
        let _ = writeln!(
            s,
            "- `{}`: Velero writes to `{}`{} on schedule `{}` (kept {}); last restore test: {}.\n  List: `velero backup get --kubeconfig {n}.kubeconfig`; restore a namespace: `velero restore create --from-backup <backup> --include-namespaces <tenant> --kubeconfig {n}.kubeconfig`.",
            c.name,
            b.target,
            b.endpoint.as_ref().map(|e| format!(" at {e}")).unwrap_or_default(),
            b.schedule,
            b.retention,
            b.last_restore_test.clone().unwrap_or_else(|| "never".into()),
            n = c.name
        );
    }
    for t in sorted_tenants(ctx) {
        for a in sorted_apps(t) {
            let Some(pg) = &a.postgres else { continue };
            let db = crate::out::name(&[&a.name, "db"]);
            let _ = writeln!(
                s,
                "- Database `{}/{db}`: restore into a new cluster with `bootstrap.recovery` from its object-store archive (`s3://…/cnpg/{}/{}`), then point the app at it.",
                t.name, t.name, a.name
            );
            if let Some(r) = &pg.replica_cluster {
                let _ = writeln!(
                    s,
                    "  Its standby on `{r}` replays the primary's archive (namespace `{}`). To fail over when the primary's city is lost: make `{r}` the primary in the spec (first in the tenant's `clusters`, the other one as `replicaCluster`), render and commit; the rendered `{db}` on `{r}` then has no `replica` section and CloudNativePG promotes it. DNS follows the Ingress.",
                    t.name
                );
            }
        }
    }
    let _ = writeln!(
        s,
        "\nTest a restore into a scratch namespace at least every {} days and record the date in the spec (`lastRestoreTest`).\n",
        spec.operations.as_ref().and_then(|o| o.restore_test_max_age_days).unwrap_or(90)
    );

    let _ = writeln!(s, "### Tenants\n");
    for t in sorted_tenants(ctx) {
        let clusters = tenants::tenant_clusters(spec, t);
        let _ = writeln!(
            s,
            "- `{}` on {}: namespace `{}`{}.",
            t.name,
            clusters.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
            t.name,
            t.group.as_ref().map(|g| format!(", group `{g}` may edit")).unwrap_or_default()
        );
    }
    let shared: Vec<(&hafen_spec::Tenant, &Cluster)> = sorted_tenants(ctx)
        .into_iter()
        .filter(|t| t.apps.iter().any(|a| !a.domains.is_empty()))
        .filter_map(|t| tenants::dns_owner(ctx, t).map(|o| (t, o)))
        .collect();
    if !shared.is_empty() {
        let _ = writeln!(s, "\n### Names of tenants served by several clusters\n");
        let _ = writeln!(
            s,
            "Every cluster runs its own ExternalDNS with its own owner id, and ExternalDNS never writes a record another owner holds. So one cluster owns each shared name (the first cluster of the tenant that manages DNS), and every cluster publishes its own name `<cluster>.<domain>` (for checks and for pointing at one cluster on purpose). The shared name follows the owner: there is no active-active answer from DNS, and failover is a decision, not an accident.\n"
        );
        for (t, owner) in &shared {
            let domains: Vec<String> =
                t.apps.iter().flat_map(|a| a.domains.iter()).map(|d| format!("`{d}`")).collect();
            let _ = writeln!(
                s,
                "- `{}`: {} published by `{}` (ExternalDNS owner `{}-{}`).",
                t.name,
                domains.join(", "),
                owner.name,
                ctx.platform,
                owner.name
            );
        }
        let _ = writeln!(
            s,
            "\nFail a shared name over to another cluster: list that cluster first in the tenant's `clusters:` and render (its ExternalDNS then claims the names); if the old owner is gone, delete its records of those names and their ExternalDNS ownership TXT records (owner `<platform>-<old cluster>`) on the DNS server with `nsupdate`, since ExternalDNS never takes over a name another owner still claims. Check with `dig +short <name>` against the DNS server.\n"
        );
    }
    s
}

/// The Hetzner Cloud part of day 0 for a K3s cluster: network, placement groups, firewall and
/// API load balancer, the join token kept outside the repository, then one `hcloud server
/// create` per server with the rendered user data, and the token copied over SSH to start K3s.
fn k3s_cloud_day0(s: &mut String, step: &mut Steps, c: &Cluster, plan: &k3s::CloudPlan) {
    let n = &c.name;
    let host = k3s::api_host(c)
        .unwrap_or_else(|| format!("<address of load balancer {}>", plan.load_balancer));
    let token = format!("{n}.k3s-token");
    let _ = writeln!(
        s,
        "{}. Hetzner Cloud resources (in the `hcloud` context of the project; `ADMIN_CIDR` is the address range you administer from):\n\n   ```sh",
        step.next()
    );
    let _ = writeln!(
        s,
        "   hcloud network create --name {} --ip-range {}",
        plan.network, plan.ip_range
    );
    let _ = writeln!(
        s,
        "   hcloud network add-subnet {} --type cloud --network-zone {} --ip-range {}",
        plan.network, plan.zone, plan.subnet
    );
    for g in &plan.placement_groups {
        let _ = writeln!(s, "   hcloud placement-group create --name {g} --type spread");
    }
    let _ = writeln!(s, "   hcloud firewall create --name {}", plan.firewall);
    let _ = writeln!(
        s,
        "   hcloud firewall add-rule {} --direction in --protocol tcp --port 22 --source-ips \"$ADMIN_CIDR\" --description ssh",
        plan.firewall
    );
    let _ = writeln!(
        s,
        "   hcloud load-balancer create --name {} --type lb11 --location {} --network {}",
        plan.load_balancer, plan.load_balancer_location, plan.network
    );
    let _ = writeln!(
        s,
        "   hcloud load-balancer add-service {} --protocol tcp --listen-port 6443 --destination-port 6443",
        plan.load_balancer
    );
    let _ = writeln!(
        s,
        "   hcloud load-balancer add-target {} --label-selector 'hafen.dev/cluster={n},hafen.dev/pool=control-plane' --use-private-ip\n   ```\n",
        plan.load_balancer
    );
    let _ = writeln!(
        s,
        "   The firewall lets nothing reach the servers' public addresses but SSH from `ADMIN_CIDR`: the nodes, etcd, Cilium (tunnel and WireGuard) and the load balancers talk over network `{}`, which Cloud Firewalls do not filter. Create `{host}` in DNS pointing at the public IPv4 of load balancer `{}` (`hcloud load-balancer describe {}`).{}",
        plan.network,
        plan.load_balancer,
        plan.load_balancer,
        if plan.unplaced.is_empty() {
            String::new()
        } else {
            format!(
                " Pool{} {} {} more servers than one spread placement group takes: {} servers share hosts.",
                if plan.unplaced.len() == 1 { "" } else { "s" },
                plan.unplaced.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
                if plan.unplaced.len() == 1 { "has" } else { "have" },
                if plan.unplaced.len() == 1 { "its" } else { "their" }
            )
        }
    );
    let _ = writeln!(
        s,
        "{}. The join token: create it once, keep it in your secret store, never in this repository: `(umask 077; openssl rand -hex 32 > {token})`. It does not go into the user data either (every process on a server, pods included, can read the user data from the metadata service); it is copied over SSH below.",
        step.next()
    );
    let _ = writeln!(
        s,
        "{}. Servers (K3s {}, image `{}`, name = node name). The user data in `bootstrap/{n}/k3s/cloud-init/` writes the K3s configuration, registry mirrors and time servers, takes the node's address in `{}` and its name from the metadata service, and installs K3s without starting it; `k3s_start` copies the token and starts it. The first server initialises the cluster; the others join through `{host}`:\n\n   ```sh",
        step.next(),
        k3s::k3s_version(c),
        plan.image,
        plan.network
    );
    let _ = writeln!(
        s,
        "   k3s_start() {{ # <server> <unit>: once SSH answers, copy the token and start K3s\n     until hcloud server ssh \"$1\" -o StrictHostKeyChecking=accept-new true; do sleep 10; done\n     hcloud server ssh \"$1\" \"cloud-init status --wait >/dev/null && umask 077 && cat > /etc/rancher/k3s/token && systemctl start $2\" < {token}\n   }}"
    );
    for g in &plan.groups {
        let create = |name: &str| {
            format!(
                "hcloud server create --name {name} --type {} --location {} --image {} --network {}{} --firewall {} --ssh-key \"$HCLOUD_SSH_KEY\" --label hafen.dev/cluster={n} --label hafen.dev/pool={} --user-data-from-file {}",
                g.server_type,
                g.location,
                plan.image,
                plan.network,
                g.placement_group
                    .as_ref()
                    .map(|p| format!(" --placement-group {p}"))
                    .unwrap_or_default(),
                plan.firewall,
                g.pool,
                g.user_data
            )
        };
        if g.server {
            for name in &g.names {
                let _ = writeln!(s, "   {}\n   k3s_start {name} {}", create(name), g.service);
            }
        } else {
            let _ = writeln!(
                s,
                "   for i in $(seq 1 {}); do\n     {}\n     k3s_start {n}-{}-$i {}\n   done",
                g.names.len(),
                create(&format!("{n}-{}-$i", g.pool)),
                g.pool,
                g.service
            );
        }
    }
    let _ = writeln!(s, "   ```\n");
    let _ = writeln!(
        s,
        "   `HCLOUD_SSH_KEY` is the name of your SSH key in the project. The lines run one after the other: etcd adds one member at a time, and every server after the first joins the running cluster.",
    );
    let first = plan.groups.first().and_then(|g| g.names.first()).cloned().unwrap_or_default();
    let _ = writeln!(
        s,
        "{}. Access: `hcloud server ssh {first} cat /etc/rancher/k3s/k3s.yaml | sed 's/127.0.0.1/{host}/' > {n}.kubeconfig` and `export KUBECONFIG=$PWD/{n}.kubeconfig` for the steps below. `kubectl get nodes` lists every node; they stay NotReady until the network runs and keep the taint `node.cloudprovider.kubernetes.io/uninitialized` until the cloud controller has set their provider IDs and addresses (next steps).",
        step.next()
    );
}

/// Day 2 for the K3s clusters on Hetzner Cloud: upgrade by hand with the pinned release, and
/// replace a server with the same name and user data.
fn k3s_cloud_day2(ctx: &Ctx<'_>, s: &mut String) {
    let clusters: Vec<(&Cluster, k3s::CloudPlan)> =
        ctx.spec.clusters.iter().filter_map(|c| k3s::cloud_plan(ctx, c).map(|p| (c, p))).collect();
    if clusters.is_empty() {
        return;
    }
    let _ = writeln!(s, "### Upgrade K3s on Hetzner Cloud\n");
    let _ = writeln!(
        s,
        "Hafen renders no system-upgrade-controller `Plan` (its custom resource is not among the schemas the rendered repository is validated against), so K3s is upgraded by hand. After the version change is rendered and committed, this runbook names the new release: run the installer with it on one server at a time, then on the agents, each drained first and back Ready before the next. The installer keeps `/etc/rancher/k3s/config.yaml`; the user data of new servers installs the same release.\n"
    );
    for (c, plan) in &clusters {
        let n = &c.name;
        let _ = writeln!(s, "`{n}` (K3s {}):\n\n```sh", k3s::k3s_version(c));
        let _ = writeln!(
            s,
            "k3s_upgrade() {{ # <node> <server|agent>\n  kubectl --kubeconfig {n}.kubeconfig drain \"$1\" --ignore-daemonsets --delete-emptydir-data\n  hcloud server ssh \"$1\" \"curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION='{}' sh -s - $2\"\n  kubectl --kubeconfig {n}.kubeconfig wait --for=condition=Ready node/\"$1\" --timeout=10m\n  kubectl --kubeconfig {n}.kubeconfig uncordon \"$1\"\n}}",
            k3s::k3s_version(c)
        );
        for g in &plan.groups {
            if g.server {
                for name in &g.names {
                    let _ = writeln!(s, "k3s_upgrade {name} server");
                }
            } else {
                let _ = writeln!(
                    s,
                    "for i in $(seq 1 {}); do k3s_upgrade {n}-{}-$i agent; done",
                    g.names.len(),
                    g.pool
                );
            }
        }
        let _ = writeln!(s, "```\n");
    }
    let _ = writeln!(s, "### Replace a K3s server on Hetzner Cloud\n");
    for (c, plan) in &clusters {
        let n = &c.name;
        let join = format!("bootstrap/{n}/k3s/cloud-init/server-join.yaml");
        let _ = writeln!(
            s,
            "- `{n}`: take one node at a time, and for a control-plane server only while the other {} are Ready (etcd keeps its quorum).",
            c.control_plane.replicas.saturating_sub(1)
        );
        let _ = writeln!(
            s,
            "  1. `kubectl --kubeconfig {n}.kubeconfig drain <node> --ignore-daemonsets --delete-emptydir-data` (skip if it is dead), then `kubectl --kubeconfig {n}.kubeconfig delete node <node>`: K3s removes a deleted server from etcd."
        );
        let _ = writeln!(s, "  2. `hcloud server delete <node>`.");
        let _ = writeln!(
            s,
            "  3. Create it again under the same name with its command from day 0 (same type, location, placement group, labels, so the API load balancer and the spread stay as they were), then `k3s_start <node> <unit>`. A control-plane server always comes back with `{join}`, also `{}`: `server-first.yaml` would initialise a second, empty cluster.",
            plan.groups.first().and_then(|g| g.names.first()).cloned().unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "  4. `kubectl --kubeconfig {n}.kubeconfig get nodes` shows it Ready again; Hetzner volumes of its pods reattach where the pods are scheduled."
        );
    }
    let _ = writeln!(s);
}
