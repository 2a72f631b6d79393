//! Container image references, checked against the OCI distribution reference grammar, so a
//! malformed or hostile `image:` (control characters, upper case, spaces, flags) is a located
//! error in the spec instead of a broken or surprising line in a rendered Deployment.
//!
//! The grammar (distribution/reference, as used by every registry client):
//! `[host[:port]/]path[:tag][@digest]`, where a path is lowercase components
//! (`[a-z0-9]+` joined by `.`, `_`, `__` or dashes) separated by `/`, a tag is
//! `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, and a digest is `algorithm:hex` with at least 32 hex
//! digits. The first component is a host when it holds a `.` or a `:`, or is `localhost`.

/// The parts of a valid reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Registry host with optional port, when written.
    pub host: Option<&'a str>,
    /// Repository path below the host.
    pub path: &'a str,
    /// Tag, when written.
    pub tag: Option<&'a str>,
    /// Digest (`sha256:…`), when written.
    pub digest: Option<&'a str>,
}

/// Why a reference is not valid, and the corrected reference when one is obvious.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError {
    /// A short reason, lowercase, no trailing period.
    pub reason: String,
    /// The reference with the obvious fix applied (e.g. the path lowercased).
    pub suggestion: Option<String>,
}

/// Longest repository name (host and path) registries accept.
const MAX_NAME: usize = 255;

fn err(reason: impl Into<String>) -> ImageError {
    ImageError { reason: reason.into(), suggestion: None }
}

/// Parses and validates an image reference.
pub fn parse(text: &str) -> Result<ImageRef<'_>, ImageError> {
    if text.is_empty() {
        return Err(err("the reference is empty"));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(err(format!("it contains the control character U+{:04X}", u32::from(c))));
    }
    if text.chars().any(char::is_whitespace) {
        return Err(err("it contains white space; an image reference is one word"));
    }
    if !text.is_ascii() {
        return Err(err("it contains characters outside ASCII"));
    }
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    // A tag follows the last `:` after the last `/` (a `:` before it is a port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if name.is_empty() {
        return Err(err("the repository name is missing"));
    }
    if name.len() > MAX_NAME {
        return Err(err(format!("the repository name is longer than {MAX_NAME} characters")));
    }
    let (host, path) = match name.split_once('/') {
        Some((first, path))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (Some(first), path)
        }
        _ => (None, name),
    };
    if let Some(host) = host {
        check_host(host)?;
    }
    if let Err(mut e) = check_path(path) {
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            let lower = path.to_ascii_lowercase();
            if check_path(&lower).is_ok() {
                let mut fixed = String::new();
                if let Some(host) = host {
                    fixed.push_str(&host.to_ascii_lowercase());
                    fixed.push('/');
                }
                fixed.push_str(&lower);
                fixed.push_str(&text[name.len()..]);
                e.suggestion = Some(fixed);
            }
        }
        return Err(e);
    }
    Ok(ImageRef { host, path, tag, digest })
}

fn check_host(host: &str) -> Result<(), ImageError> {
    let (name, port) = if let Some(v6) = host.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(err(format!("registry `{host}` opens `[` without closing it")));
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(err(format!("`{addr}` is not an IPv6 address")));
        }
        match after {
            "" => return Ok(()),
            _ => match after.strip_prefix(':') {
                Some(port) => (None, Some(port)),
                None => return Err(err(format!("registry `{host}` has text after `]`"))),
            },
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(host), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(err(format!("registry port `{port}` is not a number")));
    }
    if let Some(name) = name {
        let ok = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !ok {
            return Err(err(format!("registry `{name}` is not a host name")));
        }
    }
    Ok(())
}

fn check_path(path: &str) -> Result<(), ImageError> {
    if path.is_empty() {
        return Err(err("the repository path after the registry is missing"));
    }
    for component in path.split('/') {
        if component.is_empty() {
            return Err(err("the repository path has an empty component (`//` or a trailing `/`)"));
        }
        if let Some(c) = component.chars().find(|c| c.is_ascii_uppercase()) {
            return Err(err(format!(
                "repository path component `{component}` contains the upper-case letter `{c}`; paths are lowercase"
            )));
        }
        if !path_component_ok(component) {
            return Err(err(format!(
                "repository path component `{component}` is not lowercase letters and digits joined by `.`, `_`, `__` or `-`"
            )));
        }
    }
    Ok(())
}

/// `[a-z0-9]+ ( ( [._] | __ | -+ ) [a-z0-9]+ )*`
fn path_component_ok(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        let sep_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[sep_start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
}

fn check_tag(tag: &str) -> Result<(), ImageError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else if bytes.is_empty() {
        Err(err("the tag after `:` is empty"))
    } else if bytes.len() > 128 {
        Err(err("the tag is longer than 128 characters"))
    } else {
        Err(err(format!(
            "tag `{tag}` must start with a letter, digit or `_` and hold only letters, digits, `_`, `.` and `-`"
        )))
    }
}

fn check_digest(digest: &str) -> Result<(), ImageError> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(err(format!("digest `{digest}` is not `algorithm:hex`, e.g. `sha256:…`")));
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '-', '_']).all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if !algorithm_ok {
        return Err(err(format!("digest algorithm `{algorithm}` is not a name such as `sha256`")));
    }
    if hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(err("the digest is not at least 32 hexadecimal digits"));
    }
    if algorithm == "sha256" && hex.len() != 64 {
        return Err(err(format!(
            "a sha256 digest has 64 hexadecimal digits, this one {}",
            hex.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn accepts_what_registries_accept() {
        for ok in [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "registry.example.eu/shop/web:1.4.2",
            "registry.example.eu:5000/shop/web:v1.4.2-rc.1",
            "localhost/app:1",
            "localhost:5000/app",
            "[::1]:5000/app:1",
            "ghcr.io/loft-sh/vcluster:0.20.0",
            "Reg.Example.org/lower/x:1",
            "reg.example.org/a__b/c--d/e.f_g:TAG_1",
            &format!("registry.example.eu/shop/web@{DIGEST}"),
            &format!("registry.example.eu/shop/web:1.4.2@{DIGEST}"),
        ] {
            assert!(parse(ok).is_ok(), "{ok}: {:?}", parse(ok));
        }
        let parsed = parse("registry.example.eu:5000/shop/web:1.4").unwrap();
        assert_eq!(parsed.host, Some("registry.example.eu:5000"));
        assert_eq!(parsed.path, "shop/web");
        assert_eq!(parsed.tag, Some("1.4"));
    }

    #[test]
    fn rejects_malformed_and_hostile_references() {
        for bad in [
            "",
            "reg.example.org/x:1\u{1b}[2J",
            "reg.example.org/x:1 --privileged",
            "../../etc/passwd\nkind: Secret",
            "Reg.Example.org/UPPER/x:1",
            "registry.example.eu/shop/web:",
            "registry.example.eu/",
            "registry.example.eu//web",
            "registry.example.eu/shop/-web",
            "registry.example.eu/shop/web:-1",
            "registry.example.eu/shop/web@sha256:abc",
            "registry.example.eu:port/web",
            "/web",
            ":1",
            "web@",
            "reg.example.org/x:1\u{7f}",
            "reg.example.org/café:1",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} passed");
        }
    }

    #[test]
    fn upper_case_paths_get_the_lowercase_spelling() {
        let e = parse("Reg.Example.org/UPPER/x:1").unwrap_err();
        assert!(e.reason.contains("UPPER"), "{}", e.reason);
        assert_eq!(e.suggestion.as_deref(), Some("reg.example.org/upper/x:1"));
    }
}
