//! The whole pipeline on a small project: the input becomes 1-3 files of a
//! fresh temporary directory (with a comment-only `guard.toml`, so it is a
//! project of its own), `guard::check` runs on it and every output format
//! is rendered.
//!
//! Input layout: the first byte picks the file names from [`NAMES`] (low
//! nibble: first file; high nibble: second; their xor with 5: third); the
//! rest is split at NUL bytes into at most 3 file contents (a third NUL and
//! anything after it stay in the third file). A name already taken moves
//! the later file under `envs/prod/` or `envs/staging/`.
//!
//! Invariants checked besides "no panic": every finding (and every related
//! location) is located on a line >= 1, and rendering the same report twice
//! gives identical bytes in every format.
#![no_main]

use std::path::Path;

use guard::render::{Format, RenderOptions, render};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 16] = [
    "deployment.yaml",
    "main.tf",
    "task-definition.json",
    "Dockerfile",
    "kustomization.yaml",
    "prod.tfvars",
    "docker-compose.prod.yml",
    ".github/workflows/ci.yml",
    "variables.tf",
    "terraform.tfvars",
    "modules/db/main.tf",
    "k8s/overlays/prod/kustomization.yaml",
    "k8s/base/deployment.yaml",
    "policy.json",
    "staging/main.tf",
    "values-prod.yaml",
];

const FORMATS: [Format; 4] = [Format::Text, Format::Json, Format::Sarif, Format::Github];

fn name_for(sel: u8, i: usize) -> &'static str {
    let lo = (sel & 0x0f) as usize;
    let hi = (sel >> 4) as usize;
    NAMES[match i {
        0 => lo,
        1 => hi,
        _ => (lo ^ hi ^ 5) & 0x0f,
    }]
}

/// `GUARD_FUZZ_VERBOSE=1`: say what each input became (for checking that
/// seeds reach the rules; never set while fuzzing).
fn verbose() -> bool {
    static V: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *V.get_or_init(|| std::env::var_os("GUARD_FUZZ_VERBOSE").is_some())
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create directory");
    }
    std::fs::write(&path, bytes).expect("write file");
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("guard-fuzz-check-")
        .tempdir()
        .expect("temporary directory");
    let root = dir.path();
    write(root, "guard.toml", b"# fuzz project\n");
    let mut used: Vec<String> = Vec::new();
    for (i, contents) in rest.splitn(3, |&b| b == 0).enumerate() {
        let mut name = name_for(sel, i).to_string();
        if used.contains(&name) {
            let prefix = if i == 1 {
                "envs/prod/"
            } else {
                "envs/staging/"
            };
            name = format!("{prefix}{name}");
        }
        write(root, &name, contents);
        used.push(name);
    }

    let opts = guard::Options {
        paths: vec![root.to_path_buf()],
        ..Default::default()
    };
    let report = match guard::check(&opts) {
        Ok(r) => r,
        // A located usage or I/O error is an answer, not a crash.
        Err(e) => {
            std::hint::black_box(e.to_string());
            return;
        }
    };
    if verbose() {
        eprintln!(
            "check: files {:?}: {} in scope, {} findings: {:?}",
            used,
            report.files_in_scope,
            report.findings.len(),
            report.findings.iter().map(|f| f.rule).collect::<Vec<_>>()
        );
    }
    for f in &report.findings {
        assert!(
            f.location.start.line >= 1,
            "finding {} located on line 0: {:?}",
            f.rule,
            f.location
        );
        for r in &f.related {
            assert!(
                r.location.start.line >= 1,
                "finding {}: related location on line 0: {:?}",
                f.rule,
                r.location
            );
        }
    }
    for format in FORMATS {
        let opts = RenderOptions::default();
        let first = render(format, &report, opts);
        let second = render(format, &report, opts);
        assert!(
            first == second,
            "rendering {format:?} twice gave different output"
        );
    }
});
