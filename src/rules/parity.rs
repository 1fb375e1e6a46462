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
MSK and MQ; and the module calls' `source` and `version` and the `required_providers` version
constraints (a module or provider at another version in staging tests other code); and GitOps
applications of the same chart or path (an Argo CD `Application` per environment, an
ApplicationSet's elements, a Flux HelmRelease per overlay), whose `targetRevision` or chart
`version` must be the same. Sizes (instance classes, node counts) may differ. A value that cannot be known
statically is never compared, and values that differ only by each environment's own name
(an ECS `family` of `shop-stage-api` in staging and `shop-production-api` in prod) are
identifiers, not versions; resources and containers are paired by their names with the
environment's name taken out too. `[parity] allow` in guard.toml names differences that are
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
    let path = module_key(&r.module_path);
    if path.is_empty() {
        format!("{}.{}", r.rtype, r.name)
    } else {
        format!("{path}.{}.{}", r.rtype, r.name)
    }
}

/// Pair the items of two environments by key: by the key as written when
/// the other side has an item of that key, else by the key with its own
/// environment's names masked (`aws_sqs_queue.orders_stage` in staging
/// pairs with `aws_sqs_queue.orders_production` in prod; a
/// `prod-mirror` both sides have stays `prod-mirror`). The first item of a
/// key wins.
pub(crate) fn paired<K: Ord + Clone, T>(
    m: &Model,
    (low, lower): (Vec<(K, T)>, Env),
    (up, upper): (Vec<(K, T)>, Env),
    mask: impl Fn(&crate::env::EnvSet, &K, Env) -> K,
) -> (BTreeMap<K, T>, BTreeMap<K, T>) {
    let keys = |items: &[(K, T)]| -> std::collections::BTreeSet<K> {
        items.iter().map(|(k, _)| k.clone()).collect()
    };
    let (low_keys, up_keys) = (keys(&low), keys(&up));
    let side = |items: Vec<(K, T)>, env: Env, other: &std::collections::BTreeSet<K>| {
        let mut out = BTreeMap::new();
        for (k, t) in items {
            let key = if other.contains(&k) {
                k
            } else {
                mask(&m.envs, &k, env)
            };
            out.entry(key).or_insert(t);
        }
        out
    };
    (side(low, lower, &up_keys), side(up, upper, &low_keys))
}

/// Mask a string key (see [`paired`]).
fn mask_str(envs: &crate::env::EnvSet, k: &str, e: Env) -> String {
    envs.mask(k, e)
}

/// Resources of two evaluations paired by address (see [`paired`]).
pub(crate) fn paired_resources<'a>(
    m: &Model,
    (low, lower): (&'a RootEval, Env),
    (up, upper): (&'a RootEval, Env),
) -> (
    BTreeMap<String, &'a Resource>,
    BTreeMap<String, &'a Resource>,
) {
    let items = |r: &'a RootEval| -> Vec<(String, &'a Resource)> {
        r.resources.iter().map(|x| (address_key(x), x)).collect()
    };
    paired(
        m,
        (items(low), lower),
        (items(up), upper),
        |e, k: &String, env| mask_str(e, k, env),
    )
}

/// Do two values differ only by their environments' own names (an ECS
/// family, a name or an ARN that embeds the environment)?
fn named_alike(m: &Model, lv: Option<&str>, lower: Env, uv: Option<&str>, upper: Env) -> bool {
    match (lv, uv) {
        (Some(l), Some(u)) => {
            let (ml, mu) = (m.envs.mask(l, lower), m.envs.mask(u, upper));
            ml == mu && ml.contains("{env}")
        }
        _ => false,
    }
}

/// A module path without its instance keys (`module.app["eu"].module.db`
/// → `module.app.module.db`): what parity pairs across environments.
fn module_key(module_path: &str) -> String {
    let mut path = String::new();
    for part in module_path.split('.') {
        let part = part.split('[').next().unwrap_or(part);
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(part);
    }
    path
}

/// Is the difference of `attr` on `rtype` allowed by `[parity] allow`?
fn allowed(m: &Model, rtype: &str, name: &str, attr: &str) -> bool {
    allowed_subject(m, attr, &format!("{rtype}.{name}.{attr}"))
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
    /// Differs only by the environments' own names (`shop-stage-api` and
    /// `shop-production-api`): an identifier, not a version.
    Identifier,
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
        let (low_by, up_by) = paired_resources(m, (low, lower), (up, upper));
        let mut rows = Vec::new();
        let keys: std::collections::BTreeSet<&String> = low_by.keys().chain(up_by.keys()).collect();
        for key in keys {
            let (lr, ur) = (low_by.get(key), up_by.get(key));
            let status = match (lr, ur) {
                (Some(_), Some(_)) => Status::Same,
                (Some(_), None) => Status::OnlyInLower,
                _ => Status::OnlyInUpper,
            };
            // Shown by its address in the lower environment (the key masks
            // the environments' names).
            let address = lr.or(ur).map_or_else(|| key.clone(), |r| address_key(r));
            rows.push(Row {
                group: "resources",
                subject: address.clone(),
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
                } else if named_alike(m, lv.as_deref(), lower, uv.as_deref(), upper) {
                    Status::Identifier
                } else if SIZE_ATTRS.contains(attr) {
                    Status::MayDiffer
                } else if allowed(m, &lr.rtype, &lr.name, attr) {
                    Status::Allowed
                } else {
                    Status::Differs
                };
                rows.push(Row {
                    group: "versions",
                    subject: format!("{address}.{attr}"),
                    lower: lv,
                    upper: uv,
                    status,
                    lower_node: ln.cloned(),
                    upper_node: un.cloned(),
                });
            }
        }
        rows.extend(module_and_provider_rows(m, low, up));
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

/// Module calls (present, `source`, `version`) and required provider
/// versions of two evaluations, as parity rows: a module or provider at
/// another version in staging is what PAR001 reports.
fn module_and_provider_rows(m: &Model, low: &RootEval, up: &RootEval) -> Vec<Row> {
    // address -> (source, version) nodes and the address as written
    type Calls<'a> = Vec<(String, (Option<&'a Node>, Option<&'a Node>, String))>;
    fn calls(r: &RootEval) -> Calls<'_> {
        let mut out = Vec::new();
        for b in r.providers.iter().filter(|b| b.kind == "module") {
            let Some(name) = b.labels.first() else {
                continue;
            };
            let path = module_key(&b.module_path);
            let key = if path.is_empty() {
                format!("module.{name}")
            } else {
                format!("{path}.module.{name}")
            };
            out.push((
                key.clone(),
                (b.attrs.get("source"), b.attrs.get("version"), key),
            ));
        }
        out
    }
    fn providers(r: &RootEval) -> BTreeMap<String, &Node> {
        let mut out = BTreeMap::new();
        for b in r
            .providers
            .iter()
            .filter(|b| b.kind == "terraform" && b.module_path.is_empty())
        {
            let req = b.attrs.get("required_providers");
            let maps: Vec<&Node> = match req {
                Some(n) if n.is_map() => vec![n],
                Some(n) => n.as_seq().iter().collect(),
                None => Vec::new(),
            };
            for map in maps {
                for e in map.entries() {
                    let (Some(name), Some(v)) = (e.key_str(), e.value.get("version")) else {
                        continue;
                    };
                    out.entry(name.to_string()).or_insert(v);
                }
            }
        }
        out
    }
    let mut rows = Vec::new();
    let (lc, uc) = match (low.assignment.env, up.assignment.env) {
        (Some(l), Some(u)) => paired(m, (calls(low), l), (calls(up), u), |e, k: &String, env| {
            mask_str(e, k, env)
        }),
        _ => (
            calls(low).into_iter().rev().collect(),
            calls(up).into_iter().rev().collect(),
        ),
    };
    let keys: std::collections::BTreeSet<&String> = lc.keys().chain(uc.keys()).collect();
    for key in keys {
        let (l, u) = (lc.get(key), uc.get(key));
        let key = l.or(u).map_or(key, |c| &c.2);
        rows.push(Row {
            group: "resources",
            subject: key.clone(),
            lower: l.map(|_| "present".to_string()),
            upper: u.map(|_| "present".to_string()),
            status: match (l, u) {
                (Some(_), Some(_)) => Status::Same,
                (Some(_), None) => Status::OnlyInLower,
                _ => Status::OnlyInUpper,
            },
            lower_node: None,
            upper_node: None,
        });
        let (Some(l), Some(u)) = (l, u) else { continue };
        for (attr, ln, un) in [("source", l.0, u.0), ("version", l.1, u.1)] {
            if ln.is_none() && un.is_none() {
                continue;
            }
            rows.push(version_row(m, key, "module", attr, ln, un));
        }
    }
    let (lp, upv) = (providers(low), providers(up));
    let names: std::collections::BTreeSet<&String> = lp.keys().chain(upv.keys()).collect();
    for name in names {
        let (ln, un) = (lp.get(name).copied(), upv.get(name).copied());
        rows.push(version_row(
            m,
            &format!("provider.{name}"),
            "provider",
            "version",
            ln,
            un,
        ));
    }
    rows
}

fn version_row(
    m: &Model,
    key: &str,
    kind: &str,
    attr: &str,
    ln: Option<&Node>,
    un: Option<&Node>,
) -> Row {
    let (lv, uv) = (ln.and_then(scalar), un.and_then(scalar));
    let name = key.rsplit('.').next().unwrap_or(key);
    let status = if ln.is_some_and(Node::is_unknown) || un.is_some_and(Node::is_unknown) {
        Status::Unknown
    } else if lv == uv {
        Status::Same
    } else if allowed(m, kind, name, attr) {
        Status::Allowed
    } else {
        Status::Differs
    };
    Row {
        group: "versions",
        subject: format!("{key}.{attr}"),
        lower: lv,
        upper: uv,
        status,
        lower_node: ln.cloned(),
        upper_node: un.cloned(),
    }
}

fn dir_label(d: &str) -> &str {
    if d.is_empty() { "." } else { d }
}

/// Every configured (or default) pair compared: Terraform configurations,
/// then what Kubernetes, compose and ECS run in each environment.
pub fn compare_all(m: &Model) -> Vec<Table> {
    pairs(m)
        .into_iter()
        .flat_map(|(l, u)| {
            let mut t = compare(m, l, u);
            t.extend(compare_workloads(m, l, u));
            t
        })
        .collect()
}

/// One compared aspect of a container on both sides: (group, lower
/// items, upper items), each item (name, value, where).
type ShapeSet = (
    &'static str,
    Vec<(String, String, crate::source::Span)>,
    Vec<(String, String, crate::source::Span)>,
);

/// Is a workload difference allowed by `[parity] allow` (a glob over the
/// row's subject, or the group name: `"env"`)?
fn allowed_subject(m: &Model, group: &str, subject: &str) -> bool {
    m.parity_allow.iter().any(|pattern| {
        pattern == group
            || globset::Glob::new(pattern)
                .map(|g| g.compile_matcher().is_match(subject))
                .unwrap_or(false)
    })
}

/// How a workload row names its container: by the lower environment's
/// names (the key masks the environments' own names).
fn subject_of(c: Option<&crate::model::Container>, key: &(String, String)) -> String {
    match c {
        Some(c) => format!("{} / {}", c.owner, c.name),
        None => format!("{} / {}", key.0, key.1),
    }
}

/// The containers each environment runs, per platform: the same workloads
/// and containers, the same image repositories, the same environment
/// variable names (replicas, resources and tags may differ).
pub fn compare_workloads(m: &Model, lower: Env, upper: Env) -> Vec<Table> {
    use crate::model::{Container, Platform};
    type Key = (String, String);
    // Containers are compared within one configuration: the directory of
    // their file with environment names taken out (`k8s/staging` and
    // `k8s/prod` are one; a Kustomize base rendered by both overlays is its
    // own directory), never across unrelated parts of a monorepo.
    let config_of = |c: &Container| -> String {
        let dir = crate::source::parent_dir(m.sources.path(c.file));
        dir.split('/')
            .map(|seg| {
                // A directory that is an environment's whole name or alias
                // (`prod-eu`, `staging`) is one place, whatever its words.
                if m.envs.word(seg).is_some() {
                    return "{env}".to_string();
                }
                seg.split_inclusive(['-', '_', '.'])
                    .map(|part| {
                        let word = part.trim_end_matches(['-', '_', '.']);
                        if m.envs.word(word).is_some() {
                            part.replacen(word, "{env}", 1)
                        } else {
                            part.to_string()
                        }
                    })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let of = |platform: Platform, e: Env| -> BTreeMap<String, Vec<(Key, &Container)>> {
        let mut by: BTreeMap<String, Vec<(Key, &Container)>> = BTreeMap::new();
        for c in m
            .containers
            .iter()
            .filter(|c| c.platform == platform && c.env == Some(e) && c.label.is_none())
        {
            by.entry(config_of(c))
                .or_default()
                .push(((c.owner.clone(), c.name.clone()), c));
        }
        by
    };
    let repo = |c: &Container| -> Option<(String, Node)> {
        let img = c.image.as_ref()?;
        if img.is_unknown() {
            return None;
        }
        let r = crate::model::image::ImageRef::parse(img.as_str()?)?;
        let name = match r.registry {
            Some(reg) => format!("{reg}/{}", r.repository),
            None => r.repository.to_string(),
        };
        Some((name, img.clone()))
    };
    let mut tables = Vec::new();
    for (platform, label) in [
        (Platform::Kubernetes, "kubernetes workloads"),
        (Platform::Compose, "compose services"),
        (Platform::Ecs, "ECS task definitions"),
    ] {
        let (lo_all, mut up_all) = (of(platform, lower), of(platform, upper));
        for (config, lo) in lo_all {
            let Some(up) = up_all.remove(&config) else {
                continue;
            };
            // The workloads and containers by name, or by name without the
            // environment's own (`task definition shop-stage-api` is prod's
            // `task definition shop-production-api`).
            let (lo, up) = paired(m, (lo, lower), (up, upper), |envs, (o, n), e| {
                (envs.mask(o, e), envs.mask(n, e))
            });
            let (lo, up) = (&lo, &up);
            let mut rows = Vec::new();
            let keys: std::collections::BTreeSet<&Key> = lo.keys().chain(up.keys()).collect();
            for key in keys {
                let (lc, uc) = (lo.get(key).copied(), up.get(key).copied());
                let subject = subject_of(lc.or(uc), key);
                let decl = |c: Option<&Container>| c.map(|c| Node::string(c.decl, c.name.clone()));
                rows.push(Row {
                    group: "workloads",
                    subject: subject.clone(),
                    lower: lc.map(|_| "present".to_string()),
                    upper: uc.map(|_| "present".to_string()),
                    status: match (lc, uc) {
                        (Some(_), Some(_)) => Status::Same,
                        (Some(_), None) => Status::OnlyInLower,
                        _ => Status::OnlyInUpper,
                    },
                    lower_node: decl(lc),
                    upper_node: decl(uc),
                });
                let (Some(lc), Some(uc)) = (lc, uc) else {
                    continue;
                };
                let (lr, ur) = (repo(lc), repo(uc));
                if lr.is_some() || ur.is_some() {
                    let status = match (&lr, &ur) {
                        (Some((a, _)), Some((b, _))) if a == b => Status::Same,
                        (Some(_), Some(_)) => {
                            if allowed_subject(m, "images", &format!("{subject}.image")) {
                                Status::Allowed
                            } else {
                                Status::Differs
                            }
                        }
                        _ => Status::Unknown,
                    };
                    rows.push(Row {
                        group: "images",
                        subject: format!("{subject}.image"),
                        lower: lr.as_ref().map(|(r, _)| r.clone()),
                        upper: ur.as_ref().map(|(r, _)| r.clone()),
                        status,
                        lower_node: lr.map(|(_, n)| n),
                        upper_node: ur.map(|(_, n)| n),
                    });
                }
                let names = |c: &Container| -> Vec<(String, (crate::source::Span, String))> {
                    c.env_vars
                        .iter()
                        .map(|v| (v.name.clone(), (v.name_span, v.name.clone())))
                        .collect()
                };
                let (ln, un) = paired(
                    m,
                    (names(lc), lower),
                    (names(uc), upper),
                    |e, k: &String, env| mask_str(e, k, env),
                );
                let all: std::collections::BTreeSet<&String> = ln.keys().chain(un.keys()).collect();
                for key in all {
                    let (a, b) = (ln.get(key), un.get(key));
                    let name = a.or(b).map_or(key, |x| &x.1);
                    let sub = format!("{subject}.env.{name}");
                    let status = match (a, b) {
                        (Some(_), Some(_)) => Status::Same,
                        _ if allowed_subject(m, "env", &sub) => Status::Allowed,
                        (Some(_), None) => Status::OnlyInLower,
                        _ => Status::OnlyInUpper,
                    };
                    rows.push(Row {
                        group: "env",
                        subject: sub,
                        lower: a.map(|_| "set".to_string()),
                        upper: b.map(|_| "set".to_string()),
                        status,
                        lower_node: Some(a.map_or_else(
                            || Node::string(lc.decl, lc.name.clone()),
                            |(s, n)| Node::string(*s, n.clone()),
                        )),
                        upper_node: Some(b.map_or_else(
                            || Node::string(uc.decl, uc.name.clone()),
                            |(s, n)| Node::string(*s, n.clone()),
                        )),
                    });
                }
            }
            // Ports, probes and volume mounts (Kubernetes): the same on both
            // sides, probes with the same kind and path.
            for (key, lc, uc) in lo
                .iter()
                .filter_map(|(k, lc)| up.get(k).map(|uc| (k, *lc, *uc)))
            {
                let subject = subject_of(Some(lc), key);
                let sets: [ShapeSet; 3] = [
                    (
                        "ports",
                        lc.ports
                            .iter()
                            .map(|(p, s)| (p.clone(), "open".into(), *s))
                            .collect(),
                        uc.ports
                            .iter()
                            .map(|(p, s)| (p.clone(), "open".into(), *s))
                            .collect(),
                    ),
                    ("probes", lc.probes.clone(), uc.probes.clone()),
                    (
                        "volumes",
                        lc.mounts
                            .iter()
                            .map(|(p, s)| (p.clone(), "mounted".into(), *s))
                            .collect(),
                        uc.mounts
                            .iter()
                            .map(|(p, s)| (p.clone(), "mounted".into(), *s))
                            .collect(),
                    ),
                ];
                for (group, l, u) in sets {
                    // Mount paths (and probe paths) that name their own
                    // environment (`/etc/app/staging`) are the same place.
                    let items = |v: Vec<(String, String, crate::source::Span)>| {
                        v.into_iter()
                            .map(|(n, val, s)| (n.clone(), (n, val, s)))
                            .collect::<Vec<_>>()
                    };
                    let (l, u) = paired(
                        m,
                        (items(l), lower),
                        (items(u), upper),
                        |e, k: &String, env| mask_str(e, k, env),
                    );
                    let keys: std::collections::BTreeSet<&String> =
                        l.keys().chain(u.keys()).collect();
                    for key in keys {
                        let (a, b) = (l.get(key), u.get(key));
                        let name = &a.or(b).map_or(key, |x| &x.0);
                        let a = a.map(|(_, v, s)| (s, v));
                        let b = b.map(|(_, v, s)| (s, v));
                        let sub = format!("{subject}.{group}.{name}");
                        let status = match (a, b) {
                            (Some(x), Some(y))
                                if x.1 == y.1
                                    || m.envs.mask(x.1, lower) == m.envs.mask(y.1, upper) =>
                            {
                                Status::Same
                            }
                            _ if allowed_subject(m, group, &sub) => Status::Allowed,
                            (Some(_), Some(_)) => Status::Differs,
                            (Some(_), None) => Status::OnlyInLower,
                            _ => Status::OnlyInUpper,
                        };
                        let (ln, un) = (l.get(key), u.get(key));
                        rows.push(Row {
                            group,
                            subject: sub,
                            lower: a.map(|x| x.1.clone()),
                            upper: b.map(|x| x.1.clone()),
                            status,
                            lower_node: Some(ln.map_or_else(
                                || Node::string(lc.decl, lc.name.clone()),
                                |(n, _, s)| Node::string(*s, n.clone()),
                            )),
                            upper_node: Some(un.map_or_else(
                                || Node::string(uc.decl, uc.name.clone()),
                                |(n, _, s)| Node::string(*s, n.clone()),
                            )),
                        });
                    }
                }
            }
            let overlays = |side: &BTreeMap<Key, &Container>| {
                let mut o: Vec<&str> = side.values().filter_map(|c| c.overlay.as_deref()).collect();
                o.sort_unstable();
                o.dedup();
                if o.is_empty() {
                    "by path".to_string()
                } else {
                    o.join(", ")
                }
            };
            tables.push(Table {
                configuration: if config.is_empty() {
                    label.to_string()
                } else {
                    format!("{label} in {config}")
                },
                lower,
                upper,
                lower_root: overlays(lo),
                upper_root: overlays(up),
                rows,
            });
        }
    }
    tables
}

/// GitOps applications of the same chart or path in two environments (`shop-staging` and
/// `shop-prod` deploying `charts/shop`, or both the chart `kube-prometheus-stack`): a
/// `targetRevision` (a chart version, a git revision) that differs is a version staging tests
/// and prod does not run.
fn check_app_versions(m: &Model, out: &mut Vec<Finding>) {
    type Key = (String, String);
    let what = |s: &crate::model::gitops::AppSource| -> Option<String> {
        let (label, n) = match (&s.chart, &s.path) {
            (Some(c), _) => ("chart", c),
            (None, Some(p)) => ("path", p),
            _ => return None,
        };
        n.as_str().map(|v| format!("{label} `{v}`"))
    };
    for (lower, upper) in pairs(m) {
        let side = |env: Env| -> Vec<(Key, (&crate::model::gitops::App, &Node))> {
            let mut v = Vec::new();
            for app in m.apps.iter().filter(|a| a.env == Some(env)) {
                for s in &app.sources {
                    let (Some(source), Some(rev)) = (what(s), s.target_revision.as_ref()) else {
                        continue;
                    };
                    if rev.as_str().is_none_or(|r| r.contains("{{")) {
                        continue;
                    }
                    v.push(((app.name.clone(), source), (app, rev)));
                }
            }
            v
        };
        let (low, up) = paired(
            m,
            (side(lower), lower),
            (side(upper), upper),
            |envs, (name, source): &Key, e| (envs.mask(name, e), source.clone()),
        );
        for (key, (app, lrev)) in &low {
            let Some((_, urev)) = up.get(key) else {
                continue;
            };
            let (Some(lv), Some(uv)) = (lrev.as_str(), urev.as_str()) else {
                continue;
            };
            if lv == uv {
                continue;
            }
            out.push(
                VERSION_DRIFT
                    .finding(
                        lrev.span,
                        format!(
                            "{} deploys {} at `{lv}` in {lower} but at `{uv}` in {upper}: {lower} tests something {upper} does not run",
                            app.describe(),
                            key.1
                        ),
                    )
                    .env(Some(lower))
                    .via(&lrev.via)
                    .related(urev.span, format!("{upper} has `{uv}`")),
            );
        }
    }
}

fn check_versions(m: &Model, out: &mut Vec<Finding>) {
    check_app_versions(m, out);
    for t in compare_all(m) {
        for row in t
            .rows
            .iter()
            .filter(|r| r.status == Status::Unknown && r.group == "versions")
        {
            if let Some(n) = row.lower_node.as_ref().or(row.upper_node.as_ref()) {
                out.push(
                    VERSION_DRIFT
                        .undecided(
                            n.span,
                            format!("{} is the same in {} and {}", row.subject, t.lower, t.upper),
                            super::UNKNOWN_VALUE,
                        )
                        .env(Some(t.lower)),
                );
            }
        }
        for row in t
            .rows
            .iter()
            .filter(|r| r.status == Status::Differs && r.group == "versions")
        {
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
        Status::Identifier => "same (env name)".to_string(),
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
            for group in [
                "resources",
                "versions",
                "workloads",
                "images",
                "env",
                "ports",
                "probes",
                "volumes",
            ] {
                let rows: Vec<&Row> = t.rows.iter().filter(|r| r.group == group).collect();
                if rows.is_empty() {
                    continue;
                }
                let _ = writeln!(o, "  {group}:");
                for r in rows {
                    let v = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
                    if matches!(group, "resources" | "workloads") {
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

pub static WORKLOAD_DRIFT: Rule = Rule {
    id: "PAR002",
    name: "staging-prod-workload-drift",
    family: Family::Parity,
    severity: Severity::Warning,
    summary: "Prod runs a container, or gives one an environment variable, port, probe or volume, that staging does not have (or the other way round)",
    help: "deploy to staging what prod runs: the same containers and the same environment variable names (values may differ)",
    explanation: r#"**Why.** "Staging is a mirror of prod, the last line of defence" (the article, section 1.2).
A container that runs in prod but not in staging was never tested anywhere before it took
traffic; an environment variable that prod's container sets and staging's does not (or the
other way round) means the code path it switches was not exercised in staging. guard renders
each environment's workloads (Kustomize overlays, per-environment compose files, ECS task
definitions by path) and compares the staging tier with the prod tier, container by container:
the same workloads and containers, the same image repository (a different repository is
BO004), the same environment variable names, and for Kubernetes the same container ports,
probes (kind and HTTP path) and volume mounts. Replicas, resources, hosts and the values of
variables may differ. `guard parity` shows every row; `[parity] allow` in guard.toml names
intended differences (`"env"` for all variables, or a glob over the row's subject such as
`"Deployment/web / web.env.DEBUG*"`).

The finding is at staging's container (or its variable), with prod's as a related location;
for a container only prod runs, at prod's declaration.

**How to fix.** Add the container or the variable to staging's overlay (with a staging value),
or remove it from prod, or allow the difference in guard.toml when it is intended.

```yaml
# k8s/overlays/prod/patch.yaml — bad: only prod turns the new cache on
env:
  - name: CACHE_ENABLED
    value: "true"
```
```yaml
# k8s/base/deployment.yaml — good: both environments set it, with their own values
env:
  - name: CACHE_ENABLED
    value: "true"
```
"#,
    security_severity: "4.0",
    tags: &["parity", "kubernetes", "compose", "ecs"],
    check: Some(check_workloads),
    tiers: None,
};

fn check_workloads(m: &Model, out: &mut Vec<Finding>) {
    for (lower, upper) in pairs(m) {
        for t in compare_workloads(m, lower, upper) {
            for r in &t.rows {
                let (Some(ln), Some(un)) = (&r.lower_node, &r.upper_node) else {
                    // Only one side: a workload only prod runs.
                    if r.status == Status::OnlyInUpper
                        && let Some(un) = &r.upper_node
                    {
                        out.push(
                            WORKLOAD_DRIFT
                                .finding(
                                    un.span,
                                    format!("{} runs in {upper} but not in {lower}: {lower} never tests it", r.subject),
                                )
                                .env(Some(upper)),
                        );
                    }
                    continue;
                };
                let noun = match r.group {
                    "env" => "environment variable",
                    "ports" => "port",
                    "probes" => "probe",
                    "volumes" => "volume mount",
                    _ => continue,
                };
                let sep = format!(".{}.", r.group);
                let (what, item) = r.subject.rsplit_once(&sep).unwrap_or((&r.subject, ""));
                let msg = match r.status {
                    Status::OnlyInUpper => format!(
                        "{what} has the {noun} `{item}` in {upper} but not in {lower}: {lower} does not test it"
                    ),
                    Status::OnlyInLower => format!(
                        "{what} has the {noun} `{item}` in {lower} but not in {upper}: {lower} tests a configuration {upper} does not run"
                    ),
                    Status::Differs => format!(
                        "{what}'s {noun} `{item}` is `{}` in {lower} but `{}` in {upper}",
                        r.lower.as_deref().unwrap_or("?"),
                        r.upper.as_deref().unwrap_or("?")
                    ),
                    _ => continue,
                };
                out.push(
                    WORKLOAD_DRIFT
                        .finding(ln.span, msg)
                        .env(Some(lower))
                        .related(un.span, format!("{upper}'s container")),
                );
            }
        }
    }
}

pub static RULES: &[&Rule] = &[&VERSION_DRIFT, &WORKLOAD_DRIFT];
