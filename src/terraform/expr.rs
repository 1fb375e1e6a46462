//! Expression evaluation: literals, references, traversals and splats,
//! operators, conditionals, `for` expressions and string templates.

use hcl_edit::Span as _;
use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, ObjectKey, TraversalOperator, UnaryOperator,
};

use super::eval::{Cx, MAX_EXPR_DEPTH, Run};
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
        if self.budget == 0 {
            self.note("evaluation budget exhausted; remaining values are unknown".into());
        }
        if self.depth > MAX_EXPR_DEPTH {
            self.error();
            return v::unknown(span);
        }
        self.depth += 1;
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
                Node::new(span, Value::Number(text))
            }
            Expression::String(s) => v::string(span, s.value().clone()),
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
                                Some(s) => v::with_value(&kn, Value::String(s)),
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

    /// Resolve the first name of a traversal; returns the value and how
    /// many operators it consumed.
    fn reference(
        &mut self,
        cx: &Cx<'_>,
        root: &str,
        ops: &[&TraversalOperator],
        span: Span,
    ) -> (Node, usize) {
        if let Some(n) = cx.bound(root) {
            return (n.clone(), 0);
        }
        let attr = match ops.first() {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
            _ => None,
        };
        let all = ops.len();
        match (root, cx.inst, attr) {
            ("var", Some(i), Some(name)) => (self.var(i, name, span), 1),
            ("local", Some(i), Some(name)) => (self.local(i, name, span), 1),
            ("module", Some(i), Some(name)) => (self.module_value(i, name, span), 1),
            ("path", Some(i), Some("module")) => (v::string(span, self.path_module(i)), 1),
            ("path", Some(_), Some("root")) => (v::string(span, "."), 1),
            ("terraform", _, Some("workspace")) => (v::string(span, "default"), 1),
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
                        Value::Null => Vec::new(),
                        Value::Seq(items) => items,
                        _ => vec![cur],
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
        match &cur.value {
            Value::Map(_) => match v::get(&cur, key) {
                Some(n) => n.clone(),
                None => {
                    self.error();
                    v::unknown(span)
                }
            },
            Value::Seq(_) => match key.parse::<f64>() {
                Ok(f) => self.index(cur, &v::number(span, f), span),
                Err(_) => {
                    self.error();
                    v::unknown(span)
                }
            },
            Value::Unknown => v::unknown(span),
            _ => {
                self.error();
                v::unknown(span)
            }
        }
    }

    pub fn index(&mut self, cur: Node, idx: &Node, span: Span) -> Node {
        if idx.is_unknown() || cur.is_unknown() {
            return v::unknown(span);
        }
        match &cur.value {
            Value::Map(_) => match v::prim_string(idx) {
                Some(k) => self.index_str(cur, &k, span),
                None => {
                    self.error();
                    v::unknown(span)
                }
            },
            Value::Seq(items) => {
                let Some(f) = v::as_num(idx) else {
                    self.error();
                    return v::unknown(span);
                };
                if f < 0.0 || f.fract() != 0.0 || f as usize >= items.len() {
                    self.error();
                    return v::unknown(span);
                }
                items[f as usize].clone()
            }
            _ => {
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
        let pairs: Vec<(Node, Node)> = match &coll.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(k, n)| (v::number(n.span, k as f64), n.clone()))
                .collect(),
            Value::Map(entries) => v::dedup_entries(entries)
                .into_iter()
                .map(|(k, n)| (v::string(n.span, k), n.clone()))
                .collect(),
            Value::Unknown => return v::unknown(span),
            _ => {
                self.error();
                return v::unknown(span);
            }
        };
        if pairs.len() > MAX_ITEMS {
            self.error();
            return v::unknown(span);
        }
        let mut items = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (k, val) in pairs {
            let mut c = cx.clone();
            if let Some(kv) = &f.intro.key_var {
                c.scope.push((kv.as_str().to_string(), k));
            }
            c.scope.push((f.intro.value_var.as_str().to_string(), val));
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
                    let existing = entries
                        .iter_mut()
                        .find(|e| e.key_str() == Some(ks.as_str()));
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
                            entries.push(Entry {
                                key: v::with_value(&kn, Value::String(ks)),
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
        let labels: Vec<&str> = n
            .via
            .as_ref()
            .unwrap()
            .iter()
            .map(|h| h.label.as_str())
            .collect();
        assert_eq!(
            labels,
            ["default of var.v", "local.y", "local.x", "output `x`"]
        );
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
