//! JSON (and JSONC: comments, trailing commas) to span-carrying [`Node`]s,
//! via jsonc-parser's AST.
//!
//! Spans are byte ranges: strings include their quotes, mapping keys span the
//! key string (or bare word), objects and arrays span their brackets. Numbers
//! keep their source text. A repeated object key is reported
//! ([`DiagKind::DuplicateKey`]) and the later value wins. Nesting is checked
//! by a byte scan before parsing, so hostile input cannot exhaust the stack.

use crate::hash::HashMap;

use jsonc_parser::ast::{ObjectPropName, Value as JValue};
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use super::{DiagKind, MAX_DEPTH, ParseDiag};
use crate::node::{Entry, Node, Value};
use crate::source::{SourceFile, Span};

/// Everything read from one JSON file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JsonOutput {
    /// The value, unless the file could not be read (then `diags` says why)
    /// or holds none (an empty file: no diagnostic).
    pub root: Option<Node>,
    /// Parse error or limit (when `root` is `None`), or repeated keys.
    pub diags: Vec<ParseDiag>,
}

/// Parse a JSON file. Repeated keys resolve to the last value without a
/// diagnostic; use [`parse_with_diags`] to report them.
pub fn parse(file: &SourceFile) -> Result<Node, ParseDiag> {
    let out = parse_with_diags(file);
    match out.root {
        Some(root) => Ok(root),
        None => Err(out.diags.into_iter().next().unwrap_or_else(|| {
            ParseDiag::new(
                DiagKind::ParseError,
                Span::new(file.id, 0, 0),
                "the file contains no JSON value",
            )
        })),
    }
}

/// Parse a JSON file, reporting repeated keys as well as errors.
pub fn parse_with_diags(file: &SourceFile) -> JsonOutput {
    // jsonc-parser rejects a byte order mark; skip it and shift spans.
    let (text, base) = match file.text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, '\u{feff}'.len_utf8()),
        None => (file.text.as_str(), 0),
    };
    let span = |start: usize, end: usize| Span::new(file.id, base + start, base + end);
    let fail = |diag: ParseDiag| JsonOutput {
        root: None,
        diags: vec![diag],
    };

    if let Some(at) = too_deep(text, MAX_DEPTH) {
        return fail(ParseDiag::new(
            DiagKind::Limit,
            span(at, at + 1),
            format!("nesting deeper than {MAX_DEPTH} levels; the file is not read"),
        ));
    }

    let parsed = match parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            let r = e.range();
            return fail(ParseDiag::new(
                DiagKind::ParseError,
                span(r.start, r.end),
                e.kind().to_string(),
            ));
        }
    };
    let Some(value) = parsed.value else {
        // An empty file (or only whitespace and comments) is empty, not
        // broken: nothing to check, like an empty YAML file.
        return JsonOutput::default();
    };
    let mut conv = Converter {
        file,
        base,
        diags: Vec::new(),
        duplicates: 0,
    };
    let root = conv.node(value, 0);
    super::summarize_duplicates(&mut conv.diags, conv.duplicates);
    JsonOutput {
        root: Some(root),
        diags: conv.diags,
    }
}

/// The offset of the first `[` or `{` nested deeper than `max`, skipping
/// strings and comments.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' => {
                i += 1;
                while let Some(&s) = b.get(i) {
                    if s == b'\\' {
                        i += 1;
                    } else if s == c {
                        break;
                    }
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while b.get(i).is_some_and(|&s| s != b'\n') {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

struct Converter<'f> {
    file: &'f SourceFile,
    base: usize,
    diags: Vec<ParseDiag>,
    /// Repeated keys seen (see [`super::push_duplicate`]).
    duplicates: usize,
}

impl Converter<'_> {
    fn span(&self, r: jsonc_parser::common::Range) -> Span {
        Span::new(self.file.id, self.base + r.start, self.base + r.end)
    }

    /// Recursion is bounded: nesting was checked before parsing (and
    /// jsonc-parser itself stops at 512 levels).
    fn node(&mut self, v: JValue<'_>, depth: usize) -> Node {
        match v {
            JValue::StringLit(s) => Node::string(self.span(s.range), s.value.into_owned()),
            JValue::NumberLit(n) => Node::new(self.span(n.range), Value::Number(n.value.into())),
            JValue::BooleanLit(b) => Node::new(self.span(b.range), Value::Bool(b.value)),
            JValue::NullKeyword(n) => Node::new(self.span(n.range), Value::Null),
            _ if depth >= MAX_DEPTH => Node::new(self.span(range_of(&v)), Value::Unknown),
            JValue::Array(a) => {
                let span = self.span(a.range);
                let items = a
                    .elements
                    .into_iter()
                    .map(|e| self.node(e, depth + 1))
                    .collect();
                Node::new(span, Value::Seq(items))
            }
            JValue::Object(o) => {
                let span = self.span(o.range);
                let mut entries: Vec<Option<Entry>> = Vec::with_capacity(o.properties.len());
                let mut seen: HashMap<String, (usize, Span)> = HashMap::default();
                for prop in o.properties {
                    let key = match prop.name {
                        ObjectPropName::String(s) => {
                            Node::string(self.span(s.range), s.value.into_owned())
                        }
                        ObjectPropName::Word(w) => Node::string(self.span(w.range), w.value),
                    };
                    let value = self.node(prop.value, depth + 1);
                    let name = key.as_str().unwrap_or_default().to_string();
                    let index = entries.len();
                    if let Some((earlier, first)) = seen.get_mut(&name) {
                        if let Some(old) = entries.get_mut(*earlier) {
                            *old = None;
                        }
                        *earlier = index;
                        let first = *first;
                        let file = self.file;
                        let key_span = key.span;
                        super::push_duplicate(&mut self.diags, &mut self.duplicates, || {
                            let line = file.line_of(first.start);
                            let shown = name.escape_debug();
                            let mut diag = ParseDiag::new(
                                DiagKind::DuplicateKey,
                                key_span,
                                format!(
                                    "mapping key `{shown}` repeats (first at line {line}); the later value wins"
                                ),
                            );
                            diag.related
                                .push((first, format!("`{shown}` first set here")));
                            diag
                        });
                    } else {
                        seen.insert(name, (index, key.span));
                    }
                    entries.push(Some(Entry { key, value }));
                }
                // Collected first: a flattening iterator gives no length to allocate
                // to, and the items are kept to the end.
                let entries = crate::node::items(entries.into_iter().flatten().collect());
                Node::new(span, Value::Map(entries))
            }
        }
    }
}

fn range_of(v: &JValue<'_>) -> jsonc_parser::common::Range {
    match v {
        JValue::StringLit(x) => x.range,
        JValue::NumberLit(x) => x.range,
        JValue::BooleanLit(x) => x.range,
        JValue::NullKeyword(x) => x.range,
        JValue::Array(x) => x.range,
        JValue::Object(x) => x.range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, LineCol};

    fn file(text: &str) -> SourceFile {
        SourceFile::new(FileId(3), "t.json".into(), "t.json".into(), text.into())
    }

    #[test]
    fn an_empty_file_is_empty_not_broken() {
        for text in ["", "  \n", "// nothing yet\n"] {
            let out = parse_with_diags(&file(text));
            assert_eq!(out, JsonOutput::default(), "{text:?}");
        }
        // A file that starts a value and stops is still an error.
        assert_eq!(parse_with_diags(&file("{")).diags.len(), 1);
    }

    fn lc(f: &SourceFile, offset: u32) -> (u32, u32) {
        let LineCol { line, column } = f.line_col(offset);
        (line, column)
    }

    #[test]
    fn spans_of_keys_and_values() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Deny\", \"Action\": \"*\", \"n\": -1.5e2, \"b\": true, \"z\": null}\n  ]\n}\n";
        let f = file(text);
        let root = parse(&f).unwrap();
        assert_eq!(root.span.file, FileId(3));
        assert_eq!(f.slice(root.span), text.trim_end());
        let v = root.entry("Version").unwrap();
        assert_eq!(f.slice(v.key.span), "\"Version\"");
        assert_eq!(lc(&f, v.key.span.start), (2, 3));
        assert_eq!(f.slice(v.value.span), "\"2012-10-17\"");
        assert_eq!(v.value.as_str(), Some("2012-10-17"));
        let st = root.get("Statement").unwrap();
        assert!(f.slice(st.span).starts_with('[') && f.slice(st.span).ends_with(']'));
        let s0 = &st.as_seq()[0];
        assert_eq!(lc(&f, s0.span.start), (4, 5));
        assert_eq!(s0.get("n").unwrap().value, Value::Number("-1.5e2".into()));
        assert_eq!(f.slice(s0.get("n").unwrap().span), "-1.5e2");
        assert_eq!(s0.get("b").unwrap().value, Value::Bool(true));
        assert_eq!(s0.get("z").unwrap().value, Value::Null);
        assert_eq!(root.to_json()["Statement"][0]["Effect"], "Deny");
    }

    #[test]
    fn comments_and_trailing_commas() {
        let f = file("// c\n{ /* x */ \"a\": [1, 2,], b: 'q', }\n");
        let root = parse(&f).unwrap();
        assert_eq!(root.get("a").unwrap().as_seq().len(), 2);
        let b = root.entry("b").unwrap();
        assert_eq!(f.slice(b.key.span), "b");
        assert_eq!(b.value.as_str(), Some("q"));
    }

    #[test]
    fn syntax_errors_are_located() {
        let f = file("{\n  \"a\": 1,\n  \"b\": ]\n}\n");
        let e = parse(&f).unwrap_err();
        assert_eq!(e.kind, DiagKind::ParseError);
        assert_eq!(lc(&f, e.span.start), (3, 8));
        assert_eq!(e.message, "Unexpected close bracket");
        let f = file("{\"a\": \"unterminated}\n");
        let e = parse(&f).unwrap_err();
        assert_eq!(e.kind, DiagKind::ParseError);
        let e = parse(&file("")).unwrap_err();
        assert_eq!(e.kind, DiagKind::ParseError);
        let e = parse(&file("[] []")).unwrap_err();
        assert_eq!(e.span.start, 3);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let f = file("{\"Effect\": \"Allow\",\n \"x\": 1,\n \"Effect\": \"Deny\"}");
        let out = parse_with_diags(&f);
        let root = out.root.unwrap();
        assert_eq!(root.entries().len(), 2);
        assert_eq!(root.str_at(&["Effect"]), Some("Deny"));
        assert_eq!(out.diags.len(), 1);
        let d = &out.diags[0];
        assert_eq!(d.kind, DiagKind::DuplicateKey);
        assert_eq!(lc(&f, d.span.start), (3, 2));
        assert_eq!(f.slice(d.span), "\"Effect\"");
        assert_eq!(d.related[0].0.start, 1);
        assert_eq!(
            d.message,
            "mapping key `Effect` repeats (first at line 1); the later value wins"
        );
        // `parse` keeps the value.
        assert_eq!(parse(&f).unwrap().str_at(&["Effect"]), Some("Deny"));
    }

    #[test]
    fn deep_nesting_is_rejected_before_parsing() {
        for (text, unit) in [("[".repeat(100_000), 1), ("{\"a\":".repeat(50_000), 5)] {
            let e = parse(&file(&text)).unwrap_err();
            assert_eq!(e.kind, DiagKind::Limit);
            assert_eq!(e.span.start as usize, MAX_DEPTH * unit);
        }
        let ok = format!("{}1{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&file(&ok)).is_ok());
        // Brackets inside strings and comments do not count.
        let text = format!(
            "{{\"a\": \"{}\" // {}\n}}",
            "[".repeat(1000),
            "{".repeat(1000)
        );
        assert!(parse(&file(&text)).is_ok());
    }

    #[test]
    fn non_ascii_and_bom() {
        let text = "\u{feff}{\"näme\": \"日本語\", \"k\": \"é\"}";
        let f = file(text);
        let root = parse(&f).unwrap();
        let e = root.entry("näme").unwrap();
        assert_eq!(f.slice(e.key.span), "\"näme\"");
        assert_eq!(f.slice(e.value.span), "\"日本語\"");
        assert_eq!(lc(&f, e.value.span.start), (1, 11));
        let k = root.entry("k").unwrap();
        assert_eq!(f.slice(k.value.span), "\"é\"");
        let f = file("{\"ü\": [1, }");
        let err = parse(&f).unwrap_err();
        assert!(f.text.is_char_boundary(err.span.start as usize));
    }

    #[test]
    fn never_panics_on_garbage() {
        for s in [
            "{",
            "[",
            "\"",
            "'",
            "/*",
            "//",
            "{\"a\"",
            "{a:}",
            "[,]",
            "-",
            "0x",
            "\u{feff}",
            "{\"\\u12\"}",
            "\\",
            "}{",
        ] {
            let _ = parse(&file(s));
        }
        let text = "{\"a\": [1, {\"b\": 'c'}, 0x1F, .5, +1, Infinity], /* d */ e: null}";
        for i in 0..=text.len() {
            if text.is_char_boundary(i) {
                let _ = parse_with_diags(&file(&text[..i]));
            }
        }
    }
}
