//! Prints the synthetic platform of a shape as YAML, to feed the CLI under `/usr/bin/time -v`
//! (peak memory of a whole `hafen render`): `cargo run --release -p hafen-bench --example synth
//! -- large > /tmp/large.yaml`. Shapes: `large` (the brief's target) or a worker-node count.

use hafen_bench::Shape;

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_else(|| "large".into());
    let shape = match arg.parse::<usize>() {
        Ok(nodes) => Shape::scaled(nodes),
        Err(_) => Shape::LARGE,
    };
    print!("{}", hafen_synth::platform_yaml(shape));
}
