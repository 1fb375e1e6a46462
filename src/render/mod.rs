//! Renderers: one file per output format. A renderer reads a finished
//! [`Report`](crate::Report) and never asks a rule anything.

pub mod envs;
pub mod explain;
pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;
pub mod table;
pub mod tap;
pub mod text;

use crate::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
    /// One line a finding: `path:line:col: ID message [env]`.
    Concise,
    /// TAP 13, as Conftest's `--output tap`: `not ok N - path:line:col - ID - message`.
    Tap,
    /// A table, as Conftest's `--output table`: result, place, rule, message.
    Table,
    /// JUnit XML, as Conftest's `--output junit`: a test suite per rule, a failing test case per finding.
    Junit,
}

/// Options that change what a renderer prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    pub color: bool,
    pub stats: bool,
    /// GitHub annotations: at most this many (errors first), then one notice
    /// for the rest; 0: no limit.
    pub max_annotations: usize,
    /// Text: only the findings, no summary.
    pub quiet: bool,
}

/// Text from the scanned files made safe for a terminal or a CI log: control
/// characters (ESC, CR, lone line breaks, C1 controls) and bidirectional
/// overrides are written as `\u{..}` escapes, so that a file can never
/// rewrite what a reader of the output sees. Tabs stay.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    sanitize_keeping(s, &['\t'])
}

/// [`sanitize`], keeping the control characters in `keep` (the GitHub
/// format encodes line breaks itself).
pub fn sanitize_keeping<'a>(s: &'a str, keep: &[char]) -> std::borrow::Cow<'a, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !keep.contains(&c))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

pub fn render(format: Format, report: &Report, opts: RenderOptions) -> String {
    match format {
        Format::Text => text::render(report, opts),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render_capped(report, opts.max_annotations),
        Format::Concise if opts.quiet => concise(report),
        Format::Concise => concise(report) + &concise_summary(report),
        Format::Tap => tap::render(report),
        Format::Table => table::render(report),
        Format::Junit => junit::render(report),
    }
}

/// The last line of `--format concise` (left out with `--quiet`): the text
/// summary's counts, without the time, so the output stays deterministic
/// (`Found 8 errors, 2 warnings, 0 notes in 12 files`, or `No findings in
/// 12 files`).
pub fn concise_summary(report: &Report) -> String {
    let head = found(report).unwrap_or_else(|| "No findings".to_string());
    let mut out = format!("{head} in {}\n", plural(report.files_in_scope, "file"));
    for l in [limits_line(report), over_cap_line(report)]
        .into_iter()
        .flatten()
    {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// `12345 findings past the run's cap of 10000 were not reported (BO001 9000, SEC002 3345); ...`.
pub(crate) fn over_cap_line(report: &Report) -> Option<String> {
    let total: usize = report.over_cap.iter().map(|(_, n)| n).sum();
    (total > 0).then(|| {
        let mut by_rule: Vec<&(String, usize)> = report.over_cap.iter().collect();
        by_rule.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let rules: Vec<String> = by_rule.iter().map(|(r, n)| format!("{r} {n}")).collect();
        format!(
            "{} past the run's cap of {} were not reported ({}); a capped run fails unless --fail-on never ([limits] max-findings)",
            plural(total, "finding"),
            report.findings.len(),
            rules.join(", ")
        )
    })
}

/// `3 inputs hit a safety limit ...`: said whenever a hostile-input limit was hit, even when
/// GD003 is ignored or suppressed (a configuration cannot raise its own limits and silence the
/// line that says so).
pub(crate) fn limits_line(report: &Report) -> Option<String> {
    use crate::parse::DiagKind;
    let n = report
        .model
        .diags
        .iter()
        .filter(|d| matches!(d.kind, DiagKind::Limit | DiagKind::TooLarge))
        .count();
    (n > 0).then(|| {
        format!(
            "{} a safety limit and {} not fully checked (GD003 lists {})",
            if n == 1 {
                "1 input hit".to_string()
            } else {
                format!("{n} inputs hit")
            },
            if n == 1 { "was" } else { "were" },
            if n == 1 { "it" } else { "them" }
        )
    })
}

/// `n word`, `n words`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `Found 8 errors, 2 warnings, 0 notes` (counting findings), or None
/// when there is none: the head of the text and concise summaries.
pub(crate) fn found(report: &Report) -> Option<String> {
    use crate::finding::Severity;
    let (e, w, n) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note),
    );
    (e + w + n > 0).then(|| {
        format!(
            "Found {}, {}, {}",
            plural(e, "error"),
            plural(w, "warning"),
            plural(n, "note")
        )
    })
}

/// A finding's place as one-line formats show it: `path:line:col`, the
/// path sanitized.
pub fn place(f: &crate::finding::Located) -> String {
    format!(
        "{}:{}:{}",
        sanitize(&f.location.path),
        f.location.start.line,
        f.location.start.column
    )
}

/// `path:line:col: ID message [environments]`, one line a counting finding.
pub fn concise(report: &Report) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    for f in report.active() {
        let _ = write!(out, "{}: {} {}", place(f), f.rule, sanitize(&f.message));
        if let Some(envs) = f.env_label() {
            let _ = write!(out, " [{envs}]");
        }
        out.push('\n');
    }
    out
}

/// `--statistics`: how many counting findings each rule has, most first
/// (then by id), as ruff prints them.
pub fn statistics(report: &Report) -> String {
    use std::collections::BTreeMap;
    use std::fmt::Write as _;
    let mut counts: BTreeMap<&str, (usize, &str, crate::finding::Severity)> = BTreeMap::new();
    for f in report.active() {
        let e = counts.entry(f.rule).or_insert((0, f.name, f.severity));
        e.0 += 1;
        e.2 = e.2.max(f.severity);
    }
    let mut rows: Vec<(&str, (usize, &str, crate::finding::Severity))> =
        counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let width = rows
        .iter()
        .map(|(_, (n, _, _))| n.to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = String::new();
    for (id, (n, name, sev)) in &rows {
        let _ = writeln!(out, "{n:>width$}\t{id}\t{:<7}\t{name}", sev.as_str());
    }
    let total: usize = rows.iter().map(|(_, (n, _, _))| n).sum();
    let _ = writeln!(out, "{total:>width$}\ttotal");
    out
}
