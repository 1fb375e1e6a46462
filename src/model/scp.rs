//! Policy documents: SCP/RCP/IAM JSON files and Terraform
//! `aws_organizations_policy` content, told apart by what they say; the
//! regions SCPs allow; the actions they deny.

use crate::env::{Env, EnvSet, Tier};
use crate::model::{Doc, DocKind};
use crate::node::Node;
use crate::source::{SourceMap, Span};
use crate::terraform::{RootEval, TfModel};

/// What a policy document is, judged by its content (a Terraform
/// `aws_organizations_policy` `type` says it outright).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// A service control policy: no `Principal`; a `Deny`, or an allow list
    /// kept with the organization's policies.
    Scp,
    /// A resource control policy: `Principal: "*"` fenced with `aws:`
    /// condition keys on the services RCPs support.
    Rcp,
    /// A resource-based policy (bucket, key, trust policy): a `Principal`
    /// that is not an RCP's.
    Resource,
    /// An identity (IAM) policy: allows only, nothing says organizations.
    Identity,
}

#[derive(Clone, Debug)]
pub struct Policy {
    /// The file path or the Terraform address.
    pub name: String,
    pub root: Node,
    /// The environment (OU tier) it applies to: the file's path evidence or
    /// configuration, an OU name (`DevOU`, `Workloads/Prod`), the target of a
    /// Terraform `aws_organizations_policy_attachment`, or the Terraform
    /// root's environment.
    pub env: Option<Env>,
    pub kind: PolicyKind,
    /// Its size as AWS Organizations counts it: characters, white space
    /// outside strings left out.
    pub size: usize,
}

impl Policy {
    pub fn is_scp(&self) -> bool {
        self.kind == PolicyKind::Scp
    }
}

/// A path that keeps organization policies (`scp/`, `organizations/`):
/// decides only what content leaves open (an allow list, a misplaced
/// `Principal`).
fn path_says_scp(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    p.contains("scp")
        || p.contains("service-control")
        || p.contains("service_control")
        || p.contains("servicecontrol")
        || p.contains("organization")
}

fn path_says_rcp(path: &str) -> bool {
    let p = path.to_ascii_lowercase().replace(['-', '_'], "");
    p.contains("resourcecontrol")
        || p.split(['/', '.'])
            .any(|s| s == "rcp" || s == "rcps" || s.ends_with("rcp"))
}

pub fn collect(
    sources: &SourceMap,
    docs: &[Doc],
    paths: &dyn Fn(&Doc) -> String,
    tf: &TfModel,
    envs: &EnvSet,
) -> Vec<Policy> {
    let mut out = Vec::new();
    for d in docs {
        if d.kind != DocKind::IamPolicy {
            continue;
        }
        let path = paths(d);
        let size = if path.to_ascii_lowercase().ends_with(".json") {
            sources.get(d.file).map_or_else(
                || compact_size(&d.root),
                |f| minified_len(f.slice(d.root.span)),
            )
        } else {
            compact_size(&d.root)
        };
        out.push(Policy {
            kind: kind_of(&d.root, &path),
            env: d.assignment.env.or_else(|| path_ou_env(envs, &path)),
            name: path,
            root: d.root.clone(),
            size,
        });
    }
    for root in &tf.roots {
        for r in root.resources_of("aws_organizations_policy") {
            let declared = match r.attrs.get("type") {
                None => Some(PolicyKind::Scp),
                Some(t) => match t.as_str() {
                    Some("SERVICE_CONTROL_POLICY") => Some(PolicyKind::Scp),
                    Some("RESOURCE_CONTROL_POLICY") => Some(PolicyKind::Rcp),
                    // Tag, backup, AI opt-out policies: not IAM documents.
                    Some(_) => continue,
                    None => None,
                },
            };
            let Some(content) = r.attrs.get("content") else {
                continue;
            };
            let size = match content.as_str() {
                Some(text) => minified_len(text),
                None => compact_size(content),
            };
            let Some(content) = super::json_tree(content, sources).filter(Node::is_map) else {
                continue;
            };
            let addr = r.address();
            let env = attachment_env(root, r, sources, envs)
                .or(root.assignment.env)
                .or_else(|| {
                    r.attrs
                        .str_at(&["name"])
                        .and_then(|n| name_env(envs, n))
                        .or_else(|| name_env(envs, &r.name))
                });
            out.push(Policy {
                kind: declared.unwrap_or_else(|| kind_of(&content, "")),
                name: addr,
                root: content,
                env,
                size,
            });
        }
    }
    out
}

/// Characters of a JSON text with the white space outside strings left
/// out, as AWS Organizations counts a policy's size.
pub fn minified_len(text: &str) -> usize {
    let mut n = 0;
    let (mut in_str, mut escaped) = (false, false);
    for c in text.chars() {
        if in_str {
            n += 1;
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if !c.is_whitespace() {
            n += 1;
            in_str = c == '"';
        }
    }
    n
}

fn compact_size(n: &Node) -> usize {
    serde_json::to_string(&n.to_json()).map_or(0, |s| s.chars().count())
}

/// The environment the target of an `aws_organizations_policy_attachment`
/// of this policy names: the OU resource's `name` (`DevOU`), its label
/// (`aws_organizations_organizational_unit.prod`), or the words of the
/// target expression (`var.dev_ou_id`). Attachments that disagree name none.
fn attachment_env(
    root: &RootEval,
    policy: &crate::terraform::Resource,
    sources: &SourceMap,
    envs: &EnvSet,
) -> Option<Env> {
    let mut found: Option<Env> = None;
    for a in root.resources_of("aws_organizations_policy_attachment") {
        if a.module_path != policy.module_path {
            continue;
        }
        let Some(pid) = attr_text(sources, a, "policy_id") else {
            continue;
        };
        if reference(pid, "aws_organizations_policy") != Some(policy.name.as_str()) {
            continue;
        }
        let Some(target_text) = attr_text(sources, a, "target_id") else {
            continue;
        };
        let target = a.attrs.get("target_id");
        let env = match reference(target_text, "aws_organizations_organizational_unit") {
            Some(ou) => root
                .resources_of("aws_organizations_organizational_unit")
                .find(|r| r.name == ou && r.module_path == a.module_path)
                .and_then(|r| r.attrs.str_at(&["name"]))
                .and_then(|n| name_env(envs, n))
                .or_else(|| name_env(envs, ou)),
            None => name_env(envs, target_text).or_else(|| {
                target
                    .and_then(Node::as_str)
                    .and_then(|s| name_env(envs, s))
            }),
        };
        if let Some(e) = env {
            if found.is_some_and(|f| f != e) {
                return None;
            }
            found = Some(e);
        }
    }
    found
}

/// The expression written for a top-level attribute of a resource block
/// (`target_id = var.prod_ou_id`), read from the source: evaluated values
/// lose the names (a variable's value is `ou-...`).
fn attr_text<'s>(
    sources: &'s SourceMap,
    r: &crate::terraform::Resource,
    name: &str,
) -> Option<&'s str> {
    let file = sources.get(r.span.file)?;
    let rest = file.text.get(r.span.start as usize..)?;
    let block = &rest[..rest.find("\n}").unwrap_or(rest.len())];
    block.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == name).then(|| v.trim())
    })
}

/// The label of a `<rtype>.<label>` reference written in `text`.
fn reference<'t>(text: &'t str, rtype: &str) -> Option<&'t str> {
    let at = text.find(&format!("{rtype}."))?;
    let rest = &text[at + rtype.len() + 1..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// The environment an OU or policy name names: `DevOU`, `ProdOU`,
/// `prod-ou`, `var.dev_ou_id`, `Workloads-Prod`, `NonProd` (the dev tier).
/// Words that name different environments name none.
pub fn name_env(envs: &EnvSet, name: &str) -> Option<Env> {
    if let Some(e) = envs.words(name) {
        return Some(e);
    }
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let dev = || {
        envs.named("dev")
            .filter(|e| e.tier() == Tier::Dev)
            .or_else(|| envs.of_tier(Tier::Dev).next())
    };
    let mut found: Option<Env> = None;
    let mut prev = String::new();
    for w in &words {
        let stem = w.strip_suffix("ou").filter(|s| !s.is_empty()).unwrap_or(w);
        let env = if matches!(stem, "nonprod" | "nonproduction" | "nonprd")
            || (matches!(prev.as_str(), "non" | "not") && envs.word(stem).is_some_and(Env::is_prod))
        {
            dev()
        } else {
            envs.word(w).or_else(|| envs.word(stem))
        };
        prev.clone_from(w);
        if let Some(e) = env {
            if found.is_some_and(|f| f != e) {
                return None;
            }
            found = Some(e);
        }
    }
    found
}

/// An OU name in a policy file's path (`organizations/DevOU/deny.json`,
/// `NonProd/scp.json`): the deepest directory, then the file name.
fn path_ou_env(envs: &EnvSet, path: &str) -> Option<Env> {
    let mut segs: Vec<&str> = path.split('/').collect();
    let file = segs.pop().unwrap_or_default();
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    segs.iter()
        .rev()
        .find_map(|s| name_env(envs, s))
        .or_else(|| name_env(envs, stem))
}

/// Resource-side services resource control policies apply to.
const RCP_SERVICES: &[&str] = &[
    "s3",
    "sts",
    "sqs",
    "kms",
    "secretsmanager",
    "ecr",
    "aoss",
    "cognito-idp",
    "logs",
    "dynamodb",
];

/// `Principal: "*"` or `{"AWS": "*"}`: everyone, as RCPs write it.
fn principal_is_everyone(p: &Node) -> bool {
    p.as_str() == Some("*") || p.entries().len() == 1 && p.str_at(&["AWS"]) == Some("*")
}

fn has_aws_condition(st: &Node) -> bool {
    st.get("Condition").is_some_and(|c| {
        c.entries().iter().any(|op| {
            op.value.entries().iter().any(|k| {
                k.key_str()
                    .is_some_and(|k| k.len() > 4 && k[..4].eq_ignore_ascii_case("aws:"))
            })
        })
    })
}

/// Is this an RCP by its content: every statement names `Principal: "*"`,
/// acts on resource-side services, and it fences with `aws:` condition keys
/// (or is the `RCPFullAWSAccess` allow)?
fn rcp_shaped(sts: &[&Node]) -> bool {
    let on_rcp_services = |st: &Node| {
        let actions = strings(st.get("Action"));
        !actions.is_empty()
            && actions.iter().all(|a| {
                a.as_str().is_some_and(|a| {
                    a == "*"
                        || a.split_once(':').is_some_and(|(svc, _)| {
                            RCP_SERVICES.contains(&svc.to_ascii_lowercase().as_str())
                        })
                })
            })
    };
    !sts.is_empty()
        && sts
            .iter()
            .all(|st| st.get("Principal").is_some_and(principal_is_everyone) && on_rcp_services(st))
        && sts.iter().any(|st| {
            has_aws_condition(st)
                || st.str_at(&["Effect"]) == Some("Allow") && st.str_at(&["Action"]) == Some("*")
        })
}

/// What a policy document is. Content decides: a `Principal` makes it an
/// RCP (when RCP-shaped) or a resource-based policy, no `Principal` with a
/// `Deny` makes it an SCP. The path only settles what content leaves open:
/// an allow-only document is an SCP where the organization's policies are
/// kept and an identity policy elsewhere; a `Principal` that fits no RCP
/// is a misplaced one in an SCP kept with the SCPs.
pub fn kind_of(root: &Node, path: &str) -> PolicyKind {
    let sts = statements(root);
    let principal = sts
        .iter()
        .any(|st| st.get("Principal").is_some() || st.get("NotPrincipal").is_some());
    if principal {
        if rcp_shaped(&sts) || path_says_rcp(path) {
            PolicyKind::Rcp
        } else if path_says_scp(path) {
            PolicyKind::Scp
        } else {
            PolicyKind::Resource
        }
    } else if sts.iter().any(|st| st.str_at(&["Effect"]) == Some("Deny")) || path_says_scp(path) {
        PolicyKind::Scp
    } else {
        PolicyKind::Identity
    }
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
    // An identity or resource policy's region deny binds its holders or its
    // resource, not where the account deploys.
    for p in policies
        .iter()
        .filter(|p| matches!(p.kind, PolicyKind::Scp | PolicyKind::Rcp))
    {
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

/// Does an IAM action pattern (`cloudtrail:*`, `rds:Delete*`, `s3:?ut*`,
/// `*`) match `action`? Case-insensitive, as IAM compares actions.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob(
        pattern.to_ascii_lowercase().as_bytes(),
        action.to_ascii_lowercase().as_bytes(),
    )
}

/// `*` and `?` glob, iterative with one backtrack point: linear in
/// practice, at worst pattern × text.
fn glob(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi.min(p.len())..].iter().all(|&c| c == b'*')
}

/// Condition keys that name who is acting: under a negated operator
/// (`ArnNotLike`, `StringNotEquals`) they exempt a named role from a deny.
const PRINCIPAL_KEYS: &[&str] = &[
    "aws:principalarn",
    "aws:principaltype",
    "aws:userid",
    "aws:username",
    "aws:principalaccount",
];

/// A `Condition` operator that excludes what it names (`ArnNotLike`,
/// `StringNotEqualsIfExists`).
fn negated(op: &str) -> bool {
    let op = op.to_ascii_lowercase();
    op.starts_with("arnnot") || op.starts_with("stringnot")
}

/// One condition of a deny: (operator, key, value).
pub type CondTest<'a> = dyn Fn(&str, &str, &Node) -> bool + 'a;

/// Does the statement keep its deny in force for everyone but named
/// principals? Every condition is an exemption of a principal, or one that
/// `extra` accepts (`rds:PubliclyAccessible: true`).
fn conditions_accepted(st: &Node, extra: &CondTest<'_>) -> bool {
    let Some(cond) = st.get("Condition") else {
        return true;
    };
    cond.entries().iter().all(|op| {
        let Some(op_name) = op.key_str() else {
            return false;
        };
        op.value.entries().iter().all(|k| {
            let Some(key) = k.key_str() else {
                return false;
            };
            let lower = key.to_ascii_lowercase();
            (negated(op_name)
                && (PRINCIPAL_KEYS.contains(&lower.as_str())
                    || lower.starts_with("aws:principaltag/")))
                || extra(op_name, &lower, &k.value)
        })
    })
}

/// A `Resource` that covers every resource of a kind: `*`,
/// `arn:aws:rds:*:*:db:*`, `arn:aws:s3:::*`.
fn resource_is_all(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    if !r.starts_with("arn:") || !r.ends_with('*') {
        return false;
    }
    let Some(res) = r.splitn(6, ':').nth(5) else {
        return false;
    };
    let kind = res.trim_end_matches('*').trim_end_matches([':', '/']);
    matches!(kind, "" | "db" | "cluster")
}

/// Does this statement deny `action` on every resource, with no condition
/// but principal exemptions and what `extra` accepts?
pub fn statement_denies(st: &Node, action: &str, extra: &CondTest<'_>) -> bool {
    if st.str_at(&["Effect"]) != Some("Deny") || st.get("NotResource").is_some() {
        return false;
    }
    let acts = match (st.get("Action"), st.get("NotAction")) {
        (Some(a), None) => strings(Some(a))
            .iter()
            .any(|p| p.as_str().is_some_and(|p| action_matches(p, action))),
        (None, Some(na)) => !strings(Some(na))
            .iter()
            .any(|p| p.as_str().is_some_and(|p| action_matches(p, action))),
        _ => false,
    };
    let resources = strings(st.get("Resource"));
    acts && (st.get("Resource").is_none()
        || resources
            .iter()
            .any(|r| r.as_str().is_some_and(resource_is_all)))
        && conditions_accepted(st, extra)
}

/// The actions of `required` that none of `policies` denies.
pub fn not_denied<'r>(
    policies: &[&Policy],
    required: &[&'r str],
    extra: &CondTest<'_>,
) -> Vec<&'r str> {
    required
        .iter()
        .copied()
        .filter(|a| {
            !policies.iter().any(|p| {
                statements(&p.root)
                    .iter()
                    .any(|st| statement_denies(st, a, extra))
            })
        })
        .collect()
}

#[cfg(test)]
mod kind_tests {
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
    fn policies_are_told_apart_by_content() {
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
        let allow = json(
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#,
        );
        let trust = json(
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#,
        );
        // Content decides wherever the file is kept.
        assert_eq!(
            kind_of(&rcp, "organizations/policies/fence.json"),
            PolicyKind::Rcp
        );
        assert_eq!(kind_of(&rcp, "scp/fence.json"), PolicyKind::Rcp);
        assert_eq!(kind_of(&scp, "org/rcp/fence.json"), PolicyKind::Scp);
        assert_eq!(kind_of(&scp, "iam/fence.json"), PolicyKind::Scp);
        assert_eq!(kind_of(&trust, "scp/trust.json"), PolicyKind::Scp);
        assert_eq!(kind_of(&trust, "iam/trust.json"), PolicyKind::Resource);
        // The path settles only what content leaves open.
        assert_eq!(kind_of(&misplaced, "scp/deny.json"), PolicyKind::Scp);
        assert_eq!(
            kind_of(&misplaced, "ResourceControlPolicies/deny.json"),
            PolicyKind::Rcp
        );
        assert_eq!(kind_of(&allow, "scp/prod/allowed.json"), PolicyKind::Scp);
        assert_eq!(kind_of(&allow, "iam/task-role.json"), PolicyKind::Identity);
    }

    #[test]
    fn size_leaves_out_white_space_outside_strings() {
        assert_eq!(minified_len("{ \"a b\" : [ 1 , 2 ] }\n"), 13);
        assert_eq!(minified_len(r#"{"a\" b": "c"}"#), 13);
    }

    #[test]
    fn action_globs() {
        assert!(action_matches("cloudtrail:*", "cloudtrail:StopLogging"));
        assert!(action_matches("rds:Delete*", "rds:DeleteDBCluster"));
        assert!(action_matches("*", "s3:DeleteBucket"));
        assert!(action_matches("S3:delete?ucket", "s3:DeleteBucket"));
        assert!(action_matches("*:Delete*", "s3:DeleteBucket"));
        assert!(!action_matches("rds:Delete*", "rds:CreateDBInstance"));
        assert!(!action_matches("s3:DeleteBucketPolicy", "s3:DeleteBucket"));
        assert!(!action_matches("s3:DeleteBucket", "s3:DeleteBucketPolicy"));
        assert!(action_matches("a*b*c", "aXbYbZc"));
        assert!(!action_matches("a*b*c", "aXbYbZ"));
    }

    #[test]
    fn denies_count_only_unnarrowed_statements() {
        let none: &CondTest<'_> = &|_, _, _| false;
        let st = |s: &str| json(s);
        assert!(statement_denies(
            &st(
                r#"{"Effect": "Deny", "Action": "rds:Delete*", "Resource": "*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}}"#
            ),
            "rds:DeleteDBInstance",
            none
        ));
        // Denies the admin only.
        assert!(!statement_denies(
            &st(
                r#"{"Effect": "Deny", "Action": "rds:Delete*", "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}}}"#
            ),
            "rds:DeleteDBInstance",
            none
        ));
        // A region deny covers the action outside the regions only.
        assert!(!statement_denies(
            &st(
                r#"{"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}"#
            ),
            "rds:DeleteDBInstance",
            none
        ));
        assert!(statement_denies(
            &st(r#"{"Effect": "Deny", "NotAction": ["iam:*"], "Resource": "*"}"#),
            "rds:DeleteDBInstance",
            none
        ));
        // One bucket is not every bucket.
        assert!(!statement_denies(
            &st(
                r#"{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::logs"}"#
            ),
            "s3:DeleteBucket",
            none
        ));
        assert!(statement_denies(
            &st(
                r#"{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": ["arn:aws:s3:::*"]}"#
            ),
            "s3:DeleteBucket",
            none
        ));
    }

    #[test]
    fn ou_names_name_environments() {
        let envs = EnvSet::builtin();
        let name = |s: &str| name_env(&envs, s).map(|e| e.as_str().to_string());
        assert_eq!(name("DevOU").as_deref(), Some("dev"));
        assert_eq!(name("ProdOU").as_deref(), Some("prod"));
        assert_eq!(name("var.prod_ou_id").as_deref(), Some("prod"));
        assert_eq!(name("NonProd").as_deref(), Some("dev"));
        assert_eq!(name("non-prod").as_deref(), Some("dev"));
        assert_eq!(name("Workloads-Prod").as_deref(), Some("prod"));
        assert_eq!(name("Security"), None);
        assert_eq!(name("dev-and-prod"), None);
        assert_eq!(
            path_ou_env(&envs, "organizations/DevOU/deny.json").map(Env::as_str),
            Some("dev")
        );
    }
}
