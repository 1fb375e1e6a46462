//! The scan as Terraform sees it: module directories, which of them are
//! roots, which var files each root is evaluated with, and where module
//! sources point.

use crate::hash::HashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use hcl_edit::structure::Body;

use super::config::{FileCtx, ModuleCfg};
use crate::env::{Assignment, EnvSet, Evidence};
use crate::node::Node;

/// A parsed `.tfvars` / `.tfvars.json` file.
pub enum Tfvars<'a> {
    Hcl(FileCtx<'a>, &'a Body),
    /// Name, value (JSON values are located exactly, via jsonc-parser).
    Json(Vec<(String, Node)>),
}

pub struct World<'a> {
    /// Module directories (those with `.tf` files), by scan-relative path.
    pub cfgs: BTreeMap<String, ModuleCfg<'a>>,
    pub tfvars: BTreeMap<String, Tfvars<'a>>,
    /// The scan root on disk, for `file()` and `.terraform/modules`.
    pub disk_root: Option<&'a PathBuf>,
    /// Per root directory: module key → directory of the downloaded copy.
    pub downloaded: HashMap<String, HashMap<String, String>>,
    /// Per directory: where environment evidence starts in its path
    /// (`SourceFile::env_start`: never above the checked root).
    pub env_starts: &'a BTreeMap<String, usize>,
    /// The project's environments.
    pub envs: &'a EnvSet,
    /// The canonical project roots: nothing outside them is read.
    pub boundary: &'a [PathBuf],
    /// Provenance labels made by this group's evaluations, kept once: the
    /// same module evaluated for several environments passes its values
    /// the same way ("passed to module.db as `name`").
    pub labels: std::sync::Mutex<crate::hash::HashSet<std::sync::Arc<str>>>,
    /// Terragrunt units, each evaluated as a root of its own.
    pub units: Vec<crate::terragrunt::Unit>,
    /// The module of each unit with a local source (by index into
    /// `units`): the source directory's files and what the unit generates.
    pub unit_cfgs: BTreeMap<usize, ModuleCfg<'a>>,
}

impl World<'_> {
    /// `text` as a provenance label, shared with the group's other
    /// evaluations when one of them made the same.
    pub fn label(&self, text: String) -> std::sync::Arc<str> {
        let Ok(mut labels) = self.labels.lock() else {
            return text.into();
        };
        if let Some(l) = labels.get(text.as_str()) {
            return l.clone();
        }
        let l: std::sync::Arc<str> = text.into();
        labels.insert(l.clone());
        l
    }
}

/// One evaluation to run.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub dir: String,
    pub assignment: Assignment,
    /// Auto-loaded var files then the explicit one, lowest precedence first.
    pub var_files: Vec<String>,
    pub var_file: Option<String>,
    /// `terraform.workspace` (None: `default`).
    pub workspace: Option<String>,
    /// A Terragrunt unit (index into [`World::units`]); `dir` is its
    /// directory.
    pub unit: Option<usize>,
}

/// The directory part of a `/`-separated path (`""` for the scan root).
pub fn dir_of(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `base` joined with a relative path, normalised. Leading `..` that leave
/// the scan are kept, so the result names no scanned directory.
pub fn join_dir(base: &str, rel: &str) -> String {
    let mut segs: Vec<&str> = base
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    for s in rel.split('/') {
        match s {
            "" | "." => {}
            ".." => {
                if segs.last().is_some_and(|l| *l != "..") {
                    segs.pop();
                } else {
                    segs.push("..");
                }
            }
            s => segs.push(s),
        }
    }
    segs.join("/")
}

/// The relative path from directory `from` to directory `to` (`.` if equal).
pub fn relative_dir(from: &str, to: &str) -> String {
    let f: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let t: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; f.len() - common];
    parts.extend(&t[common..]);
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The directory a var file belongs to: the nearest one at or above it
/// that has Terraform files (`is_config`).
pub fn var_file_owner(path: &str, is_config: impl Fn(&str) -> bool) -> Option<&str> {
    let mut d = dir_of(path);
    loop {
        if is_config(d) {
            return Some(d);
        }
        if d.is_empty() {
            return None;
        }
        d = dir_of(d);
    }
}

/// Whether Terraform loads a var file by itself (in the root directory).
pub fn auto_loaded(name: &str) -> bool {
    name == "terraform.tfvars"
        || name == "terraform.tfvars.json"
        || name.ends_with(".auto.tfvars")
        || name.ends_with(".auto.tfvars.json")
}

impl<'a> World<'a> {
    pub fn downloaded_module(&self, root: &str, key: &str) -> Option<String> {
        self.downloaded.get(root)?.get(key).cloned()
    }

    /// Directories called as a local module by another directory.
    fn called(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for cfg in self.cfgs.values() {
            for c in &cfg.calls {
                let Some(src) = &c.source else { continue };
                if super::is_local_source(src) {
                    let d = join_dir(&cfg.dir, src);
                    if d != cfg.dir {
                        out.insert(d);
                    }
                }
            }
        }
        out
    }

    pub fn roots(&self) -> Vec<String> {
        let called = self.called();
        self.cfgs
            .values()
            .filter(|c| c.root_like && !called.contains(&c.dir) && !is_downloaded(&c.dir))
            .map(|c| c.dir.clone())
            .collect()
    }

    /// Read `.terraform/modules/modules.json` of each root, if present.
    /// The downloaded copies are scanned with the rest (discovery adds the
    /// `.tf` files of `.terraform/modules/` where `modules.json` exists).
    pub fn load_downloaded(&mut self, roots: &[String]) {
        let Some(disk) = self.disk_root else {
            return;
        };
        for r in roots {
            let p = disk.join(r).join(".terraform/modules/modules.json");
            let Some(text) = crate::project::read_inside(&p, self.boundary, 4 << 20) else {
                continue;
            };
            let Ok(j) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            let mut m = HashMap::default();
            for e in j
                .get("Modules")
                .and_then(|x| x.as_array())
                .into_iter()
                .flatten()
            {
                if let (Some(k), Some(d)) = (
                    e.get("Key").and_then(|x| x.as_str()),
                    e.get("Dir").and_then(|x| x.as_str()),
                ) && !k.is_empty()
                {
                    m.insert(k.to_string(), join_dir(r, d));
                }
            }
            self.downloaded.insert(r.clone(), m);
        }
    }

    /// The evaluations of every root, sorted by directory then var file,
    /// and notes on what they leave out.
    pub fn plans(&self, roots: &[String]) -> (Vec<Plan>, Vec<String>) {
        let mut notes = Vec::new();
        let root_set: BTreeSet<&str> = roots.iter().map(String::as_str).collect();
        // Var files belong to the nearest directory above them that has
        // Terraform files, if that directory is a root.
        let mut owned: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for path in self.tfvars.keys() {
            if let Some(d) = var_file_owner(path, |d| self.cfgs.contains_key(d))
                && root_set.contains(d)
            {
                owned
                    .entry(self.cfgs[d].dir.as_str())
                    .or_default()
                    .push(path);
            }
        }
        let mut plans = Vec::new();
        for dir in roots {
            let files = owned.get(dir.as_str()).cloned().unwrap_or_default();
            let mut auto: Vec<&str> = files
                .iter()
                .copied()
                .filter(|p| dir_of(p) == dir && auto_loaded(file_name(p)))
                .collect();
            // terraform.tfvars, terraform.tfvars.json, then *.auto.* by name.
            auto.sort_by_key(|p| {
                (
                    !file_name(p).starts_with("terraform.tfvars"),
                    file_name(p).to_string(),
                )
            });
            let auto: Vec<String> = auto.into_iter().map(str::to_string).collect();
            let env_files: Vec<(&str, Assignment)> = files
                .iter()
                .copied()
                .filter(|p| !(dir_of(p) == dir && auto_loaded(file_name(p))))
                .filter_map(|p| {
                    let below = p
                        .strip_prefix(dir.as_str())
                        .unwrap_or(p)
                        .trim_start_matches('/');
                    let envs = self.envs;
                    let a = envs
                        .configured_var_file(p)
                        .or_else(|| envs.from_file_name(p))
                        .or_else(|| envs.from_dirs(below))?;
                    Some((p, a))
                })
                .collect();
            let with = |extra: Option<&str>, assignment: Assignment| {
                let mut var_files = auto.clone();
                var_files.extend(extra.map(str::to_string));
                Plan {
                    dir: dir.clone(),
                    assignment,
                    var_files,
                    var_file: extra.map(str::to_string),
                    workspace: None,
                    unit: None,
                }
            };
            let start = self.env_starts.get(dir.as_str()).copied().unwrap_or(0);
            let dir_path = format!("{dir}/x");
            if let Some(a) = self
                .envs
                .from_path(dir_path.get(start..).unwrap_or(&dir_path))
            {
                let extra = env_files
                    .iter()
                    .find(|(_, e)| e.env == a.env)
                    .map(|(p, _)| *p);
                plans.push(with(extra, a));
            } else if env_files.is_empty() && !self.envs.workspaces().is_empty() {
                // Configured workspaces: one evaluation per workspace, with
                // `terraform.workspace` set to its name.
                for (ws, e) in self.envs.workspaces() {
                    let mut p = with(
                        None,
                        Assignment::new(e, Evidence::Config(format!("workspaces `{ws}`"))),
                    );
                    p.workspace = Some(ws);
                    plans.push(p);
                }
            } else if env_files.is_empty() {
                // Workspaces the configuration itself selects by, whose
                // names are environments: one evaluation each.
                let names = super::workspaces::names(&self.cfgs[dir.as_str()]);
                let found: Vec<(String, crate::env::Env)> = names
                    .iter()
                    .filter_map(|ws| Some((ws.clone(), self.envs.workspace(ws)?)))
                    .collect();
                if found.is_empty() {
                    plans.push(with(None, Assignment::all()));
                }
                // Selected by workspaces none of which is an environment:
                // evaluated once, in `default`, and said.
                if found.is_empty() && !names.is_empty() {
                    let list: Vec<&str> = names.iter().map(String::as_str).take(8).collect();
                    let shown = if dir.is_empty() { "." } else { dir.as_str() };
                    notes.push(format!(
                        "{shown}: selects its settings by terraform.workspace ({}), none of which names an environment: evaluated once, in workspace `default`, for all environments; name them under an environment in guard.toml (`workspaces = [...]`) to check each",
                        list.join(", ")
                    ));
                }
                for (ws, e) in found {
                    let mut p = with(None, Assignment::new(e, Evidence::Workspace(ws.clone())));
                    p.workspace = Some(ws);
                    plans.push(p);
                }
            } else {
                for (p, a) in &env_files {
                    let Some(e) = a.env else { continue };
                    plans.push(with(
                        Some(p),
                        Assignment::new(e, Evidence::VarFile((*p).to_string())),
                    ));
                }
            }
        }
        for (i, u) in self.units.iter().enumerate() {
            plans.push(Plan {
                dir: u.dir.clone(),
                assignment: u.assignment.clone(),
                var_files: Vec::new(),
                var_file: None,
                workspace: None,
                unit: Some(i),
            });
        }
        plans.sort_by(|a, b| {
            (&a.dir, &a.var_file, &a.workspace).cmp(&(&b.dir, &b.var_file, &b.workspace))
        });
        (plans, notes)
    }
}

/// A directory inside `.terraform/` (a module `terraform init` downloaded):
/// never a root of its own.
pub fn is_downloaded(dir: &str) -> bool {
    dir.starts_with(".terraform/") || dir.contains("/.terraform/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            join_dir("environments/prod", "../../modules/rds"),
            "modules/rds"
        );
        assert_eq!(join_dir("", "./x"), "x");
        assert_eq!(join_dir("a", "../../b"), "../b");
        assert_eq!(
            relative_dir("environments/prod", "modules/rds"),
            "../../modules/rds"
        );
        assert_eq!(relative_dir("a", "a"), ".");
        assert_eq!(relative_dir("", "a/b"), "a/b");
    }

    #[test]
    fn auto_loading_follows_terraform() {
        assert!(auto_loaded("terraform.tfvars"));
        assert!(auto_loaded("x.auto.tfvars"));
        assert!(!auto_loaded("production.auto.example.tfvars"));
        assert!(!auto_loaded("terraform.example.tfvars"));
        assert!(!auto_loaded("prod.tfvars"));
    }
}
