//! GitOps manifests as deployments: an Argo CD `Application`, each application an
//! `ApplicationSet`'s list generator makes, and a Flux `HelmRelease` say which chart or overlay
//! an environment runs and with which overrides (Helm parameters and inline values, Kustomize
//! image overrides). This module only *finds* them ([`collect`]); the container inventory
//! turns their overrides into images (`containers.rs`), and the secrets rules read their
//! parameters and values.
//!
//! Overrides that change what an overlay renders (an Argo CD source's `kustomize.patches`, a
//! Flux Kustomization's `patches` and `postBuild` variables) are handed to the Kustomize
//! evaluator as one more rendering of that directory per application ([`deployments`],
//! `kustomize::deploy`), with the same patch engine overlays use.
//!
//! A `clusters` generator's elements are the label sets its selector names (the clusters
//! themselves are Secrets in the cluster): one application per environment label, `{{name}}`
//! and `{{server}}` unknown; `merge` applies later elements over the base by `mergeKeys`.
//!
//! What is not followed: generators that read other repositories or the SCM (a `git` generator
//! whose patterns match nothing here, `scmProvider`, `pullRequest`, ...: their template is
//! still read, once, for all environments, with every `{{...}}` left unknown), `$values/...`
//! value files of another source, remote charts' own values, patches given as files (`path:`)
//! and `substituteFrom` Secrets (both located notes).

use crate::env::{Env, EnvSet, Evidence};
use crate::model::{Doc, DocKind};
use crate::node::{Chain, Hop, Node, Value};
use crate::source::Span;

/// The most applications one `ApplicationSet` list may make (hostile-input bound).
const MAX_ELEMENTS: usize = 1000;
/// How deep template substitution and value merging go.
const MAX_DEPTH: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppKind {
    ArgoApplication,
    /// An application an `ApplicationSet` generates from one list element.
    ArgoApplicationSet,
    FluxHelmRelease,
    /// A Flux `Kustomization` (kustomize.toolkit.fluxcd.io): a path of this repository, its
    /// `images` overrides.
    FluxKustomization,
}

impl AppKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::ArgoApplication => "Argo CD Application",
            AppKind::ArgoApplicationSet => "Argo CD ApplicationSet",
            AppKind::FluxHelmRelease => "Flux HelmRelease",
            AppKind::FluxKustomization => "Flux Kustomization",
        }
    }
}

/// One Helm parameter (`helm.parameters[]`): a dotted values path and its value.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: Node,
    pub value: Node,
}

/// One source of an application (`spec.source`, each of `spec.sources`, a HelmRelease's chart).
#[derive(Clone, Debug, Default)]
pub struct AppSource {
    /// `path` in the repository (Argo CD), `chart.spec.chart` of a GitRepository (Flux).
    pub path: Option<Node>,
    /// A chart of a Helm repository (`chart:`), not in this repository.
    pub chart: Option<Node>,
    pub repo_url: Option<Node>,
    pub target_revision: Option<Node>,
    pub value_files: Vec<Node>,
    /// Values read from ConfigMaps of this repository (a HelmRelease's `valuesFrom`), in order,
    /// under the inline values.
    pub values_from: Vec<Node>,
    /// Inline values: `helm.valuesObject`, `helm.values` parsed, a HelmRelease's `values`.
    pub values: Vec<Node>,
    pub parameters: Vec<Param>,
    /// `kustomize.images` entries (`name=new:tag`, `new:tag`).
    pub kustomize_images: Vec<Node>,
    /// Inline Kustomize patches (an Argo CD source's `kustomize.patches`, a Flux
    /// Kustomization's `patches`), parsed where they are written: applied to the rendering
    /// of `path` after the kustomization's own (see [`deployments`]).
    pub kustomize_patches: Vec<super::kustomize::patch::Patch>,
    /// A Flux Kustomization's post-build variables (`postBuild.substitute`, and the
    /// `substituteFrom` ConfigMaps of this repository under them).
    pub post_build: Option<std::sync::Arc<super::kustomize::patch::Vars>>,
}

#[derive(Clone, Debug)]
pub struct App {
    pub kind: AppKind,
    /// The application's name (after the ApplicationSet template is applied).
    pub name: String,
    pub file: crate::source::FileId,
    /// Where it is declared: `metadata.name`, else the document.
    pub decl: Span,
    pub env: Option<Env>,
    pub evidence: Option<Evidence>,
    pub sources: Vec<AppSource>,
    /// The namespace it installs into (Argo CD `destination.namespace`, a HelmRelease's
    /// `targetNamespace` or own namespace), when written.
    pub namespace: Option<String>,
    /// What guard could not follow (an ApplicationSet generator that reads cluster state).
    pub note: Option<String>,
    /// Located notes on what of the manifest was not evaluated (a patch file of another
    /// repository, a `substituteFrom` Secret, an ApplicationSet past the element limit).
    pub diags: Vec<crate::parse::ParseDiag>,
}

impl App {
    /// "Argo CD Application `shop-prod`".
    pub fn describe(&self) -> String {
        format!("{} `{}`", self.kind.as_str(), self.name)
    }
}

/// Every application the project's GitOps manifests declare, in document order; a manifest
/// that Kustomize overlays render (Flux's per-environment values patches) once per overlay, as
/// the overlay renders it, in the overlay's environment.
pub fn collect(docs: &[Doc], envs: &EnvSet, sources: &crate::source::SourceMap) -> Vec<App> {
    let patch_files = patch_files(docs, sources);
    let dirs = std::sync::OnceLock::new();
    let mut out = Vec::new();
    for doc in docs {
        // A Kustomize patch (`apps/production/values.yaml` patching a HelmRelease) is part of
        // what its overlay renders, not a manifest of its own.
        if patch_files.contains(sources.path(doc.file)) {
            continue;
        }
        let DocKind::Kubernetes { kind, .. } = &doc.kind else {
            continue;
        };
        let api = doc.root.str_at(&["apiVersion"]).unwrap_or("");
        let known = match kind.as_str() {
            "Application" | "ApplicationSet" => api.starts_with("argoproj.io/"),
            "HelmRelease" => api.starts_with("helm.toolkit.fluxcd.io/"),
            "Kustomization" => api.starts_with("kustomize.toolkit.fluxcd.io/"),
            _ => false,
        };
        if !known {
            continue;
        }
        type Render<'d> = (std::borrow::Cow<'d, Node>, Placed, Option<&'d str>);
        let renders: Vec<Render<'_>> = if doc.overlays.is_empty() {
            vec![(
                std::borrow::Cow::Borrowed(&doc.root),
                (doc.assignment.env, doc.assignment.evidence.clone()),
                None,
            )]
        } else {
            doc.overlays
                .iter()
                .filter_map(|o| {
                    let root = super::kustomize::render(doc, o)?;
                    let evidence = o.env.map(|_| {
                        Evidence::GitOps(format!("rendered by overlay `{}`", o.kustomization))
                    });
                    Some((root, (o.env, evidence), Some(o.kustomization.as_str())))
                })
                .collect()
        };
        for (root, placed, overlay) in renders {
            let c = Ctx {
                doc,
                envs,
                sources,
                placed: &placed,
                dirs: &dirs,
                docs,
                overlay,
            };
            match kind.as_str() {
                "Application" => out.extend(argo_app(&c, &root, AppKind::ArgoApplication, None)),
                "ApplicationSet" => application_set(&c, &root, &mut out),
                "Kustomization" => out.extend(flux_kustomization(&c, &root)),
                _ => out.extend(helm_release(&c, &root)),
            }
        }
    }
    out
}

/// The files kustomizations use as patches (`patches: - path:`, `patchesStrategicMerge`).
fn patch_files(
    docs: &[Doc],
    sources: &crate::source::SourceMap,
) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for doc in docs.iter().filter(|d| d.kind == DocKind::Kustomization) {
        let dir = crate::source::parent_dir(sources.path(doc.file));
        for key in ["patches", "patchesStrategicMerge"] {
            for p in doc.root.get(key).map(Node::as_seq).unwrap_or(&[]) {
                let Some(rel) = p.str_at(&["path"]).or_else(|| p.as_str()) else {
                    continue;
                };
                if let Some(path) = crate::source::join_path(dir, rel) {
                    out.insert(path);
                }
            }
        }
    }
    out
}

/// An environment and what placed the manifest there.
type Placed = (Option<Env>, Option<Evidence>);

/// What every application of one manifest shares.
struct Ctx<'a> {
    doc: &'a Doc,
    envs: &'a EnvSet,
    sources: &'a crate::source::SourceMap,
    /// The manifest's own environment (its path, guard.toml, an overlay).
    placed: &'a Placed,
    /// The project's directories, listed once when a git generator asks.
    dirs: &'a std::sync::OnceLock<Vec<String>>,
    /// Every document (the ConfigMaps and generators a `valuesFrom` names).
    docs: &'a [Doc],
    /// The Kustomize overlay rendering this manifest (its kustomization's path), if one does.
    overlay: Option<&'a str>,
}

/// The environment of an application: the document's own (its path, guard.toml), else the
/// first of its destination namespace, its name, its source path, a list element's values
/// that names one.
fn app_env(c: &Ctx<'_>, root: &Node, element: Option<&Node>) -> Placed {
    let envs = c.envs;
    if c.placed.0.is_some() {
        return c.placed.clone();
    }
    let describe = |what: &str, value: &str| Evidence::GitOps(format!("{what} `{value}`"));
    if let Some(el) = element {
        for e in el.entries() {
            let (Some(k), Some(v)) = (e.key_str(), e.value.as_str()) else {
                continue;
            };
            if matches!(k, "env" | "environment" | "stage" | "tier")
                && let Some(env) = envs.word(v).or_else(|| envs.words(v))
            {
                return (Some(env), Some(describe(&format!("list element `{k}`"), v)));
            }
        }
        // A cluster generator's element: the label its selector names.
        for e in el
            .path(&["metadata", "labels"])
            .map(Node::entries)
            .unwrap_or(&[])
        {
            let (Some(k), Some(v)) = (e.key_str(), e.value.as_str()) else {
                continue;
            };
            if matches!(k, "env" | "environment" | "stage" | "tier")
                && let Some(env) = envs.word(v).or_else(|| envs.words(v))
            {
                return (
                    Some(env),
                    Some(describe(&format!("cluster label `{k}`"), v)),
                );
            }
        }
    }
    let candidates = [
        (
            "destination namespace",
            root.str_at(&["spec", "destination", "namespace"]),
        ),
        ("name", root.str_at(&["metadata", "name"])),
        (
            "destination cluster",
            root.str_at(&["spec", "destination", "name"]),
        ),
        ("source path", root.str_at(&["spec", "source", "path"])),
    ];
    for (what, value) in candidates {
        let Some(v) = value.filter(|v| !v.contains("{{")) else {
            continue;
        };
        let env = if what == "source path" {
            v.split('/')
                .filter(|s| !s.is_empty())
                .find_map(|s| envs.words(s))
        } else {
            envs.namespace(v).or_else(|| envs.words(v))
        };
        if let Some(env) = env {
            return (Some(env), Some(describe(what, v)));
        }
    }
    (None, None)
}

fn argo_app(c: &Ctx<'_>, root: &Node, kind: AppKind, element: Option<&Node>) -> Option<App> {
    let spec = root.get("spec")?;
    let mut sources = Vec::new();
    let mut diags = Vec::new();
    if let Some(s) = spec.get("source") {
        sources.push(argo_source(c, s, &mut diags));
    }
    for s in spec.get("sources").map(Node::as_seq).unwrap_or(&[]) {
        sources.push(argo_source(c, s, &mut diags));
    }
    let name_node = root.path(&["metadata", "name"]);
    let name = name_node.and_then(Node::as_str).unwrap_or("?").to_string();
    let (env, evidence) = app_env(c, root, element);
    Some(App {
        kind,
        name,
        file: c.doc.file,
        decl: name_node.map_or(root.span, |n| n.span),
        env,
        evidence,
        sources,
        namespace: root
            .str_at(&["spec", "destination", "namespace"])
            .filter(|n| !n.is_empty() && !n.contains("{{"))
            .map(str::to_string),
        note: None,
        diags,
    })
}

fn argo_source(c: &Ctx<'_>, s: &Node, diags: &mut Vec<crate::parse::ParseDiag>) -> AppSource {
    let mut out = AppSource {
        path: s.get("path").cloned(),
        chart: s.get("chart").cloned(),
        repo_url: s.get("repoURL").cloned(),
        target_revision: s.get("targetRevision").cloned(),
        ..AppSource::default()
    };
    if let Some(h) = s.get("helm") {
        out.value_files = h
            .get("valueFiles")
            .map(|v| v.as_seq().to_vec())
            .unwrap_or_default();
        if let Some(v) = h.get("valuesObject").filter(|v| v.is_map()) {
            out.values.push(v.clone());
        }
        match h.get("values") {
            Some(v) if v.is_map() => out.values.push(v.clone()),
            Some(v) => out.values.extend(values_string(c, v)),
            None => {}
        }
        for p in h.get("parameters").map(Node::as_seq).unwrap_or(&[]) {
            if let (Some(name), Some(value)) = (p.get("name"), p.get("value")) {
                out.parameters.push(Param {
                    name: name.clone(),
                    value: value.clone(),
                });
            }
        }
    }
    if let Some(k) = s.get("kustomize") {
        out.kustomize_images = k
            .get("images")
            .map(|v| v.as_seq().to_vec())
            .unwrap_or_default();
        out.kustomize_patches = inline_patches(c, k.get("patches"), diags);
    }
    out
}

/// Inline Kustomize patches (`- target: {kind, name, labelSelector}`, `patch: |` a
/// strategic-merge patch or JSON 6902 operations, in YAML or JSON). A patch written as a
/// literal block is parsed where it is written, so a patched value keeps its own line and
/// column in the manifest; any other string is located at the `patch:` value. A `path:` patch
/// (a file next to the rendered kustomization in the repository Argo CD or Flux fetched) is
/// noted as not evaluated.
fn inline_patches(
    c: &Ctx<'_>,
    patches: Option<&Node>,
    diags: &mut Vec<crate::parse::ParseDiag>,
) -> Vec<super::kustomize::patch::Patch> {
    use super::kustomize::patch;
    let mut out = Vec::new();
    for p in patches.map(Node::as_seq).unwrap_or(&[]) {
        let target = p.get("target").map(patch::Target::of);
        match p.get("patch") {
            Some(text) if text.as_str().is_some() => match block_string(c, text) {
                Some(root) => out.extend(patch::from_doc(&root, target)),
                None => out.extend(patch::inline(text, target)),
            },
            _ => {
                let at = p.get("path").unwrap_or(p);
                diags.push(crate::parse::ParseDiag::new(
                    crate::parse::DiagKind::NotEvaluated,
                    at.span,
                    "this Kustomize patch is not inline (`patch:`): guard does not apply it",
                ));
            }
        }
    }
    out
}

/// `helm.values: |` (a YAML document in a literal block scalar), parsed where it is written: a
/// copy of the file with everything but the block's lines blanked (same byte offsets) is read
/// by the YAML parser, so every value keeps its own line and column.
fn values_string(c: &Ctx<'_>, v: &Node) -> Option<Node> {
    block_string(c, v).filter(Node::is_map)
}

/// A literal block scalar's text parsed as YAML where it is written (see [`values_string`]):
/// its first document, whatever its shape.
fn block_string(c: &Ctx<'_>, v: &Node) -> Option<Node> {
    v.as_str()?;
    let file = c.sources.get(v.span.file)?;
    let (start, end) = (v.span.start as usize, v.span.end as usize);
    let written = file.text.get(start..end)?;
    // Only a literal block (`|`, `|-`, `|2`): a folded or quoted scalar's lines are not the
    // document's.
    if !written.starts_with('|') {
        return None;
    }
    let body = start + written.find('\n')? + 1;
    let mut copy = String::with_capacity(file.text.len());
    for (i, ch) in file.text.char_indices() {
        if ch == '\n' || (body..end).contains(&i) {
            copy.push(ch);
        } else {
            // Same width in bytes, so every offset stays where it was.
            copy.extend(std::iter::repeat_n(' ', ch.len_utf8()));
        }
    }
    let blanked = crate::source::SourceFile::new(
        file.id,
        file.path.to_string(),
        std::path::PathBuf::new(),
        copy,
    );
    let parsed = crate::parse::yaml::parse(&blanked);
    if !parsed.diags.is_empty() {
        return None;
    }
    parsed.docs.into_iter().next().map(|d| d.root)
}

/// A Flux Kustomization: the path it applies and its `images` overrides (`name`, `newName`,
/// `newTag`, `digest`), each as `new:tag` located at the entry's tag (else its digest or name).
fn flux_kustomization(c: &Ctx<'_>, root: &Node) -> Option<App> {
    let spec = root.get("spec")?;
    let mut source = AppSource {
        path: spec.get("path").cloned(),
        ..AppSource::default()
    };
    for i in spec.get("images").map(Node::as_seq).unwrap_or(&[]) {
        let Some(name) = i.str_at(&["newName"]).or_else(|| i.str_at(&["name"])) else {
            continue;
        };
        let (text, at) = match (i.get("digest"), i.get("newTag")) {
            (Some(d), _) if d.as_str().is_some() => {
                (format!("{name}@{}", d.as_str().unwrap_or_default()), d)
            }
            (_, Some(t)) if t.scalar_text().is_some() => {
                (format!("{name}:{}", t.scalar_text().unwrap_or_default()), t)
            }
            _ => continue,
        };
        source
            .kustomize_images
            .push(Node::string(at.span, text).with_via(at.via.clone()));
    }
    let mut diags = Vec::new();
    // `path` is in the source the Kustomization names: a GitRepository (this repository, as
    // guard reads it); an OCI artifact, a bucket or an external artifact is built elsewhere,
    // so its patches and variables are noted, not applied to this repository's files.
    let source_kind = spec.str_at(&["sourceRef", "kind"]);
    let overrides = spec.get("patches").is_some() || spec.get("postBuild").is_some();
    match source_kind {
        None | Some("GitRepository") => {
            source.kustomize_patches = inline_patches(c, spec.get("patches"), &mut diags);
            source.post_build = post_build(c, root, &mut diags);
        }
        Some(kind) if overrides => diags.push(crate::parse::ParseDiag::new(
            crate::parse::DiagKind::NotEvaluated,
            spec.path(&["sourceRef", "kind"]).map_or(spec.span, |k| k.span),
            format!(
                "this Kustomization builds `{}` of {kind} `{}`, not a path of this repository as guard reads it: its patches and post-build variables are not applied",
                spec.str_at(&["path"]).unwrap_or("."),
                spec.str_at(&["sourceRef", "name"]).unwrap_or("?")
            ),
        )),
        Some(_) => {}
    }
    let namespace = spec.str_at(&["targetNamespace"]);
    let mut app = flux_app(c, root, AppKind::FluxKustomization, source, namespace);
    app.diags = diags;
    Some(app)
}

/// A Flux Kustomization's post-build variables: each `substituteFrom` ConfigMap of this
/// repository (its `data`, located at each value; the only ConfigMap of that name, else the
/// manifest's own overlay's), later sources over earlier ones, then the inline `substitute`
/// entries over all of them (Flux gives `substitute` precedence). A Secret, or a ConfigMap
/// guard cannot tell, is a located note: its variables are not evaluated, and references to
/// them stay as written.
fn post_build(
    c: &Ctx<'_>,
    root: &Node,
    diags: &mut Vec<crate::parse::ParseDiag>,
) -> Option<std::sync::Arc<super::kustomize::patch::Vars>> {
    let post = root.path(&["spec", "postBuild"])?;
    let name = root.str_at(&["metadata", "name"]).unwrap_or("?");
    let mut vars = Vec::new();
    for from in post.get("substituteFrom").map(Node::as_seq).unwrap_or(&[]) {
        let (kind, cm) = (from.str_at(&["kind"]), from.str_at(&["name"]));
        let data = match (kind, cm) {
            (Some("ConfigMap"), Some(cm)) => config_map_data(c, cm),
            _ => None,
        };
        match data {
            Some(data) => {
                for e in data.entries() {
                    if let (Some(k), Some(_)) = (e.key_str(), e.value.scalar_text()) {
                        vars.push((k.to_string(), e.value.clone()));
                    }
                }
            }
            None => {
                let why = match kind {
                    Some("ConfigMap") => "is not one ConfigMap of this repository",
                    Some("Secret") => "is a Secret (not in the repository in clear)",
                    _ => "is not a ConfigMap of this repository",
                };
                diags.push(crate::parse::ParseDiag::new(
                    crate::parse::DiagKind::NotEvaluated,
                    from.span,
                    format!(
                        "post-build variables from {} `{}` are not evaluated: it {why}; references to them are checked as written",
                        kind.unwrap_or("?"),
                        cm.unwrap_or("?")
                    ),
                ));
            }
        }
    }
    for e in post.get("substitute").map(Node::entries).unwrap_or(&[]) {
        if let (Some(k), Some(_)) = (e.key_str(), e.value.scalar_text()) {
            vars.push((k.to_string(), e.value.clone()));
        }
    }
    if vars.is_empty() {
        return None;
    }
    Some(std::sync::Arc::new(super::kustomize::patch::Vars {
        vars,
        what: format!("postBuild of Flux Kustomization `{name}`"),
    }))
}

/// The `data` of ConfigMap `name` in this repository: the only one of that name, else the one
/// the manifest's own overlay renders.
fn config_map_data<'d>(c: &Ctx<'d>, name: &str) -> Option<&'d Node> {
    let found: Vec<&Doc> = c
        .docs
        .iter()
        .filter(|d| {
            matches!(&d.kind, DocKind::Kubernetes { kind, name: Some(n) } if kind == "ConfigMap" && n == name)
        })
        .collect();
    let doc = match found.as_slice() {
        [one] => *one,
        _ => *found.iter().find(|d| {
            c.overlay
                .is_some_and(|o| d.overlays.iter().any(|x| x.kustomization == o))
        })?,
    };
    doc.root.get("data").filter(|d| d.is_map())
}

/// The directories of this repository that applications deploy with overrides of their own
/// (inline Kustomize patches, Flux post-build variables): each is rendered once more per
/// application, in its environment ([`super::kustomize::deploy`]). A directory another
/// application deploys as written keeps its plain rendering too.
pub fn deployments(apps: &[App]) -> Vec<super::kustomize::AppDeploy> {
    use super::kustomize::patch::Patch;
    let mut plain = std::collections::BTreeSet::new();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for app in apps {
        for s in &app.sources {
            if s.chart.is_some() {
                continue;
            }
            let Some(dir) = s
                .path
                .as_ref()
                .and_then(Node::as_str)
                .filter(|p| !p.contains("{{"))
                .and_then(|p| crate::source::join_path("", p))
            else {
                continue;
            };
            let post: Vec<Patch> = s
                .post_build
                .iter()
                .cloned()
                .map(Patch::Substitute)
                .collect();
            if s.kustomize_patches.is_empty() && post.is_empty() {
                plain.insert(dir);
                continue;
            }
            // A manifest several overlays render alike is one deployment.
            let key = (app.file, app.decl.start, dir.clone(), app.env);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            out.push(super::kustomize::AppDeploy {
                dir,
                env: app.env,
                patches: s.kustomize_patches.clone(),
                post,
                recursive: app.kind == AppKind::FluxKustomization,
                keep_plain: false,
            });
        }
    }
    for d in &mut out {
        d.keep_plain = plain.contains(&d.dir);
    }
    out
}

/// A Flux manifest as an application of one source, placed as its manifest is.
fn flux_app(
    c: &Ctx<'_>,
    root: &Node,
    kind: AppKind,
    source: AppSource,
    namespace: Option<&str>,
) -> App {
    let name_node = root.path(&["metadata", "name"]);
    let (env, evidence) = app_env(c, root, None);
    App {
        kind,
        name: name_node.and_then(Node::as_str).unwrap_or("?").to_string(),
        file: c.doc.file,
        decl: name_node.map_or(root.span, |n| n.span),
        env,
        evidence,
        sources: vec![source],
        namespace: namespace.filter(|n| !n.is_empty()).map(str::to_string),
        note: None,
        diags: Vec::new(),
    }
}

/// The values a HelmRelease's `valuesFrom` reads from ConfigMap `name` under `key`: a
/// ConfigMap manifest of this repository whose `data` holds them as a literal block (parsed where
/// it is written), or a Kustomize `configMapGenerator` of that name whose file for `key` is in
/// this repository (`key=path`, or a path whose file name is the key).
fn config_map_values(c: &Ctx<'_>, name: &str, key: &str) -> Option<Node> {
    // (in the manifest's own overlay, the values)
    let mut found: Vec<(bool, Node)> = Vec::new();
    for d in c.docs {
        match &d.kind {
            DocKind::Kubernetes {
                kind,
                name: Some(n),
            } if kind == "ConfigMap" && n == name => {
                if let Some(v) = d
                    .root
                    .path(&["data", key])
                    .and_then(|v| values_string(c, v))
                {
                    let mine = c
                        .overlay
                        .is_some_and(|o| d.overlays.iter().any(|x| x.kustomization == o));
                    found.push((mine, v));
                }
            }
            DocKind::Kustomization => {
                let path = c.sources.path(d.file);
                let gens = d.root.get("configMapGenerator").map(Node::as_seq);
                for g in gens.unwrap_or(&[]) {
                    if g.str_at(&["name"]) != Some(name) {
                        continue;
                    }
                    for f in g.get("files").map(Node::as_seq).unwrap_or(&[]) {
                        let Some(entry) = f.as_str() else { continue };
                        let (k, file) = match entry.split_once('=') {
                            Some((k, p)) => (k.trim(), p.trim()),
                            None => (entry.rsplit('/').next().unwrap_or(entry), entry),
                        };
                        if k != key {
                            continue;
                        }
                        let Some(full) =
                            crate::source::join_path(crate::source::parent_dir(path), file)
                        else {
                            continue;
                        };
                        if let Some(v) = c
                            .docs
                            .iter()
                            .find(|v| c.sources.path(v.file) == full && v.root.is_map())
                        {
                            found.push((c.overlay == Some(path), v.root.clone()));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    // The overlay's own ConfigMap; else the only one of that name; else it cannot be told.
    match found.iter().position(|(mine, _)| *mine) {
        Some(i) => found.into_iter().nth(i).map(|(_, v)| v),
        None if found.len() == 1 => found.pop().map(|(_, v)| v),
        None => None,
    }
}

/// An ApplicationSet: one application per element of each top-level `list` generator (also
/// inside `matrix`/`merge`, element by element); any other generator reads what is not in the
/// repository, so its template is read once, for all environments, with `{{...}}` unknown.
fn application_set(c: &Ctx<'_>, root: &Node, out: &mut Vec<App>) {
    let Some(template) = root.path(&["spec", "template"]) else {
        return;
    };
    let go_template = root
        .path(&["spec", "goTemplate"])
        .and_then(Node::as_bool)
        .unwrap_or(false);
    let mut elements: Vec<Node> = Vec::new();
    let mut other = false;
    let mut notes = Vec::new();
    let dirs = c.dirs.get_or_init(|| project_dirs(c.sources));
    for g in root
        .path(&["spec", "generators"])
        .map(Node::as_seq)
        .unwrap_or(&[])
    {
        list_elements(g, 0, dirs, c.sources, &mut elements, &mut other, &mut notes);
    }
    if elements.len() > MAX_ELEMENTS {
        let at = root
            .path(&["spec", "generators"])
            .map_or(root.span, |g| g.span);
        notes.push(crate::parse::ParseDiag::new(
            crate::parse::DiagKind::Limit,
            at,
            format!(
                "these generators make more than {MAX_ELEMENTS} applications: only the first {MAX_ELEMENTS} are checked"
            ),
        ));
    }
    let set_name = root.str_at(&["metadata", "name"]).unwrap_or("?");
    let first = out.len();
    for el in elements.iter().take(MAX_ELEMENTS) {
        let rendered = substitute(template, el, go_template, 0);
        if let Some(mut app) = argo_app(c, &rendered, AppKind::ArgoApplicationSet, Some(el)) {
            if app.name.contains("{{") || app.name == "?" {
                app.name = set_name.to_string();
            }
            if el.get("server").is_none() && el.path(&["metadata", "labels"]).is_some() {
                app.note = Some(
                    "its clusters are Argo CD Secrets, not in the repository: one application per cluster label its selectors name, `{{name}}` and `{{server}}` unknown"
                        .to_string(),
                );
            }
            out.push(app);
        }
    }
    if other || elements.is_empty() {
        let unknown = unknown_placeholders(template, 0);
        if let Some(mut app) = argo_app(c, &unknown, AppKind::ArgoApplicationSet, None) {
            app.name = set_name.to_string();
            app.note = Some(
                "its generators read cluster state or other repositories: its template is checked once, for all environments"
                    .to_string(),
            );
            out.push(app);
        }
    }
    // The set's notes are reported once, with its first application.
    if let Some(app) = out.get_mut(first) {
        app.diags.append(&mut notes);
    }
}

/// The elements of `list` generators, looking into `matrix` and `merge`, and of `git`
/// directory generators whose paths match directories of this project (one element per
/// directory, Argo CD's `path` parameters); `other` is set when a generator of another kind
/// is there (cluster state, other repositories, git files).
fn list_elements(
    g: &Node,
    depth: usize,
    dirs: &[String],
    sources: &crate::source::SourceMap,
    out: &mut Vec<Node>,
    other: &mut bool,
    notes: &mut Vec<crate::parse::ParseDiag>,
) {
    if depth > 4 {
        *other = true;
        return;
    }
    for e in g.entries() {
        match e.key_str() {
            Some("list") => {
                let els = e.value.get("elements").map(Node::as_seq).unwrap_or(&[]);
                out.extend(els.iter().filter(|n| n.is_map()).cloned());
                if e.value.get("elementsYaml").is_some() {
                    *other = true;
                }
            }
            Some("matrix") => {
                for inner in e.value.get("generators").map(Node::as_seq).unwrap_or(&[]) {
                    list_elements(inner, depth + 1, dirs, sources, out, other, notes);
                }
            }
            Some("merge") => {
                let gens = e.value.get("generators").map(Node::as_seq).unwrap_or(&[]);
                let keys: Vec<&str> = e
                    .value
                    .get("mergeKeys")
                    .map(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                let mut base = Vec::new();
                if let Some(first) = gens.first() {
                    list_elements(first, depth + 1, dirs, sources, &mut base, other, notes);
                }
                let mut maybe = Vec::new();
                for g in gens.iter().skip(1) {
                    let mut later = Vec::new();
                    list_elements(g, depth + 1, dirs, sources, &mut later, other, notes);
                    merge_elements(&mut base, &later, &keys, &mut maybe);
                }
                out.extend(base);
                out.extend(maybe);
            }
            Some("clusters") => cluster_elements(&e.value, out),
            Some("git") => {
                let found = if e.value.get("files").is_some() {
                    git_files(&e.value, sources, out, notes)
                } else {
                    git_directories(&e.value, dirs, out)
                };
                if !found {
                    *other = true;
                }
            }
            Some("selector" | "values" | "template") => {}
            Some(_) => *other = true,
            None => {}
        }
    }
}

/// Argo CD's `merge` generator: each element of a later generator overrides the base elements
/// whose `mergeKeys` parameters it shares. Where a key is unknown on either side (a cluster's
/// `server`: the clusters are not in the repository), the pair may be one cluster: the merged
/// element goes to `maybe` (a cluster labelled for staging gets the base's values under the
/// staging generator's), and the base element stays for the clusters no later generator picks.
fn merge_elements(base: &mut [Node], later: &[Node], keys: &[&str], maybe: &mut Vec<Node>) {
    let merged = |b: &Node, l: &Node| {
        let mut m = b.clone();
        super::containers::deep_merge(&mut m, l, 0);
        m
    };
    for l in later {
        for b in base.iter_mut() {
            let same = keys.iter().try_fold(!keys.is_empty(), |all, k| {
                let (x, y) = (element_value(b, k)?, element_value(l, k)?);
                Some(all && x.scalar_text() == y.scalar_text())
            });
            match same {
                Some(true) => *b = merged(b, l),
                Some(false) => {}
                None if maybe.len() <= MAX_ELEMENTS => maybe.push(merged(b, l)),
                None => {}
            }
        }
    }
}

/// A map node of `entries`, located at `at`.
fn map_node(at: Span, entries: Vec<(String, Node)>) -> Node {
    Node::new(
        at,
        Value::Map(crate::node::items(
            entries
                .into_iter()
                .map(|(k, value)| crate::node::Entry {
                    key: Node::string(at, k),
                    value,
                })
                .collect(),
        )),
    )
}

/// A `clusters` generator's elements. The clusters are Argo CD Secrets in the cluster, not in
/// this repository; what the repository says is the selector and the `values`. One element per
/// cluster label set the selector names (`matchLabels`, and one per value of the first
/// `matchExpressions` `In`), as `metadata.labels.<key>`, with the generator's `values` under
/// `values`; one element with no labels when it names none (any cluster). `{{name}}` and
/// `{{server}}` stay unknown.
fn cluster_elements(g: &Node, out: &mut Vec<Node>) {
    let at = g.span;
    let selector = g.get("selector");
    let fixed: Vec<(String, Node)> = selector
        .and_then(|s| s.get("matchLabels"))
        .map(|m| {
            m.entries()
                .iter()
                .filter(|e| e.value.scalar_text().is_some())
                .filter_map(|e| Some((e.key_str()?.to_string(), e.value.clone())))
                .collect()
        })
        .unwrap_or_default();
    let alternatives = selector
        .and_then(|s| s.get("matchExpressions"))
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .find(|x| x.str_at(&["operator"]) == Some("In") && x.str_at(&["key"]).is_some())
        .and_then(|x| {
            let values: Vec<Node> = x
                .get("values")
                .map(Node::as_seq)
                .unwrap_or(&[])
                .iter()
                .filter(|v| v.scalar_text().is_some())
                .take(MAX_ELEMENTS)
                .cloned()
                .collect();
            (!values.is_empty())
                .then(|| (x.str_at(&["key"]).unwrap_or_default().to_string(), values))
        });
    let sets: Vec<Vec<(String, Node)>> = match alternatives {
        Some((key, values)) => values
            .into_iter()
            .map(|v| {
                let mut set = fixed.clone();
                set.push((key.clone(), v));
                set
            })
            .collect(),
        None => vec![fixed],
    };
    for labels in sets {
        let metadata = map_node(at, vec![("labels".into(), map_node(at, labels))]);
        let mut entries = vec![("metadata".to_string(), metadata)];
        if let Some(v) = g.get("values") {
            entries.push(("values".into(), v.clone()));
        }
        out.push(map_node(at, entries));
    }
}

/// Every directory of the project that holds a file guard read (`apps`, `apps/shop`...),
/// sorted.
fn project_dirs(sources: &crate::source::SourceMap) -> Vec<String> {
    let mut dirs: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for f in sources.files() {
        let mut d = crate::source::parent_dir(&f.path);
        while !d.is_empty() && dirs.insert(d) {
            d = crate::source::parent_dir(d);
        }
    }
    dirs.into_iter().map(str::to_string).collect()
}

/// A `git` generator's `directories` or `files` patterns, compiled: the included ones with
/// the `path` node they were written at, and the excluded ones. Argo CD matches with Go's
/// `path.Match`: `*` stays within one directory. A pattern that does not compile is left out.
type Patterns<'a> = (
    Vec<(&'a Node, globset::GlobMatcher)>,
    Vec<globset::GlobMatcher>,
);

fn generator_patterns(patterns: &[Node]) -> Patterns<'_> {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for p in patterns {
        let (Some(text), Some(at)) = (p.str_at(&["path"]), p.get("path")) else {
            continue;
        };
        let Ok(glob) = globset::GlobBuilder::new(text.trim_start_matches("./"))
            .literal_separator(true)
            .build()
        else {
            continue;
        };
        if p.get("exclude").and_then(Node::as_bool).unwrap_or(false) {
            exclude.push(glob.compile_matcher());
        } else {
            include.push((at, glob.compile_matcher()));
        }
    }
    (include, exclude)
}

/// A `git` generator's `directories` as elements, when its patterns match directories of
/// this project (the generator reads this repository); false when it has none or matches
/// nothing here (another repository, `files:` generators), so the caller notes it.
fn git_directories(g: &Node, dirs: &[String], out: &mut Vec<Node>) -> bool {
    let Some(patterns) = g.get("directories").map(Node::as_seq) else {
        return false;
    };
    let (include, exclude) = generator_patterns(patterns);
    let before = out.len();
    for d in dirs {
        if exclude.iter().any(|m| m.is_match(d)) {
            continue;
        }
        let Some((at, _)) = include.iter().find(|(_, m)| m.is_match(d)) else {
            continue;
        };
        if out.len() - before >= MAX_ELEMENTS {
            break;
        }
        out.push(directory_element(d, at.span));
    }
    out.len() > before
}

/// A `git` generator's `files` as elements, when its patterns match files of this project
/// that guard read (the generator reads this repository; nothing is read from the disk here,
/// so nothing outside the project root): one element per matched JSON or YAML file (per item
/// when the file is a list of maps, as Argo CD does), holding the file's keys (nested: Argo
/// CD's flattened `{{cluster.name}}` and goTemplate's `{{.cluster.name}}` both look them up
/// by path) and the path parameters of the file's directory (`{{path}}`, `{{path.basename}}`,
/// `{{path[n]}}`...) plus `{{path.filename}}` and `{{path.filenameNormalized}}`, which win over
/// a key of the file named `path`. Patterns match as Go's `path.Match` does (`*` within one
/// directory), with `**` for any depth. A matched file that is not a map (or a list of maps)
/// is a located note. False when nothing here matches (another repository), so the caller
/// notes the generator.
fn git_files(
    g: &Node,
    sources: &crate::source::SourceMap,
    out: &mut Vec<Node>,
    notes: &mut Vec<crate::parse::ParseDiag>,
) -> bool {
    let Some(patterns) = g.get("files").map(Node::as_seq) else {
        return false;
    };
    let (include, exclude) = generator_patterns(patterns);
    let mut matched = 0usize;
    // The files guard read, by their path in the project (as the directory generator and the
    // applications' `path` are resolved), sorted: the elements are deterministic.
    let mut files: Vec<(&str, &crate::source::SourceFile)> =
        sources.files().iter().map(|f| (&*f.path, f)).collect();
    files.sort_by(|a, b| a.0.cmp(b.0));
    for (path, f) in files {
        if exclude.iter().any(|m| m.is_match(path)) {
            continue;
        }
        let Some((at, _)) = include.iter().find(|(_, m)| m.is_match(path)) else {
            continue;
        };
        matched += 1;
        // One past the limit is enough for the caller to note it.
        if out.len() > MAX_ELEMENTS || matched > 2 * MAX_ELEMENTS {
            break;
        }
        let lower = path.to_ascii_lowercase();
        let root = if lower.ends_with(".json") {
            crate::parse::json::parse(f).ok()
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            let parsed = crate::parse::yaml::parse(f);
            parsed.docs.into_iter().next().map(|d| d.root)
        } else {
            None
        };
        let items: Vec<Node> = match root {
            Some(r) if r.is_map() => vec![r],
            Some(r) if !r.as_seq().is_empty() && r.as_seq().iter().all(Node::is_map) => {
                r.as_seq().to_vec()
            }
            _ => {
                notes.push(crate::parse::ParseDiag::new(
                    crate::parse::DiagKind::NotEvaluated,
                    at.span,
                    format!(
                        "`{path}` matches this files generator but is not a JSON or YAML map: it makes no application here"
                    ),
                ));
                continue;
            }
        };
        let dir = crate::source::parent_dir(path);
        let file_name = path.rsplit('/').next().unwrap_or(path);
        for item in items {
            let mut el = directory_element(dir, at.span);
            if let Value::Map(entries) = &mut el.value {
                for (k, v) in [
                    ("path.filename", file_name.to_string()),
                    ("path.filenameNormalized", normalized(file_name)),
                ] {
                    entries.push(crate::node::Entry {
                        key: Node::string(at.span, k),
                        value: Node::string(at.span, v),
                    });
                }
                for e in item.entries() {
                    if e.key_str() != Some("path") {
                        entries.push(e.clone());
                    }
                }
            }
            out.push(el);
        }
    }
    matched > 0
}

/// Argo CD's `basenameNormalized`: lower case, anything but letters and digits a `-`.
fn normalized(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Argo CD's parameters of one directory (`{{path}}`, `{{path.basename}}`,
/// `{{path.basenameNormalized}}`, `{{path[0]}}`...; `.path.path` and the same under `.path`
/// with goTemplate), located at the generator's pattern.
fn directory_element(dir: &str, at: Span) -> Node {
    let base = dir.rsplit('/').next().unwrap_or(dir);
    let normalized = normalized(base);
    let mut entries: Vec<(String, String)> = vec![
        ("path".into(), dir.into()),
        ("path.path".into(), dir.into()),
        ("path.basename".into(), base.into()),
        ("path.basenameNormalized".into(), normalized),
    ];
    for (i, seg) in dir.split('/').enumerate() {
        entries.push((format!("path[{i}]"), seg.into()));
    }
    map_node(
        at,
        entries
            .into_iter()
            .map(|(k, v)| (k, Node::string(at, v)))
            .collect(),
    )
}

/// A list element's value for a template parameter (`env`, `values.x`, `.env` with goTemplate).
fn element_value<'a>(el: &'a Node, key: &str) -> Option<&'a Node> {
    let key = key.trim().trim_start_matches('.');
    // A git directory element's parameters are dotted names of their own (`path.basename`).
    if let Some(v) = el.get(key).filter(|n| n.scalar_text().is_some()) {
        return Some(v);
    }
    let parts: Vec<&str> = key.split('.').collect();
    el.path(&parts).filter(|n| n.scalar_text().is_some())
}

/// The template with every `{{param}}` (`{{.param}}` with goTemplate) of a string replaced by the
/// element's value; a string that was changed keeps its span and gains a hop to the element's
/// value, so a finding on it names the element too. A parameter the element does not have
/// makes the string unknown.
fn substitute(n: &Node, el: &Node, go: bool, depth: usize) -> Node {
    if depth > MAX_DEPTH {
        return n.clone();
    }
    match &n.value {
        Value::String(s) if s.contains("{{") => {
            let mut text = String::new();
            let mut rest = s.as_str();
            let mut hops = Vec::new();
            let mut decisive: Option<Span> = None;
            let whole = s.trim().starts_with("{{")
                && s.trim().ends_with("}}")
                && s.matches("{{").count() == 1;
            while let Some(open) = rest.find("{{") {
                text.push_str(&rest[..open]);
                let Some(close) = rest[open..].find("}}") else {
                    return Node::new(n.span, Value::Unknown);
                };
                let inner = &rest[open + 2..open + close];
                let inner = inner.trim_start_matches('-').trim_end_matches('-').trim();
                let plain = if go {
                    inner.strip_prefix('.')
                } else {
                    Some(inner)
                };
                let Some(v) = plain.and_then(|k| element_value(el, k)) else {
                    return Node::new(n.span, Value::Unknown);
                };
                let value = v.scalar_text().unwrap_or_default();
                text.push_str(&value);
                decisive = Some(v.span);
                hops.push(Hop {
                    span: v.span,
                    label: format!("`{inner}` = `{value}` from the generator's list element")
                        .into(),
                });
                rest = &rest[open + close + 2..];
            }
            text.push_str(rest);
            // The whole string is one parameter: the element's value decided it, and the
            // template line is a hop on the way.
            if whole && let Some(at) = decisive {
                let hop = Hop {
                    span: n.span,
                    label: format!("the ApplicationSet template's `{}`", s.trim()).into(),
                };
                return Node::string(at, text).with_via(Some(Chain::link(&n.via, hop)));
            }
            let mut via = n.via.clone();
            for h in hops {
                via = Some(Chain::link(&via, h));
            }
            Node::string(n.span, text).with_via(via)
        }
        Value::Map(entries) => {
            let mut m = n.clone();
            if let Value::Map(out) = &mut m.value {
                for (o, e) in out.iter_mut().zip(entries.iter()) {
                    o.value = substitute(&e.value, el, go, depth + 1);
                }
            }
            m
        }
        Value::Seq(items) => {
            let mut m = n.clone();
            if let Value::Seq(out) = &mut m.value {
                for (o, i) in out.iter_mut().zip(items.iter()) {
                    *o = substitute(i, el, go, depth + 1);
                }
            }
            m
        }
        _ => n.clone(),
    }
}

/// The template with every string holding `{{...}}` made unknown.
fn unknown_placeholders(n: &Node, depth: usize) -> Node {
    substitute(n, &Node::new(n.span, Value::Null), false, depth)
}

fn helm_release(c: &Ctx<'_>, root: &Node) -> Option<App> {
    let spec = root.get("spec")?;
    let chart_spec = spec.path(&["chart", "spec"]);
    let from_git = chart_spec
        .and_then(|c| c.str_at(&["sourceRef", "kind"]))
        .is_some_and(|k| k == "GitRepository");
    let chart = chart_spec.and_then(|c| c.get("chart")).cloned();
    let mut source = AppSource {
        target_revision: chart_spec.and_then(|c| c.get("version")).cloned(),
        ..AppSource::default()
    };
    if from_git {
        source.path = chart;
    } else {
        source.chart = chart;
    }
    for from in spec.get("valuesFrom").map(Node::as_seq).unwrap_or(&[]) {
        // `targetPath` sets one value at a path; a Secret is not in the repository in clear.
        if from.str_at(&["kind"]) != Some("ConfigMap") || from.get("targetPath").is_some() {
            continue;
        }
        let (Some(name), key) = (
            from.str_at(&["name"]),
            from.str_at(&["valuesKey"]).unwrap_or("values.yaml"),
        ) else {
            continue;
        };
        if let Some(v) = config_map_values(c, name, key) {
            source.values_from.push(v);
        }
    }
    if let Some(v) = spec.get("values").filter(|v| v.is_map()) {
        source.values.push(v.clone());
    }
    let namespace = spec
        .str_at(&["targetNamespace"])
        .or_else(|| root.str_at(&["metadata", "namespace"]));
    Some(flux_app(
        c,
        root,
        AppKind::FluxHelmRelease,
        source,
        namespace,
    ))
}

/// A source's overrides as one values tree: inline values merged in order, then each
/// parameter set at its dotted path (`image.tag`) with the parameter's value node (so a finding
/// on it points at the parameter).
pub fn override_values(s: &AppSource) -> Node {
    let mut root = Node::new(Span::default(), Value::Map(Default::default()));
    for v in s.values_from.iter().chain(&s.values) {
        super::containers::deep_merge(&mut root, v, 0);
    }
    for p in &s.parameters {
        let Some(name) = p.name.as_str() else {
            continue;
        };
        let path = split_param(name);
        if path.is_empty() || path.len() > MAX_DEPTH {
            continue;
        }
        let hop = Hop {
            span: p.name.span,
            label: format!("Helm parameter `{name}`").into(),
        };
        let value = p
            .value
            .clone()
            .with_via(Some(Chain::link(&p.value.via, hop)));
        set_path(&mut root, &path, value, p.name.span);
    }
    root
}

/// `a.b\.c[0]` → `["a", "b.c", "0"]` (Helm's `--set` keys, indexes kept as keys).
fn split_param(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '.' => out.push(std::mem::take(&mut cur)),
            '[' => {
                out.push(std::mem::take(&mut cur));
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    cur.push(n);
                }
            }
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.retain(|s| !s.is_empty());
    out
}

fn set_path(root: &mut Node, path: &[String], value: Node, key_span: Span) {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return;
    };
    if !root.is_map() {
        *root = Node::new(key_span, Value::Map(Default::default()));
    }
    let Value::Map(entries) = &mut root.value else {
        return;
    };
    let i = match entries
        .iter()
        .position(|e| e.key_str() == Some(first.as_str()))
    {
        Some(i) => i,
        None => {
            entries.push(crate::node::Entry {
                key: Node::string(key_span, first.as_str()),
                value: Node::new(key_span, Value::Map(Default::default())),
            });
            entries.len() - 1
        }
    };
    if let Some(e) = entries.get_mut(i) {
        set_path(&mut e.value, rest, value, key_span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_parameter_names_split_as_helm_set_does() {
        assert_eq!(split_param("image.tag"), ["image", "tag"]);
        assert_eq!(split_param("a\\.b.c"), ["a.b", "c"]);
        assert_eq!(split_param("env[0].value"), ["env", "0", "value"]);
        assert!(split_param("").is_empty());
    }
}
