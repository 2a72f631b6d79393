//! Text and Markdown renderings of the plan: the same tables, padded for a terminal or piped
//! for a pull request. Long lists are summarised; the JSON form always has everything.

use crate::report::{Report, ScenarioResult};
use std::fmt::Write;

struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    fn new(head: &[&str]) -> Table {
        Table {
            head: head.iter().map(|s| (*s).to_owned()).collect(),
            rows: Vec::new(),
            right: vec![false; head.len()],
        }
    }
    fn right(mut self, cols: &[usize]) -> Table {
        for &c in cols {
            if let Some(r) = self.right.get_mut(c) {
                *r = true;
            }
        }
        self
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    fn text(&self) -> String {
        let n = self.head.len();
        let mut w: Vec<usize> = self.head.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                w[i] = w[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String| {
            let mut s = String::from("  ");
            for (i, width) in w.iter().enumerate() {
                let c = cells.get(i).map(String::as_str).unwrap_or("");
                let pad = width.saturating_sub(c.chars().count());
                if self.right[i] {
                    s.push_str(&" ".repeat(pad));
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    if i + 1 < n {
                        s.push_str(&" ".repeat(pad));
                    }
                }
                if i + 1 < n {
                    s.push_str("  ");
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        line(&self.head, &mut out);
        let rule: Vec<String> = w.iter().map(|&x| "─".repeat(x)).collect();
        line(&rule, &mut out);
        for r in &self.rows {
            line(r, &mut out);
        }
        out
    }
    fn markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|");
        let mut out =
            format!("| {} |\n|", self.head.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | "));
        for &r in &self.right {
            out.push_str(if r { " ---: |" } else { " --- |" });
        }
        out.push('\n');
        for r in &self.rows {
            let _ =
                writeln!(out, "| {} |", r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | "));
        }
        out
    }
}

fn cores(m: u64) -> String {
    format!("{:.1}", m as f64 / 1000.0)
}

fn gib(mib: u64) -> String {
    format!("{:.1}", mib as f64 / 1024.0)
}

fn eur(x: f64) -> String {
    let s = format!("{:.2}", x.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{}{grouped}.{frac}", if x < 0.0 { "-" } else { "" })
}

fn short(list: &[String], max: usize) -> String {
    if list.len() <= max {
        list.join(", ")
    } else {
        format!("{} (+{} more)", list[..max].join(", "), list.len() - max)
    }
}

enum Style {
    Text,
    Markdown,
}

struct Doc {
    style: Style,
    out: String,
}

impl Doc {
    fn h1(&mut self, t: &str) {
        match self.style {
            Style::Text => {
                let _ = writeln!(self.out, "{t}\n{}\n", "═".repeat(t.chars().count()));
            }
            Style::Markdown => {
                let _ = writeln!(self.out, "# {t}\n");
            }
        }
    }
    fn h2(&mut self, t: &str) {
        match self.style {
            Style::Text => {
                let _ = writeln!(self.out, "{t}\n{}", "─".repeat(t.chars().count()));
            }
            Style::Markdown => {
                let _ = writeln!(self.out, "## {t}\n");
            }
        }
    }
    fn h3(&mut self, t: &str) {
        match self.style {
            Style::Text => {
                let _ = writeln!(self.out, "\n{t}");
            }
            Style::Markdown => {
                let _ = writeln!(self.out, "### {t}\n");
            }
        }
    }
    fn p(&mut self, t: &str) {
        match self.style {
            Style::Text => {
                let _ = writeln!(self.out, "{t}");
            }
            Style::Markdown => {
                let _ = writeln!(self.out, "{t}\n");
            }
        }
    }
    fn item(&mut self, t: &str) {
        match self.style {
            Style::Text => {
                let _ = writeln!(self.out, "  • {t}");
            }
            Style::Markdown => {
                let _ = writeln!(self.out, "- {t}");
            }
        }
    }
    fn end_list(&mut self) {
        if let Style::Markdown = self.style {
            self.out.push('\n');
        }
    }
    fn table(&mut self, t: &Table) {
        match self.style {
            Style::Text => {
                self.out.push_str(&t.text());
                self.out.push('\n');
            }
            Style::Markdown => {
                self.out.push_str(&t.markdown());
                self.out.push('\n');
            }
        }
    }
    fn code(&mut self, lang: &str, body: &str, summary: &str) {
        match self.style {
            Style::Text => {
                for l in body.lines() {
                    let _ = writeln!(self.out, "    {l}");
                }
                self.out.push('\n');
            }
            Style::Markdown => {
                let _ = writeln!(
                    self.out,
                    "<details><summary>{summary}</summary>\n\n```{lang}\n{}\n```\n\n</details>\n",
                    body.trim_end()
                );
            }
        }
    }
}

fn scenario_detail(d: &mut Doc, s: &ScenarioResult) {
    d.h3(&format!("{} — {}", s.id, s.description));
    if s.failed_node_names.len() > 1 {
        d.p(&format!("Failed nodes: {}", short(&s.failed_node_names, 12)));
    }
    let mut t = Table::new(&[
        "cluster",
        "app",
        "replicas",
        "lost",
        "restarted",
        "unplaced",
        "no data",
        "running",
        "min",
        "state",
    ])
    .right(&[2, 3, 4, 5, 6, 7, 8]);
    let mut broken: Vec<&crate::report::AppImpact> =
        s.apps.iter().filter(|a| a.unplaced > 0 || a.below_budget).collect();
    broken.sort_by(|a, b| b.unplaced.cmp(&a.unplaced).then(a.app.cmp(&b.app)));
    for a in broken.iter().take(25) {
        let state = if let Some(p) = &a.replica_of {
            if a.running == 0 {
                format!("replica cluster of `{p}` lost")
            } else {
                format!("replica cluster of `{p}` degraded")
            }
        } else if a.running == 0 && a.served_elsewhere.is_empty() {
            if a.without_data > 0 { "DOWN, data gone" } else { "DOWN" }.to_owned()
        } else if a.running == 0 && a.kind == "postgres" {
            format!("down here, replica cluster in {} (promote it)", a.served_elsewhere.join(", "))
        } else if a.running == 0 {
            format!("down here, served by {}", a.served_elsewhere.join(", "))
        } else if a.below_budget {
            "below budget".into()
        } else {
            "degraded".into()
        };
        t.row(vec![
            a.cluster.clone(),
            a.app.clone(),
            a.replicas.to_string(),
            a.lost.to_string(),
            a.replaced.to_string(),
            a.unplaced.to_string(),
            a.without_data.to_string(),
            a.running.to_string(),
            a.min_available.to_string(),
            state,
        ]);
    }
    if !broken.is_empty() {
        d.p(&format!("Apps that break ({} of {} that lost replicas):", broken.len(), s.apps.len()));
        d.table(&t);
    }
    for q in &s.quorum_lost {
        d.item(&format!(
            "QUORUM LOST {} in `{}`: {}/{} members left, {} needed — {}. Fix: {}",
            q.group, q.cluster, q.surviving, q.members, q.needed, q.consequence, q.fix
        ));
    }
    for x in &s.data_at_risk {
        d.item(&format!(
            "DATA {}: `{}` volume `{}` in `{}` ({:.1} GB, {} cop{}) — {}",
            x.outcome.to_uppercase(),
            x.app,
            x.volume,
            x.cluster,
            x.bytes as f64 / 1e9,
            x.copies,
            if x.copies == 1 { "y" } else { "ies" },
            x.fix
        ));
    }
    for b in &s.buffer {
        d.item(&format!(
            "BUFFER for the replicas that lack room: {} × {} at {} for `{}` (€{}/month; lower bound {} node{}){}",
            b.count,
            b.server_type,
            b.site,
            b.cluster,
            eur(b.monthly_eur),
            b.lower_bound,
            if b.lower_bound == 1 { "" } else { "s" },
            if b.orderable {
                ""
            } else {
                " — the provider refuses orders for this type now: keep it running as spare"
            }
        ));
    }
    for n in &s.no_buffer_helps {
        d.item(&format!("NOT FIXED BY A BUFFER {n}"));
    }
    for r in &s.replacement_used {
        match &r.spare_of {
            Some(pool) => d.item(&format!(
                "used spare servers of `{pool}`: {} × {} at {}",
                r.count, r.server_type, r.site
            )),
            None => d.item(&format!(
                "used replacement capacity: {} × {} at {}",
                r.count, r.server_type, r.site
            )),
        }
    }
    d.end_list();
}

fn render(report: &Report, style: Style) -> String {
    let mut d = Doc { style, out: String::new() };
    d.h1(&format!("Plan for `{}`", report.platform));
    d.p(&format!(
        "{} scenarios, {} survivable under scarcity (no replacement servers unless declared). Seed {}, {} sampled thirds.",
        report.summary.scenarios, report.summary.survivable, report.settings.seed, report.settings.samples
    ));
    if let Style::Text = d.style {
        d.out.push('\n');
    }

    d.h2("Capacity");
    let mut t = Table::new(&[
        "cluster",
        "nodes",
        "app nodes",
        "CPU alloc",
        "CPU req",
        "CPU %",
        "mem alloc GiB",
        "mem req GiB",
        "mem %",
        "pods %",
        "nodes FFD/packed/LB",
    ])
    .right(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for c in &report.capacity {
        t.row(vec![
            c.cluster.clone(),
            c.nodes.to_string(),
            c.app_nodes.to_string(),
            cores(c.allocatable.cpu_millis),
            cores(c.requests.cpu_millis),
            format!("{:.1}", c.utilization_percent.cpu),
            gib(c.allocatable.memory_mib),
            gib(c.requests.memory_mib),
            format!("{:.1}", c.utilization_percent.memory),
            format!("{:.1}", c.utilization_percent.pods),
            c.consolidation
                .as_ref()
                .map(|x| {
                    format!(
                        "{}/{}/{} × {}",
                        x.ffd_nodes, x.packed_nodes, x.lower_bound, x.server_type
                    )
                })
                .unwrap_or_default(),
        ]);
    }
    d.table(&t);
    for c in &report.capacity {
        for u in &c.unplaced_at_baseline {
            d.item(&format!(
                "`{}`: {} replica(s) of `{}` find no node even with every node healthy",
                c.cluster, u.replicas, u.app
            ));
        }
        for b in &c.below_budget_at_baseline {
            d.item(&format!(
                "BELOW BUDGET BEFORE ANYTHING FAILS `{}`: `{}` runs {} of {} replicas, its disruption budget needs {}; scenarios are judged by what a failure adds to this",
                c.cluster, b.app, b.running, b.replicas, b.min_available
            ));
        }
    }
    d.end_list();
    d.p(&format!("Allocatable: {}", report.reservation.formula));
    let mut t = Table::new(&[
        "cluster",
        "server type",
        "role",
        "capacity",
        "kube-reserved",
        "system",
        "eviction",
        "daemons",
        "allocatable",
    ]);
    let fmt = |r: &crate::model::ResOut| format!("{}m / {}Mi", r.cpu_millis, r.memory_mib);
    for a in &report.reservation.per_server_type {
        let x = &a.allocation;
        t.row(vec![
            a.cluster.clone(),
            x.server_type.clone(),
            x.role.clone(),
            fmt(&x.capacity),
            fmt(&x.kube_reserved),
            fmt(&x.system_reserved),
            fmt(&x.eviction),
            format!("{} ({})", fmt(&x.daemons), x.daemon_names.join(", ")),
            format!("{} / {} pods", fmt(&x.allocatable), x.allocatable.pods),
        ]);
    }
    d.table(&t);
    for s in &report.reservation.sources {
        d.item(s);
    }
    d.item(&report.reservation.daemon_table);
    d.end_list();
    if let Style::Text = d.style {
        d.out.push('\n');
    }

    d.h2("Failure scenarios");
    let mut t = Table::new(&["kind", "scenarios", "survivable"]).right(&[1, 2]);
    for k in &report.summary.by_kind {
        t.row(vec![k.kind.clone(), k.total.to_string(), k.survivable.to_string()]);
    }
    d.table(&t);
    let list_all = report.scenarios.len() <= 60;
    let mut t = Table::new(&[
        "scenario",
        "lost",
        "restarted",
        "unplaced (LB)",
        "apps below budget",
        "quorum lost",
        "data at risk",
        "buffer",
        "apps losing replicas",
    ])
    .right(&[1, 2, 3]);
    for s in report.scenarios.iter().filter(|s| list_all || !s.survivable) {
        let below: Vec<String> =
            s.apps.iter().filter(|a| a.below_budget).map(|a| a.app.clone()).collect();
        let losing: Vec<String> = s.apps.iter().map(|a| a.app.clone()).collect();
        t.row(vec![
            format!("{}{}", if s.survivable { "" } else { "✗ " }, s.id),
            s.displaced_replicas.to_string(),
            s.replaced_replicas.to_string(),
            format!("{} ({})", s.unplaced_replicas, s.unplaced_lower_bound),
            short(&below, 3),
            short(
                &s.quorum_lost
                    .iter()
                    .map(|q| format!("{}@{}", q.group, q.cluster))
                    .collect::<Vec<_>>(),
                2,
            ),
            short(
                &s.data_at_risk
                    .iter()
                    .map(|x| format!("{}:{}", x.app, x.outcome))
                    .collect::<Vec<_>>(),
                2,
            ),
            short(
                &s.buffer
                    .iter()
                    .map(|b| format!("{}×{}@{}", b.count, b.server_type, b.site))
                    .collect::<Vec<_>>(),
                2,
            ),
            short(&losing, 4),
        ]);
    }
    if !t.rows.is_empty() {
        if !list_all {
            d.p("Scenarios that are not survivable (the JSON form lists every scenario):");
        }
        d.table(&t);
    }
    for s in report.scenarios.iter().filter(|s| !s.survivable).take(if list_all { 60 } else { 25 })
    {
        scenario_detail(&mut d, s);
    }
    let sm = &report.samples;
    d.h3(&format!("Sampled thirds of the fleet ({} × {} nodes)", sm.count, sm.nodes_per_sample));
    d.p(&format!(
        "{} survivable; {} with unplaced replicas; {} lost etcd quorum somewhere; {} put data at risk.",
        sm.survivable, sm.with_unplaced, sm.with_etcd_quorum_lost, sm.with_data_at_risk
    ));
    if let Some(w) = &sm.worst
        && !w.survivable
    {
        scenario_detail(&mut d, w);
    }
    if let Style::Text = d.style {
        d.out.push('\n');
    }

    d.h2("Cost per month (EUR, net)");
    for c in &report.cost.clusters {
        d.h3(&format!("{} — €{}", c.cluster, eur(c.monthly_eur)));
        let mut t =
            Table::new(&["item", "detail", "qty", "unit €", "month €", "price date", "verified"])
                .right(&[2, 3, 4]);
        for l in &c.lines {
            t.row(vec![
                l.item.clone(),
                l.detail.clone(),
                format!("{}", l.quantity),
                format!("{}", l.unit_eur),
                eur(l.monthly_eur),
                l.price_date.clone(),
                if l.verified { "yes".into() } else { "NO".into() },
            ]);
        }
        d.table(&t);
    }
    d.h3("Per provider");
    let mut t = Table::new(&["provider", "type", "clusters", "month €", "share %"]).right(&[3, 4]);
    for p in &report.cost.providers {
        t.row(vec![
            p.provider.clone(),
            p.display_name.clone(),
            p.clusters.join(", "),
            eur(p.monthly_eur),
            format!("{:.1}", p.share_percent),
        ]);
    }
    t.row(vec![
        "platform".into(),
        String::new(),
        String::new(),
        eur(report.cost.infrastructure_monthly_eur),
        "100.0".into(),
    ]);
    d.table(&t);
    d.p(&format!("Infrastructure: €{} per month.", eur(report.cost.infrastructure_monthly_eur)));
    if let Some(team) = &report.cost.team {
        d.p(&format!(
            "Team: {} people × €{} × {} platform share = €{}. Total €{} per month.",
            team.people,
            eur(team.per_person_eur),
            team.platform_share,
            eur(team.monthly_eur),
            eur(report.cost.total_monthly_eur)
        ));
    }
    d.h3("The same workload elsewhere");
    let mut t = Table::new(&[
        "offer",
        "vCPU",
        "GiB",
        "compute €",
        "control plane €",
        "egress TB",
        "egress €",
        "egress list €",
        "other €",
        "total €",
    ])
    .right(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for r in &report.cost.comparison {
        t.row(vec![
            r.display_name.clone(),
            format!("{}", r.vcpus),
            format!("{}", r.memory_gib),
            eur(r.compute_eur),
            eur(r.control_plane_eur),
            format!("{}", r.egress_tb),
            eur(r.egress_eur),
            eur(r.egress_list_eur),
            eur(r.other_eur),
            eur(r.total_eur),
        ]);
    }
    d.table(&t);
    for n in &report.cost.notes {
        d.item(n);
    }
    for r in report.cost.comparison.iter().skip(1) {
        d.item(&format!(
            "{}: {}{}",
            r.display_name,
            r.sources.join("; "),
            if r.verified { "" } else { " (secondary sources, unverified)" }
        ));
    }
    d.end_list();
    for e in &report.cost.egress {
        d.h3(&format!("Egress alone: `{}`, {} TB a month", e.cluster, e.egress_tb));
        let mut t = Table::new(&["where", "billed €", "list €", "derivation"]).right(&[1, 2]);
        for r in &e.rows {
            t.row(vec![
                r.display_name.clone(),
                eur(r.billed_eur),
                eur(r.list_eur),
                r.derivation.clone(),
            ]);
        }
        d.table(&t);
    }
    if !report.cost.seed_facts.is_empty() {
        d.h3("The field reports' cost claims, recomputed");
        for f in &report.cost.seed_facts {
            d.item(&format!(
                "{} ({}): {} — {}. Source of the claim: {}",
                f.claim,
                f.verdict,
                f.figures
                    .iter()
                    .map(|x| format!("{} {} {}", x.name, x.value, x.unit))
                    .collect::<Vec<_>>()
                    .join("; "),
                f.derivation,
                f.source
            ));
        }
        d.end_list();
    }
    if let Style::Text = d.style {
        d.out.push('\n');
    }

    let sv = &report.sovereignty;
    d.h2("Sovereignty");
    let mut t = Table::new(&["provider", "type", "operator", "country", "US parent", "sites"]);
    for p in &sv.providers {
        t.row(vec![
            p.provider.clone(),
            p.type_.clone(),
            p.operator.clone(),
            p.country.clone().unwrap_or_else(|| "?".into()),
            if p.us_parent { "YES".into() } else { "no".into() },
            p.sites.join(", "),
        ]);
    }
    d.table(&t);
    let mut t = Table::new(&[
        "purpose",
        "host",
        "operator",
        "country",
        "US",
        "used by",
        "EU / self-hosted substitute",
    ]);
    for x in &sv.dependencies {
        t.row(vec![
            x.purpose.clone(),
            x.host.clone(),
            x.operator.clone().unwrap_or_else(|| "unknown".into()),
            x.country.clone().unwrap_or_else(|| "?".into()),
            match x.us_parent {
                Some(true) => "YES".into(),
                Some(false) => "no".into(),
                None => "?".into(),
            },
            short(&x.used_by, 3),
            short(&x.substitutes, 2),
        ]);
    }
    d.table(&t);
    let mut t =
        Table::new(&["scope", "data protection", "independence", "lock-in"]).right(&[1, 2, 3]);
    let f = |s: &crate::sovereignty::Score| format!("{} ({})", s.score, s.level);
    t.row(vec![
        "platform".into(),
        f(&sv.platform.data_protection),
        f(&sv.platform.independence),
        f(&sv.platform.lock_in),
    ]);
    for tn in &sv.tenants {
        t.row(vec![
            format!(
                "tenant {}{}",
                tn.tenant,
                if tn.personal_data { " (personal data)" } else { "" }
            ),
            f(&tn.scores.data_protection),
            f(&tn.scores.independence),
            f(&tn.scores.lock_in),
        ]);
    }
    d.table(&t);
    d.p("How the platform scores were derived (100 = no concern found):");
    for (name, s) in [
        ("data protection", &sv.platform.data_protection),
        ("independence", &sv.platform.independence),
        ("lock-in", &sv.platform.lock_in),
    ] {
        for c in &s.contributions {
            d.item(&format!("{name} {:+}: {}", c.points, c.fact));
        }
    }
    d.end_list();
    d.p(&format!(
        "EU Cloud Sovereignty Framework: {} — {}",
        sv.seal.level,
        sv.seal.reasons.join("; ")
    ));
    for s in &sv.sec_num_cloud {
        d.item(&format!("SecNumCloud §19.6 `{}`: {} — {}", s.provider, s.verdict, s.reason));
    }
    for n in &sv.not_mechanical {
        d.item(&format!("not mechanical: {n}"));
    }
    d.end_list();

    if let Some(x) = &report.exit {
        if let Style::Text = d.style {
            d.out.push('\n');
        }
        d.h2(&format!("Exit: {} ({}) → {} ({})", x.source, x.source_kind, x.target, x.target_kind));
        if let Some(e) = &x.error {
            d.p(&format!("Cannot plan this exit: {e}"));
        } else {
            for s in &x.steps {
                d.item(&format!("{}. {} — {}", s.number, s.title, s.detail));
            }
            d.end_list();
            let mut t = Table::new(&["cluster", "app", "volume", "GB", "method"]).right(&[3]);
            for m in &x.data {
                t.row(vec![
                    m.cluster.clone(),
                    m.app.clone(),
                    m.volume.clone(),
                    format!("{:.1}", m.bytes as f64 / 1e9),
                    m.method.clone(),
                ]);
            }
            if !t.rows.is_empty() {
                d.table(&t);
            }
            d.p(&format!(
                "Data to move: {:.1} GB; leaving the source {:.3} TB: €{} billed{} (list €{} at €{}/TB; {}).",
                x.total_bytes as f64 / 1e9,
                x.egress.tb,
                eur(x.egress.eur),
                match (x.egress.included_tb, x.egress.spare_included_tb) {
                    (Some(per), Some(spare)) => format!(
                        ", after the {spare} TB of included traffic ({per} TB per server) the platform's own egress leaves unused"
                    ),
                    _ => ", unmetered".to_owned(),
                },
                eur(x.egress.list_eur),
                x.egress.eur_per_tb,
                x.egress.source
            ));
            if !x.review.is_empty() {
                d.p("Changed or undecided by the retargeting (review before applying):");
                for r in &x.review {
                    d.item(&format!("{} `{}`: {}", r.severity.to_uppercase(), r.path, r.message));
                }
                d.end_list();
            }
            if x.findings.is_empty() {
                d.p("`hafen check` on the retargeted spec: no findings.");
            } else {
                d.p("Findings `hafen check` raises on the retargeted spec:");
                for f in &x.findings {
                    d.item(&format!(
                        "{} {}: {}{}",
                        f.severity,
                        f.code,
                        f.message,
                        if f.new { "" } else { " (raised today already: not caused by the move)" }
                    ));
                }
                d.end_list();
            }
            d.code("diff", &x.diff, "Retargeted spec (diff)");
        }
    }
    if let Style::Text = d.style {
        d.out.push('\n');
    }
    d.h2("Assumptions");
    for a in &report.assumptions {
        d.item(a);
    }
    d.end_list();
    d.out
}

/// Terminal rendering.
pub fn to_text(report: &Report) -> String {
    render(report, Style::Text)
}

/// Markdown rendering for pull requests.
pub fn to_markdown(report: &Report) -> String {
    render(report, Style::Markdown)
}
