//! Synthetic platforms for benchmarks and scale tests: realistic shapes (several providers and
//! sites, clusters with control planes, worker and egress pools, tenants with apps, databases
//! and domains), generated deterministically from a [`Shape`] so figures are comparable.

use serde_json::{Value, json};

/// How big the platform is.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Clusters.
    pub clusters: usize,
    /// Sites (spread over the providers).
    pub sites: usize,
    /// Worker nodes over all clusters (control planes and egress nodes come on top).
    pub nodes: usize,
    /// Tenants.
    pub tenants: usize,
    /// Apps over all tenants.
    pub apps: usize,
    /// Replicas per app.
    pub replicas: u32,
}

impl Shape {
    /// The target shape of the brief: 20 clusters, 6 sites, 3 providers, 2,000 nodes,
    /// 500 tenants, 5,000 apps, 60,000 replicas.
    pub const LARGE: Shape =
        Shape { clusters: 20, sites: 6, nodes: 2000, tenants: 500, apps: 5000, replicas: 12 };

    /// A shape with `nodes` worker nodes and the same density as [`Shape::LARGE`].
    pub fn scaled(nodes: usize) -> Shape {
        let factor = nodes as f64 / 2000.0;
        let scale = |n: usize| ((n as f64 * factor).round() as usize).max(1);
        Shape {
            clusters: scale(20).max(2),
            sites: 6,
            nodes,
            tenants: scale(500),
            apps: scale(5000),
            replicas: 12,
        }
    }
}

const PROVIDERS: [(&str, &str); 3] =
    [("hcloud", "hetzner-cloud"), ("robot", "hetzner-dedicated"), ("own", "self-hosted")];
const LOCATIONS: [[&str; 2]; 3] = [["nbg1", "fsn1"], ["fsn1", "hel1"], ["ber1", "muc1"]];
const WORKER_TYPES: [&str; 3] = ["ccx63", "ax162-r", "own-64"];
const CP_TYPES: [&str; 3] = ["ccx23", "ax42", "own-16"];
const EGRESS_TYPES: [&str; 3] = ["cpx22", "ax41-nvme", "own-16"];

/// The platform as a JSON value in the spec's shape.
pub fn platform(shape: Shape) -> Value {
    let providers: Vec<Value> = PROVIDERS
        .iter()
        .map(|(name, ty)| {
            let mut p = json!({"name": name, "type": ty});
            if *ty == "self-hosted" {
                p["legal"] = json!({"country": "DE"});
                p["locations"] = json!([
                    {"name": "ber1", "city": "Berlin", "country": "DE", "latitude": 52.52, "longitude": 13.40},
                    {"name": "muc1", "city": "Munich", "country": "DE", "latitude": 48.14, "longitude": 11.58},
                ]);
                p["serverTypes"] = json!([
                    {"name": "own-16", "cores": 8, "memoryGiB": 16, "arch": "amd64", "cpu": "dedicated", "ecc": true,
                     "price": {"monthlyEUR": 60, "date": "2026-11-01", "source": "synthetic"}},
                    {"name": "own-64", "cores": 32, "memoryGiB": 128, "arch": "amd64", "cpu": "dedicated", "ecc": true,
                     "price": {"monthlyEUR": 180, "date": "2026-11-01", "source": "synthetic"}},
                ]);
            }
            p
        })
        .collect();
    let sites: Vec<Value> = (0..shape.sites)
        .map(|i| {
            let provider = i % 3;
            let location = LOCATIONS[provider][(i / 3) % 2];
            json!({
                "name": format!("site-{i}"),
                "provider": PROVIDERS[provider].0,
                "location": location,
                "network": {"underlayMTU": 1450},
            })
        })
        .collect();
    let per_cluster = shape.nodes / shape.clusters.max(1);
    let mut remainder = shape.nodes % shape.clusters.max(1);
    let clusters: Vec<Value> = (0..shape.clusters)
        .map(|i| {
            let site = i % shape.sites.max(1);
            let provider = site % 3;
            let mut workers = per_cluster;
            if remainder > 0 {
                workers += 1;
                remainder -= 1;
            }
            let a = (i / 256) % 64;
            let b = i % 256;
            json!({
                "name": format!("cluster-{i}"),
                "site": format!("site-{site}"),
                "kubernetes": "1.34.5",
                "controlPlane": {"replicas": 3, "serverType": CP_TYPES[provider]},
                "nodePools": [
                    {"name": "workers", "serverType": WORKER_TYPES[provider], "count": workers},
                    {"name": "egress", "serverType": EGRESS_TYPES[provider], "count": 2, "roles": ["egress-gateway"]},
                ],
                "network": {
                    "routing": "native",
                    "encryption": "wireguard",
                    "podCIDR": format!("10.{}.0.0/16", 64 + (i % 64)),
                    "serviceCIDR": format!("172.{}.{}.0/24", 16 + a, b),
                    "egress": {"ips": [format!("203.0.{}.{}", i / 100, 10 + i % 100)]},
                    "mesh": {"id": (i % 255) + 1, "name": format!("mesh-{}", i / 255)},
                },
                "storage": {"default": if provider == 0 { "hcloud-volumes" } else { "piraeus" }},
                "certificates": {"email": "ops@example.eu"},
                "dns": {"provider": "rfc2136", "zone": "example.eu", "server": "ns1.example.eu", "secretRef": {"name": "dns-tsig", "key": "secret"}},
                "backups": {"target": format!("s3://backups/cluster-{i}"), "site": format!("site-{}", (site + 1) % shape.sites.max(1)), "lastRestoreTest": "2026-10-01"},
                "registryMirror": "https://registry.example.eu",
                "traffic": {"egressTB": 5},
            })
        })
        .collect();
    let apps_per_tenant = shape.apps / shape.tenants.max(1);
    let mut extra_apps = shape.apps % shape.tenants.max(1);
    let tenants: Vec<Value> = (0..shape.tenants)
        .map(|t| {
            let mut n_apps = apps_per_tenant;
            if extra_apps > 0 {
                n_apps += 1;
                extra_apps -= 1;
            }
            let apps: Vec<Value> = (0..n_apps)
                .map(|a| {
                    let cpu = [100, 200, 250, 300, 500][(t + a) % 5];
                    let mem = [128, 256, 512, 768, 1024][(t * 7 + a) % 5];
                    let mut app = json!({
                        "name": format!("app-{a}"),
                        "image": format!("registry.example.eu/tenant-{t}/app-{a}:1.{a}.0"),
                        "replicas": shape.replicas,
                        "resources": {"cpu": format!("{cpu}m"), "memory": format!("{mem}Mi")},
                    });
                    if a == 0 {
                        app["domains"] = json!([format!("t{t}.example.eu")]);
                        app["postgres"] = json!({"size": "10Gi", "replicas": 2});
                    }
                    app
                })
                .collect();
            json!({
                "name": format!("tenant-{t}"),
                "clusters": [format!("cluster-{}", t % shape.clusters.max(1))],
                "quota": {"cpu": "64", "memory": "256Gi"},
                "group": format!("tenant-{t}-devs"),
                "apps": apps,
            })
        })
        .collect();
    json!({
        "apiVersion": "hafen.dev/v1alpha1",
        "kind": "Platform",
        "metadata": {"name": "synthetic"},
        "spec": {
            "team": {"onCall": 4},
            "gitops": {"repo": "ssh://git@git.example.eu/platform/synthetic.git"},
            "management": {"site": "site-0"},
            "providers": providers,
            "sites": sites,
            // A private interconnect (VPN) from the management site to every other site.
            "links": (1..shape.sites).map(|i| json!({"sites": ["site-0", format!("site-{i}")], "private": true})).collect::<Vec<_>>(),
            "clusters": clusters,
            "tenants": tenants,
        }
    })
}

/// The platform as YAML text.
pub fn platform_yaml(shape: Shape) -> String {
    hafen_yaml::emit(&platform(shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec of `text`, which must load without a single diagnostic.
    fn load_cleanly(text: &str) -> hafen_spec::PlatformSpec {
        let mut sources = hafen_diag::Sources::new();
        let (catalog, _) = hafen_catalog::Catalog::builtin(&mut sources);
        let (loaded, diagnostics) =
            hafen_spec::load_str("synthetic.yaml", text, &mut sources, &catalog);
        assert!(
            diagnostics.is_empty(),
            "{}",
            hafen_diag::human::render(&diagnostics[..diagnostics.len().min(5)], &sources, false)
        );
        loaded.unwrap_or_else(|| panic!("does not load")).platform.spec
    }

    #[test]
    fn large_platform_loads_cleanly_with_the_promised_size() {
        let text = platform_yaml(Shape::LARGE);
        let spec = load_cleanly(&text);
        assert_eq!(spec.clusters.len(), 20);
        assert_eq!(spec.sites.len(), 6);
        assert_eq!(spec.providers.len(), 3);
        let workers: u32 = spec.clusters.iter().map(|c| c.node_pools[0].count).sum();
        assert_eq!(workers, 2000);
        assert_eq!(spec.tenants.len(), 500);
        let apps: usize = spec.tenants.iter().map(|t| t.apps.len()).sum();
        assert_eq!(apps, 5000);
        let replicas: u32 = spec.tenants.iter().flat_map(|t| &t.apps).map(|a| a.replicas).sum();
        assert_eq!(replicas, 60_000);
    }

    #[test]
    fn tenfold_platform_loads_within_the_loaders_size_limits() {
        let text = platform_yaml(Shape::scaled(20_000));
        let spec = load_cleanly(&text);
        let nodes: u64 = spec
            .clusters
            .iter()
            .map(|c| {
                u64::from(c.control_plane.replicas)
                    + c.node_pools.iter().map(|p| u64::from(p.count)).sum::<u64>()
            })
            .sum();
        let replicas: u64 = spec
            .tenants
            .iter()
            .flat_map(|t| &t.apps)
            .map(|a| {
                u64::from(a.replicas) + a.postgres.as_ref().map_or(0, |p| u64::from(p.replicas))
            })
            .sum();
        assert_eq!((nodes, replicas), (21_000, 610_000));
        assert!(nodes <= hafen_spec::limits::PLATFORM_NODES);
        assert!(replicas <= hafen_spec::limits::PLATFORM_REPLICAS);
    }
}
