//! The workload baseline (article sections 3 and 4): what every workload
//! needs to run reliably, strict in prod and quiet in dev. A finding is a
//! warning where the workload reaches a staging- or prod-tier environment
//! (or every environment), a note where it runs in dev only.

use super::{Family, Rule};
use crate::env::{Env, Tier};
use crate::finding::{Finding, Severity};
use crate::model::{Doc, DocKind, Model};
use crate::node::Node;

/// Warning unless the place is deployed to dev-tier environments only.
fn severity_for(envs: &[Env]) -> Severity {
    if !envs.is_empty() && envs.iter().all(|e| e.tier() == Tier::Dev) {
        Severity::Note
    } else {
        Severity::Warning
    }
}

/// The long-running workloads (a Job or a Pod of a test is not judged).
const LONG_RUNNING: [&str; 4] = ["Deployment", "StatefulSet", "DaemonSet", "Rollout"];

/// Files a kustomization applies as patches (`patchesStrategicMerge`,
/// `patches: - path:`): partial manifests, not workloads of their own.
pub(crate) fn patch_files(m: &Model) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for k in m.docs.iter().filter(|d| d.kind == DocKind::Kustomization) {
        let dir = crate::source::parent_dir(m.sources.path(k.file));
        let mut add = |rel: &str| {
            if let Some(p) = crate::source::join_path(dir, rel) {
                out.insert(p);
            }
        };
        for n in k
            .root
            .get("patchesStrategicMerge")
            .map(Node::as_seq)
            .unwrap_or(&[])
        {
            if let Some(s) = n.as_str() {
                add(s);
            }
        }
        for n in k.root.get("patches").map(Node::as_seq).unwrap_or(&[]) {
            if let Some(s) = n.as_str().or_else(|| n.str_at(&["path"])) {
                add(s);
            }
        }
    }
    out
}

/// (doc, kind, name, containers) of every long-running Kubernetes workload
/// (a kustomization's patch files are partial manifests: not judged).
fn workloads(m: &Model) -> impl Iterator<Item = (&Doc, &str, &str, &[Node])> {
    let patches = patch_files(m);
    m.docs.iter().filter_map(move |d| {
        if patches.contains(m.sources.path(d.file)) {
            return None;
        }
        let DocKind::Kubernetes { kind, name } = &d.kind else {
            return None;
        };
        if !LONG_RUNNING.contains(&kind.as_str()) {
            return None;
        }
        let containers = d.root.path(&["spec", "template", "spec", "containers"])?;
        Some((
            d,
            kind.as_str(),
            name.as_deref().unwrap_or("?"),
            containers.as_seq(),
        ))
    })
}

pub static MISSING_PROBES: Rule = Rule {
    id: "WL001",
    name: "missing-probes",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "A long-running container has no readiness or no liveness probe",
    help: "add a readinessProbe (traffic only to ready pods) and a livenessProbe (restart a stuck process)",
    explanation: r#"**Why.** The article's rolling and blue/green deployments (section 4) rely on Kubernetes
knowing when a pod is ready and when it is stuck: without a `readinessProbe`, a Service sends
traffic to a pod as soon as its process starts, before it can answer; without a
`livenessProbe`, a deadlocked process keeps its pod "Running" forever. A rollout then reports
success while users get errors.

guard reports each container of a Deployment, StatefulSet, DaemonSet or Argo Rollout that lacks
either probe: a warning where the workload reaches staging or prod (or every environment), a
note where it runs in dev only.

**How to fix.** Add both probes (a `startupProbe` too for slow starters).

```yaml
# bad
containers:
  - name: app
    image: registry.example.com/app:1.4.2
```
```yaml
# good
containers:
  - name: app
    image: registry.example.com/app:1.4.2
    readinessProbe:
      httpGet: { path: /healthz/ready, port: 8080 }
    livenessProbe:
      httpGet: { path: /healthz/live, port: 8080 }
```
"#,
    security_severity: "3.0",
    tags: &["workload", "kubernetes", "reliability"],
    check: Some(check_probes),
    tiers: None,
};

/// One finding per container of every long-running workload for which
/// `judge` says what is missing (where to report it, and what), at the
/// severity the workload's environments call for.
fn per_container(
    m: &Model,
    rule: &'static Rule,
    out: &mut Vec<Finding>,
    judge: impl Fn(&Node) -> Option<(crate::source::Span, String)>,
) {
    for (doc, kind, name, containers) in workloads(m) {
        let envs = m.envs_at(doc.root.span);
        for c in containers {
            let Some((at, what)) = judge(c) else { continue };
            let cname = c.str_at(&["name"]).unwrap_or("?");
            let mut f = rule
                .finding(at, format!("container `{cname}` of {kind}/{name} {what}"))
                .envs(envs.iter().copied());
            f.severity = severity_for(&envs);
            out.push(f);
        }
    }
}

fn check_probes(m: &Model, out: &mut Vec<Finding>) {
    per_container(m, &MISSING_PROBES, out, |c| {
        let missing: Vec<String> = ["readinessProbe", "livenessProbe"]
            .into_iter()
            .filter(|p| c.get(p).is_none())
            .map(|p| format!("`{p}`"))
            .collect();
        if missing.is_empty() {
            return None;
        }
        let at = c.entry("name").map_or(c.span, |e| e.key.span);
        Some((at, format!("has no {}", missing.join(" and no "))))
    });
}

pub static MISSING_RESOURCES: Rule = Rule {
    id: "WL002",
    name: "missing-resource-requests-limits",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "A long-running container sets no CPU/memory requests or no memory limit",
    help: "set resources.requests (cpu, memory) and resources.limits.memory",
    explanation: r#"**Why.** The scheduler places pods by their requests; a container without them is
"BestEffort": first to be evicted under pressure, and free to starve its neighbours. Without a
memory limit a leak takes the whole node down with it. The article sizes each environment
differently (section 3: dev small, prod large), which only works when the sizes are written
down, per environment, in the manifests or their overlays.

guard reports each container of a Deployment, StatefulSet, DaemonSet or Argo Rollout that has
no `resources.requests.cpu`, no `resources.requests.memory` or no `resources.limits.memory`: a
warning where the workload reaches staging or prod (or every environment), a note in dev only.

**How to fix.** Set requests and a memory limit (per environment through an overlay patch if
the sizes differ).

```yaml
# bad
containers:
  - name: app
    image: registry.example.com/app:1.4.2
```
```yaml
# good
containers:
  - name: app
    image: registry.example.com/app:1.4.2
    resources:
      requests: { cpu: 250m, memory: 256Mi }
      limits: { memory: 512Mi }
```
"#,
    security_severity: "3.0",
    tags: &["workload", "kubernetes", "reliability"],
    check: Some(check_resources),
    tiers: None,
};

fn check_resources(m: &Model, out: &mut Vec<Finding>) {
    per_container(m, &MISSING_RESOURCES, out, |c| {
        let missing: Vec<String> = [
            ["requests", "cpu"],
            ["requests", "memory"],
            ["limits", "memory"],
        ]
        .into_iter()
        .filter(|[a, b]| c.path(&["resources", a, b]).is_none())
        .map(|[a, b]| format!("{a}.{b}"))
        .collect();
        if missing.is_empty() {
            return None;
        }
        let at = c
            .entry("resources")
            .or_else(|| c.entry("name"))
            .map_or(c.span, |e| e.key.span);
        Some((
            at,
            format!("sets no resources.{}", missing.join(", no resources.")),
        ))
    });
}

pub static PROD_INGRESS_WITHOUT_TLS: Rule = Rule {
    id: "WL003",
    name: "prod-ingress-without-tls",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "An Ingress that reaches prod terminates no TLS",
    help: "add spec.tls with the hosts and a certificate Secret (or the load balancer's certificate annotation)",
    explanation: r#"**Why.** Production traffic is encrypted in transit: the article's prod Ingress serves
`https` (section 4), with a certificate. An Ingress without `spec.tls` serves plain HTTP unless
something outside the manifest terminates TLS; guard accepts the common ways to say so: `spec.tls`,
an AWS Load Balancer Controller certificate (`alb.ingress.kubernetes.io/certificate-arn`), or a
cert-manager issuer annotation. It judges Ingresses that reach a prod-tier environment.

**How to fix.** Add `tls` (or the certificate annotation of your controller).

```yaml
# bad
spec:
  rules:
    - host: app.example.com
```
```yaml
# good
spec:
  tls:
    - hosts: [app.example.com]
      secretName: app-tls
  rules:
    - host: app.example.com
```
"#,
    security_severity: "5.5",
    tags: &["workload", "kubernetes", "tls"],
    check: Some(check_ingress_tls),
    tiers: None,
};

fn check_ingress_tls(m: &Model, out: &mut Vec<Finding>) {
    for doc in &m.docs {
        let DocKind::Kubernetes { kind, name } = &doc.kind else {
            continue;
        };
        if kind != "Ingress" {
            continue;
        }
        let envs = m.envs_at(doc.root.span);
        let prod: Vec<Env> = envs.iter().copied().filter(|e| e.is_prod()).collect();
        if prod.is_empty() {
            continue;
        }
        if doc.root.path(&["spec", "tls"]).is_some() {
            continue;
        }
        let annotated = doc
            .root
            .path(&["metadata", "annotations"])
            .map(Node::entries)
            .unwrap_or(&[])
            .iter()
            .filter_map(|e| e.key_str())
            .any(|k| {
                k.ends_with("/certificate-arn")
                    || k.starts_with("cert-manager.io/")
                    || k.ends_with("/ssl-cert")
                    || k == "kubernetes.io/tls-acme"
            });
        if annotated {
            continue;
        }
        let at = doc.root.entry("spec").map_or(doc.root.span, |e| e.key.span);
        out.push(
            PROD_INGRESS_WITHOUT_TLS
                .finding(
                    at,
                    format!(
                        "Ingress `{}` reaches {} but terminates no TLS: no spec.tls and no certificate annotation",
                        name.as_deref().unwrap_or("?"),
                        prod.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .envs(prod),
        );
    }
}

pub static DOCKERFILE_ROOT: Rule = Rule {
    id: "WL004",
    name: "dockerfile-runs-as-root",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "A Dockerfile's final stage runs as root: no USER, or USER root",
    help: "add `USER <non-root user>` (a name or a UID other than 0) to the final stage",
    explanation: r#"**Why.** The image built once is the image every environment runs (article section 2);
if it runs as root, every container of it in every environment runs as root: an escape from the
process is an escape with root's rights, and Kubernetes' `runAsNonRoot` admission refuses it in
clusters that enforce the restricted profile. guard reads the final stage of each Dockerfile
(the last `FROM`) and reports it when no `USER` is set there, or the last `USER` is `root`/`0`.

**How to fix.** Create or pick an unprivileged user and switch to it last.

```dockerfile
# bad
FROM node:18-alpine
COPY . /app
CMD ["node", "/app/server.js"]
```
```dockerfile
# good
FROM node:18-alpine
COPY --chown=node:node . /app
USER node
CMD ["node", "/app/server.js"]
```
"#,
    security_severity: "5.0",
    tags: &["workload", "dockerfile", "security"],
    check: Some(check_dockerfile_user),
    tiers: None,
};

/// A stage of a Dockerfile: its name (`AS x`), what it starts from, and the
/// last `USER` it sets (with the instruction).
struct Stage<'a> {
    name: Option<String>,
    from: &'a Node,
    base: String,
    user: Option<(&'a Node, String)>,
}

fn stages(ins: &[Node]) -> Vec<Stage<'_>> {
    let mut out: Vec<Stage<'_>> = Vec::new();
    for i in ins {
        match i.str_at(&["Cmd"]) {
            Some("from") => {
                let words: Vec<&str> = i
                    .get("Value")
                    .map(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                let name = match words.as_slice() {
                    [_, as_, n, ..] if as_.eq_ignore_ascii_case("as") => {
                        Some(n.to_ascii_lowercase())
                    }
                    _ => None,
                };
                out.push(Stage {
                    name,
                    from: i,
                    base: words
                        .first()
                        .map_or(String::new(), |w| w.to_ascii_lowercase()),
                    user: None,
                });
            }
            Some("user") => {
                if let Some(st) = out.last_mut() {
                    let v = i
                        .get("Value")
                        .and_then(|v| v.as_seq().first())
                        .and_then(Node::as_str)
                        .map(|v| v.split(':').next().unwrap_or(v).to_string())
                        .unwrap_or_default();
                    st.user = Some((i, v));
                }
            }
            _ => {}
        }
    }
    out
}

/// Base images that run as a non-root user by default.
fn non_root_base(image: &str) -> bool {
    image.contains("nonroot") || image.starts_with("cgr.dev/chainguard/")
}

fn check_dockerfile_user(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Dockerfile) {
        let all = stages(doc.root.as_seq());
        let Some(last) = all.last() else { continue };
        // The user in effect: the final stage's own, else the stage it
        // builds on (`FROM base AS final`), and so on.
        let mut at = all.len() - 1;
        let mut user = all[at].user.as_ref();
        while user.is_none() {
            let base = all[at].base.as_str();
            match all[..at]
                .iter()
                .rposition(|s| s.name.as_deref() == Some(base))
            {
                Some(parent) => {
                    at = parent;
                    user = all[at].user.as_ref();
                }
                None => break,
            }
        }
        let stage = &all[at];
        if user.is_none() && (non_root_base(&stage.base) || stage.base.contains("${")) {
            continue;
        }
        let envs = m.envs_at(doc.root.span);
        let (span, what) = match user {
            Some((u, v)) if v == "root" || v == "0" => (u.span, "switches to `root`".to_string()),
            Some(_) => continue,
            None => (
                last.from.span,
                "sets no USER, so it runs as root".to_string(),
            ),
        };
        let mut f = DOCKERFILE_ROOT
            .finding(span, format!("the final stage of this Dockerfile {what}"))
            .envs(envs.iter().copied());
        f.severity = severity_for(&envs);
        out.push(f);
    }
}

pub static RULES: &[&Rule] = &[
    &MISSING_PROBES,
    &MISSING_RESOURCES,
    &PROD_INGRESS_WITHOUT_TLS,
    &DOCKERFILE_ROOT,
];
