//! The Helm renderer: a chart made from the input, rendered by
//! `model::helm::render_chart` with guard's limits, then its output parsed
//! (`parse_rendered`) as guard reads it.
//!
//! Input layout: split at the first NUL byte into `templates/x.yaml` and
//! `values.yaml` (no NUL: the whole input is the template); a second NUL
//! starts `templates/_helpers.tpl`. Lossily decoded. The chart has a fixed
//! Chart.yaml.
//!
//! Invariants checked besides "no panic": rendering twice gives the same
//! documents and notes.
#![no_main]

use std::sync::Arc;

use guard::model::helm::{ChartFile, Limits, ReleaseInfo, parse_rendered, render_chart};
use guard::source::FileId;
use libfuzzer_sys::fuzz_target;

const CHART: &str = "apiVersion: v2\nname: fuzz\nversion: 1.0.0\nappVersion: \"1\"\n";

fn file(i: u32, path: &str, bytes: &[u8]) -> ChartFile {
    ChartFile {
        path: path.to_string(),
        file: FileId(i),
        text: Arc::from(String::from_utf8_lossy(bytes).as_ref()),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0);
    let template = parts.next().unwrap_or_default();
    let values = parts.next();
    let helpers = parts.next();
    let mut files = vec![
        file(0, "Chart.yaml", CHART.as_bytes()),
        file(1, "templates/x.yaml", template),
    ];
    if let Some(v) = values {
        files.push(file(2, "values.yaml", v));
    }
    if let Some(h) = helpers {
        files.push(file(3, "templates/_helpers.tpl", h));
    }
    // Smaller than the defaults, so that one input stays well under libFuzzer's timeout.
    let limits = Limits {
        max_output: 1 << 20,
        max_range: 10_000,
        max_steps: 200_000,
        ..Limits::default()
    };
    let release = ReleaseInfo::default();
    let first = render_chart(&files, &[], &release, &limits);
    let mut shape = Vec::new();
    for doc in &first.docs {
        let (nodes, notes) = parse_rendered(doc);
        shape.push((nodes.len(), notes.len()));
    }
    let second = render_chart(&files, &[], &release, &limits);
    assert_eq!(
        first.docs.len(),
        second.docs.len(),
        "rendering twice differs"
    );
    let notes = |r: &guard::model::helm::Rendered| {
        r.notes
            .iter()
            .map(|n| (n.message.clone(), n.span.start, n.span.end))
            .collect::<Vec<_>>()
    };
    assert_eq!(notes(&first), notes(&second), "rendering twice differs");
    std::hint::black_box(shape);
});
