//! The lexer: template text split into literal text and actions, each
//! action into tokens; `{{-` and `-}}` trim the text beside them, comments
//! disappear.

use super::{At, Lit, SyntaxError};

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// A keyword or function name.
    Ident(String),
    /// `.name` (one step of a field chain).
    Field(String),
    Dot,
    /// `$name`, or `$`.
    Var(String),
    Lit(Lit),
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub at: At,
    /// Whitespace before it (a field chain stops at a space).
    pub spaced: bool,
}

#[derive(Debug)]
pub enum Piece {
    Text(At),
    Action { toks: Vec<Token>, at: At },
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn err(at: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        at: (at as u32, at as u32 + 1),
        message: message.into(),
    }
}

/// Split `text` into pieces.
pub fn lex(text: &str) -> Result<Vec<Piece>, SyntaxError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut trim_next = false;
    loop {
        let open = memchr::memmem::find(&b[pos..], b"{{").map(|i| pos + i);
        let mut start = pos;
        let mut end = open.unwrap_or(b.len());
        if trim_next {
            while start < end && is_space(b[start]) {
                start += 1;
            }
        }
        let trim_left = open.is_some_and(|o| {
            b.get(o + 2) == Some(&b'-') && b.get(o + 3).is_some_and(|&c| is_space(c))
        });
        if trim_left {
            while end > start && is_space(b[end - 1]) {
                end -= 1;
            }
        }
        if end > start {
            out.push(Piece::Text((start as u32, end as u32)));
        }
        let Some(o) = open else { break };
        let mut p = o + 2 + if trim_left { 2 } else { 0 };
        // A comment: `{{/* ... */}}`, right after the delimiter.
        if b[p..].starts_with(b"/*") {
            let close = memchr::memmem::find(&b[p + 2..], b"*/")
                .map(|i| p + 2 + i)
                .ok_or_else(|| err(o, "unclosed comment"))?;
            p = close + 2;
            if b[p..].starts_with(b" -}}")
                || b[p..].starts_with(b"\t-}}")
                || b[p..].starts_with(b"\n-}}")
                || b[p..].starts_with(b"\r-}}")
            {
                trim_next = true;
                pos = p + 4;
            } else if b[p..].starts_with(b"}}") {
                trim_next = false;
                pos = p + 2;
            } else {
                return Err(err(p, "comment ends before closing delimiter"));
            }
            continue;
        }
        let mut toks = Vec::new();
        let mut spaced = true;
        loop {
            let Some(&c) = b.get(p) else {
                return Err(err(o, "unclosed action"));
            };
            if is_space(c) {
                let ws = p;
                while b.get(p).is_some_and(|&c| is_space(c)) {
                    p += 1;
                }
                if b[p..].starts_with(b"-}}") {
                    out.push(Piece::Action {
                        toks,
                        at: (o as u32, (p + 3) as u32),
                    });
                    trim_next = true;
                    pos = p + 3;
                    break;
                }
                let _ = ws;
                spaced = true;
                continue;
            }
            if b[p..].starts_with(b"}}") {
                out.push(Piece::Action {
                    toks,
                    at: (o as u32, (p + 2) as u32),
                });
                trim_next = false;
                pos = p + 2;
                break;
            }
            let t0 = p;
            let tok = match c {
                b'|' => {
                    p += 1;
                    Tok::Pipe
                }
                b'(' => {
                    p += 1;
                    Tok::LParen
                }
                b')' => {
                    p += 1;
                    Tok::RParen
                }
                b',' => {
                    p += 1;
                    Tok::Comma
                }
                b':' if b.get(p + 1) == Some(&b'=') => {
                    p += 2;
                    Tok::Declare
                }
                b'=' => {
                    p += 1;
                    Tok::Assign
                }
                b'"' => {
                    let (s, next) = quoted(text, p)?;
                    p = next;
                    Tok::Lit(Lit::Str(s))
                }
                b'`' => {
                    let close = memchr::memchr(b'`', &b[p + 1..])
                        .map(|i| p + 1 + i)
                        .ok_or_else(|| err(p, "unterminated raw string"))?;
                    let s = text.get(p + 1..close).unwrap_or("").to_string();
                    p = close + 1;
                    Tok::Lit(Lit::Str(s))
                }
                b'\'' => {
                    let (s, next) = char_lit(text, p)?;
                    p = next;
                    Tok::Lit(Lit::Int(s))
                }
                b'$' => {
                    p += 1;
                    while b
                        .get(p)
                        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        p += 1;
                    }
                    Tok::Var(text[t0..p].to_string())
                }
                b'.' if b.get(p + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    let (l, next) = number(text, p)?;
                    p = next;
                    Tok::Lit(l)
                }
                b'.' => {
                    p += 1;
                    let s = p;
                    while b
                        .get(p)
                        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        p += 1;
                    }
                    if p == s {
                        Tok::Dot
                    } else {
                        Tok::Field(text[s..p].to_string())
                    }
                }
                b'0'..=b'9' => {
                    let (l, next) = number(text, p)?;
                    p = next;
                    Tok::Lit(l)
                }
                b'-' | b'+'
                    if b.get(p + 1)
                        .is_some_and(|c| c.is_ascii_digit() || *c == b'.') =>
                {
                    let (l, next) = number(text, p)?;
                    p = next;
                    Tok::Lit(l)
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    while b
                        .get(p)
                        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        p += 1;
                    }
                    match &text[t0..p] {
                        "true" => Tok::Lit(Lit::Bool(true)),
                        "false" => Tok::Lit(Lit::Bool(false)),
                        "nil" => Tok::Lit(Lit::Nil),
                        w => Tok::Ident(w.to_string()),
                    }
                }
                _ => {
                    let ch = text[p..].chars().next().unwrap_or('?');
                    return Err(err(p, format!("unexpected {ch:?} in action")));
                }
            };
            toks.push(Token {
                tok,
                at: (t0 as u32, p as u32),
                spaced,
            });
            spaced = false;
        }
    }
    Ok(out)
}

/// A double-quoted string from `p` (at the quote): its value and the
/// offset after the closing quote.
fn quoted(text: &str, p: usize) -> Result<(String, usize), SyntaxError> {
    let mut out = String::new();
    let mut chars = text[p + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, p + 1 + i + 1)),
            '\n' => return Err(err(p, "unterminated quoted string")),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut v = 0u32;
                        for _ in 0..n {
                            let d = chars.next().and_then(|(_, d)| d.to_digit(16));
                            let Some(d) = d else {
                                return Err(err(p, "invalid escape in quoted string"));
                            };
                            v = v.wrapping_mul(16).wrapping_add(d);
                        }
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            let d = chars.next().and_then(|(_, d)| d.to_digit(8));
                            let Some(d) = d else {
                                return Err(err(p, "invalid octal escape"));
                            };
                            v = v * 8 + d;
                        }
                        out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                    }
                    _ => return Err(err(p, format!("unknown escape \\{e}"))),
                }
            }
            c => out.push(c),
        }
    }
    Err(err(p, "unterminated quoted string"))
}

fn char_lit(text: &str, p: usize) -> Result<(i64, usize), SyntaxError> {
    let rest = &text[p + 1..];
    let close = rest
        .find('\'')
        .ok_or_else(|| err(p, "unterminated character constant"))?;
    let inner = &rest[..close];
    let c = if let Some(e) = inner.strip_prefix('\\') {
        match e {
            "n" => '\n',
            "t" => '\t',
            "\\" => '\\',
            "'" => '\'',
            _ => return Err(err(p, "unsupported character escape")),
        }
    } else {
        let mut cs = inner.chars();
        match (cs.next(), cs.next()) {
            (Some(c), None) => c,
            _ => return Err(err(p, "invalid character constant")),
        }
    };
    Ok((c as i64, p + 1 + close + 1))
}

fn number(text: &str, p: usize) -> Result<(Lit, usize), SyntaxError> {
    let b = text.as_bytes();
    let mut q = p;
    if matches!(b.get(q), Some(b'-' | b'+')) {
        q += 1;
    }
    while let Some(&c) = b.get(q) {
        let sign_after_exp = matches!(c, b'-' | b'+')
            && q > p
            && matches!(b[q - 1], b'e' | b'E')
            && !text[p..q].to_ascii_lowercase().contains("0x");
        if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || sign_after_exp {
            q += 1;
        } else {
            break;
        }
    }
    let s = text[p..q].replace('_', "");
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d.to_string()),
        None => (false, s.trim_start_matches('+').to_string()),
    };
    let lower = digits.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(bn) = lower.strip_prefix("0b") {
        i64::from_str_radix(bn, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Ok((Lit::Int(if neg { -i } else { i }), q));
    }
    match lower.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok((Lit::Float(if neg { -f } else { f }), q)),
        _ => Err(err(p, format!("bad number syntax: {}", &text[p..q]))),
    }
}
