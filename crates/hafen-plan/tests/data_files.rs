//! Every fact's source in the data files is read whole: an unquoted YAML value ends at ` #`
//! (the start of a comment), so `source: … (agentdeals PR #1286) …` silently became
//! "… (agentdeals PR". These tests scan the raw text and the parsed values of every YAML file
//! under `data/`.

use std::path::{Path, PathBuf};

fn data_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data"), &mut out);
    out
}

/// `(line, text after the key)` of every `…source:` key on a line (block or flow style).
fn raw_sources(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        let mut from = 0;
        while let Some(i) = lower[from..].find("source:") {
            let at = from + i;
            // `source:` and keys ending in it (`computeSource:`, `hardwareSource:`).
            out.push((n + 1, line[at + "source:".len()..].trim_start().to_owned()));
            from = at + "source:".len();
        }
    }
    out
}

fn strings_under_source_keys(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, x) in map {
                if k.to_ascii_lowercase().ends_with("source")
                    && let Some(s) = x.as_str()
                {
                    out.push(s.to_owned());
                }
                strings_under_source_keys(x, out);
            }
        }
        serde_json::Value::Array(items) => {
            for x in items {
                strings_under_source_keys(x, out);
            }
        }
        _ => {}
    }
}

#[test]
fn no_unquoted_source_is_cut_by_a_comment() {
    let files = data_files();
    assert!(files.len() >= 8, "data files found: {files:?}");
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (line, value) in raw_sources(&text) {
            let quoted = value.starts_with('"') || value.starts_with('\'');
            if !quoted && value.contains(" #") {
                bad.push(format!("{}:{line}: {value}", f.display()));
            }
        }
    }
    assert!(bad.is_empty(), "quote these sources, ` #` starts a YAML comment:\n{}", bad.join("\n"));
}

#[test]
fn every_parsed_source_is_a_whole_sentence() {
    let mut bad = Vec::new();
    let mut seen = 0;
    for f in data_files() {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let mut sources = hafen_diag::Sources::new();
        let id = sources.add(f.display().to_string(), &text);
        let (docs, diags) = hafen_yaml::parse(&text, id, &hafen_yaml::Limits::default());
        assert!(diags.is_empty(), "{}: {:?}", f.display(), diags.first().map(|d| &d.message));
        for doc in docs {
            let mut strings = Vec::new();
            strings_under_source_keys(&doc.to_json(), &mut strings);
            for s in strings {
                seen += 1;
                let open = s.matches('(').count();
                let close = s.matches(')').count();
                if open != close || s.trim_end().ends_with(['(', ',', ';']) {
                    bad.push(format!("{}: {s}", f.display()));
                }
            }
        }
    }
    assert!(seen > 100, "only {seen} sources found");
    assert!(bad.is_empty(), "sources cut short or unbalanced:\n{}", bad.join("\n"));
}

#[test]
fn the_scan_catches_the_defect_it_guards_against() {
    let cut =
        "    ipv4:\n      source: read via website-price-api (agentdeals PR #1286) are exactly\n";
    let found = raw_sources(cut);
    assert_eq!(found.len(), 1);
    assert!(found[0].1.contains(" #") && !found[0].1.starts_with('"'));
    let flow = "      price: { monthlyEUR: 5, date: 2026-01-01, source: \"a (PR #1) b\" }";
    assert!(raw_sources(flow).iter().all(|(_, v)| v.starts_with('"')));
}

#[test]
fn a_product_line_from_price_is_never_marked_verified_for_one_model() {
    // "AX-Line from EUR 37.30" prices the cheapest model of a line on the day of the snapshot;
    // it is no per-model source, so the figure must carry `verified: false`.
    let mut checked = 0;
    let mut bad = Vec::new();
    for f in data_files().into_iter().filter(|f| f.to_string_lossy().contains("catalog")) {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let mut sources = hafen_diag::Sources::new();
        let id = sources.add(f.display().to_string(), &text);
        let (docs, _) = hafen_yaml::parse(&text, id, &hafen_yaml::Limits::default());
        for doc in docs {
            let json = doc.to_json();
            for p in json["providers"].as_array().into_iter().flatten() {
                for st in p["serverTypes"].as_array().into_iter().flatten() {
                    let price = &st["price"];
                    let source = price["source"].as_str().unwrap_or_default().to_ascii_lowercase();
                    if source.contains("line from") || source.contains("line 'from") {
                        checked += 1;
                        if price["verified"].as_bool() != Some(false) {
                            bad.push(format!("{}: {}", f.display(), st["name"]));
                        }
                    }
                }
            }
        }
    }
    assert!(checked >= 2, "the AX and EX line prices are in the catalogue");
    assert!(bad.is_empty(), "line 'from' prices marked verified: {bad:?}");
}
