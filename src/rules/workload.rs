//! The workload baseline (article sections 3 and 4): what every workload
//! needs to run reliably, strict in prod and quiet in dev. A finding is a
//! warning where the workload reaches a staging- or prod-tier environment
//! (or every environment), a note where it runs in dev only.

use super::{Family, Rule};
use crate::env::{Env, Tier};
use crate::finding::{Finding, Severity};
use crate::model::dockerfile::stages;
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
pub(crate) fn patch_files(m: &Model) -> crate::hash::HashSet<String> {
    let mut out = crate::hash::HashSet::default();
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
        let envs = m.doc_envs(doc);
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
        let envs = m.doc_envs(doc);
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
        let envs = m.doc_envs(doc);
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

/// Findings grouped by where they are reported: the environments each
/// holds in (empty: all), and what to say.
#[derive(Default)]
struct Grouped {
    by_span: std::collections::BTreeMap<crate::source::Span, (Option<Vec<Env>>, String)>,
    /// How the value reached where it is reported (Terraform variables).
    via: std::collections::BTreeMap<crate::source::Span, crate::node::Via>,
}

impl Grouped {
    /// Record a hit in `env` (None: every environment).
    fn add(
        &mut self,
        span: crate::source::Span,
        env: Option<Env>,
        message: impl FnOnce() -> String,
    ) {
        let slot = self
            .by_span
            .entry(span)
            .or_insert_with(|| (Some(Vec::new()), message()));
        match (&mut slot.0, env) {
            (Some(v), Some(e)) => {
                if !v.contains(&e) {
                    v.push(e);
                }
            }
            (s, None) => *s = None,
            (None, Some(_)) => {}
        }
    }

    /// One finding per place, at the severity its environments call for
    /// (`tiered`) or the rule's own.
    fn emit(self, rule: &'static Rule, tiered: bool, out: &mut Vec<Finding>) {
        for (span, (envs, message)) in self.by_span {
            let mut envs = envs.unwrap_or_default();
            envs.sort();
            let mut f = rule.finding(span, message).envs(envs.iter().copied());
            if let Some(via) = self.via.get(&span) {
                f = f.via(via);
            }
            if tiered {
                f.severity = severity_for(&envs);
            }
            out.push(f);
        }
    }
}

pub static PROD_SINGLE_REPLICA: Rule = Rule {
    id: "WL005",
    name: "prod-single-replica",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "A Deployment or StatefulSet runs fewer than 2 replicas in prod, and no autoscaler keeps 2",
    help: "set spec.replicas to 2 or more in the prod overlay, or an HPA with minReplicas >= 2",
    explanation: r#"**Why.** Production has redundancy: the article sizes prod for availability (section 3:
several replicas spread over availability zones, an autoscaler with a floor), while dev runs one
of each to save money. A prod workload with a single pod is down whenever that pod is: during
every rollout that cannot surge, every node drain, every eviction, every crash loop.

guard resolves the replica count each prod-tier environment really gets: the manifest's
`spec.replicas` (1 when absent), then the Kustomize overlays that render it (`replicas:` entries
and patches that set `spec.replicas`, innermost first). It reports a Deployment or StatefulSet
left below 2 in prod unless a HorizontalPodAutoscaler targets it with `minReplicas` of 2 or
more. The finding is at the `replicas` line that decided (the base's, or the patch's), or at
the workload's `kind` when no line sets it. Dev and staging may run one replica.

**How to fix.** Raise the count in the prod overlay (the base may keep 1), or let an HPA keep
a floor of 2.

```yaml
# overlays/prod/kustomization.yaml — bad: the base's replicas: 1 reaches prod
resources: [../../base]
```
```yaml
# overlays/prod/kustomization.yaml — good
resources: [../../base]
replicas:
  - name: api
    count: 3
```
"#,
    security_severity: "4.0",
    tags: &["workload", "kubernetes", "reliability", "availability"],
    check: Some(check_replicas),
    tiers: None,
};

fn check_replicas(m: &Model, out: &mut Vec<Finding>) {
    // (target kind, target name, minReplicas, environments) of every HPA.
    let hpas: Vec<(&str, &str, f64, Vec<Env>)> = m
        .docs
        .iter()
        .filter(|d| matches!(&d.kind, DocKind::Kubernetes { kind, .. } if kind == "HorizontalPodAutoscaler"))
        .filter_map(|d| {
            let target = d.root.path(&["spec", "scaleTargetRef"])?;
            let min = d
                .root
                .path(&["spec", "minReplicas"])
                .map_or(Some(1.0), Node::as_f64)?;
            Some((
                target.str_at(&["kind"])?,
                target.str_at(&["name"])?,
                min,
                m.doc_envs(d),
            ))
        })
        .collect();
    let patches = patch_files(m);
    let mut found = Grouped::default();
    for doc in &m.docs {
        let DocKind::Kubernetes {
            kind,
            name: Some(name),
        } = &doc.kind
        else {
            continue;
        };
        if !matches!(kind.as_str(), "Deployment" | "StatefulSet")
            || patches.contains(m.sources.path(doc.file))
        {
            continue;
        }
        let base = doc.root.path(&["spec", "replicas"]);
        // (environment, count, what set it) of each rendering.
        let renderings: Vec<(Option<Env>, Option<&Node>, Option<String>)> =
            if doc.overlays.is_empty() {
                vec![(doc.assignment.env, base, None)]
            } else {
                doc.overlays
                    .iter()
                    .map(|o| {
                        let env = if doc.assignment.env.is_none() || o.env.is_some() {
                            o.env.or(doc.assignment.env)
                        } else {
                            doc.assignment.env
                        };
                        match o.replicas_for(kind, name) {
                            Some(r) => (env, Some(&r.count), Some(r.what.clone())),
                            None => (
                                env,
                                base,
                                Some(format!(
                                    "the base, which {} leaves as it is",
                                    o.kustomization
                                )),
                            ),
                        }
                    })
                    .collect()
            };
        for (env, count, what) in renderings {
            let Some(env) = env.filter(|e| e.is_prod()) else {
                continue;
            };
            let n = match count {
                None => 1.0,
                Some(c) => match c.as_f64() {
                    Some(n) => n,
                    None => continue, // a placeholder: decided elsewhere
                },
            };
            if n >= 2.0 {
                continue;
            }
            let held = hpas.iter().any(|(k, t, min, envs)| {
                k == kind && t == name && *min >= 2.0 && (envs.is_empty() || envs.contains(&env))
            });
            if held {
                continue;
            }
            let at = count.map_or_else(
                || doc.root.entry("kind").map_or(doc.root.span, |e| e.key.span),
                |c| c.span,
            );
            found.add(at, Some(env), || {
                let how = match (count, &what) {
                    (None, Some(w)) => format!("no replicas set by {w}, so Kubernetes runs 1"),
                    (None, None) => "no replicas set, so Kubernetes runs 1".to_string(),
                    (Some(_), Some(w)) => format!("replicas: {n} set by {w}"),
                    (Some(_), None) => format!("replicas: {n}"),
                };
                format!(
                    "{kind}/{name} runs a single pod in prod ({how}) and no HorizontalPodAutoscaler keeps 2 or more: losing that pod is an outage"
                )
            });
        }
    }
    found.emit(&PROD_SINGLE_REPLICA, false, out);
}

pub static ECS_NO_LOGGING: Rule = Rule {
    id: "WL006",
    name: "ecs-container-without-logging",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "An ECS container definition has no logConfiguration",
    help: "add logConfiguration (logDriver awslogs with a log group, or awsfirelens)",
    explanation: r#"**Why.** A container's output is how you learn what it did: the article's ECS task
definition sends every container's stdout and stderr to CloudWatch Logs through the `awslogs`
driver (section 4, `"logConfiguration": { "logDriver": "awslogs", ... }`), one log group per
environment. Without `logConfiguration` a Fargate task's output is discarded: a crash in prod
leaves nothing to read.

guard reports each container definition without `logConfiguration`, wherever it is written:
task definition JSON, Terraform `aws_ecs_task_definition.container_definitions` (evaluated per
environment, `jsonencode` or a JSON string), and CloudFormation `AWS::ECS::TaskDefinition`
`ContainerDefinitions` (`LogConfiguration`). A warning where the task reaches staging or prod
(or every environment), a note in dev only.

**How to fix.** Add a log configuration to every container.

```json
{ "name": "app", "image": "registry.example.com/app:1.4.2" }
```
```json
{ "name": "app", "image": "registry.example.com/app:1.4.2",
  "logConfiguration": { "logDriver": "awslogs",
    "options": { "awslogs-group": "/ecs/prod/app", "awslogs-region": "ap-northeast-1",
                 "awslogs-stream-prefix": "ecs" } } }
```
"#,
    security_severity: "3.5",
    tags: &["workload", "ecs", "logging", "cloudformation", "terraform"],
    check: Some(check_ecs_logging),
    tiers: None,
};

fn check_ecs_logging(m: &Model, out: &mut Vec<Finding>) {
    let mut found = Grouped::default();
    for c in &m.containers {
        if c.logging != Some(false) {
            continue;
        }
        found.add(c.decl, c.env, || {
            format!(
                "{} sets no logConfiguration: its output goes nowhere (no CloudWatch Logs), so a failure leaves nothing to read",
                c.describe()
            )
        });
    }
    found.emit(&ECS_NO_LOGGING, true, out);
}

pub static PROD_MIN_CAPACITY: Rule = Rule {
    id: "WL007",
    name: "prod-autoscaling-min-below-2",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "A prod ECS service's Application Auto Scaling minimum capacity is below 2",
    help: "set the scalable target's minimum capacity to 2 or more in prod",
    explanation: r#"**Why.** Production has redundancy. The article scales its ECS service with Application
Auto Scaling (`ecs-auto-scaling.yml`: a `ScalableTarget` with `MinCapacity`, a target-tracking
policy on CPU); the minimum is the floor the service never scales below. A prod floor of 1
means that at quiet hours the service is one task: its failure, or the replacement of its
host, is an outage until a new task starts. Dev may scale to 1 (or 0) to save money.

guard reads Terraform `aws_appautoscaling_target` (`min_capacity`, evaluated per environment:
a value from prod's tfvars is judged in prod) and CloudFormation
`AWS::ApplicationAutoScaling::ScalableTarget` (`MinCapacity`, a number or a `!Ref` to a
parameter's `Default`) whose namespace is `ecs`, in prod-tier environments.

**How to fix.** Keep at least 2 tasks in prod.

```hcl
# environments/prod/terraform.tfvars — bad
min_capacity = 1
```
```hcl
# environments/prod/terraform.tfvars — good
min_capacity = 2
```
"#,
    security_severity: "4.0",
    tags: &[
        "workload",
        "ecs",
        "reliability",
        "availability",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_min_capacity),
    tiers: None,
};

fn check_min_capacity(m: &Model, out: &mut Vec<Finding>) {
    let mut found = Grouped::default();
    for root in &m.terraform.roots {
        let Some(env) = root.assignment.env.filter(|e| e.is_prod()) else {
            continue;
        };
        for r in root.resources_of("aws_appautoscaling_target") {
            let ecs = r.attrs.str_at(&["service_namespace"]) == Some("ecs")
                || r.attrs
                    .str_at(&["scalable_dimension"])
                    .is_some_and(|d| d.starts_with("ecs:"));
            let Some(min) = r.attrs.get("min_capacity") else {
                continue;
            };
            let Some(n) = min.as_f64().filter(|n| ecs && *n < 2.0) else {
                continue;
            };
            found.via.entry(min.span).or_insert_with(|| min.via.clone());
            found.add(min.span, Some(env), || {
                format!(
                    "{} keeps a minimum of {n} task(s) in prod: at quiet hours the service is a single task",
                    r.address()
                )
            });
        }
    }
    found.emit(&PROD_MIN_CAPACITY, false, out);
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::CloudFormation) {
        let prod: Vec<Env> = m
            .envs_at(doc.root.span)
            .into_iter()
            .filter(|e| e.is_prod())
            .collect();
        if prod.is_empty() {
            continue;
        }
        for e in doc.root.get("Resources").map(Node::entries).unwrap_or(&[]) {
            if e.value.str_at(&["Type"]) != Some("AWS::ApplicationAutoScaling::ScalableTarget") {
                continue;
            }
            let Some(props) = e.value.get("Properties") else {
                continue;
            };
            let ecs = props.str_at(&["ServiceNamespace"]) == Some("ecs")
                || props
                    .str_at(&["ScalableDimension"])
                    .is_some_and(|d| d.starts_with("ecs:"));
            let Some(min) = props.get("MinCapacity").filter(|_| ecs) else {
                continue;
            };
            // `!Ref Param` reads as the parameter's name (`{Ref: Param}` in
            // JSON): its default decides where no value is passed.
            let param = min.as_str().or_else(|| min.str_at(&["Ref"]));
            let default = param.and_then(|p| doc.root.path(&["Parameters", p, "Default"]));
            let Some(n) = min.as_f64().or_else(|| default.and_then(Node::as_f64)) else {
                continue;
            };
            if n >= 2.0 {
                continue;
            }
            let name = e.key_str().unwrap_or("?");
            let mut f = PROD_MIN_CAPACITY
                .finding(
                    min.span,
                    format!(
                        "ScalableTarget `{name}` keeps a minimum of {n} task(s) in prod{}: at quiet hours the service is a single task",
                        match param.filter(|_| default.is_some()) {
                            Some(p) => format!(" (the default of parameter `{p}`)"),
                            None => String::new(),
                        }
                    ),
                )
                .envs(prod.iter().copied());
            if let Some(d) = default {
                f = f.related(d.span, "the parameter's default");
            }
            out.push(f);
        }
    }
}

/// Prod-tier compose documents: (doc, its prod environments).
fn prod_compose(m: &Model) -> impl Iterator<Item = (&Doc, Vec<Env>)> {
    m.docs
        .iter()
        .filter(|d| d.kind == DocKind::Compose)
        .filter_map(|d| {
            let prod: Vec<Env> = m
                .envs_at(d.root.span)
                .into_iter()
                .filter(|e| e.is_prod())
                .collect();
            (!prod.is_empty()).then_some((d, prod))
        })
}

pub static PROD_COMPOSE_DEV_SETUP: Rule = Rule {
    id: "WL008",
    name: "prod-compose-dev-setup",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "A prod compose service bind-mounts source code or builds a dev target",
    help: "run the promoted image as it is: drop the source bind mount and the dev build target",
    explanation: r#"**Why.** The article's compose files show the two setups side by side: the dev file
mounts the working copy into the container (`- .:/app`) and builds `target: development` so that
code reloads on save; the prod file builds `target: production` and mounts nothing. A prod
service that mounts the host's source over the image runs whatever is checked out on that host,
not the image that passed staging (build once, run anywhere, section 2.2); a `dev` or
`development` build target ships dev dependencies and dev settings to production.

guard reads compose files that belong to a prod-tier environment (`docker-compose.prod.yml`,
`prod/compose.yaml`) and reports a relative bind mount of a directory (`.:/app`,
`./src:/app/src`; named volumes, anonymous volumes, single configuration files and data
directories are fine) and a `build.target` that names a dev-tier environment.

**How to fix.** Keep the dev setup in the dev compose file.

```yaml
# docker-compose.prod.yml — bad
services:
  app:
    build: { context: ., target: development }
    volumes:
      - .:/app
```
```yaml
# docker-compose.prod.yml — good
services:
  app:
    image: registry.example.com/app:${IMAGE_TAG}
    volumes:
      - app-data:/var/lib/app
```
"#,
    security_severity: "4.5",
    tags: &["workload", "compose", "build-once"],
    check: Some(check_compose_dev_setup),
    tiers: None,
};

/// Targets that hold data, logs or configuration, not code.
const DATA_TARGETS: [&str; 6] = [
    "/var/lib/",
    "/var/log",
    "/data",
    "/etc/",
    "/docker-entrypoint-initdb.d",
    "/backup",
];

/// A relative bind mount of a source directory: (source, target).
fn source_bind(v: &Node) -> Option<(&str, &str)> {
    let (source, target) = match v.as_str() {
        Some(s) => {
            let mut parts = s.splitn(3, ':');
            (parts.next()?, parts.next()?)
        }
        None if v.str_at(&["type"]) == Some("bind") => {
            (v.str_at(&["source"])?, v.str_at(&["target"])?)
        }
        None => return None,
    };
    let source = source.trim();
    let relative = source == "."
        || source == ".."
        || source.starts_with("./")
        || source.starts_with("../")
        || source.starts_with("${PWD}")
        || source.starts_with("$PWD");
    if !relative {
        return None;
    }
    // A single file (`./nginx.conf`) is configuration, not source.
    let last = source
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("");
    if last.len() > 1 && last[1..].contains('.') {
        return None;
    }
    let target = target.trim();
    if DATA_TARGETS.iter().any(|t| target.starts_with(t)) {
        return None;
    }
    Some((source, target))
}

fn check_compose_dev_setup(m: &Model, out: &mut Vec<Finding>) {
    for (doc, prod) in prod_compose(m) {
        for svc in doc.root.get("services").map(Node::entries).unwrap_or(&[]) {
            let name = svc.key_str().unwrap_or("?");
            for v in svc.value.get("volumes").map(Node::as_seq).unwrap_or(&[]) {
                let Some((source, target)) = source_bind(v) else {
                    continue;
                };
                out.push(
                    PROD_COMPOSE_DEV_SETUP
                        .finding(
                            v.span,
                            format!(
                                "compose service {name} mounts the host's `{source}` over `{target}` in prod: it runs whatever is checked out on the host, not the image that passed staging"
                            ),
                        )
                        .envs(prod.iter().copied()),
                );
            }
            let Some(target) = svc.value.path(&["build", "target"]) else {
                continue;
            };
            let Some(t) = target.as_str() else { continue };
            if m.envs.words(t).is_some_and(|e| e.tier() == Tier::Dev) {
                out.push(
                    PROD_COMPOSE_DEV_SETUP
                        .finding(
                            target.span,
                            format!(
                                "compose service {name} builds the `{t}` target in prod: dev dependencies and dev settings ship to production"
                            ),
                        )
                        .envs(prod.iter().copied()),
                );
            }
        }
    }
}

pub static PROD_COMPOSE_NO_RESTART: Rule = Rule {
    id: "WL009",
    name: "prod-compose-no-restart-policy",
    family: Family::Workload,
    severity: Severity::Warning,
    summary: "A prod compose service has no restart policy",
    help: "add `restart: unless-stopped` (or `deploy.restart_policy`)",
    explanation: r#"**Why.** Compose restarts nothing by default: a prod service whose process crashes, or
whose host reboots, stays down until someone notices. The article's `docker-compose.prod.yml`
sets `restart: unless-stopped` for exactly this reason; its dev file does not need to.

guard reports each service of a prod-tier compose file that sets neither `restart:` nor
`deploy.restart_policy` (an explicit `restart: "no"` is a decision and is accepted).

**How to fix.**

```yaml
# docker-compose.prod.yml — bad
services:
  app:
    image: registry.example.com/app:${IMAGE_TAG}
```
```yaml
# docker-compose.prod.yml — good
services:
  app:
    image: registry.example.com/app:${IMAGE_TAG}
    restart: unless-stopped
```
"#,
    security_severity: "3.0",
    tags: &["workload", "compose", "reliability"],
    check: Some(check_compose_restart),
    tiers: None,
};

fn check_compose_restart(m: &Model, out: &mut Vec<Finding>) {
    for (doc, prod) in prod_compose(m) {
        for svc in doc.root.get("services").map(Node::entries).unwrap_or(&[]) {
            if !svc.value.is_map()
                || svc.value.get("restart").is_some()
                || svc.value.path(&["deploy", "restart_policy"]).is_some()
            {
                continue;
            }
            let name = svc.key_str().unwrap_or("?");
            out.push(
                PROD_COMPOSE_NO_RESTART
                    .finding(
                        svc.key.span,
                        format!(
                            "compose service {name} has no restart policy in prod: after a crash or a reboot it stays down"
                        ),
                    )
                    .envs(prod.iter().copied()),
            );
        }
    }
}

pub static RULES: &[&Rule] = &[
    &MISSING_PROBES,
    &MISSING_RESOURCES,
    &PROD_INGRESS_WITHOUT_TLS,
    &DOCKERFILE_ROOT,
    &PROD_SINGLE_REPLICA,
    &ECS_NO_LOGGING,
    &PROD_MIN_CAPACITY,
    &PROD_COMPOSE_DEV_SETUP,
    &PROD_COMPOSE_NO_RESTART,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, Span};

    #[test]
    fn source_binds_are_relative_directories_of_code() {
        let s = |t: &str| Node::string(Span::new(FileId(0), 0, 0), t);
        assert_eq!(source_bind(&s(".:/app")), Some((".", "/app")));
        assert_eq!(
            source_bind(&s("./src:/app/src:ro")),
            Some(("./src", "/app/src"))
        );
        assert_eq!(source_bind(&s("app-data:/var/lib/app")), None);
        assert_eq!(source_bind(&s("/app/node_modules")), None);
        assert_eq!(source_bind(&s("./nginx.conf:/etc/nginx/nginx.conf")), None);
        assert_eq!(source_bind(&s("./data:/var/lib/postgresql/data")), None);
        assert_eq!(
            source_bind(&s("/var/run/docker.sock:/var/run/docker.sock")),
            None
        );
    }
}
