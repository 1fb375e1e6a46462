//! Charts of the project rendered per environment, as documents ready to
//! join the model: each chart (a directory with `Chart.yaml` that is not a
//! subchart of another) once per GitOps application that deploys it by path
//! (Argo CD `Application`, an `ApplicationSet` element: its value files,
//! inline values and parameters, its environment and name as the release),
//! once per environment's values file for the environments no application
//! covers (found as the container inventory finds them: `values-prod.yaml`,
//! `values/prod.yaml` beside the chart's `values.yaml`), or once for all
//! environments when neither says more.
//!
//! Two phases: [`load_charts`] before the source map exists (chart files
//! guard had not read, such as `_helpers.tpl`, get ids), [`render`] after
//! the applications are known.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::env::Assignment;
use crate::model::{Doc, DocKind, classify};
use crate::parse::{DiagKind, ParseDiag};
use rayon::prelude::*;

use crate::model::gitops;
use crate::node::Node;
use crate::source::{FileId, SourceFile, SourceMap, Span, parent_dir};

use super::{ChartFile, Limits, ReleaseInfo, parse_rendered, render_chart_per_env};

/// What rendering the project's charts gave.
#[derive(Debug, Default)]
pub struct HelmDocs {
    /// The rendered objects, located in their templates, each in the
    /// environment of the values file that produced it.
    pub docs: Vec<Doc>,
    /// What did not render, located, naming the chart and environments.
    pub diags: Vec<ParseDiag>,
    /// Per chart and environment (`None`: all): templates rendered.
    pub charts: Vec<ChartRun>,
}

#[derive(Debug, Clone)]
pub struct ChartRun {
    pub chart: String,
    pub assignment: Assignment,
    /// What decided the run: a values file's name, an application; empty
    /// when the chart renders once with its own values.
    pub by: String,
    pub templates: usize,
    pub objects: usize,
    /// `helm test` hooks rendered and left out.
    pub tests: usize,
    pub notes: usize,
    /// Remote dependencies not rendered (what they are).
    pub remote: Vec<String>,
}

/// At most this many renderings of one chart (applications and environments).
const MAX_RUNS_PER_CHART: usize = 64;

/// `.Release.Namespace` when nothing says where the chart is installed:
/// `helm install -n` decides it, so it is not taken for `default`.
pub const RELEASE_NAMESPACE: &str = "release-namespace";

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

/// The project's charts (directories with `Chart.yaml` that are not
/// subcharts of another), their files read: phase one of rendering, before
/// the source map is built (the chart files guard had not read get ids).
#[derive(Debug, Default)]
pub struct Charts {
    charts: Vec<ChartDir>,
    /// Chart files guard had not read (`_helpers.tpl`, `files/`...), with
    /// ids from `next_id` on: locations may point into them, so the caller
    /// adds them to the source map.
    pub sources: Vec<SourceFile>,
}

#[derive(Debug)]
struct ChartDir {
    /// Project path of the chart directory (`""` for the root).
    dir: String,
    files: Vec<ChartFile>,
}

impl Charts {
    /// Whether `path` is a file of a chart found (rendered templates are
    /// not "templates not checked").
    pub fn holds(&self, path: &str) -> bool {
        self.charts.iter().any(|c| {
            c.dir.is_empty()
                || path
                    .strip_prefix(c.dir.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        })
    }

    pub fn is_empty(&self) -> bool {
        self.charts.is_empty()
    }
}

/// Find the project's charts and read their files. `sources` are the files
/// read, by id.
pub fn load_charts(sources: &[SourceFile], next_id: u32) -> Charts {
    let mut out = Charts::default();
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
        out.charts.push(ChartDir {
            dir: dir.to_string(),
            files,
        });
    }
    out
}

/// One rendering of a chart: the environment, the values layered over the
/// chart's `values.yaml` in order, the release, and what decided it.
struct Run<'a> {
    assignment: Assignment,
    values: Vec<&'a Node>,
    release: ReleaseInfo,
    /// "values-prod.yaml", "Argo CD Application `shop-prod`".
    by: String,
}

/// The renderings of the chart in `dir`: one per GitOps application that
/// deploys it (its value files, inline values and parameters, in its
/// environment), one per environment's values file for the environments
/// no application covers, else one for all environments.
fn runs<'a>(
    dir: &str,
    sources: &SourceMap,
    docs: &'a [Doc],
    apps: &'a [gitops::App],
    overrides: &'a [(usize, usize, Node)],
) -> Vec<Run<'a>> {
    let release_name = dir
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("release-name")
        .to_string();
    let values_at = |path: &str| -> Option<&'a Doc> {
        docs.iter()
            .find(|d| d.kind == DocKind::HelmValues && sources.path(d.file) == path)
    };
    let mut out: Vec<Run<'a>> = Vec::new();
    for (ai, si, over) in overrides {
        let (Some(app), Some(s)) = (
            apps.get(*ai),
            apps.get(*ai).and_then(|a| a.sources.get(*si)),
        ) else {
            continue;
        };
        let mut values: Vec<&Node> = s
            .value_files
            .iter()
            .filter_map(|f| crate::source::join_path(dir, f.as_str()?))
            .filter_map(|p| values_at(&p))
            .map(|d| &d.root)
            .collect();
        values.push(over);
        out.push(Run {
            assignment: Assignment {
                env: app.env,
                evidence: app.evidence.clone(),
            },
            values,
            release: ReleaseInfo {
                name: app.name.clone(),
                namespace: app
                    .namespace
                    .clone()
                    .unwrap_or_else(|| RELEASE_NAMESPACE.into()),
            },
            by: app.describe(),
        });
    }
    let by_apps: Vec<Option<crate::env::Env>> = out.iter().map(|r| r.assignment.env).collect();
    for d in docs.iter().filter(|d| {
        d.kind == DocKind::HelmValues
            && d.assignment.env.is_some()
            && values_chart_dir(sources.path(d.file)) == dir
            && !by_apps.contains(&d.assignment.env)
            && !by_apps.contains(&None)
    }) {
        let path = sources.path(d.file);
        out.push(Run {
            assignment: d.assignment.clone(),
            values: vec![&d.root],
            release: ReleaseInfo {
                name: release_name.clone(),
                namespace: RELEASE_NAMESPACE.into(),
            },
            by: path.rsplit('/').next().unwrap_or(path).to_string(),
        });
    }
    if out.is_empty() {
        out.push(Run {
            assignment: Assignment::all(),
            values: Vec::new(),
            release: ReleaseInfo {
                name: release_name,
                namespace: RELEASE_NAMESPACE.into(),
            },
            by: String::new(),
        });
    }
    out
}

/// Render every chart found, per environment (phase two, once the source
/// map and the GitOps applications are known). `docs` are the documents
/// classified (the Helm values files among them).
pub fn render(
    charts: &Charts,
    sources: &SourceMap,
    docs: &[Doc],
    apps: &[gitops::App],
    limits: &Limits,
) -> HelmDocs {
    render_some(charts, sources, docs, apps, limits, &|_| true)
}

/// Render the charts and follow the applications they render (an app of
/// apps chart: its `Application`s deploy other charts of the project), one
/// level deep. Returns the renderings and every application, the rendered
/// ones after those written in files.
pub fn render_with_apps(
    charts: &Charts,
    sources: &SourceMap,
    docs: &[Doc],
    envs: &crate::env::EnvSet,
    limits: &Limits,
) -> (HelmDocs, Vec<gitops::App>) {
    let mut apps = gitops::collect(docs, envs, sources);
    let mut h = render(charts, sources, docs, &apps, limits);
    let more = gitops::collect(&h.docs, envs, sources);
    if more.is_empty() {
        return (h, apps);
    }
    let targeted = |list: &[gitops::App]| -> Vec<String> {
        let mut v: Vec<String> = list
            .iter()
            .flat_map(|a| a.sources.iter())
            .filter_map(|s| local_path(s.path.as_ref()?))
            .filter(|d| charts.charts.iter().any(|c| c.dir == *d))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let before = targeted(&apps);
    let again: Vec<String> = targeted(&more)
        .into_iter()
        .filter(|d| before.binary_search(d).is_err())
        .collect();
    apps.extend(more);
    if again.is_empty() {
        return (h, apps);
    }
    // The charts the rendered applications deploy, rendered again with them.
    let in_again = |dir: &str| again.binary_search_by(|d| d.as_str().cmp(dir)).is_ok();
    let chart_of = |path: &str| {
        charts
            .charts
            .iter()
            .filter(|c| {
                c.dir.is_empty()
                    || path
                        .strip_prefix(c.dir.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
            .max_by_key(|c| c.dir.len())
            .map(|c| c.dir.as_str())
    };
    let redo = render_some(charts, sources, docs, &apps, limits, &|d| in_again(d));
    h.docs
        .retain(|d| !chart_of(sources.path(d.file)).is_some_and(&in_again));
    h.diags
        .retain(|d| !chart_of(sources.path(d.span.file)).is_some_and(&in_again));
    h.charts.retain(|r| {
        let dir = if r.chart == "." { "" } else { r.chart.as_str() };
        !in_again(dir)
    });
    h.docs.extend(redo.docs);
    h.diags.extend(redo.diags);
    h.charts.extend(redo.charts);
    h.docs.sort_by_key(|d| (d.file, d.root.span.start, d.index));
    (h, apps)
}

/// A `helm.sh/hook: test` (or the older `test-success`/`test-failure`) object.
fn is_test_hook(root: &Node) -> bool {
    root.str_at(&["metadata", "annotations", "helm.sh/hook"])
        .is_some_and(|h| h.split(',').any(|p| p.trim().starts_with("test")))
}

/// A source's `path` as a project path (not a generator's `{{...}}`).
fn local_path(p: &Node) -> Option<String> {
    p.as_str()
        .filter(|p| !p.contains("{{"))
        .and_then(|p| crate::source::join_path("", p))
}

/// [`render`], for the charts whose directory `only` accepts.
fn render_some(
    charts: &Charts,
    sources: &SourceMap,
    docs: &[Doc],
    apps: &[gitops::App],
    limits: &Limits,
    only: &(dyn Fn(&str) -> bool + Sync),
) -> HelmDocs {
    // The applications' inline values and parameters, one tree per source
    // that names a chart of this repository by path.
    let mut overrides: Vec<(usize, usize, Node)> = Vec::new();
    let mut by_chart: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (ai, app) in apps.iter().enumerate() {
        for (si, s) in app.sources.iter().enumerate() {
            let Some(dir) = s.path.as_ref().and_then(local_path) else {
                continue;
            };
            let Some(chart) = charts.charts.iter().find(|c| c.dir == dir) else {
                continue;
            };
            by_chart
                .entry(chart.dir.as_str())
                .or_default()
                .push(overrides.len());
            overrides.push((ai, si, gitops::override_values(s)));
        }
    }
    let rendered: Vec<HelmDocs> = charts
        .charts
        .par_iter()
        .filter(|chart| only(&chart.dir))
        .map(|chart| {
            let mine: Vec<(usize, usize, Node)> = by_chart
                .get(chart.dir.as_str())
                .map(|ix| {
                    ix.iter()
                        .filter_map(|&i| overrides.get(i).cloned())
                        .collect()
                })
                .unwrap_or_default();
            let mut runs = runs(&chart.dir, sources, docs, apps, &mine);
            // Renderings of one chart are bounded (an ApplicationSet of a thousand
            // elements over it): the rest are one note.
            let dropped = runs.len().saturating_sub(MAX_RUNS_PER_CHART);
            runs.truncate(MAX_RUNS_PER_CHART);
            let mut h = render_one(chart, runs, limits);
            if dropped > 0 {
                let at = chart
                    .files
                    .iter()
                    .find(|f| f.path == "Chart.yaml")
                    .map_or(Span::default(), |f| Span::new(f.file, 0, 0));
                h.diags.push(ParseDiag::new(
                    DiagKind::Limit,
                    at,
                    format!(
                        "Helm chart {}: {dropped} more renderings (applications or environments) than the {MAX_RUNS_PER_CHART} guard renders per chart were not rendered",
                        if chart.dir.is_empty() { "." } else { chart.dir.as_str() }
                    ),
                ));
            }
            h
        })
        .collect();
    let mut out = HelmDocs::default();
    for h in rendered {
        out.docs.extend(h.docs);
        out.diags.extend(h.diags);
        out.charts.extend(h.charts);
    }
    out.docs
        .sort_by_key(|d| (d.file, d.root.span.start, d.index));
    out
}

/// Render one chart for each of its runs.
fn render_one(chart: &ChartDir, runs: Vec<Run<'_>>, limits: &Limits) -> HelmDocs {
    let mut out = HelmDocs::default();
    let dir = chart.dir.as_str();
    let shown = if dir.is_empty() { "." } else { dir };
    let mut notes: BTreeMap<(Span, String, bool), Vec<String>> = BTreeMap::new();
    let mut remote: Vec<String> = Vec::new();
    // Runs with the same release share one render call (the chart parsed once).
    let mut releases: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        match releases.iter_mut().find(|(n, _)| *n == r.release.name) {
            Some((_, v)) => v.push(i),
            None => releases.push((r.release.name.clone(), vec![i])),
        }
    }
    let mut results: Vec<Option<super::Rendered>> = runs.iter().map(|_| None).collect();
    for (_, ix) in &releases {
        let Some(first) = ix.first().and_then(|&i| runs.get(i)) else {
            continue;
        };
        let sets: Vec<&[&Node]> = ix
            .iter()
            .filter_map(|&i| runs.get(i))
            .map(|r| r.values.as_slice())
            .collect();
        let rendered = render_chart_per_env(&chart.files, &sets, &first.release, limits);
        for (&i, r) in ix.iter().zip(rendered) {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        }
    }
    for (run, r) in runs.into_iter().zip(results) {
        let r = r.unwrap_or_default();
        let env = run
            .assignment
            .env
            .map_or("all environments", |e| e.as_str());
        let label = if run.by.is_empty() {
            env.to_string()
        } else {
            format!("{env}, {}", run.by)
        };
        let mut objects = 0;
        let mut tests = 0;
        let mut own_notes = 0;
        for n in r.notes {
            if n.remote {
                if !remote.contains(&n.message) {
                    remote.push(n.message);
                }
                continue;
            }
            own_notes += 1;
            notes
                .entry((n.span, n.message, n.limit))
                .or_default()
                .push(label.clone());
        }
        for rd in &r.docs {
            let (nodes, yaml_notes) = parse_rendered(rd);
            for n in yaml_notes {
                own_notes += 1;
                notes
                    .entry((n.span, n.message, false))
                    .or_default()
                    .push(label.clone());
            }
            for n in nodes {
                // `helm test` pods run only when asked, and GitOps tools do not
                // run them: they are not what the chart deploys.
                if is_test_hook(&n.root) {
                    tests += 1;
                    continue;
                }
                let Some(kind) = classify::classify(&rd.template, &n.root) else {
                    continue;
                };
                objects += 1;
                out.docs.push(Doc {
                    file: rd.file,
                    index: n.index,
                    kind,
                    root: n.root,
                    assignment: run.assignment.clone(),
                    overlays: Vec::new(),
                });
            }
        }
        out.charts.push(ChartRun {
            chart: shown.to_string(),
            assignment: run.assignment,
            by: run.by,
            remote: Vec::new(),
            templates: r.docs.len(),
            objects,
            tests,
            notes: own_notes,
        });
        if let Some(last) = out.charts.last_mut() {
            last.remote.clone_from(&remote);
        }
    }
    for ((span, message, limit), mut envs) in notes {
        envs.dedup();
        let kind = if limit {
            DiagKind::Limit
        } else {
            DiagKind::NotEvaluated
        };
        out.diags.push(ParseDiag::new(
            kind,
            span,
            format!("Helm chart {shown} ({}): {message}", envs.join("; ")),
        ));
    }
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
        let (mut sources, docs) = project();
        let next = sources.len() as u32;
        let mut charts = load_charts(&sources, next);
        // The helpers and the chart's other files were read and given ids.
        let extra: Vec<(u32, String)> = charts
            .sources
            .iter()
            .map(|s| (s.id.0, s.path.to_string()))
            .collect();
        sources.extend(std::mem::take(&mut charts.sources));
        let map = SourceMap::new(sources);
        let h = render(&charts, &map, &docs, &[], &Limits::default());
        let path = |id: FileId| -> String { map.path(id).to_string() };
        let extra: Vec<(u32, &str)> = extra.iter().map(|(i, p)| (*i, p.as_str())).collect();
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
        let tmpl = map.get(dep.file).unwrap();
        assert_eq!(tmpl.line_of(privileged.span.start), 38);
        let hop = privileged.via.as_ref().unwrap().last();
        assert_eq!(
            (
                path(hop.span.file),
                map.get(hop.span.file).unwrap().line_of(hop.span.start)
            ),
            ("demo/values-prod.yaml".to_string(), 10)
        );
        let secret = &c.get("env").unwrap().as_seq()[0];
        assert_eq!(
            secret.str_at(&["value"]),
            Some("postgres://app:s3cr3t@db.prod:5432/app")
        );
        // The remote dependency: counted with the run (as a remote
        // Terraform module is), not a note of its own.
        assert!(h.diags.is_empty(), "{:?}", h.diags);
        assert_eq!(
            h.charts[0].remote,
            [
                "dependency `postgresql` (oci://registry-1.docker.io/bitnamicharts) is not in the chart's charts/ directory: remote charts are not fetched, so it is not rendered"
            ]
        );
        assert_eq!(h.charts[0].by, "values-prod.yaml");
    }
}
