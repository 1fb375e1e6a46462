//! Environments, and the evidence that puts a file or document in one.
//!
//! Environments are data ([`EnvSet`]): each has a name, a tier (`dev`,
//! `staging`, `prod`: what the built-in rules reason about), aliases and,
//! from `guard.toml`, path globs, Terraform var files, Kustomize overlays,
//! Helm values files and namespaces. Without configuration the set is
//! sandbox and dev (dev tier), qa, uat and staging (staging tier), prod,
//! plus the environments the project's directories name by region or cell
//! (`envs/prod-eu/`, `production-eu-west-1/`, `staging-2/`): each its own
//! environment, of the tier of the name it qualifies
//! ([`EnvSet::with_path_environments`]; not with `defaults = false`).
//!
//! Evidence, strongest first: configuration (globs, var files, overlays,
//! values files, namespaces); path segments (`environments/prod/`,
//! `overlays/staging/`, `prod/`); the file name (`docker-compose.prod.yml`,
//! `values-staging.yaml`, `prod.tfvars`); Kubernetes `metadata.namespace` or
//! a Kustomization's `namespace`; a workflow job's `environment:`. A
//! Kustomize overlay's environment flows to the base resources it includes.
//! Directories under `examples/`, `docs/`, `test/`, `tests/`, `testdata/`
//! and `fixtures/` are never evidence (configurable). No evidence means the
//! file applies to all environments.

use crate::hash::{HashMap, HashSet};
use std::fmt;
use std::sync::{Mutex, OnceLock};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::source::Span;

/// What the built-in rules reason about: several environments may share a
/// tier (`qa` and `staging`; `prod-eu` and `prod-us`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Dev,
    Staging,
    Prod,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Dev, Tier::Staging, Tier::Prod];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Dev => "dev",
            Tier::Staging => "staging",
            Tier::Prod => "prod",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One environment. Cheap to copy; ordered by promotion order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Env {
    rank: u16,
    name: &'static str,
    tier: Tier,
}

impl serde::Serialize for Env {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name)
    }
}

/// Environment names live as long as the process: a handful per run,
/// interned so that [`Env`] stays `Copy`.
fn intern(s: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let mut g = names.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = g.get(s) {
        return n;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    g.insert(leaked);
    leaked
}

impl Env {
    pub fn as_str(self) -> &'static str {
        self.name
    }

    pub fn tier(self) -> Tier {
        self.tier
    }

    pub fn is_prod(self) -> bool {
        self.tier == Tier::Prod
    }

    pub fn is_staging(self) -> bool {
        self.tier == Tier::Staging
    }

    /// Staging or prod tier: what is deployed from promoted artifacts.
    pub fn is_promoted(self) -> bool {
        self.tier >= Tier::Staging
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Why a file or document belongs to an environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// `guard.toml` says so (`globs`, `var-files`, `overlays`, `values`).
    Config(String),
    /// A directory in the path names the environment (`environments/prod/`).
    PathSegment(String),
    /// The file name names it (`docker-compose.prod.yml`).
    FileName(String),
    /// Kubernetes `metadata.namespace`.
    Namespace { span: Span, value: String },
    /// A Kustomization's `namespace:`.
    KustomizeNamespace { span: Span, value: String },
    /// Included by a Kustomize overlay that belongs to the environment.
    Overlay { kustomization: String, span: Span },
    /// A GitHub Actions job's `environment:`.
    WorkflowJob {
        job: String,
        span: Span,
        value: String,
    },
    /// A Terraform root evaluated with an environment's var file.
    VarFile(String),
    /// A GitOps application (Argo CD, Flux) deploys it there: what named the environment.
    GitOps(String),
    /// A Terraform root evaluated in a workspace its configuration selects
    /// by (`lookup(local.x, terraform.workspace)`).
    Workspace(String),
}

impl Evidence {
    /// A sentence fragment for `guard envs` and finding notes.
    pub fn describe(&self) -> String {
        match self {
            Evidence::Config(s) => format!("guard.toml: {s}"),
            Evidence::PathSegment(s) => format!("path segment `{s}/`"),
            Evidence::FileName(s) => format!("file name `{s}`"),
            Evidence::Namespace { value, .. } => format!("metadata.namespace `{value}`"),
            Evidence::KustomizeNamespace { value, .. } => {
                format!("kustomization namespace `{value}`")
            }
            Evidence::Overlay { kustomization, .. } => {
                format!("included by overlay `{kustomization}`")
            }
            Evidence::WorkflowJob { job, value, .. } => {
                format!("job `{job}` has environment `{value}`")
            }
            Evidence::VarFile(s) => format!("var file `{s}`"),
            Evidence::Workspace(s) => format!("workspace `{s}`"),
            Evidence::GitOps(s) => s.clone(),
        }
    }
}

/// An environment and the evidence for it. `env: None` means all environments.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Assignment {
    pub env: Option<Env>,
    pub evidence: Option<Evidence>,
}

impl Assignment {
    pub fn all() -> Assignment {
        Assignment::default()
    }

    pub fn new(env: Env, evidence: Evidence) -> Assignment {
        Assignment {
            env: Some(env),
            evidence: Some(evidence),
        }
    }

    pub fn label(&self) -> &'static str {
        self.env.map_or("all", Env::as_str)
    }
}

/// One environment's definition.
#[derive(Clone, Debug, Default)]
pub struct EnvDef {
    pub name: String,
    pub tier: Option<Tier>,
    pub aliases: Vec<String>,
    pub globs: Vec<String>,
    pub var_files: Vec<String>,
    pub workspaces: Vec<String>,
    pub overlays: Vec<String>,
    pub values: Vec<String>,
    pub namespaces: Vec<String>,
    /// Found in the project's paths rather than declared: an environment
    /// of this (default or declared) environment's tier named by a region
    /// or a cell (`prod-eu`, `staging-2`); see [`EnvSet::with_path_environments`].
    pub derived_from: Option<String>,
}

/// The built-in environments, in promotion order, with their aliases.
pub const DEFAULTS: [(&str, Tier, &[&str]); 6] = [
    ("sandbox", Tier::Dev, &["sbx"]),
    ("dev", Tier::Dev, &["development"]),
    ("qa", Tier::Staging, &[]),
    ("uat", Tier::Staging, &[]),
    (
        "staging",
        Tier::Staging,
        &["stg", "stage", "preprod", "preproduction"],
    ),
    ("prod", Tier::Prod, &["prd", "production"]),
];

/// Directory names whose contents are not environment evidence by default.
pub const NON_ENVIRONMENT_DIRS: [&str; 6] =
    ["examples", "docs", "test", "tests", "testdata", "fixtures"];

/// Globs compiled once, each mapped to an environment.
#[derive(Clone, Debug, Default)]
struct EnvGlobs {
    set: GlobSet,
    envs: Vec<(Env, String)>,
}

impl EnvGlobs {
    fn build(pairs: Vec<(Env, String)>) -> Result<EnvGlobs, String> {
        let mut b = GlobSetBuilder::new();
        for (_, g) in &pairs {
            let g = g.trim_start_matches("./").trim_end_matches('/');
            b.add(Glob::new(g).map_err(|e| format!("`{g}`: {e}"))?);
        }
        Ok(EnvGlobs {
            set: b.build().map_err(|e| e.to_string())?,
            envs: pairs,
        })
    }

    /// The first configured environment whose glob matches `path`.
    fn find(&self, path: &str) -> Option<(Env, &str)> {
        if self.envs.is_empty() {
            return None;
        }
        let i = self.set.matches(path).into_iter().min()?;
        self.envs.get(i).map(|(e, g)| (*e, g.as_str()))
    }
}

/// The environments of a project: the built-in set, or what `guard.toml`
/// declares, and how to recognise each.
#[derive(Clone, Debug)]
pub struct EnvSet {
    envs: Vec<Env>,
    defs: Vec<EnvDef>,
    /// Lower-case word -> environment (names and aliases).
    words: HashMap<String, Env>,
    globs: EnvGlobs,
    var_files: EnvGlobs,
    /// Overlay directories, `/`-trimmed.
    overlays: Vec<(String, Env)>,
    values: EnvGlobs,
    namespaces: HashMap<String, Env>,
    workspaces: HashMap<String, Env>,
    non_env_dirs: Vec<String>,
    /// The promotion order the set was built with.
    order: Option<Vec<String>>,
    /// Compound names and aliases (`prod-eu`, `live-us`) as their words,
    /// longest first: found inside longer names by [`EnvSet::words`].
    compounds: Vec<(Vec<String>, Env)>,
    /// Whether [`EnvSet::with_path_environments`] adds the environments
    /// the paths name by region or cell (false with `defaults = false`).
    derive: bool,
}

impl Default for EnvSet {
    fn default() -> EnvSet {
        EnvSet::builtin()
    }
}

impl EnvSet {
    /// The built-in environments.
    pub fn builtin() -> EnvSet {
        let defs = DEFAULTS
            .iter()
            .map(|(n, t, a)| EnvDef {
                name: (*n).to_string(),
                tier: Some(*t),
                aliases: a.iter().map(|s| (*s).to_string()).collect(),
                ..EnvDef::default()
            })
            .collect();
        match EnvSet::new(defs, None, None) {
            Ok(s) => s,
            // The built-in definitions have no globs, so building cannot fail.
            Err(_) => EnvSet {
                envs: Vec::new(),
                defs: Vec::new(),
                words: HashMap::default(),
                globs: EnvGlobs::default(),
                var_files: EnvGlobs::default(),
                overlays: Vec::new(),
                values: EnvGlobs::default(),
                namespaces: HashMap::default(),
                workspaces: HashMap::default(),
                non_env_dirs: Vec::new(),
                order: None,
                compounds: Vec::new(),
                derive: true,
            },
        }
    }

    /// Build a set from definitions (each with a tier), an optional
    /// promotion order (names; unlisted environments follow, by tier then
    /// definition order) and the directories that are not evidence.
    pub fn new(
        defs: Vec<EnvDef>,
        order: Option<&[String]>,
        non_env_dirs: Option<Vec<String>>,
    ) -> Result<EnvSet, String> {
        // An environment found in the paths (`prod-eu`) takes the place of
        // the one it was derived from (`prod`) when only that is ordered.
        let ranked_at = |name: &str| order.and_then(|o| o.iter().position(|n| *n == name));
        let mut ranked: Vec<(usize, usize, &EnvDef)> = defs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let pos = ranked_at(&d.name)
                    .or_else(|| d.derived_from.as_deref().and_then(ranked_at))
                    .unwrap_or(usize::MAX);
                (pos, i, d)
            })
            .collect();
        ranked.sort_by_key(|(pos, i, d)| (*pos, d.tier.unwrap_or(Tier::Dev), *i));
        let mut envs = Vec::new();
        let mut by_name = HashMap::default();
        for (rank, (_, _, d)) in ranked.iter().enumerate() {
            let e = Env {
                rank: u16::try_from(rank).unwrap_or(u16::MAX),
                name: intern(&d.name),
                tier: d.tier.unwrap_or(Tier::Dev),
            };
            envs.push(e);
            by_name.insert(d.name.clone(), e);
        }
        envs.sort();
        let mut words = HashMap::default();
        let (mut globs, mut var_files, mut values) = (Vec::new(), Vec::new(), Vec::new());
        let (mut overlays, mut namespaces, mut workspaces) =
            (Vec::new(), HashMap::default(), HashMap::default());
        for d in &defs {
            let Some(&e) = by_name.get(&d.name) else {
                continue;
            };
            words.insert(d.name.to_ascii_lowercase(), e);
            for a in &d.aliases {
                words.insert(a.to_ascii_lowercase(), e);
            }
            globs.extend(d.globs.iter().map(|g| (e, g.clone())));
            var_files.extend(d.var_files.iter().map(|g| (e, g.clone())));
            values.extend(d.values.iter().map(|g| (e, g.clone())));
            overlays.extend(d.overlays.iter().map(|o| {
                (
                    o.trim_start_matches("./").trim_end_matches('/').to_string(),
                    e,
                )
            }));
            namespaces.extend(d.namespaces.iter().map(|n| (n.clone(), e)));
            workspaces.extend(d.workspaces.iter().map(|n| (n.clone(), e)));
        }
        let mut compounds: Vec<(Vec<String>, Env)> = words
            .iter()
            .filter(|(w, _)| w.contains(['-', '_', '.']))
            .map(|(w, e)| {
                let parts = w
                    .split(['-', '_', '.'])
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect();
                (parts, *e)
            })
            .collect();
        compounds.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.cmp(b)));
        Ok(EnvSet {
            envs,
            defs,
            words,
            globs: EnvGlobs::build(globs)?,
            var_files: EnvGlobs::build(var_files)?,
            overlays,
            values: EnvGlobs::build(values)?,
            namespaces,
            workspaces,
            non_env_dirs: non_env_dirs.unwrap_or_else(|| {
                NON_ENVIRONMENT_DIRS
                    .iter()
                    .map(|s| (*s).to_string())
                    .collect()
            }),
            order: order.map(<[String]>::to_vec),
            compounds,
            derive: true,
        })
    }

    /// Whether [`EnvSet::with_path_environments`] derives environments
    /// (off when `guard.toml` says `defaults = false`: only the declared
    /// environments exist).
    pub fn derive_from_paths(mut self, on: bool) -> EnvSet {
        self.derive = on;
        self
    }

    /// The set with the environments that directories name by region or
    /// cell: `envs/prod-eu/`, `production-eu-west-1/`, `staging-2/`,
    /// `eu-prod/` are environments of their own, of the tier of the
    /// environment their name contains (`prod-eu` is a prod-tier
    /// environment, compared with staging as prod is, and not the same
    /// environment as `prod-us`). The name is the directory's region and
    /// cell words around the environment's own name (`production-eu-west-1`
    /// is `prod-eu-west-1`, with the directory name as an alias). A bare
    /// region (`eu-west-1`) names no environment, and words that only
    /// qualify (`env-prod`, `prod-blue`, `prod-cluster`) leave the
    /// environment as it is. A Terraform var file named by such a name
    /// alone (`prod-eu.tfvars`) counts as a directory would. `paths` are
    /// project-relative file paths.
    pub fn with_path_environments<'a>(&self, paths: impl IntoIterator<Item = &'a str>) -> EnvSet {
        if !self.derive {
            return self.clone();
        }
        let mut seen: HashSet<&str> = HashSet::default();
        let mut found: std::collections::BTreeMap<String, (Env, Vec<String>)> =
            std::collections::BTreeMap::new();
        for path in paths {
            if self.in_non_env_dir(path) {
                continue;
            }
            let mut segs: Vec<&str> = path.split('/').collect();
            // A file named by the environment alone (`prod-eu.tfvars`).
            if let Some(stem) = segs.pop().map(|name| {
                name.split('.')
                    .next()
                    .filter(|_| name.ends_with(".tfvars") || name.ends_with(".tfvars.json"))
                    .unwrap_or("")
            }) && !stem.is_empty()
            {
                segs.push(stem);
            }
            for seg in segs {
                if !seen.insert(seg) {
                    continue;
                }
                if let Some((name, base)) = self.derived_name(seg) {
                    let entry = found.entry(name).or_insert((base, Vec::new()));
                    let lower = seg.to_ascii_lowercase();
                    if !entry.1.contains(&lower) {
                        entry.1.push(lower);
                    }
                }
            }
        }
        if found.is_empty() {
            return self.clone();
        }
        let mut defs = self.defs.clone();
        for (name, (base, mut segs)) in found {
            // The directory names, the canonical name among them when it
            // is one: what `guard envs` shows.
            segs.sort();
            if let Some(d) = defs.iter_mut().find(|d| d.name == name) {
                segs.retain(|s| *s != name);
                d.aliases.extend(segs);
                continue;
            }
            defs.push(EnvDef {
                name,
                tier: Some(base.tier),
                aliases: segs,
                derived_from: Some(base.name.to_string()),
                ..EnvDef::default()
            });
        }
        match EnvSet::new(defs, self.order.as_deref(), Some(self.non_env_dirs.clone())) {
            Ok(s) => s.derive_from_paths(self.derive),
            Err(_) => self.clone(),
        }
    }

    /// `s` with every word-bounded mention of `e` (its name and aliases,
    /// and for an environment found in the paths those of the environment
    /// it qualifies) replaced by `{env}`, case-insensitively: what is left
    /// of an identifier that embeds its environment's name
    /// (`shop-stage-api` in staging and `shop-production-api` in prod are
    /// both `shop-{env}-api`; `arn:aws:rds:..:db:stage-db` is
    /// `arn:aws:rds:..:db:{env}-db`). Words are ASCII letters and digits;
    /// `product` does not mention `prod`.
    pub fn mask(&self, s: &str, e: Env) -> String {
        let mut labels: Vec<Vec<String>> = Vec::new();
        let mut add = |name: &str| {
            for d in self.defs.iter().filter(|d| d.name == name) {
                for l in std::iter::once(&d.name).chain(&d.aliases) {
                    let words: Vec<String> = l
                        .split(|c: char| !c.is_ascii_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .map(str::to_ascii_lowercase)
                        .collect();
                    if !words.is_empty() && !labels.contains(&words) {
                        labels.push(words);
                    }
                }
            }
        };
        add(e.name);
        if let Some(base) = self
            .defs
            .iter()
            .find(|d| d.name == e.name)
            .and_then(|d| d.derived_from.clone())
        {
            add(&base);
        }
        labels.sort_by_key(|l| std::cmp::Reverse(l.len()));
        // Runs of word characters and of separators, in order.
        let mut runs: Vec<(bool, &str)> = Vec::new();
        let mut start = 0;
        for (i, c) in s.char_indices() {
            let word = c.is_ascii_alphanumeric();
            if i > start && runs_kind(s, start) != word {
                runs.push((runs_kind(s, start), &s[start..i]));
                start = i;
            }
        }
        if start < s.len() {
            runs.push((runs_kind(s, start), &s[start..]));
        }
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < runs.len() {
            let (word, text) = runs[i];
            if word {
                // The longest label whose words are the words from here on,
                // separated by `-`, `_` or `.`.
                let hit = labels.iter().find_map(|l| {
                    let mut j = i;
                    for (k, w) in l.iter().enumerate() {
                        if k > 0 {
                            let sep = runs.get(j + 1)?;
                            if sep.1.len() != 1 || !matches!(sep.1, "-" | "_" | ".") {
                                return None;
                            }
                            j += 2;
                        }
                        let r = runs.get(j)?;
                        if !r.0 || !r.1.eq_ignore_ascii_case(w) {
                            return None;
                        }
                    }
                    Some(j)
                });
                if let Some(j) = hit {
                    out.push_str("{env}");
                    i = j + 1;
                    continue;
                }
            }
            out.push_str(text);
            i += 1;
        }
        out
    }

    /// Is `name` the name of an environment a directory called `name` would
    /// add ([`EnvSet::with_path_environments`]): `prod-eu`, `staging-2`, not
    /// `production-eu` (whose environment is `prod-eu`) nor `prod-blue`?
    pub fn named_by_region_or_cell(&self, name: &str) -> bool {
        self.derived_name(name).is_some_and(|(n, _)| n == name)
    }

    /// The environment a compound directory name stands for when its other
    /// words name a region or a cell, and the environment whose tier it
    /// has: `prod-eu` → (`prod-eu`, prod), `production-eu-west-1` →
    /// (`prod-eu-west-1`, prod), `staging-2` → (`staging-2`, staging). None
    /// for a name that is already an environment's, or that only qualifies
    /// one (`env-prod`, `prod-blue`).
    fn derived_name(&self, seg: &str) -> Option<(String, Env)> {
        if self.word(seg).is_some() || !self.looks_like_env_dir(seg) {
            return None;
        }
        let base = self.words(seg)?;
        let mut parts: Vec<String> = Vec::new();
        let (mut distinct, mut placed) = (false, false);
        for w in seg.split(['-', '_', '.']) {
            let w = w.to_ascii_lowercase();
            if w.is_empty() {
                continue;
            }
            if self.word(&w).is_some() {
                if !placed {
                    parts.push(base.name.to_string());
                    placed = true;
                }
            } else if w.chars().all(|c| c.is_ascii_digit()) || PLACES.contains(&w.as_str()) {
                distinct = true;
                parts.push(w);
            }
        }
        (distinct && placed).then(|| (parts.join("-"), base))
    }

    /// Every environment, in promotion order.
    pub fn all(&self) -> &[Env] {
        &self.envs
    }

    pub fn defs(&self) -> &[EnvDef] {
        &self.defs
    }

    pub fn non_env_dirs(&self) -> &[String] {
        &self.non_env_dirs
    }

    /// Is `e` the environment named `name`, or one found in the paths that
    /// qualifies it (`prod-eu` for `prod`)? What settings keyed by an
    /// environment's name (`[regions.prod]`, `[parity] pairs`, an
    /// `[[ignore]]` with `environment = "prod"`, `--env prod`) apply to.
    pub fn is_or_qualifies(&self, e: Env, name: &str) -> bool {
        e.name == name
            || self
                .defs
                .iter()
                .any(|d| d.name == e.name && d.derived_from.as_deref() == Some(name))
    }

    /// The environment named `name` and those found in the paths that
    /// qualify it, in promotion order.
    pub fn with_qualified(&self, name: &str) -> Vec<Env> {
        self.envs
            .iter()
            .copied()
            .filter(|e| self.is_or_qualifies(*e, name))
            .collect()
    }

    /// The environments of a tier, in promotion order.
    pub fn of_tier(&self, tier: Tier) -> impl Iterator<Item = Env> + '_ {
        self.envs.iter().copied().filter(move |e| e.tier == tier)
    }

    /// An environment by its name (not an alias).
    pub fn named(&self, name: &str) -> Option<Env> {
        self.envs.iter().copied().find(|e| e.name == name)
    }

    /// The environment a whole word names (a name or an alias,
    /// case-insensitive).
    pub fn word(&self, word: &str) -> Option<Env> {
        self.words.get(&word.to_ascii_lowercase()).copied()
    }

    /// The environment named by the whole of `s` or by one of its `-`, `_`,
    /// `.` separated words (`docker-compose.prod`, `values-staging`,
    /// `app-dev`). When words name different environments, none is returned.
    pub fn words(&self, s: &str) -> Option<Env> {
        if let Some(e) = self.word(s) {
            return Some(e);
        }
        if let Some(e) = self.compound_in(s) {
            return Some(e);
        }
        let mut found = None;
        let mut prev = "";
        for w in s.split(['-', '_', '.']) {
            // `multi-stage`, `build-stage`: a Docker build stage, not staging;
            // `non-prod` is every environment but prod; `pre-prod` is staging.
            let p = prev.to_ascii_lowercase();
            let build_stage =
                w.eq_ignore_ascii_case("stage") && matches!(p.as_str(), "multi" | "build");
            let negated = matches!(p.as_str(), "non" | "not");
            let pre = p == "pre" && self.word(w).is_some_and(Env::is_prod);
            prev = w;
            if build_stage || negated {
                continue;
            }
            let word_env = if pre {
                self.of_tier(Tier::Staging)
                    .find(|e| e.name == "staging")
                    .or_else(|| self.of_tier(Tier::Staging).next())
            } else {
                self.word(w)
            };
            if let Some(e) = word_env {
                if found.is_some_and(|f| f != e) {
                    return None;
                }
                found = Some(e);
            }
        }
        found
    }

    /// The environment whose compound name or alias (`prod-eu`) `s` holds as
    /// consecutive words (`values-prod-eu`, `shop-prod-eu`), the longest
    /// first; not after `non`/`not`/`pre`. Two different environments of
    /// the same length: none.
    fn compound_in(&self, s: &str) -> Option<Env> {
        if self.compounds.is_empty() {
            return None;
        }
        let parts: Vec<&str> = s.split(['-', '_', '.']).filter(|p| !p.is_empty()).collect();
        let mut found: Option<(usize, Env)> = None;
        for (words, e) in &self.compounds {
            if found.is_some_and(|(len, _)| len > words.len()) {
                break;
            }
            let at = parts.windows(words.len()).enumerate().find(|(i, win)| {
                win.iter()
                    .zip(words)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
                    && !i
                        .checked_sub(1)
                        .and_then(|p| parts.get(p))
                        .is_some_and(|p| {
                            ["non", "not", "pre"]
                                .iter()
                                .any(|n| p.eq_ignore_ascii_case(n))
                        })
            });
            if at.is_some() {
                match found {
                    Some((_, f)) if f != *e => return None,
                    _ => found = Some((words.len(), *e)),
                }
            }
        }
        found.map(|(_, e)| e)
    }

    /// A namespace's environment: configured namespaces, then its words.
    pub fn namespace(&self, ns: &str) -> Option<Env> {
        self.namespaces.get(ns).copied().or_else(|| self.words(ns))
    }

    /// The configured Terraform workspaces and their environments, sorted.
    pub fn workspaces(&self) -> Vec<(String, Env)> {
        let mut v: Vec<(String, Env)> = self
            .workspaces
            .iter()
            .map(|(w, e)| (w.clone(), *e))
            .collect();
        v.sort();
        v
    }

    /// A Terraform workspace's environment.
    pub fn workspace(&self, ws: &str) -> Option<Env> {
        self.workspaces.get(ws).copied().or_else(|| self.words(ws))
    }

    /// A var file configured for an environment (`var-files`).
    pub fn configured_var_file(&self, path: &str) -> Option<Assignment> {
        self.var_files
            .find(path)
            .map(|(e, g)| Assignment::new(e, Evidence::Config(format!("var-files `{g}`"))))
    }

    /// A Kustomize overlay directory configured for an environment.
    pub fn configured_overlay(&self, dir: &str) -> Option<Assignment> {
        self.overlays
            .iter()
            .find(|(o, _)| o == dir)
            .map(|(o, e)| Assignment::new(*e, Evidence::Config(format!("overlays `{o}`"))))
    }

    /// Is `path` (project-relative) below a directory that is never
    /// evidence (`examples/dev/` is an example, not dev)?
    fn in_non_env_dir(&self, path: &str) -> bool {
        let mut segs: Vec<&str> = path.split('/').collect();
        segs.pop();
        segs.iter()
            .any(|s| self.non_env_dirs.iter().any(|d| d.eq_ignore_ascii_case(s)))
    }

    /// Evidence from configuration alone: path globs and values files.
    fn configured_path(&self, path: &str) -> Option<Assignment> {
        if let Some((e, g)) = self.globs.find(path) {
            return Some(Assignment::new(e, Evidence::Config(format!("globs `{g}`"))));
        }
        if let Some((e, g)) = self.values.find(path) {
            return Some(Assignment::new(
                e,
                Evidence::Config(format!("values `{g}`")),
            ));
        }
        self.configured_var_file(path)
    }

    /// Environment from the directories of a `/`-separated relative path
    /// (the file name excluded). The deepest directory that names an
    /// environment wins, so `prod/overlays/staging/x.yaml` is staging.
    pub fn from_dirs(&self, path: &str) -> Option<Assignment> {
        if self.in_non_env_dir(path) {
            return None;
        }
        let mut segs: Vec<&str> = path.split('/').collect();
        segs.pop();
        segs.iter().rev().find_map(|seg| {
            self.word(seg)
                .or_else(|| self.words(seg).filter(|_| self.looks_like_env_dir(seg)))
                .map(|e| Assignment::new(e, Evidence::PathSegment((*seg).to_string())))
        })
    }

    /// A compound directory name names an environment when its other words
    /// only qualify it: `env-prod`, `prod-eu`, `production-ap-northeast-1`,
    /// `prod-blue`; not `production-data` or `dev-tools`.
    fn looks_like_env_dir(&self, seg: &str) -> bool {
        seg.split(['-', '_', '.']).all(|w| {
            let w = w.to_ascii_lowercase();
            self.word(&w).is_some()
                || w.is_empty()
                || w.chars().all(|c| c.is_ascii_digit())
                || QUALIFIERS.contains(&w.as_str())
                || PLACES.contains(&w.as_str())
        })
    }

    /// Environment from a file name: `docker-compose.prod.yml`,
    /// `values-staging.yaml`, `prod.tfvars`, `deploy-dev.yml`.
    pub fn from_file_name(&self, path: &str) -> Option<Assignment> {
        if self.in_non_env_dir(path) {
            return None;
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        let words: Vec<&str> = name
            .split('.')
            .filter(|w| !matches!(*w, "yml" | "yaml" | "json" | "tf" | "tfvars" | "hcl"))
            .collect();
        let joined = words.join(".");
        self.words(&joined)
            .map(|e| Assignment::new(e, Evidence::FileName(name.to_string())))
    }

    /// Path evidence: configuration, directories, then the file name.
    pub fn from_path(&self, path: &str) -> Option<Assignment> {
        self.configured_path(path)
            .or_else(|| self.from_dirs(path))
            .or_else(|| self.from_file_name(path))
    }
}

/// Whether the character at byte `at` of `s` is a word character (see
/// [`EnvSet::mask`]).
fn runs_kind(s: &str, at: usize) -> bool {
    s[at..]
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Words of a compound directory name that tell one environment of a tier
/// from another (with numbers: `staging-2`): regions and places. The
/// other [`QUALIFIERS`] (`env`, `cluster`, `blue`, `dr`, ...) do not.
const PLACES: &[&str] = &[
    "us",
    "eu",
    "ap",
    "sa",
    "ca",
    "me",
    "af",
    "il",
    "cn",
    "gov",
    "east",
    "west",
    "north",
    "south",
    "central",
    "northeast",
    "southeast",
    "northwest",
    "southwest",
    "tokyo",
    "singapore",
    "jp",
    "sg",
];

/// Words besides [`PLACES`] that only qualify an environment in a
/// compound directory name.
const QUALIFIERS: &[&str] = &[
    "env",
    "envs",
    "environment",
    "ou",
    "account",
    "acct",
    "cluster",
    "aws",
    "gcp",
    "azure",
    "k8s",
    "eks",
    "gke",
    "aks",
    "blue",
    "green",
    "primary",
    "secondary",
    "dr",
    "pre",
    "global",
    "region",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> EnvSet {
        EnvSet::builtin()
    }

    fn env(p: &str) -> Option<&'static str> {
        set().from_path(p).and_then(|a| a.env).map(Env::as_str)
    }

    #[test]
    fn aliases() {
        let s = set();
        for (w, e) in [
            ("dev", "dev"),
            ("Development", "dev"),
            ("stg", "staging"),
            ("stage", "staging"),
            ("staging", "staging"),
            ("PRD", "prod"),
            ("production", "prod"),
            ("qa", "qa"),
            ("uat", "uat"),
            ("sandbox", "sandbox"),
        ] {
            assert_eq!(s.word(w).map(Env::as_str), Some(e), "{w}");
        }
        assert_eq!(s.word("devops"), None);
        assert_eq!(s.word("product"), None);
        assert_eq!(s.named("qa").map(Env::tier), Some(Tier::Staging));
        assert_eq!(s.named("sandbox").map(Env::tier), Some(Tier::Dev));
        // Promotion order.
        let names: Vec<_> = s.all().iter().map(|e| e.as_str()).collect();
        assert_eq!(names, ["sandbox", "dev", "qa", "uat", "staging", "prod"]);
    }

    #[test]
    fn path_segments_deepest_wins() {
        let a = set().from_path("environments/prod/main.tf").unwrap();
        assert_eq!(a.env.map(Env::as_str), Some("prod"));
        assert_eq!(a.evidence, Some(Evidence::PathSegment("prod".into())));
        assert_eq!(env("prod/overlays/staging/k.yaml"), Some("staging"));
        assert_eq!(env("envs/env-dev/x.tf"), Some("dev"));
        assert_eq!(env("modules/rds/main.tf"), None);
        assert_eq!(
            env("environments/production-ap-northeast-1/main.tf"),
            Some("prod")
        );
        assert_eq!(env("production-data/x.yaml"), None);
        assert_eq!(env("dev-tools/x.yaml"), None);
        assert_eq!(env("non-prod/x.yaml"), None);
        assert_eq!(env("pre-prod/x.yaml"), Some("staging"));
        assert_eq!(env("preprod/x.yaml"), Some("staging"));
        assert_eq!(env("devops/tools/main.tf"), None);
        assert_eq!(env("envs/qa/main.tf"), Some("qa"));
    }

    #[test]
    fn examples_and_tests_are_not_environments() {
        assert_eq!(env("examples/dev/main.tf"), None);
        assert_eq!(env("modules/x/examples/prod/main.tf"), None);
        assert_eq!(env("tests/prod.tfvars"), None);
        assert_eq!(env("fixtures/k8s/overlays/prod/k.yaml"), None);
        // Configurable.
        let s = EnvSet::new(set().defs().to_vec(), None, Some(vec![])).unwrap();
        assert_eq!(
            s.from_path("examples/dev/main.tf")
                .and_then(|a| a.env)
                .map(Env::as_str),
            Some("dev")
        );
    }

    #[test]
    fn file_names() {
        for (p, e) in [
            ("docker-compose.prod.yml", "prod"),
            ("values-staging.yaml", "staging"),
            ("prod.tfvars", "prod"),
            ("ci/deploy-dev.yml", "dev"),
            ("values-uat.yaml", "uat"),
        ] {
            assert_eq!(env(p), Some(e), "{p}");
        }
        assert_eq!(env("docker-compose.yml"), None);
        assert_eq!(env("Dockerfile.multi-stage"), None);
        assert_eq!(env("ci/build-stage.yml"), None);
        // Two different environments in one name: no assignment.
        assert_eq!(env("dev-to-prod.yml"), None);
    }

    /// `envs/prod-eu/` and `envs/prod-us/` are two prod-tier environments,
    /// not one prod; a bare region is no environment; qualifiers that are
    /// not places (`env-`, `-blue`) leave the environment as it is.
    #[test]
    fn environments_named_by_region_or_cell() {
        let s = set().with_path_environments([
            "envs/prod-eu/main.tf",
            "envs/prod-us/main.tf",
            "envs/production-eu-west-1/main.tf",
            "k8s/overlays/staging-2/kustomization.yaml",
            "regions/eu-prod/main.tf",
            "live/prod/eu-west-1/rds/main.tf",
            "envs/env-prod/main.tf",
            "k8s/prod-blue/deploy.yaml",
            "examples/prod-ap/main.tf",
            "envs/non-prod-eu/main.tf",
        ]);
        let names: Vec<_> = s.all().iter().map(|e| e.as_str()).collect();
        assert_eq!(
            names,
            [
                "sandbox",
                "dev",
                "qa",
                "uat",
                "staging",
                "staging-2",
                "prod",
                "eu-prod",
                "prod-eu",
                "prod-eu-west-1",
                "prod-us",
            ]
        );
        for n in ["prod-eu", "prod-us", "prod-eu-west-1", "eu-prod"] {
            assert_eq!(s.named(n).map(Env::tier), Some(Tier::Prod), "{n}");
        }
        assert_eq!(s.named("staging-2").map(Env::tier), Some(Tier::Staging));
        let names = |v: Vec<Env>| v.iter().map(|e| e.as_str()).collect::<Vec<_>>();
        assert_eq!(
            names(s.with_qualified("prod")),
            ["prod", "eu-prod", "prod-eu", "prod-eu-west-1", "prod-us"]
        );
        assert_eq!(names(s.with_qualified("prod-eu")), ["prod-eu"]);
        assert!(!s.is_or_qualifies(s.named("prod-eu").unwrap(), "staging"));
        // What guard.toml may name before any directory is seen.
        let b = set();
        assert!(b.named_by_region_or_cell("prod-eu"));
        assert!(b.named_by_region_or_cell("staging-2"));
        assert!(!b.named_by_region_or_cell("production-eu"));
        assert!(!b.named_by_region_or_cell("prod-blue"));
        assert!(!b.named_by_region_or_cell("prod"));
        assert!(!b.named_by_region_or_cell("eu-west-1"));
        let got = |p: &str| s.from_path(p).and_then(|a| a.env).map(Env::as_str);
        assert_eq!(got("envs/prod-eu/main.tf"), Some("prod-eu"));
        assert_eq!(got("envs/prod-us/main.tf"), Some("prod-us"));
        assert_eq!(
            got("envs/production-eu-west-1/main.tf"),
            Some("prod-eu-west-1")
        );
        assert_eq!(got("live/prod/eu-west-1/rds/main.tf"), Some("prod"));
        assert_eq!(got("envs/env-prod/main.tf"), Some("prod"));
        assert_eq!(got("k8s/prod-blue/deploy.yaml"), Some("prod"));
        assert_eq!(got("envs/non-prod-eu/main.tf"), None);
        // The directory name is an alias; names that hold it name it.
        assert_eq!(
            s.word("production-eu-west-1").map(Env::as_str),
            Some("prod-eu-west-1")
        );
        assert_eq!(got("helm/values-prod-eu.yaml"), Some("prod-eu"));
        assert_eq!(
            s.namespace("shop-prod-us").map(Env::as_str),
            Some("prod-us")
        );
        assert_eq!(s.words("shop-prod").map(Env::as_str), Some("prod"));
        assert_eq!(s.words("non-prod-eu"), None);
        // A var file named by the environment alone names one too.
        let s =
            set().with_path_environments(["terraform/prod-ap.tfvars", "k8s/values-prod-sg.yaml"]);
        assert_eq!(
            s.from_path("terraform/prod-ap.tfvars")
                .and_then(|a| a.env)
                .map(Env::as_str),
            Some("prod-ap")
        );
        assert!(s.named("prod-sg").is_none());
        // The built-in set alone knows none of them.
        assert_eq!(env("envs/prod-eu/main.tf"), Some("prod"));
        // Not with `defaults = false`: only what is declared exists.
        let off = set()
            .derive_from_paths(false)
            .with_path_environments(["envs/prod-eu/x.tf"]);
        assert_eq!(off.all().len(), 6);
        // A configured order places them with the environment they qualify.
        let order = ["prod".to_string(), "staging".into()];
        let ordered = EnvSet::new(set().defs().to_vec(), Some(&order), None)
            .unwrap()
            .with_path_environments(["envs/prod-eu/x.tf", "envs/staging-2/x.tf"]);
        let names: Vec<_> = ordered.all().iter().map(|e| e.as_str()).collect();
        assert_eq!(
            names,
            [
                "prod",
                "prod-eu",
                "staging",
                "staging-2",
                "sandbox",
                "dev",
                "qa",
                "uat"
            ]
        );
    }

    #[test]
    fn masking_an_environment_out_of_identifiers() {
        let s = set().with_path_environments(["envs/prod-eu/main.tf"]);
        let (stg, prod, eu) = (
            s.named("staging").unwrap(),
            s.named("prod").unwrap(),
            s.named("prod-eu").unwrap(),
        );
        assert_eq!(s.mask("shop-stage-api", stg), "shop-{env}-api");
        assert_eq!(s.mask("shop-production-api", prod), "shop-{env}-api");
        assert_eq!(s.mask("shop-prod-eu-api", eu), "shop-{env}-api");
        assert_eq!(s.mask("shop-production-api", eu), "shop-{env}-api");
        assert_eq!(
            s.mask("arn:aws:rds:eu-west-1:123456789012:db:STAGE-db", stg),
            "arn:aws:rds:eu-west-1:123456789012:db:{env}-db"
        );
        assert_eq!(s.mask("shop_staging.api", stg), "shop_{env}.api");
        // Only the environment's own names; never part of a word.
        assert_eq!(s.mask("shop-prod-api", stg), "shop-prod-api");
        assert_eq!(s.mask("product-catalog", prod), "product-catalog");
        assert_eq!(s.mask("15.4", prod), "15.4");
        assert_eq!(s.mask("", prod), "");
        assert_eq!(s.mask("prod", prod), "{env}");
        assert_eq!(s.mask("é-prod-ü", prod), "é-{env}-ü");
    }

    #[test]
    fn configured_environments() {
        let defs = vec![
            EnvDef {
                name: "dev".into(),
                tier: Some(Tier::Dev),
                ..EnvDef::default()
            },
            EnvDef {
                name: "nonproduction".into(),
                tier: Some(Tier::Staging),
                globs: vec!["envs/nonproduction/**".into()],
                ..EnvDef::default()
            },
            EnvDef {
                name: "prod-eu".into(),
                tier: Some(Tier::Prod),
                var_files: vec!["**/eu.tfvars".into()],
                namespaces: vec!["shop-eu".into()],
                ..EnvDef::default()
            },
            EnvDef {
                name: "prod-us".into(),
                tier: Some(Tier::Prod),
                aliases: vec!["live-us".into()],
                ..EnvDef::default()
            },
        ];
        let order = ["dev".to_string(), "nonproduction".into(), "prod-us".into()];
        let s = EnvSet::new(defs, Some(&order), None).unwrap();
        let names: Vec<_> = s.all().iter().map(|e| e.as_str()).collect();
        assert_eq!(names, ["dev", "nonproduction", "prod-us", "prod-eu"]);
        let got = |p: &str| s.from_path(p).and_then(|a| a.env).map(Env::as_str);
        assert_eq!(got("envs/nonproduction/main.tf"), Some("nonproduction"));
        assert_eq!(got("envs/prod-us/main.tf"), Some("prod-us"));
        assert_eq!(got("live-us/x.yaml"), Some("prod-us"));
        assert_eq!(got("terraform/eu.tfvars"), Some("prod-eu"));
        assert_eq!(s.namespace("shop-eu").map(Env::as_str), Some("prod-eu"));
        assert_eq!(s.of_tier(Tier::Prod).count(), 2);
        // The built-in words are gone when not declared.
        assert_eq!(got("staging/x.yaml"), None);
    }
}
