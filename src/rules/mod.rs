//! The rule registry. A rule is data ([`Rule`]) plus one function; each
//! family lives in its own file and lists its rules in a `RULES` slice.
//! Adding a rule touches that file and its fixtures only.

pub mod aws_hardening;
pub mod build_once;
pub mod catalog;
pub mod input;
pub mod parity;
pub mod pipeline;
pub mod pod_security;
pub mod public_db;
pub mod regions;
mod rendered;
pub mod scp;
pub mod secrets;
pub mod traffic;
pub mod workload;

use crate::finding::{Finding, Severity};
use crate::model::Model;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    BuildOnce,
    PublicDb,
    Secrets,
    Regions,
    Parity,
    Scp,
    Pipeline,
    /// Traffic reaches a workload in every environment (Services, Ingresses, autoscalers).
    Traffic,
    Workload,
    /// Diagnostics about the input itself (parse errors, duplicate keys).
    Input,
    /// The project's own Rego policies (see `rego`).
    Policy,
    /// The security baseline users of Checkov and Trivy expect (Pod Security
    /// Standards, AWS foundational checks), severity by environment tier.
    Hardening,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::BuildOnce => "build-once",
            Family::PublicDb => "public-db",
            Family::Secrets => "secrets",
            Family::Regions => "regions",
            Family::Parity => "parity",
            Family::Scp => "scp",
            Family::Pipeline => "pipeline",
            Family::Traffic => "traffic",
            Family::Workload => "workload",
            Family::Input => "input",
            Family::Policy => "policy",
            Family::Hardening => "hardening",
        }
    }
}

/// One rule: its metadata and its check.
pub struct Rule {
    /// Stable id, never reused: `BO001`.
    pub id: &'static str,
    /// Kebab-case name: `mutable-image-tag`.
    pub name: &'static str,
    pub family: Family,
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// One line: how to fix, shown as `help:` under each finding.
    pub help: &'static str,
    /// Markdown: why (with the article's reasoning), how to fix, a bad and
    /// a good example. `guard explain` and the `rules/` catalogue show it.
    pub explanation: &'static str,
    /// CVSS-like 0.0-10.0 score GitHub code scanning uses to rank alerts.
    pub security_severity: &'static str,
    pub tags: &'static [&'static str],
    /// The check. `None` for diagnostics raised outside the rule pass
    /// (parse errors are reported by the parsers).
    pub check: Option<fn(&Model, &mut Vec<Finding>)>,
    /// Severity by the tier of the environments a finding holds in (the
    /// hardening baseline: strict in prod, quiet in dev). `None`: the rule's
    /// `severity` everywhere.
    pub tiers: Option<TierSeverity>,
}

/// A rule's severity per environment tier. A finding takes the severity of
/// the strictest tier it holds in (all environments: prod's); in dev only,
/// `dev: None` drops it. guard.toml's `[rules.ID] severity` overrides all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierSeverity {
    pub dev: Option<Severity>,
    pub staging: Severity,
    pub prod: Severity,
}

impl TierSeverity {
    /// Error in prod, warning in staging, note in dev.
    pub const STRICT_IN_PROD: TierSeverity = TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Error,
    };

    /// The severity of a finding that holds in `envs` (empty: everywhere);
    /// `None` to drop it.
    pub fn for_envs(&self, envs: &[crate::env::Env]) -> Option<Severity> {
        use crate::env::Tier;
        if envs.is_empty() {
            return Some(self.prod);
        }
        envs.iter()
            .filter_map(|e| match e.tier() {
                Tier::Prod => Some(self.prod),
                Tier::Staging => Some(self.staging),
                Tier::Dev => self.dev,
            })
            .max()
    }
}

impl Rule {
    /// Start a finding of this rule at its default severity.
    pub fn finding(&self, span: crate::source::Span, message: String) -> Finding {
        Finding::new(self.id, self.severity, span, message)
    }

    /// The rule could not decide here: `subject` is what it could not
    /// judge, `why` the reason (one of a few fixed phrases, so that they
    /// count). A note with `--strict`, else only counted.
    pub fn undecided(
        &self,
        span: crate::source::Span,
        subject: String,
        why: &'static str,
    ) -> Finding {
        let mut f = Finding::new(
            self.id,
            Severity::Note,
            span,
            format!("could not decide whether {subject}: {why}"),
        );
        f.undecided = Some(why);
        f
    }
}

/// Why a rule could not decide: a value Terraform only knows after apply.
pub const UNKNOWN_VALUE: &str = "the value is not known statically (a data source, another resource's attribute, or a module guard could not read)";

/// The rules the loaded policies add (see [`register`]).
static REGISTERED: std::sync::RwLock<Option<&'static [&'static Rule]>> =
    std::sync::RwLock::new(None);

/// Every rule, built-in and registered policy rules, in id order (cheap:
/// `find` and the suppression matcher call this per finding).
pub fn all() -> &'static [&'static Rule] {
    match REGISTERED.read() {
        Ok(g) => g.unwrap_or_else(builtin),
        Err(_) => builtin(),
    }
}

/// Add the rules of the project's policies to the registry (a rule with
/// the id of one registered before replaces it). Done once per check,
/// before the settings are resolved.
///
/// The registry hands out `&'static` rules, so a rule set lives as long as
/// the process; each distinct set is made once ([`Interned`]): checking the
/// same project again (a library user, the fuzzer) reuses it, and memory is
/// bounded by the distinct policies seen, not by the number of checks.
pub fn register(extra: &[&'static Rule]) {
    if extra.is_empty() {
        return;
    }
    let Ok(mut g) = REGISTERED.write() else {
        return;
    };
    let mut v: Vec<&'static Rule> = g.unwrap_or_else(builtin).to_vec();
    v.retain(|r| !extra.iter().any(|x| x.id == r.id));
    v.extend(extra.iter().copied());
    v.sort_by_key(|r| r.id);
    let mut interned = interned();
    // Rules are interned, so a set is known by its rules' addresses.
    let key: Vec<usize> = v
        .iter()
        .map(|r| std::ptr::from_ref::<Rule>(r) as usize)
        .collect();
    let set = match interned.sets.get(&key) {
        Some(set) => *set,
        None => {
            let set: &'static [&'static Rule] = Box::leak(v.into_boxed_slice());
            interned.sets.insert(key, set);
            set
        }
    };
    *g = Some(set);
}

/// A policy rule as the policy loader makes it, before it is interned.
pub struct PolicyRuleText {
    pub id: String,
    pub name: String,
    pub family: Family,
    pub severity: Severity,
    pub summary: String,
    pub help: String,
    pub explanation: String,
    pub security_severity: &'static str,
    pub tags: &'static [&'static str],
}

impl PolicyRuleText {
    fn same_as(&self, r: &Rule) -> bool {
        self.id == r.id
            && self.name == r.name
            && self.family == r.family
            && self.severity == r.severity
            && self.summary == r.summary
            && self.help == r.help
            && self.explanation == r.explanation
            && self.security_severity == r.security_severity
            && self.tags == r.tags
            && r.check.is_none()
            && r.tiers.is_none()
    }

    fn content_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::hash::DefaultHasher::new();
        (&self.id, &self.name, self.family, self.severity).hash(&mut h);
        (&self.summary, &self.help, &self.explanation).hash(&mut h);
        (self.security_severity, self.tags).hash(&mut h);
        h.finish()
    }
}

/// The policy rules and rule sets made so far: each once per process.
#[derive(Default)]
struct Interned {
    /// Policy rules by the hash of their content.
    rules: std::collections::HashMap<u64, Vec<&'static Rule>>,
    rule_count: usize,
    /// Registry contents by their rules' addresses.
    sets: std::collections::HashMap<Vec<usize>, &'static [&'static Rule]>,
}

fn interned() -> std::sync::MutexGuard<'static, Interned> {
    static INTERNED: std::sync::OnceLock<std::sync::Mutex<Interned>> = std::sync::OnceLock::new();
    INTERNED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The rule of a policy, made once per distinct content: a policy loaded
/// again gives the very same `&'static Rule`.
pub fn intern_policy_rule(text: PolicyRuleText) -> &'static Rule {
    let hash = text.content_hash();
    let mut interned = interned();
    if let Some(r) = interned
        .rules
        .get(&hash)
        .and_then(|b| b.iter().find(|r| text.same_as(r)))
    {
        return r;
    }
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let rule: &'static Rule = Box::leak(Box::new(Rule {
        id: leak(text.id),
        name: leak(text.name),
        family: text.family,
        severity: text.severity,
        summary: leak(text.summary),
        help: leak(text.help),
        explanation: leak(text.explanation),
        security_severity: text.security_severity,
        tags: text.tags,
        check: None,
        tiers: None,
    }));
    interned.rules.entry(hash).or_default().push(rule);
    interned.rule_count += 1;
    rule
}

/// How many policy rules and registry rule sets this process has made (and
/// keeps for its lifetime): bounded by the distinct policies loaded, not by
/// the number of checks.
pub fn interned_counts() -> (usize, usize) {
    let interned = interned();
    (interned.rule_count, interned.sets.len())
}

/// The built-in rules, in id order (built once).
pub fn builtin() -> &'static [&'static Rule] {
    static ALL: std::sync::OnceLock<Vec<&'static Rule>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<&'static Rule> = [
            input::RULES,
            aws_hardening::RULES,
            build_once::RULES,
            parity::RULES,
            pipeline::RULES,
            pod_security::RULES,
            public_db::RULES,
            regions::RULES,
            scp::RULES,
            secrets::RULES,
            traffic::RULES,
            workload::RULES,
        ]
        .iter()
        .flat_map(|r| r.iter().copied())
        .collect();
        v.sort_by_key(|r| r.id);
        v
    })
}

/// A rule by id (`BO001`) or name (`mutable-image-tag`), case-insensitive.
pub fn find(key: &str) -> Option<&'static Rule> {
    all()
        .iter()
        .copied()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

/// Run the enabled rules over the model, in parallel; order is fixed later
/// by sorting.
pub fn run(model: &Model, enabled: &(dyn Fn(&str) -> bool + Sync)) -> Vec<Finding> {
    use rayon::prelude::*;
    let mut found: Vec<Finding> = all()
        .par_iter()
        .filter(|r| enabled(r.id))
        .filter_map(|r| r.check.map(|c| (r, c)))
        .flat_map_iter(|(_, check)| {
            let mut out = Vec::new();
            check(model, &mut out);
            // A value that came from a Terragrunt dependency's mock outputs
            // is a placeholder for the other unit's real output: it decides
            // nothing.
            out.retain(|f| {
                !f.related
                    .iter()
                    .any(|r| r.flow && r.label.starts_with(crate::terragrunt::MOCK_HOP))
            });
            out
        })
        .collect();
    rendered::merge(model, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let rules = all();
        let mut ids = crate::hash::HashSet::default();
        let mut names = crate::hash::HashSet::default();
        for r in rules {
            assert!(ids.insert(r.id), "duplicate id {}", r.id);
            assert!(names.insert(r.name), "duplicate name {}", r.name);
            assert!(
                r.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                r.name
            );
            assert!(!r.summary.is_empty() && !r.summary.contains('\n'));
            assert!(!r.help.is_empty() && !r.help.contains('\n'));
            assert!(
                r.explanation.len() > 200,
                "{} needs a real explanation",
                r.id
            );
            r.security_severity
                .parse::<f32>()
                .expect("security_severity");
        }
        assert_eq!(find("bo001").map(|r| r.id), Some("BO001"));
        assert_eq!(find("mutable-image-tag").map(|r| r.id), Some("BO001"));
    }
}
