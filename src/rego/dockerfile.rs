//! A Dockerfile as Conftest gives it to a policy: the list of instructions
//! its Dockerfile parser (BuildKit's parser, then one object per node)
//! produces, every value located at its bytes in the file.
//!
//! Each instruction is `{Cmd, SubCmd, JSON, Flags, Value, Stage}` as
//! Conftest has them, plus guard's `Original` (the instruction's text):
//! - `Cmd` is lower case; `Flags` the leading `--flag`s (quotes removed),
//!   `null` on a comment;
//! - `Value` depends on the instruction, as BuildKit splits it: the shell
//!   form of `RUN`, `CMD`, `ENTRYPOINT` and `SHELL` is one string (the exec
//!   form its JSON strings, and `JSON` is true); `ENV` and `LABEL` are
//!   `name, value, "="` triples (quotes kept; the old `ENV name value`
//!   form is `name, "value", ""`); `FROM`, `EXPOSE`, and `COPY`/`ADD`/
//!   `VOLUME` outside the exec form are split at white space; `ARG` is its
//!   words; `USER`, `WORKDIR`, `MAINTAINER`, `STOPSIGNAL` the rest of the
//!   line; `HEALTHCHECK` its type then its command; an unknown instruction
//!   `[""]`; a heredoc's body is not a value (`RUN <<EOF` is `["<<EOF"]`);
//! - `ONBUILD RUN x`: `Cmd` `onbuild`, `SubCmd` the instruction as written
//!   (`RUN`), `Value`/`JSON` of that instruction;
//! - comments are instructions too (`Cmd` `comment`, `Value` the text),
//!   placed before the instruction they precede (a `#` line alone ends a
//!   run of comments; parser directives such as `# syntax=` are not
//!   comments); `Stage` is the index of the `FROM` an instruction belongs
//!   to, a comment's that of the instruction after it.
//!
//! Continuation lines join as BuildKit joins them (the escape character
//! and trailing blanks removed, nothing added; comment and empty lines
//! inside skipped); `# escape=`` ` `` is honoured.

use crate::node::{Entry, Node, Value, items};
use crate::source::{FileId, SourceFile, Span};

/// A value and where it is in the logical line (byte offsets).
struct Piece {
    text: String,
    start: usize,
    end: usize,
}

impl Piece {
    fn new(text: impl Into<String>, start: usize, end: usize) -> Piece {
        Piece {
            text: text.into(),
            start,
            end,
        }
    }
}

/// An instruction's text, continuation lines joined, with the way back to
/// the file's bytes.
#[derive(Default)]
struct Logical {
    text: String,
    /// (offset in `text`, offset in the file) at the start of each part.
    map: Vec<(usize, usize)>,
}

impl Logical {
    fn push(&mut self, part: &str, at: usize) {
        self.map.push((self.text.len(), at));
        self.text.push_str(part);
    }

    fn to_file(&self, lo: usize) -> usize {
        let idx = self
            .map
            .partition_point(|&(l, _)| l <= lo)
            .saturating_sub(1);
        self.map
            .get(idx)
            .map_or(0, |&(l, f)| f + lo.saturating_sub(l))
    }

    fn span(&self, file: FileId, start: usize, end: usize) -> Span {
        let from = self.to_file(start);
        let to = self
            .text
            .get(start..end)
            .and_then(|s| s.char_indices().next_back())
            .map_or(from, |(i, c)| self.to_file(start + i) + c.len_utf8());
        Span::new(file, from, to.max(from))
    }
}

/// BuildKit's `[\t\v\f\r ]`.
fn blank(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | '\r' | ' ')
}

/// A parsed instruction.
struct Parsed {
    cmd: Piece,
    flags: Option<Vec<Piece>>,
    values: Option<Vec<Piece>>,
    json: bool,
    sub_cmd: Option<Piece>,
}

/// Parse one logical line from `off` (BuildKit's `newNodeFromLine`).
fn parse_line(line: &str, off: usize, esc: char) -> Parsed {
    let lead = line.len() - line.trim_start().len();
    let t = line.trim();
    let base = off + lead;
    let cmd_end = t.find(blank).unwrap_or(t.len());
    let cmd = Piece::new(&t[..cmd_end], base, base + cmd_end);
    let (flags, args, args_at) = if cmd_end == t.len() {
        (None, "", base + t.len())
    } else {
        let after = &t[cmd_end..];
        let rest_at = cmd_end + (after.len() - after.trim_start_matches(blank).len());
        let rest = &t[rest_at..];
        let (args_from, flags) = builder_flags(rest, base + rest_at, esc);
        let args = rest.get(args_from..).unwrap_or("");
        let args_lead = args.len() - args.trim_start().len();
        (
            Some(flags),
            args.trim(),
            base + rest_at + args_from + args_lead,
        )
    };
    let mut p = Parsed {
        cmd,
        flags,
        values: None,
        json: false,
        sub_cmd: None,
    };
    match p.cmd.text.to_ascii_lowercase().as_str() {
        "add" | "copy" | "volume" => (p.values, p.json) = maybe_json_list(args, args_at),
        "arg" => p.values = Some(words(args, args_at, esc)).filter(|w| !w.is_empty()),
        "cmd" | "entrypoint" | "run" | "shell" => (p.values, p.json) = maybe_json(args, args_at),
        "env" | "label" => p.values = name_val(args, args_at, esc),
        "expose" | "from" => p.values = whitespace_list(args, args_at),
        "healthcheck" => (p.values, p.json) = health(args, args_at),
        "maintainer" | "stopsignal" | "user" | "workdir" => {
            p.values =
                (!args.is_empty()).then(|| vec![Piece::new(args, args_at, args_at + args.len())]);
        }
        "onbuild" => {
            if !args.is_empty() {
                let sub = parse_line(args, args_at, esc);
                p.values = sub.values;
                p.json = sub.json;
                p.sub_cmd = Some(sub.cmd);
            }
        }
        _ => p.values = Some(vec![Piece::new("", args_at, args_at)]),
    }
    p
}

/// BuildKit's `extractBuilderFlags`: the leading `--` words (quotes and
/// escapes removed), and where the rest of `s` starts.
fn builder_flags(s: &str, base: usize, esc: char) -> (usize, Vec<Piece>) {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let at = |k: usize| chars.get(k).map_or(s.len(), |x| x.0);
    let mut flags = Vec::new();
    let mut k = 0;
    loop {
        while chars.get(k).is_some_and(|x| x.1.is_whitespace()) {
            k += 1;
        }
        let Some(&(start, c)) = chars.get(k) else {
            return (s.len(), flags);
        };
        if c != '-' || chars.get(k + 1).map(|x| x.1) != Some('-') {
            return (start, flags);
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        let mut blank_ok = false;
        while let Some(&(_, c)) = chars.get(k) {
            if quote.is_none() && c.is_whitespace() {
                break;
            }
            k += 1;
            match quote {
                None if c == '\'' || c == '"' => {
                    quote = Some(c);
                    blank_ok = true;
                }
                Some(q) if c == q => quote = None,
                _ if c == esc => match chars.get(k) {
                    Some(&(_, n)) => {
                        word.push(n);
                        k += 1;
                    }
                    None => quote = None,
                },
                _ => word.push(c),
            }
        }
        let end = at(k);
        if word == "--" {
            return (end, flags);
        }
        if blank_ok || !word.is_empty() {
            flags.push(Piece::new(word, base + start, base + end));
        }
        if k >= chars.len() {
            return (s.len(), flags);
        }
    }
}

/// BuildKit's `parseWords`: white-space separated words, quotes and escapes
/// kept as written.
fn words(s: &str, base: usize, esc: char) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match quote {
            None if c.is_whitespace() => {
                if let Some(st) = start.take() {
                    out.push(Piece::new(&s[st..i], base + st, base + i));
                }
            }
            None => {
                start.get_or_insert(i);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == esc {
                    it.next();
                }
            }
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == esc && q != '\'' {
                    it.next();
                }
            }
        }
    }
    if let Some(st) = start {
        let mut end = s.len();
        // An escape character ending the line is dropped.
        if quote.is_none() && s[st..].ends_with(esc) && !s[st..end - esc.len_utf8()].ends_with(esc)
        {
            end -= esc.len_utf8();
        }
        if end > st {
            out.push(Piece::new(&s[st..end], base + st, base + end));
        }
    }
    out
}

/// `ENV`/`LABEL`: `name, value, "="` for each `name=value` word; the old
/// form `name value...` is `name, value, ""`.
fn name_val(s: &str, base: usize, esc: char) -> Option<Vec<Piece>> {
    let ws = words(s, base, esc);
    let first = ws.first()?;
    if !first.text.contains('=') {
        let name_end = s.find(blank).unwrap_or(s.len());
        let after = &s[name_end..];
        let value_at = name_end + (after.len() - after.trim_start_matches(blank).len());
        return Some(vec![
            Piece::new(&s[..name_end], base, base + name_end),
            Piece::new(&s[value_at..], base + value_at, base + s.len()),
            Piece::new("", base + name_end, base + name_end),
        ]);
    }
    let mut out = Vec::new();
    for w in ws {
        // BuildKit refuses a word without `=` here; it is kept as a name.
        let (name, value) = w.text.split_once('=').unwrap_or((w.text.as_str(), ""));
        let eq = w.start + name.len();
        let (sep, sep_end) = if w.text.contains('=') {
            ("=", eq + 1)
        } else {
            ("", eq)
        };
        out.push(Piece::new(name, w.start, eq));
        out.push(Piece::new(value, sep_end, w.end));
        out.push(Piece::new(sep, eq, sep_end));
    }
    Some(out)
}

fn whitespace_list(s: &str, base: usize) -> Option<Vec<Piece>> {
    if s.is_empty() {
        return None;
    }
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if blank(c) {
            if i > start {
                out.push(Piece::new(&s[start..i], base + start, base + i));
            }
            start = i + c.len_utf8();
        }
    }
    out.push(Piece::new(&s[start..], base + start, base + s.len()));
    Some(out)
}

/// The exec form: a JSON array of strings, each located at its literal.
fn json_form(s: &str, base: usize) -> Option<Vec<Piece>> {
    let t = s.trim_start();
    if !t.starts_with('[') {
        return None;
    }
    let items: Vec<serde_json::Value> = serde_json::from_str(t).ok()?;
    let texts: Vec<String> = items
        .into_iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Some(s),
            _ => None,
        })
        .collect::<Option<_>>()?;
    // The string literals, in order (the array is flat: one per item).
    let lead = s.len() - t.len();
    let mut spans = Vec::new();
    let mut it = t.char_indices();
    while let Some((i, c)) = it.next() {
        if c == '"' {
            let mut end = t.len();
            while let Some((j, d)) = it.next() {
                match d {
                    '\\' => {
                        it.next();
                    }
                    '"' => {
                        end = j + 1;
                        break;
                    }
                    _ => {}
                }
            }
            spans.push((lead + i, lead + end));
        }
    }
    Some(
        texts
            .into_iter()
            .enumerate()
            .map(|(k, text)| {
                let (a, b) = spans.get(k).copied().unwrap_or((lead, s.len()));
                Piece::new(text, base + a, base + b)
            })
            .collect(),
    )
}

fn maybe_json(s: &str, base: usize) -> (Option<Vec<Piece>>, bool) {
    if s.is_empty() {
        return (None, false);
    }
    match json_form(s, base) {
        Some(v) => (Some(v), true),
        None => (Some(vec![Piece::new(s, base, base + s.len())]), false),
    }
}

fn maybe_json_list(s: &str, base: usize) -> (Option<Vec<Piece>>, bool) {
    match json_form(s, base) {
        Some(v) => (Some(v), true),
        None => (whitespace_list(s, base), false),
    }
}

fn health(s: &str, base: usize) -> (Option<Vec<Piece>>, bool) {
    let sep = s.find(|c: char| c.is_ascii_whitespace()).unwrap_or(s.len());
    if sep == 0 {
        return (None, false);
    }
    let after = &s[sep..];
    let next = sep
        + (after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_whitespace())
                .len());
    let mut out = vec![Piece::new(&s[..sep], base, base + sep)];
    let (rest, json) = maybe_json(&s[next..], base + next);
    out.extend(rest.unwrap_or_default());
    (Some(out), json)
}

/// A directive line (`# syntax=...`, `# escape=...`, `# check=...`): its
/// name (lower case) and value.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let (k, v) = rest.split_once('=')?;
    let k = k.trim_end();
    let v = v.trim();
    let mut ks = k.chars();
    let ok_key =
        ks.next().is_some_and(|c| c.is_ascii_alphabetic()) && ks.all(|c| c.is_ascii_alphanumeric());
    let k = k.to_ascii_lowercase();
    (ok_key && !v.is_empty() && matches!(k.as_str(), "syntax" | "escape" | "check"))
        .then(|| (k, v.to_string()))
}

/// The line without its escape character of continuation (and the blanks
/// after it), and whether the instruction continues.
fn continuation(line: &str, esc: char) -> (&str, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    match t.strip_suffix(esc) {
        Some("") => ("", true),
        Some(before) if !before.ends_with(esc) => (before, true),
        _ => (line, false),
    }
}

/// The heredoc terminators an instruction's line opens (`<<EOF`, `<<-"EOF"`),
/// and whether each strips leading tabs.
fn heredocs(line: &str) -> Vec<(String, bool)> {
    line.split_whitespace()
        .filter_map(|w| {
            let w = w.trim_start_matches(|c: char| c.is_ascii_digit());
            let rest = w.strip_prefix("<<")?;
            let (chomp, rest) = match rest.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let name: String = rest.chars().filter(|c| !matches!(c, '"' | '\'')).collect();
            (!name.is_empty() && !rest.contains('<')).then_some((name, chomp))
        })
        .collect()
}

fn string(span: Span, s: &str) -> Node {
    Node::string(span, s)
}

fn entry(key_span: Span, key: &str, value: Node) -> Entry {
    Entry {
        key: Node::string(key_span, key),
        value,
    }
}

fn list(span: Span, l: &Logical, file: FileId, pieces: Option<Vec<Piece>>) -> Node {
    match pieces {
        None => Node::new(span, Value::Null),
        Some(ps) => Node::new(
            span,
            Value::Seq(items(
                ps.iter()
                    .map(|p| string(l.span(file, p.start, p.end), &p.text))
                    .collect(),
            )),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn instruction(
    whole: Span,
    key_span: Span,
    cmd: &str,
    sub_cmd: Node,
    json: bool,
    flags: Node,
    value: Node,
    stage: i64,
    original: &str,
) -> Node {
    let map = vec![
        entry(key_span, "Cmd", string(key_span, cmd)),
        entry(key_span, "SubCmd", sub_cmd),
        entry(key_span, "JSON", Node::new(key_span, Value::Bool(json))),
        entry(key_span, "Flags", flags),
        entry(key_span, "Value", value),
        entry(
            key_span,
            "Stage",
            Node::new(key_span, Value::Number(stage.max(0).to_string().into())),
        ),
        entry(key_span, "Original", string(whole, original)),
    ];
    Node::new(whole, Value::Map(items(map)))
}

/// The Dockerfile in Conftest's shape. Never fails.
pub fn conftest(file: &SourceFile) -> Node {
    let text = file.text.as_str();
    let id = file.id;
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut at = 0;
    for l in text.split_inclusive('\n') {
        lines.push((at, l));
        at += l.len();
    }
    if let Some((at, l)) = lines.first_mut()
        && let Some(rest) = l.strip_prefix('\u{feff}')
    {
        *at += '\u{feff}'.len_utf8();
        *l = rest;
    }
    let mut out: Vec<Node> = Vec::new();
    let mut esc = '\\';
    let mut header = true;
    let mut comments: Vec<(String, Span)> = Vec::new();
    let mut stage: i64 = -1;
    let mut i = 0;
    while i < lines.len() {
        let (at, raw) = lines[i];
        i += 1;
        let body = raw.trim_end_matches(['\n', '\r']);
        let lead = body.len() - body.trim_start().len();
        let stripped = &body[lead..];
        if header {
            match directive(stripped) {
                Some((k, v)) => {
                    if k == "escape" && (v == "`" || v == "\\") {
                        esc = v.chars().next().unwrap_or('\\');
                    }
                    continue;
                }
                None => header = false,
            }
        }
        if let Some(c) = stripped.strip_prefix('#') {
            let c = c.trim();
            if c.is_empty() {
                comments.clear();
            } else {
                let span = Span::new(id, at + lead, at + lead + stripped.len());
                comments.push((c.to_string(), span));
            }
            continue;
        }
        let (part, mut more) = continuation(stripped, esc);
        if !more && part.is_empty() {
            continue;
        }
        let mut logical = Logical::default();
        logical.push(part, at + lead);
        let mut end = at + lead + stripped.len();
        while more && i < lines.len() {
            let (l_at, l_raw) = lines[i];
            i += 1;
            let l = l_raw.trim_end_matches(['\n', '\r']);
            let trimmed = l.trim_start();
            if trimmed.starts_with('#') || trimmed.is_empty() {
                continue;
            }
            let (part, m) = continuation(l, esc);
            logical.push(part, l_at);
            end = l_at + l.len();
            more = m;
        }
        let p = parse_line(&logical.text, 0, esc);
        let cmd = p.cmd.text.to_ascii_lowercase();
        // A heredoc's body follows the instruction: it is not an instruction.
        let opens = matches!(cmd.as_str(), "add" | "copy" | "run")
            || (cmd == "onbuild"
                && p.sub_cmd.as_ref().is_some_and(|s| {
                    matches!(s.text.to_ascii_lowercase().as_str(), "add" | "copy" | "run")
                }));
        if opens && logical.text.contains("<<") {
            for (name, chomp) in heredocs(&logical.text) {
                while i < lines.len() {
                    let (l_at, l_raw) = lines[i];
                    i += 1;
                    end = l_at + l_raw.trim_end_matches(['\n', '\r']).len();
                    let l = l_raw.trim_end_matches(['\n', '\r']);
                    let l = if chomp { l.trim_start_matches('\t') } else { l };
                    if l == name {
                        break;
                    }
                }
            }
        }
        if cmd == "from" {
            stage += 1;
        }
        let key_span = logical.span(id, p.cmd.start, p.cmd.end);
        let whole = Span::new(
            id,
            key_span.start as usize,
            end.max(key_span.start as usize),
        );
        for (c, span) in comments.drain(..) {
            let text_span = Span::new(id, span.start as usize, span.end as usize);
            out.push(instruction(
                text_span,
                text_span,
                "comment",
                string(text_span, ""),
                false,
                Node::new(text_span, Value::Null),
                Node::new(text_span, Value::Seq(items(vec![string(text_span, &c)]))),
                stage,
                file.text
                    .get(span.start as usize..span.end as usize)
                    .unwrap_or(""),
            ));
        }
        let sub_cmd = match &p.sub_cmd {
            Some(s) => string(logical.span(id, s.start, s.end), &s.text),
            None => string(key_span, ""),
        };
        let flags = list(key_span, &logical, id, p.flags);
        let value = list(key_span, &logical, id, p.values);
        out.push(instruction(
            whole,
            key_span,
            &cmd,
            sub_cmd,
            p.json,
            flags,
            value,
            stage,
            logical.text.trim(),
        ));
    }
    Node::new(Span::new(id, 0, text.len()), Value::Seq(items(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        let f = SourceFile::new(
            FileId(0),
            "Dockerfile".into(),
            "Dockerfile".into(),
            text.into(),
        );
        let mut v = conftest(&f).to_json();
        for i in v.as_array_mut().into_iter().flatten() {
            if let Some(m) = i.as_object_mut() {
                m.remove("Original");
            }
        }
        v
    }

    fn ins(
        cmd: &str,
        flags: serde_json::Value,
        value: serde_json::Value,
        json: bool,
        stage: u32,
    ) -> serde_json::Value {
        serde_json::json!({"Cmd": cmd, "SubCmd": "", "JSON": json, "Flags": flags, "Value": value, "Stage": stage})
    }

    #[test]
    fn buildkits_values_per_instruction() {
        use serde_json::json as j;
        let v = json(
            "# syntax=docker/dockerfile:1\n# build stage\nFROM golang:1.22 AS build\nENV A=1 B=\"two words\"\nENV K v with spaces\nLABEL maintainer=\"x y\" version=1\nARG X=1 Y\nRUN apt-get update && \\\n    # a comment inside\n    apt-get install -y curl\nRUN [\"echo\", \"hi\"]\nCOPY --from=build --chown=1:1 /a /b\nEXPOSE 80 443\nUSER nobody\nHEALTHCHECK --interval=5s CMD curl -f http://x/\n#\n# second\nFROM scratch\nCMD echo done\n",
        );
        let want = j!([
            ins("comment", j!(null), j!(["build stage"]), false, 0),
            ins("from", j!([]), j!(["golang:1.22", "AS", "build"]), false, 0),
            ins(
                "env",
                j!([]),
                j!(["A", "1", "=", "B", "\"two words\"", "="]),
                false,
                0
            ),
            ins("env", j!([]), j!(["K", "v with spaces", ""]), false, 0),
            ins(
                "label",
                j!([]),
                j!(["maintainer", "\"x y\"", "=", "version", "1", "="]),
                false,
                0
            ),
            ins("arg", j!([]), j!(["X=1", "Y"]), false, 0),
            ins(
                "run",
                j!([]),
                j!(["apt-get update &&     apt-get install -y curl"]),
                false,
                0
            ),
            ins("run", j!([]), j!(["echo", "hi"]), true, 0),
            ins(
                "copy",
                j!(["--from=build", "--chown=1:1"]),
                j!(["/a", "/b"]),
                false,
                0
            ),
            ins("expose", j!([]), j!(["80", "443"]), false, 0),
            ins("user", j!([]), j!(["nobody"]), false, 0),
            ins(
                "healthcheck",
                j!(["--interval=5s"]),
                j!(["CMD", "curl -f http://x/"]),
                false,
                0
            ),
            ins("comment", j!(null), j!(["second"]), false, 1),
            ins("from", j!([]), j!(["scratch"]), false, 1),
            ins("cmd", j!([]), j!(["echo done"]), false, 1),
        ]);
        assert_eq!(v, want);
    }

    #[test]
    fn onbuild_heredocs_escape_and_odd_input() {
        use serde_json::json as j;
        let v = json(
            "FROM x\nONBUILD RUN [\"a\"]\nRUN <<EOF\necho hi\nEOF\nFOO bar\nSTOPSIGNAL SIGTERM\n",
        );
        assert_eq!(
            v[1],
            j!({"Cmd": "onbuild", "SubCmd": "RUN", "JSON": true, "Flags": [], "Value": ["a"], "Stage": 0})
        );
        assert_eq!(v[2]["Value"], j!(["<<EOF"]));
        assert_eq!(v[3]["Cmd"], "foo");
        assert_eq!(v[3]["Value"], j!([""]));
        assert_eq!(v[4]["Value"], j!(["SIGTERM"]));
        assert_eq!(v.as_array().map(Vec::len), Some(5));
        let v = json("# escape=`\nFROM x\nRUN a `\n  b\n");
        assert_eq!(v[1]["Value"], j!(["a   b"]));
        for t in [
            "",
            "\\",
            "FROM",
            "RUN [\"unterminated",
            "ENV \"x",
            "\u{feff}FROM é\n",
            "RUN [1]",
            "ENV a",
            "ONBUILD",
            "COPY --",
            "COPY --x=\"a b\\",
            "LABEL a=b c",
        ] {
            let _ = json(t);
        }
    }

    #[test]
    fn any_text_parses_with_spans_on_char_boundaries() {
        const PARTS: [&str; 24] = [
            "FROM ",
            "RUN ",
            "ENV ",
            "ONBUILD ",
            "COPY ",
            "HEALTHCHECK ",
            "\\",
            "`",
            "\"",
            "'",
            "[",
            "]",
            "\n",
            " ",
            "\t",
            "#",
            "=",
            "--",
            "<<",
            "EOF",
            "é",
            "\r",
            "\u{feff}",
            "# escape=`\n",
        ];
        fn walk(n: &Node, f: &SourceFile) {
            let (a, b) = (n.span.start as usize, n.span.end as usize);
            assert!(a <= b && b <= f.text.len(), "{a}..{b} in {:?}", f.text);
            assert!(
                f.text.is_char_boundary(a) && f.text.is_char_boundary(b),
                "{:?}",
                f.text
            );
            for c in n.as_seq() {
                walk(c, f);
            }
            for e in n.entries() {
                walk(&e.key, f);
                walk(&e.value, f);
            }
        }
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(PARTS[(seed % PARTS.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(1);
            let f = SourceFile::new(FileId(0), "Dockerfile".into(), "Dockerfile".into(), text);
            walk(&conftest(&f), &f);
        }
    }

    #[test]
    fn values_are_located() {
        let text = "FROM x\nENV A=1 \\\n  B=two\nRUN [\"a\", \"b c\"]\n";
        let f = SourceFile::new(
            FileId(0),
            "Dockerfile".into(),
            "Dockerfile".into(),
            text.into(),
        );
        let n = conftest(&f);
        let ins = n.as_seq();
        let vals = |k: usize| {
            ins[k]
                .get("Value")
                .map(|v| v.as_seq().to_vec())
                .unwrap_or_default()
        };
        let env = vals(1);
        assert_eq!(f.slice(env[3].span), "B");
        assert_eq!(f.line_col(env[3].span.start).line, 3);
        assert_eq!(f.slice(env[4].span), "two");
        assert_eq!(f.slice(vals(2)[1].span), "\"b c\"");
        assert_eq!(
            f.slice(ins[2].get("Cmd").map(|c| c.span).unwrap_or(n.span)),
            "RUN"
        );
    }
}
