//! Helpers on evaluated [`Node`]s: constructors, conversions between
//! Terraform's primitive types, equality, provenance hops and JSON.

use std::sync::Arc;

use crate::node::{Entry, Hop, Node, Value, Via};
use crate::source::Span;

/// Longest string the evaluator builds; longer results are Unknown.
pub const MAX_STRING: usize = 1 << 20;
/// Most elements a collection built by the evaluator may have.
pub const MAX_ITEMS: usize = 10_000;
/// Trees bigger than this get provenance hops on their top node only.
const MAX_FLOW_NODES: usize = 20_000;

pub fn unknown(span: Span) -> Node {
    Node::new(span, Value::Unknown)
}

pub fn null(span: Span) -> Node {
    Node::new(span, Value::Null)
}

pub fn string(span: Span, s: impl Into<String>) -> Node {
    Node::new(span, Value::String(s.into()))
}

pub fn boolean(span: Span, b: bool) -> Node {
    Node::new(span, Value::Bool(b))
}

pub fn number(span: Span, f: f64) -> Node {
    Node::new(span, Value::Number(fmt_num(f)))
}

pub fn seq(span: Span, items: Vec<Node>) -> Node {
    Node::new(span, Value::Seq(items))
}

pub fn map(span: Span, entries: Vec<Entry>) -> Node {
    Node::new(span, Value::Map(entries))
}

/// A map entry whose key is located at `key_span`.
pub fn entry(key_span: Span, key: impl Into<String>, value: Node) -> Entry {
    Entry {
        key: string(key_span, key),
        value,
    }
}

/// Terraform's number formatting: integers without a fraction.
pub fn fmt_num(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

pub fn as_num(n: &Node) -> Option<f64> {
    match &n.value {
        Value::Number(s) => s.trim().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn as_bool(n: &Node) -> Option<bool> {
    match &n.value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Terraform's conversion to string. Maps and sequences become their JSON
/// text: the only valid way one reaches a string context is `jsonencode`,
/// which this evaluator keeps structured (see the module docs).
pub fn as_string(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Seq(_) | Value::Map(_) => json_text(n),
        Value::Null | Value::Unknown => None,
    }
}

/// Whether a tree contains an unknown value anywhere.
pub fn has_unknown(n: &Node) -> bool {
    match &n.value {
        Value::Unknown => true,
        Value::Seq(items) => items.iter().any(has_unknown),
        Value::Map(entries) => entries.iter().any(|e| has_unknown(&e.value)),
        _ => false,
    }
}

/// Value equality, spans and provenance ignored; numbers compare numerically.
pub fn deep_eq(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.parse::<f64>(), y.parse::<f64>()), (Ok(p), Ok(q)) if p == q)
        }
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| deep_eq(p, q))
        }
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (dedup_entries(x), dedup_entries(y));
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.iter().any(|(k2, v2)| k == k2 && deep_eq(v, v2)))
        }
        _ => false,
    }
}

/// Entries with the last value of each key, keys sorted (Terraform's order).
pub fn dedup_entries(entries: &[Entry]) -> Vec<(String, &Node)> {
    let mut out: Vec<(String, &Node)> = Vec::with_capacity(entries.len());
    for e in entries {
        let k = e
            .key
            .scalar_text()
            .map(|c| c.into_owned())
            .unwrap_or_default();
        match out.iter_mut().find(|(k2, _)| *k2 == k) {
            Some(slot) => slot.1 = &e.value,
            None => out.push((k, &e.value)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The value of key `k` in a map node (last one wins).
pub fn get<'n>(n: &'n Node, k: &str) -> Option<&'n Node> {
    n.entries()
        .iter()
        .rev()
        .find(|e| e.key.scalar_text().as_deref() == Some(k))
        .map(|e| &e.value)
}

/// The first provenance chain among `nodes`.
pub fn first_via<'n>(nodes: impl IntoIterator<Item = &'n Node>) -> Via {
    nodes.into_iter().find_map(|n| n.via.clone())
}

fn push_hop(via: &Via, hop: &Hop) -> Via {
    let mut v = via.as_ref().map_or_else(Vec::new, |a| a.as_ref().clone());
    if v.last() != Some(hop) {
        v.push(hop.clone());
    }
    Some(Arc::new(v))
}

fn count_nodes(n: &Node, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    match &n.value {
        Value::Seq(items) => items.iter().for_each(|i| count_nodes(i, budget)),
        Value::Map(entries) => entries.iter().for_each(|e| count_nodes(&e.value, budget)),
        _ => {}
    }
}

/// Record that `n` (and every value inside it) passed through `hop`.
pub fn flow(mut n: Node, hop: &Hop) -> Node {
    let mut budget = MAX_FLOW_NODES;
    count_nodes(&n, &mut budget);
    if budget == 0 {
        n.via = push_hop(&n.via, hop);
        return n;
    }
    flow_deep(&mut n, hop, false);
    n
}

/// Record that `n` was used at `hop`, on the values inside it that already
/// flowed from somewhere else (literals written in place stay plain).
pub fn flow_used(mut n: Node, hop: &Hop) -> Node {
    let mut budget = MAX_FLOW_NODES;
    count_nodes(&n, &mut budget);
    if budget == 0 {
        if n.via.is_some() {
            n.via = push_hop(&n.via, hop);
        }
        return n;
    }
    flow_deep(&mut n, hop, true);
    n
}

fn flow_deep(n: &mut Node, hop: &Hop, only_flowed: bool) {
    if !only_flowed || n.via.is_some() {
        n.via = push_hop(&n.via, hop);
    }
    match &mut n.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|i| flow_deep(i, hop, only_flowed)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|e| flow_deep(&mut e.value, hop, only_flowed)),
        _ => {}
    }
}

/// JSON text of a tree (keys sorted, as Terraform's `jsonencode`); `None`
/// if anything inside is unknown.
pub fn json_text(n: &Node) -> Option<String> {
    if has_unknown(n) {
        return None;
    }
    serde_json::to_string(&to_json_sorted(n)).ok()
}

fn to_json_sorted(n: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &n.value {
        Value::Map(entries) => {
            let mut m = serde_json::Map::new();
            for (k, v) in dedup_entries(entries) {
                m.insert(k, to_json_sorted(v));
            }
            J::Object(m)
        }
        Value::Seq(items) => J::Array(items.iter().map(to_json_sorted).collect()),
        _ => n.to_json(),
    }
}

/// A JSON value as a tree, every node located at `span`.
pub fn from_json(v: &serde_json::Value, span: Span, depth: usize) -> Node {
    use serde_json::Value as J;
    if depth > crate::parse::MAX_DEPTH {
        return unknown(span);
    }
    let value = match v {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.to_string()),
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::Seq(
            items
                .iter()
                .map(|i| from_json(i, span, depth + 1))
                .collect(),
        ),
        J::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| entry(span, k.clone(), from_json(v, span, depth + 1)))
                .collect(),
        ),
    };
    Node::new(span, value)
}

/// Terraform's `tostring` on a primitive.
pub fn prim_string(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => Some(s.clone()),
        Value::Number(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Same node, other value (span and provenance kept).
pub fn with_value(n: &Node, value: Value) -> Node {
    Node {
        span: n.span,
        value,
        via: n.via.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn sp(a: usize) -> Span {
        Span::new(FileId(0), a, a + 1)
    }

    #[test]
    fn numbers_format_like_terraform() {
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(1.5), "1.5");
        assert_eq!(fmt_num(-2.0), "-2");
    }

    #[test]
    fn flow_marks_every_value_and_used_only_flowed() {
        let inner = string(sp(1), "x");
        let m = map(sp(0), vec![entry(sp(2), "k", inner)]);
        let hop = Hop {
            span: sp(5),
            label: "a".into(),
        };
        let f = flow(m.clone(), &hop);
        assert_eq!(f.via.as_ref().unwrap().len(), 1);
        assert_eq!(f.entries()[0].value.via.as_ref().unwrap()[0].label, "a");
        let used = flow_used(m, &hop);
        assert!(used.via.is_none());
    }

    #[test]
    fn equality_ignores_spans_and_key_order() {
        let a = map(
            sp(0),
            vec![
                entry(sp(1), "a", number(sp(2), 1.0)),
                entry(sp(1), "b", boolean(sp(2), true)),
            ],
        );
        let b = map(
            sp(9),
            vec![
                entry(sp(1), "b", boolean(sp(3), true)),
                entry(sp(1), "a", Node::new(sp(4), Value::Number("1.0".into()))),
            ],
        );
        assert!(deep_eq(&a, &b));
        assert_eq!(json_text(&a).unwrap(), r#"{"a":1,"b":true}"#);
    }
}
