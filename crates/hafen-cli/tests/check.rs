//! `hafen check` and `hafen explain` as CI uses them: SARIF and JSON output with regions,
//! `--deny`/`--allow`, and in-spec suppressions with their mandatory reason, end to end
//! through the binary.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

fn hafen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hafen"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("run hafen")
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

fn fixture(code: &str, file: &str) -> String {
    format!("tests/rules/{code}/{file}")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn check(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--as-of", "2026-11-22"]);
    hafen(&all)
}

/// Writes a variant of a fixture into a temporary file and returns its path.
fn variant(name: &str, code: &str, append: &str) -> PathBuf {
    let text = fs::read_to_string(root().join(fixture(code, "fail.yaml"))).expect("fixture");
    let dir = std::env::temp_dir().join(format!("hafen-check-test-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.yaml"));
    fs::write(&path, format!("{text}{append}")).expect("write variant");
    path
}

#[test]
fn sarif_places_each_finding_on_its_line() {
    let out = check(&[&fixture("NET001", "fail.yaml"), "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("SARIF is JSON");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "NET001"
        && r["help"]["text"].as_str().is_some_and(|t| t.starts_with("# NET001"))));
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "NET001");
    assert_eq!(result["level"], "error");
    let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
    assert_eq!(rules[index]["id"], "NET001");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "tests/rules/NET001/fail.yaml");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().expect("base declared");
    assert!(base.starts_with("file:///") && base.ends_with('/'), "{base}");
    // The `mtu: 1450` of cluster prod-nbg.
    let text = fs::read_to_string(root().join(fixture("NET001", "fail.yaml"))).unwrap();
    let line = text.lines().position(|l| l.contains("mtu: 1450")).unwrap() + 1;
    assert_eq!(location["region"]["startLine"], line as u64);
    assert!(location["region"]["startColumn"].as_u64().unwrap() > 1);
    for artifact in run["artifacts"].as_array().unwrap() {
        let uri = artifact["location"]["uri"].as_str().unwrap();
        assert!(!uri.contains('<') && !uri.contains(' '), "{uri} is not a URI reference");
    }
}

#[test]
fn sarif_gives_a_file_outside_the_working_directory_an_absolute_file_uri() {
    // A spec elsewhere, with a space in its path, named by its absolute path.
    let path = variant("sarif abs", "NET001", "");
    assert!(path.is_absolute() && !path.starts_with(root()));
    let out = check(&[path.to_str().unwrap(), "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("SARIF is JSON");
    let location = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    let uri = location["artifactLocation"]["uri"].as_str().expect("uri");
    assert!(uri.starts_with("file:///") && uri.ends_with("/sarif%20abs.yaml"), "{uri}");
    assert!(location["artifactLocation"].get("uriBaseId").is_none(), "{location}");
}

#[test]
fn json_lists_findings_with_positions_and_summary() {
    let out = check(&[&fixture("TOP002", "fail.yaml"), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(doc["summary"]["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "TOP002");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["path"], "spec.clusters[0].controlPlane.sites");
    assert!(d["line"].as_u64().unwrap() > 1);
    assert!(d["help"].as_str().unwrap().contains("1+1+1"));
}

#[test]
fn deny_raises_warnings_and_allow_silences_errors() {
    let warn = fixture("OPS001", "fail.yaml");
    let out = check(&[&warn]);
    assert_eq!(out.status.code(), Some(0), "warnings alone pass: {}", stdout(&out));
    assert!(stdout(&out).contains("warning[OPS001]"));

    let out = check(&[&warn, "--deny", "OPS001"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("error[OPS001]"), "{}", stdout(&out));

    let out = check(&[&warn, "--deny", "warnings"]);
    assert_eq!(out.status.code(), Some(1));

    let out = check(&[&warn, "--deny", "NET001"]);
    assert_eq!(out.status.code(), Some(0), "denying another code changes nothing");

    let err = fixture("NET001", "fail.yaml");
    let out = check(&[&err, "--allow", "NET001"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("error[NET001] (suppressed)"), "{text}");
    assert!(text.contains("allowed with --allow"), "{text}");
    assert!(text.contains("1 suppressed"), "{text}");
}

#[test]
fn in_spec_suppressions_need_a_reason_and_match_their_object() {
    let reason = "Accepted until the vSwitch migration in Q1; tracked in OPS-142.";
    let ok = variant(
        "suppressed",
        "NET001",
        &format!(
            "  suppressions:\n    - {{ code: NET001, object: cluster/prod-nbg, reason: \"{reason}\" }}\n"
        ),
    );
    let out = check(&[ok.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("(suppressed)") && text.contains(reason), "{text}");

    let out = check(&[ok.to_str().unwrap(), "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let suppression = &doc["runs"][0]["results"][0]["suppressions"][0];
    assert_eq!(suppression["kind"], "inSource");
    assert_eq!(suppression["justification"], reason);

    let out = check(&[ok.to_str().unwrap(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(doc["summary"]["suppressed"], 1);
    assert_eq!(doc["diagnostics"][0]["suppressed"], reason);

    // Another object: the finding stays.
    let other = variant(
        "other-object",
        "NET001",
        &format!(
            "  suppressions:\n    - {{ code: NET001, object: cluster/prod-fsn, reason: \"{reason}\" }}\n"
        ),
    );
    let out = check(&[other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));

    // No reason: the spec does not load.
    let missing = variant("no-reason", "NET001", "  suppressions:\n    - { code: NET001 }\n");
    let out = check(&[missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("reason"), "{}", stdout(&out));

    // A token reason is not a reason.
    let short =
        variant("short-reason", "NET001", "  suppressions:\n    - { code: NET001, reason: ok }\n");
    let out = check(&[short.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("error[SPEC008]") && text.contains("has 2 characters"), "{text}");
    // The rules still ran, and the finding is not silenced by the unusable suppression.
    assert!(text.contains("error[NET001]") && !text.contains("(suppressed)"), "{text}");
}

#[test]
fn cli_codes_are_case_insensitive_and_unknown_ones_are_usage_errors() {
    let path = fixture("OPS001", "fail.yaml");
    let out = check(&[&path, "--allow", "ops001"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("(suppressed)"), "{}", stdout(&out));
    let out = check(&[&path, "--deny", "ops001"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("error[OPS001]"), "{}", stdout(&out));
    let out = check(&[&path, "--deny", "Warnings"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    for (flag, code) in [("--allow", "OPS999"), ("--deny", "FOO"), ("--allow", "warnings")] {
        let out = check(&[&path, flag, code]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{flag} {code}: {err}");
        assert!(err.contains(&format!("unknown code `{code}` in {flag}")), "{err}");
        assert!(stdout(&out).is_empty(), "nothing is checked on a usage error");
    }
    let out = check(&[&path, "--allow", "OPS0001"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("did you mean `OPS001`?"), "{err}");
}

#[test]
fn stale_suppressions_are_reported_where_they_stand() {
    let path = variant(
        "stale",
        "NET001",
        "  suppressions:\n    - { code: OPS001, reason: \"Two-person team until the March hire\" }\n",
    );
    let out = check(&[path.to_str().unwrap(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let stale = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "SUP001")
        .expect("SUP001 reported");
    assert_eq!(stale["severity"], "warning");
    assert!(stale["line"].as_u64().is_some_and(|l| l > 1), "{stale}");
}

#[test]
fn app_level_suppression_object() {
    let reason = "The shop's mail relay allow-lists the whole provider range for now.";
    let path = variant(
        "app-object",
        "EGR001",
        &format!(
            "  suppressions:\n    - {{ code: EGR001, object: app/shop/web, reason: \"{reason}\" }}\n"
        ),
    );
    let out = check(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn explain_shows_every_rule() {
    let out = hafen(&["explain", "--list"]);
    assert_eq!(out.status.code(), Some(0));
    let list = stdout(&out);
    for code in
        ["NET001", "EGR001", "TOP002", "HW002", "CAP011", "SEC001", "SOV001", "OPS004", "VER001"]
    {
        assert!(list.lines().any(|l| l.starts_with(code)), "{code} missing from --list");
    }
    let rules = fs::read_dir(root().join("tests/rules"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .count();
    assert!(list.lines().count() >= rules, "every rule is listed");

    let out = hafen(&["explain", "sov001"]);
    assert_eq!(out.status.code(), Some(0));
    let page = stdout(&out);
    assert!(page.starts_with("# SOV001: "), "{page}");
    assert!(page.contains("## The incident behind it") && page.contains("## Fix"));

    let out = hafen(&["explain", "XYZ999"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn examples_raise_no_unsuppressed_findings() {
    for entry in fs::read_dir(root().join("examples")).unwrap().flatten() {
        let spec = entry.path().join("platform.yaml");
        if !spec.exists() {
            continue;
        }
        let out = check(&[spec.to_str().unwrap(), "--format", "json"]);
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let summary = &doc["summary"];
        assert_eq!(
            (summary["errors"].as_u64(), summary["warnings"].as_u64(), summary["infos"].as_u64()),
            (Some(0), Some(0), Some(0)),
            "{}: {}",
            spec.display(),
            stdout(&out)
        );
    }
}

#[test]
fn no_output_of_any_format_quotes_a_credential_written_into_a_url() {
    let secrets = ["hunter2xyz", "wJalrSecretKey", "endpointPass99", "AKIAEXAMPLEKEY"];
    let base = fs::read_to_string(root().join("tests/rules/base.yaml")).expect("base");
    let text = base
        .replace(
            "gitops: { repo: ssh://git@git.example.eu/platform/fixture.git }",
            "gitops: { repo: 'https://deploy:hunter2xyz@github.com/acme/p.git', branch: main }",
        )
        .replacen(
            "      registryMirror: https://registry.example.eu\n",
            "      registryMirror: https://registry.example.eu\n      backups: { target: 's3://AKIAEXAMPLEKEY:wJalrSecretKey@bucket/x', endpoint: 'https://svc:endpointPass99@fsn1.your-objectstorage.com', site: fsn, lastRestoreTest: 2026-11-01 }\n",
            1,
        );
    assert!(text.contains("hunter2xyz") && text.contains("endpointPass99"), "variant applied");
    let dir = std::env::temp_dir().join(format!("hafen-secret-test-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("platform.yaml");
    fs::write(&path, text).expect("write");
    let path = path.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["check", path, "--as-of", "2026-11-22"],
        vec!["check", path, "--as-of", "2026-11-22", "--format", "json"],
        vec!["plan", path, "--format", "json"],
        vec!["check", path, "--as-of", "2026-11-22", "--format", "sarif"],
        vec!["plan", path],
        vec!["plan", path, "--format", "markdown"],
    ];
    let mut checked = 0;
    for args in runs {
        let out = hafen(&args);
        let all = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
        for secret in secrets {
            assert!(!all.contains(secret), "`hafen {}` prints {secret}:\n{all}", args.join(" "));
        }
        if args[0] == "check" {
            // The findings are there, only the secret is not: SEC003 and SOV006 both point at it.
            assert!(all.contains("SEC003") && all.contains("SOV006"), "{all}");
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
}

#[test]
fn a_folder_is_read_with_its_subfolders() {
    let dir = std::env::temp_dir().join(format!("hafen-check-tree-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("tenants")).expect("temp dir");
    let base = fs::read_to_string(root().join("tests/rules/base.yaml")).expect("base");
    fs::write(dir.join("platform.yaml"), base).expect("write");
    // A tenant in a subfolder that names a cluster the platform does not have: skipped, the
    // folder would pass; read, it is an error.
    fs::write(
        dir.join("tenants").join("crm.yaml"),
        "apiVersion: hafen.dev/v1alpha1\nkind: Tenant\nmetadata: { name: crm }\nspec:\n  clusters: [prod-ams]\n",
    )
    .expect("write");
    let out = check(&[&dir.display().to_string(), "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let codes: Vec<&str> = json["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(codes.contains(&"SPEC006"), "{codes:?}");
    let file = json["diagnostics"][0]["file"].as_str().unwrap_or("");
    assert!(file.ends_with("tenants/crm.yaml"), "{file}");
    fs::remove_dir_all(&dir).expect("clean up");
}
