//! Walking Kubernetes pods (every workload kind with a pod template, after
//! skipping kustomize patch files) and Dockerfile stages, for the hardening
//! rules.

use std::borrow::Cow;

use crate::env::Env;
use crate::model::{Doc, DocKind, Model};
use crate::node::{Entry, Node};
use crate::source::Span;

/// One pod template as one or more environments render it: the document,
/// `Kind/name`, its pod spec and the metadata of the pod (annotations live
/// there).
pub struct Pod<'a> {
    pub doc: &'a Doc,
    pub owner: String,
    pub spec: &'a Node,
    pub meta: Option<&'a Node>,
    /// The environments this rendering is deployed to; empty: the
    /// document's own (it is not rendered by overlays, or every overlay
    /// leaves it as written and names no environment).
    pub envs: &'a [Env],
}

/// The workload kinds judged (Argo Rollouts and ReplicationControllers too).
const KINDS: [&str; 9] = [
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "Rollout",
];

/// Every workload document as its environments render it: once as written
/// for the overlays that leave it unchanged (or when no overlay renders
/// it), and once per overlay whose patches change it, so that a prod patch
/// that adds a `securityContext` clears prod and only prod.
pub struct Pods<'m> {
    items: Vec<Rendering<'m>>,
}

struct Rendering<'m> {
    doc: &'m Doc,
    kind: &'m str,
    name: &'m str,
    root: Cow<'m, Node>,
    envs: Vec<Env>,
}

pub fn pods(m: &Model) -> Pods<'_> {
    let patches = crate::rules::workload::patch_files(m);
    let mut items = Vec::new();
    for d in &m.docs {
        let DocKind::Kubernetes { kind, name } = &d.kind else {
            continue;
        };
        if !KINDS.contains(&kind.as_str()) || patches.contains(m.sources.path(d.file)) {
            continue;
        }
        let name = name.as_deref().unwrap_or("?");
        let item = |root, envs| Rendering {
            doc: d,
            kind,
            name,
            root,
            envs,
        };
        if d.overlays.is_empty() {
            // A Helm rendering holds in its environment only (the same
            // template renders once per environment); other documents'
            // environments are found from their place.
            let envs = if m.rendered_files.binary_search(&d.file).is_ok() {
                m.doc_envs(d)
            } else {
                Vec::new()
            };
            items.push(item(Cow::Borrowed(&d.root), envs));
            continue;
        }
        // Overlays that leave the document as written share one rendering.
        let mut unchanged: Vec<Option<Env>> = Vec::new();
        let mut patched: Vec<Rendering<'_>> = Vec::new();
        for o in &d.overlays {
            match crate::model::kustomize::render(d, o) {
                None => {} // a patch deletes it there
                Some(Cow::Borrowed(_)) => unchanged.push(o.env),
                Some(Cow::Owned(n)) => {
                    patched.push(item(Cow::Owned(n), o.env.into_iter().collect()));
                }
            }
        }
        if !unchanged.is_empty() {
            let envs = if unchanged.iter().any(Option::is_none) {
                Vec::new()
            } else {
                let mut e: Vec<Env> = unchanged.into_iter().flatten().collect();
                e.sort();
                e.dedup();
                e
            };
            items.push(item(Cow::Borrowed(&d.root), envs));
        }
        items.extend(patched);
    }
    Pods { items }
}

impl<'m> Pods<'m> {
    pub fn iter(&self) -> impl Iterator<Item = Pod<'_>> {
        self.items.iter().filter_map(|r| {
            let root: &Node = &r.root;
            let spec = crate::model::containers::pod_spec(r.kind, root)?;
            // A Rollout may reference a Deployment's template (`workloadRef`).
            spec.get("containers")?;
            let meta = match r.kind {
                "Pod" => root.get("metadata"),
                "CronJob" => root.path(&["spec", "jobTemplate", "spec", "template", "metadata"]),
                _ => root.path(&["spec", "template", "metadata"]),
            };
            Some(Pod {
                doc: r.doc,
                owner: format!("{}/{}", r.kind, r.name),
                spec,
                meta,
                envs: &r.envs,
            })
        })
    }
}

impl<'a> Pod<'a> {
    /// Every container: init, regular and ephemeral.
    pub fn containers(&self) -> impl Iterator<Item = &'a Node> + 'a {
        let spec = self.spec;
        ["initContainers", "containers", "ephemeralContainers"]
            .into_iter()
            .flat_map(move |l| spec.get(l).map(Node::as_seq).unwrap_or(&[]).iter())
    }

    /// `spec.os.name: windows`: the Linux-only restricted controls do not apply.
    pub fn is_windows(&self) -> bool {
        self.spec.str_at(&["os", "name"]) == Some("windows")
    }

    /// How a finding names a container: "container `app` of Deployment/web".
    pub fn describe(&self, c: &Node) -> String {
        format!(
            "container `{}` of {}",
            c.str_at(&["name"]).unwrap_or("?"),
            self.owner
        )
    }

    /// A setting of the pod's securityContext.
    pub fn pod_sc(&self, key: &str) -> Option<&'a Entry> {
        self.spec.get("securityContext")?.entry(key)
    }

    /// The setting in effect for a container: its own, else the pod's
    /// (Kubernetes' override order), with whether it is the pod's.
    pub fn effective(&self, c: &'a Node, key: &str) -> Option<(&'a Entry, bool)> {
        sc(c, key)
            .map(|e| (e, false))
            .or_else(|| self.pod_sc(key).map(|e| (e, true)))
    }
}

/// A setting of a container's securityContext.
pub fn sc<'a>(c: &'a Node, key: &str) -> Option<&'a Entry> {
    c.get("securityContext")?.entry(key)
}

/// Where to report what a container lacks: its securityContext, else its name.
pub fn container_anchor(c: &Node) -> Span {
    c.entry("securityContext")
        .or_else(|| c.entry("name"))
        .map_or(c.span, |e| e.key.span)
}

/// Where a finding is, with the chain of the value there (the values-file
/// line a Helm rendering printed, an overlay's patch).
pub struct At {
    pub span: Span,
    pub via: crate::node::Via,
}

impl From<Span> for At {
    fn from(span: Span) -> At {
        At { span, via: None }
    }
}

/// `key: value` as one place, with the value's chain.
pub fn kv(e: &Entry) -> At {
    At {
        span: kv_span(e),
        via: e.value.via.clone(),
    }
}

/// `key: value` as one span (a multi-line value: its key only).
fn kv_span(e: &Entry) -> Span {
    if e.value.span.file == e.key.span.file
        && e.value.span.start >= e.key.span.start
        && !matches!(
            e.value.value,
            crate::node::Value::Map(_) | crate::node::Value::Seq(_)
        )
    {
        Span::new(
            e.key.span.file,
            e.key.span.start as usize,
            e.value.span.end as usize,
        )
    } else {
        e.key.span
    }
}

/// A scalar as text (`"true"`, `0`, `RuntimeDefault`).
pub fn text(n: &Node) -> String {
    n.scalar_text().map(|t| t.into_owned()).unwrap_or_default()
}

/// A literal `true` (boolean or string).
pub fn is_true(n: &Node) -> bool {
    n.is_truthy_literal()
}

/// A literal `false` (boolean or string).
pub fn is_false(n: &Node) -> bool {
    match n.as_bool() {
        Some(b) => !b,
        None => n.as_str().is_some_and(|s| s.eq_ignore_ascii_case("false")),
    }
}

/// One stage of a Dockerfile: its `FROM`, its name, its base and its
/// instructions (the `FROM` excluded).
pub struct Stage<'a> {
    pub from: &'a Node,
    pub name: Option<String>,
    pub base: String,
    pub ins: Vec<&'a Node>,
}

pub fn stages(root: &Node) -> Vec<Stage<'_>> {
    let mut out: Vec<Stage<'_>> = Vec::new();
    for i in root.as_seq() {
        if i.str_at(&["Cmd"]) == Some("from") {
            let words = values(i);
            let name = match words.as_slice() {
                [_, as_, n, ..] if as_.eq_ignore_ascii_case("as") => Some(n.to_ascii_lowercase()),
                _ => None,
            };
            out.push(Stage {
                from: i,
                name,
                base: words
                    .first()
                    .map_or(String::new(), |w| w.to_ascii_lowercase()),
                ins: Vec::new(),
            });
        } else if let Some(st) = out.last_mut() {
            st.ins.push(i);
        }
    }
    out
}

/// The stages whose files end up in the final image: the last one and the
/// stages it builds on (`FROM base AS final`), last first.
pub fn final_chain<'s, 'a>(all: &'s [Stage<'a>]) -> Vec<&'s Stage<'a>> {
    let mut out = Vec::new();
    let Some(mut at) = all.len().checked_sub(1) else {
        return out;
    };
    loop {
        out.push(&all[at]);
        let base = all[at].base.as_str();
        match all[..at]
            .iter()
            .rposition(|s| s.name.as_deref() == Some(base))
        {
            Some(p) => at = p,
            None => break,
        }
    }
    out
}

/// The words of an instruction's value.
pub fn values(i: &Node) -> Vec<&str> {
    i.get("Value")
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

/// The flags of an instruction (`--checksum=...`, `--mount=...`).
pub fn flags(i: &Node) -> Vec<&str> {
    i.get("Flags")
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

/// One shell command of a RUN: its words (text and where).
pub type Command = Vec<(String, Span)>;

/// The commands of a shell-form RUN, split at `&&`, `||`, `;` and `|`
/// (a heredoc body is split into words too).
pub fn commands(i: &Node) -> Vec<Command> {
    let mut out: Vec<Command> = vec![Vec::new()];
    for v in i.get("Value").map(Node::as_seq).unwrap_or(&[]) {
        let Some(s) = v.as_str() else { continue };
        let words: Vec<&str> = if s.contains(char::is_whitespace) {
            s.split_whitespace().collect()
        } else {
            vec![s]
        };
        for w in words {
            if matches!(w, "&&" | "||" | ";" | "|" | "\\") {
                out.push(Vec::new());
                continue;
            }
            let ends = w.ends_with(';');
            let w = w.trim_end_matches(';');
            if !w.is_empty()
                && let Some(cur) = out.last_mut()
            {
                cur.push((w.to_string(), v.span));
            }
            if ends {
                out.push(Vec::new());
            }
        }
    }
    out.retain(|c| !c.is_empty());
    out
}
