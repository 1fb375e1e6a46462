//! Build once, run anywhere: the image prod runs is the image staging tested
//! (article 2.2, 5.1).

use super::{Family, Rule};
use crate::finding::{Finding, Severity};
use crate::model::image::{EnvNaming, ImageRef, Mutability, with_defaults};
use crate::model::{Container, Model, Platform};

pub static MUTABLE_TAG: Rule = Rule {
    id: "BO001",
    name: "mutable-image-tag",
    family: Family::BuildOnce,
    severity: Severity::Error,
    summary: "An image is referenced by `latest` or by no tag at all",
    help: "deploy an immutable tag produced by the build (commit SHA or version) or a digest",
    explanation: r#"**Why.** The article's first rule of promotion is *build once, run anywhere*: the image
that passed dev and staging must be the exact, unchanged image that prod runs (section 2.2,
"Devでテストに合格したImageは、StagingとProdにデプロイされる全く同じ、変更されていないImage").
A reference without a tag means `:latest`, and `latest` is whatever was pushed last: a pod that
restarts in prod tomorrow may pull an image nobody tested, and two replicas can run different
code. Rollback is impossible because there is no name for "the previous one".

guard checks every place a container image is deployed: Kubernetes workloads (Pod,
Deployment, StatefulSet, DaemonSet, Job, CronJob, init containers included), the Terraform
Kubernetes provider's workloads (`kubernetes_deployment`, `kubernetes_pod`, ... `container`
blocks, evaluated per environment), `helm_release` values set with `set { name =
"image.tag" }`, compose services, ECS container definitions (JSON task definitions, Terraform
`aws_ecs_task_definition`, CloudFormation `AWS::ECS::TaskDefinition`), and GitHub Actions
jobs' `container:` and `services:`. After Kustomize overlays are applied: a base image without
a tag that every overlay pins with `images: newTag:` is fine; an overlay that sets `newTag:
latest` is reported at that line.

Placeholders that carry a promoted tag (`app:${IMAGE_TAG}`,
`app:${{ needs.build.outputs.image-tag }}`) are the right pattern and are not reported; a
placeholder's default is what runs wherever the variable is unset, so `${IMAGE_TAG:-latest}`
and `${PROXY_IMAGE:-nginx}` are. A release channel tag (`nightly`, `stable`, `edge`, `main`,
or `dev` on a publisher's image such as `node:dev`) moves like `latest` and is reported too
(an own image tagged `app:dev` is BO002's: built for an environment), and so does a qualified
`latest` (`latest-alpine`, `init-latest`, `frontend-latest`).

The final image of each Dockerfile is built from a base: when the final stage (or the stage
it builds on) starts from an image without a tag, or `latest`, a rebuild of the same commit
may start from different bytes. That is a warning, at the `FROM` line.

**How to fix.** Reference an immutable tag produced by the build (a commit SHA or release
version), or better a digest, and promote that same reference through each environment.

```yaml
# bad
containers:
  - name: app
    image: registry.example.com/app:latest
```
```yaml
# good: the tag the build job produced, or a digest
containers:
  - name: app
    image: registry.example.com/app:3f9c2a1
    # image: registry.example.com/app@sha256:4a1c...
```
"#,
    security_severity: "6.5",
    tags: &[
        "build-once",
        "supply-chain",
        "kubernetes",
        "compose",
        "ecs",
        "dockerfile",
    ],
    check: Some(check_mutable),
    tiers: None,
};

/// Why a reference is mutable, or None when it is not (or when BO002
/// owns it: an own image's channel tag that names an environment).
fn mutable_because(m: &Model, r: &ImageRef<'_>) -> Option<String> {
    Some(match r.mutability() {
        Mutability::NoTag => "has no tag, so it pulls `latest`".to_string(),
        Mutability::Latest => "uses the mutable tag `latest`".to_string(),
        Mutability::DefaultsToLatest => {
            "takes its tag from a variable whose default is `latest`: wherever the variable is unset, it pulls `latest`".to_string()
        }
        Mutability::Channel if r.names_environment(&m.envs).is_none() => format!(
            "uses the channel tag `{}`, which moves to each new build of the image",
            r.tag.unwrap_or_default()
        ),
        _ => return None,
    })
}

fn check_mutable(m: &Model, out: &mut Vec<Finding>) {
    let mut undecided = std::collections::BTreeSet::new();
    for c in &m.containers {
        let Some(img) = &c.image else { continue };
        if img.is_unknown() && undecided.insert((img.span, c.env)) {
            out.push(
                MUTABLE_TAG
                    .undecided(
                        img.span,
                        format!("the image of {} is immutable", c.describe()),
                        super::UNKNOWN_VALUE,
                    )
                    .env(c.env),
            );
            continue;
        }
        let Some(text) = img.as_str() else { continue };
        let Some(r) = ImageRef::parse(text) else {
            continue;
        };
        let what = match mutable_because(m, &r) {
            Some(w) => w,
            // `${IMAGE:-nginx}`: the default is what runs wherever the
            // variable is unset.
            None if r.mutability() == Mutability::Placeholder => {
                let Some(default) = with_defaults(text) else {
                    continue;
                };
                let Some(why) = ImageRef::parse(&default).and_then(|d| mutable_because(m, &d))
                else {
                    continue;
                };
                format!("falls back to `{default}` wherever its variables are unset, which {why}")
            }
            None => continue,
        };
        out.push(
            MUTABLE_TAG
                .finding(
                    img.span,
                    // The environment is the finding's own field: one base
                    // line rendered by several overlays is one finding.
                    format!("image `{text}` of {} {what}", c.describe()),
                )
                .env(c.env)
                .via(&img.via),
        );
    }
    check_dockerfile_bases(m, out);
}

/// The base image of a Dockerfile's final image (the final stage, or the
/// stage it builds on): a warning, since it is built from rather than
/// deployed, but a rebuild of the same commit may start from other bytes.
fn check_dockerfile_bases(m: &Model, out: &mut Vec<Finding>) {
    use crate::model::dockerfile::{final_root, stages};
    for doc in m
        .docs
        .iter()
        .filter(|d| d.kind == crate::model::DocKind::Dockerfile)
    {
        let all = stages(doc.root.as_seq());
        let Some(stage) = final_root(&all).and_then(|i| all.get(i)) else {
            continue;
        };
        let Some(img) = stage.image else { continue };
        let Some(text) = img.as_str() else { continue };
        if text.eq_ignore_ascii_case("scratch") {
            continue;
        }
        let Some(r) = ImageRef::parse(text) else {
            continue;
        };
        let Some(what) = mutable_because(m, &r) else {
            continue;
        };
        let mut f = MUTABLE_TAG
            .finding(
                img.span,
                format!("the final image of this Dockerfile starts from `{text}`, which {what}: a rebuild of the same commit may start from different bytes"),
            )
            .envs(m.envs_at(img.span));
        f.severity = Severity::Warning;
        out.push(f);
    }
}

pub static ENV_IN_IMAGE: Rule = Rule {
    id: "BO002",
    name: "environment-specific-image",
    family: Family::BuildOnce,
    severity: Severity::Error,
    summary: "An image tag or repository names an environment (`app:prod`, `app:${ENVIRONMENT}`, `app-dev`)",
    help: "build one image, tag it with the build's identity, and inject the environment as configuration",
    explanation: r#"**Why.** An image whose tag or repository names an environment was built *for* that
environment: `app:prod` is a different artifact from `app:staging`, so what prod runs is not
what staging tested. The article warns against exactly this (section 2.2: configuration is
injected at run time through environment variables, never baked into the image), and its own
ECS task definition breaks the rule with `"image": "your-registry/app:${ENVIRONMENT}"`.

guard reports a tag or a repository name whose words name an environment (`prod`,
`production`, `prd`, `staging`, `stage`, `stg`, `dev`, `development`: `app:prod`,
`app:prod-1.4`, `registry/app-dev:1.2`) and placeholders that stand for the environment
(`${ENVIRONMENT}`, `${ENV}`, `${STAGE}`, `var.environment` once Terraform is evaluated).
A publisher's image is not built by the project: an official Docker Hub image such as `node`,
a known publisher's (`bitnami/redis`, `grafana/grafana`), an image of a registry only
publishers push to (`registry.k8s.io`, `mcr.microsoft.com`), or one of the ECR accounts AWS
publishes its own images from (App Mesh's Envoy is tagged `v1.12.2.1-prod` by AWS). Its `dev`
tag is the publisher's release channel, which BO001 reports as mutable, and a `prod` in its
tag is the publisher's naming: neither names the project's environment.

**How to fix.** Build one image, tag it with the build's identity (commit SHA, version),
and deploy that same tag everywhere; pass the environment as configuration.

```json
"image": "your-registry/app:${ENVIRONMENT}",
"environment": [{ "name": "NODE_ENV", "value": "${ENVIRONMENT}" }]
```
```json
"image": "your-registry/app:${IMAGE_TAG}",
"environment": [{ "name": "NODE_ENV", "value": "${ENVIRONMENT}" }]
```
"#,
    security_severity: "6.0",
    tags: &["build-once", "supply-chain", "kubernetes", "compose", "ecs"],
    check: Some(check_env_named),
    tiers: None,
};

fn check_env_named(m: &Model, out: &mut Vec<Finding>) {
    for c in &m.containers {
        let Some(img) = &c.image else { continue };
        let Some(text) = img.as_str() else { continue };
        let Some(r) = ImageRef::parse(text) else {
            continue;
        };
        let (why, what) = match r.names_environment(&m.envs) {
            Some(EnvNaming::Literal { what, env, part }) => (
                format!("its {what} `{part}` names the {env} environment"),
                what,
            ),
            Some(EnvNaming::Placeholder { what, name }) => (
                format!("its {what} is set per environment by `{name}`"),
                what,
            ),
            None => continue,
        };
        let span = match what {
            "repository" => c.repo_span().unwrap_or(img.span),
            _ => img.span,
        };
        out.push(
            ENV_IN_IMAGE
                .finding(
                    span,
                    format!(
                        "image `{text}` of {} is built per environment: {why}",
                        c.describe()
                    ),
                )
                .env(c.env)
                .via(&img.via),
        );
    }
}

pub static COMPOSE_BUILD: Rule = Rule {
    id: "BO003",
    name: "compose-builds-in-upper-env",
    family: Family::BuildOnce,
    severity: Severity::Warning,
    summary: "A staging or prod compose service builds its own image instead of running a promoted one",
    help: "replace `build:` with `image:` and the tag promoted from staging",
    explanation: r#"**Why.** The article's `docker-compose.prod.yml` has `build: { context: ., target:
production }`: prod builds its own image from the source on the host. That image was never
tested in staging; its dependencies are whatever the registry served at build time. A dev
compose file that builds is normal (fast iteration); staging and prod should `image:` the
artifact the pipeline built once and promoted.

**How to fix.** Replace `build:` in the staging/prod compose file by `image:` with the promoted
tag, e.g. `image: registry.example.com/app:${IMAGE_TAG}`.

```yaml
# docker-compose.prod.yml — bad
services:
  app:
    build:
      context: .
      target: production
```
```yaml
# docker-compose.prod.yml — good
services:
  app:
    image: registry.example.com/app:${IMAGE_TAG}
```
"#,
    security_severity: "5.0",
    tags: &["build-once", "compose"],
    check: Some(check_compose_build),
    tiers: None,
};

fn check_compose_build(m: &Model, out: &mut Vec<Finding>) {
    for c in &m.containers {
        let (Some(build), Some(env)) = (c.build, c.env.filter(|e| e.is_promoted())) else {
            continue;
        };
        out.push(
            COMPOSE_BUILD
                .finding(
                    build,
                    format!(
                        "compose {} builds its own image in {env} instead of running an image promoted from the environment before it",
                        c.owner
                    ),
                )
                .env(c.env),
        );
    }
}

pub static IMAGE_DRIFT: Rule = Rule {
    id: "BO004",
    name: "image-differs-between-environments",
    family: Family::BuildOnce,
    severity: Severity::Error,
    summary: "The same workload runs a different image repository in prod than in staging",
    help: "deploy the repository staging tested; promote by tag or digest, not by rebuilding into another repository",
    explanation: r#"**Why.** Staging exists to test exactly what prod will run (the article's
"Dev => Staging => Prod": staging is the mirror of production, section 1.2; build once, run
anywhere, section 2.2). When the same workload pulls `registry/app` in staging but
`registry/app-prod` in prod, prod runs an artifact that staging never ran, however carefully
the tags are managed: the two repositories are filled by different builds. This is the
cross-environment check single-file scanners cannot make: guard knows which environment each
manifest, overlay, compose file and task definition belongs to, and compares them.

The same workload means: the same Kubernetes kind, name and container (whatever the
namespace), the same compose service, or the same ECS task family and container. Kustomize
overlays are applied first, so an `images: newName:` in the prod overlay only is caught. Tags
and digests may differ (that is promotion); the registry and repository may not.

**How to fix.** Deploy the repository staging deployed, promoting by tag or digest.

```yaml
# overlays/prod/kustomization.yaml — bad
images:
  - name: registry.example.com/app
    newName: registry.example.com/app-prod
    newTag: 1.4.2
```
```yaml
# good
images:
  - name: registry.example.com/app
    newTag: 1.4.2
```
"#,
    security_severity: "6.0",
    tags: &["build-once", "parity", "kubernetes", "compose", "ecs"],
    check: Some(check_drift),
    tiers: None,
};

/// `registry/repository` of an image, without tag or digest.
fn repository_of(image: &str) -> Option<String> {
    let r = ImageRef::parse(image)?;
    Some(match r.registry {
        Some(reg) => format!("{reg}/{}", r.repository),
        None => r.repository.to_string(),
    })
}

fn check_drift(m: &Model, out: &mut Vec<Finding>) {
    use crate::env::Env;
    use std::collections::BTreeMap;
    // workload identity -> (staging-tier images by environment, prod-tier images)
    type Side<'a> = Vec<(&'a Container, String, Env)>;
    let mut by_workload: BTreeMap<(u8, String, String), (Side<'_>, Side<'_>)> = BTreeMap::new();
    // A workload is known by its names as written when staging and prod
    // both have them, else by its names without its environment's own
    // (`shop-stage-api` in staging is `shop-production-api` in prod).
    let mut tiers_of: BTreeMap<(&str, &str), (bool, bool)> = BTreeMap::new();
    for c in &m.containers {
        if let Some(env) = c.env.filter(|e| e.is_promoted()) {
            let t = tiers_of.entry((&c.owner, &c.name)).or_default();
            if env.is_staging() {
                t.0 = true;
            } else {
                t.1 = true;
            }
        }
    }
    for c in &m.containers {
        let Some(env) = c.env.filter(|e| e.is_promoted()) else {
            continue;
        };
        let Some(repo) = c
            .image
            .as_ref()
            .and_then(|i| i.as_str())
            .and_then(repository_of)
        else {
            continue;
        };
        let platform = match c.platform {
            Platform::Kubernetes => 0,
            Platform::Compose => 1,
            Platform::Ecs => 2,
        };
        let entry = by_workload
            .entry(
                if tiers_of.get(&(c.owner.as_str(), c.name.as_str())) == Some(&(true, true)) {
                    (platform, c.owner.clone(), c.name.clone())
                } else {
                    (
                        platform,
                        m.envs.mask(&c.owner, env),
                        m.envs.mask(&c.name, env),
                    )
                },
            )
            .or_default();
        if env.is_staging() {
            entry.0.push((c, repo, env));
        } else {
            entry.1.push((c, repo, env));
        }
    }
    for (staging, prod) in by_workload.values() {
        // Each staging-tier environment that runs one image: what it tested.
        let mut tested: BTreeMap<Env, (&Container, &str)> = BTreeMap::new();
        let mut mixed = std::collections::BTreeSet::new();
        for (c, repo, env) in staging {
            match tested.get(env) {
                Some((_, r)) if r != repo => {
                    mixed.insert(*env);
                }
                Some(_) => {}
                None => {
                    tested.insert(*env, (c, repo));
                }
            }
        }
        tested.retain(|e, (_, r)| !mixed.contains(e) && !crate::model::image::has_placeholder(r));
        if tested.is_empty() {
            continue; // nothing to compare with
        }
        for (p, p_repo, p_env) in prod {
            if tested.values().any(|(_, r)| r == p_repo)
                || crate::model::image::has_placeholder(p_repo)
            {
                continue;
            }
            let Some(pi) = &p.image else {
                continue;
            };
            let names: Vec<String> = tested
                .iter()
                .map(|(e, (_, r))| format!("`{r}` in {e}"))
                .collect();
            let mut f = IMAGE_DRIFT
                .finding(
                    p.repo_span().unwrap_or(pi.span),
                    format!(
                        "{} runs `{p_repo}` in {p_env} but {}: {p_env} would run an image staging never tested",
                        p.describe(),
                        names.join(" and ")
                    ),
                )
                .env(Some(*p_env))
                .via(&pi.via);
            for (e, (s, r)) in &tested {
                if let Some(si) = &s.image {
                    f = f.related(s.repo_span().unwrap_or(si.span), format!("{e} runs `{r}`"));
                }
            }
            out.push(f);
        }
    }
}

pub static RULES: &[&Rule] = &[&MUTABLE_TAG, &ENV_IN_IMAGE, &COMPOSE_BUILD, &IMAGE_DRIFT];
