//! Charts as SVG generated here: horizontal bar charts (single and grouped) with an axis,
//! ticks, units and a value on every bar. Colours are attributes, not inline styles, so the
//! strict CSP holds; every label passes the escaping helper.

use crate::html::esc;

/// Palette for series (restrained, distinguishable, print-safe).
pub(crate) const SERIES: [&str; 5] = ["#1f5f8b", "#c2410c", "#6b7f2a", "#7c4d9e", "#8a8f98"];

const WIDTH: f64 = 960.0;
const VALUE_W: f64 = 150.0;
const ROW_H: f64 = 24.0;
/// Longest label shown whole; longer ones are cut with an ellipsis (full text on hover).
const MAX_LABEL_CHARS: usize = 44;

/// Width of the label column for these labels (about 7 px per character at 13 px).
fn label_width<'a>(labels: impl Iterator<Item = &'a str>) -> f64 {
    let longest = labels.map(|l| l.chars().count().min(MAX_LABEL_CHARS)).max().unwrap_or(10);
    (longest as f64 * 7.2 + 24.0).clamp(120.0, 360.0)
}

fn cut(label: &str) -> String {
    if label.chars().count() > MAX_LABEL_CHARS {
        format!("{}…", label.chars().take(MAX_LABEL_CHARS - 1).collect::<String>())
    } else {
        label.to_owned()
    }
}

/// A "nice" tick step for an axis from 0 to `max`.
fn tick_step(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// One format per axis, not per tick: from 1,000 up every tick is in thousands (`2.5k`, `5k`),
/// so `2500` and `5k` never stand on one axis.
fn fmt_tick(v: f64) -> String {
    if v >= 1000.0 {
        let k = v / 1000.0;
        if k.fract() == 0.0 { format!("{k}k") } else { format!("{k:.1}k") }
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// One group of bars: a label and one value per series.
pub(crate) struct Group {
    pub(crate) label: String,
    pub(crate) values: Vec<f64>,
    /// Text shown after each bar (same length as `values`).
    pub(crate) texts: Vec<String>,
}

/// A grouped horizontal bar chart. With one series it is a plain bar chart.
pub(crate) fn bars(title: &str, unit: &str, series: &[&str], groups: &[Group]) -> String {
    let n_series = series.len().max(1);
    let group_h = ROW_H * n_series as f64 + 10.0;
    let legend_h = if series.len() > 1 { 26.0 } else { 0.0 };
    let top = 8.0 + legend_h;
    let height = top + group_h * groups.len() as f64 + 34.0;
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let step = tick_step(max);
    let axis_max = if max <= 0.0 { step } else { (max / step).ceil() * step };
    #[allow(non_snake_case)]
    let LABEL_W = label_width(groups.iter().map(|g| g.label.as_str()));
    let plot_w = WIDTH - LABEL_W - VALUE_W;
    let x = |v: f64| LABEL_W + (v.max(0.0) / axis_max) * plot_w;
    let mut s = format!(
        r#"<svg viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    s.push_str(&format!("<title>{}</title>", esc(title)));
    if series.len() > 1 {
        let mut lx = LABEL_W;
        for (i, name) in series.iter().enumerate() {
            let color = SERIES[i % SERIES.len()];
            s.push_str(&format!(
                r##"<rect x="{lx:.1}" y="6" width="12" height="12" rx="2" fill="{color}"/><text x="{:.1}" y="16" font-size="13" fill="#1d2733">{}</text>"##,
                lx + 18.0,
                esc(name)
            ));
            lx += 30.0 + 7.5 * name.chars().count() as f64;
        }
    }
    // grid and ticks
    let axis_y = top + group_h * groups.len() as f64;
    let mut t = 0.0;
    while t <= axis_max + step / 2.0 {
        let gx = x(t);
        s.push_str(&format!(
            "<line x1=\"{gx:.1}\" y1=\"{top:.1}\" x2=\"{gx:.1}\" y2=\"{axis_y:.1}\" stroke=\"#e4e8ec\" stroke-width=\"1\"/>"
        ));
        s.push_str(&format!(
            "<text x=\"{gx:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6776\" text-anchor=\"middle\">{}</text>",
            axis_y + 16.0,
            esc(&fmt_tick(t))
        ));
        t += step;
    }
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6776\" text-anchor=\"middle\">{}</text>",
        LABEL_W + plot_w / 2.0,
        axis_y + 31.0,
        esc(unit)
    ));
    for (gi, g) in groups.iter().enumerate() {
        let gy = top + group_h * gi as f64 + 5.0;
        let label = cut(&g.label);
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" fill=\"#1d2733\" text-anchor=\"end\"><title>{}</title>{}</text>",
            LABEL_W - 10.0,
            gy + group_h / 2.0,
            esc(&g.label),
            esc(&label)
        ));
        for (si, v) in g.values.iter().enumerate() {
            let by = gy + ROW_H * si as f64;
            let w = (x(*v) - LABEL_W).max(if *v > 0.0 { 1.5 } else { 0.0 });
            let color = SERIES[si % SERIES.len()];
            let text = g.texts.get(si).cloned().unwrap_or_default();
            s.push_str(&format!(
                "<rect x=\"{LABEL_W:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"{color}\"><title>{}</title></rect>",
                by + 2.0,
                ROW_H - 6.0,
                esc(&format!("{}: {}", series.get(si).copied().unwrap_or(""), text))
            ));
            s.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#1d2733\">{}</text>",
                LABEL_W + w + 6.0,
                by + ROW_H / 2.0 + 4.0,
                esc(&text)
            ));
        }
    }
    s.push_str(&format!(
        "<line x1=\"{LABEL_W:.1}\" y1=\"{top:.1}\" x2=\"{LABEL_W:.1}\" y2=\"{axis_y:.1}\" stroke=\"#8a96a3\" stroke-width=\"1\"/>"
    ));
    s.push_str("</svg>");
    s
}

/// Horizontal stacked bars: one bar per group, one segment per series, the group's total
/// (`total_texts`) after the bar. For "what is this total made of" charts.
pub(crate) fn stacked_bars(
    title: &str,
    unit: &str,
    series: &[&str],
    groups: &[Group],
    total_texts: &[String],
) -> String {
    let colored: Vec<(&str, &str)> =
        series.iter().enumerate().map(|(i, s)| (*s, SERIES[i % SERIES.len()])).collect();
    stacked_bars_colored(title, unit, &colored, groups, total_texts)
}

/// [`stacked_bars`] with a colour per series (e.g. green for survivable, red for not).
pub(crate) fn stacked_bars_colored(
    title: &str,
    unit: &str,
    series: &[(&str, &str)],
    groups: &[Group],
    total_texts: &[String],
) -> String {
    let legend_h = 26.0;
    let top = 8.0 + legend_h;
    let row = ROW_H + 8.0;
    let height = top + row * groups.len() as f64 + 34.0;
    let totals: Vec<f64> =
        groups.iter().map(|g| g.values.iter().map(|v| v.max(0.0)).sum()).collect();
    let max = totals.iter().copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let step = tick_step(max);
    let axis_max = if max <= 0.0 { step } else { (max / step).ceil() * step };
    #[allow(non_snake_case)]
    let LABEL_W = label_width(groups.iter().map(|g| g.label.as_str()));
    let plot_w = WIDTH - LABEL_W - VALUE_W;
    let scale = |v: f64| (v.max(0.0) / axis_max) * plot_w;
    let mut s = format!(
        r#"<svg viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    let mut lx = LABEL_W;
    for (name, color) in series {
        s.push_str(&format!(
            r##"<rect x="{lx:.1}" y="6" width="12" height="12" rx="2" fill="{color}"/><text x="{:.1}" y="16" font-size="13" fill="#1d2733">{}</text>"##,
            lx + 18.0,
            esc(name)
        ));
        lx += 30.0 + 7.5 * name.chars().count() as f64;
    }
    let axis_y = top + row * groups.len() as f64;
    let mut t = 0.0;
    while t <= axis_max + step / 2.0 {
        let gx = LABEL_W + scale(t);
        s.push_str(&format!(
            "<line x1=\"{gx:.1}\" y1=\"{top:.1}\" x2=\"{gx:.1}\" y2=\"{axis_y:.1}\" stroke=\"#e4e8ec\" stroke-width=\"1\"/><text x=\"{gx:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6776\" text-anchor=\"middle\">{}</text>",
            axis_y + 16.0,
            esc(&fmt_tick(t))
        ));
        t += step;
    }
    s.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5b6776\" text-anchor=\"middle\">{}</text>",
        LABEL_W + plot_w / 2.0,
        axis_y + 31.0,
        esc(unit)
    ));
    for (gi, g) in groups.iter().enumerate() {
        let y = top + row * gi as f64 + 4.0;
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" fill=\"#1d2733\" text-anchor=\"end\"><title>{}</title>{}</text>",
            LABEL_W - 10.0,
            y + ROW_H / 2.0 + 4.0,
            esc(&g.label),
            esc(&cut(&g.label))
        ));
        let mut x = LABEL_W;
        for (si, v) in g.values.iter().enumerate() {
            let w = scale(*v);
            if w <= 0.0 {
                continue;
            }
            let (name, color) = series.get(si).copied().unwrap_or(("", "#8a8f98"));
            let text = g.texts.get(si).cloned().unwrap_or_default();
            s.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{ROW_H:.1}\" fill=\"{color}\"><title>{}</title></rect>",
                esc(&format!("{name}: {text}"))
            ));
            x += w;
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"600\" fill=\"#1d2733\">{}</text>",
            x + 6.0,
            y + ROW_H / 2.0 + 4.0,
            esc(total_texts.get(gi).map(String::as_str).unwrap_or(""))
        ));
    }
    s.push_str(&format!(
        "<line x1=\"{LABEL_W:.1}\" y1=\"{top:.1}\" x2=\"{LABEL_W:.1}\" y2=\"{axis_y:.1}\" stroke=\"#8a96a3\" stroke-width=\"1\"/></svg>"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        assert_eq!(tick_step(100.0), 20.0);
        assert_eq!(tick_step(1234.0), 250.0);
        assert_eq!(tick_step(0.0), 1.0);
        let axis: Vec<String> = [0.0, 2500.0, 5000.0, 7500.0, 10000.0].map(fmt_tick).to_vec();
        assert_eq!(axis, ["0", "2.5k", "5k", "7.5k", "10k"]);
    }

    #[test]
    fn chart_has_labels_values_and_unit() {
        let svg = bars(
            "Monthly cost",
            "EUR per month",
            &["Hafen", "Hyperscaler"],
            &[Group {
                label: "prod-<nbg>".into(),
                values: vec![100.0, 250.0],
                texts: vec!["100 €".into(), "250 €".into()],
            }],
        );
        assert!(svg.contains("prod-&lt;nbg&gt;"));
        assert!(svg.contains("EUR per month"));
        assert!(svg.contains("250 €"));
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
    }
}
