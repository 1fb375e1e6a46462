//! JUnit XML (`--format junit`), the shape of Conftest's `--output junit`: one `<testsuite>`
//! per rule (Conftest: per namespace), one failing `<testcase>` per finding named
//! `file:line:col - first line of the message` (Conftest: `file - message`), whose
//! `<failure>` holds the whole message, the severity, the environments and the rule's help.
//! Each test case also carries `file` and `line` attributes, which CI systems (GitLab, Jenkins)
//! use to link to the place. guard counts no passing checks, so a report without findings has
//! no test case (`tests="0"`). Text is escaped for XML; control characters other than tab and
//! line break, and characters XML 1.0 cannot hold, are written as `\u{..}`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::sanitize_keeping;
use crate::Report;
use crate::finding::{Located, Severity};

/// `s` escaped for XML text and attribute values.
pub fn escape(s: &str) -> String {
    let s = sanitize_keeping(s, &['\t', '\n']);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept by `sanitize_keeping`; in an attribute they would be normalised to spaces.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            // Not XML 1.0 characters.
            '\u{FFFE}' | '\u{FFFF}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

pub fn render(report: &Report) -> String {
    let mut suites: BTreeMap<&str, Vec<&Located>> = BTreeMap::new();
    for f in report.active() {
        suites.entry(f.rule).or_default().push(f);
    }
    let total: usize = suites.values().map(Vec::len).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"guard\" tests=\"{total}\" failures=\"{total}\" errors=\"0\">"
    );
    for (rule, findings) in &suites {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{n}\" errors=\"0\" skipped=\"0\">",
            escape(rule),
            n = findings.len()
        );
        for f in findings {
            let place = format!(
                "{}:{}:{}",
                f.location.path, f.location.start.line, f.location.start.column
            );
            let first = f.message.lines().next().unwrap_or("");
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">",
                escape(rule),
                escape(&format!("{place} - {first}")),
                escape(&f.location.path),
                f.location.start.line
            );
            let mut body = format!(
                "{place}: {} {}: {}",
                severity(f.severity),
                f.rule,
                f.message
            );
            if let Some(envs) = f.env_label() {
                let _ = write!(body, "\nenvironments: {envs}");
            }
            if let Some(r) = crate::rules::find(f.rule) {
                let _ = write!(body, "\nhelp: {} (guard explain {})", r.help, r.id);
            }
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(first),
                severity(f.severity),
                escape(&body)
            );
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
