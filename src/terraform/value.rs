//! Helpers on evaluated [`Node`]s: constructors, conversions between
//! Terraform's primitive types, equality, provenance hops and JSON.

use std::sync::Arc;

use crate::node::{Chain, Entry, Hop, Node, Value, Via};
use crate::source::Span;

/// Longest string the evaluator builds; longer results are Unknown.
pub const MAX_STRING: usize = 1 << 20;
/// Most elements a collection built by the evaluator may have.
pub const MAX_ITEMS: usize = 10_000;
/// Trees bigger than this get provenance hops on their top node only.
const MAX_FLOW_NODES: usize = 20_000;
/// Values nested deeper than this are not passed on (they read as
/// Unknown): every tree the evaluator hands to rules stays shallow enough
/// for recursive walks on an ordinary thread stack.
pub const MAX_VALUE_DEPTH: usize = crate::parse::MAX_DEPTH;

/// Why [`weigh`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heavy {
    /// More than the allowed units.
    TooBig,
    /// Nested deeper than [`MAX_VALUE_DEPTH`].
    TooDeep,
}

/// The cost of a value for the evaluator's work budget: one unit per node
/// (map keys included) plus one per 64 bytes of text. Stops as soon as the
/// count passes `limit` or the depth passes [`MAX_VALUE_DEPTH`], so it
/// costs at most `limit` steps and recursion stays bounded.
pub fn weigh(n: &Node, limit: u64) -> Result<u64, Heavy> {
    let mut units = 0;
    weigh_into(n, 0, &mut units, limit)?;
    Ok(units)
}

fn text_units(v: &Value) -> u64 {
    match v {
        Value::String(s) => (s.len() / 64) as u64,
        Value::Number(s) => (s.len() / 64) as u64,
        _ => 0,
    }
}

fn weigh_into(n: &Node, depth: usize, units: &mut u64, limit: u64) -> Result<(), Heavy> {
    if depth > MAX_VALUE_DEPTH {
        return Err(Heavy::TooDeep);
    }
    *units = units.saturating_add(1 + text_units(&n.value));
    if *units > limit {
        return Err(Heavy::TooBig);
    }
    match &n.value {
        Value::Seq(items) => {
            for i in items {
                weigh_into(i, depth + 1, units, limit)?;
            }
        }
        Value::Map(entries) => {
            for e in entries {
                *units = units.saturating_add(1 + text_units(&e.key.value));
                weigh_into(&e.value, depth + 1, units, limit)?;
            }
        }
        _ => {}
    }
    Ok(())
}

pub fn unknown(span: Span) -> Node {
    Node::new(span, Value::Unknown)
}

pub fn null(span: Span) -> Node {
    Node::new(span, Value::Null)
}

pub fn string(span: Span, s: impl Into<crate::node::Str>) -> Node {
    Node::new(span, Value::String(s.into()))
}

pub fn boolean(span: Span, b: bool) -> Node {
    Node::new(span, Value::Bool(b))
}

pub fn number(span: Span, f: f64) -> Node {
    Node::new(span, Value::Number(fmt_num(f).into()))
}

pub fn seq(span: Span, items: Vec<Node>) -> Node {
    Node::new(span, Value::Seq(crate::node::items(items)))
}

pub fn map(span: Span, entries: Vec<Entry>) -> Node {
    Node::new(span, Value::Map(crate::node::items(entries)))
}

/// A map entry whose key is located at `key_span`.
pub fn entry(key_span: Span, key: impl Into<crate::node::Str>, value: Node) -> Entry {
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
        Value::String(s) => Some(s.to_string()),
        Value::Number(s) => Some(s.to_string()),
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
            // Both sides have unique keys, sorted: equal maps pair up in order.
            let (x, y) = (dedup_entries(x), dedup_entries(y));
            x.len() == y.len()
                && x.iter()
                    .zip(&y)
                    .all(|((k, v), (k2, v2))| k == k2 && deep_eq(v, v2))
        }
        _ => false,
    }
}

/// Whether two trees hold the same values at the same places, whatever the
/// way they came there. Unlike [`deep_eq`] (Terraform's `==`), spans count
/// and values compare as written.
pub fn same_ignoring_via(a: &Node, b: &Node) -> bool {
    a.span == b.span
        && match (&a.value, &b.value) {
            (Value::Seq(x), Value::Seq(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_ignoring_via(p, q))
            }
            (Value::Map(x), Value::Map(y)) => {
                x.len() == y.len()
                    && x.iter().zip(y).all(|(p, q)| {
                        same_ignoring_via(&p.key, &q.key) && same_ignoring_via(&p.value, &q.value)
                    })
            }
            (x, y) => x == y,
        }
}

/// Entries with the last value of each key, keys sorted (Terraform's order).
pub fn dedup_entries(entries: &[Entry]) -> Vec<(String, &Node)> {
    let mut keyed: Vec<(String, &Node)> = entries
        .iter()
        .map(|e| {
            let k = e
                .key
                .scalar_text()
                .map(|c| c.into_owned())
                .unwrap_or_default();
            (k, &e.value)
        })
        .collect();
    // Stable: among equal keys the written order stays, and the last wins.
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<(String, &Node)> = Vec::with_capacity(keyed.len());
    for (k, n) in keyed {
        match out.last_mut() {
            Some(last) if last.0 == k => last.1 = n,
            _ => out.push((k, n)),
        }
    }
    out
}

/// Items without repeats (by [`deep_eq`]), first occurrences in order:
/// Terraform's `distinct`, and the element order `toset` starts from.
/// Primitives are compared through a hashed canonical form, so long lists
/// cost O(n) rather than O(n²).
pub fn unique<'n>(items: impl IntoIterator<Item = &'n Node>) -> Vec<&'n Node> {
    use crate::hash::HashSet;
    #[derive(Hash, PartialEq, Eq)]
    enum Canon<'s> {
        Null,
        Bool(bool),
        Num(u64),
        NumText(&'s str),
        Str(&'s str),
    }
    fn canon(n: &Node) -> Option<Canon<'_>> {
        Some(match &n.value {
            Value::Null => Canon::Null,
            Value::Bool(b) => Canon::Bool(*b),
            // deep_eq: the same text, or the same number.
            Value::Number(t) => match t.parse::<f64>() {
                Ok(f) if !f.is_nan() => Canon::Num(if f == 0.0 { 0 } else { f.to_bits() }),
                _ => Canon::NumText(t),
            },
            Value::String(s) => Canon::Str(s),
            Value::Seq(_) | Value::Map(_) | Value::Unknown => return None,
        })
    }
    let mut seen: HashSet<Canon<'n>> = HashSet::default();
    let mut others: Vec<&Node> = Vec::new();
    let mut out = Vec::new();
    for i in items {
        let fresh = match canon(i) {
            Some(c) => seen.insert(c),
            None => {
                let fresh = !others.iter().any(|o| deep_eq(o, i));
                if fresh {
                    others.push(i);
                }
                fresh
            }
        };
        if fresh {
            out.push(i);
        }
    }
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

/// Hops kept in one provenance chain: the first (the decisive literal)
/// and the latest ones. A value passed through a chain of thousands of
/// locals would otherwise carry, and copy at every step, thousands of hops.
pub const MAX_HOPS: usize = 32;

fn push_hop(via: &Via, hop: &Hop) -> Via {
    let Some(old) = via else {
        return Chain::of([hop.clone()]);
    };
    if old.last() == hop {
        return via.clone();
    }
    if old.len() < MAX_HOPS {
        return Some(Chain::link(via, hop.clone()));
    }
    // The first hop and the latest ones, in a chain of their own.
    let mut hops = old.iter();
    let first = hops.next().cloned();
    let latest = hops.skip(old.len() - MAX_HOPS + 1).cloned();
    Chain::of(first.into_iter().chain(latest).chain([hop.clone()]))
}

/// [`push_hop`] for every node of one tree. Nodes of a tree often share
/// one chain (one `Arc`): those get one new chain between them, instead of
/// one copy each.
struct HopCache<'h> {
    hop: &'h Hop,
    /// (address of the old chain, 0 for none; the new chain)
    seen: Vec<(usize, Via)>,
    /// Nodes visited and hops copied.
    work: u64,
}

impl HopCache<'_> {
    const SIZE: usize = 16;

    fn push(&mut self, via: &Via) -> Via {
        self.work += 1;
        let key = via.as_ref().map_or(0, |a| Arc::as_ptr(a) as usize);
        if let Some((_, new)) = self.seen.iter().find(|(k, _)| *k == key) {
            return new.clone();
        }
        let new = push_hop(via, self.hop);
        self.work += new.as_ref().map_or(0, |a| a.len() as u64);
        if self.seen.len() < Self::SIZE {
            self.seen.push((key, new.clone()));
        }
        new
    }
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

/// Whether any node of a tree (of at most [`MAX_FLOW_NODES`] nodes) has
/// provenance.
fn any_via(n: &Node, budget: &mut usize) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    n.via.is_some()
        || match &n.value {
            Value::Seq(items) => items.iter().any(|i| any_via(i, budget)),
            Value::Map(entries) => entries.iter().any(|e| any_via(&e.value, budget)),
            _ => false,
        }
}

/// Record that `n` (and every value inside it) passed through `hop`.
/// Adds what it cost (nodes visited, hops copied) to `work`.
pub fn flow(mut n: Node, hop: &Hop, work: &mut u64) -> Node {
    let mut budget = MAX_FLOW_NODES;
    count_nodes(&n, &mut budget);
    *work += (MAX_FLOW_NODES - budget) as u64;
    if budget == 0 {
        n.via = push_hop(&n.via, hop);
        return n;
    }
    let mut cache = HopCache {
        hop,
        seen: Vec::new(),
        work: 0,
    };
    flow_deep(&mut n, &mut cache, false);
    *work += cache.work;
    n
}

/// Record that `n` was used at the hop `make_hop` builds, on the values
/// inside it that already flowed from somewhere else (literals written in
/// place stay plain). The hop is only built when some value needs it.
/// Adds what it cost to `work`.
pub fn flow_used(mut n: Node, make_hop: impl FnOnce() -> Hop, work: &mut u64) -> Node {
    let mut budget = MAX_FLOW_NODES;
    count_nodes(&n, &mut budget);
    *work += (MAX_FLOW_NODES - budget) as u64;
    if budget == 0 {
        if n.via.is_some() {
            n.via = push_hop(&n.via, &make_hop());
        }
        return n;
    }
    let mut budget = MAX_FLOW_NODES;
    if !any_via(&n, &mut budget) {
        return n;
    }
    let hop = make_hop();
    let mut cache = HopCache {
        hop: &hop,
        seen: Vec::new(),
        work: 0,
    };
    flow_deep(&mut n, &mut cache, true);
    *work += cache.work;
    n
}

fn flow_deep(n: &mut Node, cache: &mut HopCache<'_>, only_flowed: bool) {
    if !only_flowed || n.via.is_some() {
        n.via = cache.push(&n.via);
    }
    match &mut n.value {
        Value::Seq(items) => items
            .iter_mut()
            .for_each(|i| flow_deep(i, cache, only_flowed)),
        Value::Map(entries) => entries
            .iter_mut()
            .for_each(|e| flow_deep(&mut e.value, cache, only_flowed)),
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

/// The (key, value) pairs a `for` iterates: list index and item, or map key
/// (sorted, last duplicate wins) and value. `None` for anything else.
pub fn for_pairs(coll: &Node) -> Option<Vec<(Node, Node)>> {
    match &coll.value {
        Value::Seq(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(k, n)| (number(n.span, k as f64), n.clone()))
                .collect(),
        ),
        Value::Map(entries) => Some(
            dedup_entries(entries)
                .into_iter()
                .map(|(k, n)| (string(n.span, k), n.clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// Terraform's `tostring` on a primitive.
pub fn prim_string(n: &Node) -> Option<String> {
    match &n.value {
        Value::String(s) => Some(s.to_string()),
        Value::Number(s) => Some(s.to_string()),
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
        let f = flow(m.clone(), &hop, &mut 0);
        assert_eq!(f.via.as_ref().unwrap().len(), 1);
        assert_eq!(&*f.entries()[0].value.via.as_ref().unwrap()[0].label, "a");
        let used = flow_used(m, || hop.clone(), &mut 0);
        assert!(used.via.is_none());
    }

    #[test]
    fn dedup_keeps_the_last_value_of_each_key_sorted() {
        let m = map(
            sp(0),
            vec![
                entry(sp(1), "b", number(sp(2), 1.0)),
                entry(sp(1), "a", number(sp(3), 2.0)),
                entry(sp(1), "b", number(sp(4), 3.0)),
            ],
        );
        let d = dedup_entries(m.entries());
        let keys: Vec<&str> = d.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(d[1].1.span, sp(4));
    }

    #[test]
    fn provenance_chains_keep_the_first_and_latest_hops() {
        let hop = |i: usize| Hop {
            span: sp(i),
            label: format!("h{i}").into(),
        };
        let mut n = string(sp(0), "x");
        for i in 0..100 {
            n = flow(n, &hop(i), &mut 0);
        }
        let via = n.via.as_ref().unwrap();
        assert_eq!(via.len(), MAX_HOPS);
        assert_eq!(&*via[0].label, "h0");
        assert_eq!(&*via[1].label, format!("h{}", 100 - MAX_HOPS + 1));
        assert_eq!(&*via[MAX_HOPS - 1].label, "h99");
        // The same hop twice in a row is recorded once.
        let again = flow(n.clone(), &hop(99), &mut 0);
        assert_eq!(again.via, n.via);
    }

    #[test]
    fn weighing_stops_at_the_limit_and_the_depth() {
        let mut n = string(sp(0), "x".repeat(640));
        assert_eq!(weigh(&n, 100), Ok(11));
        assert_eq!(weigh(&n, 5), Err(Heavy::TooBig));
        for _ in 0..MAX_VALUE_DEPTH {
            n = seq(sp(0), vec![n]);
        }
        assert!(weigh(&n, u64::MAX).is_ok());
        let n = seq(sp(0), vec![n]);
        assert_eq!(weigh(&n, u64::MAX), Err(Heavy::TooDeep));
    }

    #[test]
    fn unique_compares_numbers_by_value() {
        let items = [
            Node::new(sp(0), Value::Number("1".into())),
            Node::new(sp(1), Value::Number("1.0".into())),
            Node::new(sp(2), Value::Number("-0".into())),
            Node::new(sp(3), Value::Number("0".into())),
            string(sp(4), "1"),
            Node::new(sp(5), Value::Number("NaN".into())),
            Node::new(sp(6), Value::Number("NaN".into())),
            seq(sp(7), vec![]),
            seq(sp(8), vec![]),
            unknown(sp(9)),
            unknown(sp(10)),
        ];
        let spans: Vec<Span> = unique(&items).into_iter().map(|n| n.span).collect();
        assert_eq!(spans, [sp(0), sp(2), sp(4), sp(5), sp(7), sp(9), sp(10)]);
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

    #[test]
    fn same_ignoring_via_compares_values_and_places_not_provenance() {
        let tree = |at: usize| map(sp(0), vec![entry(sp(1), "k", string(sp(at), "v"))]);
        let hop = Hop {
            span: sp(9),
            label: "default of var.x".into(),
        };
        let mut work = 0;
        let flowed = flow(tree(2), &hop, &mut work);
        assert!(flowed.entries()[0].value.via.is_some());
        assert!(same_ignoring_via(&tree(2), &flowed));
        assert!(!same_ignoring_via(&tree(2), &tree(3)), "another place");
        let other = map(sp(0), vec![entry(sp(1), "k", string(sp(2), "w"))]);
        assert!(!same_ignoring_via(&tree(2), &other), "another value");
        assert!(!same_ignoring_via(&tree(2), &seq(sp(0), vec![])));
    }
}
