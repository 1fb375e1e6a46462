//! `guard envs`: which environment each file, document and Terraform
//! evaluation was assigned to, and the evidence for it.

use std::fmt::Write as _;

use crate::env::Assignment;
use crate::model::{DocKind, Model};

pub(crate) fn why(a: &Assignment, sources: &crate::source::SourceMap) -> String {
    match &a.evidence {
        None => "no evidence: applies to all environments".to_string(),
        Some(e) => {
            let at = match e {
                crate::env::Evidence::Namespace { span, .. }
                | crate::env::Evidence::KustomizeNamespace { span, .. }
                | crate::env::Evidence::WorkflowJob { span, .. } => {
                    let l = sources.locate(*span);
                    format!(" (line {})", l.start.line)
                }
                _ => String::new(),
            };
            format!("{}{at}", e.describe())
        }
    }
}

pub fn render(model: &Model) -> String {
    let mut rows: Vec<(String, String, String, String)> = Vec::new();
    for f in &model.files {
        let path = model
            .sources
            .get(f.file)
            .map_or("", |s| &*s.shown)
            .to_string();
        let docs: Vec<_> = model.docs.iter().filter(|d| d.file == f.file).collect();
        // One row for the file; one per document whose assignment differs.
        rows.push((
            f.assignment.label().to_string(),
            path.clone(),
            f.kind.clone(),
            why(&f.assignment, &model.sources),
        ));
        for d in docs {
            if d.assignment == f.assignment && d.overlays.is_empty() {
                continue;
            }
            let what = match &d.kind {
                DocKind::Kubernetes { kind, name } => {
                    format!("{kind}/{}", name.as_deref().unwrap_or("?"))
                }
                k => k.label().to_string(),
            };
            let mut reason = why(&d.assignment, &model.sources);
            if d.assignment.evidence.is_none() && !d.overlays.is_empty() {
                let envs: Vec<String> = d
                    .overlays
                    .iter()
                    .map(|o| {
                        format!(
                            "{} via {}",
                            o.env.map_or("all", |e| e.as_str()),
                            o.kustomization
                        )
                    })
                    .collect();
                reason = format!("rendered by several overlays: {}", envs.join(", "));
            }
            rows.push((
                d.assignment.label().to_string(),
                format!("  {path}#{} {what}", d.index),
                "document".to_string(),
                reason,
            ));
        }
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(3).max(3);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(4).max(4);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(4).max(4);
    let mut out = String::new();
    let _ = writeln!(out, "{:<w0$}  {:<w1$}  {:<w2$}  WHY", "ENV", "FILE", "KIND");
    for (a, b, c, d) in &rows {
        let _ = writeln!(out, "{a:<w0$}  {b:<w1$}  {c:<w2$}  {d}");
    }
    if !model.jobs.is_empty() {
        let _ = writeln!(out, "\nWorkflow jobs:");
        for j in &model.jobs {
            let _ = writeln!(
                out,
                "  {:<8} {} job `{}`: {}",
                j.assignment.label(),
                model.sources.get(j.file).map_or("", |s| &*s.shown),
                j.id,
                why(&j.assignment, &model.sources)
            );
        }
    }
    let derived: Vec<&crate::env::EnvDef> = model
        .envs
        .all()
        .iter()
        .filter_map(|e| {
            model
                .envs
                .defs()
                .iter()
                .find(|d| d.name == e.as_str() && d.derived_from.is_some())
        })
        .collect();
    if !derived.is_empty() {
        let _ = writeln!(
            out,
            "\nEnvironments named by region or cell (each its own environment, of its tier):"
        );
        let w = derived
            .iter()
            .map(|d| d.name.len())
            .max()
            .unwrap_or(8)
            .max(8);
        for d in derived {
            let dirs: Vec<String> = d.aliases.iter().map(|a| format!("`{a}/`")).collect();
            let _ = writeln!(
                out,
                "  {:<w$} tier {}: directory {}",
                d.name,
                d.tier.map_or("dev", |t| t.as_str()),
                dirs.join(", ")
            );
        }
    }
    let tf = &model.terraform;
    if !tf.roots.is_empty() {
        let _ = writeln!(
            out,
            "\nTerraform roots (each evaluated once per environment):"
        );
        for r in &tf.roots {
            let dir = if r.dir.is_empty() { "." } else { &r.dir };
            let mut vf = r
                .var_file
                .as_deref()
                .map(|v| format!(" with {v}"))
                .unwrap_or_default();
            if let Some(ws) = &r.workspace {
                vf.push_str(&format!(" in workspace `{ws}`"));
            }
            if let Some(m) = &r.source {
                vf.push_str(&format!(" (Terragrunt unit of module {m})"));
            }
            let _ = writeln!(
                out,
                "  {:<8} {dir}{vf}: {}",
                r.assignment.label(),
                why(&r.assignment, &model.sources)
            );
        }
    }
    if !model.apps.is_empty() {
        let _ = writeln!(
            out,
            "\nGitOps applications (what each deploys, into which environment):"
        );
        for app in &model.apps {
            let deploys: Vec<String> = app
                .sources
                .iter()
                .map(|s| {
                    let what = match (&s.path, &s.chart) {
                        (Some(p), _) => format!("path {}", shown(p)),
                        (None, Some(c)) => {
                            format!("chart {}", shown(c))
                        }
                        (None, None) => "values".to_string(),
                    };
                    let mut overrides = Vec::new();
                    if !s.value_files.is_empty() {
                        overrides.push(count(s.value_files.len(), "value file"));
                    }
                    if !s.values.is_empty() {
                        overrides.push("inline values".to_string());
                    }
                    if !s.parameters.is_empty() {
                        overrides.push(count(s.parameters.len(), "parameter"));
                    }
                    if !s.kustomize_images.is_empty() {
                        overrides.push(count(s.kustomize_images.len(), "image override"));
                    }
                    if !s.kustomize_patches.is_empty() {
                        let n = s.kustomize_patches.len();
                        overrides.push(format!("{n} patch{}", if n == 1 { "" } else { "es" }));
                    }
                    if let Some(v) = &s.post_build {
                        overrides.push(count(v.vars.len(), "post-build variable"));
                    }
                    if overrides.is_empty() {
                        what
                    } else {
                        format!("{what} ({})", overrides.join(", "))
                    }
                })
                .collect();
            let evidence = app.evidence.as_ref().map_or_else(
                || "no evidence: applies to all environments".to_string(),
                |e| e.describe(),
            );
            let evidence = match &app.note {
                Some(n) => format!("{evidence} ({n})"),
                None => evidence,
            };
            let _ = writeln!(
                out,
                "  {:<8} {} in {}: {}; {evidence}",
                app.env.map_or("all", |e| e.as_str()),
                app.describe(),
                model.sources.path(app.file),
                if deploys.is_empty() {
                    "no source".to_string()
                } else {
                    deploys.join(" + ")
                },
            );
        }
    }
    if !model.helm.is_empty() {
        let _ = writeln!(
            out,
            "\nHelm charts (rendered in-process, once per environment that deploys them):"
        );
        for run in &model.helm {
            let mut what = vec![
                count(run.templates, "template"),
                count(run.objects, "object"),
            ];
            if run.tests > 0 {
                what.push(format!("{} left out", count(run.tests, "`helm test` hook")));
            }
            if run.notes > 0 {
                what.push(format!("{} (GD009)", count(run.notes, "note")));
            }
            if !run.remote.is_empty() {
                what.push(format!(
                    "{} not rendered (remote)",
                    count(run.remote.len(), "dependency")
                ));
            }
            let by = if run.by.is_empty() {
                "the chart's own values".to_string()
            } else {
                run.by.clone()
            };
            let _ = writeln!(
                out,
                "  {:<8} {} with {by}: {}",
                run.assignment.label(),
                run.chart,
                what.join(", ")
            );
        }
    }
    out
}

/// A value as `guard envs` shows it: in backquotes, or what stands for it when it is unknown.
fn shown(n: &crate::node::Node) -> String {
    match n.scalar_text() {
        Some(t) => format!("`{t}`"),
        None => "(set by the generator)".to_string(),
    }
}

/// `1 parameter`, `3 parameters`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}
