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
    // The example tunnels (its Cluster Mesh spans a Cloud network and a vSwitch).
    let header = file(&two, "bootstrap/prod-fsn/cilium-values.yaml");
    assert!(header.contains("pod route MTU 1270"), "{header}");
    let release = file(&two, "clusters/prod-fsn/platform/network/cilium.yaml");
    assert!(release.contains("MTU: 1400\n"), "{release}");
    assert!(
        !two.values().any(|t| t.contains("MTU: 1270") || t.contains("MTU: 1290")),
        "the reduced value is passed somewhere"
    );
    let native = render(
        "native",
        &example("two-stack-hetzner").replace("routing: tunnel", "routing: native"),
    );
    assert!(file(&native, "bootstrap/prod-fsn/cilium-values.yaml").contains("pod route MTU 1320"));

    let k3s = render("k3s", &example("civil-society-k3s"));
    // VXLAN + WireGuard over a 1500 LAN: Cilium gets 1500 and gives pods 1500 − 80 − 50.
    assert_eq!(cilium_values(&k3s, "commons")["MTU"], 1500);
    assert!(file(&k3s, "bootstrap/commons/cilium-values.yaml").contains("pod route MTU 1370"));

    // An explicit pod MTU is what pods get: Cilium is given it plus its allowances.
    let fixed = example("two-stack-hetzner").replacen("mtu: auto", "mtu: 1300", 1);
    let fixed = render("fixed-mtu", &fixed);
    assert_eq!(cilium_values(&fixed, "prod-nbg")["MTU"], 1430, "1300 + 80 + 50");
}

/// The Hetzner Cloud API refuses routes outside a network's IP range, and the cloud controller
/// routes each node's pod range (hcloud-cloud-controller-manager, "deploy with networks": a
/// 10.0.0.0/8 network for the 10.244.0.0/16 cluster CIDR). So the network spans both.
#[test]
fn the_cloud_network_holds_the_pod_routes() {
    let native = example("two-stack-hetzner").replace("routing: tunnel", "routing: native");
    let two = render("two-stack", &native);
    let hc = &objects(&two, "management/clusters/prod-nbg/cluster.yaml", "HetznerCluster")[0];
    assert_eq!(hc["spec"]["hcloudNetwork"]["cidrBlock"], "10.0.0.0/8");
    assert_eq!(hc["spec"]["hcloudNetwork"]["subnetCidrBlock"], "10.0.0.0/24");
    assert_eq!(cilium_values(&two, "prod-nbg")["ipv4NativeRoutingCIDR"], "10.0.0.0/8");
    // Tunnel mode programs no pod routes: the network is the site's subnet, the route
    // controller is off.
    let tunnel = render("two-stack-tunnel", &example("two-stack-hetzner"));
    let hc = &objects(&tunnel, "management/clusters/prod-nbg/cluster.yaml", "HetznerCluster")[0];
    assert_eq!(hc["spec"]["hcloudNetwork"]["cidrBlock"], "10.0.0.0/16");
    let ccm = docs(file(&tunnel, "bootstrap/prod-nbg/hcloud-cloud-controller-manager-values.yaml"));
    assert_eq!(ccm[0]["env"]["HCLOUD_NETWORK_ROUTES_ENABLED"]["value"], "false");
    let cities = render("two-cities", &example("two-cities"));
    let hc = &objects(&cities, "management/clusters/fsn-prod/cluster.yaml", "HetznerCluster")[0];
    assert_eq!(hc["spec"]["hcloudNetwork"]["cidrBlock"], "10.0.0.0/9", "10.20/16 and 10.120/16");

    // Pods in 172.16/12 and servers in 10/8: no Hetzner network can hold both.
    let bad = example("two-cities").replace("podCIDR: 10.110.0.0/16", "podCIDR: 172.20.0.0/16");
    let (loaded, _) = support::load("bad", &bad);
    let errors = hafen_render::render(&loaded).expect_err("renders a network without pod routes");
    assert!(
        errors
            .iter()
            .any(|d| d.code == hafen_render::codes::UNSUPPORTED
                && d.message.contains("172.20.0.0/16"))
    );
}

/// CAPH pairs bare-metal Machines and Nodes by `hrobot://<server>` when the HetznerCluster has
/// `capi.syself.com/use-hrobot-provider-id-for-baremetal: "true"` (CAPH docs, bare metal); each
/// listed host gets a MachineDeployment whose Talos config holds its own VLAN address and
/// provider ID, so nothing is applied by hand to workers.
#[test]
fn bare_metal_hosts_get_their_address_and_provider_id_from_cluster_api() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let hc = &objects(&two, "management/clusters/prod-fsn/cluster.yaml", "HetznerCluster")[0];
    assert_eq!(
        hc["metadata"]["annotations"]["capi.syself.com/use-hrobot-provider-id-for-baremetal"],
        "true"
    );
    let path = "management/clusters/prod-fsn/pool-workers.yaml";
    let mds = objects(&two, path, "MachineDeployment");
    assert_eq!(mds.len(), 4, "one per Robot server");
    let configs = objects(&two, path, "TalosConfigTemplate");
    let mut addresses = Vec::new();
    for (md, config) in mds.iter().zip(&configs) {
        assert_eq!(md["spec"]["replicas"], 1);
        let host = md["metadata"]["labels"]["hafen.dev/host"].as_str().unwrap_or_default();
        let text = config["spec"]["template"]["spec"]["strategicPatches"].to_string();
        assert!(text.contains(&format!("providerID: hrobot://{host}")), "{text}");
        // The host's own address in the vSwitch subnet, whichever Talos layout carries it
        // (classic `addresses: [- 10.0.1.13/24]` or v1.12+ `- address: 10.0.1.13/24`).
        let address = text
            .match_indices("10.0.1.")
            .map(|(i, m)| {
                text[i + m.len()..].chars().take_while(char::is_ascii_digit).collect::<String>()
            })
            .find(|n| !n.is_empty() && n != "0");
        addresses.push(address.unwrap_or_default());
    }
    addresses.dedup();
    assert_eq!(addresses.len(), 4, "every host has its own vSwitch address: {addresses:?}");
    assert!(!two.keys().any(|p| p.starts_with("bootstrap/prod-fsn/nodes/workers")));
    // The control plane shares one config: its members' patches remain, by server number.
    assert!(two.contains_key("bootstrap/prod-fsn/nodes/control-plane-bm-2314001.patch.yaml"));
}

/// DNS-01 over RFC 2136 when the spec holds a TSIG key (cert-manager's rfc2136 solver needs
/// the key name written out), HTTP-01 solvers reachable from the ingress otherwise, and
/// ExternalDNS never publishes a private address into the public zone.
#[test]
fn certificates_can_be_issued_and_private_addresses_stay_out_of_public_dns() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let issuer =
        &objects(&two, "clusters/prod-fsn/platform/configs/cluster-issuer.yaml", "ClusterIssuer")
            [0];
    let rfc = &issuer["spec"]["acme"]["solvers"][0]["dns01"]["rfc2136"];
    assert_eq!(rfc["nameserver"], "ns1.example.eu:53");
    assert_eq!(rfc["tsigKeyName"], "dns-tsig");
    let es =
        objects(&two, "clusters/prod-fsn/platform/secrets/cert-manager.yaml", "ExternalSecret");
    assert_eq!(es[0]["metadata"]["namespace"], "cert-manager");
    let dns = file(&two, "clusters/prod-fsn/platform/controllers/external-dns.yaml");
    for net in ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] {
        assert!(dns.contains(&format!("--exclude-target-net={net}")), "{net}");
    }
    let k3s = render("k3s", &example("civil-society-k3s"));
    let readme = file(&k3s, "clusters/commons/platform/secrets/README.md");
    assert!(readme.contains("acme-dns-tsig"), "{readme}");

    // PowerDNS has no cert-manager solver: HTTP-01, and the solver pods admit the ingress.
    let cities = render("two-cities", &example("two-cities"));
    let issuer = &objects(
        &cities,
        "clusters/nbg-prod/platform/configs/cluster-issuer.yaml",
        "ClusterIssuer",
    )[0];
    assert!(issuer["spec"]["acme"]["solvers"][0].get("http01").is_some());
    let policies =
        objects(&cities, "tenants/buergerportal/namespace/network-policies.yaml", "NetworkPolicy");
    let solver = policies
        .iter()
        .find(|p| {
            p["spec"]["podSelector"]["matchLabels"]["acme.cert-manager.io/http01-solver"] == "true"
        })
        .expect("no policy admits the HTTP-01 solver pods");
    assert_eq!(solver["spec"]["ingress"][0]["ports"][0]["port"], 8089);
}

/// Cluster API rounds a percentage down: the guard is an absolute count, at least 1, never
/// more than a minority of the pool.
#[test]
fn machine_health_checks_can_remediate_small_pools() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let guard = |path: &str| {
        objects(&two, path, "MachineHealthCheck")[0]["spec"]["remediation"]["triggerIf"]
            ["unhealthyLessThanOrEqualTo"]
            .clone()
    };
    assert_eq!(guard("management/clusters/prod-nbg/pool-egress.yaml"), 1, "2 nodes");
    assert_eq!(guard("management/clusters/prod-nbg/pool-workers.yaml"), 2, "6 nodes");
    assert_eq!(guard("management/clusters/prod-fsn/pool-workers.yaml"), 1, "4 nodes");
    let _ = all(&two, "MachineHealthCheck");
}

/// Tenant databases never receive the platform's backup key; SOPS clusters list their files;
/// the first base backup is taken at once; `spread: node` is strict.
#[test]
fn tenant_databases_have_their_own_credentials_and_strict_spread() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    for (path, es) in all(&two, "ExternalSecret") {
        if path.starts_with("tenants/") {
            assert!(!es.to_string().contains("velero-s3"), "{path} hands a tenant the Velero key");
        }
    }
    let sched = &all(&two, "ScheduledBackup")[0].1;
    assert_eq!(sched["spec"]["immediate"], true);
    let web = objects(&two, "tenants/neos-frontend/base/web.yaml", "Deployment");
    let anti = &web[0]["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
    assert_eq!(
        anti["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"],
        "kubernetes.io/hostname"
    );
    let k3s = render("k3s", &example("civil-society-k3s"));
    assert!(file(&k3s, "tenants/files/secrets/README.md").contains("nextcloud-db-s3.sops.yaml"));
}

/// Cilium Cluster Mesh (docs "Setting up Cluster Mesh"): one datapath mode across the mesh; in
/// native routing the network must route every cluster's pod ranges and the native routing
/// CIDR must cover them all. Between a Hetzner Cloud network and a vSwitch only node addresses
/// are routed (vSwitch coupling; Hetzner "Networks architecture": dedicated servers reach the
/// Cloud subnet through the vSwitch gateway, the first address of the vSwitch subnet).
#[test]
fn cluster_mesh_across_a_cloud_network_and_a_vswitch_tunnels_over_private_addresses() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let nbg = cilium_values(&two, "prod-nbg");
    let fsn = cilium_values(&two, "prod-fsn");
    assert_eq!(nbg["routingMode"], "tunnel");
    assert_eq!(fsn["routingMode"], "tunnel");
    // Peers over the private link: fixed private load-balancer addresses, no public name.
    assert_eq!(nbg["clustermesh"]["config"]["clusters"][0]["ips"][0], "10.0.1.254");
    assert_eq!(fsn["clustermesh"]["config"]["clusters"][0]["ips"][0], "10.0.0.254");
    let nbg_lb = &nbg["clustermesh"]["apiserver"]["service"]["annotations"];
    assert_eq!(nbg_lb["load-balancer.hetzner.cloud/private-ipv4"], "10.0.0.254");
    assert_eq!(nbg_lb["load-balancer.hetzner.cloud/disable-public-network"], "true");
    assert!(nbg_lb.get("external-dns.alpha.kubernetes.io/hostname").is_none());
    let fsn_lb = &fsn["clustermesh"]["apiserver"]["service"]["annotations"];
    assert_eq!(fsn_lb["metallb.io/loadBalancerIPs"], "10.0.1.254");
    // The bare-metal nodes reach the Cloud subnet through the vSwitch gateway.
    let patch = docs(file(&two, "bootstrap/prod-fsn/nodes/control-plane-bm-2314001.patch.yaml"));
    // Talos v1.12+ writes the VLAN as a `VLANConfig` document, older Talos inside `machine`.
    let route = match patch.iter().find(|d| d["kind"] == "VLANConfig") {
        Some(vlan) => {
            (vlan["routes"][0]["destination"].clone(), vlan["routes"][0]["gateway"].clone())
        }
        None => {
            let vlan = &patch[1]["machine"]["network"]["interfaces"][0]["vlans"][0];
            (vlan["routes"][0]["network"].clone(), vlan["routes"][0]["gateway"].clone())
        }
    };
    assert_eq!(route.0, "10.0.0.0/16");
    assert_eq!(route.1, "10.0.1.1");
    let runbook = file(&two, "RUNBOOK.md");
    assert!(runbook.contains("hcloud network add-subnet prod-nbg --type vswitch"), "{runbook}");
    assert!(file(&two, "README.md").contains("**Cluster Mesh.**"));

    // Native routing across the two networks cannot carry the pods: said, not hidden; and the
    // native routing CIDR covers the peer's pod range.
    let native = render(
        "native",
        &example("two-stack-hetzner").replace("routing: tunnel", "routing: native"),
    );
    let readme = file(&native, "README.md");
    assert!(readme.contains("routes pods natively in a Cluster Mesh with `prod-nbg`"), "{readme}");
    assert_eq!(cilium_values(&native, "prod-fsn")["ipv4NativeRoutingCIDR"], "10.244.0.0/15");
}

/// Argo CD's own cluster is `in-cluster` (Argo CD declarative setup: the built-in cluster of
/// `https://kubernetes.default.svc`); a repository credential is a Secret labelled
/// `argocd.argoproj.io/secret-type: repository` with `url` and, over HTTPS, `username` and
/// `password` (an SSH key is `sshPrivateKey`, only for SSH URLs).
#[test]
fn argo_cd_targets_its_own_cluster_as_in_cluster_and_reads_the_repository_credential_by_scheme() {
    let cities = render("two-cities", &example("two-cities"));
    let root = &objects(&cities, "management/delivery/management.yaml", "Application")[0];
    assert_eq!(root["spec"]["destination"]["name"], "in-cluster");
    for (_, app) in all(&cities, "Application") {
        let dest = app["spec"]["destination"]["name"].as_str().unwrap_or_default();
        assert_ne!(dest, "nbg-prod", "the management cluster is in-cluster: {app}");
    }
    let runbook = file(&cities, "RUNBOOK.md");
    assert!(!runbook.contains("argocd cluster set"), "{runbook}");
    assert!(!runbook.contains("argocd cluster add <context> --name nbg-prod"), "{runbook}");
    assert!(!runbook.contains("--ssh-private-key-path"), "https URL with an SSH key: {runbook}");
    let es = &objects(
        &cities,
        "clusters/nbg-prod/platform/secrets/argocd-repository.yaml",
        "ExternalSecret",
    )[0];
    assert_eq!(es["metadata"]["namespace"], "argocd");
    let template = &es["spec"]["target"]["template"];
    assert_eq!(template["metadata"]["labels"]["argocd.argoproj.io/secret-type"], "repository");
    assert_eq!(template["data"]["url"], "https://git.stadtwerk.example.de/platform/stadtwerk.git");
    assert!(
        template["data"].get("password").is_some()
            && template["data"].get("sshPrivateKey").is_none()
    );

    let ssh = example("two-cities").replace(
        "repo: https://git.stadtwerk.example.de/platform/stadtwerk.git",
        "repo: ssh://git@git.stadtwerk.example.de/platform/stadtwerk.git",
    );
    let ssh = render("ssh", &ssh);
    let es = &objects(
        &ssh,
        "clusters/nbg-prod/platform/secrets/argocd-repository.yaml",
        "ExternalSecret",
    )[0];
    let data = &es["spec"]["target"]["template"]["data"];
    assert!(data.get("sshPrivateKey").is_some() && data.get("password").is_none());
}

/// Flux's GitRepository reads an SSH key from the Secret named in `spec.secretRef` (Flux source
/// controller, "SSH authentication"); `flux install` creates `flux-system`, so the SOPS age
/// key can only be created there afterwards.
#[test]
fn flux_reads_the_ssh_key_it_is_given_and_the_age_key_follows_flux_install() {
    let k3s = render("k3s", &example("civil-society-k3s"));
    let repo = &objects(&k3s, "clusters/commons/flux/sync.yaml", "GitRepository")[0];
    assert_eq!(repo["spec"]["secretRef"]["name"], "platform-git");
    let runbook = file(&k3s, "RUNBOOK.md");
    assert!(runbook.contains("flux create secret git platform-git --url=ssh://"), "{runbook}");
    let install = runbook.find("flux install").expect("flux install");
    let age = runbook.find("create secret generic sops-age").expect("age key");
    assert!(install < age, "the age key is created before flux-system exists: {runbook}");
}

/// OpenBao integrated storage: each member needs `retry_join` stanzas (or an explicit
/// `bao operator raft join`) to find the leader; with the Shamir seal every member is unsealed
/// on its own; External Secrets' vault provider reads a KV v2 mount at its `path` and logs in
/// with the Kubernetes auth method at `mountPath` with `role`.
#[test]
fn openbao_runs_a_joined_raft_and_the_runbook_sets_up_what_the_stores_use() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let release =
        &objects(&two, "clusters/prod-nbg/platform/secret-operators/openbao.yaml", "HelmRelease")
            [0];
    let values = &release["spec"]["values"]["server"]["ha"]["raft"];
    let config = values["config"].as_str().unwrap_or_default();
    for i in 0..3 {
        assert!(config.contains(&format!("http://openbao-{i}.openbao-internal:8200")), "{config}");
    }
    let store = &objects(
        &two,
        "clusters/prod-nbg/platform/secrets/cluster-secret-stores.yaml",
        "ClusterSecretStore",
    )[0];
    let vault = &store["spec"]["provider"]["vault"];
    let runbook = file(&two, "RUNBOOK.md");
    assert!(runbook.contains(&format!(
        "bao secrets enable -path={} kv-v2",
        vault["path"].as_str().unwrap_or("?")
    )));
    assert!(runbook.contains(&format!(
        "bao auth enable -path={} kubernetes",
        vault["auth"]["kubernetes"]["mountPath"].as_str().unwrap_or("?")
    )));
    assert!(runbook.contains(&format!(
        "auth/kubernetes-prod-nbg/role/{} ",
        vault["auth"]["kubernetes"]["role"].as_str().unwrap_or("?")
    )));
    assert!(runbook.contains("for i in 0 1 2"), "every member is unsealed");
    assert!(runbook.contains("### OpenBao after a restart"));
    // Sealed members are never Ready (the chart's readiness probe): Helm must not wait for
    // them, or the install times out and Flux's remediation uninstalls the release. Every
    // other release keeps Helm's wait.
    for (path, hr) in all(&two, "HelmRelease") {
        let openbao = hr["metadata"]["name"] == "openbao";
        for action in ["install", "upgrade"] {
            let no_wait = hr["spec"][action]["disableWait"] == true;
            assert_eq!(no_wait, openbao, "{path}: {action}");
        }
    }
    assert!(runbook.contains("`install.disableWait`, `upgrade.disableWait`"), "{runbook}");
}

/// Talos registry mirrors (RegistryMirrorConfig / machine.registries): `overridePath` uses an
/// endpoint's path as written, `skipFallback` stops the fallback to the upstream; K3s
/// `disable-default-registry-endpoint` does the same for containerd. Every registry an image
/// comes from is mirrored, and K3s never lists the Talos Image Factory.
#[test]
fn every_upstream_has_its_own_mirror_path_and_no_silent_fallback() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let cp =
        &objects(&two, "management/clusters/prod-nbg/control-plane.yaml", "TalosControlPlane")[0];
    // One document per strategic patch from Talos v1.12 on: look at all of them.
    let patch: String = cp["spec"]["controlPlaneConfig"]["controlplane"]["strategicPatches"]
        .as_array()
        .map(|p| p.iter().filter_map(|d| d.as_str()).collect::<Vec<_>>().join("\n---\n"))
        .unwrap_or_default();
    for registry in [
        "docker.io",
        "ghcr.io",
        "quay.io",
        "registry.k8s.io",
        "gcr.io",
        "cr.fluentbit.io",
        "factory.talos.dev",
    ] {
        assert!(
            patch.contains(&format!("https://registry.example.eu/v2/{registry}")),
            "{registry}: {patch}"
        );
    }
    assert!(patch.contains("skipFallback: true") && patch.contains("overridePath: true"));

    let k3s = render("k3s", &example("civil-society-k3s"));
    let registries = file(&k3s, "bootstrap/commons/k3s/registries.yaml");
    assert!(registries.contains("/v2/cr.fluentbit.io"), "{registries}");
    assert!(!registries.contains("factory.talos.dev"), "K3s never pulls from the Image Factory");
    assert!(
        file(&k3s, "bootstrap/commons/k3s/server-first.yaml")
            .contains("disable-default-registry-endpoint: true")
    );
    // Databases run a pinned minor version, not a moving major tag.
    assert!(!k3s.values().any(|t| t.contains("postgresql:17\n")));
}

/// Talos RawVolumeConfig (v1.11+): a partition labelled `r-<name>` on the first disk the CEL
/// selector matches; `system_disk` is the disk Talos runs from. The LINSTOR pool uses the
/// label, never a kernel disk name.
#[test]
fn the_storage_pool_is_selected_against_the_system_disk_not_by_kernel_order() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    assert!(!two.values().any(|t| t.contains("/dev/nvme1n1")));
    let storage = file(&two, "clusters/prod-fsn/platform/storage-config/storage.yaml");
    assert!(storage.contains("/dev/disk/by-partlabel/r-linstor"), "{storage}");
    let pool = file(&two, "management/clusters/prod-fsn/pool-workers.yaml");
    assert!(pool.contains("kind: RawVolumeConfig") && pool.contains("!system_disk"), "{pool}");
    let script = file(&two, "bootstrap/management/caph/image-url-command-hafen-talos");
    assert!(script.contains("mdadm --zero-superblock"), "{script}");
}

/// ExternalDNS' TXT registry: an instance never changes a record whose ownership record names
/// another owner, so two clusters with different `txtOwnerId`s cannot both publish one name.
/// With `ingress-hostname-source: annotation-only` an Ingress publishes only the names of its
/// `hostname` annotation: one owner for the shared name, a per-cluster name everywhere.
#[test]
fn a_shared_name_has_one_owner_and_every_cluster_its_own_name() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let ann = |c: &str| {
        let p = &objects(
            &two,
            &format!("tenants/neos-frontend/overlays/{c}/patches/web-dns.yaml"),
            "Ingress",
        )[0];
        p["metadata"]["annotations"]["external-dns.alpha.kubernetes.io/hostname"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        ann("prod-nbg"),
        "www.example.eu,prod-nbg.www.example.eu",
        "the first cluster owns the name"
    );
    assert_eq!(ann("prod-fsn"), "prod-fsn.www.example.eu");
    assert!(file(&two, "RUNBOOK.md").contains("Fail a shared name over"));
}

/// Replicas sharing files need one ReadWriteMany claim (Kubernetes access modes; Longhorn
/// serves RWX over NFS); a storage without RWX cannot, which is a located error. A port below
/// 1024 needs NET_BIND_SERVICE once all capabilities are dropped (capabilities(7)), and a
/// non-root process the pod's `net.ipv4.ip_unprivileged_port_start` (a safe sysctl).
#[test]
fn shared_files_get_one_shared_volume_and_low_ports_can_be_bound() {
    let k3s = render("k3s", &example("civil-society-k3s"));
    let base = "tenants/files/base/nextcloud.yaml";
    assert!(objects(&k3s, base, "StatefulSet").is_empty());
    let claim = &objects(&k3s, base, "PersistentVolumeClaim")[0];
    assert_eq!(claim["spec"]["accessModes"][0], "ReadWriteMany");
    let deploy = &objects(&k3s, base, "Deployment")[0];
    let pod = &deploy["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "nextcloud-data");
    assert_eq!(
        pod["containers"][0]["securityContext"]["capabilities"]["add"][0],
        "NET_BIND_SERVICE"
    );
    assert_eq!(pod["securityContext"]["sysctls"][0]["name"], "net.ipv4.ip_unprivileged_port_start");

    let local = example("civil-society-k3s")
        .replace("storage: { default: longhorn, replicas: 3 }", "storage: { default: local-path }");
    let (loaded, _) = support::load("local", &local);
    let errors = hafen_render::render(&loaded).expect_err("two writers on single-writer volumes");
    assert!(errors.iter().any(|d| d.code == hafen_render::codes::UNSUPPORTED
                && d.message.contains("ReadWriteMany")
                // The driver as the spec spells it, not a lowercased Rust name (`localpath`).
                && d.message.contains("(local-path)")));
}

/// Cilium's egress gateway selects the gateway node by label and needs the address on its
/// interface; in a per-host bare-metal pool that is part of the host's Talos config, so Cluster
/// API applies it (and to any replacement), and no hand-applied patch is rendered for it.
#[test]
fn egress_addresses_of_listed_bare_metal_hosts_come_with_their_machine_config() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let pool = file(&two, "management/clusters/prod-fsn/pool-egress.yaml");
    assert!(
        pool.contains("203.0.113.20/32") && pool.contains("hafen.dev/egress-ip: \"203.0.113.21\""),
        "{pool}"
    );
    assert!(!two.keys().any(|p| p.starts_with("bootstrap/prod-fsn/egress/")));
    // Cloud pools share one config per pool: their patches stay, applied by hand.
    assert!(two.contains_key("bootstrap/prod-nbg/egress/203-0-113-10.patch.yaml"));
}

fn k3s_on_cloud() -> String {
    std::fs::read_to_string(
        support::root().join("tests/cases/render-k3s-hetzner-cloud/platform.yaml"),
    )
    .unwrap_or_else(|e| panic!("tests/cases/render-k3s-hetzner-cloud: {e}"))
}

/// K3s with an external cloud controller: `--disable-cloud-controller` on every server and
/// `--kubelet-arg=cloud-provider=external` (docs.k3s.io, "Deploying an External Cloud
/// Controller Manager"; hcloud-cloud-controller-manager quickstart: kubelets with
/// `--cloud-provider=external`); a custom CNI needs `--flannel-backend=none` and
/// `--disable-network-policy` (docs.k3s.io, "Custom CNI"). The node IP comes from the Hetzner
/// metadata service's `private-networks` list, the per-node drop-in from
/// `config.yaml.d/*.yaml` (docs.k3s.io, "Configuration File").
#[test]
fn k3s_on_hetzner_cloud_runs_the_external_cloud_controller_on_the_private_network() {
    let files = render("k3s-cloud", &k3s_on_cloud());
    let first = &docs(file(&files, "bootstrap/commons/k3s/server-first.yaml"))[0];
    assert_eq!(first["disable-cloud-controller"], true);
    assert_eq!(first["kubelet-arg"], serde_json::json!(["cloud-provider=external"]));
    assert_eq!(first["flannel-backend"], "none");
    assert_eq!(first["disable-network-policy"], true);
    assert_eq!(first["disable-kube-proxy"], true, "Cilium replaces kube-proxy");
    assert_eq!(first["cluster-init"], true);
    assert!(first.get("flannel-iface").is_none(), "flannel is off");
    assert!(first.get("token").is_none(), "only the token file is named");
    let join = &docs(file(&files, "bootstrap/commons/k3s/server-join.yaml"))[0];
    assert_eq!(join["disable-cloud-controller"], true, "a critical value on every server");
    assert_eq!(join["server"], "https://api.commons.commons.example.org:6443");
    let agent = &docs(file(&files, "bootstrap/commons/k3s/agent-apps.yaml"))[0];
    assert_eq!(agent["kubelet-arg"], serde_json::json!(["cloud-provider=external"]));
    assert!(agent.get("disable-cloud-controller").is_none(), "a server flag");

    // Cilium matches: no flannel, kube-proxy replaced through the API name, the Cloud
    // network's MTU.
    let cilium = cilium_values(&files, "commons");
    assert_eq!(cilium["kubeProxyReplacement"], true);
    assert_eq!(cilium["k8sServiceHost"], "api.commons.commons.example.org");
    assert_eq!(cilium["MTU"], 1450);

    // The same cloud controller and CSI driver as for Talos on Hetzner Cloud.
    let ccm = &objects(
        &files,
        "clusters/commons/platform/network/hcloud-cloud-controller-manager.yaml",
        "HelmRelease",
    )[0];
    assert_eq!(ccm["spec"]["values"]["networking"]["enabled"], true);
    assert_eq!(ccm["spec"]["values"]["networking"]["clusterCIDR"], "10.42.0.0/16");
    let csi =
        &objects(&files, "clusters/commons/platform/storage/hcloud-csi.yaml", "HelmRelease")[0];
    assert_eq!(csi["spec"]["values"]["storageClasses"][0]["defaultStorageClass"], true);

    // The user data installs exactly the rendered configuration, with the pinned release, and
    // takes the node's own address from the metadata service; K3s waits for the token.
    for (stem, role) in
        [("server-first", "server"), ("server-join", "server"), ("agent-apps", "agent")]
    {
        let text = file(&files, &format!("bootstrap/commons/k3s/cloud-init/{stem}.yaml"));
        assert!(text.starts_with("#cloud-config\n"), "{stem}");
        let ud = &docs(text)[0];
        let config = ud["write_files"]
            .as_array()
            .and_then(|f| f.iter().find(|f| f["path"] == "/etc/rancher/k3s/config.yaml"))
            .unwrap_or_else(|| panic!("{stem}: no config.yaml"));
        assert_eq!(
            config["content"].as_str(),
            Some(file(&files, &format!("bootstrap/commons/k3s/{stem}.yaml"))),
            "{stem}"
        );
        let runcmd: Vec<&str> =
            ud["runcmd"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        assert!(runcmd.iter().any(|c| c.contains("169.254.169.254/hetzner/v1/metadata")
            && c.contains("/private-networks")
            && c.contains("/etc/rancher/k3s/config.yaml.d/10-node.yaml")
            && c.contains("node-ip: ")));
        assert!(
            runcmd.contains(&format!("curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION='v1.36.1+k3s1' INSTALL_K3S_SKIP_START=true sh -s - {role}").as_str()),
            "{stem}: {runcmd:?}"
        );
        assert!(!text.contains("K3S_TOKEN"), "{stem}: no token in the user data");
    }

    // Day 0 creates the servers with hcloud; day 2 upgrades with the pinned release and
    // replaces a server with the join configuration.
    let runbook = file(&files, "RUNBOOK.md");
    for line in [
        "hcloud network create --name commons --ip-range 10.0.0.0/16",
        "hcloud network add-subnet commons --type cloud --network-zone eu-central --ip-range 10.0.0.0/24",
        "hcloud placement-group create --name commons-control-plane --type spread",
        "hcloud load-balancer add-target commons-api --label-selector 'hafen.dev/cluster=commons,hafen.dev/pool=control-plane' --use-private-ip",
        "hcloud server create --name commons-control-plane-1 --type cpx32 --location nbg1 --image ubuntu-24.04 --network commons --placement-group commons-control-plane --firewall commons-nodes",
        "--user-data-from-file bootstrap/commons/k3s/cloud-init/server-first.yaml",
        "hcloud server create --name commons-apps-$i --type ccx23 --location nbg1",
        "k3s_start commons-apps-$i k3s-agent",
        "INSTALL_K3S_VERSION='v1.36.1+k3s1' sh -s - $2",
        "k3s_upgrade commons-control-plane-2 server",
        "`server-first.yaml` would initialise a second, empty cluster",
    ] {
        assert!(runbook.contains(line), "RUNBOOK.md lacks `{line}`");
    }
    assert!(!runbook.contains("replaced by their MachineHealthCheck"), "K3s has none");
}

/// The Hetzner Cloud API refuses a route outside the network's range; in native routing the
/// cloud controller routes pod ranges, so the network the runbook creates spans them.
#[test]
fn k3s_on_hetzner_cloud_in_native_routing_gets_pod_routes_in_its_network() {
    let native = k3s_on_cloud().replace("routing: tunnel", "routing: native");
    let files = render("k3s-native", &native);
    let runbook = file(&files, "RUNBOOK.md");
    assert!(
        runbook.contains("hcloud network create --name commons --ip-range 10.0.0.0/10"),
        "{runbook}"
    );
    let ccm = docs(file(&files, "bootstrap/commons/hcloud-cloud-controller-manager-values.yaml"));
    assert_eq!(ccm[0]["env"]["HCLOUD_NETWORK_ROUTES_ENABLED"]["value"], "true");
    assert_eq!(cilium_values(&files, "commons")["routingMode"], "native");
}

/// The Hetzner cloud controller initialises only Cloud servers, and a K3s node joins on its
/// private address: a K3s cluster half on Cloud, or on Cloud without a network, is refused.
#[test]
fn k3s_on_hetzner_cloud_needs_every_node_there_and_a_network() {
    let no_network =
        k3s_on_cloud().replace("        privateNetwork: { subnet: 10.0.0.0/16 }\n", "");
    let (loaded, _) = support::load("k3s-no-network", &no_network);
    let errors = hafen_render::render(&loaded).expect_err("no private network");
    assert!(
        errors.iter().any(|d| d.code == hafen_render::codes::MISSING
            && d.message.contains("without a Cloud network"))
    );

    let mixed = example("civil-society-k3s").replace(
        "      storage: { default: longhorn, replicas: 3 }",
        "      nodePools:\n        - { name: cloud, serverType: cpx32, count: 2, site: nbg }\n      storage: { default: longhorn, replicas: 3 }",
    )
    .replace(
        "    - name: fsn1-backup\n",
        "    - { name: nbg, provider: hcloud, location: nbg1, network: { privateNetwork: { subnet: 10.0.0.0/16 } } }\n    - name: fsn1-backup\n",
    )
    .replace("    - name: storagebox\n", "    - { name: hcloud, type: hetzner-cloud }\n    - name: storagebox\n");
    let (loaded, _) = support::load("k3s-mixed", &mixed);
    let errors = hafen_render::render(&loaded).expect_err("mixed cluster");
    assert!(
        errors.iter().any(|d| d.code == hafen_render::codes::UNSUPPORTED
            && d.message.contains("uninitialised taint")),
        "{:?}",
        errors.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

/// Talos `machine.install.diskSelector` (v1alpha1 InstallDiskSelector: `type` one of ssd, hdd,
/// nvme, sd) instead of a kernel device name; Talos upgrades write to the disk it booted from
/// (machined's upgrade task takes the system disk), and CAPH passes the image command the root
/// devices it resolved from `rootDeviceHints` as its fourth argument (CAPH docs,
/// "image-url-command").
#[test]
fn bare_metal_talos_selects_its_system_disk_by_type_and_the_rescue_script_by_wwn() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    assert!(!two.values().any(|t| t.contains("/dev/nvme0n1")), "no kernel disk names");
    let cp =
        &objects(&two, "management/clusters/prod-fsn/control-plane.yaml", "TalosControlPlane")[0];
    let patch = cp["spec"]["controlPlaneConfig"]["controlplane"]["strategicPatches"][0]
        .as_str()
        .unwrap_or_default();
    let install = &docs(patch)[0]["machine"]["install"];
    assert_eq!(install["diskSelector"]["type"], "nvme", "{patch}");
    assert!(install.get("disk").is_none(), "{patch}");
    // Cloud servers have one disk.
    let cloud =
        &objects(&two, "management/clusters/prod-nbg/control-plane.yaml", "TalosControlPlane")[0];
    let patch = cloud["spec"]["controlPlaneConfig"]["controlplane"]["strategicPatches"][0]
        .as_str()
        .unwrap_or_default();
    assert_eq!(docs(patch)[0]["machine"]["install"]["disk"], "/dev/sda");
    // Talos before v1.12 reads the same field in its classic layout.
    let classic = render(
        "two-stack-v1.11",
        &example("two-stack-hetzner").replace("osVersion: v1.13.9", "osVersion: v1.11.5"),
    );
    assert!(!classic.values().any(|t| t.contains("/dev/nvme0n1")));
    assert!(classic.values().any(|t| t.contains("diskSelector:\n") && t.contains("type: nvme")));
    let script = file(&two, "bootstrap/management/caph/image-url-command-hafen-talos");
    assert!(script.contains("set -- ${4:-}") && script.contains("disk=\"/dev/$1\""), "{script}");
    assert!(script.contains("lsblk -dno TRAN"), "{script}");
}

/// CAPH's image-url-command (docs `image-url-command`): the command is called with the image
/// URL, `/root/bootstrap.data` (the machine's bootstrap data, here the Talos config CABPT or
/// CACPPT generated), the machine name and the root devices; its name is a basename below
/// `/shared` (older releases: matching `^image-url-command-[a-z0-9][a-z0-9._-]*$`), and the
/// webhook rejects a non-empty `image.name` or `image.path` next to `imageURLCommand`. Talos'
/// metal platform reads its config at first boot from a volume labelled `metal-iso` (file
/// `config.yaml`) when booted with `talos.config=metal-iso` (siderolabs/talos
/// `platform/metal/metal.go`); the Image Factory bakes a schematic's `extraKernelArgs` into the
/// image.
#[test]
fn bare_metal_hosts_boot_with_the_machine_config_caph_hands_the_rescue_script() {
    let two = render("two-stack", &example("two-stack-hetzner"));
    let name = "image-url-command-hafen-talos";
    let script = file(&two, &format!("bootstrap/management/caph/{name}"));
    assert!(script.contains("config=\"$2\""), "{script}");
    assert!(script.contains("name=metal-iso") && script.contains("mkfs.ext4 -F -q -L metal-iso"));
    assert!(script.contains("\"$config\" \"$mnt/config.yaml\""), "{script}");
    // The config partition is added after the image is written, and the script still ends with
    // CAPH's success marker.
    let dd = script.find("dd of=").unwrap_or(usize::MAX);
    assert!(dd < script.find("sfdisk --append").unwrap_or(0), "{script}");
    assert!(script.trim_end().ends_with("echo IMAGE_URL_DONE"));
    let valid = |n: &str| {
        n.strip_prefix("image-url-command-").is_some_and(|rest| {
            rest.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && rest.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
        })
    };
    assert!(valid(name));
    let mut templates = 0;
    for (path, t) in all(&two, "HetznerBareMetalMachineTemplate") {
        templates += 1;
        let image = &t["spec"]["template"]["spec"]["installImage"];
        assert_eq!(image["imageURLCommand"], name, "{path}");
        assert!(image["image"].get("name").is_none() && image["image"].get("path").is_none());
        let url = image["image"]["url"].as_str().unwrap_or_default();
        // The image is built from the cluster's schematic, which carries the kernel argument.
        let schematic = file(&two, "bootstrap/prod-fsn/talos/schematic.yaml");
        assert!(schematic.contains("extraKernelArgs:\n        - talos.config=metal-iso\n"));
        let id = url.split('/').nth(4).unwrap_or_default();
        assert_eq!(id, sha256(schematic), "{url}");
    }
    assert!(templates >= 3, "control plane and both bare-metal pools");
    // A cloud-only cluster boots from its provider's metadata: no kernel argument.
    let cloud = file(&two, "bootstrap/prod-nbg/talos/schematic.yaml");
    assert!(!cloud.contains("talos.config"), "{cloud}");
}

fn sha256(text: &str) -> String {
    hafen_digest::sha256_hex(text.as_bytes())
}

/// External Secrets: a `SecretStore` serves only its own namespace, a `ClusterSecretStore`
/// every namespace its `conditions` select; OpenBao's Kubernetes auth logs a store in with the
/// role bound to its service account and namespace, and the role's policy decides what it can
/// read. Tenant groups hold ClusterRole `edit` in their namespace and so can write any
/// ExternalSecret there: each tenant must have a store of its own whose role reads only
/// `tenants/<tenant>/*`, and no cluster-wide store may be usable from a tenant namespace.
#[test]
fn a_tenant_reads_only_its_own_subtree_through_a_store_of_its_own() {
    let mut checked = 0;
    for case in support::cases() {
        let (loaded, _) = support::load(&case.name, &case.text);
        let Ok(repo) = hafen_render::render(&loaded) else { continue };
        let files = repo.files;
        let tenants: Vec<String> =
            loaded.platform.spec.tenants.iter().map(|t| t.name.clone()).collect();
        for (path, store) in all(&files, "ClusterSecretStore") {
            for condition in store["spec"]["conditions"].as_array().into_iter().flatten() {
                assert!(condition.get("namespaceSelector").is_none(), "{path}: {condition}");
                for ns in condition["namespaces"].as_array().into_iter().flatten() {
                    let ns = ns.as_str().unwrap_or_default();
                    assert!(!tenants.iter().any(|t| t == ns), "{path}: serves tenant {ns}");
                }
            }
        }
        for (path, es) in all(&files, "ExternalSecret") {
            let Some(t) = path.strip_prefix("tenants/").and_then(|p| p.split('/').next()) else {
                continue;
            };
            checked += 1;
            assert_eq!(es["spec"]["secretStoreRef"]["kind"], "SecretStore", "{path}");
            for d in es["spec"]["data"].as_array().into_iter().flatten() {
                let key = d["remoteRef"]["key"].as_str().unwrap_or_default();
                assert!(key.starts_with(&format!("tenants/{t}/")), "{path}: {key}");
            }
            // The store sits in the same overlay (or the base reaches it through every overlay
            // of a cluster with OpenBao).
            let dirs: Vec<String> = if path.contains("/overlays/") {
                vec![path.rsplit_once('/').map(|(d, _)| d.to_owned()).unwrap_or_default()]
            } else {
                files
                    .keys()
                    .filter(|p| p.starts_with(&format!("tenants/{t}/overlays/")))
                    .filter(|p| p.ends_with("/kustomization.yaml"))
                    .filter(|p| !files[*p].contains("no-external-secret"))
                    .filter(|p| files[*p].contains("../../base"))
                    .map(|p| p.trim_end_matches("/kustomization.yaml").to_owned())
                    .collect()
            };
            assert!(!dirs.is_empty(), "{path}");
            for dir in dirs {
                let store = objects(&files, &format!("{dir}/secret-store.yaml"), "SecretStore");
                let auth = &store[0]["spec"]["provider"]["vault"]["auth"]["kubernetes"];
                assert_eq!(store[0]["metadata"]["namespace"].as_str(), Some(t), "{dir}");
                assert_eq!(auth["role"], format!("tenant-{t}"), "{dir}");
                assert_eq!(auth["serviceAccountRef"]["name"], "openbao", "{dir}");
                assert!(auth["serviceAccountRef"].get("namespace").is_none(), "{dir}");
            }
        }
        // The runbook's policy of each tenant role reads the tenant's subtree and nothing else.
        let runbook = file(&files, "RUNBOOK.md");
        for line in runbook.lines().filter(|l| l.contains("| bao policy write")) {
            let Some(role) = line.rsplit_once("bao policy write ").map(|(_, r)| r) else {
                continue;
            };
            if let Some(t) = tenants.iter().find(|t| role.ends_with(&format!("-tenant-{t} -"))) {
                let paths: Vec<&str> = line.split("path \"").skip(1).collect();
                assert_eq!(paths.len(), 1, "{line}");
                assert!(paths[0].starts_with(&format!("secret/data/tenants/{t}/*\"")), "{line}");
            }
        }
        assert!(!runbook.contains("openbao-backups") && !runbook.contains("role `backups`"));
    }
    assert!(checked >= 6, "only {checked} tenant ExternalSecrets checked");
}

/// Every path under `bootstrap/` the README or RUNBOOK tells a person to use is rendered (up to
/// its first placeholder), and a spare Robot server of a pool rendered one MachineDeployment per
/// server is put into service through the spec: its MachineDeployment has replicas 0, each
/// selects exactly its own host (CAPH's remediation only reboots and then lets Cluster API
/// delete the Machine; the replacement selects the same host), and a hand-scaled replica count
/// is reverted by the delivery engine.
#[test]
fn the_runbook_names_only_rendered_files_and_spares_enter_service_through_the_spec() {
    for case in support::cases() {
        let (loaded, _) = support::load(&case.name, &case.text);
        let Ok(repo) = hafen_render::render(&loaded) else { continue };
        let files = repo.files;
        for doc in ["RUNBOOK.md", "README.md"] {
            let text = file(&files, doc);
            for (at, _) in text.match_indices("bootstrap/") {
                let rest = &text[at..];
                let end = rest.find(|c: char| c == '`' || c == '<' || c.is_whitespace());
                let path = rest[..end.unwrap_or(rest.len())].trim_end_matches(['.', ',', ')']);
                // `bootstrap/<cluster>/…` is a pattern; `workers-2` is the pool the "Add a node
                // pool" example adds, rendered once it is in the spec.
                if path == "bootstrap/" || path.contains("workers-2") {
                    continue;
                }
                assert!(
                    files.keys().any(|k| k.starts_with(path)),
                    "{}: {doc} names `{path}`, which is not rendered",
                    case.name
                );
            }
        }
    }
    let spread = std::fs::read_to_string(
        support::root().join("tests/cases/render-cloud-spread-argocd/platform.yaml"),
    )
    .unwrap_or_default();
    let files = render("spread", &spread);
    let mds = objects(&files, "management/clusters/core/pool-metal.yaml", "MachineDeployment");
    let replicas: Vec<u64> =
        mds.iter().map(|m| m["spec"]["replicas"].as_u64().unwrap_or(9)).collect();
    assert_eq!(replicas, [1, 1, 0], "two run, the spare waits");
    for md in &mds {
        assert!(md["spec"]["selector"]["matchLabels"]["hafen.dev/host"].is_string(), "{md}");
    }
    let runbook = file(&files, "RUNBOOK.md");
    assert!(!runbook.contains("claimed automatically"), "{runbook}");
    assert!(runbook.contains("move the failed number behind the 1 spare in `serverIds:`"));
    assert!(runbook.contains("the delivery engine puts the repository's replicas back"));
    assert!(!runbook.contains("bootstrap/core/nodes/"), "no node patches are rendered for core");
}

/// An IPv4 range `a.b.c.d/n` as its first and last address; an address with host bits (a
/// node's `10.0.1.13/24`) is that one address.
fn v4_range(text: &str) -> Option<(u32, u32)> {
    let (addr, prefix) = text.split_once('/').unwrap_or((text, "32"));
    let addr: std::net::Ipv4Addr = addr.trim_matches('"').parse().ok()?;
    let prefix: u32 = prefix.trim_matches('"').parse().ok().filter(|p| *p <= 32)?;
    let bits = u32::from(addr);
    let host = if prefix == 32 { 0 } else { u32::MAX >> prefix };
    if bits & host == 0 { Some((bits, bits | host)) } else { Some((bits, bits)) }
}

/// RFC 1918: the ranges no public address is in.
fn is_private(range: (u32, u32)) -> bool {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
        .iter()
        .filter_map(|b| v4_range(b))
        .any(|(lo, hi)| lo <= range.0 && range.1 <= hi)
}

/// Cilium's egress gateway sends every packet of a selected pod to a `destinationCIDRs` address
/// through a gateway node, where it leaves with the egress address, unless the destination is
/// in `excludedCIDRs` (Cilium docs, "Egress Gateway"). A private destination sent there never
/// arrives: the cluster's pod and service ranges, every private address and route destination
/// in its machine configs (the node subnets, the Cloud subnet a vSwitch reaches through its
/// gateway), the Cloud network of its Hetzner cluster and its Cluster Mesh peers' pods must be
/// excluded. The list is private only and names no range twice or inside another.
#[test]
fn private_destinations_stay_off_the_egress_gateways() {
    let mut variants: Vec<(String, String)> =
        support::cases().into_iter().map(|c| (c.name, c.text)).collect();
    for name in ["two-stack-hetzner", "two-cities"] {
        let native = example(name).replace("routing: tunnel", "routing: native");
        variants.push((format!("{name}-native"), native));
    }
    let mut policies = 0;
    for (name, text) in &variants {
        let (loaded, _) = support::load(name, text);
        let Ok(repo) = hafen_render::render(&loaded) else { continue };
        let files = repo.files;
        for cluster in &loaded.platform.spec.clusters {
            let c = cluster.name.as_str();
            let path = format!("clusters/{c}/platform/configs/egress-gateway.yaml");
            let Some(policy) = files.get(&path).and_then(|t| {
                docs(t).into_iter().find(|d| d["kind"] == "CiliumEgressGatewayPolicy")
            }) else {
                continue;
            };
            policies += 1;
            let listed: Vec<String> = policy["spec"]["excludedCIDRs"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let ranges: Vec<(u32, u32)> = listed.iter().filter_map(|r| v4_range(r)).collect();
            assert_eq!(ranges.len(), listed.len(), "{name}/{c}: {listed:?}");
            for (i, r) in ranges.iter().enumerate() {
                assert!(is_private(*r), "{name}/{c}: {} is not private", listed[i]);
                let covered = ranges
                    .iter()
                    .enumerate()
                    .any(|(j, o)| j != i && o.0 <= r.0 && r.1 <= o.1 && (o != r || j < i));
                assert!(!covered, "{name}/{c}: {} is listed twice or inside another", listed[i]);
            }

            let mut wanted: Vec<(String, String)> = vec![
                ("pod range".into(), cluster.network.pod_cidr.clone()),
                ("service range".into(), cluster.network.service_cidr.clone()),
            ];
            let cilium = cilium_values(&files, c);
            for peer in cilium["clustermesh"]["config"]["clusters"].as_array().into_iter().flatten()
            {
                let peer = peer["name"].as_str().unwrap_or_default();
                let spec = loaded.platform.spec.clusters.iter().find(|x| x.name == peer);
                let spec = spec.unwrap_or_else(|| panic!("{name}/{c}: mesh peer {peer}"));
                wanted.push((format!("pods of mesh peer {peer}"), spec.network.pod_cidr.clone()));
            }
            for (file, text) in &files {
                if !(file.starts_with(&format!("management/clusters/{c}/"))
                    || file.starts_with(&format!("bootstrap/{c}/")))
                {
                    continue;
                }
                for line in text.lines() {
                    let line = line.trim().trim_start_matches("- ");
                    for key in ["address: ", "destination: ", "network: ", "cidrBlock: "] {
                        if let Some(value) = line.strip_prefix(key) {
                            wanted.push((format!("`{line}` in {file}"), value.to_string()));
                        }
                    }
                }
            }
            for (what, value) in wanted {
                let Some(r) = v4_range(&value) else { continue };
                if !is_private(r) {
                    continue;
                }
                assert!(
                    ranges.iter().any(|o| o.0 <= r.0 && r.1 <= o.1),
                    "{name}/{c}: {what} ({value}) goes through the egress gateway; excluded: {listed:?}"
                );
            }
        }
    }
    assert!(policies >= 6, "only {policies} egress policies rendered");
    // The review's case: the bare-metal cluster reaches the whole Cloud network over its vSwitch.
    let two = render("two-stack", &example("two-stack-hetzner"));
    let policy = &objects(
        &two,
        "clusters/prod-fsn/platform/configs/egress-gateway.yaml",
        "CiliumEgressGatewayPolicy",
    )[0];
    assert_eq!(
        policy["spec"]["excludedCIDRs"],
        serde_json::json!(["10.245.0.0/16", "10.112.0.0/12", "10.0.0.0/16", "10.244.0.0/16"])
    );
}

/// The chart and values of every Flux HelmRelease and Argo CD Application of a chart.
fn chart_values(files: &Files, chart: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for kind in ["HelmRelease", "Application"] {
        for (path, d) in all(files, kind) {
            let (name, values) = if kind == "HelmRelease" {
                (&d["spec"]["chart"]["spec"]["chart"], &d["spec"]["values"])
            } else {
                (&d["spec"]["source"]["chart"], &d["spec"]["source"]["helm"]["valuesObject"])
            };
            if name == chart {
                out.push((path, values.clone()));
            }
        }
    }
    out
}

/// Both metrics charts scrape kube-controller-manager (10257), kube-scheduler (10259) and etcd
/// by default through a Service selecting kube-system pods labelled `component: <name>`, on the
/// pods' (host network: the node's) address (victoria-metrics-k8s-stack and kube-prometheus-stack
/// values). Talos starts the controller manager and the scheduler with `--bind-address=127.0.0.1`
/// and runs etcd as a Talos service, not a pod (Talos ControlPlaneStaticPodController); K3s
/// embeds all three. So those scrapes are off, and the Talos configs open no such port; the
/// kube-prometheus-stack kube-proxy scrape is off exactly where Cilium replaces kube-proxy.
#[test]
fn the_metrics_stacks_scrape_no_control_plane_component_that_listens_on_localhost() {
    let mut variants: Vec<(String, String)> =
        support::cases().into_iter().map(|c| (c.name, c.text)).collect();
    let prometheus = example("two-stack-hetzner").replace(
        "      traffic: { egressTB: 4 }",
        "      traffic: { egressTB: 4 }\n      monitoring: { metrics: prometheus }",
    );
    assert_ne!(prometheus, example("two-stack-hetzner"));
    variants.push(("two-stack-prometheus".into(), prometheus));
    let spread = std::fs::read_to_string(
        support::root().join("tests/cases/render-cloud-spread-argocd/platform.yaml"),
    )
    .unwrap_or_default();
    let with_proxy = spread.replace("kubeProxyReplacement: true", "kubeProxyReplacement: false");
    assert_ne!(with_proxy, spread);
    variants.push(("spread-with-kube-proxy".into(), with_proxy));
    let mut seen = BTreeMap::new();
    for (name, text) in &variants {
        let (loaded, _) = support::load(name, text);
        let Ok(repo) = hafen_render::render(&loaded) else { continue };
        let files = repo.files;
        for chart in ["victoria-metrics-k8s-stack", "kube-prometheus-stack"] {
            for (path, values) in chart_values(&files, chart) {
                *seen.entry(chart).or_insert(0) += 1;
                for key in ["kubeControllerManager", "kubeScheduler", "kubeEtcd"] {
                    assert_eq!(values[key]["enabled"], false, "{name}: {path}: {key}");
                }
                if chart == "kube-prometheus-stack" {
                    let proxy = &values["kubeProxy"]["enabled"];
                    if name == "spread-with-kube-proxy" {
                        assert!(proxy.is_null(), "{name}: {path}: kube-proxy runs: {proxy}");
                    } else {
                        assert_eq!(proxy, false, "{name}: {path}: Cilium replaces kube-proxy");
                    }
                }
            }
        }
        let machine_configs = files
            .iter()
            .filter(|(p, _)| p.starts_with("management/") || p.starts_with("bootstrap/"));
        for (path, text) in machine_configs {
            for arg in ["bind-address", "listen-metrics-urls"] {
                assert!(
                    !text.contains(arg),
                    "{name}: {path} opens a port the stacks do not scrape"
                );
            }
        }
        let readme = file(&files, "README.md");
        let monitored = loaded
            .platform
            .spec
            .clusters
            .iter()
            .any(|c| c.monitoring.metrics != hafen_spec::MetricsStack::None);
        assert_eq!(readme.contains("**Control-plane metrics.**"), monitored, "{name}");
    }
    assert!(seen.get("kube-prometheus-stack").is_some_and(|n| *n >= 2), "{seen:?}");
    assert!(seen.get("victoria-metrics-k8s-stack").is_some_and(|n| *n >= 3), "{seen:?}");
}

/// The rendered texts say what the rendered objects do, checked against the objects over every
/// example, fixture and variant: the Cilium and cloud-controller headers against their values,
/// the tenants the RUNBOOK says run on a cluster against the overlays that deploy their apps,
/// the README's notes and known limits against what is rendered, and under Argo CD, which
/// keeps no Helm release of its own (it templates charts), the day-0 `helm install`s whose
/// release records the RUNBOOK removes once their Applications manage the objects.
#[test]
fn rendered_texts_say_what_the_rendered_objects_do() {
    let mut variants: Vec<(String, String)> =
        support::cases().into_iter().map(|c| (c.name, c.text)).collect();
    for name in ["two-stack-hetzner", "two-cities"] {
        let native = example(name).replace("routing: tunnel", "routing: native");
        variants.push((format!("{name}-native"), native));
        let plain = example(name).replace("encryption: wireguard", "encryption: none");
        variants.push((format!("{name}-unencrypted"), plain));
    }
    let mut checked = (0, 0, 0);
    for (name, text) in &variants {
        let (loaded, _) = support::load(name, text);
        let Ok(repo) = hafen_render::render(&loaded) else { continue };
        let files = repo.files;
        let spec = &loaded.platform.spec;
        let argo = spec.gitops.engine == hafen_spec::GitOpsEngine::Argocd;
        for (path, release) in all(&files, "HelmRelease") {
            let head = file(&files, &path).lines().next().unwrap_or_default().to_owned();
            let values = &release["spec"]["values"];
            match release["spec"]["releaseName"].as_str() {
                Some("cilium") => {
                    checked.0 += 1;
                    let mode = values["routingMode"].as_str().unwrap_or_default();
                    let says = |what: &str| head.contains(what);
                    assert_eq!(says("native routing"), mode == "native", "{name}: {path}: {head}");
                    assert_eq!(says("tunnel routing"), mode == "tunnel", "{name}: {path}: {head}");
                    assert_eq!(
                        says("WireGuard"),
                        values["encryption"]["enabled"] == true,
                        "{head}"
                    );
                    assert_eq!(
                        says("kube-proxy replacement"),
                        values["kubeProxyReplacement"] == true,
                        "{name}: {head}"
                    );
                    assert_eq!(
                        says("egress gateway"),
                        values["egressGateway"]["enabled"] == true,
                        "{name}: {head}"
                    );
                    assert_eq!(says("Cluster Mesh"), values.get("clustermesh").is_some(), "{head}");
                }
                Some("hcloud-cloud-controller-manager") => {
                    checked.1 += 1;
                    let routes = values["env"]["HCLOUD_NETWORK_ROUTES_ENABLED"]["value"] == "true";
                    assert_eq!(head.contains("pod range"), routes, "{name}: {path}: {head}");
                    assert_eq!(head.contains("no pod routes"), !routes, "{name}: {path}: {head}");
                }
                _ => {}
            }
        }

        let runbook = file(&files, "RUNBOOK.md");
        for t in &spec.tenants {
            let prefix = format!("- `{}` runs on ", t.name);
            let line = runbook.lines().find(|l| l.starts_with(&prefix));
            let line = line.unwrap_or_else(|| panic!("{name}: no RUNBOOK line for `{}`", t.name));
            let (runs, rest) = line[prefix.len()..].split_once([';', ':']).unwrap_or_default();
            for cluster in &spec.clusters {
                let c = &cluster.name;
                let overlay = format!("tenants/{}/overlays/{c}/kustomization.yaml", t.name);
                let apps_here = files.get(&overlay).is_some_and(|k| k.contains("- ../../base\n"));
                assert_eq!(runs.contains(&format!("`{c}`")), apps_here, "{name}: {line}");
                if files.contains_key(&overlay) && !apps_here {
                    assert!(rest.contains(&format!("`{c}` holds only the database")), "{line}");
                }
            }
        }

        let readme = file(&files, "README.md");
        let policies = files.keys().any(|p| p.ends_with("/configs/egress-gateway.yaml"));
        assert_eq!(readme.contains("- **Egress.**"), policies, "{name}");
        let limits = readme.split("## Known limits").nth(1).unwrap_or_default();
        assert!(!limits.contains("<cluster>"), "{name}: the limits name no real path: {limits}");
        for cluster in &spec.clusters {
            let nodes = format!("bootstrap/{}/nodes/", cluster.name);
            let patches = files.keys().any(|p| p.starts_with(&nodes));
            assert_eq!(limits.contains(&nodes), patches, "{name}: {limits}");
        }

        if argo {
            checked.2 += 1;
            assert!(!readme.contains("keeps no Helm release at all"), "{name}");
            let delivery: String = files
                .iter()
                .filter(|(p, _)| p.starts_with("management/delivery/"))
                .map(|(_, t)| t.as_str())
                .collect();
            for cluster in &spec.clusters {
                let c = &cluster.name;
                let section = runbook
                    .split("#### ")
                    .find(|s| {
                        s.split_once('\n').is_some_and(|(h, _)| h.contains(&format!("`{c}`")))
                    })
                    .unwrap_or_else(|| panic!("{name}: no RUNBOOK section for {c}"));
                for (at, _) in section.match_indices("`helm install ") {
                    let release = section[at + 14..].split(' ').next().unwrap_or_default();
                    assert!(
                        section.contains(&format!("delete secret -l owner=helm,name={release}`")),
                        "{name}/{c}: the Helm record of `{release}` stays behind"
                    );
                    assert!(
                        delivery.contains(&format!("  name: {c}-{release}\n")),
                        "{name}/{c}: no Application takes over `{release}`"
                    );
                }
            }
        }
    }
    assert!(checked.0 >= 8 && checked.1 >= 4 && checked.2 >= 3, "{checked:?}");
}

fn spec(name: &str) -> String {
    std::fs::read_to_string(support::root().join("crates/hafen-render/tests/specs").join(name))
        .unwrap_or_else(|e| panic!("tests/specs/{name}: {e}"))
}

/// A PodDisruptionBudget with `minAvailable: 1` over one replica allows no eviction, so
/// `kubectl drain` (and every node upgrade) waits forever on the node running it
/// (kubernetes.io, "Specifying a Disruption Budget"). Traefik's chart takes
/// `podDisruptionBudget.maxUnavailable` and `deployment.replicas` (traefik-helm-chart values.yaml).
#[test]
fn the_ingress_survives_a_drain_wherever_two_nodes_run_workloads() {
    let mut cases: Vec<(String, String)> = ["two-cities", "two-stack-hetzner", "civil-society-k3s"]
        .iter()
        .map(|n| ((*n).to_owned(), example(n)))
        .collect();
    cases.push(("control-plane-only".into(), spec("control-plane-only-k3s.yaml")));
    let mut seen = 0;
    for (name, text) in &cases {
        let (loaded, _) = support::load(name, text);
        let files = render(name, text);
        for (path, values) in chart_values(&files, "traefik") {
            // `clusters/<c>/...` (Flux) or `management/delivery/clusters/<c>.yaml` (Argo CD).
            let spec_cluster = loaded
                .platform
                .spec
                .clusters
                .iter()
                .find(|c| {
                    path.starts_with(&format!("clusters/{}/", c.name))
                        || path.ends_with(&format!("/clusters/{}.yaml", c.name))
                })
                .unwrap_or_else(|| panic!("{name}: {path} is of no cluster"));
            let cluster = &spec_cluster.name;
            let nodes: u32 = spec_cluster
                .node_pools
                .iter()
                .filter(|p| p.runs_workloads())
                .map(|p| p.count)
                .sum::<u32>()
                + if spec_cluster.control_plane.schedulable {
                    spec_cluster.control_plane.replicas
                } else {
                    0
                };
            let replicas = values["deployment"]["replicas"].as_u64().unwrap_or(0);
            if nodes >= 2 {
                assert!(
                    replicas >= 2,
                    "{name}/{cluster}: {replicas} Traefik replica(s) on {nodes} nodes"
                );
            }
            let pdb = &values["podDisruptionBudget"];
            assert_eq!(pdb["maxUnavailable"], 1, "{name}/{cluster}: {pdb}");
            assert!(pdb.get("minAvailable").is_none(), "{name}/{cluster}: {pdb}");
            seen += 1;
        }
    }
    assert!(seen >= 4, "only {seen} Traefik releases");
}

/// Argo CD reads its repository from a Secret labelled `argocd.argoproj.io/secret-type:
/// repository` (argo-cd docs, "Declarative Setup"); when the spec keeps that credential in
/// OpenBao, the runbook copies it from there and says whether anything renews the copy.
#[test]
fn the_runbook_takes_an_argo_cd_credential_kept_in_openbao_from_openbao() {
    let robot = render("robot", &spec("argocd-openbao-robot.yaml"));
    let runbook = file(&robot, "RUNBOOK.md");
    assert!(
        runbook.contains(
            "--from-literal=password=\"$(bao kv get -mount=secret -field=password argocd-repo-creds)\""
        ),
        "{runbook}"
    );
    assert!(!runbook.contains("$GIT_TOKEN"), "{runbook}");
    assert!(!runbook.contains("Nothing renews it: rotate it by hand."), "{runbook}");
    assert!(runbook.contains("runs no External Secrets, so nothing renews this copy"), "{runbook}");
    // Nothing in the repository would renew it either.
    assert!(!robot.keys().any(|p| p.ends_with("argocd-repository.yaml")));

    // Argo CD in a workload cluster with OpenBao: External Secrets renews what day 0 copied.
    let cities = render("two-cities", &example("two-cities"));
    let runbook = file(&cities, "RUNBOOK.md");
    let home = cities
        .keys()
        .find(|p| p.ends_with("/platform/secrets/argocd-repository.yaml"))
        .expect("an ExternalSecret for the repository credential");
    assert!(runbook.contains(home.as_str()), "{runbook}");
    assert!(runbook.contains("bao kv get -mount=secret"), "{runbook}");
    assert!(!runbook.contains("Nothing renews it"), "{runbook}");
}

/// On a cloud, Services of type LoadBalancer get their address from the provider's cloud
/// controller, and MetalLB's layer-2 mode needs a network that delivers ARP for addresses the
/// provider did not assign (metallb.io, "Cloud compatibility"). Hafen renders that integration
/// for Hetzner Cloud only, so a cluster on another cloud is refused, located at its site.
#[test]
fn a_cluster_on_a_cloud_without_a_rendered_cloud_controller_is_refused_at_its_site() {
    let text = spec("scaleway-cluster.yaml");
    let (loaded, sources) = support::load("scaleway", &text);
    let errors = hafen_render::render(&loaded).expect_err("Scaleway is not rendered as bare metal");
    let refusals: Vec<_> =
        errors.iter().filter(|d| d.code == hafen_render::codes::UNSUPPORTED).collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    let d = refusals[0];
    assert_eq!(d.path.as_deref(), Some("spec.clusters[1].site"), "{d:?}");
    assert!(d.message.contains("`par-prod`") && d.message.contains("`scw-key`"), "{}", d.message);
    assert!(d.help.as_deref().is_some_and(|h| h.contains("hetzner-cloud")), "{d:?}");
    let human = hafen_diag::human::render(&errors, &sources, false);
    assert!(human.contains("site: par1"), "{human}");

    // The Hetzner Cloud cluster alone renders, with its cloud controller.
    let hetzner_only =
        text.replace("deliveredTo: [management, par-prod]", "deliveredTo: [management]");
    let start = hetzner_only.find("    - name: par-prod").expect("the Scaleway cluster");
    let end = hetzner_only.find("  tenants:").expect("tenants");
    let hetzner_only = format!("{}{}", &hetzner_only[..start], &hetzner_only[end..])
        .replace("clusters: [nbg-prod, par-prod]", "clusters: [nbg-prod]")
        .replace(", replicaCluster: par-prod", "");
    let files = render("hetzner-only", &hetzner_only);
    assert!(!chart_values(&files, "hcloud-cloud-controller-manager").is_empty());
}

/// Every `{name, key}` pair any rendered object refers to (secretKeyRef, credential, ...).
fn name_key_refs(files: &Files) -> Vec<(String, String)> {
    fn walk(v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                if let (Some(Value::String(n)), Some(Value::String(k))) =
                    (m.get("name"), m.get("key"))
                {
                    out.push((n.clone(), k.clone()));
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (path, text) in files {
        if path.ends_with(".yaml") {
            docs(text).iter().for_each(|d| walk(d, &mut out));
        }
    }
    out
}

/// Kubernetes starts no container whose `secretKeyRef` names a missing Secret or key
/// (CreateContainerConfigError), so with SOPS the pods read exactly the Secret and key the spec
/// declares, and the expected-files notes name them.
#[test]
fn declared_secret_names_and_keys_are_what_the_pods_read_under_sops() {
    let text = spec("control-plane-only-k3s.yaml");
    let files = render("control-plane-only", &text);
    let refs = name_key_refs(&files);
    for (secret, key) in
        [("portal-smtp", "password"), ("hetzner-dns", "token"), ("velero-s3", "credentials")]
    {
        assert!(
            refs.contains(&(secret.to_owned(), key.to_owned())),
            "`{secret}`/`{key}` is read by nothing: {refs:?}"
        );
    }
    for (secret, key) in
        [("portal-secrets", "SMTP_PASSWORD"), ("external-dns", "api-key"), ("velero-s3", "cloud")]
    {
        assert!(
            !refs.contains(&(secret.to_owned(), key.to_owned())),
            "undeclared `{secret}`/`{key}`"
        );
    }
    let velero = chart_values(&files, "velero");
    assert_eq!(velero[0].1["credentials"]["existingSecret"], "velero-s3");
    let notes = file(&files, "tenants/mitglieder/secrets/README.md");
    assert!(notes.contains("Secret `portal-smtp`") && notes.contains("`password`"), "{notes}");
    let notes = file(&files, "clusters/verein/platform/secrets/README.md");
    assert!(
        notes.contains("Secret `hetzner-dns`") && notes.contains("key `credentials`"),
        "{notes}"
    );

    // With OpenBao the ExternalSecret reads the declared path and property (here a property
    // holding the whole credentials file) into the layout the chart reads.
    let bao = render("bao", &spec("argocd-openbao-robot.yaml"));
    let es: Vec<Value> = all(&bao, "ExternalSecret")
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d["spec"]["target"]["name"] == "velero-s3")
        .collect();
    assert!(!es.is_empty());
    for d in es {
        assert_eq!(d["spec"]["data"][0]["remoteRef"]["key"], "platform/velero-s3", "{d}");
        assert_eq!(d["spec"]["data"][0]["remoteRef"]["property"], "credentials", "{d}");
        assert_eq!(d["spec"]["data"][0]["secretKey"], "cloud", "{d}");
    }
    assert!(file(&bao, "RUNBOOK.md").contains("`platform/velero-s3` (property `credentials`"));
}
