//! `guard.toml` (or `.guard.toml`): the project's configuration.
//!
//! guard uses the nearest config file: the first directory, from the checked
//! directory up to the filesystem root, that holds `guard.toml` or
//! `.guard.toml` (`guard.toml` wins when a directory has both). Every key is
//! optional. An unknown key, a value of the wrong type, or a name that refers
//! to no rule or environment is an error reported at its line and column;
//! all of a file's errors are reported at once.
//!
//! ```toml
//! # Rules are named by id ("BO001"), by name, or by family ("secrets").
//! select = ["secrets", "BO001"]        # check only these (default: every rule)
//! extend-select = ["BO010"]            # add these to the selection
//! # ignore = ["BO002"]                 # remove these from the selection (see below)
//! exclude = ["vendor/**", "**/testdata/**"]  # path globs never checked
//! fail-on = "warning"                  # "error" | "warning" | "note" | "never":
//!                                      # the least severe finding that fails the run
//! policies = ["policies"]              # directories of the project's own policies
//!
//! [rules.BO003]                        # one table per rule, name or family
//! severity = "warning"                 # "error" | "warning" | "note" | "off"
//!
//! [environments]
//! defaults = true                      # false: only the environments declared below exist
//! order = ["dev", "staging", "prod"]   # promotion order
//! non-environment-dirs = ["modules", "shared"]  # directory names that never name an environment
//!
//! [environments.prod]                  # a default environment keeps its tier
//! aliases = ["live"]
//!
//! [environments.perf]                  # a new environment needs a tier
//! tier = "staging"                     # "dev" | "staging" | "prod"
//! aliases = ["load-test"]              # other names of it in paths and namespaces
//! globs = ["deploy/perf/**"]           # its files (path globs from the project root)
//! var-files = ["envs/perf.tfvars"]     # its Terraform var files (paths or globs)
//! workspaces = ["perf"]                # its Terraform workspaces
//! overlays = ["k8s/overlays/perf"]     # its Kustomize overlay directories
//! values = ["charts/app/values-perf.yaml"]  # its Helm values files
//! namespaces = ["app-perf"]            # its Kubernetes namespaces
//!
//! [regions]
//! allowed = ["us-east-1", "eu-west-1"] # the AWS regions resources may be in
//! [regions.env]
//! prod = ["us-east-1"]                 # ... per environment
//!
//! [parity]
//! pairs = [["staging", "prod"]]        # environments whose settings should match
//! allow = ["aws_db_instance.*.instance_class"]  # differences that are intended
//!
//! [hardening]                        # present: the hardening family runs (it is opt-in;
//!                                      # `extend-select = ["hardening"]` runs it too)
//!                                      # which Pod Security Standards profile each tier must meet:
//! pod-security = { prod = "restricted", staging = "baseline", dev = "off" }
//!                                      # "restricted" | "baseline" | "off" per tier (dev, staging, prod)
//!
//! [limits]
//! max-file-size = 5_000_000            # bytes (a positive integer)
//! max-findings-per-file = 200          # (a positive integer)
//!
//! [[ignore]]                           # a suppression; `[[suppress]]` is the same
//! path = "legacy/**"                   # a path glob; omitted: every file
//! rules = ["BO001", "secrets"]         # or `rule = "BO001"`; at least one
//! environment = "dev"                  # omitted: every environment
//! reason = "replaced in Q3"            # why (guard warns when it is missing)
//! until = 2027-01-31                   # expiry: a TOML date or "2027-01-31"
//! ```
//!
//! Environments: the defaults are `sandbox` and `dev` (tier dev), `qa`,
//! `uat` and `staging` (tier staging) and `prod` (tier prod); a declared
//! environment with a default's name keeps that tier unless it sets one,
//! even with `defaults = false`. A name is lowercase letters, digits, `-`
//! and `_`, starting with a letter or digit. Wherever an environment is named
//! (`order`, `[regions.env]`, `[parity] pairs`, `[[ignore]] environment`),
//! an alias of a declared environment may stand for it. No alias may name
//! two environments.
//!
//! `ignore` means two things, told apart by its TOML type: an array of
//! strings (`ignore = ["BO002"]`) removes rules from the selection,
//! `[[ignore]]` tables are suppressions. TOML lets a key be only one of these
//! in a file, so a file that uses `ignore = [...]` writes its suppressions as
//! `[[suppress]]` tables, which mean the same as `[[ignore]]` tables.

use crate::hash::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, TableLike, Value};

use crate::finding::Severity;

/// The names of the config file, in order of preference.
pub const FILE_NAMES: [&str; 2] = crate::project::CONFIG_NAMES;

/// A byte range in the config file's text.
pub type ByteSpan = std::ops::Range<usize>;

/// The default environments and their tiers, in promotion order (the
/// built-in set of [`crate::env::EnvSet`]).
pub const DEFAULT_ENVIRONMENTS: [(&str, Tier); 6] = [
    (crate::env::DEFAULTS[0].0, crate::env::DEFAULTS[0].1),
    (crate::env::DEFAULTS[1].0, crate::env::DEFAULTS[1].1),
    (crate::env::DEFAULTS[2].0, crate::env::DEFAULTS[2].1),
    (crate::env::DEFAULTS[3].0, crate::env::DEFAULTS[3].1),
    (crate::env::DEFAULTS[4].0, crate::env::DEFAULTS[4].1),
    (crate::env::DEFAULTS[5].0, crate::env::DEFAULTS[5].1),
];

#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: ByteSpan,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: ByteSpan) -> Spanned<T> {
        Spanned { value, span }
    }
}

/// One problem with a config file, located at the offending key or value.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub span: ByteSpan,
    /// 1-based.
    pub line: u32,
    /// 1-based, counting characters.
    pub column: u32,
    pub message: String,
}

impl ConfigError {
    fn new(text: &str, span: ByteSpan, message: String) -> ConfigError {
        let (line, column) = line_col(text, span.start);
        ConfigError {
            span,
            line,
            column,
            message,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A parsed and validated config file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Config {
    /// The text it was parsed from (for locating spans later).
    pub text: String,
    pub environments: Environments,
    pub regions: Regions,
    /// Rule ids, names or family names.
    pub select: Vec<Spanned<String>>,
    pub ignore: Vec<Spanned<String>>,
    pub extend_select: Vec<Spanned<String>>,
    /// `[rules.ID]` tables, in file order.
    pub rules: Vec<RuleSetting>,
    /// Path globs.
    pub exclude: Vec<Spanned<String>>,
    pub fail_on: Option<Spanned<FailOn>>,
    pub parity: Parity,
    /// `[hardening]`.
    pub hardening: Hardening,
    /// Rego policy directories; `None`: the project's `policy/` and
    /// `policies/`; `Some([])`: no policies.
    pub policies: Option<Vec<Spanned<String>>>,
    /// `[[ignore]]` and `[[suppress]]` tables, in file order.
    pub ignores: Vec<IgnoreEntry>,
    pub limits: Limits,
}

/// The least severe finding that makes the run fail (`never`: none does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

impl FailOn {
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Note => "note",
            FailOn::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<FailOn> {
        match s {
            "error" => Some(FailOn::Error),
            "warning" => Some(FailOn::Warning),
            "note" => Some(FailOn::Note),
            "never" => Some(FailOn::Never),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Environments {
    /// false when `[environments] defaults = false`: only the declared ones exist.
    pub defaults: bool,
    /// Promotion order.
    pub order: Option<Spanned<Vec<Spanned<String>>>>,
    /// `[environments.NAME]` in file order.
    pub declared: Vec<EnvDecl>,
    /// Directory names that are never environment evidence
    /// (`non-environment-dirs`); None = built-in default list.
    pub non_environment_dirs: Option<Vec<Spanned<String>>>,
}

impl Default for Environments {
    fn default() -> Environments {
        Environments {
            defaults: true,
            order: None,
            declared: Vec::new(),
            non_environment_dirs: None,
        }
    }
}

/// One `[environments.NAME]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvDecl {
    /// Spans the table header's key.
    pub name: Spanned<String>,
    /// As written; see [`EnvDecl::effective_tier`] for a default's tier.
    pub tier: Option<Spanned<Tier>>,
    pub aliases: Vec<Spanned<String>>,
    /// Path globs, relative to the project root.
    pub globs: Vec<Spanned<String>>,
    /// Key `var-files`: Terraform var files (paths or globs).
    pub var_files: Vec<Spanned<String>>,
    pub workspaces: Vec<Spanned<String>>,
    /// Kustomize overlay directories.
    pub overlays: Vec<Spanned<String>>,
    /// Helm values files.
    pub values: Vec<Spanned<String>>,
    pub namespaces: Vec<Spanned<String>>,
}

impl EnvDecl {
    fn new(name: Spanned<String>) -> EnvDecl {
        EnvDecl {
            name,
            tier: None,
            aliases: Vec::new(),
            globs: Vec::new(),
            var_files: Vec::new(),
            workspaces: Vec::new(),
            overlays: Vec::new(),
            values: Vec::new(),
            namespaces: Vec::new(),
        }
    }

    /// The tier written, or else the tier of the default environment of
    /// this name.
    pub fn effective_tier(&self) -> Option<Tier> {
        self.tier
            .as_ref()
            .map(|t| t.value)
            .or_else(|| default_tier(&self.name.value))
    }
}

pub use crate::env::Tier;

/// The tier of a default environment.
pub fn default_tier(name: &str) -> Option<Tier> {
    DEFAULT_ENVIRONMENTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t)
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Regions {
    /// `[regions] allowed = [...]`.
    pub allowed: Option<Vec<Spanned<String>>>,
    /// `[regions.env] prod = [...]`: environment name, regions.
    pub per_env: Vec<(Spanned<String>, Vec<Spanned<String>>)>,
}

/// One `[rules.ID]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSetting {
    pub rule: Spanned<String>,
    /// None when not given or `"off"`.
    pub severity: Option<Spanned<Severity>>,
    /// false for `severity = "off"`.
    pub enabled: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parity {
    pub pairs: Vec<(Spanned<String>, Spanned<String>)>,
    pub allow: Vec<Spanned<String>>,
}

/// `[hardening]`: how strict the hardening family is per environment tier.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hardening {
    /// The `[hardening]` table is present: the family runs without being
    /// selected (it is opt-in otherwise).
    pub enabled: bool,
    /// `pod-security = { prod = "restricted", ... }`; `None`: the rules'
    /// own tier severities decide.
    pub pod_security: Option<Spanned<PodSecurityProfiles>>,
}

/// A Pod Security Standards profile (`off` is the standard's `privileged`:
/// nothing is enforced).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PssProfile {
    Off,
    Baseline,
    Restricted,
}

impl PssProfile {
    pub fn as_str(self) -> &'static str {
        match self {
            PssProfile::Off => "off",
            PssProfile::Baseline => "baseline",
            PssProfile::Restricted => "restricted",
        }
    }

    pub fn parse(s: &str) -> Option<PssProfile> {
        match s {
            "off" | "privileged" => Some(PssProfile::Off),
            "baseline" => Some(PssProfile::Baseline),
            "restricted" => Some(PssProfile::Restricted),
            _ => None,
        }
    }
}

/// The profile each environment tier must meet. A tier left out keeps the
/// default: restricted in prod, baseline in staging and dev.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodSecurityProfiles {
    pub dev: PssProfile,
    pub staging: PssProfile,
    pub prod: PssProfile,
}

impl Default for PodSecurityProfiles {
    fn default() -> PodSecurityProfiles {
        PodSecurityProfiles {
            dev: PssProfile::Baseline,
            staging: PssProfile::Baseline,
            prod: PssProfile::Restricted,
        }
    }
}

impl PodSecurityProfiles {
    pub fn for_tier(&self, tier: Tier) -> PssProfile {
        match tier {
            Tier::Dev => self.dev,
            Tier::Staging => self.staging,
            Tier::Prod => self.prod,
        }
    }
}

/// One `[[ignore]]` (or `[[suppress]]`) table: a suppression.
#[derive(Clone, Debug, PartialEq)]
pub struct IgnoreEntry {
    /// The whole table (header to last key).
    pub span: ByteSpan,
    /// Glob; None = every file.
    pub path: Option<Spanned<String>>,
    /// `rule = "BO001"` and/or `rules = ["BO001", "secrets"]`; never empty in
    /// a valid config.
    pub rules: Vec<Spanned<String>>,
    pub environment: Option<Spanned<String>>,
    /// Missing is allowed (the caller reports it as a warning).
    pub reason: Option<Spanned<String>>,
    pub until: Option<Spanned<Date>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Limits {
    /// `max-file-size`, bytes.
    pub max_file_size: Option<Spanned<u64>>,
    pub max_findings_per_file: Option<Spanned<u64>>,
}

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// A real date, or None.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Strictly `YYYY-MM-DD`, a real calendar day.
    pub fn parse(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |n, c| {
                c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
            })
        };
        let year = i32::try_from(num(0..4)?).ok()?;
        let month = u8::try_from(num(5..7)?).ok()?;
        let day = u8::try_from(num(8..10)?).ok()?;
        Date::new(year, month, day)
    }

    /// Today's UTC date, or the date in `GUARD_TODAY` (YYYY-MM-DD) when that
    /// is set and valid (for tests).
    pub fn today() -> Date {
        if let Some(d) = std::env::var("GUARD_TODAY")
            .ok()
            .and_then(|s| Date::parse(s.trim()))
        {
            return d;
        }
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// The civil date `days` days after 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`).
    fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let bytes = text.as_bytes();
    // An offset inside a character locates that character.
    let mut offset = offset.min(bytes.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &bytes[..offset];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    // Count characters: the bytes that start one.
    let column = before[line_start..]
        .iter()
        .filter(|&&b| b & 0xC0 != 0x80)
        .count()
        + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

impl Config {
    /// Parse and validate. `known` says whether a string names a rule, a
    /// rule name or a family. Every problem found is returned, in file order.
    pub fn parse(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Config, Vec<ConfigError>> {
        let doc = match Document::parse(text) {
            Ok(doc) => doc,
            Err(e) => return Err(vec![syntax_error(text, &e)]),
        };
        let mut p = Parser {
            text,
            known,
            errors: Vec::new(),
        };
        let mut config = Config {
            text: text.to_owned(),
            ..Config::default()
        };
        let root = Tbl {
            like: doc.as_table(),
            span: 0..0,
            name: String::new(),
        };
        p.top_level(&root, &mut config);
        p.check_environment_refs(&config);
        if p.errors.is_empty() {
            Ok(config)
        } else {
            let mut errors = p.errors;
            errors.sort_by_key(|e| (e.span.start, e.span.end));
            errors.dedup();
            Err(errors)
        }
    }

    /// The environment names this config declares plus the defaults
    /// (unless `defaults = false`): sandbox, dev, qa, uat, staging, prod.
    pub fn environment_names(&self) -> Vec<String> {
        environment_names(&self.environments)
    }

    /// The line and column (1-based) of a byte offset in `self.text`.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        line_col(&self.text, offset)
    }

    /// The environment a name or an alias of a declared environment stands
    /// for, if any.
    pub fn resolve_environment(&self, name: &str) -> Option<String> {
        if self.environment_names().iter().any(|n| n == name) {
            return Some(name.to_owned());
        }
        self.environments
            .declared
            .iter()
            .find(|d| d.aliases.iter().any(|a| a.value == name))
            .map(|d| d.name.value.clone())
    }

    /// The tier of an environment (by name or alias).
    pub fn tier_of(&self, name: &str) -> Option<Tier> {
        let name = self.resolve_environment(name)?;
        match self
            .environments
            .declared
            .iter()
            .find(|d| d.name.value == name)
        {
            Some(d) => d.effective_tier(),
            None => default_tier(&name),
        }
    }
}

fn environment_names(envs: &Environments) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if envs.defaults {
        names.extend(DEFAULT_ENVIRONMENTS.iter().map(|(n, _)| (*n).to_owned()));
    }
    for d in &envs.declared {
        if !names.contains(&d.name.value) {
            names.push(d.name.value.clone());
        }
    }
    names
}

/// The nearest config file walking up from `dir` (inclusive) to the
/// filesystem root: the first directory holding `guard.toml` or
/// `.guard.toml` (`guard.toml` wins if both).
pub fn find_upward(dir: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    // Resolve `..` as written, so that `a/..` walks up from the parent of `a`.
    let mut start = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::ParentDir => {
                start.pop();
            }
            std::path::Component::CurDir => {}
            other => start.push(other),
        }
    }
    start.ancestors().find_map(|d| {
        FILE_NAMES
            .iter()
            .map(|name| d.join(name))
            .find(|p| p.is_file())
    })
}

fn syntax_error(text: &str, e: &toml_edit::TomlError) -> ConfigError {
    let span = e.span().unwrap_or(0..0);
    let mut message = format!("invalid TOML: {}", e.message());
    if e.message().starts_with("duplicate key") {
        let key = text
            .get(span.clone())
            .unwrap_or("")
            .trim_matches(['"', '\'']);
        if !key.is_empty() {
            message = format!("invalid TOML: duplicate key `{key}`");
        }
        if key == "ignore" {
            message.push_str(
                "; `ignore = [...]` (rules to ignore) and `[[ignore]]` (suppressions) \
                 cannot share one file: write the suppressions as `[[suppress]]`",
            );
        }
    }
    ConfigError::new(text, span, message)
}

const TOP_KEYS: &[&str] = &[
    "select",
    "ignore",
    "extend-select",
    "exclude",
    "fail-on",
    "policies",
    "environments",
    "regions",
    "rules",
    "parity",
    "hardening",
    "limits",
    "suppress",
];
const ENVIRONMENTS_KEYS: &[&str] = &["defaults", "order", "non-environment-dirs"];
const ENV_DECL_KEYS: &[&str] = &[
    "tier",
    "aliases",
    "globs",
    "var-files",
    "workspaces",
    "overlays",
    "values",
    "namespaces",
];
const REGIONS_KEYS: &[&str] = &["allowed", "env"];
const RULE_KEYS: &[&str] = &["severity"];
const PARITY_KEYS: &[&str] = &["pairs", "allow"];
const HARDENING_KEYS: &[&str] = &["pod-security"];
const TIER_KEYS: &[&str] = &["dev", "staging", "prod"];
const LIMITS_KEYS: &[&str] = &["max-file-size", "max-findings-per-file"];
const IGNORE_KEYS: &[&str] = &["path", "rule", "rules", "environment", "reason", "until"];

/// A table (standard, dotted or inline) with where it is and what it is
/// called in messages (`[environments.prod]`; empty for the top level).
struct Tbl<'a> {
    like: &'a dyn TableLike,
    span: ByteSpan,
    name: String,
}

/// One key of a table.
struct Entry<'a> {
    key: &'a str,
    key_span: ByteSpan,
    item: &'a Item,
}

impl Entry<'_> {
    fn span(&self) -> ByteSpan {
        item_span(self.item).unwrap_or_else(|| self.key_span.clone())
    }
}

impl<'a> Tbl<'a> {
    fn entries(&self) -> Vec<Entry<'a>> {
        let like = self.like;
        like.iter()
            .map(|(key, item)| {
                let key_span = like
                    .get_key_value(key)
                    .and_then(|(k, _)| k.span())
                    .unwrap_or_else(|| self.span.clone());
                Entry {
                    key,
                    key_span,
                    item,
                }
            })
            .collect()
    }

    /// `in [name]`, or `at the top level`.
    fn place(&self) -> String {
        if self.name.is_empty() {
            "at the top level".to_owned()
        } else {
            format!("in {}", self.name)
        }
    }

    /// The header (or inline table) through the end of its last entry.
    fn full_span(&self) -> ByteSpan {
        let end = self
            .entries()
            .iter()
            .map(|e| e.span().end.max(e.key_span.end))
            .fold(self.span.end, usize::max);
        self.span.start..end
    }
}

fn item_span(item: &Item) -> Option<ByteSpan> {
    match item {
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        Item::Value(v) => v.span(),
        Item::None => None,
    }
}

fn value_span(v: &Value, fallback: &ByteSpan) -> ByteSpan {
    v.span().unwrap_or_else(|| fallback.clone())
}

/// `a`, `an`: how a TOML item is named in messages.
fn describe(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => describe_value(v),
    }
}

fn describe_value(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}

/// A TOML key as written in a table header.
fn header_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        key.to_owned()
    } else {
        format!("{key:?}")
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Shaped like an AWS region: `^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`.
pub fn is_region(s: &str) -> bool {
    let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
    let parts: Vec<&str> = s.split('-').collect();
    let (country, middle, number) = match parts.as_slice() {
        [c, m, n] => (*c, *m, *n),
        [c, q, m, n] => {
            let qualifier = *q == "gov"
                || q.strip_prefix("iso")
                    .is_some_and(|rest| rest.is_empty() || (rest.len() == 1 && lower(rest)));
            if !qualifier {
                return false;
            }
            (*c, *m, *n)
        }
        _ => return false,
    };
    country.len() == 2
        && lower(country)
        && lower(middle)
        && number.len() == 1
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Edit distance in characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate `word` was most likely meant to be: the same up to case
/// and `_`/`-`, or within edit distance 2 (and closer than the word's length).
fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let norm = |s: &str| s.to_lowercase().replace('_', "-");
    let w = norm(word);
    let len = w.chars().count();
    candidates
        .iter()
        .map(|c| (levenshtein(&w, &norm(c)), *c))
        .filter(|(d, _)| *d <= 2 && *d < len)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn suggestion(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Parser<'a> {
    text: &'a str,
    known: &'a dyn Fn(&str) -> bool,
    errors: Vec<ConfigError>,
}

impl<'a> Parser<'a> {
    fn error(&mut self, span: ByteSpan, message: String) {
        self.errors.push(ConfigError::new(self.text, span, message));
    }

    fn unknown_key(&mut self, e: &Entry, table: &Tbl, known: &[&str], hint: &str) {
        let mut message = format!("unknown key `{}` {}", e.key, table.place());
        let suggested = suggestion(e.key, known);
        if suggested.is_empty() {
            message.push_str(hint);
        } else {
            message.push_str(&suggested);
        }
        self.error(e.key_span.clone(), message);
    }

    /// The entry as a table, or an error.
    fn table<'t>(&mut self, e: &Entry<'t>, name: String) -> Option<Tbl<'t>> {
        match e.item.as_table_like() {
            Some(like) => Some(Tbl {
                like,
                span: e.span(),
                name,
            }),
            None => {
                let message = format!("`{}` must be a table, found {}", e.key, describe(e.item));
                self.error(e.span(), message);
                None
            }
        }
    }

    fn string(&mut self, e: &Entry) -> Option<Spanned<String>> {
        match e.item.as_str() {
            Some(s) => Some(Spanned::new(s.to_owned(), e.span())),
            None => {
                let message = format!("`{}` must be a string, found {}", e.key, describe(e.item));
                self.error(e.span(), message);
                None
            }
        }
    }

    /// An array of strings: the strings, with an error at each other element.
    fn strings(&mut self, e: &Entry) -> Option<Vec<Spanned<String>>> {
        let span = e.span();
        let Some(array) = e.item.as_array() else {
            let message = format!(
                "`{}` must be an array of strings, found {}",
                e.key,
                describe(e.item)
            );
            self.error(span, message);
            return None;
        };
        Some(self.array_strings(e.key, array.iter(), &span))
    }

    fn array_strings<'v>(
        &mut self,
        key: &str,
        values: impl Iterator<Item = &'v Value>,
        fallback: &ByteSpan,
    ) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        for v in values {
            let span = value_span(v, fallback);
            match v.as_str() {
                Some(s) => out.push(Spanned::new(s.to_owned(), span)),
                None => {
                    let message = format!(
                        "`{key}` must be an array of strings, found {} in it",
                        describe_value(v)
                    );
                    self.error(span, message);
                }
            }
        }
        out
    }

    fn rule_ref(&mut self, s: &Spanned<String>) {
        if !(self.known)(&s.value) {
            let message = format!(
                "no rule, rule name or family `{}`; `guard rules` lists them",
                s.value
            );
            self.error(s.span.clone(), message);
        }
    }

    fn rule_refs(&mut self, e: &Entry) -> Vec<Spanned<String>> {
        let rules = self.strings(e).unwrap_or_default();
        for r in &rules {
            self.rule_ref(r);
        }
        rules
    }

    fn glob(&mut self, s: &Spanned<String>) {
        if s.value.is_empty() {
            self.error(s.span.clone(), "an empty glob matches nothing".to_owned());
        } else if let Err(err) = globset::Glob::new(&s.value) {
            let message = format!("invalid glob `{}`: {}", s.value, err.kind());
            self.error(s.span.clone(), message);
        }
    }

    fn globs(&mut self, e: &Entry) -> Vec<Spanned<String>> {
        let globs = self.strings(e).unwrap_or_default();
        for g in &globs {
            self.glob(g);
        }
        globs
    }

    fn regions(&mut self, e: &Entry) -> Vec<Spanned<String>> {
        let regions = self.strings(e).unwrap_or_default();
        for r in &regions {
            if !is_region(&r.value) {
                let message = format!(
                    "`{}` is not an AWS region (like \"us-east-1\" or \"us-gov-west-1\")",
                    r.value
                );
                self.error(r.span.clone(), message);
            }
        }
        regions
    }

    fn positive(&mut self, e: &Entry) -> Option<Spanned<u64>> {
        match e.item.as_integer().and_then(|n| u64::try_from(n).ok()) {
            Some(n) if n > 0 => Some(Spanned::new(n, e.span())),
            _ => {
                let message = format!("`{}` must be a positive integer", e.key);
                self.error(e.span(), message);
                None
            }
        }
    }

    fn date(&mut self, e: &Entry) -> Option<Spanned<Date>> {
        let span = e.span();
        let date = match e.item.as_value() {
            Some(Value::String(s)) => Date::parse(s.value()),
            Some(Value::Datetime(dt)) => {
                let dt = dt.value();
                match (dt.date, dt.time, dt.offset) {
                    (Some(d), None, None) => Date::new(i32::from(d.year), d.month, d.day),
                    _ => None,
                }
            }
            _ => None,
        };
        if date.is_none() {
            let written = self.text.get(span.clone()).unwrap_or("").trim();
            let message = format!(
                "`{}` must be a date as YYYY-MM-DD, like 2027-01-31; {written} is not one",
                e.key
            );
            self.error(span.clone(), message);
        }
        date.map(|d| Spanned::new(d, span))
    }

    fn top_level(&mut self, root: &Tbl, config: &mut Config) {
        for e in root.entries() {
            match e.key {
                "select" => config.select = self.rule_refs(&e),
                "extend-select" => config.extend_select = self.rule_refs(&e),
                "ignore" => self.ignore_key(&e, config),
                "suppress" => self.suppress_key(&e, config),
                "exclude" => config.exclude = self.globs(&e),
                "policies" => config.policies = Some(self.strings(&e).unwrap_or_default()),
                "fail-on" => config.fail_on = self.fail_on(&e),
                "environments" => self.environments(&e, &mut config.environments),
                "regions" => self.regions_table(&e, &mut config.regions),
                "rules" => self.rules_table(&e, &mut config.rules),
                "parity" => self.parity(&e, &mut config.parity),
                "hardening" => self.hardening(&e, &mut config.hardening),
                "limits" => self.limits(&e, &mut config.limits),
                _ => self.unknown_key(&e, root, TOP_KEYS, ""),
            }
        }
        config.ignores.sort_by_key(|i| i.span.start);
    }

    fn fail_on(&mut self, e: &Entry) -> Option<Spanned<FailOn>> {
        let choices = ["error", "warning", "note", "never"];
        match e.item.as_str().and_then(FailOn::parse) {
            Some(f) => Some(Spanned::new(f, e.span())),
            None => {
                let message = format!("`{}` must be one of {}", e.key, quoted_list(&choices));
                self.error(e.span(), message);
                None
            }
        }
    }

    /// `ignore`: an array of rule ids (rule selection), or `[[ignore]]`
    /// tables (suppressions).
    fn ignore_key(&mut self, e: &Entry, config: &mut Config) {
        match e.item {
            Item::ArrayOfTables(_) => self.suppressions(e, "[[ignore]]", &mut config.ignores),
            Item::Value(Value::Array(a)) if a.get(0).is_some_and(Value::is_inline_table) => {
                self.suppressions(e, "[[ignore]]", &mut config.ignores)
            }
            Item::Value(Value::Array(a)) => {
                let rules = self.array_strings(e.key, a.iter(), &e.span());
                for r in &rules {
                    self.rule_ref(r);
                }
                config.ignore = rules;
            }
            _ => {
                let message = format!(
                    "`ignore` must be an array of rules to ignore, or [[ignore]] tables of \
                     suppressions, found {}",
                    describe(e.item)
                );
                self.error(e.span(), message);
            }
        }
    }

    fn suppress_key(&mut self, e: &Entry, config: &mut Config) {
        match e.item {
            Item::ArrayOfTables(_) | Item::Value(Value::Array(_)) => {
                self.suppressions(e, "[[suppress]]", &mut config.ignores)
            }
            _ => {
                let message = format!(
                    "`suppress` must be [[suppress]] tables, found {}",
                    describe(e.item)
                );
                self.error(e.span(), message);
            }
        }
    }

    /// `[[ignore]]` / `[[suppress]]` tables, or an array of inline tables.
    fn suppressions(&mut self, e: &Entry, name: &str, out: &mut Vec<IgnoreEntry>) {
        match e.item {
            Item::ArrayOfTables(aot) => {
                for t in aot.iter() {
                    let tbl = Tbl {
                        like: t,
                        span: t.span().unwrap_or_else(|| e.key_span.clone()),
                        name: name.to_owned(),
                    };
                    out.push(self.suppression(&tbl));
                }
            }
            Item::Value(Value::Array(a)) => {
                for v in a.iter() {
                    let span = value_span(v, &e.span());
                    match v.as_inline_table() {
                        Some(t) => {
                            let tbl = Tbl {
                                like: t,
                                span,
                                name: name.to_owned(),
                            };
                            out.push(self.suppression(&tbl));
                        }
                        None => {
                            let message = format!(
                                "each entry of `{}` must be a table of a suppression, found {}",
                                e.key,
                                describe_value(v)
                            );
                            self.error(span, message);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn suppression(&mut self, t: &Tbl) -> IgnoreEntry {
        let mut entry = IgnoreEntry {
            span: t.full_span(),
            path: None,
            rules: Vec::new(),
            environment: None,
            reason: None,
            until: None,
        };
        let mut named_rules = false;
        for e in t.entries() {
            match e.key {
                "path" => {
                    entry.path = self.string(&e);
                    if let Some(p) = &entry.path {
                        self.glob(p);
                    }
                }
                "rule" => {
                    named_rules = true;
                    if let Some(r) = self.string(&e) {
                        self.rule_ref(&r);
                        entry.rules.push(r);
                    }
                }
                "rules" => {
                    named_rules = true;
                    let rules = self.rule_refs(&e);
                    if rules.is_empty() && e.item.as_array().is_some_and(|a| a.is_empty()) {
                        self.error(e.span(), "`rules` must name at least one rule".to_owned());
                    }
                    entry.rules.extend(rules);
                }
                "environment" => entry.environment = self.string(&e),
                "reason" => entry.reason = self.string(&e),
                "until" => entry.until = self.date(&e),
                _ => self.unknown_key(&e, t, IGNORE_KEYS, ""),
            }
        }
        if !named_rules {
            let message = format!(
                "{} needs `rule = \"ID\"` or `rules = [...]`: the rules it suppresses",
                t.name
            );
            self.error(t.span.clone(), message);
        }
        entry.rules.sort_by_key(|r| r.span.start);
        entry
    }

    fn environments(&mut self, e: &Entry, envs: &mut Environments) {
        let Some(t) = self.table(e, "[environments]".to_owned()) else {
            return;
        };
        for e in t.entries() {
            let reserved = ENVIRONMENTS_KEYS.contains(&e.key);
            if reserved && e.item.is_table_like() {
                let message = format!(
                    "`{}` is a setting of [environments], not an environment name",
                    e.key
                );
                self.error(e.key_span.clone(), message);
                continue;
            }
            match e.key {
                "defaults" => match e.item.as_bool() {
                    Some(b) => envs.defaults = b,
                    None => {
                        let message = format!(
                            "`defaults` must be true or false, found {}",
                            describe(e.item)
                        );
                        self.error(e.span(), message);
                    }
                },
                "order" => {
                    if let Some(order) = self.strings(&e) {
                        let mut seen: Vec<&str> = Vec::new();
                        for o in &order {
                            if seen.contains(&o.value.as_str()) {
                                let message = format!("`{}` is twice in `order`", o.value);
                                self.error(o.span.clone(), message);
                            }
                            seen.push(&o.value);
                        }
                        envs.order = Some(Spanned::new(order, e.span()));
                    }
                }
                "non-environment-dirs" => envs.non_environment_dirs = self.strings(&e),
                _ => match e.item.as_table_like() {
                    Some(like) => {
                        let decl_table = Tbl {
                            like,
                            span: e.span(),
                            name: format!("[environments.{}]", header_key(e.key)),
                        };
                        let decl = self.env_decl(&e, &decl_table);
                        envs.declared.push(decl);
                    }
                    None => self.unknown_key(
                        &e,
                        &t,
                        ENVIRONMENTS_KEYS,
                        &format!(
                            " (an environment is declared as a table: [environments.{}])",
                            header_key(e.key)
                        ),
                    ),
                },
            }
        }
        self.check_env_decls(envs);
    }

    fn env_decl(&mut self, e: &Entry, t: &Tbl) -> EnvDecl {
        let name = Spanned::new(e.key.to_owned(), e.key_span.clone());
        if !is_env_name(e.key) {
            let message = format!(
                "environment name `{}` must be lowercase letters, digits, `-` and `_`, \
                 starting with a letter or digit",
                e.key
            );
            self.error(e.key_span.clone(), message);
        }
        let mut decl = EnvDecl::new(name);
        for e in t.entries() {
            match e.key {
                "tier" => match e.item.as_str().and_then(Tier::parse) {
                    Some(tier) => decl.tier = Some(Spanned::new(tier, e.span())),
                    None => {
                        let message = format!(
                            "`tier` must be one of {}",
                            quoted_list(&Tier::ALL.map(Tier::as_str))
                        );
                        self.error(e.span(), message);
                    }
                },
                "aliases" => {
                    decl.aliases = self.strings(&e).unwrap_or_default();
                    for a in &decl.aliases {
                        if a.value.is_empty() {
                            self.error(a.span.clone(), "an alias must not be empty".to_owned());
                        }
                    }
                }
                "globs" => decl.globs = self.globs(&e),
                "var-files" => decl.var_files = self.globs(&e),
                "workspaces" => decl.workspaces = self.strings(&e).unwrap_or_default(),
                "overlays" => decl.overlays = self.strings(&e).unwrap_or_default(),
                "values" => decl.values = self.strings(&e).unwrap_or_default(),
                "namespaces" => decl.namespaces = self.strings(&e).unwrap_or_default(),
                _ => self.unknown_key(&e, t, ENV_DECL_KEYS, ""),
            }
        }
        // A default environment keeps its tier; a new one must say.
        if t.like.get("tier").is_none() && default_tier(e.key).is_none() {
            let message = format!(
                "environment `{}` needs a `tier`: one of {}",
                e.key,
                quoted_list(&Tier::ALL.map(Tier::as_str))
            );
            self.error(e.key_span.clone(), message);
        }
        decl
    }

    /// Names and aliases that collide.
    fn check_env_decls(&mut self, envs: &Environments) {
        // Every label (name or alias) in file order, after the default names.
        struct Label<'l> {
            text: String,
            span: Option<&'l ByteSpan>,
            owner: &'l str,
            alias: bool,
        }
        let mut labels: Vec<Label> = Vec::new();
        if envs.defaults {
            for (n, _) in DEFAULT_ENVIRONMENTS {
                labels.push(Label {
                    text: n.to_owned(),
                    span: None,
                    owner: n,
                    alias: false,
                });
            }
        }
        let mut declared: Vec<Label> = Vec::new();
        for d in &envs.declared {
            declared.push(Label {
                text: d.name.value.clone(),
                span: Some(&d.name.span),
                owner: &d.name.value,
                alias: false,
            });
            for a in &d.aliases {
                declared.push(Label {
                    text: a.value.to_lowercase(),
                    span: Some(&a.span),
                    owner: &d.name.value,
                    alias: true,
                });
            }
        }
        declared.sort_by_key(|l| l.span.map_or(0, |s| s.start));
        labels.extend(declared);
        let mut seen: HashMap<String, usize> = HashMap::default();
        for (i, label) in labels.iter().enumerate() {
            let Some(&first) = seen.get(&label.text) else {
                seen.insert(label.text.clone(), i);
                continue;
            };
            let prev = &labels[first];
            let Some(span) = label.span else { continue };
            let message = match (prev.alias, label.alias, prev.owner == label.owner) {
                // A default environment declared again, or an alias equal to its own name.
                (false, false, true) | (false, true, true) => continue,
                (true, true, true) => format!("alias `{}` is given twice", label.text),
                (false, true, false) => {
                    format!(
                        "alias `{}` is already the name of an environment",
                        label.text
                    )
                }
                (true, true, false) => format!(
                    "alias `{}` is already an alias of `{}`",
                    label.text, prev.owner
                ),
                (true, false, _) => format!(
                    "environment `{}` is already an alias of `{}`",
                    label.text, prev.owner
                ),
                (false, false, false) => format!("environment `{}` is declared twice", label.text),
            };
            self.error(span.clone(), message);
        }
    }

    fn regions_table(&mut self, e: &Entry, regions: &mut Regions) {
        let Some(t) = self.table(e, "[regions]".to_owned()) else {
            return;
        };
        for e in t.entries() {
            match e.key {
                "allowed" => regions.allowed = Some(self.regions(&e)),
                "env" => {
                    let Some(env_table) = self.table(&e, "[regions.env]".to_owned()) else {
                        continue;
                    };
                    for e in env_table.entries() {
                        let env = Spanned::new(e.key.to_owned(), e.key_span.clone());
                        let list = self.regions(&e);
                        regions.per_env.push((env, list));
                    }
                }
                _ => {
                    let hint = if e.item.is_array() {
                        format!(
                            " (regions of one environment go in [regions.env]: {} = [...])",
                            header_key(e.key)
                        )
                    } else {
                        String::new()
                    };
                    self.unknown_key(&e, &t, REGIONS_KEYS, &hint);
                }
            }
        }
    }

    fn rules_table(&mut self, e: &Entry, rules: &mut Vec<RuleSetting>) {
        let Some(t) = self.table(e, "[rules]".to_owned()) else {
            return;
        };
        for e in t.entries() {
            let rule = Spanned::new(e.key.to_owned(), e.key_span.clone());
            self.rule_ref(&rule);
            let name = format!("[rules.{}]", header_key(e.key));
            let Some(like) = e.item.as_table_like() else {
                let message = format!(
                    "`{}` in [rules] must be a table: {name} severity = \"warning\"",
                    e.key
                );
                self.error(e.span(), message);
                continue;
            };
            let rt = Tbl {
                like,
                span: e.span(),
                name,
            };
            let mut setting = RuleSetting {
                rule,
                severity: None,
                enabled: true,
            };
            for e in rt.entries() {
                match e.key {
                    "severity" => {
                        let span = e.span();
                        match e.item.as_str() {
                            Some("off") => setting.enabled = false,
                            Some("note") => {
                                setting.severity = Some(Spanned::new(Severity::Note, span))
                            }
                            Some("warning") => {
                                setting.severity = Some(Spanned::new(Severity::Warning, span))
                            }
                            Some("error") => {
                                setting.severity = Some(Spanned::new(Severity::Error, span))
                            }
                            _ => self.error(
                                span,
                                "`severity` must be one of \"error\", \"warning\", \"note\", \"off\""
                                    .to_owned(),
                            ),
                        }
                    }
                    _ => self.unknown_key(&e, &rt, RULE_KEYS, ""),
                }
            }
            rules.push(setting);
        }
    }

    fn parity(&mut self, e: &Entry, parity: &mut Parity) {
        let Some(t) = self.table(e, "[parity]".to_owned()) else {
            return;
        };
        for e in t.entries() {
            match e.key {
                "pairs" => {
                    let span = e.span();
                    let Some(array) = e.item.as_array() else {
                        let message = format!(
                            "`pairs` must be an array of pairs of environments, like \
                             [[\"staging\", \"prod\"]], found {}",
                            describe(e.item)
                        );
                        self.error(span, message);
                        continue;
                    };
                    for v in array.iter() {
                        let vspan = value_span(v, &span);
                        let pair: Option<Vec<Spanned<String>>> = v.as_array().and_then(|a| {
                            a.iter()
                                .map(|s| {
                                    s.as_str()
                                        .map(|x| Spanned::new(x.to_owned(), value_span(s, &vspan)))
                                })
                                .collect()
                        });
                        match pair.as_deref() {
                            Some([a, b]) if a.value == b.value => self
                                .error(vspan, "a pair needs two different environments".to_owned()),
                            Some([a, b]) => parity.pairs.push((a.clone(), b.clone())),
                            _ => self.error(
                                vspan,
                                "each entry of `pairs` must be two environment names, \
                                 like [\"staging\", \"prod\"]"
                                    .to_owned(),
                            ),
                        }
                    }
                }
                "allow" => parity.allow = self.strings(&e).unwrap_or_default(),
                _ => self.unknown_key(&e, &t, PARITY_KEYS, ""),
            }
        }
    }

    fn hardening(&mut self, e: &Entry, hardening: &mut Hardening) {
        let Some(t) = self.table(e, "[hardening]".to_owned()) else {
            return;
        };
        hardening.enabled = true;
        for e in t.entries() {
            match e.key {
                "pod-security" => {
                    let Some(pt) = self.table(&e, "[hardening.pod-security]".to_owned()) else {
                        continue;
                    };
                    let mut profiles = PodSecurityProfiles::default();
                    for e in pt.entries() {
                        let slot = match e.key {
                            "dev" => &mut profiles.dev,
                            "staging" => &mut profiles.staging,
                            "prod" => &mut profiles.prod,
                            _ => {
                                self.unknown_key(
                                    &e,
                                    &pt,
                                    TIER_KEYS,
                                    " (the keys are environment tiers: dev, staging, prod)",
                                );
                                continue;
                            }
                        };
                        match e.item.as_str().and_then(PssProfile::parse) {
                            Some(p) => *slot = p,
                            None => {
                                let message = format!(
                                    "`{}` must be one of {}",
                                    e.key,
                                    quoted_list(&["restricted", "baseline", "off"])
                                );
                                self.error(e.span(), message);
                            }
                        }
                    }
                    hardening.pod_security = Some(Spanned::new(profiles, pt.full_span()));
                }
                _ => self.unknown_key(&e, &t, HARDENING_KEYS, ""),
            }
        }
    }

    fn limits(&mut self, e: &Entry, limits: &mut Limits) {
        let Some(t) = self.table(e, "[limits]".to_owned()) else {
            return;
        };
        for e in t.entries() {
            match e.key {
                "max-file-size" => limits.max_file_size = self.positive(&e),
                "max-findings-per-file" => limits.max_findings_per_file = self.positive(&e),
                _ => self.unknown_key(&e, &t, LIMITS_KEYS, ""),
            }
        }
    }

    /// Every place that names an environment names one that exists.
    fn check_environment_refs(&mut self, config: &Config) {
        let names = environment_names(&config.environments);
        let aliases: Vec<&str> = config
            .environments
            .declared
            .iter()
            .flat_map(|d| d.aliases.iter().map(|a| a.value.as_str()))
            .collect();
        let mut candidates: Vec<&str> = names.iter().map(String::as_str).collect();
        candidates.extend(aliases.iter().copied());
        let mut refs: Vec<&Spanned<String>> = Vec::new();
        if let Some(order) = &config.environments.order {
            refs.extend(order.value.iter());
        }
        refs.extend(config.regions.per_env.iter().map(|(env, _)| env));
        refs.extend(config.ignores.iter().filter_map(|i| i.environment.as_ref()));
        refs.extend(config.parity.pairs.iter().flat_map(|(a, b)| [a, b]));
        // `prod-eu`, `staging-2`: an environment a directory of that name
        // would be (see `EnvSet::with_path_environments`).
        let builtin = crate::env::EnvSet::builtin();
        for r in refs {
            if candidates.contains(&r.value.as_str())
                || (config.environments.defaults && builtin.named_by_region_or_cell(&r.value))
            {
                continue;
            }
            let mut message = format!("unknown environment `{}`", r.value);
            match did_you_mean(&r.value, &candidates) {
                Some(c) => message.push_str(&format!(" (did you mean `{c}`?)")),
                None if names.is_empty() => {
                    message.push_str("; no environment exists: declare one as [environments.NAME]")
                }
                None => message.push_str(&format!(
                    "; the environments are {} (declare others as [environments.NAME])",
                    names.join(", ")
                )),
            }
            self.error(r.span.clone(), message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(s: &str) -> bool {
        matches!(
            s,
            "BO001" | "BO002" | "BO003" | "BO010" | "secrets" | "public-bucket"
        )
    }

    fn ok(text: &str) -> Config {
        match Config::parse(text, &known) {
            Ok(c) => c,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    /// The errors, rendered `line:column: message`.
    fn errors(text: &str) -> Vec<String> {
        match Config::parse(text, &known) {
            Ok(c) => panic!("expected errors, parsed {c:#?}"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    /// The byte range of the `nth` (0-based) occurrence of `needle`.
    fn at(text: &str, needle: &str, nth: usize) -> ByteSpan {
        let start = text
            .match_indices(needle)
            .nth(nth)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("`{needle}` #{nth} not in the text"));
        start..start + needle.len()
    }

    /// A string value spanning its quoted occurrence number `nth`.
    fn s(text: &str, value: &str, nth: usize) -> Spanned<String> {
        Spanned::new(value.to_owned(), at(text, &format!("{value:?}"), nth))
    }

    fn values(v: &[Spanned<String>]) -> Vec<&str> {
        v.iter().map(|s| s.value.as_str()).collect()
    }

    /// The example in this module's documentation.
    fn doc_example() -> String {
        let source = include_str!("config.rs");
        let mut lines = source
            .lines()
            .map_while(|l| l.strip_prefix("//!"))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .skip_while(|l| *l != "```toml")
            .skip(1);
        let mut out = String::new();
        for l in lines.by_ref() {
            if l == "```" {
                break;
            }
            out.push_str(l);
            out.push('\n');
        }
        out
    }

    #[test]
    fn the_documented_example_is_valid() {
        let text = doc_example();
        assert!(text.contains("[[ignore]]"), "{text}");
        let c = ok(&text);
        assert_eq!(values(&c.select), ["secrets", "BO001"]);
        assert_eq!(values(&c.extend_select), ["BO010"]);
        assert_eq!(c.fail_on.as_ref().map(|f| f.value), Some(FailOn::Warning));
        let names: Vec<&str> = c
            .environments
            .declared
            .iter()
            .map(|d| d.name.value.as_str())
            .collect();
        assert_eq!(names, ["prod", "perf"]);
        assert_eq!(
            c.environments.declared[0].effective_tier(),
            Some(Tier::Prod)
        );
        assert_eq!(c.tier_of("load-test"), Some(Tier::Staging));
        assert_eq!(c.ignores.len(), 1);
        assert_eq!(
            c.limits.max_file_size.as_ref().map(|l| l.value),
            Some(5_000_000)
        );
    }

    const FULL: &str = r#"select = ["secrets", "BO001"]
ignore = ["BO002"]
extend-select = ["BO010"]
exclude = ["vendor/**"]
fail-on = "never"
policies = ["policies"]

[environments]
defaults = true
order = ["dev", "staging", "prod"]
non-environment-dirs = ["modules"]

[environments.prod]
aliases = ["live"]

[environments.perf]
tier = "staging"
aliases = ["load"]
globs = ["deploy/perf/**"]
var-files = ["envs/perf.tfvars"]
workspaces = ["perf-ws"]
overlays = ["k8s/overlays/perf"]
values = ["values-perf.yaml"]
namespaces = ["app-perf"]

[regions]
allowed = ["us-east-1", "us-gov-west-1"]

[regions.env]
live = ["us-east-1"]

[rules.BO003]
severity = "warning"

[rules.secrets]
severity = "off"

[parity]
pairs = [["staging", "prod"]]
allow = ["aws_db_instance.*.instance_class"]

[limits]
max-file-size = 1_000_000
max-findings-per-file = 50

[[suppress]]
path = "legacy/**"
rules = ["BO001", "secrets"]
environment = "load"
reason = "old"
until = "2027-01-31"

[[suppress]]
rule = "BO003"
until = 2028-02-29
"#;

    #[test]
    fn a_full_file_parses_into_the_expected_config() {
        let t = FULL;
        let c = ok(t);
        let first_suppress = at(t, "[[suppress]]", 0);
        let second_suppress = at(t, "[[suppress]]", 1);
        let expected = Config {
            text: t.to_owned(),
            environments: Environments {
                defaults: true,
                order: Some(Spanned::new(
                    vec![s(t, "dev", 0), s(t, "staging", 0), s(t, "prod", 0)],
                    at(t, r#"["dev", "staging", "prod"]"#, 0),
                )),
                declared: vec![
                    EnvDecl {
                        aliases: vec![s(t, "live", 0)],
                        ..EnvDecl::new(Spanned::new(
                            "prod".to_owned(),
                            at(t, "prod]", 0).start..at(t, "prod]", 0).end - 1,
                        ))
                    },
                    EnvDecl {
                        name: Spanned::new(
                            "perf".to_owned(),
                            at(t, "perf]", 0).start..at(t, "perf]", 0).end - 1,
                        ),
                        tier: Some(Spanned::new(Tier::Staging, at(t, "\"staging\"", 1))),
                        aliases: vec![s(t, "load", 0)],
                        globs: vec![s(t, "deploy/perf/**", 0)],
                        var_files: vec![s(t, "envs/perf.tfvars", 0)],
                        workspaces: vec![s(t, "perf-ws", 0)],
                        overlays: vec![s(t, "k8s/overlays/perf", 0)],
                        values: vec![s(t, "values-perf.yaml", 0)],
                        namespaces: vec![s(t, "app-perf", 0)],
                    },
                ],
                non_environment_dirs: Some(vec![s(t, "modules", 0)]),
            },
            regions: Regions {
                allowed: Some(vec![s(t, "us-east-1", 0), s(t, "us-gov-west-1", 0)]),
                per_env: vec![(
                    Spanned::new(
                        "live".to_owned(),
                        at(t, "live =", 0).start..at(t, "live =", 0).start + 4,
                    ),
                    vec![s(t, "us-east-1", 1)],
                )],
            },
            select: vec![s(t, "secrets", 0), s(t, "BO001", 0)],
            ignore: vec![s(t, "BO002", 0)],
            extend_select: vec![s(t, "BO010", 0)],
            rules: vec![
                RuleSetting {
                    rule: Spanned::new(
                        "BO003".to_owned(),
                        at(t, "BO003]", 0).start..at(t, "BO003]", 0).end - 1,
                    ),
                    severity: Some(Spanned::new(Severity::Warning, at(t, "\"warning\"", 0))),
                    enabled: true,
                },
                RuleSetting {
                    rule: Spanned::new(
                        "secrets".to_owned(),
                        at(t, "secrets]", 0).start..at(t, "secrets]", 0).end - 1,
                    ),
                    severity: None,
                    enabled: false,
                },
            ],
            exclude: vec![s(t, "vendor/**", 0)],
            fail_on: Some(Spanned::new(FailOn::Never, at(t, "\"never\"", 0))),
            hardening: Hardening::default(),
            parity: Parity {
                pairs: vec![(s(t, "staging", 2), s(t, "prod", 1))],
                allow: vec![s(t, "aws_db_instance.*.instance_class", 0)],
            },
            policies: Some(vec![s(t, "policies", 0)]),
            ignores: vec![
                IgnoreEntry {
                    span: first_suppress.start..at(t, "\"2027-01-31\"", 0).end,
                    path: Some(s(t, "legacy/**", 0)),
                    rules: vec![s(t, "BO001", 1), s(t, "secrets", 1)],
                    environment: Some(s(t, "load", 1)),
                    reason: Some(s(t, "old", 0)),
                    until: Some(Spanned::new(
                        Date {
                            year: 2027,
                            month: 1,
                            day: 31,
                        },
                        at(t, "\"2027-01-31\"", 0),
                    )),
                },
                IgnoreEntry {
                    span: second_suppress.start..at(t, "2028-02-29", 0).end,
                    path: None,
                    rules: vec![s(t, "BO003", 0)],
                    environment: None,
                    reason: None,
                    until: Some(Spanned::new(
                        Date {
                            year: 2028,
                            month: 2,
                            day: 29,
                        },
                        at(t, "2028-02-29", 0),
                    )),
                },
            ],
            limits: Limits {
                max_file_size: Some(Spanned::new(1_000_000, at(t, "1_000_000", 0))),
                max_findings_per_file: Some(Spanned::new(50, at(t, "50", 0))),
            },
        };
        assert_eq!(c, expected);
        assert_eq!(&c.text[c.select[1].span.clone()], "\"BO001\"");
        assert_eq!(c.line_col(c.ignores[1].span.start), (53, 1));
        assert_eq!(c.tier_of("live"), Some(Tier::Prod));
        assert_eq!(c.tier_of("perf"), Some(Tier::Staging));
        assert_eq!(c.tier_of("qa"), Some(Tier::Staging));
        assert_eq!(c.tier_of("nowhere"), None);
        assert_eq!(c.resolve_environment("load").as_deref(), Some("perf"));
    }

    #[test]
    fn an_empty_file_is_the_default_config() {
        let c = ok("");
        assert_eq!(c, Config::default());
        assert!(c.environments.defaults);
        let c = ok("# nothing but a comment\n\n");
        assert!(c.select.is_empty() && c.ignores.is_empty() && c.fail_on.is_none());
    }

    #[test]
    fn syntax_errors_are_located() {
        assert_eq!(
            errors("select = [\"BO001\"]\nfail-on = \"error\n"),
            ["2:17: invalid TOML: invalid basic string, expected `\"`"]
        );
        assert_eq!(
            errors("a = 1\nb = \n"),
            ["2:5: invalid TOML: string values must be quoted, expected literal string"]
        );
        // A TOML date that is no date is TOML's error, still located.
        let e = errors("[[ignore]]\nrule = \"BO001\"\nuntil = 2027-02-30\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("3:9: invalid TOML: invalid date"), "{e:?}");
    }

    #[test]
    fn ignore_list_and_ignore_tables_cannot_share_a_file() {
        let e = errors("ignore = [\"BO001\"]\n\n[[ignore]]\nrule = \"BO002\"\n");
        assert_eq!(
            e,
            [
                "3:3: invalid TOML: duplicate key `ignore`; `ignore = [...]` (rules to ignore) \
              and `[[ignore]]` (suppressions) cannot share one file: write the suppressions \
              as `[[suppress]]`"
            ]
        );
        // The supported spelling.
        let c = ok("ignore = [\"BO001\"]\n\n[[suppress]]\nrule = \"BO002\"\n");
        assert_eq!(values(&c.ignore), ["BO001"]);
        assert_eq!(values(&c.ignores[0].rules), ["BO002"]);
    }

    #[test]
    fn ignore_and_suppress_tables() {
        let t = "[[ignore]]\nrule = \"BO001\"\nreason = \"a\"\n\n[[ignore]]\npath = \"x/*.tf\"\nrules = [\"BO002\", \"secrets\"]\n";
        let c = ok(t);
        assert!(c.ignore.is_empty());
        assert_eq!(c.ignores.len(), 2);
        assert_eq!(values(&c.ignores[0].rules), ["BO001"]);
        assert_eq!(c.ignores[0].span, 0..at(t, "\"a\"", 0).end);
        assert_eq!(
            c.ignores[0].reason.as_ref().map(|r| r.value.as_str()),
            Some("a")
        );
        assert_eq!(values(&c.ignores[1].rules), ["BO002", "secrets"]);
        assert_eq!(c.ignores[1].reason, None);
        assert_eq!(
            c.ignores[1].path.as_ref().map(|p| p.value.as_str()),
            Some("x/*.tf")
        );

        let t =
            "[[suppress]]\nrule = \"BO001\"\n[[suppress]]\nrules = [\"BO003\"]\nrule = \"BO002\"\n";
        let c = ok(t);
        assert_eq!(values(&c.ignores[0].rules), ["BO001"]);
        // `rule` and `rules` together: both, in file order.
        assert_eq!(values(&c.ignores[1].rules), ["BO003", "BO002"]);

        // An array of inline tables is the same thing.
        let c = ok(
            "ignore = [{ rule = \"BO001\" }, { rules = [\"BO002\"], environment = \"prod\" }]\n",
        );
        assert_eq!(c.ignores.len(), 2);
        assert_eq!(
            c.ignores[1].environment.as_ref().map(|e| e.value.as_str()),
            Some("prod")
        );
        assert!(c.ignore.is_empty());

        // [[ignore]] and [[suppress]] in one file, merged in file order.
        let c = ok(
            "[[suppress]]\nrule = \"BO001\"\n[[ignore]]\nrule = \"BO002\"\n[[suppress]]\nrule = \"BO003\"\n",
        );
        let rules: Vec<&str> = c
            .ignores
            .iter()
            .map(|i| i.rules[0].value.as_str())
            .collect();
        assert_eq!(rules, ["BO001", "BO002", "BO003"]);
    }

    #[test]
    fn suppression_errors() {
        assert_eq!(
            errors("[[ignore]]\npath = \"a/**\"\n\n[[suppress]]\nrules = []\n"),
            [
                "1:1: [[ignore]] needs `rule = \"ID\"` or `rules = [...]`: the rules it suppresses",
                "5:9: `rules` must name at least one rule",
            ]
        );
        assert_eq!(
            errors(
                "[[ignore]]\nrule = \"BO001\"\nenvironment = \"prdo\"\nreson = \"x\"\nuntil = \"2027-02-30\"\npath = \"a/{b\"\n"
            ),
            [
                "3:15: unknown environment `prdo` (did you mean `prod`?)",
                "4:1: unknown key `reson` in [[ignore]] (did you mean `reason`?)",
                "5:9: `until` must be a date as YYYY-MM-DD, like 2027-01-31; \"2027-02-30\" is not one",
                "6:8: invalid glob `a/{b`: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)",
            ]
        );
        assert_eq!(
            errors("ignore = 3\nsuppress = \"x\"\n"),
            [
                "1:10: `ignore` must be an array of rules to ignore, or [[ignore]] tables of suppressions, found an integer",
                "2:12: `suppress` must be [[suppress]] tables, found a string",
            ]
        );
        assert_eq!(
            errors("until = 1\n[[ignore]]\nrule = \"BO001\"\nuntil = 2027-01-31T10:00:00Z\n"),
            [
                "1:1: unknown key `until` at the top level",
                "4:9: `until` must be a date as YYYY-MM-DD, like 2027-01-31; 2027-01-31T10:00:00Z is not one",
            ]
        );
    }

    #[test]
    fn until_as_string_or_toml_date() {
        let c = ok(
            "[[ignore]]\nrule = \"BO001\"\nuntil = \"2027-01-31\"\n[[ignore]]\nrule = \"BO001\"\nuntil = 2027-01-31\n",
        );
        let d = Date {
            year: 2027,
            month: 1,
            day: 31,
        };
        assert_eq!(c.ignores[0].until.as_ref().map(|u| u.value), Some(d));
        assert_eq!(c.ignores[1].until.as_ref().map(|u| u.value), Some(d));
        assert_eq!(c.ignores[0].until.as_ref().map(|u| u.span.len()), Some(12));
        assert_eq!(c.ignores[1].until.as_ref().map(|u| u.span.len()), Some(10));
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            Date::parse("2027-01-31"),
            Some(Date {
                year: 2027,
                month: 1,
                day: 31
            })
        );
        assert_eq!(
            Date::parse("2028-02-29"),
            Some(Date {
                year: 2028,
                month: 2,
                day: 29
            })
        );
        assert_eq!(
            Date::parse("2000-02-29"),
            Some(Date {
                year: 2000,
                month: 2,
                day: 29
            })
        );
        assert_eq!(Date::parse("2027-02-29"), None);
        assert_eq!(Date::parse("1900-02-29"), None);
        assert_eq!(Date::parse("2027-02-30"), None);
        assert_eq!(Date::parse("2027-04-31"), None);
        assert_eq!(Date::parse("2027-13-01"), None);
        assert_eq!(Date::parse("2027-00-10"), None);
        assert_eq!(Date::parse("2027-01-00"), None);
        assert_eq!(Date::parse("2027-1-31"), None);
        assert_eq!(Date::parse("2027-01-31 "), None);
        assert_eq!(Date::parse("2027/01/31"), None);
        assert_eq!(Date::parse("+027-01-31"), None);
        assert_eq!(Date::parse("２０２7-01-31"), None);
        assert_eq!(Date::parse(""), None);
        assert_eq!(
            Date {
                year: 2027,
                month: 1,
                day: 3
            }
            .to_string(),
            "2027-01-03"
        );
        assert!(Date::parse("2027-01-31") < Date::parse("2027-02-01"));

        let ok_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = \"2028-02-29\"\n";
        assert_eq!(
            ok(ok_leap).ignores[0].until.as_ref().map(|u| u.value.day),
            Some(29)
        );
        let bad_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = \"2027-02-29\"\n";
        assert_eq!(
            errors(bad_leap),
            [
                "3:9: `until` must be a date as YYYY-MM-DD, like 2027-01-31; \"2027-02-29\" is not one"
            ]
        );
        let toml_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = 2028-02-29\n";
        assert_eq!(
            ok(toml_leap).ignores[0]
                .until
                .as_ref()
                .map(|u| u.value.month),
            Some(2)
        );
        let toml_bad_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = 2027-02-29\n";
        let e = errors(toml_bad_leap);
        assert!(e[0].starts_with("3:9: invalid TOML: invalid date"), "{e:?}");
    }

    #[test]
    fn civil_dates_from_days() {
        assert_eq!(
            Date::from_days(0),
            Date {
                year: 1970,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            Date::from_days(-1),
            Date {
                year: 1969,
                month: 12,
                day: 31
            }
        );
        assert_eq!(
            Date::from_days(11_016),
            Date {
                year: 2000,
                month: 2,
                day: 29
            }
        );
        assert_eq!(
            Date::from_days(20_454),
            Date {
                year: 2026,
                month: 1,
                day: 1
            }
        );
        assert_eq!(
            Date::from_days(19_782),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
    }

    #[test]
    fn today_honours_guard_today() {
        // SAFETY: no other test in this crate reads or writes GUARD_TODAY,
        // and no library code reads the environment while unit tests run.
        unsafe { std::env::set_var("GUARD_TODAY", "2031-12-24") };
        let overridden = Date::today();
        unsafe { std::env::set_var("GUARD_TODAY", "2031-02-30") };
        let invalid = Date::today();
        unsafe { std::env::remove_var("GUARD_TODAY") };
        let real = Date::today();
        assert_eq!(
            overridden,
            Date {
                year: 2031,
                month: 12,
                day: 24
            }
        );
        // An invalid override is ignored.
        assert_eq!(invalid, real);
        assert!(
            real >= Date {
                year: 2025,
                month: 1,
                day: 1
            },
            "{real}"
        );
        assert!(Date::new(real.year, real.month, real.day).is_some());
    }

    #[test]
    fn unknown_keys_say_what_was_meant() {
        let t = "exlude = [\"a\"]\nfailon = \"error\"\nfail_on = \"error\"\nFail-On = \"note\"\nzzz = 1\n\n[environments.qa2]\ntier = \"dev\"\nvar_files = [\"x.tfvars\"]\nVALUES = []\n";
        assert_eq!(
            errors(t),
            [
                "1:1: unknown key `exlude` at the top level (did you mean `exclude`?)",
                "2:1: unknown key `failon` at the top level (did you mean `fail-on`?)",
                "3:1: unknown key `fail_on` at the top level (did you mean `fail-on`?)",
                "4:1: unknown key `Fail-On` at the top level (did you mean `fail-on`?)",
                "5:1: unknown key `zzz` at the top level",
                "9:1: unknown key `var_files` in [environments.qa2] (did you mean `var-files`?)",
                "10:1: unknown key `VALUES` in [environments.qa2] (did you mean `values`?)",
            ]
        );
    }

    #[test]
    fn unknown_keys_in_every_table() {
        let t = r#"[environments]
oder = ["dev"]
prod = "x"
[regions]
alowed = ["us-east-1"]
prod = ["us-east-1"]
[rules.BO001]
severty = "note"
[parity]
pair = []
[limits]
max_file_size = 3
[[ignore]]
rule = "BO001"
paht = "x"
"#;
        assert_eq!(
            errors(t),
            [
                "2:1: unknown key `oder` in [environments] (did you mean `order`?)",
                "3:1: unknown key `prod` in [environments] (an environment is declared as a table: [environments.prod])",
                "5:1: unknown key `alowed` in [regions] (did you mean `allowed`?)",
                "6:1: unknown key `prod` in [regions] (regions of one environment go in [regions.env]: prod = [...])",
                "8:1: unknown key `severty` in [rules.BO001] (did you mean `severity`?)",
                "10:1: unknown key `pair` in [parity] (did you mean `pairs`?)",
                "12:1: unknown key `max_file_size` in [limits] (did you mean `max-file-size`?)",
                "15:1: unknown key `paht` in [[ignore]] (did you mean `path`?)",
            ]
        );
    }

    #[test]
    fn wrong_types_are_located_at_the_value() {
        let t = r#"exclude = "vendor"
select = ["BO001", 3]
fail-on = "warn"
policies = [true]
environments = 1
rules = []
parity = { pairs = [["dev"], ["dev", "dev"], "x"], allow = "y" }
limits = { max-file-size = 0, max-findings-per-file = "10" }
"#;
        assert_eq!(
            errors(t),
            [
                "1:11: `exclude` must be an array of strings, found a string",
                "2:20: `select` must be an array of strings, found an integer in it",
                "3:11: `fail-on` must be one of \"error\", \"warning\", \"note\", \"never\"",
                "4:13: `policies` must be an array of strings, found a boolean in it",
                "5:16: `environments` must be a table, found an integer",
                "6:9: `rules` must be a table, found an array",
                "7:21: each entry of `pairs` must be two environment names, like [\"staging\", \"prod\"]",
                "7:30: a pair needs two different environments",
                "7:46: each entry of `pairs` must be two environment names, like [\"staging\", \"prod\"]",
                "7:60: `allow` must be an array of strings, found a string",
                "8:28: `max-file-size` must be a positive integer",
                "8:55: `max-findings-per-file` must be a positive integer",
            ]
        );
        assert_eq!(
            errors(
                "[environments.perf]\ntier = \"production\"\n[environments]\ndefaults = \"no\"\n"
            ),
            [
                "2:8: `tier` must be one of \"dev\", \"staging\", \"prod\"",
                "4:12: `defaults` must be true or false, found a string",
            ]
        );
        assert_eq!(
            errors("[limits]\nmax-file-size = -5\nmax-findings-per-file = 1.5\n"),
            [
                "2:17: `max-file-size` must be a positive integer",
                "3:25: `max-findings-per-file` must be a positive integer",
            ]
        );
        assert_eq!(
            errors("[rules]\nBO001 = \"off\"\n[rules.BO002]\nseverity = \"fatal\"\n"),
            [
                "2:9: `BO001` in [rules] must be a table: [rules.BO001] severity = \"warning\"",
                "4:12: `severity` must be one of \"error\", \"warning\", \"note\", \"off\"",
            ]
        );
    }

    #[test]
    fn unknown_rules() {
        let t = "select = [\"BO001\", \"BO999\"]\nextend-select = [\"secret\"]\nignore = [\"\"]\n[rules.XX1]\nseverity = \"note\"\n[[suppress]]\nrule = \"nope\"\n";
        assert_eq!(
            errors(t),
            [
                "1:20: no rule, rule name or family `BO999`; `guard rules` lists them",
                "2:18: no rule, rule name or family `secret`; `guard rules` lists them",
                "3:11: no rule, rule name or family ``; `guard rules` lists them",
                "4:8: no rule, rule name or family `XX1`; `guard rules` lists them",
                "7:8: no rule, rule name or family `nope`; `guard rules` lists them",
            ]
        );
    }

    #[test]
    fn environment_references() {
        let t = r#"[environments]
order = ["dev", "prdo", "live", "dev"]
[environments.prod]
aliases = ["live"]
[regions.env]
stagin = ["us-east-1"]
live = ["eu-west-1"]
[parity]
pairs = [["qa", "zzzzzz"]]
"#;
        assert_eq!(
            errors(t),
            [
                "2:17: unknown environment `prdo` (did you mean `prod`?)",
                "2:33: `dev` is twice in `order`",
                "6:1: unknown environment `stagin` (did you mean `staging`?)",
                "9:17: unknown environment `zzzzzz`; the environments are sandbox, dev, qa, uat, \
                 staging, prod (declare others as [environments.NAME])",
            ]
        );
    }

    #[test]
    fn environment_declarations() {
        let t = r#"[environments.Perf]
tier = "dev"
[environments.order]
tier = "dev"
[environments.perf2]
aliases = ["p2"]
[environments.prod]
aliases = ["live", "p2", "staging", "live"]
[environments."a b"]
tier = "prod"
"#;
        assert_eq!(
            errors(t),
            [
                "1:15: environment name `Perf` must be lowercase letters, digits, `-` and `_`, \
                 starting with a letter or digit",
                "3:15: `order` is a setting of [environments], not an environment name",
                "5:15: environment `perf2` needs a `tier`: one of \"dev\", \"staging\", \"prod\"",
                "8:20: alias `p2` is already an alias of `perf2`",
                "8:26: alias `staging` is already the name of an environment",
                "8:37: alias `live` is given twice",
                "9:15: environment name `a b` must be lowercase letters, digits, `-` and `_`, \
                 starting with a letter or digit",
            ]
        );
        // A declared environment named like an earlier alias.
        assert_eq!(
            errors(
                "[environments.prod]\naliases = [\"live\"]\n[environments.live]\ntier = \"prod\"\n"
            ),
            ["3:15: environment `live` is already an alias of `prod`"]
        );
        // An unknown key in [environments] with a table value is an environment:
        // it needs a tier, and then is fine.
        let c = ok(
            "[environments.perf]\ntier = \"staging\"\n[environments.prod]\naliases = [\"live\", \"prod\"]\n",
        );
        assert_eq!(
            c.environments.declared[0].effective_tier(),
            Some(Tier::Staging)
        );
        assert_eq!(c.environments.declared[1].tier, None);
        assert_eq!(
            c.environments.declared[1].effective_tier(),
            Some(Tier::Prod)
        );
        // Inline tables and dotted keys declare environments too.
        let c = ok("environments = { perf = { tier = \"dev\" } }\n");
        assert_eq!(c.environments.declared[0].name.value, "perf");
        let c = ok("environments.perf.tier = \"prod\"\n");
        assert_eq!(c.tier_of("perf"), Some(Tier::Prod));
    }

    #[test]
    fn environment_names_with_and_without_defaults() {
        let c = ok(
            "[environments.perf]\ntier = \"staging\"\n[environments.prod]\naliases = [\"live\"]\n",
        );
        assert_eq!(
            c.environment_names(),
            ["sandbox", "dev", "qa", "uat", "staging", "prod", "perf"]
        );
        let t = "[environments]\ndefaults = false\n[environments.perf]\ntier = \"staging\"\n[environments.prod]\naliases = [\"live\", \"staging\"]\n";
        let c = ok(t);
        assert_eq!(c.environment_names(), ["perf", "prod"]);
        assert_eq!(c.tier_of("staging"), Some(Tier::Prod));
        assert_eq!(c.tier_of("dev"), None);
        // With the defaults off, a default name is unknown unless declared.
        assert_eq!(
            errors("[environments]\ndefaults = false\norder = [\"dev\"]\n"),
            [
                "3:10: unknown environment `dev`; no environment exists: declare one as [environments.NAME]"
            ]
        );
        assert_eq!(
            errors(
                "[environments]\ndefaults = false\norder = [\"dev\", \"perf\"]\n[environments.perf]\ntier = \"dev\"\n"
            ),
            [
                "3:10: unknown environment `dev`; the environments are perf (declare others as [environments.NAME])"
            ]
        );
        assert_eq!(Config::default().environment_names().len(), 6);
    }

    /// An environment a directory names by region or cell (`envs/prod-eu/`)
    /// may be named without declaring it, unless `defaults = false`.
    #[test]
    fn region_named_environments_need_no_declaration() {
        ok(
            "[regions.env]\nprod-eu = [\"eu-west-1\"]\n[parity]\npairs = [[\"staging-2\", \"prod-us\"]]\n",
        );
        // The environment of `production-eu/` is `prod-eu`.
        assert_eq!(
            errors("[regions.env]\nproduction-eu = [\"eu-west-1\"]\n").len(),
            1
        );
        // Not with the defaults off.
        assert_eq!(
            errors("[environments]\ndefaults = false\n[environments.prod]\n[regions.env]\nprod-eu = [\"eu-west-1\"]\n").len(),
            1
        );
    }

    #[test]
    fn regions_are_shaped_like_aws_regions() {
        for r in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "cn-north-1",
            "ap-southeast-4",
        ] {
            assert!(is_region(r), "{r}");
        }
        for r in [
            "US-EAST-1",
            "us-east",
            "us-east-12",
            "useast-1",
            "us-isobc-east-1",
            "us--1",
            "u-east-1",
            "us-east-1 ",
            "",
            "us-gov-west-1-1",
            "us-fips-east-1",
        ] {
            assert!(!is_region(r), "{r}");
        }
        assert_eq!(
            errors(
                "[regions]\nallowed = [\"us-east-1\", \"US-EAST-1\"]\n[regions.env]\nprod = [\"eu-west\"]\n"
            ),
            [
                "2:25: `US-EAST-1` is not an AWS region (like \"us-east-1\" or \"us-gov-west-1\")",
                "4:9: `eu-west` is not an AWS region (like \"us-east-1\" or \"us-gov-west-1\")",
            ]
        );
    }

    #[test]
    fn globs_are_checked() {
        assert_eq!(
            errors(
                "exclude = [\"ok/**\", \"a/[b\", \"\"]\n[environments.perf]\ntier = \"dev\"\nglobs = [\"{x\"]\nvar-files = [\"envs/[.tfvars\"]\n"
            ),
            [
                "1:21: invalid glob `a/[b`: unclosed character class; missing ']'",
                "1:29: an empty glob matches nothing",
                "4:10: invalid glob `{x`: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)",
                "5:14: invalid glob `envs/[.tfvars`: unclosed character class; missing ']'",
            ]
        );
    }

    #[test]
    fn errors_are_all_reported_in_file_order_with_char_columns() {
        // `é` is two bytes and one column.
        let t = "# é\npolicies = [\"é\", 1]\n[environments]\norder = [\"nowhere\"]\nexlude = []\n";
        let errs = Config::parse(t, &known).expect_err("invalid");
        let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
        assert_eq!(
            rendered,
            [
                "2:18: `policies` must be an array of strings, found an integer in it",
                "4:10: unknown environment `nowhere`; the environments are sandbox, dev, qa, uat, \
                 staging, prod (declare others as [environments.NAME])",
                "5:1: unknown key `exlude` in [environments] (an environment is declared as a \
                 table: [environments.exlude])",
            ]
        );
        assert_eq!(&t[errs[0].span.clone()], "1");
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 4), (1, 4));
        assert_eq!(line_col(t, 5), (2, 1));
        assert_eq!(line_col(t, usize::MAX), line_col(t, t.len()));
        // In the middle of a character: that character.
        assert_eq!(line_col("é", 1), (1, 1));
        assert_eq!(line_col("aé", 2), (1, 2));
        assert_eq!(line_col("aé", 3), (1, 3));
    }

    #[test]
    fn levenshtein_and_suggestions() {
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("exlude", "exclude"), 1);
        assert_eq!(levenshtein("é", "e"), 1);
        assert_eq!(did_you_mean("var_files", ENV_DECL_KEYS), Some("var-files"));
        assert_eq!(did_you_mean("exlude", TOP_KEYS), Some("exclude"));
        assert_eq!(did_you_mean("fail_on", TOP_KEYS), Some("fail-on"));
        assert_eq!(did_you_mean("failon", TOP_KEYS), Some("fail-on"));
        assert_eq!(did_you_mean("xyz", TOP_KEYS), None);
        assert_eq!(did_you_mean("a", &["b"]), None);
    }

    #[test]
    fn find_upward_finds_the_nearest_config() {
        let root = tempfile::tempdir().expect("tempdir");
        let deep = root.path().join("a/b/c");
        std::fs::create_dir_all(&deep).expect("mkdir");
        assert_eq!(
            find_upward(&deep).filter(|p| p.starts_with(root.path())),
            None
        );

        std::fs::write(root.path().join(".guard.toml"), "").expect("write");
        assert_eq!(find_upward(&deep), Some(root.path().join(".guard.toml")));

        std::fs::write(root.path().join("a/guard.toml"), "").expect("write");
        assert_eq!(find_upward(&deep), Some(root.path().join("a/guard.toml")));

        // guard.toml wins over .guard.toml in one directory.
        std::fs::write(root.path().join("a/.guard.toml"), "").expect("write");
        assert_eq!(find_upward(&deep), Some(root.path().join("a/guard.toml")));
        assert_eq!(
            find_upward(&root.path().join("a")),
            Some(root.path().join("a/guard.toml"))
        );

        // `..` is resolved before walking up: `c/..` is `b`, whose parent is `a`.
        std::fs::write(deep.join("guard.toml"), "").expect("write");
        assert_eq!(
            find_upward(&deep.join("..")),
            Some(root.path().join("a/guard.toml"))
        );
        std::fs::remove_file(deep.join("guard.toml")).expect("rm");

        // A directory named guard.toml is not a config file.
        std::fs::create_dir(deep.join("guard.toml")).expect("mkdir");
        assert_eq!(find_upward(&deep), Some(root.path().join("a/guard.toml")));
    }

    #[test]
    fn no_input_panics() {
        let mut inputs: Vec<String> = vec![
            "\u{0}".to_owned(),
            "[".to_owned(),
            "[[".to_owned(),
            "é = 1".to_owned(),
            "\"é\" = 1".to_owned(),
            "[environments.\"\"]\n".to_owned(),
            "[rules.\"\"]\n".to_owned(),
            "ignore = [{}, 1]\n".to_owned(),
            "ignore = [1, {}]\n".to_owned(),
            "suppress = [1]\n".to_owned(),
            "[limits]\nmax-file-size = 99999999999999999999\n".to_owned(),
            "[[ignore]]\nuntil = 00:32:00\n".to_owned(),
            "[[ignore]]\nuntil = 9999-12-31\n".to_owned(),
            "[parity]\npairs = [[1, 2], [], [[\"a\"]]]\n".to_owned(),
            "[regions.env]\n\"\" = [\"\"]\n".to_owned(),
        ];
        let full = format!(
            "{FULL}\n{}",
            doc_example().replace("[[ignore]]", "[[suppress]]")
        );
        inputs.extend(
            full.char_indices()
                .map(|(i, _)| full[..i].to_owned())
                .step_by(7),
        );
        for text in &inputs {
            for result in [Config::parse(text, &known), Config::parse(text, &|_| false)] {
                if let Err(errors) = result {
                    assert!(!errors.is_empty());
                    for e in errors {
                        assert!(e.span.start <= text.len(), "{e:?} in {text:?}");
                        assert!(e.line >= 1 && e.column >= 1);
                    }
                }
            }
        }
    }

    #[test]
    fn hardening_pod_security_profiles_per_tier() {
        let c = ok("[hardening]\npod-security = { prod = \"restricted\", dev = \"off\" }\n");
        let p = c.hardening.pod_security.map(|p| p.value);
        assert_eq!(
            p,
            Some(PodSecurityProfiles {
                dev: PssProfile::Off,
                staging: PssProfile::Baseline,
                prod: PssProfile::Restricted,
            })
        );
        let c = ok("[hardening.pod-security]\nstaging = \"restricted\"\n");
        let p = c.hardening.pod_security.map(|p| p.value.staging);
        assert_eq!(p, Some(PssProfile::Restricted));
        assert_eq!(ok("").hardening.pod_security, None);
        assert!(!ok("").hardening.enabled);
        assert!(ok("[hardening]\n").hardening.enabled);
    }

    #[test]
    fn hardening_errors_are_located() {
        let t = "[hardening]\npod-security = { prod = \"strict\", qa = \"baseline\" }\npod-securty = 1\n";
        assert_eq!(
            errors(t),
            [
                "2:25: `prod` must be one of \"restricted\", \"baseline\", \"off\"",
                "2:35: unknown key `qa` in [hardening.pod-security] (the keys are environment tiers: dev, staging, prod)",
                "3:1: unknown key `pod-securty` in [hardening] (did you mean `pod-security`?)",
            ]
        );
        assert_eq!(
            errors("hardening = { pod-security = \"restricted\" }\n"),
            ["1:30: `pod-security` must be a table, found a string"]
        );
    }
}
