//! The integrations, run the way their users run them: the pre-commit hook
//! (`.pre-commit-hooks.yaml`) in a scratch git repository, and the GitHub Action's scripts
//! (`action.yml`) under bash with the environment the runner gives them.
//!
//! A test whose tools (`pre-commit`, `git`, `bash`, `jq`) are missing is skipped, saying so on
//! standard error, unless `GUARD_REQUIRE_INTEGRATIONS=1` (set by `.ci/run`): then it fails.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const GUARD: &str = env!("CARGO_BIN_EXE_guard");
const HOOK_MANIFEST: &str = ".pre-commit-hooks.yaml";

fn required() -> bool {
    std::env::var("GUARD_REQUIRE_INTEGRATIONS").is_ok_and(|v| v == "1")
}

/// Whether every tool runs. When one does not: a failure if the integrations are required,
/// else a visible skip.
fn tools_present(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| {
            !Command::new(tool)
                .arg("--version")
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        !required(),
        "{test}: {} not found on PATH, and GUARD_REQUIRE_INTEGRATIONS=1 requires it",
        missing.join(", ")
    );
    eprintln!(
        "SKIPPED {test}: {} not found on PATH (GUARD_REQUIRE_INTEGRATIONS=1 makes this a failure)",
        missing.join(", ")
    );
    false
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pre-commit

/// A command for git or for a tool that runs git (pre-commit): no user or system git
/// configuration (a global `core.hooksPath` would stop `pre-commit install`), a fixed identity,
/// and nothing inherited from an enclosing git command.
fn git_env_command(program: &str, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .stdin(Stdio::null())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "guard tests")
        .env("GIT_AUTHOR_EMAIL", "tests@guard.invalid")
        .env("GIT_COMMITTER_NAME", "guard tests")
        .env("GIT_COMMITTER_EMAIL", "tests@guard.invalid")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY");
    c
}

fn git_command(dir: &Path) -> Command {
    git_env_command("git", dir)
}

/// Runs git and insists on success; its standard output, trimmed.
fn git(dir: &Path, args: &[&str]) -> String {
    let o = git_command(dir).args(args).output().expect("git runs");
    assert!(o.status.success(), "git {args:?} in {dir:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The repository and commit pre-commit builds the hook from: this repository at HEAD. While
/// `.pre-commit-hooks.yaml` is not committed as the work tree has it (it is being written), a
/// clone of HEAD with the work tree's manifest committed on top: pre-commit only sees commits.
fn hook_source(scratch: &Path) -> (PathBuf, String) {
    let root = Path::new(ROOT);
    let head = git(root, &["rev-parse", "HEAD"]);
    let tracked = git_command(root)
        .args(["ls-files", "--error-unmatch", HOOK_MANIFEST])
        .output()
        .expect("git runs")
        .status
        .success();
    let unchanged = git_command(root)
        .args(["diff", "--quiet", "HEAD", "--", HOOK_MANIFEST])
        .status()
        .expect("git runs")
        .success();
    if tracked && unchanged {
        return (root.to_path_buf(), head);
    }
    eprintln!(
        "NOTE: {HOOK_MANIFEST} differs from HEAD: the hook is built from a clone of HEAD \
         ({head}) with the work tree's {HOOK_MANIFEST} committed on top"
    );
    let shadow = scratch.join("hook-source");
    git(scratch, &["clone", "--quiet", ROOT, "hook-source"]);
    git(&shadow, &["checkout", "--quiet", "--detach", &head]);
    fs::copy(root.join(HOOK_MANIFEST), shadow.join(HOOK_MANIFEST)).unwrap();
    git(&shadow, &["add", HOOK_MANIFEST]);
    git(
        &shadow,
        &["commit", "--quiet", "-m", "the work tree's hook manifest"],
    );
    let rev = git(&shadow, &["rev-parse", "HEAD"]);
    (shadow, rev)
}

/// A YAML single-quoted scalar.
fn yaml_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[test]
fn pre_commit_blocks_a_public_database_and_passes_the_fix() {
    const TEST: &str = "pre_commit_blocks_a_public_database_and_passes_the_fix";
    if !tools_present(TEST, &["git", "pre-commit", "cargo"]) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let repo = scratch.path().join("infra");
    copy_dir(
        &Path::new(ROOT).join("fixtures/terraform/article-layout"),
        &repo,
    );
    // No guard.toml: the project root is the git work tree.
    fs::remove_file(repo.join("guard.toml")).expect("the fixture has a guard.toml");
    let tfvars = repo.join("environments/prod/terraform.tfvars");
    let public = fs::read_to_string(&tfvars).unwrap();
    assert!(public.contains("db_public = true"), "{public}");
    let private = public.replace("db_public = true", "db_public = false");
    let fixed = private.replace(
        "# The reporting team needs direct access.",
        "# The reporting team reads a replica through the bastion.",
    );
    assert_ne!(fixed, private, "the fix must change the committed file");
    fs::write(&tfvars, &private).unwrap();

    let (source, rev) = hook_source(scratch.path());
    fs::write(
        repo.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: guard\n",
            yaml_str(&source.to_string_lossy())
        ),
    )
    .unwrap();
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "a private database"]);

    // A clean hook store per run; the release build of the hook keeps its target directory
    // between runs, so only the first run compiles every dependency.
    let pre_commit_home = scratch.path().join("pre-commit-home");
    let hook_target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-hook");
    let hook_command = |program: &str| {
        let mut c = git_env_command(program, &repo);
        c.env("PRE_COMMIT_HOME", &pre_commit_home)
            .env("CARGO_TARGET_DIR", &hook_target)
            .env("PRE_COMMIT_COLOR", "never")
            .env_remove("SKIP");
        c
    };
    let o = hook_command("pre-commit")
        .arg("install")
        .output()
        .expect("pre-commit runs");
    assert!(o.status.success(), "pre-commit install: {}", text(&o));

    // The database made public: the commit is refused, naming the rule and the file.
    let before = git(&repo, &["rev-parse", "HEAD"]);
    fs::write(&tfvars, &public).unwrap();
    git(&repo, &["add", "environments/prod/terraform.tfvars"]);
    let o = hook_command("git")
        .args(["commit", "-m", "make the database public"])
        .output()
        .expect("git runs");
    let out = text(&o);
    assert!(!o.status.success(), "the commit must be refused:\n{out}");
    assert!(
        out.contains("DB001") && out.contains("terraform.tfvars"),
        "the hook's output must name DB001 and terraform.tfvars:\n{out}"
    );
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), before, "{out}");

    // The fix goes through, and the hook did run on it.
    fs::write(&tfvars, &fixed).unwrap();
    git(&repo, &["add", "environments/prod/terraform.tfvars"]);
    let o = hook_command("git")
        .args(["commit", "-m", "keep the database private"])
        .output()
        .expect("git runs");
    let out = text(&o);
    assert!(o.status.success(), "the fix must be committed:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("guard") && l.ends_with("Passed")),
        "the hook must have run and passed:\n{out}"
    );
    assert_ne!(git(&repo, &["rev-parse", "HEAD"]), before);
}
