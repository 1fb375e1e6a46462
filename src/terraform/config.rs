//! The declarations of one Terraform module directory, read from its parsed
//! `.tf` files: variables, locals, outputs, resources, data sources, module
//! calls, providers and `terraform {}` blocks. Expressions are borrowed from
//! the parsed bodies and evaluated later, lazily.

use crate::hash::HashMap;
use std::ops::Range;

use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, BlockLabel, Body};

use crate::parse::hcl::Parsed;
use crate::parse::tf_json::SpanMap;
use crate::source::{SourceFile, Span};

/// A file and the offset its hcl-edit spans are relative to. Spans of
/// expressions that do not come from a scanned file (templates read by
/// `templatefile`) all map to `fixed`. A `.tf.json` file is parsed from
/// the HCL text it converts to: `map` translates ranges of that text into
/// the JSON file.
#[derive(Clone, Copy, Debug)]
pub struct FileCtx<'a> {
    pub file: &'a SourceFile,
    pub base: usize,
    pub fixed: Option<Span>,
    pub map: Option<&'a SpanMap>,
}

impl<'a> FileCtx<'a> {
    pub fn new(file: &'a SourceFile, base: usize) -> FileCtx<'a> {
        FileCtx {
            file,
            base,
            fixed: None,
            map: None,
        }
    }

    /// The context of a parsed file (with its span map, for `.tf.json`).
    pub fn parsed(file: &'a SourceFile, p: &'a Parsed) -> FileCtx<'a> {
        FileCtx {
            map: p.map.as_ref(),
            ..FileCtx::new(file, p.base)
        }
    }

    pub fn span(&self, r: Option<Range<usize>>) -> Span {
        if let Some(s) = self.fixed {
            return s;
        }
        match (r, self.map) {
            (Some(r), None) => Span::new(self.file.id, r.start + self.base, r.end + self.base),
            (Some(r), Some(map)) => match map.lookup(r) {
                Some((j, _)) => Span::new(self.file.id, j.start, j.end),
                None => Span::new(self.file.id, 0, 0),
            },
            (None, _) => Span::new(self.file.id, 0, 0),
        }
    }

    pub fn of(&self, e: &impl hcl_edit::Span) -> Span {
        self.span(e.span())
    }

    /// The text of a span (numbers keep their source text).
    pub fn text(&self, r: Option<Range<usize>>) -> Option<&'a str> {
        if self.fixed.is_some() {
            return None;
        }
        let r = r?;
        if let Some(map) = self.map {
            // Only a whole emitted value has JSON text of its own (a number
            // inside a template has none).
            return match map.lookup(r)? {
                (j, true) => self.file.text.get(j),
                _ => None,
            };
        }
        self.file.text.get(r.start + self.base..r.end + self.base)
    }
}

pub struct VarDecl<'a> {
    pub name: String,
    pub fc: FileCtx<'a>,
    pub name_span: Span,
    pub default: Option<&'a Expression>,
    pub ty: Option<&'a Expression>,
    pub sensitive: bool,
    pub nullable: bool,
    /// The label of the hop "default of var.NAME", made once and shared by
    /// every instance and evaluation that takes the default.
    pub default_label: std::sync::Arc<str>,
}

pub struct Named<'a> {
    pub name: String,
    pub fc: FileCtx<'a>,
    /// The attribute `name = expr`, key to value.
    pub span: Span,
    pub expr: &'a Expression,
    /// For a local, the label of the hop "local.NAME", made once and
    /// shared by every instance that evaluates it.
    pub hop_label: Option<std::sync::Arc<str>>,
}

/// A `resource`, `data`, `provider` or `terraform` block.
pub struct BlockDecl<'a> {
    pub kind: String,
    pub labels: Vec<String>,
    pub fc: FileCtx<'a>,
    /// The labels (or the block keyword when there are none).
    pub span: Span,
    pub block: &'a Block,
}

pub struct ModuleCall<'a> {
    pub name: String,
    pub fc: FileCtx<'a>,
    pub span: Span,
    pub source: Option<String>,
    pub body: &'a Body,
}

/// Is `path` a Terraform configuration file (`.tf` or `.tf.json`)?
pub fn is_config(path: &str) -> bool {
    path.ends_with(".tf") || path.ends_with(".tf.json")
}

/// Everything declared in one directory.
pub struct ModuleCfg<'a> {
    pub dir: String,
    pub vars: Vec<VarDecl<'a>>,
    /// Name -> position in `vars` (of the first declaration).
    var_index: HashMap<String, usize>,
    pub locals: HashMap<String, Named<'a>>,
    pub outputs: Vec<Named<'a>>,
    /// `resource` and `data` blocks, in file then source order.
    pub resources: Vec<BlockDecl<'a>>,
    pub calls: Vec<ModuleCall<'a>>,
    /// `provider` and `terraform` blocks.
    pub blocks: Vec<BlockDecl<'a>>,
    /// Has a provider, backend, `terraform {}` block or module call.
    pub root_like: bool,
    /// The files declarations were read from, in the order added.
    pub files: Vec<&'a SourceFile>,
}

impl<'a> ModuleCfg<'a> {
    pub fn new(dir: String) -> ModuleCfg<'a> {
        ModuleCfg {
            dir,
            vars: Vec::new(),
            var_index: HashMap::default(),
            locals: HashMap::default(),
            outputs: Vec::new(),
            resources: Vec::new(),
            calls: Vec::new(),
            blocks: Vec::new(),
            root_like: false,
            files: Vec::new(),
        }
    }

    pub fn var(&self, name: &str) -> Option<&VarDecl<'a>> {
        self.vars.get(*self.var_index.get(name)?)
    }

    /// Add the declarations of one file (files are added in path order).
    pub fn add_file(&mut self, fc: FileCtx<'a>, body: &'a Body) {
        // Each file is added once; generated bodies are not files.
        if fc.fixed.is_none() {
            self.files.push(fc.file);
        }
        for block in body.blocks() {
            let kind = block.ident.as_str();
            let labels: Vec<String> = block
                .labels
                .iter()
                .map(|l| l.as_str().to_string())
                .collect();
            let span = labels_span(fc, block);
            match kind {
                "variable" => {
                    let Some(name) = labels.first() else { continue };
                    let b = &block.body;
                    let lit_bool = |k: &str| b.get_attribute(k).and_then(|a| a.value.as_bool());
                    self.var_index
                        .entry(name.clone())
                        .or_insert(self.vars.len());
                    self.vars.push(VarDecl {
                        name: name.clone(),
                        fc,
                        name_span: span,
                        default: b.get_attribute("default").map(|a| &a.value),
                        ty: b.get_attribute("type").map(|a| &a.value),
                        sensitive: lit_bool("sensitive").unwrap_or(false),
                        nullable: lit_bool("nullable").unwrap_or(true),
                        default_label: format!("default of var.{name}").into(),
                    });
                }
                "locals" => {
                    for a in block.body.attributes() {
                        let name = a.key.as_str().to_string();
                        let span = fc.span(join(a.key.span(), a.value.span()));
                        self.locals.entry(name.clone()).or_insert(Named {
                            hop_label: Some(format!("local.{name}").into()),
                            name,
                            fc,
                            span,
                            expr: &a.value,
                        });
                    }
                }
                "output" => {
                    let (Some(name), Some(a)) = (labels.first(), block.body.get_attribute("value"))
                    else {
                        continue;
                    };
                    let span = fc.span(join(a.key.span(), a.value.span()));
                    self.outputs.push(Named {
                        name: name.clone(),
                        fc,
                        span,
                        expr: &a.value,
                        hop_label: None,
                    });
                }
                "resource" | "data" if labels.len() == 2 => {
                    // A directory of resources that nothing calls is planned
                    // on its own, with the default provider configuration.
                    self.root_like = true;
                    self.resources.push(BlockDecl {
                        kind: kind.into(),
                        labels,
                        fc,
                        span,
                        block,
                    });
                }
                "module" => {
                    let Some(name) = labels.first() else { continue };
                    self.root_like = true;
                    let source = block
                        .body
                        .get_attribute("source")
                        .and_then(|a| a.value.as_str())
                        .map(str::to_string);
                    self.calls.push(ModuleCall {
                        name: name.clone(),
                        fc,
                        span,
                        source,
                        body: &block.body,
                    });
                }
                "provider" | "terraform" => {
                    self.root_like = true;
                    self.blocks.push(BlockDecl {
                        kind: kind.into(),
                        labels,
                        fc,
                        span,
                        block,
                    });
                }
                _ => {}
            }
        }
    }
}

fn join(a: Option<Range<usize>>, b: Option<Range<usize>>) -> Option<Range<usize>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.start.min(b.start)..a.end.max(b.end)),
        (a, b) => a.or(b),
    }
}

/// The span of a block's labels, or of its keyword when it has none.
pub fn labels_span(fc: FileCtx<'_>, block: &Block) -> Span {
    let mut r: Option<Range<usize>> = None;
    for l in &block.labels {
        r = join(r, BlockLabel::span(l));
    }
    fc.span(r.or_else(|| block.ident.span()))
}

/// `key = value` of an attribute.
pub fn attr_span(fc: FileCtx<'_>, a: &hcl_edit::structure::Attribute) -> Span {
    fc.span(join(a.key.span(), a.value.span()))
}
