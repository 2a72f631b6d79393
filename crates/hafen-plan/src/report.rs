//! The plan as data: every type here is part of the stable JSON document documented in
//! `docs/plan-json.md` (field names are camelCase; fields are only ever added, with a
//! `version` bump when one changes meaning).

use crate::model::{Allocation, ResOut};
use serde::Serialize;

/// The whole plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Format version of this JSON document.
    pub version: u32,
    /// Platform name.
    pub platform: String,
    /// Inputs that shaped the run (seed, samples).
    pub settings: Settings,
    /// How allocatable capacity is derived.
    pub reservation: ReservationDoc,
    /// Per cluster: allocatable against requests.
    pub capacity: Vec<ClusterCapacity>,
    /// Every scenario except the sampled thirds, in a fixed order.
    pub scenarios: Vec<ScenarioResult>,
    /// The sampled thirds of the fleet.
    pub samples: Samples,
    /// Counts over all scenarios.
    pub summary: Summary,
    /// Monthly cost.
    pub cost: crate::cost::CostReport,
    /// Jurisdictions, dependencies and scores.
    pub sovereignty: crate::sovereignty::SovereigntyReport,
    /// Exit plan, when asked for.
    pub exit: Option<crate::exit::ExitPlan>,
    /// Assumptions the model made.
    pub assumptions: Vec<String>,
}

/// Run settings echoed into the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// PRNG seed of the sampled thirds and the adversarial search.
    pub seed: u64,
    /// Number of sampled thirds.
    pub samples: usize,
    /// Improvement rounds of the adversarial search per cluster.
    pub adversarial_rounds: usize,
}

/// The allocatable formula and its sources.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationDoc {
    /// The formula in words.
    pub formula: String,
    /// Sources with dates.
    pub sources: Vec<String>,
    /// Per cluster and server type: the derivation.
    pub per_server_type: Vec<ClusterAllocation>,
    /// Where the daemon table comes from.
    pub daemon_table: String,
}

/// One derivation row.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAllocation {
    /// Cluster.
    pub cluster: String,
    /// Derivation.
    #[serde(flatten)]
    pub allocation: Allocation,
}

/// Allocatable against requests for one cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCapacity {
    /// Cluster.
    pub cluster: String,
    /// All nodes.
    pub nodes: u64,
    /// Nodes that run tenant apps.
    pub app_nodes: u64,
    /// Σ allocatable of app nodes.
    pub allocatable: ResOut,
    /// Σ requests of app replicas and database instances.
    pub requests: ResOut,
    /// requests / allocatable, per resource, in percent.
    pub utilization_percent: Utilization,
    /// Replicas that find no node even with everything healthy.
    pub unplaced_at_baseline: Vec<Unplaced>,
    /// Apps (and databases) below their disruption budget before anything fails: the
    /// baseline shortfall, reported here once rather than in every scenario.
    pub below_budget_at_baseline: Vec<BaselineShortfall>,
    /// Fewest nodes of the main worker type that carry the whole workload (FFD) and a lower
    /// bound for it: the packing-quality figure.
    pub consolidation: Option<Consolidation>,
}

/// Utilization per resource.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Utilization {
    /// CPU.
    pub cpu: f64,
    /// Memory.
    pub memory: f64,
    /// Pod slots.
    pub pods: f64,
}

/// Replicas without a node.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unplaced {
    /// `tenant/app`.
    pub app: String,
    /// Replicas.
    pub replicas: u64,
}

/// An app below its disruption budget with every node healthy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineShortfall {
    /// `tenant/app` (databases `tenant/app-db`).
    pub app: String,
    /// Declared replicas.
    pub replicas: u64,
    /// Running with every node healthy.
    pub running: u64,
    /// Disruption budget.
    pub min_available: u64,
}

/// Packing quality on one cluster.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Consolidation {
    /// Server type.
    pub server_type: String,
    /// Nodes plain first-fit decreasing needs.
    pub ffd_nodes: u64,
    /// Nodes the planner's packing needs (the better of FFD and a worst-fit search from the
    /// lower bound up).
    pub packed_nodes: u64,
    /// Lower bound.
    pub lower_bound: u64,
}

/// One app (or database) that lost replicas in a scenario.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppImpact {
    /// Cluster.
    pub cluster: String,
    /// `tenant/app`, databases as `tenant/app-db`.
    pub app: String,
    /// `app` or `postgres`.
    pub kind: String,
    /// For a database's replica cluster (standby): the cluster holding its primary.
    pub replica_of: Option<String>,
    /// Declared replicas.
    pub replicas: u64,
    /// Lost with the failed nodes.
    pub lost: u64,
    /// Restarted elsewhere.
    pub replaced: u64,
    /// Could not be restarted.
    pub unplaced: u64,
    /// Of the unplaced, those whose data did not survive where they could use it (a node-local
    /// volume on a failed node, every copy in the failed domain): no node brings them back.
    pub without_data: u64,
    /// Running after re-placement.
    pub running: u64,
    /// Disruption budget (min available).
    pub min_available: u64,
    /// Running before anything failed (less than `replicas` when some find no node even
    /// with every node healthy).
    pub baseline_running: u64,
    /// True when running < minAvailable and the failure took it there: running is also below
    /// `baselineRunning` (a shortfall that exists before anything fails is reported once, in
    /// `capacity[].belowBudgetAtBaseline`).
    pub below_budget: bool,
    /// Other clusters where the same app still runs.
    pub served_elsewhere: Vec<String>,
}

/// A quorum or duty group that lost what it needs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuorumLoss {
    /// Cluster.
    pub cluster: String,
    /// `etcd`, `postgres:tenant/app` or `egress-gateway`.
    pub group: String,
    /// Members.
    pub members: u64,
    /// Surviving members.
    pub surviving: u64,
    /// Members needed.
    pub needed: u64,
    /// What it means.
    pub consequence: String,
    /// What prevents it.
    pub fix: String,
}

/// A volume whose every live copy was in the failed domain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataRisk {
    /// Cluster.
    pub cluster: String,
    /// `tenant/app` (or `tenant/app-db`).
    pub app: String,
    /// Volume name (`pgdata` for databases).
    pub volume: String,
    /// Size per copy in bytes.
    pub bytes: u64,
    /// Live copies before the failure.
    pub copies: u64,
    /// `lost`, `restore-from-backup` or `backup-location-unknown`.
    pub outcome: String,
    /// What prevents it.
    pub fix: String,
}

/// Extra nodes that make a scenario fit.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BufferAdvice {
    /// Cluster.
    pub cluster: String,
    /// Site.
    pub site: String,
    /// Server type.
    pub server_type: String,
    /// Nodes (first-fit decreasing).
    pub count: u64,
    /// Lower bound on nodes of this type.
    pub lower_bound: u64,
    /// count × monthly price.
    #[serde(rename = "monthlyEUR")]
    pub monthly_eur: f64,
    /// False when the catalogue says the provider currently refuses orders for this type.
    pub orderable: bool,
}

/// Replacement servers a scenario used.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplacementUse {
    /// Site.
    pub site: String,
    /// Server type.
    pub server_type: String,
    /// Servers.
    pub count: u64,
    /// For rented spare servers (`serverIds` beyond a pool's `count`): `cluster/pool`; null
    /// for declared replacement capacity (`sites[].replacementCapacity`).
    pub spare_of: Option<String>,
}

/// The outcome of one scenario.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioResult {
    /// Stable id, e.g. `node:prod-nbg/workers-1`, `site:nbg1-cloud`, `third:prod-nbg`.
    pub id: String,
    /// `node`, `pool`, `site`, `provider`, `worst-third`, `sampled-third` or `user`.
    pub kind: String,
    /// What failed, for people.
    pub description: String,
    /// Failed nodes.
    pub failed_nodes: u64,
    /// Their names (empty for site and provider scenarios, which name the sites).
    pub failed_node_names: Vec<String>,
    /// Failed sites.
    pub failed_sites: Vec<String>,
    /// Failed providers.
    pub failed_providers: Vec<String>,
    /// Nothing unplaced, no app below budget, no quorum lost, no data at risk.
    pub survivable: bool,
    /// Replicas lost with the nodes.
    pub displaced_replicas: u64,
    /// Restarted elsewhere (including on replacement servers).
    pub replaced_replicas: u64,
    /// Restarted on replacement servers.
    pub on_replacement_servers: u64,
    /// Not restarted.
    pub unplaced_replicas: u64,
    /// Lower bound on unplaced replicas (no placement can do better).
    pub unplaced_lower_bound: u64,
    /// unplaced − lower bound: 0 proves the re-placement optimal.
    pub gap: u64,
    /// Apps that lost replicas.
    pub apps: Vec<AppImpact>,
    /// Quorum and duty groups lost.
    pub quorum_lost: Vec<QuorumLoss>,
    /// Data whose every live copy was in the failed domain.
    pub data_at_risk: Vec<DataRisk>,
    /// The smallest buffer per cluster that re-places every replica.
    pub buffer: Vec<BufferAdvice>,
    /// Clusters where no node buffer helps, and why.
    pub no_buffer_helps: Vec<String>,
    /// Replacement servers used.
    pub replacement_used: Vec<ReplacementUse>,
}

/// The sampled thirds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Samples {
    /// Samples drawn.
    pub count: usize,
    /// Nodes per sample (⌈fleet / 3⌉).
    pub nodes_per_sample: u64,
    /// Samples that were survivable.
    pub survivable: usize,
    /// Samples with unplaced replicas.
    pub with_unplaced: usize,
    /// Samples in which some cluster lost etcd quorum.
    pub with_etcd_quorum_lost: usize,
    /// Samples with data at risk.
    pub with_data_at_risk: usize,
    /// Unplaced replicas per sample, in sample order.
    pub unplaced_per_sample: Vec<u64>,
    /// The most damaging sample in full.
    pub worst: Option<ScenarioResult>,
}

/// Counts over the scenario list.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Scenarios evaluated (including samples).
    pub scenarios: usize,
    /// Of the listed scenarios, survivable ones.
    pub survivable: usize,
    /// Per kind: (kind, total, survivable).
    pub by_kind: Vec<KindCount>,
    /// Largest gap between re-placement and its lower bound.
    pub max_gap: u64,
}

/// Scenario counts for one kind.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindCount {
    /// Kind.
    pub kind: String,
    /// Scenarios.
    pub total: usize,
    /// Survivable.
    pub survivable: usize,
}
