//! The container inventory: every container guard can see, whatever format
//! declared it (Kubernetes workloads, compose services, ECS container
//! definitions in JSON or in Terraform), with its image, its environment
//! variables and the environment it runs in. Rules about images and
//! environment variables read this, not the raw trees.

use crate::env::Env;
use crate::model::{Doc, DocKind, kustomize};
use crate::node::{Node, Value};
use crate::source::{FileId, Span};
use crate::terraform::TfModel;

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
}

impl Container {
    /// How findings name the container: "container `web` of Deployment/web",
    /// "compose service web", "container `app` of ECS task definition app".
    pub fn describe(&self) -> String {
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

pub fn collect(docs: &[Doc], tf: &TfModel, sources: &crate::source::SourceMap) -> Vec<Container> {
    let mut out = Vec::new();
    for doc in docs {
        match &doc.kind {
            DocKind::Kubernetes { kind, name } => {
                let Some(spec) = pod_spec(kind, &doc.root) else {
                    continue;
                };
                let owner = format!("{kind}/{}", name.as_deref().unwrap_or("?"));
                for list in ["initContainers", "containers", "ephemeralContainers"] {
                    for c in spec.get(list).map(Node::as_seq).unwrap_or(&[]) {
                        let base = Container {
                            platform: Platform::Kubernetes,
                            file: doc.file,
                            owner: owner.clone(),
                            name: c.str_at(&["name"]).unwrap_or("?").to_string(),
                            image: c.get("image").cloned(),
                            image_repo_span: None,
                            build: None,
                            env_vars: k8s_env(c.get("env")),
                            env: doc.assignment.env,
                            overlay: None,
                            log_region: None,
                        };
                        out.extend(kustomize::apply_overlays(doc, base));
                    }
                }
            }
            DocKind::Compose => {
                let Some(services) = doc.root.get("services") else {
                    continue;
                };
                for svc in services.entries() {
                    let name = svc.key_str().unwrap_or("?").to_string();
                    out.push(Container {
                        platform: Platform::Compose,
                        file: doc.file,
                        owner: format!("service {name}"),
                        name,
                        image: svc.value.get("image").cloned(),
                        image_repo_span: None,
                        build: svc.value.entry("build").map(|e| e.key.span),
                        env_vars: compose_env(svc.value.get("environment")),
                        env: doc.assignment.env,
                        overlay: None,
                        log_region: None,
                    });
                }
            }
            DocKind::EcsTaskDefinition => {
                let family = doc.root.str_at(&["family"]).unwrap_or("?");
                if let Some(defs) = doc.root.get("containerDefinitions") {
                    ecs_containers(defs, doc.file, family, doc.assignment.env, &mut out);
                }
            }
            _ => {}
        }
    }
    for root in &tf.roots {
        for r in &root.resources {
            if r.rtype != "aws_ecs_task_definition" {
                continue;
            }
            let Some(defs) = r.attrs.get("container_definitions") else {
                continue;
            };
            let Some(defs) = super::json_tree(defs, sources) else {
                continue;
            };
            let family = r.attrs.str_at(&["family"]).unwrap_or(&r.name);
            let file = r.span.file;
            ecs_containers(&defs, file, family, root.assignment.env, &mut out);
        }
    }
    out
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
            platform: Platform::Ecs,
            file,
            owner: format!("task definition {family}"),
            name: c.str_at(&["name"]).unwrap_or("?").to_string(),
            image: c.get("image").cloned(),
            image_repo_span: None,
            build: None,
            env_vars: name_value_list(c.get("environment")),
            env,
            overlay: None,
            log_region: c
                .path(&["logConfiguration", "options", "awslogs-region"])
                .cloned(),
        });
    }
}

/// Kubernetes `env:` — `{name, value}` items; `valueFrom` has no literal.
fn k8s_env(env: Option<&Node>) -> Vec<EnvVar> {
    name_value_list(env)
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
