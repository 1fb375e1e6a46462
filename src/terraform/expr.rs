//! Expression evaluation: literals, references, traversals and splats,
//! operators, conditionals, `for` expressions and string templates.

use hcl_edit::Span as _;
use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, ObjectKey, TraversalOperator, UnaryOperator,
};

use crate::hash::HashMap;

use super::eval::{Cx, MAX_EXPR_DEPTH, Run, Slot};
use super::value::{self as v, MAX_ITEMS};
use crate::node::{Entry, Node, Value, Via};
use crate::source::Span;

impl Run<'_> {
    pub fn eval(&mut self, cx: &Cx<'_>, e: &Expression) -> Node {
        let span = cx.fc.of(e);
        if self.budget == 0 {
            return v::unknown(span);
        }
        self.budget -= 1;
        if self.budget == 0 && self.work > 0 {
            self.limit(
                span,
                format!(
                    "Terraform evaluation stopped here: more than {} expressions evaluated; \
                     the values left are unknown",
                    super::eval::EVAL_BUDGET
                ),
            );
        }
        if self.depth > MAX_EXPR_DEPTH {
            self.error();
            self.limit(
                span,
                format!(
                    "Terraform evaluation nests deeper than {MAX_EXPR_DEPTH} levels here \
                     (locals, variables and modules referring to each other); read as unknown"
                ),
            );
            return v::unknown(span);
        }
        self.depth += 1;
        self.peak = self.peak.max(self.depth);
        let n = self.eval_inner(cx, e, span);
        self.depth -= 1;
        n
    }

    fn eval_inner(&mut self, cx: &Cx<'_>, e: &Expression, span: Span) -> Node {
        match e {
            Expression::Null(_) => v::null(span),
            Expression::Bool(b) => v::boolean(span, *b.value()),
            Expression::Number(n) => {
                let text = cx.fc.text(e.span()).map(str::to_string);
                let text = text.unwrap_or_else(|| n.value().to_string());
                self.charge(Node::new(span, Value::Number(text.into())), span)
            }
            Expression::String(s) => self.charge(v::string(span, s.value().clone()), span),
            Expression::Array(a) => {
                let items = a.iter().map(|i| self.eval(cx, i)).collect();
                v::seq(span, items)
            }
            Expression::Object(o) => {
                let mut entries = Vec::new();
                for (k, val) in o.iter() {
                    let key = match k {
                        ObjectKey::Ident(id) => v::string(cx.fc.of(id), id.as_str()),
                        ObjectKey::Expression(Expression::Variable(id)) => {
                            v::string(cx.fc.of(id), id.as_str())
                        }
                        ObjectKey::Expression(ke) => {
                            let kn = self.eval(cx, ke);
                            match v::prim_string(&kn) {
                                Some(s) => v::with_value(&kn, Value::String(s.into())),
                                None => {
                                    if !kn.is_unknown() {
                                        self.error();
                                    }
                                    return v::unknown(span);
                                }
                            }
                        }
                    };
                    let value = self.eval(cx, val.expr());
                    entries.push(Entry { key, value });
                }
                v::map(span, entries)
            }
            Expression::StringTemplate(t) => self.template(cx, t, span, None),
            Expression::HeredocTemplate(h) => {
                self.template(cx, &h.template, span, Some(h.indent().unwrap_or(0)))
            }
            Expression::Parenthesis(p) => self.eval(cx, p.inner()),
            Expression::Variable(id) => {
                let (n, _) = self.reference(cx, id.as_str(), &[], span);
                n
            }
            Expression::Conditional(c) => {
                let cond = self.eval(cx, &c.cond_expr);
                match v::as_bool(&cond) {
                    Some(true) => self.eval(cx, &c.true_expr),
                    Some(false) => self.eval(cx, &c.false_expr),
                    None => {
                        if !cond.is_unknown() {
                            self.error();
                        }
                        v::unknown(span)
                    }
                }
            }
            Expression::FuncCall(f) => self.call(cx, f, span),
            Expression::Traversal(t) => {
                let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
                let (cur, used) = match &t.expr {
                    Expression::Variable(id) => self.reference(cx, id.as_str(), &ops, span),
                    other => (self.eval(cx, other), 0),
                };
                self.apply_ops(cx, cur, &ops[used.min(ops.len())..], span)
            }
            Expression::UnaryOp(u) => {
                let x = self.eval(cx, &u.expr);
                if x.is_unknown() {
                    return v::unknown(span);
                }
                let r = match u.operator.value() {
                    UnaryOperator::Neg => v::as_num(&x).map(|f| v::number(span, -f)),
                    UnaryOperator::Not => v::as_bool(&x).map(|b| v::boolean(span, !b)),
                };
                self.ok_or_error(r, span, x.via)
            }
            Expression::BinaryOp(b) => {
                self.binary(cx, b.operator.value(), &b.lhs_expr, &b.rhs_expr, span)
            }
            Expression::ForExpr(f) => self.for_expr(cx, f, span),
        }
    }

    fn ok_or_error(&mut self, r: Option<Node>, span: Span, via: Via) -> Node {
        match r {
            Some(n) => n.with_via(via),
            None => {
                self.error();
                v::unknown(span)
            }
        }
    }

    /// Resolve the first name of a traversal and the attribute and literal
    /// index steps after it; returns the value and how many operators it
    /// consumed. Only the part reached is copied out of the variable,
    /// local, module value or bound name (`module.x.id` copies the `id`,
    /// not every output of `module.x`).
    fn reference(
        &mut self,
        cx: &Cx<'_>,
        root: &str,
        ops: &[&TraversalOperator],
        span: Span,
    ) -> (Node, usize) {
        if let Some(n) = cx.bound(root) {
            let w = walk(n, ops).owned();
            return self.walked(w, 0, ops.len(), span);
        }
        let attr = match ops.first() {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
            _ => None,
        };
        let all = ops.len();
        let rest = ops.get(1..).unwrap_or_default();
        match (root, cx.inst, attr) {
            ("var", Some(i), Some(name)) => match self.insts[i].vars.get(name) {
                Some(n) => {
                    let w = walk(n, rest).owned();
                    self.walked(w, 1, all, span)
                }
                None => {
                    self.error();
                    (v::unknown(span), 1)
                }
            },
            ("local", Some(i), Some(name)) => match self.local_ready(i, name, span) {
                Ok(()) => match self.insts[i].locals.get(name) {
                    Some(Slot::Done(n)) => {
                        let w = walk(n, rest).owned();
                        self.walked(w, 1, all, span)
                    }
                    _ => (v::unknown(span), 1),
                },
                Err(n) => (n, 1),
            },
            ("module", Some(i), Some(name)) => match self.module_ready(i, name, span) {
                Ok(()) => {
                    // `module.x.out` of a call read lazily: that output only.
                    let lazy = self.insts[i]
                        .calls
                        .get(name)
                        .filter(|c| c.value.is_none())
                        .and_then(|c| c.lazy);
                    if let Some(c) = lazy {
                        if let Some(TraversalOperator::GetAttr(out)) = rest.first()
                            && let Some(n) = self.lazy_output(c, out.as_str())
                        {
                            let after = rest.get(1..).unwrap_or_default();
                            let w = match after {
                                [] => Walk::At(n, 0),
                                _ => walk(&n, after).owned(),
                            };
                            return self.walked(w, 2, all, span);
                        }
                        let _ = self.call_value(i, name);
                    }
                    match self.insts[i].calls.get(name).and_then(|c| c.value.as_ref()) {
                        Some(n) => {
                            let w = walk(n, rest).owned();
                            self.walked(w, 1, all, span)
                        }
                        None => (v::unknown(span), 1),
                    }
                }
                Err(n) => (n, 1),
            },
            ("path", Some(i), Some("module")) => (v::string(span, self.path_module(i)), 1),
            ("path", Some(_), Some("root")) => (v::string(span, "."), 1),
            ("terraform", _, Some("workspace")) => (v::string(span, &self.workspace), 1),
            // Resources, data sources, `self`, `path.cwd`, unbound
            // `count`/`each`: known only after apply or outside the config.
            (_, Some(_), _) => (v::unknown(span), all),
            // In .tfvars and templates, no references exist.
            _ => {
                self.error();
                (v::unknown(span), all)
            }
        }
    }

    /// The value a [`walk`] reached, copied and paid for, and the
    /// operators consumed in all (`before` of them before the walk).
    fn walked(&mut self, w: Walk<Node>, before: usize, all: usize, span: Span) -> (Node, usize) {
        match w {
            Walk::At(n, used) => (self.charge(n, span), before + used),
            Walk::Unknown { error } => {
                if error {
                    self.error();
                }
                (v::unknown(span), all)
            }
        }
    }

    fn apply_ops(
        &mut self,
        cx: &Cx<'_>,
        mut cur: Node,
        ops: &[&TraversalOperator],
        span: Span,
    ) -> Node {
        let mut k = 0;
        while k < ops.len() {
            if cur.is_unknown() {
                return v::unknown(span);
            }
            match ops[k] {
                TraversalOperator::GetAttr(a) => cur = self.index_str(cur, a.as_str(), span),
                TraversalOperator::Index(ie) => {
                    let idx = self.eval(cx, ie);
                    if super::eval::is_workspace_ref(ie) {
                        self.workspace_key_missing(&cur, span);
                    }
                    cur = self.index(cur, &idx, span);
                }
                TraversalOperator::LegacyIndex(n) => {
                    cur = self.index(cur, &v::number(span, *n.value() as f64), span);
                }
                TraversalOperator::FullSplat(_) | TraversalOperator::AttrSplat(_) => {
                    let full = matches!(ops[k], TraversalOperator::FullSplat(_));
                    let rest = &ops[k + 1..];
                    let n_inner = if full {
                        rest.len()
                    } else {
                        rest.iter()
                            .take_while(|o| matches!(o, TraversalOperator::GetAttr(_)))
                            .count()
                    };
                    let items = match cur.value {
                        Value::Null => crate::node::Items::new(),
                        Value::Seq(items) => items,
                        _ => thin_vec::thin_vec![cur],
                    };
                    let mut out = Vec::new();
                    for it in items {
                        out.push(self.apply_ops(cx, it, &rest[..n_inner], span));
                    }
                    cur = v::seq(span, out);
                    k += 1 + n_inner;
                    continue;
                }
            }
            k += 1;
        }
        cur
    }

    fn index_str(&mut self, cur: Node, key: &str, span: Span) -> Node {
        let step = step_str(&cur, key);
        self.stepped(cur, step, span)
    }

    pub fn index(&mut self, cur: Node, idx: &Node, span: Span) -> Node {
        let step = step_index(&cur, idx);
        self.stepped(cur, step, span)
    }

    fn stepped(&mut self, cur: Node, step: Step, span: Span) -> Node {
        match step {
            Step::Child(i) => into_child(cur, i).unwrap_or_else(|| v::unknown(span)),
            Step::Unknown => v::unknown(span),
            Step::Error => {
                self.error();
                v::unknown(span)
            }
        }
    }

    fn binary(
        &mut self,
        cx: &Cx<'_>,
        op: &BinaryOperator,
        l: &Expression,
        r: &Expression,
        span: Span,
    ) -> Node {
        let a = self.eval(cx, l);
        // Logic short-circuits only on a decisive known left side.
        if matches!(op, BinaryOperator::And | BinaryOperator::Or) {
            let decisive = matches!(op, BinaryOperator::Or);
            if v::as_bool(&a) == Some(decisive) {
                return v::boolean(span, decisive).with_via(a.via);
            }
        }
        let b = self.eval(cx, r);
        if a.is_unknown() || b.is_unknown() {
            return v::unknown(span);
        }
        let via = v::first_via([&a, &b]);
        let nums = || Some((v::as_num(&a)?, v::as_num(&b)?));
        let r = match op {
            BinaryOperator::Eq => Some(v::boolean(span, v::deep_eq(&a, &b))),
            BinaryOperator::NotEq => Some(v::boolean(span, !v::deep_eq(&a, &b))),
            BinaryOperator::And | BinaryOperator::Or => {
                v::as_bool(&a).zip(v::as_bool(&b)).map(|(x, y)| {
                    v::boolean(
                        span,
                        if matches!(op, BinaryOperator::And) {
                            x && y
                        } else {
                            x || y
                        },
                    )
                })
            }
            BinaryOperator::Less => nums().map(|(x, y)| v::boolean(span, x < y)),
            BinaryOperator::LessEq => nums().map(|(x, y)| v::boolean(span, x <= y)),
            BinaryOperator::Greater => nums().map(|(x, y)| v::boolean(span, x > y)),
            BinaryOperator::GreaterEq => nums().map(|(x, y)| v::boolean(span, x >= y)),
            BinaryOperator::Plus => nums().map(|(x, y)| v::number(span, x + y)),
            BinaryOperator::Minus => nums().map(|(x, y)| v::number(span, x - y)),
            BinaryOperator::Mul => nums().map(|(x, y)| v::number(span, x * y)),
            BinaryOperator::Div => nums()
                .filter(|(_, y)| *y != 0.0)
                .map(|(x, y)| v::number(span, x / y)),
            BinaryOperator::Mod => nums()
                .filter(|(_, y)| *y != 0.0)
                .map(|(x, y)| v::number(span, x % y)),
        };
        self.ok_or_error(r, span, via)
    }

    fn for_expr(&mut self, cx: &Cx<'_>, f: &ForExpr, span: Span) -> Node {
        let coll = self.eval(cx, &f.intro.collection_expr);
        let Some(pairs) = v::for_pairs(&coll) else {
            if !coll.is_unknown() {
                self.error();
            }
            return v::unknown(span);
        };
        if pairs.len() > MAX_ITEMS {
            self.error();
            return v::unknown(span);
        }
        let mut items = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        // Key -> position in `entries`.
        let mut slots: HashMap<String, usize> = HashMap::default();
        for (k, val) in pairs {
            let c = match &f.intro.key_var {
                Some(kv) => cx.with(kv.as_str(), k),
                None => cx.clone(),
            };
            let c = c.with(f.intro.value_var.as_str(), val);
            if let Some(cond) = &f.cond {
                let b = self.eval(&c, &cond.expr);
                match v::as_bool(&b) {
                    Some(true) => {}
                    Some(false) => continue,
                    None => {
                        if !b.is_unknown() {
                            self.error();
                        }
                        return v::unknown(span);
                    }
                }
            }
            let value = self.eval(&c, &f.value_expr);
            match &f.key_expr {
                None => items.push(value),
                Some(ke) => {
                    let kn = self.eval(&c, ke);
                    let Some(ks) = v::prim_string(&kn) else {
                        if !kn.is_unknown() {
                            self.error();
                        }
                        return v::unknown(span);
                    };
                    let existing = slots.get(&ks).and_then(|&at| entries.get_mut(at));
                    match (existing, f.grouping) {
                        (Some(e), true) => {
                            if let Value::Seq(g) = &mut e.value.value {
                                g.push(value);
                            }
                        }
                        (Some(_), false) => {
                            self.error();
                            return v::unknown(span);
                        }
                        (None, grouping) => {
                            let value = if grouping {
                                v::seq(value.span, vec![value])
                            } else {
                                value
                            };
                            slots.insert(ks.clone(), entries.len());
                            entries.push(Entry {
                                key: v::with_value(&kn, Value::String(ks.into())),
                                value,
                            });
                        }
                    }
                }
            }
        }
        if f.key_expr.is_some() {
            v::map(span, entries)
        } else {
            v::seq(span, items)
        }
    }
}

/// Where [`walk`] stopped: at a node, after `usize` operators, or at an
/// Unknown (the whole traversal is then Unknown; `error` when Terraform
/// would report one).
enum Walk<N> {
    At(N, usize),
    Unknown { error: bool },
}

impl Walk<&Node> {
    /// A copy of the node reached.
    fn owned(self) -> Walk<Node> {
        match self {
            Walk::At(n, used) => Walk::At(n.clone(), used),
            Walk::Unknown { error } => Walk::Unknown { error },
        }
    }
}

/// Follow the attribute and literal index operators at the start of `ops`
/// on a borrowed value, as [`Run::apply_ops`] would on a copy. Stops at
/// the first operator that needs evaluating (an index expression, a
/// splat).
fn walk<'n>(mut cur: &'n Node, ops: &[&TraversalOperator]) -> Walk<&'n Node> {
    let mut k = 0;
    while let Some(op) = ops.get(k) {
        if cur.is_unknown() {
            return Walk::Unknown { error: false };
        }
        let step = match op {
            TraversalOperator::GetAttr(a) => step_str(cur, a.as_str()),
            TraversalOperator::LegacyIndex(n) => {
                step_index(cur, &v::number(cur.span, *n.value() as f64))
            }
            _ => break,
        };
        match step {
            Step::Child(i) => match child(cur, i) {
                Some(c) => cur = c,
                None => return Walk::Unknown { error: false },
            },
            Step::Unknown => return Walk::Unknown { error: false },
            Step::Error => return Walk::Unknown { error: true },
        }
        k += 1;
    }
    Walk::At(cur, k)
}

/// One traversal step: the position of the child reached (an item, or a
/// map entry), an Unknown, or an error.
enum Step {
    Child(usize),
    Unknown,
    Error,
}

/// `cur.key` / `cur["key"]` (the last entry of a repeated key).
fn step_str(cur: &Node, key: &str) -> Step {
    match &cur.value {
        Value::Map(entries) => entries
            .iter()
            .rposition(|e| e.key.scalar_text().as_deref() == Some(key))
            .map_or(Step::Error, Step::Child),
        Value::Seq(_) => match key.parse::<f64>() {
            Ok(f) => step_index(cur, &v::number(cur.span, f)),
            Err(_) => Step::Error,
        },
        Value::Unknown => Step::Unknown,
        _ => Step::Error,
    }
}

/// `cur[idx]`.
fn step_index(cur: &Node, idx: &Node) -> Step {
    if idx.is_unknown() || cur.is_unknown() {
        return Step::Unknown;
    }
    match &cur.value {
        Value::Map(_) => match v::prim_string(idx) {
            Some(k) => step_str(cur, &k),
            None => Step::Error,
        },
        Value::Seq(items) => {
            let Some(f) = v::as_num(idx) else {
                return Step::Error;
            };
            if f < 0.0 || f.fract() != 0.0 || f as usize >= items.len() {
                return Step::Error;
            }
            Step::Child(f as usize)
        }
        _ => Step::Error,
    }
}

fn child(n: &Node, i: usize) -> Option<&Node> {
    match &n.value {
        Value::Seq(items) => items.get(i),
        Value::Map(entries) => entries.get(i).map(|e| &e.value),
        _ => None,
    }
}

/// The child at `i`, moved out of `n`.
fn into_child(n: Node, i: usize) -> Option<Node> {
    match n.value {
        Value::Seq(mut items) if i < items.len() => Some(items.swap_remove(i)),
        Value::Map(mut entries) if i < entries.len() => Some(entries.swap_remove(i).value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{ev, eval_expr};
    use serde_json::json;

    #[test]
    fn operators_and_conditionals() {
        assert_eq!(ev("1 + 2 * 3"), json!(7));
        assert_eq!(ev(r#""5" + 1"#), json!(6));
        assert_eq!(ev("true && !false ? \"y\" : \"n\""), json!("y"));
        assert_eq!(ev("false && data.a.b.c"), json!(false));
        assert_eq!(ev("data.a.b.c ? 1 : 2"), json!("<unknown>"));
    }

    #[test]
    fn for_expressions_and_splat() {
        assert_eq!(
            ev("[for i, v in [\"a\", \"b\"] : \"${i}${v}\" if v != \"a\"]"),
            json!(["1b"])
        );
        assert_eq!(
            ev("{for k, v in {b = 1, a = 2} : v => k}"),
            json!({"1": "b", "2": "a"})
        );
        assert_eq!(
            ev("{for s in [\"ab\", \"ac\"] : substr(s, 0, 1) => s...}"),
            json!({"a": ["ab", "ac"]})
        );
        assert_eq!(ev("[{n = 1}, {n = 2}][*].n"), json!([1, 2]));
    }

    #[test]
    fn templates() {
        assert_eq!(
            ev(r#""%{ for x in [1, 2] }${x},%{ endfor }""#),
            json!("1,2,")
        );
        assert_eq!(
            ev(r#""%{ if true }yes%{ else }no%{ endif }""#),
            json!("yes")
        );
        assert_eq!(
            ev(r#""a\n%{ for x in [1] ~}  \n ${x}%{ endfor }""#),
            json!("a\n1")
        );
    }

    #[test]
    fn provenance_through_variables_and_locals() {
        let (_, n, _) = eval_expr(
            "variable \"v\" {\n  default = true\n}\nlocals { y = var.v }",
            "local.y",
        );
        let labels: Vec<&str> = n.via.as_ref().unwrap().iter().map(|h| &*h.label).collect();
        assert_eq!(
            labels,
            ["default of var.v", "local.y", "local.x", "output `x`"]
        );
    }

    #[test]
    fn traversals_copy_only_what_they_reach() {
        let pre = "locals {\n  m = { a = [1, { b = \"x\" }], c = null }\n  l = [[1, 2], [3]]\n}";
        assert_eq!(eval_expr(pre, "local.m.a[1].b").0, json!("x"));
        assert_eq!(eval_expr(pre, "local.m.a.1.b").0, json!("x"));
        assert_eq!(eval_expr(pre, "local.m[\"a\"][0]").0, json!(1));
        assert_eq!(eval_expr(pre, "local.l[*][0]").0, json!([1, 3]));
        assert_eq!(eval_expr(pre, "local.l.0").0, json!([1, 2]));
        assert_eq!(eval_expr(pre, "try(local.m.a[5], \"d\")").0, json!("d"));
        assert_eq!(eval_expr(pre, "try(local.m.nope.x, \"d\")").0, json!("d"));
        assert_eq!(eval_expr(pre, "try(local.nope, \"d\")").0, json!("d"));
        assert_eq!(eval_expr(pre, "can(local.m.c.x)").0, json!(false));
        assert_eq!(eval_expr(pre, "can(local.m.a[0])").0, json!(true));
        assert_eq!(
            eval_expr(pre, "[for k, v in local.m : k if v != null]").0,
            json!(["a"])
        );
        // A bound name is walked the same way.
        assert_eq!(
            eval_expr(pre, "[for x in [local.m] : x.a[1].b]").0,
            json!(["x"])
        );
    }

    /// A root `main.tf` calling `./m` (files given as `(path, text)`): the
    /// root's output `x` as JSON and its provenance labels.
    fn with_module(root: &str, module: &str) -> (serde_json::Value, Vec<String>) {
        use crate::source::{FileId, SourceFile};
        let root = format!("terraform {{}}\n{root}\noutput \"x\" {{ value = local.x }}\n");
        let files = [
            SourceFile::new(
                FileId(0),
                "main.tf".into(),
                "/nonexistent/main.tf".into(),
                root,
            ),
            SourceFile::new(
                FileId(1),
                "m/main.tf".into(),
                "/nonexistent/m/main.tf".into(),
                module.to_string(),
            ),
        ];
        let refs: Vec<&SourceFile> = files.iter().collect();
        let m = super::super::evaluate(&refs, &crate::env::EnvSet::builtin());
        let root = m.roots.iter().find(|r| r.dir.is_empty() || r.dir == ".");
        let n = root.and_then(|r| r.output("x")).cloned();
        let Some(n) = n else {
            return (json!(null), Vec::new());
        };
        let labels = n
            .via
            .as_ref()
            .map(|v| v.iter().map(|h| h.label.to_string()).collect())
            .unwrap_or_default();
        let j = if super::super::value::has_unknown(&n) {
            json!("<unknown>")
        } else {
            n.to_json()
        };
        (j, labels)
    }

    #[test]
    fn module_outputs_read_one_at_a_time_or_whole() {
        let module = "variable \"v\" {}\n\
            output \"a\" { value = var.v }\n\
            output \"obj\" { value = { k = \"${var.v}-k\", l = [1, 2] } }\n\
            output \"later\" { value = upper(var.v) }\n";
        let call = "module \"m\" {\n  source = \"./m\"\n  v = \"p\"\n}\n";
        let one = |x: &str| with_module(&format!("{call}locals {{\n  x = {x}\n}}"), module);
        let (j, labels) = one("module.m.a");
        assert_eq!(j, json!("p"));
        assert_eq!(
            labels,
            [
                "passed to module.m as `v`",
                "output `a` of module.m",
                "local.x",
                "output `x`"
            ]
        );
        assert_eq!(one("module.m.obj.k").0, json!("p-k"));
        assert_eq!(one("module.m.obj.l[1]").0, json!(2));
        assert_eq!(one("module.m[\"later\"]").0, json!("P"));
        assert_eq!(
            one("module.m").0,
            json!({"a": "p", "obj": {"k": "p-k", "l": [1, 2]}, "later": "P"})
        );
        // Read one output, then the whole object, in either order.
        assert_eq!(
            one("[module.m.later, module.m.a, keys(module.m), module.m.later]").0,
            json!(["P", "p", ["a", "later", "obj"], "P"])
        );
        assert_eq!(
            one("[keys(module.m), module.m.a]").0,
            json!([["a", "later", "obj"], "p"])
        );
        assert_eq!(one("try(module.m.nope, \"d\")").0, json!("d"));
        // An output that reads another module call of the child.
        let nested = "module \"n\" {\n  source = \"./n\"\n}\noutput \"a\" { value = module.n.b }\n";
        let (j, _) = with_module(&format!("{call}locals {{\n  x = module.m.a\n}}"), nested);
        assert_eq!(j, json!("<unknown>"), "./n is not in the scan");
    }

    #[test]
    fn for_expressions_group_and_reject_duplicates() {
        assert_eq!(
            ev("{for i in range(6) : i % 2 => i...}"),
            json!({"0": [0, 2, 4], "1": [1, 3, 5]})
        );
        assert_eq!(ev("{for i in range(3) : \"k\" => i}"), json!("<unknown>"));
    }

    #[test]
    fn values_that_grow_stop_at_the_work_budget() {
        let doubled = |n: usize| {
            let mut pre = String::from("locals {\n  l0 = [1]\n");
            for i in 0..n {
                pre.push_str(&format!("  l{} = concat(local.l{i}, local.l{i})\n", i + 1));
            }
            pre + "}"
        };
        let (j, _, m) = eval_expr(&doubled(40), "length(local.l40)");
        assert_eq!(j, json!("<unknown>"));
        assert!(
            m.diags
                .iter()
                .any(|d| d.kind == crate::parse::DiagKind::Limit
                    && d.message.contains("work budget")),
            "{:?}",
            m.diags
        );
        // A smaller one is evaluated in full.
        let (j, _, m) = eval_expr(&doubled(12), "length(local.l12)");
        assert_eq!(j, json!(4096));
        assert!(m.diags.is_empty(), "{:?}", m.diags);
    }

    #[test]
    fn local_cycles_are_diagnosed() {
        let (j, _, m) = eval_expr("locals {\n  a = local.b\n  b = local.a\n}", "local.a");
        assert_eq!(j, json!("<unknown>"));
        assert_eq!(m.diags.len(), 1);
        assert_eq!(
            m.diags[0].message,
            "local.a refers to itself through local.b"
        );
    }

    #[test]
    fn variable_types_convert() {
        let pre = "variable \"o\" {\n  type = object({ a = optional(string, \"d\"), b = bool })\n  default = { b = \"true\" }\n}";
        assert_eq!(eval_expr(pre, "var.o").0, json!({"a": "d", "b": true}));
    }
}
