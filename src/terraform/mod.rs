//! Static evaluation of Terraform configurations, the way `terraform plan`
//! would see them, keeping the provenance of every value.
//!
//! [`evaluate`] finds the root modules of a scan, evaluates each once per
//! environment (path segment such as `environments/prod/`, or one
//! evaluation per env-named var file such as `prod.tfvars`), follows local
//! module calls recursively and returns every resource, data source,
//! provider and `terraform {}` block with its attributes evaluated to
//! [`Node`]s.
//!
//! # Values and provenance
//! * A literal written in place: its own span, `via: None`.
//! * A value that flowed through variables, locals, module arguments or
//!   outputs: the span of the decisive literal (the `true` in
//!   `prod/terraform.tfvars`) and `via` = the hops it passed, decisive
//!   literal first: "set in …" / "default of var.x", "passed to module.db as
//!   `x`", "local.x", "output `x` of module.db", and last "used by
//!   aws_db_instance.this.publicly_accessible".
//! * A value computed from others (template, arithmetic, function) is
//!   located at the expression and carries the first operand's `via`.
//! * Anything not known statically is [`Value::Unknown`]: resource and
//!   data source attributes, remote modules, required variables nobody
//!   set, `path.cwd`, functions not implemented (timestamp, uuid, hashes,
//!   cidrsubnet, ...), every operation on an unknown. Nothing is guessed.
//!
//! # `jsonencode` keeps structure
//! `jsonencode(x)` evaluates to the **structured** node of `x` (a map or
//! list whose leaves keep the spans of the HCL literals), not to a string,
//! so rules can inspect ECS container definitions or SCP policy documents
//! directly. Where a string is needed (an interpolation, `replace`, ...)
//! a map or list converts to its JSON text (keys sorted, as Terraform).
//! `jsondecode` of a string yields a structure located at the call;
//! `jsondecode(jsonencode(x))` is `x`.
//!
//! # Files
//! `file`, `fileexists` and `templatefile` read (≤ 1 MiB) files inside the
//! scan root, resolving paths against the root module directory (as
//! Terraform does) and then against the calling module's directory.
//! `templatefile` supports `${}`, `%{if}` and `%{for}`; its result is
//! located at the call.
//!
//! # Diagnostics
//! Parse errors are [`DiagKind::ParseError`] at the parser's position. A
//! reference cycle between locals is reported as [`DiagKind::Limit`] ("the
//! evaluator stopped here") with the message `local.a refers to itself
//! through local.b`; the locals involved are Unknown. Modules not evaluated
//! (remote sources without a downloaded copy, missing directories, cycles,
//! nesting deeper than 16) are reported in [`TfModel::notes`].
//!
//! # Limits
//! Every root evaluation is bounded, whatever the configuration: at most a
//! million expression evaluations and two million units (about 64 bytes
//! each) of values copied and built (a list concatenated with itself sixty
//! times stops there), 200 nested evaluations, 2,000 module instances
//! (modules calling modules with `count` multiply), 100,000 resource
//! instances and blocks, values nested at most 256 levels deep, provenance
//! chains of at most 32 hops (the first and the latest). Hitting one is a
//! [`DiagKind::Limit`] located where it happened; what was not evaluated
//! is Unknown. `file` and `templatefile` read each file once per
//! evaluation.
//!
//! # JSON syntax
//! `.tf.json` files are evaluated like `.tf` files: a directory's module is
//! all of its `.tf` and `.tf.json` files, whichever syntax calls whichever.
//! Each is converted to the equivalent native syntax
//! ([`crate::parse::tf_json`]) and every span of its values points at the
//! JSON literal or key it came from. `.tfvars.json` files are read as
//! values.
//!
//! # Not supported
//! Provider-defined functions, `moved`/`import`/`check` blocks and
//! `override.tf` merging are ignored.

mod blocks;
mod components;
pub(crate) mod config;
pub(crate) mod eval;
mod expr;
mod files;
mod functions;
pub(crate) mod roots;
mod template;
mod types;
pub(crate) mod value;
mod workspaces;

use crate::hash::{HashMap, HashSet};
use std::time::Instant;

use rayon::prelude::*;

use crate::env::{Assignment, EnvSet};
use crate::node::{Hop, Node, Value};
use crate::parse::hcl::Parsed;
use crate::parse::tf_json::parse_terraform;
use crate::parse::{DiagKind, ParseDiag};
use crate::source::{FileId, SourceFile, Span};

use config::{FileCtx, ModuleCfg};
use eval::{Cx, Run};
use roots::{Plan, Tfvars, World, dir_of};

#[derive(Debug, Clone, Default)]
pub struct TfModel {
    pub roots: Vec<RootEval>,
    pub diags: Vec<ParseDiag>,
    pub notes: Vec<String>,
    pub stats: TfStats,
    /// Each HCL file in Conftest's hcl2 shape, built from the parse the
    /// evaluation made, when asked (the Rego policies need it).
    pub syntax: Vec<(crate::source::FileId, Node)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TfStats {
    /// Root module directories found.
    pub roots: usize,
    /// Root evaluations (one per environment or var file).
    pub evaluations: usize,
    /// Module calls instantiated, over all evaluations.
    pub module_calls: usize,
    /// Module calls not evaluated (remote, missing, cycles), over all evaluations.
    pub modules_not_evaluated: usize,
    pub eval_micros: u128,
}

#[derive(Debug, Clone)]
pub struct RootEval {
    pub dir: String,
    pub assignment: Assignment,
    pub var_file: Option<String>,
    /// `terraform.workspace` of this evaluation, when not `default`.
    pub workspace: Option<String>,
    pub resources: Vec<Resource>,
    /// `provider` blocks, and `terraform` blocks (kind `"terraform"`, with
    /// `backend` as a nested entry), of every module instance.
    pub providers: Vec<Block>,
    pub variables: Vec<Variable>,
    /// Every `locals` entry of every module instance.
    pub locals: Vec<Local>,
    pub outputs: Vec<(String, Node)>,
    /// A Terragrunt unit's module: its directory, or its remote address
    /// (not evaluated), or `?` (`dir` is the unit's).
    pub source: Option<String>,
    /// A Terragrunt unit's merged `inputs`, located where they are written.
    pub inputs: Vec<Local>,
    /// Each `templatefile(...)` call (its span, where its result is
    /// located) and the scalars passed to it: a value read out of the
    /// rendered text (an ECS container's environment) that equals one of
    /// them is located where that argument was written.
    pub template_args: Vec<(Span, Vec<Node>)>,
}

impl RootEval {
    /// The evaluation of `plan` before (or without) anything evaluated.
    fn empty(plan: &Plan) -> RootEval {
        RootEval {
            dir: plan.dir.clone(),
            assignment: plan.assignment.clone(),
            var_file: plan.var_file.clone(),
            workspace: plan.workspace.clone(),
            resources: Vec::new(),
            providers: Vec::new(),
            variables: Vec::new(),
            locals: Vec::new(),
            outputs: Vec::new(),
            source: None,
            inputs: Vec::new(),
            template_args: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Managed,
    Data,
}

#[derive(Debug, Clone)]
pub struct Resource {
    pub mode: Mode,
    pub rtype: crate::node::Str,
    pub name: crate::node::Str,
    /// `""` for the root module, `module.db`, `module.a.module.b`,
    /// `module.x[0]` / `module.x["k"]` for `count`/`for_each` modules.
    pub module_path: std::sync::Arc<str>,
    /// Count index (`"0"`) or `for_each` key; None without either, or when
    /// they are unknown (then `count.index`/`each.*` are Unknown).
    pub key: Option<String>,
    /// The block's labels.
    pub span: Span,
    /// Attributes and nested blocks (repeated blocks as a list). Meta
    /// arguments (`count`, `for_each`, `depends_on`, `provider`,
    /// `provisioner`, `connection`) are left out.
    pub attrs: Node,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub module_path: std::sync::Arc<str>,
    pub span: Span,
    pub attrs: Node,
}

#[derive(Debug, Clone)]
pub struct Local {
    pub name: crate::node::Str,
    pub module_path: std::sync::Arc<str>,
    /// The `name = ...` definition.
    pub span: Span,
    pub value: Node,
}

#[derive(Clone, Debug)]
pub struct Variable {
    pub name: crate::node::Str,
    pub module_path: std::sync::Arc<str>,
    /// The name label.
    pub span: Span,
    /// The evaluated default when it is not `value` itself (see
    /// [`Variable::default`]): most variables keep their default, and
    /// holding it twice was a fifth of a monorepo's Terraform memory. Boxed:
    /// few variables need one.
    default: Option<Box<Node>>,
    /// Whether `value` is the default (the same value at the same place).
    default_is_value: bool,
    pub sensitive: bool,
    /// Final value after var files, module arguments and default.
    pub value: Node,
}

impl Variable {
    pub fn new(
        name: String,
        module_path: std::sync::Arc<str>,
        span: Span,
        default: Option<Node>,
        sensitive: bool,
        value: Node,
    ) -> Variable {
        let default_is_value = default
            .as_ref()
            .is_some_and(|d| value::same_ignoring_via(d, &value));
        Variable {
            name: name.into(),
            module_path,
            span,
            default: if default_is_value {
                None
            } else {
                default.map(Box::new)
            },
            default_is_value,
            sensitive,
            value,
        }
    }

    /// The evaluated default, if the variable has one. When the value is
    /// the default, it is the value (with the provenance of the value).
    pub fn default(&self) -> Option<&Node> {
        if self.default_is_value {
            Some(&self.value)
        } else {
            self.default.as_deref()
        }
    }
}

impl Resource {
    /// The address Terraform shows: `module.db.aws_db_instance.this["a"]`.
    pub fn address(&self) -> String {
        let mut s = String::new();
        if !self.module_path.is_empty() {
            s.push_str(&self.module_path);
            s.push('.');
        }
        if self.mode == Mode::Data {
            s.push_str("data.");
        }
        s.push_str(&self.rtype);
        s.push('.');
        s.push_str(&self.name);
        match &self.key {
            Some(k) if k.parse::<u64>().is_ok() => s.push_str(&format!("[{k}]")),
            Some(k) => s.push_str(&format!("[\"{k}\"]")),
            None => {}
        }
        s
    }
}

impl Block {
    /// A `provider "aws"` block (any alias, any module).
    pub fn is_aws_provider(&self) -> bool {
        self.kind == "provider" && self.labels.first().map(String::as_str) == Some("aws")
    }
}

impl RootEval {
    /// Resources of a type, in any module.
    pub fn resources_of<'r>(&'r self, rtype: &'r str) -> impl Iterator<Item = &'r Resource> + 'r {
        self.resources.iter().filter(move |r| r.rtype == rtype)
    }

    pub fn output(&self, name: &str) -> Option<&Node> {
        self.outputs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// Threads evaluating roots get a large stack: expressions and modules
/// nest (both are bounded, see `eval.rs`).
const STACK: usize = 64 << 20;

/// Evaluate every Terraform root in `files` (all `.tf`, `.tf.json`,
/// `.tfvars`, `.tfvars.json` files of a scan; paths relative and
/// `/`-separated). Deterministic: roots sorted by directory then var file.
/// A module source that names a directory of this project (`./x`, `../x`,
/// `.`, `..`); anything else (registry, git, http, s3...) is fetched by
/// `terraform init` and not evaluated here.
pub fn is_local_source(s: &str) -> bool {
    s == "." || s == ".." || s.starts_with("./") || s.starts_with("../")
}

pub fn evaluate(files: &[&SourceFile], envs: &EnvSet) -> TfModel {
    evaluate_within(files, envs, None)
}

/// [`evaluate`], reading files (`file()`, `templatefile()`, `modules.json`)
/// only inside `boundary` (canonical directories; None: the directory the
/// files' paths are relative to).
pub fn evaluate_within(
    files: &[&SourceFile],
    envs: &EnvSet,
    boundary: Option<&[std::path::PathBuf]>,
) -> TfModel {
    evaluate_with_syntax(files, envs, boundary, false)
}

/// [`evaluate_within`], also keeping every HCL file in Conftest's shape
/// ([`TfModel::syntax`]) when `syntax` is set.
pub fn evaluate_with_syntax(
    files: &[&SourceFile],
    envs: &EnvSet,
    boundary: Option<&[std::path::PathBuf]>,
    syntax: bool,
) -> TfModel {
    let start = Instant::now();
    let run = || evaluate_inner(files, envs, boundary, syntax, true);
    let mut model = match pool() {
        Some(pool) => pool.install(run),
        None => run(),
    };
    model.stats.eval_micros = start.elapsed().as_micros();
    model
}

/// Set once the global rayon pool runs with [`STACK`]-sized stacks.
static GLOBAL_POOL_HAS_STACK: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Build rayon's global pool with threads deep enough for Terraform, so
/// that the whole check runs on one set of threads (`guard` does this
/// first thing). False when the global pool already exists.
pub fn build_global_pool() -> bool {
    let built = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK)
        .build_global()
        .is_ok();
    if built {
        GLOBAL_POOL_HAS_STACK.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    built
}

/// The threads Terraform is evaluated on (built once, with [`STACK`]),
/// unless the global pool has such threads.
fn pool() -> Option<&'static rayon::ThreadPool> {
    if GLOBAL_POOL_HAS_STACK.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(STACK)
            .thread_name(|i| format!("guard-tf-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// The whole Terraform stage's time budget: 10 s, plus 2 s per MB
/// (`GUARD_TERRAFORM_BUDGET_MS` sets it, to test what happens when it runs
/// out).
pub fn stage_budget(bytes: usize) -> std::time::Duration {
    let ms = std::env::var("GUARD_TERRAFORM_BUDGET_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(10_000 + (bytes as u64 / 1_000_000) * 2_000);
    std::time::Duration::from_millis(ms)
}

/// `grouped`: parse, evaluate and free one group of related
/// configurations at a time (see [`components`]); else everything as one
/// group, the oracle the grouping is tested against.
fn evaluate_inner(
    files: &[&SourceFile],
    envs: &EnvSet,
    boundary: Option<&[std::path::PathBuf]>,
    syntax: bool,
    grouped: bool,
) -> TfModel {
    let start_of_stage = Instant::now();
    let mut model = TfModel::default();
    let mut sorted: Vec<&SourceFile> = files.to_vec();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.dedup_by(|a, b| a.path == b.path);

    let disk_root = sorted.iter().find_map(|f| {
        let disk = f.disk_path.to_string_lossy();
        let root = disk.strip_suffix(&*f.path)?;
        Some(std::path::PathBuf::from(if root.is_empty() {
            "."
        } else {
            root
        }))
    });
    let boundary = match boundary {
        Some(b) => b.to_vec(),
        None => disk_root
            .iter()
            .filter_map(|d| std::fs::canonicalize(d).ok())
            .collect(),
    };
    let mut env_starts = std::collections::BTreeMap::new();
    for f in &sorted {
        env_starts
            .entry(dir_of(&f.path).to_string())
            .or_insert(f.env_start);
    }
    // One budget for the whole stage, besides each root's own: a tree of
    // many expensive roots stops, with a located diagnostic on every root
    // not evaluated, instead of running on.
    let bytes: usize = sorted.iter().map(|f| f.text.len()).sum();
    let first_file: HashMap<&str, FileId> = sorted
        .iter()
        .rev()
        .map(|f| (dir_of(&f.path), f.id))
        .collect();
    let stage = Stage {
        disk_root: disk_root.as_ref(),
        boundary: &boundary,
        env_starts: &env_starts,
        envs,
        deadline: start_of_stage + stage_budget(bytes),
        bytes,
        first_file: &first_file,
        syntax,
    };
    // Configurations that share nothing are parsed, evaluated and freed one
    // group at a time, so that the syntax trees of a monorepo (about twenty
    // times the size of its text) are never all in memory at once.
    let groups = if grouped {
        components::groups(&sorted)
    } else {
        vec![(0..sorted.len()).collect()]
    };
    // The largest groups start first and each group is a task of its own,
    // so that the stage does not end with one thread on a large group while
    // the other waits. The order of the groups does not change the result:
    // it is merged below in whole-tree order.
    let mut groups = groups;
    groups.sort_by_cached_key(|g| {
        std::cmp::Reverse(g.iter().map(|&i| sorted[i].text.len()).sum::<usize>())
    });
    let outs: Vec<GroupOut> = groups
        .par_iter()
        .with_max_len(1)
        .map(|g| run_group(&stage, &sorted, g))
        .collect();

    // Merged in the order of one evaluation of the whole tree: files by
    // path, evaluations by root directory then var file.
    let mut per_file: Vec<(usize, FileOut)> = Vec::new();
    let mut results: Vec<(Plan, usize, RootEval, RunSummary)> = Vec::new();
    for out in outs {
        model.stats.roots += out.roots;
        model.stats.evaluations += out.results.len();
        per_file.extend(out.files);
        for (i, (plan, root, run)) in out.results.into_iter().enumerate() {
            results.push((plan, i, root, run));
        }
        model.syntax.extend(out.syntax);
    }
    model.syntax.sort_by_key(|(id, _)| *id);
    per_file.sort_by_key(|(i, _)| *i);
    for (_, f) in per_file {
        model.diags.extend(f.diags);
        model.notes.extend(f.note);
    }
    results.sort_by(|a, b| a.0.dir.cmp(&b.0.dir).then(a.1.cmp(&b.1)));

    let mut notes: HashSet<String> = model.notes.iter().cloned().collect();
    let mut diags: HashSet<(Span, String)> = model
        .diags
        .iter()
        .map(|d| (d.span, d.message.clone()))
        .collect();
    for (_, _, root, run) in results {
        model.stats.module_calls += run.module_calls;
        model.stats.modules_not_evaluated += run.modules_not_evaluated;
        for n in run.notes {
            if notes.insert(n.clone()) {
                model.notes.push(n);
            }
        }
        for d in run.diags {
            if diags.insert((d.span, d.message.clone())) {
                model.diags.push(d);
            }
        }
        model.roots.push(root);
    }
    model
}

/// What every group of the stage shares.
struct Stage<'a> {
    disk_root: Option<&'a std::path::PathBuf>,
    boundary: &'a [std::path::PathBuf],
    env_starts: &'a std::collections::BTreeMap<String, usize>,
    envs: &'a EnvSet,
    deadline: Instant,
    bytes: usize,
    first_file: &'a HashMap<&'a str, FileId>,
    syntax: bool,
}

/// What reading one file told: parse diagnostics, a note.
#[derive(Default)]
struct FileOut {
    diags: Vec<ParseDiag>,
    note: Option<String>,
}

/// The evaluations of one group of configurations.
struct GroupOut {
    roots: usize,
    /// By index into the sorted files.
    files: Vec<(usize, FileOut)>,
    results: Vec<(Plan, RootEval, RunSummary)>,
    syntax: Vec<(FileId, Node)>,
}

/// Parse the files of one group (indices into `sorted`), evaluate its
/// roots, and drop the syntax trees.
fn run_group(stage: &Stage<'_>, sorted: &[&SourceFile], group: &[usize]) -> GroupOut {
    let is_tg = crate::terragrunt::is_terragrunt_file;
    let is_hcl = |p: &str| config::is_config(p) || p.ends_with(".tfvars") || is_tg(p);
    let files: Vec<&SourceFile> = group.iter().map(|&i| sorted[i]).collect();
    let parsed: Vec<Option<Result<Parsed, ParseDiag>>> = files
        .par_iter()
        .map(|f| is_hcl(&f.path).then(|| parse_terraform(f)))
        .collect();
    let mut out = GroupOut {
        roots: 0,
        files: Vec::new(),
        results: Vec::new(),
        syntax: Vec::new(),
    };
    if stage.syntax {
        out.syntax = files
            .par_iter()
            .zip(parsed.par_iter())
            .filter(|(f, _)| !is_tg(&f.path))
            .filter_map(|(f, p)| match p {
                Some(Ok(p)) if p.map.is_none() => {
                    Some((f.id, crate::parse::hcl_shape::conftest(f, p)))
                }
                _ => None,
            })
            .collect();
    }
    let new_world = || World {
        cfgs: Default::default(),
        tfvars: Default::default(),
        disk_root: stage.disk_root,
        downloaded: HashMap::default(),
        env_starts: stage.env_starts,
        boundary: stage.boundary,
        envs: stage.envs,
        labels: Default::default(),
        units: Vec::new(),
        unit_cfgs: Default::default(),
    };
    let mut tg_files: std::collections::BTreeMap<String, crate::terragrunt::Hcl<'_>> =
        Default::default();
    let mut tf_dirs: std::collections::BTreeSet<String> = Default::default();
    for (f, p) in files.iter().zip(&parsed) {
        if let Some(Ok(p)) = p {
            if is_tg(&f.path) {
                tg_files.insert(
                    f.path.to_string(),
                    crate::terragrunt::Hcl {
                        fc: FileCtx::new(f, p.base),
                        body: &p.body,
                    },
                );
            } else if config::is_config(&f.path) {
                tf_dirs.insert(dir_of(&f.path).to_string());
            }
        }
    }
    // Terragrunt units first: what they generate joins their modules.
    let units = {
        let tg_world = new_world();
        crate::terragrunt::evaluate(&tg_world, &tg_files, &tf_dirs, stage.envs, stage.env_starts)
    };
    let mut unit_diags = units.diags;
    let gen_files: Vec<(usize, usize, SourceFile)> = units
        .units
        .iter()
        .enumerate()
        .flat_map(|(u, unit)| {
            unit.generated.iter().enumerate().map(move |(g, gen_)| {
                let f = SourceFile::new(
                    gen_.at.file,
                    format!("{}/{}", unit.dir, gen_.path),
                    std::path::PathBuf::new(),
                    gen_.text.clone(),
                );
                (u, g, f)
            })
        })
        .collect();
    let gen_parsed: Vec<Option<Parsed>> = gen_files
        .iter()
        .map(|(u, g, f)| match crate::parse::hcl::parse_file(f) {
            Ok(p) => Some(p),
            Err(d) => {
                let at = units.units[*u].generated[*g].at;
                unit_diags.push(ParseDiag::new(
                    DiagKind::NotEvaluated,
                    at,
                    format!(
                        "the file `generate` renders for Terragrunt unit `{}` does not parse ({}), so what it declares was not checked",
                        units.units[*u].dir, d.message
                    ),
                ));
                None
            }
        })
        .collect();
    let mut world = new_world();
    // Each module directory's files, for the units that instantiate it.
    let mut dir_files: std::collections::BTreeMap<
        String,
        Vec<(&str, FileCtx<'_>, &hcl_edit::structure::Body)>,
    > = Default::default();
    for ((&index, f), p) in group.iter().zip(&files).zip(&parsed) {
        let path = &*f.path;
        let mut fo = FileOut::default();
        match p {
            Some(Err(d)) => fo.diags.push(d.clone()),
            Some(Ok(p)) => {
                fo.diags.extend(p.diags.iter().cloned());
                let fc = FileCtx::parsed(f, p);
                if is_tg(path) {
                    // Evaluated above.
                } else if config::is_config(path) {
                    let dir = dir_of(path).to_string();
                    dir_files.entry(dir.clone()).or_default().push((
                        roots::file_name(path),
                        fc,
                        &p.body,
                    ));
                    world
                        .cfgs
                        .entry(dir.clone())
                        .or_insert_with(|| ModuleCfg::new(dir))
                        .add_file(fc, &p.body);
                } else {
                    world
                        .tfvars
                        .insert(path.to_string(), Tfvars::Hcl(fc, &p.body));
                }
            }
            None if path.ends_with(".tfvars.json") => match json_vars(f) {
                Ok(vars) => {
                    world.tfvars.insert(path.to_string(), Tfvars::Json(vars));
                }
                Err(d) => fo.diags.push(d),
            },
            None => {}
        }
        if !fo.diags.is_empty() || fo.note.is_some() {
            out.files.push((index, fo));
        }
    }
    // A unit's module: the directory's files (less those a `generate`
    // overwrites) and the generated ones, located at their blocks.
    for (u, unit) in units.units.iter().enumerate() {
        // A module outside the project: what the unit generates (a
        // provider) is still evaluated.
        let (m, module_files) = match &unit.source {
            crate::terragrunt::Source::Local(m) => match dir_files.get(m) {
                Some(fs) => (m.clone(), fs.as_slice()),
                None => continue,
            },
            _ if unit.generated.is_empty() => continue,
            _ => (unit.dir.clone(), &[][..]),
        };
        let gens: Vec<(&crate::terragrunt::Generated, &SourceFile, &Parsed)> = gen_files
            .iter()
            .zip(&gen_parsed)
            .filter(|((gu, ..), _)| *gu == u)
            .filter_map(|((_, g, f), p)| Some((&unit.generated[*g], f, p.as_ref()?)))
            .collect();
        let mut cfg = ModuleCfg::new(m);
        for (name, fc, body) in module_files {
            if gens.iter().any(|(g, ..)| g.overwrite && g.path == *name) {
                continue;
            }
            cfg.add_file(*fc, body);
        }
        for (g, f, p) in gens {
            let fc = FileCtx {
                fixed: Some(g.at),
                ..FileCtx::new(f, p.base)
            };
            cfg.add_file(fc, &p.body);
        }
        world.unit_cfgs.insert(u, cfg);
    }
    let unit_sources: std::collections::BTreeSet<String> = units
        .units
        .iter()
        .filter_map(|u| match &u.source {
            crate::terragrunt::Source::Local(m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    // Directories whose every file a `generate` block copies are templates.
    let templates: std::collections::BTreeSet<&str> = dir_files
        .iter()
        .filter(|(d, fs)| {
            fs.iter()
                .all(|(n, ..)| units.generated_from.contains(&format!("{d}/{n}")))
        })
        .map(|(d, _)| d.as_str())
        .collect();
    world.units = units.units;
    // What the group as a whole reports is merged as its first file's.
    let first = group.first().copied().unwrap_or(0);
    let note_out = |note| {
        (
            first,
            FileOut {
                diags: Vec::new(),
                note: Some(note),
            },
        )
    };
    if !unit_diags.is_empty() {
        out.files.push((
            first,
            FileOut {
                diags: unit_diags,
                note: None,
            },
        ));
    }
    out.files.extend(units.notes.into_iter().map(note_out));
    let mut roots = world.roots();
    roots.retain(|r| !unit_sources.contains(r) && !templates.contains(r.as_str()));
    world.load_downloaded(&roots);
    let (plans, plan_notes) = world.plans(&roots);
    out.files.extend(plan_notes.into_iter().map(note_out));
    out.roots = roots.len();
    let results: Vec<(RootEval, RunSummary)> = plans
        .par_iter()
        .map(|p| {
            if Instant::now() < stage.deadline {
                return run_plan(&world, p);
            }
            out_of_time(stage, p)
        })
        .collect();
    out.results = plans
        .into_iter()
        .zip(results)
        .map(|(p, (r, s))| (p, r, s))
        .collect();
    drop(world);
    // Many small allocations: freed in parallel.
    parsed.into_par_iter().for_each(drop);
    out
}

/// The evaluation of a root the stage's time budget did not reach: a
/// located diagnostic and nothing else.
fn out_of_time(stage: &Stage<'_>, p: &Plan) -> (RootEval, RunSummary) {
    let at = stage
        .first_file
        .get(p.dir.as_str())
        .copied()
        .unwrap_or_default();
    let root = RootEval::empty(p);
    let summary = RunSummary {
        notes: Vec::new(),
        diags: vec![ParseDiag::new(
            DiagKind::Limit,
            Span::new(at, 0, 0),
            format!(
                "Terraform evaluation stopped before this root{}: the stage's time budget of {} s for {} bytes of Terraform ran out; nothing in it was checked",
                p.var_file
                    .as_deref()
                    .map(|v| format!(" (with {v})"))
                    .unwrap_or_default(),
                stage_budget(stage.bytes).as_secs_f64(),
                stage.bytes
            ),
        )],
        ..RunSummary::default()
    };
    (root, summary)
}

/// What one evaluation reports besides its values.
#[derive(Default)]
struct RunSummary {
    notes: Vec<String>,
    diags: Vec<ParseDiag>,
    module_calls: usize,
    modules_not_evaluated: usize,
}

fn run_plan(world: &World<'_>, plan: &Plan) -> (RootEval, RunSummary) {
    let mut root = RootEval::empty(plan);
    let unit = plan.unit.and_then(|u| world.units.get(u));
    let mut assigned: HashMap<String, Node> = HashMap::default();
    if let Some(unit) = unit {
        root.source = Some(match &unit.source {
            crate::terragrunt::Source::Local(m) => m.clone(),
            crate::terragrunt::Source::Remote(r) => r.clone(),
            crate::terragrunt::Source::Unknown => "?".into(),
        });
        for (name, span, n) in &unit.inputs {
            root.inputs.push(Local {
                name: name.as_str().into(),
                module_path: "".into(),
                span: *span,
                value: n.clone(),
            });
            assigned.insert(name.clone(), n.clone());
        }
    }
    let cfg = match plan.unit {
        Some(u) => world.unit_cfgs.get(&u),
        None => world.cfgs.get(&plan.dir),
    };
    let Some(cfg) = cfg else {
        return (root, RunSummary::default());
    };
    let mut run = Run::new(world, cfg, plan.workspace.as_deref().unwrap_or("default"));
    for path in &plan.var_files {
        let label = world.label(format!("set in {path}"));
        let mut set = |name: String, n: Node| {
            let hop = Hop {
                span: n.span,
                label: label.clone(),
            };
            assigned.insert(name, value::flow(n, &hop, &mut 0));
        };
        match world.tfvars.get(path) {
            Some(Tfvars::Hcl(fc, body)) => {
                for a in body.attributes() {
                    let n = run.eval(&Cx::new(None, *fc), &a.value);
                    set(a.key.as_str().to_string(), n);
                }
            }
            Some(Tfvars::Json(vars)) => {
                for (k, n) in vars {
                    set(k.clone(), n.clone());
                }
            }
            None => {}
        }
    }
    run.set_root_vars(&assigned);
    let mut resources = Vec::new();
    let mut providers = Vec::new();
    run.collect(0, &mut resources, &mut providers);
    let outputs = run.outputs(0);
    let outputs = outputs
        .entries()
        .iter()
        .map(|e| (e.key_str().unwrap_or_default().to_string(), e.value.clone()))
        .collect();
    // Kept until the end of the run: no room to spare.
    root.variables = crate::node::exact(run.variables());
    root.locals = crate::node::exact(run.locals());
    root.resources = crate::node::exact(resources);
    root.providers = crate::node::exact(providers);
    root.outputs = outputs;
    root.template_args = std::mem::take(&mut run.template_args);
    let summary = RunSummary {
        notes: run.notes,
        diags: run.diags,
        module_calls: run.module_calls,
        modules_not_evaluated: run.modules_not_evaluated,
    };
    (root, summary)
}

/// A `.tfvars.json` file: top-level names and their values, each value
/// located exactly.
fn json_vars(f: &SourceFile) -> Result<Vec<(String, Node)>, ParseDiag> {
    use jsonc_parser::ast::{ObjectPropName, Value as J};
    fn conv(f: &SourceFile, j: &J<'_>, depth: usize) -> Node {
        let sp = |r: &jsonc_parser::common::Range| Span::new(f.id, r.start, r.end);
        if depth > crate::parse::MAX_DEPTH {
            return value::unknown(Span::new(f.id, 0, 0));
        }
        match j {
            J::StringLit(s) => value::string(sp(&s.range), s.value.to_string()),
            J::NumberLit(n) => Node::new(sp(&n.range), Value::Number(n.value.into())),
            J::BooleanLit(b) => value::boolean(sp(&b.range), b.value),
            J::NullKeyword(n) => value::null(sp(&n.range)),
            J::Array(a) => value::seq(
                sp(&a.range),
                a.elements.iter().map(|e| conv(f, e, depth + 1)).collect(),
            ),
            J::Object(o) => value::map(
                sp(&o.range),
                o.properties
                    .iter()
                    .map(|p| {
                        let (k, r) = match &p.name {
                            ObjectPropName::String(s) => (s.value.to_string(), s.range),
                            ObjectPropName::Word(w) => (w.value.to_string(), w.range),
                        };
                        value::entry(sp(&r), k, conv(f, &p.value, depth + 1))
                    })
                    .collect(),
            ),
        }
    }
    let err = |at: usize, msg: String| {
        ParseDiag::new(DiagKind::ParseError, Span::new(f.id, at, at + 1), msg)
    };
    if f.text.len() > crate::parse::hcl::MAX_FILE_BYTES {
        return Err(ParseDiag::new(
            DiagKind::Limit,
            Span::new(f.id, 0, 0),
            "file too large, not read",
        ));
    }
    let depth_ok = {
        let mut d = 0usize;
        f.text.bytes().all(|b| {
            match b {
                b'{' | b'[' => d += 1,
                b'}' | b']' => d = d.saturating_sub(1),
                _ => {}
            }
            d <= crate::parse::MAX_DEPTH
        })
    };
    if !depth_ok {
        return Err(ParseDiag::new(
            DiagKind::Limit,
            Span::new(f.id, 0, 0),
            "nesting too deep, file not read",
        ));
    }
    let parsed = jsonc_parser::parse_to_ast(&f.text, &Default::default(), &Default::default())
        .map_err(|e| err(e.range().start, format!("JSON parse error: {}", e.kind())))?;
    let mut out = Vec::new();
    if let Some(J::Object(o)) = &parsed.value {
        for p in &o.properties {
            let k = match &p.name {
                ObjectPropName::String(s) => s.value.to_string(),
                ObjectPropName::Word(w) => w.value.to_string(),
            };
            out.push((k, conv(f, &p.value, 0)));
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::source::FileId;

    /// Evaluate `expr` as `local.x` of a one-file root; JSON of the result
    /// (Unknown as the string "<unknown>") and the model.
    pub fn eval_expr(prelude: &str, expr: &str) -> (serde_json::Value, Node, TfModel) {
        let text = format!(
            "terraform {{}}\n{prelude}\nlocals {{\n  x = {expr}\n}}\noutput \"x\" {{ value = local.x }}\n"
        );
        let f = SourceFile::new(
            FileId(0),
            "main.tf".into(),
            "/nonexistent/main.tf".into(),
            text,
        );
        let m = evaluate(&[&f], &EnvSet::builtin());
        let n = m
            .roots
            .first()
            .and_then(|r| r.output("x"))
            .cloned()
            .unwrap_or_else(|| value::unknown(Span::default()));
        let j = if value::has_unknown(&n) {
            serde_json::json!("<unknown>")
        } else {
            n.to_json()
        };
        (j, n, m)
    }

    pub fn ev(expr: &str) -> serde_json::Value {
        eval_expr("", expr).0
    }
}

#[cfg(test)]
mod grouping_tests {
    use super::*;

    /// Every `.tf`, `.tf.json`, `.tfvars` and `.tfvars.json` file below
    /// `dir`, as the scan would give them.
    fn tree(dir: &std::path::Path) -> Vec<SourceFile> {
        let mut paths = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                let Ok(t) = e.file_type() else { continue };
                if t.is_dir() && e.file_name() != ".git" {
                    stack.push(p);
                } else if t.is_file() {
                    let n = p.to_string_lossy();
                    if n.ends_with(".tf")
                        || n.ends_with(".tf.json")
                        || n.ends_with(".tfvars")
                        || n.ends_with(".tfvars.json")
                    {
                        paths.push(p);
                    }
                }
            }
        }
        paths.sort();
        paths
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let text = std::fs::read_to_string(&p).ok()?;
                let rel = p
                    .strip_prefix(dir)
                    .ok()?
                    .to_string_lossy()
                    .replace('\\', "/");
                Some(SourceFile::new(FileId(i as u32), rel, p, text))
            })
            .collect()
    }

    /// Evaluating one group at a time gives exactly what evaluating the whole
    /// tree at once gives: on the Terraform fixtures and, when present, on
    /// `../shared/corpus` (130 roots, 817 module calls).
    #[test]
    fn grouped_evaluation_equals_whole_tree_evaluation() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("fixtures/terraform"), root.join("fixtures/rules")];
        let corpus = root.join("../shared/corpus");
        if corpus.is_dir() {
            dirs.push(corpus);
        } else {
            println!("SKIP corpus part: ../shared/corpus not found");
        }
        let envs = EnvSet::builtin();
        for dir in dirs {
            let files = tree(&dir);
            let refs: Vec<&SourceFile> = files.iter().collect();
            let grouped = evaluate_inner(&refs, &envs, None, false, true);
            let whole = evaluate_inner(&refs, &envs, None, false, false);
            assert!(!whole.roots.is_empty(), "{}: no roots", dir.display());
            assert_eq!(grouped.roots.len(), whole.roots.len(), "{}", dir.display());
            for (g, w) in grouped.roots.iter().zip(&whole.roots) {
                assert_eq!(
                    format!("{g:?}"),
                    format!("{w:?}"),
                    "{}: root {}",
                    dir.display(),
                    w.dir
                );
            }
            assert_eq!(format!("{:?}", grouped.diags), format!("{:?}", whole.diags));
            assert_eq!(grouped.notes, whole.notes);
            assert_eq!(grouped.stats.module_calls, whole.stats.module_calls);
        }
    }
}
