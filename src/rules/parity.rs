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
    tiers: None,
};

/// What makes two roots the same configuration in two environments: the
/// directory with its environment-naming segment taken out (`environments/
/// {env}`), or the same directory (evaluated with another var file).
pub(crate) fn configuration_of(m: &Model, root: &RootEval) -> String {
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
pub(crate) fn address_key(r: &Resource) -> String {
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
pub(crate) fn pairs(m: &Model) -> Vec<(Env, Env)> {
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

/// How the two sides of one comparison stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Same,
    Differs,
    /// Differs, and `[parity] allow` says that is intended.
    Allowed,
    /// Sizes and counts: they may differ.
    MayDiffer,
    OnlyInLower,
    OnlyInUpper,
    /// One side cannot be known statically: nothing is said.
    Unknown,
}

/// One row of a comparison.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Row {
    /// `resources` or `versions`.
    pub group: &'static str,
    /// The resource address, with the attribute for versions.
    pub subject: String,
    pub lower: Option<String>,
    pub upper: Option<String>,
    pub status: Status,
    #[serde(skip)]
    pub lower_node: Option<Node>,
    #[serde(skip)]
    pub upper_node: Option<Node>,
}

/// The comparison of one configuration in two environments.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Table {
    /// The configuration (`environments/{env}`, or a directory).
    pub configuration: String,
    pub lower: Env,
    pub upper: Env,
    pub lower_root: String,
    pub upper_root: String,
    pub rows: Vec<Row>,
}

/// Attributes that are sizes: reported as "may differ".
const SIZE_ATTRS: &[&str] = &[
    "instance_class",
    "instance_type",
    "node_type",
    "allocated_storage",
    "desired_size",
    "min_size",
    "max_size",
    "num_cache_nodes",
    "num_cache_clusters",
    "memory_size",
];

/// Compare `lower` with `upper` (staging with prod): every configuration
/// evaluated once in each.
pub fn compare(m: &Model, lower: Env, upper: Env) -> Vec<Table> {
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
    let (lows, ups) = (roots_of(lower), roots_of(upper));
    let mut tables = Vec::new();
    for (config, low_roots) in &lows {
        let Some(up_roots) = ups.get(config) else {
            continue;
        };
        // One evaluation on each side, or the comparison is ambiguous.
        let ([low], [up]) = (low_roots.as_slice(), up_roots.as_slice()) else {
            continue;
        };
        let low_by: BTreeMap<String, &Resource> =
            low.resources.iter().map(|r| (address_key(r), r)).collect();
        let up_by: BTreeMap<String, &Resource> =
            up.resources.iter().map(|r| (address_key(r), r)).collect();
        let mut rows = Vec::new();
        let keys: std::collections::BTreeSet<&String> = low_by.keys().chain(up_by.keys()).collect();
        for key in keys {
            let (lr, ur) = (low_by.get(key), up_by.get(key));
            let status = match (lr, ur) {
                (Some(_), Some(_)) => Status::Same,
                (Some(_), None) => Status::OnlyInLower,
                _ => Status::OnlyInUpper,
            };
            rows.push(Row {
                group: "resources",
                subject: key.clone(),
                lower: lr.map(|_| "present".to_string()),
                upper: ur.map(|_| "present".to_string()),
                status,
                lower_node: None,
                upper_node: None,
            });
            let (Some(lr), Some(ur)) = (lr, ur) else {
                continue;
            };
            for attr in VERSION_ATTRS.iter().chain(SIZE_ATTRS) {
                if *attr == "version" && !VERSION_ATTR_TYPES.contains(&lr.rtype.as_str()) {
                    continue;
                }
                let (ln, un) = (lr.attrs.get(attr), ur.attrs.get(attr));
                if ln.is_none() && un.is_none() {
                    continue;
                }
                let (lv, uv) = (ln.and_then(scalar), un.and_then(scalar));
                let status = if ln.is_some_and(Node::is_unknown) || un.is_some_and(Node::is_unknown)
                {
                    Status::Unknown
                } else if lv == uv {
                    Status::Same
                } else if SIZE_ATTRS.contains(attr) {
                    Status::MayDiffer
                } else if allowed(m, &lr.rtype, &lr.name, attr) {
                    Status::Allowed
                } else {
                    Status::Differs
                };
                rows.push(Row {
                    group: "versions",
                    subject: format!("{key}.{attr}"),
                    lower: lv,
                    upper: uv,
                    status,
                    lower_node: ln.cloned(),
                    upper_node: un.cloned(),
                });
            }
        }
        tables.push(Table {
            configuration: if config.is_empty() {
                ".".into()
            } else {
                config.clone()
            },
            lower,
            upper,
            lower_root: format!(
                "{}{}",
                dir_label(&low.dir),
                low.var_file
                    .as_deref()
                    .map(|v| format!(" with {v}"))
                    .unwrap_or_default()
            ),
            upper_root: format!(
                "{}{}",
                dir_label(&up.dir),
                up.var_file
                    .as_deref()
                    .map(|v| format!(" with {v}"))
                    .unwrap_or_default()
            ),
            rows,
        });
    }
    tables
}

fn dir_label(d: &str) -> &str {
    if d.is_empty() { "." } else { d }
}

/// Every configured (or default) pair compared.
pub fn compare_all(m: &Model) -> Vec<Table> {
    pairs(m)
        .into_iter()
        .flat_map(|(l, u)| compare(m, l, u))
        .collect()
}

fn check_versions(m: &Model, out: &mut Vec<Finding>) {
    for t in compare_all(m) {
        for row in t.rows.iter().filter(|r| r.status == Status::Differs) {
            let (Some(ln), Some(un)) = (&row.lower_node, &row.upper_node) else {
                continue;
            };
            let (lv, uv) = (
                row.lower.as_deref().unwrap_or("?"),
                row.upper.as_deref().unwrap_or("?"),
            );
            let (subject, attr) = row.subject.rsplit_once('.').unwrap_or((&row.subject, ""));
            let (lower, upper) = (t.lower, t.upper);
            out.push(
                VERSION_DRIFT
                    .finding(
                        ln.span,
                        format!(
                            "{subject} has {attr} `{lv}` in {lower} but `{uv}` in {upper}: {lower} tests something {upper} does not run"
                        ),
                    )
                    .env(Some(lower))
                    .via(&ln.via)
                    .related(un.span, format!("{upper} has `{uv}`")),
            );
        }
    }
}

/// `guard parity` as text or Markdown (a pull-request comment: one
/// collapsible table a configuration).
pub fn render(tables: &[Table], markdown: bool) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    if tables.is_empty() {
        o.push_str("No configuration is evaluated in both environments: nothing to compare.\n");
        return o;
    }
    let word = |s: Status, t: &Table| match s {
        Status::Same => "same".to_string(),
        Status::Differs => "DIFFERS".to_string(),
        Status::Allowed => "differs (allowed)".to_string(),
        Status::MayDiffer => "may differ".to_string(),
        Status::OnlyInLower => format!("only in {}", t.lower),
        Status::OnlyInUpper => format!("only in {}", t.upper),
        Status::Unknown => "unknown".to_string(),
    };
    for t in tables {
        let differs = t
            .rows
            .iter()
            .filter(|r| {
                matches!(
                    r.status,
                    Status::Differs | Status::OnlyInLower | Status::OnlyInUpper
                )
            })
            .count();
        let differences = if differs == 1 {
            "1 difference".to_string()
        } else {
            format!("{differs} differences")
        };
        if markdown {
            let _ = writeln!(
                o,
                "<details{}><summary><code>{}</code>: {} vs {}: {differences}</summary>\n\n| | what | {} | {} | |\n|---|---|---|---|---|",
                if differs > 0 { " open" } else { "" },
                t.configuration,
                t.lower,
                t.upper,
                t.lower,
                t.upper
            );
            for r in &t.rows {
                let cell = |v: &Option<String>| {
                    v.as_deref().map_or("—".to_string(), |v| {
                        format!("`{}`", v.replace('|', "\\|"))
                    })
                };
                let _ = writeln!(
                    o,
                    "| {} | `{}` | {} | {} | {} |",
                    r.group,
                    r.subject,
                    cell(&r.lower),
                    cell(&r.upper),
                    word(r.status, t)
                );
            }
            o.push_str("\n</details>\n\n");
        } else {
            let _ = writeln!(
                o,
                "{}: {} ({}) vs {} ({}): {differences}",
                t.configuration, t.lower, t.lower_root, t.upper, t.upper_root
            );
            for group in ["resources", "versions"] {
                let rows: Vec<&Row> = t.rows.iter().filter(|r| r.group == group).collect();
                if rows.is_empty() {
                    continue;
                }
                let _ = writeln!(o, "  {group}:");
                for r in rows {
                    let v = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    if group == "resources" {
                        let _ = writeln!(o, "    {:<18} {}", word(r.status, t), r.subject);
                    } else {
                        let _ = writeln!(
                            o,
                            "    {:<18} {}  {}: {}  {}: {}",
                            word(r.status, t),
                            r.subject,
                            t.lower,
                            v(&r.lower),
                            t.upper,
                            v(&r.upper)
                        );
                    }
                }
            }
            o.push('\n');
        }
    }
    o
}

pub static RULES: &[&Rule] = &[&VERSION_DRIFT];
