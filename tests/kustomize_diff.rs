//! Differential test against the real engine: for every top-level Kustomize
//! overlay in `fixtures/` and `../shared/corpus` that kubectl renders
//! offline, the containers guard says it deploys (workload name after
//! patches and prefixes, container, image after `images:`, environment
//! variable names after strategic-merge and JSON 6902 patches) must be
//! what `kubectl kustomize` renders. Skips, saying so, where kubectl or the
//! corpus is absent.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use guard::model::containers::pod_spec;
use guard::source::{FileId, SourceFile};

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// (kind/name, container, image, env names) of every container `kubectl
/// kustomize` renders.
fn rendered(dir: &Path) -> BTreeSet<(String, String, String, String)> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl kustomize {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let file = SourceFile::new(FileId(0), "rendered.yaml".into(), dir.into(), text);
    let parsed = guard::parse::yaml::parse(&file);
    let mut set = BTreeSet::new();
    for doc in parsed.docs {
        let (Some(kind), Some(name)) = (
            doc.root.str_at(&["kind"]),
            doc.root.str_at(&["metadata", "name"]),
        ) else {
            continue;
        };
        let Some(spec) = pod_spec(kind, &doc.root) else {
            continue;
        };
        for list in ["initContainers", "containers"] {
            for c in spec.get(list).map(|n| n.as_seq()).unwrap_or(&[]) {
                let mut env: Vec<&str> = c
                    .get("env")
                    .map(|n| n.as_seq())
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|e| e.str_at(&["name"]))
                    .collect();
                env.sort_unstable();
                env.dedup();
                set.insert((
                    format!("{kind}/{name}"),
                    c.str_at(&["name"]).unwrap_or("?").to_string(),
                    c.str_at(&["image"]).unwrap_or("").to_string(),
                    env.join(","),
                ));
            }
        }
    }
    set
}

/// (kind/name, container, image, env names) of what guard renders for one
/// overlay.
fn ours(model: &guard::model::Model, overlay: &str) -> BTreeSet<(String, String, String, String)> {
    model
        .containers
        .iter()
        .filter(|c| c.overlay.as_deref() == Some(overlay))
        .map(|c| {
            (
                c.rendered_owner.clone().unwrap_or_else(|| c.owner.clone()),
                c.name.clone(),
                c.image
                    .as_ref()
                    .and_then(|i| i.as_str())
                    .unwrap_or("")
                    .to_string(),
                {
                    let mut env: Vec<&str> = c.env_vars.iter().map(|v| v.name.as_str()).collect();
                    env.sort_unstable();
                    env.dedup();
                    env.join(",")
                },
            )
        })
        .collect()
}

/// Every overlay of the tree under `dir` that kubectl can render on its
/// own (no remote bases): guard's images must be kubectl's. Returns how
/// many overlays were compared and how many kubectl could not render.
fn compare_tree(dir: &Path, shown: &str) -> (usize, usize) {
    let model = guard::load(&guard::Options {
        paths: vec![dir.to_path_buf()],
        no_policies: true,
        ..Default::default()
    })
    .expect("tree loads")
    .model;
    let overlays: BTreeSet<String> = model
        .containers
        .iter()
        .filter_map(|c| c.overlay.clone())
        .collect();
    let (mut compared, mut unrenderable) = (0, 0);
    for overlay in overlays {
        // Overlay ids are relative to the project root guard found.
        let Some(kfile) = model
            .sources
            .files()
            .iter()
            .find(|f| *f.path == *overlay)
            .map(|f| f.disk_path.clone())
        else {
            continue;
        };
        let kdir = kfile.parent().expect("a directory").to_path_buf();
        let out = Command::new("kubectl")
            .arg("kustomize")
            .arg(&kdir)
            .output()
            .expect("kubectl runs");
        if !out.status.success() {
            unrenderable += 1;
            continue;
        }
        let theirs = rendered(&kdir);
        assert_eq!(
            ours(&model, &overlay),
            theirs,
            "containers (image, env names) of {shown}: {overlay} differ from kubectl kustomize"
        );
        compared += 1;
    }
    (compared, unrenderable)
}

#[test]
fn overlay_images_match_kubectl_kustomize() {
    if !kubectl_available() {
        common::skip("kustomize_diff", "kubectl is not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (compared, _) = compare_tree(&root.join("fixtures/rules"), "fixtures/rules");
    assert!(compared >= 5, "too few overlays to compare: {compared}");
}

/// The same over every overlay of ../shared/corpus that kubectl renders
/// offline.
#[test]
fn corpus_overlay_images_match_kubectl_kustomize() {
    if !kubectl_available() {
        common::skip(
            "corpus_overlay_images_match_kubectl_kustomize",
            "kubectl is not installed",
        );
        return;
    }
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        common::skip(
            "corpus_overlay_images_match_kubectl_kustomize",
            "../shared/corpus is absent",
        );
        return;
    }
    let (compared, unrenderable) = compare_tree(&corpus, "corpus");
    eprintln!(
        "kustomize_diff: {compared} corpus overlays compared, {unrenderable} that kubectl cannot render offline"
    );
    assert!(
        compared >= 3,
        "too few corpus overlays to compare: {compared}"
    );
}
