//! Dockerfiles' stages: what each starts from and the user it runs as.

use crate::node::Node;

/// A stage of a Dockerfile: its name (`AS x`), what it starts from, and the
/// last `USER` it sets (with the instruction).
pub struct Stage<'a> {
    pub name: Option<String>,
    pub from: &'a Node,
    pub base: String,
    /// The base as written (`node:18-alpine`, a stage name, `scratch`).
    pub image: Option<&'a Node>,
    pub user: Option<(&'a Node, String)>,
}

pub fn stages(ins: &[Node]) -> Vec<Stage<'_>> {
    let mut out: Vec<Stage<'_>> = Vec::new();
    for i in ins {
        match i.str_at(&["Cmd"]) {
            Some("from") => {
                let words: Vec<&str> = i
                    .get("Value")
                    .map(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Node::as_str)
                    .collect();
                let name = match words.as_slice() {
                    [_, as_, n, ..] if as_.eq_ignore_ascii_case("as") => {
                        Some(n.to_ascii_lowercase())
                    }
                    _ => None,
                };
                out.push(Stage {
                    name,
                    from: i,
                    base: words
                        .first()
                        .map_or(String::new(), |w| w.to_ascii_lowercase()),
                    image: i.get("Value").and_then(|v| v.as_seq().first()),
                    user: None,
                });
            }
            Some("user") => {
                if let Some(st) = out.last_mut() {
                    let v = i
                        .get("Value")
                        .and_then(|v| v.as_seq().first())
                        .and_then(Node::as_str)
                        .map(|v| v.split(':').next().unwrap_or(v).to_string())
                        .unwrap_or_default();
                    st.user = Some((i, v));
                }
            }
            _ => {}
        }
    }
    out
}

/// The stage the final image is built from, following `FROM <stage>`
/// references back to the one that starts from an image: its index.
pub fn final_root(all: &[Stage<'_>]) -> Option<usize> {
    let mut at = all.len().checked_sub(1)?;
    // Each step goes to an earlier stage: at most `all.len()` steps.
    while let Some(parent) = all[..at]
        .iter()
        .rposition(|s| s.name.as_deref() == Some(all[at].base.as_str()))
    {
        at = parent;
    }
    Some(at)
}
