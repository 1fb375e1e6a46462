//! A Markdown summary of a run, for a GitHub step summary or a pull-request
//! comment: the verdict, counts per rule and per environment, and the top
//! findings with links to their lines when the run is in GitHub Actions.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::sanitize;
use crate::Report;
use crate::finding::{Located, Severity};

/// How many findings the summary lists one by one.
const TOP: usize = 20;

/// A link to a location in the repository, when running in GitHub Actions
/// (`GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`, `GITHUB_SHA`).
fn link(f: &Located) -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").ok()?;
    let repo = std::env::var("GITHUB_REPOSITORY").ok()?;
    let sha = std::env::var("GITHUB_SHA").ok()?;
    Some(format!(
        "{server}/{repo}/blob/{sha}/{}#L{}",
        super::sarif::relative_uri(&f.location.uri),
        f.location.start.line
    ))
}

/// Text safe inside a Markdown table cell.
fn cell(s: &str) -> String {
    sanitize(s).replace('|', "\\|").replace('\n', " ")
}

pub fn render(report: &Report) -> String {
    let (e, w, n) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note),
    );
    let mut o = String::new();
    let verdict = if e + w + n == 0 {
        "no findings".to_string()
    } else {
        format!("{e} errors, {w} warnings, {n} notes")
    };
    let _ = write!(
        o,
        "## guard: {verdict}\n\n{} files checked",
        report.files_in_scope
    );
    let suppressed = report.suppressed();
    if suppressed > 0 || report.baselined > 0 {
        let _ = write!(
            o,
            "; {suppressed} suppressed, {} in the baseline ({} baseline entries fixed)",
            report.baselined, report.baseline_fixed
        );
    }
    o.push_str("\n\n");
    if e + w + n == 0 {
        return o;
    }
    // Per rule, with the environments its findings hold in.
    /// name, worst severity, findings, findings per environment label
    type Row<'a> = (&'a str, Severity, usize, BTreeMap<String, usize>);
    let mut rules: BTreeMap<&str, Row<'_>> = BTreeMap::new();
    for f in report.active() {
        let r = rules
            .entry(f.rule)
            .or_insert((f.name, f.severity, 0, BTreeMap::new()));
        r.1 = r.1.max(f.severity);
        r.2 += 1;
        let env = f.env_label().unwrap_or_else(|| "all".to_string());
        *r.3.entry(env).or_default() += 1;
    }
    o.push_str("| rule | name | severity | findings | environments |\n|---|---|---|---:|---|\n");
    for (id, (name, sev, count, envs)) in &rules {
        let envs: Vec<String> = envs.iter().map(|(e, n)| format!("{e} ({n})")).collect();
        let _ = writeln!(
            o,
            "| `{id}` | {name} | {} | {count} | {} |",
            sev.as_str(),
            cell(&envs.join(", "))
        );
    }
    let mut top: Vec<&Located> = report.active().collect();
    top.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let _ = writeln!(
        o,
        "\n<details><summary>{} findings{}</summary>\n\n| | rule | where | message |\n|---|---|---|---|",
        top.len(),
        if top.len() > TOP {
            format!(", the first {TOP}")
        } else {
            String::new()
        }
    );
    for f in top.iter().take(TOP) {
        let place = format!("{}:{}", f.location.path, f.location.start.line);
        let place = match link(f) {
            Some(url) => format!("[{}]({url})", cell(&place)),
            None => format!("`{}`", cell(&place)),
        };
        let _ = writeln!(
            o,
            "| {} | `{}` | {place} | {} |",
            f.severity.as_str(),
            f.rule,
            cell(&f.message)
        );
    }
    o.push_str("\n</details>\n");
    o
}
