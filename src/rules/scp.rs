//! SCP hygiene (article 1.1): valid policies, and region denies that leave
//! global services usable.

use super::{Family, Rule};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::model::scp::{RegionDeny, region_denies, statements, strings};

/// The size limit AWS Organizations puts on an SCP document (characters,
/// white space excluded).
const SCP_MAX_CHARS: usize = 5120;

pub static SCP_INVALID: Rule = Rule {
    id: "SCP001",
    name: "scp-invalid",
    family: Family::Scp,
    severity: Severity::Error,
    summary: "A service control policy is not a valid SCP (version, effect, action, principal, size)",
    help: "use Version 2012-10-17, Effect Allow/Deny, Action or NotAction, no Principal, and stay under 5,120 characters",
    explanation: r#"**Why.** The article makes SCPs the organisation's "supreme executive order" (section
1.1): they decide what each OU's accounts can never do. An SCP that AWS Organizations rejects is
never attached, and the guardrail the team believes in does not exist. The common mistakes:
a missing or old `Version` (`2008-10-17` disables policy variables), an `Effect` other than
`Allow`/`Deny`, a statement with neither `Action` nor `NotAction`, a `Principal` (SCPs apply to
every principal of the account and reject the element), and a document over the 5,120-character
limit.

guard checks SCP JSON files (paths that mention `scp`, `service-control` or `organization`)
and the evaluated `content` of Terraform `aws_organizations_policy` resources of type
`SERVICE_CONTROL_POLICY` (through `jsonencode` or a JSON string).

**How to fix.**

```json
{ "Statement": [{ "Effect": "Deny", "Principal": "*", "Action": "rds:DeleteDBInstance", "Resource": "*" }] }
```
```json
{ "Version": "2012-10-17",
  "Statement": [{ "Effect": "Deny", "Action": "rds:DeleteDBInstance", "Resource": "*" }] }
```
"#,
    security_severity: "6.0",
    tags: &["scp", "aws", "organizations"],
    check: Some(check_invalid),
};

fn check_invalid(m: &Model, out: &mut Vec<Finding>) {
    for p in m.policies.iter().filter(|p| p.is_scp) {
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
            if st.get("Action").is_none() && st.get("NotAction").is_none() {
                report(
                    st.span,
                    "has a statement with neither `Action` nor `NotAction`".into(),
                );
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
        let size = serde_json::to_string(&p.root.to_json()).map_or(0, |s| s.len());
        if size > SCP_MAX_CHARS {
            report(
                p.root.span,
                format!("is {size} characters, over the {SCP_MAX_CHARS}-character SCP limit"),
            );
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

pub static RULES: &[&Rule] = &[&SCP_INVALID, &REGION_DENY_GLOBAL];
