//! Catalogue types. Field names are the YAML keys; see `data/catalog/*.yaml` for examples.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `apiVersion` of catalogue files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CatalogApiVersion {
    /// The first version.
    #[serde(rename = "hafen.dev/v1alpha1")]
    V1alpha1,
}

/// `kind` of catalogue files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CatalogKind {
    /// A catalogue.
    Catalog,
}

/// One catalogue file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogFile {
    /// Always `hafen.dev/v1alpha1`.
    pub api_version: CatalogApiVersion,
    /// Always `Catalog`.
    pub kind: CatalogKind,
    /// Providers described by this file.
    #[serde(default)]
    pub providers: Vec<ProviderInfo>,
}

/// What kind of offer a provider makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Virtual servers by API.
    Cloud,
    /// Rented physical servers.
    Dedicated,
    /// A managed Kubernetes service.
    ManagedKubernetes,
    /// A US hyperscaler (for comparison).
    Hyperscaler,
    /// The operator's own hardware.
    SelfHosted,
}

/// Legal facts about the company behind a provider.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Company {
    /// Legal name.
    pub name: String,
    /// Registered seat.
    pub seat: String,
    /// ISO 3166 country code of the seat; null when the spec must say.
    pub country: Option<String>,
    /// True when a US company controls it (US CLOUD Act reach).
    pub us_parent: bool,
    /// Where this was read.
    pub source: String,
    /// When this was read (YYYY-MM-DD).
    pub date: String,
}

/// Traffic allowance and overage price.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Traffic {
    /// Outgoing traffic included per server per month, in TB; null means unmetered.
    #[serde(rename = "includedTBPerServer")]
    #[schemars(range(min = 0, max = 1000000))]
    pub included_tb_per_server: Option<f64>,
    /// Price per TB above the allowance, EUR net.
    #[serde(rename = "overageEURPerTB")]
    #[schemars(range(min = 0, max = 10000000))]
    pub overage_eur_per_tb: f64,
    /// Where this was read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
}

/// Price of a public IPv4 address.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ipv4Price {
    /// EUR net per month per address.
    #[serde(rename = "monthlyEUR")]
    #[schemars(range(min = 0, max = 10000000))]
    pub monthly_eur: f64,
    /// True when one address comes with every server at no extra charge.
    #[serde(default)]
    pub included_in_server_price: bool,
    /// Where this was read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
}

/// Block storage price.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumePrice {
    /// EUR net per GB per month.
    #[serde(rename = "eurPerGBMonth")]
    #[schemars(range(min = 0, max = 10000000))]
    pub eur_per_gb_month: f64,
    /// Where this was read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
}

/// A monthly price with its provenance.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MonthlyPrice {
    /// EUR net per month.
    #[serde(rename = "monthlyEUR")]
    #[schemars(range(min = 0, max = 10000000))]
    pub monthly_eur: f64,
    /// Where this was read.
    pub source: String,
    /// When the price took effect or was read (YYYY-MM-DD).
    pub date: String,
    /// False when the figure could not be checked against a primary source.
    #[serde(default = "yes")]
    pub verified: bool,
}

fn yes() -> bool {
    true
}

/// A one-off fee.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OneOffFee {
    /// EUR net.
    #[schemars(range(min = 0, max = 10000000))]
    pub amount: f64,
    /// Where this was read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
}

/// Documented provider limits that break platforms when exceeded.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Limits {
    /// Servers attached to one private network.
    #[serde(default)]
    pub servers_per_network: Option<u32>,
    /// Subnets in one private network.
    #[serde(default)]
    pub subnets_per_network: Option<u32>,
    /// Servers in one spread placement group.
    #[serde(default)]
    pub servers_per_placement_group: Option<u32>,
    /// Rules in one firewall.
    #[serde(default)]
    pub firewall_rules: Option<u32>,
    /// Servers on one vSwitch.
    #[serde(default)]
    pub servers_per_vswitch: Option<u32>,
    /// MTU of a vSwitch VLAN.
    #[serde(default, rename = "vswitchMTU")]
    pub vswitch_mtu: Option<u32>,
    /// Lowest VLAN id a vSwitch can use.
    #[serde(default)]
    pub vswitch_vlan_min: Option<u16>,
    /// Highest VLAN id a vSwitch can use.
    #[serde(default)]
    pub vswitch_vlan_max: Option<u16>,
    /// MTU of the provider's private network.
    #[serde(default, rename = "privateNetworkMTU")]
    pub private_network_mtu: Option<u32>,
    /// Largest block-storage volume, in GiB.
    #[serde(default, rename = "maxVolumeGiB")]
    pub max_volume_gib: Option<u64>,
    /// Where these were read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
}

/// How far the provider's API credentials reach, as the provider's API defines it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiCredentials {
    /// True when the API has no narrower unit than the account (no projects), so every
    /// credential for it reaches every server of the account, whatever the spec declares.
    pub account_wide: bool,
    /// Where this was read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
}

/// A data centre or region.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Location {
    /// The provider's code, e.g. `nbg1`.
    pub name: String,
    /// City.
    pub city: String,
    /// ISO 3166 country code.
    pub country: String,
    /// Degrees north of the equator (−90 to 90), for distance and latency estimates.
    #[serde(default)]
    #[schemars(range(min = -90, max = 90))]
    pub latitude: Option<f64>,
    /// Degrees east of Greenwich (−180 to 180), for distance and latency estimates.
    #[serde(default)]
    #[schemars(range(min = -180, max = 180))]
    pub longitude: Option<f64>,
    /// Provider network zone; private networks do not cross zones.
    #[serde(default)]
    pub network_zone: Option<String>,
    /// Overrides the provider's remote power-on fact for this location.
    #[serde(default)]
    pub remote_power_on: Option<bool>,
}

/// CPU architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Arch {
    /// x86-64.
    Amd64,
    /// AArch64.
    Arm64,
}

/// Whether vCPUs are shared with other tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CpuKind {
    /// Shared vCPUs (noisy neighbours possible).
    Shared,
    /// Dedicated cores or a whole machine.
    Dedicated,
}

/// Whether a type can be ordered now.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Availability {
    /// False when the provider currently refuses new orders.
    pub orderable: bool,
    /// When observed (YYYY-MM-DD).
    pub date: String,
    /// Where observed.
    pub source: String,
}

/// A machine size a provider offers.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerType {
    /// The provider's name for it, e.g. `cpx32`.
    pub name: String,
    /// CPU cores (vCPUs for cloud servers).
    pub cores: u32,
    /// Hardware threads, where they differ from `cores`: a dedicated server whose cores run
    /// two threads each (SMT). The kernel, and so kubelet, counts threads as CPUs. Absent:
    /// one thread per core (a cloud vCPU already is one thread).
    #[serde(default)]
    pub threads: Option<Threads>,
    /// Memory in GiB.
    #[serde(rename = "memoryGiB")]
    #[schemars(range(min = 0, max = 65536))]
    pub memory_gib: f64,
    /// Local disk in GB.
    #[serde(default, rename = "diskGB")]
    pub disk_gb: Option<u32>,
    /// CPU architecture.
    pub arch: Arch,
    /// Shared or dedicated CPU.
    pub cpu: CpuKind,
    /// True when the memory is error-correcting.
    pub ecc: bool,
    /// Locations where it exists; absent means all of the provider's.
    #[serde(default)]
    pub locations: Option<Vec<String>>,
    /// Observed orderability.
    #[serde(default)]
    pub availability: Option<Availability>,
    /// Monthly price.
    pub price: MonthlyPrice,
    /// One-off setup fee.
    #[serde(default, rename = "setupEUR")]
    pub setup_eur: Option<OneOffFee>,
}

/// The hardware threads of a server type, with the CPU model they follow from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Threads {
    /// Logical CPUs of the whole server.
    pub count: u32,
    /// The CPU model the count is for.
    pub cpu: String,
    /// Where this was read.
    pub source: String,
    /// When (YYYY-MM-DD).
    pub date: String,
    /// False when the figure could not be checked against a primary source.
    #[serde(default = "yes")]
    pub verified: bool,
}

impl ServerType {
    /// Logical CPUs the kernel and kubelet see: the threads when known, else the cores.
    pub fn cpus(&self) -> u32 {
        self.threads.as_ref().map(|t| t.count).filter(|&n| n > 0).unwrap_or(self.cores)
    }
}

/// Everything Hafen knows about one provider type.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderInfo {
    /// The value of `type` in a spec's provider, e.g. `hetzner-cloud`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Name for people.
    pub display_name: String,
    /// Kind of offer.
    pub category: Category,
    /// Legal facts.
    pub company: Company,
    /// Whether a dead server can be powered on remotely, without support staff.
    pub remote_power_on: bool,
    /// Where the hardware facts come from.
    #[serde(default)]
    pub hardware_source: Option<String>,
    /// Traffic allowance and price.
    #[serde(default)]
    pub traffic: Option<Traffic>,
    /// IPv4 price.
    #[serde(default)]
    pub ipv4: Option<Ipv4Price>,
    /// Block storage price.
    #[serde(default)]
    pub volumes: Option<VolumePrice>,
    /// Load balancer price.
    #[serde(default)]
    pub load_balancer: Option<MonthlyPrice>,
    /// Managed control plane fee per cluster, if the provider offers managed Kubernetes.
    #[serde(default)]
    pub managed_control_plane: Option<MonthlyPrice>,
    /// Documented limits.
    #[serde(default)]
    pub limits: Option<Limits>,
    /// How far API credentials reach.
    #[serde(default)]
    pub api_credentials: Option<ApiCredentials>,
    /// Locations.
    #[serde(default)]
    pub locations: Vec<Location>,
    /// Machine sizes.
    #[serde(default)]
    pub server_types: Vec<ServerType>,
}

impl ProviderInfo {
    /// A server type by name.
    pub fn server_type(&self, name: &str) -> Option<&ServerType> {
        self.server_types.iter().find(|s| s.name == name)
    }

    /// A location by name.
    pub fn location(&self, name: &str) -> Option<&Location> {
        self.locations.iter().find(|l| l.name == name)
    }
}
