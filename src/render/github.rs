//! GitHub Actions workflow commands (`--format github`): one `::error`,
//! `::warning` or `::notice` line per finding, which the runner turns into
//! an annotation on the file and line. Nothing else is printed; an empty
//! report is empty output.
//!
//! The runner rejects a command whose `col`/`endColumn` are set on a
//! multi-line range or whose `endColumn` is before `col`, so columns are only
//! written for single-line ranges.

use std::fmt::Write as _;

use crate::Report;
use crate::finding::{Located, Severity};
use crate::source::{Location, SourceFile};

/// The workflow command of a severity.
pub fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    }
}

/// Escape a command's message (`::…::{data}`).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (`file=`, `title=`): as data, plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report) -> String {
    render_capped(report, 0)
}

/// At most `max` annotations (0: all): GitHub shows only about ten of each
/// kind per step, so errors come first, then warnings, then notes, and one
/// notice says how many were left out (the SARIF upload has them all).
pub fn render_capped(report: &Report, max: usize) -> String {
    let sources = super::text::by_shown(report);
    let mut out = String::new();
    let mut active: Vec<&Located> = report.active().collect();
    if max > 0 && active.len() > max {
        // Stable: within a severity, the report's order.
        active.sort_by_key(|f| std::cmp::Reverse(f.severity));
    }
    let shown = if max == 0 {
        active.len()
    } else {
        max.min(active.len())
    };
    for f in &active[..shown] {
        let src = sources.get(f.location.path.as_str()).copied();
        annotation(&mut out, f, src);
    }
    if shown < active.len() {
        let rest = &active[shown..];
        let count = |s: Severity| rest.iter().filter(|f| f.severity == s).count();
        let _ = writeln!(
            out,
            "::notice title=guard::{} more findings are not annotated ({} errors, {} warnings, {} notes): see the job log, the step summary or code scanning",
            rest.len(),
            count(Severity::Error),
            count(Severity::Warning),
            count(Severity::Note)
        );
    }
    out
}

fn annotation(out: &mut String, f: &Located, src: Option<&SourceFile>) {
    let r = range(&f.location, |line| {
        src.map(|s| s.line_text(line).chars().count() as u32)
    });
    let _ = write!(
        out,
        "::{} file={},line={}",
        command(f.severity),
        escape_property(&f.location.uri),
        r.line
    );
    if let Some(col) = r.col {
        let _ = write!(out, ",col={col}");
    }
    let _ = write!(out, ",endLine={}", r.end_line);
    if let Some(end) = r.end_col {
        let _ = write!(out, ",endColumn={end}");
    }
    let _ = write!(
        out,
        ",title={}::",
        escape_property(&format!("{} {}", f.rule, f.name))
    );
    // Line breaks are encoded below (%0A); ESC and the rest are escaped.
    let mut message = super::sanitize_keeping(&f.message, &['\t', '\n', '\r']).into_owned();
    if let Some(envs) = f.env_label() {
        let _ = write!(message, " [environment: {envs}]");
    }
    if let Some(rule) = crate::rules::find(f.rule) {
        let _ = write!(message, "\nhelp: {} (guard explain {})", rule.help, rule.id);
    }
    out.push_str(&escape_data(&message));
    out.push('\n');
}

/// An annotation's range. Columns are 1-based and `end_col` exclusive, as
/// in [`Location`]; both are `None` unless the range is on one line.
#[derive(Debug, PartialEq, Eq)]
struct Range {
    line: u32,
    col: Option<u32>,
    end_line: u32,
    end_col: Option<u32>,
}

/// `line_len` gives the length in characters of a 1-based line, when known.
fn range(l: &Location, line_len: impl Fn(u32) -> Option<u32>) -> Range {
    let line = l.start.line.max(1);
    let col = l.start.column.max(1);
    let (mut end_line, mut end_col) = (l.end.line.max(1), Some(l.end.column.max(1)));
    if (end_line, end_col) < (line, Some(col)) {
        (end_line, end_col) = (line, Some(col));
    }
    // A span that ends just past a line break ends at the end of the line
    // before: `key: value\n` is a one-line range.
    if end_line > line && end_col == Some(1) {
        end_line -= 1;
        end_col = line_len(end_line).map(|n| (n + 1).max(col));
    }
    if end_line == line {
        Range {
            line,
            col: Some(col),
            end_line,
            end_col,
        }
    } else {
        Range {
            line,
            col: None,
            end_line,
            end_col: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::render::json::test_report;
    use crate::source::{FileId, LineCol, Span};

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% a:b, c\r\nd"), "50%25 a:b, c%0D%0Ad");
        assert_eq!(
            escape_property("dir,x/a:b 100%.yaml\n"),
            "dir%2Cx/a%3Ab 100%25.yaml%0A"
        );
        // `%` first, so escapes are never double-escaped or undone.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn commands() {
        assert_eq!(command(Severity::Error), "error");
        assert_eq!(command(Severity::Warning), "warning");
        assert_eq!(command(Severity::Note), "notice");
    }

    #[test]
    fn one_line_per_finding() {
        let text = "kind: Deployment\nspec:\n  image: nginx:latest\n";
        let at = text.find("nginx").unwrap();
        let r = test_report(
            &[("k8s/a,b.yaml", text), ("x.yaml", "a: 1\nb: 2\n")],
            vec![
                Finding::new(
                    "BO001",
                    Severity::Error,
                    Span::new(FileId(0), at, at + 12),
                    "image `nginx:latest` uses the mutable tag `latest`".into(),
                )
                .env(crate::env::EnvSet::builtin().named("prod")),
                Finding::new(
                    "SEC001",
                    Severity::Warning,
                    Span::new(FileId(1), 0, 10),
                    "100% a secret\nsecond line".into(),
                ),
                Finding::new(
                    "XX001",
                    Severity::Note,
                    Span::new(FileId(1), 0, 4),
                    "unknown rule".into(),
                ),
            ],
        );
        let out = render(&r);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(out.ends_with('\n'));
        assert_eq!(
            lines[0],
            "::error file=k8s/a%2Cb.yaml,line=3,col=10,endLine=3,endColumn=22,\
             title=BO001 mutable-image-tag::image `nginx:latest` uses the mutable tag `latest` \
             [environment: prod]%0Ahelp: deploy an immutable tag produced by the build \
             (commit SHA or version) or a digest (guard explain BO001)"
        );
        // Sorted by path, then line: x.yaml 1:1 twice, SEC001 then XX001.
        // A two-line span: no columns.
        assert!(
            lines[1].starts_with(
                "::warning file=x.yaml,line=1,endLine=2,title=SEC001 secret-in-configmap::100%25 a secret%0Asecond line%0Ahelp: "
            ),
            "{}",
            lines[1]
        );
        assert_eq!(
            lines[2],
            "::notice file=x.yaml,line=1,col=1,endLine=1,endColumn=5,title=XX001 unknown::unknown rule"
        );
    }

    #[test]
    fn empty_report_is_empty_output() {
        assert_eq!(render(&test_report(&[], vec![])), "");
    }

    #[test]
    fn ranges() {
        let lc = |line, column| LineCol { line, column };
        let loc = |s, e| Location {
            path: "x".into(),
            uri: "x".into(),
            start: s,
            end: e,
        };
        let len = |_| Some(10);
        let r = |line, col, end_line, end_col| Range {
            line,
            col,
            end_line,
            end_col,
        };
        assert_eq!(
            range(&loc(lc(2, 3), lc(2, 7)), len),
            r(2, Some(3), 2, Some(7))
        );
        // Ends just past the line break: the end of line 2.
        assert_eq!(
            range(&loc(lc(2, 3), lc(3, 1)), len),
            r(2, Some(3), 2, Some(11))
        );
        assert_eq!(
            range(&loc(lc(2, 3), lc(3, 1)), |_| None),
            r(2, Some(3), 2, None)
        );
        assert_eq!(range(&loc(lc(2, 3), lc(4, 2)), len), r(2, None, 4, None));
        assert_eq!(range(&loc(lc(2, 3), lc(4, 1)), len), r(2, None, 3, None));
        // Empty and reversed spans, and a missing location.
        assert_eq!(
            range(&loc(lc(2, 3), lc(2, 3)), len),
            r(2, Some(3), 2, Some(3))
        );
        assert_eq!(
            range(&loc(lc(2, 3), lc(1, 9)), len),
            r(2, Some(3), 2, Some(3))
        );
        assert_eq!(
            range(&loc(lc(0, 0), lc(0, 0)), len),
            r(1, Some(1), 1, Some(1))
        );
    }
}
