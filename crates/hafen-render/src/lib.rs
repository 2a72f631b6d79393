//! The renderer: platform in, repository out, as an ordered map of relative path → bytes.
//!
//! Rendering is pure and deterministic: the same platform gives the same bytes. Paths are built
//! only from validated DNS-label names and fixed segments, and [`Repo::insert`] refuses any
//! path that could leave the output folder; a refused path fails the render with a diagnostic
//! instead of silently dropping a file. Before anything is returned, every file is scanned for
//! secret values (see [`guard`]).
//!
//! Layout of the rendered repository (explained to its readers in the rendered `README.md`):
//! `management/` for the Cluster API management cluster, `clusters/<cluster>/` per workload
//! cluster (delivery objects and platform components), `tenants/<tenant>/` with one shared base
//! and per-cluster overlays, and `bootstrap/` with the files used by hand on day 0.

pub mod components;
mod delivery;
mod docs;
pub mod guard;
mod k3s;
mod management;
mod mesh;
mod out;
mod platform;
mod talos;
mod tenants;

pub use components::{
    Chart, Component, Daemon, DaemonNodes, Endpoint, GitChart, Operator, components,
    daemon_overhead, management_components,
};

use hafen_diag::{CodeInfo, Diagnostic, Severity};
use hafen_spec::{LoadedPlatform, PlatformSpec};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Diagnostic codes of the renderer.
pub mod codes {
    /// An output path would leave the output folder (a renderer bug or a hostile name).
    pub const UNSAFE_PATH: &str = "RENDER001";
    /// A secret value would be written into the repository.
    pub const SECRET_IN_OUTPUT: &str = "RENDER002";
    /// The spec asks for a combination the rendered tools cannot express.
    pub const UNSUPPORTED: &str = "RENDER003";
    /// The spec lacks a fact the rendered objects need.
    pub const MISSING: &str = "RENDER004";
    /// A name collides with a name the platform reserves.
    pub const RESERVED_NAME: &str = "RENDER005";
}

/// Metadata for the codes above.
pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: codes::UNSAFE_PATH,
        severity: Severity::Error,
        summary: "an output path that would leave the output folder",
    },
    CodeInfo {
        code: codes::SECRET_IN_OUTPUT,
        severity: Severity::Error,
        summary: "a secret value that would be committed to the rendered repository",
    },
    CodeInfo {
        code: codes::UNSUPPORTED,
        severity: Severity::Error,
        summary: "a combination the rendered tools (Cluster API, Flux, Argo CD) cannot express",
    },
    CodeInfo {
        code: codes::MISSING,
        severity: Severity::Error,
        summary: "a fact the rendered objects need is missing from the spec",
    },
    CodeInfo {
        code: codes::RESERVED_NAME,
        severity: Severity::Error,
        summary: "a name that collides with a namespace or name the platform itself uses",
    },
];

/// The explanation page of a renderer code (`docs/rules/CODE.md`, embedded).
pub fn explanation(code: &str) -> Option<&'static str> {
    match code {
        "RENDER001" => Some(include_str!("../../../docs/rules/RENDER001.md")),
        "RENDER002" => Some(include_str!("../../../docs/rules/RENDER002.md")),
        "RENDER003" => Some(include_str!("../../../docs/rules/RENDER003.md")),
        "RENDER004" => Some(include_str!("../../../docs/rules/RENDER004.md")),
        "RENDER005" => Some(include_str!("../../../docs/rules/RENDER005.md")),
        _ => None,
    }
}

/// A rendered repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repo {
    /// Relative path (forward slashes) → file content.
    pub files: BTreeMap<String, String>,
}

impl Repo {
    /// Adds a file. Panics never; returns false (and adds nothing) for an unsafe path.
    pub fn insert(&mut self, path: String, content: String) -> bool {
        if !is_safe_relative_path(&path) {
            return false;
        }
        self.files.insert(path, content);
        true
    }
}

pub use hafen_spec::git::is_safe_relative_path;

/// Everything a render step needs: the platform, the output so far, and the diagnostics.
pub(crate) struct Ctx<'a> {
    pub(crate) loaded: &'a LoadedPlatform,
    pub(crate) spec: &'a PlatformSpec,
    pub(crate) platform: &'a str,
    /// Labels added to every rendered object (the spec's `metadata.labels`).
    pub(crate) base_labels: Map<String, Value>,
    /// Sub-folder of the Git repository that holds the rendered output (no slashes at the ends).
    pub(crate) root: String,
    pub(crate) out: out::Out,
    /// Gaps that do not stop the render but leave something to do by hand; listed in README.md.
    pub(crate) open_items: Vec<String>,
    /// The Git URL the delivery engines clone, when it is one they accept.
    pub(crate) repo_url: Option<String>,
    /// Which tenants each cluster runs, shared by the forks.
    pub(crate) placement: std::sync::Arc<tenants::Placement<'a>>,
}

impl<'a> Ctx<'a> {
    /// A context over the same platform with an empty output, for rendering a disjoint part
    /// on another thread; [`Ctx::join`] takes its output back.
    pub(crate) fn fork(&self) -> Ctx<'a> {
        Ctx {
            loaded: self.loaded,
            spec: self.spec,
            platform: self.platform,
            base_labels: self.base_labels.clone(),
            root: self.root.clone(),
            out: out::Out::default(),
            open_items: Vec::new(),
            repo_url: self.repo_url.clone(),
            placement: std::sync::Arc::clone(&self.placement),
        }
    }

    /// Takes back the output of a fork.
    pub(crate) fn join(&mut self, part: Ctx<'a>) {
        self.out.merge(part.out);
        self.open_items.extend(part.open_items);
    }
}

/// Runs `work` over `items` split into two halves on two threads and joins the outputs in
/// order, so the result does not depend on scheduling. Output paths of the halves must be
/// disjoint.
pub(crate) fn in_parallel<'a, T: Sync>(
    ctx: &mut Ctx<'a>,
    items: &[T],
    work: impl Fn(&mut Ctx<'a>, &T) + Sync,
) {
    let mid = items.len().div_ceil(2);
    let (left, right) = items.split_at(mid);
    let forks = [ctx.fork(), ctx.fork()];
    let work = &work;
    let parts: Vec<Option<Ctx<'a>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = forks
            .into_iter()
            .zip([left, right])
            .map(|(mut fork, half)| {
                scope.spawn(move || {
                    for item in half {
                        work(&mut fork, item);
                    }
                    fork
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    for part in parts {
        match part {
            Some(part) => ctx.join(part),
            None => ctx.out.diagnostics.push(Diagnostic::error(
                codes::UNSUPPORTED,
                "internal error: a render worker stopped; nothing was written".to_owned(),
            )),
        }
    }
}

impl Ctx<'_> {
    /// Records an error located at the spec path (or its nearest written ancestor).
    pub(crate) fn error(&mut self, code: &'static str, message: String, path: &str, help: &str) {
        let d = Diagnostic::error(code, message)
            .with_span(self.loaded.spans.nearest(path))
            .with_path(path)
            .with_help(help);
        self.out.diagnostics.push(d);
    }

    /// A folder of the output as the delivery engine sees it inside the Git repository.
    pub(crate) fn git_path(&self, path: &str) -> String {
        if self.root.is_empty() { format!("./{path}") } else { format!("./{}/{path}", self.root) }
    }

    /// Labels of every object, merged with `extra`.
    pub(crate) fn labels(&self, extra: &[(&str, &str)]) -> Map<String, Value> {
        let mut m = self.base_labels.clone();
        for (k, v) in extra {
            m.insert((*k).to_owned(), json!(v));
        }
        m
    }
}

/// Namespaces the platform itself uses on workload clusters; tenants may not take them.
pub(crate) const PLATFORM_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "flux-system",
    "argocd",
    "monitoring",
    "cert-manager",
    "traefik",
    "external-dns",
    "external-secrets",
    "openbao",
    "metallb-system",
    "piraeus-datastore",
    "longhorn-system",
    "local-path-storage",
    "cnpg-system",
    "velero",
];

/// Namespaces of the management cluster besides one per workload cluster.
pub(crate) const MANAGEMENT_NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "flux-system",
    "argocd",
    "capi-system",
    "caph-system",
    "cabpt-system",
    "cacppt-system",
    "cert-manager",
];

/// Renders the platform.
pub fn render(loaded: &LoadedPlatform) -> Result<Repo, Vec<Diagnostic>> {
    let spec = &loaded.platform.spec;
    let mut ctx = Ctx {
        loaded,
        spec,
        platform: &loaded.platform.metadata.name,
        base_labels: loaded
            .platform
            .metadata
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect(),
        root: spec.gitops.path.trim_matches('/').to_owned(),
        out: out::Out::default(),
        open_items: Vec::new(),
        repo_url: None,
        placement: std::sync::Arc::new(tenants::Placement::of(spec)),
    };
    ctx.repo_url = delivery::repo_url(&mut ctx);
    // The loader refuses the same folders (`hafen_spec::git::folder_problem`).
    if let Some(problem) = hafen_spec::git::folder_problem(&spec.gitops.path) {
        ctx.error(
            codes::UNSAFE_PATH,
            format!("the folder `{}` {}", spec.gitops.path, problem.reason),
            "spec.gitops.path",
            &problem.fix,
        );
    }
    check_names(&mut ctx);
    check_cloud_providers(&mut ctx);
    management::render(&mut ctx);
    for (index, cluster) in spec.clusters.iter().enumerate() {
        platform::render(&mut ctx, index, cluster);
        delivery::render_cluster(&mut ctx, index, cluster);
    }
    delivery::render_management(&mut ctx);
    tenants::render(&mut ctx);
    docs::render(&mut ctx);

    let mut diagnostics = std::mem::take(&mut ctx.out.diagnostics);
    let mut repo = Repo::default();
    let files = std::mem::take(&mut ctx.out.files);
    for (path, bytes) in files {
        if !is_safe_relative_path(&path) {
            diagnostics.push(
                Diagnostic::error(
                    codes::UNSAFE_PATH,
                    format!(
                        "refusing to write `{}`: the path would leave the output folder",
                        path.escape_debug()
                    ),
                )
                .with_help(
                    "names become folder names; use DNS labels (lowercase letters, digits, `-`)",
                ),
            );
            continue;
        }
        repo.files.insert(path, bytes);
    }
    diagnostics.extend(guard::scan(loaded, &repo));
    if diagnostics.is_empty() {
        Ok(repo)
    } else {
        hafen_diag::sort(&mut diagnostics);
        Err(diagnostics)
    }
}

/// Clusters with nodes at a cloud provider whose cloud integration Hafen does not render.
///
/// A cloud's servers sit in a provider network that routes only the addresses the provider
/// assigned, so MetalLB's layer-2 announcements reach no one there; load balancers, block
/// volumes and node addresses come from the provider's cloud controller and CSI driver. Hafen
/// renders those for Hetzner Cloud only; anything else would be rendered as bare metal and
/// look complete while no Service of type LoadBalancer ever gets an address.
fn check_cloud_providers(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    for (i, cluster) in spec.clusters.iter().enumerate() {
        for site in cluster.sites() {
            let Some(provider) = spec.site_provider(site) else { continue };
            if provider.type_ == "hetzner-cloud" {
                continue;
            }
            let Some(info) = ctx.loaded.catalog.provider(&provider.type_) else { continue };
            if info.category != hafen_catalog::Category::Cloud {
                continue;
            }
            let path = if cluster.site == site {
                format!("spec.clusters[{i}].site")
            } else if let Some(k) = cluster.control_plane.sites.iter().position(|s| s == site) {
                format!("spec.clusters[{i}].controlPlane.sites[{k}]")
            } else {
                let k = cluster
                    .node_pools
                    .iter()
                    .position(|p| p.site.as_deref() == Some(site))
                    .unwrap_or(0);
                format!("spec.clusters[{i}].nodePools[{k}].site")
            };
            let credentials: Vec<String> =
                provider.credentials.iter().map(|c| format!("`{}`", c.name)).collect();
            ctx.error(
                codes::UNSUPPORTED,
                format!(
                    "cluster `{}` has nodes at site `{site}` of provider `{}` ({}), but Hafen renders the cloud integration (cloud controller with load balancers, CSI volumes) only for Hetzner Cloud: rendered as bare metal, it would get no cloud controller, MetalLB layer-2 addresses the provider network does not route, and no use for {}",
                    cluster.name,
                    provider.name,
                    info.display_name,
                    if credentials.is_empty() {
                        "the provider's API".to_owned()
                    } else {
                        format!("the credential {}", credentials.join(", "))
                    },
                ),
                &path,
                &format!(
                    "run this cluster on Hetzner Cloud (`hetzner-cloud`), Hetzner Robot (`hetzner-dedicated`) or your own servers (`self-hosted`); or run it on {} outside Hafen (its managed Kubernetes, or its own cloud controller and CSI driver installed by hand) and leave it out of `clusters`",
                    info.display_name
                ),
            );
        }
    }
}

/// Names that would collide with what the platform itself uses.
fn check_names(ctx: &mut Ctx<'_>) {
    let spec = ctx.spec;
    for (i, tenant) in spec.tenants.iter().enumerate() {
        if PLATFORM_NAMESPACES.contains(&tenant.name.as_str()) || tenant.name.starts_with("kube-") {
            ctx.error(
                codes::RESERVED_NAME,
                format!(
                    "tenant `{}` would take the platform namespace of the same name",
                    tenant.name
                ),
                &format!("spec.tenants[{i}].name"),
                "rename the tenant; its name becomes its namespace on every cluster",
            );
        }
    }
    for (i, cluster) in spec.clusters.iter().enumerate() {
        if MANAGEMENT_NAMESPACES.contains(&cluster.name.as_str())
            || cluster.name.starts_with("kube-")
        {
            ctx.error(
                codes::RESERVED_NAME,
                format!(
                    "cluster `{}` would take a namespace of the management cluster",
                    cluster.name
                ),
                &format!("spec.clusters[{i}].name"),
                "rename the cluster; its Cluster API objects live in a namespace of its name",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        let mut repo = Repo::default();
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a/./b",
            "a\\b",
            "c:/x",
            "a/\u{0}b",
            "a/\nb",
            ".",
            "..",
        ] {
            assert!(!repo.insert(bad.into(), String::new()), "{bad:?} was accepted");
        }
        assert!(repo.files.is_empty());
        assert!(repo.insert("clusters/prod/kustomization.yaml".into(), String::new()));
    }
}
