//! The values templates compute with: Go's dynamic values as Helm sees them
//! (numbers from values files are float64, maps print with sorted keys), each
//! scalar read from a values file keeping where it is written.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::node::{Node, Value};
use crate::source::Span;

/// A part of a string that was printed from a values-file scalar: bytes
/// `start..end` of the string, and where the scalar is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mark {
    pub start: u32,
    pub end: u32,
    pub origin: Span,
}

pub type Marks = Option<Rc<Vec<Mark>>>;
pub type MapRef = Rc<RefCell<BTreeMap<String, Val>>>;
pub type ListRef = Rc<RefCell<Vec<Val>>>;

/// A method a field chain can reach (`.Capabilities.APIVersions.Has`,
/// `.Files.Get`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// Always false: no cluster is asked.
    ApiVersionsHas,
    /// `.Files.Get` of the chart with this index in the render.
    FilesGet(u32),
    /// A method of Helm's guard does not implement (`.Files.Glob`): a
    /// render error naming it.
    Unsupported(&'static str),
}

#[derive(Clone, Debug)]
pub enum V {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>, Marks),
    List(ListRef),
    Map(MapRef),
    Method(Method),
}

/// A value, and where it was written when it came from a values file.
#[derive(Clone, Debug)]
pub struct Val {
    pub v: V,
    pub origin: Option<Span>,
}

impl Val {
    pub const NIL: Val = Val {
        v: V::Nil,
        origin: None,
    };

    pub fn new(v: V) -> Val {
        Val { v, origin: None }
    }

    pub fn str(s: impl Into<Rc<str>>) -> Val {
        Val::new(V::Str(s.into(), None))
    }

    pub fn marked(s: String, marks: Vec<Mark>) -> Val {
        let marks = (!marks.is_empty()).then(|| Rc::new(marks));
        Val::new(V::Str(s.into(), marks))
    }

    pub fn bool(b: bool) -> Val {
        Val::new(V::Bool(b))
    }

    pub fn int(i: i64) -> Val {
        Val::new(V::Int(i))
    }

    pub fn list(items: Vec<Val>) -> Val {
        Val::new(V::List(Rc::new(RefCell::new(items))))
    }

    pub fn map(m: BTreeMap<String, Val>) -> Val {
        Val::new(V::Map(Rc::new(RefCell::new(m))))
    }

    pub fn with_origin(mut self, o: Option<Span>) -> Val {
        self.origin = o;
        self
    }

    pub fn is_nil(&self) -> bool {
        matches!(self.v, V::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s, _) => Some(s),
            _ => None,
        }
    }

    /// Go's truth: false, 0, nil and empty strings, lists and maps are false.
    pub fn truthy(&self) -> bool {
        match &self.v {
            V::Nil => false,
            V::Bool(b) => *b,
            V::Int(i) => *i != 0,
            V::Float(f) => *f != 0.0,
            V::Str(s, _) => !s.is_empty(),
            V::List(l) => l.try_borrow().map(|l| !l.is_empty()).unwrap_or(true),
            V::Map(m) => m.try_borrow().map(|m| !m.is_empty()).unwrap_or(true),
            V::Method(_) => true,
        }
    }

    /// Go's type name, as `typeOf` prints it.
    pub fn type_name(&self) -> &'static str {
        match &self.v {
            V::Nil => "<nil>",
            V::Bool(_) => "bool",
            V::Int(_) => "int",
            V::Float(_) => "float64",
            V::Str(..) => "string",
            V::List(_) => "[]interface {}",
            V::Map(_) => "map[string]interface {}",
            V::Method(_) => "func",
        }
    }

    /// Go's kind name, as `kindOf`/`kindIs` use it.
    pub fn kind_name(&self) -> &'static str {
        match &self.v {
            V::Nil => "invalid",
            V::Bool(_) => "bool",
            V::Int(_) => "int",
            V::Float(_) => "float64",
            V::Str(..) => "string",
            V::List(_) => "slice",
            V::Map(_) => "map",
            V::Method(_) => "func",
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match &self.v {
            V::Int(i) => Some(*i as f64),
            V::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Entries of a map, cloned (no borrow is held while a template runs).
    pub fn map_entries(&self) -> Option<Vec<(String, Val)>> {
        match &self.v {
            V::Map(m) => Some(
                m.try_borrow()
                    .ok()?
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => None,
        }
    }

    pub fn list_items(&self) -> Option<Vec<Val>> {
        match &self.v {
            V::List(l) => Some(l.try_borrow().ok()?.clone()),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<Val> {
        match &self.v {
            V::Map(m) => m.try_borrow().ok()?.get(key).cloned(),
            _ => None,
        }
    }

    /// The marks of a string (empty for other values); a scalar from a
    /// values file is one mark over all of its text.
    pub fn marks_of(&self, len: usize) -> Vec<Mark> {
        match (&self.v, self.origin) {
            (_, Some(o)) if len > 0 => vec![Mark {
                start: 0,
                end: len as u32,
                origin: o,
            }],
            (V::Str(_, Some(m)), _) => m.as_ref().clone(),
            _ => Vec::new(),
        }
    }

    /// Build from a values tree, each scalar keeping its span, read as Helm
    /// reads values (go-yaml v2, YAML 1.1, then JSON): numbers are float64,
    /// `0644` is octal, and a plain (`plain` says: unquoted) `yes`, `no`,
    /// `on`, `off`, `y` or `n` is a boolean, as a value and as a key (`n:`
    /// is the key `"false"`). Maps past `depth` are nil.
    pub fn from_node(n: &Node, depth: usize, plain: &dyn Fn(Span) -> bool) -> Val {
        if depth > 256 {
            return Val::NIL;
        }
        let origin = Some(n.span);
        match &n.value {
            Value::Null | Value::Unknown => Val::NIL,
            Value::Bool(b) => Val::bool(*b).with_origin(origin),
            Value::Number(t) => match parse_yaml_number(t) {
                Some(f) => Val::new(V::Float(f)).with_origin(origin),
                None => Val::str(t.as_ref()).with_origin(origin),
            },
            Value::String(s) => match yaml11_bool(s) {
                Some(b) if plain(n.span) => Val::bool(b).with_origin(origin),
                _ => Val::str(s.as_str()).with_origin(origin),
            },
            Value::Seq(items) => Val::list(
                items
                    .iter()
                    .map(|i| Val::from_node(i, depth + 1, plain))
                    .collect(),
            ),
            Value::Map(entries) => {
                let mut m = BTreeMap::new();
                for e in entries {
                    let k = e
                        .key
                        .scalar_text()
                        .map(|c| c.into_owned())
                        .unwrap_or_default();
                    // A plain `y:`/`no:` key is a boolean too, and a JSON
                    // key `"true"`/`"false"` after the trip through JSON.
                    let k = match yaml11_bool(&k) {
                        Some(b) if plain(e.key.span) => b.to_string(),
                        _ => k,
                    };
                    m.insert(k, Val::from_node(&e.value, depth + 1, plain));
                }
                Val::map(m)
            }
        }
    }

    /// A copy with fresh maps and lists (values are merged per render, and
    /// `set` must not change the caller's).
    pub fn deep_copy(&self, depth: usize) -> Val {
        self.copy_within(depth, &mut usize::MAX.clone())
    }

    /// [`Val::deep_copy`] of at most `budget` maps and lists (a value that
    /// holds one map many times over copies it that many times); past it,
    /// nil, and `budget` is 0.
    pub fn copy_within(&self, depth: usize, budget: &mut usize) -> Val {
        if depth > 256 || *budget == 0 {
            return Val::NIL;
        }
        match &self.v {
            V::List(_) => {
                *budget -= 1;
                let mut items = Vec::new();
                for i in self.list_items().unwrap_or_default() {
                    items.push(i.copy_within(depth + 1, budget));
                }
                Val::list(items).with_origin(self.origin)
            }
            V::Map(_) => {
                *budget -= 1;
                let mut m = BTreeMap::new();
                for (k, v) in self.map_entries().unwrap_or_default() {
                    let c = v.copy_within(depth + 1, budget);
                    m.insert(k, c);
                }
                Val::map(m).with_origin(self.origin)
            }
            _ => self.clone(),
        }
    }
}

/// The booleans of YAML 1.1 that YAML 1.2's core schema reads as strings.
fn yaml11_bool(s: &str) -> Option<bool> {
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Whether the scalar at `span` of `text` is written plain (no quote, no
/// tag: `!!str yes` stays a string).
pub fn plain_in(text: &str, span: Span) -> bool {
    !text
        .get(span.start as usize..)
        .is_some_and(|t| t.starts_with(['"', '\'', '!']))
}

fn parse_yaml_number(t: &str) -> Option<f64> {
    let s = t.replace('_', "");
    let (neg, d) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    let v = if let Some(h) = d.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok().map(|i| i as f64)
    } else if let Some(o) = d.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok().map(|i| i as f64)
    } else if d.len() > 1 && d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit()) {
        // YAML 1.1: a leading zero is octal (`defaultMode: 0644` is 420).
        i64::from_str_radix(&d[1..], 8)
            .ok()
            .map(|i| i as f64)
            .or_else(|| d.parse().ok())
    } else {
        match d {
            ".inf" | ".Inf" | ".INF" => Some(f64::INFINITY),
            ".nan" | ".NaN" | ".NAN" => Some(f64::NAN),
            _ => d.parse::<f64>().ok(),
        }
    }?;
    Some(if neg { -v } else { v })
}

/// A copy with no origins (a value parsed from text a template made, such
/// as `fromYaml`'s, was written in no file).
pub fn detached(v: &Val, depth: usize) -> Val {
    if depth > 256 {
        return Val::NIL;
    }
    match &v.v {
        V::Map(_) => Val::map(
            v.map_entries()
                .unwrap_or_default()
                .into_iter()
                .map(|(k, x)| (k, detached(&x, depth + 1)))
                .collect(),
        ),
        V::List(_) => Val::list(
            v.list_items()
                .unwrap_or_default()
                .iter()
                .map(|x| detached(x, depth + 1))
                .collect(),
        ),
        V::Str(t, _) => Val::str(t.as_ref()),
        other => Val::new(other.clone()),
    }
}

/// The values as Helm's templates see them: every map entry whose value is
/// null removed, at any depth of maps (lists are kept as they are).
pub fn without_nulls(v: &Val, depth: usize) -> Val {
    if depth > 64 {
        return v.clone();
    }
    match v.map_entries() {
        Some(entries) => {
            let m: BTreeMap<String, Val> = entries
                .into_iter()
                .filter(|(_, x)| !x.is_nil())
                .map(|(k, x)| (k, without_nulls(&x, depth + 1)))
                .collect();
            let mut out = Val::map(m);
            out.origin = v.origin;
            out
        }
        None => v.clone(),
    }
}

/// Helm's deep merge of values: maps merge key by key, anything else in
/// `over` replaces; a null in `over` deletes the key.
pub fn merge_values(base: &Val, over: &Val, depth: usize) -> Val {
    if depth > 64 {
        return over.clone();
    }
    match (base.map_entries(), over.map_entries()) {
        (Some(b), Some(o)) => {
            let mut m: BTreeMap<String, Val> = b.into_iter().collect();
            for (k, ov) in o {
                if ov.is_nil() {
                    m.remove(&k);
                    continue;
                }
                let merged = match m.get(&k) {
                    Some(bv) => merge_values(bv, &ov, depth + 1),
                    None => ov,
                };
                m.insert(k, merged);
            }
            Val::map(m)
        }
        _ => over.clone(),
    }
}

/// Go's `%v` of a float64 (strconv's shortest `%g`): the `%e` form when
/// the decimal exponent is below -4 or at least 6. Values-file numbers are
/// float64 in Helm, so `{{ .Values.n }}` of `1000000` prints `1e+06`, as
/// Helm does.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// JSON's number text for a float64 (encoding/json).
pub fn json_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        return format!("{f:.0}");
    }
    let a = f.abs();
    if !(1e-6..1e21).contains(&a) {
        let e = format!("{f:e}");
        let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// The text Go's `%v` gives (and Helm prints: `<no value>` becomes "").
pub fn print(v: &Val, out: &mut String, depth: usize) {
    if out.len() > MAX_TEXT {
        return;
    }
    if depth > 64 {
        out.push_str("...");
        return;
    }
    match &v.v {
        V::Nil => {}
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Int(i) => {
            let _ = write!(out, "{i}");
        }
        V::Float(f) => out.push_str(&go_float(*f)),
        V::Str(s, _) => out.push_str(s),
        V::List(_) => {
            out.push('[');
            for (i, item) in v.list_items().unwrap_or_default().iter().enumerate() {
                if out.len() > MAX_TEXT {
                    break;
                }
                if i > 0 {
                    out.push(' ');
                }
                if item.is_nil() {
                    out.push_str("<nil>");
                } else {
                    print(item, out, depth + 1);
                }
            }
            out.push(']');
        }
        V::Map(_) => {
            out.push_str("map[");
            for (i, (k, item)) in v.map_entries().unwrap_or_default().iter().enumerate() {
                if out.len() > MAX_TEXT {
                    break;
                }
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                if item.is_nil() {
                    out.push_str("<nil>");
                } else {
                    print(item, out, depth + 1);
                }
            }
            out.push(']');
        }
        V::Method(_) => out.push_str("<func>"),
    }
}

pub fn to_string(v: &Val) -> String {
    let mut s = String::new();
    print(v, &mut s, 0);
    s
}

/// Equality as `eq` sees it (numbers of either kind compare by value),
/// visiting at most `budget` values (none left: `None`, undecided).
pub fn equal(a: &Val, b: &Val, budget: &mut usize) -> Option<bool> {
    equal_at(a, b, 0, budget)
}

fn equal_at(a: &Val, b: &Val, depth: usize, budget: &mut usize) -> Option<bool> {
    if *budget == 0 {
        return None;
    }
    *budget -= 1;
    if depth > 64 {
        return Some(false);
    }
    Some(match (&a.v, &b.v) {
        (V::Nil, V::Nil) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Str(x, _), V::Str(y, _)) => x == y,
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => a.as_f64() == b.as_f64(),
        (V::List(p), V::List(q)) if Rc::ptr_eq(p, q) => true,
        (V::Map(p), V::Map(q)) if Rc::ptr_eq(p, q) => true,
        (V::List(_), V::List(_)) => {
            let (x, y) = (
                a.list_items().unwrap_or_default(),
                b.list_items().unwrap_or_default(),
            );
            if x.len() != y.len() {
                return Some(false);
            }
            for (p, q) in x.iter().zip(&y) {
                if !equal_at(p, q, depth + 1, budget)? {
                    return Some(false);
                }
            }
            true
        }
        (V::Map(_), V::Map(_)) => {
            let (x, y) = (
                a.map_entries().unwrap_or_default(),
                b.map_entries().unwrap_or_default(),
            );
            if x.len() != y.len() {
                return Some(false);
            }
            for ((k1, v1), (k2, v2)) in x.iter().zip(&y) {
                if k1 != k2 || !equal_at(v1, v2, depth + 1, budget)? {
                    return Some(false);
                }
            }
            true
        }
        _ => false,
    })
}

/// A toYaml/toJson that went past its depth, or past [`MAX_TEXT`] bytes.
#[derive(Debug)]
pub struct TooDeep;

/// No text made from a value (printed, `toYaml`, `toJson`) is longer than
/// this: a list of many references to one long string would otherwise
/// print to gigabytes.
pub const MAX_TEXT: usize = 16 << 20;

/// About how many bytes printing `v` takes (at least that many), without
/// printing it; stops counting past `cap`.
pub fn text_len(v: &Val, cap: usize, depth: usize) -> usize {
    if depth > 64 {
        return 0;
    }
    match &v.v {
        V::Str(s, _) => s.len(),
        V::List(l) => {
            let Ok(items) = l.try_borrow() else { return 0 };
            let mut n = 2usize;
            for i in items.iter() {
                n = n.saturating_add(1 + text_len(i, cap, depth + 1));
                if n > cap {
                    break;
                }
            }
            n
        }
        V::Map(m) => {
            let Ok(m) = m.try_borrow() else { return 0 };
            let mut n = 5usize;
            for (k, i) in m.iter() {
                n = n.saturating_add(2 + k.len() + text_len(i, cap, depth + 1));
                if n > cap {
                    break;
                }
            }
            n
        }
        _ => 1,
    }
}

/// `toYaml` as Helm does it (sigs.k8s.io/yaml: keys sorted, two spaces,
/// sequences not indented under their key, no trailing newline). Each
/// scalar that came from a values file is marked.
pub fn to_yaml(v: &Val, max_depth: usize) -> Result<(String, Vec<Mark>), TooDeep> {
    let mut y = Yaml {
        out: String::new(),
        marks: Vec::new(),
        max_depth,
    };
    match &v.v {
        V::Map(_) | V::List(_) => y.block(v, 0, 0)?,
        _ => {
            y.scalar(v, 0);
            y.out.push('\n');
        }
    }
    while y.out.ends_with('\n') {
        y.out.pop();
    }
    Ok((y.out, y.marks))
}

struct Yaml {
    out: String,
    marks: Vec<Mark>,
    max_depth: usize,
}

impl Yaml {
    fn indent(&mut self, n: usize) {
        for _ in 0..n {
            self.out.push(' ');
        }
    }

    /// A map or list at `indent`, starting on a fresh line.
    fn block(&mut self, v: &Val, indent: usize, depth: usize) -> Result<(), TooDeep> {
        if depth > self.max_depth || self.out.len() > MAX_TEXT {
            return Err(TooDeep);
        }
        match &v.v {
            V::Map(_) => {
                let entries = v.map_entries().unwrap_or_default();
                if entries.is_empty() {
                    self.indent(indent);
                    self.out.push_str("{}\n");
                }
                for (k, item) in entries {
                    if self.out.len() > MAX_TEXT {
                        return Err(TooDeep);
                    }
                    self.indent(indent);
                    self.key(&k);
                    self.out.push(':');
                    self.value(&item, indent, depth, true)?;
                }
            }
            V::List(_) => {
                let items = v.list_items().unwrap_or_default();
                if items.is_empty() {
                    self.indent(indent);
                    self.out.push_str("[]\n");
                }
                for item in items {
                    if self.out.len() > MAX_TEXT {
                        return Err(TooDeep);
                    }
                    self.indent(indent);
                    self.out.push('-');
                    self.value(&item, indent, depth, false)?;
                }
            }
            _ => {
                self.indent(indent);
                self.scalar(v, indent);
                self.out.push('\n');
            }
        }
        Ok(())
    }

    /// The value after `key:` or `-`.
    fn value(
        &mut self,
        item: &Val,
        indent: usize,
        depth: usize,
        in_map: bool,
    ) -> Result<(), TooDeep> {
        let empty = match &item.v {
            V::Map(m) => m.try_borrow().map(|m| m.is_empty()).unwrap_or(true),
            V::List(l) => l.try_borrow().map(|l| l.is_empty()).unwrap_or(true),
            _ => true,
        };
        match &item.v {
            V::Map(_) if !empty => {
                if in_map {
                    self.out.push('\n');
                    self.block(item, indent + 2, depth + 1)?;
                } else {
                    // `- key: v` with the next keys aligned under the first.
                    self.out.push(' ');
                    let start = self.out.len();
                    self.block(item, indent + 2, depth + 1)?;
                    // Drop the first line's indentation: it follows the dash.
                    self.out.replace_range(start..start + indent + 2, "");
                    self.shift_marks(start, indent + 2);
                }
            }
            V::List(_) if !empty => {
                if in_map {
                    self.out.push('\n');
                    self.block(item, indent, depth + 1)?;
                } else {
                    self.out.push(' ');
                    let start = self.out.len();
                    self.block(item, indent + 2, depth + 1)?;
                    self.out.replace_range(start..start + indent + 2, "");
                    self.shift_marks(start, indent + 2);
                }
            }
            _ => {
                self.out.push(' ');
                self.scalar(item, indent + 2);
                self.out.push('\n');
            }
        }
        Ok(())
    }

    fn shift_marks(&mut self, from: usize, by: usize) {
        for m in self
            .marks
            .iter_mut()
            .filter(|m| m.start as usize >= from + by)
        {
            m.start -= by as u32;
            m.end -= by as u32;
        }
    }

    fn key(&mut self, k: &str) {
        let q = yaml_string(k, 0);
        self.out.push_str(&q);
    }

    fn scalar(&mut self, v: &Val, indent: usize) {
        let start = self.out.len();
        match &v.v {
            V::Nil => self.out.push_str("null"),
            V::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            V::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            V::Float(f) => self.out.push_str(&yaml_float(*f)),
            V::Str(s, _) => {
                let q = yaml_string(s, indent);
                self.out.push_str(&q);
            }
            V::Map(_) => self.out.push_str("{}"),
            V::List(_) => self.out.push_str("[]"),
            V::Method(_) => self.out.push_str("null"),
        }
        if let Some(o) = v.origin {
            self.marks.push(Mark {
                start: start as u32,
                end: self.out.len() as u32,
                origin: o,
            });
        }
    }
}

/// A float64 as YAML prints it after a trip through JSON.
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    json_float(f)
}

/// Whether go-yaml v2 (which `toYaml` writes with, through sigs.k8s.io/yaml)
/// reads this text, unquoted, as something other than a string: YAML 1.1's
/// nulls, booleans, integers in any base, floats, timestamps and base-60
/// numbers. Such strings are written double-quoted.
fn resolves_as_other(s: &str) -> bool {
    if matches!(
        s,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "true"
            | "True"
            | "TRUE"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "false"
            | "False"
            | "FALSE"
            | "off"
            | "Off"
            | "OFF"
            | ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | "<<"
    ) {
        return true;
    }
    let first = s.as_bytes()[0];
    (first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.'))
        && (go_int(s) || yaml_style_float(s) || timestamp(s) || base60(s))
}

/// Go's `strconv.ParseInt(s, 0, 64)` after go-yaml drops underscores (and
/// its own `0b`): a sign, then `0x`/`0o`/`0b` digits, a leading-zero octal,
/// or decimal digits.
fn go_int(s: &str) -> bool {
    let t = s.replace('_', "");
    let d = t.strip_prefix(['+', '-']).unwrap_or(&t);
    let (digits, radix) = if let Some(h) = d.strip_prefix("0x").or_else(|| d.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(o) = d.strip_prefix("0o").or_else(|| d.strip_prefix("0O")) {
        (o, 8)
    } else if let Some(b) = d.strip_prefix("0b").or_else(|| d.strip_prefix("0B")) {
        (b, 2)
    } else if d.len() > 1 && d.starts_with('0') {
        (&d[1..], 8)
    } else {
        (d, 10)
    };
    !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix))
}

/// go-yaml's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A YAML 1.1 timestamp as go-yaml parses one: `2006-1-2`, optionally
/// followed by `T`, `t` or a space and `15:4:5` (fraction and zone after).
fn timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let run = |i: &mut usize, min: usize, max: usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < max {
            *i += 1;
        }
        *i - start >= min
    };
    let mut i = 0;
    if !(run(&mut i, 4, 4) && b.get(i) == Some(&b'-')) {
        return false;
    }
    i += 1;
    if !(run(&mut i, 1, 2) && b.get(i) == Some(&b'-')) {
        return false;
    }
    i += 1;
    if !run(&mut i, 1, 2) {
        return false;
    }
    if i == b.len() {
        return true;
    }
    if !matches!(b[i], b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    run(&mut i, 1, 2)
        && b.get(i) == Some(&b':')
        && {
            i += 1;
            run(&mut i, 1, 2)
        }
        && b.get(i) == Some(&b':')
        && {
            i += 1;
            run(&mut i, 1, 2)
        }
}

/// A YAML 1.1 base-60 number (`1:20`, `-190:20:30.15`).
fn base60(s: &str) -> bool {
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let mut parts = int.split(':');
    let head = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    !rest.is_empty()
        && head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_')
        && rest.iter().all(|p| {
            (1..=2).contains(&p.len())
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || p.as_bytes()[0] <= b'5')
        })
        && frac.chars().all(|c| c.is_ascii_digit() || c == '_')
}

/// What go-yaml's emitter allows for a string (its scalar analysis, block
/// context): plain, single-quoted, a literal block.
struct Allowed {
    plain: bool,
    single: bool,
    block: bool,
}

fn analyze(s: &str) -> Allowed {
    let chars: Vec<char> = s.chars().collect();
    let (mut block_indicators, mut special, mut line_breaks) = (false, false, false);
    let (mut space_break, mut break_space) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let blank_after = |i: usize| chars.get(i + 1).is_none_or(|c| matches!(c, ' ' | '\n'));
    for (i, &c) in chars.iter().enumerate() {
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                block_indicators = true;
            }
            if matches!(c, '?' | ':' | '-') && blank_after(i) {
                block_indicators = true;
            }
        } else if (c == ':' && blank_after(i)) || (c == '#' && chars[i - 1] == ' ') {
            block_indicators = true;
        }
        let printable =
            c == '\n' || (' '..='~').contains(&c) || (c as u32 >= 0xA0 && c != '\u{FEFF}');
        if !printable {
            special = true;
        }
        if c == '\n' {
            line_breaks = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if c == '\n' {
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == chars.len() {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
    }
    let mut a = Allowed {
        plain: true,
        single: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.plain = false;
        a.single = false;
    }
    if space_break || special {
        a = Allowed {
            plain: false,
            single: false,
            block: false,
        };
    }
    if line_breaks || block_indicators {
        a.plain = false;
    }
    a
}

/// A string as go-yaml v2 writes it in block context (`toYaml`): double-quoted
/// when it would read as another type (`"true"`, `""`, `"1.0"`); a literal
/// block when multi-line; else plain, single-quoted or double-quoted, the
/// first the emitter allows.
fn yaml_string(s: &str, indent: usize) -> String {
    let double = |s: &str| serde_json::to_string(s).unwrap_or_default();
    if !s.contains('\n') && resolves_as_other(s) {
        return double(s);
    }
    let a = analyze(s);
    if s.contains('\n') {
        if !a.block {
            return double(s);
        }
        let body = s.trim_end_matches('\n');
        let chomp = match s.len() - body.len() {
            0 => "-",
            1 => "",
            _ => "+",
        };
        // A first line that starts with a space or a break needs the
        // indentation said.
        let hint = if s.starts_with([' ', '\n']) { "2" } else { "" };
        let mut out = format!("|{hint}{chomp}");
        let kept = if chomp == "+" {
            &s[..s.len() - 1]
        } else {
            body
        };
        for line in kept.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                for _ in 0..indent.max(2) {
                    out.push(' ');
                }
                out.push_str(line);
            }
        }
        return out;
    }
    if a.plain {
        s.to_string()
    } else if a.single {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double(s)
    }
}

/// `toJson`: compact, keys sorted.
pub fn to_json(v: &Val, depth: usize, max: usize, out: &mut String) -> Result<(), TooDeep> {
    if depth > max || out.len() > MAX_TEXT {
        return Err(TooDeep);
    }
    match &v.v {
        V::Nil | V::Method(_) => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Int(i) => {
            let _ = write!(out, "{i}");
        }
        V::Float(f) if f.is_finite() => out.push_str(&json_float(*f)),
        V::Float(_) => out.push_str("null"),
        V::Str(s, _) => out.push_str(&serde_json::to_string(&**s).unwrap_or_default()),
        V::List(_) => {
            out.push('[');
            for (i, item) in v.list_items().unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_json(item, depth + 1, max, out)?;
            }
            out.push(']');
        }
        V::Map(_) => {
            out.push('{');
            for (i, (k, item)) in v.map_entries().unwrap_or_default().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                to_json(item, depth + 1, max, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A Val from JSON (`fromJson`): numbers are float64, as Go decodes them.
pub fn from_json(j: &serde_json::Value, depth: usize) -> Val {
    use serde_json::Value as J;
    if depth > 256 {
        return Val::NIL;
    }
    match j {
        J::Null => Val::NIL,
        J::Bool(b) => Val::bool(*b),
        J::Number(n) => Val::new(V::Float(n.as_f64().unwrap_or(0.0))),
        J::String(s) => Val::str(s.as_str()),
        J::Array(a) => Val::list(a.iter().map(|x| from_json(x, depth + 1)).collect()),
        J::Object(o) => Val::map(
            o.iter()
                .map(|(k, x)| (k.clone(), from_json(x, depth + 1)))
                .collect(),
        ),
    }
}
