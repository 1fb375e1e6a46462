//! Kustomize patches applied to the documents an overlay renders:
//! strategic-merge patches (files, inline, `patchesStrategicMerge`) and
//! JSON 6902 patches (`patches:` with a list of operations, and the older
//! `patchesJson6902:`), plus `namePrefix`/`nameSuffix`.
//!
//! Values a patch sets keep their place in the patch file (or, for an
//! inline patch, the `patch:` value), so findings on a patched value point
//! at the patch that decided it.

use crate::node::{Entry, Node, Value};
use crate::source::{FileId, SourceFile, Span};

/// Which resources a patch applies to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Target {
    pub kind: Option<String>,
    pub name: Option<String>,
    /// `labelSelector: "app=web,tier=api"` (equality only).
    pub labels: Vec<(String, String)>,
}

/// One JSON 6902 operation.
#[derive(Clone, Debug)]
pub struct Op {
    pub op: String,
    pub path: Vec<String>,
    pub value: Option<Node>,
}

#[derive(Clone, Debug)]
pub enum Patch {
    Strategic {
        target: Target,
        body: Node,
    },
    Json6902 {
        target: Target,
        ops: Vec<Op>,
    },
    /// `namePrefix` / `nameSuffix` of a kustomization.
    Rename {
        prefix: String,
        suffix: String,
    },
    /// Flux's post-build variable substitution (`spec.postBuild.substitute`
    /// of a Flux Kustomization) over every object of the build: see
    /// [`substitute`].
    Substitute(std::sync::Arc<Vars>),
}

/// The variables of a post-build substitution, each with the node that set
/// it (its `substitute:` entry's value), in the order they were written.
#[derive(Clone, Debug, Default)]
pub struct Vars {
    pub vars: Vec<(String, Node)>,
    /// What set them, for the chain ("postBuild.substitute of Flux Kustomization `shop`").
    pub what: String,
}

/// How many operations or nesting levels a patch may have.
const MAX_OPS: usize = 1_000;
const MAX_DEPTH: usize = 64;

impl Target {
    pub fn of(n: &Node) -> Target {
        let labels = n
            .str_at(&["labelSelector"])
            .map(|s| {
                s.split(',')
                    .filter_map(|kv| {
                        let (k, v) = kv.split_once('=')?;
                        Some((k.trim().to_string(), v.trim().to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Target {
            kind: n.str_at(&["kind"]).map(str::to_string),
            name: n.str_at(&["name"]).map(str::to_string),
            labels,
        }
    }

    fn matches(&self, root: &Node) -> bool {
        let kind_ok = self
            .kind
            .as_deref()
            .is_none_or(|k| root.str_at(&["kind"]) == Some(k));
        let name_ok = self.name.as_deref().is_none_or(|n| {
            let actual = root.str_at(&["metadata", "name"]).unwrap_or("");
            n == actual || glob_match(n, actual)
        });
        let labels_ok = self.labels.iter().all(|(k, v)| {
            root.path(&["metadata", "labels"])
                .and_then(|l| l.get(k))
                .and_then(Node::scalar_text)
                .is_some_and(|x| x == v.as_str())
        });
        kind_ok && name_ok && labels_ok
    }
}

/// `name` targets are regular expressions in kustomize; the common forms
/// are literals and `.*` wildcards.
fn glob_match(pattern: &str, s: &str) -> bool {
    if !pattern.contains(".*") {
        return false;
    }
    let parts: Vec<&str> = pattern.split(".*").collect();
    let mut rest = s;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(p) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else if let Some(at) = rest.find(p) {
            rest = &rest[at + p.len()..];
        } else {
            return false;
        }
    }
    rest.is_empty()
}

/// The patch(es) in a YAML document: a mapping is a strategic-merge patch
/// (targeting its own kind and name unless `target` says), a list is
/// JSON 6902 operations (which need a `target`).
pub fn from_doc(root: &Node, target: Option<Target>) -> Option<Patch> {
    match &root.value {
        Value::Map(_) => {
            let target = target.unwrap_or_else(|| Target {
                kind: root.str_at(&["kind"]).map(str::to_string),
                name: root.str_at(&["metadata", "name"]).map(str::to_string),
                labels: Vec::new(),
            });
            Some(Patch::Strategic {
                target,
                body: root.clone(),
            })
        }
        Value::Seq(items) => {
            let target = target?;
            let ops = items
                .iter()
                .take(MAX_OPS)
                .filter_map(|i| {
                    Some(Op {
                        op: i.str_at(&["op"])?.to_string(),
                        path: pointer(i.str_at(&["path"])?),
                        value: i.get("value").cloned(),
                    })
                })
                .collect();
            Some(Patch::Json6902 { target, ops })
        }
        _ => None,
    }
}

/// Does a document look like a JSON 6902 patch (a list of operations)?
pub fn is_json6902(root: &Node) -> bool {
    root.as_seq()
        .first()
        .is_some_and(|i| i.get("op").is_some() && i.get("path").is_some())
}

/// An inline patch (a YAML string in the kustomization), parsed; every
/// value is located at the `patch:` value itself.
pub fn inline(text_node: &Node, target: Option<Target>) -> Vec<Patch> {
    let Some(text) = text_node.as_str() else {
        return Vec::new();
    };
    let file = SourceFile::new(FileId(0), "patch".into(), "patch".into(), text.to_string());
    let parsed = crate::parse::yaml::parse(&file);
    parsed
        .docs
        .into_iter()
        .filter_map(|d| from_doc(&respan(d.root, text_node.span, 0), target.clone()))
        .collect()
}

fn respan(mut n: Node, span: Span, depth: usize) -> Node {
    n.span = span;
    if depth > MAX_DEPTH {
        n.value = Value::Null;
        return n;
    }
    n.value = match n.value {
        Value::Seq(items) => Value::Seq(
            items
                .into_iter()
                .map(|i| respan(i, span, depth + 1))
                .collect(),
        ),
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|e| Entry {
                    key: respan(e.key, span, depth + 1),
                    value: respan(e.value, span, depth + 1),
                })
                .collect(),
        ),
        v => v,
    };
    n
}

/// A JSON pointer's steps (`/spec/containers/0/image`).
fn pointer(p: &str) -> Vec<String> {
    p.split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// What the patches make of a resource.
#[derive(Debug)]
pub enum Rendered {
    Unchanged,
    Patched(Node),
    /// A strategic-merge patch with `$patch: delete` removed it.
    Deleted,
}

/// Apply the patches that target `root`, in order.
pub fn apply(root: &Node, patches: &[Patch]) -> Rendered {
    let mut out: Option<Node> = None;
    for p in patches {
        let cur = out.as_ref().unwrap_or(root);
        if let Patch::Strategic { target, body } = p
            && body.str_at(&["$patch"]) == Some("delete")
        {
            if target.matches(cur) {
                return Rendered::Deleted;
            }
            continue;
        }
        match p {
            Patch::Substitute(vars) => {
                if let Some(next) = substitute_object(cur, vars) {
                    out = Some(next);
                }
            }
            Patch::Rename { prefix, suffix } => {
                let Some(name) = cur.str_at(&["metadata", "name"]) else {
                    continue;
                };
                let renamed = format!("{prefix}{name}{suffix}");
                let mut next = cur.clone();
                if let Some(n) = get_mut(&mut next, &["metadata".into(), "name".into()]) {
                    n.value = Value::String(renamed.into());
                }
                out = Some(next);
            }
            Patch::Strategic { target, body } => {
                if !target.matches(cur) {
                    continue;
                }
                let mut next = cur.clone();
                merge(&mut next, body, "", 0);
                out = Some(next);
            }
            Patch::Json6902 { target, ops } => {
                if !target.matches(cur) {
                    continue;
                }
                let mut next = cur.clone();
                for op in ops {
                    json6902(&mut next, op);
                }
                out = Some(next);
            }
        }
    }
    match out {
        Some(n) => Rendered::Patched(n),
        None => Rendered::Unchanged,
    }
}

/// The object with Flux's post-build substitution applied to its strings,
/// `None` when nothing changed or the object opts out
/// (`kustomize.toolkit.fluxcd.io/substitute: disabled`).
fn substitute_object(root: &Node, vars: &Vars) -> Option<Node> {
    let annotation = root.path(&["metadata", "annotations"]).and_then(|a| {
        a.get("kustomize.toolkit.fluxcd.io/substitute")
            .and_then(Node::as_str)
    });
    if annotation == Some("disabled") {
        return None;
    }
    let mut next = root.clone();
    substitute_node(&mut next, vars, 0).then_some(next)
}

/// Substitute in every string value below `n`; true when one changed.
fn substitute_node(n: &mut Node, vars: &Vars, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match &mut n.value {
        Value::String(s) if s.contains('$') => match substitute(s, vars) {
            Some(sub) => {
                *n = sub.into_node(n);
                true
            }
            None => false,
        },
        Value::Map(entries) => {
            let mut changed = false;
            for e in entries.iter_mut() {
                changed |= substitute_node(&mut e.value, vars, depth + 1);
            }
            changed
        }
        Value::Seq(items) => {
            let mut changed = false;
            for i in items.iter_mut() {
                changed |= substitute_node(i, vars, depth + 1);
            }
            changed
        }
        _ => false,
    }
}

/// A string after substitution: its text, and the variables' values that
/// made it (in order).
pub struct Substituted<'v> {
    pub text: String,
    pub used: Vec<(&'v str, &'v Node)>,
    /// The whole string was one reference to a variable that has a value.
    pub whole: Option<&'v Node>,
    pub what: &'v str,
}

impl Substituted<'_> {
    /// The substituted string as a node: located at the variable's value
    /// when the whole string was one variable (it decided the value; the
    /// reference is a hop), else where it was written with a hop per
    /// variable used.
    fn into_node(self, original: &Node) -> Node {
        let hop_at = |span: Span, label: String| crate::node::Hop {
            span,
            label: label.into(),
        };
        if let Some(v) = self.whole {
            let text_was = original.as_str().unwrap_or_default().to_string();
            let via = crate::node::Chain::link(
                &original.via,
                hop_at(original.span, format!("`{text_was}` substituted by Flux")),
            );
            return Node::string(v.span, self.text).with_via(Some(via));
        }
        let mut via = original.via.clone();
        for (name, v) in &self.used {
            let value = v.scalar_text().unwrap_or_default();
            via = Some(crate::node::Chain::link(
                &via,
                hop_at(
                    v.span,
                    format!("`${{{name}}}` = `{value}` from {}", self.what),
                ),
            ));
        }
        Node::string(original.span, self.text).with_via(via)
    }
}

/// Flux's substitution (drone/envsubst as Flux runs it) of one string:
/// `${VAR}`, `${VAR:=default}`, `${VAR:-default}` (the default also replaces
/// an empty value), `${VAR=default}`, `${VAR-default}` (only a missing one); `$${VAR}` is the literal `${VAR}`; a bare `$VAR` is
/// left alone (Flux only substitutes the braced form, which is why its
/// documentation recommends `$VAR` in scripts). A variable without a value
/// and without a default is left as written: Flux (not in strict mode)
/// substitutes the empty string, but its value may come from a
/// `substituteFrom` source or a cluster-wide setting guard does not read,
/// so guard does not invent one. `None` when nothing was substituted.
pub fn substitute<'v>(s: &str, vars: &'v Vars) -> Option<Substituted<'v>> {
    let mut text = String::with_capacity(s.len());
    let mut used: Vec<(&'v str, &'v Node)> = Vec::new();
    let mut changed = false;
    let mut refs = 0usize;
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        text.push_str(&rest[..at]);
        let after = &rest[at..];
        if let Some(escaped) = after.strip_prefix("$${") {
            // `$${VAR}` is `${VAR}`, as written.
            text.push_str("${");
            rest = escaped;
            changed = true;
            continue;
        }
        let Some(body) = after.strip_prefix("${") else {
            text.push('$');
            rest = &after[1..];
            continue;
        };
        let Some(close) = body.find('}') else {
            text.push_str(after);
            rest = "";
            break;
        };
        let inner = &body[..close];
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        let (name, op) = inner.split_at(name_len);
        let default = op
            .strip_prefix(":=")
            .or_else(|| op.strip_prefix(":-"))
            .or_else(|| op.strip_prefix('='))
            .or_else(|| op.strip_prefix('-'));
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && (op.is_empty() || default.is_some());
        refs += 1;
        // A later entry of the same name wins, as a map's last key does.
        let value = vars.vars.iter().rev().find(|(k, _)| k == name);
        // `:-`/`:=` also replace a value that is empty, `-`/`=` only a missing one (bash).
        let empty_too = op.starts_with(':');
        let value = value.filter(|(_, v)| {
            !(empty_too && default.is_some() && v.scalar_text().is_some_and(|t| t.is_empty()))
        });
        match (valid, value, default) {
            (true, Some((k, v)), _) => {
                text.push_str(&v.scalar_text().unwrap_or_default());
                used.push((k.as_str(), v));
                changed = true;
            }
            (true, None, Some(d)) => {
                text.push_str(d);
                changed = true;
            }
            _ => text.push_str(&after[..close + 3]),
        }
        rest = &body[close + 1..];
    }
    text.push_str(rest);
    if !changed {
        return None;
    }
    let trimmed = s.trim();
    let whole = match used.as_slice() {
        [(_, v)]
            if refs == 1
                && trimmed.starts_with("${")
                && trimmed.ends_with('}')
                && trimmed.matches('$').count() == 1 =>
        {
            Some(*v)
        }
        _ => None,
    };
    Some(Substituted {
        text,
        used,
        whole,
        what: &vars.what,
    })
}

/// The key a list of this field merges by (strategic merge), if any.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "ports" => Some("containerPort"),
        _ => None,
    }
}

fn merge(base: &mut Node, patch: &Node, field: &str, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    match (&mut base.value, &patch.value) {
        (Value::Map(entries), Value::Map(pentries)) => {
            for pe in pentries {
                let Some(k) = pe.key_str() else { continue };
                if k.starts_with("$patch") || k.starts_with("$setElementOrder") {
                    continue;
                }
                if matches!(pe.value.value, Value::Null) {
                    entries.retain(|e| e.key_str() != Some(k));
                    continue;
                }
                match entries.iter_mut().find(|e| e.key_str() == Some(k)) {
                    Some(e) => {
                        // A value the patch replaces is the patch's, key and all: a finding on
                        // the key points at the patch. One it restates (a list item's merge
                        // key, `name: app`) stays the base's.
                        let replaced = !matches!(pe.value.value, Value::Map(_) | Value::Seq(_))
                            && e.value.scalar_text() != pe.value.scalar_text();
                        merge(&mut e.value, &pe.value, k, depth + 1);
                        if replaced {
                            e.key = pe.key.clone();
                        }
                    }
                    None => entries.push(pe.clone()),
                }
            }
        }
        (Value::Seq(items), Value::Seq(pitems)) if merge_key(field).is_some() => {
            let key = merge_key(field).unwrap_or("name");
            for pi in pitems {
                let pk = pi
                    .get(key)
                    .and_then(Node::scalar_text)
                    .map(|c| c.into_owned());
                let delete = pi.str_at(&["$patch"]) == Some("delete");
                let found = pk.as_ref().and_then(|pk| {
                    items.iter().position(|i| {
                        i.get(key).and_then(Node::scalar_text).as_deref() == Some(pk.as_str())
                    })
                });
                match (found, delete) {
                    (Some(i), true) => {
                        items.remove(i);
                    }
                    (Some(i), false) => {
                        if let Some(item) = items.get_mut(i) {
                            merge(item, pi, "", depth + 1);
                        }
                    }
                    (None, false) => items.push(pi.clone()),
                    (None, true) => {}
                }
            }
        }
        _ => *base = patch.clone(),
    }
}

fn get_mut<'a>(n: &'a mut Node, path: &[String]) -> Option<&'a mut Node> {
    let mut cur = n;
    for step in path {
        cur = match &mut cur.value {
            Value::Map(entries) => {
                &mut entries
                    .iter_mut()
                    .rev()
                    .find(|e| e.key_str() == Some(step))?
                    .value
            }
            Value::Seq(items) => items.get_mut(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn json6902(root: &mut Node, op: &Op) {
    let Some((last, parent_path)) = op.path.split_last() else {
        return;
    };
    let Some(parent) = get_mut(root, parent_path) else {
        return;
    };
    let span = parent.span;
    match (op.op.as_str(), &mut parent.value) {
        ("add" | "replace", Value::Map(entries)) => {
            let Some(v) = op.value.clone() else { return };
            match entries.iter_mut().find(|e| e.key_str() == Some(last)) {
                Some(e) => {
                    // The operation decides the field: a finding on its key points at it.
                    e.key = Node::string(v.span, last.clone());
                    e.value = v;
                }
                None if op.op == "add" => entries.push(Entry {
                    key: Node::string(v.span, last.clone()),
                    value: v,
                }),
                None => {}
            }
        }
        ("add", Value::Seq(items)) => {
            let Some(v) = op.value.clone() else { return };
            if last == "-" {
                items.push(v);
            } else if let Ok(i) = last.parse::<usize>()
                && i <= items.len()
            {
                items.insert(i, v);
            }
        }
        ("replace", Value::Seq(items)) => {
            if let (Some(v), Ok(i)) = (op.value.clone(), last.parse::<usize>())
                && let Some(slot) = items.get_mut(i)
            {
                *slot = v;
            }
        }
        ("remove", Value::Map(entries)) => entries.retain(|e| e.key_str() != Some(last)),
        ("remove", Value::Seq(items)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
    let _ = span;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Node {
        let f = SourceFile::new(FileId(0), "x.yaml".into(), "x.yaml".into(), text.into());
        crate::parse::yaml::parse(&f)
            .docs
            .into_iter()
            .next()
            .map(|d| d.root)
            .unwrap_or_else(|| Node::new(Span::new(FileId(0), 0, 0), Value::Null))
    }

    const BASE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: web\n          image: web:1.0\n          env:\n            - name: A\n              value: \"1\"\n        - name: sidecar\n          image: proxy:2\n";

    #[test]
    fn strategic_merge_merges_containers_and_env_by_name() {
        let base = yaml(BASE);
        let patch = from_doc(
            &yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: web\n          env:\n            - name: B\n              value: \"2\"\n        - name: sidecar\n          $patch: delete\n"),
            None,
        )
        .expect("patch");
        let Rendered::Patched(out) = apply(&base, &[patch]) else {
            panic!("applies")
        };
        let j = out.to_json();
        assert_eq!(j["spec"]["replicas"], 3);
        let cs = j["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers");
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0]["image"], "web:1.0");
        assert_eq!(cs[0]["env"][1]["name"], "B");
        // A patch for another resource does nothing.
        let other = from_doc(
            &yaml("kind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 9\n"),
            None,
        )
        .expect("patch");
        assert!(matches!(apply(&base, &[other]), Rendered::Unchanged));
        let delete = from_doc(
            &yaml("kind: Deployment\nmetadata:\n  name: web\n$patch: delete\n"),
            None,
        )
        .expect("patch");
        assert!(matches!(apply(&base, &[delete]), Rendered::Deleted));
    }

    #[test]
    fn json6902_operations_and_renames() {
        let base = yaml(BASE);
        let ops = from_doc(
            &yaml("- op: replace\n  path: /metadata/name\n  value: web-v2\n- op: add\n  path: /spec/template/spec/containers/0/env/-\n  value: {name: C, value: \"3\"}\n- op: remove\n  path: /spec/template/spec/containers/1\n- op: replace\n  path: /spec/template/spec/containers/0/image\n  value: web:2.0\n"),
            Some(Target { kind: Some("Deployment".into()), ..Target::default() }),
        )
        .expect("ops");
        let rename = Patch::Rename {
            prefix: "prod-".into(),
            suffix: "".into(),
        };
        let Rendered::Patched(out) = apply(&base, &[ops, rename]) else {
            panic!("applies")
        };
        let j = out.to_json();
        assert_eq!(j["metadata"]["name"], "prod-web-v2");
        let cs = j["spec"]["template"]["spec"]["containers"]
            .as_array()
            .expect("containers");
        assert_eq!(cs.len(), 1);
        assert_eq!(cs[0]["image"], "web:2.0");
        assert_eq!(cs[0]["env"][1]["name"], "C");
        assert!(glob_match("web.*", "web-v2") && !glob_match("api.*", "web"));
    }

    #[test]
    fn post_build_substitution_follows_flux() {
        let at = Span::new(FileId(0), 0, 1);
        let vars = Vars {
            vars: vec![
                ("TAG".into(), Node::string(at, "1.0")),
                ("TAG".into(), Node::string(at, "2.0")),
                ("EMPTY".into(), Node::string(at, "")),
            ],
            what: "test".into(),
        };
        let sub = |s: &str| substitute(s, &vars).map(|r| r.text);
        // A later entry wins; the braced form only.
        assert_eq!(sub("web:${TAG}").as_deref(), Some("web:2.0"));
        assert_eq!(sub("$TAG"), None);
        // Defaults when the variable has no value (`:-` also when it is empty, as bash).
        assert_eq!(sub("${NONE:=x}-${NONE:-y}").as_deref(), Some("x-y"));
        assert_eq!(sub("${EMPTY:-z}").as_deref(), Some("z"));
        assert_eq!(sub("<${EMPTY-z}>").as_deref(), Some("<>"));
        // Escaped, unknown, malformed: left as written.
        assert_eq!(sub("$${TAG}").as_deref(), Some("${TAG}"));
        assert_eq!(sub("${NONE}"), None);
        assert_eq!(sub("${TAG"), None);
        assert_eq!(sub("${1X}"), None);
        assert_eq!(sub("${TAG:?err}"), None);
        // The whole string as one variable is decided by its value.
        assert!(substitute("${TAG}", &vars).is_some_and(|r| r.whole.is_some()));
        assert!(substitute("a${TAG}", &vars).is_some_and(|r| r.whole.is_none()));
    }
}
