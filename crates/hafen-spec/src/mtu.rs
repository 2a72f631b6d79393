//! Pod MTU arithmetic, shared by the MTU rule and the renderer so they can never disagree.
//!
//! The pod MTU must fit the smallest underlay a cluster's node-to-node traffic crosses, minus
//! every header added on the way: WireGuard adds 60 bytes over IPv4 and 80 over IPv6;
//! VXLAN and Geneve add 50. A Hetzner vSwitch carries 1400, so WireGuard leaves 1340.
//! Cilium is configured with the device MTU and reserves its own, rounder allowances
//! ([`cilium_mtu`]), so its pods end a little below that strict maximum.

use crate::{Cluster, Encryption, IpFamily, Mtu, PlatformSpec, Routing, TunnelProtocol};

/// The underlay a cluster's pod traffic crosses.
#[derive(Debug, Clone, PartialEq)]
pub struct Underlay {
    /// Smallest MTU over the cluster's sites.
    pub mtu: u32,
    /// Site that sets it.
    pub site: String,
    /// Why: `vSwitch VLAN 4000`, `underlayMTU`, `Ethernet default`.
    pub source: String,
    /// The path of the value in the spec, if written.
    pub path: Option<String>,
    /// IPv6 underlay anywhere.
    pub ipv6: bool,
}

/// One header that costs bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Overhead {
    /// What adds it.
    pub what: &'static str,
    /// Bytes.
    pub bytes: u32,
}

/// The underlay of a cluster: the minimum over all its sites.
pub fn underlay(spec: &PlatformSpec, cluster: &Cluster) -> Underlay {
    let mut best: Option<Underlay> = None;
    for site_name in cluster.sites() {
        let Some((idx, site)) = spec.sites.iter().enumerate().find(|(_, s)| s.name == site_name)
        else {
            continue;
        };
        let net = &site.network;
        let candidate = match (&net.vswitch, net.underlay_mtu) {
            (Some(vswitch), Some(mtu)) if mtu < vswitch.mtu => Underlay {
                mtu,
                site: site.name.clone(),
                source: "underlayMTU".into(),
                path: Some(format!("spec.sites[{idx}].network.underlayMTU")),
                ipv6: false,
            },
            (Some(vswitch), _) => Underlay {
                mtu: vswitch.mtu,
                site: site.name.clone(),
                source: format!("vSwitch VLAN {}", vswitch.vlan),
                path: Some(format!("spec.sites[{idx}].network.vswitch.mtu")),
                ipv6: false,
            },
            (None, Some(mtu)) => Underlay {
                mtu,
                site: site.name.clone(),
                source: "underlayMTU".into(),
                path: Some(format!("spec.sites[{idx}].network.underlayMTU")),
                ipv6: false,
            },
            (None, None) => match (&net.private_network, net.private_network_mtu) {
                // Like a vSwitch's, a provider private network's own MTU is the default.
                (Some(_), Some(mtu)) => Underlay {
                    mtu,
                    site: site.name.clone(),
                    source: "the provider's private network".into(),
                    path: Some(format!("spec.sites[{idx}].network.privateNetwork")),
                    ipv6: false,
                },
                _ => Underlay {
                    mtu: 1500,
                    site: site.name.clone(),
                    source: "Ethernet default".into(),
                    path: None,
                    ipv6: false,
                },
            },
        };
        let ipv6 = net.ip_family == IpFamily::Ipv6;
        let candidate = Underlay { ipv6, ..candidate };
        best = Some(match best {
            Some(b) if b.mtu <= candidate.mtu => Underlay { ipv6: b.ipv6 || ipv6, ..b },
            Some(b) => Underlay { ipv6: b.ipv6 || ipv6, ..candidate },
            None => candidate,
        });
    }
    best.unwrap_or(Underlay {
        mtu: 1500,
        site: cluster.site.clone(),
        source: "Ethernet default".into(),
        path: None,
        ipv6: false,
    })
}

/// Headers the cluster's configuration adds to every pod packet.
pub fn overheads(cluster: &Cluster, ipv6: bool) -> Vec<Overhead> {
    let net = &cluster.network;
    let mut out = Vec::new();
    if net.routing == Routing::Tunnel {
        out.push(match net.tunnel {
            TunnelProtocol::Vxlan => Overhead { what: "VXLAN", bytes: 50 },
            TunnelProtocol::Geneve => Overhead { what: "Geneve", bytes: 50 },
        });
    }
    if net.encryption == Encryption::Wireguard {
        out.push(if ipv6 {
            Overhead { what: "WireGuard (IPv6)", bytes: 80 }
        } else {
            Overhead { what: "WireGuard (IPv4)", bytes: 60 }
        });
    }
    out
}

/// The largest pod MTU that fits, and the arithmetic behind it.
pub fn max_pod_mtu(spec: &PlatformSpec, cluster: &Cluster) -> (u32, Underlay, Vec<Overhead>) {
    let under = underlay(spec, cluster);
    let heads = overheads(cluster, under.ipv6);
    let total: u32 = heads.iter().map(|h| h.bytes).sum();
    (under.mtu.saturating_sub(total), under, heads)
}

/// The largest pod MTU the underlay allows for `auto`, else the given number: the value the
/// rules and the planner reason about (what Cilium is given is [`cilium_mtu`]).
pub fn pod_mtu(spec: &PlatformSpec, cluster: &Cluster) -> u32 {
    match cluster.network.mtu {
        Mtu::Auto(_) => max_pod_mtu(spec, cluster).0,
        Mtu::Value(v) => v,
    }
}

/// What Cilium itself subtracts from its `MTU` value (the device MTU) to get the pod route MTU
/// (`pkg/mtu/mtu.go`, `getRouteMTU`): a flat 80 bytes for WireGuard (it does not tell IPv4
/// from IPv6) plus, in tunnel mode, 50 bytes over IPv4 or 70 over IPv6.
pub fn cilium_overheads(cluster: &Cluster, ipv6: bool) -> Vec<Overhead> {
    let net = &cluster.network;
    let mut out = Vec::new();
    if net.encryption == Encryption::Wireguard {
        out.push(Overhead { what: "Cilium's WireGuard allowance", bytes: 80 });
    }
    if net.routing == Routing::Tunnel {
        let what = match net.tunnel {
            TunnelProtocol::Vxlan => "Cilium's VXLAN allowance",
            TunnelProtocol::Geneve => "Cilium's Geneve allowance",
        };
        out.push(Overhead { what, bytes: if ipv6 { 70 } else { 50 } });
    }
    out
}

/// The Helm value `MTU` Cilium is given, and the pod route MTU Cilium derives from it.
#[derive(Debug, Clone, PartialEq)]
pub struct CiliumMtu {
    /// The value of Cilium's `MTU` setting: the device (base) MTU.
    pub base: u32,
    /// The route MTU pods get: `base` minus [`cilium_overheads`].
    pub route: u32,
    /// What Cilium subtracts.
    pub overheads: Vec<Overhead>,
}

/// For `mtu: auto` Cilium gets the underlay MTU and subtracts its own allowances; for an explicit
/// `mtu: N` (the pod MTU the operator wants) Cilium gets `N` plus its allowances, so the route
/// MTU it computes is exactly `N`.
pub fn cilium_mtu(spec: &PlatformSpec, cluster: &Cluster) -> CiliumMtu {
    let under = underlay(spec, cluster);
    let overheads = cilium_overheads(cluster, under.ipv6);
    let total: u32 = overheads.iter().map(|h| h.bytes).sum();
    let base = match cluster.network.mtu {
        Mtu::Auto(_) => under.mtu,
        Mtu::Value(v) => v.saturating_add(total),
    };
    CiliumMtu { base, route: base.saturating_sub(total), overheads }
}

/// `1400 (vSwitch VLAN 4000) − 60 (WireGuard (IPv4)) = 1340`.
pub fn explain(under: &Underlay, heads: &[Overhead]) -> String {
    let mut text = format!("{} ({})", under.mtu, under.source);
    let mut value = under.mtu;
    for head in heads {
        text.push_str(&format!(" − {} ({})", head.bytes, head.what));
        value = value.saturating_sub(head.bytes);
    }
    text.push_str(&format!(" = {value}"));
    text
}
