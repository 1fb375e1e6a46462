//! The ways guard is installed, run as a user runs them: the PyPI wheel in an empty virtual
//! environment, the pre-commit mirror over that wheel with no Rust toolchain on PATH, and the
//! container image. The wheel is the one .ci/run builds (`maturin build --release --locked
//! --out target/wheels`, with a setuptools wheel beside it for the mirror's package); where it
//! is missing the tests skip saying so, and fail under `GUARD_REQUIRE_INTEGRATIONS=1` or
//! `GUARD_REQUIRE_ALL=1`. The container test needs a docker daemon, which CI's machine does not
//! have: it skips visibly unless `GUARD_REQUIRE_DOCKER=1`.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{copy_dir, git, git_env_command, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const VERSION: &str = env!("CARGO_PKG_VERSION");
const MIRROR: &str = ".github/pre-commit-mirror";

fn flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

/// A visible skip, or a failure where the test is required.
fn skip(test: &str, why: &str, required: bool) {
    assert!(!required, "{test} cannot be skipped here: {why}");
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// target/wheels, where .ci/run puts the wheel: the directory and the guard-iac wheel for this
/// version, if there is one.
fn wheelhouse() -> (PathBuf, Option<PathBuf>) {
    let dir = std::env::var_os("GUARD_WHEELHOUSE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("target/wheels"));
    let prefix = format!("guard_iac-{VERSION}-");
    let wheel = fs::read_dir(&dir).ok().and_then(|rd| {
        let mut wheels: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
            })
            .collect();
        wheels.sort();
        wheels.pop()
    });
    (dir, wheel)
}

fn run(c: &mut Command) -> std::process::Output {
    c.stdin(Stdio::null()).output().expect("the command runs")
}

/// A fresh virtual environment: its directory and its bin (Scripts) directory.
fn venv(at: &Path) -> PathBuf {
    let o = run(Command::new("python3").args(["-m", "venv"]).arg(at));
    assert!(o.status.success(), "python3 -m venv: {}", text(&o));
    at.join("bin")
}

#[test]
fn wheel_installs_into_an_empty_venv_and_checks_the_example() {
    const TEST: &str = "wheel_installs_into_an_empty_venv_and_checks_the_example";
    let (dir, Some(wheel)) = wheelhouse() else {
        return skip(
            TEST,
            "no guard-iac wheel in target/wheels (.ci/run builds it: maturin build --release --locked --out target/wheels)",
            common::integrations_required(),
        );
    };
    let scratch = tempfile::tempdir().unwrap();
    let bin = venv(&scratch.path().join("venv"));
    // From the local wheel only: no index.
    let o = run(Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--no-index", "--find-links"])
        .arg(&dir)
        .arg("guard-iac")
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"));
    assert!(o.status.success(), "pip install {wheel:?}: {}", text(&o));
    let guard = bin.join("guard");
    let o = run(Command::new(&guard).arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("guard {VERSION}")
    );
    // The bundled example, as the quick start runs it: findings, exit status 1.
    let o = run(Command::new(&guard)
        .args(["check", "--format", "concise", "fixtures/article"])
        .current_dir(ROOT));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("fixtures/article/ecs/task-definition.json:12:16"),
        "{out}"
    );
}

/// PATH with only the directories of the tools named, none of which may hold cargo or rustc.
fn path_without_rust(tools: &[&str]) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for tool in tools {
        let o = run(Command::new("sh").args(["-c", &format!("command -v {tool}")]));
        assert!(o.status.success(), "{tool} is not on PATH");
        let found = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        // pyenv's shims stand in for the real program: take the one they run.
        let real = if found.to_string_lossy().contains("/shims/") {
            let o = run(Command::new("pyenv").args(["which", tool]));
            PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
        } else {
            found
        };
        let dir = real.parent().unwrap().to_path_buf();
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    for d in &dirs {
        for rust in ["cargo", "rustc", "rustup"] {
            assert!(
                !d.join(rust).exists(),
                "{rust} is in {d:?}, which the test needs on PATH for another tool"
            );
        }
    }
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn pre_commit_mirror_installs_the_wheel_without_a_toolchain_and_blocks_a_public_database() {
    const TEST: &str =
        "pre_commit_mirror_installs_the_wheel_without_a_toolchain_and_blocks_a_public_database";
    let (dir, wheel) = wheelhouse();
    if wheel.is_none() {
        return skip(
            TEST,
            "no guard-iac wheel in target/wheels (.ci/run builds it)",
            common::integrations_required(),
        );
    }
    let has_backend = fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("setuptools-"));
    if !has_backend {
        return skip(
            TEST,
            "no setuptools wheel in target/wheels for the mirror's package (.ci/run downloads it)",
            common::integrations_required(),
        );
    }
    let scratch = tempfile::tempdir().unwrap();

    // The mirror, as the release workflow publishes it: the template in a repository of its own.
    let mirror = scratch.path().join("guard-pre-commit");
    copy_dir(&Path::new(ROOT).join(MIRROR), &mirror);
    git(&mirror, &["init", "--quiet"]);
    git(&mirror, &["add", "-A"]);
    git(&mirror, &["commit", "--quiet", "-m", "mirror"]);
    let rev = git(&mirror, &["rev-parse", "HEAD"]);

    // A sample infrastructure repository whose prod tfvars is about to make its database public.
    let repo = scratch.path().join("infra");
    copy_dir(
        &Path::new(ROOT).join("fixtures/terraform/article-layout"),
        &repo,
    );
    fs::remove_file(repo.join("guard.toml")).unwrap();
    let tfvars = repo.join("environments/prod/terraform.tfvars");
    let public = fs::read_to_string(&tfvars).unwrap();
    assert!(public.contains("db_public = true"));
    fs::write(
        &tfvars,
        public.replace("db_public = true", "db_public = false"),
    )
    .unwrap();
    fs::write(
        repo.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: '{}'\n    rev: {rev}\n    hooks:\n      - id: guard\n",
            mirror.display()
        ),
    )
    .unwrap();
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "--quiet", "-m", "a private database"]);

    // No cargo, rustc or rustup on PATH; pip sees the local wheels and no index.
    let path = path_without_rust(&["git", "pre-commit", "python3", "bash", "env"]);
    let home = scratch.path().join("home");
    fs::create_dir(&home).unwrap();
    let hook = |program: &str| {
        let mut c = git_env_command(program, &repo);
        c.env("PATH", &path)
            .env("HOME", &home)
            .env("PRE_COMMIT_HOME", scratch.path().join("pre-commit-home"))
            .env("PRE_COMMIT_COLOR", "never")
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &dir)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env_remove("CARGO_HOME")
            .env_remove("RUSTUP_HOME")
            .env_remove("SKIP");
        c
    };
    let o = run(hook("/bin/sh").args(["-c", "command -v cargo || command -v rustc"]));
    assert!(
        !o.status.success(),
        "a Rust toolchain is on PATH: {}",
        text(&o)
    );

    let started = Instant::now();
    let o = run(hook("pre-commit").arg("install"));
    assert!(o.status.success(), "pre-commit install: {}", text(&o));
    fs::write(&tfvars, &public).unwrap();
    git(&repo, &["add", "environments/prod/terraform.tfvars"]);
    let before = git(&repo, &["rev-parse", "HEAD"]);
    let o = run(hook("git").args(["commit", "-m", "make the database public"]));
    let took = started.elapsed();
    let out = text(&o);
    assert!(!o.status.success(), "the commit must be refused:\n{out}");
    assert!(
        out.contains("DB001") && out.contains("terraform.tfvars"),
        "{out}"
    );
    assert_eq!(git(&repo, &["rev-parse", "HEAD"]), before);
    let _ = writeln!(
        std::io::stderr(),
        "{TEST}: hook installed from the wheel and run in {:.1} s",
        took.as_secs_f64()
    );
    assert!(
        took < Duration::from_secs(60),
        "installing and running the hook took {took:?}"
    );
}

/// The mirror pins the wheel of the same version, and its hook is the in-repository hook
/// installed another way: same entry, same files.
#[test]
fn pre_commit_mirror_matches_the_package_and_the_source_hook() {
    let pyproject =
        fs::read_to_string(Path::new(ROOT).join(MIRROR).join("pyproject.toml")).unwrap();
    assert!(
        pyproject.contains(&format!("\nversion = \"{VERSION}\"\n")),
        "{MIRROR}/pyproject.toml: version must be {VERSION}"
    );
    assert!(
        pyproject.contains(&format!("dependencies = [\"guard-iac=={VERSION}\"]")),
        "{MIRROR}/pyproject.toml must depend on guard-iac=={VERSION}"
    );
    let hook_lines = |path: &Path| -> Vec<String> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim_start().starts_with("description:"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        hook_lines(&Path::new(ROOT).join(MIRROR).join(".pre-commit-hooks.yaml")),
        hook_lines(&Path::new(ROOT).join(".pre-commit-hooks.yaml")),
        "the mirror's hook and the in-repository hook differ"
    );
    // The defaults do not live in `args:`, which a user's configuration replaces.
    let manifest = fs::read_to_string(Path::new(ROOT).join(".pre-commit-hooks.yaml")).unwrap();
    assert!(manifest.contains("entry: guard check --allow-empty\n"));
    assert!(!manifest.contains("\n  args:"));
}

/// One name everywhere a user types it: the package guard-iac, the binary guard.
#[test]
fn the_package_is_guard_iac_everywhere() {
    assert_eq!(env!("CARGO_PKG_NAME"), "guard-iac");
    let pyproject = fs::read_to_string(Path::new(ROOT).join("pyproject.toml")).unwrap();
    assert!(pyproject.contains("\nname = \"guard-iac\"\n"));
    assert!(pyproject.contains("\nbindings = \"bin\"\n"));
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    for line in [
        "pipx install guard-iac",
        "uvx --from guard-iac guard",
        "cargo binstall guard-iac",
        "cargo install --locked guard-iac",
        "ghcr.io/guard-iac/guard",
        "repo: https://github.com/guard-iac/guard-pre-commit",
        "uses: guard-iac/guard@",
    ] {
        assert!(
            readme.contains(line),
            "README's install section lacks `{line}`"
        );
    }
    assert!(!readme.contains("<repository URL>"));
    let repository = env!("CARGO_PKG_REPOSITORY");
    assert_eq!(repository, "https://github.com/guard-iac/guard");
    for file in ["action.yml", "docs/workflows/guard.yml", "Dockerfile"] {
        let t = fs::read_to_string(Path::new(ROOT).join(file)).unwrap();
        assert!(
            !t.contains("guard-dev/"),
            "{file} names the old placeholder"
        );
    }
}

#[test]
fn container_image_checks_the_example() {
    const TEST: &str = "container_image_checks_the_example";
    let required = flag("GUARD_REQUIRE_DOCKER");
    let daemon = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !daemon {
        return skip(
            TEST,
            "no docker daemon reachable (GUARD_REQUIRE_DOCKER=1 makes this a failure)",
            required,
        );
    }
    let tag = format!("guard-iac-test:{VERSION}");
    let o = run(Command::new("docker")
        .args(["build", "--quiet", "--tag", &tag, "."])
        .current_dir(ROOT));
    assert!(o.status.success(), "docker build: {}", text(&o));
    let o = run(Command::new("docker")
        .args(["run", "--rm", "--read-only", "--network", "none", "-v"])
        .arg(format!("{ROOT}/fixtures/article:/src:ro"))
        .args([&tag, "check", "--format", "concise", "/src"]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("ecs/task-definition.json:12:16"), "{out}");
    let o = run(Command::new("docker").args([
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}",
        &tag,
    ]));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "nonroot:nonroot");
}

/// cargo-binstall's templates in Cargo.toml, rendered for the host, name the archive `dist build`
/// made and the binary's place in it.
#[test]
fn binstall_metadata_finds_the_dist_archive() {
    const TEST: &str = "binstall_metadata_finds_the_dist_archive";
    let host = String::from_utf8(run(Command::new("rustc").arg("-vV")).stdout)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let archive = Path::new(ROOT).join(format!("target/distrib/guard-iac-{host}.tar.gz"));
    if !archive.is_file() {
        return skip(
            TEST,
            "no dist archive in target/distrib (.ci/release makes it with dist build)",
            common::integrations_required(),
        );
    }
    let manifest: toml_edit::DocumentMut = fs::read_to_string(Path::new(ROOT).join("Cargo.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let binstall = &manifest["package"]["metadata"]["binstall"];
    let render = |key: &str| {
        binstall[key]
            .as_str()
            .unwrap_or_else(|| panic!("binstall {key}"))
            .replace("{ repo }", env!("CARGO_PKG_REPOSITORY"))
            .replace("{ version }", VERSION)
            .replace("{ name }", "guard-iac")
            .replace("{ target }", &host)
            .replace("{ archive-suffix }", ".tar.gz")
            .replace("{ bin }", "guard")
            .replace("{ binary-ext }", "")
    };
    assert_eq!(binstall["pkg-fmt"].as_str(), Some("tgz"));
    let url = render("pkg-url");
    assert_eq!(
        url,
        format!(
            "https://github.com/guard-iac/guard/releases/download/v{VERSION}/guard-iac-{host}.tar.gz"
        )
    );
    let listing = run(Command::new("tar").arg("-tzf").arg(&archive));
    assert!(listing.status.success(), "{}", text(&listing));
    let bin = render("bin-dir");
    assert!(
        String::from_utf8_lossy(&listing.stdout)
            .lines()
            .any(|l| l == bin),
        "{bin} is not in {archive:?}: {}",
        text(&listing)
    );
}
