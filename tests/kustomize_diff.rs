//! Differential test against the real engine: for every top-level Kustomize
//! overlay in `fixtures/`, the images guard says each container runs must be
//! the images `kubectl kustomize` renders. Skips, saying so, where kubectl
//! is absent.

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

/// (kind/name, container, image) of every container `kubectl kustomize` renders.
fn rendered(dir: &Path) -> BTreeSet<(String, String, String)> {
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
                set.insert((
                    format!("{kind}/{name}"),
                    c.str_at(&["name"]).unwrap_or("?").to_string(),
                    c.str_at(&["image"]).unwrap_or("").to_string(),
                ));
            }
        }
    }
    set
}

#[test]
fn overlay_images_match_kubectl_kustomize() {
    if !kubectl_available() {
        common::skip("kustomize_diff", "kubectl is not installed");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = guard::load(&guard::Options {
        paths: vec![root.join("fixtures/rules")],
        excludes: vec![],
        ..Default::default()
    })
    .expect("fixtures load")
    .model;
    let overlays: BTreeSet<&str> = model
        .containers
        .iter()
        .filter_map(|c| c.overlay.as_deref())
        .collect();
    assert!(
        overlays.len() >= 5,
        "too few overlays to compare: {overlays:?}"
    );
    for overlay in overlays {
        let kdir = root.join(overlay).parent().unwrap().to_path_buf();
        let theirs = rendered(&kdir);
        let ours: BTreeSet<(String, String, String)> = model
            .containers
            .iter()
            .filter(|c| c.overlay.as_deref() == Some(overlay))
            .map(|c| {
                (
                    c.owner.clone(),
                    c.name.clone(),
                    c.image
                        .as_ref()
                        .and_then(|i| i.as_str())
                        .unwrap_or("")
                        .to_string(),
                )
            })
            .collect();
        assert_eq!(
            ours, theirs,
            "images of {overlay} differ from kubectl kustomize"
        );
    }
}
