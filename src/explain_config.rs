//! `guard check --explain-config`: what the work tree's guard.toml weakens
//! in the gate, relative to a base (`--config-from REF`'s guard.toml, else
//! the defaults): rules switched off, severities and `fail-on` lowered,
//! limits raised, new suppressions, excludes and policy directories, Pod
//! Security profiles relaxed. One plain line each, `FILE:LINE: what`, in
//! file order, so that a reviewer sees what a pull request's configuration
//! lets through.

use crate::config::{Config, FailOn};
use crate::settings::{Origin, Settings};

/// A resolved configuration and how to name it.
pub struct Side<'a> {
    pub settings: &'a Settings,
    /// `guard.toml` (as shown), or None when there is no file.
    pub shown: Option<&'a str>,
}

/// The lines, sorted by line of the tree's file (then by text).
pub fn explain(tree: &Side, base: &Side) -> Vec<String> {
    let file = tree.shown.unwrap_or("guard.toml");
    let config = tree.settings.config.as_ref();
    let lines: Vec<&str> = config.map_or_else(Vec::new, |c| c.text.lines().collect());
    // (line, text): line 0 for what is not written in the file.
    let mut out: Vec<(u32, String)> = Vec::new();
    let at = |origin: &Origin| match origin {
        Origin::Config(l) => *l,
        _ => 0,
    };
    let written = |line: u32| -> String {
        let text = lines
            .get(line.saturating_sub(1) as usize)
            .map_or("", |l| l.trim());
        shorten(text)
    };

    for r in crate::rules::all() {
        let (on_base, _) = base
            .settings
            .enabled
            .get(r.id)
            .cloned()
            .unwrap_or((r.family != crate::rules::Family::Hardening, Origin::Default));
        let Some((on_tree, origin)) = tree.settings.enabled.get(r.id) else {
            continue;
        };
        let default_severity = |s: &Settings| s.severity(r.id).unwrap_or(r.severity);
        if on_base && !*on_tree {
            let line = at(origin);
            out.push((
                line,
                format!(
                    "{}switches off {} ({}, {})",
                    key_text(line, &written),
                    r.id,
                    r.name,
                    default_severity(base.settings).as_str()
                ),
            ));
        } else if on_base && *on_tree {
            let (from, to) = (
                default_severity(base.settings),
                default_severity(tree.settings),
            );
            if to < from {
                let line = tree.settings.severities.get(r.id).map_or(0, |(_, o)| at(o));
                out.push((
                    line,
                    format!(
                        "{}lowers {} ({}) from {} to {}",
                        key_text(line, &written),
                        r.id,
                        r.name,
                        from.as_str(),
                        to.as_str()
                    ),
                ));
            }
        }
    }

    // fail-on: laxer is a later entry of error < warning < note, never the laxest.
    let laxness = |f: FailOn| match f {
        FailOn::Note => 0,
        FailOn::Warning => 1,
        FailOn::Error => 2,
        FailOn::Never => 3,
    };
    let fail_on = |s: &Settings| s.fail_on.as_ref().map_or(FailOn::Error, |(f, _)| *f);
    let (from, to) = (fail_on(base.settings), fail_on(tree.settings));
    if laxness(to) > laxness(from) {
        let line = tree.settings.fail_on.as_ref().map_or(0, |(_, o)| at(o));
        out.push((
            line,
            format!(
                "{}lowers fail-on from {} to {}",
                key_text(line, &written),
                from.as_str(),
                to.as_str()
            ),
        ));
    }

    if let Some(c) = config {
        let base_config = base.settings.config.as_ref();
        limits(c, base_config, &mut out);
        // Suppressions, excludes and policy directories the base does not have.
        let base_ignores: Vec<_> = base_config
            .map(|b| b.ignores.iter().map(ignore_key).collect())
            .unwrap_or_default();
        for i in &c.ignores {
            if base_ignores.contains(&ignore_key(i)) {
                continue;
            }
            let rules: Vec<&str> = i.rules.iter().map(|r| r.value.as_str()).collect();
            let mut what = format!("[[ignore]] suppresses {}", rules.join(", "));
            match &i.path {
                Some(p) => what.push_str(&format!(" in {}", p.value)),
                None => what.push_str(" in every file"),
            }
            if let Some(e) = &i.environment {
                what.push_str(&format!(" ({})", e.value));
            }
            out.push((c.line_col(i.span.start).0, shorten(&what)));
        }
        let base_excludes: Vec<&str> = base
            .settings
            .excludes
            .iter()
            .map(|(g, _)| g.as_str())
            .collect();
        for (g, origin) in &tree.settings.excludes {
            if !base_excludes.contains(&g.as_str()) {
                out.push((
                    at(origin),
                    shorten(&format!("exclude {g:?} leaves its files unchecked")),
                ));
            }
        }
        let names = |c: Option<&Config>| {
            c.and_then(|c| c.policies.as_ref())
                .map(|p| p.iter().map(|s| s.value.clone()).collect::<Vec<_>>())
        };
        if let Some(p) = &c.policies
            && names(Some(c)) != names(base_config)
        {
            let line = p.first().map_or(0, |s| c.line_col(s.span.start).0);
            let shown: Vec<&str> = p.iter().map(|s| s.value.as_str()).collect();
            out.push((
                line,
                shorten(&format!(
                    "policies = {shown:?} replaces the policy directories"
                )),
            ));
        }
        if let Some(p) = &c.hardening.pod_security {
            let base_p = base_config
                .and_then(|b| b.hardening.pod_security.as_ref())
                .map(|p| p.value)
                .unwrap_or_default();
            for (tier, to, from) in [
                ("prod", p.value.prod, base_p.prod),
                ("staging", p.value.staging, base_p.staging),
                ("dev", p.value.dev, base_p.dev),
            ] {
                if to < from {
                    out.push((
                        c.line_col(p.span.start).0,
                        format!(
                            "pod-security relaxes {tier} from {} to {}",
                            from.as_str(),
                            to.as_str()
                        ),
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out.into_iter()
        .map(|(line, text)| {
            if line == 0 {
                format!("{file}: {text}")
            } else {
                format!("{file}:{line}: {text}")
            }
        })
        .collect()
}

/// `KEY-AS-WRITTEN ` for a line of the file, or nothing.
fn key_text(line: u32, written: &dyn Fn(u32) -> String) -> String {
    if line == 0 {
        return "(not set) ".to_string();
    }
    let w = written(line);
    if w.is_empty() {
        String::new()
    } else {
        format!("{w} ")
    }
}

/// At most 80 characters of a line of the file.
fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

type IgnoreKey = (Option<String>, Vec<String>, Option<String>);

fn ignore_key(i: &crate::config::IgnoreEntry) -> IgnoreKey {
    (
        i.path.as_ref().map(|p| p.value.clone()),
        i.rules.iter().map(|r| r.value.clone()).collect(),
        i.environment.as_ref().map(|e| e.value.clone()),
    )
}

/// A limit: its key, how to read it, its default, whether 0 means no cap.
type Limit = (
    &'static str,
    fn(&crate::config::Limits) -> Option<u64>,
    u64,
    bool,
);

/// Limits raised above the base's (or the defaults).
fn limits(c: &Config, base: Option<&Config>, out: &mut Vec<(u32, String)>) {
    let pick = |c: Option<&Config>, f: fn(&crate::config::Limits) -> Option<u64>, default: u64| {
        c.and_then(|c| f(&c.limits)).unwrap_or(default)
    };
    // 0 means no cap: the largest.
    let cap = |n: u64| if n == 0 { u64::MAX } else { n };
    let checks: [Limit; 3] = [
        (
            "max-file-size",
            |l| l.max_file_size.as_ref().map(|s| s.value),
            crate::discover::MAX_FILE_BYTES,
            false,
        ),
        (
            "max-findings-per-file",
            |l| l.max_findings_per_file.as_ref().map(|s| s.value),
            crate::finding::MAX_FINDINGS_PER_FILE as u64,
            false,
        ),
        (
            "max-findings",
            |l| l.max_findings.as_ref().map(|s| s.value),
            crate::MAX_FINDINGS as u64,
            true,
        ),
    ];
    for (key, f, default, zero_is_none) in checks {
        let (to, from) = (pick(Some(c), f, default), pick(base, f, default));
        let norm = |n: u64| if zero_is_none { cap(n) } else { n };
        if norm(to) > norm(from) {
            let span = match key {
                "max-file-size" => c.limits.max_file_size.as_ref().map(|s| s.span.start),
                "max-findings-per-file" => c
                    .limits
                    .max_findings_per_file
                    .as_ref()
                    .map(|s| s.span.start),
                _ => c.limits.max_findings.as_ref().map(|s| s.span.start),
            };
            let shown = |n: u64| {
                if zero_is_none && n == 0 {
                    "no cap".to_string()
                } else {
                    n.to_string()
                }
            };
            out.push((
                span.map_or(0, |s| c.line_col(s).0),
                format!("raises {key} to {} (was {})", shown(to), shown(from)),
            ));
        }
    }
}
