//! Terraform's built-in functions that can be computed statically.
//! Functions not listed here (timestamp, uuid, hashes, cidrsubnet, ...)
//! evaluate to Unknown. `jsonencode` returns its argument's structure (see
//! the module docs of [`crate::terraform`]); `file`, `fileexists` and
//! `templatefile` read from disk (see `files.rs`).

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
        let via = v::first_via(args.iter());
        match self.builtin(cx, name, &args, span) {
            Ok(mut n) => {
                // Scalars computed here carry the first argument's provenance.
                if n.span == span && n.via.is_none() {
                    n.via = via;
                }
                n
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
                Ok(v::from_json(&j, span, 0))
            }
            "merge" => {
                let mut out: Vec<Entry> = Vec::new();
                for m in a {
                    match &m.value {
                        Value::Null => {}
                        Value::Map(entries) => {
                            for e in entries {
                                match out.iter_mut().find(|o| o.key_str() == e.key_str()) {
                                    Some(o) => o.value = e.value.clone(),
                                    None => out.push(e.clone()),
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
                if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                    let re = regex::RegexBuilder::new(&from[1..from.len() - 1])
                        .size_limit(1 << 20)
                        .build()
                        .map_err(|_| Fail::Error)?;
                    bounded(span, re.replace_all(&x, to.as_str()).into_owned())
                } else if from.is_empty() {
                    Err(Fail::Error)
                } else {
                    bounded(span, x.replace(&from, &to))
                }
            }
            "regex" | "regexall" => Err(Fail::Unknown),
            "join" => {
                let sep = s(0)?;
                let mut parts = Vec::new();
                for i in 1..a.len() {
                    for x in seq_arg(a, i)? {
                        if x.is_unknown() {
                            return Err(Fail::Unknown);
                        }
                        parts.push(v::prim_string(x).ok_or(Fail::Error)?);
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
                    (start + len).min(total)
                };
                Ok(v::string(
                    span,
                    chars[start as usize..end.max(start) as usize]
                        .iter()
                        .collect::<String>(),
                ))
            }
            "tostring" => match a.first().map(|x| &x.value) {
                Some(Value::Null) => Ok(v::null(span)),
                Some(Value::Unknown) => Err(Fail::Unknown),
                _ => {
                    let x = a.first().ok_or(Fail::Error)?;
                    Ok(v::with_value(
                        x,
                        Value::String(v::prim_string(x).ok_or(Fail::Error)?),
                    ))
                }
            },
            "tonumber" => {
                let x = a.first().ok_or(Fail::Error)?;
                match &x.value {
                    Value::Null => Ok(v::null(span)),
                    Value::Number(_) => Ok(x.clone()),
                    _ => Ok(v::with_value(x, Value::Number(v::fmt_num(n(0)?)))),
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
                let mut out: Vec<Node> = Vec::new();
                for i in items {
                    if i.is_unknown() && name == "toset" {
                        return Err(Fail::Unknown);
                    }
                    if !out.iter().any(|o| v::deep_eq(o, i)) {
                        out.push(i.clone());
                    }
                }
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
                Ok(items[(i as usize) % items.len()].clone())
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
                if from > to || to > items.len() {
                    return Err(Fail::Error);
                }
                Ok(v::seq(span, items[from..to].to_vec()))
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
                match items.len() {
                    0 => Ok(v::null(span)),
                    1 => Ok(items[0].clone()),
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
                        key: v::with_value(k, Value::String(kstr)),
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
                let (x, base) = (s(0)?, n(1)? as u32);
                if !(2..=62).contains(&base) {
                    return Err(Fail::Error);
                }
                let i = i64::from_str_radix(&x, base).map_err(|_| Fail::Error)?;
                Ok(v::number(span, i as f64))
            }
            "file" => self.fn_file(cx, &s(0)?, span),
            "fileexists" => self.fn_fileexists(cx, &s(0)?, span),
            "templatefile" => {
                let vars = match a.get(1).map(|x| &x.value) {
                    None => Vec::new(),
                    Some(Value::Map(es)) => es.clone(),
                    Some(Value::Unknown) => return Err(Fail::Unknown),
                    Some(_) => return Err(Fail::Error),
                };
                self.fn_templatefile(cx, &s(0)?, vars, span)
            }
            _ => Err(Fail::Unknown),
        }
    }
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
    fn jsonencode_keeps_structure_and_spans() {
        let (_, n, _) = super::super::test_support::eval_expr("", r#"jsonencode({ a = true })"#);
        assert!(n.is_map());
        assert_eq!(n.get("a").unwrap().as_bool(), Some(true));
        assert_eq!(ev(r#""x${jsonencode({ b = 1 })}""#), json!(r#"x{"b":1}"#));
    }
}
