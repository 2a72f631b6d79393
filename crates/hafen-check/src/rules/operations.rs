//! Operations rules: the people, the backups that must actually restore, the runbook that
//! must describe today's platform, and the plumbing that serves domains.

use crate::platform::url_host;
use crate::{Ctx, facts};
use hafen_diag::Diagnostic;
use hafen_spec::{DnsProvider, MetricsStack};

rule!(OPS001, Warning, "on-call rotation below three people", ops001);

fn ops001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let n = ctx.spec().team.on_call;
    if n >= 3 {
        return;
    }
    let share = match n {
        0 => "nobody answers the pager".to_owned(),
        1 => "one person is on call every night of the year".to_owned(),
        _ => "they alternate every other week and cover each other's holidays and sick days"
            .to_owned(),
    };
    out.push(
        ctx.finding(
            "OPS001",
            "spec.team.onCall",
            format!("the on-call rotation has {n} {}: {share}", if n == 1 { "person" } else { "people" }),
        )
        .with_span_label("not sustainable")
        .with_help("three people is the minimum for a rotation that survives holidays and sick days; until then, buy support or keep the platform on a managed service"),
    );
}

rule!(OPS002, Error, "production data without backups", ops002);

fn ops002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.backups.is_some() || !ctx.production(cluster) {
            continue;
        }
        let stateful: Vec<String> = ctx
            .demands(&cluster.name)
            .iter()
            .filter(|d| d.holds_data())
            .map(|d| format!("{} (tenant `{}`)", d.label, d.tenant.name))
            .collect();
        if stateful.is_empty() {
            continue;
        }
        out.push(
            ctx.finding(
                "OPS002",
                &format!("spec.clusters[{i}].name"),
                format!(
                    "production cluster `{}` keeps data of {} but has no `backups`",
                    cluster.name,
                    stateful.join(", ")
                ),
            )
            .with_span_label("replicas are not backups")
            .with_help("add `backups: {target: s3://<bucket>/<prefix>, endpoint: <object storage in another site>, site: <that site>}`; replication copies deletions and corruption too"),
        );
    }
}

/// Where a cluster's backups physically land, when that is inside the failure domain of
/// the data: the field that says so, the text for the finding, and a note when distinct site
/// names turn out to be one failure domain.
struct SameDomain {
    field: &'static str,
    text: String,
    note: Option<String>,
}

fn same_failure_domain(ctx: &Ctx<'_>, cluster: &hafen_spec::Cluster) -> Option<SameDomain> {
    let backups = cluster.backups.as_ref()?;
    let sites = cluster.sites();
    if let Some(site) = &backups.site
        && let Some(shared) = sites.iter().find(|s| ctx.same_domain(s, site))
    {
        let provider = ctx
            .site_provider(site)
            .map_or_else(String::new, |p| format!(" (provider `{}`)", p.name));
        let (text, note) = if shared == site {
            (format!("site `{site}`{provider}, where the cluster itself runs"), None)
        } else {
            (
                format!(
                    "site `{site}`{provider}, in the same failure domain as site `{shared}` where the cluster runs"
                ),
                ctx.domain_note(&[shared, site.as_str()]),
            )
        };
        return Some(SameDomain { field: "site", text, note });
    }
    let host = backups.endpoint.as_deref().and_then(url_host);
    if let Some(text) = host.as_deref().and_then(|h| endpoint_in_domain(ctx, &sites, h)) {
        return Some(SameDomain { field: "endpoint", text, note: None });
    }
    // Only the provider is named: the same provider account as the cluster's, and no other
    // place given, is one account closure or provider incident away from losing both.
    let provider = backups.provider.as_deref()?;
    if backups.site.is_some() || host.as_deref().is_some_and(|h| location_of(h).is_some()) {
        return None;
    }
    let shared = sites.iter().find(|s| ctx.site(s).is_some_and(|x| x.provider == provider))?;
    Some(SameDomain {
        field: "provider",
        text: format!(
            "provider `{provider}`, the same provider account the cluster runs on at site `{shared}`, and name no other site"
        ),
        note: None,
    })
}

/// Where an object-storage host stores data, read from its name.
pub(super) struct Stored {
    /// The host text before the place label (`s3.`, `bucket.s3-`).
    head: String,
    /// The place label as written in the host (`fr-par`, `fsn1`).
    region: String,
    /// The host text after the place label (`.scw.cloud`).
    tail: String,
    /// The catalogue locations the place serves.
    pub(super) locations: Vec<String>,
    /// The company that runs it, as the catalogue names it.
    pub(super) company: &'static str,
    store: &'static facts::ObjectStorage,
}

impl Stored {
    /// The same host at another region label of the same service.
    fn at(&self, region: &str) -> String {
        format!("{}{region}{}", self.head, self.tail)
    }

    /// The region label that serves a catalogue location, if the service has one there.
    fn region_for(&self, location: &str) -> Option<String> {
        if self.store.regions.is_empty() {
            return Some(location.to_owned());
        }
        self.store
            .regions
            .iter()
            .find(|(_, locations)| locations.iter().any(|l| l == location))
            .map(|(region, _)| region.clone())
    }
}

/// The location an object-storage host names, with the company that runs it.
pub(super) fn location_of(host: &str) -> Option<Stored> {
    for store in &facts::get().object_storage {
        for suffix in &store.host_suffixes {
            let Some(prefix) = host.strip_suffix(suffix.as_str()) else { continue };
            let Some(labels) = prefix.strip_suffix('.') else { continue };
            let (before, label) = match labels.rsplit_once('.') {
                Some((before, label)) => (format!("{before}."), label),
                None => (String::new(), labels),
            };
            let (head, region) = match store.label_prefix.as_deref() {
                Some(p) => match label.strip_prefix(p) {
                    Some(rest) => (format!("{before}{p}"), rest),
                    None => continue,
                },
                None => (before, label),
            };
            if region.is_empty() {
                continue;
            }
            let locations =
                store.regions.get(region).cloned().unwrap_or_else(|| vec![region.to_owned()]);
            return Some(Stored {
                head,
                region: region.to_owned(),
                tail: format!(".{suffix}"),
                locations,
                company: store.company.as_str(),
                store,
            });
        }
    }
    None
}

fn endpoint_in_domain(ctx: &Ctx<'_>, sites: &[&str], host: &str) -> Option<String> {
    if host.ends_with(".svc") || host.ends_with(".cluster.local") || host == "localhost" {
        return Some(format!("`{host}`, a service inside the cluster it protects"));
    }
    let stored = location_of(host)?;
    let company = stored.company;
    for site in sites {
        let same_company = ctx.site_info(site).is_some_and(|i| i.company.name == company);
        let Some(location) = ctx.site(site).map(|s| s.location.as_str()) else { continue };
        if same_company && stored.locations.iter().any(|l| l == location) {
            let place = if stored.region == location {
                format!("`{location}`")
            } else {
                format!("region `{}`, which holds `{location}`", stored.region)
            };
            return Some(format!(
                "`{host}`, {company}'s object storage in {place}, the location of site `{site}` where the cluster runs"
            ));
        }
    }
    None
}

/// A concrete place outside the cluster's failure domains, in the form of the field the
/// backup was declared with.
fn backup_suggestion(ctx: &Ctx<'_>, cluster: &hafen_spec::Cluster, field: &str) -> String {
    let sites = cluster.sites();
    let outside = |site: &str| !sites.iter().any(|s| ctx.same_domain(s, site));
    if field == "endpoint" {
        let endpoint = cluster.backups.as_ref().and_then(|b| b.endpoint.as_deref()).unwrap_or("");
        let host = url_host(endpoint).unwrap_or_default();
        if let Some(stored) = location_of(&host) {
            // The same object storage service at another location of the same company,
            // preferring one where the platform already has a site.
            let elsewhere =
                |location: &str| stored.region_for(location).filter(|r| *r != stored.region);
            let own = ctx.spec().sites.iter().find_map(|s| {
                let ours = outside(&s.name)
                    && ctx.site_info(&s.name).is_some_and(|i| i.company.name == stored.company);
                if ours { elsewhere(&s.location) } else { None }
            });
            let other = own.or_else(|| {
                sites
                    .first()
                    .and_then(|s| ctx.site_info(s))
                    .and_then(|info| info.locations.iter().find_map(|l| elsewhere(&l.name)))
            });
            let other = other
                .or_else(|| stored.store.regions.keys().find(|r| **r != stored.region).cloned());
            if let Some(other) = other {
                return format!(" (e.g. `endpoint: https://{}`)", stored.at(&other));
            }
        }
        return match ctx.spec().sites.iter().find(|s| outside(&s.name)) {
            Some(s) => format!(" (e.g. an object storage endpoint at site `{}`)", s.name),
            None => " (an object storage endpoint outside the cluster's location)".into(),
        };
    }
    ctx.spec()
        .sites
        .iter()
        .find(|s| outside(&s.name))
        .map(|s| format!(" (e.g. `site: {}`)", s.name))
        .unwrap_or_default()
}

rule!(OPS003, Error, "backup target in the same failure domain as the data", ops003);

fn ops003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let Some(found) = same_failure_domain(ctx, cluster) else { continue };
        let other = backup_suggestion(ctx, cluster, found.field);
        let mut d = ctx
            .finding(
                "OPS003",
                &format!("spec.clusters[{i}].backups.{}", found.field),
                format!("backups of cluster `{}` go to {}", cluster.name, found.text),
            )
            .with_span_label("the incident that destroys the data destroys the backup")
            .with_help(format!(
                "send backups to object storage at another location, ideally another provider{other}; a fire, a flood, a lost account or a capacity incident must not take both"
            ));
        if let Some(n) = found.note {
            d = d.with_note(n);
        }
        out.push(d);
    }
}

rule!(OPS004, Warning, "backups never restore-tested, or not for too long", ops004);

fn ops004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let max = spec.operations.as_ref().and_then(|o| o.restore_test_max_age_days).unwrap_or(90);
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let Some(backups) = &cluster.backups else { continue };
        if !ctx.production(cluster) {
            continue;
        }
        match (&backups.last_restore_test, ctx.options.as_of.as_deref()) {
            (None, _) => out.push(
                ctx.finding(
                    "OPS004",
                    &format!("spec.clusters[{i}].backups"),
                    format!("backups of cluster `{}` have never been restore-tested", cluster.name),
                )
                .with_span_label("no `lastRestoreTest`")
                .with_help("restore into a scratch cluster or namespace, verify the data, then record the date as `lastRestoreTest: YYYY-MM-DD`; a backup that was never restored is a hope, not a backup"),
            ),
            (Some(date), Some(as_of)) => {
                let Some(age) = hafen_catalog::days_between(date, as_of) else { continue };
                if age <= i64::from(max) {
                    continue;
                }
                out.push(
                    ctx.finding(
                        "OPS004",
                        &format!("spec.clusters[{i}].backups.lastRestoreTest"),
                        format!(
                            "the last restore test of cluster `{}` was on {date}, {age} days before {as_of}, beyond the {max} days allowed",
                            cluster.name
                        ),
                    )
                    .with_span_label(format!("{} days overdue", age - i64::from(max)))
                    .with_help("run a restore test now and record its date; set `operations.restoreTestMaxAgeDays` if your policy differs"),
                );
            }
            (Some(_), None) => {}
        }
    }
}

rule!(
    OPS005,
    Warning,
    "runbook older than the last topology change, or unreviewed for a year",
    ops005
);

/// Judgment: a runbook nobody has read for a year no longer matches the people, tools and
/// contacts it names, even when the topology stayed the same.
const RUNBOOK_MAX_AGE_DAYS: i64 = 365;

fn ops005(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let Some(ops) = &ctx.spec().operations else { return };
    if let Some(changed) = &ops.last_topology_change {
        match &ops.runbook_reviewed {
            None => {
                out.push(
                    ctx.finding(
                        "OPS005",
                        "spec.operations.lastTopologyChange",
                        format!("the topology changed on {changed}, and the runbook has no review date"),
                    )
                    .with_span_label("runbook never reviewed")
                    .with_help(format!("review the runbook against the current platform and record `runbookReviewed: {changed}` or later")),
                );
                return;
            }
            Some(reviewed) => {
                if let Some(gap) = hafen_catalog::days_between(reviewed, changed)
                    && gap > 0
                {
                    let d = ctx
                        .finding(
                            "OPS005",
                            "spec.operations.runbookReviewed",
                            format!(
                                "the runbook was last reviewed on {reviewed}, {gap} days before the topology changed on {changed}: it describes a platform that no longer exists"
                            ),
                        )
                        .with_span_label("stale runbook")
                        .with_help("walk the runbook against the current spec (`hafen render` writes one that is always current), then update `runbookReviewed`");
                    out.push(ctx.label(
                        d,
                        "spec.operations.lastTopologyChange",
                        "topology changed here",
                    ));
                    return;
                }
            }
        }
    }
    let (Some(reviewed), Some(as_of)) = (&ops.runbook_reviewed, ctx.options.as_of.as_deref())
    else {
        return;
    };
    let Some(age) = hafen_catalog::days_between(reviewed, as_of) else { return };
    if age <= RUNBOOK_MAX_AGE_DAYS {
        return;
    }
    out.push(
        ctx.finding(
            "OPS005",
            "spec.operations.runbookReviewed",
            format!(
                "the runbook was last reviewed on {reviewed}, {age} days before {as_of}: more than a year, so its people, contacts and procedures have drifted even if the topology has not"
            ),
        )
        .with_span_label("unreviewed for a year")
        .with_help("walk the runbook against the current spec and team (`hafen render` writes one that is always current), then update `runbookReviewed`; record `lastTopologyChange` too, so the next change is caught"),
    );
}

rule!(OPS006, Warning, "production cluster without metrics", ops006);

fn ops006(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.monitoring.metrics != MetricsStack::None || !ctx.production(cluster) {
            continue;
        }
        out.push(
            ctx.finding(
                "OPS006",
                &format!("spec.clusters[{i}].monitoring.metrics"),
                format!("production cluster `{}` collects no metrics: nobody is alerted before users notice", cluster.name),
            )
            .with_span_label("no metrics, no alerts")
            .with_help("use `metrics: victoria-metrics` (the default) or `prometheus`"),
        );
    }
}

rule!(
    OPS007,
    Warning,
    "production cluster issues certificates from a staging ACME directory",
    ops007
);

fn ops007(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(url) = cluster.certificates.as_ref().and_then(|c| c.acme_server.as_deref()) else {
            continue;
        };
        if !ctx.production(cluster) || !url.to_ascii_lowercase().contains("staging") {
            continue;
        }
        out.push(
            ctx.finding(
                "OPS007",
                &format!("spec.clusters[{i}].certificates.acmeServer"),
                format!("production cluster `{}` takes certificates from the staging directory `{url}`, which browsers do not trust", cluster.name),
            )
            .with_span_label("untrusted certificates")
            .with_help("remove `acmeServer` for the production Let's Encrypt directory, or use your production ACME CA"),
        );
    }
}

rule!(OPS008, Warning, "app host name outside the DNS zone the cluster manages", ops008);

fn ops008(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for cluster in &ctx.spec().clusters {
        let Some(dns) = &cluster.dns else { continue };
        let zone = dns.zone.trim_end_matches('.').to_ascii_lowercase();
        for (i, tenant) in ctx.tenants_on(&cluster.name) {
            for (j, app) in tenant.apps.iter().enumerate() {
                for (k, domain) in app.domains.iter().enumerate() {
                    let host = domain.trim_start_matches("*.").to_ascii_lowercase();
                    if host == zone || host.ends_with(&format!(".{zone}")) {
                        continue;
                    }
                    out.push(
                        ctx.finding(
                            "OPS008",
                            &format!("spec.tenants[{i}].apps[{j}].domains[{k}]"),
                            format!(
                                "app `{}` of tenant `{}` serves `{domain}` on cluster `{}`, whose DNS automation manages zone `{}` only",
                                app.name, tenant.name, cluster.name, dns.zone
                            ),
                        )
                        .with_span_label("no record will be created")
                        .with_help(format!("use a name under `{}`, or create the record for `{domain}` by hand and say so in a suppression", dns.zone)),
                    );
                }
            }
        }
    }
}

rule!(OPS009, Error, "DNS automation without the server or credential it needs", ops009);

fn ops009(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(dns) = &cluster.dns else { continue };
        let needs_server = matches!(dns.provider, DnsProvider::Rfc2136 | DnsProvider::Pdns);
        let mut missing = Vec::new();
        if needs_server && dns.server.is_none() {
            missing.push(if dns.provider == DnsProvider::Rfc2136 {
                "`server` (the authoritative name server)"
            } else {
                "`server` (the PowerDNS API URL)"
            });
        }
        if dns.secret_ref.is_none() {
            missing.push(if dns.provider == DnsProvider::Rfc2136 {
                "`secretRef` (the TSIG key)"
            } else {
                "`secretRef` (the API token)"
            });
        }
        if missing.is_empty() {
            continue;
        }
        out.push(
            ctx.finding(
                "OPS009",
                &format!("spec.clusters[{i}].dns"),
                format!(
                    "DNS automation of cluster `{}` for zone `{}` lacks {}: ExternalDNS cannot create any record",
                    cluster.name,
                    dns.zone,
                    missing.join(" and ")
                ),
            )
            .with_span_label("records will never appear")
            .with_help(format!("add {}", missing.join(" and "))),
        );
    }
}

rule!(
    OPS010,
    Warning,
    "machine health checks may replace more machines than a provider shortage allows",
    ops010
);

fn ops010(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(text) = &cluster.max_unhealthy else { continue };
        if !ctx.production(cluster) {
            continue;
        }
        let nodes: u64 = ctx.node_groups(i).iter().map(|g| u64::from(g.count)).sum();
        let share = match text.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().ok(),
            None => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|_| nodes > 0)
                .map(|n| n * 100.0 / nodes as f64),
        };
        let Some(share) = share else { continue };
        if share <= 40.0 {
            continue;
        }
        // A percentage says itself; a count is put next to the machines it is counted from.
        let how_many = if text.trim().ends_with('%') {
            format!("up to {} of its machines", text.trim())
        } else {
            format!("up to {} of its {nodes} machines ({share:.0}%)", text.trim())
        };
        out.push(
            ctx.finding(
                "OPS010",
                &format!("spec.clusters[{i}].maxUnhealthy"),
                format!(
                    "cluster `{}` lets machine health checks remediate {how_many} at once: when a third of the nodes fail together, Cluster API deletes them and asks the provider for replacements it may not have",
                    cluster.name
                ),
            )
            .with_span_label("no brake on remediation storms")
            .with_help("set `maxUnhealthy: 33%` so a mass failure stops remediation and waits for a person; under a shortage each deleted machine becomes a permanently missing node"),
        );
    }
}

rule!(OPS011, Error, "a recorded date after the date of the check", ops011);

/// Dates that record something done (a restore test, a runbook review, a topology change)
/// cannot lie ahead: a future date is a typo or a plan written as a fact, and it silently
/// switches off the rule that judges its age.
fn ops011(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let Some(as_of) = ctx.options.as_of.as_deref() else { return };
    let spec = ctx.spec();
    let mut dated: Vec<(String, &str, String, &str)> = Vec::new();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        if let Some(date) = cluster.backups.as_ref().and_then(|b| b.last_restore_test.as_deref()) {
            dated.push((
                format!("spec.clusters[{i}].backups.lastRestoreTest"),
                date,
                format!("the last restore test of cluster `{}`", cluster.name),
                "OPS004 (restore tests older than the allowed age)",
            ));
        }
    }
    if let Some(ops) = &spec.operations {
        if let Some(date) = ops.runbook_reviewed.as_deref() {
            dated.push((
                "spec.operations.runbookReviewed".into(),
                date,
                "the runbook review".into(),
                "OPS005 (a runbook older than the last topology change, or than a year)",
            ));
        }
        if let Some(date) = ops.last_topology_change.as_deref() {
            dated.push((
                "spec.operations.lastTopologyChange".into(),
                date,
                "the last topology change".into(),
                "OPS005 (a runbook older than the last topology change)",
            ));
        }
    }
    for (path, date, what, rule) in dated {
        let Some(ahead) = hafen_catalog::days_between(as_of, date) else { continue };
        if ahead <= 0 {
            continue;
        }
        let days = if ahead == 1 { "1 day".to_owned() } else { format!("{ahead} days") };
        out.push(
            ctx.finding(
                "OPS011",
                &path,
                format!(
                    "{what} is dated {date}, {days} after {as_of}, the date this check judges at: a record of something done cannot lie ahead, and this date switches off {rule}"
                ),
            )
            .with_span_label("in the future")
            .with_help(format!(
                "write the date it actually happened (YYYY-MM-DD, on or before {as_of}); if it has not happened yet, remove the field until it has, and keep plans in the calendar, not the spec"
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::location_of;

    fn place(host: &str) -> Option<(String, Vec<String>, &'static str)> {
        location_of(host).map(|s| (s.region.clone(), s.locations.clone(), s.company))
    }

    #[test]
    fn object_storage_hosts_name_their_place() {
        let (region, locations, company) = place("fsn1.your-objectstorage.com").unwrap();
        assert_eq!((region.as_str(), company), ("fsn1", "Hetzner Online GmbH"));
        assert_eq!(locations, ["fsn1"]);
        let (region, locations, _) = place("backups.s3.fr-par.scw.cloud").unwrap();
        assert_eq!(region, "fr-par");
        assert!(locations.iter().any(|l| l == "fr-par-1"));
        assert_eq!(place("s3.gra.io.cloud.ovh.net").unwrap().1, ["gra11"]);
        assert_eq!(place("s3.sbg.perf.cloud.ovh.net").unwrap().1, ["sbg5"]);
        assert_eq!(place("s3.de.cloud.ovh.net").unwrap().1, ["de1"]);
        let (region, locations, company) = place("s3-eu-central-2.ionoscloud.com").unwrap();
        assert_eq!((region.as_str(), company), ("eu-central-2", "IONOS SE"));
        assert_eq!(locations, ["de/txl"]);
        assert_eq!(place("object.storage.eu01.onstackit.cloud").unwrap().1, ["eu-de"]);
        // Not the provider's: a look-alike suffix, a bare suffix, another IONOS host.
        assert!(place("s3.fr-par.scw.cloud.example.com").is_none());
        assert!(place("scw.cloud").is_none());
        assert!(place("api.ionoscloud.com").is_none());
    }

    #[test]
    fn another_region_keeps_the_rest_of_the_host() {
        let stored = location_of("bucket.s3-eu-central-1.ionoscloud.com").unwrap();
        assert_eq!(stored.at("eu-central-2"), "bucket.s3-eu-central-2.ionoscloud.com");
        let stored = location_of("s3.de.io.cloud.ovh.net").unwrap();
        assert_eq!(stored.at("gra"), "s3.gra.io.cloud.ovh.net");
    }
}
