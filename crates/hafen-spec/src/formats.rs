//! Value formats the rendered tools parse and Hafen would otherwise pass through unchecked: a
//! cron schedule (Velero), a Go duration (Velero's backup TTL), an e-mail address (the ACME
//! account of cert-manager). A value these refuse fails in the cluster, hours after `render`,
//! so the loader reports it with the spec's location instead.

/// Why `schedule` is not a schedule Velero runs, or `None`.
///
/// Velero parses `Schedule.spec.schedule` with `cron.ParseStandard` of robfig/cron v3
/// (pkg/controller/schedule_controller.go): five fields (minute 0–59, hour 0–23, day of month
/// 1–31, month 1–12 or `JAN`–`DEC`, day of week 0–6 or `SUN`–`SAT`), each `*`, `?`, a value,
/// a range `a-b`, a step `/n` on either, or a comma list of those; or a descriptor
/// (`@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`,
/// `@every <duration>`), optionally after `CRON_TZ=<zone> ` or `TZ=<zone> `.
pub fn cron_problem(schedule: &str) -> Option<String> {
    let mut text = schedule.trim();
    if text.is_empty() {
        return Some("it is empty".into());
    }
    for prefix in ["CRON_TZ=", "TZ="] {
        if let Some(rest) = text.strip_prefix(prefix) {
            match rest.split_once(' ') {
                Some((zone, rest)) if !zone.is_empty() => text = rest.trim_start(),
                _ => return Some(format!("`{prefix}` names no time zone before the schedule")),
            }
        }
    }
    if let Some(descriptor) = text.strip_prefix('@') {
        if let Some(every) = descriptor.strip_prefix("every ") {
            return go_duration_problem(every.trim())
                .map(|why| format!("`@every` needs a duration such as `6h`: {why}"));
        }
        return match descriptor {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => None,
            _ => Some(format!(
                "`@{descriptor}` is not a shorthand (`@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly`, `@every <duration>`)"
            )),
        };
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    if fields.len() == 6 {
        return Some("it has 6 fields; Velero reads 5 (no seconds): minute hour day-of-month month day-of-week".into());
    }
    if fields.len() != 5 {
        return Some(format!(
            "it has {} field{}; a schedule has 5: minute hour day-of-month month day-of-week",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        ));
    }
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let specs: [(&str, u32, u32, &[&str], u32); 5] = [
        ("minute", 0, 59, &[], 0),
        ("hour", 0, 23, &[], 0),
        ("day of month", 1, 31, &[], 0),
        ("month", 1, 12, &MONTHS, 1),
        ("day of week", 0, 6, &DAYS, 0),
    ];
    for (field, (what, min, max, names, first)) in fields.iter().zip(specs) {
        if let Err(why) = cron_field(field, min, max, names, first) {
            return Some(format!("the {what} field `{field}` {why}"));
        }
    }
    None
}

/// One field: a comma list of `*`, `?`, `a`, `a-b`, each with an optional `/step`.
fn cron_field(field: &str, min: u32, max: u32, names: &[&str], first: u32) -> Result<(), String> {
    let value = |text: &str| -> Result<u32, String> {
        let lower = text.to_ascii_lowercase();
        if let Some(i) = names.iter().position(|n| *n == lower) {
            return Ok(first + i as u32);
        }
        match text.parse::<u32>() {
            Ok(v) if (min..=max).contains(&v) => Ok(v),
            Ok(v) => Err(format!("has {v}, outside {min}–{max}")),
            Err(_) => Err(format!("has `{text}`, which is not a number from {min} to {max}")),
        }
    };
    for part in field.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, Some(s)),
            None => (part, None),
        };
        if let Some(step) = step {
            match step.parse::<u32>() {
                Ok(s) if s > 0 => {}
                _ => return Err(format!("has the step `/{step}`, which is not a positive number")),
            }
        }
        if range == "*" || range == "?" {
            continue;
        }
        if range.is_empty() {
            return Err("has an empty part".into());
        }
        match range.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (value(a)?, value(b)?);
                if a > b {
                    return Err(format!("has the range {a}-{b}, whose start is after its end"));
                }
            }
            None => {
                value(range)?;
            }
        }
    }
    Ok(())
}

/// Why `text` is not a Go duration (`time.ParseDuration`, which Kubernetes' `metav1.Duration`
/// and so Velero's `ttl` use), or `None`: a sequence of decimal numbers with units `ns`, `us`,
/// `µs`, `ms`, `s`, `m`, `h`, e.g. `720h` or `1h30m`. A sign is refused here: no duration
/// Hafen writes may be negative.
pub fn go_duration_problem(text: &str) -> Option<String> {
    if text == "0" {
        return None;
    }
    let mut rest = text;
    if rest.is_empty() {
        return Some("it is empty".into());
    }
    while !rest.is_empty() {
        let number = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
        let digits = &rest[..number];
        if number == 0 || digits == "." || digits.matches('.').count() > 1 {
            return Some(format!("`{text}` does not start each part with a number"));
        }
        rest = &rest[number..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if !matches!(unit, "ns" | "us" | "µs" | "μs" | "ms" | "s" | "m" | "h") {
            return Some(if unit.is_empty() {
                format!("`{text}` has a number without a unit")
            } else {
                format!(
                    "`{text}` has the unit `{unit}`; Go durations have `h`, `m`, `s`, `ms`, `us` and `ns`"
                )
            });
        }
        rest = &rest[unit_len..];
    }
    None
}

/// `30d` as `720h`, `2w` as `336h`: the Go duration meant by a count of days or weeks.
pub fn days_as_hours(text: &str) -> Option<String> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = number.parse().ok()?;
    let hours = match unit {
        "d" => n.checked_mul(24)?,
        "w" => n.checked_mul(168)?,
        _ => return None,
    };
    Some(format!("{hours}h"))
}

/// Why `address` is not an e-mail address an ACME server takes as an account contact, or
/// `None`: `local@domain` with a dot-atom local part (RFC 5322 `atext` and single dots, at
/// most 64 characters) and a domain that is a host name with at least one dot.
pub fn email_problem(address: &str) -> Option<String> {
    if address.is_empty() {
        return Some("it is empty".into());
    }
    if address.chars().any(char::is_whitespace) {
        return Some("it contains white space".into());
    }
    if address.to_ascii_lowercase().starts_with("mailto:") {
        return Some("it starts with `mailto:`, which cert-manager adds itself".into());
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Some("it has no `@`".into());
    };
    if local.contains('@') {
        return Some("it has more than one `@`".into());
    }
    if local.is_empty() {
        return Some("nothing comes before the `@`".into());
    }
    if local.len() > 64 {
        return Some(format!(
            "the part before the `@` has {} characters, more than 64",
            local.len()
        ));
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if let Some(c) = local.chars().find(|&c| !atext(c) && c != '.') {
        return Some(format!("the part before the `@` contains `{c}`"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some(
            "the part before the `@` starts or ends with a dot or has two in a row".into(),
        );
    }
    if domain.is_empty() {
        return Some("nothing comes after the `@`".into());
    }
    let labels_ok = domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !labels_ok {
        return Some(format!("`{domain}` after the `@` is not a domain"));
    }
    if !domain.contains('.') {
        return Some(format!(
            "`{domain}` after the `@` has no dot: mail cannot be delivered there"
        ));
    }
    None
}

/// True when `host` is at most 253 bytes of dot-separated labels of 1–63 letters, digits and
/// inner hyphens: the shape DNS names share (RFC 1123).
pub(crate) fn dns_labels(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_schedules_as_velero_reads_them() {
        for ok in [
            "0 3 * * *",
            "*/15 * * * *",
            "0 0-23/6 * * MON-FRI",
            "30 2 1,15 * ?",
            "0 4 * JAN,jul sun",
            "5/10 * * * *",
            "@daily",
            "@every 6h",
            "@every 1h30m",
            "CRON_TZ=Europe/Berlin 0 3 * * *",
            " 0 3 * * * ",
        ] {
            assert_eq!(cron_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("0 3 * *", "4 fields"),
            ("0 0 3 * * *", "6 fields"),
            ("60 3 * * *", "minute field `60` has 60, outside 0–59"),
            ("0 24 * * *", "hour"),
            ("0 3 0 * *", "day of month"),
            ("0 3 * 13 *", "month"),
            ("0 3 * * 7", "day of week"),
            ("0 3 * * funday", "`funday`"),
            ("*/0 * * * *", "step `/0`"),
            ("0 5-2 * * *", "start is after its end"),
            ("0 3,,4 * * *", "empty part"),
            ("@nightly", "not a shorthand"),
            ("@every 1d", "`d`"),
            ("@every", "not a shorthand"),
            ("daily", "1 field"),
            ("CRON_TZ= 0 3 * * *", "no time zone"),
        ] {
            let got = cron_problem(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(got.contains(why), "{bad:?}: {got}");
        }
    }

    #[test]
    fn go_durations() {
        for ok in ["720h", "1h30m", "0.5h", "90s", "0", "300ms", "1µs"] {
            assert_eq!(go_duration_problem(ok), None, "{ok}");
        }
        for bad in ["", "30d", "720", "h", "-1h", "1.2.3h", "1 h", ".h"] {
            assert!(go_duration_problem(bad).is_some(), "{bad}");
        }
        assert_eq!(days_as_hours("30d").as_deref(), Some("720h"));
        assert_eq!(days_as_hours("2w").as_deref(), Some("336h"));
        assert_eq!(days_as_hours("30x"), None);
    }

    #[test]
    fn email_addresses() {
        for ok in ["ops@example.eu", "first.last+acme@sub.example.org", "o'brien@example.ie"] {
            assert_eq!(email_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("ops", "no `@`"),
            ("ops@", "after the `@`"),
            ("@example.eu", "before the `@`"),
            ("a@b@example.eu", "more than one"),
            ("ops@localhost", "no dot"),
            ("ops@exa_mple.eu", "not a domain"),
            ("ops team@example.eu", "white space"),
            ("mailto:ops@example.eu", "mailto"),
            ("ops.@example.eu", "dot"),
            ("o..ps@example.eu", "dot"),
            ("ops(at)x@example.eu", "`(`"),
            ("ops@example..eu", "not a domain"),
        ] {
            let got = email_problem(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(got.contains(why), "{bad:?}: {got}");
        }
    }
}
