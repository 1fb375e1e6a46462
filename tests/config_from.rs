//! `guard check --config-from REF`: the gate (guard.toml, the baseline, the
//! policies) read from a git revision, the content from the work tree.

mod common;

use common::{git, text};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const PUBLIC_DB: &str = "resource \"aws_db_instance\" \"main\" {\n  engine              = \"postgres\"\n  instance_class      = \"db.t3.micro\"\n  publicly_accessible = true\n}\n";

const POLICY: &str = "package main\n\ndeny contains msg if {\n\tinput.kind == \"Deployment\"\n\tmsg := \"no deployments\"\n}\n";

/// A repository whose `main` commit holds `base` (path, text) files; then
/// the work tree is changed by `pr` (text None: deleted), uncommitted.
fn repo(base: &[(&str, &str)], pr: &[(&str, Option<&str>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (path, body) in base {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }
    git(root, &["init", "--quiet", "--initial-branch=main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "--quiet", "--allow-empty", "-m", "base"]);
    for (path, body) in pr {
        let p = root.join(path);
        match body {
            Some(b) => {
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, b).unwrap();
            }
            None => fs::remove_file(p).unwrap(),
        }
    }
    dir
}

fn guard_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(args)
        .current_dir(dir)
        .env_remove("GUARD_CONFIG")
        .output()
        .unwrap()
}

/// The findings of a JSON report: (rule, suppressed).
fn findings(o: &Output) -> Vec<(String, bool)> {
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("json: {e}\n{}", text(o)));
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                !f["suppression"].is_null(),
            )
        })
        .collect()
}

fn counts(o: &Output, rule: &str) -> bool {
    findings(o).iter().any(|(r, s)| r == rule && !s)
}

#[test]
fn a_pull_request_that_ignores_a_rule_is_judged_by_the_base_config() {
    let dir = repo(
        &[
            ("guard.toml", "fail-on = \"error\"\n"),
            ("main.tf", PUBLIC_DB),
        ],
        &[(
            "guard.toml",
            Some("fail-on = \"error\"\nignore = [\"DB001\"]\n"),
        )],
    );
    let tree = guard_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(tree.status.code(), Some(0), "{}", text(&tree));
    assert!(!counts(&tree, "DB001"));
    let base = guard_in(
        dir.path(),
        &["check", "--format", "json", "--config-from", "main"],
    );
    assert_eq!(base.status.code(), Some(1), "{}", text(&base));
    assert!(counts(&base, "DB001"));
    let err = String::from_utf8_lossy(&base.stderr);
    assert!(err.contains("judged by main's gate"), "{err}");
}

#[test]
fn a_ref_without_guard_toml_means_the_defaults_not_the_tree_config() {
    let dir = repo(
        &[("main.tf", PUBLIC_DB)],
        &[(
            "guard.toml",
            Some("fail-on = \"never\"\nignore = [\"DB001\"]\n"),
        )],
    );
    let o = guard_in(
        dir.path(),
        &["check", "--format", "json", "--config-from", "main"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(counts(&o, "DB001"));
}

#[test]
fn the_baseline_is_the_refs() {
    // The pull request writes a baseline that accepts the public database;
    // the base has none, so the finding counts.
    let dir = repo(&[("main.tf", PUBLIC_DB)], &[]);
    let w = guard_in(dir.path(), &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(w.status.code(), Some(0), "{}", text(&w));
    let tree = guard_in(dir.path(), &["check", "--baseline", "baseline.json"]);
    assert_eq!(tree.status.code(), Some(0), "{}", text(&tree));
    let o = guard_in(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--baseline",
            "baseline.json",
            "--config-from",
            "main",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("main has no baseline.json"), "{err}");
    // Committed to the ref, it applies.
    git(dir.path(), &["add", "baseline.json"]);
    git(dir.path(), &["commit", "--quiet", "-m", "baseline"]);
    let o = guard_in(
        dir.path(),
        &[
            "check",
            "--baseline",
            "baseline.json",
            "--config-from",
            "main",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A baseline outside the project is refused, not read.
    let o = guard_in(
        dir.path(),
        &["check", "--baseline", "../x.json", "--config-from", "main"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a file inside the project"),
        "{}",
        text(&o)
    );
}

#[test]
fn the_policies_are_the_refs() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
    let dir = repo(
        &[("policies/deny.rego", POLICY), ("deploy.yaml", deployment)],
        &[("policies/deny.rego", None)],
    );
    let tree = guard_in(dir.path(), &["check", "--format", "json"]);
    assert!(!messages(&tree).iter().any(|m| m.contains("no deployments")));
    let o = guard_in(
        dir.path(),
        &["check", "--format", "json", "--config-from", "main"],
    );
    assert!(
        messages(&o).iter().any(|m| m.contains("no deployments")),
        "{}",
        text(&o)
    );
}

fn messages(o: &Output) -> Vec<String> {
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("json: {e}\n{}", text(o)));
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["message"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn inline_suppressions_of_input_safety_findings_are_not_honoured() {
    // A duplicate key (GD002) silenced by a comment in the checked file:
    // honoured when the tree is its own gate, not under --config-from. A
    // suppression of another rule still applies.
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  labels:\n    app: web\n  # guard:ignore[GD002] merged later\n  labels:\n    tier: frontend\n";
    let dir = repo(&[("cm.yaml", yaml)], &[]);
    let tree = guard_in(dir.path(), &["check", "--format", "json"]);
    let gd: Vec<(String, bool)> = findings(&tree)
        .into_iter()
        .filter(|(r, _)| r == "GD002")
        .collect();
    assert!(!gd.is_empty(), "{}", text(&tree));
    assert!(gd.iter().all(|(_, s)| *s), "{}", text(&tree));
    let o = guard_in(
        dir.path(),
        &["check", "--format", "json", "--config-from", "main"],
    );
    assert!(counts(&o, "GD002"), "{}", text(&o));
    // Not reported as an unused suppression either.
    assert!(!counts(&o, "GD007"), "{}", text(&o));

    let tf = format!("# guard:ignore[DB001] a test database\n{PUBLIC_DB}");
    let dir = repo(&[("main.tf", &tf)], &[]);
    let o = guard_in(dir.path(), &["check", "--config-from", "main"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn refs_that_look_like_options_and_unknown_refs_are_refused() {
    let dir = repo(&[("main.tf", PUBLIC_DB)], &[]);
    for bad in ["--output=x", "-p"] {
        let o = guard_in(dir.path(), &["check", &format!("--config-from={bad}")]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("not a git revision"),
            "{}",
            text(&o)
        );
    }
    let o = guard_in(dir.path(), &["check", "--config-from", "no-such-branch"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no such commit"),
        "{}",
        text(&o)
    );
    assert!(!dir.path().join("x").exists());
}

#[cfg(unix)]
#[test]
fn symbolic_links_in_the_ref_are_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("guard.toml"), "ignore = [\"DB001\"]\n").unwrap();
    fs::create_dir(outside.path().join("policies")).unwrap();
    fs::write(outside.path().join("policies/deny.rego"), POLICY).unwrap();
    let dir = repo(&[("main.tf", PUBLIC_DB)], &[]);
    let root = dir.path();
    std::os::unix::fs::symlink(outside.path().join("guard.toml"), root.join("guard.toml")).unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "--quiet", "-m", "config as a link"]);
    let o = guard_in(root, &["check", "--config-from", "main"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("symbolic link"),
        "{}",
        text(&o)
    );
    // A policy directory that is a link is not read.
    fs::remove_file(root.join("guard.toml")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("policies"), root.join("policies")).unwrap();
    fs::write(
        root.join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n",
    )
    .unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "--quiet", "-m", "policies as a link"]);
    fs::remove_file(root.join("policies")).unwrap();
    let o = guard_in(
        root,
        &["check", "--format", "json", "--config-from", "main"],
    );
    assert!(!messages(&o).iter().any(|m| m.contains("no deployments")));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("policies is a symbolic link"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_ref_config_naming_policies_outside_the_project_is_refused() {
    let dir = repo(
        &[
            ("guard.toml", "policies = [\"../elsewhere\"]\n"),
            ("main.tf", PUBLIC_DB),
        ],
        &[],
    );
    let o = guard_in(dir.path(), &["check", "--config-from", "main"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a directory inside the project"),
        "{}",
        text(&o)
    );
}

#[test]
fn explain_config_lists_what_the_tree_config_weakens() {
    let dir = repo(
        &[
            (
                "guard.toml",
                "fail-on = \"warning\"\n\n[limits]\nmax-findings = 500\n",
            ),
            ("main.tf", PUBLIC_DB),
        ],
        &[(
            "guard.toml",
            Some(
                "fail-on = \"never\"\nignore = [\"DB001\"]\nexclude = [\"legacy/**\"]\n\n[rules.BO001]\nseverity = \"note\"\n\n[limits]\nmax-findings = 0\n\n[[suppress]]\nrule = \"BO002\"\npath = \"k8s/**\"\nreason = \"later\"\n",
            ),
        )],
    );
    let o = guard_in(
        dir.path(),
        &["check", "--explain-config", "--config-from", "main"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let expected = [
        "What guard.toml weakens relative to main:guard.toml:",
        "guard.toml:1: fail-on = \"never\" lowers fail-on from warning to never",
        "guard.toml:2: ignore = [\"DB001\"] switches off DB001 (public-rds, error)",
        "guard.toml:3: exclude \"legacy/**\" leaves its files unchecked",
        "guard.toml:6: severity = \"note\" lowers BO001 (mutable-image-tag) from error to note",
        "guard.toml:9: raises max-findings to no cap (was 500)",
        "guard.toml:11: [[ignore]] suppresses BO002 in k8s/**",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected, "{out}");
    // Against the defaults, fail-on was error and max-findings 10000.
    let o = guard_in(dir.path(), &["check", "--explain-config"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("What guard.toml weakens relative to the defaults:\n"),
        "{out}"
    );
    assert!(out.contains("lowers fail-on from error to never"), "{out}");
    assert!(
        out.contains("raises max-findings to no cap (was 10000)"),
        "{out}"
    );
    // The base's own settings weaken nothing.
    git(dir.path(), &["checkout", "--quiet", "--", "guard.toml"]);
    let o = guard_in(
        dir.path(),
        &["check", "--explain-config", "--config-from", "main"],
    );
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "guard.toml weakens nothing relative to main:guard.toml\n"
    );
}
