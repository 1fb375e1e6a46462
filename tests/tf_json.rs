//! End to end: Terraform written in JSON syntax (`.tf.json`) is evaluated
//! like `.tf`, and its findings point at the JSON literal that decides
//! them. The fixtures of `fixtures/layouts/tf-json/` are checked from a
//! copy in a temporary directory, so that nothing else of the repository
//! (the SCPs of the fuzz seeds) takes part.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("fixture").flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// `guard check <side> --format json` in a copy of the fixture side.
fn check(side: &str) -> (Output, serde_json::Value) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/layouts/tf-json")
        .join(side);
    copy_dir(&fixture, &tmp.path().join(side));
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", side, "--format", "json"])
        .current_dir(tmp.path())
        .output()
        .expect("guard runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o, v)
}

fn findings<'v>(v: &'v serde_json::Value, rule: &str) -> Vec<&'v serde_json::Value> {
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == rule)
        .collect()
}

fn at(f: &serde_json::Value) -> (String, u64, u64) {
    let l = &f["location"];
    (
        l["path"].as_str().unwrap_or_default().to_string(),
        l["start"]["line"].as_u64().unwrap_or_default(),
        l["start"]["column"].as_u64().unwrap_or_default(),
    )
}

#[test]
fn public_database_in_tf_json_is_reported_at_the_json_literal() {
    let (o, v) = check("fail");
    assert_eq!(o.status.code(), Some(1), "{v:#}");
    assert_eq!(v["terraform"]["roots"], 1, "{v:#}");
    assert_eq!(v["terraform"]["notes"], serde_json::json!([]), "{v:#}");
    let db = findings(&v, "DB001");
    assert_eq!(db.len(), 2, "{v:#}");

    // Written in place: the `true` of `"publicly_accessible": true`.
    let this = db
        .iter()
        .find(|f| f["message"].as_str().unwrap_or("").contains(".this "))
        .expect("aws_db_instance.this");
    assert_eq!(at(this), ("fail/main.tf.json".to_string(), 21, 32));
    assert_eq!(this["location"]["end"]["column"], 36);

    // Through the variable: the default's `true` in variables.tf.json,
    // then the attribute of main.tf.json that reads it.
    let replica = db
        .iter()
        .find(|f| f["message"].as_str().unwrap_or("").contains(".replica "))
        .expect("aws_db_instance.replica");
    assert_eq!(at(replica), ("fail/variables.tf.json".to_string(), 7, 18));
    let related: Vec<(String, u64, u64, &str)> = replica["related"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let (p, l, c) = at(r);
            (p, l, c, r["label"].as_str().unwrap_or_default())
        })
        .collect();
    assert!(
        related.contains(&(
            "fail/main.tf.json".to_string(),
            30,
            9,
            "used by aws_db_instance.replica.publicly_accessible"
        )),
        "{related:?}"
    );
    insta::assert_json_snapshot!("tf-json-fail", v);
}

#[test]
fn clean_tf_json_twin_has_no_public_database() {
    let (_, v) = check("pass");
    assert_eq!(v["terraform"]["roots"], 1, "{v:#}");
    assert!(findings(&v, "DB001").is_empty(), "{v:#}");
    // The root was evaluated (not skipped): its provider regions are read,
    // one of them from the default in variables.tf.json.
    assert_eq!(v["terraform"]["evaluations"], 1, "{v:#}");
}

/// Rego policies see a `.tf.json` file as its JSON value (as Conftest
/// reads a `.json` file), and a result's path points into the JSON.
#[test]
fn policies_read_tf_json_as_its_json_document() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("policy")).expect("mkdir");
    std::fs::write(
        root.join("policy/p.rego"),
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  some name, db in input.resource.aws_db_instance\n  db.publicly_accessible == true\n  msg := sprintf(\"%s is public\", [name])\n}\n",
    )
    .expect("write");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/layouts/tf-json/fail"),
        &root.join("tf"),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", ".", "--select", "policy", "--format", "json"])
        .current_dir(root)
        .env_remove("GUARD_CONFIG")
        .output()
        .expect("guard runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&o.stderr));
    });
    let deny = findings(&v, "main.deny");
    assert_eq!(deny.len(), 1, "{v:#}");
    assert_eq!(deny[0]["message"], "this is public");
    assert_eq!(at(deny[0]).0, "tf/main.tf.json");
}
