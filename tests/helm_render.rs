//! Helm charts of `../shared/corpus-layouts` rendered in-process: every
//! template renders or gives a located note, and what renders reads as YAML
//! located in its template.

mod common;

use std::path::Path;

use guard::model::helm::{self, ChartFile, Limits, ReleaseInfo, parse_rendered, render_chart};

/// The templates a chart tree would render (not partials, not NOTES.txt).
fn renderable(files: &[ChartFile]) -> Vec<String> {
    files
        .iter()
        .filter(|f| {
            let base = f.path.rsplit('/').next().unwrap_or("");
            let in_templates = f.path.starts_with("templates/") || f.path.contains("/templates/");
            in_templates
                && !base.starts_with('_')
                && (base.ends_with(".yaml") || base.ends_with(".yml") || base.ends_with(".tpl"))
        })
        .map(|f| f.path.clone())
        .collect()
}

struct Summary {
    templates: usize,
    rendered: usize,
    notes: Vec<String>,
    objects: usize,
    yaml_notes: usize,
}

fn render_dir(dir: &Path, values: &[&str]) -> Summary {
    render_with(dir, values, None)
}

/// Render with `values` (files of the chart) and an extra values text.
fn render_with(dir: &Path, values: &[&str], extra: Option<&str>) -> Summary {
    let mut files = helm::load_dir(dir, 0, 10_000, 1 << 20);
    assert!(!files.is_empty(), "{} has files", dir.display());
    if let Some(text) = extra {
        files.push(ChartFile {
            path: "test-values.yaml".into(),
            file: guard::source::FileId(files.len() as u32),
            text: text.into(),
        });
    }
    let values: Vec<&str> = values
        .iter()
        .copied()
        .chain(extra.map(|_| "test-values.yaml"))
        .collect();
    let layers: Vec<guard::node::Node> = values
        .iter()
        .map(|v| {
            let f = files.iter().find(|f| f.path == *v).expect("values file");
            helm::chart::parse_yaml(f)
                .expect("values parse")
                .expect("a document")
        })
        .collect();
    let refs: Vec<&guard::node::Node> = layers.iter().collect();
    let release = ReleaseInfo {
        name: "rel".into(),
        namespace: "ns".into(),
    };
    let r = render_chart(&files, &refs, &release, &Limits::default());
    let wanted = renderable(&files);
    // Each template renders, or a note names it (located in it, or in a
    // file it includes).
    for t in &wanted {
        let done = r.docs.iter().any(|d| &d.template == t)
            || r.notes
                .iter()
                .any(|n| n.message.contains(&format!("/{t} ")));
        assert!(
            done,
            "{t}: neither rendered nor noted; notes: {:?}",
            r.notes
        );
    }
    for n in &r.notes {
        let f = &files[n.span.file.0 as usize];
        assert!(
            n.span.end as usize <= f.text.len(),
            "note span inside its file"
        );
    }
    let mut objects = 0;
    let mut yaml_notes = 0;
    for d in &r.docs {
        let (nodes, notes) = parse_rendered(d);
        objects += nodes.len();
        yaml_notes += notes.len();
        for n in &nodes {
            assert_eq!(n.root.span.file, d.file);
            assert!(n.root.span.end as usize <= files[d.file.0 as usize].text.len());
        }
        for n in notes {
            eprintln!("  yaml note {}: {}", d.template, n.message);
        }
    }
    let notes: Vec<String> = r
        .notes
        .iter()
        .map(|n| {
            let f = &files[n.span.file.0 as usize];
            let line = f.text[..n.span.start as usize].matches('\n').count() + 1;
            format!("{}:{line}: {}", f.path, n.message)
        })
        .collect();
    Summary {
        templates: wanted.len(),
        rendered: r.docs.len(),
        notes,
        objects,
        yaml_notes,
    }
}

fn layouts() -> Option<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus-layouts");
    p.is_dir().then_some(p)
}

fn report(name: &str, s: &Summary) {
    eprintln!(
        "{name}: {} templates, {} rendered ({} objects), {} notes, {} YAML notes",
        s.templates,
        s.rendered,
        s.objects,
        s.notes.len(),
        s.yaml_notes
    );
    for n in &s.notes {
        eprintln!("  {n}");
    }
}

#[test]
fn podinfo_renders_per_environment() {
    let Some(root) = layouts() else {
        common::skip(
            "podinfo_renders_per_environment",
            "../shared/corpus-layouts is missing",
        );
        return;
    };
    let dir = root.join("podinfo/charts/podinfo");
    let base = render_dir(&dir, &[]);
    report("podinfo", &base);
    let prod = render_dir(&dir, &["values-prod.yaml"]);
    report("podinfo prod", &prod);
    assert_eq!((base.templates, base.rendered), (21, 21));
    assert_eq!((prod.templates, prod.rendered), (21, 21));
    assert!(base.notes.is_empty(), "{:?}", base.notes);
    assert!(prod.notes.is_empty(), "{:?}", prod.notes);
    assert_eq!(base.yaml_notes + prod.yaml_notes, 0);
}

#[test]
fn dapr_umbrella_renders_its_subcharts() {
    let Some(root) = layouts() else {
        common::skip(
            "dapr_umbrella_renders_its_subcharts",
            "../shared/corpus-layouts is missing",
        );
        return;
    };
    let s = render_dir(&root.join("dapr-charts/charts/dapr"), &[]);
    report("dapr", &s);
    assert_eq!((s.templates, s.rendered), (24, 24), "the subcharts render");
    assert!(s.notes.is_empty(), "{:?}", s.notes);
    assert_eq!(s.yaml_notes, 0);
}

#[test]
fn eks_blueprints_app_of_apps_renders() {
    let Some(root) = layouts() else {
        common::skip(
            "eks_blueprints_app_of_apps_renders",
            "../shared/corpus-layouts is missing",
        );
        return;
    };
    let dir = root.join("eks-blueprints-add-ons/chart");
    let s = render_dir(&dir, &[]);
    report("eks-blueprints-add-ons", &s);
    assert_eq!((s.templates, s.rendered), (47, 47));
    assert!(s.notes.is_empty(), "{:?}", s.notes);
    assert_eq!(s.yaml_notes, 0);
    // Every add-on enabled: one Application each.
    let values = std::fs::read_to_string(dir.join("values.yaml")).expect("values.yaml");
    let enable_all: String = values
        .lines()
        .filter(|l| l.ends_with(':') && l.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
        .map(|l| format!("{l}\n  enable: true\n"))
        .collect();
    let all = render_with(&dir, &[], Some(&enable_all));
    report("eks-blueprints-add-ons, all enabled", &all);
    assert_eq!(all.yaml_notes, 0);
    assert!(all.notes.is_empty(), "{:?}", all.notes);
    // 46: `prometheusNodeExporter` is not in values.yaml, so this layer
    // does not enable it.
    assert_eq!(all.objects, 46, "the Applications render");
}

/// `path:line:col` of a byte offset in a chart file.
fn at(files: &[ChartFile], span: guard::source::Span) -> String {
    let f = &files[span.file.0 as usize];
    let before = &f.text[..span.start as usize];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{}:{line}:{col}", f.path)
}

/// Every scalar of a tree printed from values: its path, value, where the
/// template writes it and the values lines it came from.
fn provenance(n: &guard::node::Node, path: &str, files: &[ChartFile], out: &mut Vec<String>) {
    use guard::node::Value;
    match &n.value {
        Value::Map(entries) => {
            for e in entries {
                let k = e.key.scalar_text().unwrap_or_default();
                provenance(&e.value, &format!("{path}.{k}"), files, out);
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                provenance(item, &format!("{path}[{i}]"), files, out);
            }
        }
        _ => {
            if let Some(via) = &n.via {
                let hops: Vec<String> = via.iter().map(|h| at(files, h.span)).collect();
                out.push(format!(
                    "{path} = {} at {} <- {}",
                    n.scalar_text().unwrap_or_default(),
                    at(files, n.span),
                    hops.join(", ")
                ));
            }
        }
    }
}

/// The fixture chart rendered as `helm template` would, per environment:
/// the output of each template, the notes, and where each values-derived
/// scalar is located. helm is not installable here: the expected output
/// was reviewed by hand against Helm's documented behaviour (trim markers,
/// sorted map ranges, `toYaml` of sigs.k8s.io/yaml, subchart values and
/// globals, `required`, `tpl`, NOTES.txt not rendered).
fn render_fixture(values: &[&str]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/helm/demo");
    let files = helm::load_dir(&dir, 0, 1000, 1 << 20);
    let layers: Vec<guard::node::Node> = values
        .iter()
        .map(|v| {
            let f = files.iter().find(|f| f.path == *v).expect("values file");
            helm::chart::parse_yaml(f)
                .expect("parses")
                .expect("a document")
        })
        .collect();
    let refs: Vec<&guard::node::Node> = layers.iter().collect();
    let release = ReleaseInfo {
        name: "web".into(),
        namespace: "shop".into(),
    };
    let r = render_chart(&files, &refs, &release, &Limits::default());
    let mut out = String::new();
    for d in &r.docs {
        out.push_str(&format!("--- # {}\n{}\n", d.name, d.text));
    }
    out.push_str("\n## notes\n");
    for n in &r.notes {
        out.push_str(&format!("{}: {}\n", at(&files, n.span), n.message));
    }
    out.push_str("\n## values-derived scalars\n");
    for d in &r.docs {
        let (nodes, notes) = parse_rendered(d);
        assert!(notes.is_empty(), "{notes:?}");
        for n in nodes {
            let kind = n.root.str_at(&["kind"]).unwrap_or("?").to_string();
            let mut lines = Vec::new();
            provenance(&n.root, &kind, &files, &mut lines);
            for l in lines {
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    out
}

#[test]
fn fixture_chart_renders_as_helm_does() {
    insta::assert_snapshot!("helm_demo_default", render_fixture(&[]));
    insta::assert_snapshot!("helm_demo_prod", render_fixture(&["values-prod.yaml"]));
}
