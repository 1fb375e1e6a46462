//! Suppressions: `guard:ignore` comments in the sources and `[[ignore]]`
//! entries of guard.toml, matched against findings. A suppressed finding
//! stays in the report, marked, and does not count. The suppressions'
//! own problems are findings too, so that they do not rot: no reason
//! (GD004), expired (GD006), suppressing nothing (GD007).

pub mod scan;

use rayon::prelude::*;

use crate::discover::Syntax;
use crate::finding::{Finding, RawSuppression, SuppressionKind};
use crate::model::Model;
use crate::source::Span;

/// A `[[ignore]]` entry of guard.toml, resolved for matching.
#[derive(Clone, Debug)]
pub struct External {
    /// Where it is written (in the configuration file's source).
    pub span: Span,
    /// Its path glob (against project-relative paths), as an index into the
    /// distinct globs of [`Externals`]; None: every file.
    pub path: Option<usize>,
    pub rules: Vec<String>,
    pub environment: Option<String>,
    pub reason: Option<String>,
    /// `YYYY-MM-DD`.
    pub until: Option<String>,
}

/// The `[[ignore]]` entries of guard.toml, resolved for matching. Each
/// distinct path glob is compiled once, and all of them are matched against
/// a file in one pass of a few [`globset::GlobSet`]s: a guard.toml of 50,000
/// entries costs one glob set build, not 50,000 matchers (about 10 KB each)
/// tried one by one against every file.
#[derive(Debug, Default)]
pub struct Externals {
    /// In file order: the first entry that applies to a finding suppresses it.
    pub entries: Vec<External>,
    /// The distinct globs, in order of first use; `globs[i]` is glob `i`.
    globs: Vec<String>,
    /// Glob sets over consecutive runs of the distinct globs: (the glob
    /// index of each of the set's globs, the set).
    sets: Vec<(Vec<usize>, globset::GlobSet)>,
    /// The entries of each distinct glob, in file order.
    by_glob: Vec<Vec<usize>>,
    /// The entries without a path, in file order.
    pathless: Vec<usize>,
}

/// Distinct globs per glob set: one set of 50,000 complex globs could pass
/// the regex engine's size limit; runs of this many stay well under it.
const GLOBS_PER_SET: usize = 2048;

impl Externals {
    fn new(entries: Vec<(External, Option<String>)>) -> Externals {
        let mut x = Externals::default();
        let mut index: crate::hash::HashMap<String, usize> = Default::default();
        for (i, (mut e, glob)) in entries.into_iter().enumerate() {
            match glob {
                Some(g) => {
                    let n = match index.get(&g) {
                        Some(&n) => n,
                        None => {
                            let n = x.globs.len();
                            index.insert(g.clone(), n);
                            x.globs.push(g);
                            x.by_glob.push(Vec::new());
                            n
                        }
                    };
                    x.by_glob[n].push(i);
                    e.path = Some(n);
                }
                None => {
                    e.path = None;
                    x.pathless.push(i);
                }
            }
            x.entries.push(e);
        }
        let mut start = 0;
        while start < x.globs.len() {
            let end = (start + GLOBS_PER_SET).min(x.globs.len());
            x.add_sets(start, end);
            start = end;
        }
        x
    }

    /// Glob sets for globs `start..end`: one set, or, if it cannot be built,
    /// halves of it, down to single globs. A glob that does not compile
    /// (guard.toml's validation refuses it first) matches nothing.
    fn add_sets(&mut self, start: usize, end: usize) {
        let mut b = globset::GlobSetBuilder::new();
        let mut members = Vec::new();
        for (i, g) in self.globs.iter().enumerate().take(end).skip(start) {
            if let Ok(glob) = globset::Glob::new(g) {
                b.add(glob);
                members.push(i);
            }
        }
        match b.build() {
            Ok(set) => self.sets.push((members, set)),
            Err(_) if end - start > 1 => {
                let mid = start + (end - start) / 2;
                self.add_sets(start, mid);
                self.add_sets(mid, end);
            }
            Err(_) => {}
        }
    }

    /// How many distinct path globs were compiled (each once).
    pub fn compiled_globs(&self) -> usize {
        self.globs.len()
    }

    /// How many glob sets hold them.
    pub fn glob_sets(&self) -> usize {
        self.sets.len()
    }

    /// The entries that may apply to a file (its path or SARIF path
    /// matches their glob, or they have none), in file order.
    fn candidates(&self, path: &str, uri: &str) -> Vec<usize> {
        let mut globs: Vec<usize> = Vec::new();
        for (members, set) in &self.sets {
            for m in set.matches(path).into_iter().chain(set.matches(uri)) {
                globs.extend(members.get(m));
            }
        }
        globs.sort_unstable();
        globs.dedup();
        let mut out: Vec<usize> = self.pathless.clone();
        for g in globs {
            if let Some(es) = self.by_glob.get(g) {
                out.extend_from_slice(es);
            }
        }
        out.sort_unstable();
        out
    }
}

/// The `[[ignore]]` entries of the configuration, resolved for matching
/// (`config_file`: the configuration's id in the sources).
pub fn externals(
    settings: &crate::settings::Settings,
    config_file: Option<crate::source::FileId>,
) -> Externals {
    let (Some(c), Some(file)) = (&settings.config, config_file) else {
        return Externals::default();
    };
    Externals::new(
        c.ignores
            .iter()
            .map(|i| {
                let entry = External {
                    span: Span::new(file, i.span.start, i.span.end),
                    path: None,
                    rules: i.rules.iter().map(|r| r.value.clone()).collect(),
                    environment: i
                        .environment
                        .as_ref()
                        .map(|e| c.resolve_environment(&e.value).unwrap_or(e.value.clone())),
                    reason: i.reason.as_ref().map(|r| r.value.clone()),
                    until: i.until.as_ref().map(|u| u.value.to_string()),
                };
                let glob = i
                    .path
                    .as_ref()
                    .map(|p| p.value.trim_start_matches("./").to_string());
                (entry, glob)
            })
            .collect(),
    )
}

/// Today's date, `YYYY-MM-DD` in UTC (`GUARD_TODAY` overrides it).
pub fn today() -> String {
    crate::config::Date::today().to_string()
}

/// Does a key written in a suppression (`BO001`, `mutable-image-tag`,
/// `build-once`) name the rule?
pub fn key_matches(key: &str, rule_id: &str) -> bool {
    key.eq_ignore_ascii_case(rule_id) || key_matches_rule(key, rule_id, crate::rules::find(rule_id))
}

/// [`key_matches`] with the rule already looked up (`rule`: the rule of
/// `rule_id`, if it is one), for callers that match many keys.
fn key_matches_rule(key: &str, rule_id: &str, rule: Option<&crate::rules::Rule>) -> bool {
    key.eq_ignore_ascii_case(rule_id)
        || rule.is_some_and(|r| {
            key.eq_ignore_ascii_case(r.name) || key.eq_ignore_ascii_case(r.family.as_str())
        })
}

/// Does a key name any rule, rule name or family?
pub fn key_known(key: &str) -> bool {
    // One pass over the rules (`key_matches` for each would look each up).
    crate::rules::all().iter().any(|r| {
        key.eq_ignore_ascii_case(r.id)
            || key.eq_ignore_ascii_case(r.name)
            || key.eq_ignore_ascii_case(r.family.as_str())
    })
}

fn style(syntax: Syntax) -> scan::Style {
    match syntax {
        Syntax::Terraform | Syntax::TfVars | Syntax::Terragrunt => scan::Style::Hcl,
        Syntax::Yaml => scan::Style::Yaml,
        // `#` comment lines: dotenv, shell, properties, INI files.
        Syntax::Dockerfile | Syntax::Text => scan::Style::Dockerfile,
        Syntax::TerraformJson | Syntax::Json | Syntax::Toml | Syntax::Other => scan::Style::Json,
    }
}

/// The rules about suppressions themselves: never suppressed.
const META: [&str; 3] = ["GD004", "GD006", "GD007"];

/// Match suppressions against `findings` (marking the suppressed ones) and
/// return the findings about the suppressions. `audit` (`--no-suppressions`)
/// leaves every finding unsuppressed and says nothing about suppressions.
/// `enabled` says whether a rule ran (a suppression of a rule that is
/// switched off is not "unused").
/// How suppressions apply.
#[derive(Clone, Copy, Debug)]
pub struct Mode {
    /// `--no-suppressions`: every finding unsuppressed, nothing said about
    /// the suppressions.
    pub audit: bool,
    /// Whether an inline comment may suppress an input-safety (GD) finding
    /// (not under `--config-from`: such a comment suppresses nothing there,
    /// and is not reported as unused either).
    pub input_rules_inline: bool,
}

pub fn apply(
    model: &Model,
    findings: &mut [Finding],
    external: &Externals,
    mode: &Mode,
    enabled: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    if mode.audit {
        return Vec::new();
    }
    let today = today();
    let files = model.sources.files();
    // Directives of every file, in parallel; most files have none.
    let directives: Vec<Vec<scan::Directive>> = files
        .par_iter()
        .map(|f| {
            let syntax = model.files.get(f.id.0 as usize).map(|i| i.syntax);
            match syntax {
                Some(s) if model.files[f.id.0 as usize].readable => scan::scan(&f.text, style(s)),
                _ => Vec::new(),
            }
        })
        .collect();
    let mut used: Vec<Vec<bool>> = directives.iter().map(|d| vec![false; d.len()]).collect();
    let mut ext_used = vec![false; external.entries.len()];
    // The entries that may apply to each file, found once per file.
    let mut ext_candidates: crate::hash::HashMap<usize, Vec<usize>> = Default::default();
    let mut ext_hit: std::collections::HashMap<(usize, &str, Vec<crate::env::Env>), Option<usize>> =
        std::collections::HashMap::new();
    for f in findings.iter_mut() {
        if META.contains(&f.rule) {
            continue;
        }
        let file = f.span.file.0 as usize;
        let Some(src) = files.get(file) else { continue };
        let line = src.line_of(f.span.start);
        if let Some(ds) = directives.get(file) {
            // A directive with a problem (an invalid `until=`, two of them) suppresses
            // nothing: what it meant cannot be known, and the gate must not guess open.
            let hit = ds.iter().position(|d| {
                d.covers(line)
                    && d.problems.is_empty()
                    && d.until.as_deref().is_none_or(|u| u >= today.as_str())
                    && d.rules.iter().any(|(k, _)| key_matches(k, f.rule))
            });
            if let Some(i) = hit {
                used[file][i] = true;
                let refused = !mode.input_rules_inline
                    && crate::rules::find(f.rule)
                        .is_some_and(|r| r.family == crate::rules::Family::Input);
                if !refused {
                    let d = &ds[i];
                    f.suppression = Some(RawSuppression {
                        kind: SuppressionKind::InSource,
                        reason: d.reason.clone(),
                        span: Span::new(f.span.file, d.span.start, d.span.end),
                    });
                    continue;
                }
            }
        }
        // Which entry applies depends only on the file, the rule and the environments: found
        // once for each of those (a guard.toml of 50,000 entries over a flood of findings would
        // otherwise match every entry against every finding).
        let key = (file, f.rule, f.envs.clone());
        let hit = *ext_hit.entry(key).or_insert_with(|| {
            let candidates = ext_candidates
                .entry(file)
                .or_insert_with(|| external.candidates(&src.path, &src.uri));
            let rule = crate::rules::find(f.rule);
            candidates.iter().copied().find(|&i| {
                let x = &external.entries[i];
                x.until.as_deref().is_none_or(|u| u >= today.as_str())
                    && x.rules.iter().any(|k| key_matches_rule(k, f.rule, rule))
                    && x.environment
                        .as_deref()
                        .is_none_or(|e| f.envs.iter().any(|fe| model.envs.is_or_qualifies(*fe, e)))
            })
        });
        if let Some(i) = hit {
            ext_used[i] = true;
            let x = &external.entries[i];
            f.suppression = Some(RawSuppression {
                kind: SuppressionKind::External,
                reason: x.reason.clone(),
                span: x.span,
            });
        }
    }
    let mut out = Vec::new();
    for (file, ds) in directives.iter().enumerate() {
        for (i, d) in ds.iter().enumerate() {
            let span = Span::new(crate::source::FileId(file as u32), d.span.start, d.span.end);
            let keys: Vec<&str> = d.rules.iter().map(|(k, _)| k.as_str()).collect();
            judge(
                span,
                &keys,
                d.reason.as_deref(),
                d.until.as_deref(),
                &d.problems,
                used[file][i],
                &today,
                enabled,
                &mut out,
            );
        }
    }
    for (i, x) in external.entries.iter().enumerate() {
        let keys: Vec<&str> = x.rules.iter().map(String::as_str).collect();
        judge(
            x.span,
            &keys,
            x.reason.as_deref(),
            x.until.as_deref(),
            &[],
            ext_used[i],
            &today,
            enabled,
            &mut out,
        );
    }
    out
}

/// The findings about one suppression.
#[allow(clippy::too_many_arguments)]
fn judge(
    span: Span,
    keys: &[&str],
    reason: Option<&str>,
    until: Option<&str>,
    problems: &[String],
    used: bool,
    today: &str,
    enabled: &dyn Fn(&str) -> bool,
    out: &mut Vec<Finding>,
) {
    use crate::rules::input::{
        SUPPRESSION_EXPIRED, SUPPRESSION_UNUSED, SUPPRESSION_WITHOUT_REASON,
    };
    let shown = keys.join(", ");
    if reason.is_none() {
        out.push(SUPPRESSION_WITHOUT_REASON.finding(
            span,
            format!("suppression of {shown} gives no reason; say why the finding is acceptable"),
        ));
    }
    if let Some(u) = until
        && u < today
    {
        out.push(SUPPRESSION_EXPIRED.finding(
            span,
            format!(
                "suppression of {shown} expired on {u}; the findings it silenced are reported again"
            ),
        ));
        return;
    }
    for p in problems {
        // An error: whoever wrote it meant to silence something, and the findings it names are
        // reported again.
        let mut f =
            SUPPRESSION_UNUSED.finding(span, format!("suppression {p}, so it suppresses nothing"));
        f.severity = crate::finding::Severity::Error;
        out.push(f);
    }
    for k in keys {
        if !key_known(k) {
            out.push(SUPPRESSION_UNUSED.finding(
                span,
                format!("suppression names `{k}`, which is no rule, rule name or family{}; `guard rules` lists them", crate::config::rule_key_suggestion(k)),
            ));
        }
    }
    // Asked only of an unused suppression, with each rule looked at once (50,000 unused
    // entries of guard.toml looked every rule up again for every rule).
    let any_enabled = || {
        crate::rules::all()
            .iter()
            .any(|r| keys.iter().any(|k| key_matches_rule(k, r.id, Some(r))) && enabled(r.id))
    };
    if !used && problems.is_empty() && keys.iter().all(|k| key_known(k)) && any_enabled() {
        out.push(SUPPRESSION_UNUSED.finding(
            span,
            format!("suppression of {shown} matches no finding; remove it"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_ids_names_and_families() {
        assert!(key_matches("BO001", "BO001"));
        assert!(key_matches("bo001", "BO001"));
        assert!(key_matches("mutable-image-tag", "BO001"));
        assert!(key_matches("build-once", "BO001"));
        assert!(!key_matches("secrets", "BO001"));
        assert!(key_known("secrets"));
        assert!(!key_known("BO999"));
    }

    fn entry(n: usize, glob: Option<&str>) -> (External, Option<String>) {
        let x = External {
            span: Span::new(crate::source::FileId(0), n, n + 1),
            path: None,
            rules: vec!["BO001".to_string()],
            environment: None,
            reason: Some(format!("entry {n}")),
            until: None,
        };
        (x, glob.map(str::to_string))
    }

    #[test]
    fn identical_globs_of_fifty_thousand_entries_are_compiled_once() {
        let globs = ["k8s/**", "legacy/*.yaml", "**/generated/**"];
        let entries: Vec<_> = (0..50_000)
            .map(|n| entry(n, (n % 10 != 0).then(|| globs[n % 3])))
            .collect();
        let x = Externals::new(entries);
        assert_eq!(x.entries.len(), 50_000);
        assert_eq!(x.compiled_globs(), 3);
        assert_eq!(x.glob_sets(), 1);
        // Globs are numbered in order of first use.
        assert_eq!(x.entries[1].path, Some(0));
        assert_eq!(x.entries[2].path, Some(1));
        assert_eq!(x.entries[3].path, Some(2));
        assert_eq!(x.entries[13].path, Some(0));
        assert_eq!(x.entries[10].path, None);
        // The entries that may apply, in file order: the path-less ones and
        // those whose glob matches the path or the SARIF path.
        let c = x.candidates("k8s/a.yaml", "repo/k8s/a.yaml");
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(&c[..4], &[0, 3, 6, 9]);
        assert_eq!(
            c.len(),
            5_000 + (0..50_000).filter(|n| n % 10 != 0 && n % 3 == 0).count()
        );
        let c = x.candidates("other/generated/x.yaml", "other/generated/x.yaml");
        assert_eq!(&c[..4], &[0, 2, 5, 8]);
        let c = x.candidates("nothing.tf", "nothing.tf");
        assert!(c.iter().all(|&i| i % 10 == 0) && c.len() == 5_000);
    }

    #[test]
    fn distinct_globs_are_matched_in_sets_with_their_entries() {
        let n = 2 * GLOBS_PER_SET + 10;
        let mut entries: Vec<_> = (0..n)
            .map(|i| {
                let g = format!("dir{i}/**");
                entry(i, Some(g.as_str()))
            })
            .collect();
        // An invalid glob (validation refuses it first) matches nothing.
        entries.push(entry(n, Some("a/{b")));
        entries.push(entry(n + 1, Some("dir7/**")));
        let x = Externals::new(entries);
        assert_eq!(x.compiled_globs(), n + 1);
        assert_eq!(x.glob_sets(), 3);
        assert_eq!(x.candidates("dir7/x.yaml", "dir7/x.yaml"), vec![7, n + 1]);
        let last = n - 1;
        assert_eq!(x.candidates("x", &format!("dir{last}/main.tf")), vec![last]);
        assert!(x.candidates("a/{b", "a/b").is_empty());
    }
}
