//! Source files and positions, so spans can be turned into `file:line:column` and excerpts.

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A position: 1-based line and 1-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column in characters, from 1.
    pub col: u32,
}

/// A range in one file; `end` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file.
    pub file: FileId,
    /// First character.
    pub start: Pos,
    /// One past the last character.
    pub end: Pos,
}

impl Span {
    /// A span covering one position only.
    pub fn point(file: FileId, pos: Pos) -> Span {
        Span { file, start: pos, end: Pos { line: pos.line, col: pos.col + 1 } }
    }
}

/// One named text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name shown to the user, usually the path as given on the command line.
    pub name: String,
    /// The full text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Returns line `line` (1-based) without its line break.
    pub fn line(&self, line: u32) -> Option<&str> {
        let idx = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(idx)?;
        let end = self.line_starts.get(idx + 1).copied().unwrap_or(self.text.len());
        Some(self.text[start..end].trim_end_matches(['\n', '\r']))
    }

    /// Number of lines.
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The text a single-line span covers, or the rest of its first line.
    pub fn excerpt(&self, span: Span) -> Option<String> {
        let line = self.line(span.start.line)?;
        let from = (span.start.col as usize).saturating_sub(1);
        let to = if span.end.line == span.start.line {
            (span.end.col as usize).saturating_sub(1).max(from + 1)
        } else {
            usize::MAX
        };
        let text: String = line.chars().skip(from).take(to.saturating_sub(from)).collect();
        Some(text)
    }
}

/// All files a run has read, addressed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Registers a file and returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        if line_starts.len() > 1 && *line_starts.last().unwrap_or(&0) == text.len() {
            line_starts.pop();
        }
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile { name: name.into(), text, line_starts });
        id
    }

    /// Looks a file up.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The display name of a file, or `<unknown>`.
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.name.as_str()).unwrap_or("<unknown>")
    }

    /// All files in registration order.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_excerpts() {
        let mut sources = Sources::new();
        let id = sources.add("a.yaml", "a: 1\nmtu: 1450\n");
        let file = sources.get(id).unwrap();
        assert_eq!(file.line_count(), 2);
        assert_eq!(file.line(2), Some("mtu: 1450"));
        assert_eq!(file.line(3), None);
        let span = Span { file: id, start: Pos { line: 2, col: 6 }, end: Pos { line: 2, col: 10 } };
        assert_eq!(file.excerpt(span).as_deref(), Some("1450"));
    }
}
