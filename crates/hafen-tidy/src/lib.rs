//! Repository invariants that `cargo test` checks, so ARCHITECTURE.md cannot drift from the
//! code: see `tests/tidy.rs`. This library only locates the repository root.

use std::path::PathBuf;

/// The repository root (two levels above this crate's manifest).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// The pure core crates: no file system, network, clock, environment or process access.
pub const CORE: &[&str] = &[
    "hafen-diag",
    "hafen-digest",
    "hafen-yaml",
    "hafen-catalog",
    "hafen-spec",
    "hafen-check",
    "hafen-plan",
    "hafen-render",
    "hafen-engine",
];

/// Third-party crates the core may use: none of them does IO on its own.
pub const CORE_ALLOWED_DEPS: &[&str] =
    &["saphyr-parser", "serde", "serde_json", "schemars", "strsim"];
