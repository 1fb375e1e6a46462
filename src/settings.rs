//! The effective settings of a run: `guard.toml` and the command line
//! resolved into what the pipeline reads (the environment set, the rules
//! that run and their severities, excludes, allowed regions, suppressions),
//! each remembering where it came from for `guard config`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError, FailOn};
use crate::env::{EnvDef, EnvSet};
use crate::finding::Severity;

/// Where a setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    /// The configuration file, at a line.
    Config(u32),
    CommandLine,
}

impl Origin {
    pub fn describe(&self, config: Option<&str>) -> String {
        match self {
            Origin::Default => "default".to_string(),
            Origin::Config(line) => format!("{}:{line}", config.unwrap_or("guard.toml")),
            Origin::CommandLine => "command line".to_string(),
        }
    }
}

/// What the command line adds to the configuration.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub extend_select: Vec<String>,
    pub excludes: Vec<String>,
}

/// Allowed regions from `[regions]`.
#[derive(Clone, Debug, Default)]
pub struct AllowedRegions {
    /// `allowed = [...]` with the byte range of the list in guard.toml.
    pub global: Option<(Vec<String>, std::ops::Range<usize>)>,
    /// Per environment name.
    pub per_env: Vec<(String, Vec<String>, std::ops::Range<usize>)>,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// The configuration file, as found (None: no configuration).
    pub config_path: Option<PathBuf>,
    pub config: Option<Config>,
    pub envs: EnvSet,
    /// Rule id -> runs.
    pub enabled: BTreeMap<&'static str, (bool, Origin)>,
    /// Rule id -> severity, where configured.
    pub severities: BTreeMap<&'static str, (Severity, Origin)>,
    pub excludes: Vec<(String, Origin)>,
    pub fail_on: Option<(FailOn, Origin)>,
    pub regions: AllowedRegions,
}

/// A configuration that could not be used: every error, located.
#[derive(Debug)]
pub struct Invalid {
    pub path: String,
    pub errors: Vec<ConfigError>,
}

/// The configuration errors shown; the rest are counted.
pub const MAX_CONFIG_ERRORS_SHOWN: usize = 100;

impl std::fmt::Display for Invalid {
    /// The first [`MAX_CONFIG_ERRORS_SHOWN`] errors in file order, then how
    /// many more there are.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.errors.iter().take(MAX_CONFIG_ERRORS_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{e}", self.path)?;
        }
        let more = self.errors.len().saturating_sub(MAX_CONFIG_ERRORS_SHOWN);
        if more > 0 {
            let s = if more == 1 { "" } else { "s" };
            write!(f, "\n{}: {more} more error{s} not shown", self.path)?;
        }
        Ok(())
    }
}

/// Read and parse a configuration file.
pub fn read_config(path: &Path, shown: &str) -> Result<Config, Invalid> {
    read_config_with(path, shown, &crate::suppress::key_known)
}

/// [`read_config`], with rule keys judged by `key_known` (`|_| true` before
/// the policies that define some rules are loaded).
pub fn read_config_with(
    path: &Path,
    shown: &str,
    key_known: &dyn Fn(&str) -> bool,
) -> Result<Config, Invalid> {
    let bytes = std::fs::read(path).map_err(|e| Invalid {
        path: shown.to_string(),
        errors: vec![ConfigError {
            span: 0..0,
            line: 1,
            column: 1,
            message: format!("cannot read: {}", crate::project::io_reason(&e)),
        }],
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        // Located at the first byte that is not UTF-8 (the column counts the characters
        // before it on its line).
        let at = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or_default();
        let (line, column) = crate::config::line_col(valid, at);
        Invalid {
            path: shown.to_string(),
            errors: vec![ConfigError {
                span: at..at + 1,
                line,
                column,
                message: format!(
                    "not UTF-8 text: byte 0x{:02X} is not valid UTF-8 here",
                    e.as_bytes().get(at).copied().unwrap_or(0)
                ),
            }],
        }
    })?;
    Config::parse(&text, key_known).map_err(|errors| Invalid {
        path: shown.to_string(),
        errors,
    })
}

impl Overrides {
    /// Every `--select`, `--ignore` and `--extend-select` key that names no
    /// rule, rule name or family, one message each (with a "did you mean").
    pub fn unknown_rule_keys(&self) -> Vec<String> {
        [
            ("--select", &self.select),
            ("--ignore", &self.ignore),
            ("--extend-select", &self.extend_select),
        ]
        .into_iter()
        .flat_map(|(flag, keys)| keys.iter().map(move |k| (flag, k)))
        .filter(|(_, k)| !crate::suppress::key_known(k))
        .map(|(flag, k)| {
            format!(
                "{flag}: no rule, rule name or family `{k}`{}; `guard rules` lists them",
                crate::config::rule_key_suggestion(k)
            )
        })
        .collect()
    }
}

/// Rule keys (ids, names, families; any case) by where they are in a list:
/// which key of the list names a rule is a lookup of the rule's three
/// names, however long the list.
struct KeyPositions(crate::hash::HashMap<String, Vec<usize>>);

impl KeyPositions {
    fn new<'k>(keys: impl Iterator<Item = &'k str>) -> KeyPositions {
        let mut map: crate::hash::HashMap<String, Vec<usize>> = crate::hash::HashMap::default();
        for (i, k) in keys.enumerate() {
            map.entry(k.to_ascii_lowercase()).or_default().push(i);
        }
        KeyPositions(map)
    }

    /// The positions of the keys that name `rule`, in list order.
    fn naming(&self, rule: &crate::rules::Rule) -> Vec<usize> {
        let mut names = [rule.id, rule.name, rule.family.as_str()].map(str::to_ascii_lowercase);
        names.sort_unstable();
        let mut at: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(i, n)| *i == 0 || names[i - 1] != **n)
            .filter_map(|(_, n)| self.0.get(n))
            .flatten()
            .copied()
            .collect();
        at.sort_unstable();
        at
    }

    /// The position of the first key that names `rule`.
    fn first(&self, rule: &crate::rules::Rule) -> Option<usize> {
        [rule.id, rule.name, rule.family.as_str()]
            .iter()
            .filter_map(|n| self.0.get(&n.to_ascii_lowercase())?.first())
            .min()
            .copied()
    }
}

impl Settings {
    /// Resolve a (parsed) configuration and the command line.
    pub fn resolve(
        config_path: Option<PathBuf>,
        config: Option<Config>,
        cli: &Overrides,
    ) -> Result<Settings, String> {
        let line =
            |c: &Config, span: &std::ops::Range<usize>| Origin::Config(c.line_col(span.start).0);
        // Environments.
        let envs = match &config {
            None => EnvSet::builtin(),
            Some(c) => {
                let mut defs: Vec<EnvDef> = if c.environments.defaults {
                    EnvSet::builtin().defs().to_vec()
                } else {
                    Vec::new()
                };
                for d in &c.environments.declared {
                    let strings = |v: &[crate::config::Spanned<String>]| -> Vec<String> {
                        v.iter().map(|s| s.value.clone()).collect()
                    };
                    let mut def = EnvDef {
                        name: d.name.value.clone(),
                        tier: d.effective_tier(),
                        aliases: strings(&d.aliases),
                        globs: strings(&d.globs),
                        var_files: strings(&d.var_files),
                        workspaces: strings(&d.workspaces),
                        overlays: strings(&d.overlays),
                        values: strings(&d.values),
                        namespaces: strings(&d.namespaces),
                        derived_from: None,
                    };
                    if let Some(existing) = defs.iter_mut().find(|e| e.name == def.name) {
                        // A declared default keeps its built-in aliases.
                        let mut aliases = std::mem::take(&mut existing.aliases);
                        aliases.extend(def.aliases);
                        aliases.sort();
                        aliases.dedup();
                        def.aliases = aliases;
                        *existing = def;
                    } else {
                        defs.push(def);
                    }
                }
                let order: Option<Vec<String>> = c.environments.order.as_ref().map(|o| {
                    o.value
                        .iter()
                        .map(|s| c.resolve_environment(&s.value).unwrap_or(s.value.clone()))
                        .collect()
                });
                let dirs = c
                    .environments
                    .non_environment_dirs
                    .as_ref()
                    .map(|v| v.iter().map(|s| s.value.clone()).collect());
                EnvSet::new(defs, order.as_deref(), dirs)?
                    .derive_from_paths(c.environments.defaults)
            }
        };
        // Rules: select (command line replaces the file's), extend, ignore.
        let mut enabled = BTreeMap::new();
        let mut severities = BTreeMap::new();
        let (select, select_origin): (Vec<String>, Origin) = if !cli.select.is_empty() {
            (cli.select.clone(), Origin::CommandLine)
        } else if let Some(c) = config.as_ref().filter(|c| !c.select.is_empty()) {
            (
                c.select.iter().map(|s| s.value.clone()).collect(),
                line(c, &c.select[0].span),
            )
        } else {
            (Vec::new(), Origin::Default)
        };
        let file_keys = |f: fn(&Config) -> &Vec<crate::config::Spanned<String>>| {
            config
                .as_ref()
                .map(|c| {
                    f(c).iter()
                        .map(|s| (s.value.clone(), line(c, &s.span)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        let mut extend = file_keys(|c| &c.extend_select);
        extend.extend(
            cli.extend_select
                .iter()
                .map(|k| (k.clone(), Origin::CommandLine)),
        );
        let mut ignore = file_keys(|c| &c.ignore);
        ignore.extend(cli.ignore.iter().map(|k| (k.clone(), Origin::CommandLine)));
        let unknown = cli.unknown_rule_keys();
        if !unknown.is_empty() {
            return Err(unknown.join("\n"));
        }
        let select_keys = KeyPositions::new(select.iter().map(String::as_str));
        let extend_keys = KeyPositions::new(extend.iter().map(|(k, _)| k.as_str()));
        let ignore_keys = KeyPositions::new(ignore.iter().map(|(k, _)| k.as_str()));
        let setting_keys = KeyPositions::new(
            config
                .iter()
                .flat_map(|c| c.rules.iter().map(|s| s.rule.value.as_str())),
        );
        for r in crate::rules::all() {
            // The hardening family is opt-in: selected, or `[hardening]`.
            let by_default = r.family != crate::rules::Family::Hardening
                || config.as_ref().is_some_and(|c| c.hardening.enabled);
            let mut on = (
                if select.is_empty() {
                    by_default
                } else {
                    select_keys.first(r).is_some()
                },
                select_origin.clone(),
            );
            if let Some((_, o)) = extend_keys.first(r).and_then(|i| extend.get(i)) {
                on = (true, o.clone());
            }
            if let Some((_, o)) = ignore_keys.first(r).and_then(|i| ignore.get(i)) {
                on = (false, o.clone());
            }
            if let Some(c) = &config {
                for s in setting_keys
                    .naming(r)
                    .into_iter()
                    .filter_map(|i| c.rules.get(i))
                {
                    if !s.enabled {
                        on = (false, line(c, &s.rule.span));
                    }
                    if let Some(sev) = &s.severity {
                        severities.insert(r.id, (sev.value, line(c, &sev.span)));
                    }
                }
            }
            enabled.insert(r.id, on);
        }
        let mut excludes: Vec<(String, Origin)> = config
            .as_ref()
            .map(|c| {
                c.exclude
                    .iter()
                    .map(|s| (s.value.clone(), line(c, &s.span)))
                    .collect()
            })
            .unwrap_or_default();
        excludes.extend(
            cli.excludes
                .iter()
                .map(|e| (e.clone(), Origin::CommandLine)),
        );
        let fail_on = config
            .as_ref()
            .and_then(|c| c.fail_on.as_ref().map(|f| (f.value, line(c, &f.span))));
        let mut regions = AllowedRegions::default();
        if let Some(c) = &config {
            if let Some(list) = &c.regions.allowed
                && let (Some(first), Some(last)) = (list.first(), list.last())
            {
                regions.global = Some((
                    list.iter().map(|s| s.value.clone()).collect(),
                    first.span.start..last.span.end,
                ));
            }
            for (env, list) in &c.regions.per_env {
                let name = c
                    .resolve_environment(&env.value)
                    .unwrap_or(env.value.clone());
                let span = match (list.first(), list.last()) {
                    (Some(a), Some(b)) => a.span.start..b.span.end,
                    _ => env.span.clone(),
                };
                regions
                    .per_env
                    .push((name, list.iter().map(|s| s.value.clone()).collect(), span));
            }
        }
        Ok(Settings {
            config_path,
            config,
            envs,
            enabled,
            severities,
            excludes,
            fail_on,
            regions,
        })
    }

    /// No configuration, no command-line overrides.
    pub fn defaults() -> Settings {
        Settings::resolve(None, None, &Overrides::default()).unwrap_or_else(|_| Settings {
            config_path: None,
            config: None,
            envs: EnvSet::builtin(),
            enabled: BTreeMap::new(),
            severities: BTreeMap::new(),
            excludes: Vec::new(),
            fail_on: None,
            regions: AllowedRegions::default(),
        })
    }

    pub fn is_enabled(&self, id: &str) -> bool {
        self.enabled.get(id).is_none_or(|(on, _)| *on)
    }

    /// `[hardening] pod-security`: the profile each tier must meet, when set.
    pub fn pod_security(&self) -> Option<&crate::config::PodSecurityProfiles> {
        self.config
            .as_ref()?
            .hardening
            .pod_security
            .as_ref()
            .map(|p| &p.value)
    }

    pub fn severity(&self, id: &str) -> Option<Severity> {
        self.severities.get(id).map(|(s, _)| *s)
    }
}
