//! guard: an environment-aware policy-as-code linter for multi-environment
//! AWS / Kubernetes / Terraform repositories.
//!
//! The pipeline, one way only:
//! paths → [`discover`] → parse ([`parse`], parallel, spans) → [`model`]
//! (environments, Kustomize, Terraform evaluation, inventories) → [`rules`]
//! → [`finding`]s → sort → [`render`].

pub mod discover;
pub mod env;
pub mod finding;
pub mod model;
pub mod node;
pub mod parse;
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
    pub findings: Vec<Located>,
    pub walk: discover::WalkStats,
    pub timings: Timings,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// The most severe finding's severity.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
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

/// Discover, parse and model the paths, without running rules (`guard envs`).
pub fn load(opts: &Options) -> Result<(model::Model, discover::WalkStats, Timings), Error> {
    let t0 = Instant::now();
    let excludes = discover::build_excludes(&opts.excludes).map_err(Error::Usage)?;
    let paths = if opts.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        opts.paths.clone()
    };
    let walked = discover::walk(&paths, &excludes);
    if let Some(e) = walked.errors.first() {
        return Err(Error::Io(e.clone()));
    }
    let discover_micros = t0.elapsed().as_micros();
    let model = model::build(&walked.candidates, walked.projects);
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
    Ok((model, walked.stats, timings))
}

/// The whole check: load, run every rule, locate and sort the findings.
pub fn check(opts: &Options) -> Result<Report, Error> {
    let t0 = Instant::now();
    let (model, walk, mut timings) = load(opts)?;
    let t1 = Instant::now();
    let raw = rules::run(&model);
    let findings = finding::locate_all(raw, &model.sources, |id| {
        rules::find(id).map_or("unknown", |r| r.name)
    });
    timings.rules_micros = t1.elapsed().as_micros();
    timings.total_micros = t0.elapsed().as_micros();
    Ok(Report {
        model,
        findings,
        walk,
        timings,
    })
}
