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
}

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
    match hcl_edit::parser::parse_body(text) {
        Ok(body) => Ok(Parsed { body, base }),
        Err(e) => {
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
            Err(ParseDiag::new(
                kind,
                Span::new(file.id, start, end),
                format!("HCL parse error: {message}"),
            ))
        }
    }
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
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
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
    fn deep_nesting_is_a_limit() {
        let text = format!("x = {}{}\n", "[".repeat(300), "]".repeat(300));
        let d = parse_file(&file(&text)).unwrap_err();
        assert_eq!(d.kind, DiagKind::Limit);
    }
}
