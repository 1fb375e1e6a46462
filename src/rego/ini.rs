//! `.ini` files as Conftest gives them to a policy (its INI parser, go-ini): an object of
//! sections, each an object of its keys, every key and value located.
//!
//! `[section]` starts a section (its name as written: `input["auth.basic"].enabled`); keys
//! before the first section (go-ini's `DEFAULT`) and those of a `[DEFAULT]` section are left
//! out, as Conftest leaves them out. `key = value` or `key: value`; lines starting with `#` or
//! `;` are comments, and a value ends at `#` or `;` (go-ini's default) unless it is quoted;
//! quotes around a value are removed. A value that reads as a number (`3000`, `0.5`, `1e3`) is
//! a number, one that reads as a Go boolean (`true`, `False`, `t`, `F`) a boolean, any other
//! value a string; a key set twice keeps its last value.

use crate::node::{Entry, Node, Value, items};
use crate::source::{SourceFile, Span};

/// Whether Conftest reads a file of this name with its INI parser.
pub fn is_ini(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".ini")
}

/// A value with go-ini's and Conftest's types.
fn typed(span: Span, v: &str) -> Node {
    let number = v.parse::<f64>().ok().filter(|f| f.is_finite());
    if number.is_some() && !v.contains(['_', 'x', 'X']) {
        return Node::new(span, Value::Number(v.trim_start_matches('+').into()));
    }
    match v {
        "t" | "T" | "TRUE" | "true" | "True" => Node::new(span, Value::Bool(true)),
        "f" | "F" | "FALSE" | "false" | "False" => Node::new(span, Value::Bool(false)),
        _ => Node::string(span, v),
    }
}

/// The file in Conftest's INI shape. Never fails: a line that is not a section, a comment or
/// an assignment is skipped.
pub fn conftest(file: &SourceFile) -> Node {
    let text = file.text.as_str();
    let id = file.id;
    // (name, its span, its keys)
    let mut sections: Vec<(String, Span, Vec<Entry>)> = Vec::new();
    // The section keys go to (its index in `sections`), none before the first one.
    let mut current: Option<usize> = None;
    let mut at = 0;
    for raw in text.split_inclusive('\n') {
        let line_at = at;
        at += raw.len();
        let body = raw.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let line = body.trim();
        let start = line_at + lead;
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(close) = rest.find(']') else {
                continue;
            };
            let name = rest[..close].trim();
            let name_at = start + 1 + (rest.len() - rest.trim_start().len());
            let span = Span::new(id, name_at, name_at + name.len());
            current = if name.is_empty() || name == "DEFAULT" {
                None
            } else if let Some(i) = sections.iter().position(|(n, _, _)| n == name) {
                Some(i)
            } else {
                sections.push((name.to_string(), span, Vec::new()));
                Some(sections.len() - 1)
            };
            continue;
        }
        let Some(delim) = line.find(['=', ':']) else {
            continue;
        };
        let key = line[..delim].trim();
        if key.is_empty() {
            continue;
        }
        let after = &line[delim + 1..];
        let v_lead = after.len() - after.trim_start().len();
        let mut v = after.trim_start();
        let mut v_at = start + delim + 1 + v_lead;
        let quoted = v
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))
            .and_then(|q| v[1..].find(q).map(|end| (q, end)));
        let (value, span_len) = match quoted {
            Some((_, end)) => {
                let inner = &v[1..1 + end];
                v_at += 1;
                (inner.to_string(), inner.len())
            }
            None => {
                if let Some(c) = v.find(['#', ';']) {
                    v = &v[..c];
                }
                let t = v.trim_end();
                (t.to_string(), t.len())
            }
        };
        let Some(section) = current.and_then(|i| sections.get_mut(i)) else {
            continue;
        };
        let key_span = Span::new(id, start, start + key.len());
        let value_span = Span::new(id, v_at, v_at + span_len);
        let keys = &mut section.2;
        keys.retain(|e| e.key.as_str() != Some(key));
        keys.push(Entry {
            key: Node::string(key_span, key),
            value: typed(value_span, &value),
        });
    }
    let sections: Vec<Entry> = sections
        .into_iter()
        .map(|(name, span, keys)| Entry {
            key: Node::string(span, name.as_str()),
            value: Node::new(span, Value::Map(items(keys))),
        })
        .collect();
    Node::new(Span::new(id, 0, text.len()), Value::Map(items(sections)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn go_inis_sections_and_types() {
        let text = "app_mode = production\n[server]\nprotocol = http\nhttp_addr =\nhttp_port = 3000\nratio: 0.5 ; a comment\nname = \"a # b\"\n[auth.basic]\nenabled = true\n[DEFAULT]\nx = 1\n[server]\nhttp_port = 8080\n; [ignored]\nbroken line\n";
        let f = SourceFile::new(FileId(0), "g.ini".into(), "g.ini".into(), text.into());
        let n = conftest(&f);
        assert_eq!(
            crate::rego::input::value_of(&n, 0),
            regorus::Value::from(serde_json::json!({
                "server": {"protocol": "http", "http_addr": "", "http_port": 8080, "ratio": 0.5, "name": "a # b"},
                "auth.basic": {"enabled": true},
            }))
        );
        let port = n.path(&["server", "http_port"]).expect("port");
        assert_eq!(f.slice(port.span), "8080");
        assert_eq!(f.line_col(port.span.start).line, 13);
        for t in ["", "[", "[]", "=", "[a]\n=\n", "[a]\nk=\"", "[é]\né=é ;"] {
            let f = SourceFile::new(FileId(0), "g.ini".into(), "g.ini".into(), t.into());
            let _ = conftest(&f);
        }
    }
}
