//! No secret value ever reaches the rendered repository: the spec holds references only, and
//! a value smuggled into any field that flows into the output fails the render with a
//! diagnostic located at that field.

mod support;

use hafen_render::codes;

/// Values planted in the fixtures and tests below; none may appear in any output or message.
const KNOWN_SECRETS: &[&str] =
    &["gh0stT0kenXy12", "Hunter2Secret99", "Sup3rS3cretVal9", "AKIAQ7EXAMPLE9KEY"];

/// Every YAML document of a rendered file that is a `Secret` must be SOPS-encrypted.
fn plaintext_secrets(path: &str, text: &str) -> Vec<String> {
    if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
        return Vec::new();
    }
    let (docs, _) = hafen_yaml::parse(text, hafen_diag::FileId(0), &hafen_yaml::Limits::default());
    docs.iter()
        .map(hafen_yaml::Node::to_json)
        .filter(|doc| doc.get("kind").and_then(|k| k.as_str()) == Some("Secret"))
        .filter(|doc| {
            (doc.get("data").is_some() || doc.get("stringData").is_some())
                && doc.get("sops").is_none()
        })
        .map(|doc| {
            format!("{path}: Secret {}", doc.pointer("/metadata/name").cloned().unwrap_or_default())
        })
        .collect()
}

#[test]
fn no_rendered_file_of_any_case_holds_a_secret_value_or_a_plaintext_secret() {
    let mut problems = Vec::new();
    let mut rendered = 0;
    for case in support::cases() {
        let (loaded, sources) = support::load(&case.name, &case.text);
        match hafen_render::render(&loaded) {
            Ok(repo) => {
                rendered += 1;
                for (path, text) in &repo.files {
                    for secret in KNOWN_SECRETS {
                        if text.contains(secret) {
                            problems
                                .push(format!("{}: {path} holds a known secret value", case.name));
                        }
                    }
                    problems.extend(
                        plaintext_secrets(path, text)
                            .into_iter()
                            .map(|p| format!("{}: {p}", case.name)),
                    );
                }
            }
            Err(diagnostics) => {
                let text = hafen_diag::human::render(&diagnostics, &sources, false);
                for d in &diagnostics {
                    for secret in KNOWN_SECRETS {
                        if d.message.contains(secret) || d.help.iter().any(|h| h.contains(secret)) {
                            problems.push(format!(
                                "{}: a diagnostic message repeats a secret value",
                                case.name
                            ));
                        }
                    }
                }
                assert!(!text.is_empty());
            }
        }
    }
    assert!(rendered >= 4, "only {rendered} cases rendered");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn credentials_in_urls_fail_the_render_at_the_field_that_holds_them() {
    let case = support::cases()
        .into_iter()
        .find(|c| c.name == "fixtures/error-secret-in-url")
        .expect("fixture");
    let (loaded, _) = support::load(&case.name, &case.text);
    let diagnostics = hafen_render::render(&loaded).expect_err("must fail");
    let paths: Vec<&str> = diagnostics
        .iter()
        .filter(|d| d.code == codes::SECRET_IN_OUTPUT)
        .filter_map(|d| d.path.as_deref())
        .collect();
    assert!(paths.contains(&"spec.gitops.repo"), "{paths:?}");
    assert!(paths.contains(&"spec.clusters[0].registryMirror"), "{paths:?}");
    assert!(
        diagnostics.iter().filter(|d| d.code == codes::SECRET_IN_OUTPUT).all(|d| d.span.is_some())
    );
}

type Mutation = Box<dyn Fn(&mut hafen_spec::PlatformSpec)>;

/// Fields the loader does not inspect for secrets, each given a credential-bearing value.
#[test]
fn a_secret_in_any_output_field_is_caught_by_the_guard() {
    let case = support::cases()
        .into_iter()
        .find(|c| c.name == "examples/two-stack-hetzner")
        .expect("example");
    let mutations: Vec<(&str, Mutation)> = vec![
        (
            "acme",
            Box::new(|s| {
                if let Some(c) = s.clusters[0].certificates.as_mut() {
                    c.acme_server = Some("https://acct:Sup3rS3cretVal9@acme.example.eu/dir".into());
                }
            }),
        ),
        (
            "backup endpoint",
            Box::new(|s| {
                if let Some(b) = s.clusters[0].backups.as_mut() {
                    b.endpoint =
                        Some("https://AKIAQ7EXAMPLE9KEY:Sup3rS3cretVal9@s3.example.eu".into());
                }
            }),
        ),
        (
            "openbao address",
            Box::new(|s| {
                s.clusters[1].secrets.address =
                    Some("https://root:Sup3rS3cretVal9@bao.example.eu".into());
            }),
        ),
        (
            "app env, past the loader",
            Box::new(|s| {
                s.tenants[0].apps[0].env.insert("SMTP_PASSWORD".into(), "Sup3rS3cretVal9".into());
            }),
        ),
        (
            "image with credentials",
            Box::new(|s| {
                s.tenants[0].apps[0].image =
                    "https://user:Sup3rS3cretVal9@registry.example.eu/x:1".into();
            }),
        ),
    ];
    for (what, mutate) in mutations {
        let (mut loaded, _) = support::load(&case.name, &case.text);
        mutate(&mut loaded.platform.spec);
        match hafen_render::render(&loaded) {
            Ok(_) => panic!("{what}: a secret value was rendered"),
            Err(diagnostics) => {
                assert!(
                    diagnostics.iter().any(|d| d.code == codes::SECRET_IN_OUTPUT),
                    "{what}: {:?}",
                    diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
                );
                for d in &diagnostics {
                    assert!(
                        !d.message.contains("Sup3rS3cretVal9"),
                        "{what}: the message repeats the value"
                    );
                }
            }
        }
    }
}
