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
    /// Path glob against project-relative paths; None: every file.
    pub path: Option<globset::GlobMatcher>,
    pub rules: Vec<String>,
    pub environment: Option<String>,
    pub reason: Option<String>,
    /// `YYYY-MM-DD`.
    pub until: Option<String>,
}

/// The `[[ignore]]` entries of the configuration, resolved for matching
/// (`config_file`: the configuration's id in the sources).
pub fn externals(
    settings: &crate::settings::Settings,
    config_file: Option<crate::source::FileId>,
) -> Vec<External> {
    let (Some(c), Some(file)) = (&settings.config, config_file) else {
        return Vec::new();
    };
    c.ignores
        .iter()
        .map(|i| External {
            span: Span::new(file, i.span.start, i.span.end),
            path: i.path.as_ref().and_then(|p| {
                globset::Glob::new(p.value.trim_start_matches("./"))
                    .ok()
                    .map(|g| g.compile_matcher())
            }),
            rules: i.rules.iter().map(|r| r.value.clone()).collect(),
            environment: i
                .environment
                .as_ref()
                .map(|e| c.resolve_environment(&e.value).unwrap_or(e.value.clone())),
            reason: i.reason.as_ref().map(|r| r.value.clone()),
            until: i.until.as_ref().map(|u| u.value.to_string()),
        })
        .collect()
}

/// Today's date, `YYYY-MM-DD` in UTC (`GUARD_TODAY` overrides it).
pub fn today() -> String {
    crate::config::Date::today().to_string()
}

/// Does a key written in a suppression (`BO001`, `mutable-image-tag`,
/// `build-once`) name the rule?
pub fn key_matches(key: &str, rule_id: &str) -> bool {
    if key.eq_ignore_ascii_case(rule_id) {
        return true;
    }
    match crate::rules::find(rule_id) {
        Some(r) => key.eq_ignore_ascii_case(r.name) || key.eq_ignore_ascii_case(r.family.as_str()),
        None => false,
    }
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
    external: &[External],
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
    let mut ext_used = vec![false; external.len()];
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
            external.iter().position(|x| {
                x.until.as_deref().is_none_or(|u| u >= today.as_str())
                    && x.rules.iter().any(|k| key_matches(k, f.rule))
                    && x.path
                        .as_ref()
                        .is_none_or(|g| g.is_match(&*src.path) || g.is_match(&*src.uri))
                    && x.environment
                        .as_deref()
                        .is_none_or(|e| f.envs.iter().any(|fe| model.envs.is_or_qualifies(*fe, e)))
            })
        });
        if let Some(i) = hit {
            ext_used[i] = true;
            let x = &external[i];
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
    for (i, x) in external.iter().enumerate() {
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
    let any_enabled = crate::rules::all()
        .iter()
        .any(|r| keys.iter().any(|k| key_matches(k, r.id)) && enabled(r.id));
    if !used && problems.is_empty() && any_enabled && keys.iter().all(|k| key_known(k)) {
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
}
