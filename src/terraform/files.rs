//! `file`, `fileexists` and `templatefile`: paths resolve against the root
//! module directory (Terraform's working directory), then against the
//! calling module's directory. Only files inside the scan root are read, at
//! most [`MAX_READ`] bytes. Their values are located at the call.

use std::path::PathBuf;
use std::rc::Rc;

use super::config::FileCtx;
use super::eval::{Cx, Run};
use super::functions::Fail;
use super::roots::join_dir;
use super::value as v;
use crate::node::{Entry, Node};
use crate::source::Span;

pub const MAX_READ: u64 = 1 << 20;

impl Run<'_> {
    /// Candidate scan-relative paths of a path written in a module.
    fn candidates(&self, cx: &Cx<'_>, path: &str) -> Vec<String> {
        if path.starts_with('/') || path.contains('\\') || path.contains(':') {
            return Vec::new();
        }
        let mut out = vec![join_dir(&self.root_dir, path)];
        if let Some(i) = cx.inst {
            let m = join_dir(&self.insts[i].cfg.dir, path);
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out.retain(|p| !p.starts_with("..") && !p.is_empty());
        out
    }

    fn disk(&self, rel: &str) -> Option<PathBuf> {
        Some(self.w.disk_root.as_ref()?.join(rel))
    }

    /// The text of a file (read once per evaluation), and its
    /// scan-relative path.
    fn read(&mut self, cx: &Cx<'_>, path: &str) -> Result<(String, Rc<str>), Fail> {
        for rel in self.candidates(cx, path) {
            let text = match self.reads.get(&rel) {
                Some(t) => t.clone(),
                None => {
                    let t = self.read_disk(&rel).map(Rc::from);
                    self.reads.insert(rel.clone(), t.clone());
                    t
                }
            };
            if let Some(t) = text {
                return Ok((rel, t));
            }
        }
        // Not readable here: the file may be generated or outside the scan.
        Err(Fail::Unknown)
    }

    /// The text of a project file by scan-relative path (read once per
    /// evaluation).
    pub fn read_project_file(&mut self, rel: &str) -> Option<Rc<str>> {
        if let Some(t) = self.reads.get(rel) {
            return t.clone();
        }
        let t = self.read_disk(rel).map(Rc::from);
        self.reads.insert(rel.to_string(), t.clone());
        t
    }

    /// Only files inside the project are read, never through a symlink
    /// that leaves it, never a special file.
    fn read_disk(&self, rel: &str) -> Option<String> {
        let p = self.disk(rel)?;
        crate::project::read_inside(&p, self.w.boundary, MAX_READ)
    }

    pub fn fn_file(&mut self, cx: &Cx<'_>, path: &str, span: Span) -> Result<Node, Fail> {
        let (_, text) = self.read(cx, path)?;
        Ok(v::string(span, text.as_ref()))
    }

    pub fn fn_fileexists(&mut self, cx: &Cx<'_>, path: &str, span: Span) -> Result<Node, Fail> {
        if self.w.disk_root.is_none() {
            return Err(Fail::Unknown);
        }
        let found = self.candidates(cx, path).iter().any(|rel| {
            self.disk(rel).is_some_and(|p| {
                std::fs::canonicalize(&p).is_ok_and(|real| {
                    self.w.boundary.iter().any(|b| real.starts_with(b)) && real.is_file()
                })
            })
        });
        // Absent here may still exist where Terraform runs (generated files):
        // only a positive answer is certain.
        if found {
            Ok(v::boolean(span, true))
        } else {
            Err(Fail::Unknown)
        }
    }

    pub fn fn_templatefile(
        &mut self,
        cx: &Cx<'_>,
        path: &str,
        vars: Vec<Entry>,
        span: Span,
    ) -> Result<Node, Fail> {
        let (rel, text) = self.read(cx, path)?;
        let tpl = match self.templates.get(&rel) {
            Some(t) => t.clone(),
            None => {
                let t = hcl_edit::parser::parse_template(&text).ok().map(Rc::new);
                self.templates.insert(rel, t.clone());
                t
            }
        };
        let tpl = tpl.ok_or(Fail::Error)?;
        // Template spans are not in a scanned file: locate them at the call.
        let fc = FileCtx {
            fixed: Some(span),
            ..cx.fc
        };
        // The scalars passed in, by which a value read out of the rendered
        // text is located at the argument that supplied it.
        let mut leaves = Vec::new();
        for e in &vars {
            scalar_leaves(&e.value, &mut leaves, 0);
        }
        if !leaves.is_empty() && self.template_args.len() < 10_000 {
            self.template_args.push((span, leaves));
        }
        let tcx = Cx::new(None, fc).with_all(
            vars.into_iter()
                .filter_map(|e| Some((e.key_str()?.to_string(), e.value))),
        );
        self.template_holes = true;
        // A template file reads like a `<<` heredoc (Terraform scans it a
        // line at a time): a strip marker removes the rest of its line only.
        let n = self.template(&tcx, &tpl, span, Some(0));
        self.template_holes = false;
        if let Some(text) = n.as_str()
            && text.contains(super::template::HOLE)
        {
            // Some values are unknown: a JSON document keeps its structure
            // (as `jsonencode` would), with those values unknown; any
            // other text is unknown.
            let json = match serde_json::from_str::<serde_json::Value>(text) {
                Ok(j @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) => j,
                _ => return Err(Fail::Unknown),
            };
            let mut tree = Node::from_json(&json, span, &n.via);
            fill_holes(&mut tree, 0);
            return Ok(tree);
        }
        Ok(match n.value {
            crate::node::Value::String(_) | crate::node::Value::Unknown => n,
            _ => v::with_value(
                &n,
                crate::node::Value::String(v::as_string(&n).ok_or(Fail::Error)?.into()),
            ),
        })
    }
}

/// The string, number and boolean leaves of a value (at most 1,000).
fn scalar_leaves(n: &Node, out: &mut Vec<Node>, depth: usize) {
    if depth > 32 || out.len() >= 1_000 {
        return;
    }
    match &n.value {
        crate::node::Value::String(_)
        | crate::node::Value::Number(_)
        | crate::node::Value::Bool(_) => out.push(n.clone()),
        crate::node::Value::Seq(items) => {
            for i in items {
                scalar_leaves(i, out, depth + 1);
            }
        }
        crate::node::Value::Map(entries) => {
            for e in entries {
                scalar_leaves(&e.value, out, depth + 1);
            }
        }
        _ => {}
    }
}

/// Strings of a rendered JSON document that hold a [`super::template::HOLE`]
/// become unknown.
fn fill_holes(n: &mut Node, depth: usize) {
    if depth > super::value::MAX_VALUE_DEPTH {
        return;
    }
    match &mut n.value {
        crate::node::Value::String(s) if s.contains(super::template::HOLE) => {
            n.value = crate::node::Value::Unknown;
        }
        crate::node::Value::Seq(items) => {
            for i in items.iter_mut() {
                fill_holes(i, depth + 1);
            }
        }
        crate::node::Value::Map(entries) => {
            for e in entries.iter_mut() {
                fill_holes(&mut e.value, depth + 1);
            }
        }
        _ => {}
    }
}
