//! Monthly cost per cluster and for the platform from the dated catalogue, and the same
//! workload priced on a US hyperscaler and on EU managed Kubernetes (egress included), from
//! `data/plan/comparison.yaml`. Every line names the price it used, its date and source.

use crate::data::{self, Offer};
use crate::scenario::round2;
use hafen_catalog::{Category, ProviderInfo};
use hafen_spec::{IngressController, LoadedPlatform, StorageDriver, quantity};
use serde::Serialize;

/// Cost section of the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostReport {
    /// Always `EUR`, net of VAT.
    pub currency: String,
    /// Per cluster.
    pub clusters: Vec<ClusterCost>,
    /// Σ clusters.
    #[serde(rename = "infrastructureMonthlyEUR")]
    pub infrastructure_monthly_eur: f64,
    /// Team cost, when the spec gives a monthly cost per person.
    pub team: Option<TeamCost>,
    /// Infrastructure plus team.
    #[serde(rename = "totalMonthlyEUR")]
    pub total_monthly_eur: f64,
    /// The same workload elsewhere.
    pub comparison: Vec<ComparisonRow>,
    /// How the figures were derived.
    pub notes: Vec<String>,
}

/// Cost of one cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCost {
    /// Cluster.
    pub cluster: String,
    /// Lines.
    pub lines: Vec<CostLine>,
    /// Σ lines.
    #[serde(rename = "monthlyEUR")]
    pub monthly_eur: f64,
}

/// One priced item.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostLine {
    /// `servers`, `ipv4`, `volumes`, `load-balancer`, `traffic`, `control-plane`.
    pub item: String,
    /// What exactly.
    pub detail: String,
    /// Quantity.
    pub quantity: f64,
    /// Unit of the quantity.
    pub unit: String,
    /// Price per unit, EUR net.
    #[serde(rename = "unitEUR")]
    pub unit_eur: f64,
    /// quantity × unit price.
    #[serde(rename = "monthlyEUR")]
    pub monthly_eur: f64,
    /// Date of the price.
    pub price_date: String,
    /// Source of the price.
    pub source: String,
    /// False when the price could not be checked against a primary source.
    pub verified: bool,
}

/// Team cost.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamCost {
    /// People on call.
    pub people: u32,
    /// Cost per person and month.
    #[serde(rename = "perPersonEUR")]
    pub per_person_eur: f64,
    /// Share of their time on the platform.
    pub platform_share: f64,
    /// people × cost × share.
    #[serde(rename = "monthlyEUR")]
    pub monthly_eur: f64,
}

/// The workload priced at one offer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComparisonRow {
    /// Offer id (`this-platform` for the spec itself).
    pub offer: String,
    /// For people.
    pub display_name: String,
    /// `this-platform`, `us-hyperscaler` or `eu-managed`.
    pub kind: String,
    /// vCPUs priced (worker and egress nodes; managed offers bring their control plane).
    pub vcpus: f64,
    /// Memory priced in GiB.
    #[serde(rename = "memoryGiB")]
    pub memory_gib: f64,
    /// Compute per month.
    #[serde(rename = "computeEUR")]
    pub compute_eur: f64,
    /// Control plane per month (for this platform: its control-plane servers).
    #[serde(rename = "controlPlaneEUR")]
    pub control_plane_eur: f64,
    /// Internet egress per month for `egressTB`, as billed.
    #[serde(rename = "egressEUR")]
    pub egress_eur: f64,
    /// Egress at the list price before any included allowance.
    #[serde(rename = "egressListEUR")]
    pub egress_list_eur: f64,
    /// Egress priced, in TB (10^12 bytes).
    #[serde(rename = "egressTB")]
    pub egress_tb: f64,
    /// Everything else priced for this platform (IPv4, volumes, load balancers); 0 elsewhere.
    #[serde(rename = "otherEUR")]
    pub other_eur: f64,
    /// Total per month.
    #[serde(rename = "totalEUR")]
    pub total_eur: f64,
    /// Dates and sources of the figures.
    pub sources: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
fn line(
    item: &str,
    detail: String,
    quantity: f64,
    unit: &str,
    unit_eur: f64,
    date: &str,
    source: &str,
    verified: bool,
) -> CostLine {
    CostLine {
        item: item.into(),
        detail,
        quantity: round2(quantity),
        unit: unit.into(),
        unit_eur,
        monthly_eur: round2(quantity * unit_eur),
        price_date: date.into(),
        source: source.into(),
        verified,
    }
}

/// Price of `volume` units of egress at an offer, in the offer's currency.
pub fn egress_price(offer: &Offer, tb: f64) -> f64 {
    let volume = if offer.egress_unit == "GiB" { tb * 1e12 / 1_073_741_824.0 } else { tb * 1000.0 };
    let mut lower = 0.0f64;
    let mut total = 0.0;
    for tier in &offer.egress_tiers {
        let upper = tier.upto_gb.unwrap_or(f64::INFINITY);
        let from = lower.max(offer.egress_free_gb);
        let to = volume.min(upper);
        if to > from {
            total += (to - from) * tier.per_gb;
        }
        lower = upper;
    }
    total
}

struct Fleet {
    vcpus: f64,
    gib: f64,
}

/// Builds the cost section.
pub fn cost(loaded: &LoadedPlatform) -> CostReport {
    let spec = &loaded.platform.spec;
    let catalog = &loaded.catalog;
    let info_of = |site: &str| -> Option<&ProviderInfo> {
        spec.site_provider(site).and_then(|p| catalog.provider(&p.type_))
    };
    let mut clusters = Vec::new();
    let mut notes = vec![
        "Prices are EUR per month net of VAT, from the catalogue; each line shows its date and \
         source, and `verified: false` marks recalled figures."
            .to_owned(),
        "Included traffic is pooled over the cluster's servers (Hetzner counts it per server: \
         spread egress over enough nodes, or the overage is higher)."
            .to_owned(),
    ];
    let mut fleet = Fleet { vcpus: 0.0, gib: 0.0 };
    let mut own_cp = 0.0;
    let mut own_compute = 0.0;
    let mut own_egress = 0.0;
    let mut own_egress_list = 0.0;
    let mut own_other = 0.0;
    let mut egress_total = 0.0;
    let mut metal_lb = false;
    for cluster in &spec.clusters {
        let mut lines = Vec::new();
        let mut servers = 0u64;
        // Servers: control plane, then pools.
        let mut groups: Vec<(String, &str, &str, u32, bool)> = vec![(
            "control plane".into(),
            cluster.site.as_str(),
            cluster.control_plane.server_type.as_str(),
            cluster.control_plane.replicas,
            true,
        )];
        for pool in &cluster.node_pools {
            groups.push((
                format!("pool {}", pool.name),
                cluster.pool_site(pool),
                pool.server_type.as_str(),
                pool.count,
                false,
            ));
        }
        for (what, site, st_name, count, is_cp) in &groups {
            let Some(info) = info_of(site) else { continue };
            // A managed offer runs the control plane itself: its fee is billed below instead.
            if *is_cp && info.category == Category::ManagedKubernetes {
                continue;
            }
            let Some(st) = info.server_type(st_name) else { continue };
            let l = line(
                "servers",
                format!("{what}: {count} × {} ({}, {site})", st.name, info.display_name),
                f64::from(*count),
                "server",
                st.price.monthly_eur,
                &st.price.date,
                &st.price.source,
                st.price.verified,
            );
            if *is_cp {
                own_cp += l.monthly_eur;
            } else {
                own_compute += l.monthly_eur;
                fleet.vcpus += f64::from(st.cores) * f64::from(*count);
                fleet.gib += st.memory_gib * f64::from(*count);
            }
            lines.push(l);
            servers += u64::from(*count);
            if let Some(ip) = &info.ipv4
                && !ip.included_in_server_price
                && *count > 0
            {
                let l = line(
                    "ipv4",
                    format!("{what}: one primary IPv4 per server"),
                    f64::from(*count),
                    "address",
                    ip.monthly_eur,
                    &ip.date,
                    &ip.source,
                    true,
                );
                own_other += l.monthly_eur;
                lines.push(l);
            }
        }
        let primary = info_of(&cluster.site);
        // Volumes: databases and app volumes on network storage.
        let driver = cluster.storage.as_ref().map(|s| s.default);
        let mut bytes = 0u64;
        for tenant in spec.tenants.iter().filter(|t| t.clusters.contains(&cluster.name)) {
            for app in &tenant.apps {
                for v in &app.volumes {
                    bytes = bytes.saturating_add(
                        quantity::bytes(&v.size)
                            .unwrap_or(0)
                            .saturating_mul(u64::from(app.replicas)),
                    );
                }
                if let Some(pg) = &app.postgres {
                    bytes = bytes.saturating_add(
                        quantity::bytes(&pg.size)
                            .unwrap_or(0)
                            .saturating_mul(u64::from(pg.replicas)),
                    );
                }
            }
        }
        // Replica clusters hosted here for databases declared elsewhere (one instance each).
        for tenant in &spec.tenants {
            for app in &tenant.apps {
                if let Some(pg) = &app.postgres
                    && pg.replica_cluster.as_deref() == Some(cluster.name.as_str())
                    && !tenant.clusters.contains(&cluster.name)
                {
                    bytes = bytes.saturating_add(quantity::bytes(&pg.size).unwrap_or(0));
                }
            }
        }
        let gb = bytes as f64 / 1e9;
        if gb > 0.0 {
            match (driver, primary.and_then(|p| p.volumes.as_ref())) {
                (Some(StorageDriver::HcloudVolumes), Some(vp)) => {
                    let l = line(
                        "volumes",
                        "database and app volumes (network block storage)".into(),
                        gb,
                        "GB",
                        vp.eur_per_gb_month,
                        &vp.date,
                        &vp.source,
                        true,
                    );
                    own_other += l.monthly_eur;
                    lines.push(l);
                }
                _ => {
                    let copies = match driver {
                        Some(StorageDriver::Piraeus | StorageDriver::Longhorn) => {
                            cluster.storage.as_ref().and_then(|s| s.replicas).unwrap_or(2)
                        }
                        _ => 1,
                    };
                    lines.push(line(
                        "volumes",
                        format!(
                            "database and app volumes on the nodes' own disks ({copies} cop{} each: {:.0} GB of local disk)",
                            if copies == 1 { "y" } else { "ies" },
                            gb * f64::from(copies)
                        ),
                        gb,
                        "GB",
                        0.0,
                        "",
                        "local disks are part of the server price",
                        true,
                    ));
                }
            }
        }
        // Load balancer for the ingress controller.
        let public = spec
            .tenants
            .iter()
            .filter(|t| t.clusters.contains(&cluster.name))
            .any(|t| t.apps.iter().any(|a| !a.domains.is_empty()));
        if cluster.ingress == IngressController::Traefik && public {
            match primary {
                Some(p) if p.category == Category::Cloud => {
                    if let Some(lb) = &p.load_balancer {
                        let l = line(
                            "load-balancer",
                            "one load balancer in front of the ingress controller".into(),
                            1.0,
                            "load balancer",
                            lb.monthly_eur,
                            &lb.date,
                            &lb.source,
                            lb.verified,
                        );
                        own_other += l.monthly_eur;
                        lines.push(l);
                    }
                }
                _ => metal_lb = true,
            }
        }
        // Traffic.
        let egress = cluster.traffic.egress_tb.max(0.0);
        egress_total += egress;
        if let Some(t) = primary.and_then(|p| p.traffic.as_ref()) {
            let included = t.included_tb_per_server.map(|per| per * servers as f64);
            let over = included.map(|inc| (egress - inc).max(0.0)).unwrap_or(0.0);
            own_egress_list += egress * t.overage_eur_per_tb;
            let detail = match included {
                Some(inc) => format!(
                    "{egress} TB egress, {inc:.0} TB included ({servers} servers × {} TB): {over:.2} TB billed",
                    t.included_tb_per_server.unwrap_or(0.0)
                ),
                None => format!("{egress} TB egress, unmetered"),
            };
            let l =
                line("traffic", detail, over, "TB", t.overage_eur_per_tb, &t.date, &t.source, true);
            own_egress += l.monthly_eur;
            lines.push(l);
        }
        // Managed control plane fee, where the provider runs the control plane.
        if let Some(p) = primary
            && p.category == Category::ManagedKubernetes
            && let Some(fee) = &p.managed_control_plane
        {
            let l = line(
                "control-plane",
                format!("{} managed control plane", p.display_name),
                1.0,
                "cluster",
                fee.monthly_eur,
                &fee.date,
                &fee.source,
                fee.verified,
            );
            own_cp += l.monthly_eur;
            lines.push(l);
        }
        let total = round2(lines.iter().map(|l| l.monthly_eur).sum());
        clusters.push(ClusterCost { cluster: cluster.name.clone(), lines, monthly_eur: total });
    }
    if metal_lb {
        notes.push(
            "Bare-metal and self-hosted sites expose ingress through MetalLB: no load balancer is billed."
                .into(),
        );
    }
    let infrastructure = round2(clusters.iter().map(|c| c.monthly_eur).sum());
    let team = spec.team.monthly_cost_per_person_eur.map(|per| {
        let share = spec.team.platform_share.unwrap_or(1.0).clamp(0.0, 1.0);
        TeamCost {
            people: spec.team.on_call,
            per_person_eur: per,
            platform_share: share,
            monthly_eur: round2(f64::from(spec.team.on_call) * per * share),
        }
    });
    let total = round2(infrastructure + team.as_ref().map(|t| t.monthly_eur).unwrap_or(0.0));
    let mut comparison = vec![ComparisonRow {
        offer: "this-platform".into(),
        display_name: format!("{} as specified", loaded.platform.metadata.name),
        kind: "this-platform".into(),
        vcpus: fleet.vcpus,
        memory_gib: round2(fleet.gib),
        compute_eur: round2(own_compute),
        control_plane_eur: round2(own_cp),
        egress_eur: round2(own_egress),
        egress_list_eur: round2(own_egress_list),
        egress_tb: egress_total,
        other_eur: round2(own_other),
        total_eur: infrastructure,
        sources: vec!["catalogue prices as listed per cluster".into()],
    }];
    if let Some(cmp) = data::comparison() {
        for offer in &cmp.offers {
            let fx = if offer.currency == "USD" { cmp.usd_to_eur.rate } else { 1.0 };
            let compute = (fleet.vcpus * offer.vcpu_hour + fleet.gib * offer.gb_hour)
                * cmp.hours_per_month
                * fx;
            let cp = offer.control_plane_monthly * spec.clusters.len() as f64 * fx;
            let egress = egress_price(offer, egress_total) * fx;
            let list = {
                let mut o = offer.clone();
                o.egress_free_gb = 0.0;
                egress_price(&o, egress_total) * fx
            };
            let mut sources = vec![
                format!("compute {} ({})", offer.compute_source, offer.compute_date),
                format!(
                    "control plane {} ({})",
                    offer.control_plane_source, offer.control_plane_date
                ),
                format!("egress {} ({})", offer.egress_source, offer.egress_date),
            ];
            if offer.currency == "USD" {
                sources.push(format!(
                    "USD→EUR {} ({}, {})",
                    cmp.usd_to_eur.rate, cmp.usd_to_eur.source, cmp.usd_to_eur.date
                ));
            }
            comparison.push(ComparisonRow {
                offer: offer.name.clone(),
                display_name: offer.display_name.clone(),
                kind: offer.kind.clone(),
                vcpus: fleet.vcpus,
                memory_gib: round2(fleet.gib),
                compute_eur: round2(compute),
                control_plane_eur: round2(cp),
                egress_eur: round2(egress),
                egress_list_eur: round2(list),
                egress_tb: egress_total,
                other_eur: 0.0,
                total_eur: round2(compute + cp + egress),
                sources,
            });
        }
        notes.push(format!(
            "Comparison: the same worker and egress vCPUs and memory at on-demand list prices, \
             {} hours a month, each managed offer's control-plane fee per cluster, and the \
             platform's egress ({egress_total} TB) at each offer's tiers; volumes, load \
             balancers and IPv4 are not priced elsewhere.",
            cmp.hours_per_month
        ));
    }
    CostReport {
        currency: "EUR".into(),
        clusters,
        infrastructure_monthly_eur: infrastructure,
        team,
        total_monthly_eur: total,
        comparison,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(name: &str) -> Offer {
        data::comparison()
            .and_then(|c| c.offers.iter().find(|o| o.name == name).cloned())
            .unwrap_or_else(|| panic!("offer {name} missing from comparison.yaml"))
    }

    #[test]
    fn seventeen_and_a_half_terabytes_cost_about_1500_eur_at_a_hyperscaler() {
        // The seed: 17.5 TB of egress cost ~1,500 EUR on Google Cloud and ~33 EUR at Hetzner.
        let rate = data::comparison().map(|c| c.usd_to_eur.rate).unwrap_or(0.0);
        let gcp = egress_price(&offer("gcp-gke"), 17.5) * rate;
        let aws = egress_price(&offer("aws-eks"), 17.5) * rate;
        // By hand (GCP): 17.5e12 B = 16,298 GiB; 1,023 GiB × 0.12 + 9,216 × 0.11 + 6,058 × 0.08
        // = 122.76 + 1,013.76 + 484.6 = $1,621 → €1,401 at 0.8645.
        assert!((gcp - 1401.0).abs() < 5.0, "gcp {gcp}");
        // By hand (AWS): 9,900 GB × 0.09 + 7,500 GB × 0.085 = 891 + 637.5 = $1,528.5 → €1,321.
        assert!((aws - 1321.4).abs() < 2.0, "aws {aws}");
        // Hetzner: EUR 1.00 per TB at list price → EUR 17.50, the same order as the seed's 33.
        let hetzner = 17.5 * 1.00;
        assert!(gcp / hetzner > 40.0 && (10.0..100.0).contains(&hetzner));
    }

    #[test]
    fn eu_managed_egress_is_free_and_tiers_start_after_the_allowance() {
        assert_eq!(egress_price(&offer("stackit-ske"), 17.5), 0.0);
        // 100 GB at AWS are inside the free allowance.
        assert_eq!(egress_price(&offer("aws-eks"), 0.1), 0.0);
        assert!((egress_price(&offer("aws-eks"), 0.2) - 9.0).abs() < 1e-9);
    }
}
