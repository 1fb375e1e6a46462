//! guard: an environment-aware policy-as-code linter for multi-environment
//! AWS / Kubernetes / Terraform repositories.
//!
//! The pipeline, one way only:
//! paths → [`project`] (root, scope) → [`discover`] → parse ([`parse`],
//! parallel, spans) → [`model`] (environments, Kustomize, Terraform
//! evaluation, inventories) → [`rules`] → [`finding`]s → scope, suppress,
//! baseline → sort → [`render`].

pub mod discover;
pub mod env;
pub mod finding;
pub mod model;
pub mod node;
pub mod parse;
pub mod project;
pub mod render;
pub mod rules;
pub mod source;
pub mod terraform;

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
}

/// Wall-clock time of each stage, in microseconds.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Timings {
    pub discover_micros: u128,
    pub parse_micros: u128,
    pub model_micros: u128,
    pub terraform_micros: u128,
    pub rules_micros: u128,
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
}

impl Report {
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
    /// An input path could not be read (exit 2).
    Io(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Usage(s) | Error::Io(s) => f.write_str(s),
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
}

/// Find the project, discover, parse and model it, without running rules
/// (`guard envs`).
pub fn load(opts: &Options) -> Result<Loaded, Error> {
    let t0 = Instant::now();
    let excludes = discover::build_excludes(&opts.excludes).map_err(Error::Usage)?;
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let plan = project::plan(&paths, !opts.no_project).map_err(Error::Io)?;
    let walked = discover::walk(&plan, &excludes);
    if let Some(e) = walked.errors.first() {
        return Err(Error::Io(e.clone()));
    }
    let warnings = excludes
        .unused()
        .into_iter()
        .map(|g| format!("--exclude `{g}` matched no file"))
        .collect();
    let discover_micros = t0.elapsed().as_micros();
    let envs = env::EnvSet::builtin();
    let model = model::build(&walked.candidates, walked.projects, &envs);
    let timings = Timings {
        discover_micros,
        parse_micros: model.stats.parse_micros,
        model_micros: model
            .stats
            .model_micros
            .saturating_sub(model.terraform.stats.eval_micros),
        terraform_micros: model.terraform.stats.eval_micros,
        ..Timings::default()
    };
    Ok(Loaded {
        model,
        walk: walked.stats,
        timings,
        plan,
        warnings,
    })
}

/// The whole check: load, run every rule, keep the findings in scope,
/// locate and sort them.
pub fn check(opts: &Options) -> Result<Report, Error> {
    let t0 = Instant::now();
    let Loaded {
        model,
        walk,
        mut timings,
        plan,
        warnings,
    } = load(opts)?;
    let t1 = Instant::now();
    let in_scope = |span: source::Span| plan.in_scope(model.sources.path(span.file));
    let raw: Vec<finding::Finding> = rules::run(&model)
        .into_iter()
        .filter(|f| in_scope(f.span) || f.related.iter().any(|r| in_scope(r.span)))
        .map(|mut f| {
            if f.envs.is_empty() {
                f.envs = model.envs_at(f.span);
            }
            f
        })
        .collect();
    let findings = finding::locate_all(raw, &model.sources, |id| {
        rules::find(id).map_or("unknown", |r| r.name)
    });
    let files_in_scope = model
        .sources
        .files()
        .iter()
        .filter(|f| plan.in_scope(&f.path))
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
    })
}
