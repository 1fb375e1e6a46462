//! Walking the paths (honouring `.gitignore` and excludes) and deciding, by
//! name, what syntax each file is. What a YAML or JSON document *means*
//! (Kubernetes, compose, ECS...) is decided from its content in `model`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::project::Plan;

use globset::{Glob, GlobSet, GlobSetBuilder};

/// Files larger than this are skipped (and counted in `--stats`): the
/// project plan's default (`[limits] max-file-size` overrides it).
pub use crate::project::MAX_FILE_BYTES;

/// The syntax of a file, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Syntax {
    /// `.tf`
    Terraform,
    /// `.tfvars`
    TfVars,
    /// `.tf.json`, `.tfvars.json`
    TerraformJson,
    /// Terragrunt's `.hcl` files (`terragrunt.hcl`, `root.hcl`, `env.hcl`;
    /// not `.terraform.lock.hcl` or Packer's `.pkr.hcl`).
    Terragrunt,
    Yaml,
    Json,
    Dockerfile,
    /// guard's own configuration (read, never checked).
    Toml,
    /// Plain text guard models no further, read only to look for literal
    /// secrets (SEC011): see [`is_text_name`].
    Text,
    /// No syntax: a path that could not be read (a directory, a link).
    Other,
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
        } else if crate::terragrunt::is_terragrunt_file(&lower) {
            Some(Syntax::Terragrunt)
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
        } else if is_text_name(&lower) {
            Some(Syntax::Text)
        } else {
            None
        }
    }
}

/// Text files read only for the secret scan (SEC011), by lower-case name:
/// dotenv files (`.env`, `.env.prod`, `prod.env`), templates rendered
/// into configuration (`*.tpl`, `*.tftpl`, `*.tmpl`), shell scripts
/// (`*.sh`, `*.bash`), Java properties, INI and other configuration files
/// (`*.properties`, `*.ini`, `*.conf`, `*.cfg`, `*.cnf`, `*.toml` but `guard.toml`, which
/// Conftest policies also read) and package
/// manager credentials (`.npmrc`, `.pypirc`). A bounded list of formats that
/// hold `key = value` settings: free text (`*.txt`, `*.md`) and source
/// code are not read.
pub fn is_text_name(lower: &str) -> bool {
    const EXT: &[&str] = &[
        ".env",
        ".tpl",
        ".tftpl",
        ".tmpl",
        ".sh",
        ".bash",
        ".properties",
        ".ini",
        ".conf",
        ".cfg",
        ".cnf",
        ".toml",
    ];
    // guard's own configuration is read as such, not as text.
    if lower == "guard.toml" {
        return false;
    }
    lower == ".npmrc"
        || lower == ".pypirc"
        || lower == ".env"
        || lower.starts_with(".env.")
        || EXT
            .iter()
            .any(|e| lower.len() > e.len() && lower.ends_with(e))
}

/// A file to read: where it is and how to show it.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub disk_path: Arc<Path>,
    /// Identity: relative to the project root (under the root's prefix),
    /// `/`-separated.
    pub path: Arc<str>,
    /// As shown: relative to the current directory.
    pub shown: Arc<str>,
    /// Relative to the project root (SARIF).
    pub uri: Arc<str>,
    pub syntax: Syntax,
    pub size: u64,
    /// Where, in `path`, environment evidence starts: at the checked root's
    /// own name (or its directory, for a file), never above it.
    pub env_start: usize,
    /// Why it cannot be read, found while walking; reported at line 1.
    pub issue: Option<Issue>,
}

/// Why a path guard should check cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issue {
    /// Over the size limit (`[limits] max-file-size`).
    TooLarge { size: u64, limit: u64 },
    /// Permission denied, an I/O error, a dangling symlink or a loop.
    Unreadable(String),
    /// A symlink whose target is outside the project.
    SymlinkOutside,
    /// A FIFO, socket or device.
    SpecialFile,
}

impl Issue {
    pub fn describe(&self) -> String {
        match self {
            Issue::TooLarge { size, limit } => format!(
                "the file is {size} bytes, over the limit of {limit}; nothing in it was checked \
                 (`[limits] max-file-size` in guard.toml raises the limit)"
            ),
            Issue::Unreadable(reason) => {
                format!("cannot be read: {reason}; nothing in it was checked")
            }
            Issue::SymlinkOutside => {
                "a symlink to a place outside the project; guard never follows it".to_string()
            }
            Issue::SpecialFile => {
                "not a regular file (a FIFO, socket or device); guard never reads one".to_string()
            }
        }
    }
}

/// The path an error of the walk is about.
fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// A file's identity, shown and SARIF paths as shared text: one
/// allocation when they are the same (a monorepo has tens of thousands of
/// files, and each file's paths were copied into its source as well).
pub fn shared_paths(path: String, shown: String, uri: String) -> [Arc<str>; 3] {
    let path: Arc<str> = path.into();
    let like = |s: String| {
        if *s == *path { path.clone() } else { s.into() }
    };
    let (shown, uri) = (like(shown), like(uri));
    [path, shown, uri]
}

/// The shared paths of a file found under `root`: `path` is its identity
/// ([`Plan::identity`]), `rel` its path relative to the root.
fn candidate_paths(
    plan: &Plan,
    root: &crate::project::Root,
    disk: &Path,
    rel: &str,
    path: String,
) -> [Arc<str>; 3] {
    shared_paths(
        path,
        plan.shown(root, disk, rel),
        crate::project::rel_path(disk, &root.uri_base).unwrap_or_else(|| rel.to_string()),
    )
}

/// A placeholder candidate for a path that cannot be read, so that its
/// diagnostic is located like every other finding.
fn issue_candidate(
    plan: &Plan,
    root: &crate::project::Root,
    disk: &std::path::Path,
    rel: &str,
    issue: Issue,
) -> Candidate {
    let name = disk
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let [path, shown, uri] = candidate_paths(plan, root, disk, rel, Plan::identity(root, rel));
    Candidate {
        disk_path: disk.into(),
        shown,
        uri,
        path,
        syntax: Syntax::from_name(&name).unwrap_or(Syntax::Other),
        size: 0,
        env_start: root.env_start,
        issue: Some(issue),
    }
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct WalkStats {
    pub too_large: usize,
    /// Symlinks that lead outside the project (never followed).
    pub outside_links: usize,
    /// Files left out by `--exclude` or `exclude` in guard.toml.
    pub excluded: usize,
    pub not_config: usize,
    pub walk_errors: usize,
    /// Files git tracks that its ignore rules match: checked all the same.
    pub tracked_ignored: usize,
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
    /// The configuration files of nested projects below a root (identity path, file): only
    /// the root's configuration applies to a check of the root.
    pub nested_configs: Vec<(String, PathBuf)>,
    pub stats: WalkStats,
    /// Errors that concern the user (a path that does not exist).
    pub errors: Vec<String>,
}

/// Compile `--exclude` globs. A glob matches the shown path, or any tail
/// of it (`deployment.yaml`, `charts/**` match at any depth, as in
/// `.gitignore`); `dir` or `dir/` also excludes everything below it.
pub fn build_excludes(globs: &[String]) -> Result<Excludes, String> {
    let mut b = GlobSetBuilder::new();
    let mut owner = Vec::new();
    for (gi, g) in globs.iter().enumerate() {
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
            owner.push(gi);
        }
    }
    Ok(Excludes {
        set: b.build().map_err(|e| e.to_string())?,
        owner,
        globs: globs.to_vec(),
        used: (0..globs.len())
            .map(|_| std::sync::atomic::AtomicBool::new(false))
            .collect(),
    })
}

/// Compiled exclude globs, remembering which of them matched something (a
/// glob that matches nothing is a mistake worth a warning).
#[derive(Debug)]
pub struct Excludes {
    set: GlobSet,
    owner: Vec<usize>,
    globs: Vec<String>,
    used: Vec<std::sync::atomic::AtomicBool>,
}

impl Excludes {
    pub fn is_match(&self, path: &str) -> bool {
        let hits = self.set.matches(path);
        for &i in &hits {
            if let Some(u) = self.owner.get(i).and_then(|&g| self.used.get(g)) {
                u.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        !hits.is_empty()
    }

    /// The globs that matched nothing so far.
    pub fn unused(&self) -> Vec<String> {
        self.globs
            .iter()
            .zip(&self.used)
            .filter(|(_, u)| !u.load(std::sync::atomic::Ordering::Relaxed))
            .map(|(g, _)| g.clone())
            .collect()
    }
}

/// Walk the plan's roots. Identity paths are relative to each root (under
/// its prefix); shown paths follow the current directory. The result is
/// sorted by identity path.
pub fn walk(plan: &Plan, excludes: &Excludes) -> Walked {
    let mut candidates = Vec::new();
    let mut projects = Vec::new();
    let mut nested_configs = Vec::new();
    // `.terraform/modules/` of roots where `terraform init` downloaded
    // modules: not part of the repository (skipped and usually ignored),
    // but their Terraform files are read so remote modules can be evaluated.
    let mut downloaded: Vec<(PathBuf, usize)> = Vec::new();
    let mut stats = WalkStats::default();
    let errors = Vec::new();
    let mut issues: Vec<Candidate> = Vec::new();
    for (ri, root) in plan.roots.iter().enumerate() {
        if root.separate {
            projects.push(root.prefix.clone());
        }
        let starts: Vec<PathBuf> = if root.only.is_empty() {
            vec![root.dir.clone()]
        } else {
            root.only.clone()
        };
        for start in starts {
            let walker = ignore::WalkBuilder::new(&start)
                .hidden(false)
                .git_ignore(true)
                .git_exclude(true)
                .require_git(false)
                .follow_links(false)
                .filter_entry(|e| e.file_name() != ".git" && e.file_name() != ".terraform")
                .build_parallel();
            // Directories are read on every thread; each thread gathers what
            // its entries give and hands it over once, when it is done (a
            // message per entry would hold the whole walk in the channel).
            // Merged here, and sorted below, so the order of the walk does
            // not show.
            let (tx, rx) = std::sync::mpsc::channel::<Found>();
            walker.visit(&mut WalkCx {
                plan,
                root,
                ri,
                excludes,
                tx,
            });
            for f in rx {
                candidates.extend(f.candidates);
                issues.extend(f.issues);
                projects.extend(f.projects);
                nested_configs.extend(f.nested_configs);
                downloaded.extend(f.downloaded);
                stats.add(&f.stats);
            }
        }
        // What git tracks is checked even where .gitignore matches it: ignore rules apply to
        // untracked files only, so a committed `prod.tfvars` that a later `*.tfvars` line
        // ignores is still deployed (and a pull request cannot hide a file by ignoring it).
        let mut found = Found::default();
        for rel in tracked_but_ignored(&root.dir) {
            let disk = root.dir.join(&rel);
            let inside_start =
                root.only.is_empty() || root.only.iter().any(|o| disk.starts_with(o));
            if !inside_start
                || rel
                    .components()
                    .any(|c| c.as_os_str() == ".git" || c.as_os_str() == ".terraform")
            {
                continue;
            }
            let entries = ignore::WalkBuilder::new(&disk)
                .standard_filters(false)
                .follow_links(false)
                .max_depth(Some(0))
                .build();
            for entry in entries {
                visit(plan, root, ri, excludes, entry, &mut found);
            }
        }
        stats.tracked_ignored += found.candidates.len();
        candidates.extend(found.candidates);
        issues.extend(found.issues);
        stats.add(&found.stats);
    }
    for (dir, ri) in &downloaded {
        let Some(root) = plan.roots.get(*ri) else {
            continue;
        };
        let walker = ignore::WalkBuilder::new(dir)
            .standard_filters(false)
            .follow_links(false)
            .build();
        for entry in walker.flatten() {
            let name = entry.file_name().to_string_lossy();
            let syntax = Syntax::from_name(&name);
            let json_config = syntax == Some(Syntax::TerraformJson) && name.ends_with(".tf.json");
            if !(matches!(syntax, Some(Syntax::Terraform | Syntax::TfVars)) || json_config)
                || !entry.file_type().is_some_and(|t| t.is_file())
            {
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if size > plan.max_file_bytes {
                stats.too_large += 1;
                continue;
            }
            let disk = entry.path();
            let Some(rel) = crate::project::rel_path(disk, &root.dir) else {
                continue;
            };
            if let Some(syntax) = syntax {
                let [path, shown, uri] =
                    candidate_paths(plan, root, disk, &rel, Plan::identity(root, &rel));
                candidates.push(Candidate {
                    disk_path: disk.into(),
                    shown,
                    path,
                    uri,
                    syntax,
                    size,
                    env_start: root.env_start,
                    issue: None,
                });
            }
        }
    }
    candidates.extend(issues);
    candidates
        .sort_by(|a, b| (&a.path, &a.disk_path, &a.shown).cmp(&(&b.path, &b.disk_path, &b.shown)));
    // The same file reached through overlapping roots is read once.
    let mut seen = crate::hash::HashSet::default();
    candidates.retain(|c| seen.insert(c.disk_path.clone()));
    projects.sort();
    projects.dedup();
    // A file in a nested project takes its environment evidence from its
    // own project's paths only.
    for c in &mut candidates {
        if let Some(p) = projects
            .iter()
            .filter(|p| {
                c.path.len() > p.len()
                    && c.path.starts_with(p.as_str())
                    && c.path.as_bytes().get(p.len()) == Some(&b'/')
            })
            .max_by_key(|p| p.len())
        {
            c.env_start = c.env_start.max(p.len() + 1);
        }
    }
    for (abs, typed) in &plan.file_args {
        let name = abs.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.as_deref().and_then(Syntax::from_name).is_none() {
            stats.unchecked_args.push(typed.clone());
        }
    }
    nested_configs.sort();
    nested_configs.dedup();
    Walked {
        candidates,
        projects,
        nested_configs,
        stats,
        errors,
    }
}

/// The files below `dir` that git tracks although its ignore rules match them
/// (`git ls-files --cached --ignored --exclude-standard`), relative to `dir`; none outside a
/// git work tree or where git cannot run. Bounded: at most [`MAX_TRACKED_IGNORED`].
fn tracked_but_ignored(dir: &Path) -> Vec<PathBuf> {
    let Ok(out) = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        // No hook or fsmonitor command of the repository's configuration runs.
        .args([
            "-c",
            "core.fsmonitor=false",
            "ls-files",
            "-z",
            "--cached",
            "--ignored",
            "--exclude-standard",
            "--",
            ".",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    if !out.status.success() {
        return Vec::new();
    }
    out.stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .filter_map(|p| std::str::from_utf8(p).ok())
        .take(MAX_TRACKED_IGNORED)
        .map(PathBuf::from)
        .collect()
}

/// At most this many tracked-but-ignored files are added to a walk.
const MAX_TRACKED_IGNORED: usize = 100_000;

/// What every walking thread of one root needs; makes one [`Visitor`] per
/// thread.
#[derive(Clone)]
struct WalkCx<'s> {
    plan: &'s Plan,
    root: &'s crate::project::Root,
    ri: usize,
    excludes: &'s Excludes,
    tx: std::sync::mpsc::Sender<Found>,
}

impl<'s> ignore::ParallelVisitorBuilder<'s> for WalkCx<'s> {
    fn build(&mut self) -> Box<dyn ignore::ParallelVisitor + 's> {
        Box::new(Visitor {
            cx: self.clone(),
            found: Found::default(),
        })
    }
}

/// One walking thread's share of the walk, sent when the thread is done.
struct Visitor<'s> {
    cx: WalkCx<'s>,
    found: Found,
}

impl ignore::ParallelVisitor for Visitor<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) -> ignore::WalkState {
        let cx = &self.cx;
        visit(cx.plan, cx.root, cx.ri, cx.excludes, entry, &mut self.found);
        ignore::WalkState::Continue
    }
}

impl Drop for Visitor<'_> {
    fn drop(&mut self) {
        let _ = self.cx.tx.send(std::mem::take(&mut self.found));
    }
}

/// What the entries of a walk give.
#[derive(Default)]
struct Found {
    candidates: Vec<Candidate>,
    issues: Vec<Candidate>,
    projects: Vec<String>,
    nested_configs: Vec<(String, PathBuf)>,
    downloaded: Vec<(PathBuf, usize)>,
    stats: WalkStats,
}

impl WalkStats {
    fn add(&mut self, o: &WalkStats) {
        self.too_large += o.too_large;
        self.outside_links += o.outside_links;
        self.excluded += o.excluded;
        self.not_config += o.not_config;
        self.walk_errors += o.walk_errors;
        self.tracked_ignored += o.tracked_ignored;
        self.unchecked_args.extend(o.unchecked_args.iter().cloned());
    }
}

/// One entry of a root's walk: a candidate, an issue, a nested project, a
/// `.terraform/modules` to read, or only a count.
fn visit(
    plan: &Plan,
    root: &crate::project::Root,
    ri: usize,
    excludes: &Excludes,
    entry: Result<ignore::DirEntry, ignore::Error>,
    found: &mut Found,
) {
    let entry = match entry {
        Ok(e) => e,
        Err(e) => {
            // An unreadable directory (or file) is a located
            // diagnostic, never a silent hole in the check.
            found.stats.walk_errors += 1;
            if let Some(p) = error_path(&e)
                && let Some(rel) = crate::project::rel_path(&p, &root.dir)
            {
                let reason = e
                    .io_error()
                    .map_or_else(|| e.to_string(), crate::project::io_reason);
                found.issues.push(issue_candidate(
                    plan,
                    root,
                    &p,
                    &rel,
                    Issue::Unreadable(reason),
                ));
            }
            return;
        }
    };
    let disk = entry.path();
    let Some(rel) = crate::project::rel_path(disk, &root.dir) else {
        return;
    };
    let path = Plan::identity(root, &rel);
    let Some(ft) = entry.file_type() else {
        return;
    };
    if ft.is_dir() {
        if !rel.is_empty() && crate::project::is_nested_root(disk) {
            found.projects.push(path.clone());
            if let Some(cfg) = crate::project::config_in(disk) {
                let name = cfg
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                found.nested_configs.push((format!("{path}/{name}"), cfg));
            }
        }
        if disk.join(".terraform/modules/modules.json").is_file() {
            found.downloaded.push((disk.join(".terraform/modules"), ri));
        }
        return;
    }
    if excludes.is_match(&rel) || excludes.is_match(&path) {
        found.stats.excluded += 1;
        return;
    }
    let name = entry.file_name().to_string_lossy();
    let syntax = Syntax::from_name(&name);
    // Symlinks are never followed out of the project; inside
    // it, a link to a file is read as that file.
    let mut read_from = disk.to_path_buf();
    if ft.is_symlink() {
        match std::fs::canonicalize(disk) {
            Ok(target) if !plan.inside(&target) => {
                found.stats.outside_links += 1;
                found.issues.push(issue_candidate(
                    plan,
                    root,
                    disk,
                    &rel,
                    Issue::SymlinkOutside,
                ));
                return;
            }
            Ok(target) if target.is_file() && syntax.is_some() => read_from = target,
            // A link to a directory inside the project: its
            // files are walked where they really are.
            Ok(_) => return,
            Err(e) => {
                if syntax.is_some() {
                    found.issues.push(issue_candidate(
                        plan,
                        root,
                        disk,
                        &rel,
                        Issue::Unreadable(format!(
                            "a symlink that leads nowhere readable ({})",
                            crate::project::io_reason(&e)
                        )),
                    ));
                }
                return;
            }
        }
    } else if !ft.is_file() {
        // FIFOs, sockets, devices: never read.
        if syntax.is_some() {
            found
                .issues
                .push(issue_candidate(plan, root, disk, &rel, Issue::SpecialFile));
        }
        return;
    }
    let Some(syntax) = syntax else {
        found.stats.not_config += 1;
        return;
    };
    let size = std::fs::metadata(&read_from).map(|m| m.len()).unwrap_or(0);
    let [path, shown, uri] = candidate_paths(plan, root, disk, &rel, path);
    let mut c = Candidate {
        disk_path: read_from.into(),
        shown,
        uri,
        path,
        syntax,
        size,
        env_start: root.env_start,
        issue: None,
    };
    if size > plan.max_file_bytes {
        found.stats.too_large += 1;
        c.issue = Some(Issue::TooLarge {
            size,
            limit: plan.max_file_bytes,
        });
    }
    found.candidates.push(c);
}

/// What reading a candidate gave.
pub enum Read {
    Text(String),
    /// A NUL byte (not UTF-16): binary content under a configuration name.
    Binary {
        at: usize,
    },
    /// Not UTF-8: the text as far as it can be shown (invalid bytes
    /// replaced) and the byte offset, in that text, of the first invalid
    /// sequence, for a located parse error.
    NotUtf8 {
        text: String,
        at: usize,
    },
    /// The file grew over the size limit after it was walked.
    TooLarge {
        size: u64,
    },
}

/// Read a candidate once, with at most `limit` bytes. A leading UTF-8
/// byte-order mark is dropped, so offsets and columns match what editors
/// show; UTF-16 with a byte-order mark is decoded.
pub fn read_text(c: &Candidate, limit: u64) -> std::io::Result<Read> {
    use std::io::Read as _;
    let file = std::fs::File::open(&c.disk_path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    // Sized from the metadata, so the text is not held with room to spare.
    let mut bytes = Vec::with_capacity(meta.len().min(limit).saturating_add(1) as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(Read::TooLarge {
            size: bytes.len() as u64,
        });
    }
    if let Some(t) = decode_utf16(&bytes) {
        return Ok(t);
    }
    if let Some(at) = memchr::memchr(0, &bytes) {
        return Ok(Read::Binary { at });
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

/// UTF-16 text with a byte-order mark (what some Windows editors save),
/// decoded; an invalid sequence is reported like invalid UTF-8.
fn decode_utf16(bytes: &[u8]) -> Option<Read> {
    let le = match bytes {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return None,
    };
    let units = bytes[2..].chunks(2).map(|c| match (c, le) {
        ([a, b], true) => u16::from_le_bytes([*a, *b]),
        ([a, b], false) => u16::from_be_bytes([*a, *b]),
        _ => 0xFFFD,
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    let mut bad = None;
    for ch in char::decode_utf16(units) {
        match ch {
            Ok(c) => text.push(c),
            Err(_) => {
                bad.get_or_insert(text.len());
                text.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    Some(match bad {
        None => Read::Text(text),
        Some(at) => Read::NotUtf8 { text, at },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_paths_share_one_allocation() {
        let [path, shown, uri] =
            shared_paths("a/b.yaml".into(), "x/a/b.yaml".into(), "a/b.yaml".into());
        assert!(Arc::ptr_eq(&path, &uri));
        assert!(!Arc::ptr_eq(&path, &shown));
        assert_eq!(
            (&*path, &*shown, &*uri),
            ("a/b.yaml", "x/a/b.yaml", "a/b.yaml")
        );
    }

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
        assert_eq!(Syntax::from_name("notes.txt"), None);
        for name in [
            ".env",
            ".env.production",
            "prod.env",
            "user_data.tftpl",
            "app.tpl",
            "deploy.sh",
            "application.properties",
            "my.cnf",
            ".npmrc",
        ] {
            assert_eq!(Syntax::from_name(name), Some(Syntax::Text), "{name}");
        }
        assert_eq!(Syntax::from_name("env"), None);
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
        let plan = crate::project::plan(&[d.to_path_buf()], true).unwrap();
        let w = walk(&plan, &ex);
        // A plain directory is its own root, named in identity paths.
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        let paths: Vec<_> = w.candidates.iter().map(|c| &*c.path).collect();
        assert_eq!(
            paths,
            [
                format!("{name}/a/.github/workflows/ci.yml"),
                format!("{name}/main.tf")
            ]
        );
        assert!(w.stats.not_config >= 2);
        assert_eq!(w.stats.excluded, 1);
        assert!(ex.unused().is_empty());
        let none = build_excludes(&["nothing-here".to_string()]).unwrap();
        walk(&plan, &none);
        assert_eq!(none.unused(), ["nothing-here"]);
    }
}
