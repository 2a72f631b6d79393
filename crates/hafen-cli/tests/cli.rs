//! The `hafen` binary as a user meets it: exit codes, output formats, and the repository
//! writer's promises (atomic replacement, ownership, nothing outside the output folder).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hafen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hafen"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run hafen")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn example() -> String {
    root().join("examples/two-stack-hetzner/platform.yaml").display().to_string()
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hafen-cli-test-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn clean_example_exits_zero() {
    let out = hafen(&["check", &example()]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("check passed"));
}

#[test]
fn findings_exit_one_and_unreadable_input_exits_two() {
    let bad = root().join("tests/cases/bad-types/platform.yaml");
    let out = hafen(&["check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("bad-types/platform.yaml:6:19"), "{}", stdout(&out));
    assert!(!stdout(&out).contains('\x1b'), "no colour without a terminal");

    let out = hafen(&["check", "/nonexistent/platform.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no such file"), "{}", stderr(&out));

    let dir = tempdir("binary");
    let binary = dir.join("platform.yaml");
    fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
    let out = hafen(&["check", binary.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not UTF-8"));

    let out = hafen(&["check", "--format", "xml", &example()]);
    assert_eq!(out.status.code(), Some(2), "bad usage");
}

#[test]
fn a_stream_is_cut_off_at_the_size_limit() {
    // A character device without end: read only up to the limit, then refuse.
    let out = hafen(&["check", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("more than the 32 MiB limit"), "{}", stderr(&out));

    // A pipe that never ends: the writer stops when Hafen closes its end.
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hafen"))
        .args(["check", "/dev/stdin"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hafen");
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let block = vec![b'#'; 1 << 16];
        let mut written = 0u64;
        while pipe.write_all(&block).is_ok() {
            written += block.len() as u64;
            // Bounded even if Hafen kept reading: 128 MiB is four times the limit.
            if written > 128 << 20 {
                break;
            }
        }
        written
    });
    let out = child.wait_with_output().expect("hafen ends");
    let written = writer.join().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("more than the 32 MiB limit"), "{}", stderr(&out));
    assert!(written < 64 << 20, "Hafen read {written} bytes from the pipe");
}

#[test]
fn json_and_sarif_are_machine_readable() {
    let bad = root().join("tests/cases/mtu-vswitch-wireguard/platform.yaml");
    let out = hafen(&["check", "--format", "json", bad.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["version"], 1);
    // Other rules may report on the same case; the MTU finding is the one under test.
    let diagnostics = doc["diagnostics"].as_array().expect("diagnostics");
    let first = diagnostics.iter().find(|d| d["code"] == "NET001").expect("NET001 reported");
    assert_eq!(first["line"], 27);
    assert!(first["help"].as_str().unwrap().contains("1340"));

    let out = hafen(&["check", "--format", "sarif", bad.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    assert_eq!(doc["version"], "2.1.0");
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let result = results.iter().find(|r| r["ruleId"] == "NET001").expect("NET001 reported");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 27);
}

#[test]
fn deny_and_allow_change_the_outcome() {
    let bad = root().join("tests/cases/mtu-vswitch-wireguard/platform.yaml");
    let out = hafen(&["check", "--allow", "NET001", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 suppressed"));
}

#[test]
fn explain_knows_every_listed_code() {
    let out = hafen(&["explain", "--list", "--format", "json"]);
    let codes: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for code in codes.as_array().unwrap() {
        let code = code["code"].as_str().unwrap();
        let out = hafen(&["explain", code]);
        assert_eq!(out.status.code(), Some(0), "explain {code}");
        assert!(stdout(&out).starts_with(&format!("# {code}")));
    }
    assert_eq!(hafen(&["explain", "NOPE999"]).status.code(), Some(2));
}

fn render(out: &Path, extra: &[&str]) -> Output {
    let mut args =
        vec!["render", &*Box::leak(example().into_boxed_str()), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    hafen(&args)
}

#[test]
fn render_writes_a_manifest_and_is_idempotent() {
    let dir = tempdir("render");
    let out = dir.join("repo");
    let first = render(&out, &[]);
    assert_eq!(first.status.code(), Some(0), "{}{}", stdout(&first), stderr(&first));
    assert!(out.join(".hafen-manifest").exists());
    let listed: Vec<String> = fs::read_to_string(out.join(".hafen-manifest"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.ends_with('/'))
        .map(str::to_owned)
        .collect();
    assert!(!listed.is_empty());
    for path in &listed {
        assert!(out.join(path).is_file(), "{path} listed but missing");
    }
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> =
            listed.iter().map(|p| (p.clone(), fs::read(dir.join(p)).unwrap())).collect();
        files.sort();
        files
    };
    let before = snapshot(&out);
    let second = render(&out, &[]);
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(before, snapshot(&out), "same input, same bytes");
    let check = render(&out, &["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    // Leftovers of an interrupted run are cleaned up, never mistaken for output.
    fs::create_dir_all(dir.join(format!(".repo.hafen-tmp-{}", 999_999))).unwrap();
    assert_eq!(render(&out, &[]).status.code(), Some(0));
    assert!(!dir.join(".repo.hafen-tmp-999999").exists());
}

#[test]
fn render_refuses_foreign_folders_and_keeps_user_files() {
    let dir = tempdir("foreign");
    let out = dir.join("repo");
    fs::create_dir_all(out.join(".git")).unwrap();
    fs::write(out.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    fs::write(out.join("NOTES.md"), "mine\n").unwrap();
    let refused = render(&out, &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("--force"), "{}", stderr(&refused));
    assert!(!out.join(".hafen-manifest").exists(), "nothing written");
    // `--check` on such a folder says it is not Hafen's instead of suggesting a plain render
    // that would refuse it.
    let check = render(&out, &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert!(stdout(&check).contains("is not a repository Hafen rendered"), "{}", stdout(&check));
    assert!(stdout(&check).contains("--force"), "{}", stdout(&check));

    let forced = render(&out, &["--force"]);
    assert_eq!(forced.status.code(), Some(0), "{}", stderr(&forced));
    assert_eq!(fs::read_to_string(out.join("NOTES.md")).unwrap(), "mine\n");
    assert_eq!(fs::read_to_string(out.join(".git/HEAD")).unwrap(), "ref: refs/heads/main\n");
    // Later renders need no --force: the manifest marks what is Hafen's.
    assert_eq!(render(&out, &[]).status.code(), Some(0));
    assert_eq!(fs::read_to_string(out.join("NOTES.md")).unwrap(), "mine\n");
}

#[test]
fn render_refuses_the_root_and_the_home_folder_before_reading_them() {
    let dir = tempdir("home");
    let home = dir.join("home");
    fs::create_dir_all(&home).unwrap();
    fs::write(home.join(".profile"), "mine\n").unwrap();
    let spec = example();
    let render_with_home = |out: &Path, force: bool| {
        let mut args = vec!["render", spec.as_str(), "--out", out.to_str().unwrap()];
        if force {
            args.push("--force");
        }
        Command::new(env!("CARGO_BIN_EXE_hafen"))
            .args(&args)
            .env("NO_COLOR", "1")
            .env("HOME", &home)
            .output()
            .expect("run hafen")
    };
    for (out, says) in [
        (home.clone(), "it is your home folder".to_owned()),
        (dir.clone(), format!("a folder above your home folder `{}`", home.display())),
        (PathBuf::from("/"), "it is the root of the file system".to_owned()),
    ] {
        for force in [false, true] {
            let refused = render_with_home(&out, force);
            assert_eq!(refused.status.code(), Some(2), "{out:?} {force}");
            let err = stderr(&refused);
            assert!(err.contains(&says), "{out:?}: {err}");
            assert!(err.contains("choose a folder of its own"), "{err}");
        }
    }
    assert!(!home.join(".hafen-manifest").exists());
    assert!(!dir.join(".hafen-manifest").exists());
    // A folder of its own inside the home folder is fine.
    let own = render_with_home(&home.join("platform-repo"), false);
    assert_eq!(own.status.code(), Some(0), "{}", stderr(&own));
}

#[test]
fn drift_is_reported_and_owned_files_only() {
    let dir = tempdir("drift");
    let out = dir.join("repo");
    assert_eq!(render(&out, &[]).status.code(), Some(0));
    let manifest = fs::read_to_string(out.join(".hafen-manifest")).unwrap();
    let victim = manifest.lines().find(|l| !l.starts_with('#')).unwrap().to_owned();
    fs::write(out.join(&victim), "edited by hand\n").unwrap();
    fs::write(out.join("mine.txt"), "not Hafen's\n").unwrap();
    let check = render(&out, &["--check"]);
    assert_eq!(check.status.code(), Some(1));
    let text = stdout(&check);
    assert!(text.contains(&victim), "{text}");
    assert!(!text.contains("mine.txt"), "files Hafen did not write are not drift: {text}");
}

#[test]
fn render_of_a_broken_spec_writes_nothing() {
    let dir = tempdir("broken");
    let out = dir.join("repo");
    let spec = root().join("tests/cases/path-traversal/platform.yaml");
    let result = hafen(&["render", spec.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(result.status.code(), Some(1));
    assert!(!out.exists());
    let entries: Vec<_> = fs::read_dir(&dir).unwrap().collect();
    assert!(entries.is_empty(), "no file anywhere: {entries:?}");
}

#[test]
fn init_writes_a_template_that_checks() {
    let dir = tempdir("init");
    let path = dir.join("platform.yaml");
    assert_eq!(hafen(&["init", path.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(hafen(&["init", path.to_str().unwrap()]).status.code(), Some(2), "never overwrites");
    let out = hafen(&["check", path.to_str().unwrap()]);
    assert_ne!(out.status.code(), Some(2), "{}", stdout(&out));
}

#[test]
fn every_command_has_help_with_an_example_and_its_exit_codes() {
    for cmd in ["check", "plan", "render", "run", "serve", "explain", "init", "schema"] {
        let out = hafen(&[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        let help = stdout(&out);
        assert!(help.contains("Example"), "`hafen {cmd} --help` shows an example");
        // Every command can end with 0 and, on bad usage, 2; those that judge a spec with 1.
        let codes = help.split("Exit codes:").nth(1).unwrap_or_default();
        let mut want = vec!["0 ", "2 "];
        if !matches!(cmd, "serve" | "explain" | "init" | "schema") {
            want.push("1 ");
        }
        for code in want {
            assert!(codes.contains(code), "`hafen {cmd} --help` lists exit code {code}:\n{help}");
        }
    }
    assert!(stdout(&hafen(&["--help"])).contains("Exit codes:"));
}

#[test]
fn explain_speaks_json_for_one_code() {
    let out = hafen(&["explain", "net001", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["code"], "NET001");
    assert_eq!(doc["severity"], "error");
    assert_eq!(doc["version"], 1);
    assert!(doc["title"].as_str().is_some_and(|t| t.contains("MTU")), "{doc}");
    assert!(doc["explanation"].as_str().is_some_and(|t| t.starts_with("# NET001")), "{doc}");
    assert!(doc["sections"].as_array().is_some_and(|s| s.iter().any(|x| x["heading"] == "Fix")));
    // Unknown codes and formats are usage errors, in either format.
    assert_eq!(hafen(&["explain", "NOPE999", "--format", "json"]).status.code(), Some(2));
    assert_eq!(hafen(&["explain", "NET001", "--format", "yaml"]).status.code(), Some(2));
}

#[test]
fn no_output_format_quotes_a_secret_value() {
    let spec = root().join("tests/cases/plaintext-secret/platform.yaml");
    for format in ["human", "json", "sarif"] {
        let out = hafen(&["check", "--format", format, spec.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let text = format!("{}{}", stdout(&out), stderr(&out));
        for secret in ["hunter2-correct-horse", "s3cr3t-pa55"] {
            assert!(!text.contains(secret), "{format} output leaks {secret}:\n{text}");
        }
    }
}

#[test]
fn render_refusal_does_not_quote_the_secret() {
    let dir = tempdir("render-secret");
    let spec = root().join("tests/cases/render-error-secret-in-url/platform.yaml");
    let out = hafen(&[
        "render",
        spec.to_str().unwrap(),
        "--out",
        dir.join("repo").to_str().unwrap(),
        "--ignore-findings",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains("RENDER002"), "{text}");
    assert!(!text.contains("gh0stT0kenXy12"), "{text}");
    assert!(!dir.join("repo").exists());
}

#[test]
fn a_plaintext_secret_lets_check_run_every_rule_but_plan_and_render_refuse() {
    let spec = root().join("tests/cases/secret-suppressed/platform.yaml");
    let spec = spec.to_str().unwrap();
    // The in-spec suppression silences SPEC011; the rules still ran (SEC007 is an error).
    let out = hafen(&["check", spec, "--as-of", "2026-11-22"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("error[SPEC011] (suppressed)"), "{}", stdout(&out));
    assert!(stdout(&out).contains("error[SEC007]"), "{}", stdout(&out));
    assert!(stdout(&out).contains("check failed"), "{}", stdout(&out));
    let plain = root().join("tests/cases/plaintext-secret/platform.yaml");
    let out = hafen(&["check", plain.to_str().unwrap(), "--allow", "SPEC011", "--allow", "SEC007"]);
    assert!(
        stdout(&out).contains("warning[TOP006]"),
        "--allow lets the rules speak: {}",
        stdout(&out)
    );
    for args in [vec!["plan", spec], vec!["plan", plain.to_str().unwrap()]] {
        let out = hafen(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("SPEC011"), "findings shown: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "no plan: {}", stdout(&out));
        assert!(!stderr(&out).contains("hunter2"));
    }
    let dir = tempdir("secret-render");
    let repo = dir.join("repo");
    let out = hafen(&["render", spec, "--out", repo.to_str().unwrap(), "--ignore-findings"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!repo.exists());
    assert!(!format!("{}{}", stdout(&out), stderr(&out)).contains("hunter2"));
}

#[test]
fn plan_refuses_sizes_it_cannot_model() {
    let spec = root().join("tests/cases/size-limits/platform.yaml");
    let started = std::time::Instant::now();
    let out = hafen(&["plan", spec.to_str().unwrap()]);
    assert!(started.elapsed().as_secs() < 20, "refused quickly");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("SPEC004"), "{}", stderr(&out));
    assert!(stderr(&out).contains("size-limits/platform.yaml:19:54"), "{}", stderr(&out));
    let out = hafen(&["plan", &example(), "--samples", "1000000000"]);
    assert_eq!(out.status.code(), Some(2), "an unbounded sample count is bad usage");
}

#[test]
fn non_utf8_input_names_line_and_column() {
    let dir = tempdir("latin1");
    let path = dir.join("platform.yaml");
    fs::write(&path, b"apiVersion: hafen.dev/v1alpha1\nmetadata: { name: caf\xe9 }\n").unwrap();
    let out = hafen(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("platform.yaml`:2:22: not UTF-8 text"), "{err}");
    assert!(err.contains("help: save the file as UTF-8"), "{err}");
    assert!(!err.contains("offset"), "{err}");
}

#[test]
fn control_characters_in_the_spec_never_reach_the_terminal() {
    let spec = root().join("tests/cases/control-characters");
    let out = hafen(&["check", spec.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
    assert!(text.contains("\\u{1b}]0;pwned"), "{text}");
}

#[test]
fn an_unknown_exit_source_or_target_is_bad_usage_with_a_suggestion() {
    let spec = example();
    let out = hafen(&["plan", &spec, "--samples", "0", "--exit", "hclod", "--to", "scaleway"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("did you mean `hcloud`?"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "no plan is printed");
    let out = hafen(&["plan", &spec, "--samples", "0", "--exit", "hcloud", "--to", "scaleway1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("did you mean `scaleway`?"), "{}", stderr(&out));
    let out = hafen(&["plan", &spec, "--samples", "0", "--exit", "hcloud", "--to", "scaleway"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
