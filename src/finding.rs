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
            label: h.label.clone(),
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
    /// The environment the finding holds in (`None`: all / not environment-specific).
    pub env: Option<Env>,
    /// Provenance chain and other places, in order.
    pub related: Vec<Related>,
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, span: Span, message: String) -> Finding {
        Finding {
            rule,
            severity,
            span,
            message,
            env: None,
            related: Vec::new(),
        }
    }

    pub fn env(mut self, env: Option<Env>) -> Finding {
        self.env = env;
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

/// A finding resolved to paths and line/column, with the line text used
/// for fingerprints. This is what renderers consume.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Located {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub location: Location,
    pub env: Option<Env>,
    pub related: Vec<LocatedRelated>,
    /// Stable across unrelated line shifts: hash of rule, path, the
    /// trimmed text of the primary line, the message, and the occurrence
    /// number among identical triples.
    pub fingerprint: String,
    #[serde(skip)]
    line_text: String,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LocatedRelated {
    pub location: Location,
    pub label: String,
    /// A provenance step (see [`Related::flow`]).
    pub flow: bool,
}

/// Locate, fingerprint and sort findings (file, line, column, rule, message).
pub fn locate_all(
    findings: Vec<Finding>,
    sources: &SourceMap,
    name_of: impl Fn(&str) -> &'static str,
) -> Vec<Located> {
    use sha2::{Digest, Sha256};
    let mut out: Vec<Located> = findings
        .into_iter()
        .map(|f| {
            let location = sources.locate(f.span);
            let line_text = sources
                .get(f.span.file)
                .map(|s| s.line_text(location.start.line).trim().to_string())
                .unwrap_or_default();
            let related = f
                .related
                .iter()
                .map(|r| LocatedRelated {
                    location: sources.locate(r.span),
                    label: r.label.clone(),
                    flow: r.flow,
                })
                .collect();
            Located {
                rule: f.rule,
                name: name_of(f.rule),
                severity: f.severity,
                message: f.message,
                location,
                env: f.env,
                related,
                fingerprint: String::new(),
                line_text,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        (
            &a.location.path,
            a.location.start,
            a.rule,
            &a.message,
            a.env,
            a.location.end,
        )
            .cmp(&(
                &b.location.path,
                b.location.start,
                b.rule,
                &b.message,
                b.env,
                b.location.end,
            ))
    });
    out.dedup_by(|a, b| {
        a.rule == b.rule && a.location == b.location && a.message == b.message && a.env == b.env
    });
    let mut seen: std::collections::HashMap<[u8; 32], u32> = std::collections::HashMap::new();
    for f in &mut out {
        let mut h = Sha256::new();
        let env = f.env.map_or("", Env::as_str);
        for part in [f.rule, &f.location.path, &f.line_text, &f.message, env] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        let base: [u8; 32] = h.finalize().into();
        let n = seen.entry(base).or_insert(0);
        *n += 1;
        let mut h = Sha256::new();
        h.update(base);
        h.update(n.to_le_bytes());
        let full: [u8; 32] = h.finalize().into();
        f.fingerprint = full[..16].iter().map(|b| format!("{b:02x}")).collect();
    }
    out
}
