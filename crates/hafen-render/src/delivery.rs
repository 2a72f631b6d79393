//! Delivery: how Flux or Argo CD applies the rendered repository.
//!
//! Flux runs in every workload cluster and in the management cluster. Each applies its own
//! folder through one `GitRepository` and a chain of `Kustomization`s ordered by `dependsOn`:
//! namespaces → network → storage → secret operators → secrets → controllers → configs →
//! tenants. Each Namespace object belongs to exactly one of them. Third-party charts are pinned
//! `HelmRelease`s with explicit values; Helm keeps at most three revisions and drift detection
//! puts back anything changed by hand, so the repository stays the only truth.
//!
//! Argo CD runs once, in the management cluster, and applies to every workload cluster by
//! name: per cluster an `Application` per component (Helm source with the same pinned chart and
//! values) ordered by sync waves, and per tenant an `ApplicationSet` over the clusters it names,
//! so one definition is deployed identically everywhere.

use crate::components::{self, lookup};
use crate::out::{meta, name};
use crate::platform::{Layer, Platform, Release};
use crate::tenants;
use crate::{Ctx, codes};
use hafen_spec::{Cluster, GitOpsEngine, SecretsBackend};
use serde_json::{Map, Value, json};

const FLUX_NS: &str = "flux-system";
const ARGO_NS: &str = "argocd";
/// The sync wave of a cluster's platform namespaces: before every other Application of it.
const NAMESPACES_WAVE: i32 = -6;
/// Name of the GitRepository every Flux Kustomization reads from.
pub(crate) const SOURCE: &str = "platform";

fn is_flux(ctx: &Ctx<'_>) -> bool {
    ctx.spec.gitops.engine == GitOpsEngine::Flux
}

fn header(cluster: &Cluster, what: &str) -> String {
    format!(
        "Cluster `{}`: {what}.\nRendered by Hafen from the platform spec; edit the spec, not this file.",
        cluster.name
    )
}

/// The Git URL as the delivery engines accept it, or an error. The loader refuses the same
/// URLs ([`hafen_spec::git`]), so `check` has reported this before `render` gets here.
pub(crate) fn repo_url(ctx: &mut Ctx<'_>) -> Option<String> {
    let url = ctx.spec.gitops.repo.clone();
    let Some(problem) = hafen_spec::git::repo_url_problem(&url) else { return Some(url) };
    ctx.error(
        codes::UNSUPPORTED,
        format!("the Git repository `{}` {}", hafen_diag::mask_credentials(&url), problem.reason),
        "spec.gitops.repo",
        &problem.fix,
    );
    None
}

/// The Secret Flux reads the platform repository's credential from: `gitops.secretRef`, or
/// `platform-git` for an SSH URL without one (an SSH source always needs a key; an HTTPS source
/// without a reference is a public repository).
pub(crate) fn flux_git_secret(ctx: &Ctx<'_>) -> Option<String> {
    match &ctx.spec.gitops.secret_ref {
        Some(r) => Some(r.name.clone()),
        None if !is_https(&ctx.spec.gitops.repo) => Some("platform-git".to_owned()),
        None => None,
    }
}

/// True for an HTTP(S) repository URL (credentials are a user name and a token), false for SSH.
pub(crate) fn is_https(repo: &str) -> bool {
    repo.starts_with("https://") || repo.starts_with("http://")
}

/// The `flux create secret git` command creating the repository credential, if one is needed.
pub(crate) fn flux_git_secret_command(ctx: &Ctx<'_>) -> Option<String> {
    let name = flux_git_secret(ctx)?;
    let repo = &ctx.spec.gitops.repo;
    Some(if is_https(repo) {
        format!(
            "flux create secret git {name} --url={repo} --username=<git user> --password=\"$GIT_TOKEN\""
        )
    } else {
        format!("flux create secret git {name} --url={repo} --private-key-file=./deploy-key")
    })
}

fn git_repository(ctx: &Ctx<'_>, url: &str, labels: &Map<String, Value>) -> Value {
    let mut spec = Map::new();
    spec.insert("interval".into(), json!(ctx.spec.gitops.interval));
    spec.insert("url".into(), json!(url));
    spec.insert("ref".into(), json!({ "branch": ctx.spec.gitops.branch }));
    if let Some(secret) = flux_git_secret(ctx) {
        spec.insert("secretRef".into(), json!({ "name": secret }));
    }
    json!({
        "apiVersion": "source.toolkit.fluxcd.io/v1",
        "kind": "GitRepository",
        "metadata": meta(SOURCE, Some(FLUX_NS), labels),
        "spec": spec,
    })
}

/// A Flux Kustomization reading `path` from the platform repository.
fn flux_kustomization(
    ctx: &Ctx<'_>,
    name: &str,
    path: &str,
    depends_on: &[String],
    wait: bool,
    sops: bool,
    labels: &Map<String, Value>,
) -> Value {
    let mut spec = Map::new();
    spec.insert("interval".into(), json!(ctx.spec.gitops.interval));
    spec.insert("retryInterval".into(), json!("2m"));
    spec.insert("timeout".into(), json!("10m"));
    spec.insert("sourceRef".into(), json!({ "kind": "GitRepository", "name": SOURCE }));
    spec.insert("path".into(), json!(ctx.git_path(path)));
    spec.insert("prune".into(), json!(true));
    spec.insert("wait".into(), json!(wait));
    if !depends_on.is_empty() {
        spec.insert(
            "dependsOn".into(),
            Value::Array(depends_on.iter().map(|d| json!({ "name": d })).collect()),
        );
    }
    if sops {
        spec.insert(
            "decryption".into(),
            json!({ "provider": "sops", "secretRef": { "name": "sops-age" } }),
        );
    }
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": meta(name, Some(FLUX_NS), labels),
        "spec": spec,
    })
}

fn namespace(ns: &str, extra: &[(&str, &str)], labels: &Map<String, Value>) -> Value {
    let mut l = labels.clone();
    for (k, v) in extra {
        l.insert((*k).to_owned(), json!(v));
    }
    json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": meta(ns, None, &l) })
}

/// Namespaces that exist on a workload cluster before its delivery engine applies anything:
/// Kubernetes' own, `flux-system` (`flux install`) and, in the cluster Argo CD runs in,
/// `argocd` (installed by hand on day 0).
pub(crate) fn preexisting(ctx: &Ctx<'_>, cluster: &Cluster, ns: &str) -> bool {
    matches!(ns, "kube-system" | "kube-public" | "kube-node-lease" | "default")
        || (is_flux(ctx) && ns == FLUX_NS)
        || (ns == ARGO_NS
            && crate::platform::argocd_home(ctx).as_deref() == Some(cluster.name.as_str()))
}

/// Every namespace the platform layers of a cluster put objects into and that does not exist
/// beforehand, with the Pod Security labels of the releases installed there, in layer order.
/// They are all created by one layer applied before any other (`platform/namespaces/`), so no
/// layer finds its namespace missing (the secrets layer fills namespaces whose controllers
/// come later) and every Namespace object has exactly one owner.
fn platform_namespaces<'a>(
    ctx: &Ctx<'_>,
    cluster: &Cluster,
    platform: &'a Platform,
) -> Vec<(String, Vec<(&'a str, &'a str)>)> {
    let mut out: Vec<(String, Vec<(&str, &str)>)> = Vec::new();
    let mut add = |ns: &str, labels: &[(&'a str, &'a str)]| {
        if preexisting(ctx, cluster, ns) {
            return;
        }
        let i = match out.iter().position(|(n, _)| n == ns) {
            Some(i) => i,
            None => {
                out.push((ns.to_owned(), Vec::new()));
                out.len() - 1
            }
        };
        for l in labels {
            if !out[i].1.contains(l) {
                out[i].1.push(*l);
            }
        }
    };
    for layer in Layer::ALL {
        for r in platform.releases.iter().filter(|r| r.layer == layer) {
            add(&r.namespace, &r.namespace_labels);
        }
    }
    for (_, docs) in
        platform.secrets.iter().chain(&platform.storage_configs).chain(&platform.configs)
    {
        for doc in docs {
            if let Some(ns) = doc.pointer("/metadata/namespace").and_then(Value::as_str) {
                add(ns, &[]);
            }
        }
    }
    out
}

/// True for components whose pods become Ready only after a person's step: OpenBao members
/// start sealed (the chart's readiness probe runs `bao status`, which fails while sealed) and
/// are unsealed by hand (RUNBOOK), also after every restart.
pub(crate) fn ready_only_after_setup(component: &str) -> bool {
    component == "openbao"
}

/// The Flux objects of one release: its chart source and `HelmRelease` (its namespace comes
/// from the namespaces layer).
fn flux_release(release: &Release, all: &[Release], labels: &Map<String, Value>) -> Vec<Value> {
    let Some(component) = lookup(release.component) else { return Vec::new() };
    let mut docs = Vec::new();
    let source_name = name(&[&release.name]);
    let (source, chart_spec) = if let Some(chart) = &component.chart {
        (
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "HelmRepository",
                "metadata": meta(&source_name, Some(FLUX_NS), labels),
                "spec": { "interval": "24h", "url": chart.repository },
            }),
            json!({
                "chart": chart.name,
                "version": chart.version,
                "sourceRef": { "kind": "HelmRepository", "name": source_name, "namespace": FLUX_NS },
            }),
        )
    } else if let Some(git) = &component.git {
        (
            json!({
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": meta(&source_name, Some(FLUX_NS), labels),
                "spec": { "interval": "24h", "url": git.url, "ref": { "tag": git.tag } },
            }),
            json!({
                "chart": git.path,
                "reconcileStrategy": "Revision",
                "sourceRef": { "kind": "GitRepository", "name": source_name, "namespace": FLUX_NS },
            }),
        )
    } else {
        return docs;
    };
    docs.push(source);
    let mut spec = Map::new();
    spec.insert("interval".into(), json!("1h"));
    spec.insert("releaseName".into(), json!(release.name));
    spec.insert("chart".into(), json!({ "spec": chart_spec }));
    let depends: Vec<Value> = release
        .depends_on
        .iter()
        .filter_map(|d| all.iter().find(|r| &r.name == d))
        .map(|r| json!({ "name": r.name, "namespace": r.namespace }))
        .collect();
    if !depends.is_empty() {
        spec.insert("dependsOn".into(), Value::Array(depends));
    }
    let mut install = json!({ "crds": "CreateReplace", "remediation": { "retries": 3 } });
    let mut upgrade = json!({ "crds": "CreateReplace", "cleanupOnFail": true, "remediation": { "retries": 3, "strategy": "rollback" } });
    if ready_only_after_setup(release.component) {
        // Helm's wait would time out on pods that cannot be Ready yet, and the remediation
        // would then uninstall (install) or roll back (upgrade) a release that is fine.
        install["disableWait"] = json!(true);
        upgrade["disableWait"] = json!(true);
    }
    spec.insert("install".into(), install);
    spec.insert("upgrade".into(), upgrade);
    // The repository is the truth: changes made by hand are reverted, and Helm keeps only a
    // short history in the cluster.
    spec.insert("driftDetection".into(), json!({ "mode": "enabled" }));
    spec.insert("maxHistory".into(), json!(3));
    spec.insert("values".into(), release.values.clone());
    docs.push(json!({
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": meta(&release.name, Some(&release.namespace), labels),
        "spec": spec,
    }));
    docs
}

fn write_folder(ctx: &mut Ctx<'_>, dir: &str, files: Vec<(String, String, Vec<Value>)>) {
    let mut resources = Vec::new();
    for (file, head, docs) in files {
        resources.push(file.clone());
        ctx.out.yaml(format!("{dir}/{file}"), &head, docs);
    }
    ctx.out.kustomization(dir, resources);
}

fn sops_readme(
    cluster: &Cluster,
    folder: &str,
    expected: &[String],
    recipient: Option<&str>,
) -> String {
    let mut text = format!(
        "# Secrets of `{folder}` (cluster `{}`)\n\nThis folder holds SOPS-encrypted Secrets only. Flux decrypts them with the age key in the\n`sops-age` Secret of `flux-system`; the repository never holds a value in plain text.\n\nExpected files:\n\n",
        cluster.name
    );
    for e in expected {
        text.push_str(&format!("- `{e}`\n"));
    }
    text.push_str("\nCreate one with\n\n```sh\nkubectl create secret generic NAME -n NAMESPACE --from-literal=KEY=VALUE --dry-run=client -o yaml \\\n  | sops --encrypt --age ");
    text.push_str(recipient.unwrap_or("<age recipient>"));
    text.push_str(" --encrypted-regex '^(data|stringData)$' --input-type yaml --output-type yaml /dev/stdin > FILE.sops.yaml\n```\n");
    text
}

/// The secrets a SOPS cluster's platform expects as encrypted files.
fn sops_expected(ctx: &Ctx<'_>, cluster: &Cluster) -> Vec<String> {
    let mut out = Vec::new();
    if components::has_cloud(ctx.spec, cluster) {
        out.push(
            "hcloud.sops.yaml: Secret `hcloud` in `kube-system` (keys `token`, `network`)"
                .to_owned(),
        );
    }
    if let Some(dns) = cluster.dns.as_ref().filter(|d| d.secret_ref.is_some()) {
        let (secret, keys) = crate::platform::dns_consumed_secret(dns, false);
        let keys: Vec<String> = keys.into_iter().map(|(_, k)| format!("`{k}`")).collect();
        out.push(format!(
            "{secret}.sops.yaml: Secret `{secret}` in `external-dns` (keys {}, as `dns.secretRef` declares it)",
            keys.join(", ")
        ));
    }
    if crate::platform::dns01_rfc2136(cluster).is_some() && cluster.certificates.is_some() {
        out.push(format!(
            "acme-dns-tsig.sops.yaml: Secret `{}` in `cert-manager` (key `secret`, the TSIG key of the DNS-01 solver)",
            crate::platform::ACME_TSIG_SECRET
        ));
    }
    if let Some(b) = &cluster.backups {
        let (secret, key) = crate::platform::velero_secret(b, false);
        out.push(format!("{secret}.sops.yaml: Secret `{secret}` in `velero` (key `{key}`, an AWS credentials file)"));
    }
    out
}

/// Renders a cluster's platform folders and its delivery objects.
pub(crate) fn render_platform(
    ctx: &mut Ctx<'_>,
    index: usize,
    cluster: &Cluster,
    platform: &Platform,
) {
    let c = cluster.name.as_str();
    let labels = ctx.labels(&[]);
    let sops = cluster.secrets.backend == SecretsBackend::Sops;
    if sops && !is_flux(ctx) {
        ctx.error(
            codes::UNSUPPORTED,
            format!("cluster `{c}` keeps secrets with SOPS, which Argo CD cannot decrypt without a plugin"),
            &format!("spec.clusters[{index}].secrets.backend"),
            "use `backend: openbao` with Argo CD, or deliver with Flux (`gitops.engine: flux`)",
        );
        return;
    }
    let base = format!("clusters/{c}/platform");

    // Plain-object folders, the same for both engines.
    let has_secrets = !platform.secrets.is_empty() || sops;
    if sops {
        let text = sops_readme(
            cluster,
            &format!("{base}/secrets"),
            &sops_expected(ctx, cluster),
            cluster.secrets.age_recipient.as_deref(),
        );
        ctx.out.text(format!("{base}/secrets/README.md"), text);
    } else if !platform.secrets.is_empty() {
        let files = platform
            .secrets
            .iter()
            .map(|(f, docs)| {
                (
                    f.clone(),
                    header(cluster, "Platform secrets (references into OpenBao, no values)"),
                    docs.clone(),
                )
            })
            .collect();
        write_folder(ctx, &format!("{base}/secrets"), files);
    }
    let has_storage_configs = !platform.storage_configs.is_empty();
    let has_configs = !platform.configs.is_empty();
    for (folder, configs) in
        [("storage-config", &platform.storage_configs), ("configs", &platform.configs)]
    {
        if configs.is_empty() {
            continue;
        }
        let files = configs
            .iter()
            .map(|(f, docs)| {
                (f.clone(), header(cluster, &config_header(ctx, cluster, f)), docs.clone())
            })
            .collect();
        write_folder(ctx, &format!("{base}/{folder}"), files);
    }
    bootstrap_values(ctx, cluster, platform);

    let namespaces: Vec<Value> = platform_namespaces(ctx, cluster, platform)
        .into_iter()
        .map(|(ns, ns_labels)| namespace(&ns, &ns_labels, &labels))
        .collect();
    let has_namespaces = !namespaces.is_empty();
    if has_namespaces {
        write_folder(
            ctx,
            &format!("{base}/namespaces"),
            vec![(
                "namespaces.yaml".into(),
                header(
                    cluster,
                    "Namespaces of the platform components, applied before every other layer (the secrets\nlayer fills namespaces whose controllers come later); no other layer carries a Namespace",
                ),
                namespaces,
            )],
        );
    }

    if is_flux(ctx) {
        for layer in Layer::ALL {
            let mut files: Vec<(String, String, Vec<Value>)> = Vec::new();
            for r in platform.releases.iter().filter(|r| r.layer == layer) {
                let head = release_header(ctx, cluster, r);
                files.push((
                    format!("{}.yaml", r.name),
                    head,
                    flux_release(r, &platform.releases, &labels),
                ));
            }
            if !files.is_empty() {
                write_folder(ctx, &format!("{base}/{}", layer.folder()), files);
            }
        }
        let Some(url) = ctx.repo_url.clone() else { return };
        // Entry point, applied once by hand: the source and the Kustomization of this folder.
        let sync = vec![
            git_repository(ctx, &url, &labels),
            flux_kustomization(
                ctx,
                "cluster",
                &format!("clusters/{c}"),
                &[],
                false,
                false,
                &labels,
            ),
        ];
        ctx.out.yaml(
            format!("clusters/{c}/flux/sync.yaml"),
            &header(cluster, "Flux source and entry point"),
            sync,
        );
        ctx.out.kustomization(&format!("clusters/{c}/flux"), vec!["sync.yaml".into()]);

        // The layers, each waiting for the one before: namespaces → network → storage →
        // (storage configuration) → secret operators → secrets → controllers → configuration.
        let mut chain: Vec<Value> = Vec::new();
        let mut previous: Vec<String> = Vec::new();
        let step = |ctx: &Ctx<'_>,
                    chain: &mut Vec<Value>,
                    previous: &mut Vec<String>,
                    name: &str,
                    folder: &str,
                    sops: bool| {
            chain.push(flux_kustomization(
                ctx,
                name,
                &format!("{base}/{folder}"),
                previous,
                true,
                sops,
                &labels,
            ));
            *previous = vec![name.to_owned()];
        };
        if has_namespaces {
            step(ctx, &mut chain, &mut previous, "platform-namespaces", "namespaces", false);
        }
        for layer in Layer::ALL {
            if layer == Layer::Controllers && has_secrets {
                step(ctx, &mut chain, &mut previous, "platform-secrets", "secrets", sops);
            }
            if platform.releases.iter().any(|r| r.layer == layer) {
                step(
                    ctx,
                    &mut chain,
                    &mut previous,
                    &format!("platform-{}", layer.folder()),
                    layer.folder(),
                    false,
                );
            }
            if layer == Layer::Storage && has_storage_configs {
                step(
                    ctx,
                    &mut chain,
                    &mut previous,
                    "platform-storage-config",
                    "storage-config",
                    false,
                );
            }
        }
        if has_configs {
            step(ctx, &mut chain, &mut previous, "platform-configs", "configs", false);
        }
        ctx.out.yaml(
            format!("clusters/{c}/platform.yaml"),
            &header(
                cluster,
                "Flux Kustomizations of the platform layers, applied in dependency order",
            ),
            chain,
        );
        let mut tenant_ks = Vec::new();
        let placement = std::sync::Arc::clone(&ctx.placement);
        for &tenant in placement.tenants_on(c) {
            let tenant_name = name(&["tenant", &tenant.name]);
            let ks = flux_kustomization(
                ctx,
                &tenant_name,
                &format!("tenants/{}/overlays/{c}", tenant.name),
                &previous,
                false,
                false,
                &labels,
            );
            tenant_ks.push(ks);
            if sops
                && (tenants::tenant_has_secrets(tenant)
                    || !tenants::sops_db_secrets(ctx.spec, tenant).is_empty())
            {
                // The encrypted Secrets go into the tenant's namespace, which its overlay
                // creates.
                tenant_ks.push(flux_kustomization(
                    ctx,
                    &name(&["tenant", &tenant.name, "secrets"]),
                    &format!("tenants/{}/secrets", tenant.name),
                    &[tenant_name],
                    false,
                    true,
                    &labels,
                ));
            }
        }
        let mut resources = vec!["flux".to_owned(), "platform.yaml".to_owned()];
        if !tenant_ks.is_empty() {
            ctx.out.yaml(
                format!("clusters/{c}/tenants.yaml"),
                &header(cluster, "Flux Kustomizations of the tenants, each after the platform"),
                tenant_ks,
            );
            resources.push("tenants.yaml".into());
        }
        ctx.out.kustomization(&format!("clusters/{c}"), resources);
    } else {
        argo_cluster(
            ctx,
            cluster,
            platform,
            [has_namespaces, has_secrets, has_storage_configs, has_configs],
        );
    }
}

/// What a configuration file holds and why, for its header comment.
fn config_header(ctx: &Ctx<'_>, cluster: &Cluster, file: &str) -> String {
    match file {
        "egress-gateway.yaml" => {
            let ips = cluster.network.egress.as_ref().map(|e| e.ips.join(", ")).unwrap_or_default();
            let pool = crate::platform::egress_pool(cluster).map(|p| p.name.clone()).unwrap_or_default();
            format!(
                "Egress gateway: every tenant namespace leaves through {ips} on the nodes of pool `{pool}`;\nplatform namespaces keep their node's own address. `egressGateway` repeats the first gateway\nonly because the CRD requires the field; Cilium uses the `egressGateways` list"
            )
        }
        "metallb.yaml" => "MetalLB address pool and layer-2 announcement for LoadBalancer services".to_owned(),
        "cluster-issuer.yaml" => match crate::platform::dns01_rfc2136(cluster) {
            Some((dns, _)) => format!(
                "ACME certificate issuer; DNS-01 challenges are written to {} over RFC 2136 with the TSIG key `{}`\n(works for load balancers with private addresses and for names not yet published)",
                dns.server.clone().unwrap_or_else(|| format!("ns1.{}", dns.zone)),
                crate::platform::tsig_key_name(dns)
            ),
            None => "ACME certificate issuer; HTTP-01 challenges are answered through the ingress (tenant\nnetwork policies admit the traefik namespace to cert-manager's solver pods)".to_owned(),
        },
        "backups.yaml" => {
            let target = cluster.backups.as_ref().map(|b| b.target.clone()).unwrap_or_default();
            format!("Velero backup location ({target}) and schedule; metrics and logs are not backed up")
        }
        "storage.yaml" => "Piraeus/LINSTOR: storage pool on the second NVMe disk of the storage nodes (DRBD comes\nwith Talos), and the replicated default StorageClass".to_owned(),
        _ => {
            let _ = ctx;
            "Platform configuration".to_owned()
        }
    }
}

/// What this cluster's Cilium does, read from the values it is given, so the header cannot
/// promise a datapath or a feature the values do not switch on.
fn cilium_summary(values: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    match values["routingMode"].as_str() {
        Some("native") => parts.push("native routing".to_owned()),
        Some("tunnel") => {
            let protocol = match values["tunnelProtocol"].as_str() {
                Some("geneve") => "Geneve",
                _ => "VXLAN",
            };
            parts.push(format!("tunnel routing ({protocol})"));
        }
        _ => {}
    }
    if values["encryption"]["enabled"] == true {
        parts.push("WireGuard encryption".to_owned());
    }
    if values["kubeProxyReplacement"] == true {
        parts.push("kube-proxy replacement".to_owned());
    }
    if values["egressGateway"]["enabled"] == true {
        parts.push("egress gateway".to_owned());
    }
    if values.get("clustermesh").is_some() {
        parts.push("Cluster Mesh".to_owned());
    }
    format!("CNI: {}", parts.join(", "))
}

/// What the Hetzner cloud controller does here, read from its values: routes only when its
/// route controller is on (native routing), Cloud-network addresses only with a network.
fn hcloud_ccm_summary(values: &serde_json::Value) -> String {
    let network = values["networking"]["enabled"] == true;
    let routes = network && values["env"]["HCLOUD_NETWORK_ROUTES_ENABLED"]["value"] == "true";
    let mut parts = vec!["node lifecycle", "provider IDs", "load balancers"];
    if network {
        parts.push("the nodes' Cloud-network addresses");
    }
    if routes {
        parts.push("a Cloud-network route for each node's pod range");
    }
    let last = parts.pop().unwrap_or_default();
    let mut text = format!("{} and {last} for Hetzner Cloud servers", parts.join(", "));
    if !routes {
        text.push_str("; no pod routes (route controller off)");
    }
    text
}

fn release_header(ctx: &Ctx<'_>, cluster: &Cluster, release: &Release) -> String {
    let component = lookup(release.component);
    let version = component.map(|c| c.version.clone()).unwrap_or_default();
    let purpose = match release.component {
        "cilium" => cilium_summary(&release.values),
        "hcloud-ccm" => hcloud_ccm_summary(&release.values),
        _ => component.map(|c| c.purpose.clone()).unwrap_or_default(),
    };
    let mut text = format!(
        "{} {} for cluster `{}`: {}.",
        component.map(|c| c.display_name.clone()).unwrap_or_default(),
        version,
        cluster.name,
        purpose
    );
    if release.component == "cilium" {
        text.push_str(&format!("\nMTU: {}.", crate::docs::mtu_line(ctx, cluster)));
    }
    text.push_str("\nRendered by Hafen from the platform spec; edit the spec, not this file.");
    text
}

/// Day-0 copies of the values of the releases installed by hand before the delivery engine
/// runs (the CNI, and the cloud controller that removes the uninitialised taint).
fn bootstrap_values(ctx: &mut Ctx<'_>, cluster: &Cluster, platform: &Platform) {
    for release in &platform.releases {
        if !matches!(release.component, "cilium" | "hcloud-ccm") {
            continue;
        }
        let Some(component) = lookup(release.component) else { continue };
        let Some(chart) = &component.chart else { continue };
        let mtu = if release.component == "cilium" {
            format!("# MTU: {}.\n", crate::docs::mtu_line(ctx, cluster))
        } else {
            String::new()
        };
        let text = format!(
            "# Values of `{}` ({} {} from {}) for the day-0 install on cluster `{}`,\n# identical to the release in clusters/{}/platform. Rendered by Hafen; see RUNBOOK.md.\n{mtu}{}",
            release.name,
            chart.name,
            chart.version,
            chart.repository,
            cluster.name,
            cluster.name,
            hafen_yaml::emit(&release.values)
        );
        ctx.out.text(format!("bootstrap/{}/{}-values.yaml", cluster.name, release.name), text);
    }
}

/// The sync policy of every Application. No `CreateNamespace`: each namespace is a Namespace
/// object of exactly one Application (the cluster's platform namespaces, or the tenant's
/// overlay), which Argo CD applies before the other objects of that Application.
fn sync_policy() -> Value {
    json!({
        "automated": { "prune": true, "selfHeal": true },
        "syncOptions": ["ServerSideApply=true"],
        "retry": { "limit": 10, "backoff": { "duration": "30s", "factor": 2, "maxDuration": "10m" } },
    })
}

fn argo_app(
    name: &str,
    wave: i32,
    project: &str,
    source: Value,
    destination: Value,
    policy: Value,
    labels: &Map<String, Value>,
) -> Value {
    let mut metadata = meta(name, Some(ARGO_NS), labels);
    if let Some(m) = metadata.as_object_mut() {
        m.insert("annotations".into(), json!({ "argocd.argoproj.io/sync-wave": wave.to_string() }));
        m.insert("finalizers".into(), json!(["resources-finalizer.argocd.argoproj.io"]));
    }
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        "spec": { "project": project, "source": source, "destination": destination, "syncPolicy": policy },
    })
}

/// Argo CD's name for a cluster: its own cluster is `in-cluster` (Argo CD's built-in name for
/// `https://kubernetes.default.svc`), every other cluster the name it is registered under.
pub(crate) fn argo_name(ctx: &Ctx<'_>, cluster: &str) -> String {
    if crate::platform::argocd_home(ctx).as_deref() == Some(cluster) {
        "in-cluster".to_owned()
    } else {
        cluster.to_owned()
    }
}

fn argo_cluster(ctx: &mut Ctx<'_>, cluster: &Cluster, platform: &Platform, folders: [bool; 4]) {
    let [has_namespaces, has_secrets, has_storage_configs, has_configs] = folders;
    let Some(url) = ctx.repo_url.clone() else { return };
    let c = cluster.name.as_str();
    let dest = argo_name(ctx, c);
    let labels = ctx.labels(&[("hafen.dev/cluster", c)]);
    let branch = ctx.spec.gitops.branch.clone();
    let mut apps = Vec::new();
    for release in &platform.releases {
        let Some(component) = lookup(release.component) else { continue };
        let wave = match release.layer {
            Layer::Network => -5,
            Layer::Storage => -4,
            Layer::SecretOperators => -2,
            Layer::Controllers => 0,
        };
        let mut helm = Map::new();
        helm.insert("releaseName".into(), json!(release.name));
        helm.insert("valuesObject".into(), release.values.clone());
        let source = if let Some(chart) = &component.chart {
            json!({ "repoURL": chart.repository, "chart": chart.name, "targetRevision": chart.version, "helm": helm })
        } else if let Some(git) = &component.git {
            json!({ "repoURL": git.url, "path": git.path, "targetRevision": git.tag, "helm": helm })
        } else {
            continue;
        };
        apps.push(argo_app(
            &name(&[c, &release.name]),
            wave,
            "platform",
            source,
            json!({ "name": dest, "namespace": release.namespace }),
            sync_policy(),
            &labels,
        ));
    }
    let folder = |sub: &str| {
        ctx.git_path(&format!("clusters/{c}/platform/{sub}")).trim_start_matches("./").to_owned()
    };
    if has_namespaces {
        apps.push(argo_app(
            &name(&[c, "platform-namespaces"]),
            NAMESPACES_WAVE,
            "platform",
            json!({ "repoURL": url, "targetRevision": branch, "path": folder("namespaces") }),
            json!({ "name": dest }),
            sync_policy(),
            &labels,
        ));
    }
    if has_storage_configs {
        apps.push(argo_app(
            &name(&[c, "platform-storage-config"]),
            -3,
            "platform",
            json!({ "repoURL": url, "targetRevision": branch, "path": folder("storage-config") }),
            json!({ "name": dest }),
            sync_policy(),
            &labels,
        ));
    }
    if has_secrets {
        apps.push(argo_app(
            &name(&[c, "platform-secrets"]),
            -1,
            "platform",
            json!({ "repoURL": url, "targetRevision": branch, "path": folder("secrets") }),
            json!({ "name": dest }),
            sync_policy(),
            &labels,
        ));
    }
    if has_configs {
        apps.push(argo_app(
            &name(&[c, "platform-configs"]),
            1,
            "platform",
            json!({ "repoURL": url, "targetRevision": branch, "path": folder("configs") }),
            json!({ "name": dest }),
            sync_policy(),
            &labels,
        ));
    }
    ctx.out.yaml(
        format!("management/delivery/clusters/{c}.yaml"),
        &header(cluster, "Argo CD Applications of the platform (sync waves: namespaces, network, storage, secrets, controllers, configuration)"),
        apps,
    );
}

/// The repositories the platform project may deploy from: the platform repository and every
/// chart repository a component of some cluster uses.
fn platform_sources(ctx: &Ctx<'_>, url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    for cluster in &ctx.spec.clusters {
        for c in components::components(ctx.loaded, cluster) {
            let source = c
                .chart
                .as_ref()
                .map(|ch| ch.repository.clone())
                .or_else(|| c.git.as_ref().map(|g| g.url.clone()));
            if let Some(source) = source
                && !out.contains(&source)
            {
                out.push(source);
            }
        }
    }
    out[1..].sort();
    out
}

/// Renders `management/delivery/`: how the management cluster applies `management/`, and with
/// Argo CD the projects, per-cluster applications and per-tenant application sets.
pub(crate) fn render_management(ctx: &mut Ctx<'_>) {
    if !crate::management::needs_management(ctx) {
        return;
    }
    let Some(url) = ctx.repo_url.clone() else { return };
    let labels = ctx.labels(&[]);
    let head = |what: &str| {
        format!(
            "{what} of the management cluster.\nRendered by Hafen from the platform spec; edit the spec, not this file."
        )
    };
    if is_flux(ctx) {
        let docs = vec![
            git_repository(ctx, &url, &labels),
            flux_kustomization(ctx, "management", "management", &[], false, false, &labels),
        ];
        ctx.out.yaml("management/delivery/sync.yaml", &head("Flux source and entry point"), docs);
        ctx.out.kustomization("management/delivery", vec!["sync.yaml".into()]);
        return;
    }
    let mut resources = vec!["projects.yaml".to_owned(), "management.yaml".to_owned()];
    let mut projects = vec![json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": meta("platform", Some(ARGO_NS), &labels),
        "spec": {
            "description": "Platform components of every cluster, and the management cluster itself",
            "sourceRepos": platform_sources(ctx, &url),
            "destinations": [{ "name": "*", "namespace": "*" }],
            "clusterResourceWhitelist": [{ "group": "*", "kind": "*" }],
        }
    })];
    let mut sets = Vec::new();
    let mut tenants: Vec<&hafen_spec::Tenant> = ctx.spec.tenants.iter().collect();
    tenants.sort_by(|a, b| a.name.cmp(&b.name));
    for tenant in tenants {
        let clusters = tenants::tenant_clusters(ctx.spec, tenant);
        let destinations: Vec<Value> = clusters
            .iter()
            .map(|c| json!({ "name": argo_name(ctx, c), "namespace": tenant.name }))
            .collect();
        projects.push(json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": meta(&tenant.name, Some(ARGO_NS), &labels),
            "spec": {
                "description": format!("Tenant {}: its namespace on each of its clusters, nothing else", tenant.name),
                "sourceRepos": [url],
                "destinations": destinations,
                "clusterResourceWhitelist": [{ "group": "", "kind": "Namespace" }],
            }
        }));
        let elements: Vec<Value> = clusters
            .iter()
            .map(|c| json!({ "cluster": c, "destination": argo_name(ctx, c) }))
            .collect();
        let path = ctx.git_path(&format!("tenants/{}/overlays", tenant.name));
        let path = path.trim_start_matches("./");
        sets.push(json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": meta(&tenant.name, Some(ARGO_NS), &labels),
            "spec": {
                "goTemplate": true,
                "goTemplateOptions": ["missingkey=error"],
                "generators": [{ "list": { "elements": elements } }],
                "template": {
                    "metadata": {
                        "name": format!("{}-{{{{ .cluster }}}}", tenant.name),
                        "labels": { "hafen.dev/tenant": tenant.name },
                    },
                    "spec": {
                        "project": tenant.name,
                        "source": { "repoURL": url, "targetRevision": ctx.spec.gitops.branch, "path": format!("{path}/{{{{ .cluster }}}}") },
                        "destination": { "name": "{{ .destination }}", "namespace": tenant.name },
                        "syncPolicy": sync_policy(),
                    },
                },
            }
        }));
    }
    ctx.out.yaml("management/delivery/projects.yaml", &head("Argo CD projects"), projects);
    let root = argo_app(
        "management",
        0,
        "platform",
        json!({ "repoURL": url, "targetRevision": ctx.spec.gitops.branch, "path": ctx.git_path("management").trim_start_matches("./") }),
        json!({ "name": "in-cluster", "namespace": ARGO_NS }),
        sync_policy(),
        &labels,
    );
    ctx.out.yaml(
        "management/delivery/management.yaml",
        &head("Argo CD entry point (applies management/, including this file)"),
        vec![root],
    );
    if !sets.is_empty() {
        ctx.out.yaml("management/delivery/tenants.yaml", &head("Argo CD application sets of the tenants, one definition per tenant over its clusters"), sets);
        resources.push("tenants.yaml".into());
    }
    for cluster in &ctx.spec.clusters {
        let path = format!("management/delivery/clusters/{}.yaml", cluster.name);
        if ctx.out.files.contains_key(&path) {
            resources.push(format!("clusters/{}.yaml", cluster.name));
        }
    }
    ctx.out.kustomization("management/delivery", resources);
}

/// Flux per-cluster objects that do not depend on the platform (kept for symmetry with
/// [`render_management`]); everything is written by [`render_platform`].
pub(crate) fn render_cluster(_ctx: &mut Ctx<'_>, _index: usize, _cluster: &Cluster) {}
