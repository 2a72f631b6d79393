//! Version rules: Kubernetes and PostgreSQL support windows, OS/Kubernetes compatibility, and
//! image tags that make a rollback impossible.

use crate::platform::minor_of;
use crate::{Ctx, facts};
use hafen_diag::Diagnostic;
use hafen_spec::Os;

fn parse_minor(text: &str) -> Option<(u32, u32)> {
    minor_of(text)
}

rule!(VER001, Warning, "Kubernetes minor out of upstream support", ver001);

fn ver001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let Some(as_of) = ctx.options.as_of.as_deref() else { return };
    let k8s = &facts::get().kubernetes;
    let Some(oldest) = k8s.minors.iter().filter_map(|m| parse_minor(&m.minor)).min() else {
        return;
    };
    let supported: Vec<String> = k8s
        .minors
        .iter()
        .filter(|m| {
            hafen_catalog::days_between(as_of, &m.end_of_life).is_some_and(|d| d >= 0)
                && hafen_catalog::days_between(&m.released, as_of).is_some_and(|d| d >= 0)
        })
        .map(|m| m.minor.clone())
        .collect();
    let target = supported.last().cloned().unwrap_or_else(|| "a supported minor".into());
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(minor) = parse_minor(&cluster.kubernetes) else { continue };
        let fact = k8s.minors.iter().find(|m| parse_minor(&m.minor) == Some(minor));
        // Days past the end of life; `None` when the minor is older than the facts go.
        let (since, days) = match fact {
            Some(m) => {
                let Some(days) = hafen_catalog::days_between(&m.end_of_life, as_of) else {
                    continue;
                };
                // The end-of-life date is the last day of support: flagged from the day after.
                if days < 1 {
                    continue;
                }
                (format!("since {} ({days} days before {as_of})", m.end_of_life), Some(days))
            }
            None if minor < oldest => ("for years".to_owned(), None),
            None => continue,
        };
        let mut d = ctx
            .finding(
                "VER001",
                &format!("spec.clusters[{i}].kubernetes"),
                format!(
                    "cluster `{}` runs Kubernetes {}, whose {}.{} series has had no upstream security fixes {since}",
                    cluster.name, cluster.kubernetes, minor.0, minor.1
                ),
            )
            .with_span_label("end of life")
            .with_help(format!(
                "upgrade one minor at a time towards {target} (supported as of {as_of}: {}); source: {}",
                supported.join(", "),
                k8s.source
            ));
        // Long past the end of life, the cluster has missed a season of security fixes and
        // is at least two minors behind: that is an error, not a reminder.
        if days.is_none_or(|d| d > k8s.error_after_days) {
            d.severity = hafen_diag::Severity::Error;
            d = d.with_note(format!(
                "more than {} days past the end of life: reported as an error",
                k8s.error_after_days
            ));
        }
        out.push(d);
    }
}

rule!(
    VER002,
    Error,
    "node OS version that does not support the cluster's Kubernetes version",
    ver002
);

fn ver002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let talos = &facts::get().talos;
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(os_version) = &cluster.os_version else { continue };
        let Some(k8s) = parse_minor(&cluster.kubernetes) else { continue };
        let path = format!("spec.clusters[{i}].osVersion");
        match cluster.os {
            Os::K3s => {
                // K3s versions are Kubernetes versions with a `+k3sN` suffix.
                let Some(v) = parse_minor(os_version) else { continue };
                if v == k8s && os_version.contains("+k3s") {
                    continue;
                }
                let base = cluster.kubernetes.trim_start_matches('v');
                out.push(
                    ctx.finding(
                        "VER002",
                        &path,
                        format!(
                            "cluster `{}` runs K3s `{os_version}`, which is not a K3s build of Kubernetes {}",
                            cluster.name, cluster.kubernetes
                        ),
                    )
                    .with_span_label("K3s ships exactly one Kubernetes version")
                    .with_help(format!("use a K3s release of the same Kubernetes version, e.g. `osVersion: v{base}+k3s1`")),
                );
            }
            Os::Talos => {
                let Some(t) = parse_minor(os_version) else { continue };
                let Some(release) =
                    talos.releases.iter().find(|r| parse_minor(&r.minor) == Some(t))
                else {
                    continue;
                };
                let (Some(lo), Some(hi)) = (
                    release.kubernetes.first().and_then(|m| parse_minor(m)),
                    release.kubernetes.get(1).and_then(|m| parse_minor(m)),
                ) else {
                    continue;
                };
                if (lo..=hi).contains(&k8s) {
                    continue;
                }
                let fitting = talos
                    .releases
                    .iter()
                    .filter(|r| {
                        let lo = r.kubernetes.first().and_then(|m| parse_minor(m));
                        let hi = r.kubernetes.get(1).and_then(|m| parse_minor(m));
                        matches!((lo, hi), (Some(lo), Some(hi)) if (lo..=hi).contains(&k8s))
                    })
                    .map(|r| format!("v{}", r.minor))
                    .collect::<Vec<_>>();
                let hint = if fitting.is_empty() {
                    "no Talos release Hafen knows supports it".to_owned()
                } else {
                    format!("Talos {} support it", fitting.join(", "))
                };
                let caveat = if release.verified {
                    ""
                } else {
                    " (support window inferred, not read from the matrix)"
                };
                out.push(
                    ctx.finding(
                        "VER002",
                        &path,
                        format!(
                            "cluster `{}` runs Talos {os_version}, which supports Kubernetes {} to {}{caveat}, not {}",
                            cluster.name, release.kubernetes[0], release.kubernetes[1], cluster.kubernetes
                        ),
                    )
                    .with_span_label("outside the Talos support matrix")
                    .with_help(format!(
                        "{hint}; upgrade Talos first, then Kubernetes (support matrices read {}; `hafen explain VER002` lists the sources)",
                        talos.date
                    )),
                );
            }
        }
    }
}

rule!(VER003, Warning, "app image without a fixed version", ver003);

fn ver003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, tenant) in ctx.spec().tenants.iter().enumerate() {
        for (j, app) in tenant.apps.iter().enumerate() {
            if app.image.contains("@sha256:") {
                continue;
            }
            let last = app.image.rsplit('/').next().unwrap_or(&app.image);
            let tag = last.split_once(':').map(|(_, t)| t);
            let why = match tag {
                None => "has no tag, so it means `latest`",
                Some("latest") => "uses the tag `latest`",
                Some(_) => continue,
            };
            out.push(
                ctx.finding(
                    "VER003",
                    &format!("spec.tenants[{i}].apps[{j}].image"),
                    format!(
                        "image `{}` of app `{}` (tenant `{}`) {why}: every node may run a different build, and there is no earlier version to roll back to",
                        app.image, app.name, tenant.name
                    ),
                )
                .with_span_label("mutable tag")
                .with_help("pin a version tag (`:v3.3.0`) or a digest (`@sha256:…`)"),
            );
        }
    }
}

rule!(VER004, Warning, "PostgreSQL major version out of community support", ver004);

fn ver004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let Some(as_of) = ctx.options.as_of.as_deref() else { return };
    let facts = facts::get();
    let pg = &facts.postgres;
    let newest = pg.majors.iter().map(|m| m.major).max().unwrap_or(17);
    for (i, tenant) in ctx.spec().tenants.iter().enumerate() {
        for (j, app) in tenant.apps.iter().enumerate() {
            let Some(version) = app.postgres.as_ref().and_then(|p| p.version) else { continue };
            let since = match pg.majors.iter().find(|m| m.major == version) {
                Some(m) => {
                    let Some(days) = hafen_catalog::days_between(&m.end_of_life, as_of) else {
                        continue;
                    };
                    // The end-of-life date is the last day of fixes: flagged from the day after.
                    if days < 1 {
                        continue;
                    }
                    format!("since {}", m.end_of_life)
                }
                None if pg.majors.iter().all(|m| m.major > version) => "for years".to_owned(),
                None => continue,
            };
            out.push(
                ctx.finding(
                    "VER004",
                    &format!("spec.tenants[{i}].apps[{j}].postgres.version"),
                    format!(
                        "PostgreSQL {version} of app `{}` (tenant `{}`) has had no community fixes {since}",
                        app.name, tenant.name
                    ),
                )
                .with_span_label("end of life")
                .with_help(format!(
                    "upgrade to a supported major (newest known: {newest}) with a logical replica or `pg_upgrade`; source: {}",
                    pg.source
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    /// The help line names only the date; the explanation page carries the sources, so the
    /// page must quote the facts file's current source.
    #[test]
    fn the_talos_support_sources_are_on_the_explanation_page() {
        let page = crate::explain("VER002").map(|e| e.text).unwrap_or_default();
        let source = &crate::facts::get().talos.source;
        assert!(
            page.contains(source.as_str()),
            "docs/rules/VER002.md must quote data/check/facts.yaml `talos.source`:\n{source}"
        );
    }
}
