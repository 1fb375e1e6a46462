//! SCP hygiene (article 1.1): valid policies within AWS's limits, region
//! denies that leave global services usable, and the guardrails each OU
//! tier's SCPs must hold (dev: no public RDS, CloudTrail stays on; prod:
//! databases and buckets are not deleted). Only SCPs are judged: resource
//! control policies, resource-based and identity policies are told apart by
//! their content (see `model::scp::kind_of`) and left alone.

use super::{Family, Rule};
use crate::env::{Env, Tier};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::model::scp::{
    CondTest, Policy, RegionDeny, not_denied, region_denies, statements, strings,
};
use crate::node::Node;
use crate::source::Span;

/// The size limit AWS Organizations puts on an SCP document (characters,
/// white space outside strings excluded).
const SCP_MAX_CHARS: usize = 5120;

pub static SCP_INVALID: Rule = Rule {
    id: "SCP001",
    name: "scp-invalid",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "A service control policy is not a valid SCP (version, effect, action, resource, principal)",
    help: "use Version 2012-10-17, Effect Allow/Deny, exactly one of Action/NotAction and of Resource/NotResource, and no Principal",
    explanation: r#"**Why.** The article makes SCPs the organisation's "supreme executive order" (section
1.1): they decide what each OU's accounts can never do. An SCP that AWS Organizations rejects is
never attached, and the guardrail the team believes in does not exist. The common mistakes:
a missing or old `Version` (`2008-10-17` disables policy variables), an `Effect` other than
`Allow`/`Deny`, a statement with neither `Action` nor `NotAction` (or both), a statement without
`Resource`/`NotResource` (or with both), and a `Principal` or `NotPrincipal` (an SCP applies to
every principal of the account and rejects the element; `Condition` is allowed).

guard judges SCPs only, told apart by their content: a policy whose statements carry
`Principal: "*"` with `aws:` condition keys on resource-side services (S3, STS, SQS, KMS,
Secrets Manager) is a resource control policy, a policy with another `Principal` is a
resource-based policy, and an allow-only policy outside the organization's policies is an
identity policy; none of them is checked here. A Terraform `aws_organizations_policy` says
its type outright (`SERVICE_CONTROL_POLICY`, the default, or `RESOURCE_CONTROL_POLICY`); its
`content` is read through `jsonencode` or a JSON string.

**How to fix.**

```json
{ "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "rds:DeleteDBInstance" }] }
```
```json
{ "Version": "2012-10-17",
  "Statement": [{ "Effect": "Deny", "Action": "rds:DeleteDBInstance", "Resource": "*" }] }
```
"#,
    security_severity: "6.0",
    tags: &["scp", "aws", "organizations"],
    check: Some(check_invalid),
    tiers: None,
};

fn check_invalid(m: &Model, out: &mut Vec<Finding>) {
    for p in m.policies.iter().filter(|p| p.is_scp()) {
        let mut report = |span, what: String| {
            out.push(
                SCP_INVALID
                    .finding(span, format!("SCP `{}` {what}", p.name))
                    .env(p.env),
            );
        };
        match p.root.get("Version") {
            None => report(p.root.span, "has no `Version` (use \"2012-10-17\")".into()),
            Some(v) if v.as_str() != Some("2012-10-17") => report(
                v.span,
                format!(
                    "has Version `{}`; SCPs need \"2012-10-17\"",
                    v.scalar_text().unwrap_or_default()
                ),
            ),
            _ => {}
        }
        let sts = statements(&p.root);
        if sts.is_empty() {
            report(p.root.span, "has no `Statement`".into());
        }
        for st in sts {
            match st.get("Effect") {
                Some(e) if matches!(e.as_str(), Some("Allow" | "Deny")) => {}
                Some(e) => report(
                    e.span,
                    "has a statement whose Effect is not Allow or Deny".into(),
                ),
                None => report(st.span, "has a statement without `Effect`".into()),
            }
            for (key, not_key) in [("Action", "NotAction"), ("Resource", "NotResource")] {
                match (st.entry(key), st.entry(not_key)) {
                    (None, None) => report(
                        st.span,
                        format!("has a statement with neither `{key}` nor `{not_key}`"),
                    ),
                    (Some(_), Some(both)) => report(
                        both.key.span,
                        format!("has a statement with both `{key}` and `{not_key}`"),
                    ),
                    _ => {}
                }
            }
            for key in ["Principal", "NotPrincipal"] {
                if let Some(e) = st.entry(key) {
                    report(
                        e.key.span,
                        format!("has a `{key}` element, which SCPs do not support"),
                    );
                }
            }
        }
    }
}

pub static SCP_TOO_LARGE: Rule = Rule {
    id: "SCP003",
    name: "scp-too-large",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "A service control policy is over AWS Organizations' 5,120-character limit",
    help: "split the SCP into several (up to five per OU), or merge statements and use wildcards such as `rds:Delete*`",
    explanation: r#"**Why.** The SCPs of the article's OUs (section 1.1) grow statement by statement: a
region deny, public RDS, CloudTrail, deletion guards. AWS Organizations refuses an SCP over
5,120 characters (it counts after removing the white space outside strings), so the policy
that carries the new guardrail is never created or updated, and the apply fails; on an update
the OU keeps the old policy and everyone believes in the new one.

guard counts the characters as AWS does: a JSON file's own text without the white space outside
strings, a Terraform `jsonencode(...)` as the compact JSON Terraform sends, a JSON string or
heredoc as written.

**How to fix.** Split the statements over several SCPs attached to the same OU (up to five per
target), merge statements that share an effect, resource and condition, and use action
wildcards.

```json
{ "Effect": "Deny", "Action": ["rds:DeleteDBInstance", "rds:DeleteDBCluster", "rds:DeleteDBSnapshot",
  "rds:DeleteDBClusterSnapshot", "rds:DeleteGlobalCluster", "..."], "Resource": "*" }
```
```json
{ "Effect": "Deny", "Action": ["rds:Delete*"], "Resource": "*" }
```
"#,
    security_severity: "5.0",
    tags: &["scp", "aws", "organizations"],
    check: Some(check_size),
    tiers: None,
};

fn check_size(m: &Model, out: &mut Vec<Finding>) {
    for p in m.policies.iter().filter(|p| p.is_scp()) {
        if p.size > SCP_MAX_CHARS {
            out.push(
                SCP_TOO_LARGE
                    .finding(
                        top_key(p),
                        format!(
                            "SCP `{}` is {} characters without white space, over the {SCP_MAX_CHARS}-character SCP limit",
                            p.name, p.size
                        ),
                    )
                    .env(p.env),
            );
        }
    }
}

/// Where a policy-wide finding points: the `Statement` key, else the
/// document.
fn top_key(p: &Policy) -> Span {
    p.root
        .entry("Statement")
        .or_else(|| p.root.entries().first())
        .map_or(p.root.span, |e| e.key.span)
}

pub static SCP_DENY_ALL: Rule = Rule {
    id: "SCP004",
    name: "scp-denies-everything",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "An SCP denies every action on every resource without a condition, locking the whole OU out",
    help: "deny the actions you mean, or add the condition (region, principal) that scopes the deny",
    explanation: r#"**Why.** An SCP applies to every principal of every account under its OU, the
account's root user and administrators included (section 1.1 of the article). A statement
`"Effect": "Deny", "Action": "*", "Resource": "*"` without a `Condition` denies everything to
all of them: no console, no Terraform, no break-glass role. Only the management account can
detach the policy again. It is usually a region deny or an exemption whose `Condition` was lost
in an edit, or a "quarantine" SCP attached to the wrong target.

**How to fix.** Deny only the actions you mean, or keep the condition that scopes the deny (the
regions, the principals it exempts). To quarantine an account, move it to a dedicated OU.

```json
{ "Effect": "Deny", "Action": "*", "Resource": "*" }
```
```json
{ "Effect": "Deny",
  "NotAction": ["iam:*", "sts:*", "organizations:*", "cloudfront:*", "route53:*", "support:*"],
  "Resource": "*",
  "Condition": { "StringNotEquals": { "aws:RequestedRegion": ["ap-northeast-1", "ap-southeast-1"] } } }
```
"#,
    security_severity: "7.0",
    tags: &["scp", "aws", "organizations"],
    check: Some(check_deny_all),
    tiers: None,
};

fn check_deny_all(m: &Model, out: &mut Vec<Finding>) {
    let star = |n: &&Node| matches!(n.as_str(), Some("*" | "*:*"));
    for p in m.policies.iter().filter(|p| p.is_scp()) {
        for st in statements(&p.root) {
            if st.str_at(&["Effect"]) != Some("Deny")
                || st.get("NotAction").is_some()
                || st.get("NotResource").is_some()
                || st.get("Condition").is_some_and(|c| !c.entries().is_empty())
            {
                continue;
            }
            let Some(action) = strings(st.get("Action")).into_iter().find(star) else {
                continue;
            };
            let resource_all =
                st.get("Resource").is_none() || strings(st.get("Resource")).iter().any(star);
            if resource_all {
                out.push(
                    SCP_DENY_ALL
                        .finding(
                            action.span,
                            format!(
                                "SCP `{}` denies every action on every resource without a condition: every account of its OU is locked out",
                                p.name
                            ),
                        )
                        .env(p.env),
                );
            }
        }
    }
}

/// Services that are global (their API lives in us-east-1) and must stay
/// usable from every account: a region deny has to exempt them.
const GLOBAL_SERVICES: &[&str] = &[
    "iam",
    "sts",
    "organizations",
    "cloudfront",
    "route53",
    "support",
];

pub static REGION_DENY_GLOBAL: Rule = Rule {
    id: "SCP002",
    name: "region-deny-blocks-global-services",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "A region-restricting SCP does not exempt global services (IAM, STS, Organizations, CloudFront, Route 53, Support)",
    help: "write the region deny with NotAction listing iam:*, sts:*, organizations:*, cloudfront:*, route53:*, support:*",
    explanation: r#"**Why.** The article limits DevOU accounts to Tokyo and Singapore with an SCP (section
1.1). Global services — IAM, STS, AWS Organizations, CloudFront, Route 53, Support — are served
from `us-east-1` whatever region the caller uses. A `Deny` on every action whose
`aws:RequestedRegion` is not Tokyo or Singapore therefore also denies creating IAM roles,
assuming roles through the global STS endpoint, editing DNS and opening support cases: the
account's own administrators are locked out, and Terraform fails on its first IAM resource.

guard reports a region deny (a `Deny` with `StringNotEquals`/`StringNotLike` on
`aws:RequestedRegion`) that uses `Action` instead of `NotAction`, or whose `NotAction` leaves
any of the global services out.

**How to fix.** Deny with `NotAction`, listing the global services that must keep working.

```json
{ "Effect": "Deny", "Action": "*", "Resource": "*",
  "Condition": { "StringNotEquals": { "aws:RequestedRegion": ["ap-northeast-1", "ap-southeast-1"] } } }
```
```json
{ "Effect": "Deny",
  "NotAction": ["iam:*", "sts:*", "organizations:*", "cloudfront:*", "route53:*", "support:*"],
  "Resource": "*",
  "Condition": { "StringNotEquals": { "aws:RequestedRegion": ["ap-northeast-1", "ap-southeast-1"] } } }
```
"#,
    security_severity: "5.0",
    tags: &["scp", "aws", "regions", "organizations"],
    check: Some(check_global),
    tiers: None,
};

fn exempted(not_actions: &[&crate::node::Node], service: &str) -> bool {
    not_actions.iter().any(|n| {
        n.as_str().is_some_and(|a| {
            a == "*"
                || a.split_once(':')
                    .is_some_and(|(svc, _)| svc.eq_ignore_ascii_case(service))
        })
    })
}

fn check_global(m: &Model, out: &mut Vec<Finding>) {
    for RegionDeny {
        policy, statement, ..
    } in region_denies(&m.policies, false)
    {
        if !policy.is_scp() {
            continue;
        }
        if let Some(action) = statement.get("Action") {
            out.push(
                REGION_DENY_GLOBAL
                    .finding(
                        action.span,
                        format!(
                            "SCP `{}` denies `Action` outside its regions, which also blocks the global services {}",
                            policy.name,
                            GLOBAL_SERVICES.join(", ")
                        ),
                    )
                    .env(policy.env),
            );
            continue;
        }
        let Some(not_action) = statement.get("NotAction") else {
            continue;
        };
        let listed = strings(Some(not_action));
        let missing: Vec<&str> = GLOBAL_SERVICES
            .iter()
            .copied()
            .filter(|s| !exempted(&listed, s))
            .collect();
        if !missing.is_empty() {
            out.push(
                REGION_DENY_GLOBAL
                    .finding(
                        not_action.span,
                        format!(
                            "SCP `{}` region deny does not exempt the global services {}",
                            policy.name,
                            missing.join(", ")
                        ),
                    )
                    .env(policy.env),
            );
        }
    }
}

/// The SCPs of one OU tier in one project: those written for the
/// environment, and those for every environment (the same project's SCPs
/// without one, which may be attached above the OU).
struct OuScps<'m> {
    env: Env,
    own: Vec<&'m Policy>,
    common: Vec<&'m Policy>,
}

impl OuScps<'_> {
    fn all(&self) -> Vec<&Policy> {
        self.own.iter().chain(&self.common).copied().collect()
    }

    /// Where a finding points: the `Statement` key of the first of its own
    /// SCPs that denies anything, else of the first.
    fn anchor(&self) -> Option<&Policy> {
        self.own
            .iter()
            .copied()
            .find(|p| {
                statements(&p.root)
                    .iter()
                    .any(|st| st.str_at(&["Effect"]) == Some("Deny"))
            })
            .or_else(|| self.own.first().copied())
    }
}

/// The SCPs of every OU whose environment `wanted` selects, grouped by
/// project and environment. An OU tier with no SCP of its own gives none.
fn ou_scps(m: &Model, wanted: fn(Env) -> bool) -> Vec<OuScps<'_>> {
    let mut seen: Vec<Span> = Vec::new();
    let mut groups: Vec<(&str, OuScps<'_>)> = Vec::new();
    let mut common: Vec<(&str, &Policy)> = Vec::new();
    for p in m.policies.iter().filter(|p| p.is_scp()) {
        // A Terraform policy evaluated in several roots is one policy.
        if seen.contains(&p.root.span) {
            continue;
        }
        seen.push(p.root.span);
        let project = m.project_of(p.root.span.file);
        match p.env {
            None => common.push((project, p)),
            Some(e) if wanted(e) => {
                match groups
                    .iter_mut()
                    .find(|(pr, g)| *pr == project && g.env == e)
                {
                    Some((_, g)) => g.own.push(p),
                    None => groups.push((
                        project,
                        OuScps {
                            env: e,
                            own: vec![p],
                            common: Vec::new(),
                        },
                    )),
                }
            }
            Some(_) => {}
        }
    }
    groups
        .into_iter()
        .map(|(project, mut g)| {
            g.common = common
                .iter()
                .filter(|(pr, _)| *pr == project)
                .map(|(_, p)| *p)
                .collect();
            g
        })
        .collect()
}

fn is_dev(e: Env) -> bool {
    e.tier() == Tier::Dev
}

/// Report one OU's missing denies at its anchor SCP.
fn report_ou(
    rule: &'static Rule,
    g: &OuScps<'_>,
    missing: &[&str],
    what: &str,
    out: &mut Vec<Finding>,
) {
    let Some(anchor) = g.anchor() else {
        return;
    };
    let names: Vec<String> = g.own.iter().map(|p| format!("`{}`", p.name)).collect();
    let also = match g.common.as_slice() {
        [] => String::new(),
        [one] => format!(", nor does `{}`, written for every environment", one.name),
        [first, rest @ ..] => format!(
            ", nor do `{}` and {} more SCP(s) written for every environment",
            first.name,
            rest.len()
        ),
    };
    let mut f = rule
        .finding(
            top_key(anchor),
            format!(
                "the {} OU's SCPs ({}) do not deny {}{also}: {what}",
                g.env,
                names.join(", "),
                missing.join(", ")
            ),
        )
        .env(Some(g.env));
    for p in g.own.iter().filter(|p| !std::ptr::eq(**p, anchor)) {
        f = f.related(top_key(p), format!("another SCP of the {} OU", g.env));
    }
    out.push(f);
}

/// Actions that make an RDS instance public (the article's DevOU SCP denies
/// them with `rds:PubliclyAccessible`).
const PUBLIC_RDS_ACTIONS: &[&str] = &["rds:CreateDBInstance", "rds:ModifyDBInstance"];

/// `Bool: {"rds:PubliclyAccessible": "true"}`: the deny is about making the
/// database public.
fn publicly_accessible_true(op: &str, key: &str, value: &Node) -> bool {
    key == "rds:publiclyaccessible"
        && op.to_ascii_lowercase().starts_with("bool")
        && strings(Some(value))
            .iter()
            .chain(std::iter::once(&value))
            .any(|v| {
                v.scalar_text()
                    .is_some_and(|t| t.eq_ignore_ascii_case("true"))
            })
}

pub static DEV_PUBLIC_RDS: Rule = Rule {
    id: "SCP005",
    name: "dev-ou-allows-public-rds",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "The dev OU's SCPs do not deny creating or modifying a publicly accessible RDS instance",
    help: "deny rds:CreateDBInstance and rds:ModifyDBInstance when rds:PubliclyAccessible is true in an SCP attached to the dev OU",
    explanation: r#"**Why.** In the article's account layout (section 1.1), developers get broad
permissions in the DevOU accounts so that they can move fast, and the DevOU's SCP is the last
guardrail on what they can do: IAM policies in a dev account are the developers' own to change,
an SCP is not. Its first job is to keep a database from being exposed to the internet: a
`publicly_accessible = true` typed for a quick test turns dev data (often a copy of production)
into a public endpoint. The article's DevOU SCP denies `rds:CreateDBInstance` and
`rds:ModifyDBInstance` with `rds:PubliclyAccessible` true.

guard takes the SCPs of each dev-tier OU together (the environment comes from guard.toml, the
path or file name — `organizations/dev/`, `dev-ou-scp.json`, `DevOU/` —, or the target of a
Terraform `aws_organizations_policy_attachment`), plus the same project's SCPs that name no
environment, and reports when none of them denies both actions. Wildcards count
(`rds:*`, `rds:Create*`); a deny only counts when its conditions are
`rds:PubliclyAccessible` true or exemptions of named principals (`ArnNotLike`
`aws:PrincipalArn`) — a region deny stops the action outside its regions only. When no SCP
is written for a dev OU, guard says nothing.

**How to fix.** A dev OU whose only SCP guards CloudTrail lets developers open a database to
the internet; add the article's statement to it.

```json
{ "Sid": "DenyCloudTrailDisable", "Effect": "Deny",
  "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*" }
```
```json
{ "Sid": "DenyPublicRds", "Effect": "Deny",
  "Action": ["rds:CreateDBInstance", "rds:ModifyDBInstance"], "Resource": "*",
  "Condition": { "Bool": { "rds:PubliclyAccessible": "true" } } }
```
"#,
    security_severity: "7.5",
    tags: &["scp", "aws", "organizations", "rds", "dev"],
    check: Some(check_dev_public_rds),
    tiers: None,
};

fn check_dev_public_rds(m: &Model, out: &mut Vec<Finding>) {
    let extra: &CondTest<'_> = &publicly_accessible_true;
    for g in ou_scps(m, is_dev) {
        let missing = not_denied(&g.all(), PUBLIC_RDS_ACTIONS, extra);
        if !missing.is_empty() {
            report_ou(
                &DEV_PUBLIC_RDS,
                &g,
                &missing,
                "a developer can make a database publicly accessible",
                out,
            );
        }
    }
}

/// Actions that stop or blind CloudTrail.
const CLOUDTRAIL_ACTIONS: &[&str] = &[
    "cloudtrail:StopLogging",
    "cloudtrail:DeleteTrail",
    "cloudtrail:UpdateTrail",
    "cloudtrail:PutEventSelectors",
];

pub static DEV_CLOUDTRAIL: Rule = Rule {
    id: "SCP006",
    name: "dev-ou-allows-disabling-cloudtrail",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "The dev OU's SCPs do not deny stopping, deleting or reconfiguring CloudTrail",
    help: "deny cloudtrail:StopLogging, DeleteTrail, UpdateTrail and PutEventSelectors (or cloudtrail:*) in an SCP attached to the dev OU",
    explanation: r#"**Why.** The DevOU's SCP is the last guardrail on what developers can do in
their accounts (article, section 1.1): they may change their own IAM policies, but not the
audit trail that records what they did. The article's DevOU SCP denies
`cloudtrail:StopLogging` and `cloudtrail:DeleteTrail`; that is not enough, because a trail
that keeps "logging" can still be blinded: `cloudtrail:UpdateTrail` points it at another bucket
or turns off multi-region logging, and `cloudtrail:PutEventSelectors` stops recording
management events. All four must be denied.

guard takes the SCPs of each dev-tier OU together (plus the same project's SCPs that name no
environment) and lists the actions none of them denies. Wildcards count (`cloudtrail:*`,
`cloudtrail:Stop*`), and so do denies that exempt a named principal (`ArnNotLike`
`aws:PrincipalArn`); other conditions narrow a deny and do not count. When no SCP is written
for a dev OU, guard says nothing.

**How to fix.**

```json
{ "Sid": "DenyCloudTrailDisable", "Effect": "Deny",
  "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*" }
```
```json
{ "Sid": "DenyCloudTrailDisable", "Effect": "Deny",
  "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail",
             "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors"],
  "Resource": "*" }
```
"#,
    security_severity: "7.0",
    tags: &["scp", "aws", "organizations", "cloudtrail", "dev"],
    check: Some(check_dev_cloudtrail),
    tiers: None,
};

fn check_dev_cloudtrail(m: &Model, out: &mut Vec<Finding>) {
    let extra: &CondTest<'_> = &|_, _, _| false;
    for g in ou_scps(m, is_dev) {
        let missing = not_denied(&g.all(), CLOUDTRAIL_ACTIONS, extra);
        if !missing.is_empty() {
            report_ou(
                &DEV_CLOUDTRAIL,
                &g,
                &missing,
                "a developer can turn off the audit trail",
                out,
            );
        }
    }
}

/// Actions that delete a database or a bucket.
const DELETE_DATA_ACTIONS: &[&str] = &[
    "rds:DeleteDBInstance",
    "rds:DeleteDBCluster",
    "s3:DeleteBucket",
];

pub static PROD_DELETE_DATA: Rule = Rule {
    id: "SCP007",
    name: "prod-ou-allows-deleting-data",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "The prod OU's SCPs do not deny deleting databases and buckets (except for a named admin role)",
    help: "deny rds:DeleteDBInstance, rds:DeleteDBCluster and s3:DeleteBucket in the prod OU's SCP, exempting one admin role with ArnNotLike aws:PrincipalArn",
    explanation: r#"**Why.** The article's ProdOU exists to protect production data (section 1.1):
whoever holds an administrator role in a prod account — a pipeline, an on-call engineer, a
mistyped `terraform destroy` against the wrong workspace — can otherwise delete the database
and the buckets that hold it, and IAM policies in the account are the account's own to change.
An SCP on the prod OU denies deleting them to everyone but a named break-glass admin role.

guard takes the SCPs of each prod-tier OU together (the environment comes from guard.toml, the
path or file name — `scp/production/`, `ProdOU/`, `Workloads/Prod/` —, or the target of a
Terraform `aws_organizations_policy_attachment`), plus the same project's SCPs that name no
environment, and lists the actions none of them denies on every resource. Wildcards count
(`rds:Delete*`, `s3:Delete*`); an exemption of named principals (`ArnNotLike`
`aws:PrincipalArn`) keeps a deny counted, other conditions (regions, tags) narrow it and do
not, nor does a deny of named buckets only. When no SCP is written for a prod OU, guard says
nothing.

**How to fix.**

```json
{ "Sid": "DenyDeleteTrail", "Effect": "Deny", "Action": "cloudtrail:DeleteTrail", "Resource": "*" }
```
```json
{ "Sid": "ProtectData", "Effect": "Deny",
  "Action": ["rds:DeleteDBInstance", "rds:DeleteDBCluster", "s3:DeleteBucket"],
  "Resource": "*",
  "Condition": { "ArnNotLike": { "aws:PrincipalArn": "arn:aws:iam::*:role/BreakGlassAdmin" } } }
```
"#,
    security_severity: "7.5",
    tags: &["scp", "aws", "organizations", "rds", "s3", "prod"],
    check: Some(check_prod_delete),
    tiers: None,
};

fn check_prod_delete(m: &Model, out: &mut Vec<Finding>) {
    let extra: &CondTest<'_> = &|_, _, _| false;
    for g in ou_scps(m, Env::is_prod) {
        let missing = not_denied(&g.all(), DELETE_DATA_ACTIONS, extra);
        if !missing.is_empty() {
            report_ou(
                &PROD_DELETE_DATA,
                &g,
                &missing,
                "anyone with admin rights in a prod account can delete production data",
                out,
            );
        }
    }
}

pub static RULES: &[&Rule] = &[
    &SCP_INVALID,
    &REGION_DENY_GLOBAL,
    &SCP_TOO_LARGE,
    &SCP_DENY_ALL,
    &DEV_PUBLIC_RDS,
    &DEV_CLOUDTRAIL,
    &PROD_DELETE_DATA,
];
