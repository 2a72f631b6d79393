//! Network rules: MTU arithmetic and address plans.

use crate::{Ctx, RuleFn};
use hafen_diag::{CodeInfo, Diagnostic, Severity};
use hafen_spec::mtu;
use hafen_spec::net::Cidr;
use hafen_spec::{Mtu, PlatformSpec};

/// NET001: the pod MTU does not fit the underlay.
pub(crate) const NET001: RuleFn = RuleFn {
    info: CodeInfo {
        code: "NET001",
        severity: Severity::Error,
        summary: "pod MTU larger than the underlay MTU minus encapsulation and encryption overhead",
    },
    run: net001,
};

fn net001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = &ctx.loaded.platform.spec;
    let spans = &ctx.loaded.spans;
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let Mtu::Value(set) = cluster.network.mtu else { continue };
        let (max, under, heads) = mtu::max_pod_mtu(spec, cluster);
        if set <= max {
            continue;
        }
        let path = format!("spec.clusters[{i}].network.mtu");
        let mut d = Diagnostic::error(
            "NET001",
            format!(
                "cluster `{}` sets pod MTU {set}, but site `{}` carries at most {max} after overhead",
                cluster.name, under.site
            ),
        )
        .with_span(spans.nearest(&path))
        .with_path(&path)
        .with_span_label(format!("{} bytes too large: packets above {max} are silently dropped", set - max))
        .with_help(format!("set `mtu: {max}` (or `mtu: auto`): {}", mtu::explain(&under, &heads)));
        if let Some(under_path) = &under.path {
            d = d.with_label(spans.nearest(under_path), format!("underlay MTU {}", under.mtu));
        }
        out.push(d);
    }
}

/// NET002: address ranges overlap.
pub(crate) const NET002: RuleFn = RuleFn {
    info: CodeInfo {
        code: "NET002",
        severity: Severity::Error,
        summary: "overlapping pod, service, node or vSwitch ranges, within a cluster or across meshed clusters",
    },
    run: net002,
};

struct Range {
    cidr: Cidr,
    what: String,
    path: String,
    cluster: Option<usize>,
    site: Option<String>,
}

fn ranges(spec: &PlatformSpec) -> Vec<Range> {
    let mut out = Vec::new();
    let mut push =
        |text: &str, what: String, path: String, cluster: Option<usize>, site: Option<&str>| {
            if let Ok(cidr) = Cidr::parse(text) {
                out.push(Range { cidr, what, path, cluster, site: site.map(str::to_owned) });
            }
        };
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let net = &cluster.network;
        push(
            &net.pod_cidr,
            format!("pod range of cluster `{}`", cluster.name),
            format!("spec.clusters[{i}].network.podCIDR"),
            Some(i),
            None,
        );
        push(
            &net.service_cidr,
            format!("service range of cluster `{}`", cluster.name),
            format!("spec.clusters[{i}].network.serviceCIDR"),
            Some(i),
            None,
        );
        if let Some(node) = &net.node_cidr {
            push(
                node,
                format!("node range of cluster `{}`", cluster.name),
                format!("spec.clusters[{i}].network.nodeCIDR"),
                Some(i),
                None,
            );
        }
    }
    for (i, site) in spec.sites.iter().enumerate() {
        if let Some(vswitch) = &site.network.vswitch {
            push(
                &vswitch.subnet,
                format!("vSwitch subnet of site `{}`", site.name),
                format!("spec.sites[{i}].network.vswitch.subnet"),
                None,
                Some(&site.name),
            );
        }
        if let Some(private) = &site.network.private_network {
            push(
                &private.subnet,
                format!("private network of site `{}`", site.name),
                format!("spec.sites[{i}].network.privateNetwork.subnet"),
                None,
                Some(&site.name),
            );
        }
    }
    out
}

/// Whether two ranges must not overlap: same cluster, meshed clusters, or a site range that a
/// cluster's pods or services would shadow.
fn must_be_disjoint(spec: &PlatformSpec, a: &Range, b: &Range) -> bool {
    match (a.cluster, b.cluster) {
        (Some(x), Some(y)) if x == y => {
            // A cluster's node range may sit inside the site's network; pods and services not.
            true
        }
        (Some(x), Some(y)) => {
            let meshed = |k: usize| {
                spec.clusters[k].network.mesh.as_ref().map(|m| m.name.clone().unwrap_or_default())
            };
            match (meshed(x), meshed(y)) {
                (Some(m1), Some(m2)) => m1 == m2,
                _ => false,
            }
        }
        (Some(k), None) | (None, Some(k)) => {
            // Node ranges are expected inside a site network; pod and service ranges must not be.
            let cluster_range = if a.cluster.is_some() { a } else { b };
            let is_node_range = cluster_range.path.ends_with("nodeCIDR");
            let site_range = if a.cluster.is_some() { b } else { a };
            let site_name = site_range.site.as_deref().unwrap_or("");
            !is_node_range && spec.clusters[k].sites().contains(&site_name)
        }
        // Site networks may nest: Hetzner couples a vSwitch as a subnet of a Cloud network.
        (None, None) => false,
    }
}

fn net002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = &ctx.loaded.platform.spec;
    let spans = &ctx.loaded.spans;
    let all = ranges(spec);
    for (i, a) in all.iter().enumerate() {
        for b in &all[i + 1..] {
            if !a.cidr.overlaps(&b.cidr) || !must_be_disjoint(spec, a, b) {
                continue;
            }
            let why = match (a.cluster, b.cluster) {
                (Some(x), Some(y)) if x != y => {
                    "; meshed clusters route each other's pods and services, so their ranges must be disjoint"
                }
                _ => "",
            };
            out.push(
                Diagnostic::error(
                    "NET002",
                    format!("{} {} overlaps {} {}", a.what, a.cidr, b.what, b.cidr),
                )
                .with_span(spans.nearest(&b.path))
                .with_path(&b.path)
                .with_span_label("overlaps")
                .with_label(spans.nearest(&a.path), format!("{} {}", a.what, a.cidr))
                .with_help(format!("move {} to a range disjoint from {}{why}", b.what, a.cidr)),
            );
        }
    }
}
