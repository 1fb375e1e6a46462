//! `.toml` files as Conftest gives them to a policy (its TOML parser, BurntSushi/toml, decoded
//! into Go values and handed to OPA as JSON): the document as an object, tables as objects,
//! arrays of tables as arrays of objects, every key and value located.
//!
//! Integers are numbers (hexadecimal, octal, binary and `_` separators read as TOML says),
//! floats are numbers; `inf` and `nan`, which JSON cannot hold (Conftest stops with an error
//! on them), are `null`. Dates and times are strings as Go writes a `time.Time` in JSON
//! (RFC 3339 with nanoseconds, trailing zeros dropped): an offset date-time with its offset
//! (`Z` for zero), and BurntSushi/toml's local forms as UTC: a local date-time
//! `1979-05-27T07:32:00Z`, a local date `1979-05-27T00:00:00Z`, a local time
//! `0000-01-01T07:32:00Z`. A file that is not valid TOML gives no input (as for a YAML or JSON
//! file guard cannot parse; its built-in diagnostics do not cover TOML).

use crate::node::{Entry, Node, Value, items};
use crate::source::{SourceFile, Span};

/// Whether Conftest reads a file of this name with its TOML parser.
pub fn is_toml(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.len() > 5 && lower.ends_with(".toml")
}

/// Nesting deeper than this is left out (a `null`): the input stays bounded.
const MAX_DEPTH: usize = 128;

/// A date-time as Go's `time.Time` marshals to JSON (RFC 3339, nanoseconds without trailing
/// zeros), local forms in UTC as BurntSushi/toml decodes them.
fn go_time(d: &toml_edit::Datetime) -> String {
    let (y, mo, da) = d.date.map_or((0, 1, 1), |x| (x.year, x.month, x.day));
    let (h, mi, s, ns) = d.time.map_or((0, 0, 0, 0), |t| {
        (
            t.hour,
            t.minute,
            t.second.unwrap_or(0),
            t.nanosecond.unwrap_or(0),
        )
    });
    let mut out = format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{s:02}");
    if ns > 0 {
        let frac = format!("{ns:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    match d.offset {
        Some(toml_edit::Offset::Custom { minutes }) if minutes != 0 => {
            let sign = if minutes < 0 { '-' } else { '+' };
            let m = minutes.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
        }
        _ => out.push('Z'),
    }
    out
}

struct Conv<'a> {
    file: &'a SourceFile,
}

impl Conv<'_> {
    fn span(&self, r: Option<std::ops::Range<usize>>, fallback: Span) -> Span {
        r.map_or(fallback, |r| Span::new(self.file.id, r.start, r.end))
    }

    fn value(&self, v: &toml_edit::Value, at: Span, depth: usize) -> Node {
        use toml_edit::Value as T;
        let span = self.span(v.span(), at);
        if depth > MAX_DEPTH {
            return Node::new(span, Value::Null);
        }
        match v {
            T::String(s) => Node::string(span, s.value().as_str()),
            T::Integer(i) => Node::new(span, Value::Number(i.value().to_string().into())),
            T::Float(f) => {
                let x = *f.value();
                if x.is_finite() {
                    Node::new(span, Value::Number(format!("{x:?}").into()))
                } else {
                    Node::new(span, Value::Null)
                }
            }
            T::Boolean(b) => Node::new(span, Value::Bool(*b.value())),
            T::Datetime(d) => Node::string(span, go_time(d.value())),
            T::Array(a) => Node::new(
                span,
                Value::Seq(items(
                    a.iter().map(|x| self.value(x, span, depth + 1)).collect(),
                )),
            ),
            T::InlineTable(t) => self.table(t, span, depth + 1),
        }
    }

    fn item(&self, item: &toml_edit::Item, at: Span, depth: usize) -> Node {
        use toml_edit::Item as I;
        match item {
            I::Value(v) => self.value(v, at, depth),
            I::Table(t) => {
                let span = self.span(t.span(), at);
                self.table(t, span, depth + 1)
            }
            I::ArrayOfTables(a) => {
                let span = self.span(a.span(), at);
                Node::new(
                    span,
                    Value::Seq(items(
                        a.iter()
                            .map(|t| {
                                let s = self.span(t.span(), span);
                                self.table(t, s, depth + 1)
                            })
                            .collect(),
                    )),
                )
            }
            I::None => Node::new(at, Value::Null),
        }
    }

    fn table(&self, t: &dyn toml_edit::TableLike, span: Span, depth: usize) -> Node {
        if depth > MAX_DEPTH {
            return Node::new(span, Value::Null);
        }
        let entries = t
            .iter()
            .map(|(k, item)| {
                let key_span = self.span(t.get_key_value(k).and_then(|(key, _)| key.span()), span);
                Entry {
                    key: Node::string(key_span, k),
                    value: self.item(item, key_span, depth),
                }
            })
            .collect();
        Node::new(span, Value::Map(items(entries)))
    }
}

/// The file in Conftest's TOML shape, or `None` when it is not valid TOML.
pub fn conftest(file: &SourceFile) -> Option<Node> {
    let doc = toml_edit::Document::parse(file.text.as_str()).ok()?;
    let whole = Span::new(file.id, 0, file.text.len());
    Some(Conv { file }.table(doc.as_table(), whole, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn burntsushi_shapes_and_go_times() {
        let text = "title = \"x\"\nport = 0x1F\nbig = 1_000\nratio = 0.5\nexp = 1e3\nnan = nan\n\
                    on = true\nodt = 1979-05-27T07:32:00.120-07:00\nutc = 1979-05-27T07:32:00Z\n\
                    ldt = 1979-05-27T07:32:00\nld = 1979-05-27\nlt = 07:32:00.5\n\
                    list = [1, \"a\", {k = 2}]\n\n[server.http]\naddress = \":80\"\n\n\
                    [[server.certs]]\nfile = \"a\"\n[[server.certs]]\nfile = \"b\"\n";
        let f = SourceFile::new(FileId(0), "t.toml".into(), "t.toml".into(), text.into());
        let n = conftest(&f).expect("valid TOML");
        assert_eq!(
            crate::rego::input::value_of(&n, 0),
            regorus::Value::from(serde_json::json!({
                "title": "x", "port": 31, "big": 1000, "ratio": 0.5, "exp": 1000.0, "nan": null,
                "on": true,
                "odt": "1979-05-27T07:32:00.12-07:00",
                "utc": "1979-05-27T07:32:00Z",
                "ldt": "1979-05-27T07:32:00Z",
                "ld": "1979-05-27T00:00:00Z",
                "lt": "0000-01-01T07:32:00.5Z",
                "list": [1, "a", {"k": 2}],
                "server": {"http": {"address": ":80"}, "certs": [{"file": "a"}, {"file": "b"}]},
            }))
        );
        let address = n.path(&["server", "http", "address"]).expect("address");
        assert_eq!(f.slice(address.span), "\":80\"");
        assert_eq!(f.line_col(address.span.start).line, 16);
        for t in [
            "",
            "=",
            "[a",
            "a = [",
            "[[a]]\n[a]\n",
            "a = 1\na = 2\n",
            "k = \"\\u0000\"",
        ] {
            let f = SourceFile::new(FileId(0), "t.toml".into(), "t.toml".into(), t.into());
            let _ = conftest(&f);
        }
    }
}
