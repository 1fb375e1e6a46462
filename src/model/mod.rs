//! What the files mean: every YAML/JSON document classified, every file and
//! document placed in an environment, Terraform evaluated per environment,
//! and inventories (containers, ...) that rules read instead of raw trees.

pub mod classify;
pub mod containers;
pub mod dockerfile;
pub mod gitops;
pub mod helm;
pub mod image;
pub mod kustomize;
pub mod regions;
pub mod scp;
pub mod secretlike;
pub mod workflow;

use std::time::Instant;

use rayon::prelude::*;

use crate::discover::{Candidate, Syntax};
use crate::env::{Assignment, Env, EnvSet, Evidence};
use crate::node::Node;
use crate::parse::{self, DiagKind, ParseDiag};
use crate::source::{FileId, SourceFile, SourceMap};
use crate::terraform::{self, TfModel};

pub use classify::DocKind;
pub use containers::{Container, EnvVar, Platform};

/// One YAML/JSON document that guard understands.
#[derive(Debug)]
pub struct Doc {
    pub file: FileId,
    /// Position in a multi-document YAML stream (0 for JSON).
    pub index: usize,
    pub kind: DocKind,
    pub root: Node,
    pub assignment: Assignment,
    /// Kustomize overlays that render this document (empty when none).
    pub overlays: Vec<kustomize::Overlay>,
}

/// A document of no kind guard knows.
#[derive(Debug)]
pub struct OtherDoc {
    pub file: FileId,
    pub index: usize,
    pub root: Node,
}

/// Per-file facts for `guard envs` and `--stats`.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub file: FileId,
    pub syntax: Syntax,
    /// What guard took the file for ("kubernetes", "compose", "skipped: not a known format").
    pub kind: String,
    pub assignment: Assignment,
    pub bytes: u64,
    /// Read as text (not binary, not invalid UTF-8).
    pub readable: bool,
}

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ModelStats {
    pub files: usize,
    pub bytes: u64,
    pub documents: usize,
    pub unrecognized_documents: usize,
    pub unreadable: usize,
    pub templates: usize,
    pub parse_micros: u128,
    /// Rendering the Helm charts (per environment and application).
    pub helm_micros: u128,
    pub model_micros: u128,
}

pub struct Model {
    pub sources: SourceMap,
    pub files: Vec<FileInfo>,
    pub docs: Vec<Doc>,
    /// YAML/JSON documents guard does not recognise, kept only when asked
    /// (the Rego bridge gives every document to the policies).
    pub other_docs: Vec<OtherDoc>,
    pub containers: Vec<Container>,
    /// Jobs of GitHub Actions workflows, each with its environment.
    pub jobs: Vec<workflow::Job>,
    /// The GitOps applications (Argo CD, Flux) and the environments they deploy into.
    pub apps: Vec<gitops::App>,
    /// The Helm charts rendered: per chart and environment, what rendered.
    pub helm: Vec<helm::deploy::ChartRun>,
    /// Files (sorted) whose documents are Helm renderings: one document per
    /// environment may hold the same place.
    pub rendered_files: Vec<FileId>,
    /// SCPs and IAM policy documents, from files and Terraform.
    pub policies: Vec<scp::Policy>,
    /// Every place that names an AWS region.
    pub regions: Vec<regions::RegionUse>,
    pub terraform: TfModel,
    pub diags: Vec<ParseDiag>,
    pub stats: ModelStats,
    /// Nested git repositories below the scan root (see `discover::Walked`).
    pub projects: Vec<String>,
    /// The project's environments.
    pub envs: EnvSet,
    /// Regions guard.toml allows (they override what SCPs imply).
    pub allowed_regions: AllowedRegions,
    /// `[parity] allow`: differences that are intended
    /// (`aws_db_instance.*.engine_version`).
    pub parity_allow: Vec<String>,
    /// `[hardening] pod-security-version`: the Kubernetes release whose Pod
    /// Security Standards the hardening controls follow.
    pub pss_version: crate::config::PssVersion,
    /// `[parity] pairs` (lower, upper); empty: every staging-tier
    /// environment against every prod-tier one.
    pub parity_pairs: Vec<(Env, Env)>,
    /// Per file (by id): the environments its content is deployed to (the
    /// Terraform evaluations that read it, the overlays that render it, its
    /// own evidence); empty when it applies to all of them.
    pub file_envs: Vec<Vec<Env>>,
}

enum Parsed {
    Yaml(Vec<crate::parse::yaml::YamlDoc>),
    Json(Node),
    Dockerfile(Node),
    Other,
    Unreadable,
}

/// A file as read: its text (empty when it could not be read), the
/// diagnostics of reading it, and whether it can be parsed.
struct ReadFile {
    source: SourceFile,
    diags: Vec<ParseDiag>,
    unreadable: bool,
}

fn read_file(id: FileId, c: &Candidate, limit: u64) -> ReadFile {
    use crate::discover::{Issue, Read};
    let mut diags = Vec::new();
    let at0 = crate::source::Span::new(id, 0, 0);
    let issue = |diags: &mut Vec<ParseDiag>, i: &Issue| {
        let kind = match i {
            Issue::TooLarge { .. } => DiagKind::TooLarge,
            _ => DiagKind::Unreadable,
        };
        diags.push(ParseDiag::new(kind, at0, i.describe()));
    };
    let read = match &c.issue {
        Some(i) => {
            issue(&mut diags, i);
            None
        }
        None => Some(crate::discover::read_text(c, limit)),
    };
    let (text, unreadable) = match read {
        None => (String::new(), true),
        Some(Ok(Read::Text(t))) => (t, false),
        Some(Ok(Read::NotUtf8 { text, at })) => {
            diags.push(ParseDiag::new(
                DiagKind::ParseError,
                crate::source::Span::new(id, at, at + 1),
                "the file is not valid UTF-8 here; nothing in it was checked",
            ));
            (text, true)
        }
        Some(Ok(Read::Binary { at })) => {
            diags.push(ParseDiag::new(
                DiagKind::ParseError,
                at0,
                format!(
                    "the file's name says it is configuration, but its content is binary (a NUL byte at offset {at}); nothing in it was checked"
                ),
            ));
            (String::new(), true)
        }
        Some(Ok(Read::TooLarge { size })) => {
            issue(&mut diags, &Issue::TooLarge { size, limit });
            (String::new(), true)
        }
        Some(Err(e)) => {
            issue(
                &mut diags,
                &Issue::Unreadable(crate::project::io_reason(&e)),
            );
            (String::new(), true)
        }
    };
    // A text file is read only for the secret scan: one that cannot be
    // read as text (binary, not UTF-8, over the size limit) is skipped
    // silently, as before guard read such files at all.
    if c.syntax == Syntax::Text {
        diags.retain(|_| matches!(c.issue, Some(Issue::SymlinkOutside)));
    }
    // The paths are the candidate's, shared.
    let mut source = SourceFile::shared(id, c.path.clone(), c.disk_path.clone(), text);
    source.env_start = c.env_start;
    source.shown = c.shown.clone();
    source.uri = c.uri.clone();
    ReadFile {
        source,
        diags,
        unreadable,
    }
}

/// Parse a file read (YAML, JSON, Dockerfile; Terraform is the Terraform
/// stage's): what it holds and its diagnostics (the reading's when it
/// could not be read or is not parsed here).
fn parse_source(
    source: &SourceFile,
    syntax: Syntax,
    read_diags: Vec<ParseDiag>,
    unreadable: bool,
) -> (Parsed, Vec<ParseDiag>) {
    if unreadable {
        return (Parsed::Unreadable, read_diags);
    }
    match syntax {
        Syntax::Yaml => {
            let out = parse::yaml::parse(source);
            (Parsed::Yaml(out.docs), out.diags)
        }
        Syntax::Json => {
            let out = parse::json::parse_with_diags(source);
            (out.root.map_or(Parsed::Other, Parsed::Json), out.diags)
        }
        Syntax::Dockerfile => (
            Parsed::Dockerfile(parse::dockerfile::parse(source)),
            read_diags,
        ),
        _ => (Parsed::Other, read_diags),
    }
}

/// Read, parse and model the candidates.
pub fn build(candidates: &[Candidate], projects: Vec<String>, envs: &EnvSet) -> Model {
    build_with_limit(
        candidates,
        projects,
        envs,
        crate::discover::MAX_FILE_BYTES,
        None,
        false,
    )
}

/// [`build`], reading at most `limit` bytes of a file, and nothing outside
/// `boundary` (the canonical project roots). `keep_other_docs`: keep the
/// documents guard does not recognise too (the Rego policies read every
/// document, as Conftest does).
pub fn build_with_limit(
    candidates: &[Candidate],
    projects: Vec<String>,
    envs: &EnvSet,
    limit: u64,
    boundary: Option<&[std::path::PathBuf]>,
    keep_other_docs: bool,
) -> Model {
    let t0 = Instant::now();
    let read: Vec<ReadFile> = candidates
        .par_iter()
        .enumerate()
        .map(|(i, c)| read_file(FileId(i as u32), c, limit))
        .collect();
    let mut sources = Vec::with_capacity(read.len());
    let mut rest = Vec::with_capacity(read.len());
    for r in read {
        sources.push(r.source);
        rest.push((r.diags, r.unreadable));
    }
    let tf_files: Vec<&SourceFile> = sources
        .iter()
        .zip(&rest)
        .filter(|(s, (_, unreadable))| {
            !unreadable
                && matches!(
                    candidates[s.id.0 as usize].syntax,
                    Syntax::Terraform | Syntax::TfVars | Syntax::TerraformJson | Syntax::Terragrunt
                )
        })
        .map(|(s, _)| s)
        .collect();
    // Terraform reads only its own files: it is evaluated while the rest is
    // parsed and modelled, so that neither waits for the other's slowest
    // file.
    let (built, terraform) = rayon::join(
        || build_docs(candidates, &sources, rest, envs, keep_other_docs, t0),
        || terraform::evaluate_with_syntax(&tf_files, envs, boundary, keep_other_docs),
    );
    drop(tf_files);
    let Built {
        mut files,
        mut docs,
        other_docs,
        mut diags,
        mut stats,
    } = built;
    diags.extend(terraform.diags.iter().cloned());

    // Helm charts: their files guard had not read join the sources (a
    // rendered field may point into `_helpers.tpl`).
    let mut charts = helm::deploy::load_charts(&sources, sources.len() as u32);
    for s in &charts.sources {
        files.push(FileInfo {
            file: s.id,
            syntax: Syntax::Yaml,
            kind: HELM_CHART_FILE.to_string(),
            assignment: Assignment::default(),
            bytes: s.text.len() as u64,
            readable: true,
        });
    }
    sources.append(&mut charts.sources);
    let sources = SourceMap::new(sources);
    let jobs = workflow::jobs(&docs, envs);
    let (apps, helm_runs, rendered_files) = if charts.is_empty() {
        (
            gitops::collect(&docs, envs, &sources),
            Vec::new(),
            Vec::new(),
        )
    } else {
        let t = Instant::now();
        let (h, apps) = helm::deploy::render_with_apps(
            &charts,
            &sources,
            &docs,
            envs,
            &helm::Limits::default(),
        );
        stats.helm_micros = t.elapsed().as_micros();
        // A template that rendered is checked as what it renders.
        diags.retain(|d| d.kind != DiagKind::Template || !charts.holds(sources.path(d.span.file)));
        stats.templates = diags
            .iter()
            .filter(|d| d.kind == DiagKind::Template)
            .count();
        diags.extend(h.diags);
        let mut rendered: Vec<FileId> = h.docs.iter().map(|d| d.file).collect();
        rendered.sort();
        rendered.dedup();
        for f in &mut files {
            let path = sources.path(f.file);
            if rendered.binary_search(&f.file).is_ok() {
                f.kind = "helm template, rendered".to_string();
            } else if f.syntax == Syntax::Text && f.readable && charts.holds(path) {
                // A chart's `_helpers.tpl`: deployed wherever the chart renders.
                f.kind = HELM_CHART_FILE.to_string();
            } else if f.syntax == Syntax::Yaml
                && charts.holds(path)
                && path.contains("/templates/")
                && f.readable
            {
                f.kind = "helm template, renders no object here".to_string();
            }
        }
        docs.extend(h.docs);
        // Documents stay in file order (`envs_at`); a file's renderings in
        // the order they were made.
        docs.sort_by_key(|d| d.file);
        (apps, h.charts, rendered)
    };
    // Directories GitOps applications deploy with patches or post-build variables of their
    // own: rendered once more per application, in its environment.
    kustomize::deploy(
        &mut docs,
        &other_docs,
        sources.files(),
        &gitops::deployments(&apps),
    );
    let mut seen_notes: Vec<&crate::parse::ParseDiag> = Vec::new();
    for d in apps.iter().flat_map(|a| &a.diags) {
        if !seen_notes.contains(&d) {
            seen_notes.push(d);
        }
    }
    diags.extend(seen_notes.into_iter().cloned());
    let containers = crate::node::exact(containers::collect(
        &docs,
        &terraform,
        &sources,
        &jobs,
        &apps,
        &rendered_files,
    ));
    let policies = scp::collect(
        &sources,
        &docs,
        &|d: &Doc| sources.path(d.file).to_string(),
        &terraform,
        envs,
    );
    let regions = regions::collect(&docs, &containers, &terraform, envs);
    let mut file_envs = file_environments(&files, &docs, &terraform, &sources);
    // A chart file guard had not read (`_helpers.tpl`) is deployed wherever
    // its chart renders.
    for f in files.iter().filter(|f| f.kind == HELM_CHART_FILE) {
        let path = sources.path(f.file);
        let runs = helm_runs.iter().filter(|r| {
            r.chart == "."
                || path
                    .strip_prefix(r.chart.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        });
        let mut envs: Vec<Env> = Vec::new();
        for r in runs {
            match r.assignment.env {
                Some(e) => envs.push(e),
                None => {
                    envs.clear();
                    break;
                }
            }
        }
        envs.sort();
        envs.dedup();
        if let Some(slot) = file_envs.get_mut(f.file.0 as usize) {
            *slot = envs;
        }
    }
    // Parsing and Terraform ran side by side: modelling is what the build
    // took besides the longer of the two.
    stats.model_micros = t0
        .elapsed()
        .as_micros()
        .saturating_sub(stats.parse_micros.max(terraform.stats.eval_micros));
    Model {
        sources,
        files,
        docs,
        other_docs,
        containers,
        jobs,
        apps,
        policies,
        regions,
        terraform,
        diags,
        stats,
        projects,
        envs: envs.clone(),
        allowed_regions: AllowedRegions::default(),
        parity_allow: Vec::new(),
        pss_version: crate::config::PssVersion::LATEST,
        parity_pairs: Vec::new(),
        file_envs,
        helm: helm_runs,
        rendered_files,
    }
}

/// What `guard envs` calls a chart's file guard read only to render the chart.
pub const HELM_CHART_FILE: &str = "helm chart file";

/// What `guard envs` calls a text file read only for the secret scan.
pub const TEXT_FILE: &str = "text: scanned for literal secrets";

/// What `guard envs` calls a YAML or JSON file with no document guard knows.
pub const NOT_CHECKED: &str = "skipped: not a format guard checks";

/// What the documents gave, before Terraform and the inventories.
struct Built {
    files: Vec<FileInfo>,
    docs: Vec<Doc>,
    other_docs: Vec<OtherDoc>,
    diags: Vec<ParseDiag>,
    stats: ModelStats,
}

/// Parse every file that is not Terraform, classify its documents and
/// apply the kustomizations.
fn build_docs(
    candidates: &[Candidate],
    sources: &[SourceFile],
    rest: Vec<(Vec<ParseDiag>, bool)>,
    envs: &EnvSet,
    keep_other_docs: bool,
    t0: Instant,
) -> Built {
    let parsed: Vec<(Parsed, Vec<ParseDiag>)> = sources
        .par_iter()
        .zip(rest)
        .map(|(s, (d, unreadable))| {
            parse_source(s, candidates[s.id.0 as usize].syntax, d, unreadable)
        })
        .collect();
    let parse_micros = t0.elapsed().as_micros();

    let mut stats = ModelStats {
        files: sources.len(),
        bytes: candidates.iter().map(|c| c.size).sum(),
        parse_micros,
        ..ModelStats::default()
    };
    let mut files = Vec::with_capacity(sources.len());
    let mut docs = Vec::new();
    let mut other_docs = Vec::new();
    let mut diags = Vec::new();
    for (source, (parsed, file_diags)) in sources.iter().zip(parsed) {
        let syntax = candidates[source.id.0 as usize].syntax;
        let path_assignment = envs.from_path(source.env_path()).unwrap_or_default();
        let readable = !matches!(parsed, Parsed::Unreadable);
        if file_diags.iter().any(|d| d.kind == DiagKind::Template) {
            stats.templates += 1;
        }
        diags.extend(file_diags);
        let mut kinds: Vec<&'static str> = Vec::new();
        let mut push_doc = |index: usize, root: Node, stats: &mut ModelStats| {
            stats.documents += 1;
            match classify::classify(&source.path, &root) {
                Some(kind) => {
                    kinds.push(kind.label());
                    let assignment =
                        doc_assignment(envs, &source.path, &path_assignment, &kind, &root);
                    docs.push(Doc {
                        file: source.id,
                        index,
                        kind,
                        root,
                        assignment,
                        overlays: Vec::new(),
                    });
                }
                None => {
                    stats.unrecognized_documents += 1;
                    // JSON 6902 patches (lists of operations) are kept for
                    // the overlays that apply them.
                    if keep_other_docs || kustomize::patch::is_json6902(&root) {
                        other_docs.push(OtherDoc {
                            file: source.id,
                            index,
                            root,
                        });
                    }
                }
            }
        };
        match parsed {
            Parsed::Yaml(ds) => {
                for d in ds {
                    push_doc(d.index, d.root, &mut stats);
                }
            }
            Parsed::Json(root) => push_doc(0, root, &mut stats),
            Parsed::Dockerfile(root) => {
                stats.documents += 1;
                docs.push(Doc {
                    file: source.id,
                    index: 0,
                    kind: DocKind::Dockerfile,
                    root,
                    assignment: path_assignment.clone(),
                    overlays: Vec::new(),
                });
            }
            Parsed::Unreadable => stats.unreadable += 1,
            Parsed::Other => {}
        }
        kinds.sort_unstable();
        kinds.dedup();
        let kind = match syntax {
            _ if !readable => "not read (see its diagnostic)".to_string(),
            Syntax::Terraform | Syntax::TerraformJson => "terraform".to_string(),
            Syntax::TfVars => "terraform variables".to_string(),
            Syntax::Terragrunt => "terragrunt".to_string(),
            Syntax::Dockerfile => "dockerfile".to_string(),
            Syntax::Toml => "guard configuration".to_string(),
            Syntax::Text => TEXT_FILE.to_string(),
            _ if kinds.is_empty() => NOT_CHECKED.to_string(),
            _ => kinds.join(", "),
        };
        files.push(FileInfo {
            file: source.id,
            syntax,
            kind,
            assignment: path_assignment,
            bytes: source.text.len() as u64,
            readable,
        });
    }

    kustomize::propagate(&mut docs, &other_docs, sources);
    Built {
        files,
        docs: crate::node::exact(docs),
        other_docs,
        diags,
        stats,
    }
}

/// A document's environment: the path's when it has one, else what the
/// document itself says (a namespace).
fn doc_assignment(
    envs: &EnvSet,
    file: &str,
    path: &Assignment,
    kind: &DocKind,
    root: &Node,
) -> Assignment {
    if matches!(kind, DocKind::Kustomization)
        && let Some(a) = envs.configured_overlay(crate::source::parent_dir(file))
    {
        return a;
    }
    if path.env.is_some() {
        return path.clone();
    }
    let ns = match kind {
        DocKind::Kubernetes { .. } => root.path(&["metadata", "namespace"]),
        DocKind::Kustomization => root.get("namespace"),
        _ => None,
    };
    if let Some(ns) = ns
        && let Some(value) = ns.as_str()
        && let Some(e) = envs.namespace(value)
    {
        let evidence = if matches!(kind, DocKind::Kustomization) {
            Evidence::KustomizeNamespace {
                span: ns.span,
                value: value.to_string(),
            }
        } else {
            Evidence::Namespace {
                span: ns.span,
                value: value.to_string(),
            }
        };
        return Assignment::new(e, evidence);
    }
    path.clone()
}

/// The structure of a Terraform attribute that holds JSON: the tree itself
/// (from `jsonencode`), or a JSON string parsed. When the string is written
/// literally in the source (a heredoc, a quoted string), every value is
/// located at its own line inside it; otherwise (interpolated, from
/// `file()`) all of it is located at the attribute.
pub fn json_tree(n: &Node, sources: &SourceMap) -> Option<Node> {
    let text = match &n.value {
        crate::node::Value::Map(_) | crate::node::Value::Seq(_) => return Some(n.clone()),
        crate::node::Value::String(s) => s,
        _ => return None,
    };
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    located_json(n, &value, sources).or_else(|| Some(Node::from_json(&value, n.span, &n.via)))
}

/// Parse the JSON body written inside `n`'s source span, with the file's
/// own offsets, and keep it only if it is the value the string evaluated to.
fn located_json(n: &Node, value: &serde_json::Value, sources: &SourceMap) -> Option<Node> {
    let file = sources.get(n.span.file)?;
    let slice = file.slice(n.span);
    let start = n.span.start as usize + slice.find(['[', '{'])?;
    let end = n.span.start as usize + slice.rfind([']', '}'])? + 1;
    // Same length and line breaks as the file, blank outside the body (the
    // body's ends are ASCII brackets, so this stays valid UTF-8).
    let masked: Vec<u8> = file
        .text
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            if (start..end).contains(&i) || b == b'\n' {
                b
            } else {
                b' '
            }
        })
        .collect();
    let masked = String::from_utf8(masked).ok()?;
    let copy = SourceFile::shared(file.id, file.path.clone(), file.disk_path.clone(), masked);
    let tree = parse::json::parse(&copy).ok()?;
    (tree.to_json() == *value).then_some(tree)
}

impl Model {
    /// The project (nested git repository, `""` for the scan root) a file
    /// belongs to: the deepest repository directory that contains it.
    pub fn project_of(&self, file: FileId) -> &str {
        let path = self.sources.path(file);
        self.projects
            .iter()
            .filter(|p| {
                path.len() > p.len()
                    && path.starts_with(p.as_str())
                    && path.as_bytes()[p.len()] == b'/'
            })
            .max_by_key(|p| p.len())
            .map_or("", String::as_str)
    }
}

/// Which environments each file's content is deployed to. Terraform files:
/// the environments of the evaluations that read them (a module shared by
/// staging and prod is both); documents: the overlays that render them, or
/// their own assignment; other files: their path evidence. Any reader that
/// applies to all environments makes the file apply to all (empty).
fn file_environments(
    files: &[FileInfo],
    docs: &[Doc],
    terraform: &TfModel,
    sources: &SourceMap,
) -> Vec<Vec<Env>> {
    // None: not reached yet; Some(None): all environments.
    let mut acc: Vec<Option<Option<std::collections::BTreeSet<Env>>>> = vec![None; files.len()];
    let mut add = |file: FileId, env: Option<Env>| {
        let Some(slot) = acc.get_mut(file.0 as usize) else {
            return;
        };
        match (slot.as_mut(), env) {
            (None, Some(e)) => *slot = Some(Some([e].into())),
            (None, None) | (Some(Some(_)), None) => *slot = Some(None),
            (Some(Some(set)), Some(e)) => {
                set.insert(e);
            }
            (Some(None), _) => {}
        }
    };
    for root in &terraform.roots {
        let env = root.assignment.env;
        let mut seen = std::collections::BTreeSet::new();
        let spans = root
            .resources
            .iter()
            .map(|r| r.span)
            .chain(root.providers.iter().map(|b| b.span))
            .chain(root.variables.iter().map(|v| v.span))
            .chain(root.locals.iter().map(|l| l.span));
        for s in spans {
            if seen.insert(s.file) {
                add(s.file, env);
            }
        }
        if let Some(vf) = &root.var_file
            && let Some(f) = files.iter().find(|f| sources.path(f.file) == vf)
        {
            add(f.file, env);
        }
    }
    for d in docs {
        if d.overlays.is_empty() {
            add(d.file, d.assignment.env);
        } else {
            for o in &d.overlays {
                add(d.file, o.env);
            }
        }
    }
    acc.into_iter()
        .zip(files)
        .map(|(a, f)| match a {
            Some(Some(set)) => set.into_iter().collect(),
            Some(None) => Vec::new(),
            None => f.assignment.env.into_iter().collect(),
        })
        .collect()
}

impl Model {
    /// The environments the content at `span` is deployed to: the document
    /// holding it when there is one (every rendering of a Helm template
    /// that holds it), else its file. Empty: all.
    pub fn envs_at(&self, span: crate::source::Span) -> Vec<Env> {
        // Documents are in file order.
        let lo = self.docs.partition_point(|d| d.file < span.file);
        let hi = self.docs.partition_point(|d| d.file <= span.file);
        // ... and, within a file, in text order: the last one starting at
        // or before the span is the only candidate, except in a rendered
        // template, where each environment's rendering is a document.
        let docs = &self.docs[lo..hi.max(lo)];
        let at = docs.partition_point(|d| d.root.span.start <= span.start);
        let holds = |d: &&Doc| d.kind != DocKind::Dockerfile && span.start <= d.root.span.end;
        let rendered = self.rendered_files.binary_search(&span.file).is_ok();
        let found: Vec<&Doc> = if rendered {
            docs[..at].iter().filter(holds).collect()
        } else {
            at.checked_sub(1)
                .and_then(|i| docs.get(i))
                .filter(holds)
                .into_iter()
                .collect()
        };
        if found.is_empty() {
            return self
                .file_envs
                .get(span.file.0 as usize)
                .cloned()
                .unwrap_or_default();
        }
        let mut v = Vec::new();
        for d in found {
            let e = self.doc_envs(d);
            if e.is_empty() {
                return e;
            }
            v.extend(e);
        }
        v.sort();
        v.dedup();
        v
    }

    /// The environments a document is deployed to: its overlays', else its
    /// own. Empty: all.
    pub fn doc_envs(&self, d: &Doc) -> Vec<Env> {
        let mut v: Vec<Env> = if d.overlays.is_empty() {
            d.assignment.env.into_iter().collect()
        } else if d.overlays.iter().any(|o| o.env.is_none()) {
            Vec::new()
        } else {
            d.overlays.iter().filter_map(|o| o.env).collect()
        };
        v.sort();
        v.dedup();
        v
    }
}

/// The regions `[regions]` of guard.toml allows, located in it.
#[derive(Clone, Debug, Default)]
pub struct AllowedRegions {
    pub global: Option<(Vec<String>, crate::source::Span)>,
    pub per_env: Vec<(Env, Vec<String>, crate::source::Span)>,
}

/// One `[regions]` list as guard.toml gives it: the environment's name
/// (none for `allowed`), the regions, the list's byte range in the file.
pub type RegionList<'a> = (Option<&'a str>, &'a [String], std::ops::Range<usize>);

impl AllowedRegions {
    /// The lists of guard.toml (`file`), each environment's resolved in `envs`.
    pub fn from_config<'a>(
        lists: impl IntoIterator<Item = RegionList<'a>>,
        file: FileId,
        envs: &EnvSet,
    ) -> AllowedRegions {
        let mut global = None;
        let mut named: Vec<(&str, &[String], std::ops::Range<usize>)> = Vec::new();
        for (name, l, s) in lists {
            match name {
                None => global = Some((l.to_vec(), crate::source::Span::new(file, s.start, s.end))),
                Some(n) => named.push((n, l, s)),
            }
        }
        let mut per_env: Vec<(Env, Vec<String>, crate::source::Span)> = named
            .iter()
            .filter_map(|(name, l, s)| {
                Some((
                    envs.named(name)?,
                    l.to_vec(),
                    crate::source::Span::new(file, s.start, s.end),
                ))
            })
            .collect();
        // An environment found in the paths (`prod-eu`) keeps the list of
        // the one it qualifies (`prod`) unless it has its own.
        for (name, l, s) in &named {
            for e in envs.with_qualified(name) {
                if !per_env.iter().any(|(pe, _, _)| *pe == e) {
                    per_env.push((
                        e,
                        l.to_vec(),
                        crate::source::Span::new(file, s.start, s.end),
                    ));
                }
            }
        }
        AllowedRegions { global, per_env }
    }

    /// The configured list that applies in `env` (None: all environments),
    /// if any: the environment's own, else the global one.
    pub fn for_env(&self, env: Option<Env>) -> Option<(&[String], crate::source::Span)> {
        env.and_then(|e| self.per_env.iter().find(|(pe, _, _)| *pe == e))
            .map(|(_, l, s)| (l.as_slice(), *s))
            .or_else(|| self.global.as_ref().map(|(l, s)| (l.as_slice(), *s)))
    }
}
