//! The small Markdown subset the rule explanations (`docs/rules/*.md`) use, to HTML: headings,
//! paragraphs, lists, fenced code, simple tables, inline code, bold, links. Every piece of
//! text goes through the one escaping helper; links keep only http(s), relative and in-page
//! targets, so an explanation cannot smuggle a `javascript:` URL.

use crate::html::esc;

/// Renders Markdown to HTML.
pub(crate) fn to_html(md: &str) -> String {
    let mut out = String::new();
    let mut para: Vec<&str> = Vec::new();
    let mut list: Option<&'static str> = None;
    let mut lines = md.lines().peekable();
    let flush_para = |out: &mut String, para: &mut Vec<&str>| {
        if !para.is_empty() {
            out.push_str("<p>");
            out.push_str(&inline(&para.join(" ")));
            out.push_str("</p>\n");
            para.clear();
        }
    };
    let close_list = |out: &mut String, list: &mut Option<&'static str>| {
        if let Some(tag) = list.take() {
            out.push_str(&format!("</{tag}>\n"));
        }
    };
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if let Some(fence) = trimmed.strip_prefix("```") {
            flush_para(&mut out, &mut para);
            close_list(&mut out, &mut list);
            let lang = fence.trim();
            let mut code = String::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                code.push_str(l);
                code.push('\n');
            }
            let class = if lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !lang.is_empty()
            {
                format!(r#" class="lang-{lang}""#)
            } else {
                String::new()
            };
            out.push_str(&format!("<pre><code{class}>{}</code></pre>\n", esc(&code)));
            continue;
        }
        if trimmed.is_empty() {
            flush_para(&mut out, &mut para);
            close_list(&mut out, &mut list);
            continue;
        }
        let hashes = trimmed.chars().take_while(|c| *c == '#').count();
        if (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ') {
            flush_para(&mut out, &mut para);
            close_list(&mut out, &mut list);
            // The page already has an h1; explanation headings start one level lower.
            let level = (hashes + 1).min(6);
            out.push_str(&format!("<h{level}>{}</h{level}>\n", inline(trimmed[hashes..].trim())));
            continue;
        }
        if trimmed.starts_with('|') {
            flush_para(&mut out, &mut para);
            close_list(&mut out, &mut list);
            let mut rows = vec![trimmed];
            while let Some(next) = lines.peek() {
                if next.trim_start().starts_with('|') {
                    rows.push(next.trim_start());
                    lines.next();
                } else {
                    break;
                }
            }
            out.push_str(&table(&rows));
            continue;
        }
        let bullet = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* "));
        let numbered = trimmed
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .map(|(_, rest)| rest);
        if let Some((tag, item)) = bullet.map(|b| ("ul", b)).or_else(|| numbered.map(|n| ("ol", n)))
        {
            flush_para(&mut out, &mut para);
            if list != Some(tag) {
                close_list(&mut out, &mut list);
                out.push_str(&format!("<{tag}>\n"));
                list = Some(tag);
            }
            out.push_str(&format!("<li>{}</li>\n", inline(item)));
            continue;
        }
        if list.is_some() && line.starts_with("  ") {
            // Continuation of a list item: append to the last <li>.
            if out.ends_with("</li>\n") {
                out.truncate(out.len() - "</li>\n".len());
                out.push(' ');
                out.push_str(&inline(trimmed));
                out.push_str("</li>\n");
                continue;
            }
        }
        close_list(&mut out, &mut list);
        para.push(trimmed);
    }
    flush_para(&mut out, &mut para);
    close_list(&mut out, &mut list);
    out
}

fn table(rows: &[&str]) -> String {
    let cells = |row: &str| -> Vec<String> {
        row.trim().trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect()
    };
    let mut out = String::from("<table>\n");
    let is_rule = |row: &str| row.chars().all(|c| "|-: ".contains(c));
    let mut body_started = false;
    for (i, row) in rows.iter().enumerate() {
        if is_rule(row) {
            continue;
        }
        let header = i == 0 && rows.get(1).is_some_and(|r| is_rule(r));
        if header {
            out.push_str("<thead><tr>");
            for c in cells(row) {
                out.push_str(&format!("<th>{}</th>", inline(&c)));
            }
            out.push_str("</tr></thead>\n");
        } else {
            if !body_started {
                out.push_str("<tbody>\n");
                body_started = true;
            }
            out.push_str("<tr>");
            for c in cells(row) {
                out.push_str(&format!("<td>{}</td>", inline(&c)));
            }
            out.push_str("</tr>\n");
        }
    }
    if body_started {
        out.push_str("</tbody>\n");
    }
    out.push_str("</table>\n");
    out
}

/// Inline markup: `code`, **bold**, [text](url).
pub(crate) fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('`')
            && let Some(end) = after.find('`')
        {
            out.push_str(&format!("<code>{}</code>", esc(&after[..end])));
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("**")
            && let Some(end) = after.find("**")
        {
            out.push_str(&format!("<strong>{}</strong>", inline(&after[..end])));
            rest = &after[end + 2..];
            continue;
        }
        if let Some(after) = rest.strip_prefix('[')
            && let Some(close) = after.find("](")
            && let Some(end) = after[close + 2..].find(')')
        {
            let label = &after[..close];
            let url = &after[close + 2..close + 2 + end];
            if safe_url(url) {
                out.push_str(&format!(
                    r#"<a href="{}" rel="noreferrer">{}</a>"#,
                    esc(url),
                    inline(label)
                ));
            } else {
                out.push_str(&inline(label));
            }
            rest = &after[close + 3 + end..];
            continue;
        }
        // Plain text up to the next marker; the first character may be several bytes long.
        let first = rest.chars().next().map_or(1, char::len_utf8);
        let next = rest[first..].find(['`', '*', '[']).map(|i| i + first).unwrap_or(rest.len());
        out.push_str(&esc(&rest[..next]));
        rest = &rest[next..];
    }
    out
}

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with('#')
        || (lower.starts_with('/') && !lower.starts_with("//"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_subset() {
        let md = "# NET001: mtu\n\nArea: `network`\n\n## Fix\n- one **bold**\n- two [x](https://a.eu)\n\n```yaml\nmtu: <1340>\n```\n| a | b |\n|---|---|\n| 1 | 2 |\n";
        let html = to_html(md);
        assert!(html.contains("<h2>NET001: mtu</h2>"), "{html}");
        assert!(html.contains("<code>network</code>"));
        assert!(html.contains("<li>one <strong>bold</strong></li>"));
        assert!(html.contains(r#"<a href="https://a.eu" rel="noreferrer">x</a>"#));
        assert!(html.contains("mtu: &lt;1340&gt;"));
        assert!(html.contains("<th>a</th>") && html.contains("<td>2</td>"));
    }

    #[test]
    fn any_text_renders_without_panicking() {
        // Non-ASCII right after a closing backtick or an unmatched marker once sliced a char.
        for text in [
            "`NET002`—a dash",
            "`a`é",
            "**bold**ü and `x`…",
            "unclosed ` then — dash",
            "*ä",
            "[link](https://a.eu)→",
            "[ünclosed](",
            "`",
            "—",
            "`code` € `more`ß",
        ] {
            let html = to_html(text);
            assert!(!html.is_empty(), "{text}");
        }
        // Every explanation page of the catalogue renders.
        for code in hafen_engine::all_codes() {
            if let Some(page) = hafen_engine::explain(code.code) {
                assert!(!to_html(page.text).is_empty(), "{}", code.code);
            }
        }
    }

    #[test]
    fn refuses_script_urls_and_escapes_html() {
        let html = to_html("[click](javascript:alert(1)) <script>x</script>");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
    }
}
