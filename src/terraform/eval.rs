//! One evaluation of a root module: module instances, variables, locals,
//! module calls and outputs, resources with `count`/`for_each`.
//! Expressions are in `expr.rs`, functions in `functions.rs`.

use std::collections::HashMap;

use hcl_edit::structure::Body;

use super::config::{BlockDecl, FileCtx, ModuleCall, ModuleCfg, attr_span};
use super::roots::{World, join_dir, relative_dir};
use super::value::{self as v, MAX_ITEMS};
use super::{Block, Local, Mode, Resource, Variable};
use crate::node::{Hop, Node, Value};
use crate::parse::{DiagKind, ParseDiag};
use crate::source::Span;

/// Module nesting deeper than this is not evaluated.
pub const MAX_MODULE_DEPTH: usize = 16;
/// Expression nesting deeper than this evaluates to Unknown.
pub const MAX_EXPR_DEPTH: usize = 200;
/// Expression evaluations allowed for one root evaluation.
pub const EVAL_BUDGET: u64 = 3_000_000;

/// Evaluation context: the module instance (None in `.tfvars` files and
/// templates), the file spans map into, and the bound names (`count`,
/// `each`, `for` variables, `dynamic` iterators, template variables).
#[derive(Clone)]
pub struct Cx<'f> {
    pub inst: Option<usize>,
    pub fc: FileCtx<'f>,
    pub scope: Vec<(String, Node)>,
}

impl<'f> Cx<'f> {
    pub fn new(inst: Option<usize>, fc: FileCtx<'f>) -> Cx<'f> {
        Cx {
            inst,
            fc,
            scope: Vec::new(),
        }
    }

    pub fn bound(&self, name: &str) -> Option<&Node> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    pub fn with(&self, name: &str, value: Node) -> Cx<'f> {
        let mut c = self.clone();
        c.scope.push((name.to_string(), value));
        c
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
}

pub struct Inst<'a> {
    pub cfg: &'a ModuleCfg<'a>,
    /// `""` for the root, `module.db`, `module.a.module.b`, `module.x["k"]`.
    pub path: String,
    /// Key in `.terraform/modules/modules.json` (`db`, `db.sub`).
    pub key: String,
    pub vars: HashMap<String, Node>,
    pub locals: HashMap<String, Slot>,
    pub local_stack: Vec<String>,
    pub calls: HashMap<String, CallState>,
    pub outputs: Option<Slot>,
    /// Directories of this instance and its callers.
    pub chain: Vec<String>,
}

pub struct Run<'a> {
    pub w: &'a World<'a>,
    pub root_dir: String,
    pub insts: Vec<Inst<'a>>,
    pub diags: Vec<ParseDiag>,
    pub notes: Vec<String>,
    /// Incremented on every evaluation error; `try` and `can` compare it.
    pub errors: u64,
    pub budget: u64,
    pub depth: usize,
    pub module_calls: usize,
    pub modules_not_evaluated: usize,
}

impl<'a> Run<'a> {
    pub fn new(w: &'a World<'a>, root: &'a ModuleCfg<'a>) -> Run<'a> {
        let mut r = Run {
            w,
            root_dir: root.dir.clone(),
            insts: Vec::new(),
            diags: Vec::new(),
            notes: Vec::new(),
            errors: 0,
            budget: EVAL_BUDGET,
            depth: 0,
            module_calls: 0,
            modules_not_evaluated: 0,
        };
        r.insts.push(Inst {
            cfg: root,
            path: String::new(),
            key: String::new(),
            vars: HashMap::new(),
            locals: HashMap::new(),
            local_stack: Vec::new(),
            calls: HashMap::new(),
            outputs: None,
            chain: vec![root.dir.clone()],
        });
        r
    }

    pub fn error(&mut self) {
        self.errors += 1;
    }

    pub fn note(&mut self, s: String) {
        if !self.notes.contains(&s) {
            self.notes.push(s);
        }
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
                let n = self.eval(&Cx::new(None, d.fc), e);
                let hop = Hop {
                    span: n.span,
                    label: format!("default of var.{name}"),
                };
                v::flow(n, &hop)
            }
            None => v::unknown(d.name_span),
        }
    }

    fn convert_var(&mut self, i: usize, name: &str, n: Node) -> Node {
        let cfg = self.insts[i].cfg;
        match cfg.var(name).and_then(|d| d.ty.map(|t| (d.fc, t))) {
            Some((fc, t)) => {
                let ty = self.parse_type(&Cx::new(None, fc), t, 0);
                super::types::convert(n, &ty, 0)
            }
            None => n,
        }
    }

    pub fn var(&mut self, i: usize, name: &str, at: Span) -> Node {
        match self.insts[i].vars.get(name) {
            Some(n) => n.clone(),
            None => {
                self.error();
                v::unknown(at)
            }
        }
    }

    pub fn local(&mut self, i: usize, name: &str, at: Span) -> Node {
        match self.insts[i].locals.get(name) {
            Some(Slot::Done(n)) => return n.clone(),
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
                return v::unknown(at);
            }
            None => {}
        }
        let cfg = self.insts[i].cfg;
        let Some(l) = cfg.locals.get(name) else {
            self.error();
            return v::unknown(at);
        };
        self.insts[i].locals.insert(name.to_string(), Slot::Busy);
        self.insts[i].local_stack.push(name.to_string());
        let n = self.eval(&Cx::new(Some(i), l.fc), l.expr);
        self.insts[i].local_stack.pop();
        let hop = Hop {
            span: l.span,
            label: format!("local.{name}"),
        };
        let n = v::flow(n, &hop);
        self.insts[i]
            .locals
            .insert(name.to_string(), Slot::Done(n.clone()));
        n
    }

    /// `path.module` relative to the root directory, as Terraform shows it.
    pub fn path_module(&self, i: usize) -> String {
        relative_dir(&self.root_dir, &self.insts[i].cfg.dir)
    }

    /// The value of `module.NAME`: an object of outputs, or a list/map of
    /// them for `count`/`for_each`.
    pub fn module_value(&mut self, i: usize, name: &str, at: Span) -> Node {
        let cfg = self.insts[i].cfg;
        let Some(call) = cfg.calls.iter().find(|c| c.name == name) else {
            self.error();
            return v::unknown(at);
        };
        self.ensure_call(i, call);
        let Some(st) = self.insts[i].calls.get(name) else {
            return v::unknown(at);
        };
        if st.busy {
            self.note(format!(
                "module.{name} in {} refers to its own outputs; treated as unknown",
                cfg.dir
            ));
            return v::unknown(at);
        }
        st.value.clone().unwrap_or_else(|| v::unknown(at))
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
            },
        );
        self.module_calls += 1;
        let (value, children) = self.instantiate(i, call);
        let st = CallState {
            value: Some(value),
            busy: false,
            children,
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
        let dir = if source.starts_with("./")
            || source.starts_with("../")
            || source == "."
            || source == ".."
        {
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

    fn instantiate(&mut self, i: usize, call: &'a ModuleCall<'a>) -> (Node, Vec<usize>) {
        let at = call.span;
        let Some(child_cfg) = self.resolve_source(i, call) else {
            return (v::unknown(at), Vec::new());
        };
        let base = Cx::new(Some(i), call.fc);
        let instances = self.expand(&base, call.body, at);
        let Some(instances) = instances else {
            // Unknown count/for_each: one instance with unknown keys.
            let cx = base
                .with("count", count_obj(at, v::unknown(at)))
                .with("each", each_obj(at, v::unknown(at), v::unknown(at)));
            let c = self.new_child(i, call, child_cfg, &cx, None);
            let _ = self.outputs(c);
            return (v::unknown(at), vec![c]);
        };
        let mut children = Vec::new();
        let mut values = Vec::new();
        for (key, cx) in &instances {
            let c = self.new_child(i, call, child_cfg, cx, key.as_ref().map(|k| k.1.clone()));
            children.push(c);
            let out = self.outputs(c);
            values.push((key.clone(), out));
        }
        let has_count = call.body.get_attribute("count").is_some();
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
        (value, children)
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
            path: path.clone(),
            key,
            vars: HashMap::new(),
            locals: HashMap::new(),
            local_stack: Vec::new(),
            calls: HashMap::new(),
            outputs: None,
            chain,
        });
        const META: [&str; 6] = [
            "source",
            "version",
            "count",
            "for_each",
            "providers",
            "depends_on",
        ];
        let mut args: HashMap<String, Node> = HashMap::new();
        for a in call.body.attributes() {
            let name = a.key.as_str();
            if META.contains(&name) || cfg.var(name).is_none() {
                continue;
            }
            let n = self.eval(cx, &a.value);
            let hop = Hop {
                span: attr_span(call.fc, a),
                label: format!("passed to {path} as `{name}`"),
            };
            args.insert(name.to_string(), v::flow(n, &hop));
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
        let path = self.insts[c].path.clone();
        let mut entries = Vec::new();
        for o in &cfg.outputs {
            let n = self.eval(&Cx::new(Some(c), o.fc), o.expr);
            let label = if path.is_empty() {
                format!("output `{}`", o.name)
            } else {
                format!("output `{}` of {path}", o.name)
            };
            let n = v::flow(
                n,
                &Hop {
                    span: o.span,
                    label,
                },
            );
            entries.push(v::entry(o.span, o.name.clone(), n));
        }
        let span = cfg.outputs.first().map_or(Span::default(), |o| o.span);
        let n = v::map(span, entries);
        self.insts[c].outputs = Some(Slot::Done(n.clone()));
        n
    }

    /// Instances of a block with `count`/`for_each`: `(key, address
    /// suffix)` and the context binding `count`/`each`. `None` when the
    /// count or collection is unknown.
    #[allow(clippy::type_complexity)]
    pub fn expand(
        &mut self,
        base: &Cx<'a>,
        body: &Body,
        at: Span,
    ) -> Option<Vec<(Option<(String, String)>, Cx<'a>)>> {
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
            return Some(
                (0..count)
                    .map(|k| {
                        let idx = v::number(n.span, k as f64);
                        (
                            Some((k.to_string(), format!("[{k}]"))),
                            base.with("count", count_obj(at, idx)),
                        )
                    })
                    .collect(),
            );
        }
        if let Some(a) = body.get_attribute("for_each") {
            let coll = self.eval(base, &a.value);
            let pairs: Vec<(String, Node)> = match &coll.value {
                Value::Map(entries) => v::dedup_entries(entries)
                    .into_iter()
                    .map(|(k, n)| (k, n.clone()))
                    .collect(),
                Value::Seq(items) => {
                    let mut ks = Vec::new();
                    for it in items {
                        ks.push((v::prim_string(it)?, it.clone()));
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
            return Some(
                pairs
                    .into_iter()
                    .map(|(k, val)| {
                        let key = v::string(val.span, k.clone());
                        let suffix = format!("[{}]", serde_json::Value::String(k.clone()));
                        (Some((k, suffix)), base.with("each", each_obj(at, key, val)))
                    })
                    .collect(),
            );
        }
        Some(vec![(None, base.clone())])
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
            self.ensure_call(i, call);
            let children = self.insts[i]
                .calls
                .get(&call.name)
                .map(|s| s.children.clone())
                .unwrap_or_default();
            for c in children {
                self.collect(c, res, blocks);
            }
        }
    }

    fn eval_resource(
        &mut self,
        i: usize,
        r: &'a BlockDecl<'a>,
        path: &str,
        out: &mut Vec<Resource>,
    ) {
        let (rtype, name) = (
            r.labels[0].clone(),
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
        let instances = match self.expand(&base, body, r.span) {
            Some(x) => x,
            None => {
                let u = v::unknown(r.span);
                let cx = base
                    .with("count", count_obj(r.span, u.clone()))
                    .with("each", each_obj(r.span, u.clone(), u));
                vec![(None, cx)]
            }
        };
        for (key, cx) in instances {
            let addr = match &key {
                Some((_, s)) => format!("{prefix}{s}"),
                None => prefix.clone(),
            };
            let attrs = self.eval_body(&cx, body, &addr, r.fc.of(r.block), &META);
            out.push(Resource {
                mode,
                rtype: rtype.clone(),
                name: name.clone(),
                module_path: path.to_string(),
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
                let value = self.local(i, name, span);
                out.push(Local {
                    name: name.clone(),
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
                let default = d.default.map(|e| self.eval(&Cx::new(None, d.fc), e));
                let value = self.insts[i]
                    .vars
                    .get(&d.name)
                    .cloned()
                    .unwrap_or_else(|| v::unknown(d.name_span));
                out.push(Variable {
                    name: d.name.clone(),
                    module_path: self.insts[i].path.clone(),
                    span: d.name_span,
                    default,
                    sensitive: d.sensitive,
                    value,
                });
            }
        }
        out
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
