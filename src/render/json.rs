//! Machine-readable output: one JSON document with a stable, versioned
//! schema (documented in `docs/output.md`).
//!
//! The schema is defined here by its own types rather than by serialising
//! internal types, so that a new field on [`Located`] or [`Location`] can
//! never change the output by accident. No timings: the same input gives the
//! same bytes.

use serde::Serialize;

use crate::Report;
use crate::finding::{Located, Severity};
use crate::source::{LineCol, Location};

/// Bump when a field is removed or changes meaning; adding a field does not.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    summary: Summary<'a>,
    terraform: Terraform<'a>,
    findings: Vec<Finding<'a>>,
}

/// What Terraform evaluation covered, and what it could not evaluate.
#[derive(Serialize)]
struct Terraform<'a> {
    roots: usize,
    evaluations: usize,
    module_calls: usize,
    modules_not_evaluated: usize,
    notes: &'a [String],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Summary<'a> {
    errors: usize,
    warnings: usize,
    notes: usize,
    suppressed: usize,
    baselined: usize,
    baseline_fixed: usize,
    files: usize,
    documents: usize,
    templates_skipped: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    policies: Option<crate::PolicyStats>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    undecided: Vec<crate::Undecided>,
    /// Findings past the run's cap (`[limits] max-findings`), by rule: not in `findings`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    over_cap: std::collections::BTreeMap<&'a str, usize>,
}

#[derive(Serialize)]
struct Finding<'a> {
    rule: &'a str,
    name: &'a str,
    severity: &'static str,
    message: &'a str,
    /// Sorted; null where the finding applies to all environments.
    environments: Option<Vec<&'static str>>,
    location: Loc<'a>,
    related: Vec<Related<'a>>,
    fingerprint: &'a str,
    help: Option<&'static str>,
    /// Present when a suppression silences the finding (it does not count).
    suppression: Option<Suppression<'a>>,
}

#[derive(Serialize)]
struct Suppression<'a> {
    /// `in-source` or `external` (guard.toml).
    kind: &'static str,
    reason: Option<&'a str>,
    location: Loc<'a>,
}

#[derive(Serialize)]
struct Loc<'a> {
    path: &'a str,
    start: Pos,
    end: Pos,
}

#[derive(Serialize)]
struct Pos {
    line: u32,
    column: u32,
}

#[derive(Serialize)]
struct Related<'a> {
    location: Loc<'a>,
    label: &'a str,
    kind: &'static str,
}

impl From<LineCol> for Pos {
    fn from(lc: LineCol) -> Pos {
        Pos {
            line: lc.line,
            column: lc.column,
        }
    }
}

impl<'a> From<&'a Location> for Loc<'a> {
    fn from(l: &'a Location) -> Loc<'a> {
        Loc {
            path: &l.path,
            start: l.start.into(),
            end: l.end.into(),
        }
    }
}

/// One finding as the `findings` array holds it (`guard explain --format json`).
pub(crate) fn finding_value(f: &Located) -> serde_json::Value {
    serde_json::to_value(Finding::from(f)).unwrap_or(serde_json::Value::Null)
}

impl<'a> From<&'a Located> for Finding<'a> {
    fn from(f: &'a Located) -> Finding<'a> {
        Finding {
            rule: f.rule,
            name: f.name,
            severity: f.severity.as_str(),
            message: &f.message,
            environments: (!f.envs.is_empty()).then(|| f.envs.iter().map(|e| e.as_str()).collect()),
            location: (&f.location).into(),
            related: f
                .related
                .iter()
                .map(|r| Related {
                    location: (&r.location).into(),
                    label: &r.label,
                    kind: if r.flow { "flow" } else { "context" },
                })
                .collect(),
            fingerprint: &f.fingerprint,
            help: crate::rules::find(f.rule).map(|r| r.help),
            suppression: f.suppressed.as_ref().map(|s| Suppression {
                kind: match s.kind {
                    crate::finding::SuppressionKind::InSource => "in-source",
                    crate::finding::SuppressionKind::External => "external",
                },
                reason: s.reason.as_deref(),
                location: (&s.location).into(),
            }),
        }
    }
}

pub fn render(report: &Report) -> String {
    let mut buf = Vec::new();
    // Writing to memory cannot fail, nor can serialising these plain
    // structs.
    let _ = write(report, &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// [`render`], written to `w` as it is serialised.
pub fn write(report: &Report, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let out = Output {
        version: SCHEMA_VERSION,
        tool: Tool {
            name: "guard",
            version: env!("CARGO_PKG_VERSION"),
        },
        summary: Summary {
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            notes: report.count(Severity::Note),
            suppressed: report.suppressed(),
            baselined: report.baselined,
            baseline_fixed: report.baseline_fixed,
            files: report.files_in_scope,
            documents: report.model.docs.len(),
            templates_skipped: report.model.stats.templates,
            policies: report.policies.clone(),
            undecided: report.undecided.clone(),
            over_cap: report
                .over_cap
                .iter()
                .map(|(r, n)| (r.as_str(), *n))
                .collect(),
        },
        terraform: Terraform {
            roots: report.model.terraform.stats.roots,
            evaluations: report.model.terraform.stats.evaluations,
            module_calls: report.model.terraform.stats.module_calls,
            modules_not_evaluated: report.model.terraform.stats.modules_not_evaluated,
            notes: &report.model.terraform.notes,
        },
        findings: report.findings.iter().map(Finding::from).collect(),
    };
    // An I/O error keeps its kind (a closed pipe is not reported).
    serde_json::to_writer_pretty(&mut *w, &out).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

/// A report over in-memory files, for the renderers' unit tests.
#[cfg(test)]
pub(crate) fn test_report(
    files: &[(&str, &str)],
    findings: Vec<crate::finding::Finding>,
) -> Report {
    use crate::source::{FileId, SourceFile, SourceMap};
    let sources = SourceMap::new(
        files
            .iter()
            .enumerate()
            .map(|(i, (path, text))| {
                SourceFile::new(
                    FileId(i as u32),
                    (*path).to_string(),
                    (*path).into(),
                    (*text).to_string(),
                )
            })
            .collect(),
    );
    let located = crate::finding::locate_all(findings, &sources, |id| {
        crate::rules::find(id).map_or("unknown", |r| r.name)
    });
    let mut model = crate::model::build(&[], Vec::new(), &crate::env::EnvSet::builtin());
    model.stats.files = files.len();
    model.sources = sources;
    Report {
        model,
        findings: located,
        walk: crate::discover::WalkStats::default(),
        timings: crate::Timings {
            total_micros: 1234,
            ..crate::Timings::default()
        },
        files_in_scope: files.len(),
        warnings: Vec::new(),
        settings: crate::settings::Settings::defaults(),
        baselined: 0,
        baseline_fixed: 0,
        redactions: Vec::new(),
        policies: None,
        undecided: Vec::new(),
        scope_uris: None,
        over_cap: Vec::new(),
        gate: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding as RawFinding;
    use crate::source::{FileId, Span};

    const DEPLOY: &str = "kind: Deployment\nspec:\n  image: nginx:latest\n";

    fn sample() -> Report {
        let at = DEPLOY.find("nginx").unwrap();
        let tfvars = "tag = \"latest\"\n";
        test_report(
            &[("k8s/deploy.yaml", DEPLOY), ("prod.tfvars", tfvars)],
            vec![
                RawFinding::new(
                    "BO001",
                    Severity::Error,
                    Span::new(FileId(0), at, at + "nginx:latest".len()),
                    "image `nginx:latest` uses the mutable tag `latest`".into(),
                )
                .env(crate::env::EnvSet::builtin().named("prod"))
                .related(Span::new(FileId(1), 6, 14), "tag set here"),
                RawFinding::new(
                    "SEC001",
                    Severity::Warning,
                    Span::new(FileId(0), 0, 4),
                    "a \"quoted\" message\nwith a newline".into(),
                ),
            ],
        )
    }

    #[test]
    fn has_the_documented_shape() {
        let out = render(&sample());
        assert!(out.ends_with("}\n"));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["findings", "summary", "terraform", "tool", "version"]
        );
        assert_eq!(v["version"], 2);
        assert_eq!(v["tool"]["name"], "guard");
        assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["summary"]["errors"], 1);
        assert_eq!(v["summary"]["warnings"], 1);
        assert_eq!(v["summary"]["notes"], 0);
        assert_eq!(v["summary"]["files"], 2);
        assert_eq!(v["summary"]["documents"], 0);
        assert_eq!(v["summary"]["templates_skipped"], 0);
        let f = &v["findings"][1];
        assert_eq!(f["rule"], "BO001");
        assert_eq!(f["name"], "mutable-image-tag");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["environments"], serde_json::json!(["prod"]));
        assert_eq!(f["location"]["path"], "k8s/deploy.yaml");
        assert_eq!(f["location"]["start"]["line"], 3);
        assert_eq!(f["location"]["start"]["column"], 10);
        assert_eq!(f["location"]["end"]["line"], 3);
        assert_eq!(f["location"]["end"]["column"], 22);
        assert_eq!(f["related"][0]["label"], "tag set here");
        assert_eq!(f["related"][0]["location"]["path"], "prod.tfvars");
        assert_eq!(f["related"][0]["location"]["start"]["column"], 7);
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
        assert!(f["help"].as_str().unwrap().contains("immutable"));
        let g = &v["findings"][0];
        assert_eq!(g["environment"], serde_json::Value::Null);
        assert_eq!(g["message"], "a \"quoted\" message\nwith a newline");
        assert_eq!(g["related"], serde_json::json!([]));
    }

    #[test]
    fn is_deterministic_and_has_no_timings() {
        let a = sample();
        let mut b = sample();
        b.timings.total_micros = 999_999;
        assert_eq!(render(&a), render(&b));
        assert!(!render(&a).contains("micros"));
    }

    #[test]
    fn unknown_rules_have_null_help() {
        let r = test_report(
            &[("a.yaml", "x: 1\n")],
            vec![RawFinding::new(
                "ZZ999",
                Severity::Note,
                Span::new(FileId(0), 0, 1),
                "m".into(),
            )],
        );
        let v: serde_json::Value = serde_json::from_str(&render(&r)).unwrap();
        assert_eq!(v["findings"][0]["help"], serde_json::Value::Null);
        assert_eq!(v["findings"][0]["name"], "unknown");
        assert_eq!(v["summary"]["notes"], 1);
    }

    #[test]
    fn empty_report() {
        let r = test_report(&[], vec![]);
        let v: serde_json::Value = serde_json::from_str(&render(&r)).unwrap();
        assert_eq!(v["findings"], serde_json::json!([]));
        assert_eq!(v["summary"]["errors"], 0);
    }
}
