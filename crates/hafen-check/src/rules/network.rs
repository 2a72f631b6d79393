//! Network rules: MTU arithmetic, address plans, underlay facts, mesh and ingress routing.

use crate::facts;
use crate::{Ctx, RuleFn};
use hafen_catalog::Category;
use hafen_diag::{CodeInfo, Diagnostic, Severity};
use hafen_spec::mtu;
use hafen_spec::net::Cidr;
use hafen_spec::{Encryption, IngressController, Mtu, PlatformSpec, Routing};
use std::net::IpAddr;

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
        summary: "overlapping pod, service, node, vSwitch or load-balancer ranges, within a cluster or across meshed clusters",
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
        // Clusters may share one provider network: their node ranges coincide by design.
        (Some(_), Some(_)) if a.path.ends_with("nodeCIDR") && b.path.ends_with("nodeCIDR") => false,
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
    handed_out(ctx, out);
}

/// Addresses a cluster hands out on its own LAN: a MetalLB pool entry (an address, a CIDR or
/// a `first-last` range), as an inclusive span of integers. Fixed egress addresses are not
/// among them: a private one is already an error of its own (EGR004).
struct Handed<'a> {
    lo: u128,
    hi: u128,
    v4: bool,
    text: &'a str,
    what: String,
    path: String,
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn ip_of(v4: bool, n: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(n))
    }
}

/// Parses an address, a CIDR or `first-last`; `None` for anything else (the renderer and
/// MetalLB report those).
fn span_of(text: &str) -> Option<(u128, u128, bool)> {
    let text = text.trim();
    if let Some((a, b)) = text.split_once('-') {
        let (a, b): (IpAddr, IpAddr) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
        if a.is_ipv4() != b.is_ipv4() || bits(a) > bits(b) {
            return None;
        }
        return Some((bits(a), bits(b), a.is_ipv4()));
    }
    if text.contains('/') {
        let cidr = Cidr::parse(text).ok()?;
        let (lo, hi) = cidr.range();
        return Some((lo, hi, cidr.addr.is_ipv4()));
    }
    let ip: IpAddr = text.parse().ok()?;
    Some((bits(ip), bits(ip), ip.is_ipv4()))
}

/// True when the whole span lies in one private-use block (RFC 1918, the shared 100.64/10
/// range, IPv6 unique-local): only such addresses share a LAN with the nodes. Public
/// addresses are routed to the site by the provider and cannot collide with it.
fn private_span(lo: u128, hi: u128, v4: bool) -> bool {
    let blocks: &[&str] = if v4 {
        &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]
    } else {
        &["fc00::/7"]
    };
    blocks.iter().filter_map(|b| Cidr::parse(b).ok()).any(|b| {
        let (a, z) = b.range();
        a <= lo && hi <= z
    })
}

fn handed<'a>(cluster: &'a hafen_spec::Cluster, i: usize) -> Vec<Handed<'a>> {
    let mut out = Vec::new();
    for (k, text) in cluster.network.load_balancer_ips.iter().enumerate() {
        if let Some((lo, hi, v4)) = span_of(text)
            && private_span(lo, hi, v4)
        {
            out.push(Handed {
                lo,
                hi,
                v4,
                text,
                what: format!("load-balancer pool {text} of cluster `{}`", cluster.name),
                path: format!("spec.clusters[{i}].network.loadBalancerIPs[{k}]"),
            });
        }
    }
    out
}

/// The free top of a node range that a pool is usually carved from (`.240`–`.254` of a /24,
/// as the renderer picks when `loadBalancerIPs` is not set), for the fix.
fn free_top(node: &Cidr) -> Option<String> {
    let IpAddr::V4(base) = node.addr else { return None };
    if node.prefix > 24 {
        return None;
    }
    let first = std::net::Ipv4Addr::from(u32::from(base).checked_add(240)?);
    let last = std::net::Ipv4Addr::from(u32::from(base).checked_add(254)?);
    Some(format!("{first}-{last}"))
}

/// Load-balancer pools against the ranges they must stay out of. Judgment: a pool carved from the node LAN is the normal bare-metal setup (the renderer
/// itself uses `.240`–`.254` of the node range), because the node addresses in use are a
/// part of that range the spec does not list. So a pool inside the node range is only wrong
/// where it certainly covers addresses in use: when it holds the whole node range, or the
/// range's network or broadcast address (a CIDR laid over the LAN's own bounds, which hands
/// out the network address and the low addresses where routers and nodes sit).
fn handed_out(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let all: Vec<Vec<Handed<'_>>> =
        spec.clusters.iter().enumerate().map(|(i, c)| handed(c, i)).collect();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let net = &cluster.network;
        let node = net.node_cidr.as_deref().and_then(|t| Cidr::parse(t).ok());
        for h in &all[i] {
            let inside = |c: &Cidr| {
                let (a, z) = c.range();
                c.addr.is_ipv4() == h.v4 && h.lo <= z && a <= h.hi
            };
            let mut clash: Option<(String, String, String)> = None;
            for (text, what, field) in [
                (&net.pod_cidr, "pod range", "podCIDR"),
                (&net.service_cidr, "service range", "serviceCIDR"),
            ] {
                if let Ok(c) = Cidr::parse(text)
                    && inside(&c)
                {
                    clash = Some((
                        format!(
                            "lies in the {what} {c} of the same cluster: traffic to it is routed to pods and services, never to the LAN"
                        ),
                        format!("spec.clusters[{i}].network.{field}"),
                        format!("{what} {c}"),
                    ));
                    break;
                }
            }
            if clash.is_none()
                && let Some(node) = node.filter(|n| n.addr.is_ipv4() == h.v4)
            {
                let (a, z) = node.range();
                let edges = node.addr.is_ipv4() && node.prefix <= 30;
                let label = format!("node range {node}");
                let path = format!("spec.clusters[{i}].network.nodeCIDR");
                if h.lo <= a && z <= h.hi {
                    clash = Some((
                        format!(
                            "contains the whole node range {node}: every node address is also one MetalLB may hand to a service, and the first service to take a node's address cuts that node off"
                        ),
                        path,
                        label,
                    ));
                } else if edges && h.lo <= a && a <= h.hi {
                    clash = Some((
                        format!(
                            "includes {}, the network address of node range {node}: it is laid over the LAN's own addresses, not carved from its free end, so it hands out the network address and the low addresses where the router and the nodes sit",
                            ip_of(true, a)
                        ),
                        path,
                        label,
                    ));
                } else if edges && h.lo <= z && z <= h.hi {
                    clash = Some((
                        format!(
                            "includes {}, the broadcast address of node range {node}: a service given it is unreachable, and every host on the LAN answers for it",
                            ip_of(true, z)
                        ),
                        path,
                        label,
                    ));
                }
            }
            if clash.is_none() {
                // Two clusters announcing one pool on a shared LAN answer ARP for the same
                // addresses.
                let sites = cluster.sites();
                for (j, other) in spec.clusters.iter().enumerate().skip(i + 1) {
                    if !other.sites().iter().any(|s| sites.contains(s)) {
                        continue;
                    }
                    if let Some(p) =
                        all[j].iter().find(|p| p.v4 == h.v4 && p.lo <= h.hi && h.lo <= p.hi)
                    {
                        clash = Some((
                            format!(
                                "overlaps {} at a site both clusters share: both MetalLB instances announce the same addresses on one LAN",
                                p.what
                            ),
                            p.path.clone(),
                            format!("pool {}", p.text),
                        ));
                        break;
                    }
                }
            }
            let Some((why, other_path, other_label)) = clash else { continue };
            let fix = match node.as_ref().and_then(free_top) {
                Some(top) => format!(
                    "give MetalLB addresses the LAN leaves free, e.g. `loadBalancerIPs: [{top}]` (outside the DHCP scope and the node addresses), or routed public addresses"
                ),
                None => "give MetalLB a range of its own on the LAN, outside the node, pod and service ranges and the DHCP scope".to_owned(),
            };
            let d = ctx
                .finding("NET002", &h.path, format!("{} {why}", h.what))
                .with_span_label("overlaps")
                .with_help(fix);
            out.push(ctx.label(d, &other_path, other_label));
        }
    }
}

rule!(NET003, Error, "two clusters of one Cluster Mesh share a cluster id", net003);

fn net003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let platform = &ctx.loaded.platform.metadata.name;
    let mut seen: Vec<(String, u32, usize)> = Vec::new();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let Some(mesh) = &cluster.network.mesh else { continue };
        let name = mesh.name.clone().unwrap_or_else(|| platform.clone());
        if let Some((_, _, first)) = seen.iter().find(|(n, id, _)| *n == name && *id == mesh.id) {
            let other = &spec.clusters[*first];
            let used: Vec<u32> =
                seen.iter().filter(|(n, _, _)| *n == name).map(|(_, id, _)| *id).collect();
            let free = (1..=255).find(|id| !used.contains(id) && *id != mesh.id).unwrap_or(255);
            let d = ctx
                .finding(
                    "NET003",
                    &format!("spec.clusters[{i}].network.mesh.id"),
                    format!(
                        "clusters `{}` and `{}` both use cluster id {} in mesh `{name}`",
                        other.name, cluster.name, mesh.id
                    ),
                )
                .with_span_label("duplicate cluster id")
                .with_help(format!(
                    "give cluster `{}` a free id, e.g. `mesh: {{id: {free}}}`; Cilium derives security identities and pod routes from the id, so a duplicate mixes up both clusters' endpoints",
                    cluster.name
                ));
            out.push(ctx.label(
                d,
                &format!("spec.clusters[{first}].network.mesh.id"),
                format!("cluster `{}` has id {}", other.name, mesh.id),
            ));
        } else {
            seen.push((name, mesh.id, i));
        }
    }
}

rule!(NET004, Error, "underlay MTU declared above what the provider's network carries", net004);

fn net004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, site) in ctx.spec().sites.iter().enumerate() {
        let Some(info) = ctx.site_info(&site.name) else { continue };
        let net = &site.network;
        if let (Some(vswitch), Some(max)) =
            (&net.vswitch, info.limits.as_ref().and_then(|l| l.vswitch_mtu))
            && vswitch.mtu > max
        {
            let d = ctx
                .finding(
                    "NET004",
                    &format!("spec.sites[{i}].network.vswitch.mtu"),
                    format!(
                        "site `{}` declares vSwitch VLAN {} with MTU {}, but a {} vSwitch carries {max}",
                        site.name, vswitch.vlan, vswitch.mtu, info.display_name
                    ),
                )
                .with_span_label(format!("{} bytes more than the VLAN carries", vswitch.mtu - max))
                .with_help(format!(
                    "set `mtu: {max}`; pod MTUs computed from a larger value lose every packet above {max} bytes"
                ));
            out.push(d);
        }
        let Some(limit) = info.limits.as_ref().and_then(|l| l.private_network_mtu) else {
            continue;
        };
        if net.private_network.is_none() || net.vswitch.is_some() {
            continue;
        }
        // Without `underlayMTU` the site carries the provider's private-network MTU (the
        // loader copies it from the catalogue, and the pod MTU arithmetic defaults to it), so
        // only a declared value above it is wrong.
        if let Some(mtu) = net.underlay_mtu
            && mtu > limit
        {
            out.push(
                ctx.finding(
                    "NET004",
                    &format!("spec.sites[{i}].network.underlayMTU"),
                    format!(
                        "site `{}` declares underlay MTU {mtu}, but a {} private network carries {limit}",
                        site.name, info.display_name
                    ),
                )
                .with_span_label(format!("{} bytes too large", mtu - limit))
                .with_help(format!("set `underlayMTU: {limit}`, or remove it: the site then carries {limit}")),
            );
        }
    }
}

rule!(NET005, Error, "vSwitch VLAN id outside the provider's range", net005);

fn net005(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, site) in ctx.spec().sites.iter().enumerate() {
        let Some(vswitch) = &site.network.vswitch else { continue };
        let Some(info) = ctx.site_info(&site.name) else { continue };
        let Some(limits) = &info.limits else { continue };
        let (Some(min), Some(max)) = (limits.vswitch_vlan_min, limits.vswitch_vlan_max) else {
            continue;
        };
        if (min..=max).contains(&vswitch.vlan) {
            continue;
        }
        out.push(
            ctx.finding(
                "NET005",
                &format!("spec.sites[{i}].network.vswitch.vlan"),
                format!(
                    "site `{}` uses VLAN {} for its vSwitch, but {} vSwitches take VLAN ids {min} to {max}",
                    site.name, vswitch.vlan, info.display_name
                ),
            )
            .with_span_label("the provider rejects this id")
            .with_help(format!("use the id of the vSwitch as created in the provider's console, between {min} and {max} (e.g. `vlan: {min}`)")),
        );
    }
}

rule!(NET006, Error, "bare-metal VLAN without the real name of the physical interface", net006);

fn net006(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, site) in ctx.spec().sites.iter().enumerate() {
        let dedicated =
            ctx.site_info(&site.name).is_some_and(|i| i.category == Category::Dedicated);
        let net = &site.network;
        match (&net.vswitch, &net.interface) {
            (Some(vswitch), None) => out.push(
                ctx.finding(
                    "NET006",
                    &format!("spec.sites[{i}].network.vswitch"),
                    format!(
                        "site `{}` has vSwitch VLAN {} but no `interface`: the VLAN must be attached to the server's physical interface by its real name",
                        site.name, vswitch.vlan
                    ),
                )
                .with_span_label("no interface to attach the VLAN to")
                .with_help("add `interface: <name>` with the predictable name the installed system shows (e.g. `enp7s0`, `enp0s31f6`); a patch on a wrong name leaves the VLAN down or, without `dhcp: true`, takes the public IP away"),
            ),
            (_, Some(name)) if dedicated && is_legacy_name(name) => out.push(
                ctx.finding(
                    "NET006",
                    &format!("spec.sites[{i}].network.interface"),
                    format!(
                        "site `{}` names the bare-metal interface `{name}`, a kernel name that predictable interface naming replaces",
                        site.name
                    ),
                )
                .with_span_label("not the name Talos and systemd give this NIC")
                .with_help("use the predictable name shown by `talosctl get links` or the rescue system's `ip link` (e.g. `enp7s0`); a network patch for `eth0` matches nothing and the server can lose its public IP"),
            ),
            _ => {}
        }
    }
}

fn is_legacy_name(name: &str) -> bool {
    name.strip_prefix("eth").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

rule!(NET007, Error, "node range outside every private network of the cluster's sites", net007);

fn net007(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Some(text) = &cluster.network.node_cidr else { continue };
        let Ok(nodes) = Cidr::parse(text) else { continue };
        let mut networks: Vec<(Cidr, String)> = Vec::new();
        for site_name in cluster.sites() {
            let Some(site) = ctx.site(site_name) else { continue };
            if let Some(p) = &site.network.private_network
                && let Ok(c) = Cidr::parse(&p.subnet)
            {
                networks.push((c, format!("private network {c} of site `{}`", site.name)));
            }
            if let Some(v) = &site.network.vswitch
                && let Ok(c) = Cidr::parse(&v.subnet)
            {
                networks.push((c, format!("vSwitch subnet {c} of site `{}`", site.name)));
            }
        }
        if networks.is_empty() || networks.iter().any(|(c, _)| c.overlaps(&nodes)) {
            continue;
        }
        let names: Vec<&str> = networks.iter().map(|(_, n)| n.as_str()).collect();
        out.push(
            ctx.finding(
                "NET007",
                &format!("spec.clusters[{i}].network.nodeCIDR"),
                format!(
                    "node range {nodes} of cluster `{}` lies outside the {}",
                    cluster.name,
                    names.join(" and the ")
                ),
            )
            .with_span_label("no site network routes these addresses")
            .with_help(format!(
                "set `nodeCIDR` to the network the nodes are attached to, e.g. `{}`",
                networks[0].0
            )),
        );
    }
}

rule!(NET008, Error, "pod range too small to give every node its block", net008);

fn net008(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let mask = facts::get().nodes.pod_cidr_mask_size;
    if mask == 0 {
        return;
    }
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let Ok(pods) = Cidr::parse(&cluster.network.pod_cidr) else { continue };
        if !pods.addr.is_ipv4() {
            continue;
        }
        let nodes: u64 = ctx.node_groups(i).iter().map(|g| u64::from(g.count)).sum();
        let blocks: u64 = if pods.prefix > mask { 0 } else { 1u64 << (mask - pods.prefix) };
        if nodes == 0 || blocks >= nodes {
            continue;
        }
        // Room for the nodes twice over, so scaling up does not hit the wall again.
        let mut prefix = mask;
        while prefix > 8 && (1u64 << (mask - prefix)) < nodes * 2 {
            prefix -= 1;
        }
        out.push(
            ctx.finding(
                "NET008",
                &format!("spec.clusters[{i}].network.podCIDR"),
                format!(
                    "pod range {pods} of cluster `{}` holds {blocks} per-node /{mask} block(s), but the cluster has {nodes} nodes",
                    cluster.name
                ),
            )
            .with_span_label(format!("{} node(s) would get no pod addresses", nodes - blocks))
            .with_help(format!(
                "use a /{prefix} or larger pod range (e.g. `{}/{prefix}`); each node takes a /{mask}",
                pods.addr
            )),
        );
    }
}

rule!(NET009, Error, "native routing between sites that share no private network", net009);

/// The first pair of a cluster's sites without a private path, if any.
pub(super) fn public_site_pair<'a>(
    ctx: &Ctx<'_>,
    cluster: &'a hafen_spec::Cluster,
) -> Option<(&'a str, &'a str)> {
    let sites = cluster.sites();
    for (k, a) in sites.iter().enumerate() {
        for b in &sites[k + 1..] {
            if !ctx.private_reachable(a, b) {
                return Some((a, b));
            }
        }
    }
    None
}

/// True when NET009 reports this cluster.
pub(super) fn net009_applies(ctx: &Ctx<'_>, cluster: &hafen_spec::Cluster) -> bool {
    cluster.network.routing == Routing::Native
        && cluster.network.encryption == Encryption::None
        && public_site_pair(ctx, cluster).is_some()
}

fn net009(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if !net009_applies(ctx, cluster) {
            continue;
        }
        let Some((a, b)) = public_site_pair(ctx, cluster) else { continue };
        out.push(
            ctx.finding(
                "NET009",
                &format!("spec.clusters[{i}].network.routing"),
                format!(
                    "cluster `{}` routes pod addresses natively between sites `{a}` and `{b}`, which are joined only over the public internet",
                    cluster.name
                ),
            )
            .with_span_label("the internet does not route pod ranges")
            .with_help(format!("set `encryption: wireguard` (pod traffic then travels inside WireGuard between node addresses), or `routing: tunnel`, or join the sites privately and declare it: `links: [{{sites: [{a}, {b}], private: true}}]`")),
        );
    }
}

rule!(NET010, Error, "two apps claim the same host name on one cluster", net010);

fn net010(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for cluster in &ctx.spec().clusters {
        let mut seen: Vec<(&str, String, String)> = Vec::new();
        for (i, tenant) in ctx.tenants_on(&cluster.name) {
            for (j, app) in tenant.apps.iter().enumerate() {
                for (k, domain) in app.domains.iter().enumerate() {
                    let path = format!("spec.tenants[{i}].apps[{j}].domains[{k}]");
                    let who = format!("app `{}` of tenant `{}`", app.name, tenant.name);
                    if let Some((_, first_who, first_path)) =
                        seen.iter().find(|(d, _, _)| *d == domain.as_str())
                    {
                        let d = ctx
                            .finding(
                                "NET010",
                                &path,
                                format!(
                                    "{who} and {first_who} both route `{domain}` on cluster `{}`",
                                    cluster.name
                                ),
                            )
                            .with_span_label("claimed twice")
                            .with_help(format!("give one of them another host name; the ingress controller picks one route for `{domain}` and the other app silently gets no traffic"));
                        out.push(ctx.label(d, first_path, format!("{first_who} claims it here")));
                    } else {
                        seen.push((domain, who, path));
                    }
                }
            }
        }
    }
}

rule!(
    NET011,
    Error,
    "app with public host names on a cluster without an ingress controller",
    net011
);

fn net011(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (c, cluster) in ctx.spec().clusters.iter().enumerate() {
        if cluster.ingress != IngressController::None {
            continue;
        }
        for (i, tenant) in ctx.tenants_on(&cluster.name) {
            for (j, app) in tenant.apps.iter().enumerate() {
                if app.domains.is_empty() {
                    continue;
                }
                let d = ctx
                    .finding(
                        "NET011",
                        &format!("spec.tenants[{i}].apps[{j}].domains"),
                        format!(
                            "app `{}` of tenant `{}` routes {} on cluster `{}`, which has `ingress: none`",
                            app.name,
                            tenant.name,
                            app.domains.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", "),
                            cluster.name
                        ),
                    )
                    .with_span_label("nothing serves these host names")
                    .with_help(format!("set `ingress: traefik` on cluster `{}`, or remove the domains", cluster.name));
                out.push(ctx.label(
                    d,
                    &format!("spec.clusters[{c}].ingress"),
                    "no ingress controller",
                ));
            }
        }
    }
}

rule!(
    NET012,
    Error,
    "public ingress or Cluster Mesh on a cluster whose load-balancer pool is private only",
    net012
);

/// The name of the Cluster Mesh a cluster joins, if any (the platform's name by default).
fn mesh_of(ctx: &Ctx<'_>, cluster: &hafen_spec::Cluster) -> Option<String> {
    let mesh = cluster.network.mesh.as_ref()?;
    Some(mesh.name.clone().unwrap_or_else(|| ctx.loaded.platform.metadata.name.clone()))
}

/// True when some site of `a` reaches some site of `b` without the internet.
fn clusters_private(ctx: &Ctx<'_>, a: &hafen_spec::Cluster, b: &hafen_spec::Cluster) -> bool {
    let sb = b.sites();
    a.sites().iter().any(|x| sb.iter().any(|y| ctx.private_reachable(x, y)))
}

/// The addresses MetalLB hands out on a cluster without a Hetzner Cloud site, as the renderer
/// picks them, with the spec path that decides them, when every one of them is private: the
/// declared `loadBalancerIPs`, else the top of the vSwitch subnet, else (own servers) the top
/// of the node range. `None` when a Cloud load balancer serves the cluster, a public address
/// is in the pool, or there is no pool at all (the renderer reports that one).
fn private_pool(ctx: &Ctx<'_>, i: usize) -> Option<(String, String)> {
    let spec = ctx.spec();
    let cluster = spec.clusters.get(i)?;
    let kind = |s: &str| spec.site_provider(s).map(|p| p.type_.clone()).unwrap_or_default();
    let sites = cluster.sites();
    if sites.iter().any(|s| kind(s) == "hetzner-cloud") {
        return None;
    }
    let ips = &cluster.network.load_balancer_ips;
    if !ips.is_empty() {
        let all_private =
            ips.iter().all(|t| span_of(t).is_some_and(|(lo, hi, v4)| private_span(lo, hi, v4)));
        return all_private
            .then(|| (ips.join(", "), format!("spec.clusters[{i}].network.loadBalancerIPs")));
    }
    let metal = *sites.first()?;
    let si = spec.sites.iter().position(|s| s.name == metal)?;
    let site = spec.sites.get(si)?;
    let (range, path) = if let Some(vswitch) = &site.network.vswitch {
        (vswitch.subnet.clone(), format!("spec.sites[{si}].network.vswitch.subnet"))
    } else if kind(metal) != "hetzner-dedicated" {
        (cluster.network.node_cidr.clone()?, format!("spec.clusters[{i}].network.nodeCIDR"))
    } else {
        return None;
    };
    let cidr = Cidr::parse(&range).ok()?;
    let (lo, hi) = cidr.range();
    let top = free_top(&cidr)?;
    private_span(lo, hi, cidr.addr.is_ipv4()).then_some((top, path))
}

/// Where a site's public load-balancer addresses come from, for the fix.
fn public_source(ctx: &Ctx<'_>, site: &str) -> String {
    let kind = ctx.spec().site_provider(site).map(|p| p.type_.as_str());
    let info = ctx.site_info(site);
    if kind == Some("hetzner-dedicated") {
        "Hetzner Robot: a public subnet routed to the vSwitch (failover IPs are routed to one server's main address, which MetalLB cannot move)".into()
    } else if info.is_none_or(|i| i.category == Category::SelfHosted) {
        "own servers: addresses your uplink routes to their LAN".into()
    } else {
        format!(
            "addresses {} routes to these servers, e.g. its floating or flexible IPs",
            info.map_or("the provider", |i| i.display_name.as_str())
        )
    }
}

fn net012(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let Some((pool, pool_path)) = private_pool(ctx, i) else { continue };
        let mut apps: Vec<(String, String)> = Vec::new();
        if cluster.ingress != IngressController::None {
            for (t, tenant) in ctx.tenants_on(&cluster.name) {
                for (j, app) in tenant.apps.iter().enumerate() {
                    if !app.domains.is_empty() {
                        apps.push((
                            format!("`{}` ({})", app.name, app.domains.join(", ")),
                            format!("spec.tenants[{t}].apps[{j}].domains"),
                        ));
                    }
                }
            }
        }
        let mesh = mesh_of(ctx, cluster);
        let public_peers: Vec<&str> = spec
            .clusters
            .iter()
            .filter(|c| c.name != cluster.name && mesh.is_some() && mesh_of(ctx, c) == mesh)
            .filter(|c| !clusters_private(ctx, cluster, c))
            .map(|c| c.name.as_str())
            .collect();
        if apps.is_empty() && public_peers.is_empty() {
            continue;
        }
        let mut harm = Vec::new();
        if !apps.is_empty() {
            let names: Vec<&str> = apps.iter().map(|(n, _)| n.as_str()).collect();
            harm.push(format!(
                "app{} {} get{} no DNS record (ExternalDNS never publishes a private target in a public zone) and no traffic from the internet",
                if apps.len() == 1 { "" } else { "s" },
                names.join(", "),
                if apps.len() == 1 { "s" } else { "" }
            ));
        }
        if !public_peers.is_empty() {
            harm.push(format!(
                "its Cluster Mesh API server gets a private address that {} reach{} only over the internet, so the mesh never connects",
                public_peers.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "),
                if public_peers.len() == 1 { "es" } else { "" }
            ));
        }
        let d = ctx
            .finding(
                "NET012",
                &format!("spec.clusters[{i}].site"),
                format!(
                    "cluster `{}` at site `{}` hands its load balancers only private addresses ({pool}): {}",
                    cluster.name,
                    cluster.site,
                    harm.join("; ")
                ),
            )
            .with_span_label("no public load-balancer address here")
            .with_help(format!(
                "declare public addresses routed to the servers in `network.loadBalancerIPs` of cluster `{}` ({})",
                cluster.name,
                public_source(ctx, &cluster.site)
            ));
        let d = ctx.label(d, &pool_path, "the pool comes from here");
        let d = match apps.first() {
            Some((_, path)) => ctx.label(d, path, "public host names"),
            None => d,
        };
        out.push(d);
    }
}

rule!(NET013, Error, "clusters of one Cluster Mesh with different routing modes", net013);

fn net013(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = ctx.spec();
    let mut reported: Vec<String> = Vec::new();
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let Some(mesh) = mesh_of(ctx, cluster) else { continue };
        if reported.contains(&mesh) {
            continue;
        }
        let Some((j, other)) = spec.clusters.iter().enumerate().skip(i + 1).find(|(_, c)| {
            mesh_of(ctx, c).as_ref() == Some(&mesh) && c.network.routing != cluster.network.routing
        }) else {
            continue;
        };
        reported.push(mesh.clone());
        let name = |r: Routing| match r {
            Routing::Native => "native",
            Routing::Tunnel => "tunnel",
        };
        let (mine, theirs) = (name(cluster.network.routing), name(other.network.routing));
        let (native, tunnel) = if cluster.network.routing == Routing::Native {
            (&cluster.name, &other.name)
        } else {
            (&other.name, &cluster.name)
        };
        let d = ctx
            .finding(
                "NET013",
                &format!("spec.clusters[{j}].network.routing"),
                format!(
                    "clusters `{}` (`routing: {mine}`) and `{}` (`routing: {theirs}`) are joined in Cluster Mesh `{mesh}` with different datapaths: `{native}` sends pod traffic for `{tunnel}` unencapsulated to its own network, which does not route those pods, while `{tunnel}` sends its traffic in a tunnel `{native}` does not expect; cross-cluster traffic is dropped",
                    cluster.name, other.name
                ),
            )
            .with_span_label(format!("`routing: {theirs}`"))
            .with_help(format!(
                "use one routing mode for every cluster of the mesh: `routing: tunnel` on `{native}` works wherever the nodes reach each other's node addresses; native routing across the mesh needs one network that routes every member's pod ranges"
            ));
        out.push(ctx.label(
            d,
            &format!("spec.clusters[{i}].network.routing"),
            format!("`routing: {mine}`"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::{private_span, span_of};

    #[test]
    fn pool_entries_read_as_spans() {
        let (lo, hi, v4) = span_of("192.168.10.240-192.168.10.254").unwrap();
        assert!(v4 && hi - lo == 14);
        let (lo, hi, _) = span_of("192.168.10.0/26").unwrap();
        assert_eq!(hi - lo, 63);
        let (lo, hi, _) = span_of("10.0.0.7").unwrap();
        assert_eq!(lo, hi);
        assert!(span_of("10.0.0.9-10.0.0.1").is_none());
        assert!(span_of("10.0.0.1-fd00::1").is_none());
        assert!(span_of("10.0.0.5/24").is_none());
        assert!(span_of("pool-a").is_none());
    }

    #[test]
    fn only_private_spans_share_a_lan() {
        let span = |t: &str| span_of(t).unwrap();
        for private in ["192.168.10.0/26", "10.1.2.3", "172.16.0.0/12", "fd00::/64"] {
            let (lo, hi, v4) = span(private);
            assert!(private_span(lo, hi, v4), "{private}");
        }
        for public in ["198.51.100.0/28", "172.15.255.0-172.16.0.10", "2a01:4f8::/64"] {
            let (lo, hi, v4) = span(public);
            assert!(!private_span(lo, hi, v4), "{public}");
        }
    }
}
