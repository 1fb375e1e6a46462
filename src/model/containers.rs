//! The container inventory: every container guard can see, whatever format
//! declared it (Kubernetes workloads, compose services, ECS container
//! definitions in JSON or in Terraform), with its image, its environment
//! variables and the environment it runs in. Rules about images and
//! environment variables read this, not the raw trees.

use crate::env::Env;
use crate::model::workflow::Job;
use crate::model::{Doc, DocKind, gitops, kustomize};
use crate::node::{Node, Value};
use crate::source::{FileId, Span};
use crate::terraform::{Resource, TfModel};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Kubernetes,
    Compose,
    Ecs,
}

/// One environment variable with a literal value.
#[derive(Clone, Debug)]
pub struct EnvVar {
    pub name: String,
    /// Where the name is written.
    pub name_span: Span,
    /// The literal value; `None` when it comes from elsewhere (`valueFrom`,
    /// `secrets`, a compose variable passed through without a value).
    pub value: Option<Node>,
}

#[derive(Clone, Debug)]
pub struct Container {
    pub platform: Platform,
    pub file: FileId,
    /// "Deployment/app", "service web", "task definition app-service".
    pub owner: String,
    pub name: String,
    /// The image as deployed (after Kustomize `images:` overrides); its
    /// `via` names the base line when an overlay changed it.
    pub image: Option<Node>,
    /// Where the image's repository was decided, when that is not where
    /// the image is (a Kustomize `newName:`).
    pub image_repo_span: Option<Span>,
    /// `build:` of a compose service.
    pub build: Option<Span>,
    pub env_vars: Vec<EnvVar>,
    pub env: Option<Env>,
    /// The Kustomize overlay (kustomization path) that renders this
    /// container, when one does.
    pub overlay: Option<String>,
    /// ECS `logConfiguration.options.awslogs-region`.
    pub log_region: Option<Node>,
    /// Where the container is declared (its name, else its definition).
    pub decl: Span,
    /// ECS: whether the container definition sets `logConfiguration`
    /// (None on platforms without the notion).
    pub logging: Option<bool>,
    /// How findings name the container when the platform's default does
    /// not fit (a GitHub Actions service container, a Helm release).
    pub label: Option<String>,
    /// Kubernetes: container ports, probes (`readinessProbe` → its HTTP
    /// path or `present`) and volume mount paths, each with where it is
    /// written (what parity compares).
    pub ports: Vec<(String, Span)>,
    pub probes: Vec<(String, String, Span)>,
    pub mounts: Vec<(String, Span)>,
    /// The workload's name as an overlay renders it (`namePrefix`, a JSON
    /// 6902 rename), when it differs from `owner`'s.
    pub rendered_owner: Option<String>,
}

impl Container {
    /// How findings name the container: "container `web` of Deployment/web",
    /// "compose service web", "container `app` of ECS task definition app".
    pub fn describe(&self) -> String {
        if let Some(l) = &self.label {
            return l.clone();
        }
        match self.platform {
            Platform::Kubernetes => format!("container `{}` of {}", self.name, self.owner),
            Platform::Compose => format!("compose {}", self.owner),
            Platform::Ecs => format!("container `{}` of ECS {}", self.name, self.owner),
        }
    }

    /// Where the image's repository is written: the overlay's `newName:`
    /// when one renamed it, else the image itself.
    pub fn repo_span(&self) -> Option<Span> {
        self.image_repo_span.or(self.image.as_ref().map(|i| i.span))
    }
}

/// Pod spec of a workload kind, if it has one.
pub fn pod_spec<'a>(kind: &str, root: &'a Node) -> Option<&'a Node> {
    match kind {
        "Pod" => root.get("spec"),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController"
        | "Rollout" => root.path(&["spec", "template", "spec"]),
        "CronJob" => root.path(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

pub fn collect(
    docs: &[Doc],
    tf: &TfModel,
    sources: &crate::source::SourceMap,
    jobs: &[Job],
    apps: &[gitops::App],
    rendered: &[FileId],
) -> Vec<Container> {
    let mut out = Vec::new();
    for doc in docs {
        match &doc.kind {
            DocKind::Kubernetes { kind, name } => {
                // Each overlay renders the document with its own patches.
                let renders: Vec<(Option<&kustomize::Overlay>, std::borrow::Cow<'_, Node>)> =
                    if doc.overlays.is_empty() {
                        vec![(None, std::borrow::Cow::Borrowed(&doc.root))]
                    } else {
                        doc.overlays
                            .iter()
                            .filter_map(|o| Some((Some(o), kustomize::render(doc, o)?)))
                            .collect()
                    };
                for (overlay, root) in &renders {
                    let Some(spec) = pod_spec(kind, root) else {
                        continue;
                    };
                    // Findings name the workload as written (one base line
                    // rendered by overlays with name prefixes is one finding);
                    // the rendered name is kept beside it.
                    let written = name.as_deref().unwrap_or("?");
                    let owner = format!("{kind}/{written}");
                    let rendered = root
                        .str_at(&["metadata", "name"])
                        .filter(|n| *n != written)
                        .map(|n| format!("{kind}/{n}"));
                    for list in ["initContainers", "containers", "ephemeralContainers"] {
                        for c in spec.get(list).map(Node::as_seq).unwrap_or(&[]) {
                            let (ports, probes, mounts) = k8s_shape(c);
                            let base = Container {
                                rendered_owner: rendered.clone(),
                                image: c.get("image").cloned(),
                                env_vars: k8s_env(c.get("env")),
                                ports,
                                probes,
                                mounts,
                                ..Container::new(
                                    Platform::Kubernetes,
                                    doc.file,
                                    owner.clone(),
                                    c.str_at(&["name"]).unwrap_or("?"),
                                    decl_of(c, "name"),
                                    doc.assignment.env,
                                )
                            };
                            out.push(match overlay {
                                Some(o) => kustomize::apply_overlay(doc, o, base),
                                None => base,
                            });
                        }
                    }
                }
            }
            DocKind::Compose => {
                let Some(services) = doc.root.get("services") else {
                    continue;
                };
                for svc in services.entries() {
                    let name = svc.key_str().unwrap_or("?");
                    out.push(Container {
                        image: svc.value.get("image").cloned(),
                        build: svc.value.entry("build").map(|e| e.key.span),
                        env_vars: compose_env(svc.value.get("environment")),
                        ..Container::new(
                            Platform::Compose,
                            doc.file,
                            format!("service {name}"),
                            name,
                            svc.key.span,
                            doc.assignment.env,
                        )
                    });
                }
            }
            DocKind::EcsTaskDefinition => {
                let family = doc.root.str_at(&["family"]).unwrap_or("?");
                if let Some(defs) = doc.root.get("containerDefinitions") {
                    ecs_containers(defs, doc.file, family, doc.assignment.env, &mut out);
                }
            }
            DocKind::CloudFormation => cfn_containers(doc, sources, &mut out),
            DocKind::Workflow => workflow_containers(doc, jobs, &mut out),
            _ => {}
        }
    }
    for root in &tf.roots {
        let env = root.assignment.env;
        for r in &root.resources {
            match r.rtype.as_str() {
                "aws_ecs_task_definition" => {
                    let Some(defs) = r.attrs.get("container_definitions") else {
                        continue;
                    };
                    let at = defs.span;
                    let Some(mut defs) = super::json_tree(defs, sources) else {
                        continue;
                    };
                    if let Some((_, args)) = root.template_args.iter().find(|(s, _)| *s == at) {
                        locate_at_arguments(&mut defs, at, args, 0);
                    }
                    let family = r.attrs.str_at(&["family"]).unwrap_or(&r.name);
                    ecs_containers(&defs, r.span.file, family, env, &mut out);
                }
                "helm_release" => helm_containers(r, env, &mut out),
                t => {
                    if let Some(spec) = tf_pod_spec(t, &r.attrs) {
                        tf_k8s_containers(r, spec, env, &mut out);
                    }
                }
            }
        }
    }
    helm_values_containers(docs, sources, &mut out);
    gitops_containers(apps, docs, sources, &mut out);
    drop_rendered_images_decided_elsewhere(&mut out, rendered);
    out
}

/// A Helm rendering's image that a values file, an application's parameter
/// or its inline values decided is that line's container already (judged
/// there, at the literal): the rendered container keeps everything but the
/// image, so one tag is one finding. An image the template itself writes,
/// or one from values under another key than `image`, stays.
fn drop_rendered_images_decided_elsewhere(out: &mut [Container], rendered: &[FileId]) {
    if rendered.is_empty() {
        return;
    }
    let is_rendered = |f: FileId| rendered.binary_search(&f).is_ok();
    // (environment, a span that decided the image, the image) of the other containers.
    let covered: crate::hash::HashSet<(Option<Env>, Span, String)> = out
        .iter()
        .filter(|c| !is_rendered(c.file))
        .flat_map(|c| {
            let text = c
                .image
                .as_ref()
                .and_then(|i| i.as_str())
                .unwrap_or_default()
                .to_string();
            c.image
                .iter()
                .map(|i| i.span)
                .chain(c.image_repo_span)
                .map(move |s| (c.env, s, text.clone()))
        })
        .collect();
    if covered.is_empty() {
        return;
    }
    for c in out.iter_mut().filter(|c| is_rendered(c.file)) {
        let Some(image) = c.image.as_ref() else {
            continue;
        };
        let text = image.as_str().unwrap_or_default().to_string();
        // The same image, decided at the same line, in this environment (or in all).
        let decided = image.via.as_ref().is_some_and(|via| {
            via.iter().any(|h| {
                covered.contains(&(c.env, h.span, text.clone()))
                    || covered.contains(&(None, h.span, text.clone()))
            })
        });
        if decided {
            c.image = None;
        }
    }
}

/// The images GitOps applications decide: a chart's values (a local chart's `values.yaml` and
/// the application's `valueFiles`) overridden by its inline values and Helm parameters, and
/// its Kustomize `images:` overrides, each a container of the application's environment. Only
/// images the application decides (a parameter, inline values, an overlay's patch of them, an
/// image override) are its own: an image a values file decides is already a container of the
/// environment that file's name gives (`helm_values_containers`).
fn gitops_containers(
    apps: &[gitops::App],
    docs: &[Doc],
    sources: &crate::source::SourceMap,
    out: &mut Vec<Container>,
) {
    use std::collections::BTreeMap;
    let values: BTreeMap<&str, &Doc> = docs
        .iter()
        .filter(|d| d.kind == DocKind::HelmValues)
        .map(|d| (sources.path(d.file), d))
        .collect();
    // Images a values file decides are that file's containers already.
    let values_files: std::collections::BTreeSet<FileId> =
        values.values().map(|d| d.file).collect();
    for app in apps {
        let owner = app.describe();
        for s in &app.sources {
            let overrides = gitops::override_values(s);
            let dir = s
                .path
                .as_ref()
                .and_then(Node::as_str)
                .filter(|p| !p.contains("{{"))
                .and_then(|p| crate::source::join_path("", p));
            let mut merged = match dir
                .as_deref()
                .and_then(|d| values.get(crate::source::join_path(d, "values.yaml")?.as_str()))
            {
                Some(base) => base.root.clone(),
                None => Node::new(app.decl, crate::node::Value::Map(Default::default())),
            };
            if let Some(d) = &dir {
                for f in &s.value_files {
                    let Some(doc) = f
                        .as_str()
                        .and_then(|f| crate::source::join_path(d, f))
                        .and_then(|p| values.get(p.as_str()))
                    else {
                        continue;
                    };
                    deep_merge(&mut merged, &doc.root, 0);
                }
            }
            deep_merge(&mut merged, &overrides, 0);
            let mut found = Vec::new();
            helm_images(&merged, String::new(), 0, &mut found);
            for (path, image, decl, repo_span) in found {
                if values_files.contains(&image.span.file) {
                    continue;
                }
                out.push(Container {
                    image: Some(image),
                    image_repo_span: repo_span,
                    label: Some(format!("Helm values `{path}` of {owner}")),
                    ..Container::new(
                        Platform::Kubernetes,
                        app.file,
                        owner.clone(),
                        &path,
                        decl,
                        app.env,
                    )
                });
            }
            for entry in &s.kustomize_images {
                let Some(text) = entry.as_str() else { continue };
                // `name=new:tag` or `new:tag`: what runs is the right-hand side.
                let image = text.rsplit_once('=').map_or(text, |(_, new)| new);
                if super::image::ImageRef::parse(image).is_none() {
                    continue;
                }
                let node = Node::string(entry.span, image).with_via(entry.via.clone());
                out.push(Container {
                    image: Some(node),
                    label: Some(format!("the Kustomize image override of {owner}")),
                    ..Container::new(
                        Platform::Kubernetes,
                        app.file,
                        owner.clone(),
                        image,
                        entry.span,
                        app.env,
                    )
                });
            }
        }
    }
}

/// Helm values files, per chart (the directory of `values.yaml`, or the
/// parent of a `values/` directory): each environment's file deep-merged
/// over the chart's `values.yaml` (maps merge, everything else is
/// replaced, as Helm does), and every `image` in the result becomes a
/// container of that environment, located at the line that decided it.
fn helm_values_containers(
    docs: &[Doc],
    sources: &crate::source::SourceMap,
    out: &mut Vec<Container>,
) {
    use std::collections::BTreeMap;
    let mut charts: BTreeMap<String, (Option<&Doc>, Vec<&Doc>)> = BTreeMap::new();
    for d in docs.iter().filter(|d| d.kind == DocKind::HelmValues) {
        let path = sources.path(d.file);
        let mut dir = crate::source::parent_dir(path);
        if dir
            .rsplit('/')
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case("values"))
        {
            dir = crate::source::parent_dir(dir);
        }
        let stem = path.rsplit('/').next().unwrap_or(path);
        let entry = charts.entry(dir.to_string()).or_default();
        if matches!(stem, "values.yaml" | "values.yml") && d.assignment.env.is_none() {
            entry.0 = Some(d);
        } else {
            entry.1.push(d);
        }
    }
    for (dir, (base, envs)) in charts {
        let chart = if dir.is_empty() { ".".to_string() } else { dir };
        let owner = format!("Helm chart {chart}");
        let mut emit = |root: &Node, file: FileId, env: Option<Env>| {
            let mut found = Vec::new();
            helm_images(root, String::new(), 0, &mut found);
            for (path, image, decl, repo_span) in found {
                out.push(Container {
                    image: Some(image),
                    image_repo_span: repo_span,
                    ..Container::new(Platform::Kubernetes, file, owner.clone(), &path, decl, env)
                });
            }
        };
        let with_env: Vec<&&Doc> = envs.iter().filter(|d| d.assignment.env.is_some()).collect();
        if with_env.is_empty() {
            if let Some(b) = base {
                emit(&b.root, b.file, None);
            }
            continue;
        }
        for d in with_env {
            match base {
                Some(b) => {
                    let mut merged = b.root.clone();
                    deep_merge(&mut merged, &d.root, 0);
                    emit(&merged, d.file, d.assignment.env);
                }
                None => emit(&d.root, d.file, d.assignment.env),
            }
        }
    }
}

pub(crate) fn deep_merge(base: &mut Node, over: &Node, depth: usize) {
    if depth > 32 {
        return;
    }
    match (&mut base.value, &over.value) {
        (crate::node::Value::Map(entries), crate::node::Value::Map(over_entries)) => {
            for oe in over_entries {
                let Some(k) = oe.key_str() else { continue };
                match entries.iter_mut().find(|e| e.key_str() == Some(k)) {
                    Some(e) => deep_merge(&mut e.value, &oe.value, depth + 1),
                    None => entries.push(oe.clone()),
                }
            }
        }
        _ => *base = over.clone(),
    }
}

/// (values path, image, where the image key is, where the repository was
/// decided).
type HelmImage = (String, Node, Span, Option<Span>);

/// Every `image` of a values tree: a string (`image: repo:tag`) or a map
/// with `repository` and `tag` (and `registry`, `digest`). A map without a
/// tag takes the chart's appVersion: not known here, so not an image.
fn helm_images(n: &Node, at: String, depth: usize, out: &mut Vec<HelmImage>) {
    if depth > 16 {
        return;
    }
    for e in n.entries() {
        let Some(k) = e.key_str() else { continue };
        let path = if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        };
        if k == "image" {
            if let Some(s) = e.value.as_str() {
                if super::image::ImageRef::parse(s).is_some() {
                    out.push((path, e.value.clone(), e.key.span, None));
                }
                continue;
            }
            if let Some(repo) = e.value.get("repository").filter(|r| r.as_str().is_some()) {
                let repo_text = repo.as_str().unwrap_or_default();
                let registry = e.value.str_at(&["registry"]).filter(|r| !r.is_empty());
                let name = match registry {
                    Some(r) => format!("{r}/{repo_text}"),
                    None => repo_text.to_string(),
                };
                let tag = e
                    .value
                    .get("tag")
                    .filter(|t| t.scalar_text().is_some_and(|s| !s.is_empty()));
                let digest = e
                    .value
                    .get("digest")
                    .and_then(|d| d.as_str().map(|s| (d, s)))
                    .filter(|(_, s)| !s.is_empty());
                let (text, at_node) = match (tag, digest) {
                    (_, Some((d, ds))) => (format!("{name}@{ds}"), d),
                    (Some(t), None) => {
                        (format!("{name}:{}", t.scalar_text().unwrap_or_default()), t)
                    }
                    (None, None) => continue,
                };
                let hop = crate::node::Hop {
                    span: repo.span,
                    label: format!("repository `{repo_text}`").into(),
                };
                // The tag's own way here (a Helm parameter, an ApplicationSet element), then
                // where the repository was decided.
                let node = Node::string(at_node.span, text)
                    .with_via(Some(crate::node::Chain::link(&at_node.via, hop)));
                out.push((path, node, e.key.span, Some(repo.span)));
                continue;
            }
        }
        if e.value.is_map() {
            helm_images(&e.value, path, depth + 1, out);
        }
    }
}

impl Container {
    /// A container with nothing but its identity and environment.
    fn new(
        platform: Platform,
        file: FileId,
        owner: String,
        name: &str,
        decl: Span,
        env: Option<Env>,
    ) -> Container {
        Container {
            platform,
            file,
            owner,
            name: name.to_string(),
            image: None,
            image_repo_span: None,
            build: None,
            env_vars: Vec::new(),
            env,
            overlay: None,
            log_region: None,
            decl,
            logging: None,
            label: None,
            ports: Vec::new(),
            probes: Vec::new(),
            mounts: Vec::new(),
            rendered_owner: None,
        }
    }
}

/// The ports, probes and volume mounts of a Kubernetes container node.
type K8sShape = (
    Vec<(String, Span)>,
    Vec<(String, String, Span)>,
    Vec<(String, Span)>,
);

fn k8s_shape(c: &Node) -> K8sShape {
    let list = |key: &str, field: &str| -> Vec<(String, Span)> {
        c.get(key)
            .map(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|p| {
                let n = p.get(field)?;
                Some((n.scalar_text()?.into_owned(), n.span))
            })
            .collect()
    };
    let probes = ["readinessProbe", "livenessProbe", "startupProbe"]
        .iter()
        .filter_map(|k| {
            let e = c.entry(k)?;
            let what = e
                .value
                .str_at(&["httpGet", "path"])
                .map(|p| format!("GET {p}"))
                .or_else(|| e.value.get("tcpSocket").map(|_| "tcp".to_string()))
                .or_else(|| e.value.get("exec").map(|_| "exec".to_string()))
                .or_else(|| e.value.get("grpc").map(|_| "grpc".to_string()))
                .unwrap_or_else(|| "present".to_string());
            Some(((*k).to_string(), what, e.key.span))
        })
        .collect();
    (
        list("ports", "containerPort"),
        probes,
        list("volumeMounts", "mountPath"),
    )
}

/// Where a container is declared: the value of its `key` (its name), else
/// the whole definition.
fn decl_of(c: &Node, key: &str) -> Span {
    c.get(key).map_or(c.span, |n| n.span)
}

/// The nested blocks `n` holds: one block is a map, repeated ones a list.
pub fn blocks(n: Option<&Node>) -> &[Node] {
    match n {
        Some(n) if n.is_map() => std::slice::from_ref(n),
        Some(n) => n.as_seq(),
        None => &[],
    }
}

fn ecs_containers(
    defs: &Node,
    file: FileId,
    family: &str,
    env: Option<Env>,
    out: &mut Vec<Container>,
) {
    for c in defs.as_seq() {
        out.push(Container {
            image: c.get("image").cloned(),
            env_vars: name_value_list(c.get("environment")),
            log_region: c
                .path(&["logConfiguration", "options", "awslogs-region"])
                .cloned(),
            logging: logging_of(c, "logConfiguration"),
            ..Container::new(
                Platform::Ecs,
                file,
                format!("task definition {family}"),
                c.str_at(&["name"]).unwrap_or("?"),
                decl_of(c, "name"),
                env,
            )
        });
    }
}

/// Whether an ECS container definition sets its log configuration (`key`);
/// None when the definition is not known (an unevaluated Terraform value).
/// A configuration not known statically (a parameter, an unknown value)
/// counts as set.
fn logging_of(c: &Node, key: &str) -> Option<bool> {
    c.is_map()
        .then(|| c.get(key).is_some_and(|l| !matches!(l.value, Value::Null)))
}

/// CloudFormation `AWS::ECS::TaskDefinition` container definitions
/// (`Name`, `Image`, `LogConfiguration`, `Environment`).
fn cfn_containers(doc: &Doc, sources: &crate::source::SourceMap, out: &mut Vec<Container>) {
    let Some(resources) = doc.root.get("Resources") else {
        return;
    };
    for e in resources.entries() {
        if e.value.str_at(&["Type"]) != Some("AWS::ECS::TaskDefinition") {
            continue;
        }
        let Some(props) = e.value.get("Properties") else {
            continue;
        };
        let family = props
            .str_at(&["Family"])
            .or_else(|| e.key_str())
            .unwrap_or("?");
        for c in props
            .get("ContainerDefinitions")
            .map(Node::as_seq)
            .unwrap_or(&[])
        {
            out.push(Container {
                image: c.get("Image").cloned(),
                env_vars: cfn_environment(c.get("Environment"), sources),
                log_region: c
                    .path(&["LogConfiguration", "Options", "awslogs-region"])
                    .cloned(),
                logging: logging_of(c, "LogConfiguration"),
                ..Container::new(
                    Platform::Ecs,
                    doc.file,
                    format!("task definition {family}"),
                    c.str_at(&["Name"]).unwrap_or("?"),
                    decl_of(c, "Name"),
                    doc.assignment.env,
                )
            });
        }
    }
}

/// GitHub Actions jobs' `container:` and `services:` images, in the job's
/// environment.
fn workflow_containers(doc: &Doc, jobs: &[Job], out: &mut Vec<Container>) {
    let Some(all) = doc.root.get("jobs") else {
        return;
    };
    for e in all.entries() {
        let Some(id) = e.key_str() else { continue };
        let env = jobs
            .iter()
            .find(|j| j.file == doc.file && j.id_span == e.key.span)
            .map_or(doc.assignment.env, |j| j.assignment.env);
        let mut push = |name: &str, label: String, spec: &Node, decl: Span| {
            // `container: node:18` or `container: { image: node:18 }`.
            let image = if spec.is_map() {
                spec.get("image")
            } else {
                Some(spec)
            };
            let Some(image) = image.filter(|i| i.as_str().is_some()) else {
                return;
            };
            out.push(Container {
                image: Some(image.clone()),
                label: Some(label),
                ..Container::new(
                    Platform::Compose,
                    doc.file,
                    format!("job {id}"),
                    name,
                    decl,
                    env,
                )
            });
        };
        if let Some(c) = e.value.entry("container") {
            push(
                "container",
                format!("the container of job `{id}`"),
                &c.value,
                c.key.span,
            );
        }
        for s in e.value.get("services").map(Node::entries).unwrap_or(&[]) {
            let name = s.key_str().unwrap_or("?");
            push(
                name,
                format!("service container `{name}` of job `{id}`"),
                &s.value,
                s.key.span,
            );
        }
    }
}

/// The pod spec of a Terraform Kubernetes provider workload.
fn tf_pod_spec<'a>(rtype: &str, attrs: &'a Node) -> Option<&'a Node> {
    let kind = rtype
        .strip_prefix("kubernetes_")?
        .strip_suffix("_v1")
        .unwrap_or(rtype.strip_prefix("kubernetes_")?);
    let first = |n: Option<&'a Node>| blocks(n).first();
    let spec = first(attrs.get("spec"))?;
    match kind {
        "pod" => Some(spec),
        "deployment"
        | "stateful_set"
        | "daemonset"
        | "daemon_set"
        | "replication_controller"
        | "job" => first(first(spec.get("template"))?.get("spec")),
        "cron_job" => {
            let job = first(first(spec.get("job_template"))?.get("spec"))?;
            first(first(job.get("template"))?.get("spec"))
        }
        _ => None,
    }
}

fn tf_k8s_containers(r: &Resource, spec: &Node, env: Option<Env>, out: &mut Vec<Container>) {
    let owner = r.address();
    for list in ["init_container", "container"] {
        for c in blocks(spec.get(list)) {
            let name = c.get("name").and_then(|n| n.scalar_text());
            // `env { name = "X" value = "..." }`; `value_from` is a reference.
            let env_vars = blocks(c.get("env"))
                .iter()
                .filter_map(|e| {
                    let name = e.get("name")?;
                    Some(EnvVar {
                        name: name.scalar_text()?.into_owned(),
                        name_span: name.span,
                        value: e.get("value").filter(|v| !v.is_unknown()).cloned(),
                    })
                })
                .collect();
            out.push(Container {
                image: c.get("image").filter(|i| i.as_str().is_some()).cloned(),
                env_vars,
                ..Container::new(
                    Platform::Kubernetes,
                    r.span.file,
                    owner.clone(),
                    name.as_deref().unwrap_or("?"),
                    decl_of(c, "name"),
                    env,
                )
            });
        }
    }
}

/// A `helm_release`'s image values set with `set { name = "image.tag" }`
/// (any prefix: `controller.image.tag`), with the repository set next to
/// it. A repository without a tag is not an image guard can judge: the
/// chart decides the tag.
fn helm_containers(r: &Resource, env: Option<Env>, out: &mut Vec<Container>) {
    let sets: Vec<(String, &Node)> = blocks(r.attrs.get("set"))
        .iter()
        .filter_map(|s| {
            let name = s.get("name")?.scalar_text()?.into_owned();
            Some((name, s.get("value")?))
        })
        .collect();
    for (name, tag) in &sets {
        let Some(prefix) = name.strip_suffix("image.tag") else {
            continue;
        };
        let Some(tag_text) = tag.scalar_text() else {
            continue;
        };
        let repo = sets
            .iter()
            .find(|(n, _)| n.strip_prefix(prefix) == Some("image.repository"))
            .and_then(|(_, v)| Some((v.as_str()?, v.span)));
        let image = format!(
            "{}:{tag_text}",
            repo.map_or_else(|| r.name.to_string(), |(s, _)| s.to_string())
        );
        let what = prefix.trim_end_matches('.');
        let what = if what.is_empty() { "image" } else { what };
        let label = format!("the `{name}` value of {}", r.address());
        out.push(Container {
            image: Some(Node::string(tag.span, image).with_via(tag.via.clone())),
            image_repo_span: repo.map(|(_, s)| s),
            label: Some(label),
            ..Container::new(
                Platform::Kubernetes,
                r.span.file,
                r.address(),
                what,
                tag.span,
                env,
            )
        });
    }
}

/// Kubernetes `env:` — `{name, value}` items; `valueFrom` has no literal.
fn k8s_env(env: Option<&Node>) -> Vec<EnvVar> {
    name_value_list(env)
}

/// Values read out of a rendered `templatefile` (all located at the call,
/// `at`) that equal a scalar argument of the call (one that is not a
/// short, common word) take that argument's place and provenance: the
/// finding points at the line that supplied the value.
fn locate_at_arguments(n: &mut Node, at: Span, args: &[Node], depth: usize) {
    if depth > 64 {
        return;
    }
    match &mut n.value {
        Value::Seq(items) => {
            for i in items.iter_mut() {
                locate_at_arguments(i, at, args, depth + 1);
            }
        }
        Value::Map(entries) => {
            for e in entries.iter_mut() {
                locate_at_arguments(&mut e.value, at, args, depth + 1);
            }
        }
        _ if n.span == at => {
            let Some(text) = n.scalar_text() else {
                return;
            };
            let mut same = args
                .iter()
                .filter(|a| a.scalar_text().as_deref() == Some(&*text));
            // Only an unambiguous, distinctive value is moved.
            if let (Some(a), None) = (same.next(), same.next())
                && text.len() >= 6
            {
                n.span = a.span;
                n.via = a.via.clone();
            }
        }
        _ => {}
    }
}

/// A list of `{name, value}` maps (Kubernetes `env`, ECS `environment`).
fn name_value_list(list: Option<&Node>) -> Vec<EnvVar> {
    let mut out = Vec::new();
    for item in list.map(Node::as_seq).unwrap_or(&[]) {
        let Some(name) = item.get("name") else {
            continue;
        };
        let Some(n) = name.scalar_text() else {
            continue;
        };
        out.push(EnvVar {
            name: n.into_owned(),
            name_span: name.span,
            value: item.get("value").cloned(),
        });
    }
    out
}

/// CloudFormation container `Environment` (`Name`/`Value` pairs). A value
/// that is an intrinsic function (`{"Ref": ..}`, `{"Fn::Sub": ..}`, the
/// YAML short forms `!Ref`, `!Sub`, `!GetAtt`, `!ImportValue`, which the
/// YAML reader keeps as the bare text with the span starting at the tag)
/// or a dynamic reference (`{{resolve:secretsmanager:..}}`) is a
/// reference: the variable is kept, without a literal value. `Secrets`
/// (`Name`/`ValueFrom`) are references and never read as values.
fn cfn_environment(list: Option<&Node>, sources: &crate::source::SourceMap) -> Vec<EnvVar> {
    let mut out = Vec::new();
    for item in list.map(Node::as_seq).unwrap_or(&[]) {
        let Some(name) = item.get("Name") else {
            continue;
        };
        let Some(n) = name.scalar_text() else {
            continue;
        };
        let value = item
            .get("Value")
            .filter(|v| !cfn_is_reference(v, sources))
            .cloned();
        out.push(EnvVar {
            name: n.into_owned(),
            name_span: name.span,
            value,
        });
    }
    out
}

/// Is a CloudFormation value a reference rather than a literal: an
/// intrinsic function (a map or a tagged YAML node), or a dynamic
/// reference?
fn cfn_is_reference(v: &Node, sources: &crate::source::SourceMap) -> bool {
    let Some(text) = v.scalar_text() else {
        // `{"Fn::Sub": ..}`, `{"Ref": ..}`, `!GetAtt [A, Arn]`, `!Join [..]`.
        return true;
    };
    let mut written = sources
        .get(v.span.file)
        .map_or("", |f| f.slice(v.span))
        .trim_start();
    // An anchor before the tag (`&pw !Ref X`).
    if written.starts_with('&') {
        written = written
            .split_once(char::is_whitespace)
            .map_or("", |(_, rest)| rest.trim_start());
    }
    // An application tag (`!Ref X`, `!Sub '..'`); `!!str` is a core tag.
    (written.starts_with('!') && !written.starts_with("!!")) || text.contains("{{resolve:")
}

/// Compose `environment:` as a map (`KEY: value`) or a list (`- KEY=value`).
fn compose_env(env: Option<&Node>) -> Vec<EnvVar> {
    let Some(env) = env else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in env.entries() {
        let Some(name) = e.key.scalar_text() else {
            continue;
        };
        let value = (!matches!(e.value.value, Value::Null)).then(|| e.value.clone());
        out.push(EnvVar {
            name: name.into_owned(),
            name_span: e.key.span,
            value,
        });
    }
    for item in env.as_seq() {
        let Some(text) = item.as_str() else {
            continue;
        };
        match text.split_once('=') {
            Some((k, v)) => {
                // The value's span: the bytes after `=` when the item is a plain
                // or quoted scalar on one line; else the whole item.
                let value_span = sub_span(item, text, k.len() + 1);
                out.push(EnvVar {
                    name: k.trim().to_string(),
                    name_span: item.span,
                    value: Some(Node::string(value_span, v).with_via(item.via.clone())),
                });
            }
            None => out.push(EnvVar {
                name: text.trim().to_string(),
                name_span: item.span,
                value: None,
            }),
        }
    }
    out
}

/// The span of `text[from..]` inside `node`'s span, when the node's source
/// is the text itself (possibly quoted); otherwise the node's span.
fn sub_span(node: &Node, text: &str, from: usize) -> Span {
    let width = (node.span.end - node.span.start) as usize;
    let quoted = width == text.len() + 2;
    if width == text.len() || quoted {
        let q = usize::from(quoted);
        Span::new(
            node.span.file,
            node.span.start as usize + q + from,
            node.span.start as usize + q + text.len(),
        )
    } else {
        node.span
    }
}
