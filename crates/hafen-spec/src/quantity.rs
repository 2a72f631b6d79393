//! Kubernetes resource quantities (`500m`, `1.5`, `64Gi`), parsed the way the API server does.

/// Parses a CPU quantity into millicores. `"2"` → 2000, `"500m"` → 500, `"1.5"` → 1500.
pub fn cpu_millis(text: &str) -> Option<u64> {
    let value = parse(text)?;
    let millis = value * 1000.0;
    (millis.is_finite() && (0.0..1e15).contains(&millis)).then(|| millis.round() as u64)
}

/// Parses a memory or storage quantity into bytes. `"1Gi"` → 1073741824, `"1G"` → 1e9.
pub fn bytes(text: &str) -> Option<u64> {
    let value = parse(text)?;
    (value.is_finite() && (0.0..1.8e19).contains(&value)).then(|| value.round() as u64)
}

/// Parses a quantity into its base unit as a float.
pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() || number.starts_with('-') {
        return None;
    }
    let base: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0f64.powi(4),
        "Pi" => 1024.0f64.powi(5),
        "Ei" => 1024.0f64.powi(6),
        _ => {
            // Decimal exponent form, e.g. `1e3`.
            let exp = suffix.strip_prefix(['e', 'E'])?;
            10f64.powi(exp.parse::<i32>().ok()?)
        }
    };
    Some(base * factor)
}

/// Formats bytes as the largest binary unit that keeps one decimal, e.g. `1.5 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = bytes as f64;
    let mut idx = 0;
    while value >= 1024.0 && idx + 1 < units.len() {
        value /= 1024.0;
        idx += 1;
    }
    if value.fract() == 0.0 {
        format!("{value:.0} {}", units[idx])
    } else {
        format!("{value:.1} {}", units[idx])
    }
}

/// Formats millicores for people: `2.5 cores` or `500m`.
pub fn format_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{}", millis / 1000)
    } else if millis >= 1000 {
        format!("{:.2}", millis as f64 / 1000.0)
    } else {
        format!("{millis}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_memory() {
        assert_eq!(cpu_millis("500m"), Some(500));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(cpu_millis("abc"), None);
        assert_eq!(cpu_millis("-1"), None);
        assert_eq!(bytes("1Gi"), Some(1 << 30));
        assert_eq!(bytes("64Gi"), Some(64 << 30));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("10Gb"), None);
        assert_eq!(format_bytes(1536 << 20), "1.5 GiB");
        assert_eq!(format_cpu(2500), "2.50");
    }
}
