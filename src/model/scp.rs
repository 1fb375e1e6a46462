//! Service control policies: from SCP/IAM JSON files and from Terraform
//! `aws_organizations_policy` content, and the regions they allow.

use crate::env::Env;
use crate::model::{Doc, DocKind};
use crate::node::Node;
use crate::source::Span;
use crate::terraform::TfModel;

#[derive(Clone, Debug)]
pub struct Policy {
    /// The file path or the Terraform address.
    pub name: String,
    pub root: Node,
    pub env: Option<Env>,
    /// Known to be an SCP (an `aws_organizations_policy` of type
    /// SERVICE_CONTROL_POLICY, or a policy file under a path that says so);
    /// otherwise an IAM policy document of unknown use.
    pub is_scp: bool,
}

fn path_says_scp(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.contains("scp")
        || p.contains("service-control")
        || p.contains("service_control")
        || p.contains("organization")
}

pub fn collect(
    sources: &crate::source::SourceMap,
    docs: &[Doc],
    paths: &dyn Fn(&Doc) -> String,
    tf: &TfModel,
) -> Vec<Policy> {
    let mut out = Vec::new();
    for d in docs {
        if d.kind != DocKind::IamPolicy {
            continue;
        }
        let path = paths(d);
        out.push(Policy {
            // Told apart by content, not only by path: a resource control
            // policy under `organizations/` is no SCP.
            is_scp: path_says_scp(&path) && !is_rcp(&d.root, &path),
            name: path,
            root: d.root.clone(),
            env: d.assignment.env,
        });
    }
    for root in &tf.roots {
        for r in root.resources_of("aws_organizations_policy") {
            let ptype = r
                .attrs
                .str_at(&["type"])
                .unwrap_or("SERVICE_CONTROL_POLICY");
            if ptype != "SERVICE_CONTROL_POLICY" {
                continue;
            }
            let Some(content) = r.attrs.get("content") else {
                continue;
            };
            let Some(content) = super::json_tree(content, sources).filter(Node::is_map) else {
                continue;
            };
            let addr = r.address();
            out.push(Policy {
                name: addr,
                root: content,
                env: root.assignment.env,
                is_scp: true,
            });
        }
    }
    out
}

/// Condition keys resource control policies use to fence resources to the
/// organization (an RCP's statements carry a `Principal` and these).
const RCP_CONDITION_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalisawsservice",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceaccount",
    "aws:resourceorgid",
    "aws:securetransport",
];

/// Is this policy a resource control policy: a path that says so
/// (`ResourceControlPolicies/`, `rcp`), or statements that all name a
/// `Principal` and fence with organization condition keys?
pub fn is_rcp(root: &Node, path: &str) -> bool {
    let p = path.to_ascii_lowercase().replace(['-', '_'], "");
    if p.contains("resourcecontrol")
        || p.split(['/', '.'])
            .any(|s| s == "rcp" || s == "rcps" || s.ends_with("rcp"))
    {
        return true;
    }
    let sts = statements(root);
    !sts.is_empty()
        && sts.iter().all(|st| st.get("Principal").is_some())
        && sts.iter().any(|st| {
            st.get("Condition").is_some_and(|c| {
                c.entries().iter().any(|op| {
                    op.value.entries().iter().any(|k| {
                        k.key_str().is_some_and(|k| {
                            RCP_CONDITION_KEYS.contains(&k.to_ascii_lowercase().as_str())
                        })
                    })
                })
            })
        })
}

/// `Statement` as a list (a single statement object is allowed).
pub fn statements(policy: &Node) -> Vec<&Node> {
    match policy.get("Statement") {
        Some(s) if s.is_map() => vec![s],
        Some(s) => s.as_seq().iter().collect(),
        None => Vec::new(),
    }
}

/// A string or a list of strings, each with its node.
pub fn strings(n: Option<&Node>) -> Vec<&Node> {
    match n {
        Some(n) if n.as_str().is_some() => vec![n],
        Some(n) => n.as_seq().iter().filter(|i| i.as_str().is_some()).collect(),
        None => Vec::new(),
    }
}

/// A Deny statement that denies every region but a list:
/// `Condition: {StringNotEquals: {"aws:RequestedRegion": [...]}}`.
#[derive(Clone, Debug)]
pub struct RegionDeny<'a> {
    pub policy: &'a Policy,
    pub statement: &'a Node,
    /// The allowed list's node (for locations).
    pub list: &'a Node,
    pub allowed: Vec<String>,
}

/// Broad region denies. With `concrete`, only those whose allowed list is
/// made of real region names (templates such as `{example-region-1}` are
/// left out).
pub fn region_denies(policies: &[Policy], concrete: bool) -> Vec<RegionDeny<'_>> {
    let mut out = Vec::new();
    for p in policies {
        for st in statements(&p.root) {
            if st.str_at(&["Effect"]) != Some("Deny") {
                continue;
            }
            let Some(cond) = st.get("Condition") else {
                continue;
            };
            for op in [
                "StringNotEquals",
                "StringNotEqualsIgnoreCase",
                "StringNotLike",
            ] {
                let Some(list) = cond.get(op).and_then(|o| {
                    o.entries()
                        .iter()
                        .find(|e| {
                            e.key_str()
                                .is_some_and(|k| k.eq_ignore_ascii_case("aws:RequestedRegion"))
                        })
                        .map(|e| &e.value)
                }) else {
                    continue;
                };
                let allowed: Vec<String> = strings(Some(list))
                    .iter()
                    .filter_map(|n| n.as_str().map(str::to_string))
                    .collect();
                // A template (`{example-region-1}`) allows nothing we can know.
                let known = allowed.iter().all(|a| {
                    looks_like_region(a) || a.strip_suffix('*').is_some_and(|p| p.len() >= 3)
                });
                if !allowed.is_empty() && (known || !concrete) && denies_broadly(st) {
                    out.push(RegionDeny {
                        policy: p,
                        statement: st,
                        list,
                        allowed,
                    });
                }
            }
        }
    }
    out
}

/// A deny that covers (nearly) every action: `NotAction`, or `Action`
/// with `*`. A region deny of a few actions (`bedrock:InvokeModel`) limits
/// those actions only, not where the account may deploy.
pub fn denies_broadly(st: &Node) -> bool {
    st.get("NotAction").is_some()
        || strings(st.get("Action"))
            .iter()
            .any(|a| matches!(a.as_str(), Some("*" | "*:*")))
}

/// Does `region` match an allowed entry (`StringNotLike` allows `eu-*`)?
pub fn region_allowed(allowed: &[String], region: &str) -> bool {
    allowed.iter().any(|a| match a.strip_suffix('*') {
        Some(prefix) => region.starts_with(prefix),
        None => a == region,
    })
}

/// The region restrictions that apply in `env`: denies of policies for that
/// environment or for all environments.
pub fn denies_for(denies: &[RegionDeny<'_>], env: Option<Env>) -> Vec<usize> {
    denies
        .iter()
        .enumerate()
        .filter(|(_, d)| d.policy.env.is_none() || env.is_none() || d.policy.env == env)
        .map(|(i, _)| i)
        .collect()
}

/// Span helper for messages: the statement's `Sid` if any.
pub fn sid(st: &Node) -> Option<(&str, Span)> {
    st.get("Sid").and_then(|n| n.as_str().map(|s| (s, n.span)))
}

/// A syntactically plausible AWS region name (`ap-northeast-1`, `us-gov-west-1`).
pub fn looks_like_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts.len() <= 4
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod rcp_tests {
    use super::*;

    fn json(text: &str) -> Node {
        let f = crate::source::SourceFile::new(
            crate::source::FileId(0),
            "p.json".into(),
            "p.json".into(),
            text.into(),
        );
        crate::parse::json::parse(&f).unwrap()
    }

    #[test]
    fn resource_control_policies_are_told_apart_by_content_and_path() {
        let rcp = json(
            r#"{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
              "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}}]}"#,
        );
        let scp = json(
            r#"{"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
              "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}}]}"#,
        );
        let misplaced = json(
            r#"{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "rds:*", "Resource": "*"}]}"#,
        );
        assert!(is_rcp(&rcp, "organizations/policies/fence.json"));
        assert!(!is_rcp(&scp, "organizations/policies/fence.json"));
        assert!(
            !is_rcp(&misplaced, "scp/deny.json"),
            "an SCP with a Principal is an invalid SCP"
        );
        assert!(is_rcp(&misplaced, "ResourceControlPolicies/deny.json"));
        assert!(is_rcp(&scp, "org/rcp/fence.json"));
    }
}
