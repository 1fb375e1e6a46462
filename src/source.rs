//! Source files, byte spans and the line/column locations derived from them.
//!
//! Every value guard reasons about carries a [`Span`]: the file it came from and
//! its byte range. Lines and columns are computed from the file's line index
//! only when a finding is rendered, so they can never drift from the text.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in [`SourceMap`]. Cheap to copy, stable for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file. `start..end`, `end` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { file, start, end }
    }

    /// A span that covers both `self` and `other` (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// A 1-based line and column. Columns count Unicode scalar values, the
/// `unicodeCodePoints` column kind of SARIF.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct LineCol {
    pub line: u32,
    pub column: u32,
}

/// One file as read from disk, with its line index.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// The file's identity: relative to the project root, `/`-separated
    /// (classification, fingerprints and messages use it, so they never
    /// depend on where guard runs).
    ///
    /// This path and the two below are shared with the file's discovery
    /// [`Candidate`], and with each other when they are the same text.
    ///
    /// [`Candidate`]: crate::discover::Candidate
    pub path: Arc<str>,
    /// The path as shown in locations: relative to the current directory.
    pub shown: Arc<str>,
    /// Relative to the file's project root (SARIF `%SRCROOT%`).
    pub uri: Arc<str>,
    /// Path on disk.
    pub disk_path: Arc<Path>,
    pub text: String,
    /// Where each line starts: built when a location in the file is first
    /// asked for (most files of a large tree never are, and the index is
    /// a sixth of the size of the text).
    line_starts: std::sync::OnceLock<Vec<u32>>,
    /// Byte offset in `path` where environment evidence starts: directories
    /// above the checked root (`~/dev/` in `guard check dev/repo`) say
    /// nothing about the files' environment.
    pub env_start: usize,
}

impl SourceFile {
    pub fn new(id: FileId, path: String, disk_path: PathBuf, text: String) -> SourceFile {
        SourceFile::shared(id, path.into(), disk_path.into(), text)
    }

    /// [`SourceFile::new`] with paths that are already shared (a
    /// candidate's); `shown` and `uri` start as `path`.
    pub fn shared(id: FileId, path: Arc<str>, disk_path: Arc<Path>, text: String) -> SourceFile {
        SourceFile {
            id,
            shown: path.clone(),
            uri: path.clone(),
            path,
            disk_path,
            text,
            line_starts: std::sync::OnceLock::new(),
            env_start: 0,
        }
    }

    /// The identity path fingerprints hash.
    pub fn id_path(&self) -> &str {
        &self.path
    }

    /// The span's text, at most `max` bytes of it (cut at a char boundary).
    pub fn slice_window(&self, span: Span, max: usize) -> &str {
        let s = self.slice(span);
        let mut end = s.len().min(max);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        &s[..end]
    }

    /// The part of the path that may name an environment (see `env_start`).
    pub fn env_path(&self) -> &str {
        self.path.get(self.env_start..).unwrap_or(&self.path)
    }

    /// The start of every line. One notion of a line for every parser and
    /// renderer: `\n`, `\r\n` and a lone `\r` (old Mac) each end one.
    fn line_starts(&self) -> &[u32] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0u32];
            let bytes = self.text.as_bytes();
            for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
                let breaks = bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n');
                if breaks {
                    starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                }
            }
            starts
        })
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// The 1-based line of a byte offset: a binary search, whatever the
    /// line's length (columns cost a scan of the line; lines do not).
    pub fn line_of(&self, offset: u32) -> u32 {
        let offset = offset.min(self.text.len() as u32);
        let idx = match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        idx as u32 + 1
    }

    /// The 1-based line and column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.text.len() as u32);
        let line_idx = match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts()[line_idx] as usize;
        let mut end = offset as usize;
        while end > start && !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text.get(start..end).map_or(0, |s| s.chars().count());
        LineCol {
            line: line_idx as u32 + 1,
            column: column as u32 + 1,
        }
    }

    /// Byte offset of a 0-based line and 0-based column counted in chars.
    pub fn offset_of(&self, line0: usize, col0_chars: usize) -> usize {
        let Some(&start) = self.line_starts().get(line0) else {
            return self.text.len();
        };
        let start = start as usize;
        let rest = self.text.get(start..).unwrap_or("");
        match rest.char_indices().nth(col0_chars) {
            Some((i, _)) => start + i,
            None => self.text.len(),
        }
    }

    /// Text of a 1-based line without its line terminator.
    pub fn line_text(&self, line: u32) -> &str {
        let idx = line.saturating_sub(1) as usize;
        let Some(&start) = self.line_starts().get(idx) else {
            return "";
        };
        let end = self
            .line_starts()
            .get(idx + 1)
            .map_or(self.text.len(), |&e| e as usize);
        self.text
            .get(start as usize..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// All files of one run, indexed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new(files: Vec<SourceFile>) -> SourceMap {
        SourceMap { files }
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    pub fn path(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| &*f.path)
    }

    /// Resolve a span into a located range.
    pub fn locate(&self, span: Span) -> Location {
        match self.get(span.file) {
            Some(f) => Location {
                path: f.shown.to_string(),
                uri: f.uri.to_string(),
                start: f.line_col(span.start),
                end: f.line_col(span.end),
            },
            None => Location {
                path: "<unknown>".into(),
                uri: "<unknown>".into(),
                start: LineCol::default(),
                end: LineCol::default(),
            },
        }
    }
}

/// A span resolved to a path and line/column range, as renderers show it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Location {
    /// As shown: relative to the current directory.
    pub path: String,
    /// Relative to the project root (SARIF and GitHub annotations).
    #[serde(skip)]
    pub uri: String,
    pub start: LineCol,
    pub end: LineCol,
}

/// The directory part of a `/`-separated relative path (`""` at the top).
pub fn parent_dir(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Join a relative reference onto a `/`-separated directory and normalise
/// `.` and `..`. `None` when it climbs above the scan root or is absolute or
/// remote (a URL, `git::`, a registry address).
pub fn join_path(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') || rel.contains("://") || rel.contains("::") {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_relative_paths() {
        assert_eq!(
            join_path("environments/prod", "../../modules/rds").as_deref(),
            Some("modules/rds")
        );
        assert_eq!(join_path("a", "./b/").as_deref(), Some("a/b"));
        assert_eq!(join_path("a", "../.."), None);
        assert_eq!(
            join_path("a", "github.com/x//y?ref=1"),
            Some("a/github.com/x/y?ref=1".into())
        );
        assert_eq!(join_path("a", "git::https://x"), None);
        assert_eq!(parent_dir("a/b/c.yaml"), "a/b");
        assert_eq!(parent_dir("c.yaml"), "");
    }

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "a.yaml".into(), "a.yaml".into(), text.into())
    }

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        let f = file("ab\ncdé f\n");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // 'é' is two bytes; ' ' after it is column 4.
        let space = f.text.find(" f").unwrap() as u32;
        assert_eq!(f.line_col(space), LineCol { line: 2, column: 4 });
        assert_eq!(f.offset_of(1, 3), space as usize);
        assert_eq!(f.line_text(2), "cdé f");
    }

    #[test]
    fn offsets_past_the_end_are_clamped() {
        let f = file("x");
        assert_eq!(f.line_col(99), LineCol { line: 1, column: 2 });
        assert_eq!(f.offset_of(7, 0), 1);
        assert_eq!(f.line_text(9), "");
    }
}
