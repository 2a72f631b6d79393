//! Times each phase of loading the large synthetic platform, to see where the budget goes.

use hafen_bench::Shape;
use std::time::Instant;

fn main() {
    let text = hafen_synth::platform_yaml(Shape::LARGE);
    let mut sources = hafen_engine::Sources::new();
    let (catalog, _) = hafen_engine::Catalog::builtin(&mut sources);
    let file = sources.add("synthetic.yaml", text.clone());
    for _ in 0..2 {
        let t = Instant::now();
        let (docs, _) = hafen_yaml::parse(&text, file, &hafen_yaml::Limits::default());
        let parse = t.elapsed();
        let t = Instant::now();
        let mut diags = Vec::new();
        hafen_yaml::schema::validate(
            &docs[0],
            hafen_spec::json_schema(),
            hafen_spec::json_schema(),
            "",
            None,
            &mut diags,
        );
        let validate = t.elapsed();
        let t = Instant::now();
        let json = docs[0].to_json();
        let to_json = t.elapsed();
        let t = Instant::now();
        let platform: hafen_spec::Platform = serde_json::from_value(json).unwrap();
        let de = t.elapsed();
        let t = Instant::now();
        let spans = hafen_spec::SpanIndex::build(&docs[0]);
        let index = t.elapsed();
        let t = Instant::now();
        let (loaded, _) = hafen_spec::load(&[file], &sources, &catalog);
        let full = t.elapsed();
        let t = Instant::now();
        let diags = hafen_check::check(loaded.as_ref().unwrap(), &Default::default());
        let check = t.elapsed();
        drop((platform, spans));
        println!(
            "parse {parse:?} validate {validate:?} to_json {to_json:?} serde {de:?} spans {index:?} | full load {full:?} | check {check:?} ({} findings)",
            diags.len()
        );
    }
}
