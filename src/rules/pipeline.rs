//! The promotion pipeline (article section 5): code flows dev -> staging ->
//! prod through GitHub Actions, never skips a stage, waits for approval at
//! the environment gate, and deploys the image the build job made.

use super::{Family, Rule};
use crate::env::{Env, Tier};
use crate::finding::{Finding, Severity};
use crate::model::workflow::Job;
use crate::model::{Doc, DocKind, Model};
use crate::node::Node;
use crate::source::Span;

/// The environment a job deploys to: its `environment:`, else what its id
/// names (`deploy-prod`).
fn deploy_env(m: &Model, j: &Job) -> Option<Env> {
    if j.environment.is_some() {
        return j.assignment.env;
    }
    m.envs.words(&j.id).filter(|_| looks_like_deploy(&j.id))
}

fn looks_like_deploy(id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    [
        "deploy", "release", "promote", "rollout", "apply", "publish",
    ]
    .iter()
    .any(|w| id.contains(w))
}

fn workflow_of<'m>(m: &'m Model, j: &Job) -> Option<&'m Doc> {
    m.docs
        .iter()
        .find(|d| d.kind == DocKind::Workflow && d.file == j.file)
}

fn job_node<'m>(doc: &'m Doc, id: &str) -> Option<&'m Node> {
    doc.root.get("jobs")?.get(id)
}

pub static PROD_SKIPS_STAGING: Rule = Rule {
    id: "PIPE001",
    name: "prod-deploy-skips-staging",
    family: Family::Pipeline,
    severity: Severity::Error,
    summary: "A job deploys to prod without needing the job that deploys to staging",
    help: "add the staging deploy job to the prod job's `needs:` so prod runs only after staging succeeded",
    explanation: r#"**Why.** The article's promotion flow is dev => staging => prod, and staging is "the mirror
of production, the last line of defence" (sections 1.2 and 5): a change reaches prod only after
it ran in staging. In GitHub Actions that order exists only through `needs:`. A prod deploy job
that does not need the staging deploy job (directly or through other jobs) starts as soon as the
build finishes, in parallel with staging, or even when staging failed or was skipped.

guard reads every workflow's jobs, decides which environment each deploys to (its
`environment:`, else its id: `deploy-prod`), and reports a prod-tier deploy job of a workflow
that also deploys to a staging-tier environment when no staging deploy job is among its
transitive `needs`.

**How to fix.** Make the prod job need the staging job.

```yaml
# bad: prod starts right after the build
deploy-prod:
  needs: build
  environment: production
```
```yaml
# good
deploy-prod:
  needs: [build, deploy-staging]
  environment: production
```
"#,
    security_severity: "6.0",
    tags: &["pipeline", "github-actions", "promotion"],
    check: Some(check_skips_staging),
    tiers: None,
};

fn check_skips_staging(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Workflow) {
        let jobs: Vec<&Job> = m.jobs.iter().filter(|j| j.file == doc.file).collect();
        let staging: Vec<&Job> = jobs
            .iter()
            .copied()
            .filter(|j| deploy_env(m, j).is_some_and(|e| e.tier() == Tier::Staging))
            .collect();
        if staging.is_empty() {
            continue;
        }
        for j in jobs
            .iter()
            .filter(|j| deploy_env(m, j).is_some_and(Env::is_prod))
        {
            let needed = transitive_needs(&jobs, j);
            if staging.iter().any(|s| needed.contains(&s.id.as_str())) {
                continue;
            }
            let env = deploy_env(m, j);
            let mut f = PROD_SKIPS_STAGING
                .finding(
                    j.id_span,
                    format!(
                        "job `{}` deploys to {} without needing a staging deploy job ({}): it can run before, or without, staging",
                        j.id,
                        env.map_or("prod", Env::as_str),
                        staging
                            .iter()
                            .map(|s| format!("`{}`", s.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .env(env);
            for s in &staging {
                f = f.related(s.id_span, format!("`{}` deploys to staging", s.id));
            }
            out.push(f);
        }
    }
}

/// Every job `j` needs, directly or through the jobs it needs.
fn transitive_needs<'a>(jobs: &[&'a Job], j: &'a Job) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    let mut stack: Vec<&str> = j.needs.iter().map(|(n, _)| n.as_str()).collect();
    while let Some(n) = stack.pop() {
        if seen.contains(&n) || seen.len() > 1000 {
            continue;
        }
        seen.push(n);
        if let Some(next) = jobs.iter().find(|x| x.id == n) {
            stack.extend(next.needs.iter().map(|(n, _)| n.as_str()));
        }
    }
    seen
}

pub static NO_ENVIRONMENT_GATE: Rule = Rule {
    id: "PIPE002",
    name: "deploy-without-environment",
    family: Family::Pipeline,
    severity: Severity::Warning,
    summary: "A staging or prod deploy job declares no `environment:`, so no approval gate or environment secrets apply",
    help: "add `environment: <name>` to the job and configure its protection rules (required reviewers) in the repository",
    explanation: r#"**Why.** GitHub environments are the approval gate of the article's pipeline (section 5):
"production" requires a reviewer before the job starts, and holds the secrets only that job may
read. A job named `deploy-prod` without `environment:` deploys with no approval, with
repository-wide secrets, and leaves no deployment record in the environment's history.

guard reports a job whose id names a staging- or prod-tier environment and looks like a
deployment (`deploy`, `release`, `promote`, `rollout`, `apply`, `publish`) but declares no
`environment:`.

**How to fix.** Declare the environment, and protect it in the repository settings.

```yaml
# bad
deploy-prod:
  needs: deploy-staging
  runs-on: ubuntu-latest
```
```yaml
# good
deploy-prod:
  needs: deploy-staging
  runs-on: ubuntu-latest
  environment: production
```
"#,
    security_severity: "5.0",
    tags: &["pipeline", "github-actions", "approval"],
    check: Some(check_environment_gate),
    tiers: None,
};

fn check_environment_gate(m: &Model, out: &mut Vec<Finding>) {
    for j in &m.jobs {
        if j.environment.is_some() {
            continue;
        }
        let Some(env) = deploy_env(m, j).filter(|e| e.is_promoted()) else {
            continue;
        };
        out.push(
            NO_ENVIRONMENT_GATE
                .finding(
                    j.id_span,
                    format!(
                        "job `{}` deploys to {env} but declares no `environment:`: no approval gate and no environment-scoped secrets apply",
                        j.id
                    ),
                )
                .env(Some(env)),
        );
    }
}

pub static UNREACHABLE_CONDITION: Rule = Rule {
    id: "PIPE003",
    name: "deploy-condition-never-true",
    family: Family::Pipeline,
    severity: Severity::Error,
    summary: "A job's `if:` requires a branch or tag that none of the workflow's triggers can produce, so it never runs",
    help: "make the `if:` and the `on:` triggers agree (trigger on the branch the job deploys from)",
    explanation: r#"**Why.** A deploy job that never runs is a pipeline that silently stopped deploying. The
article's own workflow shows it: it triggers on pushes to `release` and `develop` (and pull
requests to `release`), while its staging and prod jobs run only `if: github.ref ==
'refs/heads/main'`: no event of that workflow ever has that ref, so staging and prod are never
deployed, and nothing says so.

guard reads the workflow's triggers (`on:`) and the refs each can produce: `push` to its
`branches` (any branch without a filter; tags for `tags`), `pull_request` (a `refs/pull/...`
ref, never a branch), `release` (tags), and `workflow_dispatch`, `schedule`,
`workflow_run`, `repository_dispatch` (a branch the workflow cannot predict: any). It reports a
job whose `if:` requires `github.ref == 'refs/heads/X'` (or `github.ref_name == 'X'`) when no
trigger can produce it, at the `if:`, with the triggers as related locations.

**How to fix.** Trigger on the branch the job deploys from, or fix the condition.

```yaml
# bad
on:
  push:
    branches: [release, develop]
jobs:
  deploy-prod:
    if: github.ref == 'refs/heads/main'
```
```yaml
# good
on:
  push:
    branches: [main, develop]
jobs:
  deploy-prod:
    if: github.ref == 'refs/heads/main'
```
"#,
    security_severity: "5.0",
    tags: &["pipeline", "github-actions"],
    check: Some(check_unreachable),
    tiers: None,
};

/// What the workflow's triggers can run on.
struct Triggers {
    /// Some trigger can run on any branch.
    any_branch: bool,
    /// Branch patterns of `push` / `pull_request_target` triggers.
    branches: Vec<String>,
    /// Where the triggers are written (for related locations).
    spans: Vec<(Span, String)>,
}

fn triggers(doc: &Doc) -> Option<Triggers> {
    let on = doc.root.get("on").or_else(|| doc.root.get("true"))?;
    let mut t = Triggers {
        any_branch: false,
        branches: Vec::new(),
        spans: Vec::new(),
    };
    let event = |name: &str, config: Option<&Node>, span: Span, t: &mut Triggers| {
        t.spans.push((span, format!("triggered by `{name}`")));
        match name {
            "push" | "pull_request_target" => {
                let branches = config.and_then(|c| c.get("branches"));
                let only_tags =
                    config.is_some_and(|c| c.get("tags").is_some()) && branches.is_none();
                match branches {
                    Some(b) => {
                        let list: Vec<&Node> = if b.as_seq().is_empty() {
                            vec![b]
                        } else {
                            b.as_seq().iter().collect()
                        };
                        t.branches
                            .extend(list.iter().filter_map(|n| n.as_str()).map(str::to_string));
                    }
                    None if only_tags => {}
                    None if config.is_some_and(|c| c.get("branches-ignore").is_some()) => {
                        t.any_branch = true
                    }
                    None => t.any_branch = true,
                }
            }
            // Pull requests run on refs/pull/N/merge; releases on tags.
            "pull_request" | "release" => {}
            // Manual, scheduled and chained runs: a branch guard cannot know.
            _ => t.any_branch = true,
        }
    };
    if let Some(s) = on.as_str() {
        event(s, None, on.span, &mut t);
    } else if !on.as_seq().is_empty() {
        for n in on.as_seq() {
            if let Some(s) = n.as_str() {
                event(s, None, n.span, &mut t);
            }
        }
    } else {
        for e in on.entries() {
            if let Some(k) = e.key_str() {
                event(k, Some(&e.value), e.key.span, &mut t);
            }
        }
    }
    Some(t)
}

/// The branch an `if:` requires: `github.ref == 'refs/heads/X'` or
/// `github.ref_name == 'X'` (either order, either quote), when it is the
/// only way the condition can be true (no `||`).
fn required_branch(cond: &str) -> Option<String> {
    if cond.contains("||") {
        return None;
    }
    let c = cond.replace("${{", "").replace("}}", "");
    for (lhs, prefix) in [("github.ref", "refs/heads/"), ("github.ref_name", "")] {
        for part in c.split("&&") {
            let part = part.trim().trim_matches(['(', ')']).trim();
            let Some((a, b)) = part.split_once("==") else {
                continue;
            };
            let (a, b) = (a.trim(), b.trim());
            let lit = if a == lhs {
                b
            } else if b == lhs {
                a
            } else {
                continue;
            };
            let lit = lit.trim_matches(['\'', '"']);
            if let Some(branch) = lit
                .strip_prefix(prefix)
                .filter(|_| !prefix.is_empty() || !lit.starts_with("refs/"))
            {
                return Some(branch.to_string());
            }
        }
    }
    None
}

/// Does a branch filter pattern (GitHub's glob: `*`, `**`) match `branch`?
fn branch_matches(pattern: &str, branch: &str) -> bool {
    if pattern.starts_with('!') {
        return false;
    }
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher().is_match(branch))
        .unwrap_or(pattern == branch)
}

fn check_unreachable(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Workflow) {
        let Some(t) = triggers(doc) else { continue };
        if t.any_branch {
            continue;
        }
        for j in m.jobs.iter().filter(|j| j.file == doc.file) {
            let Some((cond, span)) = &j.condition else {
                continue;
            };
            let Some(branch) = required_branch(cond) else {
                continue;
            };
            if t.branches.iter().any(|p| branch_matches(p, &branch)) {
                continue;
            }
            let produced = if t.branches.is_empty() {
                "no branch".to_string()
            } else {
                t.branches
                    .iter()
                    .map(|b| format!("`{b}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut f = UNREACHABLE_CONDITION
                .finding(
                    *span,
                    format!(
                        "job `{}` runs only on branch `{branch}`, but the workflow's triggers run on {produced}: the job never runs",
                        j.id
                    ),
                )
                .env(deploy_env(m, j));
            for (s, label) in &t.spans {
                f = f.related(*s, label.clone());
            }
            out.push(f);
        }
    }
}

pub static DEPLOY_REBUILDS: Rule = Rule {
    id: "PIPE004",
    name: "deploy-job-builds-image",
    family: Family::Pipeline,
    severity: Severity::Error,
    summary: "A staging or prod deploy job builds its own image, or tags one with an environment name",
    help: "build once in the build job and deploy its output (`needs.build.outputs.image-tag`) in every environment",
    explanation: r#"**Why.** Build once, run anywhere (article sections 2.2 and 5.1): the build job makes one
image, tagged with the commit, and every environment deploys exactly that image. A deploy job
that runs `docker build` (or `docker/build-push-action`, `buildx`) makes a new image for its
environment: prod then runs something staging never tested, built from whatever the runner
had. Tagging an image with an environment name (`app:prod`) does the same damage more quietly:
the tag moves, and the image behind it is whatever was pushed last.

guard reports, in a job that deploys to a staging- or prod-tier environment, a step that
builds an image, and a step whose command tags or pushes an image with an environment name.

**How to fix.** Build in the build job, expose the tag as an output, and deploy it.

```yaml
# bad
deploy-prod:
  environment: production
  steps:
    - run: docker build -t registry/app:prod . && docker push registry/app:prod
```
```yaml
# good
deploy-prod:
  needs: [build, deploy-staging]
  environment: production
  steps:
    - run: ./deploy.sh registry/app:${{ needs.build.outputs.image-tag }}
```
"#,
    security_severity: "6.0",
    tags: &["pipeline", "github-actions", "build-once"],
    check: Some(check_rebuilds),
    tiers: None,
};

fn check_rebuilds(m: &Model, out: &mut Vec<Finding>) {
    for j in &m.jobs {
        let Some(env) = deploy_env(m, j).filter(|e| e.is_promoted()) else {
            continue;
        };
        let Some(node) = workflow_of(m, j).and_then(|d| job_node(d, &j.id)) else {
            continue;
        };
        for step in node.get("steps").map(Node::as_seq).unwrap_or(&[]) {
            if let Some(uses) = step.get("uses")
                && let Some(u) = uses.as_str()
                && u.starts_with("docker/build-push-action")
            {
                out.push(rebuild(
                    j,
                    env,
                    uses.span,
                    format!("uses `{}`", u.split('@').next().unwrap_or(u)),
                ));
            }
            let Some(run) = step.get("run") else { continue };
            let Some(text) = run.as_str() else { continue };
            let lower = text.to_ascii_lowercase();
            if lower.contains("docker build")
                || lower.contains("buildx build")
                || lower.contains("podman build")
            {
                out.push(rebuild(j, env, run.span, "runs `docker build`".to_string()));
            } else if let Some(tag) = env_tag(m, text) {
                out.push(
                    DEPLOY_REBUILDS
                        .finding(
                            run.span,
                            format!(
                                "job `{}` deploys to {env} with an image tagged `{tag}`: an environment tag moves, so what runs is whatever was pushed last",
                                j.id
                            ),
                        )
                        .env(Some(env)),
                );
            }
        }
    }
}

fn rebuild(j: &Job, env: Env, span: Span, what: String) -> Finding {
    DEPLOY_REBUILDS
        .finding(
            span,
            format!(
                "job `{}` deploys to {env} but {what}: it builds its own image instead of deploying the one the build job made and staging tested",
                j.id
            ),
        )
        .env(Some(env))
}

/// An image reference tagged with an environment name in a command
/// (`registry/app:prod`), not a placeholder.
fn env_tag(m: &Model, text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .map(|w| w.rsplit('=').next().unwrap_or(w))
        .filter(|w| w.contains('/') && !w.contains("${") && !w.starts_with('-'))
        .find_map(|w| {
            let (_, tag) = w.rsplit_once(':')?;
            m.envs.word(tag).map(|_| w.to_string())
        })
}

pub static RULES: &[&Rule] = &[
    &PROD_SKIPS_STAGING,
    &NO_ENVIRONMENT_GATE,
    &UNREACHABLE_CONDITION,
    &DEPLOY_REBUILDS,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_and_branch_patterns() {
        assert_eq!(
            required_branch("github.ref == 'refs/heads/main'").as_deref(),
            Some("main")
        );
        assert_eq!(
            required_branch("${{ github.ref_name == \"release/1\" }}").as_deref(),
            Some("release/1")
        );
        assert_eq!(
            required_branch("success() && 'refs/heads/main' == github.ref").as_deref(),
            Some("main")
        );
        assert_eq!(
            required_branch("github.ref == 'refs/heads/a' || always()"),
            None
        );
        assert_eq!(required_branch("github.event_name == 'push'"), None);
        assert!(branch_matches("release/*", "release/1"));
        assert!(!branch_matches("release/*", "release/1/2"));
        assert!(branch_matches("release/**", "release/1/2"));
        assert!(branch_matches("main", "main"));
        assert!(!branch_matches("main", "develop"));
    }
}
