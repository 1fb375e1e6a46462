//! Terragrunt units, evaluated statically the way Terragrunt prepares them
//! before `terraform plan`.
//!
//! A unit is a `terragrunt.hcl` that no other unit includes and that names
//! a Terraform module: its own `terraform { source = ... }`, one inherited
//! from an included file, or `.tf` files beside it. For each unit, in the
//! unit's context (as Terragrunt does):
//!
//! 1. `include` blocks: `path` (evaluated with functions only), the
//!    included file's own `locals`, `dependency`, `inputs`, `terraform`
//!    and `generate` blocks, evaluated *in the unit's context*
//!    (`get_terragrunt_dir()` is the unit's directory,
//!    `get_parent_terragrunt_dir()` the included file's); merged with the
//!    unit by `merge_strategy` (`shallow`, the default; `deep`;
//!    `no_merge`). `include.NAME.locals` / `.inputs` are visible to the
//!    unit. An include inside an included file is not followed (a note).
//! 2. `locals`, which may refer to each other, to `include.NAME` and to
//!    functions, then `dependency` blocks, which resolve to their
//!    `mock_outputs` (else Unknown: real outputs need the other unit's
//!    state), then `inputs`.
//! 3. `terraform.source`: a local path (with the `//` subdirectory rule:
//!    `../../modules//db` is the directory `modules/db` beside the unit's
//!    `../../`), or remote (a note: the module is not in the project).
//! 4. `generate` blocks: their `contents`, once rendered, become a
//!    Terraform file of the unit's module, located at the block.
//!
//! Functions: Terraform's (see [`crate::terraform`]) and Terragrunt's
//! `find_in_parent_folders`, `read_terragrunt_config` (the file evaluated
//! in its own context, once per scan), `get_terragrunt_dir`,
//! `get_original_terragrunt_dir`, `get_parent_terragrunt_dir`,
//! `path_relative_to_include`, `path_relative_from_include`,
//! `get_repo_root`, `get_path_from_repo_root`, `get_path_to_repo_root`,
//! `get_env` (its default only: the environment of the machine guard runs
//! on says nothing about the deployment), `get_platform`, `mark_as_read`;
//! `file` reads relative to the file the call is written in. Functions
//! that need the outside world (`run_cmd`, `get_aws_account_id`,
//! `sops_decrypt_file`, ...) are Unknown.
//!
//! Paths: Terragrunt's functions return absolute paths. Here the project
//! root is `/`: `find_in_parent_folders("root.hcl")` in `live/prod/rds`
//! is `/live/root.hcl`. Nothing outside the project is read.
//!
//! What could not be evaluated (an include or a `read_terragrunt_config`
//! of a missing file, a file outside the project, a cycle, a `generate`
//! whose contents do not render) is a located [`DiagKind::NotEvaluated`]
//! diagnostic saying what the rules could therefore not judge.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};

use crate::env::{Assignment, EnvSet};
use crate::hash::HashMap;
use crate::node::{Entry, Hop, Node, Value};
use crate::parse::{DiagKind, ParseDiag};
use crate::source::Span;
use crate::terraform::config::{FileCtx, ModuleCfg, attr_span};
use crate::terraform::eval::{Cx, Extension, Run};
use crate::terraform::roots::{World, dir_of, file_name, join_dir, relative_dir};
use crate::terraform::value as v;

/// The start of the provenance label of a value that came from a
/// `dependency` block's `mock_outputs`: a placeholder for the other unit's
/// real output, never the deciding value of a finding (see
/// [`crate::rules::run`]).
pub const MOCK_HOP: &str = "mock output of dependency.";

/// Nested `read_terragrunt_config` calls deeper than this are not followed.
const MAX_READ_DEPTH: usize = 8;
/// Passes over a file's `locals` (each pass resolves one more level of
/// locals referring to locals).
const MAX_LOCAL_PASSES: usize = 12;

/// Whether a path is a Terragrunt configuration guard reads.
pub fn is_terragrunt_file(path: &str) -> bool {
    let name = file_name(path);
    name.ends_with(".hcl")
        && name != ".terraform.lock.hcl"
        && !name.ends_with(".pkr.hcl")
        && !path.contains(".terragrunt-cache/")
}

/// A unit's module.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A directory of the project (scan-relative).
    Local(String),
    /// Not in the project (a git or registry address): not evaluated.
    Remote(String),
    /// Could not be evaluated.
    Unknown,
}

/// A `generate` block's rendered file.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The `path` attribute (a file name in the module directory).
    pub path: String,
    pub text: String,
    /// Whether it replaces a module file of the same name.
    pub overwrite: bool,
    /// The block's `contents` attribute: what its declarations are located at.
    pub at: Span,
}

/// One evaluated unit.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The unit's directory (scan-relative).
    pub dir: String,
    pub assignment: Assignment,
    pub source: Source,
    /// The `source` attribute (or the unit's file when there is none).
    pub source_span: Span,
    /// Merged `inputs`: name and value, each value carrying its hop
    /// "set in inputs of …".
    pub inputs: Vec<(String, Span, Node)>,
    pub generated: Vec<Generated>,
}

/// What evaluating every unit of a group gave.
#[derive(Default)]
pub struct Units {
    pub units: Vec<Unit>,
    pub diags: Vec<ParseDiag>,
    pub notes: Vec<String>,
    /// Files `generate` blocks read with `file()` (their directories are
    /// templates of generated files, not roots).
    pub generated_from: BTreeSet<String>,
}

/// A parsed `.hcl` file.
#[derive(Clone, Copy)]
pub struct Hcl<'a> {
    pub fc: FileCtx<'a>,
    pub body: &'a Body,
}

/// Evaluate every unit among `files` (parsed `.hcl` files by scan-relative
/// path). `world` gives the scan root, the boundary and the environments;
/// `tf_dirs` are the directories with Terraform files.
pub fn evaluate<'a>(
    world: &'a World<'a>,
    files: &'a BTreeMap<String, Hcl<'a>>,
    tf_dirs: &BTreeSet<String>,
    envs: &EnvSet,
    env_starts: &BTreeMap<String, usize>,
) -> Units {
    let mut out = Units::default();
    let candidates: Vec<&String> = files
        .keys()
        .filter(|p| file_name(p) == "terragrunt.hcl")
        .collect();
    if candidates.is_empty() {
        return out;
    }
    let empty = ModuleCfg::new(String::new());
    let ext = Rc::new(Tg {
        files,
        st: RefCell::new(State::default()),
    });
    let mut evaluated = Vec::new();
    let mut runs_diags = Vec::new();
    let mut runs_notes: Vec<String> = Vec::new();
    let mut run = Run::new(world, &empty, "default");
    for path in candidates {
        // Each unit has an evaluation (and budget) of its own.
        let done = std::mem::replace(&mut run, Run::new(world, &empty, "default"));
        runs_diags.extend(done.diags);
        runs_notes.extend(done.notes);
        run.ext = Some(ext.clone());
        let dir = dir_of(path).to_string();
        ext.st.borrow_mut().frames = vec![Frame {
            tg_dir: dir.clone(),
            original: dir.clone(),
            includes: Vec::new(),
            include_dir: None,
        }];
        let cfg = ext.config(&mut run, path, true);
        evaluated.push((path.clone(), dir, cfg));
    }
    // A terragrunt.hcl another unit includes is a parent configuration,
    // not a unit (the older layout keeps the root in `terragrunt.hcl`).
    let included: BTreeSet<String> = evaluated
        .iter()
        .flat_map(|(_, _, c)| c.includes.iter().map(|i| i.path.clone()))
        .collect();
    for (path, dir, cfg) in evaluated {
        if included.contains(&path) && cfg.source.is_none() {
            continue;
        }
        let merged = merge(&cfg);
        let (source, source_span) = match &merged.source {
            Some(n) => (resolve_source(&dir, n), n.span),
            None if tf_dirs.contains(&dir) => (Source::Local(dir.clone()), cfg.span),
            None => {
                out.notes.push(format!(
                    "{path}: no `terraform {{ source }}` and no Terraform files beside it: not a unit"
                ));
                continue;
            }
        };
        match &source {
            Source::Remote(s) => out.notes.push(format!(
                "{path}: module source `{s}` is not in the project: only the unit's inputs were checked"
            )),
            Source::Unknown => out.diags.push(ParseDiag::new(
                DiagKind::NotEvaluated,
                source_span,
                format!(
                    "Terragrunt unit `{dir}`: its `terraform {{ source }}` could not be evaluated, so the module's resources were not checked (public databases, regions, hardening); only its inputs were"
                ),
            )),
            Source::Local(m) if !tf_dirs.contains(m) => out.diags.push(ParseDiag::new(
                DiagKind::NotEvaluated,
                source_span,
                format!(
                    "Terragrunt unit `{dir}`: its module directory `{m}` has no Terraform files in the project, so the module's resources were not checked; only its inputs were"
                ),
            )),
            Source::Local(_) => {}
        }
        let label = world.label(format!("set in inputs of {path}"));
        let mut inputs = Vec::new();
        if let Some(map) = &merged.inputs {
            if map.is_unknown() {
                out.diags.push(ParseDiag::new(
                    DiagKind::NotEvaluated,
                    map.span,
                    format!("Terragrunt unit `{dir}`: its `inputs` could not be evaluated, so the module was checked with its variables' defaults"),
                ));
            }
            for e in v::dedup_entries(map.entries()) {
                let key_span = map
                    .entries()
                    .iter()
                    .rev()
                    .find(|x| x.key_str() == Some(e.0.as_str()))
                    .map_or(e.1.span, |x| x.key.span);
                let hop = Hop {
                    span: key_span,
                    label: label.clone(),
                };
                let n = run.flow(e.1.clone(), &hop);
                inputs.push((e.0, key_span, n));
            }
        }
        let mut generated = Vec::new();
        for g in merged.generates.values() {
            match g.contents.as_str() {
                Some(text) if !g.disabled => generated.push(Generated {
                    path: g.path.clone(),
                    text: text.to_string(),
                    overwrite: g.overwrite,
                    at: g.at,
                }),
                Some(_) => {}
                None => out.diags.push(ParseDiag::new(
                    DiagKind::NotEvaluated,
                    g.at,
                    format!(
                        "Terragrunt unit `{dir}`: the contents of `generate \"{}\"` could not be rendered, so what it declares (providers, backends) was not checked",
                        g.name
                    ),
                )),
            }
        }
        let start = env_starts.get(&dir).copied().unwrap_or(0);
        let probe = format!("{dir}/x");
        let assignment = envs
            .from_path(probe.get(start..).unwrap_or(&probe))
            .unwrap_or_else(Assignment::all);
        out.units.push(Unit {
            dir,
            assignment,
            source,
            source_span,
            inputs,
            generated,
        });
    }
    let st = ext.st.take();
    out.diags.extend(st.diags);
    out.notes.extend(st.notes);
    out.generated_from = st.generated_from;
    runs_diags.extend(run.diags);
    runs_notes.extend(run.notes);
    out.diags.extend(runs_diags);
    // A file read by several units reports its problem once.
    let mut seen = BTreeSet::new();
    out.diags
        .retain(|d| seen.insert((d.span.file.0, d.span.start, d.span.end, d.message.clone())));
    for n in runs_notes {
        if !out.notes.contains(&n) {
            out.notes.push(n);
        }
    }
    out
}

/// The module a unit's `source` names.
fn resolve_source(unit_dir: &str, n: &Node) -> Source {
    let Some(s) = n.as_str() else {
        return Source::Unknown;
    };
    let s = s.trim();
    let local = crate::terraform::is_local_source(s) || s.starts_with('/');
    if !local {
        return Source::Remote(s.to_string());
    }
    // `?ref=` means nothing for a local path; `//` separates the package
    // from the directory inside it.
    let s = s.split('?').next().unwrap_or(s);
    let (base, sub) = match s.get(1..).and_then(|rest| rest.find("//")) {
        Some(i) => (&s[..i + 1], &s[i + 3..]),
        None => (s, ""),
    };
    let joined = match base.strip_prefix('/') {
        Some(abs) => join_dir("", &format!("{abs}/{sub}")),
        None => join_dir(unit_dir, &format!("{base}/{sub}")),
    };
    if joined.starts_with("..") {
        return Source::Remote(s.to_string());
    }
    Source::Local(joined)
}

/// The evaluation context of the file being read.
#[derive(Clone, Debug, Default)]
struct Frame {
    /// `get_terragrunt_dir()`: the unit's directory, or a
    /// `read_terragrunt_config` file's own.
    tg_dir: String,
    /// `get_original_terragrunt_dir()`: the unit's directory.
    original: String,
    /// The unit's includes: name and directory.
    includes: Vec<(String, String)>,
    /// Set while an included file is evaluated: its directory.
    include_dir: Option<String>,
}

#[derive(Default)]
struct State {
    frames: Vec<Frame>,
    /// Files being read by `read_terragrunt_config` (cycle detection).
    reading: Vec<String>,
    /// `read_terragrunt_config` results by path.
    read_cache: HashMap<String, Node>,
    diags: Vec<ParseDiag>,
    notes: Vec<String>,
    generated_from: BTreeSet<String>,
}

struct Tg<'a> {
    files: &'a BTreeMap<String, Hcl<'a>>,
    st: RefCell<State>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Strategy {
    NoMerge,
    Shallow,
    Deep,
}

struct Include {
    name: String,
    path: String,
    expose: bool,
    strategy: Strategy,
    config: Config,
}

#[derive(Clone)]
struct Gen {
    name: String,
    path: String,
    overwrite: bool,
    disabled: bool,
    contents: Node,
    at: Span,
}

/// One evaluated file.
struct Config {
    /// The whole file.
    span: Span,
    locals: Node,
    inputs: Option<Node>,
    source: Option<Node>,
    generates: BTreeMap<String, Gen>,
    dependencies: Node,
    includes: Vec<Include>,
}

impl Config {
    fn empty(span: Span) -> Config {
        Config {
            span,
            locals: v::map(span, Vec::new()),
            inputs: None,
            source: None,
            generates: BTreeMap::new(),
            dependencies: v::map(span, Vec::new()),
            includes: Vec::new(),
        }
    }

    /// As `read_terragrunt_config` and `include.NAME` show it.
    fn as_node(&self, merged: &Merged) -> Node {
        let s = self.span;
        let mut e = vec![
            v::entry(s, "locals", self.locals.clone()),
            v::entry(s, "dependency", self.dependencies.clone()),
        ];
        if let Some(i) = &merged.inputs {
            e.push(v::entry(s, "inputs", i.clone()));
        }
        if let Some(src) = &merged.source {
            e.push(v::entry(
                s,
                "terraform",
                v::map(s, vec![v::entry(src.span, "source", src.clone())]),
            ));
        }
        v::map(s, e)
    }
}

/// A unit's configuration after its includes are merged in.
struct Merged {
    inputs: Option<Node>,
    source: Option<Node>,
    generates: BTreeMap<String, Gen>,
}

fn merge(cfg: &Config) -> Merged {
    let mut m = Merged {
        inputs: None,
        source: None,
        generates: BTreeMap::new(),
    };
    for inc in &cfg.includes {
        if inc.strategy == Strategy::NoMerge {
            continue;
        }
        let c = &inc.config;
        m.inputs = match (m.inputs.take(), &c.inputs) {
            (Some(a), Some(b)) => Some(merge_maps(a, b.clone(), inc.strategy, 0)),
            (a, b) => a.or_else(|| b.clone()),
        };
        if c.source.is_some() {
            m.source = c.source.clone();
        }
        for (k, g) in &c.generates {
            m.generates.insert(k.clone(), g.clone());
        }
    }
    let strategy = cfg
        .includes
        .iter()
        .map(|i| i.strategy)
        .find(|s| *s == Strategy::Deep)
        .unwrap_or(Strategy::Shallow);
    m.inputs = match (m.inputs.take(), &cfg.inputs) {
        (Some(a), Some(b)) => Some(merge_maps(a, b.clone(), strategy, 0)),
        (a, b) => a.or_else(|| b.clone()),
    };
    if cfg.source.is_some() {
        m.source = cfg.source.clone();
    }
    for (k, g) in &cfg.generates {
        m.generates.insert(k.clone(), g.clone());
    }
    m
}

/// `over`'s keys over `base`'s; with `deep`, maps merge recursively and
/// lists concatenate (as Terragrunt's deep merge does).
fn merge_maps(base: Node, over: Node, strategy: Strategy, depth: usize) -> Node {
    if !base.is_map() || !over.is_map() {
        return over;
    }
    let span = over.span;
    let mut entries: Vec<Entry> = base.entries().to_vec();
    for e in over.entries() {
        let key = e.key_str().map(str::to_string);
        let at = key
            .as_deref()
            .and_then(|k| entries.iter().position(|x| x.key_str() == Some(k)));
        match at {
            Some(i) if strategy == Strategy::Deep && depth < 32 => {
                let old = entries[i].value.clone();
                let merged = match (&old.value, &e.value.value) {
                    (Value::Map(_), Value::Map(_)) => {
                        merge_maps(old, e.value.clone(), strategy, depth + 1)
                    }
                    (Value::Seq(a), Value::Seq(b)) => {
                        let items: Vec<Node> = a.iter().chain(b.iter()).cloned().collect();
                        v::seq(e.value.span, items)
                    }
                    _ => e.value.clone(),
                };
                entries[i] = Entry {
                    key: e.key.clone(),
                    value: merged,
                };
            }
            Some(i) => entries[i] = e.clone(),
            None => entries.push(e.clone()),
        }
    }
    v::map(span, entries)
}

impl<'a> Tg<'a> {
    fn frame(&self) -> Frame {
        self.st.borrow().frames.last().cloned().unwrap_or_default()
    }

    fn diag(&self, at: Span, msg: String) {
        self.st
            .borrow_mut()
            .diags
            .push(ParseDiag::new(DiagKind::NotEvaluated, at, msg));
    }

    /// Evaluate the file at `path` in the current frame.
    fn config(&self, run: &mut Run<'a>, path: &str, allow_include: bool) -> Config {
        let Some(h) = self.files.get(path).copied() else {
            return Config::empty(Span::default());
        };
        let whole = Span::new(h.fc.file.id, 0, 0);
        let mut cfg = Config::empty(whole);
        let saved_root = std::mem::replace(&mut run.root_dir, dir_of(path).to_string());
        let base = Cx::new(None, h.fc);

        // Includes: their paths use functions only.
        let mut pending = Vec::new();
        for b in h.body.blocks().filter(|b| b.ident.as_str() == "include") {
            let name = b
                .labels
                .first()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default();
            if !allow_include {
                self.st.borrow_mut().notes.push(format!(
                    "{path}: include `{name}` inside an included file is not followed (Terragrunt reads one level of includes)"
                ));
                continue;
            }
            let Some(a) = b.body.get_attribute("path") else {
                continue;
            };
            let at = attr_span(h.fc, a);
            let p = run.eval(&base, &a.value);
            let Some(target) = p.as_str().map(|s| self.resolve_path(dir_of(path), s)) else {
                self.diag(at, format!("include `{name}` of {path}: its path could not be evaluated, so what it adds to the unit (inputs, providers, module source) was not checked"));
                continue;
            };
            let Some(target) = target.filter(|t| self.files.contains_key(t)) else {
                self.diag(at, format!("include `{name}` of {path}: `{}` is not a Terragrunt file of the project, so what it adds to the unit was not checked", p.as_str().unwrap_or_default()));
                continue;
            };
            if target == path {
                self.diag(
                    at,
                    format!("include `{name}` of {path} includes the file itself; not followed"),
                );
                continue;
            }
            let strategy = match b
                .body
                .get_attribute("merge_strategy")
                .and_then(|a| a.value.as_str())
            {
                Some("no_merge") => Strategy::NoMerge,
                Some("deep") => Strategy::Deep,
                _ => Strategy::Shallow,
            };
            let expose = b
                .body
                .get_attribute("expose")
                .and_then(|a| a.value.as_bool())
                .unwrap_or(false);
            pending.push((name, target, expose, strategy));
        }
        if let Some(f) = self.st.borrow_mut().frames.last_mut() {
            f.includes = pending
                .iter()
                .map(|(n, t, ..)| (n.clone(), dir_of(t).to_string()))
                .collect();
        }
        for (name, target, expose, strategy) in pending {
            let mut frame = self.frame();
            frame.include_dir = Some(dir_of(&target).to_string());
            self.st.borrow_mut().frames.push(frame);
            let config = self.config(run, &target, false);
            self.st.borrow_mut().frames.pop();
            cfg.includes.push(Include {
                name,
                path: target,
                expose,
                strategy,
                config,
            });
        }
        let mut names: Vec<(String, Node)> = Vec::new();
        if !cfg.includes.is_empty() {
            let entries = cfg
                .includes
                .iter()
                .filter(|i| i.expose)
                .map(|i| {
                    let m = merge(&i.config);
                    v::entry(whole, i.name.clone(), i.config.as_node(&m))
                })
                .collect();
            names.push(("include".into(), v::map(whole, entries)));
        }

        // Locals, which may refer to each other in any order.
        let local_attrs: Vec<(&hcl_edit::structure::Attribute, Span)> = h
            .body
            .blocks()
            .filter(|b| b.ident.as_str() == "locals")
            .flat_map(|b| b.body.attributes())
            .map(|a| (a, attr_span(h.fc, a)))
            .collect();
        let mut locals: Vec<Entry> = Vec::new();
        let mut unknown_before = usize::MAX;
        for _ in 0..MAX_LOCAL_PASSES.min(local_attrs.len() + 1) {
            let mut next: Vec<Entry> = Vec::new();
            for (a, span) in &local_attrs {
                let mut scope = names.clone();
                scope.push(("local".into(), v::map(whole, locals.clone())));
                let cx = base.with_all(scope);
                let n = run.eval(&cx, &a.value);
                let hop = Hop {
                    span: *span,
                    label: run.w.label(format!("local.{} in {path}", a.key.as_str())),
                };
                let n = if n.is_unknown() { n } else { run.flow(n, &hop) };
                let key = v::entry(h.fc.of(&a.key), a.key.as_str(), n);
                // Later passes see this pass's values at once.
                match locals
                    .iter()
                    .position(|e| e.key_str() == Some(a.key.as_str()))
                {
                    Some(i) => locals[i] = key.clone(),
                    None => locals.push(key.clone()),
                }
                next.push(key);
            }
            let unknown = next.iter().filter(|e| v::has_unknown(&e.value)).count();
            locals = next;
            if unknown == 0 || unknown >= unknown_before {
                break;
            }
            unknown_before = unknown;
        }
        cfg.locals = v::map(whole, locals);
        names.push(("local".into(), cfg.locals.clone()));

        // Dependencies: their mock outputs.
        let mut deps = Vec::new();
        for b in h.body.blocks().filter(|b| b.ident.as_str() == "dependency") {
            let Some(name) = b.labels.first().map(|l| l.as_str().to_string()) else {
                continue;
            };
            let at = crate::terraform::config::labels_span(h.fc, b);
            let cx = base.with_all(names.clone());
            let outputs = match b.body.get_attribute("mock_outputs") {
                Some(a) => {
                    let n = run.eval(&cx, &a.value);
                    let hop = Hop {
                        span: at,
                        label: run.w.label(format!("{MOCK_HOP}{name} (a placeholder)")),
                    };
                    run.flow(n, &hop)
                }
                None => v::unknown(at),
            };
            deps.push(v::entry(
                at,
                name,
                v::map(at, vec![v::entry(at, "outputs", outputs)]),
            ));
        }
        cfg.dependencies = v::map(whole, deps);
        names.push(("dependency".into(), cfg.dependencies.clone()));
        let cx = base.with_all(names);

        if let Some(a) = h.body.get_attribute("inputs") {
            cfg.inputs = Some(run.eval(&cx, &a.value));
        }
        for b in h.body.blocks() {
            match b.ident.as_str() {
                "terraform" => {
                    if let Some(a) = b.body.get_attribute("source") {
                        cfg.source = Some(run.eval(&cx, &a.value));
                    }
                }
                "generate" => {
                    if let Some(g) = self.generate(run, &cx, b, h.fc) {
                        cfg.generates.insert(g.name.clone(), g);
                    }
                }
                _ => {}
            }
        }
        run.root_dir = saved_root;
        cfg
    }

    fn generate(&self, run: &mut Run<'a>, cx: &Cx<'_>, b: &Block, fc: FileCtx<'a>) -> Option<Gen> {
        let name = b.labels.first()?.as_str().to_string();
        let attr = |k: &str| b.body.get_attribute(k);
        let contents = attr("contents")?;
        let at = attr_span(fc, contents);
        let eval_str =
            |run: &mut Run<'a>, e: &Expression| run.eval(cx, e).as_str().map(str::to_string);
        let path = attr("path")
            .and_then(|a| eval_str(run, &a.value))
            .unwrap_or_else(|| format!("{name}.tf"));
        let if_exists = attr("if_exists")
            .and_then(|a| eval_str(run, &a.value))
            .unwrap_or_default();
        let disabled = attr("disable")
            .map(|a| run.eval(cx, &a.value))
            .and_then(|n| n.as_bool())
            .unwrap_or(false);
        let contents = run.eval(cx, &contents.value);
        Some(Gen {
            name,
            path,
            overwrite: if_exists.starts_with("overwrite"),
            disabled,
            contents,
            at,
        })
    }

    /// A path written in a file of directory `dir`, scan-relative; None
    /// when it leaves the project.
    fn resolve_path(&self, dir: &str, p: &str) -> Option<String> {
        let joined = match p.strip_prefix('/') {
            Some(abs) => join_dir("", abs),
            None => join_dir(dir, p),
        };
        (!joined.starts_with("..") && !joined.is_empty()).then_some(joined)
    }

    fn exists(&self, run: &Run<'a>, rel: &str) -> bool {
        if self.files.contains_key(rel) {
            return true;
        }
        let Some(root) = run.w.disk_root else {
            return false;
        };
        std::fs::canonicalize(root.join(rel))
            .is_ok_and(|real| run.w.boundary.iter().any(|b| real.starts_with(b)) && real.is_file())
    }

    fn find_in_parent_folders(&self, run: &Run<'a>, args: &[Node], span: Span) -> Option<Node> {
        let name = match args.first() {
            Some(n) => n.as_str()?.to_string(),
            None => "terragrunt.hcl".to_string(),
        };
        let frame = self.frame();
        let mut dir = frame.tg_dir.clone();
        while !dir.is_empty() {
            dir = dir_of(&dir).to_string();
            if let Some(rel) = self.resolve_path(&dir, &name)
                && self.exists(run, &rel)
            {
                return Some(v::string(span, format!("/{rel}")));
            }
        }
        args.get(1).cloned()
    }

    fn read_config(
        &self,
        run: &mut Run<'a>,
        cx: &Cx<'_>,
        args: &[Node],
        span: Span,
    ) -> Option<Node> {
        let p = args.first()?.as_str()?.to_string();
        let here = dir_of(&cx.fc.file.path).to_string();
        let fallback = args.get(1).cloned();
        let missing = |what: String| {
            if fallback.is_none() {
                self.diag(span, what);
            }
            fallback.clone()
        };
        let Some(rel) = self.resolve_path(&here, &p) else {
            return missing(format!(
                "read_terragrunt_config(\"{p}\"): the file is outside the project and was not read; what depends on it is unknown"
            ));
        };
        if !self.files.contains_key(&rel) {
            return missing(format!(
                "read_terragrunt_config(\"{p}\"): `{rel}` is not a Terragrunt file of the project; what depends on it is unknown"
            ));
        }
        if let Some(n) = self.st.borrow().read_cache.get(&rel) {
            return Some(n.clone());
        }
        {
            let st = self.st.borrow();
            if st.reading.contains(&rel) || st.reading.len() >= MAX_READ_DEPTH {
                drop(st);
                self.diag(span, format!("read_terragrunt_config(\"{p}\"): `{rel}` is already being read (a cycle) or reads nest too deep; not followed"));
                return Some(v::unknown(span));
            }
        }
        let original = self.frame().original;
        {
            let mut st = self.st.borrow_mut();
            st.reading.push(rel.clone());
            st.frames.push(Frame {
                tg_dir: dir_of(&rel).to_string(),
                original,
                includes: Vec::new(),
                include_dir: None,
            });
        }
        let c = self.config(run, &rel, true);
        let n = c.as_node(&merge(&c));
        let mut st = self.st.borrow_mut();
        st.frames.pop();
        st.reading.pop();
        st.read_cache.insert(rel, n.clone());
        Some(n)
    }

    /// The include a `*_include` function means: by name, else the one
    /// being evaluated, else the first.
    fn include_dir(&self, args: &[Node]) -> Option<String> {
        let frame = self.frame();
        if let Some(name) = args.first().and_then(Node::as_str) {
            return frame
                .includes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, d)| d.clone());
        }
        frame
            .include_dir
            .clone()
            .or_else(|| frame.includes.first().map(|(_, d)| d.clone()))
    }
}

impl<'a> Extension<'a> for Tg<'a> {
    fn call(
        &self,
        run: &mut Run<'a>,
        cx: &Cx<'_>,
        name: &str,
        args: &[Node],
        span: Span,
    ) -> Option<Option<Node>> {
        let abs = |d: &str| v::string(span, format!("/{d}"));
        let r = match name {
            "find_in_parent_folders" => self.find_in_parent_folders(run, args, span),
            "read_terragrunt_config" => self.read_config(run, cx, args, span),
            "get_terragrunt_dir" => Some(abs(&self.frame().tg_dir)),
            "get_original_terragrunt_dir" => Some(abs(&self.frame().original)),
            "get_parent_terragrunt_dir" => {
                let d = self
                    .include_dir(args)
                    .unwrap_or_else(|| self.frame().tg_dir);
                Some(abs(&d))
            }
            "path_relative_to_include" => {
                let to = self.frame().original;
                Some(match self.include_dir(args) {
                    Some(from) => v::string(span, relative_dir(&from, &to)),
                    None => v::string(span, "."),
                })
            }
            "path_relative_from_include" => {
                let from = self.frame().original;
                Some(match self.include_dir(args) {
                    Some(to) => v::string(span, relative_dir(&from, &to)),
                    None => v::string(span, "."),
                })
            }
            "get_repo_root" => Some(v::string(span, "/")),
            "get_path_from_repo_root" => Some(v::string(span, self.frame().original)),
            "get_path_to_repo_root" => {
                let from = self.frame().original;
                Some(v::string(span, relative_dir(&from, "")))
            }
            "get_env" => match (args.first().and_then(Node::as_str), args.get(1)) {
                (Some(var), Some(d)) => {
                    let hop = Hop {
                        span,
                        label: run.w.label(format!("fallback of get_env(\"{var}\")")),
                    };
                    Some(run.flow(d.clone(), &hop))
                }
                _ => Some(v::unknown(span)),
            },
            "get_platform" => Some(v::string(span, "linux")),
            "mark_as_read" => args.first().cloned(),
            "file" => {
                let p = args.first()?.as_str()?;
                let rel = self.resolve_path(dir_of(&cx.fc.file.path), p)?;
                let text = run.read_project_file(&rel)?;
                if rel.ends_with(".tf") {
                    self.st.borrow_mut().generated_from.insert(rel);
                }
                Some(v::string(span, text.as_ref()))
            }
            "run_cmd"
            | "get_aws_account_id"
            | "get_aws_account_alias"
            | "get_aws_caller_identity_arn"
            | "get_aws_caller_identity_user_id"
            | "sops_decrypt_file"
            | "get_terraform_command"
            | "get_terraform_cli_args"
            | "get_terraform_commands_that_need_vars"
            | "get_terraform_commands_that_need_input"
            | "get_terraform_commands_that_need_locking"
            | "get_terraform_commands_that_need_parallelism"
            | "get_working_dir"
            | "get_default_retryable_errors"
            | "constraint_check"
            | "read_tfvars_file" => Some(v::unknown(span)),
            _ => return None,
        };
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_follow_the_double_slash_rule() {
        let n = |s: &str| v::string(Span::default(), s);
        assert_eq!(
            resolve_source("live/prod/rds", &n("../../../modules//db")),
            Source::Local("modules/db".into())
        );
        assert_eq!(
            resolve_source("env/cloud/rds", &n("../../../aws//rds?ref=v1")),
            Source::Local("aws/rds".into())
        );
        assert_eq!(
            resolve_source("live/prod/rds", &n("/modules//db")),
            Source::Local("modules/db".into())
        );
        assert_eq!(
            resolve_source(
                "a",
                &n("git::git@github.com:o/r.git//modules/mysql?ref=v0.8.0")
            ),
            Source::Remote("git::git@github.com:o/r.git//modules/mysql?ref=v0.8.0".into())
        );
        assert_eq!(
            resolve_source("a", &n("../../../outside")),
            Source::Remote("../../../outside".into())
        );
        assert_eq!(
            resolve_source("a", &v::unknown(Span::default())),
            Source::Unknown
        );
    }

    #[test]
    fn deep_merge_concatenates_lists_and_merges_maps() {
        let s = Span::default();
        let map = |e: Vec<(&str, Node)>| {
            v::map(s, e.into_iter().map(|(k, n)| v::entry(s, k, n)).collect())
        };
        let a = map(vec![
            ("l", v::seq(s, vec![v::number(s, 1.0)])),
            ("m", map(vec![("x", v::number(s, 1.0))])),
            ("k", v::string(s, "a")),
        ]);
        let b = map(vec![
            ("l", v::seq(s, vec![v::number(s, 2.0)])),
            ("m", map(vec![("y", v::number(s, 2.0))])),
        ]);
        let deep = merge_maps(a.clone(), b.clone(), Strategy::Deep, 0);
        assert_eq!(
            deep.to_json(),
            serde_json::json!({"l": [1, 2], "m": {"x": 1, "y": 2}, "k": "a"})
        );
        let shallow = merge_maps(a, b, Strategy::Shallow, 0);
        assert_eq!(
            shallow.to_json(),
            serde_json::json!({"l": [2], "m": {"y": 2}, "k": "a"})
        );
    }
}
