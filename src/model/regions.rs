//! Every place that names an AWS region, per environment: Terraform
//! provider `region` (evaluated per root), ECS `awslogs-region`, ECR
//! registry hosts, eksctl `metadata.region`, workflow `AWS_REGION` /
//! `aws-region`. Region rules read this list.

use crate::env::{Env, EnvSet};
use crate::model::containers::Container;
use crate::model::scp::looks_like_region;
use crate::model::{Doc, DocKind};
use crate::node::Node;
use crate::terraform::TfModel;

#[derive(Clone, Debug)]
pub struct RegionUse {
    /// The value node (a literal region name, possibly reached through variables).
    pub node: Node,
    pub region: String,
    pub env: Option<Env>,
    /// What names it: "provider \"aws\" region", "ECS awslogs-region of container `app`".
    pub what: String,
}

fn push(out: &mut Vec<RegionUse>, node: &Node, region: &str, env: Option<Env>, what: String) {
    if looks_like_region(region) {
        out.push(RegionUse {
            node: node.clone(),
            region: region.to_string(),
            env,
            what,
        });
    }
}

/// `123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/app` → the region.
pub fn ecr_region(image: &str) -> Option<&str> {
    let host = image.split('/').next()?;
    let rest = host.split_once(".dkr.ecr.")?.1;
    rest.split('.').next()
}

pub fn collect(
    docs: &[Doc],
    containers: &[Container],
    tf: &TfModel,
    envs: &EnvSet,
) -> Vec<RegionUse> {
    let mut out = Vec::new();
    for root in &tf.roots {
        for p in &root.providers {
            if !p.is_aws_provider() {
                continue;
            }
            if let Some(r) = p.attrs.get("region")
                && let Some(s) = r.as_str()
            {
                let alias = p
                    .attrs
                    .str_at(&["alias"])
                    .map(|a| format!(" (alias `{a}`)"))
                    .unwrap_or_default();
                let module = if p.module_path.is_empty() {
                    String::new()
                } else {
                    format!(" in {}", p.module_path)
                };
                push(
                    &mut out,
                    r,
                    s,
                    root.assignment.env,
                    format!("provider \"aws\"{alias}{module}"),
                );
            }
        }
    }
    for c in containers {
        if let Some(n) = &c.log_region
            && let Some(s) = n.as_str()
        {
            push(
                &mut out,
                n,
                s,
                c.env,
                format!("`awslogs-region` of {}", c.describe()),
            );
        }
        if let Some(img) = &c.image
            && let Some(r) = img.as_str().and_then(ecr_region)
        {
            // Located where the repository (and so the registry) is written.
            let mut at = img.clone();
            at.span = c.repo_span().unwrap_or(img.span);
            push(
                &mut out,
                &at,
                r,
                c.env,
                format!("the ECR registry of {}", c.describe()),
            );
        }
    }
    for d in docs {
        match d.kind {
            DocKind::Eksctl => {
                if let Some(n) = d.root.path(&["metadata", "region"])
                    && let Some(s) = n.as_str()
                {
                    push(
                        &mut out,
                        n,
                        s,
                        d.assignment.env,
                        "the eksctl cluster".into(),
                    );
                }
            }
            DocKind::Workflow => workflow_regions(d, &mut out, envs),
            _ => {}
        }
    }
    out
}

fn workflow_regions(d: &Doc, out: &mut Vec<RegionUse>, envs: &EnvSet) {
    let env_region = |env: Option<&Node>, out: &mut Vec<RegionUse>, scope: &str, e| {
        for entry in env.map(Node::entries).unwrap_or(&[]) {
            let Some(k) = entry.key_str() else { continue };
            if matches!(k, "AWS_REGION" | "AWS_DEFAULT_REGION")
                && let Some(s) = entry.value.as_str()
            {
                push(out, &entry.value, s, e, format!("`{k}` of {scope}"));
            }
        }
    };
    env_region(d.root.get("env"), out, "the workflow", d.assignment.env);
    let Some(jobs) = d.root.get("jobs") else {
        return;
    };
    for j in jobs.entries() {
        let id = j.key_str().unwrap_or("?");
        let job_env = j
            .value
            .get("environment")
            .and_then(|e| if e.is_map() { e.get("name") } else { Some(e) })
            .and_then(Node::as_str)
            .and_then(|s| envs.words(s))
            .or(d.assignment.env);
        env_region(j.value.get("env"), out, &format!("job `{id}`"), job_env);
        for step in j.value.get("steps").map(Node::as_seq).unwrap_or(&[]) {
            if let Some(n) = step.path(&["with", "aws-region"])
                && let Some(s) = n.as_str()
            {
                push(
                    out,
                    n,
                    s,
                    job_env,
                    format!("`aws-region` of a step of job `{id}`"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts() {
        assert_eq!(
            ecr_region("123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/app:1"),
            Some("ap-northeast-1")
        );
        assert_eq!(ecr_region("nginx:1"), None);
    }
}
