//! Path safety: whatever names reach the renderer, no file lands outside the output folder.
//! The loader already rejects names that are not DNS labels; these tests bypass it and feed
//! hostile names straight into the renderer, whose own guard must refuse them loudly.

mod support;

use hafen_render::{codes, is_safe_relative_path};

const HOSTILE: &[&str] = &[
    "../escape",
    "../../etc/cron.d/x",
    "a/../../b",
    "/abs",
    "..",
    "x\\y",
    "c:/win",
    "",
    "new\nline",
    "./dot",
];

#[test]
fn hostile_names_never_produce_a_path_outside_the_output() {
    let case = support::cases()
        .into_iter()
        .find(|c| c.name == "examples/two-stack-hetzner")
        .expect("example");
    type Mutation = fn(&mut hafen_spec::PlatformSpec, &str);
    let places: &[(&str, Mutation)] = &[
        ("tenant", |s, n| s.tenants[0].name = n.into()),
        ("app", |s, n| s.tenants[0].apps[0].name = n.into()),
        ("cluster", |s, n| s.clusters[0].name = n.into()),
        ("pool", |s, n| s.clusters[1].node_pools[0].name = n.into()),
        ("gitops path", |s, n| s.gitops.path = n.into()),
        ("tenant cluster list", |s, n| s.tenants[1].clusters = vec![n.into()]),
    ];
    for (place, mutate) in places {
        for name in HOSTILE {
            let (mut loaded, _) = support::load(&case.name, &case.text);
            mutate(&mut loaded.platform.spec, name);
            match hafen_render::render(&loaded) {
                Ok(repo) => {
                    for path in repo.files.keys() {
                        assert!(
                            is_safe_relative_path(path),
                            "{place} = {name:?}: unsafe path {path:?} was rendered"
                        );
                    }
                }
                Err(diagnostics) => {
                    assert!(!diagnostics.is_empty());
                    if name.contains("..")
                        && *place != "tenant cluster list"
                        && *place != "gitops path"
                    {
                        assert!(
                            diagnostics.iter().any(|d| d.code == codes::UNSAFE_PATH),
                            "{place} = {name:?}: refused, but not as an unsafe path: {:?}",
                            diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_hostile_gitops_path_is_refused_with_a_located_diagnostic() {
    let case = support::cases()
        .into_iter()
        .find(|c| c.name == "examples/two-stack-hetzner")
        .expect("example");
    let (mut loaded, _) = support::load(&case.name, &case.text);
    loaded.platform.spec.gitops.path = "../../outside".into();
    let diagnostics = hafen_render::render(&loaded).expect_err("refused");
    assert!(
        diagnostics
            .iter()
            .any(|d| d.code == codes::UNSAFE_PATH && d.path.as_deref() == Some("spec.gitops.path"))
    );
}
