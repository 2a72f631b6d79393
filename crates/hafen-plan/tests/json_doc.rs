//! `docs/plan-json.md` documents every key `hafen plan --format json` writes: a key the
//! document does not name is an undocumented change of the stable format.

mod common;

use std::collections::BTreeSet;

fn keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, x) in map {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

#[test]
fn every_key_of_the_plan_json_is_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/plan-json.md"))
            .unwrap_or_else(|e| panic!("docs/plan-json.md: {e}"));
    let options = hafen_plan::Options {
        samples: 5,
        exit: Some(("hcloud".into(), "scaleway".into())),
        ..hafen_plan::Options::default()
    };
    let report = common::plan_with(&common::example(), &options);
    let json = serde_json::to_value(&report).unwrap_or_default();
    let mut all = BTreeSet::new();
    keys(&json, &mut all);
    assert!(all.len() > 100, "{all:?}");
    let documented = |k: &str| {
        doc.match_indices(k).any(|(i, _)| {
            let before = doc[..i].chars().last().unwrap_or(' ');
            let after = doc[i + k.len()..].chars().next().unwrap_or(' ');
            !before.is_ascii_alphanumeric() && !after.is_ascii_alphanumeric()
        })
    };
    let missing: Vec<&String> = all.iter().filter(|k| !documented(k)).collect();
    assert!(missing.is_empty(), "keys not documented in docs/plan-json.md: {missing:?}");
}
