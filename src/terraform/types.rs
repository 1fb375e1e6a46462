//! Variable type constraints (`type = bool`, `list(string)`,
//! `object({ a = optional(string, "x") })`) and the cheap conversions
//! Terraform applies to a variable's value: `"true"` to `true` for a bool,
//! numbers to strings, optional object attributes filled with defaults.
//! A value that does not convert is kept as it is (Terraform would reject
//! the configuration; we never invent a value).

use hcl_edit::expr::{Expression, ObjectKey};

use super::value as v;
use crate::node::{Entry, Node, Value};

#[derive(Clone, Debug)]
pub enum Ty {
    Any,
    String,
    Number,
    Bool,
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Tuple(Vec<Ty>),
    /// Attributes: name, type, optional, default.
    Object(Vec<(String, Ty, bool, Option<Node>)>),
}

/// The type a `type = ...` expression says; `optional` defaults are
/// evaluated by `default` (the evaluator of the variable's file).
pub fn parse_type(
    e: &Expression,
    depth: usize,
    default: &mut dyn FnMut(&Expression) -> Node,
) -> Ty {
    if depth > 32 {
        return Ty::Any;
    }
    match e {
        Expression::Variable(id) => match id.as_str() {
            "string" => Ty::String,
            "number" => Ty::Number,
            "bool" => Ty::Bool,
            _ => Ty::Any,
        },
        Expression::FuncCall(f) => {
            let arg = |i: usize| f.args.iter().nth(i);
            let mut inner =
                |i: usize| arg(i).map_or(Ty::Any, |a| parse_type(a, depth + 1, default));
            match f.name.name.as_str() {
                "list" => Ty::List(Box::new(inner(0))),
                "set" => Ty::Set(Box::new(inner(0))),
                "map" => Ty::Map(Box::new(inner(0))),
                "tuple" => match arg(0) {
                    Some(Expression::Array(a)) => Ty::Tuple(
                        a.iter()
                            .map(|t| parse_type(t, depth + 1, default))
                            .collect(),
                    ),
                    _ => Ty::Any,
                },
                "object" => match arg(0) {
                    Some(Expression::Object(o)) => {
                        let mut attrs = Vec::new();
                        for (k, val) in o.iter() {
                            let name = match k {
                                ObjectKey::Ident(id) => id.as_str().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => {
                                    s.as_str().to_string()
                                }
                                ObjectKey::Expression(Expression::Variable(id)) => {
                                    id.as_str().to_string()
                                }
                                _ => continue,
                            };
                            let te = val.expr();
                            match te {
                                Expression::FuncCall(of) if of.name.name.as_str() == "optional" => {
                                    let t = of
                                        .args
                                        .iter()
                                        .next()
                                        .map_or(Ty::Any, |a| parse_type(a, depth + 1, default));
                                    let d = of.args.iter().nth(1).map(&mut *default);
                                    attrs.push((name, t, true, d));
                                }
                                _ => attrs.push((
                                    name,
                                    parse_type(te, depth + 1, default),
                                    false,
                                    None,
                                )),
                            }
                        }
                        Ty::Object(attrs)
                    }
                    _ => Ty::Any,
                },
                _ => Ty::Any,
            }
        }
        _ => Ty::Any,
    }
}

/// Convert a value to a type where Terraform would, keeping its span and
/// provenance.
pub fn convert(n: Node, ty: &Ty, depth: usize) -> Node {
    if depth > 64 || matches!(n.value, Value::Unknown | Value::Null) {
        return n;
    }
    match ty {
        Ty::Any => n,
        Ty::String => match v::prim_string(&n) {
            Some(s) => v::with_value(&n, Value::String(s.into())),
            None => n,
        },
        Ty::Number => match (&n.value, v::as_num(&n)) {
            (Value::String(s), Some(_)) => {
                let t = s.trim().to_string();
                v::with_value(&n, Value::Number(t.into()))
            }
            _ => n,
        },
        Ty::Bool => match (&n.value, v::as_bool(&n)) {
            (Value::String(_), Some(b)) => v::with_value(&n, Value::Bool(b)),
            _ => n,
        },
        Ty::List(t) | Ty::Set(t) => match &n.value {
            Value::Seq(items) => {
                let mut out: Vec<Node> = items
                    .iter()
                    .map(|i| convert(i.clone(), t, depth + 1))
                    .collect();
                if matches!(ty, Ty::Set(_)) {
                    out = v::unique(&out).into_iter().cloned().collect();
                }
                v::with_value(&n, Value::Seq(crate::node::items(out)))
            }
            _ => n,
        },
        Ty::Tuple(ts) => match &n.value {
            Value::Seq(items) if items.len() == ts.len() => v::with_value(
                &n,
                Value::Seq(
                    items
                        .iter()
                        .zip(ts)
                        .map(|(i, t)| convert(i.clone(), t, depth + 1))
                        .collect(),
                ),
            ),
            _ => n,
        },
        Ty::Map(t) => match &n.value {
            Value::Map(entries) => v::with_value(
                &n,
                Value::Map(
                    entries
                        .iter()
                        .map(|e| Entry {
                            key: e.key.clone(),
                            value: convert(e.value.clone(), t, depth + 1),
                        })
                        .collect(),
                ),
            ),
            _ => n,
        },
        Ty::Object(attrs) => match &n.value {
            Value::Map(entries) => {
                let mut out = Vec::new();
                for (name, t, optional, default) in attrs {
                    let found = entries
                        .iter()
                        .rev()
                        .find(|e| e.key_str() == Some(name.as_str()));
                    match found {
                        Some(e) if !(matches!(e.value.value, Value::Null) && default.is_some()) => {
                            out.push(Entry {
                                key: e.key.clone(),
                                value: convert(e.value.clone(), t, depth + 1),
                            })
                        }
                        _ if *optional => {
                            let d = default.clone().unwrap_or_else(|| v::null(n.span));
                            out.push(v::entry(n.span, name.clone(), convert(d, t, depth + 1)));
                        }
                        // A required attribute is missing: Terraform rejects
                        // the value; keep it unconverted.
                        _ => return n,
                    }
                }
                v::with_value(&n, Value::Map(crate::node::items(out)))
            }
            _ => n,
        },
    }
}
