//! Hardening drift: a protection prod has and staging lacks (issue 18.4).
//! Reuses the environment pairs and configuration matching of PAR001.

use std::collections::BTreeMap;

use super::bool_of;
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::node::{Node, Value};
use crate::rules::parity::{configuration_of, paired_resources, pairs};
use crate::rules::{Family, Rule, TierSeverity};
use crate::source::Span;
use crate::terraform::RootEval;

pub static DRIFT: Rule = Rule {
    id: "HD079",
    name: "hardening-drift",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "Staging lacks a protection prod has (encryption, deletion protection, IMDSv2, public access block...)",
    help: "give staging the same protection as prod: staging must test what prod runs",
    explanation: r#"**Why.** The article's staging is "a mirror of production, the last line of defence" (section
1.2). When prod has `deletion_protection = true` and staging false, or prod's volumes are
encrypted and staging's are not, the change that will one day touch that protection (a key
rotation, an engine upgrade with encryption, a refactoring that would recreate the database) is
never rehearsed where it can fail safely; and staging, which often holds copies of prod data, is
the weaker copy. guard pairs each staging-tier root with the prod-tier root of the same
configuration exactly as PAR001 does (`[parity] pairs` in guard.toml chooses the pairs), matches
resources by address, and compares hardening settings: RDS/Aurora `storage_encrypted`,
`deletion_protection`, `iam_database_authentication_enabled`; the four flags of
`aws_s3_bucket_public_access_block`; `metadata_options.http_tokens` of instances and launch
templates; `aws_ebs_volume.encrypted`; EKS secrets encryption and private endpoint; KMS key
rotation; CloudTrail multi-region and log validation; ECR immutable tags and scan on push.
Sizes and redundancy (Multi-AZ, backup retention) may differ and are not compared. A value that
cannot be known statically is never compared.

The finding is at staging's deciding line (its tfvars line, with the chain of variables, or the
resource when staging leaves the attribute at its default), with prod's line as related, and is a
warning.

Equivalent checks: none; Checkov, Trivy and KICS check each file alone and cannot compare
environments. Each setting's own rule (HD050, HD051, HD053, HD057, HD065, HD066, HD068, HD073,
HD075, HD077) maps to their ids.

**How to fix.**

```hcl
# environments/staging/terraform.tfvars — bad
deletion_protection = false
# environments/prod/terraform.tfvars
deletion_protection = true
```
```hcl
# environments/staging/terraform.tfvars — good
deletion_protection = true
```
"#,
    security_severity: "5.0",
    tags: &["hardening", "aws", "parity", "environments", "terraform"],
    check: Some(check),
    tiers: Some(TierSeverity {
        dev: None,
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

/// How strong a setting is: `Some(true)` protected, `Some(false)` not,
/// `None` unknown (never compared).
type Strength = fn(Option<&Node>) -> Option<bool>;

fn flag(n: Option<&Node>) -> Option<bool> {
    match n {
        None => Some(false),
        Some(n) if n.value == Value::Null => Some(false),
        Some(n) if n.is_unknown() => None,
        Some(n) => bool_of(n),
    }
}

fn tokens_required(n: Option<&Node>) -> Option<bool> {
    match n {
        None => Some(false),
        Some(n) if n.is_unknown() => None,
        Some(n) => n.as_str().map(|s| s == "required"),
    }
}

fn immutable(n: Option<&Node>) -> Option<bool> {
    match n {
        None => Some(false),
        Some(n) if n.is_unknown() => None,
        Some(n) => n.as_str().map(|s| s.starts_with("IMMUTABLE")),
    }
}

fn present(n: Option<&Node>) -> Option<bool> {
    match n {
        None => Some(false),
        Some(n) if n.is_unknown() => None,
        Some(n) => Some(n.is_map() || !n.as_seq().is_empty()),
    }
}

/// `endpoint_public_access` false: the default is a public endpoint.
fn private_endpoint(n: Option<&Node>) -> Option<bool> {
    match n {
        None => Some(false),
        Some(n) if n.is_unknown() => None,
        Some(n) => bool_of(n).map(|public| !public),
    }
}

/// (resource types, path of blocks and attribute, what it is, strength).
const SETTINGS: &[(&[&str], &[&str], &str, Strength)] = &[
    (
        &["aws_db_instance", "aws_rds_cluster"],
        &["storage_encrypted"],
        "encrypted storage",
        flag,
    ),
    (
        &["aws_db_instance", "aws_rds_cluster"],
        &["deletion_protection"],
        "deletion protection",
        flag,
    ),
    (
        &["aws_db_instance", "aws_rds_cluster"],
        &["iam_database_authentication_enabled"],
        "IAM database authentication",
        flag,
    ),
    (
        &["aws_s3_bucket_public_access_block"],
        &["block_public_acls"],
        "`block_public_acls`",
        flag,
    ),
    (
        &["aws_s3_bucket_public_access_block"],
        &["block_public_policy"],
        "`block_public_policy`",
        flag,
    ),
    (
        &["aws_s3_bucket_public_access_block"],
        &["ignore_public_acls"],
        "`ignore_public_acls`",
        flag,
    ),
    (
        &["aws_s3_bucket_public_access_block"],
        &["restrict_public_buckets"],
        "`restrict_public_buckets`",
        flag,
    ),
    (
        &["aws_instance", "aws_launch_template"],
        &["metadata_options", "http_tokens"],
        "IMDSv2 required",
        tokens_required,
    ),
    (&["aws_ebs_volume"], &["encrypted"], "encryption", flag),
    (
        &["aws_eks_cluster"],
        &["encryption_config"],
        "secrets encryption",
        present,
    ),
    (
        &["aws_eks_cluster"],
        &["vpc_config", "endpoint_public_access"],
        "a private API endpoint",
        private_endpoint,
    ),
    (
        &["aws_kms_key"],
        &["enable_key_rotation"],
        "key rotation",
        flag,
    ),
    (
        &["aws_cloudtrail"],
        &["is_multi_region_trail"],
        "multi-region logging",
        flag,
    ),
    (
        &["aws_cloudtrail"],
        &["enable_log_file_validation"],
        "log file validation",
        flag,
    ),
    (
        &["aws_ecr_repository"],
        &["image_tag_mutability"],
        "immutable tags",
        immutable,
    ),
    (
        &["aws_ecr_repository"],
        &["image_scanning_configuration", "scan_on_push"],
        "scan on push",
        flag,
    ),
];

/// Follow a path of keys through nested blocks (a block list: its first).
fn dig<'a>(attrs: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let mut cur = attrs;
    for (i, k) in path.iter().enumerate() {
        let mut n = cur.get(k)?;
        if i + 1 < path.len()
            && let Value::Seq(items) = &n.value
        {
            n = items.first()?;
        }
        cur = n;
    }
    Some(cur)
}

fn root_pairs(m: &Model) -> Vec<(&RootEval, &RootEval)> {
    let mut out = Vec::new();
    for (lower, upper) in pairs(m) {
        let roots_of = |e| {
            let mut by: BTreeMap<String, Vec<&RootEval>> = BTreeMap::new();
            for r in m
                .terraform
                .roots
                .iter()
                .filter(|r| r.assignment.env == Some(e))
            {
                by.entry(configuration_of(m, r)).or_default().push(r);
            }
            by
        };
        let (lows, ups) = (roots_of(lower), roots_of(upper));
        for (config, low) in &lows {
            if let (Some(up), [l]) = (ups.get(config), low.as_slice())
                && let [u] = up.as_slice()
            {
                out.push((*l, *u));
            }
        }
    }
    out
}

fn check(m: &Model, out: &mut Vec<Finding>) {
    let mut seen: BTreeMap<(Span, &str), ()> = BTreeMap::new();
    for (low, up) in root_pairs(m) {
        let (Some(lenv), Some(uenv)) = (low.assignment.env, up.assignment.env) else {
            continue;
        };
        let (lows, ups) = paired_resources(m, (low, lenv), (up, uenv));
        for (key, lr) in &lows {
            let Some(ur) = ups.get(key) else {
                continue;
            };
            if ur.rtype != lr.rtype {
                continue;
            }
            for (types, path, what, strength) in SETTINGS {
                if !types.contains(&lr.rtype.as_str()) {
                    continue;
                }
                let (ln, un) = (dig(&lr.attrs, path), dig(&ur.attrs, path));
                if strength(un) != Some(true) || strength(ln) != Some(false) {
                    continue;
                }
                let (span, via) = match ln {
                    Some(n) if n.span != Span::default() => (n.span, n.via.clone()),
                    _ => (lr.span, None),
                };
                if seen.insert((span, what), ()).is_some() {
                    continue;
                }
                let attr = path.join(".");
                let prod_at = un.map(|n| n.span).unwrap_or(ur.span);
                out.push(
                    DRIFT
                        .finding(
                            span,
                            format!(
                                "{} has {what} (`{attr}`) in {uenv} but not in {lenv}: {lenv} does not test the protection {uenv} relies on",
                                lr.address()
                            ),
                        )
                        .env(Some(lenv))
                        .via(&via)
                        .related(prod_at, format!("{uenv} sets `{attr}` here")),
                );
            }
        }
    }
}
