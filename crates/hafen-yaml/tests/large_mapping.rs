//! A mapping of 200,000 keys parses in linear time. Kept out of the crate's sources: it reads
//! the clock, which the pure core's sources never do.

use hafen_diag::FileId;
use hafen_yaml::{Limits, Value, parse};

#[test]
fn a_mapping_with_200_000_keys_parses_quickly() {
    // Parsed on another thread so that a slow parse fails the test at the bound instead of
    // running on: the quadratic duplicate check took minutes here. The bound is generous for
    // an unoptimised build on a busy machine; a linear parse takes a fraction of it.
    let n = 200_000;
    let mut text = String::with_capacity(n * 16);
    for i in 0..n {
        text.push_str(&format!("k{i}: {i}\n"));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let (docs, diags) = parse(&text, FileId(0), &Limits::default());
        let _ = tx.send((docs, diags, started.elapsed()));
    });
    let bound = std::time::Duration::from_secs(10);
    let (docs, diags, took) = rx
        .recv_timeout(bound)
        .unwrap_or_else(|_| panic!("parsing {n} keys took longer than {bound:?}"));
    assert!(diags.is_empty(), "{:?}", &diags[..diags.len().min(3)]);
    let Value::Map(entries) = &docs[0].value else { panic!("not a mapping") };
    assert_eq!(entries.len(), n);
    eprintln!("{n} keys parsed in {took:?}");
}
