//! Every rule, grouped by area. Add a rule by writing its function, listing it in [`ALL`],
//! writing `docs/rules/CODE.md`, and adding a failing and a near-miss fixture under
//! `tests/rules/CODE/`; the registry test fails until all four exist.

mod hardware;
mod network;
mod topology;

use crate::RuleFn;

/// All rules, in catalogue order.
pub(crate) static ALL: &[RuleFn] =
    &[network::NET001, network::NET002, topology::TOP001, hardware::HW001];
