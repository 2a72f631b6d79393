//! Every object the delivery engines apply lands in a namespace that exists by then, and every
//! Namespace has exactly one owner.
//!
//! Flux applies each `Kustomization` on its own: an object whose namespace is created by a
//! Kustomization that is not among its (transitive) `dependsOn` fails with "namespace not
//! found", and with `dependsOn` chains nothing after it is applied (the platform deadlocks).
//! Argo CD orders the Applications of one app-of-apps by sync wave, so an Application may rely
//! on namespaces of Applications in earlier waves of the same destination only; the
//! Applications an ApplicationSet generates are not ordered against anything. Two units
//! applying one Namespace would fight over it (and pruning either deletes everything in it).
//!
//! The build below is the part of kustomize these repositories use: `resources` (files and
//! folders, `..` allowed), and a folder without `kustomization.yaml` read as its YAML files
//! (Flux generates one that way). A folder of SOPS files, which Hafen does not write, is read
//! from its `README.md`: every "Secret `x` in `ns`" it asks for.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

type Files = BTreeMap<String, String>;

fn docs(text: &str) -> Vec<Value> {
    let (nodes, _) = hafen_yaml::parse(text, hafen_diag::FileId(0), &hafen_yaml::Limits::default());
    nodes.iter().map(hafen_yaml::Node::to_json).filter(|d| d.is_object()).collect()
}

/// `a/b` joined with `../c` → `a/c`.
fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() { Vec::new() } else { dir.split('/').collect() };
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

fn is_dir(files: &Files, path: &str) -> bool {
    let prefix = format!("{path}/");
    files.keys().any(|k| k.starts_with(&prefix))
}

/// The objects `kustomize build dir` yields (patches cannot add objects and are ignored).
fn build(files: &Files, dir: &str, problems: &mut Vec<String>) -> Vec<Value> {
    let kustomization = format!("{dir}/kustomization.yaml");
    let Some(text) = files.get(&kustomization) else {
        // Flux's generated kustomization: every YAML file below the folder.
        let prefix = format!("{dir}/");
        let mut out = Vec::new();
        for (path, text) in files.range(prefix.clone()..) {
            if !path.starts_with(&prefix) {
                break;
            }
            if path.ends_with(".yaml") {
                out.extend(docs(text));
            } else if path == &format!("{dir}/README.md") {
                out.extend(sops_expected(text));
            }
        }
        if out.is_empty() && !is_dir(files, dir) {
            problems.push(format!("`{dir}` is applied but not rendered"));
        }
        return out;
    };
    let mut out = Vec::new();
    let resources = docs(text)
        .first()
        .and_then(|k| k.get("resources").cloned())
        .and_then(|r| r.as_array().cloned())
        .unwrap_or_default();
    for r in resources {
        let Some(r) = r.as_str() else { continue };
        let path = join(dir, r);
        if is_dir(files, &path) {
            out.extend(build(files, &path, problems));
        } else if let Some(text) = files.get(&path) {
            out.extend(docs(text));
        } else {
            problems.push(format!("{kustomization} names `{r}`, which is not rendered"));
        }
    }
    out
}

/// The Secrets a SOPS folder's README asks for, as stand-in objects in their namespaces.
fn sops_expected(readme: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for line in readme.lines().filter(|l| l.starts_with("- ")) {
        let quoted: Vec<&str> = line.split('`').collect();
        // "- `file`: Secret `name` in `ns` (…)" or "… Secret `name` in namespace `ns` …".
        for (i, part) in quoted.iter().enumerate() {
            if part.trim_end().ends_with("Secret")
                && let (Some(name), Some(glue), Some(ns)) =
                    (quoted.get(i + 1), quoted.get(i + 2), quoted.get(i + 3))
                && matches!(glue.trim(), "in" | "in namespace")
            {
                out.push(serde_json::json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": { "name": name, "namespace": ns },
                }));
            }
        }
    }
    out
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn kind_is(v: &Value, api_group: &str, kind: &str) -> bool {
    str_at(v, "/kind") == Some(kind)
        && str_at(v, "/apiVersion").is_some_and(|a| a.starts_with(&format!("{api_group}/")))
}

/// One delivery unit: what it applies and after which units.
struct Unit {
    name: String,
    objects: Vec<Value>,
    /// Namespaces the engine creates for the unit besides its Namespace objects.
    extra_namespaces: Vec<String>,
}

impl Unit {
    fn created(&self) -> BTreeSet<String> {
        self.objects
            .iter()
            .filter(|o| str_at(o, "/kind") == Some("Namespace"))
            .filter_map(|o| str_at(o, "/metadata/name").map(str::to_owned))
            .chain(self.extra_namespaces.iter().cloned())
            .collect()
    }

    fn needed(&self) -> BTreeSet<(String, String)> {
        self.objects
            .iter()
            .filter_map(|o| {
                let ns = str_at(o, "/metadata/namespace")?;
                let what = format!(
                    "{} {}",
                    str_at(o, "/kind").unwrap_or("?"),
                    str_at(o, "/metadata/name").unwrap_or("?")
                );
                Some((ns.to_owned(), what))
            })
            .collect()
    }
}

/// Checks one engine instance (one cluster's Flux, or one Argo CD destination): `before(u)`
/// are the units applied before `u` is.
fn check(
    instance: &str,
    units: &[Unit],
    preexisting: &[&str],
    before: impl Fn(usize) -> Vec<usize>,
    problems: &mut Vec<String>,
) {
    let mut owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for u in units {
        for ns in u.created() {
            owners.entry(ns).or_default().push(&u.name);
        }
    }
    for (ns, who) in &owners {
        if who.len() > 1 {
            problems.push(format!("{instance}: Namespace `{ns}` is applied by {}", who.join(", ")));
        }
    }
    for (i, u) in units.iter().enumerate() {
        let mut available: BTreeSet<String> = preexisting.iter().map(|s| (*s).to_owned()).collect();
        available.extend(u.created());
        for j in before(i) {
            available.extend(units[j].created());
        }
        for (ns, what) in u.needed() {
            if !available.contains(&ns) {
                let owner = owners.get(&ns).map_or_else(
                    || "nothing".to_owned(),
                    |o| format!("`{}`, which it does not wait for", o.join("`, `")),
                );
                problems.push(format!(
                    "{instance}: `{}` applies {what} into namespace `{ns}`, created by {owner}",
                    u.name
                ));
            }
        }
    }
}

/// Namespaces a workload cluster has before its engine applies anything.
const KUBERNETES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

fn flux_instances(files: &Files, root: &str, problems: &mut Vec<String>) -> usize {
    let entries: Vec<&String> = files
        .keys()
        .filter(|p| {
            p.as_str() == "management/delivery/sync.yaml"
                || (p.starts_with("clusters/") && p.ends_with("/flux/sync.yaml"))
        })
        .collect();
    for entry in &entries {
        let mut units: Vec<Unit> = Vec::new();
        let mut depends: Vec<Vec<String>> = Vec::new();
        let mut queue: Vec<Value> = docs(&files[*entry]);
        while let Some(k) = queue.pop() {
            if !kind_is(&k, "kustomize.toolkit.fluxcd.io", "Kustomization") {
                continue;
            }
            let name = str_at(&k, "/metadata/name").unwrap_or_default().to_owned();
            if units.iter().any(|u| u.name == name) {
                continue;
            }
            let path = str_at(&k, "/spec/path").unwrap_or_default().trim_start_matches("./");
            let path = path.strip_prefix(root).unwrap_or(path).trim_start_matches('/');
            let objects = build(files, path, problems);
            queue.extend(objects.iter().cloned());
            let deps = k
                .pointer("/spec/dependsOn")
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(|x| str_at(x, "/name").map(str::to_owned)).collect())
                .unwrap_or_default();
            depends.push(deps);
            units.push(Unit { name, objects, extra_namespaces: Vec::new() });
        }
        let index: BTreeMap<&str, usize> =
            units.iter().enumerate().map(|(i, u)| (u.name.as_str(), i)).collect();
        for (i, deps) in depends.iter().enumerate() {
            for d in deps {
                if !index.contains_key(d.as_str()) {
                    problems.push(format!(
                        "{entry}: `{}` depends on `{d}`, which no Kustomization of this cluster is",
                        units[i].name
                    ));
                }
            }
        }
        let before = |i: usize| {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<usize> =
                depends[i].iter().filter_map(|d| index.get(d.as_str()).copied()).collect();
            while let Some(j) = stack.pop() {
                if seen.insert(j) {
                    stack.extend(depends[j].iter().filter_map(|d| index.get(d.as_str()).copied()));
                }
            }
            seen.into_iter().collect()
        };
        let mut pre = KUBERNETES.to_vec();
        pre.push("flux-system");
        check(entry, &units, &pre, before, problems);
    }
    entries.len()
}

fn argo_instances(files: &Files, root: &str, problems: &mut Vec<String>) -> usize {
    if !files.contains_key("management/delivery/management.yaml") {
        return 0;
    }
    // (destination, wave or None for an unordered Application, unit)
    let mut units: Vec<(String, Option<i64>, Unit)> = Vec::new();
    let unit = |name: String, spec: &Value, problems: &mut Vec<String>| {
        let mut objects = Vec::new();
        if let Some(path) = str_at(spec, "/source/path") {
            let path = path.strip_prefix(root).unwrap_or(path).trim_start_matches('/');
            objects = build(files, path, problems);
        } else if str_at(spec, "/source/chart").is_some() {
            // The chart's objects go into the destination namespace.
            objects.push(serde_json::json!({
                "kind": "HelmChart", "metadata": {
                    "name": str_at(spec, "/source/chart"),
                    "namespace": str_at(spec, "/destination/namespace"),
                },
            }));
        }
        let create = spec
            .pointer("/syncPolicy/syncOptions")
            .and_then(Value::as_array)
            .is_some_and(|o| o.iter().any(|x| x.as_str() == Some("CreateNamespace=true")));
        let extra_namespaces = str_at(spec, "/destination/namespace")
            .filter(|_| create)
            .map(|n| vec![n.to_owned()])
            .unwrap_or_default();
        Unit { name, objects, extra_namespaces }
    };
    for o in build(files, "management", problems) {
        let name = str_at(&o, "/metadata/name").unwrap_or_default().to_owned();
        if kind_is(&o, "argoproj.io", "Application") {
            let wave = str_at(&o, "/metadata/annotations/argocd.argoproj.io~1sync-wave")
                .map_or(0, |w| w.parse().unwrap_or(0));
            let dest = str_at(&o, "/spec/destination/name").unwrap_or_default().to_owned();
            let u = unit(name, &o["spec"], problems);
            units.push((dest, Some(wave), u));
        } else if kind_is(&o, "argoproj.io", "ApplicationSet") {
            let template = o.pointer("/spec/template").cloned().unwrap_or_default();
            let elements = o
                .pointer("/spec/generators/0/list/elements")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for e in elements {
                let mut text = serde_json::to_string(&template).unwrap_or_default();
                for (k, v) in e.as_object().into_iter().flatten() {
                    text = text.replace(&format!("{{{{ .{k} }}}}"), v.as_str().unwrap_or(""));
                }
                let t: Value = serde_json::from_str(&text).unwrap_or_default();
                let dest = str_at(&t, "/spec/destination/name").unwrap_or_default().to_owned();
                let name = str_at(&t, "/metadata/name").unwrap_or_default().to_owned();
                let u = unit(name, &t["spec"], problems);
                units.push((dest, None, u));
            }
        }
    }
    let dests: BTreeSet<String> = units.iter().map(|(d, _, _)| d.clone()).collect();
    for dest in &dests {
        let mine: Vec<&(String, Option<i64>, Unit)> =
            units.iter().filter(|(d, _, _)| d == dest).collect();
        let waves: Vec<Option<i64>> = mine.iter().map(|(_, w, _)| *w).collect();
        let here: Vec<Unit> = mine
            .iter()
            .map(|(_, _, u)| Unit {
                name: u.name.clone(),
                objects: u.objects.clone(),
                extra_namespaces: u.extra_namespaces.clone(),
            })
            .collect();
        let before = |i: usize| match waves[i] {
            None => Vec::new(),
            Some(w) => (0..waves.len()).filter(|j| waves[*j].is_some_and(|v| v < w)).collect(),
        };
        let mut pre = KUBERNETES.to_vec();
        if dest == "in-cluster" {
            pre.push("argocd");
        }
        check(&format!("Argo CD destination `{dest}`"), &here, &pre, before, problems);
    }
    dests.len()
}

fn check_case(name: &str, text: &str) -> Option<(usize, Vec<String>)> {
    let (loaded, _) = support::load(name, text);
    let repo = hafen_render::render(&loaded).ok()?;
    let root = loaded.platform.spec.gitops.path.trim_matches('/').to_owned();
    let mut problems = Vec::new();
    let instances = flux_instances(&repo.files, &root, &mut problems)
        + argo_instances(&repo.files, &root, &mut problems);
    Some((instances, problems.into_iter().map(|p| format!("{name}: {p}")).collect()))
}

#[test]
fn every_applied_object_finds_its_namespace_and_every_namespace_has_one_owner() {
    let mut cases: Vec<(String, String)> =
        support::cases().into_iter().map(|c| (c.name, c.text)).collect();
    // The Flux example delivered by Argo CD: the same platform in sync waves.
    let two = cases
        .iter()
        .find(|(n, _)| n == "examples/two-stack-hetzner")
        .map(|(_, t)| t.replace("engine: flux", "engine: argocd"))
        .expect("the two-stack example");
    cases.push(("examples/two-stack-hetzner (Argo CD)".into(), two));
    let mut problems = Vec::new();
    let mut rendered = 0;
    let mut instances = 0;
    for (name, text) in &cases {
        if let Some((n, p)) = check_case(name, text) {
            rendered += 1;
            instances += n;
            assert!(n > 0, "{name}: no Flux entry point and no Argo CD Application found");
            problems.extend(p);
        }
    }
    assert!(rendered >= 6, "only {rendered} cases render");
    assert!(instances >= 10, "only {instances} engine instances checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_a_namespace_created_by_a_later_layer_or_twice() {
    // The shape of the old secrets layer: an ExternalSecret in `velero` applied before the
    // controllers layer that created `velero`.
    let mut files = Files::new();
    let k = |name: &str, path: &str, deps: &[&str]| {
        let deps: Vec<String> = deps.iter().map(|d| format!("{{name: {d}}}")).collect();
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {{name: {name}, namespace: flux-system}}\nspec: {{path: ./{path}, dependsOn: [{}]}}\n",
            deps.join(", ")
        )
    };
    files.insert(
        "clusters/c/flux/sync.yaml".into(),
        [k("secrets", "s", &[]), k("controllers", "c", &["secrets"]), k("again", "a", &[])]
            .join("---\n"),
    );
    files.insert(
        "s/es.yaml".into(),
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: velero-s3, namespace: velero}\n".into(),
    );
    let ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: velero}\n";
    files.insert("c/ns.yaml".into(), ns.into());
    files.insert("a/ns.yaml".into(), ns.into());
    let mut problems = Vec::new();
    assert_eq!(flux_instances(&files, "", &mut problems), 1);
    assert!(
        problems
            .iter()
            .any(|p| p
                .contains("`secrets` applies ExternalSecret velero-s3 into namespace `velero`")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("Namespace `velero` is applied by")),
        "{problems:?}"
    );
    // The SOPS README names its Secrets' namespaces.
    let readme = "- `velero-s3.sops.yaml`: Secret `velero-s3` in `velero` (key `cloud`)\n- `a.sops.yaml`: Secret `a-secrets` in namespace `shop` with keys `X`\n";
    let expected: Vec<String> = sops_expected(readme)
        .iter()
        .filter_map(|o| str_at(o, "/metadata/namespace").map(str::to_owned))
        .collect();
    assert_eq!(expected, ["velero", "shop"]);
}
