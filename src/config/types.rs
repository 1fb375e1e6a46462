//! The configuration's types: what a parsed guard.toml holds.

use std::fmt;

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
    pub(crate) fn new(text: &str, span: ByteSpan, message: String) -> ConfigError {
        ConfigError::at(&LineIndex::new(text), text, span, message)
    }

    /// [`ConfigError::new`] located with the text's index.
    pub(crate) fn at(
        lines: &LineIndex,
        text: &str,
        span: ByteSpan,
        message: String,
    ) -> ConfigError {
        let (line, column) = lines.line_col(text, span.start);
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
    /// Lookups made from the fields above on first use.
    pub(crate) derived: Derived,
}

/// What a [`Config`]'s text and environments imply, computed once on first
/// use (a config is not changed after it is parsed), so that locating many
/// spans or resolving many environment names costs a lookup each. Always
/// equal: it adds nothing to what the config says.
#[derive(Clone, Default)]
pub(crate) struct Derived {
    pub(crate) lines: std::sync::OnceLock<LineIndex>,
    pub(crate) envs: std::sync::OnceLock<EnvLookup>,
}

impl PartialEq for Derived {
    fn eq(&self, _: &Derived) -> bool {
        true
    }
}

impl fmt::Debug for Derived {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Derived")
    }
}

/// Every environment name and alias, and the environment each stands for.
#[derive(Clone, Debug, Default)]
pub(crate) struct EnvLookup {
    /// Name or alias -> the environment's name (a name before an alias, the
    /// first declaration of an alias before a later one).
    pub(crate) by_label: crate::hash::HashMap<String, String>,
    /// Environment name -> its tier (the first declaration of it).
    pub(crate) tiers: crate::hash::HashMap<String, Option<Tier>>,
}

impl EnvLookup {
    pub(crate) fn new(envs: &Environments) -> EnvLookup {
        let mut by_label = crate::hash::HashMap::default();
        for name in environment_names(envs) {
            by_label.insert(name.clone(), name);
        }
        let mut tiers = crate::hash::HashMap::default();
        for d in &envs.declared {
            for a in &d.aliases {
                by_label
                    .entry(a.value.clone())
                    .or_insert_with(|| d.name.value.clone());
            }
            tiers
                .entry(d.name.value.clone())
                .or_insert_with(|| d.effective_tier());
        }
        EnvLookup { by_label, tiers }
    }
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

    /// The least severe finding that fails the run (None: none does).
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Note => Some(Severity::Note),
            FailOn::Never => None,
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
    pub(crate) fn new(name: Spanned<String>) -> EnvDecl {
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
    /// `pod-security-version = "v1.37"`: the Kubernetes release whose Pod
    /// Security Standards the controls follow; `None`: the latest guard knows.
    pub pod_security_version: Option<Spanned<PssVersion>>,
}

/// A Kubernetes minor release whose Pod Security Standards guard applies,
/// as Pod Security Admission's `enforce-version` names it (`v1.29`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PssVersion {
    /// The minor version (`29` for `v1.29`).
    pub minor: u16,
}

impl PssVersion {
    /// The newest release guard knows the standards of: `latest` means it.
    pub const LATEST: PssVersion = PssVersion { minor: 37 };

    pub const fn v1(minor: u16) -> PssVersion {
        PssVersion { minor }
    }

    /// `v1.29`, `1.29` or `latest`; a release newer than [`Self::LATEST`]
    /// or not of the form is `None`.
    pub fn parse(s: &str) -> Option<PssVersion> {
        if s == "latest" {
            return Some(PssVersion::LATEST);
        }
        let minor = s.strip_prefix('v').unwrap_or(s).strip_prefix("1.")?;
        if minor.is_empty() || !minor.bytes().all(|b| b.is_ascii_digit()) || minor.len() > 3 {
            return None;
        }
        let v = PssVersion::v1(minor.parse().ok()?);
        (v <= PssVersion::LATEST).then_some(v)
    }

    /// At least `v1.<minor>`.
    pub fn since(self, minor: u16) -> bool {
        self.minor >= minor
    }
}

impl Default for PssVersion {
    fn default() -> PssVersion {
        PssVersion::LATEST
    }
}

impl std::fmt::Display for PssVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v1.{}", self.minor)
    }
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
    /// `max-findings`: the findings one run keeps (0: all).
    pub max_findings: Option<Spanned<u64>>,
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
    pub(crate) fn from_days(days: i64) -> Date {
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

pub(crate) fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub(crate) fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`
/// (a scan of the text: for one position; [`LineIndex`] for many).
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    LineIndex::new(text).line_col(text, offset)
}

/// Bytes per block of [`LineIndex`]'s character counts.
const BLOCK: usize = 64;

#[cfg(test)]
thread_local! {
    /// The bytes [`LineIndex`] has read on this thread (tests count work
    /// with it instead of timing it).
    pub(crate) static BYTES_READ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Count `n` bytes read (in tests).
fn read(_n: usize) {
    #[cfg(test)]
    BYTES_READ.with(|c| c.set(c.get() + _n as u64));
}

/// Where the lines of a text start and how many characters precede each
/// 64-byte block: a position's line is a binary search and its column a
/// count of at most 64 bytes, whatever the lengths of the text and line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineIndex {
    /// The byte offset of every line's start (lines end at `\n`).
    starts: Vec<usize>,
    /// The characters in `text[..i * BLOCK]`, for every block `i`.
    block_chars: Vec<usize>,
    /// The length of the text indexed.
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        read(bytes.len());
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        let mut block_chars = Vec::with_capacity(bytes.len() / BLOCK + 1);
        let mut chars = 0;
        for block in bytes.chunks(BLOCK) {
            block_chars.push(chars);
            chars += char_starts(block);
        }
        block_chars.push(chars);
        LineIndex {
            starts,
            block_chars,
            len: bytes.len(),
        }
    }

    /// Whether this indexes a text of `text`'s length (a cache check).
    pub(crate) fn indexes(&self, text: &str) -> bool {
        self.len == text.len() && !self.block_chars.is_empty()
    }

    /// The characters in `text[..offset]` (`offset` a char boundary).
    fn chars_before(&self, bytes: &[u8], offset: usize) -> usize {
        let block = offset / BLOCK;
        let counted = self.block_chars.get(block).copied().unwrap_or(0);
        read(offset.saturating_sub(block * BLOCK));
        counted + bytes.get(block * BLOCK..offset).map_or(0, char_starts)
    }

    /// The 1-based line and column (in characters) of byte `offset` of
    /// `text`, the text this indexes (an offset inside a character locates
    /// that character; past the end, the end).
    pub fn line_col(&self, text: &str, offset: usize) -> (u32, u32) {
        if !self.indexes(text) {
            return LineIndex::new(text).line_col(text, offset);
        }
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.starts.get(line).copied().unwrap_or(0);
        let bytes = text.as_bytes();
        let column = self.chars_before(bytes, offset) - self.chars_before(bytes, start) + 1;
        (
            u32::try_from(line + 1).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }
}

/// The bytes that start a character.
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count()
}

pub(crate) fn environment_names(envs: &Environments) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen: crate::hash::HashSet<&str> = crate::hash::HashSet::default();
    if envs.defaults {
        for (n, _) in DEFAULT_ENVIRONMENTS {
            seen.insert(n);
            names.push(n.to_owned());
        }
    }
    for d in &envs.declared {
        if seen.insert(&d.name.value) {
            names.push(d.name.value.clone());
        }
    }
    names
}
