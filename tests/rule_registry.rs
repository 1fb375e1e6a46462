//! The policy rule registry in a long-lived process: `guard::check` of a
//! project with Rego policies registers the policies' rules, which live as
//! long as the process (`&'static Rule`). Checking the same projects again
//! and again (a library user, the fuzzer) must not make new ones: memory is
//! bounded by the distinct policies seen, not by the number of checks.
//!
//! One test in its own binary: the counts are the process's.

use std::fs;
use std::path::Path;

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.25
";

fn policy(id: &str) -> String {
    format!(
        "package main

# METADATA
# title: Deployments need a team label
# custom:
#   id: {id}
#   severity: warning
deny contains msg if {{
\tinput.kind == \"Deployment\"
\tnot input.metadata.labels.team
\tmsg := \"no team label\"
}}
"
    )
}

fn project(id: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    fs::write(d.join("guard.toml"), "policies = [\"policies\"]\n").expect("write");
    fs::create_dir_all(d.join("policies")).expect("mkdir");
    fs::write(d.join("policies/team.rego"), policy(id)).expect("write");
    fs::create_dir_all(d.join("k8s")).expect("mkdir");
    fs::write(d.join("k8s/deployment.yaml"), DEPLOYMENT).expect("write");
    dir
}

fn check(root: &Path, id: &str) {
    let report = guard::check(&guard::Options {
        paths: vec![root.to_path_buf()],
        ..Default::default()
    })
    .expect("check");
    assert!(
        report.findings.iter().any(|f| f.rule == id),
        "the policy's finding {id}: {:?}",
        report.findings.iter().map(|f| f.rule).collect::<Vec<_>>()
    );
    assert!(guard::rules::find(id).is_some(), "{id} registered");
}

#[test]
fn checking_the_same_policies_again_makes_no_new_rules() {
    let (a, b) = (project("TEAM001"), project("TEAM002"));
    let before = guard::rules::interned_counts();
    check(a.path(), "TEAM001");
    let after_a = guard::rules::interned_counts();
    assert_eq!(after_a.0, before.0 + 1, "one policy rule made");
    assert_eq!(after_a.1, before.1 + 1, "one rule set made");
    for _ in 0..20 {
        check(a.path(), "TEAM001");
    }
    assert_eq!(
        guard::rules::interned_counts(),
        after_a,
        "20 more checks of the same project made new rules or rule sets"
    );
    // Another project's policy: one more rule, one more set (both projects'
    // rules, the registry keeps what was registered); then alternating
    // between them makes nothing new.
    check(b.path(), "TEAM002");
    let after_b = guard::rules::interned_counts();
    assert_eq!(after_b, (after_a.0 + 1, after_a.1 + 1));
    for _ in 0..10 {
        check(a.path(), "TEAM001");
        check(b.path(), "TEAM002");
    }
    assert_eq!(guard::rules::interned_counts(), after_b);
}
