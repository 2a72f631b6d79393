//! Semantic checks of a schema-valid platform: names, references, formats, catalogue facts.

use crate::codes;
use crate::net::Cidr;
use crate::{Platform, SpanIndex, is_dns_label, quantity};
use hafen_catalog::{Catalog, codes as cat};
use hafen_diag::Diagnostic;
use hafen_yaml::schema::did_you_mean;

struct Checker<'a> {
    spans: &'a SpanIndex,
    out: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn at(&self, path: &str) -> Option<hafen_diag::Span> {
        self.spans.nearest(path)
    }

    fn name(&mut self, name: &str, path: &str, what: &str) {
        if is_dns_label(name) {
            return;
        }
        let suggestion: String = name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .chars()
            .take(63)
            .collect();
        let mut d = Diagnostic::error(
            codes::INVALID_NAME,
            format!("{what} name `{name}` is not a DNS label"),
        )
        .with_span(self.at(path))
        .with_path(path)
        .with_span_label("lowercase letters, digits and `-` only, at most 63")
        .with_note(
            "names become Kubernetes object names and folder names in the rendered repository",
        );
        d = if is_dns_label(&suggestion) {
            d.with_help(format!("rename it, e.g. `{suggestion}`"))
        } else {
            // Nothing of the name survives (`.`, `---`, `日本`): show the shape instead.
            d.with_help(format!(
                "rename it with lowercase letters, digits and `-`, starting and ending with a letter or digit, e.g. `{}-1`",
                what.replace(' ', "-")
            ))
        };
        self.out.push(d);
    }

    fn unique<'n>(&mut self, what: &str, items: impl IntoIterator<Item = (&'n str, String)>) {
        let mut seen: Vec<(&str, String)> = Vec::new();
        for (name, path) in items {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let d = Diagnostic::error(
                    codes::DUPLICATE_NAME,
                    format!("duplicate {what} name `{name}`"),
                )
                .with_span(self.spans.object(&path))
                .with_path(format!("{path}.name"))
                .with_span_label("defined again here")
                .with_label(self.spans.object(first), "first defined here")
                .with_help(format!("give each {what} its own name"));
                self.out.push(d);
            } else {
                seen.push((name, path));
            }
        }
    }

    fn reference(&mut self, value: &str, path: &str, what: &str, candidates: &[&str]) -> bool {
        if candidates.contains(&value) {
            return true;
        }
        // A blank name is a stand-in for one the schema pass reported missing or malformed:
        // never a suggestion.
        let candidates: Vec<&str> = candidates.iter().copied().filter(|c| !c.is_empty()).collect();
        let candidates = candidates.as_slice();
        let mut d = Diagnostic::error(
            codes::UNDEFINED_REFERENCE,
            format!("{what} `{value}` is not defined"),
        )
        .with_span(self.at(path))
        .with_path(path)
        .with_span_label(format!("no {what} of this name"));
        d = match did_you_mean(value, candidates.iter().copied()) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if candidates.is_empty() => d.with_help(format!("define the {what} first")),
            None => d.with_help(format!(
                "defined {what}s: {}",
                candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            )),
        };
        self.out.push(d);
        false
    }

    fn format(&mut self, path: &str, message: String, help: impl Into<String>) {
        self.out.push(
            Diagnostic::error(codes::INVALID_FORMAT, message)
                .with_span(self.at(path))
                .with_path(path)
                .with_help(help),
        );
    }

    fn limit(&mut self, path: &str, message: String, help: impl Into<String>) {
        // A total is shown at its largest part; when that part is over its own cap already,
        // one finding there says enough.
        if self.out.iter().any(|d| d.path.as_deref() == Some(path)) {
            return;
        }
        self.out.push(
            Diagnostic::error(hafen_yaml::codes::INVALID_VALUE, message)
                .with_span(self.at(path))
                .with_path(path)
                .with_span_label("too large")
                .with_help(help),
        );
    }

    fn cidr(&mut self, text: &str, path: &str) {
        if let Err(why) = Cidr::parse(text) {
            let help = match why.split_once("the network is ") {
                Some((_, network)) => format!("write {network}"),
                None => "write an address range such as `10.244.0.0/16`".into(),
            };
            self.format(path, format!("`{text}` is not a valid CIDR: {why}"), help);
        }
    }

    fn cpu(&mut self, text: &str, path: &str) {
        if quantity::cpu_millis(text).is_none() {
            self.format(
                path,
                format!("`{text}` is not a CPU quantity"),
                "write cores (`2`, `0.5`) or millicores (`500m`)",
            );
        }
    }

    fn memory(&mut self, text: &str, path: &str) {
        match quantity::bytes(text) {
            None => self.format(
                path,
                format!("`{text}` is not a memory or storage quantity"),
                "write a size such as `512Mi`, `1Gi` or `20Gi`",
            ),
            Some(b) if b > 0 && b < 1024 * 1024 && text.chars().all(|c| c.is_ascii_digit()) => self
                .format(
                    path,
                    format!(
                        "`{text}` is {text} bytes, which is almost certainly not what was meant"
                    ),
                    format!("add a unit, e.g. `{text}Mi` or `{text}Gi`"),
                ),
            Some(_) => {}
        }
    }

    fn date(&mut self, text: &str, path: &str) {
        if hafen_catalog::parse_date(text).is_none() {
            self.format(
                path,
                format!("`{text}` is not a date"),
                "write the date as YYYY-MM-DD, e.g. `2026-10-01`",
            );
        }
    }
}

fn is_k8s_version(text: &str) -> bool {
    let text = text.strip_prefix('v').unwrap_or(text);
    let parts: Vec<&str> = text.split('.').collect();
    (parts.len() == 2 || parts.len() == 3)
        && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn is_domain(text: &str) -> bool {
    let host = text.strip_prefix("*.").unwrap_or(text);
    host.contains('.')
        && crate::formats::dns_labels(host)
        && host.bytes().all(|b| !b.is_ascii_uppercase())
}

/// Checks everything the schema cannot express and returns the catalogue extended with the
/// spec's inline locations and server types.
pub(crate) fn validate(
    platform: &Platform,
    spans: &SpanIndex,
    catalog: &Catalog,
) -> (Catalog, Vec<Diagnostic>) {
    let mut c = Checker { spans, out: Vec::new() };
    let spec = &platform.spec;
    let mut catalog = catalog.clone();

    c.name(&platform.metadata.name, "metadata.name", "platform");
    gitops(&mut c, &spec.gitops);

    // Providers and the catalogue.
    c.unique(
        "provider",
        spec.providers
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), format!("spec.providers[{i}]"))),
    );
    for (i, provider) in spec.providers.iter().enumerate() {
        let path = format!("spec.providers[{i}]");
        c.name(&provider.name, &format!("{path}.name"), "provider");
        let Some(info) = catalog.providers.iter_mut().find(|p| p.type_ == provider.type_) else {
            let types: Vec<&str> = catalog.provider_types().collect();
            let mut d = Diagnostic::error(
                cat::UNKNOWN_PROVIDER_TYPE,
                format!("provider type `{}` is not in the catalogue", provider.type_),
            )
            .with_span(spans.nearest(&format!("{path}.type")))
            .with_path(format!("{path}.type"))
            .with_span_label("unknown provider type");
            d = match did_you_mean(&provider.type_, types.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!(
                    "known types: {}; describe others in a catalogue file passed with `--catalog`",
                    types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
                )),
            };
            c.out.push(d);
            continue;
        };
        // Inline declarations extend this provider for this spec only. Each spec provider gets
        // its own copy when two accounts of one type declare different hardware.
        for location in &provider.locations {
            info.locations.retain(|l| l.name != location.name);
            info.locations.push(location.clone());
        }
        for server_type in &provider.server_types {
            info.server_types.retain(|s| s.name != server_type.name);
            info.server_types.push(server_type.clone());
        }
        for (j, credential) in provider.credentials.iter().enumerate() {
            c.name(&credential.name, &format!("{path}.credentials[{j}].name"), "credential");
        }
    }
    let provider_names: Vec<&str> = spec.providers.iter().map(|p| p.name.as_str()).collect();

    // Sites.
    c.unique(
        "site",
        spec.sites.iter().enumerate().map(|(i, s)| (s.name.as_str(), format!("spec.sites[{i}]"))),
    );
    for (i, site) in spec.sites.iter().enumerate() {
        let path = format!("spec.sites[{i}]");
        c.name(&site.name, &format!("{path}.name"), "site");
        if !c.reference(&site.provider, &format!("{path}.provider"), "provider", &provider_names) {
            continue;
        }
        let Some(provider) = spec.provider(&site.provider) else { continue };
        if let Some(info) = catalog.provider(&provider.type_) {
            if info.location(&site.location).is_none() {
                let names: Vec<&str> = info.locations.iter().map(|l| l.name.as_str()).collect();
                let mut d = Diagnostic::error(
                    cat::UNKNOWN_LOCATION,
                    format!(
                        "provider `{}` ({}) has no location `{}`",
                        provider.name, info.type_, site.location
                    ),
                )
                .with_span(spans.nearest(&format!("{path}.location")))
                .with_path(format!("{path}.location"))
                .with_span_label("unknown location");
                d = match did_you_mean(&site.location, names.iter().copied()) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None if names.is_empty() => d.with_help(format!(
                        "declare the location under `locations:` of provider `{}`",
                        provider.name
                    )),
                    None => d.with_help(format!(
                        "locations of {}: {}",
                        info.display_name,
                        names.join(", ")
                    )),
                };
                c.out.push(d);
            }
            for (j, replacement) in site.replacement_capacity.iter().enumerate() {
                server_type_ref(
                    &mut c,
                    &catalog,
                    provider,
                    &replacement.server_type,
                    &format!("{path}.replacementCapacity[{j}].serverType"),
                );
            }
        }
        let net = &site.network;
        if let Some(vswitch) = &net.vswitch {
            c.cidr(&vswitch.subnet, &format!("{path}.network.vswitch.subnet"));
            if !(1..=4094).contains(&vswitch.vlan) {
                c.format(
                    &format!("{path}.network.vswitch.vlan"),
                    format!("VLAN id {} is out of range", vswitch.vlan),
                    "use a VLAN id between 1 and 4094 (4000–4091 on Hetzner)",
                );
            }
            if !(576..=9216).contains(&vswitch.mtu) {
                c.format(
                    &format!("{path}.network.vswitch.mtu"),
                    format!("MTU {} is out of range", vswitch.mtu),
                    "a Hetzner vSwitch carries MTU 1400",
                );
            }
        }
        if let Some(private) = &net.private_network {
            c.cidr(&private.subnet, &format!("{path}.network.privateNetwork.subnet"));
        }
        if let Some(mtu) = net.underlay_mtu
            && !(576..=9216).contains(&mtu)
        {
            c.format(
                &format!("{path}.network.underlayMTU"),
                format!("MTU {mtu} is out of range"),
                "typical values: 1500 (Ethernet), 1450 (Hetzner Cloud network), 1400 (vSwitch)",
            );
        }
    }
    let site_names: Vec<&str> = spec.sites.iter().map(|s| s.name.as_str()).collect();

    for (i, link) in spec.links.iter().enumerate() {
        let path = format!("spec.links[{i}]");
        if link.sites.len() != 2 {
            c.format(
                &format!("{path}.sites"),
                format!("a link joins two sites, found {}", link.sites.len()),
                "list exactly two site names",
            );
        }
        for (j, site) in link.sites.iter().enumerate() {
            c.reference(site, &format!("{path}.sites[{j}]"), "site", &site_names);
        }
    }

    // Clusters.
    c.unique(
        "cluster",
        spec.clusters
            .iter()
            .enumerate()
            .map(|(i, k)| (k.name.as_str(), format!("spec.clusters[{i}]"))),
    );
    let cluster_names: Vec<&str> = spec.clusters.iter().map(|k| k.name.as_str()).collect();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let path = format!("spec.clusters[{i}]");
        c.name(&cluster.name, &format!("{path}.name"), "cluster");
        c.reference(&cluster.site, &format!("{path}.site"), "site", &site_names);
        if !is_k8s_version(&cluster.kubernetes) {
            c.format(
                &format!("{path}.kubernetes"),
                format!("`{}` is not a Kubernetes version", cluster.kubernetes),
                "write the version in quotes, e.g. `\"1.34.5\"`",
            );
        }
        for (j, site) in cluster.control_plane.sites.iter().enumerate() {
            c.reference(site, &format!("{path}.controlPlane.sites[{j}]"), "site", &site_names);
        }
        if cluster.control_plane.replicas == 0 {
            c.format(
                &format!("{path}.controlPlane.replicas"),
                "a cluster needs at least one control-plane node".into(),
                "use 3 control-plane nodes",
            );
        }
        for site in cluster.control_plane_sites() {
            if let Some(provider) = spec.site_provider(site) {
                server_type_ref(
                    &mut c,
                    &catalog,
                    provider,
                    &cluster.control_plane.server_type,
                    &format!("{path}.controlPlane.serverType"),
                );
                break;
            }
        }
        c.unique(
            "node pool",
            cluster
                .node_pools
                .iter()
                .enumerate()
                .map(|(j, p)| (p.name.as_str(), format!("{path}.nodePools[{j}]"))),
        );
        for (j, pool) in cluster.node_pools.iter().enumerate() {
            let pool_path = format!("{path}.nodePools[{j}]");
            c.name(&pool.name, &format!("{pool_path}.name"), "node pool");
            if let Some(site) = &pool.site {
                c.reference(site, &format!("{pool_path}.site"), "site", &site_names);
            }
            if let Some(provider) = spec.site_provider(cluster.pool_site(pool)) {
                server_type_ref(
                    &mut c,
                    &catalog,
                    provider,
                    &pool.server_type,
                    &format!("{pool_path}.serverType"),
                );
            }
            for (k, taint) in pool.taints.iter().enumerate() {
                let ok = taint.split_once(':').is_some_and(|(_, effect)| {
                    matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute")
                });
                if !ok {
                    c.format(&format!("{pool_path}.taints[{k}]"), format!("`{taint}` is not a taint"), "write `key=value:NoSchedule` (effects: NoSchedule, PreferNoSchedule, NoExecute)");
                }
            }
        }
        let net = &cluster.network;
        c.cidr(&net.pod_cidr, &format!("{path}.network.podCIDR"));
        c.cidr(&net.service_cidr, &format!("{path}.network.serviceCIDR"));
        if let Some(node_cidr) = &net.node_cidr {
            c.cidr(node_cidr, &format!("{path}.network.nodeCIDR"));
        }
        if let crate::Mtu::Value(mtu) = net.mtu
            && !(576..=9216).contains(&mtu)
        {
            c.format(
                &format!("{path}.network.mtu"),
                format!("MTU {mtu} is out of range"),
                "use `auto`, or a value between 1280 and 9000",
            );
        }
        if let Some(egress) = &net.egress {
            for (k, ip) in egress.ips.iter().enumerate() {
                if ip.parse::<std::net::IpAddr>().is_err() {
                    c.format(
                        &format!("{path}.network.egress.ips[{k}]"),
                        format!("`{ip}` is not an IP address"),
                        "list single public addresses, e.g. `203.0.113.10`",
                    );
                }
            }
            if let Some(pool) = &egress.pool {
                let pools: Vec<&str> = cluster.node_pools.iter().map(|p| p.name.as_str()).collect();
                c.reference(pool, &format!("{path}.network.egress.pool"), "node pool", &pools);
            }
        }
        if let Some(mesh) = &net.mesh
            && !(1..=255).contains(&mesh.id)
        {
            c.out.push(
                Diagnostic::error(
                    hafen_yaml::codes::INVALID_VALUE,
                    format!("mesh id {} is outside 1–255", mesh.id),
                )
                .with_span(spans.nearest(&format!("{path}.network.mesh.id")))
                .with_path(format!("{path}.network.mesh.id"))
                .with_help("Cilium Cluster Mesh ids run from 1 to 255 (0 means no mesh)"),
            );
        }
        if let Some(backups) = &cluster.backups {
            if let Some(site) = &backups.site {
                c.reference(site, &format!("{path}.backups.site"), "site", &site_names);
            }
            if let Some(provider) = &backups.provider {
                c.reference(
                    provider,
                    &format!("{path}.backups.provider"),
                    "provider",
                    &provider_names,
                );
            }
            if let Some(date) = &backups.last_restore_test {
                c.date(date, &format!("{path}.backups.lastRestoreTest"));
            }
            if let Some(why) = crate::formats::cron_problem(&backups.schedule) {
                c.format(
                    &format!("{path}.backups.schedule"),
                    format!("`{}` is not a cron schedule: {why}", backups.schedule),
                    "write five fields, minute hour day-of-month month day-of-week, e.g. `0 3 * * *` for 03:00 every day, or a shorthand such as `@daily` or `@every 6h`",
                );
            }
            if let Some(why) = crate::formats::go_duration_problem(&backups.retention) {
                let help = match crate::formats::days_as_hours(&backups.retention) {
                    Some(hours) => format!(
                        "write `{hours}`: Velero keeps backups for a Go duration, which has no days"
                    ),
                    None => {
                        "write a duration such as `720h` (30 days) or `168h` (a week)".to_owned()
                    }
                };
                c.format(
                    &format!("{path}.backups.retention"),
                    format!("`{}` is not a duration: {why}", backups.retention),
                    help,
                );
            }
            if !backups.target.starts_with("s3://") {
                c.format(
                    &format!("{path}.backups.target"),
                    format!("`{}` is not an S3 target", backups.target),
                    "write `s3://bucket/prefix`",
                );
            }
        }
        if let Some(certificates) = &cluster.certificates
            && let Some(why) = crate::formats::email_problem(&certificates.email)
        {
            let email = &certificates.email;
            let stripped =
                email.get(7..).filter(|_| email.to_ascii_lowercase().starts_with("mailto:"));
            let help = match stripped {
                Some(address) => format!("write `{address}`"),
                None => "write the address of a mailbox the team reads, e.g. `ops@example.eu`: it is the contact of the ACME account".to_owned(),
            };
            c.format(
                &format!("{path}.certificates.email"),
                format!("`{email}` is not an e-mail address: {why}"),
                help,
            );
        }
        if let Some(dns) = &cluster.dns
            && !is_domain(&dns.zone)
        {
            c.format(
                &format!("{path}.dns.zone"),
                format!("`{}` is not a DNS zone", dns.zone),
                "write the zone as a domain, e.g. `example.eu`",
            );
        }
        if let Some(max) = &cluster.max_unhealthy {
            let ok = max
                .strip_suffix('%')
                .map_or(max.parse::<u32>().is_ok(), |p| p.parse::<u32>().is_ok_and(|v| v <= 100));
            if !ok {
                c.format(
                    &format!("{path}.maxUnhealthy"),
                    format!("`{max}` is not a count or percentage"),
                    "write e.g. `33%` or `2`",
                );
            }
        }
    }

    sizes(&mut c, spec);

    if let Some(management) = &spec.management {
        c.reference(&management.site, "spec.management.site", "site", &site_names);
        if let Some(cluster) = &management.cluster {
            c.reference(cluster, "spec.management.cluster", "cluster", &cluster_names);
        }
    }
    let mut delivered_targets = cluster_names.clone();
    delivered_targets.push("management");
    for (i, provider) in spec.providers.iter().enumerate() {
        for (j, credential) in provider.credentials.iter().enumerate() {
            for (k, target) in credential.delivered_to.iter().enumerate() {
                c.reference(
                    target,
                    &format!("spec.providers[{i}].credentials[{j}].deliveredTo[{k}]"),
                    "cluster",
                    &delivered_targets,
                );
            }
        }
    }

    // Tenants and apps.
    c.unique(
        "tenant",
        spec.tenants
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), format!("spec.tenants[{i}]"))),
    );
    for (i, tenant) in spec.tenants.iter().enumerate() {
        let path = format!("spec.tenants[{i}]");
        c.name(&tenant.name, &format!("{path}.name"), "tenant");
        if tenant.clusters.is_empty() {
            c.format(
                &format!("{path}.clusters"),
                format!("tenant `{}` is deployed to no cluster", tenant.name),
                "list at least one cluster",
            );
        }
        for (j, cluster) in tenant.clusters.iter().enumerate() {
            c.reference(cluster, &format!("{path}.clusters[{j}]"), "cluster", &cluster_names);
        }
        if let Some(quota) = &tenant.quota {
            c.cpu(&quota.cpu, &format!("{path}.quota.cpu"));
            c.memory(&quota.memory, &format!("{path}.quota.memory"));
            if let Some(storage) = &quota.storage {
                c.memory(storage, &format!("{path}.quota.storage"));
            }
        }
        c.unique(
            "app",
            tenant
                .apps
                .iter()
                .enumerate()
                .map(|(j, a)| (a.name.as_str(), format!("{path}.apps[{j}]"))),
        );
        for (j, app) in tenant.apps.iter().enumerate() {
            let app_path = format!("{path}.apps[{j}]");
            c.name(&app.name, &format!("{app_path}.name"), "app");
            if let Err(why) = crate::image::parse(&app.image) {
                let help = match &why.suggestion {
                    Some(fixed) => format!("write `{fixed}`"),
                    None => "write `registry.example.eu/team/app:1.2.3` (lowercase path, optional `:tag`, optional `@sha256:…` digest)".into(),
                };
                c.format(
                    &format!("{app_path}.image"),
                    format!("`{}` is not an image reference: {}", app.image, why.reason),
                    help,
                );
            }
            c.cpu(&app.resources.cpu, &format!("{app_path}.resources.cpu"));
            c.memory(&app.resources.memory, &format!("{app_path}.resources.memory"));
            for (k, domain) in app.domains.iter().enumerate() {
                if !is_domain(domain) {
                    c.format(
                        &format!("{app_path}.domains[{k}]"),
                        format!("`{domain}` is not a host name"),
                        "write a lowercase host name such as `www.example.eu`",
                    );
                }
            }
            if let Some(min) = app.min_available
                && min > app.replicas
            {
                c.format(
                    &format!("{app_path}.minAvailable"),
                    format!("minAvailable {min} exceeds the {} replicas", app.replicas),
                    format!("set minAvailable to at most {}", app.replicas),
                );
            }
            if let Some(pg) = &app.postgres {
                c.memory(&pg.size, &format!("{app_path}.postgres.size"));
                if let Some(replica) = &pg.replica_cluster {
                    c.reference(
                        replica,
                        &format!("{app_path}.postgres.replicaCluster"),
                        "cluster",
                        &cluster_names,
                    );
                }
                if let Some(res) = &pg.resources {
                    c.cpu(&res.cpu, &format!("{app_path}.postgres.resources.cpu"));
                    c.memory(&res.memory, &format!("{app_path}.postgres.resources.memory"));
                }
            }
            c.unique(
                "volume",
                app.volumes
                    .iter()
                    .enumerate()
                    .map(|(k, v)| (v.name.as_str(), format!("{app_path}.volumes[{k}]"))),
            );
            for (k, volume) in app.volumes.iter().enumerate() {
                c.name(&volume.name, &format!("{app_path}.volumes[{k}].name"), "volume");
                c.memory(&volume.size, &format!("{app_path}.volumes[{k}].size"));
                if !volume.mount_path.starts_with('/') {
                    c.format(
                        &format!("{app_path}.volumes[{k}].mountPath"),
                        format!("`{}` is not an absolute path", volume.mount_path),
                        "start the mount path with `/`",
                    );
                }
            }
        }
    }

    for (i, endpoint) in spec.endpoints.iter().enumerate() {
        if let Some(site) = &endpoint.site {
            c.reference(site, &format!("spec.endpoints[{i}].site"), "site", &site_names);
        }
    }

    // Scenarios.
    c.unique(
        "scenario",
        spec.scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.as_str(), format!("spec.scenarios[{i}]"))),
    );
    for (i, scenario) in spec.scenarios.iter().enumerate() {
        let path = format!("spec.scenarios[{i}].fail");
        for (j, site) in scenario.fail.sites.iter().enumerate() {
            c.reference(site, &format!("{path}.sites[{j}]"), "site", &site_names);
        }
        for (j, provider) in scenario.fail.providers.iter().enumerate() {
            c.reference(provider, &format!("{path}.providers[{j}]"), "provider", &provider_names);
        }
        for (j, pool) in scenario.fail.node_pools.iter().enumerate() {
            let p = format!("{path}.nodePools[{j}]");
            match pool.split_once('/') {
                Some((cluster, pool_name)) => {
                    if c.reference(cluster, &p, "cluster", &cluster_names)
                        && let Some(k) = spec.cluster(cluster)
                    {
                        // `cluster/control-plane` fails the control-plane nodes, as the plan
                        // names them.
                        let pools: Vec<&str> = k
                            .node_pools
                            .iter()
                            .map(|np| np.name.as_str())
                            .chain(["control-plane"])
                            .collect();
                        c.reference(pool_name, &p, "node pool", &pools);
                    }
                }
                None => c.format(
                    &p,
                    format!("`{pool}` does not name a node pool"),
                    "write `cluster/pool`, or `cluster/control-plane` for the control-plane nodes",
                ),
            }
        }
    }
    // Suppressions (reason, code, object) are checked by the rule catalogue, which knows the
    // codes and reports each problem without stopping the other rules.
    if let Some(ops) = &spec.operations {
        if let Some(d) = &ops.runbook_reviewed {
            c.date(d, "spec.operations.runbookReviewed");
        }
        if let Some(d) = &ops.last_topology_change {
            c.date(d, "spec.operations.lastTopologyChange");
        }
    }
    (catalog, c.out)
}

/// The platform repository: a clone URL, branch, folder and interval the delivery engines
/// accept ([`crate::git`], which the renderer applies too).
fn gitops(c: &mut Checker<'_>, gitops: &crate::GitOps) {
    use crate::git;
    if let Some(p) = git::repo_url_problem(&gitops.repo) {
        let shown = hafen_diag::mask_credentials(&gitops.repo);
        c.format("spec.gitops.repo", format!("the Git repository `{shown}` {}", p.reason), p.fix);
    }
    if let Some(p) = git::branch_problem(&gitops.branch) {
        c.format(
            "spec.gitops.branch",
            format!("the branch `{}` {}", gitops.branch, p.reason),
            p.fix,
        );
    }
    if let Some(p) = git::folder_problem(&gitops.path) {
        c.format("spec.gitops.path", format!("the folder `{}` {}", gitops.path, p.reason), p.fix);
    }
    if let Some(p) = git::interval_problem(&gitops.interval) {
        c.format("spec.gitops.interval", format!("`{}` {}", gitops.interval, p.reason), p.fix);
    }
}

/// Hard caps on the sizes that drive the planner's memory and time ([`crate::limits`]).
/// Each object over its own cap is reported at its own value; the totals count every object
/// at most at its cap, so one typo is reported once. A total is reported at its largest part.
fn sizes(c: &mut Checker<'_>, spec: &crate::PlatformSpec) {
    use crate::limits;
    /// A running total and its largest part (value, path).
    #[derive(Default)]
    struct Total {
        sum: u64,
        biggest: Option<(u32, String)>,
    }
    impl Total {
        fn add(&mut self, counted: u64, value: u32, path: &str) {
            self.sum += counted;
            if self.biggest.as_ref().is_none_or(|(n, _)| value > *n) {
                self.biggest = Some((value, path.to_owned()));
            }
        }
        fn over(&self, cap: u64) -> Option<&str> {
            (self.sum > cap).then(|| self.biggest.as_ref().map(|(_, p)| p.as_str())).flatten()
        }
    }

    let mut platform_nodes = Total::default();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let mut nodes = Total::default();
        let path = format!("spec.clusters[{i}].controlPlane.replicas");
        let cp = cluster.control_plane.replicas;
        if cp > limits::CONTROL_PLANE_NODES {
            c.limit(
                &path,
                format!(
                    "cluster `{}` asks for {cp} control-plane nodes; Hafen accepts at most {}",
                    cluster.name,
                    limits::CONTROL_PLANE_NODES
                ),
                "use 3 or 5 control-plane nodes (etcd members); put capacity into node pools",
            );
        }
        nodes.add(u64::from(cp.min(limits::CONTROL_PLANE_NODES)), cp, &path);
        for (j, pool) in cluster.node_pools.iter().enumerate() {
            let path = format!("spec.clusters[{i}].nodePools[{j}].count");
            if pool.count > limits::POOL_NODES {
                c.limit(
                    &path,
                    format!(
                        "node pool `{}/{}` asks for {} nodes; Hafen accepts at most {} per pool",
                        cluster.name,
                        pool.name,
                        pool.count,
                        limits::POOL_NODES
                    ),
                    format!(
                        "check the count; split a real fleet this size into several pools of at most {}",
                        limits::POOL_NODES
                    ),
                );
            }
            nodes.add(u64::from(pool.count.min(limits::POOL_NODES)), pool.count, &path);
        }
        if let Some(path) = nodes.over(limits::CLUSTER_NODES) {
            c.limit(
                path,
                format!(
                    "cluster `{}` has {} nodes; Kubernetes is designed for at most {} per cluster, and Hafen plans no more",
                    cluster.name,
                    nodes.sum,
                    limits::CLUSTER_NODES
                ),
                "check the node counts (this is the largest); split a fleet this size into several clusters",
            );
        }
        let counted = nodes.sum.min(limits::CLUSTER_NODES);
        if let Some((value, path)) = &nodes.biggest {
            platform_nodes.add(counted, *value, path);
        }
    }
    if let Some(path) = platform_nodes.over(limits::PLATFORM_NODES) {
        c.limit(
            path,
            format!(
                "the platform has {} nodes over all clusters; Hafen plans at most {}",
                platform_nodes.sum,
                limits::PLATFORM_NODES
            ),
            "check the node counts (this is the largest); split a fleet this size into several platform specs",
        );
    }

    // Replicas per cluster (an app runs once in every cluster its tenant lists) and in all.
    let mut per_cluster: Vec<(&str, Total)> = Vec::new();
    for (i, tenant) in spec.tenants.iter().enumerate() {
        for (j, app) in tenant.apps.iter().enumerate() {
            let mut counts =
                vec![(app.replicas, format!("spec.tenants[{i}].apps[{j}].replicas"), "replicas")];
            if let Some(pg) = &app.postgres {
                counts.push((
                    pg.replicas,
                    format!("spec.tenants[{i}].apps[{j}].postgres.replicas"),
                    "instances",
                ));
            }
            for (n, path, what) in counts {
                if n > limits::APP_REPLICAS {
                    let whose = if what == "replicas" { "app" } else { "the database of app" };
                    c.limit(
                        &path,
                        format!(
                            "{whose} `{}/{}` asks for {n} {what}; Hafen accepts at most {}",
                            tenant.name,
                            app.name,
                            limits::APP_REPLICAS
                        ),
                        format!(
                            "check the number; at most {} {what} per app",
                            limits::APP_REPLICAS
                        ),
                    );
                }
                let counted = u64::from(n.min(limits::APP_REPLICAS));
                for cluster in &tenant.clusters {
                    match per_cluster.iter_mut().find(|(name, _)| name == cluster) {
                        Some((_, total)) => total.add(counted, n, &path),
                        None => {
                            let mut total = Total::default();
                            total.add(counted, n, &path);
                            per_cluster.push((cluster.as_str(), total));
                        }
                    }
                }
            }
        }
    }
    let mut platform_replicas = Total::default();
    for (cluster, total) in &per_cluster {
        if let Some(path) = total.over(limits::CLUSTER_REPLICAS) {
            c.limit(
                path,
                format!(
                    "cluster `{cluster}` runs {} replicas; Kubernetes is designed for at most {} pods per cluster, and Hafen plans no more",
                    total.sum,
                    limits::CLUSTER_REPLICAS
                ),
                "check the replica counts (this is the largest); spread the tenants over more clusters",
            );
        }
        if let Some((value, path)) = &total.biggest {
            platform_replicas.add(total.sum.min(limits::CLUSTER_REPLICAS), *value, path);
        }
    }
    if let Some(path) = platform_replicas.over(limits::PLATFORM_REPLICAS) {
        c.limit(
            path,
            format!(
                "the platform runs {} replicas over all clusters; Hafen plans at most {}",
                platform_replicas.sum,
                limits::PLATFORM_REPLICAS
            ),
            "check the replica counts (this is the largest); split a platform this size into several specs",
        );
    }
    if spec.scenarios.len() > limits::SCENARIOS {
        c.limit(
            &format!("spec.scenarios[{}]", limits::SCENARIOS),
            format!(
                "the spec declares {} failure scenarios; Hafen simulates at most {}",
                spec.scenarios.len(),
                limits::SCENARIOS
            ),
            "keep the scenarios that matter; single nodes, pools, sites and providers are simulated anyway",
        );
    }
}

fn server_type_ref(
    c: &mut Checker<'_>,
    catalog: &Catalog,
    provider: &crate::Provider,
    name: &str,
    path: &str,
) {
    let Some(info) = catalog.provider(&provider.type_) else { return };
    if info.server_type(name).is_some() {
        return;
    }
    let names: Vec<&str> = info.server_types.iter().map(|s| s.name.as_str()).collect();
    let mut d = Diagnostic::error(
        cat::UNKNOWN_SERVER_TYPE,
        format!(
            "provider `{}` ({}) does not offer server type `{name}`",
            provider.name, info.type_
        ),
    )
    .with_span(c.spans.nearest(path))
    .with_path(path)
    .with_span_label("unknown server type");
    let nearest = nearest_size(name, names.iter().copied());
    d = match (nearest, did_you_mean(name, names.iter().copied())) {
        (Some((n, family)), Some(typo)) if n != typo => d.with_help(format!(
            "did you mean `{n}`, the nearest size of the `{family}` line, or `{typo}`?"
        )),
        (Some((n, family)), _) => {
            d.with_help(format!("did you mean `{n}`, the nearest size of the `{family}` line?"))
        }
        (None, Some(s)) => d.with_help(format!("did you mean `{s}`?")),
        (None, None) if names.is_empty() => {
            d.with_help(format!("declare it under `serverTypes:` of provider `{}`", provider.name))
        }
        (None, None) => {
            d.with_help(format!("server types of {}: {}", info.display_name, names.join(", ")))
        }
    };
    c.out.push(d);
}

/// A server type name as its line and size: `g2i.32` → (`g2i.`, 32), `cpx42` → (`cpx`, 42).
/// Names that do not end in a number (`basic3-x8c-32g`, `ax41-nvme`) have none.
fn line_and_size(name: &str) -> Option<(&str, u64)> {
    let digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (line, size) = name.split_at(name.len() - digits);
    if line.is_empty() || size.is_empty() {
        return None;
    }
    Some((line, size.parse().ok()?))
}

/// The offered type of the same line whose size is nearest (by ratio) to the one asked for:
/// `g2i.32` asks for the `g2i.` line at size 32, and `g2i.16` is nearer than `g2i.2`, however
/// alike the names look. Returns the type and the line's name without a trailing separator.
fn nearest_size<'n>(
    name: &str,
    offered: impl Iterator<Item = &'n str>,
) -> Option<(&'n str, String)> {
    let (line, size) = line_and_size(name)?;
    let distance = |other: u64| {
        let (a, b) = (size.max(1) as f64, other.max(1) as f64);
        (a / b).ln().abs()
    };
    let best = offered
        .filter_map(|o| line_and_size(o).filter(|(l, _)| *l == line).map(|(_, n)| (o, n)))
        .min_by(|x, y| distance(x.1).total_cmp(&distance(y.1)).then(y.1.cmp(&x.1)))?;
    // More than twice or half the nearest size is no size of this line but a typo
    // (`cpx420`), which the spelling suggestion handles better.
    if distance(best.1) > std::f64::consts::LN_2 + 1e-9 {
        return None;
    }
    Some((best.0, line.trim_end_matches(['.', '-']).to_owned()))
}

#[cfg(test)]
mod tests {
    use super::{line_and_size, nearest_size};

    #[test]
    fn server_type_suggestions_prefer_the_same_line_and_the_nearest_size() {
        let stackit = ["g2i.2", "g2i.4", "g2i.8", "g2i.16", "g2a.2d", "g2a.30d"];
        assert_eq!(nearest_size("g2i.32", stackit.iter().copied()).map(|x| x.0), Some("g2i.16"));
        assert_eq!(nearest_size("g2i.3", stackit.iter().copied()).map(|x| x.0), Some("g2i.4"));
        let hcloud = ["cpx22", "cpx32", "cpx42", "cpx62", "ccx33"];
        assert_eq!(nearest_size("cpx40", hcloud.iter().copied()).map(|x| x.0), Some("cpx42"));
        assert_eq!(nearest_size("cx99", hcloud.iter().copied()), None);
        // Far outside the line's sizes: a typo, left to the spelling suggestion.
        assert_eq!(nearest_size("cpx420", hcloud.iter().copied()), None);
        assert_eq!(line_and_size("basic3-x8c-32g"), None);
        assert_eq!(line_and_size("b3-16"), Some(("b3-", 16)));
        assert_eq!(line_and_size("42"), None);
    }
}
