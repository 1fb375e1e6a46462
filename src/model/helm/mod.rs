//! Helm charts rendered in-process: a Go `text/template` engine
//! ([`template`], [`eval`]), Helm's objects and the sprig functions
//! ([`funcs`]), charts and their local subcharts ([`chart`]).
//!
//! [`render_chart`] renders every template of a chart (and its subcharts)
//! with the chart's values under an environment's values files, as `helm
//! template` would; [`parse_rendered`] reads a rendered document with
//! guard's YAML parser so that every node points back into the template
//! that produced it, and every scalar printed from a values file carries a
//! [`Hop`] to the line that set it (`values-prod.yaml:12 ->
//! templates/deployment.yaml:31`).
//!
//! Nothing here panics on input, and everything is bounded ([`Limits`]):
//! a template that does not render (a syntax error, an unknown function,
//! `fail`, a missing `required` value, a limit) is a located
//! [`RenderNote`], and the other templates still render.
//!
//! **Locations.** Literal template text maps byte for byte to the template;
//! what an action prints maps to the action (`{{ ... }}`, trim markers
//! included); `template` writes the define's own text (located in the file
//! that defines it), while `include` and `tpl` return strings, printed at
//! the calling action. A scalar of a values file keeps its span through
//! `default`, `quote`/`squote`, `printf` (`%s %v %d %q`), `toYaml` (each
//! scalar), `indent`/`nindent`, `include` and one-argument string functions
//! (`trunc`, `upper`, `toString`...); the rendered node gets one hop per
//! values scalar printed inside it.
//!
//! **Not as Helm does**, on purpose or not yet: no cluster (`lookup` is an
//! empty map; `.Capabilities` is `helm template`'s default: [`KUBE_VERSION`]
//! and [`API_VERSIONS`]); `.Files.Glob`/`Lines`/`AsConfig`/`AsSecrets`, remote
//! and packaged (`.tgz`) subcharts, `import-values`, `crds/` are not
//! rendered (a note says so); random and time functions are fixed (see
//! [`funcs`]); crypto generators (`genCA`...), `sha1sum` and date
//! formatting are unknown functions; output is per template, not sorted by
//! kind; an undefined variable is an error when reached rather than when
//! parsed.

pub mod chart;
pub mod deploy;
pub mod eval;
pub mod funcs;
pub mod template;
pub mod value;

use std::rc::Rc;
use std::sync::Arc;

use crate::node::{Chain, Hop, Node, Value};
use crate::source::{FileId, SourceFile, Span};

use eval::{Engine, Out, Seg};
use value::{Method, V, Val};

/// One file of a chart directory.
#[derive(Clone, Debug)]
pub struct ChartFile {
    /// Path inside the chart directory, `/`-separated (`templates/deployment.yaml`).
    pub path: String,
    pub file: FileId,
    pub text: Arc<str>,
}

/// `.Release`.
#[derive(Clone, Debug)]
pub struct ReleaseInfo {
    pub name: String,
    pub namespace: String,
}

impl Default for ReleaseInfo {
    fn default() -> ReleaseInfo {
        ReleaseInfo {
            name: "release-name".into(),
            namespace: "default".into(),
        }
    }
}

/// What one render may spend.
#[derive(Clone, Debug)]
pub struct Limits {
    /// `include`/`template`/`tpl` nesting.
    pub max_depth: usize,
    /// Bytes of output (all templates of a chart together).
    pub max_output: usize,
    /// Iterations of one `range` (and items of `until`).
    pub max_range: usize,
    /// Nesting of a value `toYaml`/`toJson` writes.
    pub max_yaml_depth: usize,
    /// Evaluation steps of one template.
    pub max_steps: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: 64,
            max_output: 8 << 20,
            max_range: 100_000,
            max_yaml_depth: 64,
            max_steps: 2_000_000,
        }
    }
}

/// A rendered template.
#[derive(Clone, Debug)]
pub struct RenderedDoc {
    /// Helm's template name (`dapr/charts/dapr_rbac/templates/operator.yaml`).
    pub name: String,
    /// The template's path inside the chart directory given.
    pub template: String,
    pub file: FileId,
    pub text: String,
    /// Where each output byte range came from, in output order.
    pub segs: Vec<Seg>,
}

/// Something that did not render, or was not rendered, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderNote {
    pub span: Span,
    pub message: String,
    /// One of guard's limits stopped it (not an error of the chart).
    pub limit: bool,
    /// A remote dependency, not fetched: counted, not a finding (as a
    /// remote Terraform module is).
    pub remote: bool,
}

impl RenderNote {
    pub fn new(span: Span, message: impl Into<String>) -> RenderNote {
        RenderNote {
            span,
            message: message.into(),
            limit: false,
            remote: false,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Rendered {
    pub docs: Vec<RenderedDoc>,
    pub notes: Vec<RenderNote>,
}

/// The kube version `.Capabilities` reports: `helm template`'s default, the
/// Kubernetes client library's version Helm was built with (Helm v4.2's).
pub const KUBE_VERSION: &str = "v1.36.0";

/// What `.Capabilities.APIVersions.Has` finds with no cluster: `helm
/// template`'s default set, the group/versions of the Kubernetes client
/// library (Helm v4.2's, read off Helm itself by tests/helm_reference.rs'
/// oracle). Group/version/kind strings are not in it (`Has
/// "policy/v1/PodDisruptionBudget"` is false), as in Helm.
pub const API_VERSIONS: &[&str] = &[
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
    "apiextensions.k8s.io/v1beta1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1alpha1",
    "certificates.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "internal.apiserver.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1alpha1",
    "rbac.authorization.k8s.io/v1beta1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1alpha3",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1beta2",
    "scheduling.k8s.io/v1",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storage.k8s.io/v1beta1",
    "storagemigration.k8s.io/v1beta1",
    "v1",
];

fn map(entries: Vec<(&str, Val)>) -> Val {
    Val::map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// A template file parsed, with its chart's index.
struct Tmpl {
    chart: usize,
    name: String,
    path: String,
    parsed: template::Parsed,
}

/// Render a chart: `files` are the chart directory's files, `values` the
/// environment's values files in order (each merged over the chart's
/// values.yaml and the ones before it).
pub fn render_chart(
    files: &[ChartFile],
    values: &[&Node],
    release: &ReleaseInfo,
    limits: &Limits,
) -> Rendered {
    render_chart_per_env(files, &[values], release, limits)
        .pop()
        .unwrap_or_default()
}

/// Render a chart once per set of values files (one set per environment),
/// reading and parsing the chart once.
///
/// The render runs on a thread of its own with a stack of
/// [`RENDER_STACK`] bytes: templates, `include`s and values nest up to the
/// limits, and a debug build's frames are large.
pub fn render_chart_per_env(
    files: &[ChartFile],
    sets: &[&[&Node]],
    release: &ReleaseInfo,
    limits: &Limits,
) -> Vec<Rendered> {
    let run = || render_here(files, sets, release, limits);
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("helm-render".into())
            .stack_size(RENDER_STACK)
            .spawn_scoped(s, run)
            .ok()
            .and_then(|h| h.join().ok())
    })
    .unwrap_or_else(|| {
        let at = files
            .first()
            .map_or(Span::default(), |f| Span::new(f.file, 0, 0));
        sets.iter()
            .map(|_| Rendered {
                docs: Vec::new(),
                notes: vec![RenderNote::new(
                    at,
                    "the chart could not be rendered (internal error)",
                )],
            })
            .collect()
    })
}

/// The stack of a render's thread (reserved, committed as used).
pub const RENDER_STACK: usize = 64 << 20;

/// Whether a template file renders to output (partials and NOTES.txt only
/// define templates).
fn renders(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or("");
    !base.starts_with('_')
        && base != "NOTES.txt"
        && (base.ends_with(".yaml") || base.ends_with(".yml") || base.ends_with(".tpl"))
}

fn render_here(
    files: &[ChartFile],
    sets: &[&[&Node]],
    release: &ReleaseInfo,
    limits: &Limits,
) -> Vec<Rendered> {
    let mut load_notes = Vec::new();
    let Some(top) = chart::load(files, "", None, 0, &mut load_notes) else {
        return sets
            .iter()
            .map(|_| Rendered {
                docs: Vec::new(),
                notes: load_notes.clone(),
            })
            .collect();
    };
    // Every chart of the tree, parents first, each with its parent and
    // the dependency that brings it in.
    let mut flat: Vec<(&chart::Chart, Option<(usize, &chart::Sub)>)> = Vec::new();
    let mut stack = vec![(&top, None)];
    while let Some((c, parent)) = stack.pop() {
        let i = flat.len();
        flat.push((c, parent));
        for s in c.subcharts.iter().rev() {
            stack.push((&s.chart, Some((i, s))));
        }
    }
    let file_maps: Vec<_> = flat.iter().map(|(c, _)| chart::file_map(c)).collect();
    // Every template parsed once.
    let mut tmpls: Vec<Tmpl> = Vec::new();
    for (ci, (c, _)) in flat.iter().enumerate() {
        for f in &c.files {
            let Some(rel) = f.path.strip_prefix(&c.prefix) else {
                continue;
            };
            if !rel.starts_with("templates/") {
                continue;
            }
            let name = format!("{}/{rel}", c.helm_path);
            let src = Rc::new(template::Source {
                name: name.as_str().into(),
                file: f.file,
                text: Rc::from(&*f.text),
                fixed: None,
            });
            match template::parse(src) {
                Ok(parsed) => tmpls.push(Tmpl {
                    chart: ci,
                    name,
                    path: f.path.clone(),
                    parsed,
                }),
                Err(e) => load_notes.push(RenderNote::new(
                    Span::new(f.file, e.at.0 as usize, e.at.1 as usize),
                    format!("template {name} does not parse: {}", e.message),
                )),
            }
        }
    }
    // Defines of deeper charts first, so a parent's own define wins (Helm
    // parses deeper paths first).
    let mut order: Vec<usize> = (0..tmpls.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&tmpls[a].name, &tmpls[b].name);
        y.matches('/')
            .count()
            .cmp(&x.matches('/').count())
            .then(x.cmp(y))
    });
    let mut rendered: Vec<&Tmpl> = tmpls.iter().filter(|t| renders(&t.path)).collect();
    rendered.sort_by(|a, b| a.path.cmp(&b.path));
    sets.iter()
        .map(|values| {
            let mut notes = load_notes.clone();
            // The chart's values under the environment's files.
            let mut merged = top.values.deep_copy(0);
            for layer in values.iter() {
                if !layer.is_map() {
                    if !matches!(layer.value, Value::Null) {
                        notes.push(RenderNote::new(
                            layer.span,
                            "this values file is not a mapping; it was not used",
                        ));
                    }
                    continue;
                }
                // A values file of the chart reads YAML 1.1 booleans as Helm
                // does; one guard cannot see the text of stays YAML 1.2.
                let plain = |s: Span| {
                    files
                        .iter()
                        .find(|f| f.file == s.file)
                        .is_some_and(|f| value::plain_in(&f.text, s))
                };
                let layer = Val::from_node(layer, 0, &plain);
                merged = value::merge_values(&merged, &layer, 0);
            }
            // Each chart's values; none for a disabled subchart (and its own).
            // A subchart's are derived from its parent's as merged (a null
            // there still deletes one of the subchart's defaults); what the
            // templates see has no null-valued keys left, as in Helm.
            let mut raw: Vec<Option<Val>> = vec![None; flat.len()];
            raw[0] = Some(merged);
            for i in 1..flat.len() {
                if let (_, Some((p, s))) = flat[i]
                    && let Some(pv) = raw[p].clone()
                    && chart::enabled(s, &pv)
                {
                    raw[i] = Some(chart::sub_values(s, &pv));
                }
            }
            let vals: Vec<Option<Val>> = raw
                .iter()
                .map(|v| v.as_ref().map(|v| value::without_nulls(v, 0)))
                .collect();
            let mut eng = Engine::new(limits);
            eng.files = file_maps.clone();
            for &i in &order {
                let t = &tmpls[i];
                if vals[t.chart].is_none() {
                    continue;
                }
                // A template file is a named template too (`include (print
                // $.Template.BasePath "/config.yaml") .`).
                eng.defines.insert(
                    t.name.clone(),
                    template::Define {
                        name: t.name.clone(),
                        body: t.parsed.body.clone(),
                        src: t.parsed.src.clone(),
                    },
                );
                for d in &t.parsed.defines {
                    eng.defines.insert(d.name.clone(), d.clone());
                }
            }
            let mut docs = Vec::new();
            for t in &rendered {
                let (Some(v), (c, _)) = (&vals[t.chart], flat[t.chart]) else {
                    continue;
                };
                let dot = root_object(c, v, t, release);
                let mut out = Out::default();
                eng.steps = 0;
                eng.depth = 0;
                match eng.run(&t.parsed.src, &t.parsed.body, &dot, &mut out) {
                    Ok(()) => docs.push(RenderedDoc {
                        name: t.name.clone(),
                        template: t.path.clone(),
                        file: t.parsed.src.file,
                        text: out.text,
                        segs: out.segs,
                    }),
                    Err(e) => notes.push(RenderNote {
                        span: e.span,
                        message: format!("template {} did not render: {}", t.name, e.message),
                        limit: e.limit,
                        remote: false,
                    }),
                }
            }
            Rendered { docs, notes }
        })
        .collect()
}

/// The value a template runs with: `.Values`, `.Release`, `.Chart`,
/// `.Capabilities`, `.Template`, `.Files`.
fn root_object(c: &chart::Chart, values: &Val, t: &Tmpl, release: &ReleaseInfo) -> Val {
    let method = |m: Method| Val::new(V::Method(m));
    map(vec![
        ("Values", values.clone()),
        (
            "Release",
            map(vec![
                ("Name", Val::str(release.name.as_str())),
                ("Namespace", Val::str(release.namespace.as_str())),
                ("Service", Val::str("Helm")),
                ("IsInstall", Val::bool(true)),
                ("IsUpgrade", Val::bool(false)),
                ("Revision", Val::int(1)),
            ]),
        ),
        ("Chart", c.meta.clone()),
        (
            "Capabilities",
            map(vec![
                (
                    "KubeVersion",
                    map(vec![
                        ("Version", Val::str(KUBE_VERSION)),
                        ("GitVersion", Val::str(KUBE_VERSION)),
                        ("Major", Val::str("1")),
                        ("Minor", Val::str("36")),
                    ]),
                ),
                (
                    "APIVersions",
                    map(vec![("Has", method(Method::ApiVersionsHas))]),
                ),
                ("HelmVersion", map(vec![("Version", Val::str("v3.16.0"))])),
            ]),
        ),
        (
            "Template",
            map(vec![
                ("Name", Val::str(t.name.as_str())),
                ("BasePath", Val::str(format!("{}/templates", c.helm_path))),
            ]),
        ),
        (
            "Files",
            map(vec![
                ("Get", method(Method::FilesGet(t.chart as u32))),
                ("Glob", method(Method::Unsupported("Files.Glob"))),
                ("Lines", method(Method::Unsupported("Files.Lines"))),
                ("AsConfig", method(Method::Unsupported("Files.AsConfig"))),
                ("AsSecrets", method(Method::Unsupported("Files.AsSecrets"))),
            ]),
        ),
    ])
}

/// Where output bytes `start..end` came from: the template span, and the
/// values-file spans printed inside it, in output order.
pub fn locate(segs: &[Seg], start: u32, end: u32) -> Option<(Span, Vec<Span>)> {
    let at = |o: u32| {
        let i = segs.partition_point(|s| s.end <= o);
        segs.get(i).filter(|s| s.start <= o)
    };
    let first = at(start)?;
    let last = at(end.saturating_sub(1).max(start)).unwrap_or(first);
    let a = if first.exact {
        first.tmpl.start + (start - first.start)
    } else {
        first.tmpl.start
    };
    let b = if last.exact {
        last.tmpl.start + (end.max(last.start) - last.start)
    } else {
        last.tmpl.end
    };
    let span = if first.tmpl.file == last.tmpl.file && a <= b {
        Span {
            file: first.tmpl.file,
            start: a,
            end: b,
        }
    } else if first.exact {
        Span {
            file: first.tmpl.file,
            start: a,
            end: a + (first.end.min(end) - start),
        }
    } else {
        first.tmpl
    };
    let lo = segs.partition_point(|s| s.end <= start);
    let mut values: Vec<Span> = Vec::new();
    for s in segs[lo..].iter().take_while(|s| s.start < end) {
        if let Some(v) = s.value
            && !values.contains(&v)
        {
            values.push(v);
        }
    }
    Some((span, values))
}

/// One YAML document of a rendered template.
#[derive(Clone, Debug)]
pub struct RenderedNode {
    pub index: usize,
    pub root: Node,
}

/// Read a rendered template as YAML: nodes located in the template, values
/// printed from values files with a hop to where they are set. A rendered
/// text that is not YAML is a note at the template.
pub fn parse_rendered(doc: &RenderedDoc) -> (Vec<RenderedNode>, Vec<RenderNote>) {
    let source = SourceFile::new(
        doc.file,
        doc.name.clone(),
        doc.name.clone().into(),
        doc.text.clone(),
    );
    let out = crate::parse::yaml::parse(&source);
    let mut notes = Vec::new();
    let fallback = doc
        .segs
        .first()
        .map_or(Span::new(doc.file, 0, 0), |s| s.tmpl);
    for d in &out.diags {
        if d.kind == crate::parse::DiagKind::DuplicateKey {
            continue;
        }
        let span = locate(&doc.segs, d.span.start, d.span.end.max(d.span.start + 1))
            .map_or(fallback, |(s, _)| s);
        notes.push(RenderNote::new(
            span,
            format!(
                "the output of template {} is not valid YAML here: {}",
                doc.name, d.message
            ),
        ));
    }
    let docs = out
        .docs
        .into_iter()
        .map(|d| {
            let mut root = d.root;
            relocate(&mut root, &doc.segs, fallback, 0);
            RenderedNode {
                index: d.index,
                root,
            }
        })
        .collect();
    (docs, notes)
}

fn relocate(n: &mut Node, segs: &[Seg], fallback: Span, depth: usize) {
    let scalar = !matches!(n.value, Value::Map(_) | Value::Seq(_));
    match locate(segs, n.span.start, n.span.end.max(n.span.start + 1)) {
        Some((span, values)) => {
            n.span = span;
            if scalar && !values.is_empty() {
                n.via = Chain::of(values.into_iter().map(|v| Hop {
                    span: v,
                    label: "set in the chart's values".into(),
                }));
            }
        }
        None => n.span = fallback,
    }
    if depth > crate::parse::MAX_DEPTH {
        return;
    }
    match &mut n.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|i| relocate(i, segs, fallback, depth + 1)),
        Value::Map(entries) => entries.iter_mut().for_each(|e| {
            relocate(&mut e.key, segs, fallback, depth + 1);
            relocate(&mut e.value, segs, fallback, depth + 1);
        }),
        _ => {}
    }
}

/// Read a chart directory from disk: every regular file below `dir`
/// (symbolic links are not followed, so nothing outside it is read), at
/// most `max_files` files of at most `max_bytes` each, valid UTF-8. File
/// ids are `first_id`, `first_id + 1`... in path order.
pub fn load_dir(
    dir: &std::path::Path,
    first_id: u32,
    max_files: usize,
    max_bytes: u64,
) -> Vec<ChartFile> {
    let mut paths = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new(), 0usize)];
    while let Some((d, rel, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
                continue;
            };
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let p = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if meta.is_dir() && depth < 32 && name != ".git" {
                stack.push((e.path(), p, depth + 1));
            } else if meta.is_file() && meta.len() <= max_bytes {
                paths.push((p, e.path()));
            }
        }
    }
    paths.sort();
    paths.truncate(max_files);
    let mut out = Vec::new();
    for (p, disk) in paths {
        let Ok(bytes) = std::fs::read(&disk) else {
            continue;
        };
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        out.push(ChartFile {
            path: p,
            file: FileId(first_id + out.len() as u32),
            text: text.into(),
        });
    }
    out
}

#[cfg(test)]
mod tests;
