//! Hardware rules.

use crate::{Ctx, RuleFn};
use hafen_diag::{CodeInfo, Diagnostic, Severity};

/// HW001: large memory without ECC.
pub(crate) const HW001: RuleFn = RuleFn {
    info: CodeInfo {
        code: "HW001",
        severity: Severity::Error,
        summary: "server type with 256 GB of memory or more and no ECC",
    },
    run: hw001,
};

fn hw001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let loaded = ctx.loaded;
    let spec = &loaded.platform.spec;
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let mut uses: Vec<(String, &str, String)> = Vec::new();
        if let Some(site) = cluster.control_plane_sites().first() {
            uses.push((
                format!("spec.clusters[{i}].controlPlane.serverType"),
                site,
                "control plane".into(),
            ));
        }
        for (j, pool) in cluster.node_pools.iter().enumerate() {
            uses.push((
                format!("spec.clusters[{i}].nodePools[{j}].serverType"),
                cluster.pool_site(pool),
                format!("node pool `{}`", pool.name),
            ));
        }
        for (path, site, what) in uses {
            let name = if path.ends_with("controlPlane.serverType") {
                &cluster.control_plane.server_type
            } else {
                let j: usize = path
                    .split("nodePools[")
                    .nth(1)
                    .and_then(|r| r.split(']').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                &cluster.node_pools[j].server_type
            };
            let Some(provider) = spec.site_provider(site) else { continue };
            let Some(info) = loaded.catalog.provider(&provider.type_) else { continue };
            let Some(server) = info.server_type(name) else { continue };
            if server.memory_gib >= 256.0 && !server.ecc {
                out.push(
                    Diagnostic::error(
                        "HW001",
                        format!(
                            "{what} of cluster `{}` uses `{name}` with {} GiB of memory and no ECC",
                            cluster.name, server.memory_gib
                        ),
                    )
                    .with_span(loaded.spans.nearest(&path))
                    .with_path(&path)
                    .with_span_label("non-ECC memory at this size")
                    .with_help(format!(
                        "choose a server type with ECC memory at {} (e.g. one of: {})",
                        info.display_name,
                        ecc_alternatives(info, server.memory_gib)
                    )),
                );
            }
        }
    }
}

fn ecc_alternatives(info: &hafen_catalog::ProviderInfo, memory: f64) -> String {
    let mut names: Vec<&str> = info
        .server_types
        .iter()
        .filter(|s| s.ecc && s.memory_gib >= memory * 0.5)
        .map(|s| s.name.as_str())
        .collect();
    names.truncate(4);
    if names.is_empty() { "none in the catalogue; declare one".into() } else { names.join(", ") }
}
