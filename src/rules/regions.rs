//! Region limits (article 1.1): everything that names a region is checked
//! against the regions the repository's own SCPs allow.

use super::{Family, Rule};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::model::scp::{denies_for, region_allowed, region_denies, sid};

pub static REGION_NOT_ALLOWED: Rule = Rule {
    id: "REG001",
    name: "region-not-allowed",
    family: Family::Regions,
    severity: Severity::Error,
    summary: "A region is used that the repository's SCPs deny",
    help: "deploy to a region the SCP allows, or change the SCP deliberately",
    explanation: r#"**Why.** The article restricts every DevOU account to Asia Pacific regions (Tokyo,
Singapore) with an SCP so that nobody creates resources in an expensive or unapproved region by
accident (section 1.1). Then every one of its own examples deploys to `us-west-2`: the Terraform
provider, the ECS `awslogs-region`, the eksctl cluster and the workflow's `AWS_REGION`. Such a
deployment fails at apply time with an opaque `AccessDenied` from the SCP, or worse, succeeds
in an account the SCP was not attached to and leaves resources where nobody looks.

guard reads the allowed regions from the repository's own SCPs: a `Deny` statement whose
`Condition` is `StringNotEquals` (or `StringNotLike`) on `aws:RequestedRegion`, in SCP/IAM
JSON files or in Terraform `aws_organizations_policy` content. An SCP whose path names an
environment (`scp/production/...`, `dev-ou-scp.json`) applies to that environment. It then
checks every place that names a region: the Terraform AWS provider `region` (evaluated per
environment, through variables and tfvars), ECS `awslogs-region`, ECR registry hosts,
eksctl `metadata.region`, and workflow `AWS_REGION` / `aws-region`. The finding names the
SCP statement that forbids the region.

**How to fix.** Use an allowed region, or, if the region is really needed, change the SCP
in the same pull request so the decision is reviewed.

```hcl
# bad: the DevOU SCP allows ap-northeast-1 and ap-southeast-1 only
provider "aws" {
  region = "us-west-2"
}
```
```hcl
# good
provider "aws" {
  region = "ap-northeast-1"
}
```
"#,
    security_severity: "5.5",
    tags: &["regions", "aws", "scp", "terraform"],
    check: Some(check),
    tiers: None,
};

fn check(m: &Model, out: &mut Vec<Finding>) {
    let denies = region_denies(&m.policies, true);
    for u in &m.regions {
        // guard.toml's `[regions]` decides where it says something.
        if let Some((allowed, span)) = m.allowed_regions.for_env(u.env) {
            if !region_allowed(allowed, &u.region) {
                let scope = u.env.map(|e| format!(" in {e}")).unwrap_or_default();
                out.push(
                    REGION_NOT_ALLOWED
                        .finding(
                            u.node.span,
                            format!(
                                "region `{}` of {}{scope} is not allowed by guard.toml, which allows only {}",
                                u.region,
                                u.what,
                                allowed.join(", ")
                            ),
                        )
                        .env(u.env)
                        .via(&u.node.via)
                        .related(span, "allowed regions"),
                );
            }
            continue;
        }
        for i in denies_for(&denies, u.env) {
            let d = &denies[i];
            // An SCP of another repository in the same tree says nothing here.
            if m.project_of(d.list.span.file) != m.project_of(u.node.span.file)
                || region_allowed(&d.allowed, &u.region)
            {
                continue;
            }
            let statement = sid(d.statement)
                .map(|(s, _)| format!(" statement `{s}`"))
                .unwrap_or_default();
            let scope = match (u.env, d.policy.env) {
                (Some(e), _) => format!(" in {e}"),
                (None, Some(pe)) => format!(" (applies to all environments, {pe} included)"),
                (None, None) => String::new(),
            };
            out.push(
                REGION_NOT_ALLOWED
                    .finding(
                        u.node.span,
                        format!(
                            "region `{}` of {}{scope} is denied by SCP `{}`{statement}, which allows only {}",
                            u.region,
                            u.what,
                            d.policy.name,
                            d.allowed.join(", ")
                        ),
                    )
                    .env(u.env.or(d.policy.env))
                    .via(&u.node.via)
                    .related(d.list.span, "allowed regions"),
            );
            break;
        }
    }
}

pub static RULES: &[&Rule] = &[&REGION_NOT_ALLOWED];
