//! Staging mirrors prod (article section 1.2: "staging is a mirror of
//! production, the last line of defence"): what staging tests is what prod
//! runs. Compared after Terraform evaluation, per pair of environments.

use std::collections::BTreeMap;

use super::{Family, Rule};
use crate::env::{Env, Tier};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::node::Node;
use crate::terraform::{Resource, RootEval};

/// Attributes whose values are versions: staging must run what prod runs.
/// Sizes (`instance_class`, `node_type`, replica counts) may differ.
const VERSION_ATTRS: &[&str] = &[
    "engine",
    "engine_version",
    "kubernetes_version",
    "cluster_version",
    "runtime",
    "family",
    "version",
    "platform_version",
    "ami_type",
    "release_version",
];

/// `version` is a version only on these resource types (elsewhere it may be
/// anything: a policy document version, a launch template version).
const VERSION_ATTR_TYPES: &[&str] = &[
    "aws_eks_cluster",
    "aws_eks_node_group",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_msk_cluster",
    "aws_mq_broker",
];

pub static VERSION_DRIFT: Rule = Rule {
    id: "PAR001",
    name: "staging-prod-version-drift",
    family: Family::Parity,
    severity: Severity::Error,
    summary: "Staging runs a different engine, runtime or platform version than prod for the same resource",
    help: "run in staging the version prod runs (upgrade staging first, then prod, then both are equal again)",
    explanation: r#"**Why.** Staging exists to test what prod will run: the article calls it "a mirror of
production, the last line of defence" (section 1.2). When the same database, cache, cluster or
function runs `engine_version = "7.0"` in staging and `"7.2"` in prod, every test that passed in
staging says nothing about prod. guard evaluates Terraform per environment, pairs each
staging-tier root with the prod-tier root of the same configuration (the same directory
evaluated with another var file, or `environments/staging` against `environments/prod`), and
compares, resource by resource (same address, `count`/`for_each` keys aside), the attributes that
are versions: `engine`, `engine_version`, `kubernetes_version`, `cluster_version`, `runtime`,
`family`, `platform_version`, `ami_type`, `release_version`, and `version` of EKS, OpenSearch,
MSK and MQ. Sizes (instance classes, node counts) may differ. A value that cannot be known
statically is never compared. `[parity] allow` in guard.toml names differences that are
intended (`"aws_db_instance.*.engine_version"`), and `[parity] pairs` which environments to
compare (default: every staging-tier environment with every prod-tier one).

The finding is at the staging side's deciding line (the tfvars line, with the chain of
variables and module arguments), with prod's value as a related location.

**How to fix.** Bring staging to prod's version, or, during an upgrade, upgrade staging first
and prod right after, so the two are equal again.

```hcl
# environments/staging/terraform.tfvars — bad
redis_version = "7.0"
# environments/prod/terraform.tfvars
redis_version = "7.2"
```
```hcl
# environments/staging/terraform.tfvars — good
redis_version = "7.2"
```
"#,
    security_severity: "5.0",
    tags: &["parity", "terraform", "environments"],
    check: Some(check_versions),
};

/// What makes two roots the same configuration in two environments: the
/// directory with its environment-naming segment taken out (`environments/
/// {env}`), or the same directory (evaluated with another var file).
fn configuration_of(m: &Model, root: &RootEval) -> String {
    root.dir
        .split('/')
        .map(|seg| {
            if m.envs.from_dirs(&format!("{seg}/x")).is_some() {
                "{env}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A resource's address without `count`/`for_each` keys, module keys too.
fn address_key(r: &Resource) -> String {
    let mut path = String::new();
    for part in r.module_path.split('.') {
        let part = part.split('[').next().unwrap_or(part);
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(part);
    }
    if path.is_empty() {
        format!("{}.{}", r.rtype, r.name)
    } else {
        format!("{path}.{}.{}", r.rtype, r.name)
    }
}

/// Is the difference of `attr` on `rtype` allowed by `[parity] allow`?
fn allowed(m: &Model, rtype: &str, name: &str, attr: &str) -> bool {
    let subject = format!("{rtype}.{name}.{attr}");
    m.parity_allow.iter().any(|pattern| {
        globset::Glob::new(pattern)
            .map(|g| g.compile_matcher().is_match(&subject))
            .unwrap_or(false)
            || pattern == attr
    })
}

/// The environment pairs to compare: configured, else every staging-tier
/// environment with every prod-tier one.
fn pairs(m: &Model) -> Vec<(Env, Env)> {
    if !m.parity_pairs.is_empty() {
        return m.parity_pairs.clone();
    }
    let mut out = Vec::new();
    for s in m.envs.of_tier(Tier::Staging) {
        for p in m.envs.of_tier(Tier::Prod) {
            out.push((s, p));
        }
    }
    out
}

fn scalar(n: &Node) -> Option<String> {
    if n.is_unknown() {
        return None;
    }
    n.scalar_text().map(|t| t.into_owned())
}

fn check_versions(m: &Model, out: &mut Vec<Finding>) {
    let roots_of = |e: Env| -> BTreeMap<String, Vec<&RootEval>> {
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
    for (lower, upper) in pairs(m) {
        let (lows, ups) = (roots_of(lower), roots_of(upper));
        for (config, low_roots) in &lows {
            let Some(up_roots) = ups.get(config) else {
                continue;
            };
            // One evaluation on each side, or the comparison is ambiguous.
            let ([low], [up]) = (low_roots.as_slice(), up_roots.as_slice()) else {
                continue;
            };
            let up_by: BTreeMap<String, &Resource> =
                up.resources.iter().map(|r| (address_key(r), r)).collect();
            let mut seen = std::collections::BTreeSet::new();
            for lr in &low.resources {
                let key = address_key(lr);
                let Some(ur) = up_by.get(&key) else { continue };
                for attr in VERSION_ATTRS {
                    if *attr == "version" && !VERSION_ATTR_TYPES.contains(&lr.rtype.as_str()) {
                        continue;
                    }
                    let (Some(ln), Some(un)) = (lr.attrs.get(attr), ur.attrs.get(attr)) else {
                        continue;
                    };
                    let (Some(lv), Some(uv)) = (scalar(ln), scalar(un)) else {
                        continue;
                    };
                    if lv == uv
                        || allowed(m, &lr.rtype, &lr.name, attr)
                        || !seen.insert((key.clone(), *attr))
                    {
                        continue;
                    }
                    out.push(
                        VERSION_DRIFT
                            .finding(
                                ln.span,
                                format!(
                                    "{key} has {attr} `{lv}` in {lower} but `{uv}` in {upper}: {lower} tests something {upper} does not run"
                                ),
                            )
                            .env(Some(lower))
                            .via(&ln.via)
                            .related(un.span, format!("{upper} has `{uv}`")),
                    );
                }
            }
        }
    }
}

pub static RULES: &[&Rule] = &[&VERSION_DRIFT];
