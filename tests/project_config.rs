//! The project and its configuration, end to end through the binary: scope
//! from anywhere in the project, guard.toml (environments as data, rule
//! selection, regions, errors), suppressions, baselines, `guard init`, and
//! the environments every finding carries.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn guard_in(dir: &Path, args: &[&str]) -> Run {
    // These trees are about configuration and scope, not the workload or
    // hardening baselines (which most of their files would trip).
    let mut args = args.to_vec();
    if args.first() == Some(&"check") {
        args.extend(["--ignore", "workload", "--ignore", "hardening"]);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(&args)
        .current_dir(dir)
        .env_remove("GUARD_CONFIG")
        .env("GUARD_TODAY", "2026-11-29")
        .output()
        .unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn json_in(dir: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let r = guard_in(dir, &a);
    assert!(r.code == 0 || r.code == 1, "exit {}: {}", r.code, r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The findings of one rule.
fn of<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// (rule, path, line) of every counting finding.
fn keys(v: &Value) -> Vec<(String, String, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["suppression"].is_null())
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A copy of a fixture tree in a temporary git work tree.
fn repo_with(fixture: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture), &root);
    // The fixture's guard.toml marks it as a project inside this
    // repository; in the copy, the git work tree is the project.
    let _ = fs::remove_file(root.join("guard.toml"));
    fs::create_dir_all(root.join(".git")).unwrap();
    (dir, root)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn a_subdirectory_a_file_and_a_file_list_see_the_whole_project() {
    let (_d, root) = repo_with("fixtures/terraform/article-layout");
    let whole = keys(&json_in(&root, &["check"]));
    let in_prod: Vec<_> = whole
        .iter()
        .filter(|(_, p, _)| p.starts_with("environments/prod/"))
        .cloned()
        .collect();
    assert!(
        in_prod.iter().any(|(r, _, _)| r == "DB001"),
        "the public database of prod: {whole:?}"
    );
    // From the subdirectory: the local module ../../modules/rds is read.
    let prod_dir = root.join("environments/prod");
    let sub = keys(&json_in(&prod_dir, &["check"]));
    let sub_as_root: Vec<_> = sub
        .iter()
        .map(|(r, p, l)| (r.clone(), format!("environments/prod/{p}"), *l))
        .collect();
    assert_eq!(sub_as_root, in_prod, "cd environments/prod && guard check");
    // The directory typed from the root, and its absolute path.
    assert_eq!(
        keys(&json_in(&root, &["check", "environments/prod"])),
        in_prod
    );
    let abs = prod_dir.to_string_lossy().into_owned();
    let from_abs = keys(&json_in(&root, &["check", &abs]));
    assert_eq!(from_abs, in_prod, "an absolute path is the same scope");
    // One file, and a pre-commit style list of files.
    let one = keys(&json_in(
        &root,
        &["check", "environments/prod/terraform.tfvars"],
    ));
    assert_eq!(
        one,
        in_prod
            .iter()
            .filter(|(_, p, _)| p.ends_with("terraform.tfvars"))
            .cloned()
            .collect::<Vec<_>>()
    );
    let list = keys(&json_in(
        &root,
        &[
            "check",
            "environments/prod/terraform.tfvars",
            "environments/prod/main.tf",
        ],
    ));
    assert_eq!(list, in_prod);
    // --no-project: just the paths given; the module is not read.
    let alone = keys(&json_in(&prod_dir, &["check", "--no-project"]));
    assert!(
        !alone.iter().any(|(r, _, _)| r == "DB001"),
        "without the project the module is outside: {alone:?}"
    );
}

#[test]
fn qa_uat_and_two_prods_from_guard_toml_are_evaluated_per_environment() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "guard.toml",
        r#"
[environments]
order = ["dev", "qa", "uat", "staging", "prod-eu", "prod-us"]

[environments.prod-eu]
tier = "prod"
globs = ["infra/eu/**"]

[environments.prod-us]
tier = "prod"
var-files = ["infra/shared/us.tfvars"]
"#,
    );
    let module = "variable \"public\" { default = false }\nresource \"aws_db_instance\" \"db\" {\n  engine              = \"postgres\"\n  publicly_accessible = var.public\n}\n";
    write(d, "modules/db/main.tf", module);
    for env in ["qa", "uat"] {
        write(
            d,
            &format!("envs/{env}/main.tf"),
            "module \"db\" {\n  source = \"../../modules/db\"\n  public = true\n}\n",
        );
    }
    write(
        d,
        "infra/eu/main.tf",
        "module \"db\" {\n  source = \"../../modules/db\"\n  public = true\n}\n",
    );
    write(
        d,
        "infra/shared/main.tf",
        "variable \"public\" {}\nmodule \"db\" {\n  source = \"../../modules/db\"\n  public = var.public\n}\n",
    );
    write(d, "infra/shared/us.tfvars", "public = true\n");
    let envs = guard_in(d, &["envs"]);
    assert_eq!(envs.code, 0, "{}", envs.stderr);
    for (needle, env) in [
        ("envs/qa", "qa"),
        ("envs/uat", "uat"),
        ("infra/eu", "prod-eu"),
        ("infra/shared", "prod-us"),
    ] {
        assert!(
            envs.stdout
                .lines()
                .any(|l| l.contains(needle) && l.trim_start().starts_with(env)),
            "{needle} is {env}:\n{}",
            envs.stdout
        );
    }
    let v = json_in(d, &["check"]);
    let db: Vec<&Value> = of(&v, "DB001");
    let mut found: Vec<Vec<String>> = db
        .iter()
        .map(|f| {
            f["environments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            vec!["prod-eu".to_string()],
            vec!["prod-us".to_string()],
            vec!["qa".to_string()],
            vec!["uat".to_string()],
        ],
        "{db:#?}"
    );
    // --env keeps what holds in that environment.
    let only = json_in(d, &["check", "--env", "prod-us"]);
    let rules: Vec<_> = keys(&only);
    assert_eq!(rules.len(), 1, "{rules:?}");
    assert_eq!(rules[0].1, "infra/shared/us.tfvars");
    assert_eq!(guard_in(d, &["check", "--env", "nowhere"]).code, 2);
}

#[test]
fn a_finding_in_a_production_directory_names_prod_in_json_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    for env in ["production", "staging"] {
        write(
            d,
            &format!("envs/{env}/variables.tf"),
            "variable \"db_password\" {\n  type = string\n}\n",
        );
        write(
            d,
            &format!("envs/{env}/main.tf"),
            "resource \"aws_db_instance\" \"db\" {\n  engine   = \"postgres\"\n  password = var.db_password\n}\n",
        );
    }
    let v = json_in(d, &["check"]);
    let prod: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["rule"] == "SEC004" && f["location"]["path"] == "envs/production/variables.tf"
        })
        .collect();
    assert!(!prod.is_empty(), "{v:#}");
    for f in &prod {
        assert_eq!(f["environments"], serde_json::json!(["prod"]), "{f:#}");
    }
    let sarif: Value =
        serde_json::from_str(&guard_in(d, &["check", "--format", "sarif"]).stdout).unwrap();
    let res: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                == "envs/production/variables.tf"
        })
        .collect();
    assert!(!res.is_empty());
    for r in res {
        assert_eq!(r["properties"]["environments"], serde_json::json!(["prod"]));
    }
}

const TWO_IMAGES: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: ads
          image: adservice  # guard:ignore[BO001] skaffold sets the tag at deploy time
        - name: web
          image: nginx:latest
";

#[test]
fn an_in_source_suppression_silences_exactly_its_finding() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    write(d, "k8s/deployment.yaml", TWO_IMAGES);
    let v = json_in(d, &["check"]);
    let bo: Vec<&Value> = of(&v, "BO001");
    assert_eq!(bo.len(), 2);
    let suppressed: Vec<_> = bo.iter().filter(|f| !f["suppression"].is_null()).collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["location"]["start"]["line"], 10);
    assert_eq!(suppressed[0]["suppression"]["kind"], "in-source");
    assert_eq!(
        suppressed[0]["suppression"]["reason"],
        "skaffold sets the tag at deploy time"
    );
    assert_eq!(v["summary"]["suppressed"], 1);
    assert_eq!(v["summary"]["errors"], 1, "only the other image counts");
    // SARIF carries it as an accepted in-source suppression.
    let sarif: Value =
        serde_json::from_str(&guard_in(d, &["check", "--format", "sarif"]).stdout).unwrap();
    let with: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(with.len(), 1);
    let s = &with[0]["suppressions"][0];
    assert_eq!(s["kind"], "inSource");
    assert_eq!(s["status"], "accepted");
    assert_eq!(s["justification"], "skaffold sets the tag at deploy time");
    // Text shows the count, not the finding; audit mode shows it.
    let text = guard_in(d, &["check", "--color", "never"]);
    assert!(!text.stdout.contains("adservice"), "{}", text.stdout);
    assert!(
        text.stdout.contains("1 finding suppressed"),
        "{}",
        text.stdout
    );
    let audit = json_in(d, &["check", "--no-suppressions"]);
    assert_eq!(audit["summary"]["errors"], 2);
    assert_eq!(audit["summary"]["suppressed"], 0);
}

#[test]
fn configured_suppressions_rules_severities_and_regions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "k8s/deployment.yaml",
        &TWO_IMAGES.replace(
            "  # guard:ignore[BO001] skaffold sets the tag at deploy time",
            "",
        ),
    );
    write(
        d,
        "terraform/prod/main.tf",
        "provider \"aws\" {\n  region = \"us-west-2\"\n}\n",
    );
    write(
        d,
        "guard.toml",
        r#"fail-on = "warning"

[rules.BO001]
severity = "warning"

[regions]
allowed = ["ap-northeast-1"]

[[ignore]]
path = "k8s/**"
rules = ["mutable-image-tag"]
environment = "prod"
reason = "never matches: the deployment is in no environment"

[[ignore]]
path = "k8s/deployment.yaml"
rule = "BO001"
reason = "vendored manifest, tags set by the vendor's installer"
"#,
    );
    let v = json_in(d, &["check"]);
    let fs: &Vec<Value> = v["findings"].as_array().unwrap();
    let bo: Vec<&Value> = fs.iter().filter(|f| f["rule"] == "BO001").collect();
    assert_eq!(bo.len(), 2);
    for f in &bo {
        assert_eq!(f["severity"], "warning", "[rules.BO001] severity");
        assert_eq!(f["suppression"]["kind"], "external");
        assert_eq!(f["suppression"]["location"]["path"], "guard.toml");
        assert_eq!(f["suppression"]["location"]["start"]["line"], 15);
    }
    // The first [[ignore]] matched nothing: reported at its line.
    let unused: Vec<&Value> = fs.iter().filter(|f| f["rule"] == "GD007").collect();
    assert_eq!(unused.len(), 1, "{fs:#?}");
    assert_eq!(unused[0]["location"]["path"], "guard.toml");
    assert_eq!(unused[0]["location"]["start"]["line"], 9);
    // [regions] overrides SCPs: us-west-2 is reported in prod, pointing at guard.toml.
    let reg: Vec<&Value> = fs.iter().filter(|f| f["rule"] == "REG001").collect();
    assert_eq!(reg.len(), 1);
    assert!(
        reg[0]["message"]
            .as_str()
            .unwrap()
            .contains("not allowed by guard.toml")
    );
    assert_eq!(reg[0]["related"][0]["location"]["path"], "guard.toml");
    // fail-on = "warning" from the file; the command line wins.
    assert_eq!(guard_in(d, &["check", "--ignore", "REG001,GD007"]).code, 0);
    let w = guard_in(d, &["check", "--select", "GD007,BO001"]);
    assert_eq!(w.code, 1, "a warning fails with fail-on = warning");
    assert_eq!(
        guard_in(
            d,
            &["check", "--select", "GD007,BO001", "--fail-on", "error"]
        )
        .code,
        0
    );
    // A suppression of a rule that is switched off is not "unused".
    let off = json_in(d, &["check", "--select", "GD007"]);
    assert!(keys(&off).is_empty(), "{off:#}");
    // --select by family.
    let only = json_in(d, &["check", "--select", "regions"]);
    assert!(keys(&only).iter().all(|(r, _, _)| r == "REG001"));
    assert_eq!(guard_in(d, &["check", "--select", "nope"]).code, 2);
}

#[test]
fn unknown_keys_and_bad_values_fail_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "k8s/deployment.yaml", TWO_IMAGES);
    write(
        d,
        "guard.toml",
        "fail-on = \"error\"\nexlude = [\"x\"]\n\n[environments.qa]\ntier = \"production\"\n",
    );
    let r = guard_in(d, &["check"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "guard.toml:2:1: unknown key `exlude` at the top level (did you mean `exclude`?)"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("guard.toml:5:8: "), "{}", r.stderr);
    // --config names another file; GUARD_CONFIG too.
    write(d, "other.toml", "[rules.BO001]\nseverity = \"off\"\n");
    let v = json_in(d, &["check", "--config", "other.toml"]);
    assert!(keys(&v).iter().all(|(r, _, _)| r != "BO001"));
}

/// `--baseline` and `--write-baseline` with paths judge only the entries of
/// those paths: another directory's entries are neither "fixed" nor
/// dropped; `--write-baseline` says what it did and exits 0.
#[test]
fn a_baseline_with_paths_judges_only_their_entries() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    let latest = "services:\n  app:\n    image: registry.example.com/app:latest\n";
    write(d, "envs/dev/docker-compose.yml", latest);
    write(d, "envs/prod/docker-compose.yml", latest);
    let entries = || -> Vec<String> {
        let b: Value =
            serde_json::from_str(&fs::read_to_string(d.join("b.json")).unwrap()).unwrap();
        b["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap().to_string())
            .collect()
    };
    let w = guard_in(d, &["check", "--write-baseline", "b.json"]);
    assert_eq!(
        w.code, 0,
        "findings or not, writing a baseline passes: {}",
        w.stderr
    );
    assert!(
        w.stderr.contains(
            "guard: baseline b.json: 2 entries written (2 new, 0 kept, 0 removed as fixed)"
        ),
        "{}",
        w.stderr
    );
    assert_eq!(
        entries(),
        [
            "envs/dev/docker-compose.yml",
            "envs/prod/docker-compose.yml"
        ]
    );
    // Checking dev alone: prod's entry is not "fixed", dev's is baselined.
    let v = json_in(d, &["check", "envs/dev", "--baseline", "b.json"]);
    assert_eq!(v["summary"]["baselined"], 1, "{v:#}");
    assert_eq!(v["summary"]["baseline_fixed"], 0, "{v:#}");
    // dev fixed, its baseline rewritten: prod's entry stays.
    write(
        d,
        "envs/dev/docker-compose.yml",
        "services:\n  app:\n    image: registry.example.com/app:1.2.3\n",
    );
    let v = json_in(d, &["check", "envs/dev", "--baseline", "b.json"]);
    assert_eq!(v["summary"]["baseline_fixed"], 1, "{v:#}");
    let w = guard_in(d, &["check", "envs/dev", "--write-baseline", "b.json"]);
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(
        w.stderr.contains(
            "guard: baseline b.json: 1 entry written (0 new, 1 kept, 1 removed as fixed)"
        ),
        "{}",
        w.stderr
    );
    assert_eq!(entries(), ["envs/prod/docker-compose.yml"]);
    // Refreshing the baseline it reads keeps what that baseline holds.
    let w = guard_in(
        d,
        &[
            "check",
            "--baseline",
            "b.json",
            "--write-baseline",
            "b.json",
        ],
    );
    assert_eq!(w.code, 0, "{}", w.stderr);
    assert!(
        w.stderr.contains("(0 new, 1 kept, 0 removed as fixed)"),
        "{}",
        w.stderr
    );
    assert_eq!(entries(), ["envs/prod/docker-compose.yml"]);
}

/// Every configuration error in one round: guard.toml's value errors and
/// its misspelt rule keys together (before, a bad `fail-on` hid them until
/// it was fixed), then the command line's, each with a "did you mean".
#[test]
fn every_configuration_error_in_one_round_with_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    write(d, "envs/prod/main.tf", "locals {}\n");
    write(
        d,
        "guard.toml",
        "select = [\"BO01\"]\nignore = [\"mutable-image-tg\"]\nfail-on = \"eror\"\n[rules.SEC02]\nseverity = \"warning\"\n",
    );
    let r = guard_in(
        d,
        &[
            "check",
            "--select",
            "BO01,secrts",
            "--extend-select",
            "hardning",
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "guard: guard.toml:1:11: no rule, rule name or family `BO01` (did you mean `BO001`?); `guard rules` lists them",
            "guard.toml:2:11: no rule, rule name or family `mutable-image-tg` (did you mean `mutable-image-tag`?); `guard rules` lists them",
            "guard.toml:3:11: `fail-on` must be one of \"error\", \"warning\", \"note\", \"never\"",
            "guard.toml:4:8: no rule, rule name or family `SEC02` (did you mean `SEC002`?); `guard rules` lists them",
            "--select: no rule, rule name or family `BO01` (did you mean `BO001`?); `guard rules` lists them",
            "--select: no rule, rule name or family `secrts` (did you mean `secrets`?); `guard rules` lists them",
            "--extend-select: no rule, rule name or family `hardning` (did you mean `hardening`?); `guard rules` lists them",
        ]
    );
    // A valid guard.toml: the command line's keys, all of them.
    fs::remove_file(d.join("guard.toml")).unwrap();
    let r = guard_in(d, &["check", "--ignore", "mutable-image-tg,SEC02"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`SEC02` (did you mean `SEC002`?)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_baseline_leaves_only_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    write(d, "k8s/deployment.yaml", TWO_IMAGES);
    write(
        d,
        "compose/docker-compose.prod.yml",
        "services:\n  app:\n    build: .\n",
    );
    let base = d.join("guard-baseline.json");
    let w = guard_in(d, &["check", "--write-baseline", "guard-baseline.json"]);
    // Writing a baseline accepts the findings: exit 0.
    assert_eq!(w.code, 0, "{}", w.stderr);
    let text = fs::read_to_string(&base).unwrap();
    let b: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(b["findings"].as_array().unwrap().len(), 2);
    // Sorted, one entry per line: merges cleanly.
    assert_eq!(text.lines().count(), 5 + 2);
    let v = json_in(d, &["check", "--baseline", "guard-baseline.json"]);
    assert!(keys(&v).is_empty(), "{v:#}");
    assert_eq!(v["summary"]["baselined"], 2);
    assert_eq!(
        guard_in(d, &["check", "--baseline", "guard-baseline.json"]).code,
        0
    );
    // Lines move (a comment on top, reindented), one violation is added.
    let reindented = TWO_IMAGES
        .replace("        - ", "      - ")
        .replace("          image", "        image");
    let moved =
        format!("# the shop\n{reindented}      - name: cache\n        image: redis:latest\n");
    write(d, "k8s/deployment.yaml", &moved);
    let v = json_in(d, &["check", "--baseline", "guard-baseline.json"]);
    let k = keys(&v);
    assert_eq!(k.len(), 1, "only the new finding: {k:?}");
    assert_eq!(
        k[0],
        ("BO001".to_string(), "k8s/deployment.yaml".to_string(), 15)
    );
    // Fixing one baselined finding: the entry is counted as fixed.
    write(
        d,
        "compose/docker-compose.prod.yml",
        "services:\n  app:\n    image: registry.example.com/app:1.2.3\n",
    );
    let v = json_in(d, &["check", "--baseline", "guard-baseline.json"]);
    assert_eq!(v["summary"]["baseline_fixed"], 1);
    let t = guard_in(
        d,
        &[
            "check",
            "--baseline",
            "guard-baseline.json",
            "--color",
            "never",
        ],
    );
    assert!(
        t.stdout.contains("1 entry of the baseline fixed since"),
        "{}",
        t.stdout
    );
}

/// `guard init DIR` writes paths relative to DIR (the project root), not
/// prefixed with DIR's name; in a subdirectory of a project it names the
/// root and writes nothing, unless `--force`.
#[test]
fn guard_init_writes_root_relative_paths_and_finds_the_enclosing_project() {
    let (d, root) = repo_with("fixtures/article");
    let r = guard_in(d.path(), &["init", "repo"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = fs::read_to_string(root.join("guard.toml")).unwrap();
    assert!(
        text.lines()
            .any(|l| l == "#   terraform/environments/prod: prod"),
        "{text}"
    );
    assert!(!text.contains("repo/"), "{text}");
    // In a subdirectory of the git work tree: the root is named, nothing written.
    fs::remove_file(root.join("guard.toml")).unwrap();
    let sub = root.join("terraform");
    let r = guard_in(&sub, &["init"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let canonical = fs::canonicalize(&root).unwrap();
    assert!(
        r.stderr.contains(&format!(
            "inside the project at {} (the git work tree's root)",
            canonical.display()
        )) && r
            .stderr
            .contains(&format!("run `guard init {}`", canonical.display())),
        "{}",
        r.stderr
    );
    assert!(!sub.join("guard.toml").exists());
    // Below a directory holding guard.toml (no git): the same.
    let plain = tempfile::tempdir().unwrap();
    write(plain.path(), "guard.toml", "fail-on = \"error\"\n");
    write(plain.path(), "envs/prod/main.tf", "locals {}\n");
    let r = guard_in(&plain.path().join("envs"), &["init"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("(it holds guard.toml)"), "{}", r.stderr);
    // --force starts a project of its own there.
    let r = guard_in(&sub, &["init", "--force"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(sub.join("guard.toml").exists());
}

#[test]
fn guard_init_writes_a_file_check_accepts_and_never_overwrites() {
    let (_d, root) = repo_with("fixtures/article");
    let r = guard_in(&root, &["init"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = fs::read_to_string(root.join("guard.toml")).unwrap();
    assert!(
        text.contains("order = [\"dev\", \"staging\", \"prod\"]"),
        "{text}"
    );
    assert!(text.contains("ap-northeast-1"), "the SCP's regions: {text}");
    assert!(text.contains("terraform/environments/prod: prod"), "{text}");
    let c = guard_in(&root, &["check", "--fail-on", "never"]);
    assert_eq!(c.code, 0, "{}", c.stderr);
    let again = guard_in(&root, &["init"]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"));
    // `guard config` says where each setting came from.
    let cfg = guard_in(&root, &["config"]);
    assert_eq!(cfg.code, 0, "{}", cfg.stderr);
    assert!(
        cfg.stdout.contains("configuration: guard.toml"),
        "{}",
        cfg.stdout
    );
    assert!(
        cfg.stdout.contains("fail-on: error  (guard.toml:"),
        "{}",
        cfg.stdout
    );
}

#[test]
fn the_pod_security_version_is_shown_with_where_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    let cfg = guard_in(d, &["config"]);
    assert!(
        cfg.stdout
            .contains("pod security standards: Kubernetes v1.37  (default: latest)"),
        "{}",
        cfg.stdout
    );
    write(
        d,
        "guard.toml",
        "[hardening]\npod-security = { prod = \"restricted\", dev = \"off\" }\npod-security-version = \"v1.29\"\n",
    );
    let cfg = guard_in(d, &["config"]);
    assert_eq!(cfg.code, 0, "{}", cfg.stderr);
    assert!(
        cfg.stdout
            .contains("pod security standards: Kubernetes v1.29  (guard.toml:3)"),
        "{}",
        cfg.stdout
    );
    assert!(
        cfg.stdout
            .contains("profiles: dev off, staging baseline, prod restricted  (guard.toml:2)"),
        "{}",
        cfg.stdout
    );
    // A release guard does not know is an error at its line.
    write(
        d,
        "guard.toml",
        "[hardening]\npod-security-version = \"v1.40\"\n",
    );
    let bad = guard_in(d, &["config"]);
    assert_eq!(bad.code, 2, "{}", bad.stdout);
    assert!(bad.stderr.contains("guard.toml:2:"), "{}", bad.stderr);
}

#[test]
fn an_empty_directory_is_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let r = guard_in(dir.path(), &["check"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no file was checked"), "{}", r.stderr);
    assert_eq!(guard_in(dir.path(), &["check", "--allow-empty"]).code, 0);
}

#[test]
fn a_base_line_rendered_by_three_overlays_is_one_finding_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join(".git")).unwrap();
    write(
        d,
        "k8s/base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:latest\n",
    );
    write(
        d,
        "k8s/base/kustomization.yaml",
        "resources:\n  - deployment.yaml\n",
    );
    for env in ["dev", "staging", "prod"] {
        write(
            d,
            &format!("k8s/overlays/{env}/kustomization.yaml"),
            "resources:\n  - ../../base\n",
        );
    }
    let v = json_in(d, &["check"]);
    let bo: Vec<&Value> = of(&v, "BO001");
    assert_eq!(bo.len(), 1, "{bo:#?}");
    assert_eq!(
        bo[0]["environments"],
        serde_json::json!(["dev", "staging", "prod"])
    );
    // --env keeps it for any of them.
    assert_eq!(keys(&json_in(d, &["check", "--env", "staging"])).len(), 1);
}

#[test]
fn configured_workspaces_evaluate_a_root_once_per_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "guard.toml",
        "[environments.dev]\nworkspaces = [\"dev\"]\n\n[environments.prod]\nworkspaces = [\"prod\"]\n",
    );
    write(
        d,
        "infra/main.tf",
        "resource \"aws_db_instance\" \"db\" {\n  engine              = \"postgres\"\n  publicly_accessible = terraform.workspace == \"prod\"\n}\n",
    );
    let v = json_in(d, &["check"]);
    let db: Vec<&Value> = of(&v, "DB001");
    assert_eq!(db.len(), 1, "{v:#}");
    assert_eq!(db[0]["environments"], serde_json::json!(["prod"]));
    let envs = guard_in(d, &["envs"]);
    assert!(envs.stdout.contains("workspaces `prod`"), "{}", envs.stdout);
}

#[test]
fn classification_does_not_depend_on_how_the_path_was_typed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    fs::create_dir_all(root.join(".git")).unwrap();
    write(
        &root,
        "organizations/scp/deny-regions.json",
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
  "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["ap-northeast-1"]}}}]}"#,
    );
    write(
        &root,
        "ecs/task-definition.json",
        r#"{"family": "app", "containerDefinitions": [{"name": "app", "image": "registry.example.com/app:1.2.3",
  "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-region": "us-west-2"}}}]}"#,
    );
    let norm = |v: &Value| {
        let mut k: Vec<(String, String, u64, String)> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_string(),
                    f["location"]["path"]
                        .as_str()
                        .unwrap()
                        .trim_start_matches("repo/")
                        .to_string(),
                    f["location"]["start"]["line"].as_u64().unwrap(),
                    f["fingerprint"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        k.sort();
        k
    };
    let here = norm(&json_in(&root, &["check"]));
    assert!(here.iter().any(|(r, _, _, _)| r == "SCP002"), "{here:?}");
    assert!(here.iter().any(|(r, _, _, _)| r == "REG001"), "{here:?}");
    let from_parent = norm(&json_in(dir.path(), &["check", "repo"]));
    let abs = root.to_string_lossy().into_owned();
    let absolute = norm(&json_in(dir.path(), &["check", &abs]));
    let from_sub = norm(&json_in(&root.join("ecs"), &["check", ".."]));
    assert_eq!(here, from_parent);
    assert_eq!(here, absolute);
    // From a subdirectory paths are shown relative to it; the rest, and the
    // fingerprints, are the same.
    let strip = |v: &[(String, String, u64, String)]| -> Vec<(String, u64, String)> {
        v.iter()
            .map(|(r, _, l, f)| (r.clone(), *l, f.clone()))
            .collect()
    };
    assert_eq!(strip(&here), strip(&from_sub), "fingerprints too");
    assert!(
        from_sub
            .iter()
            .any(|(_, p, _, _)| p == "../organizations/scp/deny-regions.json")
    );
    // One file keeps the finding the SCP gives it.
    let one = norm(&json_in(&root, &["check", "ecs/task-definition.json"]));
    assert!(one.iter().any(|(r, _, _, _)| r == "REG001"), "{one:?}");
}

#[test]
fn parity_allow_and_pairs_from_guard_toml() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/PAR001/fail");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    copy_dir(&fixture, &root);
    let count = |toml: &str| {
        fs::write(root.join("guard.toml"), toml).unwrap();
        of(&json_in(&root, &["check", "--select", "parity"]), "PAR001").len()
    };
    // Two engine versions, a module version and a provider version.
    assert_eq!(count("# defaults\n"), 4);
    assert_eq!(
        count("[parity]\nallow = [\"aws_db_instance.*.engine_version\"]\n"),
        3,
        "an allowed difference is not reported"
    );
    assert_eq!(
        count("[parity]\nallow = [\"module.*.version\", \"provider.*.version\"]\n"),
        2,
        "module and provider versions can be allowed too"
    );
    assert_eq!(
        count("[parity]\npairs = [[\"dev\", \"prod\"]]\n"),
        0,
        "only the configured pair is compared"
    );
}
