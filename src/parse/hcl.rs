//! HCL (`.tf`, `.tfvars`) parsing with `hcl-edit`, which keeps the byte span
//! of every expression, so evaluated Terraform values can point at the exact
//! literal they came from.
//!
//! The evaluator in [`crate::terraform`] works on the returned
//! [`hcl_edit::structure::Body`]; spans in it are byte offsets into
//! [`SourceFile::text`] (a leading byte-order mark is skipped and accounted
//! for by [`Parsed::base`]).

use hcl_edit::structure::Body;

use super::{DiagKind, MAX_DEPTH, ParseDiag};
use crate::source::{SourceFile, Span};

/// Files larger than this are not parsed (reported as [`DiagKind::Limit`]).
pub const MAX_FILE_BYTES: usize = 8 << 20;

/// A parsed HCL body and the byte offset its spans are relative to.
#[derive(Debug)]
pub struct Parsed {
    pub body: Body,
    /// Added to every hcl-edit span to get an offset into the file text
    /// (3 when the file starts with a UTF-8 byte-order mark, else 0).
    pub base: usize,
    /// Warnings about a file that parsed (an object literal repeating a key).
    pub diags: Vec<ParseDiag>,
    /// For a `.tf.json` file, converted to HCL: where each range of the
    /// generated text comes from in the JSON (see [`super::tf_json`]).
    pub map: Option<super::tf_json::SpanMap>,
}

/// How many repeated object keys one file may have before guard stops
/// working around them.
const MAX_REPEATED_KEYS: usize = 256;

/// Parse one HCL file. On failure, one diagnostic located where the parser
/// stopped.
pub fn parse_file(file: &SourceFile) -> Result<Parsed, ParseDiag> {
    let whole = Span::new(file.id, 0, 0);
    if file.text.len() > MAX_FILE_BYTES {
        return Err(ParseDiag::new(
            DiagKind::Limit,
            whole,
            format!("file larger than {} bytes, not read", MAX_FILE_BYTES),
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
    // Terraform accepts an object literal that repeats a key (the last one
    // wins); hcl-edit refuses it. The earlier key is renamed, in a copy with
    // the same byte offsets, to a name no configuration uses, and the repeat
    // is reported as a duplicate key.
    let mut masked: Option<String> = None;
    let mut diags = Vec::new();
    loop {
        let current = masked.as_deref().unwrap_or(text);
        let e = match hcl_edit::parser::parse_body(current) {
            Ok(body) => {
                return Ok(Parsed {
                    body,
                    base,
                    diags,
                    map: None,
                });
            }
            Err(e) => e,
        };
        if e.message().contains("redefined object key") && diags.len() < MAX_REPEATED_KEYS {
            let loc = e.location();
            let at = offset_in(current, loc.line(), loc.column());
            if let Some((first, key_len)) = earlier_key(current, at) {
                let key = current.get(at..at + key_len).unwrap_or("").to_string();
                let mut copy = current.to_string();
                copy.replace_range(first..first + key_len, &placeholder(&key, diags.len()));
                let line = file.line_of((base + first) as u32);
                let mut d = ParseDiag::new(
                    DiagKind::DuplicateKey,
                    Span::new(file.id, base + at, base + at + key_len),
                    format!(
                        "object key `{}` repeats (first at line {line}); the later value wins, as Terraform reads it",
                        key.trim_matches('"')
                    ),
                );
                d.related.push((
                    Span::new(file.id, base + first, base + first + key_len),
                    format!("`{}` first set here", key.trim_matches('"')),
                ));
                diags.push(d);
                masked = Some(copy);
                continue;
            }
        }
        return Err(located(file, base, &e));
    }
}

/// A parse error of hcl-edit as a located diagnostic.
fn located(file: &SourceFile, base: usize, e: &hcl_edit::parser::Error) -> ParseDiag {
    let loc = e.location();
    // Lines and columns are 1-based; the column counts chars.
    let line0 = loc.line().saturating_sub(1);
    let col0 = loc.column().saturating_sub(1);
    // hcl-edit counts lines in the text after the BOM; the BOM is on
    // line 0 only, where it shifts the column by one char.
    let col0 = if line0 == 0 && base > 0 {
        col0 + 1
    } else {
        col0
    };
    let start = file.offset_of(line0, col0);
    let end = next_char_end(&file.text, start);
    // hcl-edit bounds its own recursion (64 nested expressions,
    // templates or blocks; 128 chained operators): that is a limit
    // of guard, not a syntax error in the file.
    let message = e.message();
    let kind = if message.contains("nesting depth") || message.contains("chained binary") {
        DiagKind::Limit
    } else {
        DiagKind::ParseError
    };
    ParseDiag::new(
        kind,
        Span::new(file.id, start, end),
        format!("HCL parse error: {message}"),
    )
}

/// The byte offset of a 1-based line and column (in chars) of `text`,
/// counting `\n` only, as hcl-edit does.
pub(crate) fn offset_in(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    text[start..]
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(i, _)| start + i)
}

/// For the repeated key at `at`: where the same key was set before in the
/// same object (the nearest earlier occurrence at the same brace depth), and
/// the key's length in bytes.
fn earlier_key(text: &str, at: usize) -> Option<(usize, usize)> {
    let rest = text.get(at..)?;
    let key_len = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"')? + 2
    } else {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len())
    };
    if key_len == 0 {
        return None;
    }
    let key = &rest[..key_len];
    let bytes = text.as_bytes();
    let mut depth = 0i32;
    let mut i = at;
    while i > 0 {
        i -= 1;
        match bytes[i] {
            b'}' | b']' | b')' => depth += 1,
            b'{' | b'[' | b'(' => {
                if depth == 0 {
                    return None; // the object's start: not found
                }
                depth -= 1;
            }
            _ if depth == 0 && text.is_char_boundary(i) && text[i..].starts_with(key) => {
                let before = i.checked_sub(1).map(|j| bytes[j]);
                let boundary = before.is_none_or(|b| {
                    !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'"')
                }) || key.starts_with('"');
                let after = text[i + key_len..].trim_start();
                if boundary && (after.starts_with('=') || after.starts_with(':')) {
                    return Some((i, key_len));
                }
            }
            _ => {}
        }
    }
    None
}

/// A key no configuration uses, of the same byte length as `key`: `_` and
/// digits (inside the quotes of a quoted key).
fn placeholder(key: &str, n: usize) -> String {
    if let Some(inner) = key.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        let len = inner.len();
        return format!("\"{}\"", unique(len, n));
    }
    unique(key.len(), n)
}

fn unique(len: usize, n: usize) -> String {
    let digits = format!("{n}");
    if len <= digits.len() {
        return "_".repeat(len);
    }
    format!("_{digits:0>width$}", width = len - 1)
}

fn next_char_end(text: &str, start: usize) -> usize {
    text.get(start..)
        .and_then(|s| s.chars().next())
        .map_or(start, |c| start + c.len_utf8())
}

/// The offset where bracket nesting first exceeds [`MAX_DEPTH`], counting
/// every bracket (also inside strings: an over-estimate that only matters
/// for pathological files). Guards the recursive-descent parser's stack.
fn too_deep(text: &str) -> Option<usize> {
    // A table instead of a match: one load and one comparison per byte.
    const STEP: [i8; 256] = {
        let mut t = [0i8; 256];
        t[b'{' as usize] = 1;
        t[b'[' as usize] = 1;
        t[b'(' as usize] = 1;
        t[b'}' as usize] = -1;
        t[b']' as usize] = -1;
        t[b')' as usize] = -1;
        t
    };
    // Most 64-byte chunks hold no bracket at all: a chunk is stepped
    // through byte by byte only when it has one (the test is a branch-free
    // reduction the compiler vectorises), which makes this pass about ten
    // times cheaper than stepping every byte.
    const CHUNK: usize = 64;
    let bytes = text.as_bytes();
    let mut depth = 0isize;
    for (c, chunk) in bytes.chunks(CHUNK).enumerate() {
        let brackets = chunk.iter().fold(false, |any, &b| {
            any | matches!(b, b'{' | b'[' | b'(' | b'}' | b']' | b')')
        });
        if !brackets {
            continue;
        }
        for (i, &b) in chunk.iter().enumerate() {
            depth = (depth + STEP[b as usize] as isize).max(0);
            if depth > MAX_DEPTH as isize {
                return Some(c * CHUNK + i);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(
            FileId(3),
            "m/main.tf".into(),
            "m/main.tf".into(),
            text.into(),
        )
    }

    #[test]
    fn parses_and_keeps_spans() {
        let f = file("resource \"a\" \"b\" {\n  x = true\n}\n");
        let p = parse_file(&f).unwrap();
        let block = p.body.blocks().next().unwrap();
        let attr = block.body.attributes().next().unwrap();
        let r = hcl_edit::Span::span(&attr.value).unwrap();
        assert_eq!(&f.text[r], "true");
    }

    /// The chunked pass finds exactly the first byte the byte-by-byte
    /// definition does (closing brackets at depth 0 do not count).
    #[test]
    fn too_deep_is_the_byte_by_byte_definition() {
        fn reference(text: &str) -> Option<usize> {
            let mut depth = 0isize;
            for (i, b) in text.bytes().enumerate() {
                depth += match b {
                    b'{' | b'[' | b'(' => 1,
                    b'}' | b']' | b')' => -1,
                    _ => 0,
                };
                depth = depth.max(0);
                if depth > MAX_DEPTH as isize {
                    return Some(i);
                }
            }
            None
        }
        let alphabet = ["{", "[", "(", "}", "]", ")", "a", "\n", "é", "  "];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut seen_deep = 0;
        for round in 0..3_000 {
            let mut text = String::new();
            let len = 20 + (round % 400);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly opening brackets in some rounds, to reach the limit.
                let pick = if round % 3 == 0 && !seed.is_multiple_of(4) {
                    (seed % 3) as usize
                } else {
                    (seed % alphabet.len() as u64) as usize
                };
                text.push_str(alphabet[pick]);
            }
            let want = reference(&text);
            seen_deep += usize::from(want.is_some());
            assert_eq!(too_deep(&text), want, "{text:?}");
        }
        assert!(seen_deep > 100, "only {seen_deep} inputs were too deep");
    }

    #[test]
    fn error_is_located() {
        let f = file("a = 1\nb = = 2\n");
        let d = parse_file(&f).unwrap_err();
        assert_eq!(d.kind, DiagKind::ParseError);
        let lc = f.line_col(d.span.start);
        assert_eq!(lc.line, 2);
        assert!(d.span.file == FileId(3));
    }

    #[test]
    fn bom_is_skipped() {
        let f = file("\u{feff}x = \"v\"\n");
        let p = parse_file(&f).unwrap();
        let attr = p.body.attributes().next().unwrap();
        let r = hcl_edit::Span::span(&attr.value).unwrap();
        assert_eq!(&f.text[r.start + p.base..r.end + p.base], "\"v\"");
    }

    #[test]
    fn repeated_object_keys_parse_with_the_last_value_winning() {
        let text = "locals {\n  s = { min = 1, max = 3, min = 2, \"q\" = 1, \"q\" = 5 }\n}\n";
        let f = file(text);
        let p = parse_file(&f).expect("Terraform accepts repeated keys");
        assert_eq!(p.diags.len(), 2);
        assert!(p.diags.iter().all(|d| d.kind == DiagKind::DuplicateKey));
        let d = &p.diags[0];
        assert_eq!(&f.text[d.span.start as usize..d.span.end as usize], "min");
        assert_eq!(f.line_col(d.span.start).column, 27);
        // The earlier key is renamed in the parsed copy: the later value is
        // the one an evaluation finds under `min`.
        let locals = p.body.blocks().next().unwrap();
        let attr = locals.body.attributes().next().unwrap();
        let obj = attr.value.as_object().unwrap();
        let keys: Vec<String> = obj
            .iter()
            .map(|(k, _)| match k {
                hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                hcl_edit::expr::ObjectKey::Expression(e) => e.to_string(),
            })
            .collect();
        assert_eq!(keys.iter().filter(|k| *k == "min").count(), 1, "{keys:?}");
        assert!(keys.iter().any(|k| k.starts_with('_')), "{keys:?}");
        // A real syntax error is still one.
        assert!(parse_file(&file("x = { a = }\n")).is_err());
    }

    #[test]
    fn deep_nesting_is_a_limit() {
        let text = format!("x = {}{}\n", "[".repeat(300), "]".repeat(300));
        let d = parse_file(&file(&text)).unwrap_err();
        assert_eq!(d.kind, DiagKind::Limit);
    }
}
