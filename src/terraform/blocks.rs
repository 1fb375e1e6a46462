//! Block bodies as maps: attributes, nested blocks (repeated ones as a
//! list) and `dynamic` blocks, with "used by" provenance hops.

use crate::hash::HashMap;

use hcl_edit::Span as _;
use hcl_edit::structure::{Body, Structure};

use super::config::attr_span;
use super::eval::{Cx, Run, each_obj};
use super::value::{self as v, MAX_ITEMS};
use crate::node::{Entry, Hop, Node, Value};
use crate::source::Span;

impl<'a> Run<'a> {
    /// A block body as a map: attributes, nested blocks (repeated ones as
    /// a list), `dynamic` blocks expanded.
    pub fn eval_body(
        &mut self,
        cx: &Cx<'a>,
        body: &Body,
        addr: &str,
        span: Span,
        skip: &[&str],
    ) -> Node {
        let mut entries: Vec<(Entry, bool)> = Vec::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let k = a.key.as_str();
                    if skip.contains(&k) {
                        continue;
                    }
                    let n = self.eval(cx, &a.value);
                    let mut work = 0;
                    let at = attr_span(cx.fc, a);
                    let w = self.w;
                    let n = v::flow_used(
                        n,
                        || Hop {
                            span: at,
                            label: w.label(format!("used by {addr}.{k}")),
                        },
                        &mut work,
                    );
                    self.spend(work, at);
                    entries.push((v::entry(cx.fc.of(&a.key), k, n), false));
                }
                Structure::Block(b) => {
                    let k = b.ident.as_str();
                    if skip.contains(&k) {
                        continue;
                    }
                    if k == "dynamic" {
                        self.dynamic(cx, b, addr, &mut entries);
                        continue;
                    }
                    let n = self.eval_body(cx, &b.body, &format!("{addr}.{k}"), cx.fc.of(b), &[]);
                    entries.push((v::entry(cx.fc.of(&b.ident), k, n), true));
                }
            }
        }
        v::map(span, group_blocks(entries))
    }

    fn dynamic(
        &mut self,
        cx: &Cx<'a>,
        b: &hcl_edit::structure::Block,
        addr: &str,
        out: &mut Vec<(Entry, bool)>,
    ) {
        let Some(label) = b.labels.first().map(|l| l.as_str().to_string()) else {
            return;
        };
        let key_span = cx.fc.span(b.labels.first().and_then(|l| l.span()));
        let iter = b
            .body
            .get_attribute("iterator")
            .and_then(|a| a.value.as_variable().map(|i| i.as_str().to_string()))
            .unwrap_or_else(|| label.clone());
        let Some(content) = b.body.get_blocks("content").next() else {
            return;
        };
        let Some(fe) = b.body.get_attribute("for_each") else {
            return;
        };
        let coll = self.eval(cx, &fe.value);
        let items: Vec<(Node, Node)> = match &coll.value {
            Value::Map(entries) => v::dedup_entries(entries)
                .into_iter()
                .map(|(k, n)| (v::string(n.span, k), n.clone()))
                .collect(),
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .map(|(k, n)| (v::number(n.span, k as f64), n.clone()))
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                out.push((v::entry(key_span, label, v::unknown(cx.fc.of(b))), true));
                return;
            }
        };
        for (k, val) in items.into_iter().take(MAX_ITEMS) {
            let c = cx.with(&iter, each_obj(key_span, k, val));
            let n = self.eval_body(
                &c,
                &content.body,
                &format!("{addr}.{label}"),
                cx.fc.of(content),
                &[],
            );
            out.push((v::entry(key_span, label.clone(), n), true));
        }
    }
}

/// Repeated nested blocks of one type become one list entry.
fn group_blocks(entries: Vec<(Entry, bool)>) -> Vec<Entry> {
    if entries.iter().filter(|(_, is_block)| *is_block).count() < 2 {
        return entries.into_iter().map(|(e, _)| e).collect();
    }
    let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut counts: HashMap<String, usize> = HashMap::default();
    for (e, is_block) in &entries {
        if *is_block {
            *counts
                .entry(e.key_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    for (e, is_block) in entries {
        let k = e.key_str().unwrap_or_default().to_string();
        if is_block && counts.get(&k).copied().unwrap_or(0) > 1 {
            if let Some(existing) = out
                .iter_mut()
                .find(|x| x.key_str() == Some(&k) && matches!(x.value.value, Value::Seq(_)))
            {
                if let Value::Seq(items) = &mut existing.value.value {
                    existing.value.span = existing.value.span.to(e.value.span);
                    items.push(e.value);
                }
                continue;
            }
            let span = e.value.span;
            out.push(Entry {
                key: e.key,
                value: v::seq(span, vec![e.value]),
            });
        } else {
            out.push(e);
        }
    }
    out
}
