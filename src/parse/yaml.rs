//! STUB until the YAML parser lands.
use super::ParseDiag;
use crate::node::Node;
use crate::source::SourceFile;
pub struct YamlDoc {
    pub index: usize,
    pub root: Node,
}
pub struct YamlOutput {
    pub docs: Vec<YamlDoc>,
    pub diags: Vec<ParseDiag>,
}
pub fn parse(_file: &SourceFile) -> YamlOutput {
    YamlOutput {
        docs: vec![],
        diags: vec![],
    }
}
