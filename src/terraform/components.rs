//! Which Terraform files can affect each other's evaluation, found before
//! anything is parsed, so that the stage parses, evaluates and frees one
//! group at a time.
//!
//! Two directories are in one group when one calls the other as a local
//! module (`source = "../x"`, or `"source": "../x"` in a `.tf.json` file:
//! Terraform requires a literal string, so the text says it), when a var file belongs to a directory (the nearest one
//! above it with `.tf` or `.tf.json` files, as [`super::roots`] assigns them), and when a
//! directory lies in another's `.terraform/` (downloaded module copies).
//! The scan of the text is deliberately generous: a `source = "../x"` in a
//! comment joins two groups, which costs memory, never a result.

use crate::hash::HashMap;
use std::collections::BTreeSet;

use super::config::is_config;
use super::roots::{dir_of, join_dir, var_file_owner};
use crate::source::SourceFile;

/// Groups of indices into `sorted` (each ascending; groups in the order of
/// their first file), one per set of configurations that share nothing.
pub fn groups(sorted: &[&SourceFile]) -> Vec<Vec<usize>> {
    let tf_dirs: BTreeSet<&str> = sorted
        .iter()
        .filter(|f| is_config(&f.path))
        .map(|f| dir_of(&f.path))
        .collect();
    let mut sets = Sets::default();
    // The directory each file is evaluated as part of.
    let homes: Vec<String> = sorted
        .iter()
        .map(|f| {
            let path = &*f.path;
            let dir = dir_of(path);
            if crate::terragrunt::is_terragrunt_file(path) {
                // Terragrunt files include and read each other across
                // directories: one group.
                TERRAGRUNT.to_string()
            } else if path.ends_with(".tfvars") || path.ends_with(".tfvars.json") {
                var_file_owner(path, |d| tf_dirs.contains(d))
                    .unwrap_or(dir)
                    .to_string()
            } else {
                dir.to_string()
            }
        })
        .collect();
    for home in &homes {
        sets.add(home);
        if let Some(outer) = downloaded_into(home) {
            sets.union(home, outer);
        }
    }
    for f in sorted.iter().filter(|f| is_config(&f.path)) {
        let dir = dir_of(&f.path);
        let sources = if f.path.ends_with(".json") {
            local_sources_json(&f.text)
        } else {
            local_sources(&f.text)
        };
        for src in sources {
            let target = join_dir(dir, src);
            if tf_dirs.contains(target.as_str()) {
                sets.union(dir, &target);
            }
        }
    }
    // A Terragrunt unit joins the module its `source` names; a source
    // that is not a literal local path may name any directory.
    for f in sorted
        .iter()
        .filter(|f| f.path.ends_with("/terragrunt.hcl") || &*f.path == "terragrunt.hcl")
    {
        let dir = dir_of(&f.path);
        for src in terragrunt_sources(&f.text) {
            match src {
                Some(rel) => {
                    let target = join_dir(dir, &rel);
                    if tf_dirs.contains(target.as_str()) {
                        sets.union(TERRAGRUNT, &target);
                    }
                }
                None => {
                    for d in &tf_dirs {
                        sets.union(TERRAGRUNT, d);
                    }
                }
            }
        }
        if tf_dirs.contains(dir) {
            sets.union(TERRAGRUNT, dir);
        }
    }
    // Terraform files a Terragrunt file copies into units (`generate`
    // with `contents = file("./common/provider.tf")`).
    for f in sorted
        .iter()
        .filter(|f| crate::terragrunt::is_terragrunt_file(&f.path))
    {
        let dir = dir_of(&f.path);
        for (at, _) in f.text.match_indices("file(\"") {
            let rest = &f.text[at + 6..];
            let Some(end) = rest.find(['"', '\n']) else {
                continue;
            };
            let target = join_dir(dir, &rest[..end]);
            if target.ends_with(".tf") && tf_dirs.contains(dir_of(&target)) {
                sets.union(TERRAGRUNT, dir_of(&target));
            }
        }
    }
    let mut index: HashMap<usize, usize> = HashMap::default();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for (i, home) in homes.iter().enumerate() {
        let root = sets.find_name(home);
        let g = *index.entry(root).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[g].push(i);
    }
    out
}

/// The directory whose `.terraform/` holds `dir`, if any.
fn downloaded_into(dir: &str) -> Option<&str> {
    if dir.starts_with(".terraform/") || dir == ".terraform" {
        return Some("");
    }
    dir.find("/.terraform/")
        .or_else(|| dir.ends_with("/.terraform").then(|| dir.len() - 11))
        .map(|i| &dir[..i])
}

/// Every `source = …` assignment in a text, comments included: the
/// quoted string's contents, or `None` when an expression follows.
fn source_values(text: &str) -> Vec<Option<&str>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (at, _) in text.match_indices("source") {
        if at > 0 && is_ident(bytes[at - 1]) {
            continue;
        }
        let mut i = at + "source".len();
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        if bytes.get(i) != Some(&b'"') {
            out.push(None);
            continue;
        }
        let start = i + 1;
        let Some(len) = text[start..].find(['"', '\n']) else {
            continue;
        };
        out.push(Some(&text[start..start + len]));
    }
    out
}

/// Every string written as `source = "./…"` or `source = "../…"` in a
/// `.tf` file (module calls with a local path), comments included.
pub fn local_sources(text: &str) -> Vec<&str> {
    source_values(text)
        .into_iter()
        .flatten()
        .filter(|v| super::is_local_source(v))
        .collect()
}

/// The group of every Terragrunt file (no directory has this name).
const TERRAGRUNT: &str = "\u{0}terragrunt";

/// The `source = "…"` values of a `terragrunt.hcl` text: `Some(path)` for
/// a literal local path (the `//` subdirectory joined, `?ref=` dropped),
/// `None` for one that is computed (`"${...}"`), nothing for remote ones.
fn terragrunt_sources(text: &str) -> Vec<Option<String>> {
    source_values(text)
        .into_iter()
        .filter_map(|v| match v {
            // An expression, or a string that interpolates one: anything.
            None => Some(None),
            Some(v) if v.contains("${") => Some(None),
            Some(v) => {
                let v = v.split('?').next().unwrap_or(v);
                super::is_local_source(v).then(|| Some(v.replacen("//", "/", 1)))
            }
        })
        .collect()
}

/// Every string written as `"source": "./…"` or `"source": "../…"` in a
/// `.tf.json` file (escapes are not decoded: a path with one is missed,
/// and then evaluated in a group of its own, which Terraform's module
/// paths never need).
pub fn local_sources_json(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    for (at, m) in text.match_indices("\"source\"") {
        let mut i = at + m.len();
        let skip_ws = |i: &mut usize| {
            while *i < bytes.len() && matches!(bytes[*i], b' ' | b'\t' | b'\n' | b'\r') {
                *i += 1;
            }
        };
        skip_ws(&mut i);
        if bytes.get(i) != Some(&b':') {
            continue;
        }
        i += 1;
        skip_ws(&mut i);
        if bytes.get(i) != Some(&b'"') {
            continue;
        }
        let start = i + 1;
        let Some(len) = text[start..].find(['"', '\\', '\n']) else {
            continue;
        };
        let value = &text[start..start + len];
        if super::is_local_source(value) {
            out.push(value);
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Union-find over directory names.
#[derive(Default)]
struct Sets {
    ids: HashMap<String, usize>,
    parent: Vec<usize>,
}

impl Sets {
    fn add(&mut self, name: &str) -> usize {
        if let Some(&i) = self.ids.get(name) {
            return i;
        }
        let i = self.parent.len();
        self.parent.push(i);
        self.ids.insert(name.to_string(), i);
        i
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn find_name(&mut self, name: &str) -> usize {
        let i = self.add(name);
        self.find(i)
    }

    fn union(&mut self, a: &str, b: &str) {
        let (a, b) = (self.find_name(a), self.find_name(b));
        if a != b {
            let (lo, hi) = (a.min(b), a.max(b));
            self.parent[hi] = lo;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn files(list: &[(&str, &str)]) -> Vec<SourceFile> {
        list.iter()
            .enumerate()
            .map(|(i, (p, t))| {
                SourceFile::new(
                    FileId(i as u32),
                    p.to_string(),
                    format!("/x/{p}").into(),
                    t.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn local_sources_are_read_from_the_text() {
        let t = "module \"a\" {\n  source = \"../modules/a\"\n}\nmodule \"b\" { source=\"./b\" }\n\
                 module \"r\" { source = \"terraform-aws-modules/vpc/aws\" }\n\
                 resource \"x\" \"y\" { source_hash = \"../no\" }\n# source = \"../../c\"\n";
        assert_eq!(local_sources(t), vec!["../modules/a", "./b", "../../c"]);
    }

    #[test]
    fn local_sources_are_read_from_json() {
        let t = "{\"module\": {\"a\": {\"source\" :\n \"../modules/a\"}, \"b\": {\"source\": \"./b\"},\n\
                 \"r\": {\"source\": \"terraform-aws-modules/vpc/aws\"}}, \"x\": {\"source_hash\": \"../no\"}}";
        assert_eq!(local_sources_json(t), vec!["../modules/a", "./b"]);
    }

    #[test]
    fn json_configurations_join_groups_like_hcl_ones() {
        let fs = files(&[
            ("a/main.tf", "module \"m\" { source = \"../m\" }"),
            (
                "j/main.tf.json",
                "{\"module\": {\"m\": {\"source\": \"../m\"}}}",
            ),
            ("j/prod.tfvars", "x = 1"),
            ("m/main.tf.json", "{\"variable\": {\"x\": {}}}"),
            ("solo/main.tf.json", "{\"locals\": {\"z\": 1}}"),
        ]);
        let sorted: Vec<&SourceFile> = fs.iter().collect();
        assert_eq!(groups(&sorted), vec![vec![0, 1, 2, 3], vec![4]]);
    }

    #[test]
    fn terragrunt_sources_are_local_computed_or_skipped() {
        let t = "terraform {\n  source = \"../../modules//db?ref=v1\"\n}\n\
                 terraform { source = include.common.locals.src }\n\
                 terraform { source = \"${get_repo_root()}/modules//x\" }\n\
                 terraform { source = \"git::https://example.com/m.git//vpc\" }\n";
        assert_eq!(
            terragrunt_sources(t),
            vec![Some("../../modules/db".to_string()), None, None]
        );
    }

    #[test]
    fn groups_follow_module_calls_var_files_and_downloads() {
        let fs = files(&[
            (
                "a/envs/prod/main.tf",
                "module \"m\" { source = \"../../modules/m\" }",
            ),
            ("a/envs/prod/vars/prod.tfvars", "x = 1"),
            ("a/modules/m/main.tf", "variable \"x\" {}"),
            (
                "b/main.tf",
                "module \"v\" { source = \"terraform-aws-modules/vpc/aws\" }",
            ),
            ("b/.terraform/modules/v/main.tf", "variable \"y\" {}"),
            ("c/main.tf", "locals { z = 1 }"),
            ("stray.tfvars", "z = 2"),
        ]);
        let sorted: Vec<&SourceFile> = fs.iter().collect();
        assert_eq!(
            groups(&sorted),
            vec![vec![0, 1, 2], vec![3, 4], vec![5], vec![6]]
        );
    }
}
