//! Dockerfiles, as one [`Node`] per file: a sequence of instructions in the
//! shape Conftest's Dockerfile parser gives Rego policies —
//! `{Cmd: "env", Flags: [...], Value: [...], Stage: 0, Original: "..."}` —
//! with every value located at its exact bytes.
//!
//! Handles comments, parser directives, `\` line continuations, quoted
//! words, the JSON (exec) form and heredocs (`RUN <<EOF ... EOF`, whose body
//! is kept as one value). Not a full shell parser: it never needs to be.

use crate::node::{Entry, Node, Value};
use crate::source::{SourceFile, Span};

/// A word of an instruction and where it is.
struct Word {
    text: String,
    start: usize,
    end: usize,
}

/// Split `s` (starting at byte `base` of the file) into words: white space
/// separates, quotes group (and are removed), `\` escapes the next char.
fn words(s: &str, base: usize) -> Vec<Word> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut start = None;
    let mut quote: Option<char> = None;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if let Some(st) = start.take() {
                    out.push(Word {
                        text: std::mem::take(&mut cur),
                        start: base + st,
                        end: base + i,
                    });
                }
            }
            (None, '"' | '\'') => {
                start.get_or_insert(i);
                quote = Some(c);
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') if quote != Some('\'') => {
                start.get_or_insert(i);
                if let Some((_, n)) = chars.next() {
                    cur.push(n);
                }
            }
            (_, c) => {
                start.get_or_insert(i);
                cur.push(c);
            }
        }
    }
    if let Some(st) = start {
        out.push(Word {
            text: cur,
            start: base + st,
            end: base + s.len(),
        });
    }
    out
}

/// The exec form `["npm", "start"]`: strings located inside the array.
fn json_form(args: &str, base: usize) -> Option<Vec<Word>> {
    let t = args.trim_start();
    if !t.starts_with('[') {
        return None;
    }
    let items: Vec<String> = serde_json::from_str(t.trim_end()).ok()?;
    let lead = args.len() - t.len();
    let mut out = Vec::new();
    let mut from = lead;
    for item in items {
        let quoted = serde_json::to_string(&item).ok()?;
        let at = args[from..].find(&quoted).map_or(from, |i| from + i);
        out.push(Word {
            text: item,
            start: base + at,
            end: base + at + quoted.len(),
        });
        from = at + quoted.len();
    }
    Some(out)
}

fn string(file: &SourceFile, start: usize, end: usize, s: impl Into<crate::node::Str>) -> Node {
    Node::string(Span::new(file.id, start, end), s)
}

fn entry(at: Span, key: &str, value: Node) -> Entry {
    Entry {
        key: Node::string(at, key),
        value,
    }
}

/// Parse a Dockerfile. Never fails: anything unrecognised is kept as an
/// instruction with its words.
pub fn parse(file: &SourceFile) -> Node {
    let text = &file.text;
    let mut instructions = Vec::new();
    let mut stage: i64 = -1;
    let mut offset = 0usize;
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line_start = offset;
        let line = lines[i];
        offset += line.len();
        i += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        // Join continuation lines; comment lines inside are dropped.
        let mut logical = String::new();
        let mut spans: Vec<(usize, usize)> = Vec::new(); // (logical offset, file offset)
        let mut push = |logical: &mut String, part: &str, at: usize| {
            spans.push((logical.len(), at));
            logical.push_str(part);
        };
        let mut body = line.trim_end_matches(['\n', '\r']);
        let mut at = line_start;
        loop {
            match body.strip_suffix('\\') {
                Some(rest) => {
                    push(&mut logical, rest, at);
                    logical.push(' ');
                    // Next non-comment line continues the instruction.
                    let mut next = None;
                    while i < lines.len() {
                        let l = lines[i];
                        let l_at = offset;
                        offset += l.len();
                        i += 1;
                        if l.trim_start().starts_with('#') {
                            continue;
                        }
                        next = Some((l, l_at));
                        break;
                    }
                    match next {
                        Some((l, l_at)) => {
                            body = l.trim_end_matches(['\n', '\r']);
                            at = l_at;
                        }
                        None => break,
                    }
                }
                _ => {
                    push(&mut logical, body, at);
                    break;
                }
            }
        }
        // Map a byte offset of `logical` back to the file.
        let to_file = |lo: usize| -> usize {
            let idx = spans.partition_point(|&(l, _)| l <= lo).saturating_sub(1);
            spans.get(idx).map_or(line_start, |&(l, f)| f + (lo - l))
        };
        let lead = logical.len() - logical.trim_start().len();
        let rest = &logical[lead..];
        let kw_len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let keyword = rest[..kw_len].to_ascii_lowercase();
        let kw_span = Span::new(file.id, to_file(lead), to_file(lead + kw_len));
        let args_off = lead + kw_len;
        let args = &logical[args_off..];
        if keyword == "from" {
            stage += 1;
        }
        // Flags (`--from=builder`, `--mount=type=secret,id=x`) come first.
        let mut all: Vec<Word> = match json_form(args, 0) {
            Some(ws) if matches!(keyword.as_str(), "run" | "cmd" | "entrypoint" | "shell") => ws,
            _ => words(args, 0),
        };
        for w in &mut all {
            w.start = to_file(args_off + w.start);
            w.end = to_file(args_off + w.end.saturating_sub(1)) + 1;
        }
        let split = all
            .iter()
            .position(|w| !w.text.starts_with("--"))
            .unwrap_or(all.len());
        let values: Vec<Word> = all.split_off(split);
        let mut value_nodes: Vec<Node> = values
            .iter()
            .map(|w| string(file, w.start, w.end, w.text.clone()))
            .collect();
        // A heredoc body (`RUN <<EOF`) follows the instruction line.
        if let Some(tag) = values
            .iter()
            .find_map(|w| w.text.strip_prefix("<<").map(|t| t.trim_start_matches('-')))
            .map(|t| t.trim_matches(['"', '\'']).to_string())
            .filter(|t| !t.is_empty())
        {
            let body_start = offset;
            let mut body_end = offset;
            while i < lines.len() {
                let l = lines[i];
                offset += l.len();
                i += 1;
                if l.trim() == tag {
                    break;
                }
                body_end = offset;
            }
            let body = text.get(body_start..body_end).unwrap_or("");
            value_nodes.push(string(file, body_start, body_end, body));
        }
        let whole = Span::new(file.id, kw_span.start as usize, offset.min(text.len()));
        let flags: Vec<Node> = all
            .iter()
            .map(|w| string(file, w.start, w.end, w.text.clone()))
            .collect();
        let map = vec![
            entry(kw_span, "Cmd", Node::string(kw_span, keyword)),
            entry(
                kw_span,
                "Flags",
                Node::new(kw_span, Value::Seq(crate::node::items(flags))),
            ),
            entry(
                kw_span,
                "Value",
                Node::new(kw_span, Value::Seq(crate::node::items(value_nodes))),
            ),
            entry(
                kw_span,
                "Stage",
                Node::new(kw_span, Value::Number(stage.max(0).to_string().into())),
            ),
            entry(
                kw_span,
                "Original",
                Node::string(whole, logical.trim().to_string()),
            ),
        ];
        instructions.push(Node::new(whole, Value::Map(crate::node::items(map))));
    }
    Node::new(
        Span::new(file.id, 0, text.len()),
        Value::Seq(crate::node::items(instructions)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(
            FileId(0),
            "Dockerfile".into(),
            "Dockerfile".into(),
            text.into(),
        )
    }

    fn values(n: &Node) -> Vec<String> {
        n.get("Value")
            .map(|v| {
                v.as_seq()
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn instructions_stages_and_spans() {
        let f = file(
            "# syntax=docker/dockerfile:1\nFROM node:18-alpine AS builder\nENV A=1 \\\n    B=\"two words\"\nCOPY --from=builder /app /app\nFROM node:18-alpine\nUSER node\nCMD [\"npm\", \"start\"]\n",
        );
        let n = parse(&f);
        let ins = n.as_seq();
        assert_eq!(ins.len(), 6);
        assert_eq!(ins[0].str_at(&["Cmd"]), Some("from"));
        assert_eq!(values(&ins[0]), ["node:18-alpine", "AS", "builder"]);
        assert_eq!(values(&ins[1]), ["A=1", "B=two words"]);
        // B=... is on line 4, located exactly.
        let b = &ins[1].get("Value").unwrap().as_seq()[1];
        assert_eq!(f.line_col(b.span.start).line, 4);
        assert_eq!(f.slice(b.span), "B=\"two words\"");
        let copy = &ins[2];
        assert_eq!(
            copy.get("Flags").unwrap().as_seq()[0].as_str(),
            Some("--from=builder")
        );
        assert_eq!(ins[4].str_at(&["Cmd"]), Some("user"));
        assert_eq!(ins[4].get("Stage").and_then(Node::as_f64), Some(1.0));
        assert_eq!(values(&ins[5]), ["npm", "start"]);
        assert_eq!(
            f.slice(ins[5].get("Value").unwrap().as_seq()[1].span),
            "\"start\""
        );
    }

    #[test]
    fn heredocs_and_odd_input_do_not_break() {
        let f = file("FROM x\nRUN <<EOF\necho hi\nEOF\nENV K v with spaces\n\\\n");
        let n = parse(&f);
        let ins = n.as_seq();
        assert_eq!(ins[1].str_at(&["Cmd"]), Some("run"));
        assert_eq!(
            values(&ins[1]).last().map(String::as_str),
            Some("echo hi\n")
        );
        assert_eq!(values(&ins[2]), ["K", "v", "with", "spaces"]);
        for t in [
            "",
            "\\",
            "FROM",
            "RUN [\"unterminated",
            "ENV \"x",
            "\u{feff}FROM é\n",
        ] {
            let _ = parse(&file(t));
        }
    }
}
