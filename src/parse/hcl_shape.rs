//! HCL in the shape Conftest's hcl2 parser (hcl2json) gives policies:
//! blocks nest by type and labels and end in an array of bodies; literals
//! are values; any other expression is the string `"${<its source>}"`;
//! templates keep their source text. Every node keeps its span.

use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Body, Structure};

use super::hcl::Parsed;
use crate::node::{Entry, Items, Node, Value};
use crate::source::{SourceFile, Span};

/// A file and the offset its hcl-edit spans are relative to.
#[derive(Clone, Copy)]
struct FileCtx<'a> {
    file: &'a SourceFile,
    base: usize,
}

impl<'a> FileCtx<'a> {
    fn new(file: &'a SourceFile, base: usize) -> FileCtx<'a> {
        FileCtx { file, base }
    }

    fn span(&self, r: Option<std::ops::Range<usize>>) -> Span {
        match r {
            Some(r) => Span::new(self.file.id, r.start + self.base, r.end + self.base),
            None => Span::new(self.file.id, 0, 0),
        }
    }

    fn of(&self, e: &impl hcl_edit::Span) -> Span {
        self.span(e.span())
    }

    fn text(&self, r: Option<std::ops::Range<usize>>) -> Option<&'a str> {
        let r = r?;
        self.file.text.get(r.start + self.base..r.end + self.base)
    }
}

/// A parsed HCL file in Conftest's hcl2 shape.
pub fn conftest(file: &SourceFile, parsed: &Parsed) -> Node {
    let fc = FileCtx::new(file, parsed.base);
    body(fc, &parsed.body, Span::new(file.id, 0, file.text.len()), 0)
}

const MAX_DEPTH: usize = 256;

fn body(fc: FileCtx<'_>, b: &Body, span: Span, depth: usize) -> Node {
    let mut entries: Items<Entry> = Items::new();
    if depth > MAX_DEPTH {
        return Node::new(span, Value::Map(entries));
    }
    for s in b.iter() {
        match s {
            Structure::Attribute(a) => {
                let key = Node::string(fc.of(&a.key), a.key.as_str());
                let value = expr(fc, &a.value, depth + 1);
                // A repeated attribute: the last wins, as in Terraform.
                entries.retain(|e| e.key_str() != Some(a.key.as_str()));
                entries.push(Entry { key, value });
            }
            Structure::Block(blk) => {
                let bspan = fc.of(blk);
                let inner = body(fc, &blk.body, bspan, depth + 1);
                let mut keys: Vec<(String, Span)> =
                    vec![(blk.ident.as_str().to_string(), fc.of(&blk.ident))];
                for l in &blk.labels {
                    keys.push((l.as_str().to_string(), fc.span(hcl_edit::Span::span(l))));
                }
                insert_block(&mut entries, &keys, inner);
            }
        }
    }
    Node::new(span, Value::Map(entries))
}

fn insert_block(entries: &mut Items<Entry>, keys: &[(String, Span)], inner: Node) {
    let Some(((name, at), rest)) = keys.split_first() else {
        return;
    };
    let idx = match entries
        .iter()
        .position(|e| e.key_str() == Some(name.as_str()))
    {
        Some(i) => i,
        None => {
            let value = if rest.is_empty() {
                Node::new(inner.span, Value::Seq(Items::new()))
            } else {
                Node::new(*at, Value::Map(Items::new()))
            };
            entries.push(Entry {
                key: Node::string(*at, name.clone()),
                value,
            });
            entries.len() - 1
        }
    };
    let Some(slot) = entries.get_mut(idx) else {
        return;
    };
    match (&mut slot.value.value, rest.is_empty()) {
        (Value::Seq(items), true) => items.push(inner),
        (Value::Map(m), false) => insert_block(m, rest, inner),
        // An attribute and a block of the same name: the block wins.
        (v, _) => {
            *v = if rest.is_empty() {
                Value::Seq(thin_vec::thin_vec![inner])
            } else {
                let mut m = Items::new();
                insert_block(&mut m, rest, inner);
                Value::Map(m)
            };
        }
    }
}

fn expr(fc: FileCtx<'_>, e: &Expression, depth: usize) -> Node {
    let span = fc.of(e);
    let source = || fc.text(hcl_edit::Span::span(e)).unwrap_or("").to_string();
    if depth > MAX_DEPTH {
        return Node::string(span, format!("${{{}}}", source()));
    }
    match e {
        Expression::Null(_) => Node::new(span, Value::Null),
        Expression::Bool(b) => Node::new(span, Value::Bool(*b.value())),
        Expression::Number(n) => Node::new(
            span,
            Value::Number(
                fc.text(hcl_edit::Span::span(e))
                    .map_or_else(|| n.value().to_string(), str::to_string)
                    .into(),
            ),
        ),
        Expression::String(s) => Node::string(span, s.value().as_str()),
        Expression::Array(a) => Node::new(
            span,
            Value::Seq(a.iter().map(|i| expr(fc, i, depth + 1)).collect()),
        ),
        Expression::Object(o) => {
            let mut entries = Items::new();
            for (k, v) in o.iter() {
                let key = match k {
                    ObjectKey::Ident(id) => Node::string(fc.of(id), id.as_str()),
                    ObjectKey::Expression(Expression::Variable(id)) => {
                        Node::string(fc.of(id), id.as_str())
                    }
                    ObjectKey::Expression(Expression::String(s)) => {
                        Node::string(fc.of(k), s.value().as_str())
                    }
                    ObjectKey::Expression(ke) => {
                        let text = fc.text(hcl_edit::Span::span(ke)).unwrap_or("");
                        Node::string(fc.of(ke), format!("${{{text}}}"))
                    }
                };
                let name = key.as_str().map(str::to_string);
                entries.retain(|en: &Entry| en.key_str() != name.as_deref());
                entries.push(Entry {
                    key,
                    value: expr(fc, v.expr(), depth + 1),
                });
            }
            Node::new(span, Value::Map(entries))
        }
        Expression::StringTemplate(_) => {
            let s = source();
            let inner = s
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(&s);
            Node::string(span, inner)
        }
        Expression::HeredocTemplate(h) => {
            let s = source();
            // The body: after the first line, before the closing marker.
            let body = s.split_once('\n').map_or("", |(_, b)| b);
            let body = body.rsplit_once('\n').map_or("", |(b, _)| b);
            let mut text: String = match h.indent() {
                Some(n) if n > 0 => body
                    .split('\n')
                    .map(|l| l.get(n.min(l.len() - l.trim_start().len())..).unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => body.to_string(),
            };
            text.push('\n');
            Node::string(span, text)
        }
        Expression::Parenthesis(p) => expr(fc, p.inner(), depth + 1),
        _ => Node::string(span, format!("${{{}}}", source())),
    }
}
