//! Terraform evaluation of a one-directory root: the input up to the first
//! NUL byte is `main.tf`, the rest (if any) `terraform.tfvars`.
//!
//! The files' disk paths point into an empty directory (fuzz/target/terraform-root), which is
//! the evaluator's read boundary: `file()`, `templatefile()`,
//! `fileexists()` and `modules.json` look only there, so a run never reads
//! the fuzzer's own files and stays deterministic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use guard::env::EnvSet;
use guard::source::{FileId, SourceFile};
use libfuzzer_sys::fuzz_target;

fn root() -> &'static PathBuf {
    // One empty directory for every run (inside the fuzz crate's target
    // directory, so nothing is left behind in the system's temp).
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/terraform-root");
        std::fs::create_dir_all(&dir).expect("create terraform-root");
        std::fs::canonicalize(&dir).expect("canonical terraform-root")
    })
}

fn envs() -> &'static EnvSet {
    static ENVS: OnceLock<EnvSet> = OnceLock::new();
    ENVS.get_or_init(EnvSet::builtin)
}

fuzz_target!(|data: &[u8]| {
    let (main, vars) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let dir = root();
    let mut files = vec![SourceFile::new(
        FileId(0),
        "main.tf".into(),
        dir.join("main.tf"),
        String::from_utf8_lossy(main).into_owned(),
    )];
    if let Some(vars) = vars {
        files.push(SourceFile::new(
            FileId(1),
            "terraform.tfvars".into(),
            dir.join("terraform.tfvars"),
            String::from_utf8_lossy(vars).into_owned(),
        ));
    }
    let refs: Vec<&SourceFile> = files.iter().collect();
    let model = guard::terraform::evaluate(&refs, envs());
    for root in &model.roots {
        for r in &root.resources {
            std::hint::black_box(r.address());
        }
    }
    for d in &model.diags {
        if let Some(f) = files.get(d.span.file.0 as usize) {
            std::hint::black_box(f.line_col(d.span.start));
        }
    }
});
