//! Helpers shared by the end-to-end tests.

/// Text output with the run time of the summary line replaced by `<time>`,
/// so that snapshots compare what guard says, not how fast it said it.
#[allow(dead_code)]
pub fn untimed(s: &str) -> String {
    s.lines()
        .map(|l| match l.rfind(" in ") {
            Some(i) if l.ends_with(" ms") => format!("{} in <time>", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Skip a test that needs something this machine lacks (`../shared`,
/// `terraform`, `kubectl`), saying so where it is seen: the line is written
/// straight to standard error, which the test harness does not capture, so
/// it shows in the normal `cargo test` output. With `GUARD_REQUIRE_ALL=1`
/// (CI sets it) a skip is a failure instead.
#[allow(dead_code)]
pub fn skip(test: &str, why: &str) {
    use std::io::Write as _;
    if std::env::var_os("GUARD_REQUIRE_ALL").is_some_and(|v| v == "1") {
        panic!("{test} cannot be skipped here (GUARD_REQUIRE_ALL=1): {why}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// Run the `guard` binary from the repository root (colours as a terminal
/// would decide them: `NO_COLOR` removed).
#[allow(dead_code)]
pub fn guard(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .output()
        .expect("guard runs")
}

/// A run's standard output as text.
#[allow(dead_code)]
pub fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Every file under `root` whose name `wanted` accepts (not descending
/// into `.terraform/` or `.git/`), as a scan gives them: sorted, paths
/// relative to `root` and `/`-separated.
#[allow(dead_code)]
pub fn source_tree(
    root: &std::path::Path,
    wanted: impl Fn(&str) -> bool,
) -> Vec<guard::source::SourceFile> {
    let mut paths = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            if p.is_dir() {
                if name != ".terraform" && name != ".git" {
                    stack.push(p);
                }
            } else if wanted(&name) {
                paths.push(p);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let text = std::fs::read_to_string(&p).ok()?;
            let rel = p
                .strip_prefix(root)
                .ok()?
                .to_string_lossy()
                .replace('\\', "/");
            Some(guard::source::SourceFile::new(
                guard::source::FileId(i as u32),
                rel,
                p.clone(),
                text,
            ))
        })
        .collect()
}

/// A run's standard output and standard error, for assertion messages.
#[allow(dead_code)]
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Copies a directory tree (regular files and directories).
#[allow(dead_code)]
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A command for git or for a tool that runs git (pre-commit): no user or system git
/// configuration (a global `core.hooksstd::path::Path` would stop `pre-commit install`), a fixed identity,
/// and nothing inherited from an enclosing git command.
#[allow(dead_code)]
pub fn git_env_command(program: &str, dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(program);
    c.current_dir(dir)
        .stdin(std::process::Stdio::null())
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

/// Runs git and insists on success; its standard output, trimmed.
#[allow(dead_code)]
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let o = git_env_command("git", dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(o.status.success(), "git {args:?} in {dir:?}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Whether the tests of external tools (pre-commit, the wheel, Helm's reference) must run
/// rather than skip: `GUARD_REQUIRE_INTEGRATIONS=1` or `GUARD_REQUIRE_ALL=1` (CI sets both).
#[allow(dead_code)]
pub fn integrations_required() -> bool {
    ["GUARD_REQUIRE_INTEGRATIONS", "GUARD_REQUIRE_ALL"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| v == "1"))
}
