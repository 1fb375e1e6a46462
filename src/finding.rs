//! Findings: what a rule (or a parser) says about one place in the sources.

use crate::env::Env;
use crate::node::Hop;
use crate::source::{Location, SourceMap, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A secondary place worth showing with a finding: a hop of a value's
/// provenance, the other side of a comparison, the first of two duplicates.
#[derive(Clone, Debug, PartialEq)]
pub struct Related {
    pub span: Span,
    pub label: String,
    /// A step of the value's provenance (SARIF shows these as a code flow),
    /// rather than context such as "declared here".
    pub flow: bool,
}

impl From<&Hop> for Related {
    fn from(h: &Hop) -> Related {
        Related {
            span: h.span,
            label: h.label.to_string(),
            flow: true,
        }
    }
}

/// What a rule reports, before it is located for output.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule's stable id (`BO001`).
    pub rule: &'static str,
    pub severity: Severity,
    /// The primary location: the exact key or value.
    pub span: Span,
    pub message: String,
    /// The environments the finding holds in, sorted; empty: not said by
    /// the rule (the check fills in where the location is deployed).
    pub envs: Vec<Env>,
    /// Provenance chain and other places, in order.
    pub related: Vec<Related>,
    /// Set when a suppression silences the finding.
    pub suppression: Option<RawSuppression>,
    /// The secret values the finding is about: never printed, masked in
    /// every snippet that shows their lines.
    pub secrets: Vec<Span>,
    /// Set when the rule could not decide (a value not known statically):
    /// why. Counted per rule; reported as a note only with `--strict`.
    pub undecided: Option<&'static str>,
}

/// A suppression that matched, before it is located.
#[derive(Clone, Debug, PartialEq)]
pub struct RawSuppression {
    pub kind: SuppressionKind,
    pub reason: Option<String>,
    /// The directive or the guard.toml entry.
    pub span: Span,
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, span: Span, message: String) -> Finding {
        Finding {
            rule,
            severity,
            span,
            message,
            envs: Vec::new(),
            related: Vec::new(),
            suppression: None,
            secrets: Vec::new(),
            undecided: None,
        }
    }

    /// The one environment the finding holds in (`None`: where its
    /// location is deployed).
    pub fn env(mut self, env: Option<Env>) -> Finding {
        self.envs = env.into_iter().collect();
        self
    }

    /// Every environment the finding holds in.
    pub fn envs(mut self, envs: impl IntoIterator<Item = Env>) -> Finding {
        self.envs = envs.into_iter().collect();
        self.envs.sort();
        self.envs.dedup();
        self
    }

    /// The secret value the finding is about (masked wherever shown).
    pub fn secret(mut self, span: Span) -> Finding {
        self.secrets.push(span);
        self
    }

    /// Add a place worth showing beside the finding.
    pub fn related(mut self, span: Span, label: impl Into<String>) -> Finding {
        self.related.push(Related {
            span,
            label: label.into(),
            flow: false,
        });
        self
    }

    /// Add one step of the value's provenance.
    pub fn flow(mut self, span: Span, label: impl Into<String>) -> Finding {
        self.related.push(Related {
            span,
            label: label.into(),
            flow: true,
        });
        self
    }

    /// Attach a value's provenance chain, decisive literal first. A hop at
    /// the primary location itself is not repeated.
    pub fn via(mut self, via: &crate::node::Via) -> Finding {
        if let Some(hops) = via {
            let primary = self.span;
            self.related
                .extend(hops.iter().filter(|h| h.span != primary).map(Related::from));
        }
        self
    }
}

/// Why a finding does not count.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Suppression {
    /// `in-source` (a `guard:ignore` comment) or `external` (guard.toml).
    pub kind: SuppressionKind,
    pub reason: Option<String>,
    /// Where the suppression is written.
    pub location: Location,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SuppressionKind {
    InSource,
    External,
}

/// A finding resolved to paths and line/column. This is what renderers
/// consume.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Located {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    /// Sorted; empty: all environments.
    pub envs: Vec<Env>,
    pub related: Vec<LocatedRelated>,
    /// Stable across unrelated line shifts and reformatting: hash of rule,
    /// project-relative path, the (bounded, whitespace-normalised) text of
    /// the primary span, the message without line numbers, the
    /// environments, and the occurrence number among identical ones.
    pub fingerprint: String,
    /// Set when a suppression silences the finding: it stays in the report
    /// but does not count.
    pub suppressed: Option<Suppression>,
}

impl Located {
    /// "prod" / "staging, prod" / None for all environments.
    pub fn env_label(&self) -> Option<String> {
        if self.envs.is_empty() {
            return None;
        }
        Some(
            self.envs
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LocatedRelated {
    pub location: Location,
    pub label: String,
    /// A provenance step (see [`Related::flow`]).
    pub flow: bool,
}

/// How many findings of one rule one file reports by default; the rest are
/// one summary finding (`[limits] max-findings-per-file`).
pub const MAX_FINDINGS_PER_FILE: usize = 100;

/// Keep at most `cap` counting findings per file and rule (the first, by
/// position) and replace the rest by one summary finding at the first one
/// left out, so that no input can make the report grow without bound.
pub fn cap_per_file(mut findings: Vec<Finding>, cap: usize) -> Vec<Finding> {
    use crate::hash::HashMap;
    let mut counts: HashMap<(crate::source::FileId, &'static str), usize> = HashMap::default();
    for f in findings.iter().filter(|f| f.suppression.is_none()) {
        *counts.entry((f.span.file, f.rule)).or_default() += 1;
    }
    if counts.values().all(|&n| n <= cap) {
        return findings;
    }
    findings.sort_by(|a, b| {
        (a.span.file, a.rule, a.span.start, a.span.end).cmp(&(
            b.span.file,
            b.rule,
            b.span.start,
            b.span.end,
        ))
    });
    let mut seen: HashMap<(crate::source::FileId, &'static str), usize> = HashMap::default();
    let mut out = Vec::with_capacity(findings.len().min(counts.len() * (cap + 1)));
    for f in findings {
        if f.suppression.is_some() {
            out.push(f);
            continue;
        }
        let key = (f.span.file, f.rule);
        let n = seen.entry(key).or_default();
        *n += 1;
        if *n <= cap {
            out.push(f);
        } else if *n == cap + 1 {
            let total = counts.get(&key).copied().unwrap_or(*n);
            let mut s = Finding::new(
                f.rule,
                f.severity,
                f.span,
                format!(
                    "{} more {} findings in this file are not shown: only the first {cap} of a rule are (`[limits] max-findings-per-file` in guard.toml changes that)",
                    total - cap,
                    f.rule
                ),
            );
            s.envs = f.envs;
            out.push(s);
        }
    }
    out
}

/// How much of a span's text a fingerprint hashes: enough to tell two
/// findings on one line apart, bounded so that a long line costs nothing.
const FINGERPRINT_WINDOW: usize = 256;

/// The message as fingerprinted: `line 12` becomes `line #`, so that a
/// finding that names another line keeps its fingerprint when lines move.
fn message_key(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find("line ") {
        out.push_str(&rest[..i + 5]);
        rest = &rest[i + 5..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push('#');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// The span's text, whitespace runs collapsed, at most the window.
fn span_key(text: &str) -> String {
    let mut out = String::new();
    for (i, w) in text.split_whitespace().enumerate() {
        if out.len() >= FINGERPRINT_WINDOW {
            break;
        }
        if i > 0 {
            out.push(' ');
        }
        out.push_str(w);
    }
    let mut end = out.len().min(FINGERPRINT_WINDOW);
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

/// Locate, fingerprint and sort findings (file, line, column, rule,
/// message). The same finding raised for several environments (a base
/// manifest rendered by several overlays) is reported once, naming them all.
pub fn locate_all(
    findings: Vec<Finding>,
    sources: &SourceMap,
    name_of: impl Fn(&str) -> &'static str + Sync,
) -> Vec<Located> {
    use rayon::prelude::*;
    use sha2::{Digest, Sha256};
    // Locating and hashing run on every thread (a run with many findings
    // spent a tenth of its wall time here, on one); the merge and the
    // numbering of repeated fingerprints stay in order.
    // (located, span window text, identity path)
    let mut keyed: Vec<(Located, String, &str)> = findings
        .into_par_iter()
        .map(|f| {
            let location = sources.locate(f.span);
            let related = f
                .related
                .iter()
                .map(|r| LocatedRelated {
                    location: sources.locate(r.span),
                    label: r.label.clone(),
                    flow: r.flow,
                })
                .collect();
            let file = sources.get(f.span.file);
            let id_path = file.map_or("", |s| s.id_path());
            let window =
                span_key(file.map_or("", |s| s.slice_window(f.span, FINGERPRINT_WINDOW * 4)));
            (
                Located {
                    rule: f.rule,
                    name: name_of(f.rule),
                    severity: f.severity,
                    message: f.message,
                    location,
                    envs: f.envs,
                    related,
                    fingerprint: String::new(),
                    suppressed: f.suppression.map(|s| Suppression {
                        kind: s.kind,
                        reason: s.reason,
                        location: sources.locate(s.span),
                    }),
                },
                window,
                id_path,
            )
        })
        .collect();
    keyed.par_sort_by(|(a, _, _), (b, _, _)| {
        (
            &a.location.path,
            a.location.start,
            a.rule,
            &a.message,
            a.location.end,
            &a.envs,
        )
            .cmp(&(
                &b.location.path,
                b.location.start,
                b.rule,
                &b.message,
                b.location.end,
                &b.envs,
            ))
    });
    // One finding per place: environments merged (any "all" makes it all).
    let mut merged: Vec<(Located, String, &str)> = Vec::with_capacity(keyed.len());
    for item in keyed {
        if let Some((last, _, _)) = merged.last_mut()
            && last.rule == item.0.rule
            && last.location == item.0.location
            && last.message == item.0.message
        {
            if last.envs.is_empty() || item.0.envs.is_empty() {
                last.envs.clear();
            } else {
                last.envs.extend(item.0.envs.iter().copied());
                last.envs.sort();
                last.envs.dedup();
            }
            // Each took its severity from its own environments (tiers):
            // the place holds the strictest.
            last.severity = last.severity.max(item.0.severity);
            if last.suppressed.is_none() {
                last.suppressed = item.0.suppressed;
            }
            continue;
        }
        merged.push(item);
    }
    let bases: Vec<[u8; 32]> = merged
        .par_iter()
        .map(|(f, window, id_path)| {
            let mut h = Sha256::new();
            let envs: Vec<&str> = f.envs.iter().map(|e| e.as_str()).collect();
            let envs = envs.join(",");
            for part in [f.rule, id_path, window, &message_key(&f.message), &envs] {
                h.update(part.as_bytes());
                h.update([0u8]);
            }
            h.finalize().into()
        })
        .collect();
    // The n-th finding with the same base, in sorted order, is number n.
    let mut seen: crate::hash::HashMap<[u8; 32], u32> = crate::hash::HashMap::default();
    let numbers: Vec<u32> = bases
        .iter()
        .map(|base| {
            let n = seen.entry(*base).or_insert(0);
            *n += 1;
            *n
        })
        .collect();
    merged
        .into_par_iter()
        .zip(bases)
        .zip(numbers)
        .map(|(((mut f, _, _), base), n)| {
            let mut h = Sha256::new();
            h.update(base);
            h.update(n.to_le_bytes());
            let full: [u8; 32] = h.finalize().into();
            f.fingerprint = full[..16].iter().map(|b| format!("{b:02x}")).collect();
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_keys_ignore_line_numbers_and_layout() {
        assert_eq!(
            message_key("mapping key `x` repeats (first at line 12); later line 3"),
            "mapping key `x` repeats (first at line #); later line #"
        );
        assert_eq!(message_key("no lines here"), "no lines here");
        assert_eq!(span_key("  a:\n    b   c "), "a: b c");
        assert!(span_key(&"é".repeat(1000)).len() <= FINGERPRINT_WINDOW);
    }
}
