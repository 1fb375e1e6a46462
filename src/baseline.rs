//! Baselines: accept today's findings, report only new ones.
//!
//! `--write-baseline FILE` records every counting finding by fingerprint
//! (the fingerprint SARIF carries: stable across line shifts and
//! reformatting); `--baseline FILE` leaves the recorded ones out of every
//! format and the exit status, and counts the entries that no longer match
//! (fixed since). The file is sorted JSON, one entry per line, so that it
//! merges cleanly in git; rewriting it keeps the entries still present and
//! drops the fixed ones.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::finding::Located;

/// Bump when the meaning of an entry changes.
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub path: String,
    pub rule: String,
    pub fingerprint: String,
    /// For the reader of the file; not used for matching.
    pub message: String,
}

/// What `--write-baseline` did to the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    /// Entries in the file now.
    pub written: usize,
    /// Entries of the old file still in it (outside the paths checked, or
    /// still found).
    pub kept: usize,
    /// Entries of the old file for the paths checked that no longer match
    /// a finding (fixed).
    pub removed: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

impl Baseline {
    /// The counting (not suppressed) findings of a report.
    pub fn of(findings: &[Located]) -> Baseline {
        let mut entries: Vec<Entry> = findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| Entry {
                path: f.location.uri.clone(),
                rule: f.rule.to_string(),
                fingerprint: f.fingerprint.clone(),
                message: f.message.clone(),
            })
            .collect();
        entries.sort();
        entries.dedup();
        Baseline {
            version: VERSION,
            findings: entries,
        }
    }

    /// This baseline (today's findings of the paths checked) written over
    /// `old`: the entries of `old` whose path `in_scope` rejects (files
    /// outside the paths checked) are kept as they are; the rest are
    /// replaced. Returns the new baseline and what changed.
    pub fn update(self, old: &Baseline, in_scope: impl Fn(&str) -> bool) -> (Baseline, Update) {
        let (inside, outside): (Vec<&Entry>, Vec<&Entry>) =
            old.findings.iter().partition(|e| in_scope(&e.path));
        let mut entries = self.findings;
        // `entries` is sorted and without duplicates (see `of`).
        entries.sort();
        entries.dedup();
        let removed = inside
            .iter()
            .filter(|e| entries.binary_search(e).is_err())
            .count();
        let kept = outside.len() + inside.len() - removed;
        entries.extend(outside.into_iter().cloned());
        entries.sort();
        entries.dedup();
        let update = Update {
            written: entries.len(),
            kept,
            removed,
        };
        (
            Baseline {
                version: VERSION,
                findings: entries,
            },
            update,
        )
    }

    pub fn read(path: &Path) -> Result<Baseline, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "baseline {}: {}",
                path.display(),
                crate::project::io_reason(&e)
            )
        })?;
        Baseline::parse(&text, &path.display().to_string())
    }

    /// A baseline's text (`shown` names it in messages).
    pub fn parse(text: &str, shown: &str) -> Result<Baseline, String> {
        let b: Baseline = serde_json::from_str(text)
            .map_err(|e| format!("baseline {shown}: not a guard baseline: {e}"))?;
        if b.version != VERSION {
            return Err(format!(
                "baseline {shown}: version {} (this guard reads version {VERSION}); write it again with --write-baseline",
                b.version
            ));
        }
        Ok(b)
    }

    /// The text of the file: sorted, one entry per line.
    pub fn to_text(&self) -> String {
        let mut out = format!("{{\n  \"version\": {},\n  \"findings\": [\n", self.version);
        for (i, e) in self.findings.iter().enumerate() {
            let line = serde_json::to_string(e).unwrap_or_default();
            out.push_str("    ");
            out.push_str(&line);
            if i + 1 < self.findings.len() {
                out.push(',');
            }
            out.push('\n');
        }
        out.push_str("  ]\n}\n");
        out
    }

    /// Leave out the findings the baseline records. Returns the findings
    /// kept and how many entries matched nothing (fixed since), counting
    /// only the entries whose path `in_scope` accepts: an entry for a file
    /// outside the paths checked is not fixed, it was not looked at.
    pub fn filter(
        &self,
        findings: Vec<Located>,
        in_scope: impl Fn(&str) -> bool,
    ) -> (Vec<Located>, usize) {
        let mut remaining: BTreeMap<(String, String), usize> = BTreeMap::new();
        for e in self.findings.iter().filter(|e| in_scope(&e.path)) {
            *remaining
                .entry((e.rule.clone(), e.fingerprint.clone()))
                .or_default() += 1;
        }
        let kept = findings
            .into_iter()
            .filter(|f| {
                if f.suppressed.is_some() {
                    return true;
                }
                match remaining.get_mut(&(f.rule.to_string(), f.fingerprint.clone())) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        false
                    }
                    _ => true,
                }
            })
            .collect();
        let fixed = remaining.values().sum();
        (kept, fixed)
    }
}
