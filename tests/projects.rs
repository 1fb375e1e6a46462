//! A tree that holds several git repositories is several projects: an SCP
//! of one repository does not judge the regions of another.

use std::fs;

fn write(root: &std::path::Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

const SCP: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "NotAction": ["iam:*", "sts:*", "organizations:*", "cloudfront:*", "route53:*", "support:*"],
    "Resource": "*",
    "Condition": { "StringNotEquals": { "aws:RequestedRegion": ["ap-northeast-1"] } }
  }]
}"#;

const PROVIDER: &str = "provider \"aws\" {\n  region = \"us-west-2\"\n}\n";

/// REG001 paths, without the leading temporary directory's name (a root
/// outside the current directory is shown under its own name).
fn region_findings_in(roots: &[std::path::PathBuf]) -> Vec<String> {
    let report = guard::check(&guard::Options {
        paths: roots.to_vec(),
        excludes: vec![],
        ..Default::default()
    })
    .unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.rule == "REG001")
        .map(|f| {
            let p = &f.location.path;
            p.split_once('/')
                .map_or(p.clone(), |(_, rest)| rest.to_string())
        })
        .collect()
}

fn region_findings(root: &std::path::Path) -> Vec<String> {
    region_findings_in(&[root.to_path_buf()])
}

#[test]
fn scps_judge_their_own_repository_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "org/.git/HEAD", "ref: refs/heads/main\n");
    write(d, "org/scp/regions.json", SCP);
    write(d, "org/infra/main.tf", PROVIDER);
    write(d, "other/.git/HEAD", "ref: refs/heads/main\n");
    write(d, "other/main.tf", PROVIDER);
    assert_eq!(region_findings(d), ["org/infra/main.tf"]);
}

#[test]
fn one_repository_is_one_project() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "scp/regions.json", SCP);
    write(d, "infra/main.tf", PROVIDER);
    write(d, "app/main.tf", PROVIDER);
    assert_eq!(region_findings(d), ["app/main.tf", "infra/main.tf"]);
}

#[test]
fn repositories_given_as_separate_roots_are_separate_projects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a/.git/HEAD", "ref: refs/heads/main\n");
    write(d, "a/scp/regions.json", SCP);
    write(d, "a/main.tf", PROVIDER);
    write(d, "b/.git/HEAD", "ref: refs/heads/main\n");
    write(d, "b/main.tf", PROVIDER);
    assert_eq!(
        region_findings_in(&[d.join("a"), d.join("b")]),
        ["main.tf"],
        "only a's own provider is judged by a's SCP"
    );
}

#[test]
fn same_relative_paths_under_two_roots_are_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let compose =
        |repo: &str| format!("services:\n  web:\n    image: registry.example.com/{repo}:1.0\n");
    write(d, "prod/docker-compose.yml", &compose("web-prod"));
    write(d, "staging/docker-compose.yml", &compose("web"));
    let report = guard::check(&guard::Options {
        paths: vec![d.join("prod"), d.join("staging")],
        excludes: vec![],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(report.model.stats.files, 2);
    assert!(
        report.findings.iter().any(|f| f.rule == "BO004"),
        "prod and staging compared across the two roots"
    );
}

#[test]
fn directories_above_the_checked_root_are_not_environment_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "dev/repo/compose/docker-compose.prod.yml",
        "services:\n  app:\n    build: .\n",
    );
    write(d, "dev/repo/environments/staging/main.tf", PROVIDER);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["envs", "dev/repo"])
        .current_dir(d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("docker-compose.prod.yml").starts_with("prod "),
        "{text}"
    );
    assert!(
        line("environments/staging/main.tf").starts_with("staging "),
        "{text}"
    );
}

/// A file git tracks is checked even when `.gitignore` matches it (ignore rules apply to
/// untracked files only): a pull request cannot hide a public database by ignoring its file.
/// An ignored file git does not track stays out.
#[test]
fn tracked_files_are_checked_even_when_gitignore_matches_them() {
    #[path = "common/mod.rs"]
    mod common;
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("infra");
    common::copy_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/terraform/article-layout"),
        &repo,
    );
    fs::remove_file(repo.join("guard.toml")).unwrap();
    common::git(&repo, &["init", "--quiet"]);
    common::git(&repo, &["add", "-A"]);
    common::git(&repo, &["commit", "--quiet", "-m", "infra"]);
    // Ignored after the fact: the tfvars stay tracked.
    fs::write(repo.join(".gitignore"), "*.tfvars\nscratch/\n").unwrap();
    fs::create_dir(repo.join("scratch")).unwrap();
    fs::write(repo.join("scratch/local.tfvars"), "db_public = true\n").unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--format", "concise", "--stats"])
        .arg(&repo)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("environments/prod/terraform.tfvars") && out.contains("DB001"),
        "{out}"
    );
    assert!(!out.contains("scratch/local.tfvars"), "{out}");
}

/// A suppression whose `until=` is not a date suppresses nothing, and says so as an error: the
/// gate does not guess what an unreadable expiry meant.
#[test]
fn a_suppression_with_an_invalid_until_suppresses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "guard.toml", "");
    write(
        tmp.path(),
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  # guard:ignore[SEC001] rotated next sprint until=2027-13-45\n  DB_PASSWORD: hunter2-but-longer\n",
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--format", "json"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let by_rule = |r: &str| findings.iter().find(|f| f["rule"] == r).cloned();
    let sec = by_rule("SEC001").expect("the secret is reported");
    assert!(sec["suppression"].is_null(), "{sec:#}");
    let gd = by_rule("GD007").expect("the directive is reported");
    assert_eq!(gd["severity"], "error", "{gd:#}");
    assert_eq!(o.status.code(), Some(1));
}

/// guard.toml cannot probe the machine: a `policies` path outside the project gets one answer
/// whether or not it exists.
#[test]
fn policies_outside_the_project_answer_alike_whether_or_not_they_exist() {
    let answer = |policies: &str| {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "guard.toml",
            &format!("policies = [\"{policies}\"]\n"),
        );
        write(tmp.path(), "a.yaml", "x: 1\n");
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
            .arg("check")
            .arg(tmp.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).replace(policies, "<path>")
    };
    let existing = answer("/etc");
    assert!(
        existing.contains("is not a directory inside the project"),
        "{existing}"
    );
    assert_eq!(existing, answer("/no-such-directory-here"));
    assert_eq!(existing, answer("../../../../../../../etc"));
    assert_eq!(
        existing,
        answer("../../../../../../../no-such-directory-here")
    );
}

/// A run that hits a hostile-input limit says so in its summary even when guard.toml ignores
/// GD003: a configuration cannot raise its limits and silence the line that says so.
#[test]
fn a_safety_limit_is_said_even_when_gd003_is_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "guard.toml", "ignore = [\"GD003\"]\n");
    let deep = format!("x: {}1{}\n", "[".repeat(400), "]".repeat(400));
    write(tmp.path(), "deep.yaml", &deep);
    write(tmp.path(), "ok.yaml", "a: 1\n");
    for format in ["text", "concise"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
            .args(["check", "--format", format, "--color", "never"])
            .arg(tmp.path())
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            !out.contains("GD003 deep.yaml") && !out.contains("[GD003]"),
            "{out}"
        );
        assert!(
            out.contains("1 input hit a safety limit and was not fully checked (GD003 lists it)"),
            "{format}: {out}"
        );
    }
}

/// One run keeps at most `[limits] max-findings` findings (errors first), says how many more
/// each rule had, and fails: output stays proportional to what is kept.
#[test]
fn a_run_keeps_at_most_max_findings_and_fails_past_them() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "guard.toml", "[limits]\nmax-findings = 10\n");
    for i in 0..30 {
        write(
            tmp.path(),
            &format!("cm{i:02}.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  DB_PASSWORD: hunter2-but-longer-{i}\n"
            ),
        );
    }
    let run = |format: &str, extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
            .args(["check", "--format", format, "--color", "never"])
            .args(extra)
            .arg(tmp.path())
            .output()
            .unwrap()
    };
    let o = run("json", &[]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 10);
    assert_eq!(v["summary"]["over_cap"]["SEC001"], 20, "{:#}", v["summary"]);
    assert_eq!(o.status.code(), Some(1));
    let o = run("concise", &["--fail-on", "never"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("20 findings past the run's cap of 10 were not reported (SEC001 20)"),
        "{out}"
    );
    assert_eq!(o.status.code(), Some(0), "--fail-on never is still never");
    // 0 keeps every finding.
    write(tmp.path(), "guard.toml", "[limits]\nmax-findings = 0\n");
    let v: serde_json::Value = serde_json::from_slice(&run("json", &[]).stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 30);
}

/// A nested project's guard.toml declaring an environment: checked as part of
/// the enclosing project, its settings do not apply (only the root's
/// configuration does), and guard says so instead of dropping them in silence;
/// checked on its own, they apply.
#[test]
fn a_nested_guard_toml_that_does_not_apply_is_said() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "guard.toml", "# the root\n");
    write(
        d,
        "sub/guard.toml",
        "[environments.edge]\ntier = \"prod\"\nglobs = [\"k8s/**\"]\n",
    );
    write(d, "other/guard.toml", "# only marks a project\n");
    write(
        d,
        "sub/k8s/d.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n",
    );
    let run = |paths: Vec<std::path::PathBuf>| {
        guard::check(&guard::Options {
            paths,
            ..Default::default()
        })
        .unwrap()
    };
    let root = run(vec![d.to_path_buf()]);
    assert!(
        !root.findings.iter().any(|f| f.rule == "WL005"),
        "the nested environment does not apply from the root"
    );
    let said: Vec<&String> = root
        .warnings
        .iter()
        .filter(|w| w.contains("nested project"))
        .collect();
    assert_eq!(said.len(), 1, "{:?}", root.warnings);
    assert!(
        said[0].starts_with("sub/guard.toml: ") && said[0].contains("(environments)"),
        "{}",
        said[0]
    );
    // On its own, the nested project's environment applies.
    let sub = run(vec![d.join("sub")]);
    assert!(
        sub.findings.iter().any(|f| f.rule == "WL005"),
        "WL005 in the edge (prod) environment"
    );
}
