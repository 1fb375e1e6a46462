//! Rego policies: the input is a policy file, loaded and evaluated by
//! `guard::check` on a small project (a Deployment and a ConfigMap) with
//! guard's policy limits on: recursion and deep nesting refused at load,
//! `numbers.range` capped, and a short time limit per evaluation
//! (`GUARD_POLICY_TIMEOUT_MS=200`) and for the run (`GUARD_POLICY_BUDGET_S=2`),
//! so that a slow policy is an answer, not a libFuzzer timeout.
//!
//! Input layout: `package main\n` is prepended unless the input starts with
//! `package`. A refused or failing policy is an error or a GD008 finding,
//! both fine; only a panic (or an abort) is a crash.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    team: a\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n";
const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  LOG_LEVEL: info\n  n: \"3\"\n";

fn write(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create directory");
    }
    std::fs::write(&path, bytes).expect("write file");
}

fn limits() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: set once, before any thread of this process reads them.
        unsafe {
            std::env::set_var("GUARD_POLICY_TIMEOUT_MS", "200");
            std::env::set_var("GUARD_POLICY_BUDGET_S", "2");
        }
    });
}

fuzz_target!(|data: &[u8]| {
    limits();
    let dir = tempfile::Builder::new()
        .prefix("guard-fuzz-rego-")
        .tempdir()
        .expect("temporary directory");
    let root = dir.path();
    write(root, "guard.toml", b"policies = [\"policies\"]\n");
    write(root, "k8s/deployment.yaml", DEPLOYMENT.as_bytes());
    write(root, "k8s/configmap.yaml", CONFIGMAP.as_bytes());
    let mut policy = Vec::with_capacity(data.len() + 13);
    if !data.starts_with(b"package") {
        policy.extend_from_slice(b"package main\n");
    }
    policy.extend_from_slice(data);
    write(root, "policies/p.rego", &policy);
    let opts = guard::Options {
        paths: vec![root.to_path_buf()],
        ..Default::default()
    };
    match guard::check(&opts) {
        Ok(report) => {
            for f in &report.findings {
                assert!(f.location.start.line >= 1, "{} on line 0", f.rule);
            }
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
});
