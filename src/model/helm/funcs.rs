//! The functions templates call: Go's builtins, Helm's (`include`, `tpl`,
//! `required`, `fail`, `lookup`, `toYaml`...) and the sprig functions charts
//! use. An unknown function is a render error naming it.
//!
//! Differences from Helm, on purpose: `randAlphaNum`, `randAlpha`,
//! `randNumeric` and `randAscii` return `n` times `x` (deterministic
//! output); `lookup` returns an empty map (no cluster); `keys` is sorted
//! (sprig's order is Go's random map order); `uuidv4` is the nil version 4
//! UUID, `now` the Unix epoch, `getHostByName` empty (no network).

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::source::Span;

use super::eval::{Engine, Out, R};
use super::template::Source;
use super::value::{self, Mark, V, Val};

fn strval(v: &Val) -> String {
    value::to_string(v)
}

/// sprig's `empty`.
fn empty(v: &Val) -> bool {
    !v.truthy()
}

/// cast.ToInt64: numbers truncated, strings parsed (0 when not a number).
fn to_i64(v: &Val) -> i64 {
    match &v.v {
        V::Int(i) => *i,
        V::Float(f) => *f as i64,
        V::Bool(b) => i64::from(*b),
        V::Str(s, _) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64))
            .unwrap_or(0),
        _ => 0,
    }
}

fn to_f64(v: &Val) -> f64 {
    match &v.v {
        V::Int(i) => *i as f64,
        V::Float(f) => *f,
        V::Bool(b) => f64::from(u8::from(*b)),
        V::Str(s, _) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A string result that still prints the values-file scalar it was made
/// from (`upper`, `trunc`, `default`...).
fn derived(s: String, from: &Val) -> Val {
    Val::str(s).with_origin(from.origin)
}

/// Go's `%q` of a string (strconv.Quote).
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` with every line indented by `pad` spaces (sprig `indent`), with
/// a leading newline for `nindent`; marks move with their text.
fn indent(v: &Val, pad: usize, newline: bool) -> Val {
    let s = strval(v);
    let marks = v.marks_of(s.len());
    let p = " ".repeat(pad);
    let mut out: Vec<u8> = Vec::with_capacity(s.len() + pad * 2);
    if newline {
        out.push(b'\n');
    }
    out.extend_from_slice(p.as_bytes());
    // Where each byte of `s` lands.
    let mut moved: Vec<u32> = Vec::with_capacity(s.len() + 1);
    for b in s.bytes() {
        moved.push(out.len() as u32);
        out.push(b);
        if b == b'\n' {
            out.extend_from_slice(p.as_bytes());
        }
    }
    moved.push(out.len() as u32);
    // Only ASCII spaces were added after line breaks: still UTF-8.
    let out = String::from_utf8(out).unwrap_or_default();
    if marks.is_empty() {
        return Val::str(out);
    }
    let marks = marks
        .iter()
        .filter_map(|m| {
            Some(Mark {
                start: *moved.get(m.start as usize)?,
                end: *moved.get(m.end as usize)?,
                origin: m.origin,
            })
        })
        .collect();
    Val::marked(out, marks)
}

fn b64enc(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Base32, standard alphabet, padded (Go's `base32.StdEncoding`).
fn b32enc(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(char::from(ALPHABET[((bits >> (35 - i * 5)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Word wrap as sprig's `wrap` (goutils `Wrap`): lines of at most `width`
/// bytes broken at spaces; a longer word stays whole on its own line.
fn wrap(text: &str, width: usize) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut offset = 0;
    let piece = |from: usize, to: usize| text.get(from..to).unwrap_or("");
    while b.len().saturating_sub(offset) > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = (width + offset + 1).min(b.len());
        match piece(offset, end).rfind(' ') {
            Some(i) => {
                out.push_str(piece(offset, offset + i));
                out.push('\n');
                offset += i + 1;
            }
            None => {
                let end = width + offset;
                match piece(end, b.len()).find(' ') {
                    None => {
                        out.push_str(piece(offset, b.len()));
                        offset = b.len();
                    }
                    Some(i) => {
                        out.push_str(piece(offset, end + i));
                        out.push('\n');
                        offset = end + i + 1;
                    }
                }
            }
        }
    }
    out.push_str(piece(offset, b.len()));
    out
}

fn b64dec(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Go's `fmt.Sprintf` for the verbs charts use (%s %d %v %q %t %f %x %%,
/// with width and precision); values-file arguments are marked.
fn printf(format: &str, args: &[Val]) -> Val {
    let mut out = String::new();
    let mut marks = Vec::new();
    let mut next = 0usize;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&f) = chars.peek() {
            if "+-# 0".contains(f) {
                flags.push(f);
                chars.next();
            } else {
                break;
            }
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut prec: Option<usize> = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            prec = Some(p.parse().unwrap_or(0));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        next += 1;
        let text = match verb {
            's' | 'v' => {
                let s = if arg.is_nil() && verb == 'v' {
                    "<nil>".to_string()
                } else if arg.is_nil() {
                    "%!s(<nil>)".to_string()
                } else {
                    strval(arg)
                };
                match prec {
                    Some(p) if verb == 's' => s.chars().take(p).collect(),
                    _ => s,
                }
            }
            'd' => match &arg.v {
                V::Int(i) => i.to_string(),
                V::Float(f) => format!("%!d(float64={})", value::go_float(*f)),
                _ => format!("%!d({}={})", arg.type_name(), strval(arg)),
            },
            'f' | 'F' => format!("{:.*}", prec.unwrap_or(6), to_f64(arg)),
            'g' => value::go_float(to_f64(arg)),
            'q' => go_quote(&strval(arg)),
            't' => strval(arg),
            'x' => match &arg.v {
                V::Int(i) => format!("{i:x}"),
                _ => strval(arg).bytes().map(|b| format!("{b:02x}")).collect(),
            },
            'X' => match &arg.v {
                V::Int(i) => format!("{i:X}"),
                _ => strval(arg).bytes().map(|b| format!("{b:02X}")).collect(),
            },
            'T' => arg.type_name().to_string(),
            _ => format!("%!{verb}({})", strval(arg)),
        };
        let w: usize = width.parse().unwrap_or(0).min(4096);
        let padn = w.saturating_sub(text.chars().count());
        let left = flags.contains('-');
        let zero = flags.contains('0') && !left && matches!(verb, 'd' | 'f' | 'F');
        if !left {
            out.push_str(&(if zero { "0" } else { " " }).repeat(padn));
        }
        let start = out.len();
        out.push_str(&text);
        if matches!(verb, 's' | 'v' | 'd' | 'q')
            && let Some(o) = arg.origin
        {
            marks.push(Mark {
                start: start as u32,
                end: out.len() as u32,
                origin: o,
            });
        } else if matches!(verb, 's' | 'v') && prec.is_none() {
            let inner = arg.marks_of(text.len());
            marks.extend(inner.into_iter().map(|m| Mark {
                start: m.start + start as u32,
                end: m.end + start as u32,
                origin: m.origin,
            }));
        }
        if left {
            out.push_str(&" ".repeat(padn));
        }
    }
    if next < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[next..]
            .iter()
            .map(|a| format!("{}={}", a.type_name(), strval(a)))
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    Val::marked(out, marks)
}

/// Go's basic kind for comparisons.
fn kind(v: &Val) -> u8 {
    match &v.v {
        V::Nil => 0,
        V::Bool(_) => 1,
        V::Int(_) => 2,
        V::Float(_) => 3,
        V::Str(..) => 4,
        _ => 5,
    }
}

fn compare(a: &Val, b: &Val) -> Result<std::cmp::Ordering, String> {
    use std::cmp::Ordering;
    match (&a.v, &b.v) {
        (V::Int(x), V::Int(y)) => Ok(x.cmp(y)),
        (V::Float(x), V::Float(y)) => Ok(x.partial_cmp(y).unwrap_or(Ordering::Equal)),
        (V::Str(x, _), V::Str(y, _)) => Ok(x.cmp(y)),
        _ if kind(a) != kind(b) => Err("incompatible types for comparison".into()),
        _ => Err("invalid type for comparison".into()),
    }
}

/// mergo's merge: `dst` keeps its non-empty values (or, with `overwrite`,
/// takes every non-empty value of `src`); maps merge key by key.
fn merge_into(dst: &Val, src: &Val, overwrite: bool, depth: usize, budget: &mut usize) {
    if depth > 64 || *budget == 0 {
        return;
    }
    let (V::Map(d), Some(entries)) = (&dst.v, src.map_entries()) else {
        return;
    };
    for (k, sv) in entries {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let existing = d.try_borrow().ok().and_then(|m| m.get(&k).cloned());
        let take = match &existing {
            Some(dv) if matches!(dv.v, V::Map(_)) && matches!(sv.v, V::Map(_)) => {
                merge_into(dv, &sv, overwrite, depth + 1, budget);
                false
            }
            Some(dv) => (overwrite && !empty(&sv)) || (!overwrite && empty(dv)),
            None => true,
        };
        if take && let Ok(mut m) = d.try_borrow_mut() {
            m.insert(k, sv);
        }
    }
}

/// Masterminds semver: a version and whether it is a pre-release.
fn parse_version(s: &str) -> Option<([u64; 3], Option<String>)> {
    parse_partial(s).map(|(v, pre, _)| (v, pre))
}

/// A version, its pre-release, and how many of its parts are written
/// (`1.2` or `1.2.x`: 2).
fn parse_partial(s: &str) -> Option<([u64; 3], Option<String>, usize)> {
    let s = s.trim().trim_start_matches(['v', 'V', '=']);
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, Some(p.split('+').next().unwrap_or("").to_string())),
        None => (s.split('+').next().unwrap_or(""), None),
    };
    let mut parts = [0u64; 3];
    let mut written = 0;
    for (i, p) in core.split('.').enumerate() {
        if i > 2 {
            return None;
        }
        if p == "x" || p == "X" || p == "*" {
            break;
        }
        parts[i] = p.parse().ok()?;
        written = i + 1;
    }
    Some((parts, pre, written))
}

fn cmp_version(
    a: &([u64; 3], Option<String>),
    b: &([u64; 3], Option<String>),
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    a.0.cmp(&b.0).then_with(|| match (&a.1, &b.1) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(y),
    })
}

/// `semverCompare constraint version` (Masterminds: `>=1.21-0`, `^1.2`,
/// `~1.2.3`, ranges with spaces or commas, `||`).
fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let v =
        parse_version(version).ok_or_else(|| format!("invalid semantic version {version:?}"))?;
    let mut any = false;
    for alt in constraint.split("||") {
        let mut all = true;
        let tokens: Vec<String> = alt
            .replace(',', " ")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        // `>= 1.2` written with a space: join operators with their version.
        let mut joined: Vec<String> = Vec::new();
        for t in tokens {
            match joined.last_mut() {
                Some(l) if l.chars().all(|c| "<>=!~^".contains(c)) => l.push_str(&t),
                _ => joined.push(t),
            }
        }
        for c in joined {
            let op_len = c.chars().take_while(|ch| "<>=!~^".contains(*ch)).count();
            let (op, ver) = c.split_at(op_len);
            let (cparts, cpre, written) =
                parse_partial(ver).ok_or_else(|| format!("improper constraint: {constraint}"))?;
            let cv = (cparts, cpre);
            // A version with a pre-release satisfies a constraint only if
            // the constraint has one too (Masterminds).
            if v.1.is_some() && cv.1.is_none() {
                all = false;
                break;
            }
            let ord = cmp_version(&v, &cv);
            use std::cmp::Ordering::*;
            let ok = match op {
                "" | "=" | "==" => {
                    v.0[..written] == cv.0[..written] && (written < 3 || ord == Equal)
                }
                "!=" => !(v.0[..written] == cv.0[..written] && (written < 3 || ord == Equal)),
                ">" => ord == Greater,
                ">=" | "=>" => ord != Less,
                "<" => ord == Less,
                "<=" | "=<" => ord != Greater,
                "~" | "~>" => ord != Less && v.0[0] == cv.0[0] && v.0[1] == cv.0[1],
                "^" => ord != Less && v.0[0] == cv.0[0],
                _ => return Err(format!("improper constraint: {constraint}")),
            };
            if !ok {
                all = false;
                break;
            }
        }
        any |= all;
    }
    Ok(any)
}

/// How many pieces `split sep text` makes.
fn pieces(sep: &str, text: &str) -> usize {
    if sep.is_empty() {
        text.chars().count()
    } else {
        text.matches(sep).count() + 1
    }
}

/// Whether two values are equal, comparing at most a million nested
/// values (a value that holds one list many times over is not compared
/// forever).
fn same(eng: &mut Engine, a: &Val, b: &Val, span: Span) -> R<bool> {
    let mut budget = 1_000_000usize;
    let r = value::equal(a, b, &mut budget);
    eng.step(span, (1_000_000 - budget) as u64 / 64)?;
    r.ok_or_else(|| {
        eng.limit(
            span,
            "a comparison of values holding more than a million values; rendering stopped",
        )
    })
}

fn fail(eng: &Engine, span: Span, message: String) -> R<Val> {
    Err(eng.error(span, message))
}

fn want(eng: &Engine, name: &str, args: &[Val], n: usize, span: Span) -> R<()> {
    if args.len() != n {
        return Err(eng.error(
            span,
            format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            ),
        ));
    }
    Ok(())
}

fn list_of(v: &Val) -> Vec<Val> {
    v.list_items().unwrap_or_default()
}

/// Call function `name`.
pub fn call(eng: &mut Engine, src: &Rc<Source>, name: &str, args: Vec<Val>, span: Span) -> R<Val> {
    // sprig's `mustX` variants behave as `X` here (errors are errors).
    if let Some(rest) = name.strip_prefix("must")
        && rest.starts_with(|c: char| c.is_ascii_uppercase())
    {
        let mut n = rest.to_string();
        n[..1].make_ascii_lowercase();
        return call(eng, src, &n, args, span);
    }
    // Functions that turn their arguments into text: no more text than the
    // output may hold (a list of many references to one long string would
    // join to gigabytes).
    if matches!(
        name,
        "join"
            | "cat"
            | "toStrings"
            | "sortAlpha"
            | "print"
            | "println"
            | "printf"
            | "quote"
            | "squote"
            | "indent"
            | "nindent"
            | "replace"
            | "regexReplaceAll"
            | "regexReplaceAllLiteral"
            | "splitList"
            | "split"
    ) {
        let cap = eng.limits.max_output;
        let mut total = 0usize;
        for v in &args {
            total = total.saturating_add(value::text_len(v, cap, 0));
        }
        // Indentation is added per line.
        let factor = match name {
            "indent" | "nindent" => args
                .first()
                .map_or(1, |p| to_i64(p).clamp(0, 1024) as usize + 1),
            _ => 1,
        };
        if total.saturating_mul(factor) > cap {
            return Err(eng.limit(
                span,
                format!("{name} would make more than {cap} bytes of text; rendering stopped"),
            ));
        }
    }
    let a = &args;
    let arg = |i: usize| a.get(i).cloned().unwrap_or(Val::NIL);
    let s = |i: usize| a.get(i).map(strval).unwrap_or_default();
    let last = a.last().cloned().unwrap_or(Val::NIL);
    Ok(match name {
        // Helm
        "include" => {
            want(eng, name, a, 2, span)?;
            let mut out = Out::default();
            eng.call_define(&s(0), &arg(1), span, &mut out)?;
            let marks = out.marks();
            Val::marked(out.text, marks)
        }
        "tpl" => {
            want(eng, name, a, 2, span)?;
            return eng.tpl(&s(0), &arg(1), &src.name, span);
        }
        "required" => {
            want(eng, name, a, 2, span)?;
            let v = arg(1);
            if v.is_nil() || v.as_str() == Some("") {
                return fail(eng, span, s(0));
            }
            v
        }
        "fail" => return fail(eng, span, s(0)),
        "lookup" => Val::map(BTreeMap::new()),
        "toYaml" => {
            want(eng, name, a, 1, span)?;
            match value::to_yaml(&arg(0), eng.limits.max_yaml_depth) {
                Ok((text, marks)) => Val::marked(text, marks),
                Err(_) => {
                    return Err(eng.limit(
                        span,
                        format!(
                            "toYaml of a value nested deeper than {}",
                            eng.limits.max_yaml_depth
                        ),
                    ));
                }
            }
        }
        "toJson" | "toPrettyJson" | "toRawJson" => {
            want(eng, name, a, 1, span)?;
            let mut out = String::new();
            if value::to_json(&arg(0), 0, eng.limits.max_yaml_depth, &mut out).is_err() {
                return Err(eng.limit(
                    span,
                    format!(
                        "{name} of a value nested deeper than {}",
                        eng.limits.max_yaml_depth
                    ),
                ));
            }
            if name == "toPrettyJson" {
                out = serde_json::from_str::<serde_json::Value>(&out)
                    .ok()
                    .and_then(|j| serde_json::to_string_pretty(&j).ok())
                    .unwrap_or(out);
            }
            Val::str(out)
        }
        "fromYaml" | "fromYamlArray" => {
            let text = s(0);
            let file = crate::source::SourceFile::new(
                crate::source::FileId(u32::MAX),
                "fromYaml".into(),
                "fromYaml".into(),
                text,
            );
            let parsed = crate::parse::yaml::parse(&file);
            match parsed
                .diags
                .iter()
                .find(|d| d.kind == crate::parse::DiagKind::ParseError)
            {
                Some(d) => {
                    let mut m = BTreeMap::new();
                    m.insert("Error".to_string(), Val::str(d.message.as_str()));
                    Val::map(m)
                }
                None => match parsed.docs.first() {
                    // Read as values files are (go-yaml v2 through JSON:
                    // YAML 1.1 booleans, float64 numbers).
                    Some(d) => value::detached(
                        &Val::from_node(&d.root, 0, &|sp| value::plain_in(&file.text, sp)),
                        0,
                    ),
                    None if name == "fromYamlArray" => Val::list(Vec::new()),
                    None => Val::map(BTreeMap::new()),
                },
            }
        }
        "fromJson" | "fromJsonArray" => match serde_json::from_str::<serde_json::Value>(&s(0)) {
            Ok(j) => value::from_json(&j, 0),
            Err(e) => {
                let mut m = BTreeMap::new();
                m.insert("Error".to_string(), Val::str(e.to_string()));
                Val::map(m)
            }
        },
        // Go builtins
        "print" => {
            let mut out = String::new();
            for (i, v) in a.iter().enumerate() {
                let is_str = |v: &Val| matches!(v.v, V::Str(..));
                if i > 0 && !is_str(v) && !is_str(&a[i - 1]) {
                    out.push(' ');
                }
                out.push_str(&strval(v));
            }
            if a.len() == 1 {
                derived(out, &a[0])
            } else {
                Val::str(out)
            }
        }
        "println" => Val::str(a.iter().map(strval).collect::<Vec<_>>().join(" ") + "\n"),
        "printf" => {
            if a.is_empty() {
                return fail(
                    eng,
                    span,
                    "wrong number of args for printf: want at least 1 got 0".into(),
                );
            }
            printf(&s(0), &a[1..])
        }
        "len" => match &arg(0).v {
            V::Str(x, _) => Val::int(x.len() as i64),
            V::List(l) => Val::int(l.try_borrow().map(|l| l.len()).unwrap_or(0) as i64),
            V::Map(m) => Val::int(m.try_borrow().map(|m| m.len()).unwrap_or(0) as i64),
            V::Nil => return fail(eng, span, "len of nil pointer".into()),
            _ => return fail(eng, span, format!("len of type {}", arg(0).type_name())),
        },
        "index" => {
            let mut v = arg(0);
            for k in a.iter().skip(1) {
                v = match &v.v {
                    V::Map(_) => v.get(&strval(k)).unwrap_or(Val::NIL),
                    V::List(_) => {
                        let items = list_of(&v);
                        let i = to_i64(k);
                        match usize::try_from(i).ok().and_then(|i| items.get(i)) {
                            Some(x) => x.clone(),
                            None => {
                                return fail(
                                    eng,
                                    span,
                                    format!("error calling index: index out of range: {i}"),
                                );
                            }
                        }
                    }
                    V::Nil => {
                        return fail(
                            eng,
                            span,
                            "error calling index: index of untyped nil".into(),
                        );
                    }
                    _ => {
                        return fail(
                            eng,
                            span,
                            format!(
                                "error calling index: can't index item of type {}",
                                v.type_name()
                            ),
                        );
                    }
                };
            }
            v
        }
        "slice" => {
            let v = arg(0);
            let from = a.get(1).map_or(0, |x| to_i64(x).max(0) as usize);
            match &v.v {
                V::Str(x, _) => {
                    let to = a.get(2).map_or(x.len(), |y| to_i64(y).max(0) as usize);
                    match x.get(from..to) {
                        Some(sub) => Val::str(sub),
                        None => {
                            return fail(
                                eng,
                                span,
                                "error calling slice: index out of range".into(),
                            );
                        }
                    }
                }
                V::List(_) => {
                    let items = list_of(&v);
                    let to = a.get(2).map_or(items.len(), |y| to_i64(y).max(0) as usize);
                    match items.get(from..to) {
                        Some(sub) => Val::list(sub.to_vec()),
                        None => {
                            return fail(
                                eng,
                                span,
                                "error calling slice: index out of range".into(),
                            );
                        }
                    }
                }
                _ => {
                    return fail(
                        eng,
                        span,
                        "error calling slice: can't slice this value".into(),
                    );
                }
            }
        }
        "not" => {
            want(eng, name, a, 1, span)?;
            Val::bool(!arg(0).truthy())
        }
        "eq" => {
            if a.len() < 2 {
                return fail(eng, span, "missing argument for comparison".into());
            }
            let x = &a[0];
            let mut t = false;
            for y in &a[1..] {
                let (kx, ky) = (kind(x), kind(y));
                if kx != ky && kx != 0 && ky != 0 {
                    return fail(
                        eng,
                        span,
                        "error calling eq: incompatible types for comparison".into(),
                    );
                }
                t |= same(eng, x, y, span)?;
            }
            Val::bool(t)
        }
        "ne" => {
            want(eng, name, a, 2, span)?;
            let (kx, ky) = (kind(&a[0]), kind(&a[1]));
            if kx != ky && kx != 0 && ky != 0 {
                return fail(
                    eng,
                    span,
                    "error calling ne: incompatible types for comparison".into(),
                );
            }
            Val::bool(!same(eng, &a[0], &a[1], span)?)
        }
        "lt" | "le" | "gt" | "ge" => {
            want(eng, name, a, 2, span)?;
            let o = compare(&a[0], &a[1])
                .map_err(|m| eng.error(span, format!("error calling {name}: {m}")))?;
            use std::cmp::Ordering::*;
            Val::bool(match name {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        // sprig: defaults and logic
        "default" => {
            if a.is_empty() {
                return fail(
                    eng,
                    span,
                    "wrong number of args for default: want at least 1 got 0".into(),
                );
            }
            if a.len() < 2 || empty(&last) {
                arg(0)
            } else {
                last
            }
        }
        "empty" => Val::bool(empty(&arg(0))),
        "coalesce" => a.iter().find(|v| !empty(v)).cloned().unwrap_or(Val::NIL),
        "ternary" => {
            want(eng, name, a, 3, span)?;
            if arg(2).truthy() { arg(0) } else { arg(1) }
        }
        // sprig: strings
        "quote" => {
            let parts: Vec<&Val> = a.iter().filter(|v| !v.is_nil()).collect();
            if let [one] = parts.as_slice() {
                let text = strval(one);
                let q = go_quote(&text);
                if q.len() == text.len() + 2 {
                    let marks = one
                        .marks_of(text.len())
                        .into_iter()
                        .map(|m| Mark {
                            start: m.start + 1,
                            end: m.end + 1,
                            origin: m.origin,
                        })
                        .collect();
                    Val::marked(q, marks)
                } else {
                    derived(q, one)
                }
            } else {
                Val::str(
                    parts
                        .iter()
                        .map(|v| go_quote(&strval(v)))
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
        }
        "squote" => {
            let parts: Vec<&Val> = a.iter().filter(|v| !v.is_nil()).collect();
            if let [one] = parts.as_slice() {
                let text = strval(one);
                let marks = one
                    .marks_of(text.len())
                    .into_iter()
                    .map(|m| Mark {
                        start: m.start + 1,
                        end: m.end + 1,
                        origin: m.origin,
                    })
                    .collect();
                Val::marked(format!("'{text}'"), marks)
            } else {
                Val::str(
                    parts
                        .iter()
                        .map(|v| format!("'{}'", strval(v)))
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
        }
        "indent" | "nindent" => {
            want(eng, name, a, 2, span)?;
            let pad = to_i64(&a[0]).clamp(0, 1024) as usize;
            indent(&a[1], pad, name == "nindent")
        }
        "trim" => derived(s(0).trim().to_string(), &arg(0)),
        "trimAll" => derived(s(1).trim_matches(|c| s(0).contains(c)).to_string(), &arg(1)),
        "trimSuffix" => derived(
            s(1).strip_suffix(s(0).as_str())
                .map(str::to_string)
                .unwrap_or_else(|| s(1)),
            &arg(1),
        ),
        "trimPrefix" => derived(
            s(1).strip_prefix(s(0).as_str())
                .map(str::to_string)
                .unwrap_or_else(|| s(1)),
            &arg(1),
        ),
        "trunc" => {
            want(eng, name, a, 2, span)?;
            let n = to_i64(&a[0]);
            let text = s(1);
            let out = if n >= 0 {
                let n = n as usize;
                if text.len() > n {
                    text.get(..n)
                        .map(str::to_string)
                        .unwrap_or_else(|| text.chars().take(n).collect())
                } else {
                    text
                }
            } else {
                let n = n.unsigned_abs() as usize;
                if text.len() > n {
                    text.get(text.len() - n..)
                        .map(str::to_string)
                        .unwrap_or(text)
                } else {
                    text
                }
            };
            derived(out, &a[1])
        }
        "upper" => derived(s(0).to_uppercase(), &arg(0)),
        // sprig's `untitle`: each word's first letter lower-cased.
        "untitle" => {
            let mut out = String::new();
            let mut start = true;
            for c in s(0).chars() {
                if start {
                    out.extend(c.to_lowercase());
                } else {
                    out.push(c);
                }
                start = c.is_whitespace();
            }
            derived(out, &arg(0))
        }
        "lower" => derived(s(0).to_lowercase(), &arg(0)),
        "title" => {
            let mut out = String::new();
            let mut start = true;
            for c in s(0).chars() {
                if start && c.is_alphabetic() {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
                start = c.is_whitespace() || c == '-' || c == '_';
            }
            derived(out, &arg(0))
        }
        "replace" => {
            want(eng, name, a, 3, span)?;
            let (old, new, text) = (s(0), s(1), s(2));
            let count = if old.is_empty() {
                text.chars().count() + 1
            } else {
                text.matches(old.as_str()).count()
            };
            let size = text.len().saturating_add(count.saturating_mul(new.len()));
            if size > eng.limits.max_output {
                return Err(eng.limit(
                    span,
                    format!(
                        "replace would make more than {} bytes of text; rendering stopped",
                        eng.limits.max_output
                    ),
                ));
            }
            derived(text.replace(&old, &new), &a[2])
        }
        "contains" => Val::bool(s(1).contains(&s(0))),
        "hasPrefix" => Val::bool(s(1).starts_with(&s(0))),
        "hasSuffix" => Val::bool(s(1).ends_with(&s(0))),
        "cat" => Val::str(
            a.iter()
                .filter(|v| !v.is_nil())
                .map(strval)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        "nospace" => derived(
            s(0).chars().filter(|c| !c.is_whitespace()).collect(),
            &arg(0),
        ),
        "repeat" => {
            let n = to_i64(&arg(0)).max(0) as usize;
            let text = s(1);
            if n.saturating_mul(text.len()) > eng.limits.max_output {
                return Err(eng.limit(
                    span,
                    format!("repeat of {n} copies is over the output limit"),
                ));
            }
            Val::str(text.repeat(n))
        }
        "substr" => {
            let text = s(2);
            let (from, to) = (to_i64(&arg(0)), to_i64(&arg(1)));
            let from = from.clamp(0, text.len() as i64) as usize;
            let to = if to < 0 || to as usize > text.len() {
                text.len()
            } else {
                to as usize
            };
            Val::str(text.get(from..to.max(from)).unwrap_or(""))
        }
        "join" => {
            let items = match &arg(1).v {
                V::List(_) => list_of(&arg(1)),
                V::Nil => Vec::new(),
                _ => vec![arg(1)],
            };
            Val::str(
                items
                    .iter()
                    .filter(|v| !v.is_nil())
                    .map(strval)
                    .collect::<Vec<_>>()
                    .join(&s(0)),
            )
        }
        "split" | "splitList" if pieces(&s(0), &s(1)) > eng.limits.max_range => {
            return Err(eng.limit(
                span,
                format!(
                    "{name} would make more than {} items; rendering stopped",
                    eng.limits.max_range
                ),
            ));
        }
        "split" => {
            let text = s(1);
            let sep = s(0);
            let parts: Vec<&str> = if sep.is_empty() {
                text.split_terminator("").skip(1).collect()
            } else {
                text.split(sep.as_str()).collect()
            };
            Val::map(
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("_{i}"), Val::str(*p)))
                    .collect(),
            )
        }
        "splitList" => {
            let text = s(1);
            let sep = s(0);
            let parts: Vec<Val> = if sep.is_empty() {
                text.chars().map(|c| Val::str(c.to_string())).collect()
            } else {
                text.split(sep.as_str()).map(Val::str).collect()
            };
            Val::list(parts)
        }
        // sprig's `splitn sep n text`: at most n pieces, as `_0`.. keys.
        "splitn" => {
            want(eng, name, a, 3, span)?;
            let (sep, n, text) = (s(0), to_i64(&arg(1)), s(2));
            let parts: Vec<&str> = match usize::try_from(n) {
                Ok(0) => Vec::new(),
                Ok(n) if !sep.is_empty() => text.splitn(n, sep.as_str()).collect(),
                _ if !sep.is_empty() => text.split(sep.as_str()).collect(),
                _ => text.split_terminator("").skip(1).collect(),
            };
            Val::map(
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("_{i}"), Val::str(*p)))
                    .collect(),
            )
        }
        "b32enc" => Val::str(b32enc(s(0).as_bytes())),
        // sprig's `abbrev width text`: cut to width with `...` (widths
        // under 4 leave the text as it is).
        "abbrev" => {
            let (width, text) = (to_i64(&arg(0)), s(1));
            let chars: Vec<char> = text.chars().collect();
            match usize::try_from(width) {
                Ok(w) if w >= 4 && chars.len() > w => {
                    Val::str(format!("{}...", chars[..w - 3].iter().collect::<String>()))
                }
                _ => Val::str(text),
            }
        }
        "wrap" => Val::str(wrap(
            &s(1),
            usize::try_from(to_i64(&arg(0))).unwrap_or(1).max(1),
        )),
        "plural" => {
            want(eng, name, a, 3, span)?;
            if to_i64(&arg(2)) == 1 { arg(0) } else { arg(1) }
        }
        "initials" => Val::str(
            s(0).split_whitespace()
                .filter_map(|w| w.chars().next())
                .collect::<String>(),
        ),
        // Go's `html` and `urlquery` template functions.
        "html" => Val::str(
            a.iter()
                .map(strval)
                .collect::<String>()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('\'', "&#39;")
                .replace('"', "&#34;"),
        ),
        "urlquery" => {
            let text: String = a.iter().map(strval).collect();
            let mut out = String::new();
            for b in text.bytes() {
                match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        out.push(b as char)
                    }
                    b' ' => out.push('+'),
                    _ => {
                        out.push_str(&format!("%{b:02X}"));
                    }
                }
            }
            Val::str(out)
        }
        "deepEqual" => {
            want(eng, name, a, 2, span)?;
            Val::bool(
                arg(0).kind_name() == arg(1).kind_name() && same(eng, &arg(0), &arg(1), span)?,
            )
        }
        // sprig's `seq`, as the shell's: `seq last`, `seq first last`,
        // `seq first step last`, space-separated.
        "seq" => {
            let n: Vec<i64> = a.iter().map(to_i64).collect();
            let (first, step, last) = match n[..] {
                [l] => (1, 1, l),
                [f, l] => (f, if l >= f { 1 } else { -1 }, l),
                [f, st, l] => (f, st, l),
                _ => return fail(eng, span, "seq takes 1 to 3 numbers".into()),
            };
            let count = if step == 0 || (step > 0 && last < first) || (step < 0 && last > first) {
                0
            } else {
                (i128::from(last) - i128::from(first)) / i128::from(step) + 1
            };
            if count > eng.limits.max_range as i128 {
                return Err(eng.limit(
                    span,
                    format!("seq: more than {} items", eng.limits.max_range),
                ));
            }
            Val::str(
                (0..count as i64)
                    .map(|i| first.saturating_add(i.saturating_mul(step)).to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }
        "b64enc" => Val::str(b64enc(s(0).as_bytes())),
        "b64dec" => match b64dec(&s(0)) {
            Some(b) => Val::str(String::from_utf8_lossy(&b).into_owned()),
            None => Val::str("illegal base64 data"),
        },
        "sha256sum" => {
            use sha2::Digest as _;
            let d = sha2::Sha256::digest(s(0).as_bytes());
            Val::str(d.iter().map(|b| format!("{b:02x}")).collect::<String>())
        }
        "toString" => derived(s(0), &arg(0)),
        "toStrings" => Val::list(
            list_of(&arg(0))
                .iter()
                .map(|v| Val::str(strval(v)))
                .collect(),
        ),
        "randAlphaNum" | "randAlpha" | "randNumeric" | "randAscii" => {
            let n = to_i64(&arg(0)).clamp(0, 4096) as usize;
            Val::str("x".repeat(n))
        }
        "regexMatch" => {
            want(eng, name, a, 2, span)?;
            let re = regex::Regex::new(&s(0))
                .map_err(|e| eng.error(span, format!("regexMatch: {e}")))?;
            Val::bool(re.is_match(&s(1)))
        }
        "regexReplaceAll" | "regexReplaceAllLiteral" => {
            want(eng, name, a, 3, span)?;
            let re =
                regex::Regex::new(&s(0)).map_err(|e| eng.error(span, format!("{name}: {e}")))?;
            let (text, repl) = (s(1), s(2));
            // Each match is replaced; the matches do not overlap, so each
            // `$n` of the replacement adds at most the text's length in all.
            let count = re.find_iter(&text).count();
            let dollars = if name == "regexReplaceAll" {
                repl.matches('$').count()
            } else {
                0
            };
            let size = text
                .len()
                .saturating_add(count.saturating_mul(repl.len()))
                .saturating_add(dollars.saturating_mul(text.len()));
            if size > eng.limits.max_output {
                return Err(eng.limit(
                    span,
                    format!(
                        "{name} would make more than {} bytes of text; rendering stopped",
                        eng.limits.max_output
                    ),
                ));
            }
            let out = if name == "regexReplaceAll" {
                re.replace_all(&text, repl.as_str()).into_owned()
            } else {
                re.replace_all(&text, regex::NoExpand(&repl)).into_owned()
            };
            Val::str(out)
        }
        "regexFind" => {
            let re =
                regex::Regex::new(&s(0)).map_err(|e| eng.error(span, format!("regexFind: {e}")))?;
            Val::str(re.find(&s(1)).map_or("", |m| m.as_str()))
        }
        // sprig: types and numbers
        "kindIs" => Val::bool(s(0) == arg(1).kind_name()),
        "kindOf" => Val::str(arg(0).kind_name()),
        "typeOf" => Val::str(arg(0).type_name()),
        "typeIs" => Val::bool(s(0) == arg(1).type_name()),
        "int" | "int64" | "atoi" => Val::int(to_i64(&arg(0))).with_origin(arg(0).origin),
        "float64" => Val::new(V::Float(to_f64(&arg(0)))).with_origin(arg(0).origin),
        "add" => Val::int(a.iter().map(to_i64).fold(0i64, i64::wrapping_add)),
        "add1" => Val::int(to_i64(&arg(0)).wrapping_add(1)),
        "sub" => Val::int(to_i64(&arg(0)).wrapping_sub(to_i64(&arg(1)))),
        "mul" => Val::int(a.iter().map(to_i64).fold(1i64, i64::wrapping_mul)),
        "div" | "mod" => {
            let d = to_i64(&arg(1));
            if d == 0 {
                return fail(
                    eng,
                    span,
                    format!("error calling {name}: integer divide by zero"),
                );
            }
            let x = to_i64(&arg(0));
            Val::int(if name == "div" {
                x.wrapping_div(d)
            } else {
                x.wrapping_rem(d)
            })
        }
        "addf" => Val::new(V::Float(a.iter().map(to_f64).sum())),
        "subf" => Val::new(V::Float(
            a.iter().skip(1).fold(to_f64(&arg(0)), |x, y| x - to_f64(y)),
        )),
        "mulf" => Val::new(V::Float(a.iter().map(to_f64).product())),
        "divf" => Val::new(V::Float(
            a.iter().skip(1).fold(to_f64(&arg(0)), |x, y| x / to_f64(y)),
        )),
        "max" => Val::int(a.iter().map(to_i64).max().unwrap_or(0)),
        "min" => Val::int(a.iter().map(to_i64).min().unwrap_or(0)),
        "semverCompare" => {
            want(eng, name, a, 2, span)?;
            Val::bool(
                semver_compare(&s(0), &s(1))
                    .map_err(|m| eng.error(span, format!("semverCompare: {m}")))?,
            )
        }
        // sprig's `semver`: the version's parts, as the fields (methods in
        // Go) templates read (`(semver .Values.v).Minor`).
        "semver" => {
            let text = s(0);
            let Some((v, pre)) = parse_version(&text) else {
                return fail(
                    eng,
                    span,
                    format!("semver: invalid semantic version {text:?}"),
                );
            };
            let meta = text.split_once('+').map_or("", |(_, m)| m).to_string();
            let mut m = BTreeMap::new();
            for (k, n) in ["Major", "Minor", "Patch"].iter().zip(v) {
                m.insert(
                    (*k).to_string(),
                    Val::int(i64::try_from(n).unwrap_or(i64::MAX)),
                );
            }
            m.insert("Prerelease".into(), Val::str(pre.unwrap_or_default()));
            m.insert("Metadata".into(), Val::str(meta));
            m.insert("Original".into(), Val::str(text.as_str()));
            Val::map(m)
        }
        // sprig: dictionaries and lists
        "dict" => {
            let mut m = BTreeMap::new();
            for pair in a.chunks(2) {
                m.insert(
                    strval(&pair[0]),
                    pair.get(1).cloned().unwrap_or_else(|| Val::str("")),
                );
            }
            Val::map(m)
        }
        "list" | "tuple" => Val::list(a.clone()),
        "get" => arg(0).get(&s(1)).unwrap_or_else(|| Val::str("")),
        "set" | "unset" => {
            let m = arg(0);
            let V::Map(r) = &m.v else {
                return fail(
                    eng,
                    span,
                    format!("{name} needs a map, not {}", m.type_name()),
                );
            };
            let Ok(mut b) = r.try_borrow_mut() else {
                return fail(eng, span, format!("{name}: the map is in use"));
            };
            if name == "set" {
                b.insert(s(1), arg(2));
            } else {
                b.remove(&s(1));
            }
            drop(b);
            m
        }
        "hasKey" => Val::bool(arg(0).get(&s(1)).is_some()),
        "keys" => {
            let mut ks: Vec<String> = a
                .iter()
                .flat_map(|m| {
                    m.map_entries()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, _)| k)
                })
                .collect();
            ks.sort();
            Val::list(ks.into_iter().map(Val::str).collect())
        }
        "values" => Val::list(
            arg(0)
                .map_entries()
                .unwrap_or_default()
                .into_iter()
                .map(|(_, v)| v)
                .collect(),
        ),
        "pluck" => Val::list(a.iter().skip(1).filter_map(|m| m.get(&s(0))).collect()),
        "pick" | "omit" => {
            let names: Vec<String> = a.iter().skip(1).map(strval).collect();
            Val::map(
                arg(0)
                    .map_entries()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|(k, _)| names.contains(k) == (name == "pick"))
                    .collect(),
            )
        }
        "dig" => {
            if a.len() < 2 {
                return fail(eng, span, "dig needs keys, a default and a map".into());
            }
            let mut v = last.clone();
            let default = a[a.len() - 2].clone();
            for k in &a[..a.len() - 2] {
                match v.get(&strval(k)) {
                    Some(x) => v = x,
                    None => return Ok(default),
                }
            }
            v
        }
        "merge" | "mergeOverwrite" => {
            let dst = arg(0);
            if !matches!(dst.v, V::Map(_)) {
                return fail(eng, span, format!("{name} needs maps"));
            }
            let mut budget = eng.limits.max_range;
            for srcv in a.iter().skip(1) {
                merge_into(&dst, srcv, name == "mergeOverwrite", 0, &mut budget);
            }
            if budget == 0 {
                return Err(eng.limit(
                    span,
                    format!(
                        "{name} of more than {} entries; rendering stopped",
                        eng.limits.max_range
                    ),
                ));
            }
            dst
        }
        "deepCopy" => {
            let mut budget = eng.limits.max_range;
            let v = arg(0).copy_within(0, &mut budget);
            if budget == 0 {
                return Err(eng.limit(
                    span,
                    format!(
                        "deepCopy of more than {} maps and lists; rendering stopped",
                        eng.limits.max_range
                    ),
                ));
            }
            v
        }
        "first" => list_of(&arg(0)).first().cloned().unwrap_or(Val::NIL),
        "last" => list_of(&arg(0)).last().cloned().unwrap_or(Val::NIL),
        "rest" => Val::list(list_of(&arg(0)).into_iter().skip(1).collect()),
        "initial" => {
            let mut l = list_of(&arg(0));
            l.pop();
            Val::list(l)
        }
        "append" | "push" => {
            let mut l = list_of(&arg(0));
            l.push(arg(1));
            Val::list(l)
        }
        "prepend" => {
            let mut l = vec![arg(1)];
            l.extend(list_of(&arg(0)));
            Val::list(l)
        }
        "concat" => Val::list(a.iter().flat_map(list_of).collect()),
        "reverse" => Val::list(list_of(&arg(0)).into_iter().rev().collect()),
        "uniq" => {
            // Each item against those kept: quadratic, so counted as such.
            let n = list_of(&arg(0)).len() as u64;
            eng.step(span, n.saturating_mul(n) / 64)?;
            let mut out: Vec<Val> = Vec::new();
            for v in list_of(&arg(0)) {
                let mut found = false;
                for o in &out {
                    if same(eng, o, &v, span)? {
                        found = true;
                        break;
                    }
                }
                if !found {
                    out.push(v);
                }
            }
            Val::list(out)
        }
        "has" => {
            let mut found = false;
            for v in list_of(&arg(1)) {
                if same(eng, &v, &arg(0), span)? {
                    found = true;
                    break;
                }
            }
            Val::bool(found)
        }
        "without" => {
            let mut kept = Vec::new();
            'items: for v in list_of(&arg(0)) {
                for d in a.iter().skip(1) {
                    if same(eng, d, &v, span)? {
                        continue 'items;
                    }
                }
                kept.push(v);
            }
            Val::list(kept)
        }
        "compact" => Val::list(list_of(&arg(0)).into_iter().filter(|v| !empty(v)).collect()),
        "sortAlpha" => {
            let mut l: Vec<String> = list_of(&arg(0)).iter().map(strval).collect();
            l.sort();
            Val::list(l.into_iter().map(Val::str).collect())
        }
        "until" => {
            let n = to_i64(&arg(0));
            if n.unsigned_abs() > eng.limits.max_range as u64 {
                return Err(eng.limit(
                    span,
                    format!("until {n}: more than {} items", eng.limits.max_range),
                ));
            }
            Val::list(if n >= 0 {
                (0..n).map(Val::int).collect()
            } else {
                (n + 1..=0).rev().map(Val::int).collect()
            })
        }
        // sprig's `untilStep start stop step`: from start, by step, while
        // short of stop (none for a zero step or one going the wrong way).
        "untilStep" => {
            want(eng, name, a, 3, span)?;
            let (start, stop, step) = (to_i64(&arg(0)), to_i64(&arg(1)), to_i64(&arg(2)));
            let n = match step {
                0 => 0,
                st if (st > 0) != (stop > start) => 0,
                st => {
                    (i128::from(stop) - i128::from(start) + i128::from(st)
                        - i128::from(st.signum()))
                        / i128::from(st)
                }
            };
            if n > eng.limits.max_range as i128 {
                return Err(eng.limit(
                    span,
                    format!("untilStep: more than {} items", eng.limits.max_range),
                ));
            }
            Val::list(
                (0..n.max(0) as i64)
                    .map(|i| Val::int(start.saturating_add(i.saturating_mul(step))))
                    .collect(),
            )
        }
        "uuidv4" => Val::str("00000000-0000-4000-8000-000000000000"),
        "now" => Val::str("1970-01-01 00:00:00 +0000 UTC"),
        "getHostByName" => Val::str(""),
        "base" => Val::str(
            s(0).trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string(),
        ),
        "dir" => Val::str(match s(0).rsplit_once('/') {
            Some(("", _)) => "/".to_string(),
            Some((d, _)) => d.to_string(),
            None => ".".to_string(),
        }),
        "ext" => Val::str(
            s(0).rsplit('/')
                .next()
                .and_then(|b| b.rfind('.').map(|i| b[i..].to_string()))
                .unwrap_or_default(),
        ),
        "snakecase" | "kebabcase" => {
            let sep = if name == "snakecase" { '_' } else { '-' };
            let mut out = String::new();
            for (i, c) in s(0).chars().enumerate() {
                if c.is_uppercase() && i > 0 && !out.ends_with(sep) {
                    out.push(sep);
                }
                out.extend(c.to_lowercase().map(|c| {
                    if c == '_' || c == '-' || c == ' ' {
                        sep
                    } else {
                        c
                    }
                }));
            }
            Val::str(out)
        }
        "camelcase" => Val::str(
            s(0).split(['_', '-', ' '])
                .filter(|w| !w.is_empty())
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<String>(),
        ),
        "floor" => Val::new(V::Float(to_f64(&arg(0)).floor())),
        "ceil" => Val::new(V::Float(to_f64(&arg(0)).ceil())),
        "round" => {
            let p = to_i64(&arg(1)).clamp(0, 15) as i32;
            let m = 10f64.powi(p);
            Val::new(V::Float((to_f64(&arg(0)) * m).round() / m))
        }
        "regexFindAll" => {
            let re = regex::Regex::new(&s(0))
                .map_err(|e| eng.error(span, format!("regexFindAll: {e}")))?;
            let n = to_i64(&arg(2));
            let text = s(1);
            let found = re.find_iter(&text).map(|m| Val::str(m.as_str()));
            Val::list(if n < 0 {
                found.collect()
            } else {
                found.take(n as usize).collect()
            })
        }
        "regexSplit" => {
            let re = regex::Regex::new(&s(0))
                .map_err(|e| eng.error(span, format!("regexSplit: {e}")))?;
            let n = to_i64(&arg(2));
            let text = s(1);
            let parts = re.split(&text).map(Val::str);
            Val::list(if n < 0 {
                parts.collect()
            } else {
                parts.take(n as usize).collect()
            })
        }
        _ => return fail(eng, span, format!("function {name:?} not defined")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            assert_eq!(b64dec(&b64enc(s.as_bytes())).unwrap(), s.as_bytes());
        }
        assert_eq!(b64enc(b"foobar"), "Zm9vYmFy");
        assert_eq!(b64enc(b"fo"), "Zm8=");
    }

    #[test]
    fn semver_constraints() {
        assert!(semver_compare(">=1.21-0", "v1.31.0").unwrap());
        assert!(!semver_compare("<1.19-0", "v1.31.0").unwrap());
        assert!(semver_compare(">=1.16-0, <1.35-0", "1.31.0").unwrap());
        assert!(semver_compare("^1.2", "1.9.0").unwrap());
        assert!(!semver_compare("~1.2", "1.3.0").unwrap());
        assert!(semver_compare("<1.0 || >=1.30", "1.31.0").unwrap());
        assert!(!semver_compare(">=1.0", "1.31.0-beta.1").unwrap());
        assert!(semver_compare(">= 1.14-0", "1.31.0").unwrap());
        assert!(semver_compare("x", "1").unwrap());
        assert!(semver_compare("a.b", "1").is_err());
    }

    #[test]
    fn printf_verbs() {
        let v = printf(
            "%s-%d %q %v %5s|%-3s|%03d %%",
            &[
                Val::str("a"),
                Val::int(7),
                Val::str("q\""),
                Val::bool(true),
                Val::str("r"),
                Val::str("l"),
                Val::int(5),
            ],
        );
        assert_eq!(v.as_str().unwrap(), "a-7 \"q\\\"\" true     r|l  |005 %");
        let f = printf("%d", &[Val::new(V::Float(3.0))]);
        assert_eq!(f.as_str().unwrap(), "%!d(float64=3)");
    }
}
