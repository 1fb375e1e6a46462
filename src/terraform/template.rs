//! String templates: interpolation, `%{if}` and `%{for}` directives, strip
//! markers and heredoc indentation, following Terraform's behaviour where
//! hcl-edit differs (see [`Render::push_literal`]).

use hcl_edit::template::{Directive, Element, Template};

use super::eval::{Cx, Run};
use super::value::{self as v, MAX_ITEMS, MAX_STRING};
use crate::node::{Node, Value, Via};
use crate::source::Span;

impl Run<'_> {
    /// A template; one that is only `${expr}` yields the value itself.
    /// `heredoc` is the indentation `<<-` removed (0 for `<<`).
    pub fn template(
        &mut self,
        cx: &Cx<'_>,
        t: &Template,
        span: Span,
        heredoc: Option<usize>,
    ) -> Node {
        let holes = std::mem::take(&mut self.template_holes);
        let elements: Vec<&Element> = t.iter().collect();
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.eval(cx, &i.expr);
        }
        let mut r = Render {
            out: String::new(),
            strip_next: false,
            unknown: false,
            via: None,
            heredoc,
            depth: 0,
            holes: holes.then_some(0),
        };
        self.render(cx, t, &mut r);
        if r.unknown {
            return v::unknown(span);
        }
        if r.out.len() > MAX_STRING {
            self.error();
            return v::unknown(span);
        }
        let n = v::string(span, r.out).with_via(r.via);
        self.charge(n, span)
    }

    fn render(&mut self, cx: &Cx<'_>, t: &Template, r: &mut Render) {
        for el in t.iter() {
            if r.unknown || r.out.len() > MAX_STRING {
                return;
            }
            match el {
                Element::Literal(s) => {
                    r.push_literal(s.value());
                }
                Element::Interpolation(i) => {
                    if i.strip.strip_start() {
                        r.trim_end();
                    }
                    let n = self.eval(cx, &i.expr);
                    r.push_value(self, &n);
                    r.strip_next = i.strip.strip_end();
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        if d.if_expr.strip.strip_start() {
                            r.trim_end();
                        }
                        let c = self.eval(cx, &d.if_expr.cond_expr);
                        let Some(c) = v::as_bool(&c) else {
                            if !c.is_unknown() {
                                self.error();
                            }
                            r.unknown = true;
                            return;
                        };
                        if c {
                            r.strip_next = d.if_expr.strip.strip_end();
                            r.depth += 1;
                            self.render(cx, &d.if_expr.template, r);
                            r.depth -= 1;
                            let end = d.else_expr.as_ref().map_or(d.endif_expr.strip, |e| e.strip);
                            if end.strip_start() {
                                r.trim_end();
                            }
                        } else if let Some(e) = &d.else_expr {
                            r.strip_next = e.strip.strip_end();
                            r.depth += 1;
                            self.render(cx, &e.template, r);
                            r.depth -= 1;
                            if d.endif_expr.strip.strip_start() {
                                r.trim_end();
                            }
                        }
                        r.strip_next = d.endif_expr.strip.strip_end();
                    }
                    Directive::For(d) => {
                        let fe = &d.for_expr;
                        if fe.strip.strip_start() {
                            r.trim_end();
                        }
                        let coll = self.eval(cx, &fe.collection_expr);
                        let Some(pairs) = v::for_pairs(&coll) else {
                            if !coll.is_unknown() {
                                self.error();
                            }
                            r.unknown = true;
                            return;
                        };
                        for (k, val) in pairs.into_iter().take(MAX_ITEMS) {
                            let c = match &fe.key_var {
                                Some(kv) => cx.with(kv.as_str(), k),
                                None => cx.clone(),
                            };
                            let c = c.with(fe.value_var.as_str(), val);
                            r.strip_next = fe.strip.strip_end();
                            r.depth += 1;
                            self.render(&c, &fe.template, r);
                            r.depth -= 1;
                            if d.endfor_expr.strip.strip_start() {
                                r.trim_end();
                            }
                            if r.unknown || r.out.len() > MAX_STRING {
                                return;
                            }
                        }
                        r.strip_next = d.endfor_expr.strip.strip_end();
                    }
                },
            }
        }
    }
}

/// Stands for an unknown value in a rendered `templatefile` (see
/// [`Run::template_holes`]).
pub const HOLE: &str = "__guard_unknown_value__";

struct Render {
    /// When set, an unknown interpolation leaves a [`HOLE`] (a JSON string
    /// outside one) and is counted, instead of making the whole text
    /// unknown.
    holes: Option<usize>,
    out: String,
    strip_next: bool,
    unknown: bool,
    via: Via,
    heredoc: Option<usize>,
    depth: usize,
}

impl Render {
    /// A literal of the template. After a `~}` strip marker, in a quoted
    /// template all leading whitespace goes. Heredocs follow Terraform,
    /// which scans one token per line: a strip marker removes only the rest
    /// of its line, and the next line keeps the indentation `<<-` would
    /// have removed. hcl-edit dedents only top-level literals of a `<<-`
    /// heredoc; lines inside directives are dedented here.
    fn push_literal(&mut self, s: &str) {
        // hcl-edit leaves literals inside directives undecoded.
        let decoded;
        let s = if self.depth > 0 {
            decoded = unescape(s, self.heredoc.is_none());
            decoded.as_str()
        } else {
            s
        };
        let strip = std::mem::take(&mut self.strip_next);
        let Some(indent) = self.heredoc else {
            self.out.push_str(if strip { s.trim_start() } else { s });
            return;
        };
        let nested = self.depth > 0;
        let (mut first, mut more) = match s.find('\n') {
            Some(i) => (&s[..=i], &s[i + 1..]),
            None => (s, ""),
        };
        let mut keep_indent = false;
        if strip {
            let t = first.trim_start_matches([' ', '\t', '\r']);
            if t.starts_with('\n') {
                // The stripped line ends here; the next line is kept whole.
                (first, more) = match more.find('\n') {
                    Some(i) => (&more[..=i], &more[i + 1..]),
                    None => (more, ""),
                };
                keep_indent = true;
            } else {
                first = t;
            }
        }
        if keep_indent && !nested && indent > 0 && !first.is_empty() {
            self.out.extend(std::iter::repeat_n(' ', indent));
        }
        self.out.push_str(first);
        if !nested {
            self.out.push_str(more);
            return;
        }
        for line in more.split_inclusive('\n') {
            let spaces = line.len() - line.trim_start_matches(' ').len();
            self.out.push_str(&line[spaces.min(indent)..]);
        }
    }

    fn trim_end(&mut self) {
        let len = self.out.trim_end().len();
        self.out.truncate(len);
    }

    fn push_value(&mut self, run: &mut Run<'_>, n: &Node) {
        if self.via.is_none() {
            self.via = n.via.clone();
        }
        match &n.value {
            // A null here is an error in Terraform, but a `dependency`'s
            // mock outputs are often null: a hole too.
            Value::Unknown | Value::Null if self.holes.is_some() && self.depth == 0 => {
                let inside_string = self
                    .out
                    .as_bytes()
                    .iter()
                    .enumerate()
                    .filter(|&(i, &b)| b == b'"' && (i == 0 || self.out.as_bytes()[i - 1] != b'\\'))
                    .count()
                    % 2
                    == 1;
                if inside_string {
                    self.out.push_str(HOLE);
                } else {
                    self.out.push('"');
                    self.out.push_str(HOLE);
                    self.out.push('"');
                }
                self.holes = self.holes.map(|h| h + 1);
            }
            Value::Unknown => self.unknown = true,
            Value::Null => {
                run.error();
                self.unknown = true;
            }
            _ => match v::as_string(n) {
                Some(s) => self.out.push_str(&s),
                None => self.unknown = true,
            },
        }
    }
}

/// Decode a raw template literal: `$${` and `%%{`, and in quoted templates
/// the backslash escapes.
fn unescape(s: &str, backslashes: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' | '%' if chars.peek() == Some(&c) => {
                let mut look = chars.clone();
                look.next();
                if look.peek() == Some(&'{') {
                    chars.next();
                }
                out.push(c);
            }
            '\\' if backslashes => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(u @ ('u' | 'U')) => {
                    let n = if u == 'u' { 4 } else { 8 };
                    let hex: String = (0..n).filter_map(|_| chars.next()).collect();
                    match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => {
                            out.push('\\');
                            out.push(u);
                            out.push_str(&hex);
                        }
                    }
                }
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}
