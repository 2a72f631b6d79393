//! Sovereignty rules: who can legally reach the data, and which US-controlled services the
//! platform silently depends on.

use crate::platform::{image_registry, url_host};
use crate::{Ctx, facts};
use hafen_catalog::Category;
use hafen_diag::Diagnostic;
use hafen_spec::{DnsProvider, EndpointPurpose, Os};

/// Sites holding a tenant's data: its clusters' sites, their backup sites and the sites of
/// PostgreSQL replica clusters, with the path that puts the data there.
fn data_sites<'a>(ctx: &Ctx<'a>, index: usize) -> Vec<(&'a str, String, String)> {
    let spec = ctx.spec();
    let Some(tenant) = spec.tenants.get(index) else { return Vec::new() };
    let mut out: Vec<(&str, String, String)> = Vec::new();
    let mut push = |site: &'a str, path: String, why: String| {
        if !out.iter().any(|(s, _, _)| *s == site) {
            out.push((site, path, why));
        }
    };
    for (k, name) in tenant.clusters.iter().enumerate() {
        let Some(cluster) = spec.cluster(name) else { continue };
        for site in cluster.sites() {
            push(site, format!("spec.tenants[{index}].clusters[{k}]"), format!("cluster `{name}`"));
        }
        if let Some(b) = &cluster.backups
            && let Some(site) = &b.site
            && let Some(c) = ctx.cluster_index(name)
        {
            push(
                site,
                format!("spec.clusters[{c}].backups.site"),
                format!("the backups of cluster `{name}`"),
            );
        }
    }
    for (j, app) in tenant.apps.iter().enumerate() {
        let Some(replica) = app.postgres.as_ref().and_then(|p| p.replica_cluster.as_deref()) else {
            continue;
        };
        let Some(cluster) = spec.cluster(replica) else { continue };
        for site in cluster.sites() {
            push(
                site,
                format!("spec.tenants[{index}].apps[{j}].postgres.replicaCluster"),
                format!("the database replica of app `{}` in cluster `{replica}`", app.name),
            );
        }
    }
    out
}

rule!(SOV001, Error, "personal data at a provider under US control", sov001);

fn sov001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (i, tenant) in spec.tenants.iter().enumerate() {
        if !tenant.personal_data {
            continue;
        }
        let mut reported: Vec<String> = Vec::new();
        for (site, path, why) in data_sites(ctx, i) {
            let Some(provider) = ctx.site_provider(site) else { continue };
            if !ctx.us_parent(provider) || reported.contains(&provider.name) {
                continue;
            }
            reported.push(provider.name.clone());
            let d = ctx
                .finding(
                    "SOV001",
                    &format!("spec.tenants[{i}].personalData"),
                    format!(
                        "tenant `{}` processes personal data, and {why} places it at site `{site}` of {}, which a US company controls: the US CLOUD Act reaches it wherever the servers stand",
                        tenant.name,
                        ctx.company(provider)
                    ),
                )
                .with_span_label("personal data")
                .with_help("move this tenant's clusters, backups and replicas to providers without a US parent (e.g. Hetzner, Scaleway, IONOS, STACKIT, OVHcloud), or record the legal basis in a suppression");
            out.push(ctx.label(d, &path, format!("{why} is here")));
        }
        // Backups at US object storage named only by endpoint.
        for name in &tenant.clusters {
            let Some(c) = ctx.cluster_index(name) else { continue };
            let Some(endpoint) =
                spec.clusters[c].backups.as_ref().and_then(|b| b.endpoint.as_deref())
            else {
                continue;
            };
            let Some(host) = url_host(endpoint) else { continue };
            let Some(service) = facts::get().us_service(&host) else { continue };
            if reported.contains(&host) {
                continue;
            }
            reported.push(host.clone());
            let d = ctx
                .finding(
                    "SOV001",
                    &format!("spec.tenants[{i}].personalData"),
                    format!(
                        "tenant `{}` processes personal data, and the backups of cluster `{name}` go to `{host}` ({}), which a US company controls",
                        tenant.name, service.operator
                    ),
                )
                .with_span_label("personal data")
                .with_help(format!("back up to {}", facts::get().substitute("storage")));
            out.push(ctx.label(
                d,
                &format!("spec.clusters[{c}].backups.endpoint"),
                "backups leave to a US service here",
            ));
        }
    }
}

rule!(SOV002, Warning, "DNS zone hosted by a US company", sov002);

fn sov002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(dns) = &cluster.dns else { continue };
        let name = match dns.provider {
            DnsProvider::Cloudflare => "cloudflare",
            DnsProvider::Route53 => "route53",
            DnsProvider::Hetzner => "hetzner",
            DnsProvider::Ovh => "ovh",
            DnsProvider::Rfc2136 | DnsProvider::Pdns => continue,
        };
        let Some(fact) = facts::get().dns_providers.entries.iter().find(|e| e.name == name) else {
            continue;
        };
        if !fact.us_parent {
            continue;
        }
        out.push(
            ctx.finding(
                "SOV002",
                &format!("spec.clusters[{i}].dns.provider"),
                format!(
                    "cluster `{}` manages zone `{}` at {}: every name the platform serves resolves through a US-controlled service that can be ordered to change or stop it",
                    cluster.name, dns.zone, fact.operator
                ),
            )
            .with_span_label("US-controlled DNS")
            .with_help("host the zone at an EU provider (`provider: hetzner` or `ovh`) or on your own authoritative servers (`provider: rfc2136` or `pdns`)"),
        );
    }
}

rule!(
    SOV003,
    Warning,
    "images pulled from registry.k8s.io at a provider whose addresses it has blocked",
    sov003
);

/// A cluster's registry mirror when a US-controlled service runs it (`mirror.gcr.io`): such a
/// mirror takes none of the dependency away, so rules treat the cluster as unmirrored.
fn us_mirror(cluster: &hafen_spec::Cluster) -> Option<(String, &'static facts::UsService)> {
    let host = url_host(cluster.registry_mirror.as_deref()?)?;
    let service = facts::get().us_service(&host)?;
    Some((host, service))
}

/// True when the cluster pulls through a mirror that is not itself a US-controlled service.
fn own_mirror(cluster: &hafen_spec::Cluster) -> bool {
    cluster.registry_mirror.is_some() && us_mirror(cluster).is_none()
}

fn sov003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let blocks = &facts::get().registry_blocks;
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if own_mirror(cluster) {
            continue;
        }
        let Some(site) = cluster.sites().into_iter().find(|s| {
            ctx.site_provider(s).is_some_and(|p| blocks.provider_types.contains(&p.type_))
        }) else {
            continue;
        };
        let provider = ctx.site_provider(site).map_or("", |p| p.type_.as_str());
        let d = match us_mirror(cluster) {
            None => ctx
                .finding(
                    "SOV003",
                    &format!("spec.clusters[{i}].name"),
                    format!(
                        "cluster `{}` pulls Kubernetes system images from registry.k8s.io without a mirror, and registry.k8s.io has answered `{provider}` addresses with 403 Forbidden",
                        cluster.name
                    ),
                )
                .with_span_label("no `registryMirror`"),
            Some((host, service)) => ctx
                .finding(
                    "SOV003",
                    &format!("spec.clusters[{i}].registryMirror"),
                    format!(
                        "the registry mirror of cluster `{}` is `{host}`, run by {}: a US service is no mirror of your own, so system images still depend on US registries, and registry.k8s.io has answered `{provider}` addresses with 403 Forbidden",
                        cluster.name, service.operator
                    ),
                )
                .with_span_label("a US-controlled service, not your mirror"),
        };
        out.push(d.with_help(format!(
            "set `registryMirror: https://<your mirror>` on cluster `{}` (a pull-through cache such as Harbor, Zot or Spegel at your provider); new nodes otherwise fail to pull the pause image ({})",
            cluster.name, blocks.source
        )));
    }
}

rule!(SOV004, Warning, "app images from US-controlled registries without a mirror", sov004);

fn sov004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (i, tenant) in spec.tenants.iter().enumerate() {
        let unmirrored: Vec<String> = tenant
            .clusters
            .iter()
            .filter_map(|c| spec.cluster(c))
            .filter(|c| !own_mirror(c))
            .map(|c| match us_mirror(c) {
                Some((host, _)) => format!("`{}` (mirror `{host}` is a US service)", c.name),
                None => format!("`{}`", c.name),
            })
            .collect();
        if unmirrored.is_empty() {
            continue;
        }
        for (j, app) in tenant.apps.iter().enumerate() {
            let registry = image_registry(&app.image);
            let Some(service) = facts::get().us_service(&registry) else { continue };
            out.push(
                ctx.finding(
                    "SOV004",
                    &format!("spec.tenants[{i}].apps[{j}].image"),
                    format!(
                        "app `{}` of tenant `{}` pulls `{}` from {registry}, run by {}, on cluster(s) {} without a registry mirror of your own: a block, rate limit or outage there stops every restart and scale-up",
                        app.name,
                        tenant.name,
                        app.image,
                        service.operator,
                        unmirrored.join(", ")
                    ),
                )
                .with_span_label("US-controlled registry")
                .with_help(format!("push the image to your own registry, or use {}", facts::get().substitute("registry"))),
            );
        }
    }
}

rule!(SOV005, Warning, "Talos discovery through the vendor-run service", sov005);

fn sov005(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.os != Os::Talos || !cluster.discovery.enabled {
            continue;
        }
        let vendor = cluster
            .discovery
            .endpoint
            .as_deref()
            .and_then(url_host)
            .and_then(|h| facts::get().us_service(&h).map(|s| (h, s.operator.clone())));
        let message = match (&cluster.discovery.endpoint, vendor) {
            (None, _) => format!(
                "cluster `{}` enables Talos discovery without an endpoint, so its nodes register with the public discovery service run by Sidero Labs, Inc. (US)",
                cluster.name
            ),
            (Some(_), Some((host, operator))) => format!(
                "cluster `{}` enables Talos discovery at `{host}`, run by {operator}",
                cluster.name
            ),
            (Some(_), None) => continue,
        };
        out.push(
            ctx.finding("SOV005", &format!("spec.clusters[{i}].discovery.enabled"), message)
                .with_span_label("membership data leaves for a US service")
                .with_help("set `discovery: {enabled: false}` unless KubeSpan needs it, or point `endpoint` at a discovery service you run yourself"),
        );
    }
}

rule!(SOV006, Warning, "platform repository hosted by a US-controlled Git service", sov006);

fn sov006(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let repo = &ctx.spec().gitops.repo;
    let Some(host) = url_host(repo) else { return };
    let Some(service) = facts::get().us_service(&host) else { return };
    if service.purpose != "git" {
        return;
    }
    out.push(
        ctx.finding(
            "SOV006",
            "spec.gitops.repo",
            format!(
                "the platform repository lives at `{host}`, run by {}: every cluster's desired state, and the ability to change it, depends on a US-controlled service",
                service.operator
            ),
        )
        .with_span_label("delivery depends on a US service")
        .with_help(format!("host the repository on {}", facts::get().substitute("git"))),
    );
}

fn purpose_key(purpose: EndpointPurpose) -> &'static str {
    match purpose {
        EndpointPurpose::Registry => "registry",
        EndpointPurpose::Dns => "dns",
        EndpointPurpose::Git => "git",
        EndpointPurpose::Discovery => "discovery",
        EndpointPurpose::Time => "time",
        EndpointPurpose::Storage => "storage",
        EndpointPurpose::Telemetry => "telemetry",
        EndpointPurpose::Certificates | EndpointPurpose::Identity | EndpointPurpose::Other => {
            "other"
        }
    }
}

rule!(SOV007, Warning, "declared dependency on a service under US control", sov007);

fn sov007(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let repo_host = url_host(&spec.gitops.repo);
    for (i, endpoint) in spec.endpoints.iter().enumerate() {
        let host = url_host(&endpoint.url).unwrap_or_else(|| endpoint.url.to_ascii_lowercase());
        let known = facts::get().us_service(&host);
        let named = endpoint.operator.as_deref().and_then(|o| facts::get().us_operator(o));
        // A declared `usParent` wins; otherwise a US seat, a known US host or a known US
        // company in the operator's name is enough.
        let us = match endpoint.us_parent {
            Some(v) => v,
            None => {
                endpoint.country.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("US"))
                    || known.is_some()
                    || named.is_some()
            }
        };
        // SOV006 already reports the platform repository's host.
        if !us
            || (endpoint.purpose == EndpointPurpose::Git
                && repo_host.as_deref() == Some(host.as_str()))
        {
            continue;
        }
        let operator = endpoint
            .operator
            .clone()
            .or_else(|| known.map(|k| k.operator.clone()))
            .unwrap_or_else(|| "a US-controlled company".into());
        // An endpoint declared as `other` gets the substitute for what its host is known for.
        let purpose = match (endpoint.purpose, known) {
            (EndpointPurpose::Other, Some(k)) => k.purpose.as_str(),
            _ => purpose_key(endpoint.purpose),
        };
        out.push(
            ctx.finding(
                "SOV007",
                &format!("spec.endpoints[{i}].url"),
                format!(
                    "the platform depends on `{}` at `{host}`, run by {operator}, which a US company controls",
                    endpoint.name
                ),
            )
            .with_span_label("US-controlled dependency")
            .with_help(format!("replace it with {}", facts::get().substitute(purpose))),
        );
    }
}

rule!(SOV008, Warning, "time or DNS resolvers of US companies", sov008);

fn sov008(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        for (k, server) in cluster.time_servers.iter().enumerate() {
            let host = url_host(server).unwrap_or_else(|| server.to_ascii_lowercase());
            let Some(service) = facts::get().us_service(&host) else { continue };
            out.push(
                ctx.finding(
                    "SOV008",
                    &format!("spec.clusters[{i}].timeServers[{k}]"),
                    format!(
                        "cluster `{}` takes its time from `{server}`, run by {}: certificate validation, etcd leases and logs depend on a US-controlled service",
                        cluster.name, service.operator
                    ),
                )
                .with_span_label("US-controlled time source")
                .with_help(format!("use {}", facts::get().substitute("time"))),
            );
        }
    }
}

rule!(SOV009, Error, "personal data stored outside the EEA and adequacy countries", sov009);

fn sov009(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let dp = &facts::get().data_protection;
    if dp.eea.is_empty() {
        return;
    }
    for (i, tenant) in ctx.spec().tenants.iter().enumerate() {
        if !tenant.personal_data {
            continue;
        }
        for (site, path, why) in data_sites(ctx, i) {
            let Some(location) = ctx.location(site) else { continue };
            let country = location.country.to_ascii_uppercase();
            if dp.eea.contains(&country) || dp.adequacy.contains(&country) {
                continue;
            }
            let d = ctx
                .finding(
                    "SOV009",
                    &format!("spec.tenants[{i}].personalData"),
                    format!(
                        "tenant `{}` processes personal data, and {why} stores it at site `{site}` in {} ({country}), outside the EEA and the countries with an EU adequacy decision",
                        tenant.name, location.city
                    ),
                )
                .with_span_label("third-country transfer")
                .with_help("keep the tenant's clusters, backups and replicas at EU locations, or document the transfer mechanism (standard contractual clauses and a transfer impact assessment) in a suppression");
            out.push(ctx.label(d, &path, format!("{why} is here")));
        }
    }
}

rule!(SOV010, Warning, "self-hosted provider without a declared legal seat", sov010);

fn sov010(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, provider) in ctx.spec().providers.iter().enumerate() {
        let Some(info) = ctx.provider_info(provider) else { continue };
        if provider.legal.is_some()
            || (info.category != Category::SelfHosted && info.company.country.is_some())
        {
            continue;
        }
        out.push(
            ctx.finding(
                "SOV010",
                &format!("spec.providers[{i}].type"),
                format!(
                    "provider `{}` ({}) declares no legal seat, so nobody can say which jurisdiction reaches the data on its servers",
                    provider.name, info.display_name
                ),
            )
            .with_span_label("jurisdiction unknown")
            .with_help("add `legal: {country: <ISO code>, usParent: false}` for the organisation that operates these servers"),
        );
    }
}

rule!(
    SOV011,
    Warning,
    "telemetry sent to a third party whose jurisdiction the spec does not declare",
    sov011
);

fn sov011(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, endpoint) in ctx.spec().endpoints.iter().enumerate() {
        // Telemetry to the platform's own sites is not a third party; a US operator is SOV007's.
        if endpoint.purpose != EndpointPurpose::Telemetry
            || endpoint.site.is_some()
            || endpoint.country.is_some()
            || endpoint.us_parent.is_some()
        {
            continue;
        }
        let host = url_host(&endpoint.url).unwrap_or_else(|| endpoint.url.to_ascii_lowercase());
        let named = endpoint.operator.as_deref().and_then(|o| facts::get().us_operator(o));
        if facts::get().us_service(&host).is_some() || named.is_some() {
            continue;
        }
        let who = endpoint.operator.as_deref().map_or_else(
            || "an operator the spec does not name".to_owned(),
            |o| format!("{o}, whose seat the spec does not declare"),
        );
        out.push(
            ctx.finding(
                "SOV011",
                &format!("spec.endpoints[{i}].url"),
                format!(
                    "the platform sends telemetry (`{}`) to `{host}`, run by {who}: what it receives, and who can be compelled to hand it over, is unknown",
                    endpoint.name
                ),
            )
            .with_span_label("undeclared third party")
            .with_help("turn the telemetry off, or declare the endpoint's `operator`, `country` and `usParent` so the sovereignty report can judge it"),
        );
    }
}
