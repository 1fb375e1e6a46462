//! Go `text/template`, the subset Helm charts use: the syntax tree
//! ([`Item`], [`Pipe`], [`Term`]), the lexer (`lex`) and the parser
//! ([`parse`]). Every node keeps the byte range of its text in the
//! template's [`Source`], so the evaluator can say which action produced
//! each byte of the output.

mod lex;
mod parse;

use std::rc::Rc;

use crate::source::{FileId, Span};

pub use parse::parse;

/// A byte range in a template's text.
pub type At = (u32, u32);

/// The text a template was parsed from.
#[derive(Debug)]
pub struct Source {
    /// The template's name as Helm gives it (`podinfo/templates/deployment.yaml`).
    pub name: Rc<str>,
    pub file: FileId,
    pub text: Rc<str>,
    /// Every span of this source is this one (a `tpl` string: its actions
    /// are located at the `tpl` call).
    pub fixed: Option<Span>,
}

impl Source {
    pub fn span(&self, at: At) -> Span {
        match self.fixed {
            Some(s) => s,
            None => Span::new(self.file, at.0 as usize, at.1 as usize),
        }
    }

    pub fn slice(&self, at: At) -> &str {
        self.text.get(at.0 as usize..at.1 as usize).unwrap_or("")
    }
}

/// One element of a template body.
#[derive(Debug)]
pub enum Item {
    /// Literal text (after whitespace trimming), copied byte for byte.
    Text(At),
    /// `{{ pipeline }}`: the value is printed unless the pipeline declares
    /// or assigns variables.
    Action {
        pipe: Pipe,
        at: At,
    },
    /// `if`, with its `else if` arms, and `else`.
    If {
        arms: Vec<(Pipe, Vec<Item>)>,
        els: Vec<Item>,
        at: At,
    },
    /// `with`, with its `else with` arms, and `else`.
    With {
        arms: Vec<(Pipe, Vec<Item>)>,
        els: Vec<Item>,
        at: At,
    },
    Range {
        pipe: Pipe,
        body: Vec<Item>,
        els: Vec<Item>,
        at: At,
    },
    /// `template "name" pipeline` (and the call half of `block`).
    Template {
        name: String,
        pipe: Option<Pipe>,
        at: At,
    },
    Break(At),
    Continue(At),
}

/// A pipeline, with the variables it declares (`$x := ...`) or assigns
/// (`$x = ...`).
#[derive(Debug)]
pub struct Pipe {
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub assign: bool,
    pub cmds: Vec<Cmd>,
    pub at: At,
}

/// One command of a pipeline: a function and its arguments, or a single
/// operand.
#[derive(Debug)]
pub struct Cmd {
    pub args: Vec<Term>,
    pub at: At,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

#[derive(Debug)]
pub enum Term {
    /// `.`
    Dot,
    /// `.a.b`
    Field(Vec<String>, At),
    /// `$x.a.b` (`$` alone is the root).
    Var(String, Vec<String>, At),
    /// A function name.
    Func(String, At),
    Lit(Lit),
    /// `(pipeline).a.b`
    Sub(Box<Pipe>, Vec<String>),
}

/// A named template: `define` (or `block`).
#[derive(Debug, Clone)]
pub struct Define {
    pub name: String,
    pub body: Rc<Vec<Item>>,
    pub src: Rc<Source>,
}

/// A parsed template file: its body and the templates it defines.
#[derive(Debug)]
pub struct Parsed {
    pub src: Rc<Source>,
    pub body: Rc<Vec<Item>>,
    pub defines: Vec<Define>,
}

/// A syntax error, located.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub at: At,
    pub message: String,
}

/// Control structures and parentheses nest at most this deep.
pub const MAX_NESTING: usize = 100;

#[cfg(test)]
mod tests;
