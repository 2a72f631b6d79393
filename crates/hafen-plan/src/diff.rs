//! A small line diff (longest common subsequence) printed as a unified diff, so the exit plan
//! can show the retargeted spec without a diff dependency.

/// Unified diff of `a` → `b` with `context` lines around each change; empty when equal.
pub fn unified(a: &str, b: &str, from: &str, to: &str, context: usize) -> String {
    let x: Vec<&str> = a.lines().collect();
    let y: Vec<&str> = b.lines().collect();
    // Trim the common prefix and suffix so the quadratic table covers only the changed middle.
    let mut pre = 0;
    while pre < x.len() && pre < y.len() && x[pre] == y[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < x.len() - pre && suf < y.len() - pre && x[x.len() - 1 - suf] == y[y.len() - 1 - suf]
    {
        suf += 1;
    }
    let xm = &x[pre..x.len() - suf];
    let ym = &y[pre..y.len() - suf];
    if xm.is_empty() && ym.is_empty() {
        return String::new();
    }
    // Edit script over the middle: ' ' keep, '-' delete, '+' insert.
    let (n, m) = (xm.len(), ym.len());
    let mut ops: Vec<(char, &str)> = Vec::new();
    if n.saturating_mul(m) <= 4_000_000 {
        let mut t = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i * (m + 1) + j] = if xm[i] == ym[j] {
                    t[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && xm[i] == ym[j] {
                ops.push((' ', xm[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
                ops.push(('-', xm[i]));
                i += 1;
            } else {
                ops.push(('+', ym[j]));
                j += 1;
            }
        }
    } else {
        ops.extend(xm.iter().map(|l| ('-', *l)));
        ops.extend(ym.iter().map(|l| ('+', *l)));
    }
    let mut all: Vec<(char, &str)> = x[..pre].iter().map(|l| (' ', *l)).collect();
    all.extend(ops);
    all.extend(x[x.len() - suf..].iter().map(|l| (' ', *l)));
    // Group into hunks.
    let changed: Vec<usize> =
        all.iter().enumerate().filter(|(_, o)| o.0 != ' ').map(|(i, _)| i).collect();
    let mut out = format!("--- {from}\n+++ {to}\n");
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(context);
        let mut end = (changed[k] + context + 1).min(all.len());
        while k + 1 < changed.len() && changed[k + 1] <= end + context {
            k += 1;
            end = (changed[k] + context + 1).min(all.len());
        }
        k += 1;
        let (mut a0, mut b0) = (0, 0);
        for op in &all[..start] {
            if op.0 != '+' {
                a0 += 1;
            }
            if op.0 != '-' {
                b0 += 1;
            }
        }
        let hunk = &all[start..end];
        let al = hunk.iter().filter(|o| o.0 != '+').count();
        let bl = hunk.iter().filter(|o| o.0 != '-').count();
        out.push_str(&format!("@@ -{},{al} +{},{bl} @@\n", a0 + 1, b0 + 1));
        for (op, line) in hunk {
            out.push(*op);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_give_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "a", "b", 3), "");
    }

    #[test]
    fn a_changed_line_is_one_hunk_with_context() {
        let a = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let b = "1\n2\n3\n4x\n5\n6\n7\n8\n";
        let d = unified(a, b, "old", "new", 2);
        assert_eq!(d, "--- old\n+++ new\n@@ -2,5 +2,5 @@\n 2\n 3\n-4\n+4x\n 5\n 6\n");
    }

    #[test]
    fn insertions_and_deletions_count_correctly() {
        let d = unified("a\nb\nc\n", "a\nc\nd\n", "x", "y", 1);
        assert_eq!(d, "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n");
    }
}
