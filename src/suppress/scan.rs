//! Finding `guard:ignore` comments in a file's text, and the lines each covers.
//!
//! ```text
//! image: adservice   # guard:ignore[BO001] skaffold substitutes the tag at deploy time
//! # guard:ignore[SEC002,mutable-image-tag] reason text until=2027-01-31
//! ```
//!
//! A directive is the token `guard:ignore` inside a real comment, followed
//! immediately by `[` and a comma-separated list of rule keys (ids, names or
//! family names) and `]`, then free text: the reason, in which a token
//! `until=YYYY-MM-DD` is the expiry.
//!
//! A directive after code on its line covers that line. A directive on a line
//! of its own covers the next line that is neither blank nor a comment, and
//! if that line opens a block (an HCL `{`/`[`/`(` or heredoc, a YAML key
//! whose value continues below or a sequence item, a continued or heredoc
//! Dockerfile instruction) the whole block.
//!
//! The scan is line based and linear in the text: one pass splits the lines,
//! one classifies them and works out where each block ends, one reads the
//! directives. It never panics, whatever the text.

use std::ops::Range;

/// The token that starts every directive.
const MARK: &str = "guard:ignore";

/// Which comment and block syntax a text uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Terraform / HCL: `#` and `//` comments, `{ [ (` blocks, heredocs.
    Hcl,
    /// YAML: `#` comments, indentation blocks.
    Yaml,
    /// Dockerfile: `#` comment lines, `\` continuations, heredocs.
    Dockerfile,
    /// JSON: no comments, so never any directive.
    Json,
}

/// One `guard:ignore` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// Byte range of `guard:ignore...` through the end of the comment text (for locating findings about the directive).
    pub span: Range<usize>,
    /// 1-based line of the directive.
    pub line: u32,
    /// Each rule key as written, with its byte range in the text.
    pub rules: Vec<(String, Range<usize>)>,
    pub reason: Option<String>,
    /// The expiry as written, already validated as a real calendar date, "YYYY-MM-DD".
    pub until: Option<String>,
    /// Lines covered, 1-based inclusive; `first > last` means nothing.
    pub first_line: u32,
    pub last_line: u32,
    /// Problems to report about the directive itself ("names no rule", "`until=2027-13-01` is not a date YYYY-MM-DD").
    pub problems: Vec<String>,
}

impl Directive {
    /// Whether the directive covers the 1-based `line`.
    pub fn covers(&self, line: u32) -> bool {
        self.first_line <= line && line <= self.last_line
    }
}

/// Every directive in `text`, in text order. JSON has no comments: always
/// empty for [`Style::Json`].
pub fn scan(text: &str, style: Style) -> Vec<Directive> {
    if style == Style::Json || !text.contains(MARK) {
        return Vec::new();
    }
    let mut lines = split_lines(text);
    match style {
        Style::Hcl => hcl(text, &mut lines),
        Style::Yaml => yaml(text, &mut lines),
        Style::Dockerfile => dockerfile(text, &mut lines),
        Style::Json => return Vec::new(),
    }
    directives(text, &lines)
}

/// What a line holds, for finding the line a directive applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Blank,
    Comment,
    Code,
}

/// One line of the text and what the style passes learnt about it.
#[derive(Clone, Copy, Debug)]
struct Line {
    /// Byte range of the line's text, without its line break.
    start: usize,
    end: usize,
    kind: Kind,
    /// A comment that may hold a directive: the byte offset where its text
    /// starts (after `#` or `//`). The comment runs to the end of the line.
    comment: Option<usize>,
    /// 0-based index of the last line covered by a directive aimed at this
    /// line (the end of the block it opens, or the line itself).
    cover_end: usize,
}

/// Lines of `text`, broken at `\n`, `\r\n` and a lone `\r`. A final line
/// break does not start another line; a leading byte order mark is not part
/// of the first line's text.
fn split_lines(text: &str) -> Vec<Line> {
    let bytes = text.as_bytes();
    let mut out: Vec<Line> = Vec::with_capacity(bytes.len() / 32 + 1);
    let mut push = |start: usize, end: usize| {
        let index = out.len();
        out.push(Line {
            start,
            end,
            kind: Kind::Blank,
            comment: None,
            cover_end: index,
        });
    };
    let mut start = 0;
    let mut iter = bytes.iter().enumerate().peekable();
    while let Some((i, &b)) = iter.next() {
        if b == b'\n' || b == b'\r' {
            push(start, i);
            start = i + 1;
            if b == b'\r' && iter.next_if(|&(_, &n)| n == b'\n').is_some() {
                start = i + 2;
            }
        }
    }
    if start < bytes.len() {
        push(start, bytes.len());
    }
    if text.starts_with('\u{feff}')
        && let Some(first) = out.first_mut()
    {
        first.start = first.end.min('\u{feff}'.len_utf8());
    }
    out
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\x0c')
}

/// The bytes of a line's text.
fn bytes_of<'t>(text: &'t str, line: &Line) -> &'t [u8] {
    text.as_bytes().get(line.start..line.end).unwrap_or(&[])
}

/// Number of leading white-space bytes.
fn indent(s: &[u8]) -> usize {
    s.iter().take_while(|&&b| is_space(b)).count()
}

/// `s` without leading and trailing white space.
fn trim(s: &[u8]) -> &[u8] {
    let start = indent(s);
    let rest = s.get(start..).unwrap_or(&[]);
    let end = rest.len() - rest.iter().rev().take_while(|&&b| is_space(b)).count();
    rest.get(..end).unwrap_or(&[])
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------- YAML

/// What one YAML line opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opens {
    /// Nothing: a scalar, a document marker, a continuation line.
    Nothing,
    /// A sequence item `- ...`: lines indented deeper than the dash.
    Item,
    /// A mapping key with a value on the line: deeper lines continue it
    /// (multi-line scalars, flow collections).
    Key,
    /// A mapping key whose value is below (`key:`, `key: &a`, `key: |`):
    /// deeper lines, and `- ` items at the key's own column.
    KeyBelow,
}

/// Classify YAML lines and find where the block each opens ends.
fn yaml(text: &str, lines: &mut [Line]) {
    // Open blocks, innermost last: (line, column, opens). Columns never
    // decrease towards the top, so each line pops exactly the blocks it ends.
    let mut open: Vec<(usize, usize, Opens)> = Vec::new();
    let mut last_code = 0;
    for j in 0..lines.len() {
        let Some(line) = lines.get(j).copied() else {
            break;
        };
        let s = bytes_of(text, &line);
        let (kind, comment, col, opens) = yaml_line(s);
        if let Some(l) = lines.get_mut(j) {
            l.kind = kind;
            l.comment = comment.map(|c| line.start + c + 1);
        }
        if kind != Kind::Code {
            continue;
        }
        let dash = opens == Opens::Item;
        while let Some(&(at, c, o)) = open.last() {
            if col > c || (o == Opens::KeyBelow && col == c && dash) {
                break;
            }
            if let Some(l) = lines.get_mut(at) {
                l.cover_end = last_code.max(at);
            }
            open.pop();
        }
        if opens != Opens::Nothing {
            open.push((j, col, opens));
        }
        last_code = j;
    }
    for (at, _, _) in open {
        if let Some(l) = lines.get_mut(at) {
            l.cover_end = last_code.max(at);
        }
    }
}

/// One YAML line: its kind, the offset of its comment's `#`, its column and
/// what it opens. Quotes are tracked on the line only.
fn yaml_line(s: &[u8]) -> (Kind, Option<usize>, usize, Opens) {
    let col = indent(s);
    let Some(&first) = s.get(col) else {
        return (Kind::Blank, None, col, Opens::Nothing);
    };
    if first == b'#' {
        return (Kind::Comment, Some(col), col, Opens::Nothing);
    }
    let mut quote: Option<u8> = None;
    let mut prev = b' ';
    let mut colon = None;
    let mut comment = None;
    let mut i = col;
    while let Some(&b) = s.get(i) {
        match quote {
            Some(b'\'') => {
                if b == b'\'' {
                    if s.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
            }
            Some(_) => {
                if b == b'\\' {
                    i += 1;
                } else if b == b'"' {
                    quote = None;
                }
            }
            None => {
                if b == b'#' && is_space(prev) {
                    comment = Some(i);
                    break;
                }
                if (b == b'\'' || b == b'"') && matches!(prev, b' ' | b'\t' | b'[' | b'{' | b',') {
                    quote = Some(b);
                } else if b == b':' && colon.is_none() && s.get(i + 1).is_none_or(|&n| is_space(n))
                {
                    colon = Some(i);
                }
            }
        }
        prev = b;
        i += 1;
    }
    let dash = first == b'-' && s.get(col + 1).is_none_or(|&n| is_space(n));
    let opens = if dash {
        Opens::Item
    } else if let Some(colon) = colon {
        let value = s.get(colon + 1..comment.unwrap_or(s.len())).unwrap_or(&[]);
        if value_below(value) {
            Opens::KeyBelow
        } else {
            Opens::Key
        }
    } else {
        Opens::Nothing
    };
    (Kind::Code, comment, col, opens)
}

/// Whether what follows a key's `:` leaves its value to the lines below:
/// nothing, anchors, tags and a block scalar indicator.
fn value_below(value: &[u8]) -> bool {
    value
        .split(|&b| is_space(b))
        .filter(|t| !t.is_empty())
        .all(|t| match t.split_first() {
            Some((b'&' | b'!', _)) => true,
            Some((b'|' | b'>', rest)) => rest
                .iter()
                .all(|&b| b == b'-' || b == b'+' || b.is_ascii_digit()),
            _ => false,
        })
}

// ---------------------------------------------------------------- HCL

/// Where the lexer is inside a line of HCL.
#[derive(Clone, Copy, Debug)]
enum Ctx {
    /// A quoted string.
    Str,
    /// A `${ }` / `%{ }` sequence inside a string, with its `{` depth.
    Interp(u32),
}

/// Classify HCL lines and find where the block each opens ends.
fn hcl(text: &str, lines: &mut [Line]) {
    let mut in_block_comment = false;
    // The heredoc being read: its closing marker and the line that opened it.
    let mut heredoc: Option<(&[u8], usize)> = None;
    // Open brackets' lines with the depth before them, innermost last.
    let mut open: Vec<(usize, i64)> = Vec::new();
    let mut depth: i64 = 0;
    let mut last_code = 0;
    let mut ctx: Vec<Ctx> = Vec::new();
    for j in 0..lines.len() {
        let Some(line) = lines.get(j).copied() else {
            break;
        };
        let s = bytes_of(text, &line);
        if let Some((tag, opener)) = heredoc {
            let t = trim(s);
            let kind = if t.is_empty() {
                Kind::Blank
            } else {
                Kind::Code
            };
            if let Some(l) = lines.get_mut(j) {
                l.kind = kind;
            }
            if kind == Kind::Code {
                last_code = j;
            }
            if t == tag {
                heredoc = None;
                if let Some(l) = lines.get_mut(opener) {
                    l.cover_end = l.cover_end.max(j);
                }
            }
            continue;
        }
        let mut has_code = false;
        let mut has_comment = false;
        let mut comment = None;
        let mut rel: i64 = 0;
        let mut min_rel: i64 = 0;
        let content_end = s.len() - s.iter().rev().take_while(|&&b| is_space(b)).count();
        ctx.clear();
        let mut i = 0;
        while let Some(&b) = s.get(i) {
            let next = s.get(i + 1).copied();
            if in_block_comment {
                if !is_space(b) {
                    has_comment = true;
                }
                if b == b'*' && next == Some(b'/') {
                    in_block_comment = false;
                    i += 1;
                }
                i += 1;
                continue;
            }
            match ctx.last_mut() {
                Some(Ctx::Str) => match b {
                    b'\\' => i += 1,
                    b'"' => {
                        ctx.pop();
                    }
                    b'$' | b'%' if next == Some(b) => i += 1,
                    b'$' | b'%' if next == Some(b'{') => {
                        ctx.push(Ctx::Interp(0));
                        i += 1;
                    }
                    _ => {}
                },
                Some(Ctx::Interp(d)) => match b {
                    b'"' => ctx.push(Ctx::Str),
                    b'{' => *d += 1,
                    b'}' if *d == 0 => {
                        ctx.pop();
                    }
                    b'}' => *d -= 1,
                    _ => {}
                },
                None => {
                    if b == b'#' || (b == b'/' && next == Some(b'/')) {
                        has_comment = true;
                        comment = Some(line.start + i + if b == b'#' { 1 } else { 2 });
                        break;
                    }
                    if b == b'/' && next == Some(b'*') {
                        has_comment = true;
                        in_block_comment = true;
                        i += 2;
                        continue;
                    }
                    if !is_space(b) {
                        has_code = true;
                    }
                    match b {
                        b'"' => ctx.push(Ctx::Str),
                        b'{' | b'[' | b'(' => rel += 1,
                        b'}' | b']' | b')' => {
                            rel -= 1;
                            min_rel = min_rel.min(rel);
                        }
                        b'<' if next == Some(b'<') => {
                            // `<<EOT` or `<<-EOT`, then nothing but white space.
                            let from = i + 2 + usize::from(s.get(i + 2) == Some(&b'-'));
                            let n = s
                                .get(from..)
                                .unwrap_or(&[])
                                .iter()
                                .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_')
                                .count();
                            if n > 0 && from + n >= content_end {
                                heredoc = s.get(from..from + n).map(|tag| (tag, j));
                                break;
                            }
                            i += 1;
                        }
                        _ => {}
                    }
                }
            }
            i += 1;
        }
        let kind = if has_code {
            Kind::Code
        } else if has_comment {
            Kind::Comment
        } else {
            Kind::Blank
        };
        if let Some(l) = lines.get_mut(j) {
            l.kind = kind;
            l.comment = comment;
        }
        if kind != Kind::Code {
            continue;
        }
        last_code = j;
        if rel == 0 && min_rel == 0 {
            continue;
        }
        let low = depth + min_rel;
        while let Some(&(at, base)) = open.last() {
            if base < low {
                break;
            }
            if let Some(l) = lines.get_mut(at) {
                l.cover_end = l.cover_end.max(j);
            }
            open.pop();
        }
        if rel > 0 {
            open.push((j, depth));
        }
        depth += rel;
    }
    // Unclosed brackets and heredocs run to the last line with code.
    let unclosed = open.into_iter().map(|(at, _)| at);
    for at in unclosed.chain(heredoc.map(|(_, at)| at)) {
        if let Some(l) = lines.get_mut(at) {
            l.cover_end = l.cover_end.max(last_code);
        }
    }
}

// ---------------------------------------------------------- Dockerfile

/// Classify Dockerfile lines and find where each instruction ends. Follows
/// the crate's Dockerfile parser: comment lines inside a continuation are
/// skipped, a blank line ends it, a heredoc (`RUN <<EOF`) body runs to the
/// line holding just its marker.
fn dockerfile(text: &str, lines: &mut [Line]) {
    let kind_of = |line: &Line| {
        let s = bytes_of(text, line);
        let col = indent(s);
        match s.get(col) {
            None => (Kind::Blank, None),
            Some(b'#') => (Kind::Comment, Some(line.start + col + 1)),
            Some(_) => (Kind::Code, None),
        }
    };
    let mut i = 0;
    while let Some(line) = lines.get(i).copied() {
        let (kind, comment) = kind_of(&line);
        if let Some(l) = lines.get_mut(i) {
            l.kind = kind;
            l.comment = comment;
        }
        if kind != Kind::Code {
            i += 1;
            continue;
        }
        // One instruction: `first..=last`, continued while a line ends in `\`.
        let first = i;
        let mut last = i;
        let mut tag = heredoc_tag(bytes_of(text, &line));
        let mut next = i + 1;
        let mut current = line;
        while trim(bytes_of(text, &current)).ends_with(b"\\") {
            let mut found = None;
            while let Some(l) = lines.get(next).copied() {
                let (kind, comment) = kind_of(&l);
                if let Some(m) = lines.get_mut(next) {
                    m.kind = kind;
                    m.comment = comment;
                }
                next += 1;
                match kind {
                    Kind::Comment => {}
                    Kind::Blank => break,
                    Kind::Code => {
                        found = Some(l);
                        break;
                    }
                }
            }
            let Some(l) = found else {
                break;
            };
            last = next - 1;
            current = l;
            if tag.is_none() {
                tag = heredoc_tag(bytes_of(text, &l));
            }
        }
        if let Some(tag) = tag {
            // The body is string content: no comments, no directives.
            while let Some(l) = lines.get(next).copied() {
                let t = trim(bytes_of(text, &l));
                next += 1;
                if let Some(m) = lines.get_mut(next - 1) {
                    m.kind = if t.is_empty() {
                        Kind::Blank
                    } else {
                        Kind::Code
                    };
                    m.comment = None;
                }
                if !t.is_empty() {
                    last = next - 1;
                }
                if t == tag {
                    break;
                }
            }
        }
        for l in lines.get_mut(first..=last).unwrap_or(&mut []) {
            l.cover_end = last;
        }
        i = next;
    }
}

/// The marker of the first heredoc a Dockerfile line opens (`<<EOF`,
/// `<<-EOF`, `<<"EOF"`), as the crate's parser reads it.
fn heredoc_tag(s: &[u8]) -> Option<&[u8]> {
    s.split(|&b| is_space(b)).find_map(|word| {
        let tag = word.strip_prefix(b"<<")?;
        let dashes = tag.iter().take_while(|&&b| b == b'-').count();
        let tag = tag.get(dashes..)?;
        let quote = |b: &u8| *b == b'"' || *b == b'\'';
        let start = tag.iter().take_while(|b| quote(b)).count();
        let end = tag.len() - tag.iter().rev().take_while(|b| quote(b)).count();
        tag.get(start..end).filter(|t| !t.is_empty())
    })
}

// ---------------------------------------------------------- directives

/// Read the directives in the classified lines and resolve their coverage.
fn directives(text: &str, lines: &[Line]) -> Vec<Directive> {
    let mut out = Vec::new();
    // The next code line after a comment line: only moves forward.
    let mut next_code = 0;
    for (index, line) in lines.iter().enumerate() {
        let Some(from) = line.comment else {
            continue;
        };
        let Some(mut d) = parse(text, from..line.end, line_number(index)) else {
            continue;
        };
        let (first, last) = if line.kind == Kind::Code {
            (index, index)
        } else {
            next_code = next_code.max(index + 1);
            while lines.get(next_code).is_some_and(|l| l.kind != Kind::Code) {
                next_code += 1;
            }
            match lines.get(next_code) {
                Some(target) => (next_code, target.cover_end.max(next_code)),
                // Nothing below: covers nothing.
                None => (index + 1, index),
            }
        };
        d.first_line = line_number(first);
        d.last_line = line_number(last);
        out.push(d);
    }
    out
}

/// Parse the directive in the comment text `comment` (one line), if any;
/// coverage is left for the caller.
fn parse(text: &str, comment: Range<usize>, line: u32) -> Option<Directive> {
    let bytes = text.as_bytes();
    let body = text.get(comment.clone())?;
    // The comment text without trailing white space.
    let end = comment.start + body.trim_end().len();
    let mut from = 0;
    let (start, after) = loop {
        let at = comment.start + from + body.get(from..)?.find(MARK)?;
        let after = at + MARK.len();
        from = after - comment.start;
        let boundary = at == comment.start
            || bytes
                .get(at - 1)
                .is_some_and(|&b| is_space(b) || b == b'#' || b == b'/');
        let follows = bytes.get(after).filter(|_| after < end);
        if boundary && follows.is_none_or(|&b| b == b'[' || is_space(b)) {
            break (at, after);
        }
    };
    let mut d = Directive {
        span: start..end,
        line,
        rules: Vec::new(),
        reason: None,
        until: None,
        first_line: 0,
        last_line: 0,
        problems: Vec::new(),
    };
    let rest = if bytes.get(after) == Some(&b'[') && after < end {
        let list = text.get(after + 1..end)?;
        let Some(close) = list.find(']') else {
            d.problems.push("unclosed `[`".to_string());
            return Some(d);
        };
        let mut empty = false;
        let mut at = after + 1;
        for key in list.get(..close)?.split(',') {
            let trimmed = key.trim_matches([' ', '\t']);
            if trimmed.is_empty() {
                empty = true;
            } else {
                let lead = key.len() - key.trim_start_matches([' ', '\t']).len();
                let k = at + lead;
                d.rules.push((trimmed.to_string(), k..k + trimmed.len()));
            }
            at += key.len() + 1;
        }
        if d.rules.is_empty() {
            d.problems.push("names no rule".to_string());
        } else if empty {
            d.problems
                .push("has an empty entry in its rule list".to_string());
        }
        after + 1 + close + 1..end
    } else {
        d.problems.push("names no rule".to_string());
        after..end
    };
    reason_and_until(text, rest, &mut d);
    Some(d)
}

/// The free text after the rule list: `until=` tokens out, the rest trimmed
/// is the reason.
fn reason_and_until(text: &str, rest: Range<usize>, d: &mut Directive) {
    let Some(s) = text.get(rest) else {
        return;
    };
    let mut pieces: Vec<&str> = Vec::new();
    let mut kept = 0;
    let mut seen = false;
    let mut offset = 0;
    for token in s.split([' ', '\t']) {
        let at = offset;
        offset += token.len() + 1;
        let Some(value) = token.strip_prefix("until=") else {
            continue;
        };
        pieces.push(s.get(kept..at).unwrap_or(""));
        kept = at + token.len();
        if seen {
            d.problems.push("has more than one `until=`".to_string());
        } else if is_date(value) {
            d.until = Some(value.to_string());
        } else {
            d.problems
                .push(format!("`{token}` is not a date YYYY-MM-DD"));
        }
        seen = true;
    }
    pieces.push(s.get(kept..).unwrap_or(""));
    let reason = pieces
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    d.reason = (!reason.is_empty()).then_some(reason);
}

/// Whether `s` is a real calendar date written `YYYY-MM-DD` (Gregorian).
fn is_date(s: &str) -> bool {
    let &[y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = s.as_bytes() else {
        return false;
    };
    let digits = [y0, y1, y2, y3, m0, m1, d0, d1];
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |ds: &[u8]| ds.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let year = num(&[y0, y1, y2, y3]);
    let month = num(&[m0, m1]);
    let day = num(&[d0, d1]);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str, style: Style) -> Directive {
        let found = scan(text, style);
        assert_eq!(found.len(), 1, "{found:#?}");
        found.into_iter().next().unwrap()
    }

    fn cover(d: &Directive) -> (u32, u32) {
        (d.first_line, d.last_line)
    }

    fn keys(d: &Directive) -> Vec<&str> {
        d.rules.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// (line, first, last) of every directive.
    fn lines_of(text: &str, style: Style) -> Vec<(u32, u32, u32)> {
        scan(text, style)
            .iter()
            .map(|d| (d.line, d.first_line, d.last_line))
            .collect()
    }

    #[test]
    fn yaml_trailing_directive_covers_its_line_only() {
        let text = "spec:\n  image: adservice   # guard:ignore[BO001] skaffold substitutes the tag at deploy time\n  other: 1\n";
        let d = one(text, Style::Yaml);
        assert_eq!(d.line, 2);
        assert_eq!(cover(&d), (2, 2));
        assert_eq!(keys(&d), ["BO001"]);
        assert_eq!(&text[d.rules[0].1.clone()], "BO001");
        assert_eq!(
            d.reason.as_deref(),
            Some("skaffold substitutes the tag at deploy time")
        );
        assert_eq!(d.until, None);
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        assert_eq!(
            &text[d.span.clone()],
            "guard:ignore[BO001] skaffold substitutes the tag at deploy time"
        );
        // Trailing on a line that opens a block: still just that line.
        let d = one("spec:  # guard:ignore[X]\n  a: 1\n  b: 2\n", Style::Yaml);
        assert_eq!(cover(&d), (1, 1));
    }

    #[test]
    fn yaml_own_line_above_a_nested_mapping_covers_it_up_to_the_sibling() {
        let text = "\
apiVersion: apps/v1
spec:
  # guard:ignore[SEC002] nested
  template:
    metadata:
      labels:
        app: a

    # a trailing comment inside
  replicas: 2
";
        let d = one(text, Style::Yaml);
        assert_eq!(d.line, 3);
        assert_eq!(cover(&d), (4, 7));
        assert_eq!(d.reason.as_deref(), Some("nested"));
    }

    #[test]
    fn yaml_own_line_above_a_list_item_covers_the_item() {
        let text = "\
spec:
  containers:
    # guard:ignore[BO001]
    - name: a
      image: x
      ports:
        - 80
    - name: b
      image: y
";
        assert_eq!(lines_of(text, Style::Yaml), [(3, 4, 7)]);
    }

    #[test]
    fn yaml_compact_sequence_under_a_key_belongs_to_it() {
        let text = "\
# guard:ignore[BO001]
args:
- a
- b:
    c: 1
# note
- d
other: 1
";
        assert_eq!(lines_of(text, Style::Yaml), [(1, 2, 7)]);
        // Nested, with an anchor after the colon.
        let text = "\
spec:
  # guard:ignore[BO001]
  env: &e
  - name: A
    value: b
  x: 1
";
        assert_eq!(lines_of(text, Style::Yaml), [(2, 3, 5)]);
        // A key with its value on the line does not take `- ` lines at its column.
        let text = "# guard:ignore[BO001]\nk: v\n- a\n";
        assert_eq!(lines_of(text, Style::Yaml), [(1, 2, 2)]);
    }

    #[test]
    fn yaml_block_scalar_and_multi_line_values() {
        let text = "\
# guard:ignore[A]
script: |-
  echo a

  echo b
# guard:ignore[B]
args: [a,
  b]
next: 1
";
        assert_eq!(lines_of(text, Style::Yaml), [(1, 2, 5), (6, 7, 8)]);
    }

    #[test]
    fn stacked_directives_all_apply_to_the_next_code_line() {
        let text = "\
a: 0
# guard:ignore[BO001] first
# an ordinary comment
# guard:ignore[SEC002] second

image: x
tag: y
";
        assert_eq!(lines_of(text, Style::Yaml), [(2, 6, 6), (4, 6, 6)]);
    }

    #[test]
    fn hcl_block_spans_nested_blocks_and_a_heredoc() {
        let text = r#"# guard:ignore[BO001] reason
resource "aws_iam_policy" "p" {
  name = "x{ ${var.a} }"
  policy = <<-EOT
    { "a": "}" }
    # guard:ignore[H] heredoc text, not a comment
    }
  EOT
  tags = {
    a = "b"
  }
}
resource "x" "z" {
}
"#;
        let d = one(text, Style::Hcl);
        assert_eq!(cover(&d), (2, 12));
        assert_eq!(d.reason.as_deref(), Some("reason"));
    }

    #[test]
    fn hcl_heredoc_attribute_and_nested_block() {
        let text = r#"resource "a" "b" {
  # guard:ignore[A]
  policy = <<EOT
  {"Action": "*"}
  EOT
  /* guard:ignore[not-in-block-comments] { */
  # guard:ignore[B]
  lifecycle {
    ignore_changes = [
      tags,
    ]
  }
  # guard:ignore[C]
  count = 1
}
"#;
        assert_eq!(
            lines_of(text, Style::Hcl),
            [(2, 3, 5), (7, 8, 12), (13, 14, 14)]
        );
    }

    #[test]
    fn hcl_slash_slash_and_hash_comments_outside_strings() {
        let text = r##"url = "http://example.com" // guard:ignore[BO001] why
// guard:ignore[SEC002]
x = 1
y = "#not" # guard:ignore[A]
z = "a # guard:ignore[B] // guard:ignore[C]"
w = "${lookup(m, "k#")}" # guard:ignore[D]
"##;
        let found = scan(text, Style::Hcl);
        let got: Vec<_> = found.iter().map(|d| (d.line, cover(d), keys(d))).collect();
        assert_eq!(
            got,
            [
                (1, (1, 1), vec!["BO001"]),
                (2, (3, 3), vec!["SEC002"]),
                (4, (4, 4), vec!["A"]),
                (6, (6, 6), vec!["D"]),
            ]
        );
        assert_eq!(found[0].reason.as_deref(), Some("why"));
    }

    #[test]
    fn hash_inside_a_quoted_scalar_is_not_a_comment() {
        for text in [
            "image: \"a#guard:ignore[BO001]\"\n",
            "image: \"a # guard:ignore[BO001]\"\n",
            "image: 'a # guard:ignore[BO001]'\n",
            "image: 'it''s # guard:ignore[BO001]'\n",
            "image: \"q\\\" # guard:ignore[BO001]\"\n",
            "image: a#guard:ignore[BO001]\n",
            "- [\"x\", \"# guard:ignore[BO001]\"]\n",
        ] {
            assert_eq!(scan(text, Style::Yaml), [], "{text}");
        }
        // Controls: real comments after quoted scalars and apostrophes.
        assert_eq!(
            lines_of("image: \"a#b\" # guard:ignore[BO001]\n", Style::Yaml),
            [(1, 1, 1)]
        );
        assert_eq!(
            lines_of("msg: it's # guard:ignore[BO001]\n", Style::Yaml),
            [(1, 1, 1)]
        );
    }

    #[test]
    fn dockerfile_comment_lines_continuations_and_heredocs() {
        let text = r#"# syntax=docker/dockerfile:1
# guard:ignore[BO001] base pinned elsewhere
FROM node:latest
# guard:ignore[SEC002]
RUN apt-get update \
    # a comment inside
    && apt-get install -y curl \
    && rm -rf /var/lib/apt/lists/*
ENV A=b # guard:ignore[X]
# guard:ignore[BO002]
RUN <<EOF
# guard:ignore[Z] shell text, not a Dockerfile comment
echo hi
EOF
CMD ["x"]
# guard:ignore[C]
RUN a \

RUN b
"#;
        let found = scan(text, Style::Dockerfile);
        let got: Vec<_> = found.iter().map(|d| (d.line, cover(d), keys(d))).collect();
        assert_eq!(
            got,
            [
                (2, (3, 3), vec!["BO001"]),
                (4, (5, 8), vec!["SEC002"]),
                (10, (11, 14), vec!["BO002"]),
                (16, (17, 17), vec!["C"]),
            ]
        );
    }

    #[test]
    fn until_is_a_real_calendar_date() {
        let d = one(
            "x: 1 # guard:ignore[A] why until=2027-01-31 more\n",
            Style::Yaml,
        );
        assert_eq!(d.until.as_deref(), Some("2027-01-31"));
        assert_eq!(d.reason.as_deref(), Some("why more"));
        assert!(d.problems.is_empty());

        for (date, ok) in [
            ("2028-02-29", true),
            ("2000-02-29", true),
            ("2027-12-31", true),
            ("2027-02-29", false),
            ("1900-02-29", false),
            ("2027-02-30", false),
            ("2027-13-01", false),
            ("2027-04-31", false),
            ("2027-00-10", false),
            ("2027-01-00", false),
            ("27-1-1", false),
            ("2027-01-3a", false),
            ("", false),
        ] {
            let text = format!("# guard:ignore[A] r until={date}\nx: 1\n");
            let d = one(&text, Style::Yaml);
            assert_eq!(d.reason.as_deref(), Some("r"), "{date}");
            if ok {
                assert_eq!(d.until.as_deref(), Some(date));
                assert!(d.problems.is_empty(), "{date}: {:?}", d.problems);
            } else {
                assert_eq!(d.until, None, "{date}");
                assert_eq!(
                    d.problems,
                    [format!("`until={date}` is not a date YYYY-MM-DD")]
                );
            }
        }
        let d = one(
            "# guard:ignore[A] until=2027-01-01 until=2027-01-02\nx: 1\n",
            Style::Yaml,
        );
        assert_eq!(d.until.as_deref(), Some("2027-01-01"));
        assert_eq!(d.problems.len(), 1);
        assert_eq!(d.reason, None);
    }

    #[test]
    fn missing_reason_is_none() {
        let d = one("# guard:ignore[A]\nx: 1\n", Style::Yaml);
        assert_eq!(d.reason, None);
        assert!(d.problems.is_empty());
        let d = one("x = 1 # guard:ignore[A]   until=2027-01-01  \n", Style::Hcl);
        assert_eq!(d.reason, None);
        assert_eq!(d.until.as_deref(), Some("2027-01-01"));
    }

    #[test]
    fn rule_lists_keep_keys_as_written_with_their_ranges() {
        let text = "x: 1 # guard:ignore[ SEC002 , mutable-image-tag,secrets ] r\n";
        let d = one(text, Style::Yaml);
        assert_eq!(keys(&d), ["SEC002", "mutable-image-tag", "secrets"]);
        for (k, r) in &d.rules {
            assert_eq!(&text[r.clone()], k);
        }
        assert!(d.problems.is_empty());
        let d = one("# guard:ignore[A,,B]\nx: 1\n", Style::Yaml);
        assert_eq!(keys(&d), ["A", "B"]);
        assert_eq!(d.problems.len(), 1);
        let d = one("# guard:ignore[]\nx: 1\n", Style::Yaml);
        assert_eq!(d.problems, ["names no rule"]);
    }

    #[test]
    fn no_bracket_names_no_rule() {
        let d = one("x: 1 # guard:ignore because\n", Style::Yaml);
        assert!(d.rules.is_empty());
        assert_eq!(d.problems, ["names no rule"]);
        assert_eq!(d.reason.as_deref(), Some("because"));
        assert_eq!(cover(&d), (1, 1));
        // At the end of the file, no newline, nothing below: covers nothing.
        let text = "x: 1\n# guard:ignore";
        let d = one(text, Style::Yaml);
        assert_eq!(d.problems, ["names no rule"]);
        assert_eq!(d.line, 2);
        assert!(d.first_line > d.last_line);
        assert_eq!(&text[d.span.clone()], "guard:ignore");
        // Not the token: part of a longer word.
        assert_eq!(
            scan("# guard:ignored\n# noguard:ignore[A]\nx: 1\n", Style::Yaml),
            []
        );
    }

    #[test]
    fn unclosed_bracket_is_a_problem() {
        let text = "x: 1 # guard:ignore[BO001, reason";
        let d = one(text, Style::Yaml);
        assert_eq!(d.problems, ["unclosed `[`"]);
        assert!(d.rules.is_empty());
        assert_eq!(d.until, None);
        assert_eq!(&text[d.span.clone()], "guard:ignore[BO001, reason");
        let d = one("# guard:ignore[", Style::Hcl);
        assert_eq!(d.problems, ["unclosed `[`"]);
        assert!(d.first_line > d.last_line);
    }

    #[test]
    fn directive_with_nothing_below_covers_nothing() {
        let d = one("a: 1\n# guard:ignore[A]\n\n# c\n", Style::Yaml);
        assert_eq!(cover(&d), (3, 2));
        assert!(d.first_line > d.last_line);
    }

    /// Everything but byte offsets, with the text each range names.
    fn summary(text: &str, style: Style) -> Vec<String> {
        scan(text, style)
            .iter()
            .map(|d| {
                let rules: Vec<_> = d
                    .rules
                    .iter()
                    .map(|(k, r)| format!("{k}={}", &text[r.clone()]))
                    .collect();
                format!(
                    "{} {}-{} {:?} {:?} {:?} {:?} {:?}",
                    d.line,
                    d.first_line,
                    d.last_line,
                    &text[d.span.clone()],
                    rules,
                    d.reason,
                    d.until,
                    d.problems
                )
            })
            .collect()
    }

    #[test]
    fn crlf_and_lone_cr_give_the_same_lines_as_lf() {
        let yaml = "a: 1\n# guard:ignore[A] r\nspec:\n  b:\n    c: 1\n\n  d: 2 # guard:ignore[B]\n# guard:ignore[C]\n- x\n  y: 1\n";
        let hcl = "# guard:ignore[A]\nresource \"a\" \"b\" {\n  p = <<EOT\n}\nEOT\n}\nx = 1 // guard:ignore[B]\n";
        let docker = "# guard:ignore[A]\nRUN a \\\n  # c\n  b\n# guard:ignore[B]\nFROM x\n";
        for (text, style) in [
            (yaml, Style::Yaml),
            (hcl, Style::Hcl),
            (docker, Style::Dockerfile),
        ] {
            let lf = summary(text, style);
            assert!(lf.len() >= 2, "{lf:?}");
            assert_eq!(summary(&text.replace('\n', "\r\n"), style), lf);
            assert_eq!(summary(&text.replace('\n', "\r"), style), lf);
        }
        assert_eq!(
            lines_of("a: 1\r\r# guard:ignore[A]\rb:\r  c: 1\rd: 1", Style::Yaml),
            [(3, 4, 5)]
        );
    }

    #[test]
    fn json_and_texts_without_the_token_give_nothing() {
        assert_eq!(scan("{\"a\": \"# guard:ignore[A]\"}\n", Style::Json), []);
        assert_eq!(scan("# guard:ignore[A]\n{}\n", Style::Json), []);
        assert_eq!(scan("# guard: ignore[A]\nx: 1\n", Style::Yaml), []);
        assert_eq!(scan("", Style::Hcl), []);
    }

    #[test]
    fn byte_order_mark_and_multi_byte_text() {
        let text = "\u{feff}# guard:ignore[A] é\nx: 1\n";
        let d = one(text, Style::Yaml);
        assert_eq!(cover(&d), (2, 2));
        assert_eq!(d.reason.as_deref(), Some("é"));
        assert_eq!(scan("é#guard:ignore[A]\n", Style::Yaml), []);
        let d = one("ü: 日本 #guard:ignore[A]日本", Style::Yaml);
        assert_eq!(d.reason.as_deref(), Some("日本"));
        let d = one("x = \"日\" #guard:ignore[A]", Style::Hcl);
        assert_eq!(keys(&d), ["A"]);
    }

    #[test]
    fn a_hundred_thousand_directives_in_four_mib() {
        let mut text = String::new();
        for i in 0..50_000 {
            text.push_str("# guard:ignore[BO001] reason text until=2027-01-31\n");
            text.push_str(&format!("k{i}:\n  v: x # guard:ignore[SEC002]\n"));
        }
        assert!(text.len() >= 4 << 20, "{}", text.len());
        let found = scan(&text, Style::Yaml);
        assert_eq!(found.len(), 100_000);
        for (n, d) in found.iter().enumerate() {
            let pair = u32::try_from(n / 2).unwrap();
            if n % 2 == 0 {
                assert_eq!(d.line, 3 * pair + 1);
                assert_eq!(cover(d), (d.line + 1, d.line + 2));
                assert_eq!(d.until.as_deref(), Some("2027-01-31"));
                assert_eq!(d.reason.as_deref(), Some("reason text"));
            } else {
                assert_eq!(d.line, 3 * pair + 3);
                assert_eq!(cover(d), (d.line, d.line));
                assert_eq!(keys(d), ["SEC002"]);
            }
        }
        // 100k directives stacked above one block: each is resolved once.
        let mut text = "# guard:ignore[A]\n".repeat(100_000);
        text.push_str("resource \"a\" \"b\" {\n  x = 1\n}\n");
        let found = scan(&text, Style::Hcl);
        assert_eq!(found.len(), 100_000);
        assert!(found.iter().all(|d| cover(d) == (100_001, 100_003)));
    }

    /// Lines of `text` as `scan` counts them.
    fn line_count(text: &str) -> u32 {
        let breaks = text.replace("\r\n", "\n").replace('\r', "\n");
        u32::try_from(breaks.split('\n').count()).unwrap()
    }

    #[test]
    fn arbitrary_text_never_panics_and_ranges_are_sound() {
        const PARTS: &[&str] = &[
            "#",
            "//",
            "/*",
            "*/",
            "guard:ignore",
            "guard:ignore[",
            "\n# guard:ignore[A] ",
            " # guard:ignore[B,C] r ",
            "\n// guard:ignore",
            "[",
            "]",
            ",",
            "A",
            "b-c",
            " ",
            "\t",
            "\n",
            "\r",
            "\r\n",
            "\"",
            "'",
            "\\",
            "{",
            "}",
            "(",
            ")",
            "<<EOT",
            "EOT",
            "<<-EOF",
            "EOF",
            "- ",
            "key:",
            ": ",
            "|",
            "&a",
            "until=2028-02-29",
            "until=2027-02-29",
            "until=",
            "é",
            "日本",
            "\u{feff}",
            "$${",
            "${",
            "%{",
            "~}",
            "RUN ",
            "\u{0}",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut directives = 0;
        for _ in 0..3000 {
            let mut text = String::new();
            let len = next() % 60;
            for _ in 0..len {
                text.push_str(PARTS[(next() % PARTS.len() as u64) as usize]);
            }
            let lines = line_count(&text);
            for style in [Style::Hcl, Style::Yaml, Style::Dockerfile, Style::Json] {
                for d in scan(&text, style) {
                    directives += 1;
                    let span = text.get(d.span.clone()).expect("span on char boundaries");
                    assert!(span.starts_with(MARK), "{text:?} {d:?}");
                    assert!((1..=lines).contains(&d.line), "{text:?} {d:?}");
                    for (k, r) in &d.rules {
                        assert_eq!(text.get(r.clone()), Some(k.as_str()));
                    }
                    if d.first_line <= d.last_line {
                        assert!(d.first_line >= d.line, "{text:?} {d:?}");
                        assert!(d.last_line <= lines, "{text:?} {d:?}");
                    }
                    if let Some(u) = &d.until {
                        assert!(is_date(u));
                    }
                    assert_ne!(style, Style::Json);
                }
            }
        }
        assert!(directives > 1000, "{directives}");
    }
}
