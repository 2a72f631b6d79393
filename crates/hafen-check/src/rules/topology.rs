//! Topology and quorum rules.

use crate::{Ctx, RuleFn};
use hafen_diag::{CodeInfo, Diagnostic, Severity};
use hafen_spec::Environment;

/// TOP001: control-plane replica count that cannot keep etcd quorum.
pub(crate) const TOP001: RuleFn = RuleFn {
    info: CodeInfo {
        code: "TOP001",
        severity: Severity::Error,
        summary: "control plane with an even number of nodes, or fewer than 3 in production",
    },
    run: top001,
};

fn top001(ctx: &Ctx<'_>, out: &mut Vec<Diagnostic>) {
    let spec = &ctx.loaded.platform.spec;
    let spans = &ctx.loaded.spans;
    for (i, cluster) in spec.clusters.iter().enumerate() {
        let replicas = cluster.control_plane.replicas;
        let production = cluster.environment(spec) == Environment::Production;
        let path = format!("spec.clusters[{i}].controlPlane.replicas");
        if replicas % 2 == 0 && replicas > 0 {
            let tolerated = (replicas - 1) / 2;
            out.push(
                Diagnostic::error(
                    "TOP001",
                    format!("cluster `{}` has {replicas} control-plane nodes, an even etcd membership", cluster.name),
                )
                .with_span(spans.nearest(&path))
                .with_path(&path)
                .with_span_label(format!("tolerates {tolerated} failure(s), like {}", replicas - 1))
                .with_help(format!(
                    "use {} control-plane nodes: the extra member adds failure exposure without adding tolerance",
                    replicas + 1
                )),
            );
        } else if production && replicas < 3 {
            out.push(
                Diagnostic::error(
                    "TOP001",
                    format!("production cluster `{}` has {replicas} control-plane node(s); one failure stops the API", cluster.name),
                )
                .with_span(spans.nearest(&path))
                .with_path(&path)
                .with_span_label("no etcd quorum after one failure")
                .with_help("use 3 control-plane nodes, or mark the cluster `environment: development`"),
            );
        }
    }
}
