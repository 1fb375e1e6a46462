//! `--config-from REF`: the gate (guard.toml, the baseline, the policies)
//! read from a git commit instead of the work tree, so that a pull request
//! is judged by its base branch's gate; the content checked is still the
//! work tree's.
//!
//! Everything is read with git (`rev-parse`, `ls-tree`, `cat-file`), never
//! through the file system of the ref: a path is checked to stay inside the
//! project before it is asked for, a symbolic link or submodule in the
//! ref's tree is not followed (a guard.toml or baseline that is one is an
//! error; one inside a policy directory is left out), and what is read is
//! bounded. The files are written below a private temporary directory that
//! is removed when the [`Gate`] is dropped.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// The most files a ref's policy directories may hold.
pub const MAX_POLICY_FILES: usize = 10_000;
/// The most bytes read from a ref in all.
pub const MAX_GATE_BYTES: u64 = 64 * 1024 * 1024;

/// The gate of a commit, extracted.
#[derive(Debug)]
pub struct Gate {
    /// The ref as given (`origin/main`).
    pub reference: String,
    /// The commit it names.
    pub commit: String,
    /// The temporary directory the files are in (removed on drop).
    dir: PathBuf,
    /// The git work tree's top level (canonical).
    pub toplevel: PathBuf,
    /// The configuration: its extracted copy and its path from the top
    /// level (`guard.toml`); None: the ref has none, the defaults apply.
    pub config: Option<(PathBuf, String)>,
    /// The baseline's text, when one was asked for and the ref has it.
    pub baseline: Option<(String, String)>,
    /// The extracted policy directories, with their paths from the top level.
    pub policy_dirs: Vec<(PathBuf, String)>,
    /// What the user should know (a baseline the ref lacks, links left out).
    pub notes: Vec<String>,
}

impl Drop for Gate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What to read from the ref.
pub struct Request<'a> {
    pub reference: &'a str,
    /// The project root (canonical).
    pub root: &'a Path,
    /// `--config FILE`: read FILE's path from the ref instead of the root's guard.toml.
    pub config: Option<&'a Path>,
    /// `--baseline FILE`: read FILE's path from the ref.
    pub baseline: Option<&'a Path>,
    /// Read the policies too (not with `--policy` or `--no-policies`).
    pub policies: bool,
}

/// One entry of `git ls-tree`.
struct TreeEntry {
    mode: String,
    kind: String,
    object: String,
    size: u64,
    path: String,
}

/// Read the gate of `req.reference`.
pub fn read(req: &Request) -> Result<Gate, String> {
    let reference = req.reference;
    if reference.is_empty()
        || reference.starts_with('-')
        || reference
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(format!(
            "--config-from {reference:?}: not a git revision (a name may not be empty, start with `-` or hold spaces)"
        ));
    }
    let toplevel = git_text(req.root, &["rev-parse", "--show-toplevel"])
        .map_err(|e| format!("--config-from needs a git work tree: {e}"))?;
    let toplevel = std::fs::canonicalize(toplevel.trim())
        .map_err(|e| format!("--config-from: {}", crate::project::io_reason(&e)))?;
    let commit = git_text(
        &toplevel,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{reference}^{{commit}}"),
        ],
    )
    .map(|s| s.trim().to_string())
    .map_err(|_| format!("--config-from {reference}: no such commit in this repository"))?;
    let root_rel = relative(req.root, &toplevel).ok_or_else(|| {
        format!(
            "--config-from: the project root {} is not inside the git work tree {}",
            req.root.display(),
            toplevel.display()
        )
    })?;
    let dir = private_dir()?;
    let mut gate = Gate {
        reference: reference.to_string(),
        commit,
        dir,
        toplevel,
        config: None,
        baseline: None,
        policy_dirs: Vec::new(),
        notes: Vec::new(),
    };
    let mut budget = MAX_GATE_BYTES;

    // The configuration: the one named, else the root's guard.toml / .guard.toml.
    let config_rel = match req.config {
        Some(p) => Some(gate.inside_project(p, &root_rel, "--config")?),
        None => {
            let mut found = None;
            for name in crate::project::CONFIG_NAMES {
                let rel = join(&root_rel, name);
                if gate.entry(&rel)?.is_some() {
                    found = Some(rel);
                    break;
                }
            }
            found
        }
    };
    let mut config_text = None;
    if let Some(rel) = config_rel {
        match gate.blob(&rel, "the configuration", &mut budget)? {
            Some(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{reference}:{rel}: not UTF-8 text"))?;
                let path = gate.write(&rel, text.as_bytes())?;
                config_text = Some(text);
                gate.config = Some((path, rel));
            }
            None if req.config.is_some() => {
                return Err(format!("--config-from {reference}: it has no {rel}"));
            }
            None => {}
        }
    }

    if let Some(p) = req.baseline {
        let rel = gate.inside_project(p, &root_rel, "--baseline")?;
        match gate.blob(&rel, "the baseline", &mut budget)? {
            Some(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("{reference}:{rel}: not UTF-8 text"))?;
                gate.baseline = Some((text, rel));
            }
            None => gate.notes.push(format!(
                "{reference} has no {rel}: no finding is left out by a baseline"
            )),
        }
    }

    if req.policies {
        // The configuration's `policies` (relative to it), else the root's policy/ and policies/.
        let listed = config_text.as_deref().and_then(|t| {
            crate::config::Config::parse(t, &|_: &str| true)
                .ok()
                .and_then(|c| c.policies)
        });
        let dirs: Vec<String> = match listed {
            Some(list) => {
                let base = gate
                    .config
                    .as_ref()
                    .map(|(_, rel)| parent(rel).to_string())
                    .unwrap_or_else(|| root_rel.clone());
                let mut dirs = Vec::new();
                for p in list {
                    let rel = normalise(&join(&base, &p.value)).filter(|r| within(r, &root_rel));
                    match rel {
                        Some(rel) => dirs.push(rel),
                        None => {
                            return Err(format!(
                                "{reference}:guard.toml: policies `{}` is not a directory inside the project; only `--policy` may name one outside it",
                                p.value
                            ));
                        }
                    }
                }
                dirs
            }
            None => ["policy", "policies"]
                .iter()
                .map(|d| join(&root_rel, d))
                .collect(),
        };
        for rel in dirs {
            if let Some(path) = gate.extract_dir(&rel, &mut budget)? {
                gate.policy_dirs.push((path, rel));
            }
        }
    }
    Ok(gate)
}

impl Gate {
    /// A path given on the command line, as a path from the top level that
    /// stays inside the project root (`..` resolved as written).
    fn inside_project(&self, path: &Path, root_rel: &str, flag: &str) -> Result<String, String> {
        let absolute = std::path::absolute(path).map_err(|e| format!("{flag}: {e}"))?;
        let mut parts: Vec<String> = Vec::new();
        for c in absolute.components() {
            match c {
                Component::ParentDir => {
                    parts.pop();
                }
                Component::CurDir => {}
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::RootDir | Component::Prefix(_) => parts.clear(),
            }
        }
        let top: Vec<String> = self
            .toplevel
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect();
        let rel = parts
            .strip_prefix(top.as_slice())
            .map(|rest| rest.join("/"))
            .filter(|r| !r.is_empty() && within(r, root_rel));
        rel.ok_or_else(|| {
            format!(
                "{flag} {} with --config-from: not a file inside the project",
                path.display()
            )
        })
    }

    /// The ref's entry at `rel` (a path from the top level), if any.
    fn entry(&self, rel: &str) -> Result<Option<TreeEntry>, String> {
        let out = git_bytes(
            &self.toplevel,
            &[
                "ls-tree",
                "-l",
                "-z",
                "--full-tree",
                &self.commit,
                "--",
                rel,
            ],
        )?;
        Ok(parse_ls_tree(&out).into_iter().find(|e| e.path == rel))
    }

    /// The blob at `rel`: None when the ref has nothing there; an error when
    /// it is a link, a directory or too large.
    fn blob(&self, rel: &str, what: &str, budget: &mut u64) -> Result<Option<Vec<u8>>, String> {
        let Some(e) = self.entry(rel)? else {
            return Ok(None);
        };
        let shown = format!("{}:{rel}", self.reference);
        if e.mode == "120000" {
            return Err(format!(
                "{shown}: {what} is a symbolic link in {}; guard does not follow it",
                self.reference
            ));
        }
        if e.kind != "blob" {
            return Err(format!("{shown}: {what} is not a file"));
        }
        take(budget, e.size, &shown)?;
        let mut bytes = self.cat(&[e.object.as_str()])?;
        Ok(bytes.pop())
    }

    /// Every file below the ref's directory `rel`, written out; None when
    /// the ref has no directory there.
    fn extract_dir(&mut self, rel: &str, budget: &mut u64) -> Result<Option<PathBuf>, String> {
        match self.entry(rel)? {
            Some(e) if e.kind == "tree" => {}
            Some(e) if e.mode == "120000" => {
                self.notes.push(format!(
                    "{}:{rel} is a symbolic link; its policies are not read",
                    self.reference
                ));
                return Ok(None);
            }
            _ => return Ok(None),
        }
        let out = git_bytes(
            &self.toplevel,
            &[
                "ls-tree",
                "-r",
                "-l",
                "-z",
                "--full-tree",
                &self.commit,
                "--",
                rel,
            ],
        )?;
        let prefix = format!("{rel}/");
        let mut files: Vec<TreeEntry> = Vec::new();
        let mut links = 0;
        for e in parse_ls_tree(&out) {
            if !e.path.starts_with(&prefix) || normalise(&e.path).as_deref() != Some(&*e.path) {
                continue;
            }
            if e.kind != "blob" || e.mode == "120000" {
                links += 1;
                continue;
            }
            files.push(e);
        }
        if files.len() > MAX_POLICY_FILES {
            return Err(format!(
                "{}:{rel}: more than {MAX_POLICY_FILES} files; not read",
                self.reference
            ));
        }
        if links > 0 {
            self.notes.push(format!(
                "{}:{rel}: {links} symbolic link(s) or submodule(s) left out",
                self.reference
            ));
        }
        for e in &files {
            take(budget, e.size, &format!("{}:{rel}", self.reference))?;
        }
        let objects: Vec<&str> = files.iter().map(|e| e.object.as_str()).collect();
        let contents = self.cat(&objects)?;
        for (e, bytes) in files.iter().zip(contents) {
            self.write(&e.path, &bytes)?;
        }
        let dir = self.dir.join("tree").join(rel);
        std::fs::create_dir_all(&dir).map_err(|e| format!("--config-from: {e}"))?;
        Ok(Some(dir))
    }

    /// The contents of blobs, in order (`git cat-file --batch`).
    fn cat(&self, objects: &[&str]) -> Result<Vec<Vec<u8>>, String> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let mut child = git_command(&self.toplevel)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("--config-from: cannot run git: {e}"))?;
        let input: String = objects.iter().map(|o| format!("{o}\n")).collect();
        let mut stdin = child.stdin.take();
        let writer = std::thread::spawn(move || {
            if let Some(s) = stdin.as_mut() {
                let _ = s.write_all(input.as_bytes());
            }
            drop(stdin);
        });
        let mut out = Vec::new();
        if let Some(mut s) = child.stdout.take() {
            s.read_to_end(&mut out)
                .map_err(|e| format!("--config-from: reading git: {e}"))?;
        }
        let _ = writer.join();
        let status = child
            .wait()
            .map_err(|e| format!("--config-from: git: {e}"))?;
        if !status.success() {
            return Err("--config-from: git cat-file failed".to_string());
        }
        // `<object> blob <size>\n<contents>\n`, per object.
        let mut blobs = Vec::with_capacity(objects.len());
        let mut rest = out.as_slice();
        for _ in objects {
            let header_end = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or("--config-from: git cat-file: a truncated answer")?;
            let header = String::from_utf8_lossy(&rest[..header_end]).into_owned();
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .filter(|_| header.contains(" blob "))
                .ok_or_else(|| format!("--config-from: git cat-file: {header}"))?;
            let body = rest
                .get(header_end + 1..header_end + 1 + size)
                .ok_or("--config-from: git cat-file: a truncated answer")?;
            blobs.push(body.to_vec());
            rest = rest.get(header_end + 2 + size..).unwrap_or(&[]);
        }
        Ok(blobs)
    }

    /// Write `bytes` at `rel` (a normalised path from the top level) below
    /// the private directory.
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<PathBuf, String> {
        if normalise(rel).as_deref() != Some(rel) {
            return Err(format!("--config-from: {rel}: not a plain path"));
        }
        let path = self.dir.join("tree").join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("--config-from: {e}"))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("--config-from: {e}"))?;
        Ok(path)
    }

    /// Where the ref's file `rel` is in the work tree.
    pub fn in_tree(&self, rel: &str) -> PathBuf {
        self.toplevel.join(rel)
    }
}

fn take(budget: &mut u64, size: u64, shown: &str) -> Result<(), String> {
    if size > *budget {
        return Err(format!(
            "{shown}: the gate read from the ref is over {MAX_GATE_BYTES} bytes; not read"
        ));
    }
    *budget -= size;
    Ok(())
}

/// `mode type object size\tpath\0` entries.
fn parse_ls_tree(out: &[u8]) -> Vec<TreeEntry> {
    out.split(|&b| b == 0)
        .filter_map(|rec| {
            let rec = std::str::from_utf8(rec).ok()?;
            let (meta, path) = rec.split_once('\t')?;
            let mut f = meta.split_whitespace();
            let mode = f.next()?.to_string();
            let kind = f.next()?.to_string();
            let object = f.next()?.to_string();
            let size = f.next()?.parse().unwrap_or(0);
            Some(TreeEntry {
                mode,
                kind,
                object,
                size,
                path: path.to_string(),
            })
        })
        .collect()
}

/// git with no pathspec magic, in `dir`.
fn git_command(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C")
        .arg(dir)
        .arg("--literal-pathspecs")
        .stdin(Stdio::null());
    c
}

fn git_bytes(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let o = git_command(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !o.status.success() {
        let err = String::from_utf8_lossy(&o.stderr);
        return Err(err.lines().next().unwrap_or("git failed").to_string());
    }
    Ok(o.stdout)
}

fn git_text(dir: &Path, args: &[&str]) -> Result<String, String> {
    git_bytes(dir, args).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A fresh directory only this process uses.
fn private_dir() -> Result<PathBuf, String> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "guard-gate-{}-{nanos}-{attempt}",
            std::process::id()
        ));
        // create_dir (not _all) fails when it exists: the directory is ours.
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err("--config-from: cannot create a temporary directory".to_string())
}

/// `/`-separated `path` relative to `base`, both canonical.
fn relative(path: &Path, base: &Path) -> Option<String> {
    crate::project::rel_path(path, base)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

/// `a/./b/../c` as `a/c`; None when it climbs above its start or is absolute.
fn normalise(rel: &str) -> Option<String> {
    if rel.starts_with('/') || rel.contains('\\') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for p in rel.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Is `rel` at or below `root` (paths from the top level; `""` is the top)?
fn within(rel: &str, root: &str) -> bool {
    root.is_empty() || rel == root || rel.starts_with(&format!("{root}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert_eq!(normalise("a/./b/../c").as_deref(), Some("a/c"));
        assert_eq!(normalise("../x"), None);
        assert_eq!(normalise("a/../../x"), None);
        assert_eq!(normalise("/etc/passwd"), None);
        assert_eq!(normalise("."), None);
        assert!(within("sub/policies", "sub"));
        assert!(!within("subway/policies", "sub"));
        assert!(within("policies", ""));
    }

    #[test]
    fn refs_that_look_like_options_are_refused() {
        let root = std::env::current_dir().unwrap();
        for bad in ["-h", "--output=/tmp/x", "", "main branch", "a\nb"] {
            let err = read(&Request {
                reference: bad,
                root: &root,
                config: None,
                baseline: None,
                policies: true,
            })
            .unwrap_err();
            assert!(err.contains("not a git revision"), "{bad:?}: {err}");
        }
    }
}
