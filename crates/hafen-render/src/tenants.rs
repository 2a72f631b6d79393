//! Tenants and their apps: one definition per tenant, rendered identically to every cluster it
//! names. `tenants/<t>/namespace/` holds the tenant's namespace and its guard rails (quota,
//! limits, default-deny network policy with the allowances the apps need, RBAC);
//! `tenants/<t>/base/` adds the apps; `tenants/<t>/overlays/<cluster>/` carries only true
//! per-cluster differences (database backups to that cluster's bucket, spreading over sites,
//! a database standby). A cluster that only holds a tenant's database standby gets the
//! namespace and the standby, not the apps.

use crate::out::{label_map, meta, name};
use crate::platform::{Store, bucket_prefix, external_secret, openbao_store, s3_region};
use crate::{Ctx, codes};
use hafen_spec::{App, AppKind, Cluster, PlatformSpec, SecretsBackend, Spread, Tenant};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Clusters that get an overlay of `tenant`: the ones it names and those holding a database
/// standby of one of its apps; sorted by name.
pub(crate) fn tenant_clusters(spec: &PlatformSpec, tenant: &Tenant) -> Vec<String> {
    let mut out: Vec<String> = tenant.clusters.clone();
    for app in &tenant.apps {
        if let Some(replica) = app.postgres.as_ref().and_then(|p| p.replica_cluster.clone())
            && !out.contains(&replica)
        {
            out.push(replica);
        }
    }
    out.retain(|c| spec.cluster(c).is_some());
    out.sort();
    out.dedup();
    out
}

/// The tenants with an overlay on each cluster, worked out once per render: asked cluster by
/// cluster, a pass over every tenant made 5,000 tenants on 200 clusters a million questions.
pub(crate) struct Placement<'a> {
    /// Cluster → its tenants, sorted by name.
    on: std::collections::BTreeMap<String, Vec<&'a Tenant>>,
}

impl<'a> Placement<'a> {
    pub(crate) fn of(spec: &'a PlatformSpec) -> Placement<'a> {
        let mut on: std::collections::BTreeMap<String, Vec<&'a Tenant>> = Default::default();
        for tenant in &spec.tenants {
            for cluster in tenant_clusters(spec, tenant) {
                on.entry(cluster).or_default().push(tenant);
            }
        }
        for tenants in on.values_mut() {
            tenants.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Placement { on }
    }

    /// Tenants with an overlay on `cluster`, sorted by name.
    pub(crate) fn tenants_on(&self, cluster: &str) -> &[&'a Tenant] {
        self.on.get(cluster).map_or(&[], Vec::as_slice)
    }
}

/// True when some app of the tenant takes secrets.
pub(crate) fn tenant_has_secrets(tenant: &Tenant) -> bool {
    tenant.apps.iter().any(|a| !a.secrets.is_empty())
}

fn sorted_apps(tenant: &Tenant) -> Vec<&App> {
    let mut apps: Vec<&App> = tenant.apps.iter().collect();
    apps.sort_by(|a, b| a.name.cmp(&b.name));
    apps
}

fn header(tenant: &Tenant, what: &str) -> String {
    format!(
        "{what} of tenant `{}`.\nRendered by Hafen from the platform spec; edit the spec, not this file.",
        tenant.name
    )
}

fn app_labels(tenant: &Tenant, app: &App) -> Map<String, Value> {
    label_map(&[
        ("app.kubernetes.io/name", &app.name),
        ("app.kubernetes.io/part-of", &tenant.name),
        ("hafen.dev/tenant", &tenant.name),
    ])
}

fn selector(app: &App) -> Value {
    json!({ "app.kubernetes.io/name": app.name })
}

/// The Postgres image of an app's database: the full minor version pinned in
/// `data/components.yaml` for its major version (a major-only tag moves under a running
/// database), or the major tag where no minor is pinned yet.
pub(crate) fn postgres_image(app: &App) -> String {
    let major = app.postgres.as_ref().and_then(|p| p.version).unwrap_or(17);
    let tag = crate::components::lookup("cloudnative-pg")
        .and_then(|c| c.pins.get(&format!("postgresql-{major}")).cloned())
        .unwrap_or_else(|| major.to_string());
    format!("ghcr.io/cloudnative-pg/postgresql:{tag}")
}

fn db_name(app: &App) -> String {
    name(&[&app.name, "db"])
}

/// Renders every tenant.
pub(crate) fn render(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    let mut tenants: Vec<(usize, &Tenant)> = spec.tenants.iter().enumerate().collect();
    tenants.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    // Tenants render into their own folders, so they can be rendered side by side.
    crate::in_parallel(ctx, &tenants, |ctx, (index, tenant)| render_tenant(ctx, *index, tenant));
}

fn namespace_objects(ctx: &Ctx<'_>, tenant: &Tenant) -> Vec<Value> {
    let t = tenant.name.as_str();
    let mut ns_labels = ctx.labels(&[
        ("hafen.dev/tenant", t),
        // Baseline is enforced so arbitrary images still run; restricted is reported.
        ("pod-security.kubernetes.io/enforce", "baseline"),
        ("pod-security.kubernetes.io/warn", "restricted"),
        ("pod-security.kubernetes.io/audit", "restricted"),
    ]);
    if tenant.personal_data {
        ns_labels.insert("hafen.dev/personal-data".into(), json!("true"));
    }
    let labels = ctx.labels(&[("hafen.dev/tenant", t)]);
    let mut docs = vec![
        json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": meta(t, None, &ns_labels) }),
    ];
    if let Some(quota) = &tenant.quota {
        let mut hard = Map::new();
        hard.insert("requests.cpu".into(), json!(quota.cpu));
        hard.insert("requests.memory".into(), json!(quota.memory));
        if let Some(storage) = &quota.storage {
            hard.insert("requests.storage".into(), json!(storage));
        }
        docs.push(json!({
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": meta("tenant-quota", Some(t), &labels),
            "spec": { "hard": hard },
        }));
    }
    docs.push(json!({
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": meta("defaults", Some(t), &labels),
        "spec": { "limits": [{
            "type": "Container",
            // Containers without requests would be invisible to the scheduler and the quota.
            "defaultRequest": { "cpu": "100m", "memory": "128Mi" },
            "default": { "memory": "512Mi" },
        }] },
    }));
    if let Some(group) = &tenant.group {
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta("tenant-edit", Some(t), &labels),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit" },
            "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group }],
        }));
    }
    docs
}

fn policy(name: &str, ns: &str, labels: &Map<String, Value>, spec: Value) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(name, Some(ns), labels),
        "spec": spec,
    })
}

fn network_policies(ctx: &Ctx<'_>, tenant: &Tenant) -> Vec<Value> {
    let t = tenant.name.as_str();
    let labels = ctx.labels(&[("hafen.dev/tenant", t)]);
    let mut docs = vec![
        policy(
            "default-deny",
            t,
            &labels,
            json!({ "podSelector": {}, "policyTypes": ["Ingress", "Egress"] }),
        ),
        policy(
            "allow-dns",
            t,
            &labels,
            json!({
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{
                    "to": [{
                        "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "kube-system" } },
                        "podSelector": { "matchLabels": { "k8s-app": "kube-dns" } },
                    }],
                    "ports": [{ "protocol": "UDP", "port": 53 }, { "protocol": "TCP", "port": 53 }],
                }],
            }),
        ),
        // The namespace is the tenant's isolation boundary: its apps may talk to each other
        // (and to their databases), nothing else may reach in unless allowed below.
        policy(
            "allow-same-namespace",
            t,
            &labels,
            json!({
                "podSelector": {},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{ "from": [{ "podSelector": {} }] }],
                "egress": [{ "to": [{ "podSelector": {} }] }],
            }),
        ),
        policy(
            "allow-monitoring",
            t,
            &labels,
            json!({
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [{ "from": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "monitoring" } } }] }],
            }),
        ),
    ];
    if tenant.apps.iter().any(|a| !a.domains.is_empty() && a.kind != AppKind::Worker) {
        // cert-manager answers HTTP-01 challenges from solver pods in the tenant's namespace
        // (the namespace of the Ingress); the ingress controller must reach them, or no
        // certificate is ever issued. Harmless where the issuer uses DNS-01.
        docs.push(policy(
            "acme-http01-solver-from-ingress",
            t,
            &labels,
            json!({
                "podSelector": { "matchLabels": { "acme.cert-manager.io/http01-solver": "true" } },
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "traefik" } } }],
                    "ports": [{ "protocol": "TCP", "port": 8089 }],
                }],
            }),
        ));
    }
    for app in sorted_apps(tenant) {
        let sel = selector(app);
        if !app.domains.is_empty() && app.kind != AppKind::Worker {
            docs.push(policy(
                &name(&[&app.name, "from-ingress"]),
                t,
                &labels,
                json!({
                    "podSelector": { "matchLabels": sel },
                    "policyTypes": ["Ingress"],
                    "ingress": [{
                        "from": [{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "traefik" } } }],
                        "ports": [{ "protocol": "TCP", "port": app.port() }],
                    }],
                }),
            ));
        }
        if app.egress.stable_ip {
            // Outgoing internet traffic (mail, allow-listed APIs); it leaves through the
            // cluster's egress gateways and their fixed addresses.
            docs.push(policy(
                &name(&[&app.name, "to-internet"]),
                t,
                &labels,
                json!({
                    "podSelector": { "matchLabels": sel },
                    "policyTypes": ["Egress"],
                    "egress": [{ "to": [{ "ipBlock": { "cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }] }],
                }),
            ));
        }
        if app.postgres.is_some() {
            // Covered by allow-same-namespace today; explicit so that tightening the namespace
            // rule later never cuts an app off its database.
            docs.push(policy(
                &name(&[&app.name, "to-database"]),
                t,
                &labels,
                json!({
                    "podSelector": { "matchLabels": sel },
                    "policyTypes": ["Egress"],
                    "egress": [{
                        "to": [{ "podSelector": { "matchLabels": { "cnpg.io/cluster": db_name(app) } } }],
                        "ports": [{ "protocol": "TCP", "port": 5432 }],
                    }],
                }),
            ));
            docs.push(database_policy(ctx, tenant, app));
        }
    }
    docs
}

/// What a CloudNativePG instance needs besides its own namespace: the operator's status
/// checks, the Kubernetes API (the instance manager watches its Cluster) and object storage.
fn database_policy(ctx: &Ctx<'_>, tenant: &Tenant, app: &App) -> Value {
    let labels = ctx.labels(&[("hafen.dev/tenant", tenant.name.as_str())]);
    json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": meta(&db_name(app), Some(&tenant.name), &labels),
        "spec": {
            "endpointSelector": { "matchLabels": { "cnpg.io/cluster": db_name(app) } },
            "ingress": [{
                "fromEndpoints": [{ "matchLabels": { "k8s:io.kubernetes.pod.namespace": "cnpg-system" } }],
                "toPorts": [{ "ports": [{ "port": "8000", "protocol": "TCP" }] }],
            }],
            "egress": [
                { "toEntities": ["kube-apiserver"] },
                { "toEntities": ["world"], "toPorts": [{ "ports": [{ "port": "443", "protocol": "TCP" }] }] },
            ],
        }
    })
}

/// The workload, service, disruption budget, ingress, secrets and database of one app.
fn app_objects(
    ctx: &mut Ctx<'_>,
    index: usize,
    j: usize,
    tenant: &Tenant,
    app: &App,
    certificates: bool,
) -> Vec<Value> {
    let t = tenant.name.as_str();
    let labels = crate::out::labels(&[&ctx.base_labels, &app_labels(tenant, app)]);
    let sel = selector(app);
    let serves = app.kind != AppKind::Worker;
    let mut docs = vec![json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta(&app.name, Some(t), &labels),
        "automountServiceAccountToken": false,
    })];

    let mut env: Vec<Value> =
        app.env.iter().map(|(k, v)| json!({ "name": k, "value": v })).collect();
    if !app.secrets.is_empty() {
        let sops = tenant_backend(ctx.spec, tenant) == SecretsBackend::Sops;
        let secret = name(&[&app.name, "secrets"]);
        for s in &app.secrets {
            // With SOPS the declared Secret is the one the pod reads; with OpenBao the
            // ExternalSecret below copies the declared path and property into `<app>-secrets`.
            let (secret, key) = if sops {
                (
                    s.secret_ref.name.clone(),
                    s.secret_ref.key.clone().unwrap_or_else(|| s.env.clone()),
                )
            } else {
                (secret.clone(), s.env.clone())
            };
            env.push(json!({ "name": s.env, "valueFrom": { "secretKeyRef": { "name": secret, "key": key } } }));
        }
    }
    if app.postgres.is_some() {
        // CloudNativePG writes the app's credentials into `<db>-app`; nothing is in the repo.
        env.push(json!({ "name": "DATABASE_URL", "valueFrom": { "secretKeyRef": { "name": format!("{}-app", db_name(app)), "key": "uri" } } }));
        env.push(json!({ "name": "DATABASE_HOST", "value": format!("{}-rw", db_name(app)) }));
    }
    let mut container = Map::new();
    container.insert("name".into(), json!(app.name));
    container.insert("image".into(), json!(app.image));
    if serves {
        container.insert(
            "ports".into(),
            json!([{ "name": "http", "containerPort": app.port(), "protocol": "TCP" }]),
        );
    }
    if !env.is_empty() {
        container.insert("env".into(), Value::Array(env));
    }
    container.insert(
        "resources".into(),
        json!({
            "requests": { "cpu": app.resources.cpu, "memory": app.resources.memory },
            // Memory is not compressible: the limit equals the request. CPU is left unlimited
            // so a busy app borrows idle cores instead of being throttled.
            "limits": { "memory": app.resources.memory },
        }),
    );
    if serves {
        container.insert(
            "readinessProbe".into(),
            json!({ "tcpSocket": { "port": "http" }, "periodSeconds": 10, "failureThreshold": 3 }),
        );
    }
    // A port below 1024 needs the one capability for it (a root process binding it), and the
    // pod's unprivileged-port range opened (a non-root process, which gets no capabilities
    // from the container's set): both are allowed under the restricted Pod Security level.
    let low_port = serves && app.port() < 1024;
    let capabilities = if low_port {
        json!({ "drop": ["ALL"], "add": ["NET_BIND_SERVICE"] })
    } else {
        json!({ "drop": ["ALL"] })
    };
    container.insert(
        "securityContext".into(),
        json!({ "allowPrivilegeEscalation": false, "capabilities": capabilities, "seccompProfile": { "type": "RuntimeDefault" } }),
    );
    if !app.volumes.is_empty() {
        let mounts: Vec<Value> = app
            .volumes
            .iter()
            .map(|v| json!({ "name": v.name, "mountPath": v.mount_path }))
            .collect();
        container.insert("volumeMounts".into(), Value::Array(mounts));
    }
    let mut pod = Map::new();
    pod.insert("serviceAccountName".into(), json!(app.name));
    pod.insert("automountServiceAccountToken".into(), json!(false));
    if low_port {
        pod.insert(
            "securityContext".into(),
            json!({ "sysctls": [{ "name": "net.ipv4.ip_unprivileged_port_start", "value": app.port().to_string() }] }),
        );
    }
    // Shared volumes: one claim for all replicas, which the storage must offer as
    // ReadWriteMany when there is more than one replica (checked below).
    let shared: Vec<&hafen_spec::Volume> = app.volumes.iter().filter(|v| v.shared).collect();
    let per_replica: Vec<&hafen_spec::Volume> = app.volumes.iter().filter(|v| !v.shared).collect();
    if !shared.is_empty() && app.replicas > 1 {
        for c in tenant_clusters(ctx.spec, tenant) {
            let Some(cluster) = ctx.spec.cluster(&c) else { continue };
            let driver = crate::components::storage_driver(cluster);
            if driver != Some(hafen_spec::StorageDriver::Longhorn) {
                let k = app.volumes.iter().position(|v| v.shared).unwrap_or(0);
                ctx.error(
                    codes::UNSUPPORTED,
                    format!(
                        "app `{}` of tenant `{t}` shares volume `{}` between {} replicas, but the storage of cluster `{c}` ({}) offers no volume that several pods can write at once (ReadWriteMany)",
                        app.name,
                        shared[0].name,
                        app.replicas,
                        driver.map_or("none", hafen_spec::StorageDriver::as_str)
                    ),
                    &format!("spec.tenants[{index}].apps[{j}].volumes[{k}].shared"),
                    "run one replica (`replicas: 1`), keep the files in object storage instead of a volume, or use `storage.default: longhorn` (shared volumes over NFS) on that cluster",
                );
                break;
            }
        }
    }
    if !shared.is_empty() {
        let volumes: Vec<Value> = shared
            .iter()
            .map(|v| json!({ "name": v.name, "persistentVolumeClaim": { "claimName": name(&[&app.name, &v.name]) } }))
            .collect();
        pod.insert("volumes".into(), Value::Array(volumes));
        for v in &shared {
            let mode = if app.replicas > 1 { "ReadWriteMany" } else { "ReadWriteOnce" };
            docs.push(json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": meta(&name(&[&app.name, &v.name]), Some(t), &labels),
                "spec": { "accessModes": [mode], "resources": { "requests": { "storage": v.size } } },
            }));
        }
    }
    let spread = app.spread();
    if spread != Spread::None && app.replicas >= 2 {
        // Strictly at most one replica per node, as the planner models it (`spread: site` adds
        // a site spread in the overlays of clusters with workers at two or more sites): a
        // skew-based spread over hostnames would put two replicas on one node once nodes run
        // short.
        pod.insert(
            "affinity".into(),
            json!({ "podAntiAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": [{
                "topologyKey": "kubernetes.io/hostname",
                "labelSelector": { "matchLabels": sel },
            }] } }),
        );
    }
    // Large subtrees are moved into place rather than passed through `json!`, which would copy
    // them by serialising (this is the hot path of big platforms).
    pod.insert("containers".into(), Value::Array(vec![Value::Object(container)]));
    let mut template = Map::new();
    template.insert("metadata".into(), json!({ "labels": labels }));
    template.insert("spec".into(), Value::Object(pod));
    let template = Value::Object(template);
    let workload = if per_replica.is_empty() {
        // One single-writer volume cannot be attached to a second pod while the first still
        // runs: such a Deployment replaces its pod instead of rolling.
        let strategy = if !shared.is_empty() && app.replicas <= 1 {
            json!({ "type": "Recreate" })
        } else {
            json!({ "type": "RollingUpdate", "rollingUpdate": { "maxSurge": 1, "maxUnavailable": 0 } })
        };
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta(&app.name, Some(t), &labels),
            "spec": {
                "replicas": app.replicas,
                "revisionHistoryLimit": 5,
                "selector": { "matchLabels": sel },
                "strategy": strategy,
                "template": null,
            }
        })
    } else {
        let claims: Vec<Value> = per_replica
            .iter()
            .map(|v| {
                json!({
                    "metadata": { "name": v.name },
                    "spec": { "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": v.size } } },
                })
            })
            .collect();
        json!({
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": meta(&app.name, Some(t), &labels),
            "spec": {
                "replicas": app.replicas,
                "serviceName": app.name,
                "revisionHistoryLimit": 5,
                "selector": { "matchLabels": sel },
                "podManagementPolicy": "Parallel",
                "template": null,
                "volumeClaimTemplates": claims,
            }
        })
    };
    let mut workload = workload;
    if let Some(slot) = workload.pointer_mut("/spec/template") {
        *slot = template;
    }
    docs.push(workload);
    if serves {
        docs.push(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(&app.name, Some(t), &labels),
            "spec": {
                "selector": sel,
                "ports": [{ "name": "http", "port": 80, "targetPort": "http", "protocol": "TCP" }],
            }
        }));
    }
    let min = app.min_available();
    let budget =
        if min >= 1 { json!({ "minAvailable": min }) } else { json!({ "maxUnavailable": 1 }) };
    let mut pdb_spec = budget.as_object().cloned().unwrap_or_default();
    pdb_spec.insert("selector".into(), json!({ "matchLabels": sel }));
    docs.push(json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(&app.name, Some(t), &labels),
        "spec": pdb_spec,
    }));
    if serves && !app.domains.is_empty() {
        let mut metadata = meta(&app.name, Some(t), &labels);
        let mut spec = Map::new();
        spec.insert("ingressClassName".into(), json!("traefik"));
        if certificates {
            if let Some(m) = metadata.as_object_mut() {
                m.insert("annotations".into(), json!({ "cert-manager.io/cluster-issuer": "acme" }));
            }
            spec.insert(
                "tls".into(),
                json!([{ "hosts": app.domains, "secretName": name(&[&app.name, "tls"]) }]),
            );
        }
        let rules: Vec<Value> = app
            .domains
            .iter()
            .map(|d| {
                json!({ "host": d, "http": { "paths": [{
                    "path": "/",
                    "pathType": "Prefix",
                    "backend": { "service": { "name": app.name, "port": { "name": "http" } } },
                }] } })
            })
            .collect();
        spec.insert("rules".into(), Value::Array(rules));
        docs.push(json!({ "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec }));
    }
    if !app.secrets.is_empty() && tenant_backend(ctx.spec, tenant) == SecretsBackend::Openbao {
        // Read through the tenant's own store, below its own subtree of OpenBao.
        let refs: Vec<hafen_spec::SecretRef> = app
            .secrets
            .iter()
            .map(|s| hafen_spec::SecretRef {
                name: tenant_store_path(tenant, &s.secret_ref.name),
                key: s.secret_ref.key.clone(),
                store: None,
            })
            .collect();
        let data = app.secrets.iter().zip(&refs).map(|(s, r)| (s.env.clone(), r, None)).collect();
        docs.push(external_secret(
            &name(&[&app.name, "secrets"]),
            t,
            Store::Tenant,
            data,
            None,
            &labels,
        ));
    }
    if let Some(pg) = &app.postgres {
        let resources = pg
            .resources
            .clone()
            .unwrap_or(hafen_spec::Resources { cpu: "500m".into(), memory: "1Gi".into() });
        let _ = (index, j);
        docs.push(json!({
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": meta(&db_name(app), Some(t), &labels),
            "spec": {
                "instances": pg.replicas,
                "imageName": postgres_image(app),
                "storage": { "size": pg.size },
                "resources": { "requests": { "cpu": resources.cpu, "memory": resources.memory }, "limits": { "memory": resources.memory } },
                "affinity": { "enablePodAntiAffinity": true, "podAntiAffinityType": "required", "topologyKey": "kubernetes.io/hostname" },
                "bootstrap": { "initdb": { "database": "app", "owner": "app" } },
                "enablePDB": true,
            }
        }));
    }
    docs
}

/// The secret backend of a tenant's clusters when they agree (mixed backends: OpenBao, and the
/// SOPS clusters drop the ExternalSecrets in their overlays).
fn tenant_backend(spec: &PlatformSpec, tenant: &Tenant) -> SecretsBackend {
    let all_sops = tenant
        .clusters
        .iter()
        .filter_map(|c| spec.cluster(c))
        .all(|c| c.secrets.backend == SecretsBackend::Sops);
    if all_sops && !tenant.clusters.is_empty() {
        SecretsBackend::Sops
    } else {
        SecretsBackend::Openbao
    }
}

/// The cluster holding the primary database of an app that has a standby elsewhere.
fn primary_cluster<'a>(tenant: &'a Tenant, app: &App) -> Option<&'a str> {
    let replica = app.postgres.as_ref()?.replica_cluster.as_deref()?;
    tenant.clusters.iter().map(String::as_str).find(|c| *c != replica)
}

fn barman_store(cluster: &Cluster, tenant: &Tenant, app: &App, secret: &str) -> Option<Value> {
    let backups = cluster.backups.as_ref()?;
    let (bucket, prefix) = bucket_prefix(&backups.target);
    let path = if prefix.is_empty() {
        format!("s3://{bucket}/cnpg/{}/{}", tenant.name, app.name)
    } else {
        format!("s3://{bucket}/{prefix}/cnpg/{}/{}", tenant.name, app.name)
    };
    let mut store = Map::new();
    store.insert("destinationPath".into(), json!(path));
    if let Some(endpoint) = &backups.endpoint {
        store.insert("endpointURL".into(), json!(endpoint));
    }
    store.insert(
        "s3Credentials".into(),
        json!({
            "accessKeyId": { "name": secret, "key": "accessKeyId" },
            "secretAccessKey": { "name": secret, "key": "secretAccessKey" },
            "region": { "name": secret, "key": "region" },
        }),
    );
    store.insert("wal".into(), json!({ "compression": "gzip", "maxParallel": 4 }));
    store.insert("data".into(), json!({ "compression": "gzip" }));
    Some(Value::Object(store))
}

/// The subtree of OpenBao a tenant's store reads (its Kubernetes-auth role's policy grants
/// `tenants/<tenant>/*` and nothing else): a tenant's group can create ExternalSecrets in its
/// namespace with any key, and this keeps every one of them inside the tenant's own secrets.
pub(crate) fn tenant_subtree(tenant: &Tenant) -> String {
    format!("tenants/{}/", tenant.name)
}

/// Where an app secret of a tenant lives in OpenBao: below the tenant's subtree. The reference
/// names a path relative to it; the usual `<tenant>/…` spelling and a path already written as
/// `tenants/<tenant>/…` mean the same place (`shop/stripe`, `stripe` and
/// `tenants/shop/stripe` are all `tenants/shop/stripe`).
pub(crate) fn tenant_store_path(tenant: &Tenant, name: &str) -> String {
    let subtree = tenant_subtree(tenant);
    let own = format!("{}/", tenant.name);
    let relative = name
        .strip_prefix(subtree.as_str())
        .or_else(|| name.strip_prefix(own.as_str()))
        .unwrap_or(name);
    format!("{subtree}{relative}")
}

/// True when the tenant reads anything from OpenBao on `cluster`: its apps' secrets where they
/// are deployed, or a database's S3 credential (its own archive, or the primary's archive a
/// standby follows). Exactly then its overlay there has its own SecretStore and OpenBao a role
/// `tenant-<tenant>` on that cluster's Kubernetes auth.
pub(crate) fn tenant_store_on(spec: &PlatformSpec, tenant: &Tenant, cluster: &Cluster) -> bool {
    if cluster.secrets.backend != SecretsBackend::Openbao
        || !tenant_clusters(spec, tenant).contains(&cluster.name)
    {
        return false;
    }
    let deployed = tenant.clusters.contains(&cluster.name);
    let keyed = |c: &Cluster| c.backups.as_ref().is_some_and(|b| b.secret_ref.is_some());
    (deployed && tenant_has_secrets(tenant))
        || tenant.apps.iter().any(|app| {
            let Some(pg) = &app.postgres else { return false };
            let standby = pg.replica_cluster.as_deref() == Some(cluster.name.as_str());
            ((deployed || standby) && keyed(cluster))
                || (standby
                    && primary_cluster(tenant, app)
                        .and_then(|p| spec.cluster(p))
                        .is_some_and(keyed))
        })
}

/// The secret-store path of one tenant database's S3 credential. Each database has its own key
/// (scoped by the operator to its prefix `cnpg/<tenant>/<app>/` of the bucket), never the
/// platform's Velero key: the tenant's group can read its namespace's Secrets, and with the
/// Velero key it could read every backup of the platform.
pub(crate) fn db_backup_path(tenant: &Tenant, app: &App) -> String {
    format!("tenants/{}/{}-db-s3", tenant.name, app.name)
}

/// The S3 credential of a database archive kept at `backups_of` (region and endpoint), as an
/// ExternalSecret where the Secret lands on a cluster with OpenBao (`target`); on a SOPS
/// cluster the Secret is an encrypted file listed in `tenants/<tenant>/secrets/README.md`.
fn s3_secret(
    ctx: &Ctx<'_>,
    backups_of: &Cluster,
    target: &Cluster,
    tenant: &Tenant,
    app: &App,
    secret: &str,
) -> Option<Value> {
    let backups = backups_of.backups.as_ref()?;
    backups.secret_ref.as_ref()?;
    if target.secrets.backend != SecretsBackend::Openbao {
        return None;
    }
    let reference =
        hafen_spec::SecretRef { name: db_backup_path(tenant, app), key: None, store: None };
    let labels = crate::out::labels(&[&ctx.base_labels, &app_labels(tenant, app)]);
    let template = json!({
        "engineVersion": "v2",
        "data": {
            "accessKeyId": "{{ .accessKeyId }}",
            "secretAccessKey": "{{ .secretAccessKey }}",
            "region": s3_region(backups.endpoint.as_deref()),
        },
    });
    Some(external_secret(
        secret,
        &tenant.name,
        Store::Tenant,
        vec![
            ("accessKeyId".into(), &reference, Some("accessKeyId".into())),
            ("secretAccessKey".into(), &reference, Some("secretAccessKey".into())),
        ],
        Some(template),
        &labels,
    ))
}

/// The database credentials a tenant's SOPS clusters expect as encrypted files in
/// `tenants/<tenant>/secrets/`: (file, Secret, what it is).
pub(crate) fn sops_db_secrets(spec: &hafen_spec::PlatformSpec, tenant: &Tenant) -> Vec<String> {
    let mut out = Vec::new();
    for app in sorted_apps(tenant) {
        let Some(pg) = &app.postgres else { continue };
        let db = db_name(app);
        for c in tenant_clusters(spec, tenant) {
            let Some(cluster) = spec.cluster(&c) else { continue };
            if cluster.secrets.backend != SecretsBackend::Sops {
                continue;
            }
            let mut push = |item: String| {
                if !out.contains(&item) {
                    out.push(item);
                }
            };
            let deployed = tenant.clusters.contains(&c);
            let standby = pg.replica_cluster.as_deref() == Some(c.as_str());
            if (deployed || standby)
                && cluster.backups.as_ref().is_some_and(|b| b.secret_ref.is_some())
            {
                let secret = name(&[&db, "s3"]);
                push(format!(
                    "`{secret}.sops.yaml`: Secret `{secret}` in namespace `{}` with keys `accessKeyId`, `secretAccessKey`, `region`: the S3 key of database `{db}`'s own archive prefix (`cnpg/{}/{}/`), never the platform's backup key",
                    tenant.name, tenant.name, app.name
                ));
            }
            if standby {
                let secret = name(&[&db, "primary", "s3"]);
                push(format!(
                    "`{secret}.sops.yaml`: Secret `{secret}` in namespace `{}` with keys `accessKeyId`, `secretAccessKey`, `region`: read access to the primary's archive prefix of database `{db}`",
                    tenant.name
                ));
            }
        }
    }
    out
}

struct Overlay {
    resources: Vec<String>,
    patches: Vec<(String, Value)>,
    files: Vec<(String, Vec<Value>)>,
}

#[allow(clippy::too_many_lines)]
fn render_tenant(ctx: &mut Ctx<'_>, index: usize, tenant: &Tenant) {
    let t = tenant.name.clone();
    let spec = ctx.spec;
    let deployed: Vec<&Cluster> = tenant.clusters.iter().filter_map(|c| spec.cluster(c)).collect();
    // Certificates in the base when every cluster of the tenant issues them.
    let certificates = !deployed.is_empty() && deployed.iter().all(|c| c.certificates.is_some());

    let ns_objects = namespace_objects(ctx, tenant);
    ctx.out.yaml(
        format!("tenants/{t}/namespace/namespace.yaml"),
        &header(tenant, "Namespace, quota, limits and access"),
        ns_objects,
    );
    let policies = network_policies(ctx, tenant);
    ctx.out.yaml(
        format!("tenants/{t}/namespace/network-policies.yaml"),
        &header(tenant, "Network policies: deny by default, then what the apps need"),
        policies,
    );
    ctx.out.kustomization(
        &format!("tenants/{t}/namespace"),
        vec!["namespace.yaml".into(), "network-policies.yaml".into()],
    );

    let mut base = vec!["../namespace".to_owned()];
    let mut apps: Vec<(usize, &App)> = tenant.apps.iter().enumerate().collect();
    apps.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    for (j, app) in &apps {
        let docs = app_objects(ctx, index, *j, tenant, app, certificates);
        let file = format!("{}.yaml", app.name);
        ctx.out.yaml(
            format!("tenants/{t}/base/{file}"),
            &header(tenant, &format!("App `{}`", app.name)),
            docs,
        );
        base.push(file);
    }
    ctx.out.kustomization(&format!("tenants/{t}/base"), base);

    let db_files = sops_db_secrets(spec, tenant);
    if (tenant_has_secrets(tenant) || !db_files.is_empty())
        && tenant_clusters(spec, tenant)
            .iter()
            .filter_map(|c| spec.cluster(c))
            .any(|c| c.secrets.backend == SecretsBackend::Sops)
    {
        let mut text = format!(
            "# Secrets of tenant `{t}`\n\nSOPS-encrypted Secrets only; Flux decrypts them on clusters whose secrets backend is `sops`.\n\nExpected files:\n\n"
        );
        if tenant_backend(spec, tenant) == SecretsBackend::Sops {
            // The Secrets as the spec declares them (`secretRef` name and key), which the
            // apps read directly.
            let mut declared: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for app in sorted_apps(tenant) {
                for s in &app.secrets {
                    let key = s.secret_ref.key.clone().unwrap_or_else(|| s.env.clone());
                    declared
                        .entry(s.secret_ref.name.clone())
                        .or_default()
                        .push(format!("`{key}` (`{}` of app `{}`)", s.env, app.name));
                }
            }
            for (secret, keys) in declared {
                text.push_str(&format!(
                    "- `{secret}.sops.yaml`: Secret `{secret}` in namespace `{t}` with keys {}\n",
                    keys.join(", ")
                ));
            }
        } else {
            // Clusters of this tenant that read OpenBao copy each declared path into
            // `<app>-secrets`; the SOPS clusters need the same Secret, so the apps read one name.
            for app in sorted_apps(tenant) {
                if app.secrets.is_empty() {
                    continue;
                }
                let keys: Vec<String> = app
                    .secrets
                    .iter()
                    .map(|s| {
                        format!(
                            "`{}` (the value of `{}`{})",
                            s.env,
                            s.secret_ref.name,
                            s.secret_ref
                                .key
                                .as_ref()
                                .map(|k| format!(" key `{k}`"))
                                .unwrap_or_default()
                        )
                    })
                    .collect();
                text.push_str(&format!(
                    "- `{}.sops.yaml`: Secret `{}` in namespace `{t}` with keys {}\n",
                    app.name,
                    name(&[&app.name, "secrets"]),
                    keys.join(", ")
                ));
            }
        }
        for item in &db_files {
            text.push_str(&format!("- {item}\n"));
        }
        ctx.out.text(format!("tenants/{t}/secrets/README.md"), text);
    }

    for cluster_name in tenant_clusters(spec, tenant) {
        let Some(cluster) = spec.cluster(&cluster_name) else { continue };
        let deployed_here = tenant.clusters.contains(&cluster_name);
        let mut overlay = Overlay { resources: Vec::new(), patches: Vec::new(), files: Vec::new() };
        if deployed_here {
            overlay.resources.push("../../base".into());
        } else {
            overlay.resources.push("../../namespace".into());
        }
        if deployed_here {
            overlay_differences(ctx, tenant, cluster, certificates, &mut overlay);
        }
        if tenant_store_on(spec, tenant, cluster) {
            overlay.files.push(("secret-store.yaml".into(), tenant_store(ctx, tenant, cluster)));
        }
        for app in sorted_apps(tenant) {
            database_overlay(ctx, index, tenant, app, cluster, deployed_here, &mut overlay);
        }
        let dir = format!("tenants/{t}/overlays/{cluster_name}");
        for (file, docs) in &overlay.files {
            ctx.out.yaml(
                format!("{dir}/{file}"),
                &header(tenant, &format!("Cluster `{cluster_name}` only")),
                docs.clone(),
            );
            overlay.resources.push(file.clone());
        }
        let mut extra = Map::new();
        if !overlay.patches.is_empty() {
            let mut patch_list = Vec::new();
            for (file, patch) in &overlay.patches {
                ctx.out.yaml(
                    format!("{dir}/patches/{file}"),
                    &header(tenant, &format!("Patch for cluster `{cluster_name}`")),
                    vec![patch.clone()],
                );
                patch_list.push(json!({ "path": format!("patches/{file}") }));
            }
            extra.insert("patches".into(), Value::Array(patch_list));
        }
        ctx.out.kustomization_with(&dir, overlay.resources.clone(), extra);
    }
}

/// The tenant's own SecretStore on one cluster: OpenBao's Kubernetes auth for that cluster,
/// logging in as the tenant's own service account with a role bound to exactly that account
/// and namespace, whose policy reads only the tenant's subtree (RUNBOOK). No other tenant can
/// use it (a SecretStore serves its own namespace only), and the tenant cannot use the
/// platform's ClusterSecretStore (its conditions list the platform namespaces).
fn tenant_store(ctx: &Ctx<'_>, tenant: &Tenant, cluster: &Cluster) -> Vec<Value> {
    let t = tenant.name.as_str();
    let labels = ctx.labels(&[("hafen.dev/tenant", t)]);
    vec![
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta("openbao", Some(t), &labels),
            "automountServiceAccountToken": false,
        }),
        openbao_store(
            "SecretStore",
            "openbao",
            Some(t),
            cluster,
            &format!("tenant-{t}"),
            ("openbao", t),
            None,
            &labels,
        ),
    ]
}

/// Per-cluster differences of a deployed tenant: spreading over sites, no certificates, the
/// secret backend.
/// The cluster that publishes a multi-cluster tenant's shared names: the first of its clusters
/// that manages DNS. Two ExternalDNS instances with different owners cannot share one record
/// (the second sees the first's ownership record and leaves the name alone), so exactly one
/// cluster owns each shared name.
pub(crate) fn dns_owner<'a>(ctx: &Ctx<'a>, tenant: &Tenant) -> Option<&'a Cluster> {
    let served = tenant_clusters(ctx.spec, tenant);
    let with_dns = |names: &[String]| -> Vec<&'a Cluster> {
        names.iter().filter_map(|c| ctx.spec.cluster(c)).filter(|c| c.dns.is_some()).collect()
    };
    if with_dns(&served).len() < 2 {
        return None;
    }
    // The spec's order decides: the first of the tenant's own `clusters:` that manages DNS.
    with_dns(&tenant.clusters).first().copied().or_else(|| with_dns(&served).first().copied())
}

/// The per-cluster name of a shared domain: `<cluster>.<domain>`.
pub(crate) fn cluster_hostname(cluster: &Cluster, domain: &str) -> String {
    format!("{}.{domain}", cluster.name)
}

/// The names ExternalDNS of `cluster` publishes for an app of a tenant served by several
/// clusters with DNS: its own per-cluster names, and the shared names only on the owner.
fn dns_hostnames(
    ctx: &Ctx<'_>,
    tenant: &Tenant,
    app: &App,
    cluster: &Cluster,
) -> Option<Vec<String>> {
    if app.domains.is_empty() || app.kind == AppKind::Worker || cluster.dns.is_none() {
        return None;
    }
    let owner = dns_owner(ctx, tenant)?;
    let mut names: Vec<String> = Vec::new();
    if owner.name == cluster.name {
        names.extend(app.domains.iter().cloned());
    }
    names.extend(app.domains.iter().map(|d| cluster_hostname(cluster, d)));
    Some(names)
}

fn overlay_differences(
    ctx: &Ctx<'_>,
    tenant: &Tenant,
    cluster: &Cluster,
    certificates: bool,
    overlay: &mut Overlay,
) {
    let worker_sites: Vec<&str> = {
        let mut s: Vec<&str> = cluster
            .node_pools
            .iter()
            .filter(|p| p.runs_workloads())
            .map(|p| cluster.pool_site(p))
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    for app in sorted_apps(tenant) {
        let kind = if app.volumes.iter().all(|v| v.shared) { "Deployment" } else { "StatefulSet" };
        if worker_sites.len() >= 2
            && app.replicas >= 2
            && matches!(app.spread(), Spread::Site | Spread::Node)
        {
            overlay.patches.push((
                format!("{}-spread-sites.yaml", app.name),
                json!({
                    "apiVersion": "apps/v1",
                    "kind": kind,
                    "metadata": { "name": app.name, "namespace": tenant.name },
                    "spec": { "template": { "spec": { "topologySpreadConstraints": [{
                        "maxSkew": 1,
                        "topologyKey": "hafen.dev/site",
                        "whenUnsatisfiable": if app.spread() == Spread::Site { "DoNotSchedule" } else { "ScheduleAnyway" },
                        "nodeTaintsPolicy": "Honor",
                        "labelSelector": { "matchLabels": selector(app) },
                    }] } } },
                }),
            ));
        }
        if worker_sites.len() >= 2
            && app.spread() == Spread::Site
            && app.postgres.as_ref().is_some_and(|pg| pg.replicas >= 2)
            && app.postgres.as_ref().and_then(|pg| pg.replica_cluster.as_deref())
                != Some(cluster.name.as_str())
        {
            // Primary and replica in different sites, as the planner places them.
            overlay.patches.push((
                format!("{}-db-spread-sites.yaml", app.name),
                json!({
                    "apiVersion": "postgresql.cnpg.io/v1",
                    "kind": "Cluster",
                    "metadata": { "name": db_name(app), "namespace": tenant.name },
                    "spec": { "affinity": { "enablePodAntiAffinity": true, "podAntiAffinityType": "required", "topologyKey": "hafen.dev/site" } },
                }),
            ));
        }
        if certificates || app.domains.is_empty() || app.kind == AppKind::Worker {
            // Certificates are in the base, or there is no Ingress.
        } else if cluster.certificates.is_some() {
            overlay.patches.push((
                format!("{}-tls.yaml", app.name),
                json!({
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "metadata": {
                        "name": app.name,
                        "namespace": tenant.name,
                        "annotations": { "cert-manager.io/cluster-issuer": "acme" },
                    },
                    "spec": { "tls": [{ "hosts": app.domains, "secretName": name(&[&app.name, "tls"]) }] },
                }),
            ));
        }
        if let Some(hostnames) = dns_hostnames(ctx, tenant, app, cluster) {
            overlay.patches.push((
                format!("{}-dns.yaml", app.name),
                json!({
                    "apiVersion": "networking.k8s.io/v1",
                    "kind": "Ingress",
                    "metadata": {
                        "name": app.name,
                        "namespace": tenant.name,
                        "annotations": {
                            "external-dns.alpha.kubernetes.io/ingress-hostname-source": "annotation-only",
                            "external-dns.alpha.kubernetes.io/hostname": hostnames.join(","),
                        },
                    },
                }),
            ));
        }
        if !app.secrets.is_empty()
            && cluster.secrets.backend == SecretsBackend::Sops
            && tenant_backend(ctx.spec, tenant) == SecretsBackend::Openbao
        {
            overlay.patches.push((
                format!("{}-no-external-secret.yaml", app.name),
                json!({
                    "$patch": "delete",
                    "apiVersion": "external-secrets.io/v1",
                    "kind": "ExternalSecret",
                    "metadata": { "name": name(&[&app.name, "secrets"]), "namespace": tenant.name },
                }),
            ));
        }
    }
}

/// The database of an app on one cluster: backups to the cluster's bucket, and the standby
/// that follows the primary's archive where the spec asks for one.
#[allow(clippy::too_many_arguments)]
fn database_overlay(
    ctx: &mut Ctx<'_>,
    index: usize,
    tenant: &Tenant,
    app: &App,
    cluster: &Cluster,
    deployed_here: bool,
    overlay: &mut Overlay,
) {
    let Some(pg) = &app.postgres else { return };
    let db = db_name(app);
    let secret = name(&[&db, "s3"]);
    let j = tenant.apps.iter().position(|a| a.name == app.name).unwrap_or(0);
    let is_standby = pg.replica_cluster.as_deref() == Some(cluster.name.as_str());
    if !deployed_here && !is_standby {
        return;
    }
    let labels = crate::out::labels(&[&ctx.base_labels, &app_labels(tenant, app)]);
    let own_store = barman_store(cluster, tenant, app, &secret);
    let mut need_secret = own_store.is_some();
    if is_standby {
        let Some(primary) = primary_cluster(tenant, app).and_then(|c| ctx.spec.cluster(c)) else {
            ctx.error(
                codes::UNSUPPORTED,
                format!("app `{}` keeps its database standby on `{}`, but the tenant runs on no other cluster", app.name, cluster.name),
                &format!("spec.tenants[{index}].apps[{j}].postgres.replicaCluster"),
                "name a cluster other than the one holding the primary",
            );
            return;
        };
        let primary_secret = name(&[&db, "primary", "s3"]);
        let Some(source_store) = barman_store(primary, tenant, app, &primary_secret) else {
            ctx.error(
                codes::MISSING,
                format!(
                    "the database standby of app `{}` on `{}` follows the primary's archive, but cluster `{}` has no backups",
                    app.name, cluster.name, primary.name
                ),
                &format!("spec.tenants[{index}].apps[{j}].postgres.replicaCluster"),
                "add `backups:` (an S3 target) to the primary's cluster",
            );
            return;
        };
        let mut source = source_store;
        if let Some(obj) = source.as_object_mut() {
            obj.insert("serverName".into(), json!(db));
        }
        let source_name = name(&[&db, "primary"]);
        let replica_spec = json!({
            "bootstrap": { "initdb": null, "recovery": { "source": source_name } },
            "replica": { "enabled": true, "source": source_name },
            "externalClusters": [{ "name": source_name, "barmanObjectStore": source }],
        });
        if let Some(s) = s3_secret(ctx, primary, cluster, tenant, app, &primary_secret) {
            overlay.files.push((format!("{primary_secret}.yaml"), vec![s]));
        }
        if deployed_here {
            let mut patch = json!({
                "apiVersion": "postgresql.cnpg.io/v1",
                "kind": "Cluster",
                "metadata": { "name": db, "namespace": tenant.name },
                "spec": replica_spec,
            });
            if let (Some(store), Some(spec)) =
                (&own_store, patch.get_mut("spec").and_then(Value::as_object_mut))
            {
                spec.insert(
                    "backup".into(),
                    json!({ "barmanObjectStore": store, "retentionPolicy": "30d" }),
                );
            }
            overlay.patches.push((format!("{db}-standby.yaml"), patch));
        } else {
            let resources = pg
                .resources
                .clone()
                .unwrap_or(hafen_spec::Resources { cpu: "500m".into(), memory: "1Gi".into() });
            let mut spec = json!({
                "instances": pg.replicas,
                "imageName": postgres_image(app),
                "storage": { "size": pg.size },
                "resources": { "requests": { "cpu": resources.cpu, "memory": resources.memory }, "limits": { "memory": resources.memory } },
                "affinity": { "enablePodAntiAffinity": true, "podAntiAffinityType": "required", "topologyKey": "kubernetes.io/hostname" },
                "bootstrap": { "recovery": { "source": source_name } },
                "replica": { "enabled": true, "source": source_name },
                "externalClusters": [{ "name": source_name, "barmanObjectStore": source_store_or_null(&replica_spec) }],
                "enablePDB": true,
            });
            if let (Some(store), Some(obj)) = (&own_store, spec.as_object_mut()) {
                obj.insert(
                    "backup".into(),
                    json!({ "barmanObjectStore": store, "retentionPolicy": "30d" }),
                );
            }
            overlay.files.push((
                format!("{db}-standby.yaml"),
                vec![json!({
                    "apiVersion": "postgresql.cnpg.io/v1",
                    "kind": "Cluster",
                    "metadata": meta(&db, Some(&tenant.name), &labels),
                    "spec": spec,
                })],
            ));
            need_secret = own_store.is_some();
        }
    } else if let Some(store) = &own_store {
        overlay.patches.push((
            format!("{db}-backup.yaml"),
            json!({
                "apiVersion": "postgresql.cnpg.io/v1",
                "kind": "Cluster",
                "metadata": { "name": db, "namespace": tenant.name },
                "spec": { "backup": { "barmanObjectStore": store, "retentionPolicy": "30d" } },
            }),
        ));
    }
    if need_secret {
        if let Some(s) = s3_secret(ctx, cluster, cluster, tenant, app, &secret) {
            overlay.files.push((format!("{secret}.yaml"), vec![s]));
        }
        if !is_standby {
            overlay.files.push((
                format!("{db}-backup-schedule.yaml"),
                vec![json!({
                    "apiVersion": "postgresql.cnpg.io/v1",
                    "kind": "ScheduledBackup",
                    "metadata": meta(&db, Some(&tenant.name), &labels),
                    "spec": {
                        // Seconds first: CloudNativePG schedules use six fields.
                        "schedule": format!("0 {}", cluster.backups.as_ref().map_or("0 3 * * *", |b| b.schedule.as_str())),
                        // The first base backup now, not at the first scheduled time: until it
                        // exists neither a restore nor a standby that follows the archive works.
                        "immediate": true,
                        "backupOwnerReference": "self",
                        "cluster": { "name": db },
                        "method": "barmanObjectStore",
                    }
                })],
            ));
        }
    }
}

fn source_store_or_null(replica_spec: &Value) -> Value {
    replica_spec.pointer("/externalClusters/0/barmanObjectStore").cloned().unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_answers_what_a_pass_over_every_tenant_would() {
        let mut sources = hafen_diag::Sources::new();
        let (catalog, _) = hafen_catalog::Catalog::builtin(&mut sources);
        let text = include_str!("../../../examples/two-cities/platform.yaml");
        let (loaded, diagnostics) = hafen_spec::load_str("p.yaml", text, &mut sources, &catalog);
        let mut spec = loaded.unwrap_or_else(|| panic!("{diagnostics:?}")).platform.spec;
        let clusters: Vec<String> = spec.clusters.iter().map(|c| c.name.clone()).collect();
        assert!(clusters.len() >= 2, "{clusters:?}");
        // Tenants named out of order, one only on a standby cluster, one on a cluster that
        // does not exist, one twice on the same cluster.
        let template = spec.tenants[0].clone();
        for (name, on, standby) in [
            ("zz-last", vec![clusters[0].clone()], Some(clusters[1].clone())),
            ("aa-first", vec![clusters[1].clone()], None),
            ("mm-nowhere", vec!["no-such-cluster".to_owned()], None),
            ("bb-twice", vec![clusters[0].clone(), clusters[0].clone()], Some(clusters[0].clone())),
        ] {
            let mut t = template.clone();
            t.name = name.to_owned();
            t.clusters = on;
            for app in &mut t.apps {
                if let Some(pg) = app.postgres.as_mut() {
                    pg.replica_cluster = standby.clone();
                }
            }
            spec.tenants.push(t);
        }
        let placement = Placement::of(&spec);
        for cluster in clusters.iter().map(String::as_str).chain(["no-such-cluster", "x"]) {
            let mut expected: Vec<&Tenant> = spec
                .tenants
                .iter()
                .filter(|t| tenant_clusters(&spec, t).iter().any(|c| c == cluster))
                .collect();
            expected.sort_by(|a, b| a.name.cmp(&b.name));
            let names = |ts: &[&Tenant]| ts.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
            assert_eq!(names(placement.tenants_on(cluster)), names(&expected), "{cluster}");
        }
        let first = names_on(&placement, &clusters[0]);
        assert!(first.contains(&"zz-last".to_owned()) && first.contains(&"bb-twice".to_owned()));
        assert_eq!(first.iter().filter(|n| *n == "bb-twice").count(), 1);
        assert!(names_on(&placement, &clusters[1]).contains(&"zz-last".to_owned()), "standby");
        assert!(placement.tenants_on("no-such-cluster").is_empty());
    }

    fn names_on(placement: &Placement<'_>, cluster: &str) -> Vec<String> {
        placement.tenants_on(cluster).iter().map(|t| t.name.clone()).collect()
    }
}
