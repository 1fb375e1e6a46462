//! `guard/v1`: the environment-aware input of `package guard.*` policies.
//! Documented in `docs/policy-input.md`; [`SCHEMA`] changes with its shape
//! (a test fails when the shape changes without a new version).
//!
//! Every entity carries a `location` (`{file, line, column}`); a result
//! that returns it (or a `path` into `documents[i].contents`) is reported
//! there.

use crate::model::{Model, Platform};
use crate::node::Node;
use crate::source::{SourceMap, Span};
use serde_json::{Value, json};

pub const SCHEMA: &str = "guard/v1";

pub struct GuardInput<'a> {
    pub value: Value,
    docs: Vec<&'a Node>,
}

impl GuardInput<'_> {
    /// A `path` into the input: `["documents", i, "contents", ...]`.
    pub fn locate(&self, path: &[Value]) -> Option<Span> {
        match path {
            [d, i, rest @ ..] if d == "documents" => {
                let root = self.docs.get(usize::try_from(i.as_u64()?).ok()?)?;
                match rest {
                    [c, rest @ ..] if c == "contents" => super::input::locate(root, rest)
                        .or_else(|| Some(super::input::anchor(root))),
                    _ => Some(super::input::anchor(root)),
                }
            }
            _ => None,
        }
    }
}

/// `{file, line, column}` of a span (1-based, columns in characters).
pub fn location(sources: &SourceMap, span: Span) -> Value {
    let l = sources.locate(span);
    json!({"file": sources.path(span.file), "line": l.start.line, "column": l.start.column})
}

/// The span a location object names: from its line and column to the end
/// of the token there.
pub fn span_of_location(loc: &Value, sources: &SourceMap) -> Option<Span> {
    let file = loc.get("file")?.as_str()?;
    let line = usize::try_from(loc.get("line")?.as_u64()?).ok()?;
    let column = loc
        .get("column")
        .and_then(Value::as_u64)
        .and_then(|c| usize::try_from(c).ok())
        .unwrap_or(1);
    let f = sources
        .files()
        .iter()
        .find(|f| *f.path == *file || *f.shown == *file)?;
    if line == 0 || line > f.line_count() {
        return None;
    }
    let start = f.offset_of(line - 1, column.saturating_sub(1));
    let rest = f.text.get(start..).unwrap_or("");
    let len = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']'))
        .unwrap_or(rest.len())
        .min(256);
    Some(Span::new(f.id, start, start + len))
}

fn envs(v: &[crate::env::Env]) -> Value {
    Value::Array(v.iter().map(|e| Value::from(e.as_str())).collect())
}

pub fn build(model: &Model) -> GuardInput<'_> {
    let src = &model.sources;
    let environments: Vec<Value> = model
        .envs
        .all()
        .iter()
        .map(|e| json!({"name": e.as_str(), "tier": e.tier().as_str()}))
        .collect();
    let mut docs = Vec::new();
    let mut documents = Vec::new();
    for d in &model.docs {
        docs.push(&d.root);
        documents.push(json!({
            "file": src.path(d.file),
            "index": d.index,
            "kind": d.kind.label(),
            "environments": envs(&model.doc_envs(d)),
            "location": location(src, super::input::anchor(&d.root)),
            "contents": d.root.to_json(),
        }));
    }
    let terraform: Vec<Value> = model
        .terraform
        .roots
        .iter()
        .map(|r| {
            let resources: Vec<Value> = r
                .resources
                .iter()
                .map(|res| {
                    json!({
                        "address": res.address(),
                        "mode": match res.mode {
                            crate::terraform::Mode::Managed => "managed",
                            crate::terraform::Mode::Data => "data",
                        },
                        "type": res.rtype.as_str(),
                        "name": res.name.as_str(),
                        "module": res.module_path,
                        "location": location(src, res.span),
                        "values": res.attrs.to_json(),
                    })
                })
                .collect();
            json!({
                "root": r.dir,
                "environment": r.assignment.env.map(|e| e.as_str()),
                "var_file": r.var_file,
                "resources": resources,
            })
        })
        .collect();
    let images: Vec<Value> = model
        .containers
        .iter()
        .filter_map(|c| {
            let img = c.image.as_ref()?;
            let text = img.as_str()?;
            let parsed = crate::model::image::ImageRef::parse(text);
            let in_envs = match c.env {
                Some(e) => vec![e],
                None => model.envs_at(img.span),
            };
            Some(json!({
                "image": text,
                "registry": parsed.as_ref().and_then(|p| p.registry),
                "repository": parsed.as_ref().map(|p| p.repository),
                "tag": parsed.as_ref().and_then(|p| p.tag),
                "digest": parsed.as_ref().and_then(|p| p.digest),
                "platform": match c.platform {
                    Platform::Kubernetes => "kubernetes",
                    Platform::Compose => "compose",
                    Platform::Ecs => "ecs",
                },
                "workload": c.owner,
                "container": c.name,
                "overlay": c.overlay,
                "environments": envs(&in_envs),
                "location": location(src, img.span),
            }))
        })
        .collect();
    let parity: Vec<Value> = crate::rules::parity::compare_all(model)
        .iter()
        .flat_map(|t| {
            t.rows.iter().map(move |r| {
                json!({
                    "lower": t.lower.as_str(),
                    "upper": t.upper.as_str(),
                    "group": r.group,
                    "subject": r.subject,
                    "lower_value": r.lower,
                    "upper_value": r.upper,
                    "status": serde_json::to_value(r.status).unwrap_or(Value::Null),
                    "location": r.lower_node.as_ref().or(r.upper_node.as_ref()).map(|n| location(src, n.span)),
                })
            })
        })
        .collect();
    GuardInput {
        value: json!({
            "schema": SCHEMA,
            "environments": environments,
            "documents": documents,
            "terraform": terraform,
            "images": images,
            "parity": parity,
        }),
        docs,
    }
}

/// The shape of a value: every key path with its JSON type, arrays
/// collapsed to `[]` (what a schema version promises).
pub fn shape(v: &Value) -> std::collections::BTreeSet<String> {
    fn walk(v: &Value, at: String, out: &mut std::collections::BTreeSet<String>) {
        let ty = match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        // Free-form contents (documents, evaluated values) are not part of the shape.
        if at.ends_with(".contents") || at.ends_with(".values") {
            out.insert(format!("{at}: {ty}"));
            return;
        }
        match v {
            Value::Array(items) => {
                out.insert(format!("{at}: array"));
                for i in items {
                    walk(i, format!("{at}[]"), out);
                }
            }
            Value::Object(m) => {
                out.insert(format!("{at}: object"));
                for (k, x) in m {
                    walk(x, format!("{at}.{k}"), out);
                }
            }
            // null stands for an absent optional value: not a separate shape.
            Value::Null => {}
            _ => {
                out.insert(format!("{at}: {ty}"));
            }
        }
    }
    let mut out = std::collections::BTreeSet::new();
    walk(v, "input".to_string(), &mut out);
    out
}
