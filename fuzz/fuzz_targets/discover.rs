//! `.gitignore`-style discovery: the input becomes a `.gitignore` and a few
//! files of a fresh temporary directory (with a comment-only `guard.toml`,
//! so it is a project of its own), the directory is walked with
//! `discover::walk` and then checked with `guard::check`.
//!
//! Input layout: the first byte's low bit puts the `.gitignore` in the root
//! (0) or in `sub/` (1); the rest is split at NUL bytes: the first part is
//! the `.gitignore` body, each later one (at most [`MAX_FILES`]) a file path,
//! lossily decoded and split at `/`. Path components that are empty, `.`,
//! `..`, or a name that would change the walk's rules (`.git`, `.terraform`,
//! `.gitignore`, `.ignore`, `guard.toml`, `.guard.toml`) are dropped, at
//! most 8 components of at most 40 bytes are kept, and a path that clashes
//! with an earlier file or directory is skipped. Every file holds `x: 1`.
//!
//! Invariants checked besides "no panic": walking twice gives the same
//! candidates, sorted by path without duplicates; the candidates are
//! exactly the files written whose names guard reads and that the
//! `.gitignore` does not ignore (by the file's own name or a directory
//! above it), so nothing is skipped in silence and nothing ignored is read;
//! every finding of the check is located on a line >= 1.
#![no_main]

use std::path::Path;

use guard::discover::{Syntax, build_excludes, walk};
use ignore::gitignore::GitignoreBuilder;
use libfuzzer_sys::fuzz_target;

/// At most this many file paths per input.
const MAX_FILES: usize = 6;

/// Names that would change what the walk means: dropped from paths.
const DROPPED: [&str; 9] = [
    "",
    ".",
    "..",
    ".git",
    ".terraform",
    ".gitignore",
    ".ignore",
    "guard.toml",
    ".guard.toml",
];

/// The global git ignore file (`core.excludesFile`, `~/.config/git/ignore`)
/// of whoever runs the fuzzer must not take part: `HOME` and
/// `XDG_CONFIG_HOME` point at an empty directory.
fn isolate() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let home = tempfile::Builder::new()
            .prefix("guard-fuzz-discover-home-")
            .tempdir()
            .expect("temporary directory")
            .keep();
        // SAFETY: set once, before any thread of this process reads them.
        unsafe {
            std::env::set_var("HOME", &home);
            std::env::set_var("XDG_CONFIG_HOME", &home);
            std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
        }
    });
}

/// A path of the input, cleaned (see the layout above); `None` when nothing
/// is left.
fn clean_path(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let parts: Vec<String> = text
        .split('/')
        .filter(|c| !DROPPED.contains(c))
        .take(8)
        .map(|c| {
            let mut end = c.len().min(40);
            while !c.is_char_boundary(end) {
                end -= 1;
            }
            c[..end].to_string()
        })
        .filter(|c| !DROPPED.contains(&c.as_str()))
        .collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Write a file, creating its directories; false if the path clashes with
/// a file or directory already there.
fn write(dir: &Path, rel: &str, bytes: &[u8]) -> bool {
    let path = dir.join(rel);
    if path.exists() {
        return false;
    }
    if let Some(parent) = path.parent()
        && std::fs::create_dir_all(parent).is_err()
    {
        return false;
    }
    std::fs::write(&path, bytes).is_ok()
}

fuzz_target!(|data: &[u8]| {
    isolate();
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let dir = tempfile::Builder::new()
        .prefix("guard-fuzz-discover-")
        .tempdir()
        .expect("temporary directory");
    let root = std::fs::canonicalize(dir.path()).expect("canonical temporary directory");
    assert!(write(&root, "guard.toml", b"# fuzz project\n"));
    let mut parts = rest.splitn(MAX_FILES + 2, |&b| b == 0);
    let body = parts.next().unwrap_or_default();
    let ignore_dir = if sel & 1 == 1 { "sub" } else { "" };
    let ignore_rel = if ignore_dir.is_empty() {
        ".gitignore".to_string()
    } else {
        format!("{ignore_dir}/.gitignore")
    };
    assert!(write(&root, &ignore_rel, body));
    let mut files: Vec<String> = Vec::new();
    for p in parts.take(MAX_FILES) {
        if let Some(rel) = clean_path(p)
            && write(&root, &rel, b"x: 1\n")
        {
            files.push(rel);
        }
    }

    // What the walk must find: the files with a syntax that the .gitignore
    // ignores neither by their name nor by a directory above them.
    let gitignore_dir = root.join(ignore_dir);
    let mut builder = GitignoreBuilder::new(&gitignore_dir);
    // An invalid line is skipped, as the walker skips it.
    let _ = builder.add(gitignore_dir.join(".gitignore"));
    // A matcher too large to build has no answer to compare with.
    let gitignore = builder.build().ok();
    let ignored = |gitignore: &ignore::gitignore::Gitignore, rel: &str| -> bool {
        let under = if ignore_dir.is_empty() {
            Some(rel)
        } else {
            rel.strip_prefix(ignore_dir)
                .and_then(|r| r.strip_prefix('/'))
        };
        let Some(under) = under else {
            return false;
        };
        let comps: Vec<&str> = under.split('/').collect();
        for i in 1..comps.len() {
            if gitignore.matched(comps[..i].join("/"), true).is_ignore() {
                return true;
            }
        }
        gitignore.matched(under, false).is_ignore()
    };
    let expected: Option<Vec<String>> = gitignore.as_ref().map(|g| {
        let mut e: Vec<String> = files
            .iter()
            .filter(|rel| {
                let name = rel.rsplit('/').next().unwrap_or(rel);
                Syntax::from_name(name).is_some() && !ignored(g, rel)
            })
            .cloned()
            .collect();
        e.sort();
        e
    });

    let plan =
        guard::project::plan(std::slice::from_ref(&root), true).expect("a plan of the project");
    let excludes = build_excludes(&[]).expect("no excludes");
    let first = walk(&plan, &excludes);
    let second = walk(&plan, &excludes);
    let key = |w: &guard::discover::Walked| -> Vec<(String, String, Syntax, bool)> {
        w.candidates
            .iter()
            .map(|c| {
                (
                    c.path.to_string(),
                    c.shown.to_string(),
                    c.syntax,
                    c.issue.is_some(),
                )
            })
            .collect()
    };
    let (a, b) = (key(&first), key(&second));
    assert_eq!(a, b, "walking twice gave different candidates");
    assert!(
        a.windows(2).all(|w| w[0].0 < w[1].0),
        "candidates not sorted by path or duplicated: {a:?}"
    );
    let mut found: Vec<String> = first
        .candidates
        .iter()
        .filter(|c| c.issue.is_none())
        .map(|c| {
            c.disk_path
                .strip_prefix(&root)
                .expect("a candidate inside the project")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    if let Some(expected) = expected {
        assert_eq!(
            found, expected,
            "the walk's files differ from the .gitignore's answer (files written: {files:?})"
        );
    }

    let opts = guard::Options {
        paths: vec![root.clone()],
        ..Default::default()
    };
    match guard::check(&opts) {
        Ok(report) => {
            for f in &report.findings {
                assert!(f.location.start.line >= 1, "{} on line 0", f.rule);
            }
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
});
