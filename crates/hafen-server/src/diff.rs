//! Line diffs between two renders, as unified hunks: common prefix and suffix are trimmed,
//! the middle is aligned by a longest-common-subsequence table with a size budget, so a
//! hostile or huge file cannot make the server spend unbounded time or memory.

use std::collections::BTreeMap;

/// Cells of the LCS table allowed per file (4 bytes each).
const MAX_CELLS: usize = 2_000_000;
/// Lines of context around each change.
const CONTEXT: usize = 3;

/// One line of a hunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Same,
    Add,
    Del,
}

impl Tag {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Tag::Same => "same",
            Tag::Add => "add",
            Tag::Del => "del",
        }
    }
}

/// A unified-diff hunk (line numbers 1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hunk {
    pub(crate) old_start: usize,
    pub(crate) old_len: usize,
    pub(crate) new_start: usize,
    pub(crate) new_len: usize,
    pub(crate) lines: Vec<(Tag, String)>,
}

/// The diff of one file; `None` hunks when the file is too large to align.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileDiff {
    pub(crate) hunks: Option<Vec<Hunk>>,
    pub(crate) added: usize,
    pub(crate) removed: usize,
}

/// What changed between two repositories.
#[derive(Debug, Default)]
pub(crate) struct RepoDiff<'a> {
    pub(crate) added: Vec<&'a str>,
    pub(crate) removed: Vec<&'a str>,
    pub(crate) changed: Vec<&'a str>,
    pub(crate) unchanged: usize,
}

/// Compares file maps by path and content.
pub(crate) fn repo_diff<'a>(
    old: &'a BTreeMap<String, String>,
    new: &'a BTreeMap<String, String>,
) -> RepoDiff<'a> {
    let mut d = RepoDiff::default();
    for (path, content) in new {
        match old.get(path) {
            None => d.added.push(path),
            Some(c) if c != content => d.changed.push(path),
            Some(_) => d.unchanged += 1,
        }
    }
    for path in old.keys() {
        if !new.contains_key(path) {
            d.removed.push(path);
        }
    }
    d
}

/// Line diff of two texts.
pub(crate) fn diff_lines(old: &str, new: &str) -> FileDiff {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix =
        a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let am = &a[prefix..a.len() - suffix];
    let bm = &b[prefix..b.len() - suffix];
    if am.len().saturating_mul(bm.len()) > MAX_CELLS {
        return FileDiff { hunks: None, added: bm.len(), removed: am.len() };
    }
    // ops over the whole files
    let mut ops: Vec<(Tag, &str)> = Vec::with_capacity(a.len() + b.len());
    ops.extend(a[..prefix].iter().map(|l| (Tag::Same, *l)));
    ops.extend(align(am, bm));
    ops.extend(a[a.len() - suffix..].iter().map(|l| (Tag::Same, *l)));
    let added = ops.iter().filter(|(t, _)| *t == Tag::Add).count();
    let removed = ops.iter().filter(|(t, _)| *t == Tag::Del).count();
    FileDiff { hunks: Some(hunks(&ops)), added, removed }
}

fn align<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Tag, &'a str)> {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    // lcs[i][j] = LCS length of a[i..] and b[j..]
    let mut lcs = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * w + j] = if a[i] == b[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let mut out = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            out.push((Tag::Same, a[i]));
            i += 1;
            j += 1;
        } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
            out.push((Tag::Del, a[i]));
            i += 1;
        } else {
            out.push((Tag::Add, b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| (Tag::Del, *l)));
    out.extend(b[j..].iter().map(|l| (Tag::Add, *l)));
    out
}

fn hunks(ops: &[(Tag, &str)]) -> Vec<Hunk> {
    let changes: Vec<usize> =
        ops.iter().enumerate().filter(|(_, (t, _))| *t != Tag::Same).map(|(i, _)| i).collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < changes.len() {
        let start = changes[k].saturating_sub(CONTEXT);
        let mut end = (changes[k] + CONTEXT + 1).min(ops.len());
        k += 1;
        while k < changes.len() && changes[k] <= end + CONTEXT {
            end = (changes[k] + CONTEXT + 1).min(ops.len());
            k += 1;
        }
        // line numbers at `start`
        let old_start = ops[..start].iter().filter(|(t, _)| *t != Tag::Add).count() + 1;
        let new_start = ops[..start].iter().filter(|(t, _)| *t != Tag::Del).count() + 1;
        let slice = &ops[start..end];
        out.push(Hunk {
            old_start,
            old_len: slice.iter().filter(|(t, _)| *t != Tag::Add).count(),
            new_start,
            new_len: slice.iter().filter(|(t, _)| *t != Tag::Del).count(),
            lines: slice.iter().map(|(t, l)| (*t, (*l).to_owned())).collect(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_changed_line_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\n";
        let d = diff_lines(old, new);
        assert_eq!((d.added, d.removed), (2, 1));
        let hunks = d.hunks.expect("small");
        assert_eq!(hunks.len(), 1);
        let h = &hunks[0];
        assert_eq!((h.old_start, h.new_start), (2, 2));
        assert!(h.lines.contains(&(Tag::Del, "e".into())));
        assert!(h.lines.contains(&(Tag::Add, "E".into())));
        assert!(h.lines.contains(&(Tag::Add, "i".into())));
    }

    #[test]
    fn separate_hunks_for_distant_changes() {
        let old: String = (0..40).map(|i| format!("l{i}\n")).collect();
        let new = old.replace("l2\n", "x\n").replace("l30\n", "y\n");
        let hunks = diff_lines(&old, &new).hunks.expect("small");
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[1].old_start, 28);
    }

    #[test]
    fn identical_and_budget() {
        assert_eq!(diff_lines("a\n", "a\n").hunks, Some(vec![]));
        let big_a: String = (0..3000).map(|i| format!("a{i}\n")).collect();
        let big_b: String = (0..3000).map(|i| format!("b{i}\n")).collect();
        let d = diff_lines(&big_a, &big_b);
        assert!(d.hunks.is_none());
        assert_eq!((d.added, d.removed), (3000, 3000));
    }

    #[test]
    fn repo_level() {
        let mut a = BTreeMap::new();
        a.insert("x".to_string(), "1".to_string());
        a.insert("y".to_string(), "1".to_string());
        let mut b = a.clone();
        b.remove("x");
        b.insert("y".into(), "2".into());
        b.insert("z".into(), "1".into());
        let d = repo_diff(&a, &b);
        assert_eq!(
            (d.added, d.removed, d.changed, d.unchanged),
            (vec!["z"], vec!["x"], vec!["y"], 0)
        );
    }
}
