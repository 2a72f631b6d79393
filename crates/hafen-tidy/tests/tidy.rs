//! Tidy checks over the repository's own files.

use hafen_tidy::{CORE, CORE_ALLOWED_DEPS, root};
use std::fs;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target" && n != "golden") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_module_says_why_it_exists() {
    let mut missing = Vec::new();
    for file in rust_files(&root().join("crates")) {
        let text = fs::read_to_string(&file).unwrap_or_default();
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if !first.starts_with("//!") {
            missing.push(file.display().to_string());
        }
    }
    assert!(missing.is_empty(), "modules without a `//!` line at the top:\n{}", missing.join("\n"));
}

#[test]
fn no_test_is_skipped() {
    let needle = ["#[", "ignore"].concat();
    let mut found = Vec::new();
    for file in rust_files(&root().join("crates")) {
        let text = fs::read_to_string(&file).unwrap_or_default();
        if text.contains(&needle) {
            found.push(file.display().to_string());
        }
    }
    assert!(found.is_empty(), "skipped tests in:\n{}", found.join("\n"));
}

#[test]
fn core_sources_do_no_io() {
    let forbidden = [
        "std::fs",
        // Address types in std::net are plain data; sockets are IO.
        "TcpStream",
        "TcpListener",
        "UdpSocket",
        "ToSocketAddrs",
        "std::env::",
        // The machine's parallelism is environment too (cgroups, affinity).
        "available_parallelism",
        "std::process",
        "SystemTime",
        "Instant::now",
        "tokio",
        "std::io::stdin",
        "std::io::stdout",
        "println!",
        "eprintln!",
    ];
    let mut found = Vec::new();
    for krate in CORE {
        for file in rust_files(&root().join("crates").join(krate).join("src")) {
            let text = fs::read_to_string(&file).unwrap_or_default();
            for (idx, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for word in forbidden {
                    if code.contains(word) {
                        found.push(format!("{}:{}: {word}", file.display(), idx + 1));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "IO in the pure core (see ARCHITECTURE.md):\n{}", found.join("\n"));
}

#[test]
fn core_depends_only_on_core_and_allowed_crates() {
    let mut bad = Vec::new();
    for krate in CORE {
        let manifest = fs::read_to_string(root().join("crates").join(krate).join("Cargo.toml"))
            .unwrap_or_default();
        let mut section = String::new();
        for line in manifest.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line.to_owned();
                continue;
            }
            if section != "[dependencies]" || line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name = line.split(['=', '.', ' ']).next().unwrap_or("");
            let allowed = CORE.contains(&name) || CORE_ALLOWED_DEPS.contains(&name);
            if !allowed {
                bad.push(format!("{krate} depends on {name}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "core crates may only use {CORE_ALLOWED_DEPS:?} besides each other:\n{}",
        bad.join("\n")
    );
}

#[test]
fn no_package_registry_host_names_in_the_repository() {
    // Written as pieces so this file does not contain what it looks for.
    let hosts = [
        ["crates", ".io"].concat(),
        ["pypi", ".org"].concat(),
        ["npmjs", ".org"].concat(),
        ["deb.", "debian.org"].concat(),
    ];
    let mut found = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !matches!(name.as_ref(), "target" | ".git" | ".venv" | "out" | "fuzz")
                    && !name.starts_with('.')
                    || name == ".ci"
                {
                    stack.push(path);
                }
                continue;
            }
            if name == "Cargo.lock" {
                continue;
            }
            let Ok(text) = fs::read_to_string(&path) else { continue };
            for host in &hosts {
                if text.contains(host.as_str()) {
                    found.push(format!("{}: {host}", path.display()));
                }
            }
        }
    }
    assert!(found.is_empty(), "registry host names in:\n{}", found.join("\n"));
}
