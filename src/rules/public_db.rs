//! No publicly accessible databases (article 1.1).

use super::{Family, Rule};
use crate::finding::{Finding, Severity};
use crate::model::{DocKind, Model};

pub static PUBLIC_RDS: Rule = Rule {
    id: "DB001",
    name: "public-rds",
    family: Family::PublicDb,
    severity: Severity::Error,
    summary: "An RDS database instance is publicly accessible",
    help: "set publicly_accessible = false and keep the instance in private subnets",
    explanation: r#"**Why.** A database with `publicly_accessible = true` gets a public DNS name that resolves
to a public IP: the only thing between the internet and the database is a security group rule,
one mistake away from exposure to scanners that try default credentials within minutes. The
article makes "no database connected to an external network" (RDS public access = false) one of
the rules its SCPs enforce for every account (section 1.1). Applications reach the database
from inside the VPC; people reach it through a bastion, SSM Session Manager or a VPN.

guard evaluates Terraform per environment: `publicly_accessible = var.db_public` in a shared
module is reported in the environments whose `terraform.tfvars` (or variable default, or
module argument) makes it `true`, at the line that decides it, with the chain of variables and
module arguments it went through. `aws_db_instance`, `aws_rds_cluster_instance` and
CloudFormation `AWS::RDS::DBInstance` / `PubliclyAccessible` are checked. This is an error in
every environment, dev included: dev databases hold copies of real data more often than
anyone admits.

**How to fix.** Set `publicly_accessible = false` (the provider default) and put the instance
in private subnets (`db_subnet_group_name`).

```hcl
# environments/prod/terraform.tfvars — bad
db_public = true
```
```hcl
# good
db_public = false
```
"#,
    security_severity: "9.0",
    tags: &["public-db", "terraform", "cloudformation", "aws", "rds"],
    check: Some(check),
    tiers: None,
};

/// Where one public setting holds: a root evaluation that reaches it.
struct Hit<'a> {
    addr: String,
    env: Option<crate::env::Env>,
    place: String,
    value: &'a crate::node::Node,
    decl: crate::source::Span,
}

fn check(m: &Model, out: &mut Vec<Finding>) {
    // A literal in a shared module is reached by every root that uses it:
    // one finding per deciding line, naming every environment it holds in.
    let mut by_span: std::collections::BTreeMap<crate::source::Span, Vec<Hit<'_>>> =
        std::collections::BTreeMap::new();
    let mut unknown: std::collections::BTreeMap<
        crate::source::Span,
        (Vec<crate::env::Env>, String),
    > = std::collections::BTreeMap::new();
    for root in &m.terraform.roots {
        for r in &root.resources {
            if !matches!(
                r.rtype.as_str(),
                "aws_db_instance" | "aws_rds_cluster_instance"
            ) {
                continue;
            }
            let Some(v) = r.attrs.get("publicly_accessible") else {
                continue;
            };
            if v.is_unknown() {
                let (envs, _) = unknown
                    .entry(v.span)
                    .or_insert_with(|| (Vec::new(), r.address()));
                envs.extend(root.assignment.env);
                continue;
            }
            if !v.is_truthy_literal() {
                continue;
            }
            let env = root.assignment.env;
            let place = match (env, &root.var_file) {
                (Some(e), Some(f)) => format!("{e} (var file `{f}`)"),
                (Some(e), None) => e.to_string(),
                (None, _) if root.dir.is_empty() => "the project's root module".to_string(),
                (None, _) => format!("root `{}`", root.dir),
            };
            by_span.entry(v.span).or_default().push(Hit {
                addr: r.address(),
                env,
                place,
                value: v,
                decl: r.span,
            });
        }
    }
    for (span, mut hits) in by_span {
        hits.sort_by(|a, b| (a.env, &a.place).cmp(&(b.env, &b.place)));
        let first = &hits[0];
        let mut places: Vec<&str> = hits.iter().map(|h| h.place.as_str()).collect();
        places.dedup();
        let places = match places.as_slice() {
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => String::new(),
        };
        // Every environment it holds in; a hit in an evaluation for all
        // environments makes it hold in all.
        let envs: Vec<_> = if hits.iter().any(|h| h.env.is_none()) {
            Vec::new()
        } else {
            hits.iter().filter_map(|h| h.env).collect()
        };
        let mut f = PUBLIC_RDS
            .finding(
                span,
                format!("{} is publicly accessible in {places}", first.addr),
            )
            .envs(envs)
            .via(&first.value.via);
        let mut decls: Vec<(crate::source::Span, &str)> =
            hits.iter().map(|h| (h.decl, h.addr.as_str())).collect();
        decls.dedup();
        for (decl, addr) in decls {
            f = f.related(decl, format!("{addr} declared here"));
        }
        out.push(f);
    }
    for (span, (envs, addr)) in unknown {
        out.push(
            PUBLIC_RDS
                .undecided(
                    span,
                    format!("{addr} is publicly accessible"),
                    super::UNKNOWN_VALUE,
                )
                .envs(envs),
        );
    }
    for doc in &m.docs {
        if doc.kind != DocKind::CloudFormation {
            continue;
        }
        let Some(resources) = doc.root.get("Resources") else {
            continue;
        };
        for e in resources.entries() {
            if e.value.str_at(&["Type"]) != Some("AWS::RDS::DBInstance") {
                continue;
            }
            let Some(v) = e.value.path(&["Properties", "PubliclyAccessible"]) else {
                continue;
            };
            if v.is_truthy_literal() {
                let name = e.key_str().unwrap_or("?");
                out.push(
                    PUBLIC_RDS
                        .finding(
                            v.span,
                            format!("AWS::RDS::DBInstance `{name}` is publicly accessible"),
                        )
                        .env(doc.assignment.env),
                );
            }
        }
    }
}

pub static RULES: &[&Rule] = &[&PUBLIC_RDS];
