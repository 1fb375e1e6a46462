//! `.env` files as Conftest gives them to a policy (its dotenv parser, gotenv): an object of
//! every variable's value, each key and value located.
//!
//! Lines `KEY=value`, `KEY: value` or `export KEY=value`; blank lines and `#` comments are
//! skipped, and so is a line that is no assignment. A value in single quotes is taken as
//! written; in double quotes `\n` and `\r` are a newline and a carriage return, `\x` is `x`, and
//! a quoted value may go on over lines until its closing quote; an unquoted value ends at `#`.
//! Outside single quotes `$NAME` and `${NAME}` (upper case, digits, `_`) are replaced by the
//! value of a variable set above in the file, else by nothing, and `\$` is a `$`. (gotenv looks
//! in the process environment first: guard reads no environment, so its results do not depend
//! on the machine.)

use crate::node::{Entry, Node, Value, items};
use crate::source::{SourceFile, Span};

/// Whether Conftest reads a file of this name with its dotenv parser: `.env`, `.env.<x>`,
/// `<x>.env`.
pub fn is_dotenv(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env")
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The byte length of a `\s*(?:#[^\n]*)?` tail of `s`, when it is all of `s`.
fn ends_clean(s: &str) -> bool {
    let t = s.trim_start();
    t.is_empty() || (t.starts_with('#') && !t.contains('\n'))
}

/// The value of an assignment's right-hand side (from just after the separator), as
/// gotenv's line pattern takes it: a quoted string when one closes before a clean end,
/// else the text up to `#` or a newline. (start, end) in `rest`, or `None` for no match.
fn value_range(rest: &str) -> Option<(usize, usize)> {
    if let Some(q) = rest.chars().next().filter(|c| matches!(c, '\'' | '"')) {
        // The longest quoted string after which only blanks and a comment follow.
        let ends: Vec<usize> = rest.match_indices(q).map(|(i, _)| i).skip(1).collect();
        for &e in ends.iter().rev() {
            if ends_clean(&rest[e + 1..]) {
                return Some((0, e + 1));
            }
        }
    }
    let end = rest.find(['#', '\n']).unwrap_or(rest.len());
    if !ends_clean(&rest[end..]) {
        return None;
    }
    Some((0, end))
}

/// `$NAME`, `${NAME}` replaced (see the module's documentation).
fn expand(v: &str, vars: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut it = v.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let escaped = c == '\\' && v[i + 1..].starts_with('$');
        if c != '$' && !escaped {
            out.push(c);
            continue;
        }
        if escaped {
            it.next();
        }
        // The match: `$`, `{`?, name?, `}`?
        let rest = &v[i + if escaped { 2 } else { 1 }..];
        let brace = rest.starts_with('{');
        let after = &rest[usize::from(brace)..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(after.len());
        let close = after[name_len..].starts_with('}');
        let consumed = usize::from(brace) + name_len + usize::from(close);
        let matched = &rest[..consumed];
        for _ in 0..matched.chars().count() {
            it.next();
        }
        if escaped || name_len == 0 {
            out.push('$');
            out.push_str(matched);
        } else {
            let name = &after[..name_len];
            if let Some((_, value)) = vars.iter().rev().find(|(k, _)| k == name) {
                out.push_str(value);
            }
        }
    }
    out
}

/// Unquote and unescape a value as gotenv does; whether it was single-quoted.
fn unquote(v: &str) -> (String, bool) {
    let b = v.as_bytes();
    let quoted = |q: u8| b.len() >= 2 && b[0] == q && b[b.len() - 1] == q;
    if quoted(b'\'') {
        return (v[1..v.len() - 1].to_string(), true);
    }
    if quoted(b'"') {
        let inner = v[1..v.len() - 1].replace("\\n", "\n").replace("\\r", "\r");
        let mut out = String::new();
        let mut it = inner.chars().peekable();
        while let Some(c) = it.next() {
            match (c, it.peek()) {
                ('\\', Some(&n)) if n != '$' => {
                    out.push(n);
                    it.next();
                }
                _ => out.push(c),
            }
        }
        return (out, false);
    }
    (v.to_string(), false)
}

/// The file in Conftest's dotenv shape. Never fails.
pub fn conftest(file: &SourceFile) -> Node {
    let text = file.text.as_str();
    // Lines end at \r\n, \n or \r.
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        lines.push((at, &rest[..end]));
        let nl = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        at += end + nl;
    }
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (line_at, raw) = lines[i];
        i += 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let start = line_at + (raw.len() - raw.trim_start().len());
        // A quoted value that does not close on its line goes on over the next ones.
        let mut joined = line.to_string();
        let sep = line.find('=').or_else(|| line.find(':'));
        if let Some(s) = sep.filter(|&s| s > 0 && s + 1 < line.len()) {
            let val = line[s + 1..].trim();
            if let Some(q) = val.chars().next().filter(|c| matches!(c, '"' | '\'')) {
                let inner = val[1..].trim();
                let closed = inner
                    .rfind(q)
                    .is_some_and(|k| val.as_bytes().get(k) != Some(&b'\\'));
                if !closed {
                    while i < lines.len() {
                        let l = lines[i].1;
                        i += 1;
                        joined.push('\n');
                        joined.push_str(l);
                        match l.rfind(q) {
                            Some(k) if k > 0 && l.as_bytes()[k - 1] == b'\\' => {}
                            Some(_) => break,
                            None => {}
                        }
                    }
                }
            }
        }
        // `export`? KEY (=|:) value
        let mut p = 0;
        if let Some(r) = joined.strip_prefix("export")
            && r.starts_with(char::is_whitespace)
        {
            p = joined.len() - r.trim_start().len();
        }
        let key_len = joined[p..]
            .find(|c: char| !is_word(c))
            .unwrap_or(joined.len() - p);
        if key_len == 0 {
            continue;
        }
        let key = &joined[p..p + key_len];
        let after_key = &joined[p + key_len..];
        let ws = after_key.len() - after_key.trim_start().len();
        let value_at = if after_key[ws..].starts_with('=') {
            let v = &after_key[ws + 1..];
            p + key_len + ws + 1 + (v.len() - v.trim_start().len())
        } else if after_key.starts_with(':') && after_key[1..].starts_with(char::is_whitespace) {
            let v = &after_key[1..];
            p + key_len + 1 + (v.len() - v.trim_start().len())
        } else {
            continue;
        };
        let Some((a, b)) = value_range(&joined[value_at..]) else {
            continue;
        };
        let raw_value = joined[value_at + a..value_at + b].trim();
        let (unquoted, single) = unquote(raw_value);
        let value = if single {
            unquoted
        } else {
            expand(&unquoted, &vars)
        };
        // Spans: `joined` is the file's text from `start` (lines joined with `\n`, as the file
        // has them unless it ends lines with `\r\n`: clamped to the file).
        let span = |from: usize, len: usize| {
            let s = (start + from).min(text.len());
            let e = (s + len).min(text.len());
            let fix = |mut x: usize| {
                while !text.is_char_boundary(x) {
                    x -= 1;
                }
                x
            };
            Span::new(file.id, fix(s), fix(e).max(fix(s)))
        };
        let key_span = span(p, key_len);
        let value_span = span(value_at + a, raw_value.len());
        entries.retain(|e| e.key.as_str() != Some(key));
        entries.push(Entry {
            key: Node::string(key_span, key),
            value: Node::string(value_span, value.as_str()),
        });
        vars.push((key.to_string(), value));
    }
    Node::new(
        Span::new(file.id, 0, text.len()),
        Value::Map(items(entries)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn parse(text: &str) -> (serde_json::Value, SourceFile) {
        let f = SourceFile::new(FileId(0), ".env".into(), ".env".into(), text.into());
        (conftest(&f).to_json(), f)
    }

    #[test]
    fn gotenvs_values() {
        let (v, _) = parse(
            "# settings\nexport APP_NAME=web\nPORT = 8080 # the port\nURL=\"http://${APP_NAME}:$PORT/\\n\"\nRAW='$APP_NAME \\n'\nESC=\\$HOME\nCOLON: yes\nMULTI=\"one\ntwo\"\nnot an assignment\nPORT=9090\n",
        );
        assert_eq!(
            v,
            serde_json::json!({
                "APP_NAME": "web",
                "PORT": "9090",
                "URL": "http://web:8080/\n",
                "RAW": "$APP_NAME \\n",
                "ESC": "$HOME",
                "COLON": "yes",
                "MULTI": "one\ntwo",
            })
        );
    }

    #[test]
    fn located_and_never_panics() {
        let (_, f) = parse("A=1\n  export B = \"x y\"\n");
        let n = conftest(&f);
        let b = n.entry("B").expect("B");
        assert_eq!(f.slice(b.key.span), "B");
        assert_eq!(f.slice(b.value.span), "\"x y\"");
        for t in [
            "",
            "=",
            "A=",
            "A=\"",
            "A='x",
            "export",
            "export A",
            "é=é",
            "A=\"é\\",
            "A:b",
            "\r\n\r",
            "A=${",
            "A=$",
            "A=\\",
            "A=\"x\r\ny\"\r\n",
        ] {
            let (_, f) = parse(t);
            let n = conftest(&f);
            for e in n.entries() {
                let _ = f.slice(e.key.span);
                let _ = f.slice(e.value.span);
            }
        }
    }
}
