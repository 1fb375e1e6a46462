//! The Rego bridge: the project's own policies, evaluated in-process with
//! `regorus` (no OPA binary, no network, no file system).
//!
//! Two kinds of package:
//! - **Conftest packages** (`main` by default, `--namespace`,
//!   `--all-namespaces`): evaluated once per document with Conftest's
//!   `input` (see [`input`]); `deny`/`violation` (errors) and `warn`
//!   (warnings) rules, with or without `_suffix`es; `exception` rules as
//!   Conftest has them. Unmodified Conftest policies run as they are.
//! - **guard packages** (`package guard.<anything>`): evaluated once per
//!   check on guard's own, environment-aware input `guard/v1` (see
//!   [`guard_input`] and `docs/policy-input.md`).
//!
//! Each (package, rule) becomes a rule of the `policy` family, with the
//! policy's OPA `# METADATA` (`title`, `description`, `custom.id`,
//! `custom.severity`, `related_resources`) as its documentation; selection,
//! severities, suppressions and baselines treat it like a built-in rule.

mod dockerfile;
mod dotenv;
pub mod guard_input;
mod ini;
pub mod input;
mod limits;
mod recursion;
mod scan;
pub mod test;
mod toml;

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::rules::{Family, Rule};
use crate::source::Span;
use scan::Kind;

/// Where the policies come from and how they are run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Policy directories or files (`--policy`, `policies = [...]`, or the
    /// project's `policy/` / `policies/`).
    pub dirs: Vec<PathBuf>,
    /// Data directories or files (`--data`): every JSON/YAML file in them.
    pub data: Vec<PathBuf>,
    /// Conftest packages to evaluate (`--namespace`); default `main`.
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    /// Conftest's `--combine`: one input, `[{path, contents}]`.
    pub combine: bool,
    /// Load `_test.rego` files and give `parse_config_file` read access
    /// (below the policy directories only): `guard test`.
    pub testing: bool,
    /// The project root: policy files outside the current directory are
    /// shown relative to it.
    pub base: Option<PathBuf>,
    /// Conftest's `--rego-version`: parse every policy as this version only (default: v1,
    /// else v0 for a file v1 refuses).
    pub rego_version: Option<RegoVersion>,
}

/// A Rego syntax version (Conftest's and OPA's `--rego-version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RegoVersion {
    /// Rego before OPA 1.0 (`deny[msg] { ... }`; `import rego.v1` still gives v1).
    V0,
    /// OPA 1.0's Rego (`deny contains msg if { ... }`).
    V1,
}

/// A policy file as loaded.
#[derive(Clone, Debug)]
pub struct PolicyFile {
    /// As shown in messages (relative to the current directory when below it).
    pub shown: String,
    pub scan: scan::Scanned,
}

/// One evaluated rule of a policy.
#[derive(Clone)]
pub struct PolicyRule {
    pub package: String,
    /// `deny`, `warn_labels`...
    pub name: String,
    pub kind: Kind,
    pub rule: &'static Rule,
}

#[derive(Clone, Debug)]
struct Package {
    name: String,
    rules: Vec<usize>,
    exception: bool,
    /// A generated rule giving every rule's value in one evaluation (the
    /// constant rules a package shares are computed once per input).
    batch: Option<String>,
}

/// A policy that cannot be loaded or evaluated (exit 2).
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyError(pub String);

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The loaded policies, ready to evaluate.
#[derive(Clone)]
pub struct Policies {
    engine: regorus::Engine,
    pub files: Vec<PolicyFile>,
    pub rules: Vec<PolicyRule>,
    doc_packages: Vec<Package>,
    guard_packages: Vec<Package>,
    /// Every Conftest package's rules in one generated rule (its path and the rules in order).
    all_batch: Option<(String, Vec<usize>)>,
    combine: bool,
    /// The data documents, when a policy reads Conftest's `data.conftest.file` (set per input).
    file_info: Option<regorus::Value>,
}

/// What one evaluation gave.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    /// Results an `exception` rule turned off.
    pub exceptions: usize,
    /// Inputs evaluated (documents, or 1 with `--combine`).
    pub inputs: usize,
    pub micros: u128,
    /// Of which building the inputs (HCL parsed again, values converted).
    pub input_micros: u128,
    /// What the policies' `print()` calls wrote, `file:line: text`, input by input (as
    /// Conftest gathers them per query and shows them with its `stdout` output).
    pub prints: Vec<String>,
}

/// Per-evaluation time limit (`GUARD_POLICY_TIMEOUT_MS`, default 5 s).
fn time_limit() -> Duration {
    let ms = std::env::var("GUARD_POLICY_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(5_000);
    Duration::from_millis(ms.max(1))
}

/// The time all policies together may take over one run (`GUARD_POLICY_BUDGET_S`, default
/// 30 s): past it, the documents not yet evaluated are not, and one GD008 error says so.
fn total_budget() -> Duration {
    let s = std::env::var("GUARD_POLICY_BUDGET_S")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(30);
    Duration::from_secs(s.max(1))
}

/// Policy files below a directory (or the file itself), sorted; hidden
/// directories are skipped, and symlinks are not followed.
fn files_below(p: &Path, want: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if p.is_file() {
        if want(p) {
            out.push(p.to_path_buf());
        }
        return out;
    }
    let mut stack = vec![(p.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let path = e.path();
            let Ok(ft) = e.file_type() else { continue };
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if ft.is_dir() && !hidden && depth < 32 {
                stack.push((path, depth + 1));
            } else if ft.is_file() && want(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

thread_local! {
    /// The project root of the load in progress (see [`Options::base`]).
    static BASE: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

/// A policy path as messages show it: relative to the current directory,
/// else to the project root's parent (as guard shows the project's files),
/// else as given. Never an absolute path the user did not type.
fn shown(p: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let base = BASE.with(|b| b.borrow().clone());
    let rel = cwd
        .as_deref()
        .and_then(|c| p.strip_prefix(c).ok())
        .or_else(|| {
            let parent = base.as_deref()?.parent()?;
            p.strip_prefix(parent).ok()
        })
        .unwrap_or(p);
    rel.to_string_lossy().replace('\\', "/")
}

/// Read a policy or data file: UTF-8 text, at most 4 MiB.
fn read_text(p: &Path) -> Result<String, PolicyError> {
    const MAX: u64 = 4 << 20;
    let meta = std::fs::metadata(p)
        .map_err(|e| PolicyError(format!("{}: {}", shown(p), crate::project::io_reason(&e))))?;
    if meta.len() > MAX {
        return Err(PolicyError(format!(
            "{}: larger than {MAX} bytes, not loaded",
            shown(p)
        )));
    }
    let bytes = std::fs::read(p)
        .map_err(|e| PolicyError(format!("{}: {}", shown(p), crate::project::io_reason(&e))))?;
    String::from_utf8(bytes).map_err(|_| PolicyError(format!("{}: not UTF-8", shown(p))))
}

/// A regorus error as `file:line:col: message` (it writes
/// `--> file:line:col`, a snippet, then `error: message`).
fn describe(e: &anyhow::Error) -> String {
    let raw = format!("{e:#}");
    let clean = |l: &str| crate::render::sanitize(l).into_owned();
    let located = raw.lines().find_map(|l| {
        let l = l.trim_start().strip_prefix("-->")?.trim();
        Some(clean(l))
    });
    let message = raw
        .lines()
        .find_map(|l| {
            l.trim_start()
                .strip_prefix("error:")
                .map(|m| clean(m.trim()))
        })
        .or_else(|| {
            raw.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(clean)
        })
        .unwrap_or_default();
    match located {
        Some(at) => format!("{at}: {message}"),
        None => message,
    }
}

/// Whether a `--namespace` pattern names a package, as Conftest matches them (Go's
/// `path.Match`): `*` any run of characters, `?` one, `[a-z]`/`[^x]` a class; `.` is an
/// ordinary character (`main.*` matches `main.gke`); without a metacharacter, equality.
pub(crate) fn namespace_matches(pattern: &str, pkg: &str) -> bool {
    fn class(p: &[char], c: char) -> Option<(bool, usize)> {
        // p starts after `[`; returns (matched, length of the class with its `]`).
        let mut i = 0;
        let negate = matches!(p.first(), Some('^' | '!'));
        if negate {
            i += 1;
        }
        let mut hit = false;
        let mut first = true;
        while i < p.len() {
            if p[i] == ']' && !first {
                return Some((hit != negate, i + 1));
            }
            first = false;
            let lo = p[i];
            if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&h| h != ']') {
                let hi = p[i + 2];
                hit |= lo <= c && c <= hi;
                i += 3;
            } else {
                hit |= lo == c;
                i += 1;
            }
        }
        None
    }
    fn go(p: &[char], s: &[char], budget: &mut usize) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|k| go(&p[1..], &s[k..], budget)),
            Some('?') => !s.is_empty() && go(&p[1..], &s[1..], budget),
            Some('[') => match (
                s.first(),
                class(&p[1..], s.first().copied().unwrap_or('\0')),
            ) {
                (Some(_), Some((true, len))) => go(&p[1 + len..], &s[1..], budget),
                _ => false,
            },
            Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && go(&p[2..], &s[1..], budget),
            Some(c) => s.first() == Some(c) && go(&p[1..], &s[1..], budget),
        }
    }
    if !pattern.contains(['*', '?', '[', '\\']) {
        return pattern == pkg;
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = pkg.chars().collect();
    let mut budget = 100_000;
    go(&p, &s, &mut budget)
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Builtins a policy may not call: guard's policies reach no network,
/// read no environment and give the same result on every run.
const FORBIDDEN: [&str; 6] = [
    "http.send",
    "opa.runtime",
    "net.lookup_ip_addr",
    "rand.intn",
    "time.now_ns",
    "uuid.rfc4122",
];

/// How deep `[` and `{` may nest in a policy: regorus's parser takes time exponential in this
/// depth (18 levels take half a minute), so a deeper policy is refused before it is parsed.
const MAX_POLICY_NESTING: usize = 14;

/// Refuses a policy whose brackets nest deeper than [`MAX_POLICY_NESTING`] (strings and comments
/// aside), naming the line.
fn too_deep(name: &str, text: &str) -> Result<(), PolicyError> {
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '#' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '"' => {
                while let Some(n) = chars.next() {
                    match n {
                        '\\' => {
                            chars.next();
                        }
                        '"' | '\n' => {
                            if n == '\n' {
                                line += 1;
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
            '`' => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                    }
                    if n == '`' {
                        break;
                    }
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_POLICY_NESTING {
                    return Err(PolicyError(format!(
                        "{name}:{line}: brackets nested deeper than {MAX_POLICY_NESTING} levels; the Rego parser's time grows exponentially with the depth, so the policy is refused"
                    )));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Every call of a refused builtin in a policy text: `name:line:col: `f``.
fn forbidden_calls(name: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or("");
        for f in FORBIDDEN {
            let call = format!("{f}(");
            for (col, _) in code.match_indices(&call) {
                out.push(format!(
                    "{name}:{}:{}: `{f}`",
                    i + 1,
                    code[..col].chars().count() + 1
                ));
            }
        }
    }
    out
}

/// The error for refused builtin calls (every one of every policy), if any.
fn forbidden_error(calls: &[String]) -> Result<(), PolicyError> {
    match calls {
        [] => Ok(()),
        [one] => Err(PolicyError(format!(
            "{one} is not available: guard's policies have no network, no environment and must be deterministic"
        ))),
        _ => Err(PolicyError(format!(
            "{} calls of builtins that are not available (guard's policies have no network, no environment and must be deterministic):\n  {}",
            calls.len(),
            calls.join("\n  ")
        ))),
    }
}

impl Policies {
    /// Load every policy and data file. `Ok(None)` when there is none.
    pub fn load(opts: &Options) -> Result<Option<Policies>, PolicyError> {
        BASE.with(|b| *b.borrow_mut() = opts.base.clone());
        let out = Self::load_inner(opts);
        BASE.with(|b| *b.borrow_mut() = None);
        out
    }

    fn load_inner(opts: &Options) -> Result<Option<Policies>, PolicyError> {
        let rego_files: Vec<PathBuf> = opts
            .dirs
            .iter()
            .flat_map(|d| {
                files_below(d, &|p: &Path| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default();
                    name.ends_with(".rego") && (opts.testing || !name.ends_with("_test.rego"))
                })
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for d in &opts.dirs {
            if !d.exists() {
                return Err(PolicyError(format!(
                    "{}: no such policy directory",
                    shown(d)
                )));
            }
        }
        if rego_files.is_empty() {
            return Ok(None);
        }
        let mut engine = regorus::Engine::new();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: time_limit(),
            check_interval: NonZeroU32::new(64).unwrap_or(NonZeroU32::MIN),
        });
        // As OPA by default: a builtin called with arguments it cannot take is undefined, not an
        // error (https://www.openpolicyagent.org/docs/latest/policy-language/#errors); resource
        // limits still stop the evaluation.
        engine.set_strict_builtin_errors(false);
        // print() output is gathered (per input) instead of going to stderr.
        engine.set_gather_prints(true);
        test::add_extensions(&mut engine, opts.testing.then(|| opts.dirs.clone()));
        limits::add(&mut engine);
        let mut files = Vec::new();
        let mut reads_file_info = false;
        // Every refused builtin of every policy, named in one error.
        let mut texts = Vec::new();
        let mut refused = Vec::new();
        for p in &rego_files {
            let text = read_text(p)?;
            refused.extend(forbidden_calls(&shown(p), &text));
            texts.push(text);
        }
        forbidden_error(&refused)?;
        for (p, text) in rego_files.iter().zip(texts) {
            reads_file_info |= text.contains("data.conftest");
            let name = shown(p);
            too_deep(&name, &text)?;
            let scanned = scan::scan(&text);
            add_policy(
                &mut engine,
                &name,
                &metadata_calls(&text, &scanned),
                opts.rego_version,
            )?;
            files.push(PolicyFile {
                shown: name,
                scan: scanned,
            });
        }
        // A function that reaches itself would run until the stack overflows: refused here,
        // as OPA's compiler refuses it.
        if let Some(c) = recursion::find(&mut engine) {
            return Err(PolicyError(format!(
                "{}: policy function is recursive ({}); Rego forbids recursion, as OPA does",
                c.at, c.chain
            )));
        }
        // Data: data.json / data.yaml next to the policies, every JSON/YAML
        // file of a --data directory.
        let is_data_name = |p: &Path| {
            matches!(
                p.file_name().and_then(|n| n.to_str()),
                Some("data.json" | "data.yaml" | "data.yml")
            )
        };
        let is_data_ext = |p: &Path| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "yaml" | "yml")
            )
        };
        let mut data_files: Vec<PathBuf> = opts
            .dirs
            .iter()
            .flat_map(|d| files_below(d, &is_data_name))
            .collect();
        data_files.extend(opts.data.iter().flat_map(|d| files_below(d, &is_data_ext)));
        for p in data_files {
            let value = read_data(&p)?;
            engine
                .add_data(regorus::Value::from(value))
                .map_err(|e| PolicyError(format!("{}: {e}", shown(&p))))?;
        }
        // Analyse once here (unsafe variables, recursion, unknown imports are
        // reported now, not per document); every clone starts prepared.
        engine
            .eval_query("true".to_string(), false)
            .map_err(|e| PolicyError(describe(&e)))?;
        let mut policies = Policies {
            engine,
            files,
            rules: Vec::new(),
            doc_packages: Vec::new(),
            guard_packages: Vec::new(),
            all_batch: None,
            combine: opts.combine,
            file_info: None,
        };
        if reads_file_info {
            policies.file_info = Some(policies.engine.get_data());
        }
        policies.organise(opts)?;
        policies.add_batches();
        Ok(Some(policies))
    }

    /// Group the rules by package and make each a guard rule.
    fn organise(&mut self, opts: &Options) -> Result<(), PolicyError> {
        let namespaces: Vec<String> = if opts.namespaces.is_empty() {
            vec!["main".to_string()]
        } else {
            opts.namespaces.clone()
        };
        // package -> rule name -> (file index, head index) of every definition
        let mut by_pkg: BTreeMap<String, BTreeMap<String, Vec<(usize, usize)>>> = BTreeMap::new();
        let mut exceptions: BTreeSet<String> = BTreeSet::new();
        for (fi, f) in self.files.iter().enumerate() {
            let pkg = &f.scan.package;
            let is_guard = pkg == "guard" || pkg.starts_with("guard.");
            if !is_guard
                && !opts.all_namespaces
                && !namespaces.iter().any(|n| namespace_matches(n, pkg))
            {
                continue;
            }
            for (hi, h) in f.scan.heads.iter().enumerate() {
                if h.name == "exception" {
                    exceptions.insert(pkg.clone());
                }
                if scan::kind_of(&h.name).is_some() {
                    by_pkg
                        .entry(pkg.clone())
                        .or_default()
                        .entry(h.name.clone())
                        .or_default()
                        .push((fi, hi));
                }
            }
        }
        let mut made: BTreeMap<String, &'static Rule> = BTreeMap::new();
        let mut names: BTreeSet<String> = crate::rules::builtin()
            .iter()
            .map(|r| r.name.to_string())
            .collect();
        for (pkg, rules) in by_pkg {
            let mut package = Package {
                name: pkg.clone(),
                rules: Vec::new(),
                exception: exceptions.contains(&pkg),
                batch: None,
            };
            for (name, defs) in rules {
                let kind = scan::kind_of(&name).unwrap_or(Kind::Failure);
                let rule = self.make_rule(&pkg, &name, kind, &defs, &mut made, &mut names)?;
                package.rules.push(self.rules.len());
                self.rules.push(PolicyRule {
                    package: pkg.clone(),
                    name,
                    kind,
                    rule,
                });
            }
            if pkg == "guard" || pkg.starts_with("guard.") {
                self.guard_packages.push(package);
            } else {
                self.doc_packages.push(package);
            }
        }
        Ok(())
    }

    fn make_rule(
        &self,
        pkg: &str,
        name: &str,
        kind: Kind,
        defs: &[(usize, usize)],
        made: &mut BTreeMap<String, &'static Rule>,
        names: &mut BTreeSet<String>,
    ) -> Result<&'static Rule, PolicyError> {
        let (fi, hi) = defs.first().copied().unwrap_or((0, 0));
        let file = &self.files[fi];
        let line = file.scan.heads.get(hi).map_or(0, |h| h.line);
        let meta = defs
            .iter()
            .find_map(|(f, h)| self.files[*f].scan.heads.get(*h)?.meta.clone())
            .unwrap_or(serde_json::Value::Null);
        let pkg_meta = file.scan.package_meta.clone().unwrap_or_default();
        let s =
            |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let custom = meta.get("custom").cloned().unwrap_or_default();
        let id = match s(&custom, "id") {
            Some(id) => {
                if id.is_empty()
                    || id
                        .chars()
                        .any(|c| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '#'))
                {
                    return Err(PolicyError(format!(
                        "{}:{line}: custom.id `{id}` must be one word without `,[]#`",
                        file.shown
                    )));
                }
                if crate::rules::builtin()
                    .iter()
                    .any(|r| r.id.eq_ignore_ascii_case(&id))
                {
                    return Err(PolicyError(format!(
                        "{}:{line}: custom.id `{id}` is a built-in rule's id",
                        file.shown
                    )));
                }
                id
            }
            None => format!("{pkg}.{name}"),
        };
        if let Some(r) = made.get(&id) {
            return Ok(r);
        }
        let severity = match s(&custom, "severity")
            .as_deref()
            .map(str::to_ascii_lowercase)
        {
            Some(sev) => match sev.as_str() {
                "error" | "high" | "critical" => Severity::Error,
                "warning" | "medium" => Severity::Warning,
                "note" | "low" | "info" => Severity::Note,
                other => {
                    return Err(PolicyError(format!(
                        "{}:{line}: custom.severity `{other}`: use error, warning or note",
                        file.shown
                    )));
                }
            },
            None => match kind {
                Kind::Failure => Severity::Error,
                Kind::Warning => Severity::Warning,
            },
        };
        let kebab = |t: &str| -> String {
            let mut out = String::new();
            for c in t.chars() {
                if c.is_ascii_alphanumeric() {
                    out.push(c.to_ascii_lowercase());
                } else if !out.ends_with('-') && !out.is_empty() {
                    out.push('-');
                }
            }
            out.trim_end_matches('-').to_string()
        };
        let base = kebab(&s(&custom, "name").unwrap_or_else(|| format!("{pkg}-{name}")));
        let mut rule_name = base.clone();
        let mut n = 2;
        while !names.insert(rule_name.clone()) {
            rule_name = format!("{base}-{n}");
            n += 1;
        }
        let title = s(&meta, "title");
        let description = s(&meta, "description");
        let summary = title
            .clone()
            .or_else(|| {
                description
                    .as_ref()
                    .and_then(|d| d.lines().next().map(str::to_string))
            })
            .unwrap_or_else(|| format!("`{name}` of policy package `{pkg}`"));
        let summary = crate::render::sanitize(&summary).replace('\n', " ");
        let mut explanation = String::new();
        explanation.push_str(&format!("# {summary}\n\n"));
        if let Some(d) = &description {
            explanation.push_str(d.trim());
            explanation.push_str("\n\n");
        }
        if let Some(pd) = s(&pkg_meta, "description") {
            explanation.push_str(pd.trim());
            explanation.push_str("\n\n");
        }
        let related: Vec<String> = meta
            .get("related_resources")
            .and_then(|r| r.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        r.as_str().map(str::to_string).or_else(|| {
                            let url = s(r, "ref")?;
                            Some(match s(r, "description") {
                                Some(d) => format!("[{d}]({url})"),
                                None => url,
                            })
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if !related.is_empty() {
            explanation.push_str("Related resources:\n\n");
            for r in &related {
                explanation.push_str(&format!("- {r}\n"));
            }
            explanation.push('\n');
        }
        explanation.push_str(&format!(
            "An organisation policy: rule `{name}` of package `{pkg}`, defined at `{}:{line}`{}.\n",
            file.shown,
            if defs.len() > 1 {
                format!(" and {} more place(s)", defs.len() - 1)
            } else {
                String::new()
            }
        ));
        let help = s(&custom, "help")
            .map(|h| crate::render::sanitize(&h).replace('\n', " "))
            .unwrap_or_else(|| format!("see the policy at {}:{line}", file.shown));
        // Interned by content: the same policy loaded again (a long-lived process checking
        // many projects, the fuzzer) gives the same rule, not another leaked copy.
        let rule: &'static Rule = crate::rules::intern_policy_rule(crate::rules::PolicyRuleText {
            id: id.clone(),
            name: rule_name,
            family: Family::Policy,
            severity,
            summary,
            help,
            explanation,
            security_severity: match severity {
                Severity::Error => "7.0",
                Severity::Warning => "4.0",
                Severity::Note => "1.0",
            },
            tags: &["policy"],
        });
        made.insert(id, rule);
        Ok(rule)
    }

    /// One generated module per per-document package with several rules:
    /// `results` is the list of every rule's value (`null` when undefined).
    /// Where it cannot be added, rules are evaluated one by one.
    fn add_batches(&mut self) {
        for n in 0..self.doc_packages.len() {
            let p = &self.doc_packages[n];
            if p.rules.len() < 2 || !p.name.split('.').all(is_ident) {
                continue;
            }
            let rules = p.rules.clone();
            let name = format!("guard_internal_batch_{n}");
            if self.add_batch(&name, &rules) {
                self.doc_packages[n].batch = Some(format!("data.{name}.results"));
            }
        }
        // Every package's rules in one evaluation: the rules they share (a library's
        // `resource`, `containers`) are computed once per input, not once per package.
        let all: Vec<usize> = self
            .doc_packages
            .iter()
            .filter(|p| p.name.split('.').all(is_ident))
            .flat_map(|p| p.rules.iter().copied())
            .collect();
        if self.doc_packages.len() > 1
            && all.len() > 1
            && self.add_batch("guard_internal_batch_all", &all)
        {
            self.all_batch = Some(("data.guard_internal_batch_all.results".to_string(), all));
        }
    }

    /// Adds a generated module `name` whose `results` is the list of the rules' values
    /// (`null` when undefined); false when it cannot be added.
    fn add_batch(&mut self, name: &str, rules: &[usize]) -> bool {
        let mut text = format!("package {name}\n\nimport rego.v1\n\n");
        let mut list = Vec::new();
        for (i, &ri) in rules.iter().enumerate() {
            let r = &self.rules[ri];
            text.push_str(&format!(
                "default r{i} := null\n\nr{i} := x if {{\n\tx := data.{}.{}\n}}\n\n",
                r.package, r.name
            ));
            list.push(format!("r{i}"));
        }
        text.push_str(&format!("results := [{}]\n", list.join(", ")));
        let mut trial = self.engine.clone();
        trial.set_rego_v0(false);
        let added = trial.add_policy(format!("{name}.rego"), text).is_ok()
            && trial.eval_query("true".to_string(), false).is_ok();
        if added {
            self.engine = trial;
        }
        added
    }

    /// The rules these policies add, for the registry.
    pub fn guard_rules(&self) -> Vec<&'static Rule> {
        let mut v: Vec<&'static Rule> = self.rules.iter().map(|r| r.rule).collect();
        v.sort_by_key(|r| r.id);
        v.dedup_by_key(|r| r.id);
        v
    }

    /// Whether a guard package needs the guard/v1 input.
    pub fn needs_guard_input(&self) -> bool {
        !self.guard_packages.is_empty()
    }

    /// Evaluate every package on the model. Conftest packages see only the documents of the
    /// files `in_scope` accepts (the paths given), as `conftest test <paths>` does.
    pub fn evaluate(
        &self,
        model: &Model,
        enabled: &(dyn Fn(&str) -> bool + Sync),
        in_scope: &dyn Fn(&str) -> bool,
    ) -> Result<Evaluation, PolicyError> {
        use rayon::prelude::*;
        let t0 = std::time::Instant::now();
        let mut ev = Evaluation::default();
        let mut failures = Failures::default();
        let none_stopped = BTreeSet::new();
        let wanted = |p: &Package| p.rules.iter().any(|&i| enabled(self.rules[i].rule.id));
        let doc_pkgs: Vec<&Package> = self.doc_packages.iter().filter(|p| wanted(p)).collect();
        if !doc_pkgs.is_empty() {
            let t_inputs = std::time::Instant::now();
            let mut inputs = input::inputs(model);
            inputs.retain(|i| in_scope(model.sources.path(i.file)));
            ev.input_micros = t_inputs.elapsed().as_micros();
            if self.combine && !inputs.is_empty() {
                let combined = serde_json::Value::Array(
                    inputs
                        .iter()
                        .map(|i| {
                            serde_json::json!({
                                "path": model.sources.path(i.file),
                                "contents": i.to_json(),
                            })
                        })
                        .collect(),
                );
                let mut engine = self.engine.clone();
                self.set_file_info(&mut engine, "Combined");
                let locate = |path: &[serde_json::Value]| -> Option<Span> {
                    let (first, rest) = path.split_first()?;
                    let i = inputs.get(usize::try_from(first.as_u64()?).ok()?)?;
                    match rest.split_first() {
                        Some((c, rest)) if c == "contents" => {
                            input::locate(&i.root, rest).or_else(|| Some(i.anchor()))
                        }
                        _ => Some(i.anchor()),
                    }
                };
                let anchor = inputs.first().map(|i| i.anchor());
                let mention = |m: &str| {
                    inputs
                        .iter()
                        .find_map(|i| input::mention(&i.root, m, i.unquoted_keys()))
                };
                let out = self.eval_packages(
                    &mut engine,
                    &doc_pkgs,
                    regorus::Value::from(combined),
                    &|p| locate(p),
                    &mention,
                    anchor,
                    "the combined input",
                    &model.sources,
                    &enabled,
                    &none_stopped,
                )?;
                failures.add(&out);
                ev.findings.extend(out.findings);
                ev.prints.extend(out.prints);
                ev.exceptions += out.excepted;
                ev.inputs += 1;
            } else if !self.combine {
                // Waves of a fixed number of inputs (whatever the thread count, so the output
                // is the same); in a wave, one engine clone per chunk of inputs (a clone of
                // the prepared engine is not free), chunks in parallel. A rule that failed
                // MAX_FAILURES times is not evaluated in the following waves. Past the run's
                // budget, an input is left out (and counted).
                let deadline = t0 + total_budget();
                let left_out = std::sync::Mutex::new(Vec::<Span>::new());
                // Prepared engines, reused from chunk to chunk (about one per thread): small
                // chunks keep both threads busy to the end of a wave without a clone each.
                let pool = std::sync::Mutex::new(Vec::<regorus::Engine>::new());
                for wave in inputs.chunks(WAVE) {
                    let stopped = failures.stopped();
                    failures.skip(&stopped, wave.len());
                    let results: Vec<Vec<InputResult>> = wave
                        .par_chunks(CHUNK)
                        .map(|chunk| {
                            let mut engine = pool
                                .lock()
                                .ok()
                                .and_then(|mut p| p.pop())
                                .unwrap_or_else(|| self.engine.clone());
                            let out = chunk
                                .iter()
                                .map(|i| {
                                    if std::time::Instant::now() >= deadline {
                                        if let Ok(mut l) = left_out.lock() {
                                            l.push(i.anchor());
                                        }
                                        return Ok(InputOut::default());
                                    }
                                    self.set_file_info(&mut engine, model.sources.path(i.file));
                                    self.eval_packages(
                                        &mut engine,
                                        &doc_pkgs,
                                        i.to_value(),
                                        &|p| input::locate(&i.root, p),
                                        &|m| input::mention(&i.root, m, i.unquoted_keys()),
                                        Some(i.anchor()),
                                        model.sources.path(i.file),
                                        &model.sources,
                                        &enabled,
                                        &stopped,
                                    )
                                })
                                .collect();
                            if let Ok(mut p) = pool.lock() {
                                p.push(engine);
                            }
                            out
                        })
                        .collect();
                    for r in results.into_iter().flatten() {
                        let out = r?;
                        failures.add(&out);
                        ev.findings.extend(out.findings);
                        ev.prints.extend(out.prints);
                        ev.exceptions += out.excepted;
                    }
                }
                let mut left_out = left_out.into_inner().unwrap_or_default();
                left_out.sort();
                if let Some(first) = left_out.first() {
                    ev.findings.push(crate::rules::input::POLICY_ERROR.finding(
                        *first,
                        format!(
                            "the policies' time budget of {} s for the run ran out: {} of {} documents, this one first, were not evaluated by them (GUARD_POLICY_BUDGET_S raises the budget)",
                            total_budget().as_secs(),
                            left_out.len(),
                            inputs.len()
                        ),
                    ));
                }
                ev.inputs += inputs.len() - left_out.len();
            }
        }
        let guard_pkgs: Vec<&Package> = self.guard_packages.iter().filter(|p| wanted(p)).collect();
        if !guard_pkgs.is_empty() {
            let g = guard_input::build(model);
            let mut engine = self.engine.clone();
            let out = self.eval_packages(
                &mut engine,
                &guard_pkgs,
                regorus::Value::from(g.value.clone()),
                &|p| g.locate(p),
                &|_| None,
                None,
                "the guard/v1 input",
                &model.sources,
                &enabled,
                &none_stopped,
            )?;
            failures.add(&out);
            ev.findings.extend(out.findings);
            ev.prints.extend(out.prints);
            ev.exceptions += out.excepted;
            ev.inputs += 1;
        }
        ev.findings
            .extend(failures.findings(self, enabled(crate::rules::input::POLICY_ERROR.id))?);
        ev.micros = t0.elapsed().as_micros();
        Ok(ev)
    }

    /// Conftest's `data.conftest.file` for the input of `path` (`name`: its file name, `dir`:
    /// its directory as guard shows it, where Conftest gives the absolute one), when a policy
    /// reads it. (The data document changes per input: the engine prepares again, which only
    /// such policies pay for.)
    fn set_file_info(&self, engine: &mut regorus::Engine, path: &str) {
        let Some(base) = &self.file_info else {
            return;
        };
        let (dir, name) = path.rsplit_once('/').unwrap_or((".", path));
        let info = serde_json::json!({"conftest": {"file": {"name": name, "dir": dir}}});
        engine.clear_data();
        // A data document of the policies' own with a `conftest.file` keeps its value.
        let _ = engine.add_data(base.clone());
        let _ = engine.add_data(regorus::Value::from(info));
    }

    /// Every package's rules on one input. A rule that fails is this input's failure (in
    /// [`InputOut::failures`]); the other rules' results stand. A rule in `stopped` is not
    /// evaluated. A runaway rule (past the time limit) stops the check.
    #[allow(clippy::too_many_arguments)]
    fn eval_packages(
        &self,
        engine: &mut regorus::Engine,
        packages: &[&Package],
        input: regorus::Value,
        locate: &dyn Fn(&[serde_json::Value]) -> Option<Span>,
        mention: &dyn Fn(&str) -> Option<Span>,
        anchor: Option<Span>,
        what: &str,
        sources: &crate::source::SourceMap,
        enabled: &(dyn Fn(&str) -> bool + Sync),
        stopped: &BTreeSet<usize>,
    ) -> InputResult {
        engine.set_input(input);
        let _ = engine.take_prints();
        let mut out = InputOut {
            anchor: anchor.or_else(|| mention("")),
            what: what.to_string(),
            ..InputOut::default()
        };
        // Every Conftest package at once, when these are they and none is stopped; any
        // failure falls back to the packages' own batches, then to rules one by one.
        let all: BTreeMap<usize, regorus::Value> = match &self.all_batch {
            Some((rule, list))
                if packages
                    .iter()
                    .all(|p| self.doc_packages.iter().any(|d| std::ptr::eq(d, *p)))
                    && !list.iter().any(|ri| stopped.contains(ri)) =>
            {
                let r = engine.eval_rule(rule.clone());
                // A failed batch is evaluated again below: its prints are those of then.
                let prints = engine.take_prints().unwrap_or_default();
                match r {
                    Ok(regorus::Value::Array(a)) => {
                        out.prints.extend(prints);
                        list.iter().copied().zip(a.iter().cloned()).collect()
                    }
                    _ => BTreeMap::new(),
                }
            }
            _ => BTreeMap::new(),
        };
        for p in packages {
            // The exception rule is evaluated only when a rule has results
            // (most documents have none).
            let mut exceptions: Option<BTreeSet<String>> = None;
            // Every rule's value in one evaluation; one by one when that fails (to say which
            // rule failed, and to keep the others' results) or when a rule is stopped.
            let batch: Option<Vec<regorus::Value>> = p
                .batch
                .as_ref()
                .filter(|_| {
                    !p.rules.iter().any(|ri| stopped.contains(ri))
                        && !p.rules.iter().all(|ri| all.contains_key(ri))
                })
                .and_then(|b| {
                    let r = engine.eval_rule(b.clone());
                    let prints = engine.take_prints().unwrap_or_default();
                    match r {
                        Ok(regorus::Value::Array(a)) => {
                            out.prints.extend(prints);
                            Some(a.iter().cloned().collect())
                        }
                        _ => None,
                    }
                });
            for (k, &ri) in p.rules.iter().enumerate() {
                let r = &self.rules[ri];
                if !enabled(r.rule.id) || stopped.contains(&ri) {
                    continue;
                }
                let batched = all
                    .get(&ri)
                    .or_else(|| batch.as_ref().and_then(|b| b.get(k)))
                    .cloned();
                let v = match batched.map_or_else(
                    || eval(engine, &format!("data.{}.{}", p.name, r.name), what),
                    Ok,
                ) {
                    Ok(v) => v,
                    // A runaway policy stops the check; any other failure is
                    // this input's: counted for the rule, the rest goes on.
                    Err(e) if e.0.contains(" was stopped after ") => return Err(e),
                    Err(e) => {
                        let why =
                            e.0.split_once(&format!(" on {what}: "))
                                .map_or(e.0.as_str(), |(_, w)| w);
                        out.failures.push((ri, why.to_string()));
                        continue;
                    }
                };
                let results = results_of(&json_of(&v));
                if results.is_empty() {
                    continue;
                }
                if p.exception && exceptions.is_none() {
                    // A failing exception rule excepts nothing (and is reported as a failure
                    // of the rule it was evaluated for).
                    let v = match eval(engine, &format!("data.{}.exception", p.name), what) {
                        Ok(v) => v,
                        Err(e) if e.0.contains(" was stopped after ") => return Err(e),
                        Err(e) => {
                            let why =
                                e.0.split_once(&format!(" on {what}: "))
                                    .map_or(e.0.as_str(), |(_, w)| w);
                            out.failures
                                .push((ri, format!("its package's exception rule: {why}")));
                            regorus::Value::Undefined
                        }
                    };
                    exceptions = Some(
                        json_of(&v)
                            .as_array()
                            .into_iter()
                            .flatten()
                            .flat_map(|x| match x {
                                serde_json::Value::Array(a) => a.clone(),
                                other => vec![other.clone()],
                            })
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect(),
                    );
                }
                if exceptions
                    .as_ref()
                    .is_some_and(|x| x.contains(scan::exception_name(&r.name)))
                {
                    out.excepted += results.len();
                    continue;
                }
                for res in results {
                    let span = res
                        .path
                        .as_deref()
                        .and_then(locate)
                        .or_else(|| {
                            res.location
                                .as_ref()
                                .and_then(|l| location_span(l, sources, anchor))
                        })
                        .or_else(|| mention(&res.message))
                        .or(anchor);
                    let Some(span) = span else {
                        return Err(PolicyError(format!(
                            "policy rule data.{}.{} returned a result without a `location` on {what}; guard packages must say where (see docs/policy-input.md): {}",
                            p.name, r.name, res.message
                        )));
                    };
                    out.findings.push(r.rule.finding(span, res.message));
                }
            }
        }
        // The prints of the rules evaluated one by one (and of exception rules).
        out.prints.extend(engine.take_prints().unwrap_or_default());
        Ok(out)
    }
}

/// Inputs evaluated together before the rules that failed too often are stopped.
const WAVE: usize = 256;

/// Inputs one engine evaluates in a row within a wave (the unit of work of a thread).
const CHUNK: usize = 8;

/// Failures of one rule after which it is not evaluated on the rest of the run's documents
/// (the one GD008 finding counts them).
const MAX_FAILURES: usize = 20;

/// What one input gave.
#[derive(Default)]
struct InputOut {
    findings: Vec<Finding>,
    /// Results an `exception` rule turned off.
    excepted: usize,
    /// (rule index, why) of every rule that failed on the input.
    failures: Vec<(usize, String)>,
    /// Where the input's failures are shown.
    anchor: Option<Span>,
    /// The input, as messages name it.
    what: String,
    /// What `print()` wrote while the input was evaluated.
    prints: Vec<String>,
}

type InputResult = Result<InputOut, PolicyError>;

/// One rule's failures over the run.
#[derive(Default)]
struct RuleFailures {
    /// Where and why it failed first (inputs in order).
    first: Option<(Option<Span>, String, String)>,
    count: usize,
    /// Other messages than the first one's (at most a few kept).
    others: BTreeSet<String>,
    /// Inputs it was not evaluated on, stopped.
    skipped: usize,
}

/// The run's rule failures: one GD008 finding per policy rule, never one per document.
#[derive(Default)]
struct Failures(BTreeMap<usize, RuleFailures>);

impl Failures {
    fn add(&mut self, out: &InputOut) {
        for (ri, why) in &out.failures {
            let f = self.0.entry(*ri).or_default();
            f.count += 1;
            match &f.first {
                None => f.first = Some((out.anchor, why.clone(), out.what.clone())),
                Some((_, first, _)) if first != why && f.others.len() < 8 => {
                    f.others.insert(why.clone());
                }
                Some(_) => {}
            }
        }
    }

    /// The rules that failed too often to be evaluated further.
    fn stopped(&self) -> BTreeSet<usize> {
        self.0
            .iter()
            .filter(|(_, f)| f.count >= MAX_FAILURES)
            .map(|(ri, _)| *ri)
            .collect()
    }

    fn skip(&mut self, stopped: &BTreeSet<usize>, inputs: usize) {
        for ri in stopped {
            if let Some(f) = self.0.get_mut(ri) {
                f.skipped += inputs;
            }
        }
    }

    /// One GD008 finding per failing rule, at the first input it failed on. Without a place
    /// to show it (the guard/v1 input) or with GD008 deselected, the first failure stops the
    /// check instead.
    fn findings(self, policies: &Policies, reported: bool) -> Result<Vec<Finding>, PolicyError> {
        let mut out = Vec::new();
        for (ri, f) in self.0 {
            let Some(r) = policies.rules.get(ri) else {
                continue;
            };
            let Some((at, why, what)) = f.first else {
                continue;
            };
            let rule = format!("data.{}.{}", r.package, r.name);
            let Some(at) = at.filter(|_| reported) else {
                return Err(PolicyError(format!(
                    "policy rule {rule} failed on {what}: {why}"
                )));
            };
            let mut message = if f.count == 1 {
                format!("policy rule {rule} failed on this document: {why}")
            } else {
                format!(
                    "policy rule {rule} failed on {} documents, this one first: {why}",
                    f.count
                )
            };
            if !f.others.is_empty() {
                let n = f.others.len();
                message.push_str(&format!(
                    " (and {n}{} other error{} on the others)",
                    if n >= 8 { " or more" } else { "" },
                    if n == 1 { "" } else { "s" }
                ));
            }
            if f.skipped > 0 {
                message.push_str(&format!(
                    "; after {MAX_FAILURES} failures it was not evaluated on the {} remaining documents",
                    f.skipped
                ));
            }
            out.push(crate::rules::input::POLICY_ERROR.finding(at, message));
        }
        Ok(out)
    }
}

/// `rego.metadata.rule()` and `rego.metadata.chain()`, which regorus does not have, replaced by
/// their values (https://www.openpolicyagent.org/docs/policy-reference/builtins/rego): the
/// annotation of the rule definition the call is in (the nearest head above it; `{}` without
/// one), and the chain from that rule to its package (`path` and `annotations`, the rule's
/// entry always first). The value is written on the call's line, so lines stay as they are.
fn metadata_calls(text: &str, scanned: &scan::Scanned) -> String {
    const RULE: &str = "rego.metadata.rule()";
    const CHAIN: &str = "rego.metadata.chain()";
    if !text.contains(RULE) && !text.contains(CHAIN) {
        return text.to_string();
    }
    let package: Vec<serde_json::Value> = std::iter::once("data")
        .chain(scanned.package.split('.'))
        .map(|s| serde_json::Value::String(s.to_string()))
        .collect();
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (code, comment) = line.find('#').map_or((line, ""), |c| line.split_at(c));
        if !code.contains(RULE) && !code.contains(CHAIN) {
            out.push_str(line);
            continue;
        }
        let head = scanned.heads.iter().rev().find(|h| h.line <= line_no);
        let meta = head.and_then(|h| h.meta.clone());
        let rule = serde_json::to_string(&meta.clone().unwrap_or(serde_json::json!({})))
            .unwrap_or_else(|_| "{}".to_string());
        let mut chain = Vec::new();
        let mut rule_path = package.clone();
        if let Some(h) = head {
            rule_path.push(serde_json::Value::String(h.name.clone()));
        }
        let mut first = serde_json::json!({ "path": rule_path });
        if let Some(m) = meta {
            first["annotations"] = m;
        }
        chain.push(first);
        if let Some(m) = &scanned.package_meta {
            chain.push(serde_json::json!({ "path": package, "annotations": m }));
        }
        let chain = serde_json::to_string(&chain).unwrap_or_else(|_| "[]".to_string());
        out.push_str(&code.replace(RULE, &rule).replace(CHAIN, &chain));
        out.push_str(comment);
    }
    out
}

fn add_policy(
    engine: &mut regorus::Engine,
    name: &str,
    text: &str,
    version: Option<RegoVersion>,
) -> Result<(), PolicyError> {
    // `--rego-version`: that version only, as Conftest (a v0 policy under v1 fails to load,
    // located; under v0, `import rego.v1` still selects v1 for its file, as in OPA).
    if let Some(v) = version {
        let mut trial = engine.clone();
        trial.set_rego_v0(v == RegoVersion::V0);
        trial
            .add_policy(name.to_string(), text.to_string())
            .map_err(|e| PolicyError(describe(&e)))?;
        trial.set_rego_v0(false);
        *engine = trial;
        return Ok(());
    }
    // Rego v1 (OPA 1.0 and current Conftest) first; then the v0 syntax
    // older policies are written in (`deny[msg] { ... }`), unless the file
    // uses v1 keywords (the v0 parser would only add noise to the error).
    let mut trial = engine.clone();
    trial.set_rego_v0(false);
    let v1 = match trial.add_policy(name.to_string(), text.to_string()) {
        Ok(_) => {
            *engine = trial;
            return Ok(());
        }
        Err(e) => e,
    };
    let v1_words = text.lines().any(|l| {
        let code = l.split('#').next().unwrap_or("");
        code.contains(" if ") || code.contains(" if{") || code.contains(" contains ")
    });
    if v1_words && !text.contains("future.keywords") {
        return Err(PolicyError(describe(&v1)));
    }
    let mut trial = engine.clone();
    trial.set_rego_v0(true);
    match trial.add_policy(name.to_string(), text.to_string()) {
        Ok(_) => {
            *engine = trial;
            engine.set_rego_v0(false);
            Ok(())
        }
        Err(v0) => Err(PolicyError(describe(if v1_words { &v1 } else { &v0 }))),
    }
}

fn eval(
    engine: &mut regorus::Engine,
    rule: &str,
    what: &str,
) -> Result<regorus::Value, PolicyError> {
    engine.eval_rule(rule.to_string()).map_err(|e| {
        let d = describe(&e);
        let lower = d.to_ascii_lowercase();
        if lower.contains("time limit") || lower.contains("timed out") || lower.contains("execution time") {
            PolicyError(format!(
                "policy rule {rule} was stopped after {} ms on {what} (GUARD_POLICY_TIMEOUT_MS raises the limit): {d}",
                time_limit().as_millis()
            ))
        } else {
            PolicyError(format!("policy rule {rule} failed on {what}: {d}"))
        }
    })
}

fn json_of(v: &regorus::Value) -> serde_json::Value {
    if matches!(v, regorus::Value::Undefined) {
        return serde_json::Value::Null;
    }
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

struct Result_ {
    message: String,
    path: Option<Vec<serde_json::Value>>,
    /// `{file, line, column}`, as guard puts on every entity of its input.
    location: Option<serde_json::Value>,
}

/// Conftest's result shapes: a set (or array) of strings or of objects
/// with `msg`; `true` for a boolean rule.
fn results_of(v: &serde_json::Value) -> Vec<Result_> {
    const MAX_MESSAGE: usize = 2_000;
    let one = |x: &serde_json::Value| -> Option<Result_> {
        let (message, path, location) = match x {
            serde_json::Value::String(s) => (s.clone(), None, None),
            serde_json::Value::Object(o) => {
                let msg = o
                    .get("msg")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string());
                let path = o.get("path").and_then(|p| p.as_array()).cloned();
                // guard's `location`, or Conftest's `_loc` (`{file, line}`).
                let location = o.get("location").or_else(|| o.get("_loc")).cloned();
                (msg, path, location)
            }
            serde_json::Value::Bool(false) | serde_json::Value::Null => return None,
            other => (other.to_string(), None, None),
        };
        let mut message = crate::render::sanitize(&message).into_owned();
        if message.trim().is_empty() {
            // A finding that says nothing: say so, rather than print an empty line.
            message =
                "the policy denies this input without a reason (its message is empty)".to_string();
        }
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        Some(Result_ {
            message,
            path,
            location,
        })
    };
    match v {
        serde_json::Value::Array(items) => items.iter().filter_map(one).collect(),
        serde_json::Value::Bool(true) => vec![Result_ {
            message: "the policy denies this input".to_string(),
            path: None,
            location: None,
        }],
        serde_json::Value::Null | serde_json::Value::Bool(false) => Vec::new(),
        other => one(other).into_iter().collect(),
    }
}

/// The span a result's `location`/`_loc` names: `file` defaults to the input's file, `line`
/// and `column` may be numbers or numeric strings (Conftest reads `_loc.line` as a number).
fn location_span(
    loc: &serde_json::Value,
    sources: &crate::source::SourceMap,
    anchor: Option<Span>,
) -> Option<Span> {
    let mut loc = loc.as_object()?.clone();
    for k in ["line", "column"] {
        if let Some(n) = loc
            .get(k)
            .and_then(|v| v.as_str())
            .and_then(|t| t.trim().parse::<u64>().ok())
        {
            loc.insert(k.to_string(), n.into());
        }
    }
    if !loc.get("file").is_some_and(|f| f.is_string()) {
        loc.insert("file".to_string(), sources.path(anchor?.file).into());
    }
    // Without a column: the line's first character that is not blank.
    if !loc.contains_key("column")
        && let (Some(file), Some(line)) = (
            loc.get("file").and_then(|f| f.as_str()),
            loc.get("line").and_then(|l| l.as_u64()),
        )
        && let Some(f) = sources
            .files()
            .iter()
            .find(|f| *f.path == *file || *f.shown == *file)
        && let Some(text) = usize::try_from(line)
            .ok()
            .and_then(|l| f.text.lines().nth(l.checked_sub(1)?))
    {
        let col = text.chars().take_while(|c| c.is_whitespace()).count() + 1;
        loc.insert("column".to_string(), col.into());
    }
    guard_input::span_of_location(&serde_json::Value::Object(loc), sources)
}

fn read_data(p: &Path) -> Result<serde_json::Value, PolicyError> {
    let text = read_text(p)?;
    let name = shown(p);
    if p.extension().and_then(|e| e.to_str()) == Some("json") {
        serde_json::from_str(&text)
            .map_err(|e| PolicyError(format!("{name}:{}:{}: {e}", e.line(), e.column())))
    } else {
        let (docs, error) = yaml_documents(&name, text);
        if let Some(e) = error {
            return Err(PolicyError(e));
        }
        Ok(docs.into_iter().next().unwrap_or(serde_json::Value::Null))
    }
}

/// The documents of a YAML text as JSON, and its first parse error as
/// `name:line:col: message` (policy data, `parse_config`, METADATA).
pub(crate) fn yaml_documents(name: &str, text: String) -> (Vec<serde_json::Value>, Option<String>) {
    let file = crate::source::SourceFile::new(
        crate::source::FileId(0),
        name.to_string(),
        PathBuf::new(),
        text,
    );
    let out = crate::parse::yaml::parse(&file);
    let error = out
        .diags
        .iter()
        .find(|d| d.kind == crate::parse::DiagKind::ParseError)
        .map(|d| {
            let lc = file.line_col(d.span.start);
            format!("{name}:{}:{}: {}", lc.line, lc.column, d.message)
        });
    (out.docs.iter().map(|d| d.root.to_json()).collect(), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_match_as_conftests_globs() {
        for (p, pkg, want) in [
            ("main", "main", true),
            ("main", "main.gke", false),
            ("*", "commands", true),
            ("*", "main.gke", true),
            ("c*", "commands", true),
            ("c*", "main", false),
            ("main.*", "main.gke", true),
            ("main.*", "main", false),
            ("ma?n", "main", true),
            ("[lm]ain", "main", true),
            ("[^m]ain", "main", false),
            ("[a-l]*", "main", false),
            ("[", "main", false),
            (
                "**********************a",
                "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                false,
            ),
        ] {
            assert_eq!(namespace_matches(p, pkg), want, "{p} {pkg}");
        }
    }

    #[test]
    fn nesting_is_counted_outside_strings_and_comments() {
        let deep = |n: usize| format!("package p\nx := {}1{}\n", "[".repeat(n), "]".repeat(n));
        assert!(too_deep("p.rego", &deep(MAX_POLICY_NESTING)).is_ok());
        let e = too_deep("p.rego", &deep(MAX_POLICY_NESTING + 1)).unwrap_err();
        assert!(
            e.0.starts_with("p.rego:2: brackets nested deeper than 14 levels"),
            "{}",
            e.0
        );
        let quoted = format!(
            "package p\n# {}\nx := \"{}\"\ny := `{}`\n",
            "[".repeat(40),
            "{".repeat(40),
            "[".repeat(40)
        );
        assert!(too_deep("p.rego", &quoted).is_ok());
        // Objects nest the same way.
        let objects = format!(
            "package p\nx := {}1{}\n",
            "{\"a\": ".repeat(15),
            "}".repeat(15)
        );
        assert!(too_deep("p.rego", &objects).is_err());
    }
}
