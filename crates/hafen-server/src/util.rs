//! Small helpers of the edge: query strings, times, numbers, and the inventory the overview
//! lists (a read-out of the spec, no judgement).

use hafen_engine::LoadedPlatform;
use serde_json::{Value, json};

/// Query parameters, percent-decoded; later duplicates are kept (first wins in [`param`]).
pub(crate) fn query(uri: &axum::http::Uri) -> Vec<(String, String)> {
    let Some(q) = uri.query() else { return Vec::new() };
    q.split('&')
        .filter(|p| !p.is_empty())
        .take(64)
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The first value of a parameter.
pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space). Invalid UTF-8 is replaced.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes a query value.
pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `2026-05-01 12:34:56 UTC` from milliseconds since the epoch.
pub(crate) fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A number exactly as the JSON has it (Rust's shortest round-trip form, the same digits
/// serde_json writes), with thousands separated by a narrow space for reading. Never rounded:
/// every figure on a page must equal the CLI's JSON.
pub(crate) fn num(v: &Value) -> String {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                group(&i.to_string())
            } else if let Some(u) = n.as_u64() {
                group(&u.to_string())
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                let s = format!("{f}");
                let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
                if frac.is_empty() { group(int) } else { format!("{}.{frac}", group(int)) }
            }
        }
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.into(),
        other => other.to_string(),
    }
}

/// Euros: at least two decimals, more when the JSON has more (a price per GB), grouped
/// thousands: `1 234.50 €`, `0.0572 €`.
pub(crate) fn eur(v: &Value) -> String {
    match v.as_f64() {
        Some(f) => {
            let s = format!("{f}");
            let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
            let frac = if frac.len() < 2 { format!("{frac:0<2}") } else { frac.to_owned() };
            format!("{}.{frac} €", group(int))
        }
        None => "—".into(),
    }
}

fn group(digits: &str) -> String {
    let (sign, digits) = match digits.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", digits),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// Sites and clusters per provider and location, with node and tenant counts: the spec read
/// out as it is. Node count = control-plane replicas + the counts of every pool.
pub(crate) fn overview(loaded: &LoadedPlatform) -> Value {
    let p = &loaded.platform;
    let spec = &p.spec;
    let mut providers = Vec::new();
    let mut total_nodes: u64 = 0;
    for provider in &spec.providers {
        let mut sites = Vec::new();
        for site in spec.sites.iter().filter(|s| s.provider == provider.name) {
            let mut clusters = Vec::new();
            for cluster in spec.clusters.iter().filter(|c| c.site == site.name) {
                let pools: u64 = cluster.node_pools.iter().map(|np| u64::from(np.count)).sum();
                let nodes = u64::from(cluster.control_plane.replicas) + pools;
                total_nodes += nodes;
                let tenants: Vec<&str> = spec
                    .tenants
                    .iter()
                    .filter(|t| t.clusters.iter().any(|c| c == &cluster.name))
                    .map(|t| t.name.as_str())
                    .collect();
                let apps: usize = spec
                    .tenants
                    .iter()
                    .filter(|t| t.clusters.iter().any(|c| c == &cluster.name))
                    .map(|t| t.apps.len())
                    .sum();
                clusters.push(json!({
                    "name": cluster.name,
                    "kubernetes": cluster.kubernetes,
                    "os": serde_json::to_value(cluster.os).unwrap_or_default(),
                    "controlPlane": cluster.control_plane.replicas,
                    "workerNodes": pools,
                    "nodes": nodes,
                    "pools": cluster.node_pools.iter().map(|np| json!({
                        "name": np.name, "serverType": np.server_type, "count": np.count,
                    })).collect::<Vec<_>>(),
                    "tenants": tenants.len(),
                    "tenantNames": tenants,
                    "apps": apps,
                }));
            }
            sites.push(json!({
                "name": site.name,
                "location": site.location,
                "clusters": clusters,
            }));
        }
        providers.push(json!({
            "name": provider.name,
            "type": provider.type_,
            "sites": sites,
        }));
    }
    let apps: usize = spec.tenants.iter().map(|t| t.apps.len()).sum();
    json!({
        "platform": p.metadata.name,
        "description": p.metadata.description,
        "totals": {
            "providers": spec.providers.len(),
            "sites": spec.sites.len(),
            "clusters": spec.clusters.len(),
            "nodes": total_nodes,
            "tenants": spec.tenants.len(),
            "apps": apps,
        },
        "providers": providers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_encodes() {
        assert_eq!(percent_decode("a%2e%2E%2fb+c%zz%"), "a../b c%zz%");
        assert_eq!(percent_decode("%00"), "\0");
        assert_eq!(url_encode("a b/c&d"), "a%20b/c%26d");
    }

    #[test]
    fn formats_times_and_numbers() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(1_777_777_777_000), "2026-05-03 03:09:37 UTC");
        assert_eq!(num(&json!(1234567)), "1\u{202f}234\u{202f}567");
        assert_eq!(num(&json!(12.5)), "12.5");
        assert_eq!(num(&json!(0.075)), "0.075", "never rounded");
        assert_eq!(eur(&json!(0.0572)), "0.0572 €");
        assert_eq!(eur(&json!(35.5)), "35.50 €");
        assert_eq!(num(&json!(-1234.0)), "-1\u{202f}234");
        assert_eq!(eur(&json!(1500.0)), "1\u{202f}500.00 €");
    }
}
