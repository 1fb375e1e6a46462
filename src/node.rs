//! One span-carrying tree for every syntax.
//!
//! YAML, JSON and evaluated Terraform values all become [`Node`]s, so a rule
//! that inspects a container image or an environment variable is written once
//! and works whatever file the value came from. Each node keeps the span of
//! the exact key or value in its source file, and values that were computed
//! (Terraform variables, module arguments) keep the chain of places they
//! flowed through in [`Node::via`].

use std::sync::Arc;

use crate::source::Span;

/// One step of a value's provenance: a place the value passed through.
#[derive(Clone, Debug, PartialEq)]
pub struct Hop {
    pub span: Span,
    /// What happened there, e.g. "set in prod/terraform.tfvars", "passed as module argument `db_public`".
    /// Shared: a chain is copied whenever a value flows one step further,
    /// and its labels with it.
    pub label: Arc<str>,
}

/// The text of a string or number value. Most are short (keys, names,
/// versions) and are kept inline, without an allocation of their own: a
/// monorepo's trees hold millions of them.
pub type Str = compact_str::CompactString;

/// The chain of places a computed value flowed through, decisive literal
/// first. Empty for values read directly from a file.
pub type Via = Option<Arc<Chain>>;

/// A provenance chain: its latest hop and the chain before it. A value that
/// flows one step further gets one new link that shares the steps before,
/// instead of a copy of the whole chain (on a monorepo the copies were a
/// tenth of the memory Terraform's values took).
#[derive(Debug)]
pub struct Chain {
    hop: Hop,
    prev: Via,
    /// Hops in the chain, this one included.
    len: usize,
}

impl Chain {
    /// `via` followed by `hop`.
    pub fn link(via: &Via, hop: Hop) -> Arc<Chain> {
        Arc::new(Chain {
            len: via.as_ref().map_or(0, |c| c.len) + 1,
            hop,
            prev: via.clone(),
        })
    }

    /// The chain of `hops`, in order; none when there are none.
    pub fn of(hops: impl IntoIterator<Item = Hop>) -> Via {
        hops.into_iter()
            .fold(None, |via, hop| Some(Chain::link(&via, hop)))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The latest hop.
    pub fn last(&self) -> &Hop {
        &self.hop
    }

    /// The hops, decisive literal first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Hop> + ExactSizeIterator {
        let mut hops = Vec::with_capacity(self.len);
        let mut at = Some(self);
        while let Some(c) = at {
            hops.push(&c.hop);
            at = c.prev.as_deref();
        }
        hops.into_iter().rev()
    }
}

impl std::ops::Index<usize> for Chain {
    type Output = Hop;

    /// The `i`th hop, decisive literal first.
    fn index(&self, i: usize) -> &Hop {
        let mut at = self;
        for _ in 0..(self.len - 1).saturating_sub(i) {
            match at.prev.as_deref() {
                Some(p) => at = p,
                None => break,
            }
        }
        &at.hop
    }
}

impl PartialEq for Chain {
    fn eq(&self, other: &Chain) -> bool {
        std::ptr::eq(self, other) || (self.len == other.len && self.iter().eq(other.iter()))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The span of the value itself (for a mapping, the whole mapping).
    pub span: Span,
    pub value: Value,
    pub via: Via,
}

/// The items of a list or mapping: one pointer in the node, the length
/// beside the items. Trees hold millions of nodes, and a [`Value`] of three
/// words (rather than four, with a `Vec`) takes a sixth off every node.
pub type Items<T> = thin_vec::ThinVec<T>;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Numbers keep their source text; [`Node::as_f64`] parses on demand.
    /// Boxed, because only one variant can keep its text inline in a value
    /// of three words, and strings are by far the more common.
    Number(Box<str>),
    String(Str),
    Seq(Items<Node>),
    Map(Items<Entry>),
    /// A value that cannot be known statically (a Terraform data source or
    /// resource attribute). No rule reports on it.
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Entry {
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_str()
    }
}

/// `v` in an allocation of exactly its length, for vectors kept until the
/// end of a run (the items of parsed and evaluated trees). `shrink_to_fit`
/// is not enough: mimalloc keeps a block that shrinks by less than half, so
/// a vector grown by pushing keeps up to half its room unused.
pub fn exact<T>(v: Vec<T>) -> Vec<T> {
    if v.len() == v.capacity() {
        return v;
    }
    let mut out = Vec::with_capacity(v.len());
    out.extend(v);
    out
}

/// The items of a list or mapping, in an allocation of exactly their length.
pub fn items<T>(v: Vec<T>) -> Items<T> {
    let mut out = Items::with_capacity(v.len());
    out.extend(v);
    out
}

impl Node {
    pub fn new(span: Span, value: Value) -> Node {
        Node {
            span,
            value,
            via: None,
        }
    }

    pub fn string(span: Span, s: impl Into<Str>) -> Node {
        Node::new(span, Value::String(s.into()))
    }

    pub fn with_via(mut self, via: Via) -> Node {
        self.via = via;
        self
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar's text as a string: strings, numbers and booleans.
    pub fn scalar_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match &self.value {
            Value::String(s) => Some(s.as_str().into()),
            Value::Number(n) => Some(n.as_ref().into()),
            Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// `true` for the boolean and for the strings `"true"`/`"True"`/`"TRUE"`
    /// (Terraform and CloudFormation coerce them).
    pub fn is_truthy_literal(&self) -> bool {
        match &self.value {
            Value::Bool(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Value::Number(n) => n.parse().ok(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.value, Value::Map(_))
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.value, Value::Unknown)
    }

    /// The entry of a mapping key (the last one if a key repeats: last wins,
    /// as Kubernetes tools read it).
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()
            .iter()
            .rev()
            .find(|e| e.key.as_str() == Some(key))
    }

    /// The value of a mapping key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follow a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// A string at a path of mapping keys.
    pub fn str_at(&self, keys: &[&str]) -> Option<&str> {
        self.path(keys).and_then(Node::as_str)
    }

    /// Build a tree from plain JSON, every node located at `span` (used for
    /// JSON held in a string, e.g. a Terraform `container_definitions` or
    /// `jsondecode`). Nesting past [`crate::parse::MAX_DEPTH`] becomes
    /// [`Value::Unknown`].
    pub fn from_json(v: &serde_json::Value, span: Span, via: &Via) -> Node {
        Node::from_json_at(v, span, via, 0)
    }

    fn from_json_at(v: &serde_json::Value, span: Span, via: &Via, depth: usize) -> Node {
        use serde_json::Value as J;
        if depth > crate::parse::MAX_DEPTH {
            return Node::new(span, Value::Unknown).with_via(via.clone());
        }
        let value = match v {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.to_string().into()),
            J::String(s) => Value::String(s.as_str().into()),
            J::Array(items) => Value::Seq(
                items
                    .iter()
                    .map(|i| Node::from_json_at(i, span, via, depth + 1))
                    .collect(),
            ),
            J::Object(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| Entry {
                        key: Node::string(span, k.clone()).with_via(via.clone()),
                        value: Node::from_json_at(v, span, via, depth + 1),
                    })
                    .collect(),
            ),
        };
        Node::new(span, value).with_via(via.clone())
    }

    /// Serialise to plain JSON (for Rego input and JSON output); spans are dropped.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null | Value::Unknown => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => n
                .parse::<i64>()
                .map(J::from)
                .ok()
                .or_else(|| {
                    n.parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                        .map(J::Number)
                })
                .unwrap_or_else(|| J::String(n.to_string())),
            Value::String(s) => J::String(s.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut m = serde_json::Map::new();
                for e in entries {
                    let k = e
                        .key
                        .scalar_text()
                        .map(|c| c.into_owned())
                        .unwrap_or_default();
                    m.insert(k, e.value.to_json());
                }
                J::Object(m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn sp(a: usize, b: usize) -> Span {
        Span::new(FileId(0), a, b)
    }

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::new(
            sp(0, 100),
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Entry {
                        key: Node::string(sp(0, k.len()), k),
                        value: v,
                    })
                    .collect(),
            ),
        )
    }

    /// Trees hold millions of nodes: a node is six words and a value
    /// three (a list's or a mapping's items behind one pointer, a number's
    /// text boxed), so that a mapping entry is 96 bytes, not 112.
    #[test]
    fn nodes_stay_small() {
        assert_eq!(std::mem::size_of::<Value>(), 24);
        assert_eq!(std::mem::size_of::<Node>(), 48);
        assert_eq!(std::mem::size_of::<Entry>(), 96);
    }

    #[test]
    fn items_leave_no_room() {
        let v: Vec<u32> = (0..5).collect();
        let mut grown = Vec::new();
        grown.extend(v.iter().copied());
        grown.push(5);
        let it = items(grown);
        assert_eq!((it.len(), it.capacity()), (6, 6));
    }

    #[test]
    fn repeated_keys_resolve_to_the_last_one() {
        let m = map(vec![
            ("image", Node::string(sp(1, 2), "a")),
            ("image", Node::string(sp(3, 4), "b")),
        ]);
        assert_eq!(m.str_at(&["image"]), Some("b"));
        assert_eq!(m.get("image").unwrap().span, sp(3, 4));
    }

    #[test]
    fn paths_and_truthiness() {
        let inner = map(vec![("x", Node::new(sp(5, 9), Value::Bool(true)))]);
        let m = map(vec![("spec", inner)]);
        assert!(m.path(&["spec", "x"]).unwrap().is_truthy_literal());
        assert!(m.path(&["spec", "y"]).is_none());
        assert!(Node::string(sp(0, 1), "TRUE").is_truthy_literal());
        assert!(!Node::string(sp(0, 1), "yes").is_truthy_literal());
        assert_eq!(m.to_json(), serde_json::json!({"spec": {"x": true}}));
    }

    fn hop(i: usize) -> Hop {
        Hop {
            span: sp(i, i + 1),
            label: format!("h{i}").into(),
        }
    }

    #[test]
    fn a_chain_reads_in_order_and_shares_what_came_before() {
        let base = Chain::of((0..3).map(hop));
        let c = base.as_ref().unwrap();
        assert_eq!(c.len(), 3);
        let labels: Vec<&str> = c.iter().map(|h| &*h.label).collect();
        assert_eq!(labels, ["h0", "h1", "h2"]);
        assert_eq!(&*c[0].label, "h0");
        assert_eq!(&*c[2].label, "h2");
        assert_eq!(c.last(), &hop(2));
        // One step further: one new link, the rest shared.
        let longer = Chain::link(&base, hop(3));
        assert_eq!(longer.len(), 4);
        assert!(Arc::ptr_eq(longer.prev.as_ref().unwrap(), c));
        assert_eq!(longer.iter().len(), 4);
        assert_eq!(&*longer[3].label, "h3");
        // Equal hops make equal chains, shared or not.
        assert_eq!(Chain::of((0..3).map(hop)), base);
        assert_ne!(Chain::of((0..2).map(hop)), base);
        assert_ne!(Chain::of([hop(0), hop(1), hop(7)]), base);
        assert_eq!(Chain::of([]), None);
    }

    #[test]
    fn exact_leaves_no_room() {
        let mut v: Vec<u32> = Vec::new();
        for i in 0..5 {
            v.push(i);
        }
        assert!(v.capacity() > v.len());
        let e = exact(v);
        assert_eq!(e, [0, 1, 2, 3, 4]);
        assert_eq!(e.capacity(), e.len());
        assert_eq!(exact(Vec::<u32>::new()).capacity(), 0);
    }
}
