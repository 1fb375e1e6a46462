//! TAP (Test Anything Protocol, version 13) (`--format tap`), the shape of Conftest's
//! `--output tap`: a plan `1..N`, then one `not ok` line per finding, errors first, then
//! `# warnings` (warnings) and `# notes` (notes), each line naming the file, line and column,
//! the rule and the message. guard counts no passing checks, so an empty report is the plan
//! `1..0` (TAP's "nothing to run"). One plan for the whole report, so the output is one valid
//! TAP stream (Conftest prints one plan per file).

use std::fmt::Write as _;

use super::{place, sanitize};
use crate::Report;
use crate::finding::{Located, Severity};

pub fn render(report: &Report) -> String {
    let by =
        |s: Severity| -> Vec<&Located> { report.active().filter(|f| f.severity == s).collect() };
    let groups = [
        (None, by(Severity::Error)),
        (Some("# warnings"), by(Severity::Warning)),
        (Some("# notes"), by(Severity::Note)),
    ];
    let total: usize = groups.iter().map(|(_, g)| g.len()).sum();
    let mut out = format!("1..{total}\n");
    let mut n = 0;
    for (header, findings) in &groups {
        if findings.is_empty() {
            continue;
        }
        if let Some(h) = header {
            out.push_str(h);
            out.push('\n');
        }
        for f in findings {
            n += 1;
            // A line break is written `\u{a}` (sanitize): one line per test.
            let message = sanitize(&f.message);
            let _ = write!(out, "not ok {n} - {} - {} - {}", place(f), f.rule, message);
            if let Some(envs) = f.env_label() {
                let _ = write!(out, " [{envs}]");
            }
            out.push('\n');
        }
    }
    out
}
