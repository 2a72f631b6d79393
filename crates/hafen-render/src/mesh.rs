//! Cilium Cluster Mesh between clusters: who is meshed with whom, whether the network between
//! them can carry each other's pod addresses, and the private addresses their Cluster Mesh API
//! servers answer on when a private link joins their sites.
//!
//! Cilium needs one datapath mode across a mesh. In native routing the network between the
//! clusters must route every cluster's pod ranges; nothing does that between a Hetzner Cloud
//! network (whose routes the cloud controller programs for its own cloud servers only) and a
//! bare-metal vSwitch (whose per-node pod ranges Kubernetes hands out at run time), so such a
//! mesh must tunnel. In tunnel mode the nodes only need to reach each other's node addresses,
//! which a vSwitch coupled to the Cloud network provides.

use crate::Ctx;
use crate::components::{SiteKind, site_kind};
use hafen_spec::{Cluster, PlatformSpec, Routing};

/// The name of the mesh a cluster belongs to, if any.
pub(crate) fn mesh_name(platform: &str, cluster: &Cluster) -> Option<String> {
    cluster.network.mesh.as_ref().map(|m| m.name.clone().unwrap_or_else(|| platform.to_owned()))
}

/// The other clusters of `cluster`'s mesh, in spec order.
pub(crate) fn peers<'a>(ctx: &Ctx<'a>, cluster: &Cluster) -> Vec<&'a Cluster> {
    let Some(mine) = mesh_name(ctx.platform, cluster) else { return Vec::new() };
    ctx.spec
        .clusters
        .iter()
        .filter(|c| c.name != cluster.name && mesh_name(ctx.platform, c).as_ref() == Some(&mine))
        .collect()
}

/// True when traffic between the two clusters' sites stays off the internet: they share a site,
/// or a link marked `private` joins one site of each.
pub(crate) fn private_link(spec: &PlatformSpec, a: &Cluster, b: &Cluster) -> bool {
    let (sa, sb) = (a.sites(), b.sites());
    if sa.iter().any(|s| sb.contains(s)) {
        return true;
    }
    spec.links.iter().filter(|l| l.private).any(|l| {
        l.sites.len() == 2
            && ((sa.contains(&l.sites[0].as_str()) && sb.contains(&l.sites[1].as_str()))
                || (sa.contains(&l.sites[1].as_str()) && sb.contains(&l.sites[0].as_str())))
    })
}

/// The layer 2 segment all of a cluster's nodes share, if they share one: the vSwitch VLAN of
/// its dedicated sites, or its own LAN (the site itself) for self-hosted sites.
fn layer2(ctx: &Ctx<'_>, cluster: &Cluster) -> Option<String> {
    let segments: Vec<String> = cluster
        .sites()
        .iter()
        .map(|s| match site_kind(ctx.spec, s) {
            SiteKind::HetznerCloud => None,
            SiteKind::HetznerDedicated => ctx
                .spec
                .site(s)
                .and_then(|x| x.network.vswitch.as_ref())
                .map(|v| format!("vswitch-{}", v.vlan)),
            SiteKind::Other => Some(format!("site-{s}")),
        })
        .collect::<Option<Vec<_>>>()?;
    let first = segments.first()?.clone();
    segments.iter().all(|s| *s == first).then_some(first)
}

/// Why native routing cannot carry this cluster's Cluster Mesh traffic, if it cannot: pod
/// addresses cross between the clusters only where every member shares one layer 2 segment
/// (direct node routes then reach the other cluster's nodes too).
pub(crate) fn native_mesh_problem(ctx: &Ctx<'_>, cluster: &Cluster) -> Option<String> {
    if cluster.network.routing != Routing::Native {
        return None;
    }
    let peers = peers(ctx, cluster);
    if peers.is_empty() {
        return None;
    }
    let mine = layer2(ctx, cluster);
    let apart: Vec<String> = peers
        .iter()
        .filter(|p| mine.is_none() || layer2(ctx, p) != mine)
        .map(|p| format!("`{}`", p.name))
        .collect();
    if apart.is_empty() {
        return None;
    }
    Some(format!(
        "`{}` routes pods natively in a Cluster Mesh with {}, but no network between them routes each other's pod ranges (a Hetzner Cloud network routes only its own servers' pod ranges, a vSwitch only its own nodes'), and Cilium needs one datapath mode across a mesh: cross-cluster pod traffic would be dropped. Use `routing: tunnel` on every cluster of the mesh (the nodes then only need to reach each other's node addresses).",
        cluster.name,
        apart.join(", ")
    ))
}

/// The last usable host of an IPv4 subnet of at most /24 (`.254` of a /24).
fn last_host(subnet: &str) -> Option<String> {
    let cidr = hafen_spec::net::Cidr::parse(subnet).ok()?;
    let std::net::IpAddr::V4(base) = cidr.addr else { return None };
    if cidr.prefix > 30 {
        return None;
    }
    let size = 1u32 << (32 - u32::from(cidr.prefix));
    Some(std::net::Ipv4Addr::from(u32::from(base).checked_add(size - 2)?).to_string())
}

/// The first usable host of an IPv4 subnet: the gateway Hetzner gives a vSwitch subnet coupled
/// to a Cloud network.
pub(crate) fn first_host(subnet: &str) -> Option<String> {
    let cidr = hafen_spec::net::Cidr::parse(subnet).ok()?;
    let std::net::IpAddr::V4(base) = cidr.addr else { return None };
    if cidr.prefix > 30 {
        return None;
    }
    Some(std::net::Ipv4Addr::from(u32::from(base).checked_add(1)?).to_string())
}

/// The fixed private address of a cluster's Cluster Mesh API server load balancer: the last
/// host of the Cloud servers' subnet (a Hetzner Load Balancer takes a chosen private address),
/// of the vSwitch subnet (inside the MetalLB pool at its top) or of the node network.
pub(crate) fn apiserver_private_ip(ctx: &Ctx<'_>, cluster: &Cluster) -> Option<String> {
    let site = cluster.site.as_str();
    let s = ctx.spec.site(site)?;
    match site_kind(ctx.spec, site) {
        SiteKind::HetznerCloud => {
            let subnet = &s.network.private_network.as_ref()?.subnet;
            last_host(&crate::management::server_subnet(ctx, subnet))
        }
        SiteKind::HetznerDedicated => last_host(&s.network.vswitch.as_ref()?.subnet),
        SiteKind::Other => last_host(cluster.network.node_cidr.as_deref()?),
    }
}

/// True when every other member of the mesh reaches this cluster over a private link, so its
/// Cluster Mesh API server needs no public address.
pub(crate) fn private_only(ctx: &Ctx<'_>, cluster: &Cluster) -> bool {
    let peers = peers(ctx, cluster);
    !peers.is_empty()
        && apiserver_private_ip(ctx, cluster).is_some()
        && peers.iter().all(|p| private_link(ctx.spec, cluster, p))
}

/// For a dedicated site with a vSwitch: the Hetzner Cloud site a private link joins it to, the
/// Cloud site's private subnet, the cluster whose Cloud network the vSwitch is coupled to (the
/// first cluster at that site; a vSwitch couples to one network) and the vSwitch gateway.
pub(crate) struct Coupling<'a> {
    pub(crate) cloud_site: &'a str,
    pub(crate) cloud_subnet: String,
    pub(crate) network: &'a str,
    pub(crate) vswitch_subnet: String,
    pub(crate) vlan: u16,
    pub(crate) gateway: String,
}

/// The coupling of a dedicated site's vSwitch to a Hetzner Cloud network, when the spec joins
/// the site to a Cloud site by a private link and a cluster runs at that Cloud site.
pub(crate) fn coupling<'a>(spec: &'a PlatformSpec, metal_site: &str) -> Option<Coupling<'a>> {
    if site_kind(spec, metal_site) != SiteKind::HetznerDedicated {
        return None;
    }
    let vswitch = spec.site(metal_site)?.network.vswitch.as_ref()?;
    let cloud_site = spec
        .links
        .iter()
        .filter(|l| l.private && l.sites.len() == 2 && l.sites.iter().any(|s| s == metal_site))
        .filter_map(|l| l.sites.iter().find(|s| *s != metal_site))
        .find(|s| {
            site_kind(spec, s) == SiteKind::HetznerCloud
                && spec.site(s).is_some_and(|x| x.network.private_network.is_some())
        })?;
    let cloud_subnet = spec.site(cloud_site)?.network.private_network.as_ref()?.subnet.clone();
    let network = spec.clusters.iter().find(|c| c.sites().contains(&cloud_site.as_str()))?;
    Some(Coupling {
        cloud_site,
        cloud_subnet,
        network: &network.name,
        vswitch_subnet: vswitch.subnet.clone(),
        vlan: vswitch.vlan,
        gateway: first_host(&vswitch.subnet)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_addresses_at_the_ends_of_a_subnet() {
        assert_eq!(last_host("10.0.1.0/24").as_deref(), Some("10.0.1.254"));
        assert_eq!(first_host("10.0.1.0/24").as_deref(), Some("10.0.1.1"));
        assert_eq!(last_host("10.0.0.0/16").as_deref(), Some("10.0.255.254"));
        assert_eq!(last_host("fd00::/64"), None);
    }
}
