//! Every rule, grouped by area. Add a rule by writing its function, listing it in [`ALL`],
//! writing `docs/rules/CODE.md`, and adding a failing and a near-miss fixture under
//! `tests/rules/CODE/`; the registry test and the fixture runner fail until all four exist.

/// Declares a rule constant named after its code.
macro_rules! rule {
    ($name:ident, $severity:ident, $summary:literal, $run:path) => {
        pub(crate) const $name: crate::RuleFn = crate::RuleFn {
            info: hafen_diag::CodeInfo {
                code: stringify!($name),
                severity: hafen_diag::Severity::$severity,
                summary: $summary,
            },
            run: $run,
        };
    };
}

mod capacity;
mod egress;
mod hardware;
mod network;
mod operations;
mod security;
mod sovereignty;
mod topology;
mod versions;

use crate::RuleFn;

/// All rules, in catalogue order.
pub(crate) static ALL: &[RuleFn] = &[
    network::NET001,
    network::NET002,
    network::NET003,
    network::NET004,
    network::NET005,
    network::NET006,
    network::NET007,
    network::NET008,
    network::NET009,
    network::NET010,
    network::NET011,
    network::NET012,
    network::NET013,
    egress::EGR001,
    egress::EGR002,
    egress::EGR003,
    egress::EGR004,
    topology::TOP001,
    topology::TOP002,
    topology::TOP003,
    topology::TOP004,
    topology::TOP005,
    topology::TOP006,
    topology::TOP007,
    topology::TOP008,
    topology::TOP009,
    topology::TOP010,
    topology::TOP011,
    topology::TOP012,
    topology::TOP013,
    topology::TOP014,
    topology::TOP015,
    hardware::HW001,
    hardware::HW002,
    hardware::HW003,
    hardware::HW004,
    capacity::CAP001,
    capacity::CAP002,
    capacity::CAP003,
    capacity::CAP004,
    capacity::CAP005,
    capacity::CAP006,
    capacity::CAP007,
    capacity::CAP008,
    capacity::CAP009,
    capacity::CAP010,
    capacity::CAP011,
    capacity::CAP012,
    capacity::CAP013,
    security::SEC001,
    security::SEC002,
    security::SEC003,
    security::SEC004,
    security::SEC005,
    security::SEC006,
    security::SEC007,
    security::SEC008,
    security::SEC009,
    sovereignty::SOV001,
    sovereignty::SOV002,
    sovereignty::SOV003,
    sovereignty::SOV004,
    sovereignty::SOV005,
    sovereignty::SOV006,
    sovereignty::SOV007,
    sovereignty::SOV008,
    sovereignty::SOV009,
    sovereignty::SOV010,
    sovereignty::SOV011,
    operations::OPS001,
    operations::OPS002,
    operations::OPS003,
    operations::OPS004,
    operations::OPS005,
    operations::OPS006,
    operations::OPS007,
    operations::OPS008,
    operations::OPS009,
    operations::OPS010,
    operations::OPS011,
    versions::VER001,
    versions::VER002,
    versions::VER003,
    versions::VER004,
];
