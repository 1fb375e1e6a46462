//! The project: where its root is, which files of it the user asked about,
//! and how its paths are shown.
//!
//! guard always builds the model of the whole project (so that a module
//! called with `../../modules/rds`, or the SCP that forbids a region, is
//! read whatever path was typed) and then reports only the findings in the
//! paths given. The root is the nearest directory upward holding
//! `guard.toml` / `.guard.toml` (not above the git work tree), else the git
//! work tree root, else the path itself. Identity paths (classification,
//! fingerprints, messages) are relative to the root, so they never depend on
//! the current directory; shown paths are relative to the current directory.

use std::path::{Component, Path, PathBuf};

/// The names of the configuration file, in order of preference.
pub const CONFIG_NAMES: [&str; 2] = ["guard.toml", ".guard.toml"];

/// Why a directory is a project root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootKind {
    /// It holds this configuration file.
    Config(PathBuf),
    /// It is a git work tree.
    Git,
    /// Nothing marks a project: the checked path itself (for a file, its
    /// directory). Its own name is environment evidence (`guard check prod`).
    Path,
}

/// One root to walk.
#[derive(Clone, Debug)]
pub struct Root {
    /// Canonical directory.
    pub dir: PathBuf,
    pub kind: RootKind,
    /// Prefix of the identity paths of its files (`""`, or the root's name
    /// when several roots are checked together or the root is a plain path).
    pub prefix: String,
    /// Where environment evidence starts in those paths.
    pub env_start: usize,
    /// A project of its own for cross-file reasoning (several roots).
    pub separate: bool,
    /// Walk only these paths below `dir` (`--no-project` on files); empty:
    /// all of it.
    pub only: Vec<PathBuf>,
    /// What SARIF URIs and GitHub annotations are relative to: the git work
    /// tree holding the root (code scanning resolves paths against the
    /// repository), else the root itself.
    pub uri_base: PathBuf,
}

/// What to walk and what to report.
#[derive(Clone, Debug)]
pub struct Plan {
    pub roots: Vec<Root>,
    /// Identity-path prefixes the user asked about; None: everything.
    pub scope: Option<Vec<String>>,
    /// The entries of `scope` that name files: a finding is reported for
    /// them only when its primary location is in one (a chain place in a
    /// named file is not enough), as the pre-commit hook needs.
    pub file_scope: Vec<String>,
    /// Input paths that are files (for "not a format guard checks").
    pub file_args: Vec<(PathBuf, String)>,
    pub cwd: Option<PathBuf>,
    /// Files larger than this are not read (`[limits] max-file-size`).
    pub max_file_bytes: u64,
}

/// Files larger than this are not read (and counted in `--stats`), unless
/// `[limits] max-file-size` says otherwise.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The nearest project root at or above `start` (a directory).
pub fn find_root(start: &Path) -> (PathBuf, RootKind) {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if let Some(cfg) = config_in(d) {
            return (d.to_path_buf(), RootKind::Config(cfg));
        }
        if d.join(".git").exists() {
            return (d.to_path_buf(), RootKind::Git);
        }
        dir = d.parent();
    }
    (start.to_path_buf(), RootKind::Path)
}

/// `guard.toml` (or `.guard.toml`) in `dir`.
pub fn config_in(dir: &Path) -> Option<PathBuf> {
    CONFIG_NAMES
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// The top-level keys and tables a configuration file sets (`environments`, `select`...), in
/// order of first appearance; empty for a file of comments only. A line scan of at most the
/// first 1 MiB, at most 20 names: enough to say what a nested project's file would change.
pub fn config_settings(path: &Path) -> Vec<String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(1 << 20).read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut out: Vec<String> = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        let line = line.trim();
        let name = if let Some(rest) = line.strip_prefix('[') {
            in_table = true;
            let rest = rest.trim_start_matches('[').trim_start();
            rest.split(['.', ']']).next().unwrap_or("").trim()
        } else if !in_table && !line.starts_with('#') {
            line.split('=').next().unwrap_or("").trim()
        } else {
            ""
        };
        let name = name.trim_matches('"');
        if !name.is_empty() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
            if out.len() >= 20 {
                break;
            }
        }
    }
    out
}

/// Does `dir` start a project of its own (a nested repository or a
/// directory with its own guard.toml)?
pub fn is_nested_root(dir: &Path) -> bool {
    dir.join(".git").exists() || config_in(dir).is_some()
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `/`-separated relative path of `path` below `base`.
pub fn rel_path(path: &Path, base: &Path) -> Option<String> {
    // The walker's paths are clean joins below the base: cut the text when
    // nothing needs normalising (splitting every path into components was
    // more than half of the walk's instructions).
    if let (Some(p), Some(b)) = (path.to_str(), base.to_str())
        && !b.is_empty()
        && !b.ends_with('/')
        && let Some(rest) = p.strip_prefix(b)
    {
        if rest.is_empty() {
            return Some(String::new());
        }
        if let Some(rest) = rest.strip_prefix('/')
            && rest
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..")
        {
            return Some(rest.to_string());
        }
    }
    rel_path_by_components(path, base)
}

/// [`rel_path`] the general way, one component at a time.
fn rel_path_by_components(path: &Path, base: &Path) -> Option<String> {
    let rel = path.strip_prefix(base).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

fn join(prefix: &str, rel: &str) -> String {
    match (prefix.is_empty(), rel.is_empty()) {
        (true, _) => rel.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}/{rel}"),
    }
}

/// Resolve the inputs into roots and a scope. With `whole_project` false
/// (`--no-project`), every input is its own root and nothing is filtered.
pub fn plan(inputs: &[PathBuf], whole_project: bool) -> Result<Plan, String> {
    let cwd = std::env::current_dir().and_then(std::fs::canonicalize).ok();
    let mut resolved: Vec<(PathBuf, PathBuf, RootKind)> = Vec::new();
    let mut file_args = Vec::new();
    for input in inputs {
        let abs = std::fs::canonicalize(input)
            .map_err(|e| format!("{}: {}", input.display(), io_reason(&e)))?;
        let dir = if abs.is_dir() {
            abs.clone()
        } else {
            abs.parent().map_or_else(|| abs.clone(), Path::to_path_buf)
        };
        let (root, kind) = if whole_project {
            find_root(&dir)
        } else {
            (dir.clone(), RootKind::Path)
        };
        if !abs.is_dir() {
            file_args.push((abs.clone(), input.display().to_string()));
        }
        resolved.push((abs, root, kind));
    }
    // One root per distinct directory, in input order.
    let mut roots: Vec<Root> = Vec::new();
    for (abs, dir, kind) in &resolved {
        // Without the project, a file is walked alone.
        let only = if !whole_project && abs != dir {
            vec![abs.clone()]
        } else {
            Vec::new()
        };
        if let Some(r) = roots.iter_mut().find(|r| r.dir == *dir) {
            if r.only.is_empty() || only.is_empty() {
                r.only.clear();
            } else {
                r.only.extend(only);
            }
            continue;
        }
        let uri_base = dir
            .ancestors()
            .find(|d| d.join(".git").exists())
            .unwrap_or(dir)
            .to_path_buf();
        roots.push(Root {
            dir: dir.clone(),
            kind: kind.clone(),
            prefix: String::new(),
            env_start: 0,
            separate: false,
            only,
            uri_base,
        });
    }
    // A root inside another root is walked as part of it.
    let dirs: Vec<PathBuf> = roots.iter().map(|r| r.dir.clone()).collect();
    roots.retain(|r| !dirs.iter().any(|d| *d != r.dir && r.dir.starts_with(d)));
    let several = roots.len() > 1;
    let mut used: Vec<String> = Vec::new();
    for r in &mut roots {
        let marked = r.kind != RootKind::Path;
        if several || !marked {
            let base = name_of(&r.dir);
            let mut name = if base.is_empty() {
                "root".to_string()
            } else {
                base
            };
            let mut n = 2;
            while used.contains(&name) {
                name = format!("{}~{n}", name_of(&r.dir));
                n += 1;
            }
            used.push(name.clone());
            r.prefix = name;
            // A marked root's own name is not evidence; a plain path's is.
            r.env_start = if marked { r.prefix.len() + 1 } else { 0 };
            r.separate = several && marked;
        }
    }
    // The scope: what the user named, as identity paths.
    let mut scope = Vec::new();
    let mut file_scope = Vec::new();
    let mut everything = !whole_project;
    for (abs, _, _) in &resolved {
        let Some(root) = roots.iter().find(|r| abs.starts_with(&r.dir)) else {
            continue;
        };
        let Some(rel) = rel_path(abs, &root.dir) else {
            continue;
        };
        if rel.is_empty() {
            everything = true;
        }
        if !abs.is_dir() {
            file_scope.push(join(&root.prefix, &rel));
        }
        scope.push(join(&root.prefix, &rel));
    }
    scope.sort();
    scope.dedup();
    Ok(Plan {
        roots,
        scope: (!everything).then_some(scope),
        file_scope,
        file_args,
        cwd,
        max_file_bytes: MAX_FILE_BYTES,
    })
}

impl Plan {
    /// The identity path of a file below `root`.
    pub fn identity(root: &Root, rel: &str) -> String {
        join(&root.prefix, rel)
    }

    /// How a file is shown: relative to the current directory when the
    /// project and the current directory overlap (with `..` when the file is
    /// above it), else by the root's name and the relative path.
    pub fn shown(&self, root: &Root, disk: &Path, rel: &str) -> String {
        if let Some(cwd) = &self.cwd {
            if let Some(r) = rel_path(disk, cwd) {
                return r;
            }
            if cwd.starts_with(&root.dir)
                && let Some(up) = relative_up(cwd, disk)
            {
                return up;
            }
        }
        if root.prefix.is_empty() {
            join(&name_of(&root.dir), rel)
        } else {
            join(&root.prefix, rel)
        }
    }

    /// Is a canonical path inside the project (one of its roots)? Nothing
    /// outside is ever read: not through a symlink, not by a function.
    pub fn inside(&self, canonical: &Path) -> bool {
        self.roots.iter().any(|r| canonical.starts_with(&r.dir))
    }

    /// Is an identity path inside what the user asked about?
    pub fn in_scope(&self, path: &str) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => scope.iter().any(|s| below(path, s)),
        }
    }

    /// Is an identity path inside a directory the user asked about? A
    /// finding whose chain passes there is reported; a file the user named
    /// reports only the findings located in it.
    pub fn in_dir_scope(&self, path: &str) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => scope
                .iter()
                .filter(|s| !self.file_scope.contains(s))
                .any(|s| below(path, s)),
        }
    }
}

/// Is `path` the identity path `s`, or below it?
fn below(path: &str, s: &str) -> bool {
    path == s
        || (path.len() > s.len()
            && path.starts_with(s)
            && path.as_bytes().get(s.len()) == Some(&b'/'))
}

/// `to` relative to `from` (a directory), with `..` steps: both absolute.
fn relative_up(from: &Path, to: &Path) -> Option<String> {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut parts: Vec<String> = vec!["..".to_string(); f.len() - common];
    parts.extend(
        t[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    Some(parts.join("/"))
}

/// Read a file only if it really is inside one of `boundary` (the
/// canonical project roots; empty: nothing is readable), is a regular file
/// (not a FIFO, device or `/proc` entry) and holds at most `max` bytes.
/// Symlinks are resolved first, so a link out of the project is refused.
pub fn read_inside(path: &Path, boundary: &[PathBuf], max: u64) -> Option<String> {
    use std::io::Read as _;
    let real = std::fs::canonicalize(path).ok()?;
    if !boundary.iter().any(|b| real.starts_with(b)) {
        return None;
    }
    let file = std::fs::File::open(&real).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut text = String::new();
    file.take(max).read_to_string(&mut text).ok()?;
    Some(text)
}

/// An I/O error as a user reads it.
pub fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rel_path_cuts_text_only_when_components_agree() {
        for (p, b) in [
            ("/r/a/b.yaml", "/r"),
            ("/r", "/r"),
            ("/r/", "/r"),
            ("/rx/a", "/r"),
            ("/r//a/./b", "/r"),
            ("/r/a/../b", "/r"),
            ("/r/a", "/r/"),
            ("/a", "/"),
            ("r/a", "r"),
            ("r/a", ""),
            ("/other/a", "/r"),
        ] {
            assert_eq!(
                rel_path(Path::new(p), Path::new(b)),
                rel_path_by_components(Path::new(p), Path::new(b)),
                "{p} below {b}"
            );
        }
    }

    #[test]
    fn roots_scope_and_shown_paths() {
        let dir = tempfile::tempdir().unwrap();
        let d = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(d.join("repo/.git")).unwrap();
        std::fs::create_dir_all(d.join("repo/environments/prod")).unwrap();
        std::fs::create_dir_all(d.join("repo/modules/rds")).unwrap();
        std::fs::write(d.join("repo/environments/prod/main.tf"), "").unwrap();
        let (root, kind) = find_root(&d.join("repo/environments/prod"));
        assert_eq!((root, kind), (d.join("repo"), RootKind::Git));
        let p = plan(&[d.join("repo/environments/prod")], true).unwrap();
        assert_eq!(p.roots.len(), 1);
        assert_eq!(p.roots[0].prefix, "");
        assert_eq!(p.scope, Some(vec!["environments/prod".to_string()]));
        assert!(p.in_scope("environments/prod/main.tf"));
        assert!(!p.in_scope("environments/production/main.tf"));
        assert!(!p.in_scope("modules/rds/main.tf"));
        let everything = plan(&[d.join("repo")], true).unwrap();
        assert_eq!(everything.scope, None);
        // guard.toml wins over git, and stops the search below it.
        std::fs::write(d.join("repo/environments/guard.toml"), "").unwrap();
        let (root, kind) = find_root(&d.join("repo/environments/prod"));
        assert_eq!(root, d.join("repo/environments"));
        assert!(matches!(kind, RootKind::Config(_)));
        // Without the project, the path is its own root, named.
        let np = plan(&[d.join("repo/environments/prod")], false).unwrap();
        assert_eq!(np.roots[0].prefix, "prod");
        assert_eq!(np.roots[0].env_start, 0);
        assert_eq!(np.scope, None);
        assert_eq!(
            relative_up(
                &d.join("repo/environments/prod"),
                &d.join("repo/modules/rds/main.tf")
            )
            .as_deref(),
            Some("../../modules/rds/main.tf")
        );
    }
}
