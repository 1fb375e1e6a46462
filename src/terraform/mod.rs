//! STUB until the evaluator lands.
use crate::env::Assignment;
use crate::node::Node;
use crate::parse::ParseDiag;
use crate::source::{SourceFile, Span};
#[derive(Default)] pub struct TfModel { pub roots: Vec<RootEval>, pub diags: Vec<ParseDiag>, pub notes: Vec<String>, pub stats: TfStats }
#[derive(Default)] pub struct TfStats { pub roots: usize, pub evaluations: usize, pub module_calls: usize, pub modules_not_evaluated: usize, pub eval_micros: u128 }
pub struct RootEval { pub dir: String, pub assignment: Assignment, pub var_file: Option<String>, pub resources: Vec<Resource>, pub providers: Vec<Block>, pub variables: Vec<Variable>, pub outputs: Vec<(String, Node)> }
pub enum Mode { Managed, Data }
pub struct Resource { pub mode: Mode, pub rtype: String, pub name: String, pub module_path: String, pub key: Option<String>, pub span: Span, pub attrs: Node }
pub struct Block { pub kind: String, pub labels: Vec<String>, pub module_path: String, pub span: Span, pub attrs: Node }
pub struct Variable { pub name: String, pub module_path: String, pub span: Span, pub default: Option<Node>, pub sensitive: bool, pub value: Node }
pub fn evaluate(_files: &[&SourceFile]) -> TfModel { TfModel::default() }
