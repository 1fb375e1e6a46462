//! Traffic reaches a workload (article section 4, blue/green): in every
//! environment, a Service selects pods that exist there, an Ingress routes to
//! a Service (and port) that exists there, an autoscaler targets a workload
//! that exists there. These are facts about several files of one
//! environment, after Kustomize decided which environment renders what.

use super::{Family, Rule};
use crate::env::Env;
use crate::finding::{Finding, Severity};
use crate::model::{Doc, DocKind, Model};
use crate::node::Node;

const WORKLOADS: [&str; 9] = [
    "Deployment",
    "ReplicationController",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
    "Rollout",
];

/// A Kubernetes object with what these rules compare.
struct Obj<'m> {
    doc: &'m Doc,
    kind: &'m str,
    name: &'m str,
    namespace: Option<&'m str>,
    /// The environments it is deployed to; empty: all.
    envs: Vec<Env>,
    /// The project (nested git repository) its file belongs to.
    project: &'m str,
}

/// Objects by project and kind and name, so each check looks up its peers
/// instead of scanning every object (a monorepo has thousands of each).
/// Lists keep document order, so output does not depend on the index.
struct Index<'o> {
    by_name: crate::hash::HashMap<(&'o str, &'o str, &'o str), Vec<usize>>,
    by_kind: crate::hash::HashMap<(&'o str, &'o str), Vec<usize>>,
    /// Workloads by a pod label they carry: (project, key, value).
    by_label: crate::hash::HashMap<(&'o str, &'o str, String), Vec<usize>>,
}

impl<'o> Index<'o> {
    fn new(objs: &'o [Obj<'o>]) -> Self {
        let mut ix = Index {
            by_name: Default::default(),
            by_kind: Default::default(),
            by_label: Default::default(),
        };
        for (i, o) in objs.iter().enumerate() {
            ix.by_name
                .entry((o.project, o.kind, o.name))
                .or_default()
                .push(i);
            ix.by_kind.entry((o.project, o.kind)).or_default().push(i);
            if !WORKLOADS.contains(&o.kind) {
                continue;
            }
            let mut labels: Vec<(&str, String)> = pod_labels(o)
                .map(Node::entries)
                .unwrap_or(&[])
                .iter()
                .filter_map(|e| Some((e.key_str()?, e.value.scalar_text()?.into_owned())))
                .collect();
            if matches!(o.kind, "Job" | "CronJob") {
                // Kubernetes labels a Job's pods with its name.
                for k in ["job-name", "batch.kubernetes.io/job-name"] {
                    labels.push((k, o.name.to_string()));
                }
            }
            for (k, v) in labels {
                let list = ix.by_label.entry((o.project, k, v)).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        ix
    }

    fn named(&self, project: &'o str, kind: &'o str, name: &'o str) -> &[usize] {
        self.by_name
            .get(&(project, kind, name))
            .map_or(&[], Vec::as_slice)
    }

    fn of_kind(&self, project: &'o str, kind: &'o str) -> &[usize] {
        self.by_kind
            .get(&(project, kind))
            .map_or(&[], Vec::as_slice)
    }
}

/// API groups of Kubernetes itself: any other `apiVersion` is a custom
/// resource, whose operator creates pods and Services guard cannot see.
fn is_core_api(api: &str) -> bool {
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    group.is_empty()
        || matches!(
            group,
            "apps"
                | "batch"
                | "extensions"
                | "autoscaling"
                | "policy"
                | "networking.k8s.io"
                | "rbac.authorization.k8s.io"
                | "storage.k8s.io"
                | "scheduling.k8s.io"
                | "coordination.k8s.io"
                | "discovery.k8s.io"
                | "node.k8s.io"
                | "admissionregistration.k8s.io"
                | "certificates.k8s.io"
        )
}

/// Directories that hold custom resources: there an operator may make the
/// pods or Services a selector or a backend names, so nothing is certain.
fn operator_dirs(m: &Model) -> crate::hash::HashSet<String> {
    m.docs
        .iter()
        .filter(|d| matches!(d.kind, DocKind::Kubernetes { .. }))
        .filter(|d| {
            d.root
                .str_at(&["apiVersion"])
                .is_some_and(|a| !is_core_api(a))
        })
        .map(|d| crate::source::parent_dir(m.sources.path(d.file)).to_string())
        .collect()
}

/// Directories that hold custom resources or templates (not read): there an
/// operator or a template may make the pods or Services a selector or a
/// backend names, so nothing is certain.
fn uncertain_dirs(m: &Model) -> crate::hash::HashSet<String> {
    let mut dirs = operator_dirs(m);
    dirs.extend(
        m.diags
            .iter()
            .filter(|d| d.kind == crate::parse::DiagKind::Template)
            .map(|d| crate::source::parent_dir(m.sources.path(d.span.file)).to_string()),
    );
    dirs
}

fn in_operator_dir(m: &Model, dirs: &crate::hash::HashSet<String>, o: &Obj<'_>) -> bool {
    dirs.contains(crate::source::parent_dir(m.sources.path(o.doc.file)))
}

fn objects(m: &Model) -> Vec<Obj<'_>> {
    m.docs
        .iter()
        .filter_map(|d| {
            let DocKind::Kubernetes { kind, name } = &d.kind else {
                return None;
            };
            Some(Obj {
                doc: d,
                kind: kind.as_str(),
                name: name.as_deref()?,
                namespace: d.root.str_at(&["metadata", "namespace"]),
                envs: m.doc_envs(d),
                project: m.project_of(d.file),
            })
        })
        .collect()
}

/// Can two objects be deployed together: the same project, a shared
/// environment (or one of them in all), the same namespace when both say.
fn together(a: &Obj<'_>, b: &Obj<'_>, env: Option<Env>) -> bool {
    a.project == b.project
        && match env {
            None => true,
            Some(e) => b.envs.is_empty() || b.envs.contains(&e),
        }
        && match (a.namespace, b.namespace) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
}

/// The environments to judge an object in: each of its own, or "all".
fn judged_in(o: &Obj<'_>) -> Vec<Option<Env>> {
    if o.envs.is_empty() {
        vec![None]
    } else {
        o.envs.iter().copied().map(Some).collect()
    }
}

/// The labels of a workload's pods.
fn pod_labels<'m>(o: &Obj<'m>) -> Option<&'m Node> {
    match o.kind {
        "Pod" => o.doc.root.path(&["metadata", "labels"]),
        "CronJob" => o.doc.root.path(&[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "metadata",
            "labels",
        ]),
        _ => o.doc.root.path(&["spec", "template", "metadata", "labels"]),
    }
}

fn where_(env: Option<Env>) -> String {
    env.map(|e| format!(" in {e}")).unwrap_or_default()
}

pub static SERVICE_SELECTS_NOTHING: Rule = Rule {
    id: "TRF001",
    name: "service-selects-no-workload",
    family: Family::Traffic,
    severity: Severity::Error,
    summary: "A Service's selector matches no workload's pods in an environment it is deployed to",
    help: "make the selector match the labels of the pods that should get the traffic, in that environment",
    explanation: r#"**Why.** Blue/green deployment switches traffic by changing a Service's selector (the
article's section 4: `version: blue` to `version: green`). When the selector names pods that do
not exist in that environment, the Service has no endpoints: every request fails, and nothing in
the manifests says so until traffic is switched. guard knows which environment renders each
Service and each workload (paths, namespaces, Kustomize overlays), and checks, per environment,
that the selector matches the pod template labels of at least one Deployment, StatefulSet,
DaemonSet, ReplicaSet, Job, CronJob, Pod or Argo Rollout there (same project, same namespace
when both name one). Services without a selector (manually managed endpoints) and
`ExternalName` Services are not judged.

**How to fix.** Deploy the workload the selector names before switching, or switch the
selector to a workload that exists in that environment.

```yaml
# bad: prod has only the blue Deployment
spec:
  selector:
    app: myapp
    version: green
```
```yaml
# good
spec:
  selector:
    app: myapp
    version: blue
```
"#,
    security_severity: "5.0",
    tags: &["kubernetes", "traffic", "blue-green"],
    check: Some(check_services),
    tiers: None,
};

fn check_services(m: &Model, out: &mut Vec<Finding>) {
    let objs = objects(m);
    let index = Index::new(&objs);
    let operators = uncertain_dirs(m);
    for s in objs.iter().filter(|o| o.kind == "Service") {
        if in_operator_dir(m, &operators, s) {
            continue;
        }
        if s.doc.root.str_at(&["spec", "type"]) == Some("ExternalName") {
            continue;
        }
        let Some(selector) = s.doc.root.path(&["spec", "selector"]) else {
            continue;
        };
        let wanted: Vec<(&str, String)> = selector
            .entries()
            .iter()
            .filter_map(|e| Some((e.key_str()?, e.value.scalar_text()?.into_owned())))
            .collect();
        if wanted.is_empty() || wanted.len() != selector.entries().len() {
            continue; // empty or not plain strings: nothing certain to check
        }
        // Only workloads with at least one of the labels can match or be a
        // near miss: the label index gives them, in document order.
        let mut carriers: Vec<usize> = wanted
            .iter()
            .filter_map(|(k, v)| index.by_label.get(&(s.project, *k, v.clone())))
            .flatten()
            .copied()
            .collect();
        carriers.sort_unstable();
        carriers.dedup();
        for env in judged_in(s) {
            let candidates: Vec<&Obj<'_>> = carriers
                .iter()
                .map(|&i| &objs[i])
                .filter(|w| together(s, w, env))
                .collect();
            // How many of the selector's labels a workload's pods carry
            // (a Job's pods also carry `job-name`, set by Kubernetes).
            let matching = |w: &&Obj<'_>| {
                let labels = pod_labels(w);
                wanted
                    .iter()
                    .filter(|(k, v)| {
                        let auto = matches!(w.kind, "Job" | "CronJob")
                            && matches!(*k, "job-name" | "batch.kubernetes.io/job-name")
                            && v == w.name;
                        auto || labels
                            .and_then(|l| l.get(k))
                            .and_then(Node::scalar_text)
                            .is_some_and(|l| l == v.as_str())
                    })
                    .count()
            };
            if candidates.iter().any(|w| matching(w) == wanted.len()) {
                continue;
            }
            // Only a near miss is certain: a workload with some of the labels
            // (the blue/green switch to a colour that is not deployed). A
            // selector nothing resembles may name pods made elsewhere.
            let mut near: Vec<&&Obj<'_>> = candidates.iter().filter(|w| matching(w) > 0).collect();
            if near.is_empty() {
                continue;
            }
            near.sort_by_key(|w| std::cmp::Reverse(matching(w)));
            let shown: Vec<String> = wanted.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            // Point at the label the nearest workload lacks (`version: green`).
            let nearest_labels = near.first().and_then(|w| pod_labels(w));
            let at = selector
                .entries()
                .iter()
                .find(|e| {
                    let (Some(k), Some(v)) = (e.key_str(), e.value.scalar_text()) else {
                        return false;
                    };
                    nearest_labels
                        .and_then(|l| l.get(k))
                        .and_then(Node::scalar_text)
                        .is_none_or(|l| l != v)
                })
                .map_or(selector.span, |e| e.key.span.to(e.value.span));
            let mut f = SERVICE_SELECTS_NOTHING
                .finding(
                    at,
                    format!(
                        "Service `{}` selects `{}`, but no workload{} has pods with those labels: it has no endpoints",
                        s.name,
                        shown.join(", "),
                        where_(env)
                    ),
                )
                .env(env);
            for w in near.iter().take(3) {
                if let Some(l) = pod_labels(w) {
                    f = f.related(
                        l.span,
                        format!("{} `{}` has these pod labels", w.kind, w.name),
                    );
                }
            }
            out.push(f);
        }
    }
}

pub static INGRESS_BACKEND_MISSING: Rule = Rule {
    id: "TRF002",
    name: "ingress-backend-missing",
    family: Family::Traffic,
    severity: Severity::Error,
    summary: "An Ingress routes to a Service, or a Service port, that does not exist in an environment it is deployed to",
    help: "point the backend at a Service (and a port of it) that the same environment deploys",
    explanation: r#"**Why.** An Ingress backend names a Service by name and a port by number or name; a typo,
or a Service renamed or deployed only to another environment, makes the route answer 503. The
article's own blue/green Ingress routes to `service-blue` while its Service is named
`myapp-service` (section 4). guard checks, per environment, that each backend's Service exists
there (same project, same namespace when both name one) and has the port.

**How to fix.** Name the Service (and one of its ports) that the environment deploys.

```yaml
# bad
backend:
  service:
    name: service-blue
    port:
      number: 80
```
```yaml
# good
backend:
  service:
    name: myapp-service
    port:
      number: 80
```
"#,
    security_severity: "5.0",
    tags: &["kubernetes", "traffic", "blue-green"],
    check: Some(check_ingresses),
    tiers: None,
};

/// Every backend of an Ingress: (service name node, port node).
fn backends(ing: &Node) -> Vec<(&Node, Option<&Node>)> {
    fn add<'a>(b: &'a Node, out: &mut Vec<(&'a Node, Option<&'a Node>)>) {
        if let Some(name) = b.path(&["service", "name"]) {
            let port = b
                .path(&["service", "port", "number"])
                .or_else(|| b.path(&["service", "port", "name"]));
            out.push((name, port));
        } else if let Some(name) = b.get("serviceName") {
            out.push((name, b.get("servicePort")));
        }
    }
    let mut out = Vec::new();
    if let Some(b) = ing
        .path(&["spec", "defaultBackend"])
        .or_else(|| ing.path(&["spec", "backend"]))
    {
        add(b, &mut out);
    }
    for rule in ing
        .path(&["spec", "rules"])
        .map(Node::as_seq)
        .unwrap_or(&[])
    {
        for p in rule
            .path(&["http", "paths"])
            .map(Node::as_seq)
            .unwrap_or(&[])
        {
            if let Some(b) = p.get("backend") {
                add(b, &mut out);
            }
        }
    }
    out
}

fn check_ingresses(m: &Model, out: &mut Vec<Finding>) {
    let objs = objects(m);
    let index = Index::new(&objs);
    let operators = uncertain_dirs(m);
    for ing in objs.iter().filter(|o| o.kind == "Ingress") {
        if in_operator_dir(m, &operators, ing) {
            continue;
        }
        for (name_node, port) in backends(&ing.doc.root) {
            let Some(name) = name_node.as_str() else {
                continue;
            };
            for env in judged_in(ing) {
                let deployed = |s: &&Obj<'_>| together(ing, s, env);
                // Same-named Services, the one nearest the Ingress first.
                let ing_dir = crate::source::parent_dir(m.sources.path(ing.doc.file));
                let mut named: Vec<&Obj<'_>> = index
                    .named(ing.project, "Service", name)
                    .iter()
                    .map(|&i| &objs[i])
                    .filter(deployed)
                    .collect();
                named.sort_by_key(|s| {
                    crate::source::parent_dir(m.sources.path(s.doc.file)) != ing_dir
                });
                let Some(svc) = named.first().copied() else {
                    let mut f = INGRESS_BACKEND_MISSING
                        .finding(
                            name_node.span,
                            format!(
                                "Ingress `{}` routes to Service `{name}`, which is not deployed{}: the route answers 503",
                                ing.name,
                                where_(env)
                            ),
                        )
                        .env(env);
                    let services = index.of_kind(ing.project, "Service").iter();
                    for s in services.map(|&i| &objs[i]).filter(deployed).take(3) {
                        if let Some(n) = s.doc.root.path(&["metadata", "name"]) {
                            f = f.related(n.span, format!("Service `{}` is", s.name));
                        }
                    }
                    out.push(f);
                    continue;
                };
                let port_node = port;
                let Some(port) = port.and_then(|p| p.scalar_text()) else {
                    continue;
                };
                let ports_of = |s: &Obj<'_>| -> Vec<String> {
                    s.doc
                        .root
                        .path(&["spec", "ports"])
                        .map(Node::as_seq)
                        .unwrap_or(&[])
                        .iter()
                        .flat_map(|p| {
                            ["port", "name"].map(|k| p.get(k).and_then(Node::scalar_text))
                        })
                        .flatten()
                        .map(|v| v.into_owned())
                        .collect()
                };
                let has = named.iter().any(|s| {
                    let ports = ports_of(s);
                    ports.is_empty() || ports.iter().any(|v| v == port.as_ref())
                });
                if !has {
                    let span = port_node.map_or(name_node.span, |p| p.span);
                    out.push(
                        INGRESS_BACKEND_MISSING
                            .finding(
                                span,
                                format!(
                                    "Ingress `{}` routes to port `{port}` of Service `{name}`, which has no such port{}",
                                    ing.name,
                                    where_(env)
                                ),
                            )
                            .env(env)
                            .related(
                                svc.doc.root.path(&["spec", "ports"]).map_or(svc.doc.root.span, |p| p.span),
                                format!("the ports of Service `{name}`"),
                            ),
                    );
                }
            }
        }
    }
}

pub static AUTOSCALER_TARGET_MISSING: Rule = Rule {
    id: "TRF003",
    name: "autoscaler-target-missing",
    family: Family::Traffic,
    severity: Severity::Error,
    summary: "A HorizontalPodAutoscaler targets a workload that is not deployed in an environment it is deployed to",
    help: "point scaleTargetRef at the kind and name of a workload the same environment deploys",
    explanation: r#"**Why.** The article scales prod with autoscaling (sections 3 and 4); a
HorizontalPodAutoscaler whose `scaleTargetRef` names a workload that does not exist in that
environment (renamed, or deployed only to another environment) scales nothing, and prod runs at
whatever replica count the Deployment says, which is usually the minimum. guard checks, per
environment, that the target's kind and name exist there.

**How to fix.** Name the workload the environment deploys.

```yaml
# bad: the Deployment is called web
scaleTargetRef:
  apiVersion: apps/v1
  kind: Deployment
  name: web-app
```
```yaml
# good
scaleTargetRef:
  apiVersion: apps/v1
  kind: Deployment
  name: web
```
"#,
    security_severity: "4.0",
    tags: &["kubernetes", "traffic", "autoscaling"],
    check: Some(check_autoscalers),
    tiers: None,
};

fn check_autoscalers(m: &Model, out: &mut Vec<Finding>) {
    let objs = objects(m);
    let index = Index::new(&objs);
    let operators = uncertain_dirs(m);
    for hpa in objs.iter().filter(|o| o.kind == "HorizontalPodAutoscaler") {
        if in_operator_dir(m, &operators, hpa) {
            continue;
        }
        let Some(target) = hpa.doc.root.path(&["spec", "scaleTargetRef"]) else {
            continue;
        };
        let (Some(kind), Some(name_node)) = (target.str_at(&["kind"]), target.get("name")) else {
            continue;
        };
        let Some(name) = name_node.as_str() else {
            continue;
        };
        for env in judged_in(hpa) {
            let found = index
                .named(hpa.project, kind, name)
                .iter()
                .any(|&i| together(hpa, &objs[i], env));
            if !found {
                out.push(
                    AUTOSCALER_TARGET_MISSING
                        .finding(
                            name_node.span,
                            format!(
                                "HorizontalPodAutoscaler `{}` scales {kind} `{name}`, which is not deployed{}: it scales nothing",
                                hpa.name,
                                where_(env)
                            ),
                        )
                        .env(env),
                );
            }
        }
    }
}

pub static RULES: &[&Rule] = &[
    &SERVICE_SELECTS_NOTHING,
    &INGRESS_BACKEND_MISSING,
    &AUTOSCALER_TARGET_MISSING,
];
