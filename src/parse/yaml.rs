//! STUB until the YAML parser lands.
use crate::node::Node;
use crate::source::SourceFile;
use super::ParseDiag;
pub struct YamlDoc { pub index: usize, pub root: Node }
pub struct YamlOutput { pub docs: Vec<YamlDoc>, pub diags: Vec<ParseDiag> }
pub fn parse(_file: &SourceFile) -> YamlOutput { YamlOutput { docs: vec![], diags: vec![] } }
