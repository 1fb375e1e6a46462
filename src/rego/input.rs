//! Conftest's per-file `input`, built from guard's located trees.
//!
//! Every input is a [`Node`] tree in the shape Conftest gives a policy, so
//! that a result's `path` into the input maps straight back to a file,
//! line and column:
//! - YAML: one input per document; JSON: the file's value. As in Conftest,
//!   a document whose value is an array is checked element by element.
//! - Terraform JSON (`.tf.json`, `.tfvars.json`): the file's JSON value, as
//!   Conftest reads a `.json` file.
//! - HCL (`.tf`, `.tfvars`): the shape of Conftest's hcl2 parser
//!   (hcl2json): blocks nest by type and labels and end in an array of
//!   bodies; literals are values; any other expression is the string
//!   `"${<its source text>}"`; templates keep their source text.
//! - `.env` files: an object of the variables' values (see [`super::dotenv`]);
//!   `.ini` files: an object of sections of keys (see [`super::ini`]); `.toml` files: the
//!   document as an object (see [`super::toml`]).
//! - Dockerfile: Conftest's instruction array (`Cmd`, `SubCmd`, `JSON`,
//!   `Flags`, `Value`, `Stage`, and guard's `Original`), values split as
//!   BuildKit splits them (see [`super::dockerfile`]).

use std::borrow::Cow;

use crate::discover::Syntax;
use crate::model::{DocKind, Model};
use crate::node::{Node, Value};
use crate::source::{FileId, SourceFile, Span};

/// One input a policy is evaluated on.
pub struct Input<'a> {
    pub file: FileId,
    /// Position among the file's inputs.
    pub index: usize,
    pub root: Cow<'a, Node>,
    pub dockerfile: bool,
}

impl Input<'_> {
    /// A file read as one document guard parsed for the policies alone
    /// (HCL, Terraform JSON, `.env`, INI...).
    fn whole_file(file: FileId, root: Node) -> Input<'static> {
        Input {
            file,
            index: 0,
            root: Cow::Owned(root),
            dockerfile: false,
        }
    }

    /// Where a result without a location points: the document's `kind`,
    /// else its first key, else its first bytes (a Dockerfile: its first
    /// instruction that is not a comment).
    pub fn anchor(&self) -> Span {
        if self.dockerfile
            && let Some(first) = self
                .root
                .as_seq()
                .iter()
                .find(|i| i.str_at(&["Cmd"]) != Some("comment"))
        {
            return anchor(first);
        }
        anchor(&self.root)
    }

    /// The keys whose values a message is not matched against (a
    /// Dockerfile's instruction names and texts).
    pub fn unquoted_keys(&self) -> &'static [&'static str] {
        if self.dockerfile {
            &["Cmd", "Original"]
        } else {
            &[]
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        self.root.to_json()
    }

    /// The input as a Rego value, built straight from the tree (no JSON in
    /// between).
    pub fn to_value(&self) -> regorus::Value {
        value_of(&self.root, 0)
    }
}

/// A node as a Rego value (what [`Node::to_json`] then serde would give).
pub fn value_of(n: &Node, depth: usize) -> regorus::Value {
    use regorus::Value as V;
    if depth > 256 {
        return V::Null;
    }
    match &n.value {
        Value::Null | Value::Unknown => V::Null,
        Value::Bool(b) => V::from(*b),
        Value::Number(t) => t
            .parse::<i64>()
            .map(V::from)
            .ok()
            .or_else(|| t.parse::<f64>().ok().filter(|f| f.is_finite()).map(V::from))
            .unwrap_or_else(|| V::from(&**t)),
        Value::String(s) => V::from(s.as_str()),
        Value::Seq(items) => V::from(
            items
                .iter()
                .map(|i| value_of(i, depth + 1))
                .collect::<Vec<_>>(),
        ),
        Value::Map(entries) => {
            let mut m = std::collections::BTreeMap::new();
            for e in entries {
                let k = e
                    .key
                    .scalar_text()
                    .map(|c| V::from(c.as_ref()))
                    .unwrap_or_else(|| V::from(""));
                m.insert(k, value_of(&e.value, depth + 1));
            }
            V::from(m)
        }
    }
}

pub fn anchor(root: &Node) -> Span {
    if let Some(k) = root.get("kind") {
        return k.span;
    }
    if let Some(e) = root.entries().first() {
        return e.key.span;
    }
    if let Some(first) = root.as_seq().first() {
        return anchor(first);
    }
    Span::new(
        root.span.file,
        root.span.start as usize,
        root.span.start as usize,
    )
}

/// Every input of the model, in file order: YAML/JSON documents (known or
/// not), Dockerfiles, and HCL files (parsed again here, from the text
/// already in memory, into the hcl2 shape).
pub fn inputs(model: &Model) -> Vec<Input<'_>> {
    let mut out: Vec<Input<'_>> = Vec::new();
    for d in &model.docs {
        let dockerfile = matches!(d.kind, DocKind::Dockerfile);
        // A Dockerfile is parsed again, in Conftest's (BuildKit's) shape.
        let root = match model.sources.get(d.file) {
            Some(f) if dockerfile => Cow::Owned(super::dockerfile::conftest(f)),
            _ => Cow::Borrowed(&d.root),
        };
        out.push(Input {
            file: d.file,
            index: d.index,
            root,
            dockerfile,
        });
    }
    for d in &model.other_docs {
        out.push(Input {
            file: d.file,
            index: d.index,
            root: Cow::Borrowed(&d.root),
            dockerfile: false,
        });
    }
    // HCL is parsed again here (the Terraform stage keeps no syntax tree),
    // in parallel.
    use rayon::prelude::*;
    let hcl: Vec<Input<'_>> = model
        .files
        .par_iter()
        .filter(|f| {
            f.readable
                && matches!(
                    f.syntax,
                    Syntax::Terraform | Syntax::TfVars | Syntax::Terragrunt
                )
        })
        .filter_map(|f| {
            // The Terraform stage's parse, when it kept it.
            if let Ok(i) = model
                .terraform
                .syntax
                .binary_search_by_key(&f.file, |(id, _)| *id)
            {
                return model.terraform.syntax.get(i).map(|(_, n)| Input {
                    file: f.file,
                    index: 0,
                    root: Cow::Borrowed(n),
                    dockerfile: false,
                });
            }
            let root = hcl2(model.sources.get(f.file)?).ok()?;
            Some(Input::whole_file(f.file, root))
        })
        .collect();
    out.extend(hcl);
    // Terraform's JSON files (`.tf.json`, `.tfvars.json`): their JSON value,
    // as Conftest reads any `.json` file (the Terraform stage evaluates
    // them; the policies see the document).
    let tf_json: Vec<Input<'_>> = model
        .files
        .par_iter()
        .filter(|f| f.readable && f.syntax == Syntax::TerraformJson)
        .filter_map(|f| {
            let root = crate::parse::json::parse(model.sources.get(f.file)?).ok()?;
            Some(Input::whole_file(f.file, root))
        })
        .collect();
    out.extend(tf_json);
    // `.env`, `.ini` and `.toml` files, as Conftest's dotenv, INI and TOML parsers read them.
    let dotenv: Vec<Input<'_>> = model
        .files
        .par_iter()
        .filter(|f| f.readable && f.syntax == Syntax::Text)
        .filter_map(|f| {
            let src = model.sources.get(f.file)?;
            let name = src.path.rsplit(['/', '\\']).next().unwrap_or("");
            let root = if super::dotenv::is_dotenv(name) {
                super::dotenv::conftest(src)
            } else if super::ini::is_ini(name) {
                super::ini::conftest(src)
            } else if super::toml::is_toml(name) {
                super::toml::conftest(src)?
            } else {
                return None;
            };
            Some(Input::whole_file(f.file, root))
        })
        .collect();
    out.extend(dotenv);
    // YAML documents that are empty for Conftest are evaluated as `null`.
    for f in model
        .files
        .iter()
        .filter(|f| f.readable && f.syntax == Syntax::Yaml)
    {
        let Some(src) = model.sources.get(f.file) else {
            continue;
        };
        for (k, span) in empty_documents(src).into_iter().enumerate() {
            out.push(Input {
                file: f.file,
                index: NULL_DOCS + k,
                root: Cow::Owned(Node::new(span, Value::Null)),
                dockerfile: false,
            });
        }
    }
    out.sort_by_key(|i| (i.file, i.index));
    // Conftest checks the elements of a file's value that is an array one by one; the
    // documents of a multi-document YAML file are those elements, and one of them that is an
    // array is one input (a Dockerfile is one array of instructions: it stays whole).
    let mut per_file: std::collections::BTreeMap<FileId, usize> = std::collections::BTreeMap::new();
    for i in &out {
        *per_file.entry(i.file).or_default() += 1;
    }
    let mut split = Vec::with_capacity(out.len());
    for i in out {
        let alone = per_file.get(&i.file) == Some(&1);
        match (&i.root, i.dockerfile) {
            (Cow::Borrowed(n), false) if alone && matches!(n.value, Value::Seq(_)) => {
                for (k, item) in n.as_seq().iter().enumerate() {
                    split.push(Input {
                        file: i.file,
                        index: i.index * 1_000_000 + k,
                        root: Cow::Borrowed(item),
                        dockerfile: false,
                    });
                }
            }
            _ => split.push(i),
        }
    }
    split
}

/// Indexes of the `null` inputs of a YAML file's empty documents (after its other documents).
const NULL_DOCS: usize = 1 << 40;

/// The documents Conftest's YAML parser reads as `null`, each as the span
/// of the `---` before it (the first one: its first line). Conftest splits a
/// file at every `---` line that has a line before it, and evaluates each
/// part; a part of blank lines, comments, `---` or `...` only is `null`
/// (and so is a file of nothing else, even without a `---`).
pub fn empty_documents(file: &SourceFile) -> Vec<Span> {
    let text = file.text.as_str();
    let sep = if text.contains("\r\n") {
        "\r\n---\r\n"
    } else {
        "\n---\n"
    };
    let empty = |part: &str| {
        part.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---" || l == "..." || l.starts_with("--- #")
        })
    };
    let mut parts: Vec<(usize, &str)> = Vec::new();
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|t| t.find(sep)) {
        parts.push((from, &text[from..from + at]));
        from += at + sep.len();
    }
    parts.push((from, text.get(from..).unwrap_or("")));
    // A `%YAML` directive belongs to the first document.
    if text.starts_with('%') && parts.len() > 1 {
        parts.remove(0);
        if let Some(first) = parts.first_mut() {
            *first = (0, text.get(..first.0 + first.1.len()).unwrap_or(""));
        }
    }
    let single = parts.len() == 1;
    parts
        .into_iter()
        .enumerate()
        .filter(|(_, (_, p))| empty(p))
        .map(|(k, (at, p))| {
            if k == 0 || single {
                let line = p.find(['\r', '\n']).unwrap_or(p.len());
                Span::new(file.id, at, at + line)
            } else {
                // The `---` line before the part.
                let dash = text
                    .get(..at)
                    .and_then(|t| t.trim_end().rfind("---"))
                    .unwrap_or(at);
                Span::new(file.id, dash, (dash + 3).min(text.len()))
            }
        })
        .collect()
}

/// Where a result without a path points, when its message quotes the
/// document: the first scalar value (in document order, at least three
/// characters, not a top-level `kind`/`apiVersion`, nor under one of the
/// `unquoted` keys) that the message
/// contains as a whole word, else such a key, the one with the most such keys
/// on its way from the root (an HCL block's name label).
/// Bounded: at most [`MENTION_NODES`] nodes.
pub fn mention(root: &Node, message: &str, unquoted: &[&str]) -> Option<Span> {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | ':' | '@');
    let quoted = |s: &str| -> bool {
        if s.chars().count() < 3 || s.len() > 256 {
            return false;
        }
        message.match_indices(s).any(|(at, m)| {
            let before = message[..at].chars().next_back();
            let after = message[at + m.len()..].chars().next();
            // A trailing `.`/`:` ends a sentence, it does not extend the word.
            let ends = |c: Option<char>| c.is_none_or(|c| !word(c) || matches!(c, '.' | ':'));
            ends(before) && ends(after)
        })
    };
    let mut budget = MENTION_NODES;
    let text_quoted = |n: &Node| {
        n.scalar_text()
            .is_some_and(|t| !matches!(n.value, Value::Number(_) | Value::Bool(_)) && quoted(&t))
    };
    // The quoted key with the most quoted keys on its way from the root (the HCL block
    // `resource "aws_alb_listener" "web"` for "resource aws_alb_listener web", rather than a
    // tag named like a word of the message), the first in document order among equals.
    let mut best_key: Option<(usize, Span)> = None;
    // (node, depth, quoted keys above it, is a key)
    let mut stack: Vec<(&Node, usize, usize, bool)> = vec![(root, 0, 0, false)];
    while let Some((n, depth, above, is_key)) = stack.pop() {
        if budget == 0 {
            break;
        }
        budget -= 1;
        match &n.value {
            Value::Map(entries) => {
                for e in entries.iter().rev() {
                    let top_meta = depth == 0 && matches!(e.key_str(), Some("kind" | "apiVersion"));
                    let skipped = e.key_str().is_some_and(|k| unquoted.contains(&k));
                    if !top_meta && !skipped {
                        let key_quoted = usize::from(text_quoted(&e.key));
                        stack.push((&e.value, depth + 1, above + key_quoted, false));
                        // Keys are pushed after their values: popped first.
                        stack.push((&e.key, depth + 1, above, true));
                    }
                }
            }
            Value::Seq(items) => {
                for i in items.iter().rev() {
                    stack.push((i, depth + 1, above, false));
                }
            }
            _ => {
                if text_quoted(n) {
                    if !is_key {
                        return Some(n.span);
                    }
                    if best_key.is_none_or(|(score, _)| above + 1 > score) {
                        best_key = Some((above + 1, n.span));
                    }
                }
            }
        }
    }
    best_key.map(|(_, span)| span)
}

const MENTION_NODES: usize = 20_000;

/// The node a result's path (`["spec", "template", 0, "image"]`) reaches,
/// or the deepest one on the way; `None` when the first step misses.
pub fn locate(root: &Node, path: &[serde_json::Value]) -> Option<Span> {
    let mut cur = root;
    let mut found = None;
    for step in path {
        let next = match (&cur.value, step) {
            (Value::Map(entries), serde_json::Value::String(k)) => entries
                .iter()
                .rev()
                .find(|e| e.key_str() == Some(k.as_str()))
                .map(|e| &e.value),
            (Value::Map(entries), serde_json::Value::Number(n)) => {
                let k = n.to_string();
                entries
                    .iter()
                    .rev()
                    .find(|e| e.key.scalar_text().as_deref() == Some(k.as_str()))
                    .map(|e| &e.value)
            }
            (Value::Seq(items), serde_json::Value::Number(n)) => n
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| items.get(i)),
            (Value::Seq(items), serde_json::Value::String(s)) => {
                s.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        match next {
            Some(n) => {
                cur = n;
                found = Some(n.span);
            }
            None => break,
        }
    }
    found
}

/// An HCL file in Conftest's hcl2 shape (parsed again: for files the
/// Terraform stage has already converted, see [`crate::terraform::TfModel::syntax`]).
pub fn hcl2(file: &SourceFile) -> Result<Node, crate::parse::ParseDiag> {
    let parsed = crate::parse::hcl::parse_file(file)?;
    Ok(crate::parse::hcl_shape::conftest(file, &parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(
            FileId(0),
            "main.tf".into(),
            std::path::PathBuf::new(),
            text.into(),
        )
    }

    #[test]
    fn hcl2_has_conftests_shape() {
        let f = file(
            "resource \"aws_alb_listener\" \"web\" {\n  port     = \"80\"\n  protocol = \"HTTP\"\n  count    = var.n\n  name     = \"x-${var.env}\"\n  tags = { env = \"prod\", \"team\" = 2 }\n  setting {\n    a = 1\n  }\n  setting {\n    a = 2\n  }\n}\nprovider \"aws\" { region = \"eu-west-1\" }\nprovider \"aws\" {\n  alias = \"two\"\n}\nterraform {\n  required_version = \">= 1.5\"\n}\n",
        );
        let n = hcl2(&f).expect("parses");
        let want = serde_json::json!({
            "resource": {"aws_alb_listener": {"web": [{
                "port": "80", "protocol": "HTTP", "count": "${var.n}",
                "name": "x-${var.env}", "tags": {"env": "prod", "team": 2},
                "setting": [{"a": 1}, {"a": 2}]
            }]}},
            "provider": {"aws": [{"region": "eu-west-1"}, {"alias": "two"}]},
            "terraform": [{"required_version": ">= 1.5"}]
        });
        assert_eq!(n.to_json(), want);
        let at = locate(
            &n,
            &serde_json::from_str::<Vec<serde_json::Value>>(
                r#"["resource","aws_alb_listener","web",0,"protocol"]"#,
            )
            .expect("json"),
        )
        .expect("located");
        assert_eq!(f.slice(at), "\"HTTP\"");
    }
}
