//! Times loading and rendering the large synthetic platform, to see where the render budget goes
//! (`cargo run --release -p hafen-bench --example render_phases`).

use hafen_bench::{Shape, workspace};
use std::time::Instant;

fn main() {
    let ws = workspace(Shape::LARGE);
    let t = Instant::now();
    let (loaded, _) = ws.load();
    println!("load {:?}", t.elapsed());
    let Some(loaded) = loaded else { return };
    for _ in 0..3 {
        let t = Instant::now();
        let repo = hafen_engine::render(&loaded);
        let files = repo.as_ref().map(|r| r.files.len()).unwrap_or(0);
        let bytes: usize =
            repo.as_ref().map(|r| r.files.values().map(String::len).sum()).unwrap_or(0);
        println!("render {:?}: {files} files, {bytes} bytes", t.elapsed());
    }
}
