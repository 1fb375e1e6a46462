//! Charts of the project rendered per environment, as documents ready to
//! join the model: each chart (a directory with `Chart.yaml` that is not a
//! subchart of another) with each environment's values file (found as the
//! container inventory finds them: `values-prod.yaml`, `values/prod.yaml`
//! beside the chart's `values.yaml`), or once for all environments when no
//! environment has one.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::env::Assignment;
use crate::model::{Doc, DocKind, classify};
use crate::parse::{DiagKind, ParseDiag};
use crate::source::{FileId, SourceFile, Span, parent_dir};

use super::{ChartFile, Limits, ReleaseInfo, parse_rendered, render_chart_per_env};

/// What rendering the project's charts gave.
#[derive(Debug, Default)]
pub struct HelmDocs {
    /// The rendered objects, located in their templates, each in the
    /// environment of the values file that produced it.
    pub docs: Vec<Doc>,
    /// Chart files guard had not read (`_helpers.tpl`, `files/`...), with
    /// ids from `next_id` on: locations may point into them, so the caller
    /// adds them to the source map.
    pub sources: Vec<SourceFile>,
    /// What did not render, located, naming the chart and environments.
    pub diags: Vec<ParseDiag>,
    /// Per chart and environment (`None`: all): templates rendered.
    pub charts: Vec<ChartRun>,
}

#[derive(Debug, Clone)]
pub struct ChartRun {
    pub chart: String,
    pub assignment: Assignment,
    pub templates: usize,
    pub objects: usize,
    pub notes: usize,
}

/// At most this many files are read from one chart directory, each at most
/// this large.
const MAX_CHART_FILES: usize = 2_000;
const MAX_CHART_FILE_BYTES: u64 = 1 << 20;

/// The chart directory a values file belongs to (its directory, or the
/// parent of a `values/` directory), as the container inventory groups
/// them.
fn values_chart_dir(path: &str) -> &str {
    let dir = parent_dir(path);
    if dir
        .rsplit('/')
        .next()
        .is_some_and(|l| l.eq_ignore_ascii_case("values"))
    {
        parent_dir(dir)
    } else {
        dir
    }
}

fn join(dir: &str, rel: &str) -> String {
    if dir.is_empty() {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    }
}

/// Render every chart of the project. `sources` are the files read, by id;
/// `docs` the documents classified (the Helm values files among them).
pub fn rendered_documents(
    sources: &[SourceFile],
    docs: &[Doc],
    next_id: u32,
    limits: &Limits,
) -> HelmDocs {
    let mut out = HelmDocs::default();
    let charts: Vec<&SourceFile> = sources
        .iter()
        .filter(|s| s.path.rsplit('/').next() == Some("Chart.yaml") && !s.text.is_empty())
        .collect();
    let chart_dirs: Vec<&str> = charts.iter().map(|s| parent_dir(&s.path)).collect();
    for chart_yaml in &charts {
        let dir = parent_dir(&chart_yaml.path);
        // A subchart (`<chart>/charts/<name>/`) renders with its parent.
        let grand = parent_dir(dir);
        if grand.rsplit('/').next() == Some("charts") && chart_dirs.contains(&parent_dir(grand)) {
            continue;
        }
        let files = chart_files(chart_yaml, dir, sources, next_id, &mut out.sources);
        // The environments: values files of this chart with one.
        let mut runs: Vec<(Assignment, Option<&Doc>)> = docs
            .iter()
            .filter(|d| d.kind == DocKind::HelmValues && d.assignment.env.is_some())
            .filter(|d| {
                sources
                    .get(d.file.0 as usize)
                    .is_some_and(|s| values_chart_dir(&s.path) == dir)
            })
            .map(|d| (d.assignment.clone(), Some(d)))
            .collect();
        if runs.is_empty() {
            runs.push((Assignment::all(), None));
        }
        let release = ReleaseInfo {
            name: dir
                .rsplit('/')
                .next()
                .filter(|n| !n.is_empty())
                .unwrap_or("release-name")
                .to_string(),
            namespace: "default".into(),
        };
        let shown = if dir.is_empty() { "." } else { dir };
        let mut notes: BTreeMap<(Span, String, bool), Vec<&str>> = BTreeMap::new();
        // One render per environment, the chart parsed once.
        let layers: Vec<Vec<&crate::node::Node>> = runs
            .iter()
            .map(|(_, v)| v.map(|d| &d.root).into_iter().collect())
            .collect();
        let sets: Vec<&[&crate::node::Node]> = layers.iter().map(Vec::as_slice).collect();
        let results = render_chart_per_env(&files, &sets, &release, limits);
        for ((assignment, _), r) in runs.into_iter().zip(results) {
            let env = assignment.env.map_or("all environments", |e| e.as_str());
            let mut objects = 0;
            for n in r.notes {
                notes
                    .entry((n.span, n.message, n.limit))
                    .or_default()
                    .push(env);
            }
            for rd in &r.docs {
                let (nodes, yaml_notes) = parse_rendered(rd);
                for n in yaml_notes {
                    notes
                        .entry((n.span, n.message, false))
                        .or_default()
                        .push(env);
                }
                for n in nodes {
                    let Some(kind) = classify::classify(&rd.template, &n.root) else {
                        continue;
                    };
                    objects += 1;
                    out.docs.push(Doc {
                        file: rd.file,
                        index: n.index,
                        kind,
                        root: n.root,
                        assignment: assignment.clone(),
                        overlays: Vec::new(),
                    });
                }
            }
            out.charts.push(ChartRun {
                chart: shown.to_string(),
                assignment,
                templates: r.docs.len(),
                objects,
                notes: notes.values().filter(|e| e.contains(&env)).count(),
            });
        }
        for ((span, message, limit), envs) in notes {
            let kind = if limit {
                DiagKind::Limit
            } else {
                DiagKind::NotEvaluated
            };
            out.diags.push(ParseDiag::new(
                kind,
                span,
                format!("Helm chart {shown} ({}): {message}", envs.join(", ")),
            ));
        }
    }
    out.docs
        .sort_by_key(|d| (d.file, d.root.span.start, d.index));
    out
}

/// The chart's files: those guard read (same ids), and the others below
/// the chart directory read from disk (no symbolic link followed), given
/// new ids and added to `extra`.
fn chart_files(
    chart_yaml: &SourceFile,
    dir: &str,
    sources: &[SourceFile],
    next_id: u32,
    extra: &mut Vec<SourceFile>,
) -> Vec<ChartFile> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut files: Vec<ChartFile> = sources
        .iter()
        .filter_map(|s| {
            let rel = s.path.strip_prefix(&prefix)?;
            Some(ChartFile {
                path: rel.to_string(),
                file: s.id,
                text: Arc::from(s.text.as_str()),
            })
        })
        .collect();
    let Some(disk_dir) = chart_yaml.disk_path.parent() else {
        return files;
    };
    let strip = |p: &str| p.strip_suffix("Chart.yaml").unwrap_or("").to_string();
    let (shown, uri) = (strip(&chart_yaml.shown), strip(&chart_yaml.uri));
    for f in super::load_dir(disk_dir, 0, MAX_CHART_FILES, MAX_CHART_FILE_BYTES) {
        if files.iter().any(|g| g.path == f.path) {
            continue;
        }
        let path = join(dir, &f.path);
        // Another chart's pass may have read it already.
        let id = match extra.iter().find(|s| *s.path == *path) {
            Some(s) => s.id,
            None => {
                let id = FileId(next_id + extra.len() as u32);
                let mut s = SourceFile::new(
                    id,
                    path,
                    Path::new(disk_dir).join(&f.path),
                    f.text.to_string(),
                );
                s.shown = format!("{shown}{}", f.path).into();
                s.uri = format!("{uri}{}", f.path).into();
                s.env_start = chart_yaml.env_start;
                extra.push(s);
                id
            }
        };
        files.push(ChartFile {
            path: f.path,
            file: id,
            text: f.text,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::EnvSet;

    /// The fixture chart as guard would read it: its YAML files are
    /// sources (under `demo/`), the rest is found on disk.
    fn project() -> (Vec<SourceFile>, Vec<Doc>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/helm/demo");
        let envs = EnvSet::builtin();
        let mut sources = Vec::new();
        let mut docs = Vec::new();
        for f in super::super::load_dir(&root, 0, 100, 1 << 20) {
            if !f.path.ends_with(".yaml") {
                continue;
            }
            let id = FileId(sources.len() as u32);
            let s = SourceFile::new(
                id,
                format!("demo/{}", f.path),
                root.join(&f.path),
                f.text.to_string(),
            );
            for d in crate::parse::yaml::parse(&s).docs {
                if let Some(kind) = classify::classify(&s.path, &d.root) {
                    docs.push(Doc {
                        file: id,
                        index: d.index,
                        kind,
                        root: d.root,
                        assignment: envs.from_path(&s.path).unwrap_or_default(),
                        overlays: Vec::new(),
                    });
                }
            }
            sources.push(s);
        }
        (sources, docs)
    }

    #[test]
    fn charts_render_per_environment_with_their_chains() {
        let (sources, docs) = project();
        let next = sources.len() as u32;
        let h = rendered_documents(&sources, &docs, next, &Limits::default());
        let path = |id: FileId| -> String {
            sources
                .get(id.0 as usize)
                .or_else(|| h.sources.iter().find(|s| s.id == id))
                .map(|s| s.path.to_string())
                .unwrap_or_default()
        };
        // The helpers and the chart's other files were read and given ids.
        let extra: Vec<(u32, &str)> = h.sources.iter().map(|s| (s.id.0, &*s.path)).collect();
        assert!(
            extra.contains(&(next, "demo/files/banner.txt")),
            "{extra:?}"
        );
        assert!(
            extra
                .iter()
                .any(|(_, p)| *p == "demo/templates/_helpers.tpl")
        );
        // Only prod has a values file: one run, in prod; the subchart
        // renders with its parent, not on its own.
        let runs: Vec<(String, Option<&str>, usize, usize)> = h
            .charts
            .iter()
            .map(|c| {
                (
                    c.chart.clone(),
                    c.assignment.env.map(|e| e.as_str()),
                    c.templates,
                    c.objects,
                )
            })
            .collect();
        assert_eq!(runs, vec![("demo".to_string(), Some("prod"), 5, 5)]);
        let kinds: Vec<String> = h
            .docs
            .iter()
            .map(|d| format!("{}:{}", path(d.file), d.kind.label()))
            .collect();
        assert_eq!(kinds.len(), 5, "{kinds:?}");
        let dep = h
            .docs
            .iter()
            .find(|d| matches!(&d.kind, DocKind::Kubernetes { kind, .. } if kind == "Deployment"))
            .expect("the Deployment");
        assert_eq!(path(dep.file), "demo/templates/deployment.yaml");
        assert_eq!(dep.assignment.env.map(|e| e.as_str()), Some("prod"));
        let c = &dep
            .root
            .path(&["spec", "template", "spec", "containers"])
            .unwrap()
            .as_seq()[0];
        let privileged = c.path(&["securityContext", "privileged"]).unwrap();
        let tmpl = &sources[dep.file.0 as usize];
        assert_eq!(tmpl.line_of(privileged.span.start), 38);
        let hop = privileged.via.as_ref().unwrap().last();
        assert_eq!(
            (
                path(hop.span.file),
                sources[hop.span.file.0 as usize].line_of(hop.span.start)
            ),
            ("demo/values-prod.yaml".to_string(), 10)
        );
        let secret = &c.get("env").unwrap().as_seq()[0];
        assert_eq!(
            secret.str_at(&["value"]),
            Some("postgres://app:s3cr3t@db.prod:5432/app")
        );
        // The remote dependency: one note, naming the chart and environment.
        let notes: Vec<&str> = h.diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            notes,
            [
                "Helm chart demo (prod): dependency `postgresql` (oci://registry-1.docker.io/bitnamicharts) is not in the chart's charts/ directory: remote charts are not fetched, so it is not rendered"
            ]
        );
        assert_eq!(path(h.diags[0].span.file), "demo/Chart.yaml");
    }
}
