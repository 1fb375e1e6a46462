//! Terraform's JSON syntax (`.tf.json`) read as the native syntax.
//!
//! A `.tf.json` file is converted to the equivalent HCL text (see
//! <https://developer.hashicorp.com/terraform/language/syntax/json>), which
//! `hcl-edit` parses, so that the evaluator reads both syntaxes with one
//! code path. A [`SpanMap`] translates every range of the generated text
//! back into the JSON file: a range inside one emitted JSON scalar maps to
//! that scalar (a string, number, `true`), an attribute name to its JSON
//! key, an attribute to its key and value, an object or array to itself and
//! a block to the JSON key that opened its body.
//!
//! The conversion follows the specification:
//! * top-level properties are block types: `resource`/`data` take two
//!   labels, `module`/`variable`/`output`/`provider` one, `locals` and
//!   `terraform` none (`moved`, `import`, `check`, `removed` and unknown
//!   types are ignored); an array of objects at any level stands for
//!   several blocks (provider aliases);
//! * inside bodies the nested blocks the evaluator needs are blocks
//!   (`lifecycle`, `dynamic "x"` and its `content`, `validation`,
//!   `precondition`, `terraform`'s `required_providers`, `backend "s3"`,
//!   `cloud`, `provider_meta`); any other property is an attribute, an
//!   object or an array of objects for a nested block included (the
//!   evaluator represents a block as a map and repeated ones as a list);
//! * `"//"` properties of bodies are comments and dropped;
//! * strings are string templates (`${}`, `%{}`), re-emitted as quoted HCL
//!   templates; a variable's `default` is a literal value (Terraform reads
//!   it without evaluating templates);
//! * `variable.type` (a type expression), `depends_on`, a resource's
//!   `provider`, a module's `providers`, `lifecycle.ignore_changes` and
//!   `replace_triggered_by`, `dynamic.iterator` and `terraform.experiments`
//!   hold expressions written as strings: they are emitted bare, after
//!   checking each parses as one expression on its own.
//!
//! Files over [`MAX_FILE_BYTES`] or nested deeper than [`MAX_DEPTH`] are
//! not read (a [`DiagKind::Limit`]); a JSON syntax error is a
//! [`DiagKind::ParseError`] at the JSON position.

use std::fmt::Write as _;
use std::ops::Range;

use jsonc_parser::ast::{Object, ObjectPropName, Value as J};

use super::hcl::{MAX_FILE_BYTES, Parsed};
use super::{DiagKind, MAX_DEPTH, ParseDiag};
use crate::source::{SourceFile, Span};

/// No parent.
const ROOT: usize = usize::MAX;

/// One range of the generated text and the range of the JSON file it came
/// from (byte offsets into the file's text).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seg {
    hcl_start: usize,
    hcl_end: usize,
    json_start: usize,
    json_end: usize,
    /// Index of the enclosing segment, [`ROOT`] for none.
    parent: usize,
}

/// Ranges of a generated HCL text to ranges of the JSON file it was
/// converted from. Segments nest like the JSON values that produced them
/// and are kept in the order they were opened, so their starts never
/// decrease.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanMap {
    segs: Vec<Seg>,
}

impl SpanMap {
    /// The JSON range of the innermost segment holding `r`, and whether
    /// `r` is exactly that segment (then the JSON text is `r`'s source).
    pub fn lookup(&self, r: Range<usize>) -> Option<(Range<usize>, bool)> {
        let after = self.segs.partition_point(|s| s.hcl_start <= r.start);
        let mut i = after.checked_sub(1)?;
        loop {
            let s = self.segs.get(i)?;
            if s.hcl_start <= r.start && r.end <= s.hcl_end {
                let exact = s.hcl_start == r.start && s.hcl_end == r.end;
                return Some((s.json_start..s.json_end, exact));
            }
            if s.parent == ROOT {
                return None;
            }
            i = s.parent;
        }
    }

    pub fn len(&self) -> usize {
        self.segs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
}

/// A converted file: the HCL text, its map back into the JSON, and what
/// the conversion reported (parts of the file left out).
#[derive(Debug)]
pub struct Converted {
    pub text: String,
    pub map: SpanMap,
    pub diags: Vec<ParseDiag>,
}

/// Parse a Terraform file of either syntax: `.tf.json` through
/// [`parse_file`], anything else with [`super::hcl::parse_file`].
pub fn parse_terraform(file: &SourceFile) -> Result<Parsed, ParseDiag> {
    if file.path.ends_with(".tf.json") {
        parse_file(file)
    } else {
        super::hcl::parse_file(file)
    }
}

/// Convert a `.tf.json` file and parse the result. Spans of the returned
/// body are offsets into the generated text: translate them with
/// [`Parsed::map`].
pub fn parse_file(file: &SourceFile) -> Result<Parsed, ParseDiag> {
    let c = convert(file)?;
    match hcl_edit::parser::parse_body(&c.text) {
        Ok(body) => Ok(Parsed {
            body,
            base: 0,
            diags: c.diags,
            map: Some(c.map),
        }),
        Err(e) => {
            // Every emitted piece was checked; a failure here is a limit of
            // the parser (nesting) or a string the checks let through.
            let loc = e.location();
            let at = super::hcl::offset_in(&c.text, loc.line(), loc.column());
            let span = match c.map.lookup(at..at) {
                Some((j, _)) => Span::new(file.id, j.start, j.end),
                None => Span::new(file.id, 0, 0),
            };
            let message = e.message();
            let kind = if message.contains("nesting depth") || message.contains("chained binary") {
                DiagKind::Limit
            } else {
                DiagKind::ParseError
            };
            Err(ParseDiag::new(
                kind,
                span,
                format!("Terraform JSON: the expression does not parse: {message}"),
            ))
        }
    }
}

/// Convert a `.tf.json` file to HCL native syntax.
pub fn convert(file: &SourceFile) -> Result<Converted, ParseDiag> {
    if file.text.len() > MAX_FILE_BYTES {
        return Err(ParseDiag::new(
            DiagKind::Limit,
            Span::new(file.id, 0, 0),
            format!("file larger than {MAX_FILE_BYTES} bytes, not read"),
        ));
    }
    let (text, base) = match file.text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (file.text.as_str(), 0),
    };
    if let Some(at) = too_deep(text) {
        return Err(ParseDiag::new(
            DiagKind::Limit,
            Span::new(file.id, base + at, base + at + 1),
            format!("nesting deeper than {MAX_DEPTH} levels, file not read"),
        ));
    }
    let strict = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &strict).map_err(|e| {
        let at = base + e.range().start;
        let end = (base + e.range().end)
            .max(at + 1)
            .min(file.text.len().max(at));
        ParseDiag::new(
            DiagKind::ParseError,
            Span::new(file.id, at, end),
            format!("JSON parse error: {}", e.kind()),
        )
    })?;
    let mut em = Emitter {
        file,
        base,
        out: String::with_capacity(text.len() + text.len() / 2),
        segs: Vec::new(),
        open: Vec::new(),
        diags: Vec::new(),
    };
    match &parsed.value {
        Some(J::Object(root)) => em.root(root),
        None => {}
        Some(other) => {
            return Err(ParseDiag::new(
                DiagKind::ParseError,
                em.json_span(range_of(other)),
                "a Terraform JSON file must hold one object",
            ));
        }
    }
    Ok(Converted {
        text: em.out,
        map: SpanMap { segs: em.segs },
        diags: em.diags,
    })
}

/// The offset where brackets nest deeper than [`MAX_DEPTH`] (strings
/// included: the bound is conservative, as for `.tfvars.json`).
fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn range_of(v: &J<'_>) -> Range<usize> {
    let r = match v {
        J::StringLit(s) => s.range,
        J::NumberLit(n) => n.range,
        J::BooleanLit(b) => b.range,
        J::NullKeyword(n) => n.range,
        J::Array(a) => a.range,
        J::Object(o) => o.range,
    };
    r.start..r.end
}

fn prop_name<'v>(p: &'v jsonc_parser::ast::ObjectProp<'_>) -> (&'v str, Range<usize>) {
    match &p.name {
        ObjectPropName::String(s) => (&s.value, s.range.start..s.range.end),
        ObjectPropName::Word(w) => (w.value, w.range.start..w.range.end),
    }
}

/// What a body is the body of: which of its properties are nested blocks
/// and which hold expressions written as strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Resource,
    /// The `content` of a `dynamic` block.
    Content,
    Module,
    Variable,
    Output,
    Provider,
    Locals,
    Terraform,
    Cloud,
    Lifecycle,
    Dynamic,
    /// Attributes only.
    Plain,
}

/// How a property of a body is emitted.
enum Prop {
    /// Nested block(s) of this kind with this many labels.
    Block(Kind, usize),
    /// Left out (the evaluator ignores it).
    Skip,
    /// An attribute whose strings are expressions (`depends_on`).
    Bare,
    /// An attribute read as a literal value (a variable's `default`).
    Literal,
    /// An attribute (strings are templates).
    Expr,
}

fn prop_of(kind: Kind, key: &str) -> Prop {
    use Kind::*;
    match (kind, key) {
        (Resource, "lifecycle") => Prop::Block(Lifecycle, 0),
        (Resource | Content, "dynamic") => Prop::Block(Dynamic, 1),
        (Resource, "provisioner" | "connection") => Prop::Skip,
        (Resource, "depends_on" | "provider") => Prop::Bare,
        (Module, "depends_on" | "providers") => Prop::Bare,
        (Output, "depends_on") => Prop::Bare,
        (Output | Lifecycle, "precondition" | "postcondition") => Prop::Block(Plain, 0),
        (Variable, "type") => Prop::Bare,
        (Variable, "default") => Prop::Literal,
        (Variable, "validation") => Prop::Block(Plain, 0),
        (Lifecycle, "ignore_changes" | "replace_triggered_by") => Prop::Bare,
        (Dynamic, "content") => Prop::Block(Content, 0),
        (Dynamic, "iterator") => Prop::Bare,
        (Terraform, "required_providers") => Prop::Block(Plain, 0),
        (Terraform, "backend" | "provider_meta") => Prop::Block(Plain, 1),
        (Terraform, "cloud") => Prop::Block(Cloud, 0),
        (Terraform, "experiments") => Prop::Bare,
        (Cloud, "workspaces") => Prop::Block(Plain, 0),
        _ => Prop::Expr,
    }
}

/// HCL identifiers: a letter or `_`, then letters, digits, `_` and `-`.
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

struct Emitter<'f> {
    file: &'f SourceFile,
    /// Offset of the JSON text in the file (a byte-order mark).
    base: usize,
    out: String,
    segs: Vec<Seg>,
    /// Segments opened and not yet closed.
    open: Vec<usize>,
    diags: Vec<ParseDiag>,
}

impl Emitter<'_> {
    fn json_span(&self, r: Range<usize>) -> Span {
        Span::new(self.file.id, self.base + r.start, self.base + r.end)
    }

    /// Start a segment of the output mapped to `json`.
    fn open(&mut self, json: Range<usize>) {
        let i = self.segs.len();
        self.segs.push(Seg {
            hcl_start: self.out.len(),
            hcl_end: self.out.len(),
            json_start: self.base + json.start,
            json_end: self.base + json.end,
            parent: self.open.last().copied().unwrap_or(ROOT),
        });
        self.open.push(i);
    }

    fn close(&mut self) {
        if let Some(i) = self.open.pop()
            && let Some(s) = self.segs.get_mut(i)
        {
            s.hcl_end = self.out.len();
        }
    }

    fn leaf(&mut self, json: Range<usize>, text: &str) {
        self.open(json);
        self.out.push_str(text);
        self.close();
    }

    fn error(&mut self, json: Range<usize>, message: String) {
        let span = self.json_span(json);
        self.diags
            .push(ParseDiag::new(DiagKind::ParseError, span, message));
    }

    fn root(&mut self, root: &Object<'_>) {
        for p in &root.properties {
            let (name, key) = prop_name(p);
            let (kind, labels) = match name {
                "resource" | "data" => (Kind::Resource, 2),
                "module" => (Kind::Module, 1),
                "variable" => (Kind::Variable, 1),
                "output" => (Kind::Output, 1),
                "provider" => (Kind::Provider, 1),
                "locals" => (Kind::Locals, 0),
                "terraform" => (Kind::Terraform, 0),
                // Comments, blocks the evaluator ignores, and block types
                // Terraform does not know.
                _ => continue,
            };
            self.blocks(name, kind, labels, key, &p.value, &mut Vec::new());
        }
    }

    /// The blocks a property holds: `value` is an object whose keys are
    /// the labels still missing (then the body), or an array of such.
    fn blocks(
        &mut self,
        ident: &str,
        kind: Kind,
        nlabels: usize,
        opener: Range<usize>,
        value: &J<'_>,
        labels: &mut Vec<(String, Range<usize>)>,
    ) {
        match value {
            J::Array(a) => {
                for e in &a.elements {
                    self.blocks(ident, kind, nlabels, opener.clone(), e, labels);
                }
            }
            J::Object(o) if labels.len() < nlabels => {
                for p in &o.properties {
                    let (name, key) = prop_name(p);
                    if name == "//" {
                        continue;
                    }
                    labels.push((name.to_string(), key.clone()));
                    self.blocks(ident, kind, nlabels, key, &p.value, labels);
                    labels.pop();
                }
            }
            J::Object(o) => self.block(ident, kind, opener, labels, o),
            other => self.error(
                range_of(other),
                format!("Terraform JSON: a `{ident}` block must be an object"),
            ),
        }
    }

    fn block(
        &mut self,
        ident: &str,
        kind: Kind,
        opener: Range<usize>,
        labels: &[(String, Range<usize>)],
        body: &Object<'_>,
    ) {
        self.open(opener);
        self.out.push_str(ident);
        for (l, r) in labels {
            self.out.push(' ');
            let mut q = String::new();
            quote(&mut q, l, false);
            self.leaf(r.clone(), &q);
        }
        self.out.push_str(" {\n");
        self.body(kind, body);
        self.out.push('}');
        self.close();
        self.out.push('\n');
    }

    fn body(&mut self, kind: Kind, body: &Object<'_>) {
        // An argument set twice: the last one counts (as a JSON reader
        // would take it); Terraform refuses the file.
        let names: Vec<(&str, Range<usize>)> = body.properties.iter().map(prop_name).collect();
        let last = last_of(&names);
        for (i, (p, (name, key))) in body.properties.iter().zip(&names).enumerate() {
            let (name, key) = (*name, key.clone());
            if name == "//" {
                continue;
            }
            let how = if kind == Kind::Locals {
                Prop::Expr
            } else {
                prop_of(kind, name)
            };
            match how {
                Prop::Skip => {}
                Prop::Block(k, n) => {
                    self.blocks(name, k, n, key.clone(), &p.value, &mut Vec::new());
                }
                Prop::Bare | Prop::Literal | Prop::Expr => {
                    if last.get(name).is_some_and(|&l| l != i) {
                        let span = self.json_span(key);
                        self.diags.push(ParseDiag::new(
                            DiagKind::DuplicateKey,
                            span,
                            format!("argument `{name}` is set again later in this object; the later value is read"),
                        ));
                        continue;
                    }
                    if !is_ident(name) {
                        self.error(
                            key,
                            format!("Terraform JSON: `{name}` is not a valid argument name"),
                        );
                        continue;
                    }
                    self.open(key.start..range_of(&p.value).end);
                    self.leaf(key, name);
                    self.out.push_str(" = ");
                    match how {
                        Prop::Bare => self.bare(&p.value, 0),
                        Prop::Literal => self.expr(&p.value, true, 0),
                        _ => self.expr(&p.value, false, 0),
                    }
                    self.close();
                    self.out.push('\n');
                }
            }
        }
    }

    /// A JSON value as an expression; strings are templates unless
    /// `literal`.
    fn expr(&mut self, v: &J<'_>, literal: bool, depth: usize) {
        if depth > MAX_DEPTH {
            self.leaf(range_of(v), "null");
            return;
        }
        match v {
            J::StringLit(s) => self.string(s.range.start..s.range.end, &s.value, literal),
            J::NumberLit(n) => self.number(n.range.start..n.range.end, n.value),
            J::BooleanLit(b) => self.leaf(
                b.range.start..b.range.end,
                if b.value { "true" } else { "false" },
            ),
            J::NullKeyword(n) => self.leaf(n.range.start..n.range.end, "null"),
            J::Array(a) => {
                self.open(a.range.start..a.range.end);
                self.out.push_str("[\n");
                for e in &a.elements {
                    self.expr(e, literal, depth + 1);
                    self.out.push_str(",\n");
                }
                self.out.push(']');
                self.close();
            }
            J::Object(o) => {
                self.open(o.range.start..o.range.end);
                self.out.push_str("{\n");
                let names: Vec<(&str, Range<usize>)> = o.properties.iter().map(prop_name).collect();
                let last = last_of(&names);
                for (i, (p, (name, key))) in o.properties.iter().zip(&names).enumerate() {
                    let (name, key) = (*name, key.clone());
                    // Repeated keys: the last one counts (hcl-edit refuses
                    // an object repeating a key).
                    if last.get(name).is_some_and(|&l| l != i) {
                        continue;
                    }
                    self.open(key.start..range_of(&p.value).end);
                    let mut q = String::new();
                    if !literal && has_template(name) {
                        // An interpolated key: parenthesised, as HCL wants.
                        q.push('(');
                        template(&mut q, name);
                        q.push(')');
                        if hcl_edit::parser::parse_expr(&q).is_err() {
                            q.clear();
                            quote(&mut q, name, true);
                            self.error(
                                key.clone(),
                                "Terraform JSON: this key is not a valid template".to_string(),
                            );
                        }
                    } else {
                        quote(&mut q, name, literal);
                    }
                    self.leaf(key, &q);
                    self.out.push_str(" = ");
                    self.expr(&p.value, literal, depth + 1);
                    self.close();
                    self.out.push('\n');
                }
                self.out.push('}');
                self.close();
            }
        }
    }

    fn number(&mut self, json: Range<usize>, text: &str) {
        // The JSON text is valid HCL (numbers keep their source text).
        // hcl-edit reads `-3` as one literal; the digits are mapped on
        // their own too, should a parser read the minus as a negation.
        if is_json_number(text) {
            match text.strip_prefix('-') {
                Some(rest) => {
                    self.open(json.clone());
                    self.out.push('-');
                    self.leaf(json.start + 1..json.end, rest);
                    self.close();
                }
                None => self.leaf(json, text),
            }
        } else {
            self.error(
                json.clone(),
                format!("Terraform JSON: `{text}` is not a number"),
            );
            self.leaf(json, "null");
        }
    }

    fn string(&mut self, json: Range<usize>, value: &str, literal: bool) {
        let mut q = String::with_capacity(value.len() + 2);
        if literal || !has_template(value) {
            quote(&mut q, value, true);
            self.leaf(json, &q);
            return;
        }
        // A template: checked on its own, so that a malformed one is
        // reported at its string and cannot take the rest of the file.
        template(&mut q, value);
        if hcl_edit::parser::parse_expr(&q).is_err() {
            self.error(
                json.clone(),
                "Terraform JSON: this string is not a valid template".to_string(),
            );
            self.leaf(json, "null");
            return;
        }
        self.leaf(json, &q);
    }

    /// A value whose strings are expressions: each must parse as one
    /// expression on its own.
    fn bare(&mut self, v: &J<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            self.leaf(range_of(v), "null");
            return;
        }
        match v {
            J::StringLit(s) => {
                let r = s.range.start..s.range.end;
                let text: &str = &s.value;
                let ok = !text.trim().is_empty() && hcl_edit::parser::parse_expr(text).is_ok();
                if ok {
                    // As written (a type expression or a reference must
                    // stay what it is, not parenthesised); the line break
                    // after it ends any comment it carries.
                    self.leaf(r, text);
                    self.out.push('\n');
                } else {
                    self.error(
                        r.clone(),
                        format!("Terraform JSON: `{text}` is not a valid expression here"),
                    );
                    self.leaf(r, "null");
                }
            }
            J::Array(a) => {
                self.open(a.range.start..a.range.end);
                self.out.push_str("[\n");
                for e in &a.elements {
                    self.bare(e, depth + 1);
                    self.out.push_str(",\n");
                }
                self.out.push(']');
                self.close();
            }
            J::Object(o) => {
                self.open(o.range.start..o.range.end);
                self.out.push_str("{\n");
                for p in &o.properties {
                    let (name, key) = prop_name(p);
                    if name == "//" {
                        continue;
                    }
                    self.open(key.start..range_of(&p.value).end);
                    let plain = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
                    if is_ident(name)
                        || (name.chars().all(plain) && hcl_edit::parser::parse_expr(name).is_ok())
                    {
                        self.leaf(key, name);
                    } else {
                        let mut q = String::new();
                        quote(&mut q, name, true);
                        self.leaf(key, &q);
                    }
                    self.out.push_str(" = ");
                    self.bare(&p.value, depth + 1);
                    self.close();
                    self.out.push('\n');
                }
                self.out.push('}');
                self.close();
            }
            other => self.expr(other, false, depth),
        }
    }
}

/// Where each name is last used.
fn last_of<'n>(names: &[(&'n str, Range<usize>)]) -> crate::hash::HashMap<&'n str, usize> {
    let mut last = crate::hash::HashMap::default();
    for (i, (n, _)) in names.iter().enumerate() {
        last.insert(*n, i);
    }
    last
}

/// Does a string hold a template sequence (`${` or `%{`, escaped or not)?
fn has_template(s: &str) -> bool {
    s.contains("${") || s.contains("%{")
}

/// A JSON number as RFC 8259 writes it (HCL reads the same text).
fn is_json_number(t: &str) -> bool {
    let t = t.strip_prefix('-').unwrap_or(t);
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = match mant.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mant, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(digits)
        && exp.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
}

/// `s` as an HCL quoted string: `"` and `\` escaped, control characters as
/// escapes; `literal`: `${` and `%{` escaped too (`$${`, `%%{`).
fn quote(out: &mut String, s: &str, literal: bool) {
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' | '%' if literal && chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => escape_char(out, c),
        }
    }
    out.push('"');
}

fn escape_char(out: &mut String, c: char) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if c.is_control() => {
            let _ = write!(out, "\\u{:04x}", c as u32);
        }
        c => out.push(c),
    }
}

/// The source of a JSON string template as an HCL quoted template: the
/// literal parts escaped, the `${ }` and `%{ }` sequences copied as they
/// are (they hold HCL expressions, whose own strings use HCL's escapes).
fn template(out: &mut String, s: &str) {
    #[derive(Clone, Copy, PartialEq)]
    enum St {
        /// Inside `${ }` or `%{ }`, with this many `{` open in it.
        Expr(usize),
        /// A quoted string inside an expression.
        Str,
    }
    out.push('"');
    let mut stack: Vec<St> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let Some(c) = rest.chars().next() else { break };
        let starts_seq = (c == '$' || c == '%') && b.get(i + 1) == Some(&b'{');
        let escaped_seq = (rest.starts_with("$${")) || rest.starts_with("%%{");
        match stack.last().copied() {
            None | Some(St::Str) if escaped_seq => {
                out.push_str(&rest[..3]);
                i += 3;
                continue;
            }
            None | Some(St::Str) if starts_seq => {
                out.push_str(&rest[..2]);
                stack.push(St::Expr(0));
                i += 2;
                continue;
            }
            None => escape_char(out, c),
            Some(St::Str) => match c {
                '\\' => {
                    out.push('\\');
                    if let Some(n) = s[i + 1..].chars().next() {
                        escape_raw(out, n);
                        i += n.len_utf8();
                    }
                }
                '"' => {
                    out.push('"');
                    stack.pop();
                }
                c => escape_raw(out, c),
            },
            Some(St::Expr(d)) => match c {
                '"' => {
                    out.push('"');
                    stack.push(St::Str);
                }
                '{' => {
                    out.push('{');
                    stack.pop();
                    stack.push(St::Expr(d + 1));
                }
                '}' => {
                    out.push('}');
                    stack.pop();
                    if d > 0 {
                        stack.push(St::Expr(d - 1));
                    }
                }
                '\n' | '\r' => out.push(' '),
                c => out.push(c),
            },
        }
        i += c.len_utf8();
    }
    out.push('"');
}

/// A character inside a nested string of an expression: as it is, except
/// line breaks (which would end the quoted template it is in).
fn escape_raw(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use hcl_edit::Span as _;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(
            FileId(7),
            "m/main.tf.json".into(),
            "/x/m/main.tf.json".into(),
            text.to_string(),
        )
    }

    fn hcl(text: &str) -> String {
        let c = convert(&file(text)).expect("converts");
        assert!(c.diags.is_empty(), "{:?}", c.diags);
        c.text
    }

    /// The generated text with blank-insensitive comparison.
    fn squash(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn blocks_get_their_labels() {
        let t = hcl(r#"{
  "resource": {"aws_db_instance": {"this": {"engine": "postgres", "publicly_accessible": true}}},
  "data": {"aws_ami": {"ubuntu": {"most_recent": true}}},
  "module": {"db": {"source": "../db", "x": 1}},
  "variable": {"public": {"default": false}},
  "output": {"id": {"value": "${aws_db_instance.this.id}"}},
  "locals": {"a": 1, "b": "two"},
  "moved": {"from": "a", "to": "b"},
  "check": {"c": {}}
}"#);
        assert_eq!(
            squash(&t),
            squash(
                r#"resource "aws_db_instance" "this" { engine = "postgres" publicly_accessible = true }
                data "aws_ami" "ubuntu" { most_recent = true }
                module "db" { source = "../db" x = 1 }
                variable "public" { default = false }
                output "id" { value = "${aws_db_instance.this.id}" }
                locals { a = 1 b = "two" }"#
            )
        );
        hcl_edit::parser::parse_body(&t).expect("parses");
    }

    #[test]
    fn provider_aliases_are_an_array_of_blocks() {
        let t = hcl(
            r#"{"provider": {"aws": [{"region": "us-east-1"}, {"alias": "west", "region": "us-west-2"}]}}"#,
        );
        assert_eq!(
            squash(&t),
            squash(
                r#"provider "aws" { region = "us-east-1" }
                provider "aws" { alias = "west" region = "us-west-2" }"#
            )
        );
        // Arrays at the label levels too.
        let t = hcl(r#"{"resource": [{"a_b": {"x": {}}}, {"a_b": {"y": {}}}]}"#);
        assert_eq!(
            squash(&t),
            squash(r#"resource "a_b" "x" { } resource "a_b" "y" { }"#)
        );
    }

    #[test]
    fn terraform_block_nests_backend_and_required_providers() {
        let t = hcl(r#"{"terraform": {
            "required_version": ">= 1.5",
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 5.0"}},
            "backend": {"s3": {"bucket": "b", "encrypt": true}},
            "cloud": {"organization": "o", "workspaces": {"name": "w"}}
        }}"#);
        assert_eq!(
            squash(&t),
            squash(
                r#"terraform { required_version = ">= 1.5"
                required_providers { aws = { "source" = "hashicorp/aws" "version" = "~> 5.0" } }
                backend "s3" { bucket = "b" encrypt = true }
                cloud { organization = "o" workspaces { name = "w" } } }"#
            )
        );
    }

    #[test]
    fn strings_are_templates_and_escaped() {
        let t = hcl(r#"{"locals": {
            "q": "say \"hi\" \\ there\n",
            "i": "${var.x}",
            "f": "${lookup(var.m, \"k\", \"a\\\"b\")}-%{ if var.on }on%{ endif }",
            "e": "$${literal} and 100%"
        }}"#);
        assert_eq!(
            t,
            "locals {\n\
             q = \"say \\\"hi\\\" \\\\ there\\n\"\n\
             i = \"${var.x}\"\n\
             f = \"${lookup(var.m, \"k\", \"a\\\"b\")}-%{ if var.on }on%{ endif }\"\n\
             e = \"$${literal} and 100%\"\n\
             }\n"
        );
        hcl_edit::parser::parse_body(&t).expect("parses");
    }

    #[test]
    fn variable_defaults_are_literal_and_types_bare() {
        let t = hcl(
            r#"{"variable": {"v": {"type": "list(string)", "default": ["${x}", "%{y}"]},
                           "o": {"type": "object({ a = optional(string, \"z\") })"}}}"#,
        );
        assert_eq!(
            squash(&t),
            squash(
                r#"variable "v" { type = list(string)
                default = [ "$${x}", "%%{y}", ] }
                variable "o" { type = object({ a = optional(string, "z") }) }"#
            )
        );
    }

    #[test]
    fn meta_arguments_hold_references() {
        let t = hcl(r#"{
  "resource": {"aws_instance": {"a": {
     "provider": "aws.west",
     "depends_on": ["aws_vpc.main", "module.net"],
     "lifecycle": {"ignore_changes": ["tags", "ami"], "prevent_destroy": true},
     "dynamic": {"ebs": {"for_each": "${var.disks}", "iterator": "d", "content": {"size": "${d.value}"}}},
     "provisioner": [{"local-exec": {"command": "echo"}}],
     "ingress": [{"from_port": 22}]
  }}},
  "module": {"m": {"source": "./m", "providers": {"aws": "aws.west"}}}
}"#);
        assert_eq!(
            squash(&t),
            squash(
                r#"resource "aws_instance" "a" { provider = aws.west
                depends_on = [ aws_vpc.main , module.net , ]
                lifecycle { ignore_changes = [ tags , ami , ] prevent_destroy = true }
                dynamic "ebs" { for_each = "${var.disks}" iterator = d
                content { size = "${d.value}" } }
                ingress = [ { "from_port" = 22 }, ] }
                module "m" { source = "./m" providers = { aws = aws.west } }"#
            )
        );
        hcl_edit::parser::parse_body(&t).expect("parses");
    }

    #[test]
    fn comment_properties_are_dropped() {
        let t = hcl(
            r#"{"//": "generated", "resource": {"//": "c", "a_b": {"//": "c", "x": {"//": "c", "k": 1}}},
                "locals": {"//": "note", "m": {"//": "kept: an object value", "a": 1}}}"#,
        );
        assert_eq!(
            squash(&t),
            squash(
                r#"resource "a_b" "x" { k = 1 }
                locals { m = { "//" = "kept: an object value" "a" = 1 } }"#
            )
        );
    }

    #[test]
    fn spans_point_at_the_json() {
        let text = "{\"resource\": {\"aws_db_instance\": {\"this\": {\n  \"publicly_accessible\": true,\n  \"n\": -3,\n  \"s\": \"a${var.x}b\"\n}}}}\n";
        let f = file(text);
        let p = parse_file(&f).expect("parses");
        let map = p.map.as_ref().expect("a map");
        let json = |r: Range<usize>| {
            let (j, _) = map.lookup(r).expect("mapped");
            &text[j]
        };
        let block = p.body.blocks().next().expect("a block");
        assert_eq!(json(hcl_edit::Span::span(block).unwrap()), "\"this\"");
        let labels: Vec<&str> = block
            .labels
            .iter()
            .map(|l| json(hcl_edit::Span::span(l).unwrap()))
            .collect();
        assert_eq!(labels, ["\"aws_db_instance\"", "\"this\""]);
        assert_eq!(json(block.ident.span().unwrap()), "\"this\"");
        let attr = |k: &str| block.body.get_attribute(k).expect("attr");
        let pa = attr("publicly_accessible");
        assert_eq!(json(hcl_edit::Span::span(&pa.value).unwrap()), "true");
        assert_eq!(json(pa.key.span().unwrap()), "\"publicly_accessible\"");
        let (j, exact) = map
            .lookup(hcl_edit::Span::span(&pa.value).unwrap())
            .unwrap();
        assert!(exact);
        assert_eq!(f.line_col(j.start as u32).line, 2);
        let n = attr("n");
        assert_eq!(json(hcl_edit::Span::span(&n.value).unwrap()), "-3");
        // hcl-edit reads `-3` as one literal; were it a negation, its
        // operand would map to `3`.
        let r = hcl_edit::Span::span(&n.value).unwrap();
        assert_eq!(
            map.lookup(r.start + 1..r.end).map(|(j, _)| &text[j]),
            Some("3")
        );
        // Anything inside a template maps to the whole string.
        let s = attr("s");
        let (j, exact) = map.lookup(hcl_edit::Span::span(&s.value).unwrap()).unwrap();
        assert_eq!((&text[j], exact), ("\"a${var.x}b\"", true));
        let r = hcl_edit::Span::span(&s.value).unwrap();
        let (j, exact) = map.lookup(r.start + 3..r.start + 8).unwrap();
        assert_eq!((&text[j], exact), ("\"a${var.x}b\"", false));
    }

    #[test]
    fn a_byte_order_mark_shifts_the_map() {
        let text = "\u{feff}{\"locals\": {\"a\": true}}";
        let f = file(text);
        let p = parse_file(&f).expect("parses");
        let a = p
            .body
            .blocks()
            .next()
            .unwrap()
            .body
            .get_attribute("a")
            .unwrap();
        let (j, _) = p
            .map
            .as_ref()
            .unwrap()
            .lookup(hcl_edit::Span::span(&a.value).unwrap())
            .unwrap();
        assert_eq!(&text[j], "true");
    }

    #[test]
    fn json_errors_are_located() {
        let f = file("{\n  \"locals\": {\"a\": 1,}\n}");
        let d = parse_file(&f).expect_err("trailing comma");
        assert_eq!(d.kind, DiagKind::ParseError);
        assert_eq!(f.line_col(d.span.start).line, 2);
        assert!(d.message.starts_with("JSON parse error"), "{}", d.message);

        let d = parse_file(&file("[1, 2]")).expect_err("not an object");
        assert_eq!(d.kind, DiagKind::ParseError);
        assert_eq!((d.span.start, d.span.end), (0, 6));

        // A bad template or type is reported at its string; the rest reads.
        let text = r#"{"variable": {"v": {"type": "list(string"}}, "locals": {"a": "${", "b": 1}}"#;
        let f = file(text);
        let c = convert(&f).expect("converts");
        let at: Vec<&str> = c
            .diags
            .iter()
            .map(|d| &text[d.span.start as usize..d.span.end as usize])
            .collect();
        assert_eq!(at, ["\"list(string\"", "\"${\""]);
        let p = parse_file(&f).expect("the rest parses");
        assert_eq!(p.diags.len(), 2);
        // Structure cannot be injected through a bare string.
        let c = convert(&file(
            r#"{"variable": {"v": {"type": "string }\nresource \"a\" \"b\" { x = 1"}}}"#,
        ))
        .expect("converts");
        assert_eq!(c.diags.len(), 1);
        assert!(!c.text.contains("resource"), "{}", c.text);
    }

    #[test]
    fn invalid_argument_names_and_repeats_are_reported() {
        let text = r#"{"locals": {"a b": 1, "c": 1, "c": 2}}"#;
        let c = convert(&file(text)).expect("converts");
        let kinds: Vec<DiagKind> = c.diags.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, [DiagKind::ParseError, DiagKind::DuplicateKey]);
        assert_eq!(squash(&c.text), "locals { c = 2 }");
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let deep = format!(
            "{{\"locals\": {{\"a\": {}1{}}}}}",
            "[".repeat(MAX_DEPTH + 5),
            "]".repeat(MAX_DEPTH + 5)
        );
        let d = parse_file(&file(&deep)).expect_err("too deep");
        assert_eq!(d.kind, DiagKind::Limit);
        // Deep, but within guard's bound: hcl-edit's own bound is a limit,
        // never a panic.
        let nested = format!(
            "{{\"locals\": {{\"a\": {}1{}}}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        match parse_file(&file(&nested)) {
            Ok(_) => {}
            Err(d) => assert_eq!(d.kind, DiagKind::Limit, "{}", d.message),
        }
        let big = format!(
            "{{\"locals\": {{\"a\": \"{}\"}}}}",
            "x".repeat(MAX_FILE_BYTES)
        );
        assert_eq!(
            parse_file(&file(&big)).expect_err("too big").kind,
            DiagKind::Limit
        );
    }

    #[test]
    fn numbers_keep_their_text() {
        let t = hcl(r#"{"locals": {"a": 1.50, "b": -0.5e+3, "c": 0}}"#);
        assert_eq!(squash(&t), "locals { a = 1.50 b = -0.5e+3 c = 0 }");
        assert!(is_json_number("10"));
        assert!(!is_json_number("01"));
        assert!(!is_json_number("1."));
        assert!(!is_json_number("-"));
    }

    #[test]
    fn arbitrary_input_never_panics() {
        for t in [
            "",
            "{",
            "null",
            "{\"resource\": 1}",
            "{\"resource\": {\"a\": [1, {\"b\": null}]}}",
            "{\"locals\": {\"a\": \"${\\\"}\"}}",
            "{\"locals\": {\"a\": \"${ {\"}}",
            "{\"locals\": {\"a\": \"\\u0000\\u001f\"}}",
            "{\"variable\": {\"v\": {\"type\": 3, \"default\": {\"${x}\": 1}}}}",
            "{\"module\": {\"m\": {\"providers\": {\"a b\": \"c d\"}}}}",
        ] {
            if let Ok(c) = convert(&file(t)) {
                let _ = hcl_edit::parser::parse_body(&c.text);
            }
            let _ = parse_file(&file(t));
        }
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value as V;
        let leaf = prop_oneof![
            Just(V::Null),
            any::<bool>().prop_map(V::Bool),
            (-100_000i64..100_000).prop_map(V::from),
            (-1000i32..1000).prop_map(|n| V::from(f64::from(n) / 8.0)),
            "[a-z\"\\\\$%{}~ \n\t\u{1}é☃/]{0,10}".prop_map(V::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(V::Array),
                proptest::collection::btree_map("[a-z_\"$%{} /]{0,5}", inner, 0..4)
                    .prop_map(|m| V::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Does a value hold a template sequence (in a string or a key)?
    fn templated(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => has_template(s),
            serde_json::Value::Array(a) => a.iter().any(templated),
            serde_json::Value::Object(o) => o.iter().any(|(k, v)| has_template(k) || templated(v)),
            _ => false,
        }
    }

    fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match (a, b) {
            (V::Number(x), V::Number(y)) => x.as_f64() == y.as_f64(),
            (V::Array(x), V::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
            }
            (V::Object(x), V::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
            }
            _ => a == b,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Any JSON value, as a variable's default (literal) and, without
        /// template sequences, as a local (an expression), evaluates to
        /// itself, every leaf located at its JSON literal.
        #[test]
        fn json_values_evaluate_to_themselves(v in json_value()) {
            let as_local = if templated(&v) { serde_json::Value::Null } else { v.clone() };
            let doc = serde_json::json!({
                "terraform": {},
                "variable": {"v": {"default": v}},
                "locals": {"l": as_local},
                "output": {"v": {"value": "${var.v}"}, "l": {"value": "${local.l}"}}
            });
            let text = serde_json::to_string_pretty(&doc).expect("json");
            let f = SourceFile::new(FileId(0), "main.tf.json".into(), "/nonexistent/main.tf.json".into(), text.clone());
            let m = crate::terraform::evaluate(&[&f], &crate::env::EnvSet::builtin());
            proptest::prop_assert!(m.diags.is_empty(), "{:?}\n{text}", m.diags);
            let r = m.roots.first().expect("one root");
            let got_v = r.output("v").map(crate::node::Node::to_json);
            let got_l = r.output("l").map(crate::node::Node::to_json);
            proptest::prop_assert!(got_v.as_ref().is_some_and(|g| same(g, &v)), "var: {got_v:?} != {v}\n{text}");
            proptest::prop_assert!(got_l.as_ref().is_some_and(|g| same(g, &as_local)), "local: {got_l:?} != {as_local}\n{text}");
            // Scalars sit at their JSON text.
            fn leaves<'n>(n: &'n crate::node::Node, out: &mut Vec<&'n crate::node::Node>) {
                match &n.value {
                    crate::node::Value::Seq(items) => items.iter().for_each(|i| leaves(i, out)),
                    crate::node::Value::Map(entries) => entries.iter().for_each(|e| leaves(&e.value, out)),
                    _ => out.push(n),
                }
            }
            let mut ls = Vec::new();
            if let Some(n) = r.output("v") { leaves(n, &mut ls); }
            for n in ls {
                let t = f.slice(n.span);
                let back: Result<serde_json::Value, _> = serde_json::from_str(t);
                proptest::prop_assert!(back.as_ref().is_ok_and(|b| same(b, &n.to_json())), "{t:?} for {:?}", n.value);
            }
        }
    }
}
