//! One parser per syntax, each producing [`Node`](crate::node::Node) trees
//! with exact spans, and [`ParseDiag`]s for what could not be read.

pub mod dockerfile;
pub mod hcl;
pub mod hcl_shape;
pub mod json;
pub mod tf_json;
pub mod yaml;

use crate::source::Span;

/// What went wrong while reading a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiagKind {
    /// The file does not parse; the span is where the parser stopped.
    ParseError,
    /// A mapping repeats a key; the later value wins (as kubectl reads it).
    DuplicateKey,
    /// The file is a template (Helm `{{ }}`), not plain YAML; not checked.
    Template,
    /// A limit was hit (nesting depth, alias expansion, evaluation).
    Limit,
    /// A file over the size limit: nothing in it was checked (an error, so
    /// that padding a file cannot open the gate).
    TooLarge,
    /// A path that cannot be read (permission, I/O error, a symlink out of
    /// the project, a special file).
    Unreadable,
    /// Part of a deployment that could not be evaluated statically (a
    /// Terragrunt include of a missing file, a template that does not
    /// render): the rules that read it could not judge it.
    NotEvaluated,
}

/// A diagnostic from a parser or evaluator, located at the exact span.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseDiag {
    pub kind: DiagKind,
    pub span: Span,
    pub message: String,
    /// Other places worth showing (the first occurrence of a duplicate key).
    pub related: Vec<(Span, String)>,
}

impl ParseDiag {
    pub fn new(kind: DiagKind, span: Span, message: impl Into<String>) -> ParseDiag {
        ParseDiag {
            kind,
            span,
            message: message.into(),
            related: Vec::new(),
        }
    }
}

/// How many repeated-key diagnostics one file reports one by one; the rest
/// are counted in one summary, so a file of a million repeated keys costs
/// no more to report than one of a hundred.
pub const MAX_DUPLICATE_DIAGS: usize = 100;

/// Record a repeated key: kept while under [`MAX_DUPLICATE_DIAGS`], counted
/// after. `make` builds the diagnostic only when it is kept.
pub fn push_duplicate(
    diags: &mut Vec<ParseDiag>,
    seen: &mut usize,
    make: impl FnOnce() -> ParseDiag,
) {
    if *seen < MAX_DUPLICATE_DIAGS {
        diags.push(make());
    }
    *seen += 1;
}

/// The summary of the repeated keys not reported one by one, at the last
/// one that was.
pub fn summarize_duplicates(diags: &mut Vec<ParseDiag>, seen: usize) {
    if seen <= MAX_DUPLICATE_DIAGS {
        return;
    }
    let Some(last) = diags
        .iter()
        .rev()
        .find(|d| d.kind == DiagKind::DuplicateKey)
        .map(|d| d.span)
    else {
        return;
    };
    diags.push(ParseDiag::new(
        DiagKind::DuplicateKey,
        last,
        format!(
            "{} more repeated mapping keys in this file are not reported one by one",
            seen - MAX_DUPLICATE_DIAGS
        ),
    ));
}

/// Nesting deeper than this is reported as [`DiagKind::Limit`] and not read.
pub const MAX_DEPTH: usize = 256;
