//! Security rules: provider credentials, transport, secret delivery and node-to-node traffic.

use crate::Ctx;
use crate::platform::url_host;
use hafen_catalog::Category;
use hafen_diag::Diagnostic;
use hafen_spec::{CredentialScope, Encryption, SecretRef, SecretsBackend};

rule!(SEC001, Error, "account-wide provider credential delivered to a workload cluster", sec001);

fn sec001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let management = spec.management.as_ref().and_then(|m| m.cluster.as_deref());
    for (i, provider) in spec.providers.iter().enumerate() {
        // Some APIs have no narrower unit than the account (Hetzner Robot has no projects):
        // what the spec calls a project credential reaches every server all the same.
        let api_account_wide = ctx
            .provider_info(provider)
            .and_then(|info| info.api_credentials.as_ref().map(|a| (a.account_wide, info)))
            .filter(|(wide, _)| *wide)
            .map(|(_, info)| info);
        for (j, credential) in provider.credentials.iter().enumerate() {
            let declared_wide = credential.scope == CredentialScope::Account;
            if !declared_wide && api_account_wide.is_none() {
                continue;
            }
            for (k, target) in credential.delivered_to.iter().enumerate() {
                // `management` names the management cluster; when that is one of the spec's
                // clusters, it is judged like any other: it may not also run tenants.
                let cluster =
                    if target == "management" { management } else { Some(target.as_str()) };
                let Some(cluster) = cluster else { continue };
                let tenants = ctx.tenants_on(cluster);
                let is_management = Some(cluster) == management;
                if is_management && tenants.is_empty() {
                    continue;
                }
                let names: Vec<String> =
                    tenants.iter().take(3).map(|(_, t)| format!("`{}`", t.name)).collect();
                let more = if tenants.len() > 3 { ", …" } else { "" };
                let what = match (is_management, target == "management") {
                    (true, true) => format!(
                        "`management`, which is cluster `{cluster}`, and that cluster also runs tenant(s) {}{more}",
                        names.join(", ")
                    ),
                    (true, false) => format!(
                        "the management cluster `{cluster}`, which also runs tenant(s) {}{more}",
                        names.join(", ")
                    ),
                    _ => format!("workload cluster `{cluster}`"),
                };
                let scope = match api_account_wide {
                    Some(info) if !declared_wide => format!(
                        "credential `{}` of provider `{}` is declared `scope: project`, but the {} API has no projects, so it is account-wide; it is delivered to {what}",
                        credential.name, provider.name, info.display_name
                    ),
                    _ => format!(
                        "account-wide credential `{}` of provider `{}` is delivered to {what}",
                        credential.name, provider.name
                    ),
                };
                let restate = if api_account_wide.is_some() && !declared_wide {
                    "write `scope: account`, since the provider cannot issue a narrower credential, and "
                } else {
                    ""
                };
                let help = if is_management {
                    format!(
                        "{restate}move the tenants off `{cluster}` into a workload cluster, or run the controllers that need this credential in a management cluster without tenants; workload clusters get project-scoped tokens only"
                    )
                } else {
                    format!(
                        "{restate}deliver it to `management` only, and give workload clusters project-scoped tokens; for Hetzner Robot, run the controllers that need it in the management cluster"
                    )
                };
                let mut d = ctx
                    .finding(
                        "SEC001",
                        &format!("spec.providers[{i}].credentials[{j}].deliveredTo[{k}]"),
                        format!(
                            "{scope}: anyone who reads its secrets can reinstall, rescue or cancel every server on the account"
                        ),
                    )
                    .with_span_label("account-wide power inside a cluster")
                    .with_help(help);
                if api_account_wide.is_some() && !declared_wide {
                    d = ctx.label(
                        d,
                        &format!("spec.providers[{i}].credentials[{j}].scope"),
                        "the provider's API cannot narrow this",
                    );
                }
                out.push(d);
            }
        }
    }
}

rule!(SEC002, Warning, "personal data on a cluster whose node traffic is not encrypted", sec002);

fn sec002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (c, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.network.encryption != Encryption::None {
            continue;
        }
        // SEC007 and NET009 already report clusters whose traffic crosses the internet.
        if super::network::public_site_pair(ctx, cluster).is_some() {
            continue;
        }
        let tenants: Vec<String> = ctx
            .tenants_on(&cluster.name)
            .iter()
            .filter(|(_, t)| t.personal_data)
            .map(|(_, t)| format!("`{}`", t.name))
            .collect();
        if tenants.is_empty() {
            continue;
        }
        out.push(
            ctx.finding(
                "SEC002",
                &format!("spec.clusters[{c}].network.encryption"),
                format!(
                    "cluster `{}` runs tenant(s) {} that process personal data, but pod traffic between its nodes is not encrypted: anyone on the provider's shared network segment can read it",
                    cluster.name,
                    tenants.join(", ")
                ),
            )
            .with_span_label("no encryption in transit")
            .with_help("set `encryption: wireguard`; GDPR article 32 names encryption as the measure for personal data in transit, and a vSwitch or private network is a VLAN shared with the provider's fabric, not a cable you own"),
        );
    }
}

/// Every URL-like field of the spec, with its path and what it is.
fn urls<'a>(ctx: &Ctx<'a>) -> Vec<(String, &'a str, String)> {
    let spec = ctx.spec();
    let mut out = vec![(
        "spec.gitops.repo".to_owned(),
        spec.gitops.repo.as_str(),
        "the platform repository".to_owned(),
    )];
    for (i, c) in spec.clusters.iter().enumerate() {
        let p = format!("spec.clusters[{i}]");
        if let Some(u) = &c.registry_mirror {
            out.push((
                format!("{p}.registryMirror"),
                u,
                format!("the registry mirror of cluster `{}`", c.name),
            ));
        }
        if let Some(b) = &c.backups {
            out.push((
                format!("{p}.backups.target"),
                &b.target,
                format!("the backup target of cluster `{}`", c.name),
            ));
            if let Some(u) = &b.endpoint {
                out.push((
                    format!("{p}.backups.endpoint"),
                    u,
                    format!("the backup endpoint of cluster `{}`", c.name),
                ));
            }
        }
        if let Some(d) = &c.dns
            && let Some(u) = &d.server
        {
            out.push((
                format!("{p}.dns.server"),
                u,
                format!("the DNS server of cluster `{}`", c.name),
            ));
        }
        if let Some(u) = &c.secrets.address {
            out.push((
                format!("{p}.secrets.address"),
                u,
                format!("the secret store of cluster `{}`", c.name),
            ));
        }
        if let Some(u) = &c.discovery.endpoint {
            out.push((
                format!("{p}.discovery.endpoint"),
                u,
                format!("the discovery service of cluster `{}`", c.name),
            ));
        }
        if let Some(cert) = &c.certificates
            && let Some(u) = &cert.acme_server
        {
            out.push((
                format!("{p}.certificates.acmeServer"),
                u,
                format!("the ACME server of cluster `{}`", c.name),
            ));
        }
    }
    for (i, e) in spec.endpoints.iter().enumerate() {
        out.push((format!("spec.endpoints[{i}].url"), &e.url, format!("endpoint `{}`", e.name)));
    }
    out
}

/// True when a URL carries credentials in its user-info part.
fn has_credentials(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else { return false };
    // ssh://git@host is a user name, not a secret; a password or an HTTP user (a token) is.
    userinfo.contains(':')
        || matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https" | "s3")
}

rule!(SEC003, Error, "credentials written into a URL in the spec", sec003);

fn sec003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (path, url, what) in urls(ctx) {
        if !has_credentials(url) {
            continue;
        }
        let host = url_host(url).unwrap_or_else(|| "the host".into());
        out.push(
            ctx.finding(
                "SEC003",
                &path,
                format!("the URL of {what} carries credentials for `{host}` in plain text"),
            )
            .with_span_label("this would be committed to Git and rendered into manifests")
            .redacted()
            .with_help("remove the `user:password@` part and reference the credential instead (a `secretRef` to OpenBao or a SOPS-encrypted file); rotate the exposed credential"),
        );
    }
}

/// True for hosts that stay inside the cluster or the site's private network: cluster DNS
/// names, private-use names, and loopback or private addresses.
fn internal(host: &str) -> bool {
    let private_ip = |ip: std::net::IpAddr| match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        std::net::IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    };
    host == "localhost"
        || host.ends_with(".svc")
        || host.ends_with(".cluster.local")
        || host.ends_with(".internal")
        || host.ends_with(".local")
        || host.parse::<std::net::IpAddr>().is_ok_and(private_ip)
}

rule!(
    SEC004,
    Error,
    "platform repository, secret store, registry or backups reached over plaintext transport",
    sec004
);

fn sec004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (path, url, what) in urls(ctx) {
        let Some((scheme, _)) = url.split_once("://") else { continue };
        let scheme = scheme.to_ascii_lowercase();
        let relevant = path == "spec.gitops.repo"
            || path.ends_with(".secrets.address")
            || path.ends_with(".registryMirror")
            || path.ends_with(".backups.endpoint");
        if !relevant || !matches!(scheme.as_str(), "http" | "git") {
            continue;
        }
        let host = url_host(url).unwrap_or_default();
        if internal(&host) {
            continue;
        }
        let risk = if path == "spec.gitops.repo" {
            "whoever sits on the path can change what every cluster applies, which is cluster-admin everywhere"
        } else if path.ends_with(".secrets.address") {
            "secret values and the token that reads them cross the network unencrypted"
        } else if path.ends_with(".registryMirror") {
            "images can be swapped in transit"
        } else {
            "backup data crosses the network unencrypted"
        };
        let fix = if scheme == "git" { "`ssh://` or `https://`" } else { "`https://`" };
        out.push(
            ctx.finding(
                "SEC004",
                &path,
                format!("{what} is reached over `{scheme}://` at `{host}`: {risk}"),
            )
            .with_span_label("no transport encryption")
            .with_help(format!("use {fix} with a verified certificate or host key")),
        );
    }
}

/// The secret references a cluster must resolve: its own, its tenants' and the credentials
/// delivered to it.
fn secret_refs<'a>(ctx: &Ctx<'a>, index: usize) -> Vec<(String, &'a SecretRef, String)> {
    let spec = ctx.spec();
    let Some(cluster) = spec.clusters.get(index) else { return Vec::new() };
    let p = format!("spec.clusters[{index}]");
    let mut out = Vec::new();
    if let Some(r) = cluster.dns.as_ref().and_then(|d| d.secret_ref.as_ref()) {
        out.push((format!("{p}.dns.secretRef.store"), r, "the DNS credential".to_owned()));
    }
    if let Some(r) = cluster.backups.as_ref().and_then(|b| b.secret_ref.as_ref()) {
        out.push((format!("{p}.backups.secretRef.store"), r, "the backup credential".to_owned()));
    }
    for (i, tenant) in ctx.tenants_on(&cluster.name) {
        for (j, app) in tenant.apps.iter().enumerate() {
            for (k, s) in app.secrets.iter().enumerate() {
                out.push((
                    format!("spec.tenants[{i}].apps[{j}].secrets[{k}].secretRef.store"),
                    &s.secret_ref,
                    format!("secret `{}` of app `{}`", s.env, app.name),
                ));
            }
        }
    }
    for (i, provider) in spec.providers.iter().enumerate() {
        for (j, credential) in provider.credentials.iter().enumerate() {
            if credential.delivered_to.contains(&cluster.name) {
                out.push((
                    format!("spec.providers[{i}].credentials[{j}].secretRef.store"),
                    &credential.secret_ref,
                    format!("credential `{}`", credential.name),
                ));
            }
        }
    }
    out
}

rule!(SEC005, Error, "secret reference to a store the cluster does not run", sec005);

fn sec005(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let mut reported: Vec<String> = Vec::new();
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let (backend, name) = match cluster.secrets.backend {
            SecretsBackend::Openbao => ("openbao", "OpenBao"),
            SecretsBackend::Sops => ("sops", "SOPS"),
        };
        for (path, r, what) in secret_refs(ctx, i) {
            let Some(store) = &r.store else { continue };
            let store = store.to_ascii_lowercase();
            if !matches!(store.as_str(), "openbao" | "sops") || store == backend {
                continue;
            }
            if reported.contains(&path) {
                continue;
            }
            reported.push(path.clone());
            let d = ctx
                .finding(
                    "SEC005",
                    &path,
                    format!(
                        "{what} is kept in `{store}`, but cluster `{}` delivers secrets with {name}",
                        cluster.name
                    ),
                )
                .with_span_label("the secret never arrives")
                .with_help(format!(
                    "store it in {name} (`store: {backend}`), or switch cluster `{}` to `secrets: {{backend: {store}}}`",
                    cluster.name
                ));
            out.push(ctx.label(
                d,
                &format!("spec.clusters[{i}].secrets"),
                format!("cluster `{}` uses {name}", cluster.name),
            ));
        }
    }
}

rule!(SEC006, Error, "SOPS secrets without an age recipient to encrypt for", sec006);

fn sec006(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.secrets.backend != SecretsBackend::Sops {
            continue;
        }
        let ok = cluster
            .secrets
            .age_recipient
            .as_deref()
            .is_some_and(|r| r.starts_with("age1") && r.len() > 20);
        if ok {
            continue;
        }
        let msg = match &cluster.secrets.age_recipient {
            None => format!(
                "cluster `{}` decrypts secrets with SOPS but names no age recipient",
                cluster.name
            ),
            Some(_) => format!(
                "cluster `{}` names an age recipient that is not an age public key",
                cluster.name
            ),
        };
        out.push(
            ctx.finding("SEC006", &format!("spec.clusters[{i}].secrets"), msg)
                .with_span_label("nothing to encrypt secrets for")
                .with_help("generate a key with `age-keygen`, keep the private key in the cluster's `sops-age` secret only, and set `ageRecipient: age1…` to the public key"),
        );
    }
}

rule!(SEC007, Error, "node-to-node traffic over the public internet without encryption", sec007);

fn sec007(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.network.encryption != Encryption::None
            || super::network::net009_applies(ctx, cluster)
        {
            continue;
        }
        let groups = ctx.node_groups(i);
        let nodes_at = |site: &str| {
            groups.iter().filter(|g| g.site == site).map(|g| u64::from(g.count)).sum::<u64>()
        };
        let public_site = cluster.sites().into_iter().find(|s| {
            let public_provider = ctx.site_info(s).is_some_and(|info| {
                matches!(
                    info.category,
                    Category::Cloud | Category::Dedicated | Category::Hyperscaler
                )
            });
            public_provider && !ctx.has_private_network(s) && nodes_at(s) > 1
        });
        let message = if let Some((a, b)) = super::network::public_site_pair(ctx, cluster) {
            format!(
                "cluster `{}` sends pod and node traffic between sites `{a}` and `{b}` over the public internet without encryption",
                cluster.name
            )
        } else if let Some(site) = public_site {
            format!(
                "nodes of cluster `{}` at site `{site}` have no private network or vSwitch, so pod traffic crosses the provider's public network without encryption",
                cluster.name
            )
        } else if let Some(other) = public_mesh_peer(ctx, i) {
            format!(
                "cluster `{}` is meshed with cluster `{other}`, which it reaches only over the public internet, and does not encrypt pod traffic: cross-cluster calls travel in plain text",
                cluster.name
            )
        } else {
            continue;
        };
        out.push(
            ctx.finding("SEC007", &format!("spec.clusters[{i}].network.encryption"), message)
                .with_span_label("plaintext between nodes")
                .with_help("set `encryption: wireguard` (Cilium encrypts pod traffic between nodes; the MTU is adjusted automatically), or join the nodes over a private network"),
        );
    }
}

/// A cluster of the same Cluster Mesh that no site of this cluster reaches privately.
fn public_mesh_peer<'a>(ctx: &Ctx<'a>, index: usize) -> Option<&'a str> {
    let spec = ctx.spec();
    let platform = &ctx.loaded.platform.metadata.name;
    let cluster = spec.clusters.get(index)?;
    let mesh_name = |c: &hafen_spec::Cluster| {
        c.network.mesh.as_ref().map(|m| m.name.clone().unwrap_or_else(|| platform.clone()))
    };
    let mine = mesh_name(cluster)?;
    spec.clusters
        .iter()
        .enumerate()
        .filter(|(j, c)| *j != index && mesh_name(c).as_deref() == Some(mine.as_str()))
        .find(|(_, c)| {
            !cluster.sites().iter().any(|a| c.sites().iter().any(|b| ctx.private_reachable(a, b)))
        })
        .map(|(_, c)| c.name.as_str())
}

rule!(SEC008, Warning, "public host names without certificates", sec008);

fn sec008(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (c, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.certificates.is_some() || cluster.ingress == hafen_spec::IngressController::None
        {
            continue;
        }
        let apps: Vec<String> = ctx
            .tenants_on(&cluster.name)
            .iter()
            .flat_map(|(_, t)| {
                t.apps.iter().filter(|a| !a.domains.is_empty()).map(|a| format!("`{}`", a.name))
            })
            .collect();
        if apps.is_empty() {
            continue;
        }
        out.push(
            ctx.finding(
                "SEC008",
                &format!("spec.clusters[{c}].name"),
                format!(
                    "cluster `{}` routes public host names of app(s) {} but has no `certificates`: they are served without a trusted TLS certificate",
                    cluster.name,
                    apps.join(", ")
                ),
            )
            .with_span_label("no certificate issuer")
            .with_help("add `certificates: {email: <ops address>}` so cert-manager issues ACME certificates for every domain"),
        );
    }
}

rule!(SEC009, Error, "a credential written into the spec, recognised by its format", sec009);

/// Every string of the platform with its spec path, in document order.
fn strings(value: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::String(s) => out.push((path.to_owned(), s.clone())),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                strings(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let next = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                strings(item, &next, out);
            }
        }
        _ => {}
    }
}

/// True for CamelCase words with at most a number at the end (`NewCheckoutFlow2026`): digits
/// only trailing, and lower-case runs of word length.
fn word_like(v: &str) -> bool {
    let body = v.trim_end_matches(|c: char| c.is_ascii_digit());
    if body.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let runs: Vec<usize> = body
        .split(|c: char| !c.is_ascii_lowercase())
        .filter(|r| !r.is_empty())
        .map(str::len)
        .collect();
    !runs.is_empty() && runs.iter().sum::<usize>() >= 3 * runs.len()
}

/// Where a name, a label or an environment value is expected, a long random-looking word is a
/// token whatever its issuer: 32 or more letters and digits with upper case, lower case and
/// digits mixed (a hex digest has no upper case, a base64 key its `+/=`), and not CamelCase
/// words.
fn random_token(path: &str, value: &str) -> bool {
    let expects_words = path.contains(".env.")
        || path.starts_with("metadata.labels.")
        || path.ends_with(".secretRef.name")
        || path.ends_with(".secretRef.key");
    let v = value.trim();
    expects_words
        && v.len() >= 32
        && v.chars().all(|c| c.is_ascii_alphanumeric())
        && v.chars().any(|c| c.is_ascii_uppercase())
        && v.chars().any(|c| c.is_ascii_lowercase())
        && v.chars().any(|c| c.is_ascii_digit())
        && !word_like(v)
}

fn sec009(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let Ok(json) = serde_json::to_value(&ctx.loaded.platform) else { return };
    let mut all = Vec::new();
    strings(&json, "", &mut all);
    for (path, value) in all {
        if !hafen_diag::credential_ranges(&value).is_empty() {
            continue; // a credential in a URL is SEC003's finding
        }
        let what = match hafen_spec::credentials::credential_format(&value) {
            Some(format) => format.what.clone(),
            None if random_token(&path, &value) => "a random token".to_owned(),
            None => continue,
        };
        let where_ = if path.ends_with(".secretRef.name") || path.ends_with(".secretRef.key") {
            "where the name of a secret belongs"
        } else {
            "in plain text"
        };
        out.push(
            ctx.finding("SEC009", &path, format!("`{path}` holds {what} {where_}"))
                .with_span_label("committed to Git, rendered into manifests")
                .redacted()
                .with_help("revoke it at its issuer now (once committed it stays in the Git history), keep the new one in OpenBao or a SOPS-encrypted file, and reference it with a `secretRef`"),
        );
    }
}
