//! YAML: span-carrying [`Node`]s built from saphyr-parser's event stream.
//!
//! The tree is built with an explicit stack (no recursion over the input), so
//! hostile nesting cannot overflow the stack. Every key, value and sequence
//! item keeps the byte span of its text:
//!
//! - plain and quoted scalars: the scalar text (quotes included); with an
//!   anchor or tag (`&a`, `!Ref`), the span starts at the first of those;
//! - block scalars (`|`, `>`): from the indicator to the end of the last
//!   content line;
//! - empty values (`key:`): an empty span right after the `:` or `-`;
//! - mappings and sequences: from their first character (`{`, `[`, the first
//!   key or `-`) to their last (`}`, `]`, or the end of the last value);
//! - alias values (`*a`): a clone of the anchored node, with the anchor's spans.
//!
//! Plain scalars are resolved by the YAML 1.2 core schema. Tags are accepted
//! and otherwise ignored (`!Ref x` reads as the string `x`), except the core
//! tags `!!str`, `!!int`, `!!float`, `!!bool` and `!!null`.
//!
//! Duplicate keys are reported ([`DiagKind::DuplicateKey`]) and the later
//! value wins. Merge keys (`<<: *base`, `<<: [*a, *b]`) are applied. Alias
//! expansion is bounded by [`MAX_ALIAS_NODES`] per file and nesting by
//! [`MAX_DEPTH`] (the part past it reads as [`Value::Unknown`]); each gives
//! at most one [`DiagKind::Limit`] diagnostic per file. saphyr itself stops
//! at 255 nested flow collections (`[[[...`); that is a `Limit` too, and the
//! rest of the file is not read.
//!
//! Go/Helm templates (`{{ ... }}` that break YAML or parse as a mapping key)
//! give one [`DiagKind::Template`] diagnostic and no documents. Compatibility
//! with libyaml (PyYAML, go-yaml, kubectl): multi-line quoted scalars whose
//! continuation lines are not indented enough are read, and a block scalar
//! ending the text without a line break gets none added.

use crate::hash::{HashMap, HashSet};
use std::borrow::Cow;
use std::panic::AssertUnwindSafe;

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

use super::{DiagKind, MAX_DEPTH, ParseDiag};
use crate::node::{Entry, Node, Str, Value};
use crate::source::{SourceFile, Span};

/// At most this many nodes are produced by alias expansion in one file (all
/// its documents together); aliases past it read as [`Value::Unknown`]
/// ("billion laughs" guard).
pub const MAX_ALIAS_NODES: usize = 100_000;

/// One YAML document of a stream (`---` separated).
#[derive(Clone, Debug, PartialEq)]
pub struct YamlDoc {
    /// 0-based position of the document in the file, counting empty ones.
    pub index: usize,
    pub root: Node,
}

/// Everything read from one YAML file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct YamlOutput {
    /// Non-empty documents, in file order. Documents completed before a parse
    /// error are kept, and so are those after the next `---` line.
    pub docs: Vec<YamlDoc>,
    pub diags: Vec<ParseDiag>,
}

/// Parse a YAML stream. Never panics; problems become [`ParseDiag`]s.
pub fn parse(file: &SourceFile) -> YamlOutput {
    // The builder below does not panic; this guards against an unexpected
    // panic inside the third-party parser so one file cannot stop a run.
    match std::panic::catch_unwind(AssertUnwindSafe(|| parse_unguarded(file))) {
        Ok(out) => out,
        Err(_) => YamlOutput {
            docs: Vec::new(),
            diags: vec![ParseDiag::new(
                DiagKind::ParseError,
                Span::new(file.id, 0, 0),
                "the YAML parser failed on this file (internal error); not checked",
            )],
        },
    }
}

fn parse_unguarded(file: &SourceFile) -> YamlOutput {
    let text = file.text.as_str();
    let pos = Positions::new(text);
    // Quoted scalars whose continuation lines are not indented past their
    // mapping are rejected by saphyr (as YAML 1.2 says) but read by libyaml,
    // PyYAML and go-yaml (kubectl). Retry with those scalars joined into one
    // line; see `join_quoted_lines`.
    let mut fixes: Vec<usize> = Vec::new();
    let (b, error) = loop {
        let patched = (!fixes.is_empty()).then(|| join_quoted_lines(text, &fixes));
        let mut b = Builder::new(file, &pos);
        b.unfold = patched.is_some();
        let error = run(&mut b, patched.as_deref().unwrap_or(text));
        if let Some(e) = &error
            && e.info() == "invalid indentation in quoted scalar"
            && retry_allowed(fixes.len(), text.len())
            && !text.contains([JOINED_BREAK, JOINED_ESCAPED_BREAK])
        {
            let at = pos.byte(*e.marker());
            if matches!(text.as_bytes().get(at), Some(b'"' | b'\'')) && !fixes.contains(&at) {
                fixes.push(at);
                continue;
            }
        }
        let error = error.map(|e| b.scan_error(&e));
        break (b, error);
    };

    // A Go/Helm template either breaks YAML, or (`key: {{ .Values.x }}`)
    // parses as a mapping used as a key. Either way it is not plain YAML.
    let template_at = match (&error, b.template_hit) {
        (Some(_), _) => template_start(text),
        (None, Some(hit)) => Some(template_start(text).unwrap_or(hit)),
        (None, None) => None,
    };
    if let Some(at) = template_at {
        return YamlOutput {
            docs: Vec::new(),
            diags: vec![ParseDiag::new(
                DiagKind::Template,
                Span::new(file.id, at, at + 2),
                "this file is a Go/Helm template (`{{ ... }}`), not plain YAML; it is not checked",
            )],
        };
    }
    let mut duplicates = b.duplicates;
    let mut diags = b.diags;
    let mut docs = b.docs;
    let mut err_at = error.as_ref().map(|d| d.span.start as usize);
    diags.extend(error);
    // A broken document does not hide the ones after it: parse again from
    // the next `---`, with everything before it blanked (same byte offsets).
    let mut rounds = 0;
    while let Some(at) = err_at {
        rounds += 1;
        let Some(next) = next_document(text, at).filter(|_| rounds <= MAX_RECOVERIES) else {
            break;
        };
        let masked = blank_before(text, next);
        let mpos = Positions::new(&masked);
        let mut b = Builder::new(file, &mpos);
        let error = run(&mut b, &masked).map(|e| b.scan_error(&e));
        // Documents after the broken one keep counting from it.
        let base = docs.last().map_or(0, |d| d.index + 1) + 1;
        docs.extend(b.docs.into_iter().map(|mut d| {
            d.index += base;
            d
        }));
        // Each round reports its own first repeats; the file's total is
        // capped below.
        let mut kept = diags
            .iter()
            .filter(|d| d.kind == DiagKind::DuplicateKey)
            .count();
        diags.extend(b.diags.into_iter().filter(|d| {
            if d.kind != DiagKind::DuplicateKey {
                return true;
            }
            kept += 1;
            kept <= super::MAX_DUPLICATE_DIAGS
        }));
        duplicates += b.duplicates;
        err_at = error.as_ref().map(|d| d.span.start as usize);
        diags.extend(error);
    }
    super::summarize_duplicates(&mut diags, duplicates);
    YamlOutput { docs, diags }
}

/// How many times one file is re-parsed after errors, at most.
const MAX_RECOVERIES: usize = 64;

/// The byte offset of the next `---` document marker that starts a line
/// after `at`.
fn next_document(text: &str, at: usize) -> Option<usize> {
    let mut from = at.min(text.len());
    while let Some(i) = text.get(from..)?.find("\n---") {
        let start = from + i + 1;
        let after = text.as_bytes().get(start + 3).copied();
        if matches!(after, None | Some(b'\n' | b'\r' | b' ' | b'\t')) {
            return Some(start);
        }
        from = start;
    }
    None
}

/// `text` with every byte before `at` but line breaks replaced by a space.
fn blank_before(text: &str, at: usize) -> String {
    let bytes: Vec<u8> = text
        .bytes()
        .enumerate()
        .map(|(i, b)| if i < at && b != b'\n' { b' ' } else { b })
        .collect();
    // `at` is the start of a line, so no character is cut in two.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Feed saphyr's events for `src` to the builder; the scan error, if any.
/// `src` has the same chars as the file text, so char indices match it.
fn run(b: &mut Builder<'_>, src: &str) -> Option<ScanError> {
    let mut parser = Parser::new_from_str(src);
    while let Some(next) = parser.next_event() {
        match next {
            Ok((Event::StreamEnd, _)) => break,
            Ok((ev, span)) => b.event(ev, span.start, span.end),
            Err(e) => return Some(e),
        }
    }
    None
}

/// Each quoted scalar re-read by joining its lines costs a re-parse of the
/// file: at most 1024 of them, and past 8 only while the re-parsed text
/// stays under 32 MiB.
fn retry_allowed(done: usize, text_len: usize) -> bool {
    done < 8 || (done < 1024 && (done + 1).saturating_mul(text_len) <= 32 << 20)
}
/// Stands for a line break inside a joined quoted scalar.
const JOINED_BREAK: char = '\u{E000}';
/// Stands for the `\` of an escaped line break in a joined quoted scalar.
const JOINED_ESCAPED_BREAK: char = '\u{E001}';

/// `text` with the line breaks of the quoted scalars starting at `starts`
/// replaced by one char each (so char indices are unchanged), making each of
/// them a one-line scalar. [`unfold_joined`] restores their value.
fn join_quoted_lines(text: &str, starts: &[usize]) -> String {
    let bytes = text.as_bytes();
    let mut replace: HashMap<usize, char> = HashMap::default();
    for &start in starts {
        let Some(&quote) = bytes.get(start) else {
            continue;
        };
        let mut i = start + 1;
        while let Some(&c) = bytes.get(i) {
            match c {
                b'\\' if quote == b'"' => {
                    if matches!(bytes.get(i + 1), Some(b'\n' | b'\r')) {
                        replace.insert(i, JOINED_ESCAPED_BREAK);
                        i += 1;
                    } else {
                        i += 2;
                    }
                }
                b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                c if c == quote => break,
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    replace.insert(i, ' ');
                    i += 1;
                }
                b'\n' | b'\r' => {
                    replace.insert(i, JOINED_BREAK);
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }
    text.char_indices()
        .map(|(i, c)| replace.get(&i).copied().unwrap_or(c))
        .collect()
}

/// The value of a joined quoted scalar: YAML line folding applied to the
/// stand-in chars (a break and the blanks around it fold to a space, `n`
/// breaks to `n - 1` newlines; an escaped break joins without a space).
fn unfold_joined(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let skip_blanks = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
    };
    while let Some(c) = chars.next() {
        match c {
            JOINED_ESCAPED_BREAK => {
                chars.next_if_eq(&JOINED_BREAK);
                skip_blanks(&mut chars);
            }
            JOINED_BREAK => {
                out.truncate(out.trim_end_matches([' ', '\t']).len());
                let mut breaks = 1;
                loop {
                    skip_blanks(&mut chars);
                    if chars.next_if_eq(&JOINED_BREAK).is_none() {
                        break;
                    }
                    breaks += 1;
                }
                if breaks == 1 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', breaks - 1));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The first `{{` that looks like a template action: not GitHub Actions'
/// `${{`, not in a comment, and closed by a later `}}`.
fn template_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    // Linear in the text, however many `{{` it has: the last `}}` and each
    // line's comment start are found once.
    let last_close = text.rfind("}}")?;
    // The line of the last `{{` looked at: its start and comment start.
    let mut line_start = 0;
    let mut comment: Option<usize> = None;
    let mut scanned = 0;
    let mut from = 0;
    while let Some(found) = text.get(from..).and_then(|rest| rest.find("{{")) {
        let at = from + found;
        from = at + 2;
        if at > 0 && bytes.get(at - 1) == Some(&b'$') {
            continue;
        }
        if at + 2 > last_close {
            return None;
        }
        if let Some(nl) = text.get(scanned..at).and_then(|t| t.rfind('\n')) {
            line_start = scanned + nl + 1;
            comment = None;
        }
        scanned = at;
        let c = *comment.get_or_insert_with(|| comment_start(text, line_start));
        if c < at {
            continue;
        }
        return Some(at);
    }
    None
}

/// Where a comment starts on the line starting at `line_start` (the
/// line's end if it has none): a `#` that is the first non-blank char of
/// the line or follows a space or tab.
fn comment_start(text: &str, line_start: usize) -> usize {
    let rest = text.get(line_start..).unwrap_or_default();
    let line = rest.split('\n').next().unwrap_or_default();
    let lead = line.len() - line.trim_start().len();
    if line.trim_start().starts_with('#') {
        return line_start + lead;
    }
    let b = line.as_bytes();
    (1..b.len())
        .find(|&i| b[i] == b'#' && matches!(b[i - 1], b' ' | b'\t'))
        .map_or(line_start + line.len(), |i| line_start + i)
}

/// Char index (saphyr's `Marker::index`) to byte offset.
struct Positions<'a> {
    text: &'a str,
    /// Byte offset of every char, plus the text length; `None` for ASCII text.
    char_starts: Option<Vec<u32>>,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Positions<'a> {
        let char_starts = (!text.is_ascii()).then(|| {
            let mut v: Vec<u32> = text
                .char_indices()
                .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
                .collect();
            v.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            v
        });
        Positions { text, char_starts }
    }

    fn byte(&self, m: Marker) -> usize {
        let i = m.index();
        match &self.char_starts {
            None => i.min(self.text.len()),
            Some(v) => v.get(i).map_or(self.text.len(), |&b| b as usize),
        }
    }
}

/// A finished node with what the limits need to know about it.
#[derive(Clone)]
struct Built {
    node: Node,
    /// Nodes in the subtree, itself included.
    count: usize,
    /// Collection levels in the subtree (0 for a scalar).
    height: usize,
}

/// An open mapping or sequence.
struct Frame {
    coll: Coll,
    start: usize,
    anchor: usize,
    /// Largest end offset of any child as written (aliases: the `*a` text).
    end: usize,
    count: usize,
    child_height: usize,
}

enum Coll {
    Seq(Vec<Node>),
    Map(MapBuild),
}

#[derive(Default)]
struct MapBuild {
    /// Entries in order, including earlier entries of repeated keys.
    entries: Vec<Entry>,
    /// Indices of entries replaced by a later repeat of their key.
    dead: Vec<usize>,
    /// One per distinct scalar key: the index of its (live) entry and the
    /// span of its first occurrence.
    slots: Vec<(usize, Span)>,
    /// Key identity -> slot, once the mapping has more than [`SMALL_MAP`] keys.
    index: Option<HashMap<KeyId, usize>>,
    pending_key: Option<Node>,
    /// Merge (`<<`) values with the entry position they were written at.
    merges: Vec<(usize, Node)>,
}

/// A subtree skipped because it nests too deep.
struct Skip {
    depth: usize,
    start: usize,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    Bool(bool),
    Number(Box<str>),
    String(Str),
}

fn key_id(n: &Node) -> Option<KeyId> {
    match &n.value {
        Value::Null => Some(KeyId::Null),
        Value::Bool(b) => Some(KeyId::Bool(*b)),
        Value::Number(s) => Some(KeyId::Number(s.clone())),
        Value::String(s) => Some(KeyId::String(s.clone())),
        _ => None,
    }
}

struct Builder<'f> {
    file: &'f SourceFile,
    pos: &'f Positions<'f>,
    docs: Vec<YamlDoc>,
    diags: Vec<ParseDiag>,
    /// Index of the current (or next) document.
    doc_index: usize,
    root: Option<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    alias_nodes: usize,
    skip: Option<Skip>,
    alias_limit_reported: bool,
    depth_limit_reported: bool,
    /// A flow mapping that starts with `{{`.
    template_hit: Option<usize>,
    /// Quoted scalars may hold [`JOINED_BREAK`]s to unfold.
    unfold: bool,
    /// Repeated keys seen (see [`super::push_duplicate`]).
    duplicates: usize,
}

impl<'f> Builder<'f> {
    fn new(file: &'f SourceFile, pos: &'f Positions<'f>) -> Builder<'f> {
        Builder {
            file,
            pos,
            docs: Vec::new(),
            diags: Vec::new(),
            doc_index: 0,
            root: None,
            stack: Vec::new(),
            anchors: HashMap::default(),
            alias_nodes: 0,
            skip: None,
            alias_limit_reported: false,
            depth_limit_reported: false,
            template_hit: None,
            unfold: false,
            duplicates: 0,
        }
    }

    fn text(&self) -> &'f str {
        self.pos.text
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file.id, start, end)
    }

    /// A span covering the char at `at` (empty at the end of the text).
    fn char_span(&self, at: usize) -> Span {
        let len = self
            .text()
            .get(at..)
            .and_then(|s| s.chars().next())
            .map_or(0, char::len_utf8);
        self.span(at, at + len)
    }

    fn scan_error(&self, e: &ScanError) -> ParseDiag {
        let at = self.pos.byte(*e.marker());
        if e.info() == "recursion limit exceeded" {
            // saphyr counts flow nesting (`[`, `{`) in a u8 and stops at 255.
            return ParseDiag::new(
                DiagKind::Limit,
                self.char_span(at),
                "flow collections (`[`, `{`) nest deeper than 255 levels; the rest of the file is not read",
            );
        }
        ParseDiag::new(
            DiagKind::ParseError,
            self.char_span(at),
            e.info().to_string(),
        )
    }

    fn event(&mut self, ev: Event<'_>, start: Marker, end: Marker) {
        let start = self.pos.byte(start);
        let end = self.pos.byte(end).max(start);

        if let Some(skip) = &mut self.skip {
            match ev {
                Event::SequenceStart(..) | Event::MappingStart(..) => skip.depth += 1,
                Event::SequenceEnd | Event::MappingEnd => {
                    skip.depth = skip.depth.saturating_sub(1);
                    if skip.depth == 0 {
                        let from = skip.start;
                        self.skip = None;
                        let to = if end > start
                            && matches!(self.text().as_bytes().get(start), Some(b']' | b'}'))
                        {
                            start + 1
                        } else {
                            let t = self.text().get(from..start).unwrap_or("");
                            from + t.trim_end().len()
                        };
                        let node = Node::new(self.span(from, to), Value::Unknown);
                        self.attach(
                            Built {
                                node,
                                count: 1,
                                height: 0,
                            },
                            to,
                        );
                    }
                }
                _ => {}
            }
            return;
        }

        match ev {
            Event::DocumentStart(_) => {
                // The alias budget is the file's, not each document's: a
                // stream of thousands of small alias bombs is one big one.
                self.root = None;
                self.stack.clear();
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take()
                    && root.value != Value::Null
                {
                    self.docs.push(YamlDoc {
                        index: self.doc_index,
                        root,
                    });
                }
                self.stack.clear();
                self.anchors.clear();
                self.doc_index += 1;
            }
            Event::Scalar(v, style, anchor, tag) => {
                let has_props = anchor > 0 || tag.is_some();
                let (s, e) = self.scalar_span(&v, style, start, end, has_props);
                let v = match style {
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
                        if self.unfold && v.contains([JOINED_BREAK, JOINED_ESCAPED_BREAK]) =>
                    {
                        Cow::Owned(unfold_joined(&v))
                    }
                    // At the end of a text without a final line break,
                    // saphyr still adds one to `|`/`>` scalars; libyaml,
                    // PyYAML and go-yaml do not (nor does YAML 1.2).
                    ScalarStyle::Literal | ScalarStyle::Folded
                        if end >= self.text().len()
                            && !self.text().ends_with(['\n', '\r'])
                            && v.ends_with('\n') =>
                    {
                        let mut v = v.into_owned();
                        v.pop();
                        Cow::Owned(v)
                    }
                    _ => v,
                };
                let value = scalar_value(v, style, tag.as_deref());
                let built = Built {
                    node: Node::new(self.span(s, e), value),
                    count: 1,
                    height: 0,
                };
                self.complete(built, e, anchor);
            }
            Event::Alias(id) => {
                let built = self.expand_alias(id, start, end);
                self.attach(built, end);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    self.report_depth(start);
                    self.skip = Some(Skip { depth: 1, start });
                    return;
                }
                let coll = if matches!(ev, Event::MappingStart(..)) {
                    if self
                        .text()
                        .get(start..)
                        .is_some_and(|t| t.starts_with("{{"))
                    {
                        self.template_hit.get_or_insert(start);
                    }
                    Coll::Map(MapBuild::default())
                } else {
                    Coll::Seq(Vec::new())
                };
                let start = if matches!(ev, Event::SequenceStart(..)) {
                    self.block_sequence_start(start)
                } else {
                    start
                };
                self.stack.push(Frame {
                    coll,
                    start,
                    anchor,
                    end,
                    count: 1,
                    child_height: 0,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let to = self.collection_end(start, end, frame.end);
                let span = self.span(frame.start, to);
                let value = match frame.coll {
                    // Held until the end of the run: no room to spare.
                    Coll::Seq(items) => Value::Seq(crate::node::items(items)),
                    Coll::Map(m) => Value::Map(crate::node::items(finish_map(m))),
                };
                let built = Built {
                    node: Node::new(span, value),
                    count: frame.count,
                    height: frame.child_height + 1,
                };
                self.complete(built, to, frame.anchor);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
    }

    /// End offset of a collection: its closing bracket if it has one, else
    /// the end of its content (block collections end where the next token
    /// starts, which may be after comments and blank lines).
    /// (saphyr's span of a `]` or `}` also covers the blanks and comment
    /// after it.)
    fn collection_end(&self, ev_start: usize, ev_end: usize, content_end: usize) -> usize {
        if ev_end > ev_start && matches!(self.text().as_bytes().get(ev_start), Some(b']' | b'}')) {
            ev_start + 1
        } else {
            content_end
        }
    }

    /// saphyr starts an indentless sequence (`key:` then `- a` at the same
    /// indentation) at its first item; move the start to the `-`.
    fn block_sequence_start(&self, start: usize) -> usize {
        let text = self.text();
        let b = text.as_bytes();
        let at_entry =
            b.get(start) == Some(&b'-') && b.get(start + 1).is_none_or(|c| c.is_ascii_whitespace());
        if at_entry || matches!(b.get(start), Some(b'[' | b'&' | b'!')) {
            return start;
        }
        let before = text.get(..start).unwrap_or("");
        let trimmed = before.trim_end_matches([' ', '\t']);
        if trimmed.ends_with('-') {
            trimmed.len() - 1
        } else {
            start
        }
    }

    fn report_depth(&mut self, at: usize) {
        if !self.depth_limit_reported {
            self.depth_limit_reported = true;
            let span = self.char_span(at);
            self.diags.push(ParseDiag::new(
                DiagKind::Limit,
                span,
                format!("nesting deeper than {MAX_DEPTH} levels; the deeper part is not read"),
            ));
        }
    }

    fn expand_alias(&mut self, id: usize, start: usize, end: usize) -> Built {
        let unknown = |b: &Self| Built {
            node: Node::new(b.span(start, end), Value::Unknown),
            count: 1,
            height: 0,
        };
        // Unknown: anchored inside a skipped subtree, or a recursive alias
        // to a node that is still open.
        let Some(target) = self.anchors.get(&id) else {
            return unknown(self);
        };
        if self.stack.len() + target.height > MAX_DEPTH {
            self.report_depth(start);
            return unknown(self);
        }
        if self.alias_nodes + target.count > MAX_ALIAS_NODES {
            if !self.alias_limit_reported {
                self.alias_limit_reported = true;
                let span = self.span(start, end);
                self.diags.push(ParseDiag::new(
                    DiagKind::Limit,
                    span,
                    format!(
                        "aliases expand to more than {MAX_ALIAS_NODES} nodes; \
                         further aliases are not expanded"
                    ),
                ));
            }
            return unknown(self);
        }
        self.alias_nodes += target.count;
        target.clone()
    }

    fn complete(&mut self, built: Built, extent_end: usize, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, built.clone());
        }
        self.attach(built, extent_end);
    }

    fn attach(&mut self, built: Built, extent_end: usize) {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(built.node);
            return;
        };
        frame.count = frame.count.saturating_add(built.count);
        frame.child_height = frame.child_height.max(built.height);
        frame.end = frame.end.max(extent_end);
        match &mut frame.coll {
            Coll::Seq(items) => items.push(built.node),
            Coll::Map(m) => match m.pending_key.take() {
                None => m.pending_key = Some(built.node),
                Some(key) => {
                    let file = self.file;
                    if let Some(repeat) = insert_entry(m, key, built.node, file) {
                        super::push_duplicate(&mut self.diags, &mut self.duplicates, || {
                            repeat.diag(file)
                        });
                    }
                }
            },
        }
    }

    /// Byte range of a scalar from its event range.
    fn scalar_span(
        &self,
        v: &str,
        style: ScalarStyle,
        start: usize,
        end: usize,
        has_props: bool,
    ) -> (usize, usize) {
        let text = self.text();
        match style {
            ScalarStyle::Literal | ScalarStyle::Folded => {
                // saphyr starts a block scalar at its first content line and
                // ends it after the indentation of the next line.
                let s = if has_props {
                    start
                } else {
                    block_indicator(text, start).unwrap_or(start)
                };
                let e = text.get(s..end).map_or(end, |t| {
                    s + t.trim_end_matches([' ', '\t', '\r', '\n']).len()
                });
                (s, e.max(s))
            }
            ScalarStyle::Plain if v.is_empty() && !has_props => {
                // An empty value: saphyr points at the `:` (or `-`, `?`).
                let s = match text.as_bytes().get(start) {
                    Some(b':' | b'-' | b'?') => start + 1,
                    _ => start,
                };
                (s, s)
            }
            // saphyr's span of a quoted scalar also covers the blanks and
            // comment after the closing quote.
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                let open = text
                    .get(start..end)
                    .and_then(|t| t.find(['"', '\'']))
                    .map(|k| start + k);
                match open.and_then(|o| quoted_close(text, o)) {
                    Some(close) if close < end => (start, close + 1),
                    _ => (start, end),
                }
            }
            // Plain scalars end at their last char; an empty one with an
            // anchor or tag ends with those (saphyr's span may run on).
            ScalarStyle::Plain if v.is_empty() => (start, props_end(text, start, end)),
            ScalarStyle::Plain => (start, end),
        }
    }
}

/// The closing quote of the quoted scalar opening at `open`.
fn quoted_close(text: &str, open: usize) -> Option<usize> {
    let b = text.as_bytes();
    let quote = *b.get(open)?;
    let mut i = open + 1;
    while let Some(&c) = b.get(i) {
        if c == b'\\' && quote == b'"' {
            i += 2;
        } else if c == quote {
            if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
            } else {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The end of the anchor and tag (`&a !t`) starting at `start`.
fn props_end(text: &str, start: usize, limit: usize) -> usize {
    let b = text.as_bytes();
    let mut i = start;
    let mut end = start;
    while i < limit {
        while i < limit && matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if !matches!(b.get(i), Some(b'&' | b'!')) {
            break;
        }
        while i < limit && b.get(i).is_some_and(|c| !c.is_ascii_whitespace()) {
            i += 1;
        }
        end = i;
    }
    end.max(start)
}

/// Where the `|` or `>` header of a block scalar is, given where saphyr
/// starts the scalar (its first content line, or the indicator itself when
/// the scalar is empty at the end of the text).
fn block_indicator(text: &str, content_start: usize) -> Option<usize> {
    let line_start = text.get(..content_start)?.rfind('\n').map_or(0, |p| p + 1);
    if let Some(k) = header_indicator(text.get(content_start..)?.lines().next().unwrap_or(""))
        && k == 0
    {
        return Some(content_start);
    }
    // The header is the last non-blank line before the content line.
    let mut end = line_start;
    while end > 0 {
        let prev_end = end - 1; // the '\n'
        let prev_start = text[..prev_end].rfind('\n').map_or(0, |p| p + 1);
        let line = &text[prev_start..prev_end];
        if line.trim().is_empty() {
            end = prev_start;
            continue;
        }
        return header_indicator(line).map(|k| prev_start + k);
    }
    None
}

/// Offset in `line` of a block scalar indicator: `|` or `>`, optional
/// chomping/indentation indicators, then only blanks or a comment.
fn header_indicator(line: &str) -> Option<usize> {
    line.char_indices().find_map(|(k, c)| {
        if c != '|' && c != '>' {
            return None;
        }
        let rest = line[k + 1..]
            .trim_start_matches(['+', '-', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        let rest = rest.trim_start_matches([' ', '\t', '\r']);
        (rest.is_empty() || rest.starts_with('#')).then_some(k)
    })
}

/// A repeated key: where it is, and where it was first set.
struct Repeat {
    key: Node,
    first: Span,
}

impl Repeat {
    fn diag(&self, file: &SourceFile) -> ParseDiag {
        let line = file.line_of(self.first.start);
        let shown = self
            .key
            .scalar_text()
            .map_or_else(String::new, |t| t.into_owned());
        let mut diag = ParseDiag::new(
            DiagKind::DuplicateKey,
            self.key.span,
            format!(
                "mapping key `{}` repeats (first at line {line}); the later value wins",
                shown.escape_debug()
            ),
        );
        diag.related.push((
            self.first,
            format!("`{}` first set here", shown.escape_debug()),
        ));
        diag
    }
}

/// Add `key: value` to a mapping being built. Returns the repeat when the
/// key was set before; the later entry replaces the earlier one.
fn insert_entry(m: &mut MapBuild, key: Node, value: Node, file: &SourceFile) -> Option<Repeat> {
    if is_merge_key(&key, file) && is_merge_value(&value) {
        m.merges.push((m.entries.len(), value));
        return None;
    }
    let new_index = m.entries.len();
    let diag = match m.find_slot(&key) {
        Some(slot) => {
            let (index, first) = m.slots[slot];
            m.dead.push(index);
            m.slots[slot].0 = new_index;
            Some(Repeat {
                key: key.clone(),
                first,
            })
        }
        None => {
            if is_scalar(&key) {
                m.add_slot(&key, new_index);
            }
            None
        }
    };
    m.entries.push(Entry { key, value });
    diag
}

/// Mappings with at most this many keys find repeats by a linear scan.
const SMALL_MAP: usize = 12;

impl MapBuild {
    fn live_key(&self, index: usize) -> Option<&Node> {
        // Slots always point at the latest, live, entry of their key.
        self.entries.get(index).map(|e| &e.key)
    }

    /// The slot of a key equal to `key`, if any.
    fn find_slot(&self, key: &Node) -> Option<usize> {
        if !is_scalar(key) {
            return None;
        }
        match &self.index {
            Some(index) => index.get(&key_id(key)?).copied(),
            None => self
                .slots
                .iter()
                .position(|&(i, _)| self.live_key(i).is_some_and(|k| same_key(k, key))),
        }
    }

    fn add_slot(&mut self, key: &Node, index: usize) {
        self.slots.push((index, key.span));
        let slot = self.slots.len() - 1;
        if let Some(map) = &mut self.index {
            if let Some(id) = key_id(key) {
                map.insert(id, slot);
            }
        } else if self.slots.len() > SMALL_MAP {
            let mut map =
                HashMap::with_capacity_and_hasher(self.slots.len() * 2, Default::default());
            for (s, &(i, _)) in self.slots.iter().enumerate() {
                if let Some(k) = self.live_key(i).and_then(key_id) {
                    map.insert(k, s);
                }
            }
            if let Some(id) = key_id(key) {
                map.insert(id, slot);
            }
            self.index = Some(map);
        }
    }

    /// Identities of all keys written in the mapping itself.
    fn key_ids(&self) -> HashSet<KeyId> {
        let mut ids: HashSet<KeyId> = self
            .slots
            .iter()
            .filter_map(|&(i, _)| self.live_key(i).and_then(key_id))
            .collect();
        ids.shrink_to_fit();
        ids
    }
}

fn is_scalar(n: &Node) -> bool {
    matches!(
        n.value,
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)
    )
}

/// Whether two scalar keys are the same key (same type and text).
fn same_key(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

/// A plain `<<` key (a quoted `"<<"` is an ordinary key).
fn is_merge_key(key: &Node, file: &SourceFile) -> bool {
    key.as_str() == Some("<<") && file.slice(key.span) == "<<"
}

fn is_merge_value(v: &Node) -> bool {
    match &v.value {
        Value::Map(_) => true,
        Value::Seq(items) => items.iter().all(Node::is_map),
        _ => false,
    }
}

/// Entries of a finished mapping: repeated keys dropped (the last one kept),
/// merged entries inserted where their `<<` was, unless the mapping itself
/// or an earlier merge source has the key.
fn finish_map(m: MapBuild) -> Vec<Entry> {
    let mut seen = if m.merges.is_empty() {
        HashSet::default()
    } else {
        m.key_ids()
    };
    let mut dead = m.dead;
    dead.sort_unstable();
    let live = |i: usize| dead.binary_search(&i).is_err();
    if m.merges.is_empty() {
        if dead.is_empty() {
            return m.entries;
        }
        return m
            .entries
            .into_iter()
            .enumerate()
            .filter_map(|(i, e)| live(i).then_some(e))
            .collect();
    }
    let mut inserts: Vec<(usize, Entry)> = Vec::new();
    for (at, source) in m.merges {
        let maps = match source.value {
            Value::Map(entries) => vec![entries],
            Value::Seq(items) => items
                .into_iter()
                .filter_map(|n| match n.value {
                    Value::Map(entries) => Some(entries),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for entry in maps.into_iter().flatten() {
            let fresh = key_id(&entry.key).is_none_or(|id| seen.insert(id));
            if fresh {
                inserts.push((at, entry));
            }
        }
    }
    let mut out = Vec::with_capacity(m.entries.len() + inserts.len());
    let mut inserts = inserts.into_iter().peekable();
    for (i, entry) in m.entries.into_iter().enumerate() {
        while let Some((_, e)) = inserts.next_if(|(at, _)| *at <= i) {
            out.push(e);
        }
        if live(i) {
            out.push(entry);
        }
    }
    out.extend(inserts.map(|(_, e)| e));
    out
}

/// A scalar's text as held in the model: inline when short, else without
/// room to spare (the scanner's buffers grow as they read).
fn scalar_text(v: Cow<'_, str>) -> Str {
    match v {
        Cow::Borrowed(b) => b.into(),
        Cow::Owned(s) if s.len() <= std::mem::size_of::<Str>() => s.as_str().into(),
        Cow::Owned(mut s) => {
            s.shrink_to_fit();
            s.into()
        }
    }
}

fn scalar_value(v: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    match tag {
        Some(t) if t.is_yaml_core_schema() => match t.suffix.as_str() {
            "null" => Value::Null,
            "bool" | "int" | "float" => match resolve_plain(&v) {
                r @ (Value::Bool(_) | Value::Number(_)) => r,
                _ => Value::String(scalar_text(v)),
            },
            _ => Value::String(scalar_text(v)),
        },
        // Application tags (CloudFormation `!Ref`, `!Sub`, ...) and `!`:
        // the text as written.
        Some(_) => Value::String(scalar_text(v)),
        None if style == ScalarStyle::Plain => match resolve_plain(&v) {
            Value::String(_) => Value::String(scalar_text(v)),
            r => r,
        },
        None => Value::String(scalar_text(v)),
    }
}

/// YAML 1.2 core schema resolution of a plain scalar. Strings come back
/// empty (the caller moves its text in).
fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if is_core_int(s) || is_core_float(s) => Value::Number(s.into()),
        _ => Value::String(Str::default()),
    }
}

fn is_core_int(s: &str) -> bool {
    let all = |t: &str, f: fn(u8) -> bool| !t.is_empty() && t.bytes().all(f);
    if let Some(h) = s.strip_prefix("0x") {
        return all(h, |b| b.is_ascii_hexdigit());
    }
    if let Some(o) = s.strip_prefix("0o") {
        return all(o, |b| (b'0'..=b'7').contains(&b));
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    all(digits, |b| b.is_ascii_digit())
}

fn is_core_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    if matches!(t, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    // [0-9]+(\.[0-9]*)? | \.[0-9]+ , then ([eE][-+]?[0-9]+)?
    let b = t.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let int_digits = digits(&mut i);
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = digits(&mut i);
    } else if int_digits == 0 {
        return false;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, LineCol};

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(0), "t.yaml".into(), "t.yaml".into(), text.into())
    }

    fn lc(f: &SourceFile, offset: u32) -> (u32, u32) {
        let LineCol { line, column } = f.line_col(offset);
        (line, column)
    }

    fn one(text: &str) -> (SourceFile, Node) {
        let f = file(text);
        let out = parse(&f);
        assert!(out.diags.is_empty(), "unexpected diags: {:?}", out.diags);
        assert_eq!(out.docs.len(), 1, "docs: {:?}", out.docs);
        let root = out.docs.into_iter().next().unwrap().root;
        (f, root)
    }

    #[test]
    fn spans_of_keys_and_values() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web, 'tier': \"front\"}\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n      ports: [80, 443]\n";
        let (f, root) = one(text);
        let e = root.entry("kind").unwrap();
        assert_eq!(f.slice(e.key.span), "kind");
        assert_eq!(lc(&f, e.key.span.start), (2, 1));
        assert_eq!(f.slice(e.value.span), "Pod");
        assert_eq!(lc(&f, e.value.span.start), (2, 7));
        let labels = root.path(&["metadata", "labels"]).unwrap();
        assert_eq!(f.slice(labels.span), "{app: web, 'tier': \"front\"}");
        let tier = labels.entry("tier").unwrap();
        assert_eq!(f.slice(tier.key.span), "'tier'");
        assert_eq!(f.slice(tier.value.span), "\"front\"");
        let c = &root.path(&["spec", "containers"]).unwrap().as_seq()[0];
        assert_eq!(lc(&f, c.span.start), (8, 7));
        assert_eq!(f.slice(c.get("image").unwrap().span), "nginx:1.25");
        let ports = c.get("ports").unwrap();
        assert_eq!(f.slice(ports.span), "[80, 443]");
        assert_eq!(ports.as_seq()[1].value, Value::Number("443".into()));
        assert_eq!(f.slice(ports.as_seq()[1].span), "443");
        // Block mapping: from its first key to the end of its last value.
        let meta = root.get("metadata").unwrap();
        assert!(f.slice(meta.span).starts_with("name: web"));
        assert!(f.slice(meta.span).ends_with("\"front\"}"));
        let seq = root.path(&["spec", "containers"]).unwrap();
        assert!(f.slice(seq.span).starts_with("- name: c"));
        assert!(f.slice(seq.span).ends_with("[80, 443]"));
        assert_eq!(f.slice(root.span), text.trim_end());
        // Indentless sequences start at their first `-` too.
        let (f, root) = one("cmd:\n- a\n- b\nx:\n-\n  - c\nz:\n- -1\n");
        assert_eq!(f.slice(root.get("cmd").unwrap().span), "- a\n- b");
        let x = root.get("x").unwrap();
        assert_eq!(f.slice(x.span), "-\n  - c");
        assert_eq!(f.slice(x.as_seq()[0].span), "- c");
        assert_eq!(f.slice(root.get("z").unwrap().span), "- -1");
    }

    #[test]
    fn spans_stop_before_trailing_comments() {
        let text = "a: \"x\"   # note \"q\"\nb: ['y' , {c: d}  ]  # c\ne: {}   \nf: !!null   # n\ng: 'it''s'  \nh: \"a\\\"b\" # \"\n";
        let (f, root) = one(text);
        assert_eq!(f.slice(root.get("a").unwrap().span), "\"x\"");
        let b = root.get("b").unwrap();
        assert_eq!(f.slice(b.span), "['y' , {c: d}  ]");
        assert_eq!(f.slice(b.as_seq()[0].span), "'y'");
        assert_eq!(f.slice(b.as_seq()[1].span), "{c: d}");
        assert_eq!(f.slice(root.get("e").unwrap().span), "{}");
        let fv = root.get("f").unwrap();
        assert_eq!(fv.value, Value::Null);
        assert_eq!(f.slice(fv.span), "!!null");
        assert_eq!(f.slice(root.get("g").unwrap().span), "'it''s'");
        assert_eq!(root.str_at(&["g"]), Some("it's"));
        assert_eq!(f.slice(root.get("h").unwrap().span), "\"a\\\"b\"");
        assert_eq!(
            f.slice(root.span),
            text.trim_end().trim_end_matches(" # \"")
        );
    }

    #[test]
    fn scalar_resolution() {
        let (_, root) = one(
            "a: ~\nb:\nc: True\nd: 0x1F\ne: -1.5e3\nf: .inf\ng: yes\nh: '1'\ni: 0o17\nj: .NaN\nk: 1.\nl: 1_000\nm: null\nn: FALSE\no: !!str 3\np: !!int '7'\n",
        );
        let v = |k: &str| root.get(k).unwrap().value.clone();
        assert_eq!(v("a"), Value::Null);
        assert_eq!(v("b"), Value::Null);
        assert_eq!(v("c"), Value::Bool(true));
        assert_eq!(v("d"), Value::Number("0x1F".into()));
        assert_eq!(v("e"), Value::Number("-1.5e3".into()));
        assert_eq!(v("f"), Value::Number(".inf".into()));
        assert_eq!(v("g"), Value::String("yes".into()));
        assert_eq!(v("h"), Value::String("1".into()));
        assert_eq!(v("i"), Value::Number("0o17".into()));
        assert_eq!(v("j"), Value::Number(".NaN".into()));
        assert_eq!(v("k"), Value::Number("1.".into()));
        assert_eq!(v("l"), Value::String("1_000".into()));
        assert_eq!(v("m"), Value::Null);
        assert_eq!(v("n"), Value::Bool(false));
        assert_eq!(v("o"), Value::String("3".into()));
        assert_eq!(v("p"), Value::Number("7".into()));
    }

    #[test]
    fn empty_values_have_empty_spans_after_the_indicator() {
        let (f, root) = one("a:\nb: 1\nc:\n  - \n  - x\n");
        let a = root.get("a").unwrap();
        assert_eq!(a.value, Value::Null);
        assert_eq!(a.span.start, a.span.end);
        assert_eq!(lc(&f, a.span.start), (1, 3));
        let items = root.get("c").unwrap().as_seq();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].value, Value::Null);
        assert_eq!(lc(&f, items[0].span.start).0, 4);
    }

    #[test]
    fn multi_document_streams_keep_indices() {
        let f = file("---\n---\na: 1\n---\n# only a comment\n---\n~\n---\n- x\n...\n");
        let out = parse(&f);
        assert!(out.diags.is_empty(), "{:?}", out.diags);
        let idx: Vec<usize> = out.docs.iter().map(|d| d.index).collect();
        assert_eq!(idx, vec![1, 4]);
        assert_eq!(lc(&f, out.docs[0].root.span.start), (3, 1));
        assert_eq!(lc(&f, out.docs[1].root.span.start), (9, 1));
    }

    #[test]
    fn implicit_first_document_is_index_zero() {
        let f = file("a: 1\n---\nb: 2\n");
        let out = parse(&f);
        let idx: Vec<usize> = out.docs.iter().map(|d| d.index).collect();
        assert_eq!(idx, vec![0, 1]);
        assert!(parse(&file("")).docs.is_empty());
        assert!(parse(&file("# nothing\n")).docs.is_empty());
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let f = file("name: a\nimage: x\nname: b\nname: c\n");
        let out = parse(&f);
        assert_eq!(out.docs.len(), 1);
        let root = &out.docs[0].root;
        assert_eq!(root.entries().len(), 2);
        assert_eq!(root.str_at(&["name"]), Some("c"));
        let d: Vec<_> = out
            .diags
            .iter()
            .filter(|d| d.kind == DiagKind::DuplicateKey)
            .collect();
        assert_eq!(d.len(), 2);
        assert_eq!(lc(&f, d[0].span.start), (3, 1));
        assert_eq!(f.slice(d[0].span), "name");
        assert_eq!(
            d[0].message,
            "mapping key `name` repeats (first at line 1); the later value wins"
        );
        assert_eq!(lc(&f, d[0].related[0].0.start), (1, 1));
        assert_eq!(lc(&f, d[1].span.start), (4, 1));
        assert_eq!(lc(&f, d[1].related[0].0.start), (1, 1));
        // Different scalar types are different keys; nested maps are separate.
        let (_, r) = one("1: a\n'1': b\nx: {a: 1}\ny: {a: 2}\n");
        assert_eq!(r.entries().len(), 4);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "base: &base\n  cpu: 1\n  mem: 2\nother: &o {mem: 3, disk: 4}\nuse:\n  <<: *base\n  cpu: 9\nmulti:\n  <<: [*o, *base]\nref: *base\ninline:\n  <<: {z: 1}\n  y: 2\n";
        let (f, root) = one(text);
        let u = root.get("use").unwrap();
        assert_eq!(u.get("cpu").unwrap().value, Value::Number("9".into()));
        assert_eq!(u.get("mem").unwrap().value, Value::Number("2".into()));
        assert!(u.get("<<").is_none());
        assert_eq!(u.entries().len(), 2);
        // Merged values keep the spans of where they were written.
        assert_eq!(lc(&f, u.get("mem").unwrap().span.start), (3, 8));
        let m = root.get("multi").unwrap();
        assert_eq!(m.get("mem").unwrap().value, Value::Number("3".into()));
        assert_eq!(m.get("cpu").unwrap().value, Value::Number("1".into()));
        assert_eq!(m.get("disk").unwrap().value, Value::Number("4".into()));
        assert_eq!(m.entries().len(), 3);
        let r = root.get("ref").unwrap();
        assert_eq!(
            r.get("cpu").unwrap().span,
            root.path(&["base", "cpu"]).unwrap().span
        );
        let i = root.get("inline").unwrap();
        assert_eq!(i.entries().len(), 2);
        // A quoted "<<" is an ordinary key.
        let (_, q) = one("a: &a {x: 1}\nb:\n  '<<': *a\n");
        assert!(q.path(&["b", "<<", "x"]).is_some());
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let r = format!("*{}", w[0]);
            text.push_str(&format!(
                "{}: &{} [{}]\n",
                w[1],
                w[1],
                [r.as_str(); 9].join(",")
            ));
        }
        let f = file(&text);
        let t = std::time::Instant::now();
        let out = parse(&f);
        assert!(t.elapsed().as_secs() < 5);
        let limits: Vec<_> = out
            .diags
            .iter()
            .filter(|d| d.kind == DiagKind::Limit)
            .collect();
        assert_eq!(limits.len(), 1, "{:?}", out.diags);
        assert_eq!(out.docs.len(), 1);
        fn count(n: &Node) -> usize {
            1 + n.as_seq().iter().map(count).sum::<usize>()
                + n.entries().iter().map(|e| count(&e.value)).sum::<usize>()
        }
        assert!(count(&out.docs[0].root) < 2 * MAX_ALIAS_NODES + 10_000);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        // Block nesting: the subtree past MAX_DEPTH reads as Unknown.
        let mut text: String = (0..300)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        text.push_str("top2: x\n");
        let f = file(&text);
        let out = parse(&f);
        assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
        assert_eq!(out.diags[0].kind, DiagKind::Limit);
        assert_eq!(out.docs.len(), 1);
        let mut n = &out.docs[0].root;
        let mut depth = 0;
        while let Some(e) = n.entries().first() {
            n = &e.value;
            depth += 1;
        }
        assert_eq!(n.value, Value::Unknown);
        assert_eq!(depth, MAX_DEPTH);
        assert_eq!(lc(&f, n.span.start), (257, 257));
        assert_eq!(out.docs[0].root.str_at(&["top2"]), Some("x"));
        // Block nesting continued by flow nesting.
        let mut text: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        text.push_str(&format!(
            "{}k: {}1{}\n",
            " ".repeat(200),
            "[".repeat(100),
            "]".repeat(100)
        ));
        let out = parse(&file(&text));
        assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
        assert_eq!(out.diags[0].kind, DiagKind::Limit);
        assert_eq!(out.docs.len(), 1);
        // Flow nesting: saphyr itself stops at 255 levels; that is a Limit too.
        for text in [
            "[".repeat(100_000),
            format!("{}1{}", "[".repeat(300), "]".repeat(300)),
        ] {
            let out = parse(&file(&text));
            assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
            assert_eq!(out.diags[0].kind, DiagKind::Limit);
            assert!(out.docs.is_empty());
        }
        // Aliases cannot stack nesting past the limit either.
        let mut text = format!("a: &a {}1{}\n", "[".repeat(200), "]".repeat(200));
        text.push_str(&format!(
            "b: {}*a{}\nc: [*a]\n",
            "[".repeat(60),
            "]".repeat(60)
        ));
        let out = parse(&file(&text));
        assert_eq!(
            out.diags
                .iter()
                .filter(|d| d.kind == DiagKind::Limit)
                .count(),
            1
        );
        let mut n = out.docs[0].root.get("b").unwrap();
        while let Some(first) = n.as_seq().first() {
            n = first;
        }
        assert_eq!(n.value, Value::Unknown);
        assert_eq!(
            out.docs[0].root.get("c").unwrap().as_seq()[0]
                .as_seq()
                .len(),
            1
        );
    }

    #[test]
    fn parse_error_location_and_earlier_documents() {
        let f = file("a: 1\n---\nb: [1, 2\nc: 3\n");
        let out = parse(&f);
        assert_eq!(out.docs.len(), 1);
        assert_eq!(out.docs[0].index, 0);
        let errs: Vec<_> = out
            .diags
            .iter()
            .filter(|d| d.kind == DiagKind::ParseError)
            .collect();
        assert_eq!(errs.len(), 1);
        assert_eq!(lc(&f, errs[0].span.start), (4, 2));
        assert!(!errs[0].message.is_empty());

        let f = file("a:\n  b: 1\n c: 2\n");
        let out = parse(&f);
        assert!(out.docs.is_empty());
        assert_eq!(out.diags.len(), 1);
        assert_eq!(out.diags[0].kind, DiagKind::ParseError);
        assert_eq!(lc(&f, out.diags[0].span.start).0, 3);
    }

    #[test]
    fn helm_templates_are_reported_not_parsed() {
        let helm = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"x.fullname\" . }}\n  labels:\n    {{- include \"x.labels\" . | nindent 4 }}\nspec:\n  {{- if .Values.replicas }}\n  replicas: {{ .Values.replicas }}\n  {{- end }}\n";
        let f = file(helm);
        let out = parse(&f);
        assert!(out.docs.is_empty());
        assert_eq!(out.diags.len(), 1);
        assert_eq!(out.diags[0].kind, DiagKind::Template);
        assert_eq!(lc(&f, out.diags[0].span.start), (4, 9));
        // A template that happens to parse as YAML (`{{ x }}` is a flow map).
        let f = file("metadata:\n  name: {{ template \"fullname\" . }}\n");
        let out = parse(&f);
        assert!(out.docs.is_empty());
        assert_eq!(out.diags[0].kind, DiagKind::Template);
        // Quoted template text is just a string.
        let (_, root) = one("name: \"{{ .Values.name }}\"\nimg: '{{ x }}'\n");
        assert_eq!(root.str_at(&["name"]), Some("{{ .Values.name }}"));
    }

    #[test]
    fn workflow_expressions_parse() {
        let text = "on: push\njobs:\n  build:\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: echo ${{ secrets.TOKEN }}\n        if: ${{ github.event_name == 'push' }}\n      - uses: actions/checkout@v4\n        with:\n          token: ${{ secrets.X }}\n";
        let (f, root) = one(text);
        let os = root.path(&["jobs", "build", "runs-on"]).unwrap();
        assert_eq!(os.as_str(), Some("${{ matrix.os }}"));
        assert_eq!(f.slice(os.span), "${{ matrix.os }}");
        let step = &root.path(&["jobs", "build", "steps"]).unwrap().as_seq()[0];
        assert_eq!(step.str_at(&["run"]), Some("echo ${{ secrets.TOKEN }}"));
        // `on` is a string key under the 1.2 core schema.
        assert!(root.get("on").is_some());
    }

    #[test]
    fn non_ascii_text() {
        let text = "# ünïcödé comment ✓\nnäme: \"日本語\"\nlabel: café au lait\nlist:\n  - 🚀 rocket\n  - x\nafter: ok\n";
        let (f, root) = one(text);
        let e = root.entry("näme").unwrap();
        assert_eq!(f.slice(e.key.span), "näme");
        assert_eq!(lc(&f, e.key.span.start), (2, 1));
        assert_eq!(f.slice(e.value.span), "\"日本語\"");
        assert_eq!(lc(&f, e.value.span.start), (2, 7));
        let l = root.get("label").unwrap();
        assert_eq!(f.slice(l.span), "café au lait");
        let items = root.get("list").unwrap().as_seq();
        assert_eq!(f.slice(items[0].span), "🚀 rocket");
        assert_eq!(f.slice(items[1].span), "x");
        let a = root.entry("after").unwrap();
        assert_eq!(f.slice(a.key.span), "after");
        assert_eq!(lc(&f, a.value.span.start), (7, 8));
        // A parse error after non-ASCII text is located in chars correctly.
        let f = file("é: [ü\n");
        let out = parse(&f);
        assert_eq!(out.diags[0].kind, DiagKind::ParseError);
        assert!(f.text.is_char_boundary(out.diags[0].span.start as usize));
    }

    #[test]
    fn block_scalars_span_their_lines() {
        let text = "script: |\n  echo one\n  echo two\n\nfolded: >- # comment | here\n  a\n  b\nnext: 1\nempty: |\nlast: &x !t |+\n  kept\n\n";
        let (f, root) = one(text);
        let s = root.get("script").unwrap();
        assert_eq!(s.as_str(), Some("echo one\necho two\n"));
        assert_eq!(f.slice(s.span), "|\n  echo one\n  echo two");
        assert_eq!(lc(&f, s.span.start), (1, 9));
        let fo = root.get("folded").unwrap();
        assert_eq!(fo.as_str(), Some("a b"));
        assert_eq!(f.slice(fo.span), ">- # comment | here\n  a\n  b");
        let e = root.get("empty").unwrap();
        assert_eq!(e.as_str(), Some(""));
        assert_eq!(f.slice(e.span), "|");
        let l = root.get("last").unwrap();
        assert_eq!(l.as_str(), Some("kept\n\n"));
        assert_eq!(f.slice(l.span), "&x !t |+\n  kept");
        // Block scalar at the end of the text without a newline.
        let (f, root) = one("k: |");
        assert_eq!(f.slice(root.get("k").unwrap().span), "|");
        let (f, root) = one("k: |\n  a\n  b");
        let k = root.get("k").unwrap();
        assert_eq!(k.as_str(), Some("a\nb"));
        assert_eq!(f.slice(k.span), "|\n  a\n  b");
        let (_, root) = one("k: >\n  a\n  b\n");
        assert_eq!(root.str_at(&["k"]), Some("a b\n"));
        // Sequence item block scalar.
        let (f, root) = one("- |\n  x\n- y\n");
        assert_eq!(f.slice(root.as_seq()[0].span), "|\n  x");
    }

    #[test]
    fn under_indented_quoted_scalars_are_read_like_libyaml() {
        let text = "a:\n  description: \"List of regions for\n  Appengine (i.e 'asia*')\\\n    .\"\n  other: 'x\n\n   y  \n z'\n  d: \"\"\nb: 1\n";
        let (f, root) = one(text);
        let d = root.path(&["a", "description"]).unwrap();
        assert_eq!(
            d.as_str(),
            Some("List of regions for Appengine (i.e 'asia*').")
        );
        assert_eq!(lc(&f, d.span.start), (2, 16));
        assert!(f.slice(d.span).starts_with("\"List") && f.slice(d.span).ends_with(".\""));
        let o = root.path(&["a", "other"]).unwrap();
        assert_eq!(o.as_str(), Some("x\ny z"));
        let b = root.entry("b").unwrap();
        assert_eq!(lc(&f, b.key.span.start), (10, 1));
        // CRLF line ends.
        let (_, root) = one("a:\r\n  b: \"x\r\n  y\"\r\n");
        assert_eq!(root.str_at(&["a", "b"]), Some("x y"));
    }

    #[test]
    fn cloudformation_tags_are_kept_as_values() {
        let text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-b'\n      Vpc: !Ref VpcId\n      Azs: !GetAZs ''\n      Sel: !Select [0, !GetAZs '']\n      Att: !GetAtt\n        - A\n        - Arn\n      J: !Join\n        - ''\n        - [a, !Ref B]\n";
        let (f, root) = one(text);
        let p = root.path(&["Resources", "B", "Properties"]).unwrap();
        assert_eq!(p.str_at(&["BucketName"]), Some("${AWS::StackName}-b"));
        assert_eq!(
            f.slice(p.get("BucketName").unwrap().span),
            "!Sub '${AWS::StackName}-b'"
        );
        assert_eq!(p.str_at(&["Vpc"]), Some("VpcId"));
        assert_eq!(p.get("Sel").unwrap().as_seq().len(), 2);
        assert_eq!(p.get("Att").unwrap().as_seq().len(), 2);
        assert_eq!(
            p.get("J").unwrap().as_seq()[1].as_seq()[1].as_str(),
            Some("B")
        );
    }

    #[test]
    fn crlf_and_bom() {
        let (f, root) = one("\u{feff}a: 1\r\nb: x y\r\n");
        let b = root.entry("b").unwrap();
        assert_eq!(f.slice(b.key.span), "b");
        assert_eq!(f.slice(b.value.span), "x y");
        assert_eq!(lc(&f, b.value.span.start), (2, 4));
    }

    #[test]
    fn never_panics_on_garbage() {
        let samples = [
            "",
            "-",
            "?",
            ":",
            "&",
            "*",
            "!",
            "|",
            ">",
            "{",
            "[",
            "]",
            "}",
            "'",
            "\"",
            "%YAML 1.2",
            "--- |\n",
            "a: *b",
            "a: &a [*a]",
            "? - a\n  - b\n: c",
            "- - - -",
            "{a: [}",
            "\t- x",
            "a: |0\n",
            "key: \"\\u12\"",
            "!<tag:x> a",
            "%TAG ! x\n--- !a b",
            "a:\n- b\n-c:",
            "[a: b, c]",
            "{? a}",
            "...\n...",
            "a: b: c",
            "\u{feff}\u{feff}",
        ];
        for s in samples {
            let _ = parse(&file(s));
        }
        // Every prefix of a realistic file.
        let text = "a: &a\n  b: [1, {c: 'd'}]\n  e: |\n    f\n<<: *a\n- g\n";
        for i in 0..=text.len() {
            let _ = parse(&file(&text[..i]));
        }
    }

    #[test]
    fn documents_after_a_broken_one_are_still_read() {
        let text = "a: 1\n---\nb:\n\t- tab\n---\nc: 3\n---\nd: 4\n";
        let f = SourceFile::new(FileId(0), "x.yaml".into(), "x.yaml".into(), text.into());
        let out = parse(&f);
        assert_eq!(
            out.diags
                .iter()
                .filter(|d| d.kind == DiagKind::ParseError)
                .count(),
            1
        );
        let keys: Vec<&str> = out
            .docs
            .iter()
            .filter_map(|d| d.root.entries().first().and_then(|e| e.key.as_str()))
            .collect();
        assert_eq!(keys, ["a", "c", "d"]);
        let c = &out.docs[1].root.entries()[0].key;
        assert_eq!(f.line_col(c.span.start).line, 6);
        assert_eq!(out.docs[1].index, 2);
    }
}
