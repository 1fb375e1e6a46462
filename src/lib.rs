//! guard: an environment-aware policy-as-code linter for multi-environment
//! AWS / Kubernetes / Terraform repositories.
//!
//! The pipeline, one way only:
//! paths → [`project`] (root, scope) → [`discover`] → parse ([`parse`],
//! parallel, spans) → [`model`] (environments, Kustomize, Terraform
//! evaluation, inventories) → [`rules`] → [`finding`]s → scope, suppress,
//! baseline → sort → [`render`].

pub mod baseline;
pub mod config;
pub mod discover;
pub mod env;
pub mod explain_config;
pub mod finding;
pub mod gate;
pub mod hash;
pub mod init;
pub mod model;
pub mod node;
pub mod parse;
pub mod project;
pub mod rego;
pub mod render;
pub mod rules;
pub mod settings;
pub mod source;
pub mod suppress;
pub mod terraform;
pub mod terragrunt;

use std::path::PathBuf;
use std::time::Instant;

use finding::{Located, Severity};

/// What to check and how.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub excludes: Vec<String>,
    /// Check only the paths given, as if each were a project of its own
    /// (`--no-project`).
    pub no_project: bool,
    /// The configuration file (`--config`, `GUARD_CONFIG`); default: the
    /// project root's guard.toml.
    pub config: Option<PathBuf>,
    /// `--select`, `--ignore`, `--extend-select`.
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub extend_select: Vec<String>,
    /// Report only findings that hold in these environments (`--env`).
    pub envs: Vec<String>,
    /// Audit mode: show suppressed findings as if unsuppressed.
    pub no_suppressions: bool,
    /// Leave out findings recorded in this baseline.
    pub baseline: Option<PathBuf>,
    /// `--config-from REF`: guard.toml, the baseline and the policies are
    /// read from this git revision (see [`gate`]), the content from the
    /// work tree; inline suppressions of input-safety (GD) findings are
    /// not honoured.
    pub config_from: Option<String>,
    /// Policy directories (`--policy`): replace guard.toml's `policies`
    /// and the project's `policy/` / `policies/`.
    pub policy: Vec<PathBuf>,
    /// Data for the policies (`--data`).
    pub data: Vec<PathBuf>,
    /// Conftest packages to evaluate (`--namespace`; default `main`).
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    /// Conftest's `--combine`.
    pub combine: bool,
    /// Conftest's `--rego-version` (default: v1, else v0 per file).
    pub rego_version: Option<rego::RegoVersion>,
    /// Run no policies (`--no-policies`).
    pub no_policies: bool,
    /// Report where a rule could not decide, as notes (`--strict`).
    pub strict: bool,
    /// With `no_project`: the path given is the project root (`guard
    /// init`): identity paths are relative to it and its own name is not
    /// environment evidence.
    pub as_root: bool,
}

/// How many checks of a rule could not be decided, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Undecided {
    pub rule: &'static str,
    pub reason: &'static str,
    pub count: usize,
}

/// The Rego policies' part of a check.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PolicyStats {
    /// Rules the policies define (each `deny`/`warn`/`violation` of a package).
    pub rules: usize,
    /// Inputs evaluated: documents, or 1 with `--combine` (plus 1 for the
    /// guard/v1 packages).
    pub inputs: usize,
    /// Results an `exception` rule turned off.
    pub exceptions: usize,
    /// Time spent building the inputs (HCL parsed again for Conftest's
    /// shape), within the policies' time.
    #[serde(skip)]
    pub input_micros: u128,
    /// What the policies' `print()` calls wrote, `file:line: text`, input by input.
    #[serde(skip)]
    pub prints: Vec<String>,
}

/// Wall-clock time of each stage, in microseconds.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timings {
    pub discover_micros: u128,
    pub parse_micros: u128,
    pub model_micros: u128,
    pub terraform_micros: u128,
    pub rules_micros: u128,
    /// The Rego policies (within `rules_micros`).
    pub policy_micros: u128,
    pub total_micros: u128,
}

/// Everything one run found, ready to render.
pub struct Report {
    pub model: model::Model,
    /// Findings in scope, located and sorted (suppressed ones included,
    /// marked; baselined ones left out).
    pub findings: Vec<Located>,
    pub walk: discover::WalkStats,
    pub timings: Timings,
    /// Files of the project in the scope the user asked about.
    pub files_in_scope: usize,
    /// Warnings for stderr (an exclude glob that matched nothing...).
    pub warnings: Vec<String>,
    pub settings: settings::Settings,
    /// Findings left out because the baseline records them.
    pub baselined: usize,
    /// Baseline entries that no longer match a finding (fixed since).
    pub baseline_fixed: usize,
    /// What the Rego policies did, when the project has any.
    pub policies: Option<PolicyStats>,
    /// Checks a rule could not decide (values not known statically), per
    /// rule and reason, in scope; with `--strict` they are also findings.
    pub undecided: Vec<Undecided>,
    /// Secret values found (sorted spans): never printed, masked in every
    /// snippet that shows their line.
    pub redactions: Vec<source::Span>,
    /// The URIs of the files in the paths given, when they narrow the
    /// project (None: all of it): which baseline entries this run judged.
    pub scope_uris: Option<std::collections::BTreeSet<String>>,
    /// Findings left out past the run's cap (`[limits] max-findings`), by rule: a capped run
    /// fails whatever `--fail-on` says.
    pub over_cap: Vec<(String, usize)>,
    /// `--config-from`: the ref given and the commit it named.
    pub gate: Option<(String, String)>,
}

impl Report {
    /// Is a file (by URI, as baseline entries name it) in the paths given?
    pub fn uri_in_scope(&self, uri: &str) -> bool {
        in_scope_uri(&self.scope_uris, uri)
    }

    /// Findings that count (not suppressed).
    pub fn active(&self) -> impl Iterator<Item = &Located> {
        self.findings.iter().filter(|f| f.suppressed.is_none())
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.active().filter(|f| f.severity == severity).count()
    }

    pub fn suppressed(&self) -> usize {
        self.findings.len() - self.active().count()
    }

    /// The most severe counting finding's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.active().map(|f| f.severity).max()
    }
}

#[derive(Debug)]
pub enum Error {
    /// A usage or configuration problem (exit 2).
    Usage(String),
    /// An invalid configuration file: every error, located (exit 2).
    Config(settings::Invalid),
    /// An input path could not be read (exit 2).
    Io(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Usage(s) | Error::Io(s) => f.write_str(s),
            Error::Config(c) => write!(f, "{c}"),
        }
    }
}

/// What `load` gives: the model of the project and how it was found.
pub struct Loaded {
    pub model: model::Model,
    pub walk: discover::WalkStats,
    pub timings: Timings,
    pub plan: project::Plan,
    pub warnings: Vec<String>,
    pub settings: settings::Settings,
    /// The configuration file's id in the model's sources.
    pub config_file: Option<source::FileId>,
    /// The project's Rego policies, when it has any.
    pub policies: Option<rego::Policies>,
    /// `--config-from`: the gate read from the ref (its files are removed
    /// when it is dropped).
    pub gate: Option<gate::Gate>,
}

/// Find the project, discover, parse and model it, without running rules
/// (`guard envs`).
pub fn load(opts: &Options) -> Result<Loaded, Error> {
    let t0 = Instant::now();
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let mut plan = project::plan(&paths, !opts.no_project).map_err(Error::Io)?;
    if opts.as_root {
        for r in &mut plan.roots {
            r.prefix.clear();
            r.env_start = 0;
        }
    }
    let gate = match &opts.config_from {
        Some(reference) => {
            let root =
                plan.roots.first().map(|r| r.dir.clone()).ok_or_else(|| {
                    Error::Usage("--config-from: no project to check".to_string())
                })?;
            Some(
                gate::read(&gate::Request {
                    reference,
                    root: &root,
                    config: opts.config.as_deref(),
                    baseline: opts.baseline.as_deref(),
                    policies: opts.policy.is_empty() && !opts.no_policies,
                })
                .map_err(Error::Usage)?,
            )
        }
        None => None,
    };
    let (config_path, config_shown, config) = find_config(opts, &plan, gate.as_ref())?;
    let overrides = overrides(opts);
    let policy_dirs = policy_dirs(
        opts,
        &plan,
        config.as_ref(),
        config_path.as_deref(),
        gate.as_ref(),
    )?;
    let policies = if policy_dirs.is_empty() {
        None
    } else {
        rego::Policies::load(&rego::Options {
            dirs: policy_dirs.clone(),
            data: opts.data.clone(),
            namespaces: opts.namespaces.clone(),
            all_namespaces: opts.all_namespaces,
            combine: opts.combine,
            testing: false,
            base: plan.roots.first().map(|r| r.dir.clone()),
            rego_version: opts.rego_version,
        })
        .map_err(|e| Error::Usage(e.0))?
    };
    // Policies asked for by name that hold none: a usage error, as Conftest's "no policies
    // found" (the project's own `policy/`/`policies/` may hold none).
    if policies.is_none() && !opts.policy.is_empty() && !opts.no_policies {
        let named: Vec<String> = opts
            .policy
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        return Err(Error::Usage(format!(
            "no policies found in {} (no .rego file)",
            named.join(", ")
        )));
    }
    if let Some(p) = &policies {
        rules::register(&p.guard_rules());
    }
    // With --no-policies, guard.toml may name rules of policies not loaded.
    let config = match (&config_path, &config_shown) {
        (Some(p), Some(shown)) if !opts.no_policies => Some(
            settings::read_config(p, shown).map_err(|invalid| with_cli_errors(invalid, opts))?,
        ),
        _ => config,
    };
    let mut settings = settings::Settings::resolve(config_path.clone(), config, &overrides)
        .map_err(Error::Usage)?;
    if let Some(m) = settings
        .config
        .as_ref()
        .and_then(|c| c.limits.max_file_size.as_ref())
    {
        plan.max_file_bytes = m.value;
    }
    let exclude_globs: Vec<String> = settings.excludes.iter().map(|(g, _)| g.clone()).collect();
    let excludes = discover::build_excludes(&exclude_globs).map_err(Error::Usage)?;
    let mut walked = discover::walk(&plan, &excludes);
    if let Some(e) = walked.errors.first() {
        return Err(Error::Io(e.clone()));
    }
    // The policies, their tests and fixtures are not the project's configuration (with
    // --config-from, the work tree's copies of the ref's policy directories neither).
    let mut policy_real: Vec<PathBuf> = policy_dirs
        .iter()
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .collect();
    if let Some(g) = &gate {
        policy_real.extend(
            g.policy_dirs
                .iter()
                .filter_map(|(_, rel)| std::fs::canonicalize(g.in_tree(rel)).ok()),
        );
    }
    if !policy_real.is_empty() {
        walked.candidates.retain(|c| {
            let real =
                std::fs::canonicalize(&c.disk_path).unwrap_or_else(|_| c.disk_path.to_path_buf());
            !policy_real.iter().any(|d| real.starts_with(d))
        });
    }
    // Directories that name an environment by region or cell (`prod-eu/`)
    // are environments of their own.
    settings.envs = settings.envs.with_path_environments(
        walked
            .candidates
            .iter()
            .map(|c| c.path.get(c.env_start..).unwrap_or(&c.path)),
    );
    let mut warnings: Vec<String> = excludes
        .unused()
        .into_iter()
        .map(|g| format!("exclude `{g}` matched no file"))
        .collect();
    if let Some(g) = &gate {
        warnings.extend(g.notes.iter().cloned());
    }
    // A nested project's guard.toml marks it as a project; its settings (environments, rules,
    // suppressions...) do not apply to a check of the enclosing root: said, not dropped in
    // silence.
    let mut nested = walked
        .nested_configs
        .iter()
        .map(|(shown, cfg)| (shown, project::config_settings(cfg)))
        .filter(|(_, tables)| !tables.is_empty());
    for (shown, tables) in nested.by_ref().take(20) {
        {
            let dir = shown.rsplit_once('/').map_or("", |(d, _)| d);
            warnings.push(format!(
                "{shown}: this nested project's settings ({}) do not apply here: only the root's configuration does; check it on its own (`guard check {dir}`) for them",
                tables.join(", ")
            ));
        }
    }
    let more = nested.count();
    if more > 0 {
        warnings.push(format!(
            "{more} more nested projects' guard.toml settings do not apply here"
        ));
    }
    // guard.toml is part of the sources (never checked), so that findings
    // about its `[[ignore]]` entries and allowed regions are located.
    let mut config_file = None;
    if let (Some(p), Some(shown)) = (&config_path, &config_shown) {
        config_file = Some(source::FileId(walked.candidates.len() as u32));
        let uri = match gate.as_ref().and_then(|g| g.config.as_ref()) {
            // The ref's file, named as the repository names it.
            Some((_, rel)) => rel.clone(),
            None => plan
                .roots
                .first()
                .and_then(|r| project::rel_path(p, &r.uri_base))
                .unwrap_or_else(|| shown.clone()),
        };
        let env_start = shown.len();
        let [path, shown, uri] = discover::shared_paths(shown.clone(), shown.clone(), uri);
        walked.candidates.push(discover::Candidate {
            disk_path: p.as_path().into(),
            path,
            shown,
            uri,
            syntax: discover::Syntax::Toml,
            size: settings.config.as_ref().map_or(0, |c| c.text.len() as u64),
            env_start,
            issue: None,
        });
    }
    let discover_micros = t0.elapsed().as_micros();
    let boundary: Vec<PathBuf> = plan.roots.iter().map(|r| r.dir.clone()).collect();
    let mut model = model::build_with_limit(
        &walked.candidates,
        walked.projects,
        &settings.envs,
        plan.max_file_bytes,
        Some(&boundary),
        policies.is_some(),
    );
    if let Some(c) = &settings.config {
        model.parity_allow = c.parity.allow.iter().map(|a| a.value.clone()).collect();
        if let Some(v) = &c.hardening.pod_security_version {
            model.pss_version = v.value;
        }
        // A pair names environments; those found in the paths that qualify
        // them (`prod-eu` for `prod`) are paired too.
        let envs = |name: &str| {
            let name = c.resolve_environment(name).unwrap_or(name.to_string());
            settings.envs.with_qualified(&name)
        };
        model.parity_pairs = c
            .parity
            .pairs
            .iter()
            .flat_map(|(a, b)| {
                let ups = envs(&b.value);
                envs(&a.value)
                    .into_iter()
                    .flat_map(move |l| ups.clone().into_iter().map(move |u| (l, u)))
            })
            .collect();
    }
    if let Some(id) = config_file {
        let r = &settings.regions;
        let lists = r
            .global
            .iter()
            .map(|(l, s)| (None, l.as_slice(), s.clone()))
            .chain(
                r.per_env
                    .iter()
                    .map(|(n, l, s)| (Some(n.as_str()), l.as_slice(), s.clone())),
            );
        model.allowed_regions = model::AllowedRegions::from_config(lists, id, &settings.envs);
    }
    let timings = Timings {
        discover_micros,
        parse_micros: model.stats.parse_micros,
        model_micros: model.stats.model_micros,
        terraform_micros: model.terraform.stats.eval_micros,
        ..Timings::default()
    };
    Ok(Loaded {
        model,
        walk: walked.stats,
        timings,
        plan,
        warnings,
        settings,
        config_file,
        policies,
        gate,
    })
}

/// `guard check --explain-config`: the lines of [`explain_config::explain`]
/// for the work tree's configuration against `--config-from`'s (else the
/// defaults), and what it was compared with.
pub fn explain_config(opts: &Options) -> Result<(Vec<String>, String), Error> {
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let plan = project::plan(&paths, !opts.no_project).map_err(Error::Io)?;
    let (tree_path, tree_shown, tree_config) = find_config(opts, &plan, None)?;
    let no_cli = settings::Overrides::default();
    let tree =
        settings::Settings::resolve(tree_path, tree_config, &no_cli).map_err(Error::Usage)?;
    let (base, base_shown, against) = match &opts.config_from {
        Some(reference) => {
            let root =
                plan.roots.first().map(|r| r.dir.clone()).ok_or_else(|| {
                    Error::Usage("--config-from: no project to check".to_string())
                })?;
            let g = gate::read(&gate::Request {
                reference,
                root: &root,
                config: opts.config.as_deref(),
                baseline: None,
                policies: false,
            })
            .map_err(Error::Usage)?;
            let (path, shown, config) = find_config(opts, &plan, Some(&g))?;
            let base = settings::Settings::resolve(path, config, &no_cli).map_err(Error::Usage)?;
            let against = match &g.config {
                Some((_, rel)) => format!("{reference}:{rel}"),
                None => format!("{reference} (no guard.toml there: the defaults)"),
            };
            (base, shown, against)
        }
        None => (
            settings::Settings::defaults(),
            None,
            "the defaults".to_string(),
        ),
    };
    let lines = explain_config::explain(
        &explain_config::Side {
            settings: &tree,
            shown: tree_shown.as_deref(),
        },
        &explain_config::Side {
            settings: &base,
            shown: base_shown.as_deref(),
        },
    );
    Ok((lines, against))
}

type FoundConfig = (Option<PathBuf>, Option<String>, Option<config::Config>);

/// The configuration: --config / GUARD_CONFIG, else the root's own; with
/// --config-from, the ref's (none there: the defaults).
fn find_config(
    opts: &Options,
    plan: &project::Plan,
    gate: Option<&gate::Gate>,
) -> Result<FoundConfig, Error> {
    if let Some(g) = gate {
        let Some((path, rel)) = &g.config else {
            return Ok((None, None, None));
        };
        let shown = format!("{}:{rel}", g.reference);
        return match settings::read_config_with(path, &shown, &|_: &str| true) {
            Ok(c) => Ok((Some(path.clone()), Some(shown), Some(c))),
            Err(first) => Err(every_config_error(opts, plan, path, &shown, first, gate)),
        };
    }
    let config_path =
        match &opts.config {
            Some(p) => Some(std::fs::canonicalize(p).map_err(|e| {
                Error::Usage(format!("{}: {}", p.display(), project::io_reason(&e)))
            })?),
            None => plan.roots.iter().find_map(|r| match &r.kind {
                project::RootKind::Config(p) if !opts.no_project => Some(p.clone()),
                _ => None,
            }),
        };
    let config_shown = config_path.as_ref().map(|p| {
        plan.cwd
            .as_ref()
            .and_then(|c| project::rel_path(p, c))
            .unwrap_or_else(|| {
                p.file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            })
    });
    let config = match (&config_path, &config_shown) {
        // Rule keys are judged once the policies (which add rules) are loaded.
        (Some(p), Some(shown)) => match settings::read_config_with(p, shown, &|_: &str| true) {
            Ok(c) => Some(c),
            Err(first) => return Err(every_config_error(opts, plan, p, shown, first, None)),
        },
        _ => None,
    };
    Ok((config_path, config_shown, config))
}

/// A configuration that failed before its rule keys were judged: every
/// error in one round, the rule keys' too (judged with the rules of the
/// project's `policy/` and `policies/` registered, when they load), and
/// the command line's rule keys.
fn every_config_error(
    opts: &Options,
    plan: &project::Plan,
    path: &std::path::Path,
    shown: &str,
    first: settings::Invalid,
    gate: Option<&gate::Gate>,
) -> Error {
    if let Ok(dirs) = policy_dirs(opts, plan, None, None, gate)
        && !dirs.is_empty()
        && let Ok(Some(p)) = rego::Policies::load(&rego::Options {
            dirs,
            all_namespaces: true,
            ..rego::Options::default()
        })
    {
        rules::register(&p.guard_rules());
    }
    let invalid = settings::read_config(path, shown).err().unwrap_or(first);
    with_cli_errors(invalid, opts)
}

/// An invalid configuration's errors, then the command line's unknown rule
/// keys (reported together: one round).
fn with_cli_errors(invalid: settings::Invalid, opts: &Options) -> Error {
    let cli = overrides(opts).unknown_rule_keys();
    if cli.is_empty() {
        Error::Config(invalid)
    } else {
        Error::Usage(format!("{invalid}\n{}", cli.join("\n")))
    }
}

fn overrides(opts: &Options) -> settings::Overrides {
    settings::Overrides {
        select: opts.select.clone(),
        ignore: opts.ignore.clone(),
        extend_select: opts.extend_select.clone(),
        excludes: opts.excludes.clone(),
    }
}

/// The project's policy directories, without reading the project (for
/// `guard rules` and `guard explain`).
pub fn project_policy_dirs(opts: &Options) -> Result<Vec<PathBuf>, Error> {
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let plan = project::plan(&paths, !opts.no_project).map_err(Error::Io)?;
    let (config_path, _, config) = find_config(opts, &plan, None)?;
    policy_dirs(opts, &plan, config.as_ref(), config_path.as_deref(), None)
}

/// The policy directories: `--policy`; else guard.toml's `policies`
/// (relative to it, inside the project); else the project root's
/// `policy/` and `policies/`.
fn policy_dirs(
    opts: &Options,
    plan: &project::Plan,
    config: Option<&config::Config>,
    config_path: Option<&std::path::Path>,
    gate: Option<&gate::Gate>,
) -> Result<Vec<PathBuf>, Error> {
    if opts.no_policies {
        return Ok(Vec::new());
    }
    if !opts.policy.is_empty() {
        return Ok(opts.policy.clone());
    }
    if let Some(g) = gate {
        return Ok(g.policy_dirs.iter().map(|(p, _)| p.clone()).collect());
    }
    let boundary: Vec<PathBuf> = plan.roots.iter().map(|r| r.dir.clone()).collect();
    if let (Some(c), Some(cp)) = (config, config_path)
        && let Some(policies) = &c.policies
    {
        let base = cp.parent().unwrap_or(std::path::Path::new("."));
        let mut out = Vec::new();
        for p in policies {
            let dir = base.join(&p.value);
            // One answer for a path outside the project, whether or not it exists there: a
            // guard.toml (a pull request's, say) cannot probe the machine's files.
            let outside = || {
                Error::Usage(format!(
                    "guard.toml: policies `{}` is not a directory inside the project; only `--policy` may name one outside it",
                    p.value
                ))
            };
            let real = match std::fs::canonicalize(&dir) {
                Ok(real) if boundary.iter().any(|b| real.starts_with(b)) => real,
                Ok(_) => return Err(outside()),
                Err(_) if !lexically_inside(&dir, &boundary) => return Err(outside()),
                Err(e) => {
                    return Err(Error::Usage(format!(
                        "guard.toml: policies `{}`: {}",
                        p.value,
                        project::io_reason(&e)
                    )));
                }
            };
            out.push(real);
        }
        return Ok(out);
    }
    let mut out = Vec::new();
    for r in &plan.roots {
        for name in ["policy", "policies"] {
            let d = r.dir.join(name);
            if let Ok(real) = std::fs::canonicalize(&d)
                && real.is_dir()
                && real.starts_with(&r.dir)
                && !out.contains(&real)
            {
                out.push(real);
            }
        }
    }
    Ok(out)
}

/// The findings one run keeps by default (`[limits] max-findings`): a report stays a size a
/// reviewer, a SARIF upload and a runner's memory can take.
pub const MAX_FINDINGS: usize = 10_000;

/// Keeps at most `max` findings (0: all): counting ones before suppressed ones, guard's own
/// diagnostics about the input (the input family: a file not read, a limit hit, a broken
/// suppression) before the rest, so that a flood of findings cannot push out the line that says
/// part of the input was not judged, then errors before warnings before notes, in their order
/// otherwise; returns how many each rule lost, by rule.
fn cap_findings(findings: &mut Vec<finding::Located>, max: usize) -> Vec<(String, usize)> {
    if max == 0 || findings.len() <= max {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| {
        let f = &findings[i];
        let input = rules::find(f.rule).is_some_and(|r| r.family == rules::Family::Input);
        (
            f.suppressed.is_some(),
            !input,
            std::cmp::Reverse(f.severity),
            i,
        )
    });
    let mut keep = vec![false; findings.len()];
    for &i in &order[..max] {
        keep[i] = true;
    }
    let mut lost: std::collections::BTreeMap<String, usize> = Default::default();
    let mut k = keep.iter();
    findings.retain(|f| {
        let kept = k.next().copied().unwrap_or(false);
        if !kept {
            *lost.entry(f.rule.to_string()).or_default() += 1;
        }
        kept
    });
    lost.into_iter().collect()
}

/// Whether `path`, with `.` and `..` resolved as written (no file system access), lies in one
/// of the directories.
fn lexically_inside(path: &std::path::Path, dirs: &[PathBuf]) -> bool {
    use std::path::Component;
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return false;
                }
            }
            Component::CurDir => {}
            other => parts.push(other.as_os_str().to_os_string()),
        }
    }
    let normal: PathBuf = parts.iter().collect();
    dirs.iter().any(|d| normal.starts_with(d))
}

/// The whole check: load, run the selected rules, apply suppressions,
/// keep the findings in scope (and in `--env`), leave out the baseline,
/// locate and sort.
pub fn check(opts: &Options) -> Result<Report, Error> {
    let t0 = Instant::now();
    let Loaded {
        model,
        walk,
        mut timings,
        plan,
        warnings,
        settings,
        config_file,
        policies,
        gate,
    } = load(opts)?;
    for e in &opts.envs {
        if model.envs.named(e).is_none() && model.envs.word(e).is_none() {
            let names: Vec<&str> = model.envs.all().iter().map(|e| e.as_str()).collect();
            return Err(Error::Usage(format!(
                "--env {e}: no such environment; the environments are {}",
                names.join(", ")
            )));
        }
    }
    // `--env prod` also keeps the environments that qualify prod (`prod-eu`).
    let env_filter: Vec<env::Env> = opts
        .envs
        .iter()
        .filter_map(|e| model.envs.named(e).or_else(|| model.envs.word(e)))
        .flat_map(|e| model.envs.with_qualified(e.as_str()))
        .collect();
    let baseline = match (&gate, &opts.baseline) {
        // The ref's baseline (none there: nothing is left out).
        (Some(g), _) => match &g.baseline {
            Some((text, rel)) => Some(
                baseline::Baseline::parse(text, &format!("{}:{rel}", g.reference))
                    .map_err(Error::Usage)?,
            ),
            None => None,
        },
        (None, Some(p)) => Some(baseline::Baseline::read(p).map_err(Error::Usage)?),
        (None, None) => None,
    };
    let t1 = Instant::now();
    let mut raw: Vec<finding::Finding> = rules::run(&model, &|id| settings.is_enabled(id));
    let mut policy_stats = None;
    if let Some(p) = &policies {
        let ev = p
            .evaluate(&model, &|id| settings.is_enabled(id), &|p| plan.in_scope(p))
            .map_err(|e| Error::Usage(e.0))?;
        timings.policy_micros = ev.micros;
        policy_stats = Some(PolicyStats {
            rules: p.rules.len(),
            inputs: ev.inputs,
            exceptions: ev.exceptions,
            input_micros: ev.input_micros,
            prints: ev.prints,
        });
        raw.extend(ev.findings);
    }
    for f in &mut raw {
        if f.envs.is_empty() {
            f.envs = model.envs_at(f.span);
        }
    }
    // Severity by tier (hardening rules), then guard.toml's override.
    raw.retain_mut(|f| {
        if f.undecided.is_some() {
            return true;
        }
        // No environment: the finding holds in all of them.
        let had_all_envs = f.envs.is_empty();
        if let Some(r) = rules::find(f.rule).filter(|r| r.tiers.is_some()) {
            // The severity is per environment: a finding holds only in the
            // environments where its tier's severity is not silent (a
            // shared base rendered into dev and prod is prod's alone, and
            // `--env dev` does not list it). Pod Security and AWS hardening
            // rules alike.
            let profiles = settings.pod_security();
            f.envs.retain(|e| {
                rules::pod_security::tier_severity(r, std::slice::from_ref(e), profiles).is_some()
            });
            if f.envs.is_empty() && !had_all_envs {
                return false;
            }
            match rules::pod_security::tier_severity(r, &f.envs, profiles) {
                Some(s) => f.severity = s,
                None => return false,
            }
        }
        if let Some(s) = settings.severity(f.rule) {
            f.severity = s;
        }
        true
    });
    let mut redactions: Vec<source::Span> =
        raw.iter().flat_map(|f| f.secrets.iter().copied()).collect();
    redactions.sort();
    redactions.dedup();
    let external = suppress::externals(&settings, config_file);
    let meta = suppress::apply(
        &model,
        &mut raw,
        &external,
        &suppress::Mode {
            audit: opts.no_suppressions,
            // Judged by another revision's gate, the checked files may not silence the
            // findings about their own safety to read.
            input_rules_inline: gate.is_none(),
        },
        &|id| settings.is_enabled(id),
    );
    raw.extend(
        meta.into_iter()
            .filter(|f| settings.is_enabled(f.rule))
            .map(|mut f| {
                if let Some(s) = settings.severity(f.rule) {
                    f.severity = s;
                }
                f
            }),
    );
    // A finding is in scope by its primary location, or by a place of its
    // chain inside a directory given (not a file given: `guard check
    // prod.tfvars` from the pre-commit hook does not report staging's
    // parity finding that only cites prod's line).
    // A finding for all environments holds in each, except where its rule's
    // tier severity is silent (`--env dev` does not list a restricted
    // control's finding).
    let silent_in_all = |f: &finding::Finding, envs: &[env::Env]| {
        rules::find(f.rule)
            .filter(|r| r.tiers.is_some())
            .is_some_and(|r| {
                envs.iter().all(|e| {
                    rules::pod_security::tier_severity(
                        r,
                        std::slice::from_ref(e),
                        settings.pod_security(),
                    )
                    .is_none()
                })
            })
    };
    let in_scope = |span: source::Span| plan.in_scope(model.sources.path(span.file));
    let in_dir_scope = |span: source::Span| plan.in_dir_scope(model.sources.path(span.file));
    raw.retain(|f| {
        (in_scope(f.span) || f.related.iter().any(|r| in_dir_scope(r.span)))
            && (env_filter.is_empty()
                || (f.envs.is_empty() && !silent_in_all(f, &env_filter))
                || f.envs.iter().any(|e| env_filter.contains(e)))
    });
    let mut undecided_counts: std::collections::BTreeMap<(&'static str, &'static str), usize> =
        std::collections::BTreeMap::new();
    raw.retain(|f| match f.undecided {
        Some(why) => {
            *undecided_counts.entry((f.rule, why)).or_default() += 1;
            opts.strict
        }
        None => true,
    });
    let undecided: Vec<Undecided> = undecided_counts
        .into_iter()
        .map(|((rule, reason), count)| Undecided {
            rule,
            reason,
            count,
        })
        .collect();
    let cap = settings
        .config
        .as_ref()
        .and_then(|c| c.limits.max_findings_per_file.as_ref())
        .map_or(finding::MAX_FINDINGS_PER_FILE, |m| {
            usize::try_from(m.value).unwrap_or(usize::MAX)
        });
    let raw = finding::cap_per_file(raw, cap);
    let mut findings = finding::locate_all(raw, &model.sources, |id| {
        rules::find(id).map_or("unknown", |r| r.name)
    });
    // The files in scope by URI (what baseline entries name), when the
    // paths given narrow the scope.
    let scope_uris: Option<std::collections::BTreeSet<String>> = plan.scope.as_ref().map(|_| {
        model
            .sources
            .files()
            .iter()
            .filter(|f| plan.in_scope(&f.path))
            .map(|f| f.uri.to_string())
            .collect()
    });
    let (mut baselined, mut baseline_fixed) = (0, 0);
    if let Some(b) = &baseline {
        let before = findings.len();
        let (kept, fixed) = b.filter(findings, |uri| in_scope_uri(&scope_uris, uri));
        findings = kept;
        baselined = before - findings.len();
        baseline_fixed = fixed;
    }
    // The run's cap (`[limits] max-findings`, 0 for none): past it, the most severe findings
    // are kept (in their order), and how many more each rule had is said.
    let max = settings
        .config
        .as_ref()
        .and_then(|c| c.limits.max_findings.as_ref())
        .map_or(MAX_FINDINGS, |m| {
            usize::try_from(m.value).unwrap_or(usize::MAX)
        });
    let over_cap = cap_findings(&mut findings, max);
    let files_in_scope = model
        .sources
        .files()
        .iter()
        .filter(|f| Some(f.id) != config_file && plan.in_scope(&f.path))
        .count();
    timings.rules_micros = t1.elapsed().as_micros();
    timings.total_micros = t0.elapsed().as_micros();
    Ok(Report {
        model,
        findings,
        walk,
        timings,
        files_in_scope,
        warnings,
        settings,
        baselined,
        baseline_fixed,
        redactions,
        policies: policy_stats,
        undecided,
        scope_uris,
        over_cap,
        gate: gate
            .as_ref()
            .map(|g| (g.reference.clone(), g.commit.clone())),
    })
}

fn in_scope_uri(scope: &Option<std::collections::BTreeSet<String>>, uri: &str) -> bool {
    scope.as_ref().is_none_or(|s| s.contains(uri))
}
