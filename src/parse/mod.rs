//! One parser per syntax, each producing [`Node`](crate::node::Node) trees
//! with exact spans, and [`ParseDiag`]s for what could not be read.

pub mod dockerfile;
pub mod hcl;
pub mod json;
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
    /// A limit was hit (nesting depth, alias expansion, file size).
    Limit,
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

/// Nesting deeper than this is reported as [`DiagKind::Limit`] and not read.
pub const MAX_DEPTH: usize = 256;
