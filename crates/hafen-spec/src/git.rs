//! The platform repository as the delivery engines see it: the clone URLs Flux's
//! source-controller and Argo CD's repo server accept from inside a cluster, the branch names
//! Git accepts, and the folder the rendered output may live in. One module for the loader
//! (SPEC008, so `check` reports the problem) and the renderer (which refuses exactly what this
//! refuses), so the two cannot disagree about a repository.

use hafen_diag::mask_credentials;

/// Why a value cannot be used, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Completes "`value` …": what is wrong with it.
    pub reason: String,
    /// The fix, as a help line.
    pub fix: String,
}

fn problem(reason: impl Into<String>, fix: impl Into<String>) -> Option<Problem> {
    Some(Problem { reason: reason.into(), fix: fix.into() })
}

const URL_FIX: &str = "write `ssh://git@host/group/repo.git` or `https://host/group/repo.git`";

/// Why the delivery engines cannot clone `url`, or `None` when they can.
///
/// Flux's `GitRepository` accepts `http://`, `https://` and `ssh://` URLs only (its CRD
/// validates `spec.url` against `^(http|https|ssh)://`); Hafen renders the same URL for Argo CD,
/// so the same set applies to both. Both clone from inside a cluster, so a path on the machine
/// that runs Hafen (`file://`, `/srv/git/x.git`) is unreachable from where it is needed.
pub fn repo_url_problem(url: &str) -> Option<Problem> {
    let shown = mask_credentials(url);
    if url.trim().is_empty() {
        return problem("is empty", URL_FIX);
    }
    if url.chars().any(char::is_whitespace) {
        return problem(
            "contains white space, which no clone URL can",
            "remove it (a space inside a repository path is written `%20`)",
        );
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        if url.starts_with(['/', '.', '~']) || url.contains('\\') {
            return problem(
                "is a path on this machine: Flux and Argo CD clone from inside the cluster, where it does not exist",
                "push the repository to a Git server the clusters can reach and write its URL, e.g. `ssh://git@git.example.eu/platform/repo.git`",
            );
        }
        if let Some((user_host, path)) = url.split_once(':')
            && !user_host.is_empty()
            && !user_host.contains('/')
            && !path.is_empty()
        {
            let path = path.trim_start_matches('/');
            return problem(
                "is in Git's short scp-like form (`user@host:path`), which Flux does not accept",
                format!("write it as a URL: `ssh://{user_host}/{path}`"),
            );
        }
        return problem("is not a URL", URL_FIX);
    };
    match scheme {
        "ssh" | "https" | "http" => {}
        _ if ["ssh", "https", "http"].iter().any(|s| scheme.eq_ignore_ascii_case(s)) => {
            let fixed = format!("{}://{rest}", scheme.to_ascii_lowercase());
            return problem(
                format!("has the scheme `{scheme}://` in capitals, which Flux refuses"),
                format!("write `{}`", mask_credentials(&fixed)),
            );
        }
        "file" => {
            return problem(
                "is a path on this machine (`file://`): Flux and Argo CD clone from inside the cluster, where it does not exist",
                "push the repository to a Git server the clusters can reach and write its URL, e.g. `ssh://git@git.example.eu/platform/repo.git`",
            );
        }
        "git" => {
            return problem(
                "uses the `git://` protocol, which Flux does not support (it is neither authenticated nor encrypted)",
                format!(
                    "serve it over SSH or HTTPS: `{}`",
                    mask_credentials(&format!("ssh://git@{rest}"))
                ),
            );
        }
        "git+ssh" | "ssh+git" => {
            return problem(
                format!("uses the scheme `{scheme}://`, which Flux does not accept"),
                format!("write `{}`", mask_credentials(&format!("ssh://{rest}"))),
            );
        }
        _ => {
            return problem(
                format!(
                    "uses the scheme `{scheme}://`, which neither Flux nor Argo CD clones from"
                ),
                URL_FIX,
            );
        }
    }
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        match v6.split_once(']') {
            Some((ip, after)) if ip.parse::<std::net::Ipv6Addr>().is_ok() => {
                (ip, after.strip_prefix(':'))
            }
            _ => {
                return problem(
                    format!("has the host `{host_port}`, which is not an IPv6 address in brackets"),
                    URL_FIX,
                );
            }
        }
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty() {
        return problem("names no host", URL_FIX);
    }
    if !host_port.starts_with('[') && !is_host_name(host) {
        return problem(format!("has the host `{host}`, which is not a host name"), URL_FIX);
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65_535).contains(&p));
        if !valid {
            let user = authority.rsplit_once('@').map(|(u, _)| format!("{u}@")).unwrap_or_default();
            let fix = if port.bytes().all(|b| b.is_ascii_digit()) {
                "use a port between 1 and 65535, or none for the scheme's default".to_owned()
            } else {
                // `ssh://git@host:group/repo.git` mixes the URL and the scp-like form.
                let fixed = format!("{scheme}://{user}{host}/{port}{path}");
                format!("write the path after a `/`, not a `:`: `{}`", mask_credentials(&fixed))
            };
            return problem(format!("has the port `{port}`, which is not a port number"), fix);
        }
    }
    if path.trim_matches('/').is_empty() {
        return problem(
            format!("names the server `{host}` but no repository on it"),
            format!("add the repository's path: `{}/group/repo.git`", shown.trim_end_matches('/')),
        );
    }
    None
}

/// True for a DNS host name (letters, digits, `-`, dot-separated labels) or an IPv4 address.
fn is_host_name(host: &str) -> bool {
    crate::formats::dns_labels(host.strip_suffix('.').unwrap_or(host))
}

/// Why Git refuses `name` as a branch, or `None` when it accepts it: the rules of
/// `git check-ref-format` for `refs/heads/<name>` (git-scm.com/docs/git-check-ref-format),
/// plus the two `git branch` adds (no leading `-`, not `HEAD`).
pub fn branch_problem(name: &str) -> Option<Problem> {
    let reason = branch_reason(name)?;
    let fix = match branch_suggestion(name) {
        Some(s) if branch_reason(&s).is_none() && s != name => format!("write e.g. `{s}`"),
        _ => "write a branch name such as `main` or `release/2026-11`".to_owned(),
    };
    problem(reason, fix)
}

fn branch_reason(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("is empty".into());
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Some(format!("contains the control character U+{:04X}", u32::from(c)));
    }
    if let Some(c) = name.chars().find(|c| " ~^:?*[\\".contains(*c)) {
        let what = if c == ' ' { "a space".to_owned() } else { format!("`{c}`") };
        return Some(format!("contains {what}, which Git does not allow in a branch name"));
    }
    if name.contains("..") {
        return Some("contains `..`, which Git does not allow in a branch name".into());
    }
    if name.contains("@{") {
        return Some("contains `@{`, which Git reads as a reflog reference".into());
    }
    if name == "@" {
        return Some("is `@`, which Git reads as `HEAD`".into());
    }
    if name == "HEAD" {
        return Some("is `HEAD`, which Git refuses as a branch name".into());
    }
    if name.starts_with('-') {
        return Some("starts with `-`, which Git refuses (it would read as an option)".into());
    }
    if name.starts_with('/') || name.ends_with('/') || name.contains("//") {
        return Some("starts or ends with `/` or has an empty part between two `/`".into());
    }
    if name.ends_with('.') {
        return Some("ends with `.`, which Git does not allow".into());
    }
    for part in name.split('/') {
        if part.starts_with('.') {
            return Some(format!("has the part `{part}`, which starts with `.`"));
        }
        if part.ends_with(".lock") {
            return Some(format!(
                "has the part `{part}`, which ends with `.lock` (Git's lock files)"
            ));
        }
    }
    None
}

/// `name` with what Git refuses replaced or removed, for the help line.
fn branch_suggestion(name: &str) -> Option<String> {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_control() || " ~^:?*[\\".contains(c) { '-' } else { c })
        .collect();
    while s.contains("..") {
        s = s.replace("..", ".");
    }
    while s.contains("//") {
        s = s.replace("//", "/");
    }
    s = s.replace("@{", "-");
    let parts: Vec<String> = s
        .split('/')
        .map(|p| {
            let p = p.trim_start_matches('.');
            let p = p.strip_suffix(".lock").unwrap_or(p);
            p.trim_matches('-').to_owned()
        })
        .filter(|p| !p.is_empty())
        .collect();
    let mut s = parts.join("/");
    while s.ends_with('.') {
        s.pop();
    }
    (!s.is_empty()).then_some(s)
}

/// True for `a/b/c.yaml`-style relative paths: not absolute, no `.`/`..` or empty segments, no
/// backslashes, colons or control characters. Every path the renderer writes passes this, and
/// so must the repository folder the spec names (`gitops.path`).
pub fn is_safe_relative_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && !path.contains(':')
        && !path.chars().any(char::is_control)
        && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

/// Why `gitops.path` cannot hold the rendered output, or `None` when it can. Slashes at its
/// ends are dropped (`/platform/` is `platform`); empty is the repository root.
pub fn folder_problem(path: &str) -> Option<Problem> {
    let root = path.trim_matches('/');
    if root.is_empty() || is_safe_relative_path(root) {
        return None;
    }
    let cleaned: Vec<&str> = root
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != "." && *s != ".." && !s.contains(':'))
        .filter(|s| !s.chars().any(char::is_control))
        .collect();
    let fix = if cleaned.is_empty() {
        "write a folder such as `platform`, or leave it empty for the repository root".to_owned()
    } else {
        format!("write a folder inside the repository, e.g. `{}`", cleaned.join("/"))
    };
    problem("is not a folder inside the repository (no `..`, `.`, `\\`, `:` or empty parts)", fix)
}

/// Why Flux refuses `interval`, or `None`: Flux's API types validate every interval against
/// `^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$` (Go durations without `ns`, `us` or a sign).
pub fn interval_problem(interval: &str) -> Option<Problem> {
    if is_flux_duration(interval) {
        return None;
    }
    let fix = match crate::formats::days_as_hours(interval) {
        Some(hours) => format!("write `{hours}`: Flux intervals have no days"),
        None => {
            "write a duration such as `10m`, `1h` or `1m30s` (units `ms`, `s`, `m`, `h`)".to_owned()
        }
    };
    problem("is not a Flux interval", fix)
}

fn is_flux_duration(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return false;
            }
            rest = &frac[n..];
        }
        rest = if let Some(r) = rest.strip_prefix("ms") {
            r
        } else if let Some(r) = rest.strip_prefix(['s', 'm', 'h']) {
            r
        } else {
            return false;
        };
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_urls_the_engines_accept() {
        for ok in [
            "ssh://git@git.example.eu/platform/beach.git",
            "https://git.example.eu/platform/beach.git",
            "http://git.internal/platform/beach.git",
            "ssh://git@git.example.eu:2222/platform/beach.git",
            "ssh://git@[2001:db8::1]:22/p.git",
            "https://10.0.0.5/p.git",
        ] {
            assert_eq!(repo_url_problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn clone_urls_they_refuse_say_why_and_what_to_write() {
        let fix = |url: &str| repo_url_problem(url).map(|p| p.fix).unwrap_or_default();
        let reason = |url: &str| repo_url_problem(url).map(|p| p.reason).unwrap_or_default();
        assert!(reason("file:///srv/git/beach.git").contains("inside the cluster"));
        assert!(reason("/srv/git/beach.git").contains("path on this machine"));
        assert_eq!(
            fix("git@git.example.eu:platform/beach.git"),
            "write it as a URL: `ssh://git@git.example.eu/platform/beach.git`"
        );
        assert_eq!(
            fix("ssh://git@git.example.eu:platform/beach.git"),
            "write the path after a `/`, not a `:`: `ssh://git@git.example.eu/platform/beach.git`"
        );
        assert_eq!(
            fix("git://git.example.eu/p.git"),
            "serve it over SSH or HTTPS: `ssh://git@git.example.eu/p.git`"
        );
        assert_eq!(fix("HTTPS://git.example.eu/p.git"), "write `https://git.example.eu/p.git`");
        assert!(reason("https://git.example.eu/").contains("no repository"));
        assert!(reason("https:///p.git").contains("no host"));
        assert!(reason("https://git_example/p.git").contains("not a host name"));
        assert!(reason("https://git.example.eu:99999/p.git").contains("not a port"));
        assert!(reason("https://git.example.eu/my repo.git").contains("white space"));
        assert!(reason("s3://bucket/p.git").contains("neither Flux nor Argo CD"));
        assert!(reason("").contains("empty"));
        // A password never reaches a message.
        for url in [
            "HTTPS://deploy:hunter2@git.example.eu/p.git",
            "https://deploy:hunter2@git.example.eu:group/p.git",
            "git://deploy:hunter2@git.example.eu/p.git",
            "https://deploy:hunter2@git.example.eu/",
        ] {
            let p = repo_url_problem(url).unwrap();
            assert!(!p.fix.contains("hunter2") && !p.reason.contains("hunter2"), "{p:?}");
        }
    }

    #[test]
    fn branch_names_follow_git_check_ref_format() {
        for ok in ["main", "release/2026-11", "feature/a.b", "v1.2", "user@host"] {
            assert_eq!(branch_problem(ok), None, "{ok}");
        }
        for (bad, fix) in [
            ("release 1.2", "`release-1.2`"),
            ("a..b", "`a.b`"),
            ("feature/", "`feature`"),
            ("/main", "`main`"),
            ("a//b", "`a/b`"),
            ("main.lock", "`main`"),
            (".hidden", "`hidden`"),
            ("x/.y", "`x/y`"),
            ("main.", "`main`"),
            ("a@{1}", "`a-1}`"),
            ("fix~1", "`fix-1`"),
            ("v^2", "`v-2`"),
            ("a:b", "`a-b`"),
            ("wh?t", "`wh-t`"),
            ("st*r", "`st-r`"),
            ("[x]", "`x]`"),
            ("back\\slash", "`back-slash`"),
            ("-main", "`main`"),
            ("tab\there", "`tab-here`"),
        ] {
            let p = branch_problem(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(p.fix.contains(fix), "{bad:?}: {p:?}");
        }
        for bad in ["", "@", "HEAD"] {
            let p = branch_problem(bad).unwrap_or_else(|| panic!("{bad:?} accepted"));
            assert!(p.fix.contains("`main`"), "{bad:?}: {p:?}");
        }
    }

    #[test]
    fn the_output_folder_stays_inside_the_repository() {
        for ok in ["", "/", "platform", "/deploy/homelab/", "a.b/c"] {
            assert_eq!(folder_problem(ok), None, "{ok}");
        }
        assert_eq!(
            folder_problem("../other").unwrap().fix,
            "write a folder inside the repository, e.g. `other`"
        );
        assert!(folder_problem("a/./b").is_some());
        assert!(folder_problem("C:\\repo").is_some());
        assert!(folder_problem("..").unwrap().fix.contains("`platform`"));
    }

    #[test]
    fn flux_intervals() {
        for ok in ["10m", "1h30m", "1.5h", "500ms", "30s"] {
            assert_eq!(interval_problem(ok), None, "{ok}");
        }
        assert!(interval_problem("1d").unwrap().fix.contains("`24h`"));
        for bad in ["", "10", "m", "-5m", "10 m", "1.m", "5us"] {
            assert!(interval_problem(bad).is_some(), "{bad}");
        }
    }
}
