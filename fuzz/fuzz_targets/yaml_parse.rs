//! Fuzz the YAML parser: no input may panic or hang, and whatever parses survives an
//! emit → parse round trip unchanged.
#![no_main]

use hafen_yaml::{Limits, emit, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let limits =
        Limits { max_bytes: 1 << 20, max_nodes: 100_000, max_depth: 64, ..Limits::default() };
    let (docs, _) = parse(text, hafen_diag_file(), &limits);
    for doc in docs {
        let json = doc.to_json();
        let again = emit(&json);
        let (round, diags) = parse(&again, hafen_diag_file(), &Limits::default());
        assert!(diags.is_empty(), "emitted YAML must parse: {again}");
        assert_eq!(round.len(), 1);
        assert_eq!(round[0].to_json(), json, "round trip changed the value:\n{again}");
    }
});

fn hafen_diag_file() -> hafen_engine::FileId {
    hafen_engine::FileId(0)
}
