//! Shared setup for the benchmarks: a workspace holding a synthetic platform of a given shape.
//! This crate is outside the workspace's default members, so `cargo test` does not build
//! criterion; run it with `cargo bench -p hafen-bench`.

pub use hafen_synth::Shape;

/// A workspace with the synthetic platform of `shape` loaded as `synthetic.yaml`.
pub fn workspace(shape: Shape) -> hafen_engine::Workspace {
    let mut workspace = hafen_engine::Workspace::new();
    workspace.add_spec("synthetic.yaml", &hafen_synth::platform_yaml(shape));
    workspace
}
