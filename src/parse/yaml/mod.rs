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
//! rest of the file is not read. A flow collection in block context longer
//! than 256 KiB (`flow::MAX_FLOW_BYTES`) reads as null, with a
//! [`DiagKind::TooLarge`] error: saphyr would hold all of its tokens at once.
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

mod flow;

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
    // Flow collections too large for the parser are read as nulls, at the
    // same offsets, and reported (see `flow`).
    let huge = flow::oversized(text, flow::MAX_FLOW_BYTES);
    let blanked = (!huge.is_empty()).then(|| flow::blank(text, &huge));
    let src = blanked.as_deref().unwrap_or(text);
    let pos = Positions::new(src);
    // Quoted scalars whose continuation lines are not indented past their
    // mapping are rejected by saphyr (as YAML 1.2 says) but read by libyaml,
    // PyYAML and go-yaml (kubectl). Retry with those scalars joined into one
    // line; see `join_quoted_lines`.
    let mut fixes: Vec<usize> = Vec::new();
    let (b, error) = loop {
        let patched = (!fixes.is_empty()).then(|| join_quoted_lines(src, &fixes));
        let mut b = Builder::new(file, &pos);
        b.unfold = patched.is_some();
        let error = run(&mut b, patched.as_deref().unwrap_or(src));
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
    let mut diags: Vec<ParseDiag> = huge
        .iter()
        .map(|&(start, end)| {
            ParseDiag::new(
                DiagKind::TooLarge,
                Span::new(file.id, start, start + 1),
                format!(
                    "a flow collection (`[...]`/`{{...}}`) of {} bytes: guard's YAML parser holds a flow collection whole, so it reads at most {} bytes of one; nothing in this one was checked",
                    end - start,
                    flow::MAX_FLOW_BYTES
                ),
            )
        })
        .collect();
    diags.extend(b.diags);
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
        let masked = blank_before(src, next);
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
mod tests;
