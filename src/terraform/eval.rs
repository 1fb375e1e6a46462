//! One evaluation of a root module: module instances, variables, locals,
//! module calls and outputs, resources with `count`/`for_each`.
//! Expressions are in `expr.rs`, functions in `functions.rs`.

use crate::hash::{HashMap, HashSet};
use std::rc::Rc;

use hcl_edit::expr::Expression;
use hcl_edit::structure::Body;

use super::config::{BlockDecl, FileCtx, ModuleCall, ModuleCfg, attr_span};
use super::roots::{World, join_dir, relative_dir};
use super::types::Ty;
use super::value::{self as v, MAX_ITEMS};
use super::{Block, Local, Mode, Resource, Variable};
use crate::node::{Hop, Node, Value};
use crate::parse::{DiagKind, ParseDiag};
use crate::source::Span;

/// A `module` block's meta-arguments: not inputs of the module.
const MODULE_META: [&str; 6] = [
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// Module nesting deeper than this is not evaluated.
pub const MAX_MODULE_DEPTH: usize = 16;
/// Expression nesting deeper than this evaluates to Unknown.
pub const MAX_EXPR_DEPTH: usize = 200;
/// Expression evaluations allowed for one root evaluation.
pub const EVAL_BUDGET: u64 = 1_000_000;
/// Work allowed for one root evaluation besides evaluations, in the units
/// of [`v::weigh`] (about 64 bytes each): values copied out of variables,
/// locals, module outputs and bound names, function results, strings
/// built. Past it, every remaining value is Unknown. It bounds what values
/// that double at each step (a list concatenated with itself sixty times)
/// can cost.
pub const WORK_BUDGET: u64 = 2_000_000;
/// Module instances one root evaluation may create; calls past it are not
/// evaluated (a note says so). Modules calling modules with `count` would
/// otherwise multiply.
pub const MAX_INSTANCES: usize = 2_000;
/// Resource instances and provider/`terraform` blocks one root evaluation
/// may produce; the rest are left out (a note says so). Each `count` is
/// bounded by [`MAX_ITEMS`], but module instances multiply them.
pub const MAX_BLOCKS: usize = 100_000;
/// `locals` and `variable` entries listed per root evaluation.
pub const MAX_LISTED: usize = 100_000;

/// Evaluation context: the module instance (None in `.tfvars` files and
/// templates), the file spans map into, and the bound names (`count`,
/// `each`, `for` variables, `dynamic` iterators, template variables).
/// Cheap to clone.
#[derive(Clone)]
pub struct Cx<'f> {
    pub inst: Option<usize>,
    pub fc: FileCtx<'f>,
    scope: Scope,
}

/// Bound names, innermost first, shared between contexts.
#[derive(Clone, Default)]
struct Scope(Option<Rc<Link>>);

struct Link {
    names: Names,
    up: Scope,
}

enum Names {
    One(String, Node),
    /// Many names at once (a template's variables): the last value of
    /// each name.
    Many(HashMap<String, Node>),
}

impl Drop for Scope {
    /// Unlink iteratively: a long chain must not recurse on drop.
    fn drop(&mut self) {
        let mut cur = self.0.take();
        while let Some(rc) = cur {
            match Rc::try_unwrap(rc) {
                Ok(mut link) => cur = link.up.0.take(),
                Err(_) => break,
            }
        }
    }
}

impl<'f> Cx<'f> {
    pub fn new(inst: Option<usize>, fc: FileCtx<'f>) -> Cx<'f> {
        Cx {
            inst,
            fc,
            scope: Scope::default(),
        }
    }

    pub fn bound(&self, name: &str) -> Option<&Node> {
        let mut cur = &self.scope.0;
        while let Some(link) = cur {
            match &link.names {
                Names::One(n, value) if n == name => return Some(value),
                Names::Many(m) => {
                    if let Some(value) = m.get(name) {
                        return Some(value);
                    }
                }
                Names::One(..) => {}
            }
            cur = &link.up.0;
        }
        None
    }

    fn push(&self, names: Names) -> Cx<'f> {
        Cx {
            inst: self.inst,
            fc: self.fc,
            scope: Scope(Some(Rc::new(Link {
                names,
                up: self.scope.clone(),
            }))),
        }
    }

    pub fn with(&self, name: &str, value: Node) -> Cx<'f> {
        self.push(Names::One(name.to_string(), value))
    }

    /// Bind many names at once; a repeated name binds its last value.
    pub fn with_all(&self, names: impl IntoIterator<Item = (String, Node)>) -> Cx<'f> {
        self.push(Names::Many(names.into_iter().collect()))
    }
}

pub enum Slot {
    Busy,
    Done(Node),
}

pub struct CallState {
    pub value: Option<Node>,
    pub busy: bool,
    pub children: Vec<usize>,
    /// A call without `count`/`for_each`: its one instance, whose outputs
    /// are evaluated when read (`module.x.id` evaluates the `id` output
    /// only) and `value` set when the whole object is read.
    pub lazy: Option<usize>,
}

pub struct Inst<'a> {
    pub cfg: &'a ModuleCfg<'a>,
    /// `""` for the root, `module.db`, `module.a.module.b`, `module.x["k"]`
    /// (shared by everything the instance lists).
    pub path: std::sync::Arc<str>,
    /// Key in `.terraform/modules/modules.json` (`db`, `db.sub`).
    pub key: String,
    pub vars: HashMap<String, Node>,
    pub locals: HashMap<String, Slot>,
    pub local_stack: Vec<String>,
    pub calls: HashMap<String, CallState>,
    pub outputs: Option<Slot>,
    /// Outputs evaluated one at a time (by position in `cfg.outputs`), for
    /// a lazily read module call; moved into `outputs` when the whole
    /// object is read.
    pub output_slots: Vec<Option<Slot>>,
    /// Directories of this instance and its callers.
    pub chain: Vec<String>,
}

/// Functions besides Terraform's (Terragrunt's), consulted first.
pub trait Extension<'a> {
    /// `None` when `name` is not one of these functions; `Some(None)` when
    /// the call fails (an error, as Terraform's functions fail).
    fn call(
        &self,
        run: &mut Run<'a>,
        cx: &Cx<'_>,
        name: &str,
        args: &[Node],
        span: Span,
    ) -> Option<Option<Node>>;
}

pub struct Run<'a> {
    pub w: &'a World<'a>,
    /// Functions consulted before Terraform's.
    pub ext: Option<Rc<dyn Extension<'a> + 'a>>,
    pub root_dir: String,
    pub insts: Vec<Inst<'a>>,
    pub diags: Vec<ParseDiag>,
    pub notes: Vec<String>,
    noted: HashSet<String>,
    /// Incremented on every evaluation error; `try` and `can` compare it.
    pub errors: u64,
    pub budget: u64,
    /// What is left of [`WORK_BUDGET`].
    pub work: u64,
    pub depth: usize,
    pub module_calls: usize,
    pub modules_not_evaluated: usize,
    /// Resource instances and blocks produced so far (one more once
    /// [`MAX_BLOCKS`] was reported).
    pub blocks_made: usize,
    /// [`MAX_INSTANCES`] was reported.
    instances_capped: bool,
    /// Limits hit, reported or not (a limit is reported once per place).
    limits_hit: u64,
    /// Files read by `file`/`templatefile` (scan-relative path), each read
    /// once per evaluation.
    pub reads: HashMap<String, Option<Rc<str>>>,
    /// Parsed templates by scan-relative path.
    pub templates: HashMap<String, Option<Rc<hcl_edit::template::Template>>>,
    /// Each `templatefile` call's scalar arguments (see
    /// [`super::RootEval::template_args`]).
    pub template_args: Vec<(Span, Vec<Node>)>,
    /// Set by `templatefile` for the template it renders next: unknown
    /// values leave holes instead of making the text unknown, so that a
    /// JSON document with a few unknown fields still yields its structure.
    pub template_holes: bool,
    /// Deepest [`Run::depth`] reached since [`Run::eval_pure`] last reset it.
    pub peak: usize,
    /// [`Run::eval_pure`] results by expression address.
    pure: HashMap<usize, (Node, Cost)>,
    /// [`Run::var_type`] results by expression address.
    types: HashMap<usize, (Rc<Ty>, Cost)>,
    /// `terraform.workspace` in this evaluation.
    pub workspace: String,
}

/// What an evaluation cost, to replay it exactly.
#[derive(Clone, Copy)]
struct Cost {
    evals: u64,
    work: u64,
    errors: u64,
    /// Deepest nesting reached, relative to where it started.
    depth: usize,
}

impl<'a> Run<'a> {
    pub fn new(w: &'a World<'a>, root: &'a ModuleCfg<'a>, workspace: &str) -> Run<'a> {
        let mut r = Run {
            w,
            ext: None,
            root_dir: root.dir.clone(),
            insts: Vec::new(),
            diags: Vec::new(),
            notes: Vec::new(),
            noted: HashSet::default(),
            errors: 0,
            budget: EVAL_BUDGET,
            work: WORK_BUDGET,
            depth: 0,
            module_calls: 0,
            modules_not_evaluated: 0,
            blocks_made: 0,
            instances_capped: false,
            limits_hit: 0,
            reads: HashMap::default(),
            templates: HashMap::default(),
            template_args: Vec::new(),
            template_holes: false,
            peak: 0,
            pure: HashMap::default(),
            types: HashMap::default(),
            workspace: workspace.to_string(),
        };
        r.insts.push(Inst {
            cfg: root,
            path: "".into(),
            key: String::new(),
            vars: HashMap::default(),
            locals: HashMap::default(),
            local_stack: Vec::new(),
            calls: HashMap::default(),
            outputs: None,
            output_slots: Vec::new(),
            chain: vec![root.dir.clone()],
        });
        r
    }

    pub fn error(&mut self) {
        self.errors += 1;
    }

    pub fn note(&mut self, s: String) {
        if !self.noted.contains(&s) {
            self.noted.insert(s.clone());
            self.notes.push(s);
        }
    }

    /// A limit was hit at `at`: a [`DiagKind::Limit`] diagnostic (once per
    /// place and message) and a note.
    pub fn limit(&mut self, at: Span, msg: String) {
        self.limits_hit += 1;
        let key = format!("{}:{}:{}\u{0}{msg}", at.file.0, at.start, at.end);
        if self.noted.insert(key) {
            self.diags
                .push(ParseDiag::new(DiagKind::Limit, at, msg.clone()));
        }
        self.note(msg);
    }

    /// Part of the configuration could not be evaluated here (once per
    /// place and message): a [`DiagKind::NotEvaluated`] diagnostic.
    pub fn not_evaluated(&mut self, at: Span, msg: String) {
        let key = format!("{}:{}:{}\u{0}{msg}", at.file.0, at.start, at.end);
        if self.noted.insert(key) {
            self.diags
                .push(ParseDiag::new(DiagKind::NotEvaluated, at, msg));
        }
    }

    /// A map selected by `terraform.workspace` has no entry for this
    /// workspace: Terraform would fail; guard says what it could not judge.
    pub fn workspace_key_missing(&mut self, m: &Node, at: Span) {
        if self.workspace == "default" || !m.is_map() || v::get(m, &self.workspace).is_some() {
            return;
        }
        let ws = self.workspace.clone();
        self.not_evaluated(
            at,
            format!(
                "in workspace `{ws}` this map has no key `{ws}` (Terraform would fail here), so what depends on it was not checked in that workspace"
            ),
        );
    }

    /// Spend `units` of the work budget (for work done at `at`); false,
    /// and every value from now on Unknown, when it is used up.
    pub fn spend(&mut self, units: u64, at: Span) -> bool {
        if self.work >= units {
            self.work -= units;
            return true;
        }
        self.exhaust(at);
        false
    }

    fn exhaust(&mut self, at: Span) {
        if self.work > 0 || self.budget > 0 {
            self.limit(
                at,
                format!(
                    "Terraform evaluation stopped here: its values are too large \
                     (work budget of {WORK_BUDGET} units used up); the values left are unknown"
                ),
            );
        }
        self.work = 0;
        self.budget = 0;
    }

    /// [`v::flow`], paid for.
    pub fn flow(&mut self, n: Node, hop: &Hop) -> Node {
        let mut work = 0;
        let n = v::flow(n, hop, &mut work);
        self.spend(work, hop.span);
        n
    }

    /// Pay for a value that was just copied or built: `n` itself, or
    /// Unknown located at `at` when the budget is used up or the value is
    /// nested too deep to pass on.
    pub fn charge(&mut self, n: Node, at: Span) -> Node {
        if matches!(n.value, Value::Null | Value::Bool(_) | Value::Unknown) {
            return if self.spend(1, at) { n } else { v::unknown(at) };
        }
        match v::weigh(&n, self.work) {
            Ok(units) => {
                self.work -= units;
                n
            }
            Err(v::Heavy::TooBig) => {
                self.exhaust(at);
                v::unknown(at)
            }
            Err(v::Heavy::TooDeep) => {
                self.limit(
                    at,
                    format!(
                        "this value nests deeper than {} levels; it is read as unknown",
                        v::MAX_VALUE_DEPTH
                    ),
                );
                v::unknown(at)
            }
        }
    }

    /// Evaluate an expression outside any module instance and scope (a
    /// variable's default, an `optional()` default), which depends on the
    /// expression only. Module instances evaluate the same defaults again
    /// and again: the first evaluation is remembered with its cost, and
    /// replayed when replaying gives exactly what evaluating would.
    pub fn eval_pure(&mut self, fc: FileCtx<'_>, e: &Expression) -> Node {
        let key = e as *const Expression as usize;
        if let Some((n, cost)) = self.pure.get(&key)
            && self.can_replay(cost)
        {
            let (n, cost) = (n.clone(), *cost);
            self.replay(&cost);
            return n;
        }
        let (n, cost) = self.measured(|run| run.eval(&Cx::new(None, fc), e));
        if let Some(cost) = cost {
            self.pure.insert(key, (n.clone(), cost));
        }
        n
    }

    /// The type a variable's `type` expression says, remembered like
    /// [`Run::eval_pure`] (its `optional()` defaults are evaluated).
    fn var_type(&mut self, fc: FileCtx<'_>, t: &Expression) -> Rc<Ty> {
        let key = t as *const Expression as usize;
        if let Some((ty, cost)) = self.types.get(&key)
            && self.can_replay(cost)
        {
            let (ty, cost) = (ty.clone(), *cost);
            self.replay(&cost);
            return ty;
        }
        let (ty, cost) = self.measured(|run| {
            Rc::new(super::types::parse_type(t, 0, &mut |a| {
                run.eval_pure(fc, a)
            }))
        });
        if let Some(cost) = cost {
            self.types.insert(key, (ty.clone(), cost));
        }
        ty
    }

    /// Run `f` and say what it cost, if it can be replayed: nothing was
    /// reported and no budget ran out (so no limit was hit on the way).
    fn measured<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> (T, Option<Cost>) {
        let (budget, work, errors) = (self.budget, self.work, self.errors);
        let (diags, notes, limits) = (self.diags.len(), self.notes.len(), self.limits_hit);
        let (depth, peak) = (self.depth, self.peak);
        self.peak = depth;
        let out = f(self);
        let reached = self.peak.saturating_sub(depth);
        self.peak = peak.max(self.peak);
        let clean = self.diags.len() == diags
            && self.notes.len() == notes
            && self.limits_hit == limits
            && self.budget > 0
            && self.work > 0;
        let cost = clean.then(|| Cost {
            evals: budget.saturating_sub(self.budget),
            work: work.saturating_sub(self.work),
            errors: self.errors.saturating_sub(errors),
            depth: reached,
        });
        (out, cost)
    }

    /// Whether doing again what cost `c` cannot hit a limit now.
    fn can_replay(&self, c: &Cost) -> bool {
        self.budget > c.evals && self.work > c.work && self.depth + c.depth <= MAX_EXPR_DEPTH
    }

    fn replay(&mut self, c: &Cost) {
        self.budget -= c.evals;
        self.work -= c.work;
        self.errors += c.errors;
    }

    /// Root variables: `assigned` (from var files, in precedence order,
    /// already carrying their "set in" hop) over defaults.
    pub fn set_root_vars(&mut self, assigned: &HashMap<String, Node>) {
        let cfg = self.insts[0].cfg;
        for d in &cfg.vars {
            let value = match assigned.get(&d.name) {
                Some(n) => n.clone(),
                None => self.default_of(0, &d.name),
            };
            let value = self.convert_var(0, &d.name, value);
            self.insts[0].vars.insert(d.name.clone(), value);
        }
    }

    /// The default of a variable with its "default of" hop, or Unknown for
    /// a required variable nobody set (Terraform would ask for it).
    fn default_of(&mut self, i: usize, name: &str) -> Node {
        let cfg = self.insts[i].cfg;
        let Some(d) = cfg.var(name) else {
            return v::unknown(Span::default());
        };
        match d.default {
            Some(e) => {
                let n = self.eval_pure(d.fc, e);
                let hop = Hop {
                    span: n.span,
                    label: d.default_label.clone(),
                };
                self.flow(n, &hop)
            }
            None => v::unknown(d.name_span),
        }
    }

    fn convert_var(&mut self, i: usize, name: &str, n: Node) -> Node {
        let cfg = self.insts[i].cfg;
        match cfg.var(name).and_then(|d| d.ty.map(|t| (d.fc, t))) {
            Some((fc, t)) => {
                let ty = self.var_type(fc, t);
                super::types::convert(n, &ty, 0)
            }
            None => n,
        }
    }

    /// The value of `local.NAME` (evaluated on first use).
    pub fn local(&mut self, i: usize, name: &str, at: Span) -> Node {
        match self.local_ready(i, name, at) {
            Ok(()) => match self.insts[i].locals.get(name) {
                Some(Slot::Done(n)) => n.clone(),
                _ => v::unknown(at),
            },
            Err(n) => n,
        }
    }

    /// Evaluate `local.NAME` if needed: `Ok` when its value is in
    /// `insts[i].locals`, else the Unknown it reads as.
    pub fn local_ready(&mut self, i: usize, name: &str, at: Span) -> Result<(), Node> {
        match self.insts[i].locals.get(name) {
            Some(Slot::Done(_)) => return Ok(()),
            Some(Slot::Busy) => {
                let stack = &self.insts[i].local_stack;
                let from = stack.iter().position(|s| s == name).unwrap_or(0);
                let others: Vec<String> = stack[from..]
                    .iter()
                    .skip(1)
                    .map(|s| format!("local.{s}"))
                    .collect();
                let msg = if others.is_empty() {
                    format!("local.{name} refers to itself")
                } else {
                    format!(
                        "local.{name} refers to itself through {}",
                        others.join(", ")
                    )
                };
                let span = self.insts[i].cfg.locals.get(name).map_or(at, |l| l.span);
                let mut d = ParseDiag::new(DiagKind::Limit, span, msg);
                d.related.push((at, "referred to here".into()));
                self.diags.push(d);
                return Err(v::unknown(at));
            }
            None => {}
        }
        let cfg = self.insts[i].cfg;
        let Some(l) = cfg.locals.get(name) else {
            self.error();
            return Err(v::unknown(at));
        };
        self.insts[i].locals.insert(name.to_string(), Slot::Busy);
        self.insts[i].local_stack.push(name.to_string());
        let n = self.eval(&Cx::new(Some(i), l.fc), l.expr);
        self.insts[i].local_stack.pop();
        let hop = Hop {
            span: l.span,
            label: l
                .hop_label
                .clone()
                .unwrap_or_else(|| format!("local.{name}").into()),
        };
        let n = self.flow(n, &hop);
        self.insts[i].locals.insert(name.to_string(), Slot::Done(n));
        Ok(())
    }

    /// `path.module` relative to the root directory, as Terraform shows it.
    pub fn path_module(&self, i: usize) -> String {
        relative_dir(&self.root_dir, &self.insts[i].cfg.dir)
    }

    /// Instantiate `module.NAME` if needed: `Ok` when its value (an object
    /// of outputs, or a list/map of them for `count`/`for_each`) is in
    /// `insts[i].calls`, else the Unknown it reads as.
    pub fn module_ready(&mut self, i: usize, name: &str, at: Span) -> Result<(), Node> {
        let cfg = self.insts[i].cfg;
        let Some(call) = cfg.calls.iter().find(|c| c.name == name) else {
            self.error();
            return Err(v::unknown(at));
        };
        self.ensure_call(i, call);
        let Some(st) = self.insts[i].calls.get(name) else {
            return Err(v::unknown(at));
        };
        if st.busy {
            self.note(format!(
                "module.{name} in {} refers to its own outputs; treated as unknown",
                cfg.dir
            ));
            return Err(v::unknown(at));
        }
        match (&st.value, st.lazy) {
            (Some(_), _) | (None, Some(_)) => Ok(()),
            (None, None) => Err(v::unknown(at)),
        }
    }

    /// Instantiate a module call once: child instances with their variables.
    pub fn ensure_call(&mut self, i: usize, call: &'a ModuleCall<'a>) {
        if self.insts[i].calls.contains_key(&call.name) {
            return;
        }
        self.insts[i].calls.insert(
            call.name.clone(),
            CallState {
                value: None,
                busy: true,
                children: Vec::new(),
                lazy: None,
            },
        );
        self.module_calls += 1;
        let (value, children) = self.instantiate(i, call);
        let lazy = match (&value, children.as_slice()) {
            (None, [c]) => Some(*c),
            _ => None,
        };
        let st = CallState {
            value: value.or_else(|| lazy.is_none().then(|| v::unknown(call.span))),
            busy: false,
            children,
            lazy,
        };
        self.insts[i].calls.insert(call.name.clone(), st);
    }

    fn resolve_source(&mut self, i: usize, call: &ModuleCall<'a>) -> Option<&'a ModuleCfg<'a>> {
        let inst = &self.insts[i];
        let source = call.source.clone().unwrap_or_default();
        let key = if inst.key.is_empty() {
            call.name.clone()
        } else {
            format!("{}.{}", inst.key, call.name)
        };
        let w = self.w;
        let dir = if super::is_local_source(&source) {
            Some(join_dir(&inst.cfg.dir, &source))
        } else {
            w.downloaded_module(&self.root_dir, &key)
        };
        let why = match &dir {
            Some(d) => match w.cfgs.get(d) {
                Some(c) => {
                    if self.insts[i].chain.contains(d) {
                        format!("module cycle through `{d}`")
                    } else if self.insts[i].chain.len() >= MAX_MODULE_DEPTH {
                        format!("module nesting deeper than {MAX_MODULE_DEPTH}")
                    } else {
                        return Some(c);
                    }
                }
                None => format!("directory `{d}` has no Terraform files in the scan"),
            },
            None if call.source.is_none() => "no literal `source`".to_string(),
            None => "remote source".to_string(),
        };
        self.modules_not_evaluated += 1;
        self.note(format!(
            "module `{}` (source `{}`) not evaluated: {why}",
            call.name, source
        ));
        None
    }

    /// The call's value and its instances; no value when it is the one
    /// instance's outputs, read lazily (see [`CallState::lazy`]).
    fn instantiate(&mut self, i: usize, call: &'a ModuleCall<'a>) -> (Option<Node>, Vec<usize>) {
        let at = call.span;
        let Some(child_cfg) = self.resolve_source(i, call) else {
            return (Some(v::unknown(at)), Vec::new());
        };
        let base = Cx::new(Some(i), call.fc);
        let room = MAX_INSTANCES.saturating_sub(self.insts.len());
        let instances = self.expand(&base, call.body, at, room, true);
        let wanted = instances.as_ref().map_or(1, |x| x.1);
        if wanted > room {
            self.modules_not_evaluated += 1;
            if self.instances_capped {
                return (Some(v::unknown(at)), Vec::new()); // reported once
            }
            self.instances_capped = true;
            self.limit(
                at,
                format!(
                    "module `{}` not evaluated: the evaluation of `{}` would have more than \
                     {MAX_INSTANCES} module instances (so are the calls past this one)",
                    call.name, self.root_dir
                ),
            );
            return (Some(v::unknown(at)), Vec::new());
        }
        let Some((instances, _)) = instances else {
            // Unknown count/for_each: one instance with unknown keys.
            let cx = base
                .with("count", count_obj(at, v::unknown(at)))
                .with("each", each_obj(at, v::unknown(at), v::unknown(at)));
            let c = self.new_child(i, call, child_cfg, &cx, None);
            let _ = self.outputs(c);
            return (Some(v::unknown(at)), vec![c]);
        };
        let has_count = call.body.get_attribute("count").is_some();
        if let [(None, cx)] = instances.as_slice()
            && !has_count
        {
            let c = self.new_child(i, call, child_cfg, cx, None);
            return (None, vec![c]);
        }
        let mut children = Vec::new();
        let mut values = Vec::new();
        for (key, cx) in &instances {
            let c = self.new_child(i, call, child_cfg, cx, key.as_ref().map(|k| k.1.clone()));
            children.push(c);
            let out = self.outputs(c);
            values.push((key.clone(), out));
        }
        let value = match (has_count, values.len()) {
            (false, 1) if values[0].0.is_none() => values.remove(0).1,
            _ if has_count => v::seq(at, values.into_iter().map(|(_, o)| o).collect()),
            _ => v::map(
                at,
                values
                    .into_iter()
                    .map(|(k, o)| v::entry(at, k.map(|k| k.0).unwrap_or_default(), o))
                    .collect(),
            ),
        };
        (Some(value), children)
    }

    fn new_child(
        &mut self,
        i: usize,
        call: &'a ModuleCall<'a>,
        cfg: &'a ModuleCfg<'a>,
        cx: &Cx<'a>,
        key_suffix: Option<String>,
    ) -> usize {
        let parent = &self.insts[i];
        let mut path = if parent.path.is_empty() {
            format!("module.{}", call.name)
        } else {
            format!("{}.module.{}", parent.path, call.name)
        };
        if let Some(k) = key_suffix {
            path.push_str(&k);
        }
        let key = if parent.key.is_empty() {
            call.name.clone()
        } else {
            format!("{}.{}", parent.key, call.name)
        };
        let mut chain = parent.chain.clone();
        chain.push(cfg.dir.clone());
        let c = self.insts.len();
        self.insts.push(Inst {
            cfg,
            path: path.as_str().into(),
            key,
            vars: HashMap::default(),
            locals: HashMap::default(),
            local_stack: Vec::new(),
            calls: HashMap::default(),
            outputs: None,
            output_slots: Vec::new(),
            chain,
        });
        let mut args: HashMap<String, Node> = HashMap::default();
        for a in call.body.attributes() {
            let name = a.key.as_str();
            if MODULE_META.contains(&name) || cfg.var(name).is_none() {
                continue;
            }
            let n = self.eval(cx, &a.value);
            let hop = Hop {
                span: attr_span(call.fc, a),
                label: self.w.label(format!("passed to {path} as `{name}`")),
            };
            let n = self.flow(n, &hop);
            args.insert(name.to_string(), n);
        }
        for d in &cfg.vars {
            let value = match args.remove(&d.name) {
                Some(n) if !matches!(n.value, Value::Null) || d.nullable => n,
                _ => self.default_of(c, &d.name),
            };
            let value = self.convert_var(c, &d.name, value);
            self.insts[c].vars.insert(d.name.clone(), value);
        }
        c
    }

    /// Outputs of an instance as an object.
    pub fn outputs(&mut self, c: usize) -> Node {
        match &self.insts[c].outputs {
            Some(Slot::Done(n)) => return n.clone(),
            Some(Slot::Busy) => return v::unknown(Span::default()),
            None => {}
        }
        self.insts[c].outputs = Some(Slot::Busy);
        let cfg = self.insts[c].cfg;
        let mut entries = Vec::new();
        for (k, o) in cfg.outputs.iter().enumerate() {
            let n = match self.insts[c].output_slots.get_mut(k).and_then(Option::take) {
                Some(Slot::Done(n)) => n,
                Some(Slot::Busy) => v::unknown(Span::default()),
                None => self.eval_output(c, k),
            };
            entries.push(v::entry(o.span, o.name.clone(), n));
        }
        self.insts[c].output_slots = Vec::new();
        let span = cfg.outputs.first().map_or(Span::default(), |o| o.span);
        let n = v::map(span, entries);
        self.insts[c].outputs = Some(Slot::Done(n.clone()));
        n
    }

    /// The output at position `k` of instance `c`, with its hop.
    fn eval_output(&mut self, c: usize, k: usize) -> Node {
        let cfg = self.insts[c].cfg;
        let Some(o) = cfg.outputs.get(k) else {
            return v::unknown(Span::default());
        };
        let n = self.eval(&Cx::new(Some(c), o.fc), o.expr);
        let path = &self.insts[c].path;
        let label = if path.is_empty() {
            format!("output `{}`", o.name)
        } else {
            format!("output `{}` of {path}", o.name)
        };
        self.flow(
            n,
            &Hop {
                span: o.span,
                label: self.w.label(label),
            },
        )
    }

    /// Output `name` of instance `c`, evaluated once; `None` unless exactly
    /// one output has that name (the whole object is read then).
    pub fn lazy_output(&mut self, c: usize, name: &str) -> Option<Node> {
        let cfg = self.insts[c].cfg;
        let mut found = cfg
            .outputs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.name == name);
        let (k, _) = found.next()?;
        if found.next().is_some() {
            return None;
        }
        let inst = &mut self.insts[c];
        if inst.output_slots.len() < cfg.outputs.len() {
            inst.output_slots.resize_with(cfg.outputs.len(), || None);
        }
        match &inst.output_slots[k] {
            Some(Slot::Done(n)) => return Some(n.clone()),
            Some(Slot::Busy) => return Some(v::unknown(Span::default())),
            None => {}
        }
        inst.output_slots[k] = Some(Slot::Busy);
        let n = self.eval_output(c, k);
        self.insts[c].output_slots[k] = Some(Slot::Done(n.clone()));
        Some(n)
    }

    /// The whole value of lazily read call `name` of instance `i`.
    pub fn call_value(&mut self, i: usize, name: &str) -> Option<Node> {
        let st = self.insts[i].calls.get(name)?;
        if let Some(n) = &st.value {
            return Some(n.clone());
        }
        let c = st.lazy?;
        let n = self.outputs(c);
        if let Some(st) = self.insts[i].calls.get_mut(name) {
            st.value = Some(n.clone());
        }
        Some(n)
    }

    /// Instances of a block with `count`/`for_each`: `(key, address
    /// suffix)` and the context binding `count`/`each`, at most `room` of
    /// them (none when there are more and `all_or_none`), and how many
    /// there are in all. `None` when the count or collection is unknown.
    #[allow(clippy::type_complexity)]
    pub fn expand(
        &mut self,
        base: &Cx<'a>,
        body: &Body,
        at: Span,
        room: usize,
        all_or_none: bool,
    ) -> Option<(Vec<(Option<(String, String)>, Cx<'a>)>, usize)> {
        let take = |total: usize| {
            if total <= room {
                total
            } else if all_or_none {
                0
            } else {
                room
            }
        };
        if let Some(a) = body.get_attribute("count") {
            let n = self.eval(base, &a.value);
            let f = v::as_num(&n)?;
            let count = if f.is_finite() && f >= 0.0 {
                f as usize
            } else {
                0
            };
            if count > MAX_ITEMS {
                self.note(format!("count {count} too large, evaluated as unknown"));
                return None;
            }
            let instances = (0..take(count))
                .map(|k| {
                    let idx = v::number(n.span, k as f64);
                    (
                        Some((k.to_string(), format!("[{k}]"))),
                        base.with("count", count_obj(at, idx)),
                    )
                })
                .collect();
            return Some((instances, count));
        }
        if let Some(a) = body.get_attribute("for_each") {
            let coll = self.eval(base, &a.value);
            let pairs: Vec<(String, &Node)> = match &coll.value {
                Value::Map(entries) => v::dedup_entries(entries),
                Value::Seq(items) => {
                    let mut ks = Vec::new();
                    for it in items {
                        ks.push((v::prim_string(it)?, it));
                    }
                    ks.sort_by(|a, b| a.0.cmp(&b.0));
                    ks.dedup_by(|a, b| a.0 == b.0);
                    ks
                }
                _ => return None,
            };
            if pairs.len() > MAX_ITEMS {
                return None;
            }
            let total = pairs.len();
            let instances = pairs
                .into_iter()
                .take(take(total))
                .map(|(k, val)| {
                    let key = v::string(val.span, k.clone());
                    let suffix = format!("[{}]", serde_json::Value::String(k.clone()));
                    let each = each_obj(at, key, val.clone());
                    (Some((k, suffix)), base.with("each", each))
                })
                .collect();
            return Some((instances, total));
        }
        Some((vec![(None, base.clone())], 1))
    }

    /// Evaluate every resource, provider and module instance reachable
    /// from instance `i`.
    pub fn collect(&mut self, i: usize, res: &mut Vec<Resource>, blocks: &mut Vec<Block>) {
        let cfg = self.insts[i].cfg;
        let path = self.insts[i].path.clone();
        for r in &cfg.resources {
            self.eval_resource(i, r, &path, res);
        }
        for b in &cfg.blocks {
            if !self.make_block(b.span) {
                break;
            }
            let cx = Cx::new(Some(i), b.fc);
            let addr = std::iter::once(b.kind.clone())
                .chain(b.labels.iter().cloned())
                .collect::<Vec<_>>()
                .join(".");
            let attrs = self.eval_body(&cx, &b.block.body, &addr, b.fc.of(b.block), &[]);
            blocks.push(Block {
                kind: b.kind.clone(),
                labels: b.labels.clone(),
                module_path: path.clone(),
                span: b.span,
                attrs,
            });
        }
        for call in &cfg.calls {
            // The call itself (kind `module`): its source and version, for
            // parity (the same modules, at the same versions).
            let literal = |key: &str| {
                call.body.get_attribute(key).and_then(|a| {
                    a.value
                        .as_str()
                        .map(|s| Node::string(call.fc.of(&a.value), s))
                })
            };
            let mut entries = Vec::new();
            for key in ["source", "version"] {
                if let Some(v) = literal(key) {
                    entries.push(crate::node::Entry {
                        key: Node::string(v.span, key),
                        value: v,
                    });
                }
            }
            self.ensure_call(i, call);
            let children = self.insts[i]
                .calls
                .get(&call.name)
                .map(|s| s.children.clone())
                .unwrap_or_default();
            // A remote module that was not evaluated: its arguments (under
            // `inputs`), for the rules that judge a well-known module's
            // inputs where its resources cannot be seen.
            let source = call.source.as_deref().unwrap_or_default();
            let local = super::is_local_source(source);
            if children.is_empty() && !local && call.source.is_some() {
                let cx = Cx::new(Some(i), call.fc);
                let addr = format!("module.{}", call.name);
                let inputs = self.eval_body(&cx, call.body, &addr, call.span, &MODULE_META);
                entries.push(crate::node::Entry {
                    key: Node::string(call.span, "inputs"),
                    value: inputs,
                });
            }
            blocks.push(Block {
                kind: "module".to_string(),
                labels: vec![call.name.clone()],
                module_path: path.clone(),
                span: call.span,
                attrs: Node::new(
                    call.span,
                    crate::node::Value::Map(crate::node::items(entries)),
                ),
            });
            for c in children {
                self.collect(c, res, blocks);
            }
        }
    }

    /// Count one more resource instance or block (declared at `at`);
    /// false past [`MAX_BLOCKS`].
    fn make_block(&mut self, at: Span) -> bool {
        if self.blocks_made >= MAX_BLOCKS {
            if self.blocks_made > MAX_BLOCKS {
                return false; // reported once
            }
            self.blocks_made += 1;
            let msg = format!(
                "the evaluation of `{}` has more than {MAX_BLOCKS} resource instances and \
                 blocks; this one and the rest are not evaluated",
                self.root_dir
            );
            self.limit(at, msg);
            return false;
        }
        self.blocks_made += 1;
        true
    }

    fn eval_resource(
        &mut self,
        i: usize,
        r: &'a BlockDecl<'a>,
        path: &std::sync::Arc<str>,
        out: &mut Vec<Resource>,
    ) {
        let (rtype, name) = (
            r.labels.first().cloned().unwrap_or_default(),
            r.labels.get(1).cloned().unwrap_or_default(),
        );
        let mode = if r.kind == "data" {
            Mode::Data
        } else {
            Mode::Managed
        };
        let base = Cx::new(Some(i), r.fc);
        let body = &r.block.body;
        let prefix = if r.kind == "data" {
            format!("data.{rtype}.{name}")
        } else {
            format!("{rtype}.{name}")
        };
        const META: [&str; 6] = [
            "count",
            "for_each",
            "depends_on",
            "provider",
            "provisioner",
            "connection",
        ];
        if self.blocks_made >= MAX_BLOCKS {
            self.make_block(r.span);
            return;
        }
        let room = MAX_BLOCKS.saturating_sub(self.blocks_made);
        let instances = match self.expand(&base, body, r.span, room, false) {
            Some((x, _)) => x,
            None => {
                let u = v::unknown(r.span);
                let cx = base
                    .with("count", count_obj(r.span, u.clone()))
                    .with("each", each_obj(r.span, u.clone(), u));
                vec![(None, cx)]
            }
        };
        for (key, cx) in instances {
            if !self.make_block(r.span) {
                break;
            }
            let addr = match &key {
                Some((_, s)) => format!("{prefix}{s}"),
                None => prefix.clone(),
            };
            let attrs = self.eval_body(&cx, body, &addr, r.fc.of(r.block), &META);
            out.push(Resource {
                mode,
                rtype: rtype.as_str().into(),
                name: name.as_str().into(),
                module_path: path.clone(),
                key: key.map(|k| k.0),
                span: r.span,
                attrs,
            });
        }
    }

    /// Every `locals` value of every module instance, sorted by module path
    /// and name so that output is deterministic.
    pub fn locals(&mut self) -> Vec<Local> {
        let mut out = Vec::new();
        for i in 0..self.insts.len() {
            let cfg = self.insts[i].cfg;
            let mut names: Vec<(&String, Span)> =
                cfg.locals.iter().map(|(n, l)| (n, l.span)).collect();
            names.sort();
            for (name, span) in names {
                if out.len() >= MAX_LISTED {
                    self.note(format!(
                        "more than {MAX_LISTED} locals; the rest are not listed"
                    ));
                    return out;
                }
                let value = self.local(i, name, span);
                out.push(Local {
                    name: name.as_str().into(),
                    module_path: self.insts[i].path.clone(),
                    span,
                    value,
                });
            }
        }
        out
    }

    pub fn variables(&mut self) -> Vec<Variable> {
        let mut out = Vec::new();
        for i in 0..self.insts.len() {
            let cfg = self.insts[i].cfg;
            for d in &cfg.vars {
                if out.len() >= MAX_LISTED {
                    self.note(format!(
                        "more than {MAX_LISTED} variables; the rest are not listed"
                    ));
                    return out;
                }
                let default = d.default.map(|e| self.eval_pure(d.fc, e));
                let value = self.insts[i]
                    .vars
                    .get(&d.name)
                    .cloned()
                    .unwrap_or_else(|| v::unknown(d.name_span));
                out.push(Variable::new(
                    d.name.clone(),
                    self.insts[i].path.clone(),
                    d.name_span,
                    default,
                    d.sensitive,
                    value,
                ));
            }
        }
        out
    }
}

/// Whether `e` is `terraform.workspace`.
pub(super) fn is_workspace_ref(e: &Expression) -> bool {
    match e {
        Expression::Traversal(t) => {
            matches!(&t.expr, Expression::Variable(v) if v.as_str() == "terraform")
                && t.operators.len() == 1
                && matches!(
                    t.operators.first().map(|o| o.value()),
                    Some(hcl_edit::expr::TraversalOperator::GetAttr(a)) if a.as_str() == "workspace"
                )
        }
        _ => false,
    }
}

pub(super) fn count_obj(at: Span, index: Node) -> Node {
    v::map(at, vec![v::entry(at, "index", index)])
}

pub(super) fn each_obj(at: Span, key: Node, value: Node) -> Node {
    v::map(
        at,
        vec![v::entry(at, "key", key), v::entry(at, "value", value)],
    )
}
