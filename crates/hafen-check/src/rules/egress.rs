//! Egress rules: tenant traffic that must leave from fixed, clean addresses.

use crate::Ctx;
use hafen_diag::Diagnostic;
use hafen_spec::{Cluster, NodeRole};
use std::net::IpAddr;

/// The node pools that carry egress gateways: the named one, else those with the role.
fn gateway_pools(cluster: &Cluster) -> Vec<(usize, &hafen_spec::NodePool)> {
    let named = cluster.network.egress.as_ref().and_then(|e| e.pool.as_deref());
    cluster
        .node_pools
        .iter()
        .enumerate()
        .filter(|(_, p)| match named {
            Some(name) => p.name == name,
            None => p.roles.contains(&NodeRole::EgressGateway),
        })
        .collect()
}

fn egress_ips(cluster: &Cluster) -> &[String] {
    cluster.network.egress.as_ref().map_or(&[], |e| e.ips.as_slice())
}

rule!(
    EGR001,
    Error,
    "app that needs a fixed, clean egress IP on a cluster without pinned egress IPs",
    egr001
);

fn egr001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, tenant) in ctx.spec().tenants.iter().enumerate() {
        for (j, app) in tenant.apps.iter().enumerate() {
            if !app.egress.stable_ip {
                continue;
            }
            for cluster_name in &tenant.clusters {
                let Some(c) = ctx.cluster_index(cluster_name) else { continue };
                let cluster = &ctx.spec().clusters[c];
                if !egress_ips(cluster).is_empty() {
                    continue;
                }
                let d = ctx
                    .finding(
                        "EGR001",
                        &format!("spec.tenants[{i}].apps[{j}].egress.stableIP"),
                        format!(
                            "app `{}` of tenant `{}` needs a fixed egress IP, but cluster `{}` pins none: its traffic leaves from whatever address the node it runs on got",
                            app.name, tenant.name, cluster.name
                        ),
                    )
                    .with_span_label("mail and allow-listed APIs need a known sender address")
                    .with_help(format!(
                        "give cluster `{}` egress addresses and gateway nodes: `network.egress: {{ips: [<reserved public IP>]}}` and a node pool with `roles: [egress-gateway]`; check each new address against blocklists before use",
                        cluster.name
                    ));
                out.push(ctx.label(
                    d,
                    &format!("spec.clusters[{c}].network"),
                    "no `egress.ips` here",
                ));
            }
        }
    }
}

rule!(EGR002, Error, "egress IPs declared without egress-gateway nodes to carry them", egr002);

fn egr002(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        let ips = egress_ips(cluster);
        if ips.is_empty() {
            continue;
        }
        let pools = gateway_pools(cluster);
        if pools.iter().any(|(_, p)| p.count > 0) {
            continue;
        }
        let why = if pools.is_empty() {
            "no node pool has the role `egress-gateway`".to_owned()
        } else {
            "its egress-gateway pool has no nodes".to_owned()
        };
        out.push(
            ctx.finding(
                "EGR002",
                &format!("spec.clusters[{i}].network.egress.ips"),
                format!(
                    "cluster `{}` pins egress IPs {}, but {why}",
                    cluster.name,
                    ips.join(", ")
                ),
            )
            .with_span_label("no gateway node holds these addresses")
            .with_help("add a node pool such as `{name: egress, serverType: <type>, count: 2, roles: [egress-gateway]}`; Cilium's egress gateway policy sends tenant traffic through those nodes and their fixed addresses"),
        );
    }
}

rule!(EGR003, Warning, "a single egress-gateway node carries all fixed-IP traffic", egr003);

fn egr003(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        if egress_ips(cluster).is_empty() || !ctx.production(cluster) {
            continue;
        }
        let pools = gateway_pools(cluster);
        let nodes: u64 = pools.iter().map(|(_, p)| u64::from(p.count)).sum();
        if nodes != 1 {
            continue;
        }
        let Some((j, pool)) = pools.iter().find(|(_, p)| p.count == 1) else { continue };
        let site = cluster.pool_site(pool);
        let wait = if ctx.remote_power_on(site) {
            String::new()
        } else {
            format!("; at site `{site}` a dead server waits for provider support to be switched on")
        };
        out.push(
            ctx.finding(
                "EGR003",
                &format!("spec.clusters[{i}].nodePools[{j}].count"),
                format!(
                    "egress-gateway pool `{}` of cluster `{}` has one node: when it fails, every app that relies on the fixed egress IPs loses its outgoing traffic{wait}",
                    pool.name, cluster.name
                ),
            )
            .with_span_label("single point of failure for egress")
            .with_help("use `count: 2` or more so the egress IPs can move to a surviving gateway"),
        );
    }
}

rule!(EGR004, Error, "egress IP that is not a public address, or pinned by two clusters", egr004);

fn not_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if v4.is_private() {
                Some("a private (RFC 1918) address")
            } else if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if o[0] == 100 && (64..128).contains(&o[1]) {
                Some("a carrier-grade NAT address")
            } else if v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast() {
                Some("not a unicast address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            if v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() {
                Some("not a public unicast address")
            } else if seg[0] & 0xfe00 == 0xfc00 {
                Some("a unique-local address")
            } else if seg[0] & 0xffc0 == 0xfe80 {
                Some("a link-local address")
            } else {
                None
            }
        }
    }
}

fn egr004(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(IpAddr, String, String)> = Vec::new();
    for (i, cluster) in ctx.spec().clusters.iter().enumerate() {
        for (k, text) in egress_ips(cluster).iter().enumerate() {
            let Ok(ip) = text.parse::<IpAddr>() else { continue };
            let path = format!("spec.clusters[{i}].network.egress.ips[{k}]");
            if let Some(what) = not_public(ip) {
                out.push(
                    ctx.finding(
                        "EGR004",
                        &path,
                        format!("egress IP {ip} of cluster `{}` is {what}", cluster.name),
                    )
                    .with_span_label("the internet never sees this address")
                    .with_help("list the public addresses (floating or primary IPs) tenant traffic should leave from; private addresses belong in `nodeCIDR`"),
                );
                continue;
            }
            if let Some((_, first_cluster, first_path)) = seen.iter().find(|(s, _, _)| *s == ip) {
                let msg = if *first_cluster == cluster.name {
                    format!("egress IP {ip} is listed twice for cluster `{}`", cluster.name)
                } else {
                    format!(
                        "egress IP {ip} is pinned by both cluster `{first_cluster}` and cluster `{}`",
                        cluster.name
                    )
                };
                let d = ctx
                    .finding("EGR004", &path, msg)
                    .with_span_label("already in use")
                    .with_help("an address can be attached to one gateway node at a time; give each cluster its own addresses");
                out.push(ctx.label(d, first_path, "first pinned here"));
                continue;
            }
            seen.push((ip, cluster.name.clone(), path));
        }
    }
}
