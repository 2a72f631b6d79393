//! The platform components of one workload cluster: which Helm releases with which explicit
//! values, and the plain objects configuring them (issuers, pools, egress policy, storage
//! classes, backup locations, secret stores). Delivery (Flux or Argo CD) is decided in
//! [`crate::delivery`]; this module only says what is installed and how it is configured.

use crate::components::{self, SiteKind, has_cloud, has_metal, lookup, site_kind};
use crate::out::meta;
use crate::{Ctx, PLATFORM_NAMESPACES, codes, talos};
use hafen_spec::{
    Cluster, Dns, DnsProvider, IngressController, LogsStack, MetricsStack, NodePool, NodeRole, Os,
    Routing, SecretRef, SecretsBackend, StorageDriver, TunnelProtocol,
};
use serde_json::{Map, Value, json};

/// Which Flux Kustomization (or Argo CD sync wave) a release belongs to. The order is the
/// order of dependencies: the network first (installed by hand on day 0 and adopted), then
/// storage (OpenBao keeps its data on a volume), then secret delivery (everything else reads
/// its credentials through it), then the other controllers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layer {
    /// CNI, cloud controller, load-balancer controller.
    Network,
    /// CSI drivers and storage operators.
    Storage,
    /// Secret delivery (External Secrets, OpenBao).
    SecretOperators,
    /// The other controllers.
    Controllers,
}

impl Layer {
    /// The layer of a component.
    fn of(component: &str) -> Layer {
        match component {
            "cilium" | "hcloud-ccm" | "metallb" => Layer::Network,
            "hcloud-csi" | "piraeus" | "longhorn" | "local-path" => Layer::Storage,
            "openbao" | "external-secrets" => Layer::SecretOperators,
            _ => Layer::Controllers,
        }
    }

    /// Folder under `clusters/<c>/platform/` and the name of its Flux Kustomization.
    pub(crate) fn folder(self) -> &'static str {
        match self {
            Layer::Network => "network",
            Layer::Storage => "storage",
            Layer::SecretOperators => "secret-operators",
            Layer::Controllers => "controllers",
        }
    }

    /// Every layer, in order.
    pub(crate) const ALL: [Layer; 4] =
        [Layer::Network, Layer::Storage, Layer::SecretOperators, Layer::Controllers];
}

/// A Helm release of a platform component.
#[derive(Debug, Clone)]
pub(crate) struct Release {
    /// Component id in `data/components.yaml`.
    pub(crate) component: &'static str,
    /// Release name.
    pub(crate) name: String,
    /// Namespace it installs into.
    pub(crate) namespace: String,
    /// Explicit values.
    pub(crate) values: Value,
    /// Releases (by name, same cluster) that must be ready first.
    pub(crate) depends_on: Vec<String>,
    /// Its layer.
    pub(crate) layer: Layer,
    /// Namespace labels (Pod Security levels for privileged daemons).
    pub(crate) namespace_labels: Vec<(&'static str, &'static str)>,
}

/// The platform of one cluster.
#[derive(Debug, Default)]
pub(crate) struct Platform {
    pub(crate) releases: Vec<Release>,
    /// `clusters/<c>/platform/secrets/<file>` → objects (ExternalSecrets and the store).
    pub(crate) secrets: Vec<(String, Vec<Value>)>,
    /// `clusters/<c>/platform/storage-config/<file>` → objects the storage needs before any
    /// volume can be claimed (storage pools, classes).
    pub(crate) storage_configs: Vec<(String, Vec<Value>)>,
    /// `clusters/<c>/platform/configs/<file>` → objects.
    pub(crate) configs: Vec<(String, Vec<Value>)>,
}

/// The ClusterSecretStore of the platform's own credentials (platform namespaces only), and the
/// name of each tenant's own SecretStore in its namespace.
pub(crate) const SECRET_STORE: &str = "openbao";

/// Which store an ExternalSecret reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// The platform's ClusterSecretStore.
    Platform,
    /// The tenant's own SecretStore in its namespace (its app secrets and database keys).
    Tenant,
}

impl Store {
    fn reference(self) -> Value {
        match self {
            Store::Platform => json!({ "kind": "ClusterSecretStore", "name": SECRET_STORE }),
            Store::Tenant => json!({ "kind": "SecretStore", "name": SECRET_STORE }),
        }
    }
}

/// An OpenBao store (ClusterSecretStore or a tenant's SecretStore) with Kubernetes auth.
#[allow(clippy::too_many_arguments)]
pub(crate) fn openbao_store(
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    cluster: &Cluster,
    role: &str,
    service_account: (&str, &str),
    conditions: Option<Value>,
    labels: &Map<String, Value>,
) -> Value {
    let server =
        cluster.secrets.address.clone().unwrap_or_else(|| "http://openbao.openbao.svc:8200".into());
    let mut sa = Map::new();
    sa.insert("name".into(), json!(service_account.0));
    if kind == "ClusterSecretStore" {
        sa.insert("namespace".into(), json!(service_account.1));
    }
    let mut spec = Map::new();
    spec.insert(
        "provider".into(),
        json!({ "vault": {
            "server": server,
            "path": "secret",
            "version": "v2",
            "auth": { "kubernetes": {
                "mountPath": format!("kubernetes-{}", cluster.name),
                "role": role,
                "serviceAccountRef": sa,
            } },
        } }),
    );
    if let Some(c) = conditions {
        spec.insert("conditions".into(), c);
    }
    json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": kind,
        "metadata": meta(name, namespace, labels),
        "spec": spec,
    })
}

/// Namespaces whose traffic never goes through the egress gateways: the platform's own.
pub(crate) fn egress_excluded_namespaces() -> Vec<&'static str> {
    PLATFORM_NAMESPACES.to_vec()
}

/// The pool holding the egress gateways of a cluster.
pub(crate) fn egress_pool(cluster: &Cluster) -> Option<&NodePool> {
    let egress = cluster.network.egress.as_ref()?;
    match &egress.pool {
        Some(name) => cluster.node_pools.iter().find(|p| &p.name == name),
        None => cluster.node_pools.iter().find(|p| p.roles().contains(&NodeRole::EgressGateway)),
    }
}

/// The keys of the `external-dns` Secret and the properties of the spec's DNS credential
/// they are read from (the credential's own `key` for the main secret).
/// The Secret (in `cert-manager`) with the TSIG key the ClusterIssuer's DNS-01 solver uses.
/// The private IPv4 blocks (RFC 1918).
pub(crate) const PRIVATE_NETS: &[&str] = &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

pub(crate) const ACME_TSIG_SECRET: &str = "acme-dns-tsig";

/// The DNS settings of a cluster whose certificates are issued by DNS-01 over RFC 2136: the
/// provider is `rfc2136` and the spec holds a TSIG key reference.
pub(crate) fn dns01_rfc2136(cluster: &Cluster) -> Option<(&Dns, &SecretRef)> {
    let dns = cluster.dns.as_ref()?;
    if dns.provider != DnsProvider::Rfc2136 {
        return None;
    }
    Some((dns, dns.secret_ref.as_ref()?))
}

/// The TSIG key's name on the DNS server: written out, since cert-manager reads it only from
/// the issuer (ExternalDNS gets the same name, so both use one key).
pub(crate) fn tsig_key_name(dns: &Dns) -> String {
    dns.tsig_key_name
        .clone()
        .or_else(|| dns.secret_ref.as_ref().map(|r| r.name.clone()))
        .unwrap_or_else(|| "external-dns".to_owned())
}

/// The property of the DNS credential in the secret store.
fn dns_secret_main(dns: &Dns, fallback: &str) -> String {
    dns.secret_ref.as_ref().and_then(|r| r.key.clone()).unwrap_or_else(|| fallback.to_owned())
}

pub(crate) fn dns_secret_keys(dns: &Dns) -> Vec<(String, String)> {
    let main = |fallback: &str| {
        dns.secret_ref.as_ref().and_then(|r| r.key.clone()).unwrap_or_else(|| fallback.to_owned())
    };
    let same = |k: &str| (k.to_owned(), k.to_owned());
    if dns.secret_ref.is_none() {
        return Vec::new();
    }
    match dns.provider {
        DnsProvider::Rfc2136 => vec![("secret".into(), main("secret"))],
        DnsProvider::Pdns | DnsProvider::Hetzner => vec![("api-key".into(), main("api-key"))],
        DnsProvider::Ovh => {
            vec![same("application-key"), same("application-secret"), same("consumer-key")]
        }
        DnsProvider::Cloudflare => vec![("api-token".into(), main("api-token"))],
        DnsProvider::Route53 => vec![same("access-key-id"), same("secret-access-key")],
    }
}

/// The Kubernetes Secret ExternalDNS reads and its keys by the names `dns_secret_keys` gives
/// them: with OpenBao the ExternalSecret's target `external-dns`; with SOPS the Secret the spec
/// declares (`dns.secretRef`), with its declared key.
pub(crate) fn dns_consumed_secret(dns: &Dns, openbao: bool) -> (String, Vec<(String, String)>) {
    let keys = dns_secret_keys(dns);
    match (&dns.secret_ref, openbao) {
        (Some(r), false) => (r.name.clone(), keys),
        _ => ("external-dns".to_owned(), keys.into_iter().map(|(k, _)| (k.clone(), k)).collect()),
    }
}

/// The Kubernetes Secret Velero reads and the key holding its AWS-style credentials file:
/// with OpenBao the ExternalSecret's target `velero-s3` (key `cloud`); with SOPS the Secret the
/// spec declares (`backups.secretRef`) and its key (`cloud` when it names none).
pub(crate) fn velero_secret(backups: &hafen_spec::Backups, openbao: bool) -> (String, String) {
    match (&backups.secret_ref, openbao) {
        (Some(r), false) => (r.name.clone(), r.key.clone().unwrap_or_else(|| "cloud".to_owned())),
        _ => ("velero-s3".to_owned(), "cloud".to_owned()),
    }
}

/// The endpoint ExternalDNS talks to.
pub(crate) fn dns_endpoint(dns: &Dns) -> String {
    match (dns.provider, &dns.server) {
        (_, Some(server)) => server.clone(),
        (DnsProvider::Rfc2136 | DnsProvider::Pdns, None) => format!("ns1.{}", dns.zone),
        (DnsProvider::Hetzner, None) => "https://api.hetzner.cloud/v1".into(),
        (DnsProvider::Ovh, None) => "https://eu.api.ovh.com/1.0".into(),
        (DnsProvider::Cloudflare, None) => "https://api.cloudflare.com/client/v4".into(),
        (DnsProvider::Route53, None) => "https://route53.amazonaws.com".into(),
    }
}

fn requests(cpu: &str, memory: &str) -> Value {
    json!({ "requests": { "cpu": cpu, "memory": memory } })
}

/// The requests of a component's daemon, exactly as in `data/components.yaml`.
fn daemon_requests(component: &str, daemon: &str) -> Value {
    lookup(component)
        .and_then(|c| c.daemons.iter().find(|d| d.name == daemon))
        .map_or_else(|| requests("10m", "32Mi"), |d| requests(&d.cpu, &d.memory))
}

fn pin(component: &str, key: &str) -> String {
    lookup(component).and_then(|c| c.pins.get(key).cloned()).unwrap_or_default()
}

/// The ExternalSecret delivering one platform secret from OpenBao.
pub(crate) fn external_secret(
    name: &str,
    namespace: &str,
    store: Store,
    data: Vec<(String, &SecretRef, Option<String>)>,
    template: Option<Value>,
    labels: &Map<String, Value>,
) -> Value {
    let data: Vec<Value> = data
        .into_iter()
        .map(|(secret_key, reference, property)| {
            let mut remote = Map::new();
            remote.insert("key".into(), json!(reference.name));
            if let Some(p) = property.or_else(|| reference.key.clone()) {
                remote.insert("property".into(), json!(p));
            }
            json!({ "secretKey": secret_key, "remoteRef": remote })
        })
        .collect();
    let mut target = Map::new();
    target.insert("name".into(), json!(name));
    target.insert("creationPolicy".into(), json!("Owner"));
    if let Some(t) = template {
        target.insert("template".into(), t);
    }
    json!({
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": meta(name, Some(namespace), labels),
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": store.reference(),
            "target": target,
            "data": data,
        }
    })
}

/// The Secret Argo CD finds the platform repository's credential in (`gitops.secretRef`'s
/// name): labelled `argocd.argoproj.io/secret-type: repository`, with `url`, `type` and the
/// keys the URL's scheme needs (`username` and `password` over HTTPS, `sshPrivateKey` over SSH).
pub(crate) fn argocd_repo_secret(ctx: &Ctx<'_>) -> String {
    ctx.spec
        .gitops
        .secret_ref
        .as_ref()
        .map_or_else(|| "platform-repo".to_owned(), |r| r.name.clone())
}

/// The credential keys Argo CD reads for a repository URL, each with the property of the spec's
/// credential it comes from.
pub(crate) fn argocd_repo_keys(repo: &str, reference: &SecretRef) -> Vec<(&'static str, String)> {
    if repo.starts_with("https://") || repo.starts_with("http://") {
        vec![
            ("username", "username".to_owned()),
            ("password", reference.key.clone().unwrap_or_else(|| "password".into())),
        ]
    } else {
        vec![("sshPrivateKey", reference.key.clone().unwrap_or_else(|| "sshPrivateKey".into()))]
    }
}

/// The cluster Argo CD runs in, when it is a workload cluster of this platform.
pub(crate) fn argocd_home(ctx: &Ctx<'_>) -> Option<String> {
    if ctx.spec.gitops.engine != hafen_spec::GitOpsEngine::Argocd {
        return None;
    }
    ctx.spec.management.as_ref().and_then(|m| m.cluster.clone())
}

/// The ExternalSecret keeping Argo CD's repository credential current, in the cluster Argo CD
/// runs in. The Secret is created by hand on day 0 (Argo CD needs it to read this repository
/// at all); External Secrets merges into it from then on.
fn argocd_repository(
    ctx: &Ctx<'_>,
    cluster: &Cluster,
    labels: &Map<String, Value>,
) -> Option<Value> {
    if argocd_home(ctx).as_deref() != Some(cluster.name.as_str()) {
        return None;
    }
    let reference = ctx.spec.gitops.secret_ref.as_ref()?;
    let repo = &ctx.spec.gitops.repo;
    let keys = argocd_repo_keys(repo, reference);
    let mut data = Map::new();
    data.insert("type".into(), json!("git"));
    data.insert("url".into(), json!(repo));
    for (k, _) in &keys {
        data.insert((*k).into(), json!(format!("{{{{ .{k} }}}}")));
    }
    let mut es = external_secret(
        &reference.name,
        "argocd",
        Store::Platform,
        keys.into_iter().map(|(k, prop)| (k.to_owned(), reference, Some(prop))).collect(),
        Some(json!({
            "engineVersion": "v2",
            "metadata": { "labels": { "argocd.argoproj.io/secret-type": "repository" } },
            "data": data,
        })),
        labels,
    );
    if let Some(target) = es.pointer_mut("/spec/target") {
        target["creationPolicy"] = json!("Merge");
    }
    Some(es)
}

/// OpenBao's server configuration for integrated raft storage with `replicas` members: every
/// member finds the others through the chart's headless service (`openbao-internal`), so a
/// member that starts empty joins the cluster by itself once it is unsealed. No seal stanza:
/// without a KMS or HSM the platform can trust, members are unsealed by hand (RUNBOOK).
pub(crate) fn openbao_raft_config(replicas: u32) -> String {
    let mut joins = String::new();
    for i in 0..replicas {
        joins.push_str(&format!(
            "  retry_join {{\n    leader_api_addr = \"http://openbao-{i}.openbao-internal:8200\"\n  }}\n"
        ));
    }
    format!(
        "ui = false\n\nlistener \"tcp\" {{\n  tls_disable = 1\n  address = \"[::]:8200\"\n  cluster_address = \"[::]:8201\"\n}}\n\nstorage \"raft\" {{\n  path = \"/openbao/data\"\n{joins}}}\n\nservice_registration \"kubernetes\" {{}}\n"
    )
}

/// The project credential of a Hetzner Cloud provider delivered to `cluster`, if any.
fn cloud_credential<'a>(ctx: &Ctx<'a>, cluster: &Cluster) -> Option<&'a SecretRef> {
    ctx.spec
        .providers
        .iter()
        .filter(|p| p.type_ == "hetzner-cloud")
        .flat_map(|p| &p.credentials)
        .find(|c| {
            c.scope == hafen_spec::CredentialScope::Project
                && c.delivered_to.contains(&cluster.name)
        })
        .map(|c| &c.secret_ref)
}

/// The platform of `cluster`. Errors are recorded in `ctx` (located at the spec).
pub(crate) fn build(ctx: &mut Ctx<'_>, index: usize, cluster: &Cluster) -> Platform {
    let spec = ctx.spec;
    let path = format!("spec.clusters[{index}]");
    let labels = ctx.labels(&[]);
    let mut p = Platform::default();
    let openbao = cluster.secrets.backend == SecretsBackend::Openbao;
    let names = components::names_for(spec, cluster);

    // Secret delivery first: the other components read their credentials through it.
    if openbao {
        if cluster.secrets.address.is_none() {
            p.releases.push(Release {
                component: "openbao",
                name: "openbao".into(),
                namespace: "openbao".into(),
                values: json!({
                    "injector": { "enabled": false },
                    "ui": { "enabled": false },
                    "server": {
                        "ha": { "enabled": true, "replicas": 3, "raft": {
                            "enabled": true,
                            "setNodeId": true,
                            "config": openbao_raft_config(3),
                        } },
                        "dataStorage": { "enabled": true, "size": "10Gi" },
                        "resources": requests("100m", "256Mi"),
                    },
                }),
                depends_on: vec![],
                layer: Layer::SecretOperators,
                namespace_labels: vec![],
            });
        }
        p.releases.push(Release {
            component: "external-secrets",
            name: "external-secrets".into(),
            namespace: "external-secrets".into(),
            values: json!({
                "installCRDs": true,
                "replicaCount": 2,
                "resources": requests("50m", "128Mi"),
                "webhook": { "replicaCount": 2 },
            }),
            depends_on: vec![],
            layer: Layer::SecretOperators,
            namespace_labels: vec![],
        });
        // Tenants cannot use this store: it reads the platform's credentials. Each tenant
        // reads its own secrets through a SecretStore in its namespace (tenants module).
        let stores = vec![openbao_store(
            "ClusterSecretStore",
            SECRET_STORE,
            None,
            cluster,
            "external-secrets",
            ("external-secrets", "external-secrets"),
            Some(json!([{ "namespaces": PLATFORM_NAMESPACES }])),
            &labels,
        )];
        p.secrets.push(("cluster-secret-stores.yaml".into(), stores));
        if let Some(es) = argocd_repository(ctx, cluster, &labels) {
            p.secrets.push(("argocd-repository.yaml".into(), vec![es]));
        }
    }

    // Cilium.
    if let Some(problem) = crate::mesh::native_mesh_problem(ctx, cluster) {
        ctx.open_items.push(problem);
    }
    p.releases.push(Release {
        component: "cilium",
        name: "cilium".into(),
        namespace: "kube-system".into(),
        values: cilium_values(ctx, cluster),
        depends_on: vec![],
        layer: Layer::Controllers,
        namespace_labels: vec![],
    });
    if let Some(egress) = &cluster.network.egress
        && !egress.ips.is_empty()
    {
        match egress_pool(cluster) {
            Some(_) => {
                p.configs.push(("egress-gateway.yaml".into(), vec![egress_policy(ctx, cluster)]))
            }
            None => ctx.error(
                codes::MISSING,
                format!(
                    "cluster `{}` has fixed egress addresses but no egress gateway nodes",
                    cluster.name
                ),
                &format!("{path}.network.egress"),
                "add a node pool with `roles: [egress-gateway]`, or name it in `egress.pool`",
            ),
        }
    }

    // Cloud controller and CSI for Hetzner Cloud.
    if has_cloud(spec, cluster) {
        let private = cluster
            .sites()
            .iter()
            .filter(|s| site_kind(spec, s) == SiteKind::HetznerCloud)
            .any(|s| spec.site(s).is_some_and(|s| s.network.private_network.is_some()));
        p.releases.push(Release {
            component: "hcloud-ccm",
            name: "hcloud-cloud-controller-manager".into(),
            namespace: "kube-system".into(),
            values: hcloud_ccm_values(cluster, private),
            depends_on: vec![],
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
        let default_class =
            components::storage_driver(cluster) == Some(StorageDriver::HcloudVolumes);
        p.releases.push(Release {
            component: "hcloud-csi",
            name: "hcloud-csi".into(),
            namespace: "kube-system".into(),
            values: {
                let mut node = json!({
                    "hcloudCSIDriver": { "resources": requests("10m", "20Mi") },
                    "csiNodeDriverRegistrar": { "resources": requests("10m", "20Mi") },
                    "livenessProbe": { "resources": requests("10m", "20Mi") },
                });
                if has_metal(spec, cluster)
                    && let Some(n) = node.as_object_mut()
                {
                    // Cloud volumes attach to cloud servers only; keep the node plugin off the
                    // bare-metal pools of this cluster.
                    let cloud_sites: Vec<&str> = cluster
                        .sites()
                        .into_iter()
                        .filter(|s| site_kind(spec, s) == SiteKind::HetznerCloud)
                        .collect();
                    n.insert(
                        "affinity".into(),
                        json!({ "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [{
                            "matchExpressions": [{ "key": "hafen.dev/site", "operator": "In", "values": cloud_sites }]
                        }] } } }),
                    );
                }
                json!({
                    "controller": { "hcloudToken": { "existingSecret": { "name": "hcloud", "key": "token" } } },
                    "node": node,
                    "storageClasses": [{ "name": "hcloud-volumes", "defaultStorageClass": default_class, "reclaimPolicy": "Retain" }],
                })
            },
            depends_on: vec!["hcloud-cloud-controller-manager".into()],
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
        match (openbao, cloud_credential(ctx, cluster)) {
            (true, Some(reference)) => {
                let mut es = external_secret(
                    "hcloud",
                    "kube-system",
                    Store::Platform,
                    vec![("token".into(), reference, None)],
                    Some(json!({
                        "engineVersion": "v2",
                        "mergePolicy": "Merge",
                        // CAPH names the cluster's network after the cluster.
                        "data": { "network": cluster.name },
                    })),
                    &labels,
                );
                // The Secret exists from day 0 (created by hand for the cloud controller);
                // External Secrets keeps it current from then on.
                if let Some(target) = es.pointer_mut("/spec/target") {
                    target["creationPolicy"] = json!("Merge");
                }
                p.secrets.push(("hcloud.yaml".into(), vec![es]));
            }
            (true, None) => ctx.open_items.push(format!(
                "Cluster `{}` runs on Hetzner Cloud but no project token is delivered to it (`deliveredTo`): the Secret `hcloud` in `kube-system` stays as created on day 0 and is not kept current.",
                cluster.name
            )),
            _ => {}
        }
    }

    // Load balancers on bare metal.
    if has_metal(spec, cluster) {
        p.releases.push(Release {
            component: "metallb",
            name: "metallb".into(),
            namespace: "metallb-system".into(),
            values: json!({
                "speaker": { "frr": { "enabled": false }, "resources": daemon_requests("metallb", "metallb-speaker") },
                "controller": { "resources": requests("25m", "64Mi") },
            }),
            depends_on: vec![],
            layer: Layer::Controllers,
            namespace_labels: vec![("pod-security.kubernetes.io/enforce", "privileged")],
        });
        match metallb_config(ctx, cluster) {
            Some(objects) => p.configs.push(("metallb.yaml".into(), objects)),
            None => ctx.open_items.push(format!(
                "Bare-metal cluster `{}` has no addresses for load balancers: MetalLB is installed without a pool, so LoadBalancer services (the ingress) stay pending until `network.loadBalancerIPs` is set.",
                cluster.name
            )),
        }
    }

    // Ingress.
    if cluster.ingress == IngressController::Traefik {
        p.releases.push(Release {
            component: "traefik",
            name: "traefik".into(),
            namespace: "traefik".into(),
            values: traefik_values(ctx, cluster),
            depends_on: if has_metal(spec, cluster) { vec!["metallb".into()] } else { vec![] },
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
    }

    // Certificates.
    if let Some(certs) = &cluster.certificates {
        p.releases.push(Release {
            component: "cert-manager",
            name: "cert-manager".into(),
            namespace: "cert-manager".into(),
            values: json!({
                "crds": { "enabled": true, "keep": true },
                "replicaCount": 2,
                "resources": requests("25m", "64Mi"),
                "webhook": { "replicaCount": 2 },
                "cainjector": { "replicaCount": 1 },
                "podDisruptionBudget": { "enabled": true, "minAvailable": 1 },
            }),
            depends_on: vec![],
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
        let server = certs
            .acme_server
            .clone()
            .unwrap_or_else(|| components::data().defaults.acme_server.clone());
        let solver = match dns01_rfc2136(cluster) {
            // DNS-01 through the cluster's own DNS server: works for names whose addresses are
            // private or not yet published, and needs nothing reachable from the internet.
            Some((dns, reference)) => {
                if openbao {
                    let es = external_secret(
                        ACME_TSIG_SECRET,
                        "cert-manager",
                        Store::Platform,
                        vec![("secret".into(), reference, Some(dns_secret_main(dns, "secret")))],
                        None,
                        &labels,
                    );
                    p.secrets.push(("cert-manager.yaml".into(), vec![es]));
                }
                json!({ "dns01": { "rfc2136": {
                    "nameserver": format!("{}:53", dns.server.clone().unwrap_or_else(|| format!("ns1.{}", dns.zone))),
                    "tsigKeyName": tsig_key_name(dns),
                    "tsigAlgorithm": "HMACSHA256",
                    "tsigSecretSecretRef": { "name": ACME_TSIG_SECRET, "key": "secret" },
                } } })
            }
            None if cluster.ingress == IngressController::Traefik => {
                json!({ "http01": { "ingress": { "ingressClassName": "traefik" } } })
            }
            None => json!({ "http01": { "ingress": {} } }),
        };
        p.configs.push((
            "cluster-issuer.yaml".into(),
            vec![json!({
                "apiVersion": "cert-manager.io/v1",
                "kind": "ClusterIssuer",
                "metadata": meta("acme", None, &labels),
                "spec": { "acme": {
                    "server": server,
                    "email": certs.email,
                    "privateKeySecretRef": { "name": "acme-account-key" },
                    "solvers": [solver],
                } }
            })],
        ));
    }

    // DNS records.
    if let Some(dns) = &cluster.dns {
        let (values, secret) = external_dns(ctx, cluster, dns, &labels, openbao);
        p.releases.push(Release {
            component: "external-dns",
            name: "external-dns".into(),
            namespace: "external-dns".into(),
            values,
            depends_on: vec![],
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
        if let Some(secret) = secret {
            p.secrets.push(("external-dns.yaml".into(), vec![secret]));
        }
    }

    // Storage.
    storage(ctx, index, cluster, &mut p, &labels);

    // Databases.
    if names.contains(&"cloudnative-pg") {
        p.releases.push(Release {
            component: "cloudnative-pg",
            name: "cloudnative-pg".into(),
            namespace: "cnpg-system".into(),
            values: json!({
                "crds": { "create": true },
                "config": { "clusterWide": true },
                "monitoring": { "podMonitorEnabled": false },
                "resources": requests("50m", "128Mi"),
            }),
            depends_on: vec![],
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
    }

    monitoring(cluster, &mut p);
    backups(ctx, cluster, &mut p, &labels, openbao);
    for release in &mut p.releases {
        release.layer = Layer::of(release.component);
    }
    p
}

/// True when every node of the cluster shares one layer 2 segment (a vSwitch VLAN, or the
/// operator's own LAN), so nodes can route pod ranges to each other directly.
pub(crate) fn shared_layer2(ctx: &Ctx<'_>, cluster: &Cluster) -> bool {
    cluster.sites().iter().all(|s| match site_kind(ctx.spec, s) {
        SiteKind::HetznerCloud => false,
        SiteKind::HetznerDedicated => ctx.spec.site(s).is_some_and(|x| x.network.vswitch.is_some()),
        SiteKind::Other => true,
    })
}

fn cilium_values(ctx: &Ctx<'_>, cluster: &Cluster) -> Value {
    let net = &cluster.network;
    // Cilium's `MTU` is the device MTU; it subtracts its own allowances for the pod routes.
    let mtu = hafen_spec::mtu::cilium_mtu(ctx.spec, cluster).base;
    let mut v = Map::new();
    v.insert("ipam".into(), json!({ "mode": "kubernetes" }));
    match net.routing {
        Routing::Native => {
            v.insert("routingMode".into(), json!("native"));
            // Traffic to this range is not masqueraded: in a Hetzner Cloud network it is the
            // whole network (servers and the pod routes the cloud controller programs there).
            let native = match crate::management::hcloud_network_range(ctx.spec, cluster) {
                Some(Ok(range)) => range,
                _ => net.pod_cidr.clone(),
            };
            // Cluster Mesh in native routing: the range must also cover every other member's
            // pod range, or traffic to their pods would be masqueraded.
            let mut ranges: Vec<hafen_spec::net::Cidr> = std::iter::once(native.as_str())
                .chain(crate::mesh::peers(ctx, cluster).iter().map(|p| p.network.pod_cidr.as_str()))
                .filter_map(|t| hafen_spec::net::Cidr::parse(t).ok())
                .collect();
            ranges.dedup();
            let native = match crate::management::supernet(&ranges) {
                Some(wide) if ranges.len() > 1 => wide.to_string(),
                _ => native,
            };
            v.insert("ipv4NativeRoutingCIDR".into(), json!(native));
            // On a shared layer 2 (a vSwitch VLAN) nodes route pod ranges to each other
            // directly; in a Hetzner Cloud network the cloud controller programs the routes.
            v.insert("autoDirectNodeRoutes".into(), json!(shared_layer2(ctx, cluster)));
        }
        Routing::Tunnel => {
            v.insert("routingMode".into(), json!("tunnel"));
            v.insert(
                "tunnelProtocol".into(),
                json!(match net.tunnel {
                    TunnelProtocol::Vxlan => "vxlan",
                    TunnelProtocol::Geneve => "geneve",
                }),
            );
        }
    }
    v.insert("MTU".into(), json!(mtu));
    if net.encryption == hafen_spec::Encryption::Wireguard {
        v.insert("encryption".into(), json!({ "enabled": true, "type": "wireguard" }));
    }
    let kpr = without_kube_proxy(cluster);
    v.insert("kubeProxyReplacement".into(), json!(kpr));
    match cluster.os {
        Os::Talos => {
            // KubePrism: Talos' node-local API load balancer, reachable before any Service works.
            v.insert("k8sServiceHost".into(), json!("localhost"));
            v.insert("k8sServicePort".into(), json!(7445));
            v.insert(
                "cgroup".into(),
                json!({ "autoMount": { "enabled": false }, "hostRoot": "/sys/fs/cgroup" }),
            );
            v.insert(
                "securityContext".into(),
                json!({ "capabilities": {
                    "ciliumAgent": ["CHOWN", "KILL", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "SYS_ADMIN", "SYS_RESOURCE", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
                    "cleanCiliumState": ["NET_ADMIN", "SYS_ADMIN", "SYS_RESOURCE"],
                } }),
            );
        }
        Os::K3s => {
            if let Some(host) = crate::k3s::api_host(cluster)
                && kpr
            {
                v.insert("k8sServiceHost".into(), json!(host));
                v.insert("k8sServicePort".into(), json!(6443));
            }
        }
    }
    let egress = net.egress.as_ref().is_some_and(|e| !e.ips.is_empty());
    if egress {
        v.insert("egressGateway".into(), json!({ "enabled": true }));
    }
    // The egress gateway and WireGuard need eBPF masquerading.
    v.insert("bpf".into(), json!({ "masquerade": kpr }));
    let mut cl = Map::new();
    cl.insert("name".into(), json!(cluster.name));
    if let Some(mesh) = &net.mesh {
        cl.insert("id".into(), json!(mesh.id));
    }
    v.insert("cluster".into(), Value::Object(cl));
    if net.mesh.is_some() {
        v.insert("clustermesh".into(), clustermesh(ctx, cluster));
    }
    v.insert("operator".into(), json!({ "replicas": 2, "resources": requests("50m", "128Mi") }));
    v.insert("resources".into(), daemon_requests("cilium", "cilium-agent"));
    v.insert("envoy".into(), json!({ "resources": daemon_requests("cilium", "cilium-envoy") }));
    // Certificates from a CronJob, not generated at template time: `method: helm` makes new
    // ones on every render, which Argo CD (rendering charts itself) shows as a permanent diff.
    v.insert(
        "hubble".into(),
        json!({ "enabled": true, "relay": { "enabled": true }, "tls": { "auto": { "enabled": true, "method": "cronJob" } } }),
    );
    Value::Object(v)
}

/// Cluster Mesh: the API server of this cluster published under a name in the DNS zone, and
/// the other members of the same mesh by their published names.
fn clustermesh(ctx: &Ctx<'_>, cluster: &Cluster) -> Value {
    let host = |c: &Cluster| {
        c.dns.as_ref().map_or_else(
            || format!("clustermesh.{}", c.name),
            |d| format!("clustermesh.{}.{}", c.name, d.zone),
        )
    };
    // A peer behind a private link is reached at the fixed private address of its Cluster Mesh
    // API server (the chart maps `<name>.mesh.cilium.io`, a name in the server certificate, to
    // it); any other peer by its published name.
    let peers: Vec<Value> = crate::mesh::peers(ctx, cluster)
        .into_iter()
        .map(|c| {
            match crate::mesh::apiserver_private_ip(ctx, c)
                .filter(|_| crate::mesh::private_link(ctx.spec, cluster, c))
            {
                Some(ip) => json!({ "name": c.name, "ips": [ip], "port": 2379 }),
                None => json!({ "name": c.name, "address": host(c), "port": 2379 }),
            }
        })
        .collect();
    let private = crate::mesh::private_only(ctx, cluster);
    let private_ip = crate::mesh::apiserver_private_ip(ctx, cluster).filter(|_| private);
    let mut annotations = Map::new();
    let cloud_site =
        cluster.sites().into_iter().find(|s| site_kind(ctx.spec, s) == SiteKind::HetznerCloud);
    // The Hetzner cloud controller creates a load balancer only where it is told to (no default
    // location): the cluster's own cloud location.
    if let Some(site) = cloud_site
        && let Some(site) = ctx.spec.site(site)
    {
        annotations.insert("load-balancer.hetzner.cloud/location".into(), json!(site.location));
    }
    match (&private_ip, cloud_site.is_some()) {
        // Every peer comes over the private link: the load balancer answers on a fixed
        // private address and takes no traffic from the internet.
        (Some(ip), true) => {
            annotations
                .insert("load-balancer.hetzner.cloud/disable-public-network".into(), json!("true"));
            annotations.insert("load-balancer.hetzner.cloud/private-ipv4".into(), json!(ip));
            annotations.insert("load-balancer.hetzner.cloud/use-private-ip".into(), json!("true"));
        }
        (Some(ip), false) => {
            annotations.insert("metallb.io/loadBalancerIPs".into(), json!(ip));
        }
        (None, _) if cluster.dns.is_some() => {
            annotations
                .insert("external-dns.alpha.kubernetes.io/hostname".into(), json!(host(cluster)));
        }
        (None, _) => {}
    }
    json!({
        "useAPIServer": true,
        "apiserver": {
            "replicas": 2,
            "service": { "type": "LoadBalancer", "annotations": annotations },
            "tls": { "auto": { "enabled": true, "method": "cronJob" } },
        },
        "config": { "enabled": true, "clusters": peers },
    })
}

/// Sends every tenant namespace's traffic through the egress gateways and their fixed
/// addresses; platform namespaces (kube-system, the GitOps engine, monitoring, …) keep the
/// node's own address.
fn egress_policy(ctx: &Ctx<'_>, cluster: &Cluster) -> Value {
    let egress = cluster.network.egress.clone().unwrap_or_default();
    let gateways: Vec<Value> = egress
        .ips
        .iter()
        .map(|ip| {
            json!({
                "nodeSelector": { "matchLabels": { "hafen.dev/egress-gateway": "true", "hafen.dev/egress-ip": ip } },
                "egressIP": ip,
            })
        })
        .collect();
    let first = gateways.first().cloned().unwrap_or(Value::Null);
    json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumEgressGatewayPolicy",
        "metadata": meta("tenants", None, &ctx.labels(&[])),
        "spec": {
            "selectors": [{
                "namespaceSelector": { "matchExpressions": [
                    { "key": "hafen.dev/tenant", "operator": "Exists" },
                    { "key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": egress_excluded_namespaces() },
                ] }
            }],
            "destinationCIDRs": ["0.0.0.0/0"],
            // In-cluster, node and private-network traffic stays direct.
            "excludedCIDRs": excluded_cidrs(ctx, cluster),
            "egressGateway": first,
            "egressGateways": gateways,
        }
    })
}

/// Destinations that stay off the egress gateways: the cluster's pod and service ranges, every
/// private range its nodes route (their own node, vSwitch or Cloud-network subnet, the whole
/// Cloud network, the Cloud subnet a coupled vSwitch reaches through its gateway and the vSwitch
/// subnets coupled into the cluster's Cloud network), and the pod ranges of its Cluster Mesh
/// peers. Traffic to them would otherwise be sent to a gateway node and leave there with the
/// fixed public address, never reaching its private destination. Ranges inside another listed
/// range are left out.
fn excluded_cidrs(ctx: &Ctx<'_>, cluster: &Cluster) -> Vec<String> {
    let spec = ctx.spec;
    let mut wanted: Vec<String> =
        vec![cluster.network.pod_cidr.clone(), cluster.network.service_cidr.clone()];
    for site in cluster.sites() {
        wanted.extend(talos::node_subnet(spec, cluster, site));
        if let Some(c) = crate::mesh::coupling(spec, site) {
            wanted.push(c.cloud_subnet);
        }
        for other in &spec.sites {
            if let Some(c) =
                crate::mesh::coupling(spec, &other.name).filter(|c| c.cloud_site == site)
            {
                wanted.push(c.vswitch_subnet);
            }
        }
    }
    if let Some(Ok(range)) = crate::management::hcloud_network_range(spec, cluster) {
        wanted.push(range);
    }
    for peer in crate::mesh::peers(ctx, cluster) {
        wanted.push(peer.network.pod_cidr.clone());
    }
    without_covered(wanted.into_iter().filter(|c| c.contains('.')).collect())
}

/// The ranges in their order, less each one strictly inside another listed range or equal to
/// an earlier one: the union stays the same and the policy lists each destination once. Text
/// that does not parse as a range (the loader reports it) is kept once, as written.
fn without_covered(ranges: Vec<String>) -> Vec<String> {
    use hafen_spec::net::Cidr;
    let parsed: Vec<Option<Cidr>> = ranges.iter().map(|r| Cidr::parse(r).ok()).collect();
    let strictly_inside = |a: &Cidr, b: &Cidr| {
        let ((a0, a1), (b0, b1)) = (a.range(), b.range());
        a.addr.is_ipv4() == b.addr.is_ipv4() && a != b && b0 <= a0 && a1 <= b1
    };
    let keep = |i: usize| {
        let equal_earlier = (0..i)
            .any(|j| ranges[j] == ranges[i] || (parsed[i].is_some() && parsed[j] == parsed[i]));
        let inside_other = parsed[i]
            .as_ref()
            .is_some_and(|a| parsed.iter().flatten().any(|b| strictly_inside(a, b)));
        !equal_earlier && !inside_other
    };
    (0..ranges.len()).filter(|&i| keep(i)).map(|i| ranges[i].clone()).collect()
}

fn hcloud_ccm_values(cluster: &Cluster, private: bool) -> Value {
    let mut v = json!({
        "networking": { "enabled": private, "clusterCIDR": cluster.network.pod_cidr },
        // Tunnel mode needs no route per node in the Cloud network (and the network holds no
        // pod range to route to): the route controller stays off.
        "env": { "HCLOUD_NETWORK_ROUTES_ENABLED": { "value": (cluster.network.routing == Routing::Native).to_string() } },
        "robot": { "enabled": false },
        "replicaCount": 1,
        "resources": requests("25m", "64Mi"),
    });
    if !private && let Some(obj) = v.as_object_mut() {
        obj.insert("networking".into(), json!({ "enabled": false }));
    }
    v
}

/// The top addresses of a vSwitch subnet that MetalLB may announce on the VLAN.
pub(crate) fn vswitch_pool(subnet: &str) -> Option<String> {
    let cidr = hafen_spec::net::Cidr::parse(subnet).ok()?;
    let std::net::IpAddr::V4(base) = cidr.addr else { return None };
    if cidr.prefix > 24 {
        return None;
    }
    let first = std::net::Ipv4Addr::from(u32::from(base).checked_add(240)?);
    let last = std::net::Ipv4Addr::from(u32::from(base).checked_add(254)?);
    Some(format!("{first}-{last}"))
}

fn metallb_config(ctx: &Ctx<'_>, cluster: &Cluster) -> Option<Vec<Value>> {
    let labels = ctx.labels(&[]);
    let metal_site =
        cluster.sites().into_iter().find(|s| site_kind(ctx.spec, s) != SiteKind::HetznerCloud)?;
    let site = ctx.spec.site(metal_site)?;
    let vlan_interface = || {
        let vswitch = site.network.vswitch.as_ref()?;
        Some(format!("{}.{}", talos::public_interface(ctx.spec, metal_site)?, vswitch.vlan))
    };
    let (addresses, interfaces) = if !cluster.network.load_balancer_ips.is_empty() {
        // A public subnet for a vSwitch is routed into its VLAN, so it is announced there too.
        (cluster.network.load_balancer_ips.clone(), vlan_interface().into_iter().collect())
    } else if let Some(vswitch) = &site.network.vswitch {
        // The VLAN is a real layer 2 between the servers: announce there, not on the
        // provider's public network (which drops foreign ARP answers).
        let pool = vswitch_pool(&vswitch.subnet)?;
        let iface = talos::public_interface(ctx.spec, metal_site)?;
        (vec![pool], vec![format!("{iface}.{}", vswitch.vlan)])
    } else if site_kind(ctx.spec, metal_site) == SiteKind::Other {
        // Own servers on their own LAN: the top of the node network.
        let pool = vswitch_pool(cluster.network.node_cidr.as_deref()?)?;
        (vec![pool], Vec::new())
    } else {
        return None;
    };
    let pool = json!({
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": meta("default", Some("metallb-system"), &labels),
        // Next to a cloud load balancer (mixed clusters) MetalLB only serves services that ask
        // for this pool, so the two controllers never both answer one Service.
        "spec": { "addresses": addresses, "autoAssign": !has_cloud(ctx.spec, cluster) },
    });
    let mut l2 = Map::new();
    l2.insert("ipAddressPools".into(), json!(["default"]));
    if !interfaces.is_empty() {
        l2.insert("interfaces".into(), json!(interfaces));
    }
    let adv = json!({
        "apiVersion": "metallb.io/v1beta1",
        "kind": "L2Advertisement",
        "metadata": meta("default", Some("metallb-system"), &labels),
        "spec": l2,
    });
    Some(vec![pool, adv])
}

fn traefik_values(ctx: &Ctx<'_>, cluster: &Cluster) -> Value {
    let mut annotations = Map::new();
    if site_kind(ctx.spec, &cluster.site) == SiteKind::HetznerCloud {
        let location = ctx.spec.site(&cluster.site).map(|s| s.location.clone()).unwrap_or_default();
        annotations.insert(
            "load-balancer.hetzner.cloud/name".into(),
            json!(format!("{}-ingress", cluster.name)),
        );
        annotations.insert("load-balancer.hetzner.cloud/location".into(), json!(location));
        annotations.insert("load-balancer.hetzner.cloud/use-private-ip".into(), json!("true"));
    }
    // Nodes that take ordinary pods: worker pools, and a control plane that accepts workloads.
    // Two replicas wherever two such nodes exist, so a drain or an upgrade never takes the
    // only ingress away; the budget lets one go at a time (with `minAvailable: 1` and one
    // replica, no node running it could ever be drained).
    let workers: u32 =
        cluster.node_pools.iter().filter(|p| p.runs_workloads()).map(|p| p.count).sum::<u32>()
            + if cluster.control_plane.schedulable { cluster.control_plane.replicas } else { 0 };
    let replicas = workers.clamp(1, 3);
    json!({
        "deployment": { "replicas": replicas },
        "ingressClass": { "enabled": true, "isDefaultClass": true, "name": "traefik" },
        "providers": {
            "kubernetesIngress": { "enabled": true, "publishedService": { "enabled": true } },
            "kubernetesCRD": { "enabled": true },
        },
        "service": { "type": "LoadBalancer", "annotations": annotations },
        "podDisruptionBudget": { "enabled": true, "maxUnavailable": 1 },
        "topologySpreadConstraints": [{
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "nodeTaintsPolicy": "Honor",
            "labelSelector": { "matchLabels": { "app.kubernetes.io/name": "traefik" } },
        }],
        "resources": requests("100m", "128Mi"),
        "logs": { "access": { "enabled": true } },
        // No update checks, no anonymous usage reports.
        "globalArguments": ["--global.checknewversion=false", "--global.sendanonymoususage=false"],
    })
}

fn external_dns(
    ctx: &Ctx<'_>,
    cluster: &Cluster,
    dns: &Dns,
    labels: &Map<String, Value>,
    openbao: bool,
) -> (Value, Option<Value>) {
    let owner = format!("{}-{}", ctx.platform, cluster.name);
    let mut v = Map::new();
    v.insert("sources".into(), json!(["ingress", "service"]));
    v.insert("domainFilters".into(), json!([dns.zone]));
    v.insert("policy".into(), json!("sync"));
    v.insert("registry".into(), json!("txt"));
    v.insert("txtOwnerId".into(), json!(owner));
    v.insert("resources".into(), requests("25m", "64Mi"));
    // With OpenBao the ExternalSecret below copies the declared path into `external-dns` with
    // the keys named here; with SOPS ExternalDNS reads the declared Secret and keys directly.
    let (dns_secret, dns_keys) = dns_consumed_secret(dns, openbao);
    let consumed_key = |k: &str| {
        dns_keys.iter().find(|(a, _)| a == k).map_or_else(|| k.to_owned(), |(_, b)| b.clone())
    };
    let secret_env = |name: &str, key: &str| json!({ "name": name, "valueFrom": { "secretKeyRef": { "name": dns_secret, "key": consumed_key(key) } } });
    match dns.provider {
        DnsProvider::Rfc2136 => {
            let server = dns.server.clone().unwrap_or_else(|| format!("ns1.{}", dns.zone));
            v.insert("provider".into(), json!({ "name": "rfc2136" }));
            v.insert(
                "extraArgs".into(),
                json!([
                    format!("--rfc2136-host={server}"),
                    "--rfc2136-port=53",
                    format!("--rfc2136-zone={}", dns.zone),
                    format!("--rfc2136-tsig-keyname={}", tsig_key_name(dns)),
                    "--rfc2136-tsig-secret-alg=hmac-sha256",
                    "--rfc2136-tsig-axfr",
                ]),
            );
            if dns.secret_ref.is_some() {
                v.insert(
                    "env".into(),
                    json!([secret_env("EXTERNAL_DNS_RFC2136_TSIG_SECRET", "secret")]),
                );
            }
        }
        DnsProvider::Pdns => {
            v.insert("provider".into(), json!({ "name": "pdns" }));
            v.insert("extraArgs".into(), json!([format!("--pdns-server={}", dns_endpoint(dns))]));
            v.insert("env".into(), json!([secret_env("EXTERNAL_DNS_PDNS_API_KEY", "api-key")]));
        }
        DnsProvider::Hetzner => {
            v.insert(
                "provider".into(),
                json!({ "name": "webhook", "webhook": {
                    "image": { "repository": "ghcr.io/mconfalonieri/external-dns-hetzner-webhook", "tag": pin("external-dns", "hetzner-webhook") },
                    "env": [secret_env("HETZNER_API_KEY", "api-key")],
                } }),
            );
        }
        DnsProvider::Ovh => {
            v.insert("provider".into(), json!({ "name": "ovh" }));
            v.insert(
                "env".into(),
                json!([
                    { "name": "OVH_ENDPOINT", "value": "ovh-eu" },
                    secret_env("OVH_APPLICATION_KEY", "application-key"),
                    secret_env("OVH_APPLICATION_SECRET", "application-secret"),
                    secret_env("OVH_CONSUMER_KEY", "consumer-key"),
                ]),
            );
        }
        DnsProvider::Cloudflare => {
            v.insert("provider".into(), json!({ "name": "cloudflare" }));
            v.insert("env".into(), json!([secret_env("CF_API_TOKEN", "api-token")]));
        }
        DnsProvider::Route53 => {
            v.insert("provider".into(), json!({ "name": "aws" }));
            v.insert(
                "env".into(),
                json!([
                    secret_env("AWS_ACCESS_KEY_ID", "access-key-id"),
                    secret_env("AWS_SECRET_ACCESS_KEY", "secret-access-key"),
                ]),
            );
        }
    }
    // The zone is public: a private load-balancer address (MetalLB on a vSwitch or a LAN)
    // published there is unreachable for everyone outside, so such targets are never written.
    let excluded = PRIVATE_NETS.iter().map(|n| json!(format!("--exclude-target-net={n}")));
    match v.get_mut("extraArgs").and_then(Value::as_array_mut) {
        Some(args) => args.extend(excluded),
        None => {
            v.insert("extraArgs".into(), Value::Array(excluded.collect()));
        }
    }
    let secret_keys = dns_secret_keys(dns);
    let secret = match (&dns.secret_ref, openbao) {
        (Some(reference), true) if !secret_keys.is_empty() => Some(external_secret(
            "external-dns",
            "external-dns",
            Store::Platform,
            secret_keys.into_iter().map(|(k, prop)| (k, reference, Some(prop))).collect(),
            None,
            labels,
        )),
        _ => None,
    };
    (Value::Object(v), secret)
}

fn storage(
    ctx: &mut Ctx<'_>,
    index: usize,
    cluster: &Cluster,
    p: &mut Platform,
    labels: &Map<String, Value>,
) {
    match components::storage_driver(cluster) {
        Some(StorageDriver::Piraeus) => {
            if cluster.os == Os::K3s {
                ctx.error(
                    codes::UNSUPPORTED,
                    format!("Piraeus needs the DRBD kernel module, which Hafen provides only on Talos (cluster `{}` runs K3s)", cluster.name),
                    &format!("spec.clusters[{index}].storage.default"),
                    "use `longhorn` or `local-path` on K3s, or run the cluster on Talos",
                );
                return;
            }
            p.releases.push(Release {
                component: "piraeus",
                name: "piraeus-operator".into(),
                namespace: "piraeus-datastore".into(),
                values: json!({ "installCRDs": true, "resources": requests("25m", "64Mi") }),
                depends_on: vec![],
                layer: Layer::Controllers,
                namespace_labels: vec![("pod-security.kubernetes.io/enforce", "privileged")],
            });
            let replicas = cluster.storage.as_ref().and_then(|s| s.replicas).unwrap_or(2);
            let storage_selector = json!({ "hafen.dev/storage": "true" });
            let objects = vec![
                json!({
                    "apiVersion": "piraeus.io/v1",
                    "kind": "LinstorCluster",
                    "metadata": meta("linstorcluster", None, labels),
                    "spec": {
                        "csiNode": { "podTemplate": { "spec": { "containers": [{ "name": "linstor-csi", "resources": daemon_requests("piraeus", "linstor-csi-node") }] } } },
                        "highAvailabilityController": { "podTemplate": { "spec": { "containers": [{ "name": "ha-controller", "resources": daemon_requests("piraeus", "ha-controller") }] } } },
                    }
                }),
                json!({
                    "apiVersion": "piraeus.io/v1",
                    "kind": "LinstorSatelliteConfiguration",
                    "metadata": meta("storage-nodes", None, labels),
                    "spec": {
                        "nodeSelector": storage_selector,
                        // The raw partition Talos provisions on the disk that is not the
                        // system disk, by its stable partition label.
                        "storagePools": [{
                            "name": "nvme",
                            "lvmThinPool": { "volumeGroup": "linstor_nvme", "thinPool": "thin" },
                            "source": { "hostDevices": [talos::STORAGE_DEVICE] },
                        }],
                        "podTemplate": { "spec": { "containers": [{ "name": "linstor-satellite", "resources": daemon_requests("piraeus", "linstor-satellite") }] } },
                    }
                }),
                json!({
                    "apiVersion": "piraeus.io/v1",
                    "kind": "LinstorSatelliteConfiguration",
                    "metadata": meta("talos", None, labels),
                    "spec": {
                        // Talos ships DRBD as a system extension and loads it at boot; the
                        // satellite must not try to build or load the module itself.
                        "podTemplate": { "spec": {
                            "initContainers": [
                                { "name": "drbd-shutdown-guard", "$patch": "delete" },
                                { "name": "drbd-module-loader", "$patch": "delete" },
                            ],
                            "volumes": [
                                { "name": "run-systemd-system", "$patch": "delete" },
                                { "name": "run-drbd-shutdown-guard", "$patch": "delete" },
                                { "name": "systemd-bus-socket", "$patch": "delete" },
                                { "name": "lib-modules", "$patch": "delete" },
                                { "name": "usr-src", "$patch": "delete" },
                                { "name": "etc-lvm-backup", "hostPath": { "path": "/var/etc/lvm/backup", "type": "DirectoryOrCreate" } },
                                { "name": "etc-lvm-archive", "hostPath": { "path": "/var/etc/lvm/archive", "type": "DirectoryOrCreate" } },
                            ],
                        } },
                    }
                }),
                storage_class(
                    "linstor-replicated",
                    "linstor.csi.linbit.com",
                    json!({
                        "linstor.csi.linbit.com/storagePool": "nvme",
                        "linstor.csi.linbit.com/placementCount": replicas.to_string(),
                        "linstor.csi.linbit.com/allowRemoteVolumeAccess": "false",
                    }),
                    true,
                    labels,
                ),
            ];
            p.storage_configs.push(("storage.yaml".into(), objects));
        }
        Some(StorageDriver::Longhorn) => {
            let replicas = cluster.storage.as_ref().and_then(|s| s.replicas).unwrap_or(2);
            p.releases.push(Release {
                component: "longhorn",
                name: "longhorn".into(),
                namespace: "longhorn-system".into(),
                values: json!({
                    "persistence": { "defaultClass": true, "defaultClassReplicaCount": replicas, "reclaimPolicy": "Retain" },
                    "defaultSettings": {
                        "defaultReplicaCount": replicas,
                        "upgradeChecker": false,
                        "allowCollectingLonghornUsageMetrics": false,
                    },
                    // The pre-upgrade job is a Helm hook; GitOps upgrades do not need it.
                    "preUpgradeChecker": { "jobEnabled": false },
                }),
                depends_on: vec![],
                layer: Layer::Controllers,
                namespace_labels: vec![("pod-security.kubernetes.io/enforce", "privileged")],
            });
        }
        Some(StorageDriver::LocalPath) if cluster.os == Os::Talos => {
            p.releases.push(Release {
                component: "local-path",
                name: "local-path-provisioner".into(),
                namespace: "local-path-storage".into(),
                values: json!({
                    "storageClass": { "defaultClass": true, "name": "local-path", "reclaimPolicy": "Retain" },
                    // Talos' root is read-only; /var is the writable system disk.
                    "nodePathMap": [{ "node": "DEFAULT_PATH_FOR_NON_LISTED_NODES", "paths": ["/var/local-path-provisioner"] }],
                }),
                depends_on: vec![],
                layer: Layer::Controllers,
                namespace_labels: vec![("pod-security.kubernetes.io/enforce", "privileged")],
            });
        }
        _ => {}
    }
}

fn storage_class(
    name: &str,
    provisioner: &str,
    parameters: Value,
    default: bool,
    labels: &Map<String, Value>,
) -> Value {
    let mut metadata = meta(name, None, labels);
    if default && let Some(m) = metadata.as_object_mut() {
        m.insert(
            "annotations".into(),
            json!({ "storageclass.kubernetes.io/is-default-class": "true" }),
        );
    }
    json!({
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": metadata,
        "provisioner": provisioner,
        "parameters": parameters,
        "reclaimPolicy": "Retain",
        "allowVolumeExpansion": true,
        "volumeBindingMode": "WaitForFirstConsumer",
    })
}

fn grafana_values(loki: bool) -> Value {
    let mut g = json!({
        "enabled": true,
        "grafana.ini": {
            "analytics": { "reporting_enabled": false, "check_for_updates": false, "check_for_plugin_updates": false },
            "news": { "news_feed_enabled": false },
        },
    });
    if loki && let Some(obj) = g.as_object_mut() {
        obj.insert(
            "additionalDataSources".into(),
            json!([{ "name": "Loki", "type": "loki", "access": "proxy", "url": "http://loki.monitoring.svc:3100" }]),
        );
    }
    g
}

/// Both charts scrape kube-controller-manager, kube-scheduler and etcd by default, on the node
/// address of a kube-system pod labelled as the component. None is there to scrape: Talos binds
/// the controller manager and the scheduler to 127.0.0.1 and runs etcd as a system service, not
/// a pod; K3s runs all three inside its own process. Such scrapes only ever report the component
/// down and keep its alerts firing. Binding them to every interface instead would open them on
/// the nodes' public addresses, which no firewall in this repository closes. The Prometheus
/// stack also scrapes kube-proxy, which does not run where Cilium replaces it.
fn unscraped_components(values: &mut Value, no_kube_proxy: bool) {
    let Some(values) = values.as_object_mut() else { return };
    let mut keys = vec!["kubeControllerManager", "kubeScheduler", "kubeEtcd"];
    if no_kube_proxy {
        keys.push("kubeProxy");
    }
    for key in keys {
        values.insert(key.into(), json!({ "enabled": false }));
    }
}

/// True when the cluster runs no kube-proxy: Cilium replaces it (the same switch as
/// `kubeProxyReplacement` in its values).
fn without_kube_proxy(cluster: &Cluster) -> bool {
    cluster.network.kube_proxy_replacement
        && (cluster.os == Os::Talos || crate::k3s::api_host(cluster).is_some())
}

fn monitoring(cluster: &Cluster, p: &mut Platform) {
    let retention = cluster.monitoring.retention.clone().unwrap_or_else(|| "30d".into());
    let loki = cluster.monitoring.logs == LogsStack::Loki;
    match cluster.monitoring.metrics {
        MetricsStack::VictoriaMetrics => {
            let mut values = json!({
                "vmsingle": { "spec": {
                    "retentionPeriod": retention,
                    "storage": { "resources": { "requests": { "storage": "50Gi" } } },
                } },
                "grafana": grafana_values(loki),
                "defaultDashboards": { "enabled": true },
                "prometheus-node-exporter": { "resources": daemon_requests("victoria-metrics", "node-exporter") },
            });
            // This chart leaves kube-proxy unscraped by default.
            unscraped_components(&mut values, false);
            p.releases.push(Release {
                component: "victoria-metrics",
                name: "victoria-metrics".into(),
                namespace: "monitoring".into(),
                values,
                depends_on: vec![],
                layer: Layer::Controllers,
                namespace_labels: vec![("pod-security.kubernetes.io/enforce", "privileged")],
            })
        }
        MetricsStack::Prometheus => {
            let mut values = json!({
                "prometheus": { "prometheusSpec": {
                    "retention": retention,
                    "storageSpec": { "volumeClaimTemplate": { "spec": { "resources": { "requests": { "storage": "50Gi" } } } } },
                } },
                "grafana": grafana_values(loki),
                "prometheus-node-exporter": { "resources": daemon_requests("kube-prometheus-stack", "node-exporter") },
            });
            unscraped_components(&mut values, without_kube_proxy(cluster));
            p.releases.push(Release {
                component: "kube-prometheus-stack",
                name: "kube-prometheus-stack".into(),
                namespace: "monitoring".into(),
                values,
                depends_on: vec![],
                layer: Layer::Controllers,
                namespace_labels: vec![("pod-security.kubernetes.io/enforce", "privileged")],
            })
        }
        MetricsStack::None => {}
    }
    if loki {
        p.releases.push(Release {
            component: "loki",
            name: "loki".into(),
            namespace: "monitoring".into(),
            values: json!({
                "deploymentMode": "SingleBinary",
                "loki": {
                    "auth_enabled": false,
                    "commonConfig": { "replication_factor": 1 },
                    "storage": { "type": "filesystem" },
                    "schemaConfig": { "configs": [{
                        "from": "2024-04-01", "store": "tsdb", "object_store": "filesystem", "schema": "v13",
                        "index": { "prefix": "index_", "period": "24h" },
                    }] },
                    "limits_config": { "retention_period": "720h" },
                    "compactor": { "retention_enabled": true, "delete_request_store": "filesystem" },
                    "analytics": { "reporting_enabled": false },
                },
                "singleBinary": { "replicas": 1, "persistence": { "size": "50Gi" } },
                "read": { "replicas": 0 },
                "write": { "replicas": 0 },
                "backend": { "replicas": 0 },
                "chunksCache": { "enabled": false },
                "resultsCache": { "enabled": false },
                "lokiCanary": { "enabled": false },
                "test": { "enabled": false },
            }),
            depends_on: vec![],
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
        p.releases.push(Release {
            component: "fluent-bit",
            name: "fluent-bit".into(),
            namespace: "monitoring".into(),
            values: json!({
                "resources": daemon_requests("fluent-bit", "fluent-bit"),
                "tolerations": [{ "operator": "Exists" }],
                "config": { "outputs": format!(
                    "[OUTPUT]\n    Name loki\n    Match kube.*\n    Host loki.monitoring.svc\n    Port 3100\n    Labels job=fluent-bit, cluster={}\n    Auto_Kubernetes_Labels on\n",
                    cluster.name
                ) },
            }),
            depends_on: vec!["loki".into()],
            layer: Layer::Controllers,
            namespace_labels: vec![],
        });
    }
}

/// Bucket and prefix of an `s3://bucket/prefix` target.
pub(crate) fn bucket_prefix(target: &str) -> (String, String) {
    let rest = target.strip_prefix("s3://").unwrap_or(target);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (bucket.to_owned(), prefix.trim_matches('/').to_owned())
}

/// The S3 region for an endpoint: Hetzner object storage names it in the host.
pub(crate) fn s3_region(endpoint: Option<&str>) -> String {
    endpoint
        .map(crate::components::host_of)
        .and_then(|h| h.split('.').next().map(str::to_owned))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "eu-central".into())
}

/// The ExternalSecret template building an AWS-style credentials file from two properties.
pub(crate) fn s3_template() -> Value {
    json!({
        "engineVersion": "v2",
        "data": { "cloud": "[default]\naws_access_key_id={{ .accessKeyId }}\naws_secret_access_key={{ .secretAccessKey }}\n" },
    })
}

fn backups(
    ctx: &mut Ctx<'_>,
    cluster: &Cluster,
    p: &mut Platform,
    labels: &Map<String, Value>,
    openbao: bool,
) {
    let Some(b) = &cluster.backups else { return };
    let (velero_name, velero_key) = velero_secret(b, openbao);
    p.releases.push(Release {
        component: "velero",
        name: "velero".into(),
        namespace: "velero".into(),
        values: json!({
            "initContainers": [{
                "name": "velero-plugin-for-aws",
                "image": format!("docker.io/velero/velero-plugin-for-aws:{}", pin("velero", "velero-plugin-for-aws")),
                "volumeMounts": [{ "mountPath": "/target", "name": "plugins" }],
            }],
            "configuration": {
                // Locations and schedules are plain objects next to this release.
                "backupStorageLocation": [],
                "volumeSnapshotLocation": [],
                "uploaderType": "kopia",
                "defaultVolumesToFsBackup": true,
            },
            "credentials": { "useSecret": true, "existingSecret": velero_name },
            "snapshotsEnabled": false,
            "deployNodeAgent": true,
            "nodeAgent": { "resources": daemon_requests("velero", "velero-node-agent") },
            "upgradeCRDs": false,
            "resources": requests("100m", "256Mi"),
        }),
        depends_on: vec![],
        layer: Layer::Controllers,
        namespace_labels: vec![("pod-security.kubernetes.io/enforce", "privileged")],
    });
    let (bucket, prefix) = bucket_prefix(&b.target);
    let mut storage = Map::new();
    storage.insert("bucket".into(), json!(bucket));
    if !prefix.is_empty() {
        storage.insert("prefix".into(), json!(prefix));
    }
    let mut config = Map::new();
    config.insert("region".into(), json!(s3_region(b.endpoint.as_deref())));
    config.insert("s3ForcePathStyle".into(), json!("true"));
    if let Some(endpoint) = &b.endpoint {
        config.insert("s3Url".into(), json!(endpoint));
    }
    let bsl = json!({
        "apiVersion": "velero.io/v1",
        "kind": "BackupStorageLocation",
        "metadata": meta("default", Some("velero"), labels),
        "spec": {
            "provider": "aws",
            "default": true,
            "objectStorage": storage,
            "config": config,
            "credential": { "name": velero_name, "key": velero_key },
        }
    });
    let schedule = json!({
        "apiVersion": "velero.io/v1",
        "kind": "Schedule",
        "metadata": meta("daily", Some("velero"), labels),
        "spec": {
            "schedule": b.schedule,
            "useOwnerReferencesInBackup": false,
            "template": {
                "includedNamespaces": ["*"],
                "excludedNamespaces": ["kube-system", "velero", "monitoring"],
                "storageLocation": "default",
                "snapshotVolumes": false,
                "defaultVolumesToFsBackup": true,
                "ttl": b.retention,
            },
        }
    });
    p.configs.push(("backups.yaml".into(), vec![bsl, schedule]));
    match (&b.secret_ref, openbao) {
        (Some(reference), true) => {
            // A declared key is a property holding the whole credentials file; without one
            // the file is built from the two access-key properties.
            let (data, template) = match &reference.key {
                Some(key) => (vec![("cloud".into(), reference, Some(key.clone()))], None),
                None => (
                    vec![
                        ("accessKeyId".into(), reference, Some("accessKeyId".into())),
                        ("secretAccessKey".into(), reference, Some("secretAccessKey".into())),
                    ],
                    Some(s3_template()),
                ),
            };
            let es =
                external_secret("velero-s3", "velero", Store::Platform, data, template, labels);
            p.secrets.push(("velero.yaml".into(), vec![es]));
        }
        (None, _) => ctx.open_items.push(format!(
            "Backups of cluster `{}` name no credential (`backups.secretRef`): create the Secret `velero-s3` in `velero` (key `cloud`) by hand.",
            cluster.name
        )),
        _ => {}
    }
}

/// Renders the cluster's platform through the delivery engine.
pub(crate) fn render(ctx: &mut Ctx<'_>, index: usize, cluster: &Cluster) {
    let platform = build(ctx, index, cluster);
    crate::delivery::render_platform(ctx, index, cluster, &platform);
}

#[cfg(test)]
mod tests {
    use super::without_covered;

    fn list(ranges: &[&str]) -> Vec<String> {
        without_covered(ranges.iter().map(|r| (*r).to_string()).collect())
    }

    #[test]
    fn a_range_inside_another_or_equal_to_an_earlier_one_is_left_out() {
        // The vSwitch subnet is part of the Cloud network it is coupled to, whichever comes first.
        assert_eq!(list(&["10.0.1.0/24", "10.0.0.0/16"]), ["10.0.0.0/16"]);
        assert_eq!(list(&["10.0.0.0/16", "10.0.1.0/24"]), ["10.0.0.0/16"]);
        // Equal ranges: the first stays.
        assert_eq!(
            list(&["10.0.0.0/16", "10.96.0.0/12", "10.0.0.0/16"]),
            ["10.0.0.0/16", "10.96.0.0/12"]
        );
        // Neighbours and overlapping-free ranges all stay, in their order.
        assert_eq!(
            list(&["10.245.0.0/16", "10.112.0.0/12", "10.0.0.0/16", "10.244.0.0/16"]),
            ["10.245.0.0/16", "10.112.0.0/12", "10.0.0.0/16", "10.244.0.0/16"]
        );
        // A wide Cloud network holds the pod and service ranges.
        assert_eq!(list(&["10.110.0.0/16", "10.111.0.0/16", "10.0.0.0/9"]), ["10.0.0.0/9"]);
        // Text that is no range is kept once, as written.
        assert_eq!(list(&["nonsense", "10.0.0.0/8", "nonsense"]), ["nonsense", "10.0.0.0/8"]);
    }
}
