//! The evaluator: a parsed template executed against a value, writing its
//! output with, for every byte range, the template span that emitted it
//! and the values-file span of the value printed there.

use std::rc::Rc;

use crate::hash::HashMap;
use crate::source::Span;

use super::Limits;
use super::template::{self, Cmd, Define, Item, Lit, Pipe, Source, Term};
use super::value::{self, Mark, V, Val};

/// One range of output bytes and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seg {
    pub start: u32,
    pub end: u32,
    /// The template text (for literal text, byte for byte) or the action
    /// that printed these bytes.
    pub tmpl: Span,
    /// Literal text: byte `i` of the range is byte `tmpl.start + i`.
    pub exact: bool,
    /// The values-file scalar these bytes print, when they print one.
    pub value: Option<Span>,
}

/// Rendered text and its segments.
#[derive(Clone, Debug, Default)]
pub struct Out {
    pub text: String,
    pub segs: Vec<Seg>,
}

impl Out {
    fn push(&mut self, s: &str, tmpl: Span, exact: bool, value: Option<Span>) {
        if s.is_empty() {
            return;
        }
        let start = self.text.len() as u32;
        self.text.push_str(s);
        let end = self.text.len() as u32;
        if let Some(last) = self.segs.last_mut()
            && !exact
            && !last.exact
            && last.tmpl == tmpl
            && last.value == value
            && last.end == start
        {
            last.end = end;
            return;
        }
        self.segs.push(Seg {
            start,
            end,
            tmpl,
            exact,
            value,
        });
    }

    /// A printed value: the parts marked as coming from values files carry
    /// their origin.
    fn push_marked(&mut self, s: &str, tmpl: Span, marks: &[Mark]) {
        let mut at = 0usize;
        for m in marks {
            let (a, b) = (m.start as usize, (m.end as usize).min(s.len()));
            if a < at || a >= b || !s.is_char_boundary(a) || !s.is_char_boundary(b) {
                continue;
            }
            self.push(&s[at..a], tmpl, false, None);
            self.push(&s[a..b], tmpl, false, Some(m.origin));
            at = b;
        }
        self.push(s.get(at..).unwrap_or(""), tmpl, false, None);
    }

    /// The marks of this output (its values-derived ranges), for a string
    /// made of it (`include`, `tpl`).
    pub fn marks(&self) -> Vec<Mark> {
        self.segs
            .iter()
            .filter_map(|s| {
                s.value.map(|origin| Mark {
                    start: s.start,
                    end: s.end,
                    origin,
                })
            })
            .collect()
    }
}

/// Why a template stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderError {
    pub span: Span,
    pub message: String,
    /// A limit of guard's (depth, size, steps), not an error of the chart.
    pub limit: bool,
}

pub type R<T> = Result<T, RenderError>;

enum Flow {
    Normal,
    Break,
    Continue,
}

/// Everything a render shares: the named templates, the limits and what
/// has been spent of them.
pub struct Engine<'l> {
    pub defines: HashMap<String, Define>,
    pub limits: &'l Limits,
    pub steps: u64,
    /// Bytes written to any output of this render.
    pub written: usize,
    pub depth: usize,
    /// Files of each chart of the render, by path inside the chart
    /// (`.Files.Get`).
    pub files: Vec<std::collections::BTreeMap<String, Rc<str>>>,
}

type Vars = Vec<(String, Val)>;

impl<'l> Engine<'l> {
    pub fn new(limits: &'l Limits) -> Engine<'l> {
        Engine {
            defines: HashMap::default(),
            limits,
            steps: 0,
            written: 0,
            depth: 0,
            files: Vec::new(),
        }
    }

    pub fn error(&self, span: Span, message: impl Into<String>) -> RenderError {
        RenderError {
            span,
            message: message.into(),
            limit: false,
        }
    }

    pub fn limit(&self, span: Span, message: impl Into<String>) -> RenderError {
        RenderError {
            span,
            message: message.into(),
            limit: true,
        }
    }

    /// Count one step; past the budget the render stops.
    pub fn step(&mut self, span: Span, cost: u64) -> R<()> {
        self.steps = self.steps.saturating_add(cost);
        if self.steps > self.limits.max_steps {
            return Err(self.limit(
                span,
                format!(
                    "the chart's templates took more than {} evaluation steps; rendering stopped",
                    self.limits.max_steps
                ),
            ));
        }
        Ok(())
    }

    fn wrote(&mut self, n: usize, span: Span) -> R<()> {
        self.written = self.written.saturating_add(n);
        if self.written > self.limits.max_output {
            return Err(self.limit(
                span,
                format!(
                    "the chart's rendered output passed {} bytes; rendering stopped",
                    self.limits.max_output
                ),
            ));
        }
        Ok(())
    }

    /// Execute a template body with `dot` (and `$`) bound to `data`.
    pub fn run(&mut self, src: &Rc<Source>, body: &[Item], data: &Val, out: &mut Out) -> R<()> {
        let mut vars: Vars = vec![("$".to_string(), data.clone())];
        self.exec(src, body, data, &mut vars, out)?;
        Ok(())
    }

    /// A named template into a fresh output (`include`), or into `out`.
    pub fn call_define(&mut self, name: &str, data: &Val, at: Span, out: &mut Out) -> R<()> {
        let Some(d) = self.defines.get(name).cloned() else {
            return Err(self.error(at, format!("no template named {name:?}")));
        };
        if self.depth >= self.limits.max_depth {
            return Err(self.limit(
                at,
                format!("templates include each other more than {} deep (at {name:?}); rendering stopped", self.limits.max_depth),
            ));
        }
        self.depth += 1;
        let r = self.run(&d.src, &d.body, data, out);
        self.depth -= 1;
        r
    }

    fn exec(
        &mut self,
        src: &Rc<Source>,
        items: &[Item],
        dot: &Val,
        vars: &mut Vars,
        out: &mut Out,
    ) -> R<Flow> {
        for item in items {
            match item {
                Item::Text(at) => {
                    let s = src.slice(*at);
                    self.wrote(s.len(), src.span(*at))?;
                    out.push(s, src.span(*at), src.fixed.is_none(), None);
                }
                Item::Action { pipe, at } => {
                    let span = src.span(*at);
                    self.step(span, 1)?;
                    let v = self.pipe(src, pipe, dot, vars)?;
                    if pipe.decl.is_empty() {
                        let s = value::to_string(&v);
                        self.wrote(s.len(), span)?;
                        out.push_marked(&s, span, &v.marks_of(s.len()));
                    }
                }
                Item::If { arms, els, at } | Item::With { arms, els, at } => {
                    let with = matches!(item, Item::With { .. });
                    self.step(src.span(*at), 1)?;
                    let mark = vars.len();
                    let mut taken = false;
                    let mut flow = Flow::Normal;
                    for (cond, body) in arms {
                        let v = self.pipe(src, cond, dot, vars)?;
                        if v.truthy() {
                            flow = if with {
                                self.exec(src, body, &v, vars, out)?
                            } else {
                                self.exec(src, body, dot, vars, out)?
                            };
                            taken = true;
                            break;
                        }
                    }
                    if !taken {
                        flow = self.exec(src, els, dot, vars, out)?;
                    }
                    vars.truncate(mark);
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Item::Range {
                    pipe,
                    body,
                    els,
                    at,
                } => {
                    let span = src.span(*at);
                    self.step(span, 1)?;
                    let mark = vars.len();
                    let v = self.pipe_value(src, pipe, dot, vars)?;
                    let pairs: Vec<(Val, Val)> = match &v.v {
                        V::List(_) => v
                            .list_items()
                            .unwrap_or_default()
                            .into_iter()
                            .enumerate()
                            .map(|(i, x)| (Val::int(i as i64), x))
                            .collect(),
                        V::Map(_) => v
                            .map_entries()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(k, x)| (Val::str(k), x))
                            .collect(),
                        V::Int(n) => {
                            if *n > 0 && *n as u64 > self.limits.max_range as u64 {
                                return Err(self.limit(
                                    span,
                                    format!(
                                        "range over {n}: more than {} iterations",
                                        self.limits.max_range
                                    ),
                                ));
                            }
                            (0..(*n).max(0))
                                .map(|i| (Val::int(i), Val::int(i)))
                                .collect()
                        }
                        V::Nil => Vec::new(),
                        _ => {
                            return Err(self.error(
                                span,
                                format!("range can't iterate over {}", value::to_string(&v)),
                            ));
                        }
                    };
                    if pairs.len() > self.limits.max_range {
                        return Err(self.limit(
                            span,
                            format!(
                                "range over {} items: more than {}",
                                pairs.len(),
                                self.limits.max_range
                            ),
                        ));
                    }
                    if pairs.is_empty() {
                        let f = self.exec(src, els, dot, vars, out)?;
                        vars.truncate(mark);
                        if !matches!(f, Flow::Normal) {
                            return Ok(f);
                        }
                        continue;
                    }
                    for (k, x) in pairs {
                        self.step(span, 1)?;
                        vars.truncate(mark);
                        match pipe.decl.as_slice() {
                            [v1] => vars.push((v1.clone(), x.clone())),
                            [k1, v1] => {
                                vars.push((k1.clone(), k));
                                vars.push((v1.clone(), x.clone()));
                            }
                            _ => {}
                        }
                        match self.exec(src, body, &x, vars, out)? {
                            Flow::Break => break,
                            Flow::Continue | Flow::Normal => {}
                        }
                    }
                    vars.truncate(mark);
                }
                Item::Template { name, pipe, at } => {
                    let span = src.span(*at);
                    self.step(span, 1)?;
                    let data = match pipe {
                        Some(p) => self.pipe(src, p, dot, vars)?,
                        None => Val::NIL,
                    };
                    self.call_define(name, &data, span, out)?;
                }
                Item::Break(_) => return Ok(Flow::Break),
                Item::Continue(_) => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    /// A range's pipeline: its value, without declaring its variables
    /// (the loop does).
    fn pipe_value(&mut self, src: &Rc<Source>, pipe: &Pipe, dot: &Val, vars: &mut Vars) -> R<Val> {
        let mut prev = None;
        for c in &pipe.cmds {
            prev = Some(self.cmd(src, c, dot, vars, prev)?);
        }
        Ok(prev.unwrap_or(Val::NIL))
    }

    pub fn pipe(&mut self, src: &Rc<Source>, pipe: &Pipe, dot: &Val, vars: &mut Vars) -> R<Val> {
        let v = self.pipe_value(src, pipe, dot, vars)?;
        if let Some(name) = pipe.decl.first() {
            if pipe.assign {
                match vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = v.clone(),
                    None => {
                        return Err(
                            self.error(src.span(pipe.at), format!("undefined variable {name}"))
                        );
                    }
                }
            } else {
                vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn cmd(
        &mut self,
        src: &Rc<Source>,
        cmd: &Cmd,
        dot: &Val,
        vars: &mut Vars,
        last: Option<Val>,
    ) -> R<Val> {
        let span = src.span(cmd.at);
        self.step(span, 1)?;
        let Some(first) = cmd.args.first() else {
            return Err(self.error(span, "empty command"));
        };
        if let Term::Func(name, _) = first {
            return self.call(src, name, &cmd.args[1..], dot, vars, last, span);
        }
        let head = self.term(src, first, dot, vars)?;
        if let V::Method(m) = head.v {
            let mut args = Vec::new();
            for a in &cmd.args[1..] {
                args.push(self.term(src, a, dot, vars)?);
            }
            args.extend(last);
            return self.method(m, &args, span);
        }
        if cmd.args.len() > 1 || last.is_some() {
            return Err(self.error(span, "can't give argument to non-function"));
        }
        Ok(head)
    }

    fn method(&mut self, m: value::Method, args: &[Val], span: Span) -> R<Val> {
        match m {
            value::Method::ApiVersionsHas => {
                let v = args.first().and_then(|a| a.as_str()).unwrap_or_default();
                Ok(Val::bool(super::API_VERSIONS.binary_search(&v).is_ok()))
            }
            value::Method::FilesGet(chart) => {
                let [path] = args else {
                    return Err(self.error(span, "Files.Get takes one path"));
                };
                let p = path.as_str().unwrap_or_default();
                let text = super::chart::clean_path(p).and_then(|p| {
                    self.files
                        .get(chart as usize)
                        .and_then(|f| f.get(&p).cloned())
                });
                Ok(text.map_or_else(|| Val::str(""), Val::str))
            }
            value::Method::Unsupported(name) => Err(self.error(
                span,
                format!("{name} is not supported by guard's Helm renderer"),
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        src: &Rc<Source>,
        name: &str,
        args: &[Term],
        dot: &Val,
        vars: &mut Vars,
        last: Option<Val>,
        span: Span,
    ) -> R<Val> {
        // `and` and `or` stop at the first operand that decides.
        if name == "and" || name == "or" {
            let n = args.len() + usize::from(last.is_some());
            if n == 0 {
                return Err(self.error(
                    span,
                    format!("wrong number of args for {name}: want at least 1 got 0"),
                ));
            }
            let mut v = Val::NIL;
            for a in args {
                v = self.term(src, a, dot, vars)?;
                if v.truthy() != (name == "and") {
                    return Ok(v);
                }
            }
            if let Some(l) = last {
                v = l;
            }
            return Ok(v);
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.term(src, a, dot, vars)?);
        }
        vals.extend(last);
        // Work in proportion to the text a function reads (`tpl`, a regular
        // expression, `fromYaml` of a long string in a loop).
        let read: usize = vals.iter().map(|v| v.as_str().map_or(0, str::len)).sum();
        self.step(span, (read / 64) as u64)?;
        let v = super::funcs::call(self, src, name, vals, span)?;
        let (size, max, unit) = match &v.v {
            V::Str(s, _) => (s.len(), self.limits.max_output, "bytes"),
            V::List(l) => (
                l.try_borrow().map(|l| l.len()).unwrap_or(0),
                self.limits.max_range,
                "items",
            ),
            V::Map(m) => (
                m.try_borrow().map(|m| m.len()).unwrap_or(0),
                self.limits.max_range,
                "items",
            ),
            _ => (0, usize::MAX, ""),
        };
        if size > max {
            return Err(self.limit(
                span,
                format!("{name} made a value of {size} {unit}, over the limit of {max}"),
            ));
        }
        self.step(span, (size / 64) as u64)?;
        Ok(v)
    }

    fn term(&mut self, src: &Rc<Source>, t: &Term, dot: &Val, vars: &mut Vars) -> R<Val> {
        match t {
            Term::Dot => Ok(dot.clone()),
            Term::Field(names, at) => self.fields(dot.clone(), names, src.span(*at)),
            Term::Var(name, names, at) => {
                let Some((_, v)) = vars.iter().rev().find(|(n, _)| n == name) else {
                    return Err(self.error(src.span(*at), format!("undefined variable {name}")));
                };
                let v = v.clone();
                self.fields(v, names, src.span(*at))
            }
            Term::Func(name, at) => {
                let span = src.span(*at);
                self.call(src, name, &[], dot, vars, None, span)
            }
            Term::Lit(l) => Ok(match l {
                Lit::Str(s) => Val::str(s.as_str()),
                Lit::Int(i) => Val::int(*i),
                Lit::Float(f) => Val::new(V::Float(*f)),
                Lit::Bool(b) => Val::bool(*b),
                Lit::Nil => Val::NIL,
            }),
            Term::Sub(pipe, names) => {
                let span = src.span(pipe.at);
                let v = self.pipe(src, pipe, dot, vars)?;
                // A pipeline that gives nil gives Go's invalid value, whose
                // fields are nil too, not an error: `(.Values.x.limits).cpu`
                // is how charts read a key that may be missing.
                if matches!(v.v, V::Nil) {
                    return Ok(Val::NIL);
                }
                self.fields(v, names, span)
            }
        }
    }

    /// Follow a field chain. A missing map key is nil; a field of nil is an
    /// error, as in Go (`nil pointer evaluating interface {}.x`).
    fn fields(&mut self, mut v: Val, names: &[String], span: Span) -> R<Val> {
        for n in names {
            v = match &v.v {
                V::Map(_) => v.get(n).unwrap_or(Val::NIL),
                V::Nil => {
                    return Err(
                        self.error(span, format!("nil pointer evaluating interface {{}}.{n}"))
                    );
                }
                _ => {
                    return Err(self.error(
                        span,
                        format!("can't evaluate field {n} in type {}", v.type_name()),
                    ));
                }
            };
        }
        Ok(v)
    }

    /// `tpl`: a string rendered as a template, every span of it at the call.
    pub fn tpl(&mut self, text: &str, data: &Val, name: &Rc<str>, at: Span) -> R<Val> {
        if self.depth >= self.limits.max_depth {
            return Err(self.limit(
                at,
                format!(
                    "tpl nested more than {} deep; rendering stopped",
                    self.limits.max_depth
                ),
            ));
        }
        let src = Rc::new(Source {
            name: name.clone(),
            file: at.file,
            text: text.into(),
            fixed: Some(at),
        });
        let parsed = template::parse(src.clone())
            .map_err(|e| self.error(at, format!("tpl: {}", e.message)))?;
        // Its defines hold while it runs, and no longer (Helm renders a
        // `tpl` in a copy of the chart's templates).
        let mut shadowed = Vec::new();
        for d in parsed.defines {
            let name = d.name.clone();
            shadowed.push((name.clone(), self.defines.insert(name, d)));
        }
        let mut out = Out::default();
        self.depth += 1;
        let r = self.run(&src, &parsed.body, data, &mut out);
        self.depth -= 1;
        for (name, old) in shadowed.into_iter().rev() {
            match old {
                Some(d) => self.defines.insert(name, d),
                None => self.defines.remove(&name),
            };
        }
        r?;
        let marks = out.marks();
        Ok(Val::marked(out.text, marks))
    }
}
