//! Helm as the oracle for guard's in-process chart rendering: every chart of
//! `fixtures/` (with its own values and each `values-*.yaml` beside it) and
//! the complete charts of `../shared/corpus-layouts` (podinfo base and prod,
//! the dapr umbrella with its `file://` subcharts, the eks-blueprints
//! app-of-apps chart with its defaults and with every add-on enabled) are
//! rendered by guard and by Helm v4's own engine (`tests/helm_oracle.py`, over
//! the `helm-python-sdk` package: Helm's Go library, offline, like `helm
//! template`), and the manifests compared template by template, as data
//! (both read by the same YAML reader).
//!
//! Every difference is either listed in [`DECIDED`] with the reason, or a
//! failure; a decided difference that no longer differs is a failure too, so
//! the list stays true. Without `helm_python` (`pip install
//! helm-python-sdk`) the test prints a visible skip, and fails under
//! `GUARD_REQUIRE_INTEGRATIONS=1` / `GUARD_REQUIRE_ALL=1` (CI installs it).

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use guard::model::helm::{self, ChartFile, Limits, ReleaseInfo, render_chart};
use serde_json::Value;

/// Differences between guard and Helm that are decisions, by case (`*`:
/// every case) and template: (case, Helm's template name, why).
const DECIDED: &[(&str, &str, &str)] = &[
    (
        "*",
        "podinfo/templates/tests/grpc.yaml",
        "`randAlphaNum 5` in the test pod's name: guard's random functions are fixed (`xxxxx`) so that the same input gives the same output (and helm test pods are left out of the model)",
    ),
    (
        "*",
        "podinfo/templates/tests/jwt.yaml",
        "`randAlphaNum 5`, as above",
    ),
    (
        "*",
        "podinfo/templates/tests/service.yaml",
        "`randAlphaNum 5`, as above",
    ),
];

const RELEASE: &str = "rel";
const NAMESPACE: &str = "ns";

struct Case {
    name: String,
    chart: PathBuf,
    /// Values files inside the chart directory, in order.
    values: Vec<String>,
    /// Extra values text, after them.
    extra: Option<String>,
}

/// Whether the oracle runs here (python3 with helm_python).
fn oracle_present(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import helm_python, yaml"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return true;
    }
    assert!(
        !common::integrations_required(),
        "{test}: python3 cannot import helm_python and yaml (pip install helm-python-sdk pyyaml), and GUARD_REQUIRE_INTEGRATIONS=1 requires them"
    );
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: python3 cannot import helm_python (pip install helm-python-sdk pyyaml; GUARD_REQUIRE_INTEGRATIONS=1 makes this a failure)"
    );
    false
}

/// Chart directories under `root` that are not subcharts of another.
fn charts_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join("Chart.yaml").is_file() {
            out.push(d);
            continue;
        }
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The chart with its own values, then with each `values-*.yaml` beside it.
fn chart_cases(label: &str, chart: &Path) -> Vec<Case> {
    let mut cases = vec![Case {
        name: label.to_string(),
        chart: chart.to_path_buf(),
        values: Vec::new(),
        extra: None,
    }];
    let mut env_values: Vec<String> = std::fs::read_dir(chart)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("values-") && (n.ends_with(".yaml") || n.ends_with(".yml")))
        .collect();
    env_values.sort();
    for v in env_values {
        cases.push(Case {
            name: format!("{label} + {v}"),
            chart: chart.to_path_buf(),
            values: vec![v],
            extra: None,
        });
    }
    cases
}

/// Does the chart name a remote dependency (`repository:` other than
/// `file://`)? Neither guard nor an offline Helm renders those.
fn has_remote_dependencies(chart: &Path) -> bool {
    std::fs::read_to_string(chart.join("Chart.yaml")).is_ok_and(|t| {
        t.lines().any(|l| {
            l.trim_start()
                .strip_prefix("repository:")
                .map(|r| r.trim().trim_matches(['"', '\'']))
                .is_some_and(|r| !r.is_empty() && !r.starts_with("file://"))
        })
    })
}

/// guard's rendering: Helm template name -> text.
fn guard_render(case: &Case) -> (serde_json::Map<String, Value>, Vec<String>) {
    let mut files = helm::load_dir(&case.chart, 0, 10_000, 1 << 20);
    if let Some(text) = &case.extra {
        files.push(ChartFile {
            path: "guard-test-values.yaml".into(),
            file: guard::source::FileId(files.len() as u32),
            text: text.as_str().into(),
        });
    }
    let names: Vec<&str> = case
        .values
        .iter()
        .map(String::as_str)
        .chain(case.extra.as_ref().map(|_| "guard-test-values.yaml"))
        .collect();
    let layers: Vec<guard::node::Node> = names
        .iter()
        .filter_map(|v| {
            let f = files.iter().find(|f| f.path == *v)?;
            helm::chart::parse_yaml(f).ok().flatten()
        })
        .collect();
    assert_eq!(layers.len(), names.len(), "{}: values parse", case.name);
    let refs: Vec<&guard::node::Node> = layers.iter().collect();
    let release = ReleaseInfo {
        name: RELEASE.into(),
        namespace: NAMESPACE.into(),
    };
    let r = render_chart(&files, &refs, &release, &Limits::default());
    let mut out = serde_json::Map::new();
    for d in r.docs {
        let text = match out.get(&d.name).and_then(Value::as_str) {
            Some(before) => format!("{before}\n---\n{}", d.text),
            None => d.text,
        };
        out.insert(d.name, Value::String(text));
    }
    let notes = r.notes.iter().map(|n| n.message.clone()).collect();
    (out, notes)
}

/// Ask the oracle: (helm, guard) documents per template, and Helm's error.
fn oracle(case: &Case, guard: serde_json::Map<String, Value>) -> Value {
    let mut values: Vec<String> = case
        .values
        .iter()
        .map(|v| case.chart.join(v).to_string_lossy().into_owned())
        .collect();
    let tmp = tempfile::NamedTempFile::new().expect("temp file");
    if let Some(text) = &case.extra {
        std::fs::write(tmp.path(), text).expect("write extra values");
        values.push(tmp.path().to_string_lossy().into_owned());
    }
    let req = serde_json::json!({
        "chart": case.chart,
        "values": values,
        "name": RELEASE,
        "namespace": NAMESPACE,
        "guard": guard,
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helm_oracle.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(req.to_string().as_bytes())
        .expect("request written");
    let o = child.wait_with_output().expect("oracle finishes");
    assert!(
        o.status.success(),
        "{}: the oracle failed: {}",
        case.name,
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("oracle JSON")
}

/// The first place two values differ, as a path.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_difference(u, v, &p) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{p}: helm {u:?}, guard {v:?}")),
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: helm {} items, guard {}", x.len(), y.len()));
            }
            x.iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: helm {a}, guard {b}")),
    }
}

fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = Vec::new();
    for chart in charts_under(&root.join("fixtures")) {
        if has_remote_dependencies(&chart) {
            continue;
        }
        let label = chart
            .strip_prefix(root)
            .unwrap_or(&chart)
            .to_string_lossy()
            .into_owned();
        cases.extend(chart_cases(&label, &chart));
    }
    let layouts = root.join("../shared/corpus-layouts");
    if layouts.is_dir() {
        cases.extend(chart_cases(
            "podinfo",
            &layouts.join("podinfo/charts/podinfo"),
        ));
        cases.extend(chart_cases(
            "dapr",
            &layouts.join("dapr-charts/charts/dapr"),
        ));
        let eks = layouts.join("eks-blueprints-add-ons/chart");
        cases.extend(chart_cases("eks-blueprints", &eks));
        // Every add-on enabled: one Application each.
        let values = std::fs::read_to_string(eks.join("values.yaml")).unwrap_or_default();
        let enable_all: String = values
            .lines()
            .filter(|l| {
                l.ends_with(':') && l.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            })
            .map(|l| format!("{l}\n  enable: true\n"))
            .collect();
        cases.push(Case {
            name: "eks-blueprints, every add-on enabled".into(),
            chart: eks,
            values: Vec::new(),
            extra: Some(enable_all),
        });
    } else {
        common::skip(
            "helm_reference (corpus-layouts charts)",
            "../shared/corpus-layouts is missing",
        );
    }
    cases
}

/// What comparing a set of renderings found.
#[derive(Default)]
struct Outcome {
    agree: usize,
    total: usize,
    /// Renderings Helm refused where guard noted a template that did not
    /// render either (a chart that needs values: both stop).
    both_refused: usize,
    undecided: Vec<String>,
    decided_seen: Vec<(&'static str, &'static str)>,
}

fn compare(cases: &[Case]) -> Outcome {
    let mut o = Outcome::default();
    for case in cases {
        let (texts, notes) = guard_render(case);
        let v = oracle(case, texts);
        if let Some(e) = v["error"].as_str() {
            if notes.iter().any(|n| n.contains("did not render")) {
                o.both_refused += 1;
            } else {
                o.undecided.push(format!(
                    "{}: Helm refuses the chart: {e} (guard notes: {notes:?})",
                    case.name
                ));
            }
            continue;
        }
        let empty = serde_json::Map::new();
        let helm_docs = v["helm"].as_object().unwrap_or(&empty);
        let guard_docs = v["guard"].as_object().unwrap_or(&empty);
        let mut names: Vec<&String> = helm_docs.keys().chain(guard_docs.keys()).collect();
        names.sort();
        names.dedup();
        for t in names {
            o.total += 1;
            let (h, g) = (helm_docs.get(t), guard_docs.get(t));
            let diff = match (h, g) {
                (Some(h), Some(g)) => first_difference(h, g, ""),
                (Some(_), None) => Some(format!("rendered by Helm only (guard notes: {notes:?})")),
                (None, Some(_)) => Some("rendered by guard only".to_string()),
                (None, None) => None,
            };
            match diff {
                None => o.agree += 1,
                Some(d) => match DECIDED
                    .iter()
                    .find(|(c, tm, _)| (*c == "*" || *c == case.name) && *tm == t)
                {
                    Some((c, tm, _)) => o.decided_seen.push((c, tm)),
                    None => o.undecided.push(format!("{} {t}: {d}", case.name)),
                },
            }
        }
    }
    o
}

#[test]
fn guard_renders_charts_as_helm_does() {
    if !oracle_present("guard_renders_charts_as_helm_does") {
        return;
    }
    let cases = cases();
    assert!(cases.len() >= 3, "charts found: {}", cases.len());
    let o = compare(&cases);
    eprintln!(
        "helm reference: {}/{} templates agree over {} renderings ({} decided differences)",
        o.agree,
        o.total,
        cases.len(),
        o.decided_seen.len()
    );
    let stale: Vec<_> = DECIDED
        .iter()
        .filter(|(c, t, _)| !o.decided_seen.contains(&(c, t)))
        .collect();
    assert!(
        stale.is_empty(),
        "decided differences that no longer differ: {stale:?}"
    );
    assert_eq!(o.both_refused, 0, "every chart here renders");
    assert!(
        o.undecided.is_empty(),
        "{} differences from Helm:\n{}",
        o.undecided.len(),
        o.undecided.join("\n")
    );
}

/// Every chart under `GUARD_HELM_CHARTS` (for instance a checkout of a
/// public chart repository) without remote dependencies, with its own
/// values and each `values-*.yaml` beside it. Not part of `../shared`, so
/// not required by `GUARD_REQUIRE_ALL`: without the variable it says it
/// skipped.
#[test]
fn charts_of_guard_helm_charts_render_as_helm_does() {
    let Some(dir) = std::env::var_os("GUARD_HELM_CHARTS") else {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED charts_of_guard_helm_charts_render_as_helm_does: set GUARD_HELM_CHARTS to a directory of charts"
        );
        return;
    };
    if !oracle_present("charts_of_guard_helm_charts_render_as_helm_does") {
        return;
    }
    let dir = PathBuf::from(dir);
    let mut cases = Vec::new();
    for chart in charts_under(&dir) {
        if has_remote_dependencies(&chart) {
            continue;
        }
        let label = chart
            .strip_prefix(&dir)
            .unwrap_or(&chart)
            .to_string_lossy()
            .into_owned();
        cases.extend(chart_cases(&label, &chart));
    }
    let o = compare(&cases);
    eprintln!(
        "GUARD_HELM_CHARTS: {}/{} templates agree over {} renderings; {} renderings refused by both Helm and guard",
        o.agree,
        o.total,
        cases.len(),
        o.both_refused
    );
    assert!(
        o.undecided.is_empty(),
        "{} differences from Helm:\n{}",
        o.undecided.len(),
        o.undecided.join("\n")
    );
}
