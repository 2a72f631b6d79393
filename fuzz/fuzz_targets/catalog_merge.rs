//! Fuzz catalogue overrides: any text merged into the built-in catalogue yields diagnostics
//! or a catalogue, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut workspace = hafen_engine::Workspace::new();
    workspace.add_catalog("fuzz-catalog.yaml", text);
    let _ = workspace.load();
});
