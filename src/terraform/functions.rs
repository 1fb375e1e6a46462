//! Terraform's built-in functions that can be computed statically.
//! Functions not listed here (timestamp, uuid, hashes, cidrsubnet, ...)
//! evaluate to Unknown. `jsonencode` returns its argument's structure (see
//! the module docs of [`crate::terraform`]); `file`, `fileexists` and
//! `templatefile` read from disk (see `files.rs`).

use crate::hash::HashMap;

use hcl_edit::expr::FuncCall;

use super::eval::{Cx, Run};
use super::value::{self as v, MAX_ITEMS, MAX_STRING};
use crate::node::{Entry, Node, Value};
use crate::source::Span;

/// Why a function produced no value.
pub enum Fail {
    /// An argument is unknown: so is the result.
    Unknown,
    /// Terraform would report an error (wrong type, out of range).
    Error,
}

type R = Result<Node, Fail>;

fn str_arg(args: &[Node], i: usize) -> Result<String, Fail> {
    let n = args.get(i).ok_or(Fail::Error)?;
    match &n.value {
        Value::Unknown => Err(Fail::Unknown),
        Value::Null => Err(Fail::Error),
        _ if v::has_unknown(n) => Err(Fail::Unknown),
        _ => v::as_string(n).ok_or(Fail::Error),
    }
}

fn num_arg(args: &[Node], i: usize) -> Result<f64, Fail> {
    let n = args.get(i).ok_or(Fail::Error)?;
    if n.is_unknown() {
        return Err(Fail::Unknown);
    }
    v::as_num(n).ok_or(Fail::Error)
}

fn seq_arg(args: &[Node], i: usize) -> Result<&[Node], Fail> {
    let n = args.get(i).ok_or(Fail::Error)?;
    match &n.value {
        Value::Seq(items) => Ok(items),
        Value::Unknown => Err(Fail::Unknown),
        _ => Err(Fail::Error),
    }
}

fn map_arg(args: &[Node], i: usize) -> Result<&Node, Fail> {
    let n = args.get(i).ok_or(Fail::Error)?;
    match &n.value {
        Value::Map(_) => Ok(n),
        Value::Unknown => Err(Fail::Unknown),
        _ => Err(Fail::Error),
    }
}

fn bounded(span: Span, s: String) -> R {
    if s.len() > MAX_STRING {
        Err(Fail::Error)
    } else {
        Ok(v::string(span, s))
    }
}

impl Run<'_> {
    pub fn call(&mut self, cx: &Cx<'_>, f: &FuncCall, span: Span) -> Node {
        if !f.name.namespace.is_empty() {
            return v::unknown(span);
        }
        let name = f.name.name.as_str();
        match name {
            "try" => {
                for a in f.args.iter() {
                    let before = self.errors;
                    let n = self.eval(cx, a);
                    if self.errors == before {
                        return n;
                    }
                }
                self.error();
                return v::unknown(span);
            }
            "can" => {
                let Some(a) = f.args.iter().next() else {
                    return v::unknown(span);
                };
                let before = self.errors;
                let n = self.eval(cx, a);
                let failed = self.errors != before;
                self.errors = before;
                if !failed && v::has_unknown(&n) {
                    return v::unknown(span);
                }
                return v::boolean(span, !failed);
            }
            _ => {}
        }
        let mut args: Vec<Node> = f.args.iter().map(|a| self.eval(cx, a)).collect();
        if f.args.expand_final() {
            match args.pop() {
                Some(Node {
                    value: Value::Seq(items),
                    ..
                }) => args.extend(items),
                _ => return v::unknown(span),
            }
        }
        if name == "lookup"
            && args.len() == 2
            && f.args
                .iter()
                .nth(1)
                .is_some_and(super::eval::is_workspace_ref)
        {
            self.workspace_key_missing(&args[0], span);
        }
        let via = v::first_via(args.iter());
        if let Some(ext) = self.ext.clone()
            && let Some(r) = ext.call(self, cx, name, &args, span)
        {
            return match r {
                Some(n) => self.charge(n, span),
                None => {
                    self.error();
                    v::unknown(span)
                }
            };
        }
        match self.builtin(cx, name, &args, span) {
            Ok(mut n) => {
                // Scalars computed here carry the first argument's provenance.
                if n.span == span && n.via.is_none() {
                    n.via = via;
                }
                self.charge(n, span)
            }
            Err(Fail::Unknown) => v::unknown(span),
            Err(Fail::Error) => {
                self.error();
                v::unknown(span)
            }
        }
    }

    fn builtin(&mut self, cx: &Cx<'_>, name: &str, a: &[Node], span: Span) -> R {
        let s = |i| str_arg(a, i);
        let n = |i| num_arg(a, i);
        match name {
            // Structure-preserving: see the module docs.
            "jsonencode" => {
                let x = a.first().ok_or(Fail::Error)?;
                Ok(x.clone())
            }
            "jsondecode" => {
                let x = a.first().ok_or(Fail::Error)?;
                if matches!(x.value, Value::Map(_) | Value::Seq(_)) {
                    return Ok(x.clone()); // jsondecode(jsonencode(x))
                }
                let text = s(0)?;
                let j: serde_json::Value = serde_json::from_str(&text).map_err(|_| Fail::Error)?;
                Ok(Node::from_json(&j, span, &None))
            }
            "merge" => {
                let mut out: Vec<Entry> = Vec::new();
                // Key -> position in `out`.
                let mut slots: HashMap<Option<&str>, usize> = HashMap::default();
                for m in a {
                    match &m.value {
                        Value::Null => {}
                        Value::Map(entries) => {
                            for e in entries {
                                match slots.get(&e.key_str()).and_then(|&i| out.get_mut(i)) {
                                    Some(o) => o.value = e.value.clone(),
                                    None => {
                                        slots.insert(e.key_str(), out.len());
                                        out.push(e.clone());
                                    }
                                }
                            }
                        }
                        Value::Unknown => return Err(Fail::Unknown),
                        _ => return Err(Fail::Error),
                    }
                }
                Ok(v::map(span, out))
            }
            "lookup" => {
                let m = map_arg(a, 0)?;
                let k = s(1)?;
                match v::get(m, &k) {
                    Some(x) => Ok(x.clone()),
                    None => a.get(2).cloned().ok_or(Fail::Error),
                }
            }
            "coalesce" => {
                for x in a {
                    match &x.value {
                        Value::Unknown => return Err(Fail::Unknown),
                        Value::Null => {}
                        Value::String(t) if t.is_empty() => {}
                        _ => return Ok(x.clone()),
                    }
                }
                Err(Fail::Error)
            }
            "coalescelist" => {
                for x in a {
                    match &x.value {
                        Value::Unknown => return Err(Fail::Unknown),
                        Value::Seq(items) if !items.is_empty() => return Ok(x.clone()),
                        _ => {}
                    }
                }
                Ok(v::seq(span, Vec::new()))
            }
            "concat" => {
                let mut out = Vec::new();
                for i in 0..a.len() {
                    out.extend(seq_arg(a, i)?.iter().cloned());
                }
                Ok(v::seq(span, out))
            }
            "format" => format(a, span),
            "formatlist" => Err(Fail::Unknown),
            "lower" => Ok(v::string(span, s(0)?.to_lowercase())),
            "dirname" => Ok(v::string(span, dirname(&s(0)?))),
            "basename" => Ok(v::string(span, basename(&s(0)?))),
            // Absolute paths only: a relative one depends on where
            // Terraform runs.
            "abspath" => {
                let p = s(0)?;
                if p.starts_with('/') {
                    Ok(v::string(span, clean_path(&p)))
                } else {
                    Err(Fail::Unknown)
                }
            }
            "upper" => Ok(v::string(span, s(0)?.to_uppercase())),
            "title" => Ok(v::string(span, title(&s(0)?))),
            "trimspace" => Ok(v::string(span, s(0)?.trim().to_string())),
            "chomp" => Ok(v::string(
                span,
                s(0)?.trim_end_matches(['\n', '\r']).to_string(),
            )),
            "trimprefix" => {
                let (x, p) = (s(0)?, s(1)?);
                Ok(v::string(
                    span,
                    x.strip_prefix(p.as_str()).unwrap_or(&x).to_string(),
                ))
            }
            "trimsuffix" => {
                let (x, p) = (s(0)?, s(1)?);
                Ok(v::string(
                    span,
                    x.strip_suffix(p.as_str()).unwrap_or(&x).to_string(),
                ))
            }
            "trim" => {
                let (x, cs) = (s(0)?, s(1)?);
                Ok(v::string(
                    span,
                    x.trim_matches(|c| cs.contains(c)).to_string(),
                ))
            }
            "startswith" => Ok(v::boolean(span, s(0)?.starts_with(&s(1)?))),
            "endswith" => Ok(v::boolean(span, s(0)?.ends_with(&s(1)?))),
            "strcontains" => Ok(v::boolean(span, s(0)?.contains(&s(1)?))),
            "replace" => {
                let (x, from, to) = (s(0)?, s(1)?, s(2)?);
                let pattern = from
                    .strip_prefix('/')
                    .and_then(|p| p.strip_suffix('/'))
                    .filter(|_| from.len() > 1);
                if let Some(pattern) = pattern {
                    let re = regex::RegexBuilder::new(pattern)
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|_| Fail::Error)?;
                    bounded(span, replace_regex(&re, &x, &to)?)
                } else if from.is_empty() {
                    Err(Fail::Error)
                } else {
                    // The result's length is known before building it.
                    let hits = x.matches(from.as_str()).count();
                    let len =
                        (x.len() - hits * from.len()).saturating_add(hits.saturating_mul(to.len()));
                    if len > MAX_STRING {
                        return Err(Fail::Error);
                    }
                    bounded(span, x.replace(&from, &to))
                }
            }
            "regex" | "regexall" => Err(Fail::Unknown),
            "join" => {
                let sep = s(0)?;
                let mut parts = Vec::new();
                let mut len = 0usize;
                for i in 1..a.len() {
                    for x in seq_arg(a, i)? {
                        if x.is_unknown() {
                            return Err(Fail::Unknown);
                        }
                        let p = v::prim_string(x).ok_or(Fail::Error)?;
                        len = len.saturating_add(p.len()).saturating_add(sep.len());
                        if len > MAX_STRING.saturating_add(sep.len()) {
                            return Err(Fail::Error);
                        }
                        parts.push(p);
                    }
                }
                bounded(span, parts.join(&sep))
            }
            "split" => {
                let (sep, x) = (s(0)?, s(1)?);
                if sep.is_empty() {
                    return Err(Fail::Error);
                }
                let parts: Vec<Node> = x
                    .split(sep.as_str())
                    .take(MAX_ITEMS)
                    .map(|p| v::string(span, p))
                    .collect();
                Ok(v::seq(span, parts))
            }
            "substr" => {
                let x = s(0)?;
                let (off, len) = (n(1)? as i64, n(2)? as i64);
                let chars: Vec<char> = x.chars().collect();
                let total = chars.len() as i64;
                let start = if off < 0 {
                    (total + off).max(0)
                } else {
                    off.min(total)
                };
                let end = if len < 0 {
                    total
                } else {
                    start.saturating_add(len).min(total)
                };
                let piece = chars
                    .get(start as usize..end.max(start) as usize)
                    .unwrap_or_default();
                Ok(v::string(span, piece.iter().collect::<String>()))
            }
            "tostring" => match a.first().map(|x| &x.value) {
                Some(Value::Null) => Ok(v::null(span)),
                Some(Value::Unknown) => Err(Fail::Unknown),
                _ => {
                    let x = a.first().ok_or(Fail::Error)?;
                    Ok(v::with_value(
                        x,
                        Value::String(v::prim_string(x).ok_or(Fail::Error)?.into()),
                    ))
                }
            },
            "tonumber" => {
                let x = a.first().ok_or(Fail::Error)?;
                match &x.value {
                    Value::Null => Ok(v::null(span)),
                    Value::Number(_) => Ok(x.clone()),
                    _ => Ok(v::with_value(x, Value::Number(v::fmt_num(n(0)?).into()))),
                }
            }
            "tobool" => {
                let x = a.first().ok_or(Fail::Error)?;
                match &x.value {
                    Value::Null => Ok(v::null(span)),
                    Value::Unknown => Err(Fail::Unknown),
                    _ => Ok(v::with_value(
                        x,
                        Value::Bool(v::as_bool(x).ok_or(Fail::Error)?),
                    )),
                }
            }
            "tolist" => {
                let x = a.first().ok_or(Fail::Error)?;
                match &x.value {
                    Value::Seq(_) | Value::Null => Ok(x.clone()),
                    Value::Unknown => Err(Fail::Unknown),
                    _ => Err(Fail::Error),
                }
            }
            "toset" | "distinct" => {
                let items = seq_arg(a, 0)?;
                if name == "toset" && items.iter().any(Node::is_unknown) {
                    return Err(Fail::Unknown);
                }
                let mut out: Vec<Node> = v::unique(items).into_iter().cloned().collect();
                if name == "toset" && out.iter().all(|o| matches!(o.value, Value::String(_))) {
                    out.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                }
                Ok(v::seq(span, out))
            }
            "tomap" => {
                let x = a.first().ok_or(Fail::Error)?;
                match &x.value {
                    Value::Map(_) | Value::Null => Ok(x.clone()),
                    Value::Unknown => Err(Fail::Unknown),
                    _ => Err(Fail::Error),
                }
            }
            "length" => {
                let x = a.first().ok_or(Fail::Error)?;
                let len = match &x.value {
                    Value::Seq(items) => items.len(),
                    Value::Map(entries) => v::dedup_entries(entries).len(),
                    Value::String(t) => t.chars().count(),
                    Value::Unknown => return Err(Fail::Unknown),
                    _ => return Err(Fail::Error),
                };
                Ok(v::number(span, len as f64))
            }
            "element" => {
                let items = seq_arg(a, 0)?;
                let i = n(1)?;
                if items.is_empty() || i < 0.0 {
                    return Err(Fail::Error);
                }
                items
                    .get((i as usize) % items.len())
                    .cloned()
                    .ok_or(Fail::Error)
            }
            "index" => {
                let items = seq_arg(a, 0)?;
                let x = a.get(1).ok_or(Fail::Error)?;
                let pos = items
                    .iter()
                    .position(|i| v::deep_eq(i, x))
                    .ok_or(Fail::Error)?;
                Ok(v::number(span, pos as f64))
            }
            "keys" | "values" => {
                let m = map_arg(a, 0)?;
                let out = v::dedup_entries(m.entries())
                    .into_iter()
                    .map(|(k, x)| {
                        if name == "keys" {
                            v::string(span, k)
                        } else {
                            x.clone()
                        }
                    })
                    .collect();
                Ok(v::seq(span, out))
            }
            "contains" => {
                let items = seq_arg(a, 0)?;
                let x = a.get(1).ok_or(Fail::Error)?;
                if x.is_unknown() || items.iter().any(|i| i.is_unknown()) {
                    return Err(Fail::Unknown);
                }
                Ok(v::boolean(span, items.iter().any(|i| v::deep_eq(i, x))))
            }
            "flatten" => {
                let mut out = Vec::new();
                flatten(seq_arg(a, 0)?, &mut out, 0)?;
                Ok(v::seq(span, out))
            }
            "compact" => {
                let items = seq_arg(a, 0)?;
                let mut out = Vec::new();
                for i in items {
                    match &i.value {
                        Value::Unknown => return Err(Fail::Unknown),
                        Value::Null => {}
                        Value::String(t) if t.is_empty() => {}
                        _ => out.push(i.clone()),
                    }
                }
                Ok(v::seq(span, out))
            }
            "reverse" => Ok(v::seq(span, seq_arg(a, 0)?.iter().rev().cloned().collect())),
            "slice" => {
                let items = seq_arg(a, 0)?;
                let (from, to) = (n(1)? as usize, n(2)? as usize);
                let part = items.get(from..to).ok_or(Fail::Error)?;
                Ok(v::seq(span, part.to_vec()))
            }
            "sort" => {
                let mut out = Vec::new();
                for i in seq_arg(a, 0)? {
                    out.push((v::prim_string(i).ok_or(Fail::Unknown)?, i.clone()));
                }
                out.sort_by(|x, y| x.0.cmp(&y.0));
                Ok(v::seq(span, out.into_iter().map(|x| x.1).collect()))
            }
            "one" => {
                let items = seq_arg(a, 0)?;
                match items {
                    [] => Ok(v::null(span)),
                    [x] => Ok(x.clone()),
                    _ => Err(Fail::Error),
                }
            }
            "range" => {
                let nums: Vec<f64> = (0..a.len()).map(n).collect::<Result<_, _>>()?;
                let (start, end, step) = match nums.as_slice() {
                    [e] => (0.0, *e, 1.0),
                    [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
                    [s, e, st] => (*s, *e, *st),
                    _ => return Err(Fail::Error),
                };
                if step == 0.0 {
                    return Err(Fail::Error);
                }
                let mut out = Vec::new();
                let mut x = start;
                while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                    if out.len() >= MAX_ITEMS {
                        return Err(Fail::Error);
                    }
                    out.push(v::number(span, x));
                    x += step;
                }
                Ok(v::seq(span, out))
            }
            "zipmap" => {
                let (ks, vs) = (seq_arg(a, 0)?, seq_arg(a, 1)?);
                if ks.len() != vs.len() {
                    return Err(Fail::Error);
                }
                let mut out = Vec::new();
                for (k, x) in ks.iter().zip(vs) {
                    let kstr = v::prim_string(k).ok_or(if k.is_unknown() {
                        Fail::Unknown
                    } else {
                        Fail::Error
                    })?;
                    out.push(Entry {
                        key: v::with_value(k, Value::String(kstr.into())),
                        value: x.clone(),
                    });
                }
                Ok(v::map(span, out))
            }
            "min" | "max" | "sum" => {
                let mut nums = Vec::new();
                if name == "sum" {
                    for i in seq_arg(a, 0)? {
                        nums.push(if i.is_unknown() {
                            return Err(Fail::Unknown);
                        } else {
                            v::as_num(i).ok_or(Fail::Error)?
                        });
                    }
                } else {
                    for i in 0..a.len() {
                        nums.push(n(i)?);
                    }
                }
                if nums.is_empty() {
                    return Err(Fail::Error);
                }
                let r = match name {
                    "min" => nums.iter().copied().fold(f64::INFINITY, f64::min),
                    "max" => nums.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    _ => nums.iter().sum(),
                };
                Ok(v::number(span, r))
            }
            "abs" => Ok(v::number(span, n(0)?.abs())),
            "ceil" => Ok(v::number(span, n(0)?.ceil())),
            "floor" => Ok(v::number(span, n(0)?.floor())),
            "signum" => Ok(v::number(span, n(0)?.signum())),
            "parseint" => {
                let (x, base) = (s(0)?, n(1)?);
                let i = parse_int(&x, base).ok_or(Fail::Error)?;
                Ok(v::number(span, i as f64))
            }
            "file" => self.fn_file(cx, &s(0)?, span),
            "fileexists" => self.fn_fileexists(cx, &s(0)?, span),
            "templatefile" => {
                let vars = match a.get(1).map(|x| &x.value) {
                    None => Vec::new(),
                    Some(Value::Map(es)) => es.to_vec(),
                    Some(Value::Unknown) => return Err(Fail::Unknown),
                    Some(_) => return Err(Fail::Error),
                };
                self.fn_templatefile(cx, &s(0)?, vars, span)
            }
            _ => Err(Fail::Unknown),
        }
    }
}

/// Terraform's `parseint`: an optional sign and digits of `base` (2 to
/// 62; up to 36 letters are case-insensitive, past it `a`-`z` are 10-35
/// and `A`-`Z` 36-61). None when invalid or out of the i64 range.
fn parse_int(text: &str, base: f64) -> Option<i64> {
    let base = base as u32;
    if !(2..=62).contains(&base) {
        return None;
    }
    let (neg, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut acc: i64 = 0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 10,
            'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
            'A'..='Z' => c as u32 - 'A' as u32 + 36,
            _ => return None,
        };
        if d >= base {
            return None;
        }
        let d = i64::from(d);
        acc = acc.checked_mul(i64::from(base)).and_then(|x| {
            if neg {
                x.checked_sub(d)
            } else {
                x.checked_add(d)
            }
        })?;
    }
    Some(acc)
}

/// `re.replace_all(x, to)` (with `$1` expansion), giving up once the result
/// would be longer than [`MAX_STRING`].
fn replace_regex(re: &regex::Regex, x: &str, to: &str) -> Result<String, Fail> {
    let mut out = String::new();
    let mut last = 0;
    for caps in re.captures_iter(x) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(x.get(last..m.start()).unwrap_or_default());
        caps.expand(to, &mut out);
        last = m.end();
        if out.len() > MAX_STRING {
            return Err(Fail::Error);
        }
    }
    out.push_str(x.get(last..).unwrap_or_default());
    Ok(out)
}

/// Go's `path.Clean` on `/`-separated paths.
fn clean_path(p: &str) -> String {
    let abs = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !abs {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Terraform's `dirname` (Go's `filepath.Dir`).
fn dirname(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean_path(&p[..=i]),
        None => ".".into(),
    }
}

/// Terraform's `basename` (Go's `filepath.Base`).
fn basename(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if p.is_empty() {
        return ".".into();
    }
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

fn flatten(items: &[Node], out: &mut Vec<Node>, depth: usize) -> Result<(), Fail> {
    if depth > 64 {
        return Err(Fail::Error);
    }
    for i in items {
        match &i.value {
            Value::Seq(inner) => flatten(inner, out, depth + 1)?,
            Value::Unknown => return Err(Fail::Unknown),
            _ => out.push(i.clone()),
        }
        if out.len() > MAX_ITEMS {
            return Err(Fail::Error);
        }
    }
    Ok(())
}

/// `format` with the verbs Terraform configurations use: `%s %d %v %q %t
/// %f %.Nf %%`, with optional width.
fn format(a: &[Node], span: Span) -> R {
    let f = str_arg(a, 0)?;
    let mut out = String::new();
    let mut next = 1;
    let mut chars = f.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '.' || d == '-' || d == '+' || d == '#' || d == ' ' {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            return Err(Fail::Error);
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let x = a.get(next).ok_or(Fail::Error)?;
        next += 1;
        if v::has_unknown(x) {
            return Err(Fail::Unknown);
        }
        let text = match verb {
            's' | 'v' | 't' => v::as_string(x).ok_or(Fail::Error)?,
            'q' => serde_json::to_string(&v::as_string(x).ok_or(Fail::Error)?)
                .map_err(|_| Fail::Error)?,
            'd' => v::fmt_num(v::as_num(x).ok_or(Fail::Error)?.trunc()),
            'f' | 'g' | 'e' => {
                let num = v::as_num(x).ok_or(Fail::Error)?;
                let prec = spec
                    .split('.')
                    .nth(1)
                    .and_then(|p| p.parse::<usize>().ok())
                    .unwrap_or(6)
                    .min(32);
                format!("{num:.prec$}")
            }
            _ => return Err(Fail::Unknown),
        };
        let width: usize = spec
            .split('.')
            .next()
            .unwrap_or("")
            .trim_start_matches(['-', '+', '#', ' '])
            .parse()
            .unwrap_or(0);
        let width = width.min(1024);
        let zero =
            spec.trim_start_matches(['+', '#', ' ']).starts_with('0') && matches!(verb, 'd' | 'f');
        if zero {
            let (sign, digits) = text
                .strip_prefix('-')
                .map_or(("", text.as_str()), |d| ("-", d));
            let w = width.saturating_sub(sign.len());
            out.push_str(&format!("{sign}{digits:0>w$}"));
        } else if spec.starts_with('-') {
            out.push_str(&format!("{text:<width$}"));
        } else {
            out.push_str(&format!("{text:>width$}"));
        }
        if out.len() > MAX_STRING {
            return Err(Fail::Error);
        }
    }
    Ok(v::string(span, out))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::ev;
    use serde_json::json;

    #[test]
    fn path_functions_follow_go() {
        assert_eq!(ev(r#"dirname("/root.hcl")"#), json!("/"));
        assert_eq!(ev(r#"dirname("/live/root.hcl")"#), json!("/live"));
        assert_eq!(ev(r#"dirname("a/b/c.txt")"#), json!("a/b"));
        assert_eq!(ev(r#"dirname("c.txt")"#), json!("."));
        assert_eq!(ev(r#"dirname("a//b/")"#), json!("a/b"));
        assert_eq!(ev(r#"basename("/a/b.txt")"#), json!("b.txt"));
        assert_eq!(ev(r#"basename("a/b/")"#), json!("b"));
        assert_eq!(ev(r#"basename("/")"#), json!("/"));
        assert_eq!(ev(r#"abspath("/a/../b")"#), json!("/b"));
        assert_eq!(ev(r#"abspath("b")"#), json!("<unknown>"));
    }

    #[test]
    fn string_functions() {
        assert_eq!(ev(r#"format("%s-%03d", "a", 7)"#), json!("a-007"));
        assert_eq!(ev(r#"replace("a.b.c", "/\\./", "_")"#), json!("a_b_c"));
        assert_eq!(ev(r#"substr("hello", 1, 3)"#), json!("ell"));
        assert_eq!(ev(r#"join("-", split(",", "a,b"))"#), json!("a-b"));
        assert_eq!(ev(r#"title("hello world")"#), json!("Hello World"));
    }

    #[test]
    fn collection_functions() {
        assert_eq!(
            ev(r#"merge({a = 1, b = 2}, null, {b = 3})"#),
            json!({"a": 1, "b": 3})
        );
        assert_eq!(ev(r#"keys({b = 1, a = 2})"#), json!(["a", "b"]));
        assert_eq!(ev(r#"flatten([[1], [[2]], 3])"#), json!([1, 2, 3]));
        assert_eq!(ev(r#"element([1, 2], 3)"#), json!(2));
        assert_eq!(ev(r#"range(3)"#), json!([0, 1, 2]));
        assert_eq!(ev(r#"lookup({a = 1}, "b", 0)"#), json!(0));
    }

    #[test]
    fn unknown_propagates_and_errors_are_caught() {
        assert_eq!(ev(r#"upper(aws_s3_bucket.b.id)"#), json!("<unknown>"));
        assert_eq!(ev(r#"timestamp()"#), json!("<unknown>"));
        assert_eq!(ev(r#"try({a = 1}.b, "fallback")"#), json!("fallback"));
        assert_eq!(ev(r#"can({a = 1}.b)"#), json!(false));
        assert_eq!(ev(r#"can(data.x.y.z)"#), json!("<unknown>"));
        assert_eq!(ev(r#"coalesce(data.x.y.z, "b")"#), json!("<unknown>"));
        assert_eq!(ev(r#"jsondecode("{\"a\": [true]}")"#), json!({"a": [true]}));
    }

    #[test]
    fn extreme_arguments_neither_panic_nor_blow_up() {
        assert_eq!(ev(r#"parseint("FF", 16)"#), json!(255));
        assert_eq!(ev(r#"parseint("-ff", 16)"#), json!(-255));
        // Past base 36, upper case letters are 36 to 61.
        assert_eq!(ev(r#"parseint("zZ", 62)"#), json!(35 * 62 + 61));
        assert_eq!(ev(r#"parseint("1", 1e300)"#), json!("<unknown>"));
        assert_eq!(
            ev(r#"parseint("zzzzzzzzzzzzzzzz", 36)"#),
            json!("<unknown>")
        );
        assert_eq!(ev(r#"substr("hello", 1, 1e300)"#), json!("ello"));
        assert_eq!(ev(r#"substr("hello", -1e300, 2)"#), json!("he"));
        assert_eq!(ev(r#"element([1, 2], 1e300)"#), json!(2));
        assert_eq!(ev(r#"slice([1, 2], 1e300, -5)"#), json!("<unknown>"));
        assert_eq!(ev(r#"format("%05d|%-3s|", 7, "a")"#), json!("00007|a  |"));
        assert_eq!(
            ev(r#"length(format("%0999999999d", 1))"#),
            json!(1024),
            "widths are capped"
        );
        assert_eq!(ev(r#"replace("aaa", "a", "bb")"#), json!("bbbbbb"));
        assert_eq!(
            ev(r#"replace("a1b22", "/([0-9]+)/", "<$1>")"#),
            json!("a<1>b<22>")
        );
        let long = r#"join("", [for i in range(2000) : "bbbbbbbbbb"])"#;
        assert_eq!(
            ev(&format!(r#"replace("{}", "a", {long})"#, "a".repeat(100))),
            json!("<unknown>"),
            "a result longer than the string limit"
        );
        assert_eq!(
            ev(&format!(r#"replace("{}", "/a/", {long})"#, "a".repeat(100))),
            json!("<unknown>")
        );
        assert_eq!(
            ev(&format!(r#"length(join({long}, ["a", "b"]))"#)),
            json!(20_002)
        );
    }

    #[test]
    fn sets_and_merges_keep_terraform_order() {
        assert_eq!(
            ev(r#"distinct([1, "1", 1.0, "a", "a", true, "true"])"#),
            json!([1, "1", "a", true, "true"])
        );
        assert_eq!(ev(r#"toset(["b", "a", "b"])"#), json!(["a", "b"]));
        assert_eq!(
            ev(r#"keys(merge({b = 1, a = 2}, {b = 3}, {c = 4}))"#),
            json!(["a", "b", "c"])
        );
        assert_eq!(
            ev(r#"merge({b = 1, a = 2}, {b = 3})"#),
            json!({"b": 3, "a": 2})
        );
        assert_eq!(
            ev(r#"length(distinct([for i in range(5000) : i % 7]))"#),
            json!(7)
        );
    }

    #[test]
    fn jsonencode_keeps_structure_and_spans() {
        let (_, n, _) = super::super::test_support::eval_expr("", r#"jsonencode({ a = true })"#);
        assert!(n.is_map());
        assert_eq!(n.get("a").unwrap().as_bool(), Some(true));
        assert_eq!(ev(r#""x${jsonencode({ b = 1 })}""#), json!(r#"x{"b":1}"#));
    }
}
