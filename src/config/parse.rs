//! Parsing and validation: toml_edit's document walked table by table,
//! every problem located and collected.

use crate::hash::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use toml_edit::{Document, Item, TableLike, Value};

use crate::finding::Severity;

use super::suggest::{nearest_within, quoted_list, rule_key_suggestion_within, suggestion_within};
use super::types::*;

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
            lines: LineIndex::new(text),
            known,
            errors: Vec::new(),
            suggestion_budget: SUGGESTION_BUDGET,
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
        self.derived
            .lines
            .get_or_init(|| LineIndex::new(&self.text))
            .line_col(&self.text, offset)
    }

    fn env_lookup(&self) -> &EnvLookup {
        self.derived
            .envs
            .get_or_init(|| EnvLookup::new(&self.environments))
    }

    /// The environment a name or an alias of a declared environment stands
    /// for, if any.
    pub fn resolve_environment(&self, name: &str) -> Option<String> {
        self.env_lookup().by_label.get(name).cloned()
    }

    /// The tier of an environment (by name or alias).
    pub fn tier_of(&self, name: &str) -> Option<Tier> {
        let name = self.resolve_environment(name)?;
        match self.env_lookup().tiers.get(&name) {
            Some(tier) => *tier,
            None => default_tier(&name),
        }
    }
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

pub(crate) fn syntax_error(text: &str, e: &toml_edit::TomlError) -> ConfigError {
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

pub(crate) const TOP_KEYS: &[&str] = &[
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
pub(crate) const ENVIRONMENTS_KEYS: &[&str] = &["defaults", "order", "non-environment-dirs"];
pub(crate) const ENV_DECL_KEYS: &[&str] = &[
    "tier",
    "aliases",
    "globs",
    "var-files",
    "workspaces",
    "overlays",
    "values",
    "namespaces",
];
pub(crate) const REGIONS_KEYS: &[&str] = &["allowed", "env"];
pub(crate) const RULE_KEYS: &[&str] = &["severity"];
pub(crate) const PARITY_KEYS: &[&str] = &["pairs", "allow"];
pub(crate) const HARDENING_KEYS: &[&str] = &["pod-security", "pod-security-version"];
pub(crate) const TIER_KEYS: &[&str] = &["dev", "staging", "prod"];
pub(crate) const LIMITS_KEYS: &[&str] = &["max-file-size", "max-findings-per-file", "max-findings"];
pub(crate) const IGNORE_KEYS: &[&str] =
    &["path", "rule", "rules", "environment", "reason", "until"];

/// A table (standard, dotted or inline) with where it is and what it is
/// called in messages (`[environments.prod]`; empty for the top level).
pub(crate) struct Tbl<'a> {
    like: &'a dyn TableLike,
    span: ByteSpan,
    name: String,
}

/// One key of a table.
pub(crate) struct Entry<'a> {
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

pub(crate) fn item_span(item: &Item) -> Option<ByteSpan> {
    match item {
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        Item::Value(v) => v.span(),
        Item::None => None,
    }
}

pub(crate) fn value_span(v: &Value, fallback: &ByteSpan) -> ByteSpan {
    v.span().unwrap_or_else(|| fallback.clone())
}

/// `a`, `an`: how a TOML item is named in messages.
pub(crate) fn describe(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::Value(v) => describe_value(v),
    }
}

pub(crate) fn describe_value(v: &Value) -> &'static str {
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
pub(crate) fn header_key(key: &str) -> String {
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

pub(crate) fn is_env_name(s: &str) -> bool {
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

/// The edit-distance table cells one config's "did you mean"s may cost
/// (about 0.1 s): misspellings among many user-made names (environments)
/// would otherwise cost their product.
pub(crate) const SUGGESTION_BUDGET: u64 = 50_000_000;

pub(crate) struct Parser<'a> {
    text: &'a str,
    /// Locates every error in one lookup.
    lines: LineIndex,
    known: &'a dyn Fn(&str) -> bool,
    errors: Vec<ConfigError>,
    /// What suggestions may still cost (see [`nearest_within`]).
    suggestion_budget: u64,
}

impl<'a> Parser<'a> {
    fn error(&mut self, span: ByteSpan, message: String) {
        let error = ConfigError::at(&self.lines, self.text, span, message);
        self.errors.push(error);
    }

    fn unknown_key(&mut self, e: &Entry, table: &Tbl, known: &[&str], hint: &str) {
        let mut message = format!("unknown key `{}` {}", e.key, table.place());
        let suggested = suggestion_within(e.key, known, &mut self.suggestion_budget);
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
                "no rule, rule name or family `{}`{}; `guard rules` lists them",
                s.value,
                rule_key_suggestion_within(&s.value, &mut self.suggestion_budget)
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
                        let mut seen: HashSet<&str> = HashSet::default();
                        for o in &order {
                            if !seen.insert(&o.value) {
                                let message = format!("`{}` is twice in `order`", o.value);
                                self.error(o.span.clone(), message);
                            }
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
                "pod-security-version" => {
                    let Some(s) = self.string(&e) else { continue };
                    match PssVersion::parse(&s.value) {
                        Some(v) => hardening.pod_security_version = Some(Spanned::new(v, s.span)),
                        None => {
                            let message = format!(
                                "`pod-security-version` must be \"latest\" or a Kubernetes release \
                                 from \"v1.0\" to \"{}\" (like \"v1.29\"), found \"{}\"",
                                PssVersion::LATEST,
                                s.value
                            );
                            self.error(s.span, message);
                        }
                    }
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
                "max-findings" => {
                    limits.max_findings =
                        match e.item.as_integer().and_then(|n| u64::try_from(n).ok()) {
                            Some(n) => Some(Spanned::new(n, e.span())),
                            None => {
                                let message =
                                    "`max-findings` must be a whole number (0: no cap)".to_string();
                                self.error(e.span(), message);
                                None
                            }
                        }
                }
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
        let candidate_set: HashSet<&str> = candidates.iter().copied().collect();
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
            if candidate_set.contains(r.value.as_str())
                || (config.environments.defaults && builtin.named_by_region_or_cell(&r.value))
            {
                continue;
            }
            let mut message = format!("unknown environment `{}`", r.value);
            match nearest_within(&r.value, &candidates, 2, &mut self.suggestion_budget) {
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
