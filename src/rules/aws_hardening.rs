//! Family `hardening`: AWS foundational checks on evaluated Terraform and
//! CloudFormation, severity by environment tier.
//!
//! Every Terraform check runs on each root evaluation (one per
//! environment) and reports at the line that decides: the literal, with
//! the chain of variables and module arguments it came through, or, when
//! the deciding fact is a missing attribute, the resource block's labels.
//! A line reached by several roots (a shared module used by dev, staging
//! and prod) is one finding naming every environment; its severity is the
//! strictest tier's (see [`super::TierSeverity`]). Unknown values are
//! never reported on.

use std::collections::BTreeMap;

use super::Rule;
use crate::env::Env;
use crate::finding::Finding;
use crate::model::{DocKind, Model};
use crate::node::{Node, Value, Via};
use crate::source::Span;
use crate::terraform::{Resource, RootEval};

mod compute;
mod drift;
mod network;
mod rds;
mod s3;
mod services;

/// One problem a check found on one resource of one root evaluation.
pub(super) struct Issue {
    /// The deciding line: the literal, or the resource's labels.
    pub span: Span,
    pub via: Via,
    /// What is wrong, after the resource's address: "does not set `x`".
    pub what: String,
}

impl Issue {
    /// At a value, with its provenance.
    pub fn at(n: &Node, what: impl Into<String>) -> Issue {
        Issue {
            span: n.span,
            via: n.via.clone(),
            what: what.into(),
        }
    }

    /// At a place with no provenance (the resource labels).
    pub fn here(span: Span, what: impl Into<String>) -> Issue {
        Issue {
            span,
            via: None,
            what: what.into(),
        }
    }
}

/// Where one issue holds: a root evaluation that reaches it.
pub(super) struct Hit {
    addr: String,
    env: Option<Env>,
    place: String,
    via: Via,
    decl: Span,
}

pub(super) fn place_of(root: &RootEval) -> String {
    match (root.assignment.env, &root.var_file) {
        (Some(e), Some(f)) => format!("{e} (var file `{f}`)"),
        (Some(e), None) => e.to_string(),
        (None, _) if root.dir.is_empty() => "the project's root module".to_string(),
        (None, _) => format!("root `{}`", root.dir),
    }
}

/// Run `check` on every resource of `types` in every root evaluation and
/// report each issue once per deciding line, naming the environments it
/// holds in (the way DB001 does).
pub(super) fn tf_rule(
    m: &Model,
    out: &mut Vec<Finding>,
    rule: &'static Rule,
    types: &[&str],
    check: impl Fn(&RootEval, &Resource, &mut Vec<Issue>),
) {
    let mut by_line: BTreeMap<(Span, String), Vec<Hit>> = BTreeMap::new();
    let mut issues = Vec::new();
    for root in &m.terraform.roots {
        let place = place_of(root);
        for r in &root.resources {
            if r.mode != crate::terraform::Mode::Managed || !types.contains(&r.rtype.as_str()) {
                continue;
            }
            issues.clear();
            check(root, r, &mut issues);
            for i in issues.drain(..) {
                by_line.entry((i.span, i.what)).or_default().push(Hit {
                    addr: r.address(),
                    env: root.assignment.env,
                    place: place.clone(),
                    via: i.via,
                    decl: r.span,
                });
            }
        }
    }
    emit(out, rule, by_line);
}

/// One finding per (line, problem), as [`tf_rule`] collects them.
pub(super) fn emit(
    out: &mut Vec<Finding>,
    rule: &'static Rule,
    by_line: BTreeMap<(Span, String), Vec<Hit>>,
) {
    for ((span, what), mut hits) in by_line {
        // Severity is per environment: the evaluations in a tier where the
        // rule is silent (dev) are not places it holds in, so neither the
        // message nor the environments name them.
        hits.retain(|h| {
            h.env
                .is_none_or(|e| rule.tiers.is_none_or(|t| t.for_envs(&[e]).is_some()))
        });
        hits.sort_by(|a, b| (a.env, &a.place, &a.addr).cmp(&(b.env, &b.place, &b.addr)));
        let Some(first) = hits.first() else {
            continue;
        };
        let mut places: Vec<&str> = hits.iter().map(|h| h.place.as_str()).collect();
        places.dedup();
        let places = match places.as_slice() {
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => String::new(),
        };
        let envs: Vec<Env> = if hits.iter().any(|h| h.env.is_none()) {
            Vec::new()
        } else {
            hits.iter().filter_map(|h| h.env).collect()
        };
        let mut f = rule
            .finding(span, format!("{} {what}, in {places}", first.addr))
            .envs(envs)
            .via(&first.via);
        let mut decls: Vec<(Span, &str)> = hits
            .iter()
            .filter(|h| h.decl != span)
            .map(|h| (h.decl, h.addr.as_str()))
            .collect();
        decls.sort();
        decls.dedup_by(|a, b| a.0 == b.0);
        for (decl, addr) in decls {
            f = f.related(decl, format!("{addr} declared here"));
        }
        out.push(f);
    }
}

/// Run `check` on every CloudFormation resource of `types`: its logical
/// name, its whole definition, the span of its name (for missing
/// properties) and the template's resources (to look for companions).
pub(super) fn cfn_rule(
    m: &Model,
    out: &mut Vec<Finding>,
    rule: &'static Rule,
    types: &[&str],
    check: impl Fn(&CfnRes<'_>, &mut Vec<Issue>),
) {
    let mut issues = Vec::new();
    for doc in &m.docs {
        if doc.kind != DocKind::CloudFormation {
            continue;
        }
        let Some(resources) = doc.root.get("Resources") else {
            continue;
        };
        for e in resources.entries() {
            let Some(rtype) = e.value.str_at(&["Type"]) else {
                continue;
            };
            if !types.contains(&rtype) {
                continue;
            }
            let name = e.key_str().unwrap_or("?");
            let res = CfnRes {
                rtype,
                name,
                key: e.key.span,
                props: e.value.get("Properties"),
                all: resources,
            };
            issues.clear();
            check(&res, &mut issues);
            for i in issues.drain(..) {
                out.push(
                    rule.finding(i.span, format!("{rtype} `{name}` {}", i.what))
                        .env(doc.assignment.env),
                );
            }
        }
    }
}

/// One CloudFormation resource.
pub(super) struct CfnRes<'a> {
    pub rtype: &'a str,
    pub name: &'a str,
    /// The logical name's span.
    pub key: Span,
    pub props: Option<&'a Node>,
    /// Every resource of the template.
    pub all: &'a Node,
}

impl<'a> CfnRes<'a> {
    pub fn prop(&self, path: &[&str]) -> Option<&'a Node> {
        self.props.and_then(|p| p.path(path))
    }

    /// The template's other resources of a type.
    pub fn others(&self, rtype: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.all
            .entries()
            .iter()
            .filter(move |e| e.value.str_at(&["Type"]) == Some(rtype))
            .map(|e| &e.value)
    }
}

/// A boolean, from a literal or a `"true"`/`"false"` string; `None` for
/// anything else (unknown, an intrinsic function, a parameter reference).
pub(super) fn bool_of(n: &Node) -> Option<bool> {
    match &n.value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// A known string (not unknown, not a reference).
pub(super) fn str_of(n: &Node) -> Option<&str> {
    n.as_str()
}

/// Nested blocks: a repeated block is a list, a single one may be a map.
pub(super) fn blocks(n: Option<&Node>) -> Vec<&Node> {
    match n.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().filter(|i| i.is_map()).collect(),
        Some(Value::Map(_)) => n.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Does any value in `n` (or `n` itself) fail to be known?
pub(super) fn has_unknown(n: &Node) -> bool {
    match &n.value {
        Value::Unknown => true,
        Value::Seq(items) => items.iter().any(has_unknown),
        Value::Map(entries) => entries.iter().any(|e| has_unknown(&e.value)),
        _ => false,
    }
}

/// A boolean attribute that must be true, false by default: an issue at
/// the false literal, or at `missing` (the resource labels) when unset.
pub(super) fn want_true(
    attrs: &Node,
    attr: &str,
    missing: Span,
    what: &str,
    issues: &mut Vec<Issue>,
) {
    match attrs.get(attr) {
        None => issues.push(Issue::here(
            missing,
            format!("{what} (`{attr}` is not set; it defaults to false)"),
        )),
        Some(n) if n.value == Value::Null => issues.push(Issue::here(
            missing,
            format!("{what} (`{attr}` is null; it defaults to false)"),
        )),
        Some(n) if bool_of(n) == Some(false) => {
            issues.push(Issue::at(n, format!("{what} (`{attr}` is false)")))
        }
        Some(_) => {}
    }
}

/// A boolean that is on by default: an issue only at an explicit false.
pub(super) fn not_false(attrs: &Node, attr: &str, what: &str, issues: &mut Vec<Issue>) {
    if let Some(n) = attrs.get(attr)
        && bool_of(n) == Some(false)
    {
        issues.push(Issue::at(n, format!("{what} (`{attr}` is false)")));
    }
}

/// What a reference attribute (`bucket = aws_s3_bucket.logs.id`) points
/// at: resource values are unknown, so the reference is read from the
/// source text of the expression.
#[derive(Debug, PartialEq)]
pub(super) enum Target {
    /// `<rtype>.<name>` in the same module.
    Named(String),
    /// A literal name (`bucket = "my-logs"`).
    Literal(String),
    /// A resource of another type (`aws_vpc.main.id` when the subject is an
    /// `aws_default_vpc`): certainly not the subject.
    Elsewhere,
    /// `<rtype>.<name>` written elsewhere (a module's caller) and passed in
    /// through variables or module arguments.
    Passed(String),
    /// Anything else: a variable, a module output, a function.
    Other,
}

pub(super) fn target(m: &Model, n: Option<&Node>, rtype: &str) -> Target {
    let Some(n) = n else {
        return Target::Other;
    };
    if let Some(s) = n.as_str() {
        return Target::Literal(s.to_string());
    }
    if !n.is_unknown() {
        return Target::Other;
    }
    let Some(file) = m.sources.get(n.span.file) else {
        return Target::Other;
    };
    let text = file.slice(n.span).trim();
    if n.via.is_some() {
        // Passed in: the expression it came from, when it names the subject's type.
        return match text
            .strip_prefix(rtype)
            .and_then(|r| r.strip_prefix('.'))
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect::<String>()
            }) {
            Some(name) if !name.is_empty() => Target::Passed(name),
            _ => Target::Other,
        };
    }
    let Some(rest) = text.strip_prefix(rtype).and_then(|r| r.strip_prefix('.')) else {
        // `other_type.name.attr`: a managed resource (its type has an
        // underscore; `var`, `local`, `module`, `data`, ... have none).
        let first: String = text
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let resource_ref = first.contains('_')
            && text[first.len()..].starts_with('.')
            && first.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        return if resource_ref {
            Target::Elsewhere
        } else {
            Target::Other
        };
    };
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    if name.is_empty() {
        Target::Other
    } else {
        Target::Named(name)
    }
}

/// Does a companion resource's reference point at `r` (same module, by
/// name, or by the literal `name_attr` value of `r`)? `None` when it
/// cannot be told; `Some(false)` when the companion has no reference.
/// A reference that cannot be read matches only a subject whose own name
/// cannot be read either: a block for `var.bucket` does not cover every
/// bucket of the root.
pub(super) fn points_at(
    m: &Model,
    companion: &Resource,
    ref_attr: &str,
    r: &Resource,
    name_attr: &str,
) -> Option<bool> {
    let reference = companion.attrs.get(ref_attr)?;
    if reference.value == Value::Null {
        return Some(false);
    }
    match target(m, Some(reference), &r.rtype) {
        Target::Named(n) => Some(n == r.name && companion.module_path == r.module_path),
        Target::Passed(n) => Some(n == r.name),
        Target::Literal(s) => r.attrs.get(name_attr).and_then(str_of).map(|own| own == s),
        Target::Elsewhere => Some(false),
        Target::Other if r.attrs.get(name_attr).and_then(str_of).is_some() => Some(false),
        Target::Other => None,
    }
}

/// Is `r` covered by a companion of `ctype` (whose `ref_attr` points at
/// it)? A companion whose target cannot be told covers a subject whose
/// name cannot be told either (nothing is guessed), not one with a known
/// name (see [`points_at`]).
pub(super) fn covered(
    m: &Model,
    root: &RootEval,
    r: &Resource,
    ctype: &str,
    ref_attr: &str,
    name_attr: &str,
) -> bool {
    root.resources_of(ctype).any(|c| {
        c.attrs.get(ref_attr).is_some() && points_at(m, c, ref_attr, r, name_attr) != Some(false)
    })
}

/// A CloudFormation reference to a logical name: `!Ref X` (read as the
/// string `X`), `{"Ref": "X"}`, `!GetAtt X.Arn`, `{"Fn::GetAtt": [X, ..]}`.
pub(super) fn cfn_ref(n: &Node) -> Option<&str> {
    if let Some(s) = n.as_str() {
        return Some(s.split('.').next().unwrap_or(s));
    }
    if let Some(r) = n.str_at(&["Ref"]) {
        return Some(r);
    }
    n.get("Fn::GetAtt")
        .and_then(|g| g.as_seq().first())
        .and_then(Node::as_str)
}

pub static RULES: &[&Rule] = &[
    &rds::STORAGE,
    &rds::DELETION,
    &rds::BACKUP,
    &rds::IAM_AUTH,
    &rds::MULTI_AZ,
    &rds::MINOR_UPGRADE,
    &rds::PI_KMS,
    &s3::PUBLIC_ACCESS_BLOCK,
    &s3::ENCRYPTION,
    &s3::VERSIONING,
    &s3::PUBLIC_BUCKET,
    &network::ADMIN_PORTS,
    &network::DB_PORTS,
    &network::ALL_PORTS,
    &network::FLOW_LOGS,
    &compute::IMDSV2,
    &compute::EBS,
    &compute::EKS_ENDPOINT,
    &compute::EKS_SECRETS,
    &compute::EKS_LOGGING,
    &compute::ECS_PRIVILEGED,
    &compute::ECS_READONLY,
    &compute::ECS_USER,
    &services::KMS_ROTATION,
    &services::TRAIL_MULTI_REGION,
    &services::TRAIL_VALIDATION,
    &services::ECR_SCAN,
    &services::ECR_MUTABLE,
    &services::SECRET_ROTATION,
    &drift::DRIFT,
];

#[cfg(test)]
mod tests {
    use crate::finding::Severity;

    /// Check a project made of `files` (path, text); the hardening findings
    /// as (rule, severity, path:line, environments).
    fn run(files: &[(&str, &str)]) -> Vec<(String, Severity, String, Vec<String>)> {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let p = dir.path().join(path);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(p, text).expect("write");
        }
        let report = crate::check(&crate::Options {
            paths: vec![dir.path().to_path_buf()],
            select: vec!["hardening".into()],
            ..Default::default()
        })
        .expect("check runs");
        report
            .findings
            .iter()
            .map(|f| {
                let path = f.location.path.rsplit_once(
                    dir.path()
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("?"),
                );
                (
                    f.rule.to_string(),
                    f.severity,
                    format!(
                        "{}:{}",
                        path.map(|(_, p)| p.trim_start_matches('/')).unwrap_or(""),
                        f.location.start.line
                    ),
                    f.envs.iter().map(|e| e.to_string()).collect(),
                )
            })
            .collect()
    }

    const MODULE: &str = "variable \"encrypted\" {\n  type = bool\n}\n\nresource \"aws_db_instance\" \"this\" {\n  engine                              = \"postgres\"\n  instance_class                      = \"db.t3.micro\"\n  storage_encrypted                   = var.encrypted\n  deletion_protection                 = true\n  backup_retention_period             = 14\n  multi_az                            = true\n  iam_database_authentication_enabled = true\n}\n";

    fn env_root(value: &str) -> String {
        format!("module \"db\" {{\n  source    = \"../../modules/db\"\n  encrypted = {value}\n}}\n")
    }

    #[test]
    fn a_module_line_reached_by_every_environment_is_one_finding_at_prod_severity() {
        let literal = MODULE.replace("var.encrypted", "false");
        let root = env_root("true");
        let found = run(&[
            ("modules/db/main.tf", &literal),
            ("environments/dev/main.tf", &root),
            ("environments/staging/main.tf", &root),
            ("environments/prod/main.tf", &root),
        ]);
        assert_eq!(
            found,
            vec![(
                "HD050".to_string(),
                Severity::Error,
                "modules/db/main.tf:8".to_string(),
                vec!["dev".to_string(), "staging".to_string(), "prod".to_string()]
            )]
        );
    }

    #[test]
    fn each_environment_deciding_line_takes_its_tier_severity() {
        let found = run(&[
            ("modules/db/main.tf", MODULE),
            ("environments/dev/main.tf", &env_root("false")),
            ("environments/staging/main.tf", &env_root("false")),
            ("environments/prod/main.tf", &env_root("true")),
        ]);
        let sev: Vec<(Severity, &str)> = found
            .iter()
            .map(|(_, s, at, _)| (*s, at.as_str()))
            .collect();
        assert_eq!(
            sev,
            vec![
                (Severity::Note, "environments/dev/main.tf:3"),
                (Severity::Warning, "environments/staging/main.tf:3"),
                // Staging lacks what prod has: the drift rule, at staging's line.
                (Severity::Warning, "environments/staging/main.tf:3"),
            ]
        );
        assert_eq!(found[2].0, "HD079");
    }

    #[test]
    fn unknown_values_are_never_reported_and_dev_only_findings_can_be_dropped() {
        let unknown = MODULE.replace("var.encrypted", "data.aws_ssm_parameter.x.value");
        let short = MODULE
            .replace("var.encrypted", "true")
            .replace("= 14", "= 1");
        let found = run(&[
            ("modules/db/main.tf", &unknown),
            ("environments/prod/main.tf", &env_root("true")),
            ("modules/short/main.tf", &short),
            (
                "environments/dev/main.tf",
                "module \"db\" {\n  source    = \"../../modules/short\"\n  encrypted = true\n}\n",
            ),
        ]);
        // HD050 is unknown in prod; HD052 (short retention) holds in dev only,
        // where it is not reported.
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_companion_of_an_unknown_bucket_covers_only_buckets_of_unknown_name() {
        let root = "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n\nvariable \"a\" {\n  type = string\n}\n\nvariable \"b\" {\n  type = string\n}\n\nresource \"aws_s3_bucket_public_access_block\" \"x\" {\n  bucket                  = var.a\n  block_public_acls       = true\n  block_public_policy     = true\n  ignore_public_acls      = true\n  restrict_public_buckets = true\n}\n\nresource \"aws_s3_bucket\" \"unnamed\" {\n  bucket = var.b\n}\n\nresource \"aws_s3_bucket\" \"named\" {\n  bucket = \"acme-named\"\n}\n";
        let found: Vec<String> = run(&[("prod/main.tf", root)])
            .into_iter()
            .filter(|f| f.0 == "HD057")
            .map(|f| f.2)
            .collect();
        // Only the bucket with a known name is reported (line 25).
        assert_eq!(found, vec!["prod/main.tf:25".to_string()]);
    }

    #[test]
    fn security_group_ports() {
        use super::network::tests_support::opens_text;
        assert_eq!(
            opens_text("tcp", 22, 22, "admin").as_deref(),
            Some("SSH (22)")
        );
        assert_eq!(
            opens_text("tcp", 0, 4000, "admin").as_deref(),
            Some("SSH (22), RDP (3389)")
        );
        assert_eq!(opens_text("tcp", 0, 65535, "admin"), None);
        assert_eq!(
            opens_text("tcp", 0, 65535, "all").as_deref(),
            Some("every port")
        );
        assert_eq!(
            opens_text("-1", 0, 0, "all").as_deref(),
            Some("every port and protocol")
        );
        assert_eq!(opens_text("icmp", -1, -1, "all"), None);
        assert_eq!(
            opens_text("6", 5432, 5432, "db").as_deref(),
            Some("PostgreSQL (5432)")
        );
        assert_eq!(opens_text("tcp", 443, 443, "db"), None);
    }
}
