//! A root that selects its settings by `terraform.workspace`
//! (`fixtures/layouts/workspaces/{fail,pass}`) is evaluated once per
//! workspace whose name is an environment, and its values agree with
//! `terraform console` in that workspace.

mod common;

use common::{guard, stdout, untimed};
use std::path::Path;
use std::process::{Command, Stdio};

const FAIL: &str = "fixtures/layouts/workspaces/fail";
const PASS: &str = "fixtures/layouts/workspaces/pass";

#[test]
fn each_workspace_is_an_environment() {
    let o = guard(&["check", FAIL, "--color", "never"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    insta::assert_snapshot!("workspaces-fail-text", untimed(&stdout(&o)));
    let o = guard(&["check", FAIL, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let rules: Vec<(String, String)> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["environments"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            ("PAR001".to_string(), r#"["staging"]"#.to_string()),
            ("DB001".to_string(), r#"["prod"]"#.to_string()),
        ]
    );
    let o = guard(&["envs", FAIL]);
    insta::assert_snapshot!("workspaces-envs", stdout(&o));
}

#[test]
fn the_clean_twin_passes() {
    let o = guard(&["check", PASS, "--color", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

/// guard's root locals in each workspace against `terraform console` after
/// `terraform workspace new NAME` (in a copy holding only the locals: the
/// resource needs a provider this machine cannot download).
#[test]
fn workspace_values_agree_with_terraform_console() {
    let tf = std::env::var("TERRAFORM").unwrap_or_else(|_| "terraform".into());
    if Command::new(&tf)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        common::skip("workspace differential test", &format!("`{tf}` not found"));
        return;
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(FAIL)
        .join("main.tf");
    let text = std::fs::read_to_string(&src).expect("fixture");
    let locals_only = &text[..text.find("resource ").expect("a resource")];
    let names = ["s", "instance_class", "multi_az", "identifier"];

    let file = guard::source::SourceFile::new(
        guard::source::FileId(0),
        "main.tf".into(),
        src.clone(),
        text.clone(),
    );
    let m = guard::terraform::evaluate(&[&file], &guard::env::EnvSet::builtin());
    let mut compared = 0;
    for ws in ["staging", "prod"] {
        let tmp = tempfile::tempdir().expect("tempdir");
        std::fs::write(tmp.path().join("main.tf"), locals_only).expect("write");
        let run = |args: &[&str]| {
            Command::new(&tf)
                .args(args)
                .current_dir(tmp.path())
                .env("CHECKPOINT_DISABLE", "1")
                .env("TF_IN_AUTOMATION", "1")
                .output()
                .expect("terraform runs")
        };
        let init = run(&["init", "-input=false", "-no-color"]);
        assert!(
            init.status.success(),
            "{}",
            String::from_utf8_lossy(&init.stderr)
        );
        let new = run(&["workspace", "new", "-no-color", ws]);
        assert!(
            new.status.success(),
            "{}",
            String::from_utf8_lossy(&new.stderr)
        );
        let mut child = Command::new(&tf)
            .args(["console", "-no-color"])
            .current_dir(tmp.path())
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("console");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            let list: Vec<String> = names.iter().map(|n| format!("local.{n}")).collect();
            writeln!(stdin, "jsonencode([{}])", list.join(", ")).expect("write");
        }
        let out = child.wait_with_output().expect("console output");
        let line = String::from_utf8_lossy(&out.stdout)
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default()
            .to_string();
        let unq: String = serde_json::from_str(&line).expect("an HCL string");
        let expected: Vec<serde_json::Value> = serde_json::from_str(&unq).expect("json");

        let root = m
            .roots
            .iter()
            .find(|r| r.workspace.as_deref() == Some(ws))
            .unwrap_or_else(|| panic!("no evaluation in workspace {ws}"));
        assert_eq!(root.assignment.label(), ws);
        for (name, want) in names.iter().zip(&expected) {
            let got = root
                .locals
                .iter()
                .find(|l| l.name == *name && l.module_path.is_empty())
                .map(|l| l.value.to_json())
                .unwrap_or(serde_json::Value::Null);
            assert_eq!(&got, want, "local.{name} in workspace {ws}");
            compared += 1;
        }
    }
    eprintln!(
        "workspace differential: {compared} values compared with terraform console, 0 mismatches"
    );
}

/// A map a workspace selects from that lacks one workspace's key: a
/// located GD009 in that workspace (Terraform would fail there), the other
/// workspace still checked.
#[test]
fn a_workspace_map_without_the_key_is_located() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("guard.toml"), "").expect("write");
    std::fs::write(
        tmp.path().join("main.tf"),
        r#"locals {
  public = {
    staging = false
    prod    = true
  }
  sizes = {
    prod = "db.r6g.large"
  }
}

resource "aws_db_instance" "this" {
  instance_class      = local.sizes[terraform.workspace]
  allocated_storage   = lookup({ prod = 100 }, terraform.workspace)
  publicly_accessible = local.public[terraform.workspace]
}
"#,
    )
    .expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", ".", "--format", "json"])
        .current_dir(tmp.path())
        .output()
        .expect("guard runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let found: Vec<(String, i64, String)> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let rule = f["rule"].as_str().unwrap_or_default().to_string();
            // A diagnostic names its workspace in the message.
            let env = if rule == "GD009" {
                f["message"].as_str().unwrap_or_default().to_string()
            } else {
                f["environments"].to_string()
            };
            (
                rule,
                f["location"]["start"]["line"].as_i64().unwrap_or(0),
                env,
            )
        })
        .collect();
    let missing = "in workspace `staging` this map has no key `staging` (Terraform would fail here), so what depends on it was not checked in that workspace";
    assert!(
        found.contains(&("GD009".into(), 12, missing.into())),
        "{v:#}"
    );
    assert!(
        found.contains(&("GD009".into(), 13, missing.into())),
        "{v:#}"
    );
    assert!(
        found.contains(&("DB001".into(), 4, r#"["prod"]"#.into())),
        "{v:#}"
    );
    assert_eq!(found.iter().filter(|f| f.0 == "GD009").count(), 2, "{v:#}");
}
