//! `guard explain PLACE`: the findings at one place of the project (a
//! `FILE:LINE[:COLUMN]`, or a finding's fingerprint from the JSON/SARIF
//! output or a baseline), each drawn as `guard check` draws it, then what
//! decided it: the environments it holds in and the evidence for each
//! (the file's, the document's, the Kustomize overlays and the Helm
//! rendering or GitOps application it came through), the provenance chain
//! step by step, whether it counts, and how to fix or accept it.
//!
//! A place on a provenance step selects the findings whose chain passes
//! there: `guard explain values-prod.yaml:4` shows the finding reported at
//! the template line that printed that value.

use std::fmt::Write as _;

use crate::Report;
use crate::finding::{Located, Severity, SuppressionKind};
use crate::source::{Location, SourceFile};

/// What `guard explain` was asked about, when it is not a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A path (as given), a line and maybe a column (1-based).
    At {
        path: String,
        line: u32,
        column: Option<u32>,
    },
    /// A finding's fingerprint (32 hex digits).
    Fingerprint(String),
}

impl Place {
    /// `FILE:LINE`, `FILE:LINE:COLUMN` or a fingerprint; None otherwise.
    pub fn parse(s: &str) -> Option<Place> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(Place::Fingerprint(s.to_ascii_lowercase()));
        }
        let number = |t: &str| t.parse::<u32>().ok().filter(|&n| n > 0);
        let (head, last) = s.rsplit_once(':')?;
        let last = number(last)?;
        if let Some((path, line)) = head.rsplit_once(':')
            && let Some(line) = number(line)
            && !path.is_empty()
        {
            return Some(Place::At {
                path: path.to_string(),
                line,
                column: Some(last),
            });
        }
        if head.is_empty() {
            return None;
        }
        Some(Place::At {
            path: head.to_string(),
            line: last,
            column: None,
        })
    }
}

/// How a finding was selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Reported at the place.
    Reported,
    /// A step of its chain (or another place it names) is there: the index
    /// into `related`.
    Step(usize),
}

pub struct Selected<'a> {
    pub finding: &'a Located,
    pub how: Match,
}

/// Does a location cover `line` (and `column`, when given)?
fn covers(loc: &Location, uri: &str, line: u32, column: Option<u32>) -> bool {
    if loc.uri != uri || line < loc.start.line || line > loc.end.line {
        return false;
    }
    let Some(col) = column else {
        return true;
    };
    let after_start = line > loc.start.line || col >= loc.start.column;
    let before_end = line < loc.end.line || col <= loc.end.column.max(loc.start.column);
    after_start && before_end
}

/// The findings at a place: `uri` is the place's path relative to the
/// project root (what [`Location::uri`] holds). Those reported there first,
/// then those whose chain passes there, each in report order.
pub fn select<'a>(report: &'a Report, place: &Place, uri: &str) -> Vec<Selected<'a>> {
    let mut reported = Vec::new();
    let mut steps = Vec::new();
    for f in &report.findings {
        match place {
            Place::Fingerprint(fp) => {
                if f.fingerprint == *fp {
                    reported.push(Selected {
                        finding: f,
                        how: Match::Reported,
                    });
                }
            }
            Place::At { line, column, .. } => {
                if covers(&f.location, uri, *line, *column) {
                    reported.push(Selected {
                        finding: f,
                        how: Match::Reported,
                    });
                } else if let Some(i) = f
                    .related
                    .iter()
                    .position(|r| covers(&r.location, uri, *line, *column))
                {
                    steps.push(Selected {
                        finding: f,
                        how: Match::Step(i),
                    });
                }
            }
        }
    }
    reported.extend(steps);
    reported
}

/// The lines of the file a place is in that hold findings (for "no finding
/// at that line; there are findings at lines ...").
pub fn lines_with_findings(report: &Report, uri: &str) -> Vec<u32> {
    let mut v: Vec<u32> = report
        .findings
        .iter()
        .filter(|f| f.location.uri == uri)
        .map(|f| f.location.start.line)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The source file a location is in.
fn source<'a>(report: &'a Report, loc: &Location) -> Option<&'a SourceFile> {
    report
        .model
        .sources
        .files()
        .iter()
        .find(|s| *s.uri == *loc.uri)
}

/// One line of evidence: what is assigned where, and why.
struct Evidence {
    what: String,
    env: String,
    why: String,
}

/// The evidence for a finding's environments: its file's assignment, the
/// documents that hold its place (one per Helm rendering), their overlays,
/// and the renderings of the chart it sits in.
fn evidence(report: &Report, f: &Located) -> Vec<Evidence> {
    let model = &report.model;
    let mut out = Vec::new();
    let Some(src) = source(report, &f.location) else {
        return out;
    };
    if let Some(info) = model.files.iter().find(|i| i.file == src.id) {
        out.push(Evidence {
            what: format!("the file {}", src.shown),
            env: info.assignment.label().to_string(),
            why: super::envs::why(&info.assignment, &model.sources),
        });
    }
    let offset = src.offset_of(
        f.location.start.line.saturating_sub(1) as usize,
        f.location.start.column.saturating_sub(1) as usize,
    );
    let offset = u32::try_from(offset).unwrap_or(u32::MAX);
    // The documents that hold the place, in the finding's environments
    // (several renderings of one template hold the same place).
    let in_envs = |d: &crate::model::Doc| {
        f.envs.is_empty() || {
            let envs = model.doc_envs(d);
            envs.is_empty() || envs.iter().any(|e| f.envs.contains(e))
        }
    };
    for d in model.docs.iter().filter(|d| {
        d.file == src.id && d.root.span.start <= offset && offset <= d.root.span.end && in_envs(d)
    }) {
        let what = match &d.kind {
            crate::model::DocKind::Kubernetes { kind, name } => {
                format!("{kind}/{}", name.as_deref().unwrap_or("?"))
            }
            k => k.label().to_string(),
        };
        out.push(Evidence {
            what: format!("the document {what} (#{})", d.index),
            env: d.assignment.label().to_string(),
            why: super::envs::why(&d.assignment, &model.sources),
        });
        for o in &d.overlays {
            out.push(Evidence {
                what: format!("  rendered by the overlay {}", o.kustomization),
                env: o.env.as_ref().map_or("all", |e| e.as_str()).to_string(),
                why: "the overlay's own environment".to_string(),
            });
        }
    }
    if model.rendered_files.contains(&src.id) {
        let in_chart = |chart: &str| {
            let chart = chart.trim_end_matches('/');
            src.uri.starts_with(&format!("{chart}/")) || src.uri.contains(&format!("/{chart}/"))
        };
        let run_in_envs = |a: &crate::env::Assignment| {
            f.envs.is_empty() || a.env.as_ref().is_none_or(|e| f.envs.contains(e))
        };
        for run in model
            .helm
            .iter()
            .filter(|r| in_chart(&r.chart) && run_in_envs(&r.assignment))
        {
            let by = if run.by.is_empty() {
                "its own values".to_string()
            } else {
                run.by.clone()
            };
            out.push(Evidence {
                what: format!("the chart {} rendered with {by}", run.chart),
                env: run.assignment.label().to_string(),
                why: super::envs::why(&run.assignment, &model.sources),
            });
        }
    }
    out
}

/// Would this finding fail `guard check` at the project's `fail-on`?
fn counts(report: &Report, f: &Located) -> String {
    use crate::config::FailOn;
    if let Some(s) = &f.suppressed {
        let kind = match s.kind {
            SuppressionKind::InSource => "a guard:ignore comment",
            SuppressionKind::External => "a guard.toml [[ignore]] entry",
        };
        let reason = s
            .reason
            .as_deref()
            .map(|r| format!(" ({})", super::sanitize(r)))
            .unwrap_or_default();
        return format!(
            "suppressed by {kind} at {}:{}{reason}: it does not count",
            s.location.path, s.location.start.line
        );
    }
    let (fail_on, from) = match report.settings.fail_on.as_ref().map(|f| f.0) {
        Some(f) => (f, "guard.toml's fail-on"),
        None => (FailOn::Error, "the default fail-on"),
    };
    let threshold = fail_on.threshold();
    let sev = match f.severity {
        Severity::Error => "an error",
        Severity::Warning => "a warning",
        Severity::Note => "a note",
    };
    match threshold {
        Some(t) if f.severity >= t => format!(
            "counts: {sev} fails `guard check` at {from} (`{}`)",
            fail_on.as_str()
        ),
        _ => format!(
            "reported, does not fail the run: {sev} is below {from} (`{}`)",
            fail_on.as_str()
        ),
    }
}

/// How to accept the finding where it is, in the file's own syntax.
fn accept_hint(f: &Located) -> String {
    let lower = f.location.uri.to_ascii_lowercase();
    let comments = [".yaml", ".yml", ".tf", ".tfvars", ".hcl", ".tpl", ".tftpl"]
        .iter()
        .any(|e| lower.ends_with(e))
        || lower
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("dockerfile"));
    if comments {
        format!(
            "`# guard:ignore[{}] <reason>` at the end of line {} or on the line above, or a guard.toml [[ignore]] entry with path = \"{}\"",
            f.rule, f.location.start.line, f.location.uri
        )
    } else {
        format!(
            "a guard.toml [[ignore]] entry: path = \"{}\", rule = \"{}\", reason = \"...\"",
            f.location.uri, f.rule
        )
    }
}

/// The text report: each finding drawn as `guard check` draws it, then
/// the explanation.
pub fn render_text(report: &Report, selected: &[Selected<'_>], color: bool) -> String {
    let mut out = String::new();
    for (n, s) in selected.iter().enumerate() {
        let f = s.finding;
        if selected.len() > 1 {
            let _ = writeln!(out, "── finding {} of {} ──", n + 1, selected.len());
        }
        if let Match::Step(i) = s.how
            && let Some(r) = f.related.get(i)
        {
            let _ = writeln!(
                out,
                "{}:{} is {} of this finding:\n",
                r.location.path,
                r.location.start.line,
                if r.flow {
                    "a step of the chain"
                } else {
                    "a place named by"
                }
            );
        }
        out.push_str(&super::text::render_one(report, f, color));
        let envs = f.env_label().unwrap_or_else(|| "all".to_string());
        let _ = writeln!(out, "Holds in: {envs}");
        let ev = evidence(report, f);
        if !ev.is_empty() {
            out.push_str("Why, as guard assigned environments:\n");
            for e in &ev {
                let _ = writeln!(
                    out,
                    "  {} -> {}: {}",
                    super::sanitize(&e.what),
                    e.env,
                    super::sanitize(&e.why)
                );
            }
        }
        let flow: Vec<_> = f.related.iter().filter(|r| r.flow).collect();
        if !flow.is_empty() {
            out.push_str("How the value got there, first to last:\n");
            for (i, r) in flow.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "  {}. {}:{}:{}  {}",
                    i + 1,
                    super::sanitize(&r.location.path),
                    r.location.start.line,
                    r.location.start.column,
                    super::sanitize(&r.label)
                );
            }
            let _ = writeln!(
                out,
                "  {}. {}:{}:{}  reported here",
                flow.len() + 1,
                super::sanitize(&f.location.path),
                f.location.start.line,
                f.location.start.column
            );
        }
        let others: Vec<_> = f.related.iter().filter(|r| !r.flow).collect();
        if !others.is_empty() {
            out.push_str("Other places it names:\n");
            for r in others {
                let _ = writeln!(
                    out,
                    "  {}:{}:{}  {}",
                    super::sanitize(&r.location.path),
                    r.location.start.line,
                    r.location.start.column,
                    super::sanitize(&r.label)
                );
            }
        }
        let _ = writeln!(out, "Status: {}", counts(report, f));
        let _ = writeln!(out, "Fingerprint: {}", f.fingerprint);
        if let Some(rule) = crate::rules::find(f.rule) {
            let _ = writeln!(
                out,
                "Rule: {} {} ({}): {}",
                rule.id,
                rule.name,
                rule.severity.as_str(),
                super::sanitize(rule.summary)
            );
            let _ = writeln!(out, "Fix: {}", super::sanitize(rule.help));
        }
        let _ = writeln!(out, "Accept it: {}", accept_hint(f));
        let _ = writeln!(out, "The rule's page: guard explain {}\n", f.rule);
    }
    out
}

#[derive(serde::Serialize)]
struct JsonEvidence<'a> {
    what: &'a str,
    environment: &'a str,
    why: &'a str,
}

#[derive(serde::Serialize)]
struct JsonExplained<'a> {
    /// `reported` or `step`.
    matched: &'static str,
    finding: serde_json::Value,
    evidence: Vec<JsonEvidence<'a>>,
    status: String,
    accept: String,
}

/// The JSON report: per finding, the finding as `--format json` gives it,
/// how it matched, the evidence for its environments and its status.
pub fn render_json(report: &Report, selected: &[Selected<'_>]) -> String {
    let evidence: Vec<Vec<Evidence>> = selected
        .iter()
        .map(|s| evidence(report, s.finding))
        .collect();
    let items: Vec<JsonExplained<'_>> = selected
        .iter()
        .zip(&evidence)
        .map(|(s, ev)| JsonExplained {
            matched: match s.how {
                Match::Reported => "reported",
                Match::Step(_) => "step",
            },
            finding: super::json::finding_value(s.finding),
            evidence: ev
                .iter()
                .map(|e| JsonEvidence {
                    what: &e.what,
                    environment: &e.env,
                    why: &e.why,
                })
                .collect(),
            status: counts(report, s.finding),
            accept: accept_hint(s.finding),
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&serde_json::json!({ "findings": items }))
        .unwrap_or_else(|_| "{}".to_string());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_parse_as_file_line_column_or_fingerprint() {
        assert_eq!(
            Place::parse("charts/a/values-prod.yaml:4"),
            Some(Place::At {
                path: "charts/a/values-prod.yaml".into(),
                line: 4,
                column: None
            })
        );
        assert_eq!(
            Place::parse("main.tf:12:3"),
            Some(Place::At {
                path: "main.tf".into(),
                line: 12,
                column: Some(3)
            })
        );
        assert_eq!(
            Place::parse("0123456789ABCDEF0123456789abcdef"),
            Some(Place::Fingerprint(
                "0123456789abcdef0123456789abcdef".into()
            ))
        );
        for no in [
            "BO001",
            "mutable-image-tag",
            ":4",
            "a.yaml:0",
            "a.yaml:x",
            "a.yaml:",
        ] {
            assert_eq!(Place::parse(no), None, "{no}");
        }
    }

    #[test]
    fn a_column_selects_within_the_span() {
        let loc = Location {
            path: "a.yaml".into(),
            uri: "a.yaml".into(),
            start: crate::source::LineCol { line: 3, column: 5 },
            end: crate::source::LineCol { line: 3, column: 9 },
        };
        assert!(covers(&loc, "a.yaml", 3, None));
        assert!(covers(&loc, "a.yaml", 3, Some(5)));
        assert!(covers(&loc, "a.yaml", 3, Some(9)));
        assert!(!covers(&loc, "a.yaml", 3, Some(10)));
        assert!(!covers(&loc, "a.yaml", 3, Some(4)));
        assert!(!covers(&loc, "a.yaml", 4, None));
        assert!(!covers(&loc, "b.yaml", 3, None));
    }
}
