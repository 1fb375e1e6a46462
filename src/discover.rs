//! Walking the paths (honouring `.gitignore` and excludes) and deciding, by
//! name, what syntax each file is. What a YAML or JSON document *means*
//! (Kubernetes, compose, ECS...) is decided from its content in `model`.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Files larger than this are skipped (and counted in `--stats`).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The syntax of a file, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Syntax {
    /// `.tf`
    Terraform,
    /// `.tfvars`
    TfVars,
    /// `.tf.json`, `.tfvars.json`
    TerraformJson,
    Yaml,
    Json,
    Dockerfile,
}

impl Syntax {
    pub fn from_name(name: &str) -> Option<Syntax> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".tf.json") || lower.ends_with(".tfvars.json") {
            Some(Syntax::TerraformJson)
        } else if lower.ends_with(".tf") {
            Some(Syntax::Terraform)
        } else if lower.ends_with(".tfvars") {
            Some(Syntax::TfVars)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Syntax::Yaml)
        } else if lower.ends_with(".json") {
            Some(Syntax::Json)
        } else if lower == "dockerfile"
            || lower == "containerfile"
            || lower.starts_with("dockerfile.")
            || lower.ends_with(".dockerfile")
        {
            Some(Syntax::Dockerfile)
        } else {
            None
        }
    }
}

/// A file to read: where it is and how to show it.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub disk_path: PathBuf,
    /// Relative to the scan root, `/`-separated.
    pub path: String,
    pub syntax: Syntax,
    pub size: u64,
    /// Where, in `path`, environment evidence starts: at the checked root's
    /// own name (or its directory, for a file), never above it.
    pub env_start: usize,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct WalkStats {
    pub too_large: usize,
    pub not_config: usize,
    pub walk_errors: usize,
    /// Files named on the command line that are no format guard checks
    /// (a CI job that names the wrong file should hear about it).
    pub unchecked_args: Vec<String>,
}

#[derive(Debug)]
pub struct Walked {
    pub candidates: Vec<Candidate>,
    /// Directories (shown paths) below the scan root that are git
    /// repositories of their own: a tree of several repositories is several
    /// projects, and cross-file rules stay within one.
    pub projects: Vec<String>,
    pub stats: WalkStats,
    /// Errors that concern the user (a path that does not exist).
    pub errors: Vec<String>,
}

/// Compile `--exclude` globs. A glob matches the shown path, or any tail
/// of it (`deployment.yaml`, `charts/**` match at any depth, as in
/// `.gitignore`); `dir` or `dir/` also excludes everything below it.
pub fn build_excludes(globs: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let trimmed = g.trim_end_matches('/');
        let anchored = trimmed.strip_prefix("./").unwrap_or(trimmed);
        let mut patterns = vec![anchored.to_string(), format!("{anchored}/**")];
        if !anchored.starts_with("**/") && !anchored.starts_with('/') {
            patterns.push(format!("**/{anchored}"));
            patterns.push(format!("**/{anchored}/**"));
        }
        for p in patterns {
            let glob =
                Glob::new(p.trim_start_matches('/')).map_err(|e| format!("--exclude {g}: {e}"))?;
            b.add(glob);
        }
    }
    b.build().map_err(|e| e.to_string())
}

/// Walk `roots`. Paths are shown relative to each root (a file root is shown
/// by its own name). The result is sorted by path.
pub fn walk(roots: &[PathBuf], excludes: &GlobSet) -> Walked {
    let mut candidates = Vec::new();
    let mut projects = Vec::new();
    // `.terraform/modules/` of roots where `terraform init` downloaded
    // modules: not part of the repository (skipped and usually ignored),
    // but their Terraform files are read so remote modules can be evaluated.
    let mut downloaded: Vec<(PathBuf, PathBuf, usize)> = Vec::new();
    let mut stats = WalkStats::default();
    let mut errors = Vec::new();
    for root in roots {
        if !root.exists() {
            errors.push(format!("{}: no such file or directory", root.display()));
            continue;
        }
        let (root, base) = display_base(root);
        let root = &root;
        let base: &Path = &base;
        let env_start = env_start_of(root, base);
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .require_git(false)
            .follow_links(true)
            .filter_entry(|e| e.file_name() != ".git" && e.file_name() != ".terraform")
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(_) => {
                    stats.walk_errors += 1;
                    continue;
                }
            };
            let disk = entry.path();
            let rel = disk.strip_prefix(base).unwrap_or(disk);
            let path = shown_path(rel);
            if entry.file_type().is_some_and(|t| t.is_dir()) {
                if !path.is_empty() && disk.join(".git").exists() {
                    projects.push(path.clone());
                }
                if disk.join(".terraform/modules/modules.json").is_file() {
                    downloaded.push((
                        disk.join(".terraform/modules"),
                        base.to_path_buf(),
                        env_start,
                    ));
                }
                continue;
            }
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            if excludes.is_match(&path) {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            let Some(syntax) = Syntax::from_name(&name) else {
                stats.not_config += 1;
                if entry.depth() == 0 {
                    stats.unchecked_args.push(path);
                }
                continue;
            };
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > MAX_FILE_BYTES {
                stats.too_large += 1;
                continue;
            }
            candidates.push(Candidate {
                disk_path: disk.to_path_buf(),
                path,
                syntax,
                size,
                env_start,
            });
        }
    }
    for (dir, base, env_start) in &downloaded {
        let walker = ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .follow_links(false)
            .build();
        for entry in walker.flatten() {
            let name = entry.file_name().to_string_lossy();
            let syntax = Syntax::from_name(&name);
            if !matches!(syntax, Some(Syntax::Terraform | Syntax::TfVars))
                || !entry.file_type().is_some_and(|t| t.is_file())
            {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > MAX_FILE_BYTES {
                stats.too_large += 1;
                continue;
            }
            let disk = entry.path();
            let rel = disk.strip_prefix(base).unwrap_or(disk);
            let path = shown_path(rel);
            if let Some(syntax) = syntax {
                candidates.push(Candidate {
                    disk_path: disk.to_path_buf(),
                    path,
                    syntax,
                    size,
                    env_start: *env_start,
                });
            }
        }
    }
    candidates.sort_by(|a, b| a.path.cmp(&b.path));
    // The same file reached through overlapping roots is read once.
    let mut seen = std::collections::HashSet::new();
    candidates.retain(|c| seen.insert(c.disk_path.clone()));
    projects.sort();
    projects.dedup();
    Walked {
        candidates,
        projects,
        stats,
        errors,
    }
}

/// The byte length of the shown-path prefix above the checked root: the
/// root's own name (a file root: its directory's name) is kept, so
/// `guard check environments/prod` still sees `prod`.
fn env_start_of(root: &Path, base: &Path) -> usize {
    let dir = if root.is_file() {
        root.parent().unwrap_or(root)
    } else {
        root
    };
    let Ok(rel) = dir.strip_prefix(base) else {
        return 0;
    };
    let shown = shown_path(rel);
    match shown.rfind('/') {
        Some(i) => i + 1,
        None => 0,
    }
}

/// A relative path as shown: `/`-separated.
fn shown_path(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The root to walk and the directory paths are shown relative to: the
/// current directory when the root is inside it (so `guard check infra/`
/// reports `infra/main.tf`, as code scanning and editors expect, and the
/// environment in `environments/prod/` is seen even when that directory is
/// the root), else the root's parent, so that the root's own name shows
/// and two roots never give one file's path to another's.
fn display_base(root: &Path) -> (PathBuf, PathBuf) {
    let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    if let Some(cwd) = cwd
        && abs.starts_with(&cwd)
    {
        return (abs, cwd);
    }
    let dir = if abs.is_file() {
        abs.parent().unwrap_or(&abs)
    } else {
        &abs
    };
    let base = dir.parent().unwrap_or(dir).to_path_buf();
    (abs, base)
}

/// What reading a candidate gave.
pub enum Read {
    Text(String),
    /// A NUL byte in the first 8 KiB, or over the size limit: skipped.
    Binary,
    /// Not UTF-8: the text as far as it can be shown (invalid bytes
    /// replaced) and the byte offset, in that text, of the first invalid
    /// sequence, for a located parse error.
    NotUtf8 {
        text: String,
        at: usize,
    },
}

/// Read a candidate once. A leading byte-order mark is dropped, so offsets
/// and columns match what editors show.
pub fn read_text(c: &Candidate) -> std::io::Result<Read> {
    let bytes = std::fs::read(&c.disk_path)?;
    if bytes.len() as u64 > MAX_FILE_BYTES || bytes.iter().take(8192).any(|&b| b == 0) {
        return Ok(Read::Binary);
    }
    let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(t) => Ok(Read::Text(t)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            Ok(Read::NotUtf8 { text, at })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_by_name() {
        assert_eq!(Syntax::from_name("main.tf"), Some(Syntax::Terraform));
        assert_eq!(Syntax::from_name("prod.tfvars"), Some(Syntax::TfVars));
        assert_eq!(
            Syntax::from_name("x.tfvars.json"),
            Some(Syntax::TerraformJson)
        );
        assert_eq!(Syntax::from_name("a.YML"), Some(Syntax::Yaml));
        assert_eq!(Syntax::from_name("task.json"), Some(Syntax::Json));
        assert_eq!(Syntax::from_name("Dockerfile"), Some(Syntax::Dockerfile));
        assert_eq!(
            Syntax::from_name("Dockerfile.multi-stage"),
            Some(Syntax::Dockerfile)
        );
        assert_eq!(
            Syntax::from_name("api.dockerfile"),
            Some(Syntax::Dockerfile)
        );
        assert_eq!(Syntax::from_name("README.md"), None);
    }

    #[test]
    fn walk_honours_gitignore_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/.github/workflows")).unwrap();
        std::fs::create_dir_all(d.join("ignored")).unwrap();
        std::fs::create_dir_all(d.join("skipme")).unwrap();
        std::fs::write(d.join(".gitignore"), "ignored/\n").unwrap();
        std::fs::write(d.join("a/.github/workflows/ci.yml"), "on: push\n").unwrap();
        std::fs::write(d.join("ignored/x.yaml"), "a: 1\n").unwrap();
        std::fs::write(d.join("skipme/y.yaml"), "a: 1\n").unwrap();
        std::fs::write(d.join("main.tf"), "").unwrap();
        std::fs::write(d.join("notes.txt"), "").unwrap();
        let ex = build_excludes(&["skipme".to_string()]).unwrap();
        let w = walk(&[d.to_path_buf()], &ex);
        // A root outside the current directory is shown under its own name.
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let paths: Vec<_> = w.candidates.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                format!("{name}/a/.github/workflows/ci.yml"),
                format!("{name}/main.tf")
            ]
        );
        assert!(w.stats.not_config >= 2);
    }
}
