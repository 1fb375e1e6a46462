//! Charts: `Chart.yaml`, `values.yaml`, `templates/`, local subcharts in
//! `charts/<name>/` (and `file://` dependencies found there or beside the
//! chart), each subchart's values scoped under its name (or alias) with the
//! parent's `global`.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::node::Node;
use crate::source::{SourceFile, Span};

use super::value::{V, Val, merge_values};
use super::{ChartFile, RenderNote};

/// Subcharts nest at most this deep.
const MAX_SUBCHART_DEPTH: usize = 8;

/// A chart of the render: its metadata, values and files.
pub struct Chart<'f> {
    /// Helm's name of the chart in template names (`dapr`,
    /// `dapr/charts/dapr_rbac`).
    pub helm_path: String,
    /// Where the chart's files are inside the top chart (`""`,
    /// `charts/dapr_rbac/`).
    pub prefix: String,
    /// `.Chart`.
    pub meta: Val,
    /// Its own values.yaml.
    pub values: Val,
    /// Every file of the chart (templates included), by path inside it.
    pub files: Vec<&'f ChartFile>,
    /// Subcharts with the key their values live under and their condition.
    pub subcharts: Vec<Sub<'f>>,
}

pub struct Sub<'f> {
    pub key: String,
    pub condition: Option<String>,
    pub tags: Vec<String>,
    pub chart: Chart<'f>,
}

/// `path` made relative and clean; `None` when it climbs out (`..`), is
/// absolute or names a URL.
pub fn clean_path(path: &str) -> Option<String> {
    if path.starts_with('/') || path.contains('\\') || path.contains(':') {
        return None;
    }
    crate::source::join_path("", path)
}

/// A YAML file of the chart parsed with guard's parser (spans in that file).
pub fn parse_yaml(f: &ChartFile) -> Result<Option<Node>, (Span, String)> {
    let source = SourceFile::new(
        f.file,
        f.path.clone(),
        f.path.clone().into(),
        f.text.to_string(),
    );
    let out = crate::parse::yaml::parse(&source);
    if let Some(d) = out.diags.iter().find(|d| {
        matches!(
            d.kind,
            crate::parse::DiagKind::ParseError | crate::parse::DiagKind::Template
        )
    }) {
        return Err((d.span, d.message.clone()));
    }
    Ok(out.docs.into_iter().next().map(|d| d.root))
}

/// `.Chart`'s field name for a Chart.yaml key (`appVersion` -> `AppVersion`).
fn chart_field(k: &str) -> String {
    match k {
        "apiVersion" => "APIVersion".to_string(),
        "url" => "URL".to_string(),
        _ => {
            let mut c = k.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        }
    }
}

/// A Chart.yaml value as `.Chart` holds it: Helm reads the file into Go
/// structs of strings, so a number keeps its text (`version: 1.10` is
/// "1.10"), and the fields of maintainers and dependencies are capitalised
/// (`annotations` keep their keys); no values hop (metadata is not a value).
fn meta_val(n: &Node, fields: bool, depth: usize) -> Val {
    use crate::node::Value;
    if depth > 32 {
        return Val::NIL;
    }
    match &n.value {
        Value::Null | Value::Unknown => Val::NIL,
        Value::Bool(b) => Val::bool(*b),
        Value::Number(t) => Val::str(t.as_ref()),
        Value::String(s) => Val::str(s.as_str()),
        Value::Seq(items) => Val::list(
            items
                .iter()
                .map(|i| meta_val(i, fields, depth + 1))
                .collect(),
        ),
        Value::Map(entries) => Val::map(
            entries
                .iter()
                .map(|e| {
                    let k = e
                        .key
                        .scalar_text()
                        .map(|c| c.into_owned())
                        .unwrap_or_default();
                    let k = if fields { chart_field(&k) } else { k };
                    (k, meta_val(&e.value, fields, depth + 1))
                })
                .collect(),
        ),
    }
}

/// Load the chart whose files start with `prefix` in `all`.
pub fn load<'f>(
    all: &'f [ChartFile],
    prefix: &str,
    parent_path: Option<&str>,
    depth: usize,
    notes: &mut Vec<RenderNote>,
) -> Option<Chart<'f>> {
    let files: Vec<&ChartFile> = all.iter().filter(|f| f.path.starts_with(prefix)).collect();
    let at0 = |files: &[&ChartFile]| {
        files
            .first()
            .map_or(Span::default(), |f| Span::new(f.file, 0, 0))
    };
    let find = |name: &str| {
        files
            .iter()
            .copied()
            .find(|f| f.path.strip_prefix(prefix) == Some(name))
    };
    let Some(chart_yaml) = find("Chart.yaml") else {
        notes.push(RenderNote::new(
            at0(&files),
            format!("no Chart.yaml in {prefix:?}; chart not rendered"),
        ));
        return None;
    };
    let meta_node = match parse_yaml(chart_yaml) {
        Ok(Some(n)) if n.is_map() => n,
        Ok(_) => {
            notes.push(RenderNote::new(
                Span::new(chart_yaml.file, 0, 0),
                "Chart.yaml is not a mapping; chart not rendered",
            ));
            return None;
        }
        Err((span, m)) => {
            notes.push(RenderNote::new(
                span,
                format!("Chart.yaml does not parse ({m}); chart not rendered"),
            ));
            return None;
        }
    };
    let mut meta = BTreeMap::new();
    for e in meta_node.entries() {
        if let Some(k) = e.key_str() {
            meta.insert(chart_field(k), meta_val(&e.value, k != "annotations", 0));
        }
    }
    let name = meta_node
        .get("name")
        .and_then(|n| n.scalar_text())
        .map_or_else(|| "chart".to_string(), |n| n.into_owned());
    let meta = Val::map(meta);
    let values = match find("values.yaml").or_else(|| find("values.yml")) {
        None => Val::map(BTreeMap::new()),
        Some(f) => match parse_yaml(f) {
            Ok(Some(n)) if n.is_map() => {
                Val::from_node(&n, 0, &|s| super::value::plain_in(&f.text, s))
            }
            Ok(None) => Val::map(BTreeMap::new()),
            Ok(Some(n)) => {
                notes.push(RenderNote::new(
                    n.span,
                    "values.yaml is not a mapping; read as empty",
                ));
                Val::map(BTreeMap::new())
            }
            Err((span, m)) => {
                notes.push(RenderNote::new(
                    span,
                    format!("values.yaml does not parse ({m}); read as empty"),
                ));
                Val::map(BTreeMap::new())
            }
        },
    };
    let helm_path = match parent_path {
        Some(p) => format!("{p}/charts/{name}"),
        None => name.clone(),
    };
    let mut chart = Chart {
        helm_path,
        prefix: prefix.to_string(),
        meta,
        values,
        files: files
            .iter()
            .copied()
            .filter(|f| {
                // Files of a subchart belong to it, not to this chart.
                let rest = &f.path[prefix.len()..];
                !(rest.starts_with("charts/") && rest["charts/".len()..].contains('/'))
            })
            .collect(),
        subcharts: Vec::new(),
    };
    // Subchart directories: charts/<dir>/Chart.yaml.
    let mut dirs: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let rest = f.path.strip_prefix(prefix)?.strip_prefix("charts/")?;
            let (dir, file) = rest.split_once('/')?;
            (file == "Chart.yaml").then(|| dir.to_string())
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    let deps: Vec<&Node> = meta_node
        .get("dependencies")
        .map(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .collect();
    let mut used = Vec::new();
    let mut remote_reported = false;
    for d in &deps {
        let Some(dname) = d.str_at(&["name"]) else {
            continue;
        };
        let repo = d.str_at(&["repository"]).unwrap_or("");
        let local = dirs
            .iter()
            .find(|x| x.as_str() == dname)
            .cloned()
            .or_else(|| {
                // `file://x` beside or below the chart, within its files.
                let p = repo.strip_prefix("file://")?;
                let joined = crate::source::join_path(prefix.trim_end_matches('/'), p)?;
                let base = crate::source::parent_dir(&joined);
                let dir = joined.rsplit('/').next()?.to_string();
                let inside_charts = format!("{}charts", prefix) == base;
                (inside_charts && dirs.contains(&dir)).then_some(dir)
            });
        let Some(dir) = local else {
            if !remote_reported {
                remote_reported = true;
                let span = d.get("repository").map_or(d.span, |r| r.span);
                notes.push(RenderNote {
                    remote: true,
                    ..RenderNote::new(
                        span,
                        format!(
                            "dependency `{dname}` ({}) is not in the chart's charts/ directory: remote charts are not fetched, so it is not rendered",
                            if repo.is_empty() { "no repository" } else { repo }
                        ),
                    )
                });
            }
            continue;
        };
        if depth >= MAX_SUBCHART_DEPTH {
            notes.push(RenderNote::new(
                d.span,
                format!(
                    "subcharts nested deeper than {MAX_SUBCHART_DEPTH}; `{dname}` not rendered"
                ),
            ));
            continue;
        }
        used.push(dir.clone());
        let sub_prefix = format!("{prefix}charts/{dir}/");
        if let Some(c) = load(all, &sub_prefix, Some(&chart.helm_path), depth + 1, notes) {
            chart.subcharts.push(Sub {
                key: d.str_at(&["alias"]).unwrap_or(dname).to_string(),
                condition: d.str_at(&["condition"]).map(str::to_string),
                tags: d
                    .get("tags")
                    .map(Node::as_seq)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
                chart: c,
            });
        }
    }
    // Subcharts in charts/ that no dependency names render too (Helm
    // renders every chart there).
    for dir in dirs.iter().filter(|d| !used.contains(d)) {
        if depth >= MAX_SUBCHART_DEPTH {
            break;
        }
        let sub_prefix = format!("{prefix}charts/{dir}/");
        if let Some(c) = load(all, &sub_prefix, Some(&chart.helm_path), depth + 1, notes) {
            let key = c
                .meta
                .get("Name")
                .and_then(|n| n.as_str().map(str::to_string))
                .unwrap_or_else(|| dir.clone());
            chart.subcharts.push(Sub {
                key,
                condition: None,
                tags: Vec::new(),
                chart: c,
            });
        }
    }
    let packaged = files.iter().find(|f| {
        f.path
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix("charts/"))
            .is_some_and(|r| !r.contains('/') && (r.ends_with(".tgz") || r.ends_with(".tar.gz")))
    });
    if let Some(p) = packaged {
        notes.push(RenderNote::new(
            Span::new(p.file, 0, 0),
            format!("packaged subchart {} is not unpacked; not rendered", p.path),
        ));
    }
    Some(chart)
}

/// Whether a subchart is enabled: its `condition` (the first path that
/// names a boolean decides), else its `tags`.
pub fn enabled(sub: &Sub, parent_values: &Val) -> bool {
    if let Some(cond) = &sub.condition {
        for path in cond.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let mut v = parent_values.clone();
            let mut found = true;
            for k in path.split('.') {
                match v.get(k) {
                    Some(x) => v = x,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if found && let V::Bool(b) = v.v {
                return b;
            }
        }
    }
    if !sub.tags.is_empty() {
        let tags = parent_values.get("tags");
        let set: Vec<bool> = sub
            .tags
            .iter()
            .filter_map(
                |t| match tags.as_ref().and_then(|m| m.get(t)).map(|v| v.v.clone()) {
                    Some(V::Bool(b)) => Some(b),
                    _ => None,
                },
            )
            .collect();
        if !set.is_empty() {
            return set.iter().any(|b| *b);
        }
    }
    true
}

/// A subchart's values: its values.yaml, under what the parent gives it
/// (`parent.<key>`), with the parent's `global` over its own.
pub fn sub_values(sub: &Sub, parent_values: &Val) -> Val {
    let mut v = sub.chart.values.deep_copy(0);
    if let Some(over) = parent_values.get(&sub.key)
        && matches!(over.v, V::Map(_))
    {
        v = merge_values(&v, &over, 0);
    }
    let own_global = v.get("global").unwrap_or_else(|| Val::map(BTreeMap::new()));
    let parent_global = parent_values
        .get("global")
        .unwrap_or_else(|| Val::map(BTreeMap::new()));
    let global = merge_values(&own_global, &parent_global, 0);
    if let V::Map(m) = &v.v
        && let Ok(mut m) = m.try_borrow_mut()
    {
        m.insert("global".into(), global);
    }
    v
}

/// The chart's files as `.Files.Get` sees them: paths inside the chart.
pub fn file_map(c: &Chart) -> BTreeMap<String, Rc<str>> {
    c.files
        .iter()
        .filter_map(|f| {
            Some((
                f.path.strip_prefix(&c.prefix)?.to_string(),
                Rc::from(&*f.text),
            ))
        })
        .collect()
}
