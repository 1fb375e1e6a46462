//! The integrations, run the way their users run them: the pre-commit hook
//! (`.pre-commit-hooks.yaml`) in a scratch git repository, and the GitHub Action's scripts
//! (`action.yml`) under bash with the environment the runner gives them.
//!
//! A test whose tools (`pre-commit`, `git`, `bash`, `jq`) are missing is skipped, saying so on
//! standard error, unless `GUARD_REQUIRE_INTEGRATIONS=1` or `GUARD_REQUIRE_ALL=1` (set by
//! `.ci/run`): then it fails.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::{copy_dir, git, git_env_command, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const GUARD: &str = env!("CARGO_BIN_EXE_guard");
const HOOK_MANIFEST: &str = ".pre-commit-hooks.yaml";

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
        !common::integrations_required(),
        "{test}: {} not found on PATH, and GUARD_REQUIRE_INTEGRATIONS=1 requires it",
        missing.join(", ")
    );
    // Straight to standard error, which the test harness does not capture (eprintln! it does).
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {} not found on PATH (GUARD_REQUIRE_INTEGRATIONS=1 makes this a failure)",
        missing.join(", ")
    );
    false
}

// ---------------------------------------------------------------------------------------------
// pre-commit

/// git on this repository, with the user's configuration (`safe.directory` may be needed).
fn git_root(args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(ROOT)
        .args(args)
        .stdin(Stdio::null())
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .output()
        .expect("git runs")
}

/// The repository and commit pre-commit builds the hook from: this repository at HEAD. While
/// `.pre-commit-hooks.yaml` is not committed as the work tree has it (it is being written), a
/// clone of HEAD with the work tree's manifest committed on top: pre-commit only sees commits.
fn hook_source(scratch: &Path) -> (PathBuf, String) {
    let root = Path::new(ROOT);
    let o = git_root(&["rev-parse", "HEAD"]);
    assert!(o.status.success(), "git rev-parse HEAD: {}", text(&o));
    let head = String::from_utf8_lossy(&o.stdout).trim().to_string();
    let tracked = git_root(&["ls-files", "--error-unmatch", HOOK_MANIFEST])
        .status
        .success();
    let unchanged = git_root(&["diff", "--quiet", "HEAD", "--", HOOK_MANIFEST])
        .status
        .success();
    if tracked && unchanged {
        return (root.to_path_buf(), head);
    }
    let _ = writeln!(
        std::io::stderr(),
        "NOTE: {HOOK_MANIFEST} differs from HEAD: the hook is built from a clone of HEAD \
         ({head}) with the work tree's {HOOK_MANIFEST} committed on top"
    );
    let shadow = scratch.join("hook-source");
    let o = git_root(&["clone", "--quiet", ROOT, &shadow.to_string_lossy()]);
    assert!(o.status.success(), "git clone: {}", text(&o));
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

    // A commit whose only matching file guard does not read (git-ignored, added by force) is
    // not refused: the hook passes --allow-empty.
    let before = git(&repo, &["rev-parse", "HEAD"]);
    fs::write(repo.join(".gitignore"), "generated/\n").unwrap();
    fs::create_dir(repo.join("generated")).unwrap();
    fs::write(repo.join("generated/plan.json"), "{}\n").unwrap();
    git(&repo, &["add", ".gitignore"]);
    git(&repo, &["add", "--force", "generated/plan.json"]);
    let o = hook_command("git")
        .args(["commit", "-m", "a generated plan"])
        .output()
        .expect("git runs");
    let out = text(&o);
    assert!(o.status.success(), "nothing to check is no failure:\n{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("guard") && l.ends_with("Passed")),
        "the hook must have run on generated/plan.json:\n{out}"
    );
    assert_ne!(git(&repo, &["rev-parse", "HEAD"]), before);
}

// ---------------------------------------------------------------------------------------------
// The GitHub Action

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A step of action.yml's `runs.steps`, read by a small scan of the file (no YAML crate):
/// its `env:` entries and its `run: |` script, dedented.
struct Step {
    env: Vec<(String, String)>,
    script: String,
    shell: Option<String>,
}

fn action_yml() -> String {
    fs::read_to_string(Path::new(ROOT).join("action.yml")).expect("action.yml")
}

/// The lines of each step (`- ` items of the block sequence under `steps:`).
fn step_blocks(yml: &str) -> Vec<Vec<&str>> {
    let lines: Vec<&str> = yml.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == "steps:")
        .expect("action.yml has steps:");
    let steps_indent = indent(lines[start]);
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut item_indent = None;
    for line in &lines[start + 1..] {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            if let Some(b) = blocks.last_mut() {
                b.push(line);
            }
            continue;
        }
        if indent(line) <= steps_indent {
            break;
        }
        let item = line.trim_start().starts_with("- ");
        if item && item_indent.is_none_or(|i| i == indent(line)) {
            item_indent = Some(indent(line));
            blocks.push(vec![line]);
        } else if let Some(b) = blocks.last_mut() {
            b.push(line);
        }
    }
    blocks
}

/// The key of a step line (`- id: x` or `  id: x`) at the step's key indentation, and its value.
fn key_value(line: &str, key_indent: usize) -> Option<(&str, &str)> {
    let body = if line.trim_start().starts_with("- ") {
        (indent(line) + 2 == key_indent).then(|| &line.trim_start()[2..])?
    } else {
        (indent(line) == key_indent).then(|| line.trim_start())?
    };
    let (k, v) = body.split_once(':')?;
    Some((k.trim(), v.trim()))
}

fn parse_step(block: &[&str]) -> (Option<String>, Step) {
    let key_indent = indent(block[0]) + 2;
    let mut id = None;
    let mut step = Step {
        env: Vec::new(),
        script: String::new(),
        shell: None,
    };
    let mut i = 0;
    while i < block.len() {
        let Some((key, value)) = key_value(block[i], key_indent) else {
            i += 1;
            continue;
        };
        i += 1;
        // The lines nested under this key.
        let mut nested = Vec::new();
        while i < block.len() && (block[i].trim().is_empty() || indent(block[i]) > key_indent) {
            nested.push(block[i]);
            i += 1;
        }
        match key {
            "id" => id = Some(value.to_string()),
            "shell" => step.shell = Some(value.to_string()),
            "env" => {
                for line in nested.iter().filter(|l| !l.trim().is_empty()) {
                    let (k, v) = line.trim().split_once(':').expect("env entry");
                    step.env.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            "run" if value != "|" => {
                // A one-line plain scalar (nothing in this file needs quoting).
                assert!(nested.iter().all(|l| l.trim().is_empty()), "{value}");
                step.script = format!("{value}\n");
            }
            "run" => {
                while nested.last().is_some_and(|l| l.trim().is_empty()) {
                    nested.pop();
                }
                let dedent = nested
                    .iter()
                    .filter(|l| !l.trim().is_empty())
                    .map(|l| indent(l))
                    .min()
                    .unwrap_or(0);
                for line in nested {
                    step.script.push_str(line.get(dedent..).unwrap_or(""));
                    step.script.push('\n');
                }
            }
            _ => {}
        }
    }
    (id, step)
}

fn steps() -> Vec<(Option<String>, Step)> {
    let yml = action_yml();
    step_blocks(&yml).iter().map(|b| parse_step(b)).collect()
}

fn step(id: &str) -> Step {
    steps()
        .into_iter()
        .find(|(i, _)| i.as_deref() == Some(id))
        .unwrap_or_else(|| panic!("action.yml has no step with id: {id}"))
        .1
}

/// The action's inputs and their defaults.
fn inputs() -> BTreeMap<String, String> {
    let yml = action_yml();
    let mut inputs = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_inputs = false;
    for line in yml.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        match indent(line) {
            0 => in_inputs = line.trim() == "inputs:",
            2 if in_inputs => {
                let name = line.trim().trim_end_matches(':').to_string();
                inputs.insert(name.clone(), String::new());
                current = Some(name);
            }
            4 if in_inputs => {
                if let (Some(name), Some(default)) =
                    (&current, line.trim().strip_prefix("default:"))
                {
                    let d = default.trim().trim_matches('"').to_string();
                    inputs.insert(name.clone(), d);
                }
            }
            _ => {}
        }
    }
    inputs
}

struct ActionRun {
    status: Option<i32>,
    stdout: String,
    stderr: String,
    outputs: BTreeMap<String, String>,
    summary: String,
    runner_temp: tempfile::TempDir,
}

/// Runs a step's script as the runner does (`bash --noprofile --norc -eo pipefail`, in the
/// workspace, each `env:` entry evaluated): inputs by their action.yml names, unset ones at their
/// defaults; `${{ steps.… }}` expressions from `expressions`, else empty. The debug guard comes
/// first on PATH.
fn run_step(id: &str, given: &[(&str, &str)], expressions: &[(&str, &str)]) -> ActionRun {
    run_step_with(id, given, expressions, &[])
}

/// [`run_step_with`] in another workspace than this repository.
fn run_step_in(
    workspace: &Path,
    id: &str,
    given: &[(&str, &str)],
    expressions: &[(&str, &str)],
    runner: &[(&str, &str)],
) -> ActionRun {
    let ws = workspace.to_str().unwrap();
    let mut runner = runner.to_vec();
    runner.push(("GUARD_TEST_WORKSPACE", ws));
    run_step_with(id, given, expressions, &runner)
}

/// [`run_step`], with more of the runner's environment (`RUNNER_OS`, `RUNNER_TOOL_CACHE`, …).
fn run_step_with(
    id: &str,
    given: &[(&str, &str)],
    expressions: &[(&str, &str)],
    runner: &[(&str, &str)],
) -> ActionRun {
    let step = step(id);
    assert_eq!(step.shell.as_deref(), Some("bash"), "step {id}: shell");
    let defaults = inputs();
    for (name, _) in given {
        assert!(
            defaults.contains_key(*name),
            "action.yml has no input {name}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("step.sh");
    fs::write(&script, &step.script).unwrap();
    let output_file = tmp.path().join("github_output");
    let summary_file = tmp.path().join("step_summary.md");
    fs::write(&output_file, "").unwrap();
    fs::write(&summary_file, "").unwrap();
    let runner_temp = tempfile::tempdir().unwrap();

    let guard_dir = Path::new(GUARD).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(guard_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut c = Command::new("bash");
    let workspace = runner
        .iter()
        .find(|(k, _)| *k == "GUARD_TEST_WORKSPACE")
        .map_or(ROOT, |(_, v)| *v);
    c.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script)
        .current_dir(workspace)
        .stdin(Stdio::null())
        .env_clear()
        .env("PATH", path)
        .env("HOME", tmp.path())
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("GITHUB_ACTION_PATH", ROOT)
        .env("RUNNER_TEMP", runner_temp.path());
    c.envs(
        runner
            .iter()
            .copied()
            .filter(|(k, _)| *k != "GUARD_TEST_WORKSPACE"),
    );
    for (key, value) in &step.env {
        let expr = value
            .strip_prefix("${{")
            .and_then(|v| v.strip_suffix("}}"))
            .unwrap_or_else(|| panic!("step {id}: env {key} is not one expression: {value}"))
            .trim();
        let evaluated = if let Some(input) = expr.strip_prefix("inputs.") {
            given
                .iter()
                .find(|(n, _)| *n == input)
                .map(|(_, v)| v.to_string())
                .or_else(|| defaults.get(input).cloned())
                .unwrap_or_else(|| panic!("step {id}: env {key} reads undeclared input {input}"))
        } else {
            expressions
                .iter()
                .find(|(e, _)| *e == expr)
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        };
        c.env(key, evaluated);
    }
    let o = c.output().expect("bash runs");
    // `key=value` lines, and GitHub's multi-line form: `key<<DELIMITER`, lines, `DELIMITER`.
    let written = fs::read_to_string(&output_file).unwrap();
    let mut outputs = BTreeMap::new();
    let mut lines = written.lines();
    while let Some(l) = lines.next() {
        if let Some((k, delimiter)) = l.split_once("<<").filter(|(k, _)| !k.contains('=')) {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(k.to_string(), value.join("\n"));
        } else {
            let (k, v) = l
                .split_once('=')
                .expect("GITHUB_OUTPUT lines are key=value or key<<DELIMITER");
            outputs.insert(k.to_string(), v.to_string());
        }
    }
    ActionRun {
        status: o.status.code(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        outputs,
        summary: fs::read_to_string(&summary_file).unwrap(),
        runner_temp,
    }
}

impl ActionRun {
    fn output(&self, key: &str) -> &str {
        self.outputs
            .get(key)
            .unwrap_or_else(|| panic!("no output {key}: {self}"))
    }
}

impl std::fmt::Display for ActionRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status {:?}\noutputs {:?}\n--- stdout\n{}--- stderr\n{}--- summary\n{}",
            self.status, self.outputs, self.stdout, self.stderr, self.summary
        )
    }
}

const ACTION_TOOLS: &[&str] = &["bash", "jq", "git"];

#[test]
fn action_step_writes_summary_outputs_and_status() {
    const TEST: &str = "action_step_writes_summary_outputs_and_status";
    if !tools_present(TEST, ACTION_TOOLS) {
        return;
    }
    // The article layout: prod's tfvars make the database public.
    let out = tempfile::tempdir().unwrap();
    let sarif = out.path().join("guard.sarif");
    let sarif_s = sarif.to_str().unwrap();
    let run = run_step(
        "guard",
        &[
            ("path", "fixtures/terraform/article-layout"),
            ("sarif-file", sarif_s),
        ],
        &[],
    );
    assert_eq!(run.status, Some(1), "{run}");
    assert_eq!(run.output("exit-code"), "1", "{run}");
    assert_eq!(run.output("sarif-file"), sarif_s, "{run}");
    let findings: usize = run.output("findings").parse().expect("a count");
    assert!(findings > 0, "{run}");
    // The summary: a Markdown table with a row for DB001.
    assert!(
        run.summary.lines().any(|l| l.starts_with("|---")),
        "a Markdown table: {run}"
    );
    assert!(
        run.summary
            .lines()
            .any(|l| l.starts_with('|') && l.contains("DB001")),
        "a row for DB001: {run}"
    );
    // Annotations by default, and the run's verdict.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("::error file=") && l.contains("DB001")),
        "{run}"
    );
    // The SARIF file, and the count is that of its unsuppressed results.
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(&sarif).expect("the SARIF file")).expect("JSON");
    assert_eq!(v["version"], "2.1.0");
    let results: Vec<&serde_json::Value> = v["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .flat_map(|r| r["results"].as_array().into_iter().flatten())
        .collect();
    assert!(results.iter().any(|r| r["ruleId"] == "DB001"), "{v:#}");
    let counting = results
        .iter()
        .filter(|r| r["suppressions"].as_array().is_none_or(|s| s.is_empty()))
        .count();
    assert_eq!(findings, counting, "{run}");

    // A clean tree (for DB001; the hardening baseline is left out), with the binary named as
    // the action names it, no SARIF asked for and one log line per finding.
    let quiet = out.path().join("quiet.toml");
    fs::write(&quiet, "ignore = [\"hardening\"]\n").unwrap();
    let run = run_step(
        "guard",
        &[
            ("path", "fixtures/rules/DB001/pass"),
            ("sarif-file", ""),
            ("annotations", "false"),
            ("config", quiet.to_str().unwrap()),
        ],
        &[("steps.build.outputs.bin", GUARD)],
    );
    assert_eq!(run.status, Some(0), "{run}");
    assert_eq!(run.output("exit-code"), "0", "{run}");
    assert_eq!(run.output("findings"), "0", "{run}");
    assert_eq!(run.output("sarif-file"), "", "{run}");
    assert!(!run.summary.trim().is_empty(), "a summary: {run}");
    let left: Vec<_> = fs::read_dir(run.runner_temp.path()).unwrap().collect();
    assert!(
        left.is_empty(),
        "the SARIF written for the count is removed: {left:?}"
    );
}

#[test]
fn action_step_honours_fail_on_and_fails_on_bad_input() {
    const TEST: &str = "action_step_honours_fail_on_and_fails_on_bad_input";
    if !tools_present(TEST, ACTION_TOOLS) {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let sarif = out.path().join("report.sarif");
    let sarif_s = sarif.to_str().unwrap();
    // fail-on never: findings reported, one concise line each, the step passes.
    let run = run_step(
        "guard",
        &[
            ("path", "fixtures/terraform/article-layout"),
            ("sarif-file", sarif_s),
            ("fail-on", "never"),
            ("annotations", "false"),
        ],
        &[],
    );
    assert_eq!(run.status, Some(0), "{run}");
    assert!(
        run.output("findings").parse::<usize>().unwrap() > 0,
        "{run}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("fixtures/terraform/article-layout/") && l.contains(": DB001 ")),
        "concise lines `path:line:col: ID message`: {run}"
    );
    assert!(!run.stdout.contains("::error"), "{run}");

    // Several paths, one per line: findings of each.
    let run = run_step(
        "guard",
        &[
            (
                "path",
                "fixtures/terraform/article-layout\n\nfixtures/rules/BO001/fail\n",
            ),
            ("sarif-file", sarif_s),
        ],
        &[],
    );
    assert_eq!(run.status, Some(1), "{run}");
    assert!(
        run.stdout.contains("DB001") && run.stdout.contains("BO001"),
        "{run}"
    );

    // At most max-annotations annotations, whatever the number of findings.
    let run = run_step(
        "guard",
        &[
            ("path", "fixtures/rules/BO001/fail"),
            ("sarif-file", sarif_s),
            ("max-annotations", "2"),
        ],
        &[],
    );
    assert_eq!(run.status, Some(1), "{run}");
    assert!(
        run.output("findings").parse::<usize>().unwrap() > 2,
        "{run}"
    );
    let annotations = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("::") && l.contains(" file="))
        .count();
    assert_eq!(annotations, 2, "{run}");

    // Usage errors fail the step with status 2, outputs still written.
    for (name, value) in [("fail-on", "sometimes"), ("annotations", "maybe")] {
        let run = run_step(
            "guard",
            &[
                ("path", "fixtures/rules/DB001/pass"),
                ("sarif-file", sarif_s),
                (name, value),
            ],
            &[],
        );
        assert_eq!(run.status, Some(2), "{name}={value}: {run}");
        assert_eq!(run.output("exit-code"), "2", "{name}={value}: {run}");
        assert!(run.stdout.contains("::error title=guard::"), "{run}");
    }
    // A path that looks like an option is a path (as `--help` it would pass).
    let run = run_step("guard", &[("path", "--help"), ("sarif-file", sarif_s)], &[]);
    assert_eq!(run.status, Some(2), "{run}");
}
#[test]
fn action_step_passes_config_and_baseline_and_counts_only_counting_findings() {
    const TEST: &str = "action_step_passes_config_and_baseline_and_counts_only_counting_findings";
    if !tools_present(TEST, ACTION_TOOLS) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let sarif = scratch.path().join("guard.sarif");
    let sarif_s = sarif.to_str().unwrap();
    let layout = "fixtures/terraform/article-layout";

    // The configuration input: DB001 made a warning, so fail-on error passes; it still counts.
    let config = scratch.path().join("strict.toml");
    // Only DB001 here: the hardening baseline (HD rules) is left out.
    fs::write(
        &config,
        "ignore = [\"hardening\"]\n[rules.DB001]\nseverity = \"warning\"\n",
    )
    .unwrap();
    let run = run_step(
        "guard",
        &[
            ("path", layout),
            ("sarif-file", sarif_s),
            ("config", config.to_str().unwrap()),
        ],
        &[],
    );
    assert_eq!(run.status, Some(0), "{run}");
    assert_eq!(run.output("findings"), "1", "{run}");

    // The baseline input: today's findings recorded, none left.
    let baseline = scratch.path().join("baseline.json");
    let o = Command::new(GUARD)
        .current_dir(ROOT)
        .args(["check", layout, "--write-baseline"])
        .arg(&baseline)
        .output()
        .expect("guard runs");
    assert!(baseline.is_file(), "{}", text(&o));
    let run = run_step(
        "guard",
        &[
            ("path", layout),
            ("sarif-file", sarif_s),
            ("baseline", baseline.to_str().unwrap()),
        ],
        &[],
    );
    assert_eq!(run.status, Some(0), "{run}");
    assert_eq!(run.output("findings"), "0", "{run}");

    // A suppressed finding is in the SARIF file (dismissed) but does not count.
    let tree = scratch.path().join("layout");
    copy_dir(&Path::new(ROOT).join(layout), &tree);
    // About DB001 only: the hardening baseline (HD rules) is left out.
    let toml = tree.join("guard.toml");
    let kept = fs::read_to_string(&toml).unwrap_or_default();
    fs::write(&toml, format!("{kept}ignore = [\"hardening\"]\n")).unwrap();
    let tfvars = tree.join("environments/prod/terraform.tfvars");
    let public = fs::read_to_string(&tfvars).unwrap();
    let suppressed = public.replace(
        "db_public = true",
        "db_public = true # guard:ignore[DB001] the reporting team's access, approved",
    );
    assert_ne!(suppressed, public);
    fs::write(&tfvars, suppressed).unwrap();
    let run = run_step(
        "guard",
        &[("path", tree.to_str().unwrap()), ("sarif-file", sarif_s)],
        &[],
    );
    assert_eq!(run.status, Some(0), "{run}");
    assert_eq!(run.output("findings"), "0", "{run}");
    let v: serde_json::Value = serde_json::from_slice(&fs::read(&sarif).unwrap()).unwrap();
    assert!(
        v["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["ruleId"] == "DB001"
                && r["suppressions"].as_array().is_some_and(|s| !s.is_empty())),
        "{v:#}"
    );
}

#[test]
fn action_build_step_picks_the_release_archive_for_the_runner() {
    const TEST: &str = "action_build_step_picks_the_release_archive_for_the_runner";
    if !tools_present(TEST, ACTION_TOOLS) {
        return;
    }
    let version = env!("CARGO_PKG_VERSION");
    let linux = [
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "X64"),
        ("RUNNER_TOOL_CACHE", "/opt/hostedtoolcache"),
    ];
    // By default the action's own version (its Cargo.toml), from the guard repository's releases.
    let run = run_step_with("build", &[], &[], &linux);
    assert_eq!(run.status, Some(0), "{run}");
    assert_eq!(run.output("mode"), "release", "{run}");
    assert_eq!(run.output("version"), version, "{run}");
    assert_eq!(
        run.output("archive"),
        "guard-iac-x86_64-unknown-linux-musl.tar.gz"
    );
    assert_eq!(
        run.output("url"),
        format!(
            "https://github.com/guard-iac/guard/releases/download/v{version}/guard-iac-x86_64-unknown-linux-musl.tar.gz"
        )
    );
    // Cached by version in the runner's tool cache, which a self-hosted runner keeps across
    // repositories, and under a key that names version and target only.
    assert_eq!(
        run.output("bin"),
        format!("/opt/hostedtoolcache/guard-iac/{version}/x86_64-unknown-linux-musl/guard")
    );
    assert_eq!(
        run.output("key"),
        format!("guard-iac-{version}-x86_64-unknown-linux-musl")
    );

    let cases: &[(&str, &str, &str)] = &[
        ("macOS", "ARM64", "guard-iac-aarch64-apple-darwin.tar.gz"),
        ("macOS", "X64", "guard-iac-x86_64-apple-darwin.tar.gz"),
        (
            "Linux",
            "ARM64",
            "guard-iac-aarch64-unknown-linux-musl.tar.gz",
        ),
        ("Windows", "X64", "guard-iac-x86_64-pc-windows-msvc.zip"),
    ];
    for (os, arch, archive) in cases {
        let run = run_step_with(
            "build",
            &[
                ("version", "v1.2.3"),
                ("release-url", "http://127.0.0.1:9/mirror/"),
            ],
            &[],
            &[("RUNNER_OS", os), ("RUNNER_ARCH", arch)],
        );
        assert_eq!(run.status, Some(0), "{run}");
        assert_eq!(run.output("archive"), *archive, "{os}/{arch}");
        assert_eq!(
            run.output("url"),
            format!("http://127.0.0.1:9/mirror/v1.2.3/{archive}"),
            "{run}"
        );
    }
    assert!(
        run_step_with(
            "build",
            &[],
            &[],
            &[("RUNNER_OS", "Windows"), ("RUNNER_ARCH", "X64")]
        )
        .output("bin")
        .ends_with("/guard.exe")
    );

    // No release for the platform, or a version that is none: a clear error, status 2.
    let run = run_step_with(
        "build",
        &[],
        &[],
        &[("RUNNER_OS", "Linux"), ("RUNNER_ARCH", "ARM")],
    );
    assert_eq!(run.status, Some(2), "{run}");
    assert!(run.stdout.contains("use version: source"), "{run}");
    let run = run_step_with("build", &[("version", "latest; rm -rf /")], &[], &linux);
    assert_eq!(run.status, Some(2), "{run}");
    assert!(run.stdout.contains("must be a release version"), "{run}");

    // `source`: the pinned toolchain, and a key on the sources as well as the version.
    let run = run_step_with("build", &[("version", "source")], &[], &linux);
    assert_eq!(run.status, Some(0), "{run}");
    assert_eq!(run.output("mode"), "source");
    assert_eq!(run.output("toolchain"), env!("CARGO_PKG_RUST_VERSION"));
    assert!(run.output("bin").ends_with("/bin/guard"), "{run}");
    let key = run.output("key");
    assert!(
        key.starts_with(&format!("guard-iac-source-Linux-X64-{version}-")),
        "{key}"
    );
    assert!(
        key.ends_with(&format!("-rust{}", env!("CARGO_PKG_RUST_VERSION"))),
        "{key}"
    );

    // The cache steps save and restore exactly the directory the binary is in, by that key.
    let yml = action_yml();
    assert_eq!(
        yml.matches("path: ${{ steps.build.outputs.dir }}").count(),
        2
    );
    assert_eq!(
        yml.matches("key: ${{ steps.build.outputs.key }}").count(),
        2
    );
    assert!(
        step("guard")
            .env
            .contains(&("GUARD_BIN".into(), "${{ steps.build.outputs.bin }}".into()))
    );
}

/// `config-from: base`: a pull request that switches its own gate off (an `ignore` of DB001 in
/// guard.toml, the baseline rewritten, the policy deleted) is judged by its base branch's gate.
#[test]
fn action_judges_a_pull_request_by_its_base_branch_gate() {
    const TEST: &str = "action_judges_a_pull_request_by_its_base_branch_gate";
    if !tools_present(TEST, ACTION_TOOLS) {
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let origin = scratch.path().join("origin.git");
    let repo = scratch.path().join("work");
    copy_dir(
        &Path::new(ROOT).join("fixtures/terraform/article-layout"),
        &repo,
    );
    fs::write(repo.join("guard.toml"), "fail-on = \"error\"\n").unwrap();
    fs::create_dir(repo.join("policies")).unwrap();
    fs::write(
        repo.join("policies/tags.rego"),
        "package guard.tags\n\n# METADATA\n# custom:\n#   id: ORG001\n#   severity: error\ndeny contains msg if {\n\tinput.kind == \"Deployment\"\n\tmsg := \"no deployments\"\n}\n",
    )
    .unwrap();
    fs::write(
        repo.join("baseline.json"),
        "{\"version\": 1, \"findings\": []}\n",
    )
    .unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "base"]);
    let o = Command::new("git")
        .args(["clone", "--quiet", "--bare"])
        .arg(&repo)
        .arg(&origin)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    git(
        &repo,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    // The pull request: the same public database, and its gate switched off.
    git(&repo, &["checkout", "--quiet", "-b", "pr"]);
    fs::write(
        repo.join("guard.toml"),
        "fail-on = \"error\"\nignore = [\"DB001\"]\n",
    )
    .unwrap();
    fs::remove_file(repo.join("policies/tags.rego")).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "switch the gate off"]);

    let pr = [
        ("GITHUB_BASE_REF", "main"),
        ("GITHUB_EVENT_NAME", "pull_request"),
    ];
    let gate = run_step_in(
        &repo,
        "gate",
        &[("config-from", "base"), ("baseline", "baseline.json")],
        &[],
        &pr,
    );
    assert_eq!(gate.status, Some(0), "{gate}");
    assert_eq!(gate.output("active"), "true", "{gate}");
    let config = gate.output("config").to_string();
    assert_eq!(
        fs::read_to_string(&config).unwrap(),
        "fail-on = \"error\"\n"
    );
    assert!(
        gate.output("baseline").ends_with("/baseline.json"),
        "{gate}"
    );
    assert!(
        gate.stdout
            .contains("::warning title=guard::this pull request changes its gate (guard.toml policies/tags.rego)"),
        "{gate}"
    );
    assert!(gate.summary.contains("- `guard.toml`"), "{gate}");
    // The base's policy directory, extracted (the pull request deleted its only policy).
    let policies = gate.runner_temp.path().join("guard-gate/tree/policies");
    assert_eq!(
        gate.output("policies"),
        policies.to_str().unwrap(),
        "{gate}"
    );
    assert!(policies.join("tags.rego").is_file());

    let out = tempfile::tempdir().unwrap();
    let sarif = out.path().join("guard.sarif");
    let judged = |expressions: &[(&str, &str)]| {
        run_step_in(
            &repo,
            "guard",
            &[
                ("sarif-file", sarif.to_str().unwrap()),
                ("annotations", "false"),
            ],
            expressions,
            &pr,
        )
    };
    // By the base's gate: DB001 counts, the build fails.
    let run = judged(&[
        ("steps.gate.outputs.active", "true"),
        ("steps.gate.outputs.config", &config),
        ("steps.gate.outputs.baseline", gate.output("baseline")),
        ("steps.gate.outputs.policies", policies.to_str().unwrap()),
    ]);
    assert_eq!(run.status, Some(1), "{run}");
    assert!(run.stdout.contains("DB001"), "{run}");
    // With the base commit (the `ref` output), guard reads the gate itself (--config-from),
    // and the job summary says what the pull request's guard.toml would weaken.
    assert_eq!(gate.output("ref").len(), 40, "{gate}");
    let run = judged(&[
        ("steps.gate.outputs.active", "true"),
        ("steps.gate.outputs.ref", gate.output("ref")),
        ("steps.gate.outputs.config", &config),
        ("steps.gate.outputs.baseline", gate.output("baseline")),
        ("steps.gate.outputs.policies", policies.to_str().unwrap()),
    ]);
    assert_eq!(run.status, Some(1), "{run}");
    assert!(run.stdout.contains("DB001"), "{run}");
    assert!(
        run.summary
            .contains("guard.toml:2: ignore = [\"DB001\"] switches off DB001 (public-rds, error)"),
        "{run}"
    );
    // By its own tree (config-from: tree), the pull request passes: what `base` prevents.
    let run = judged(&[]);
    assert_eq!(run.status, Some(0), "{run}");
    assert!(!run.stdout.contains("DB001"), "{run}");

    // Not a pull request: the tree's gate, said in a notice.
    let push = run_step_in(
        &repo,
        "gate",
        &[("config-from", "base")],
        &[],
        &[("GITHUB_EVENT_NAME", "push")],
    );
    assert_eq!(push.status, Some(0), "{push}");
    assert!(!push.outputs.contains_key("active"), "{push}");
    assert!(push.stdout.contains("applies to pull requests"), "{push}");
    let bad = run_step_in(&repo, "gate", &[("config-from", "head")], &[], &pr);
    assert_eq!(bad.status, Some(2), "{bad}");
}

/// A release archive as dist lays it out (`guard-iac-<target>/guard`, with LICENSE and README):
/// the one `dist build` made for this host when .ci/run ran it (target/distrib), else one packed
/// here from the test build of guard.
fn release_archive(dir: &Path) -> (PathBuf, &'static str) {
    let built = Path::new(ROOT).join("target/distrib/guard-iac-x86_64-unknown-linux-gnu.tar.gz");
    if built.is_file() {
        return (built, "dist build");
    }
    let staging = dir.join("stage/guard-iac-x86_64-unknown-linux-musl");
    fs::create_dir_all(&staging).unwrap();
    fs::copy(GUARD, staging.join("guard")).unwrap();
    fs::copy(Path::new(ROOT).join("LICENSE"), staging.join("LICENSE")).unwrap();
    let archive = dir.join("packed.tar.gz");
    let o = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.join("stage"))
        .arg("guard-iac-x86_64-unknown-linux-musl")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    (archive, "packed from the test build")
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A file server on 127.0.0.1 for the download tests: serves `root`, answers at most `limit`
/// requests, and stops on its own after 60 s.
fn serve(root: PathBuf, limit: usize) -> String {
    use std::io::{BufRead as _, BufReader};
    use std::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut served = 0;
        while served < limit && std::time::Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            };
            served += 1;
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split(' ').nth(1).unwrap_or("/");
            let file = root.join(path.trim_start_matches('/'));
            let mut out = &stream;
            match fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let _ = write!(
                        out,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = out.write_all(&body);
                }
                _ => {
                    let _ = write!(
                        out,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    format!("http://{addr}")
}

#[test]
fn action_downloads_the_release_and_refuses_a_checksum_mismatch() {
    const TEST: &str = "action_downloads_the_release_and_refuses_a_checksum_mismatch";
    if !tools_present(TEST, &["bash", "curl", "tar", "sha256sum"]) {
        return;
    }
    let version = env!("CARGO_PKG_VERSION");
    let scratch = tempfile::tempdir().unwrap();
    let (archive, origin) = release_archive(scratch.path());
    let _ = writeln!(std::io::stderr(), "{TEST}: serving the archive {origin}");
    let name = "guard-iac-x86_64-unknown-linux-musl.tar.gz";
    // Two releases: a good one, and one whose checksum file does not match its archive.
    let site = scratch.path().join("site");
    for (tag, good) in [(version.to_string(), true), ("9.9.9".to_string(), false)] {
        let dir = site.join(format!("v{tag}"));
        fs::create_dir_all(&dir).unwrap();
        fs::copy(&archive, dir.join(name)).unwrap();
        let mut sum = sha256_hex(&archive);
        if !good {
            sum = sum.chars().rev().collect();
        }
        fs::write(
            dir.join(format!("{name}.sha256")),
            format!("{sum} *{name}\n"),
        )
        .unwrap();
    }
    let base = serve(site, 16);
    let tools = scratch.path().join("toolcache");
    let install = |version: &str| {
        let dir = tools
            .join("guard-iac")
            .join(version)
            .join("x86_64-unknown-linux-musl");
        let bin = dir.join("guard");
        let url = format!("{base}/v{version}/{name}");
        let expressions = [
            ("steps.build.outputs.url", url.as_str()),
            ("steps.build.outputs.archive", name),
            ("steps.build.outputs.dir", dir.to_str().unwrap()),
            ("steps.build.outputs.bin", bin.to_str().unwrap()),
            ("steps.build.outputs.version", version),
        ];
        (
            run_step_with("download", &[], &expressions, &[("RUNNER_OS", "Linux")]),
            bin,
        )
    };

    let (run, bin) = install(version);
    assert_eq!(run.status, Some(0), "{run}");
    assert!(
        run.stdout
            .contains(&format!("installed guard {version} from {base}")),
        "{run}"
    );
    let o = Command::new(&bin).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("guard {version}")
    );
    // Once there, it is not fetched again.
    let (again, _) = install(version);
    assert_eq!(again.status, Some(0), "{again}");
    assert!(
        again.stdout.contains("in the runner's tool cache"),
        "{again}"
    );

    // A checksum that does not match: status 2, nothing installed.
    let (run, bin) = install("9.9.9");
    assert_eq!(run.status, Some(2), "{run}");
    assert!(
        run.stdout
            .contains("::error title=guard::checksum mismatch"),
        "{run}"
    );
    assert!(!bin.exists(), "a mismatching archive must not be installed");
    // A release that is not there.
    let (run, bin) = install("7.7.7");
    assert_eq!(run.status, Some(2), "{run}");
    assert!(run.stdout.contains("could not download"), "{run}");
    assert!(!bin.exists());
}

/// `uses:` pinned to a full commit SHA with a version comment, for action.yml and the example.
fn assert_pinned(file: &str) {
    let text = fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let Some((_, rest)) = line.split_once("uses: ") else {
            continue;
        };
        n += 1;
        let (reference, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
        let sha = reference.rsplit_once('@').map_or("", |(_, s)| s);
        assert!(
            sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
            "{file}: `{line}` is not pinned to a commit"
        );
        assert!(
            comment.starts_with('v'),
            "{file}: `{line}` has no version comment"
        );
    }
    assert!(n > 0, "{file} uses no action");
}

#[test]
fn action_reads_inputs_only_through_env_and_pins_what_it_uses() {
    let declared = inputs();
    for name in [
        "path",
        "config",
        "fail-on",
        "baseline",
        "sarif-file",
        "annotations",
        "max-annotations",
    ] {
        assert!(declared.contains_key(name), "input {name}");
    }
    let mut used = std::collections::BTreeSet::new();
    let all = steps();
    assert!(all.iter().filter(|(_, s)| !s.script.is_empty()).count() >= 3);
    for (id, step) in &all {
        assert!(
            !step.script.contains("${{"),
            "step {id:?} interpolates an expression into its script"
        );
        for (key, value) in &step.env {
            if let Some(input) = value
                .strip_prefix("${{ inputs.")
                .and_then(|v| v.strip_suffix(" }}"))
            {
                assert!(
                    declared.contains_key(input),
                    "{key}: undeclared input {input}"
                );
                used.insert(input.to_string());
            }
        }
        // Every INPUT_ variable the script reads is set by the step.
        let mut rest = step.script.as_str();
        while let Some(at) = rest.find("INPUT_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                step.env.iter().any(|(k, _)| *k == name),
                "step {id:?} reads {name}, which its env: does not set"
            );
            rest = &rest[at + name.len()..];
        }
    }
    let unused: Vec<_> = declared.keys().filter(|k| !used.contains(*k)).collect();
    assert!(unused.is_empty(), "inputs that reach no step: {unused:?}");
    assert_pinned("action.yml");
    assert_pinned("docs/workflows/guard.yml");
}
