//! SARIF 2.1.0 for GitHub code scanning (`--format sarif`).
//!
//! One run. `tool.driver.rules` lists every built-in rule (not only those
//! with results), so code scanning can show a rule's help for any alert and
//! `ruleIndex` is stable across runs. Paths are relative URIs against the
//! `%SRCROOT%` base, which carries no absolute URI on purpose: the output is
//! byte-for-byte the same on every machine. See `docs/output.md`.

use serde::Serialize;

use crate::Report;
use crate::finding::{Located, Severity};
use crate::rules::{self, Rule};
use crate::source::Location;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The base every artifact URI is relative to.
pub const SRCROOT: &str = "%SRCROOT%";
/// The key of `partialFingerprints` (the serialised field below must match).
pub const FINGERPRINT_KEY: &str = "guard/v1";

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    original_uri_base_ids: BaseIds,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    semantic_version: &'static str,
    rules: Vec<Descriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<Help>,
    /// The rule's catalogue page, when the package names its repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_configuration: Option<Configuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<RuleProperties>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
    /// Only for guardrails: diagnostics about the input are not security
    /// alerts.
    #[serde(rename = "security-severity", skip_serializing_if = "Option::is_none")]
    security_severity: Option<&'static str>,
    precision: &'static str,
    #[serde(rename = "problem.severity")]
    problem_severity: &'static str,
}

#[derive(Serialize)]
struct BaseIds {
    #[serde(rename = "%SRCROOT%")]
    srcroot: BaseId,
}

#[derive(Serialize)]
struct BaseId {
    description: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [SarifLocation<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<SarifLocation<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow<'a>>,
    partial_fingerprints: Fingerprints<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties>,
    /// A suppressed finding: code scanning shows it as dismissed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<SarifSuppression<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifSuppression<'a> {
    /// `inSource` (a `guard:ignore` comment) or `external` (guard.toml).
    kind: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<&'a str>,
    location: SarifLocation<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: Physical,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<TextRef<'a>>,
}

#[derive(Serialize)]
struct TextRef<'a> {
    text: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Artifact {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow<'a> {
    thread_flows: [ThreadFlow<'a>; 1],
}

#[derive(Serialize)]
struct ThreadFlow<'a> {
    locations: Vec<ThreadFlowLocation<'a>>,
}

#[derive(Serialize)]
struct ThreadFlowLocation<'a> {
    location: SarifLocation<'a>,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "guard/v1")]
    guard_v1: &'a str,
}

#[derive(Serialize)]
struct ResultProperties {
    environments: Vec<&'static str>,
}

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// GitHub's `problem.severity` of a severity.
pub fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "recommendation",
    }
}

/// `<repository>/blob/main/rules/<ID>.md`, from Cargo.toml's `repository`
/// (none is invented when it is not set).
fn help_uri(id: &str) -> Option<String> {
    let repo = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    (!repo.is_empty()).then(|| format!("{repo}/blob/main/rules/{id}.md"))
}

fn descriptor(r: &Rule) -> Descriptor {
    // "security" makes GitHub treat the alert as a security alert and use
    // security-severity: every guardrail is one; a diagnostic about the
    // input (a parse error, a suppression without a reason) is not.
    let input = r.family == crate::rules::Family::Input;
    let mut tags = if input {
        vec![r.family.as_str()]
    } else {
        vec!["security", r.family.as_str()]
    };
    for t in r.tags {
        if !tags.contains(t) {
            tags.push(t);
        }
    }
    Descriptor {
        id: r.id.to_string(),
        name: Some(r.name),
        short_description: Some(Text {
            text: r.summary.to_string(),
        }),
        full_description: Some(Text {
            text: format!(
                "{}. Fix: {}.",
                r.summary.trim_end_matches('.'),
                r.help.trim_end_matches('.')
            ),
        }),
        help: Some(Help {
            text: markdown_to_text(r.explanation),
            markdown: r.explanation,
        }),
        help_uri: help_uri(r.id),
        default_configuration: Some(Configuration {
            level: level(r.severity),
        }),
        properties: Some(RuleProperties {
            tags,
            security_severity: (!input).then_some(r.security_severity),
            precision: "high",
            problem_severity: problem_severity(r.severity),
        }),
    }
}

/// A descriptor for a rule id that is not in the registry (it should not
/// happen, but every result must point at a rule): its id and nothing we
/// cannot fill truthfully.
fn bare_descriptor(id: &str) -> Descriptor {
    Descriptor {
        id: id.to_string(),
        name: None,
        short_description: None,
        full_description: None,
        help: None,
        help_uri: None,
        default_configuration: None,
        properties: None,
    }
}

pub fn render(report: &Report) -> String {
    let catalogue = rules::all();
    let mut descriptors: Vec<Descriptor> = catalogue.iter().map(|r| descriptor(r)).collect();
    let mut ids: Vec<String> = catalogue.iter().map(|r| r.id.to_string()).collect();
    // Result rule ids the registry does not know, in sorted order so the
    // output does not depend on the findings' order.
    let mut unknown: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.rule)
        .filter(|id| !ids.iter().any(|k| k == id))
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    for id in unknown {
        descriptors.push(bare_descriptor(id));
        ids.push(id.to_string());
    }
    let results = report
        .findings
        .iter()
        .map(|f| {
            let index = ids.iter().position(|k| k == f.rule).unwrap_or(0);
            result(f, index)
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "guard",
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: descriptors,
                },
            },
            original_uri_base_ids: BaseIds {
                srcroot: BaseId {
                    description: Text {
                        text: "The git work tree holding the project guard checked (else the project root)".to_string(),
                    },
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    // Serialising these plain structs cannot fail.
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

fn result(f: &Located, rule_index: usize) -> SarifResult<'_> {
    let text = match f.env_label() {
        Some(envs) => format!("{} [environment: {envs}]", f.message),
        None => f.message.clone(),
    };
    let related: Vec<SarifLocation<'_>> = f
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| SarifLocation {
            id: Some(i + 1),
            physical_location: physical(&r.location),
            message: Some(TextRef { text: &r.label }),
        })
        .collect();
    // Provenance steps (not context such as "declared here") form a code
    // flow ending at the primary location.
    let code_flows = if !f.related.iter().any(|r| r.flow) {
        Vec::new()
    } else {
        let mut steps: Vec<ThreadFlowLocation<'_>> = f
            .related
            .iter()
            .filter(|r| r.flow)
            .map(|r| ThreadFlowLocation {
                location: SarifLocation {
                    id: None,
                    physical_location: physical(&r.location),
                    message: Some(TextRef { text: &r.label }),
                },
            })
            .collect();
        steps.push(ThreadFlowLocation {
            location: SarifLocation {
                id: None,
                physical_location: physical(&f.location),
                message: Some(TextRef { text: &f.message }),
            },
        });
        vec![CodeFlow {
            thread_flows: [ThreadFlow { locations: steps }],
        }]
    };
    SarifResult {
        rule_id: f.rule,
        rule_index,
        level: level(f.severity),
        message: Text { text },
        locations: [SarifLocation {
            id: None,
            physical_location: physical(&f.location),
            message: None,
        }],
        related_locations: related,
        code_flows,
        partial_fingerprints: Fingerprints {
            guard_v1: &f.fingerprint,
        },
        properties: (!f.envs.is_empty()).then(|| ResultProperties {
            environments: f.envs.iter().map(|e| e.as_str()).collect(),
        }),
        suppressions: f
            .suppressed
            .iter()
            .map(|s| SarifSuppression {
                kind: match s.kind {
                    crate::finding::SuppressionKind::InSource => "inSource",
                    crate::finding::SuppressionKind::External => "external",
                },
                status: "accepted",
                justification: s.reason.as_deref(),
                location: SarifLocation {
                    id: None,
                    physical_location: physical(&s.location),
                    message: None,
                },
            })
            .collect(),
    }
}

fn physical(l: &Location) -> Physical {
    Physical {
        artifact_location: Artifact {
            uri: relative_uri(&l.uri),
            uri_base_id: SRCROOT,
        },
        region: region(l),
    }
}

/// A SARIF region from a location: lines and columns at least 1, the end
/// never before the start. `Location.end` is the position just past the
/// span, which is what SARIF's exclusive `endColumn` means.
fn region(l: &Location) -> Region {
    let start_line = l.start.line.max(1);
    let start_column = l.start.column.max(1);
    let mut end_line = l.end.line.max(1);
    let mut end_column = l.end.column.max(1);
    if (end_line, end_column) < (start_line, start_column) {
        end_line = start_line;
        end_column = start_column;
    }
    Region {
        start_line,
        start_column,
        end_line,
        end_column,
    }
}

/// A relative URI reference for a `/`-separated relative path: every byte
/// but unreserved characters and `/` percent-encoded (spaces, `%`, `#`, `?`,
/// `:` and non-ASCII included), leading slashes dropped so the reference
/// can never be taken for an absolute path or a host.
pub fn relative_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.trim_start_matches('/');
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The Markdown of an explanation as plain text: code fences dropped and
/// their contents indented, heading marks, `**` and `*` emphasis removed,
/// links written as `text (url)`. Inline code keeps its backticks.
pub fn markdown_to_text(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut in_code = false;
    for line in md.trim_end().lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            // A blank line before each block keeps adjacent blocks apart.
            if !in_code && !out.is_empty() && !out.ends_with("\n\n") {
                out.push('\n');
            }
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str("    ");
            out.push_str(line);
        } else {
            let body = match trimmed.strip_prefix('#') {
                Some(_) => trimmed.trim_start_matches('#').trim_start(),
                None => line,
            };
            out.push_str(&inline_to_text(body));
        }
        out.push('\n');
    }
    out
}

fn inline_to_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let indent = chars.iter().take_while(|c| c.is_whitespace()).count();
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            in_code = !in_code;
            out.push(c);
            i += 1;
            continue;
        }
        if in_code {
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '*' => {
                let run = chars[i..].iter().take_while(|&&c| c == '*').count();
                let prev = i.checked_sub(1).map(|j| chars[j]);
                let next = chars.get(i + run).copied();
                let blank = |c: Option<char>| c.is_none_or(char::is_whitespace);
                let bullet = i == indent && run == 1 && next == Some(' ');
                // Emphasis delimiters touch a word on exactly one side;
                // `a * b` and a `* ` bullet stay.
                if bullet || (blank(prev) && blank(next)) {
                    out.extend(&chars[i..i + run]);
                }
                i += run;
            }
            '[' => match link_at(&chars, i) {
                Some((text, url, len)) => {
                    out.push_str(&format!("{text} ({url})"));
                    i += len;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            },
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// `[text](url)` at `chars[i]`: the text, the url and the length consumed.
fn link_at(chars: &[char], i: usize) -> Option<(String, String, usize)> {
    let close = i + chars[i..].iter().position(|&c| c == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = close + 1 + chars[close + 1..].iter().position(|&c| c == ')')?;
    let text: String = chars[i + 1..close].iter().collect();
    let url: String = chars[close + 2..end].iter().collect();
    Some((text, url, end + 1 - i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Finding;
    use crate::render::json::test_report;
    use crate::source::{FileId, LineCol, Span};
    use serde_json::Value;

    const DEPLOY: &str = "kind: Deployment\nspec:\n  image: nginx:latest # café\n";

    fn sample() -> Report {
        let at = DEPLOY.find("nginx").unwrap();
        test_report(
            &[
                ("k8s/my app.yaml", DEPLOY),
                ("prod.tfvars", "tag = \"latest\"\n"),
            ],
            vec![
                Finding::new(
                    "BO001",
                    Severity::Error,
                    Span::new(FileId(0), at, at + "nginx:latest".len()),
                    "image `nginx:latest` uses the mutable tag `latest`".into(),
                )
                .env(crate::env::EnvSet::builtin().named("prod"))
                .flow(Span::new(FileId(1), 6, 14), "tag set here")
                .flow(Span::new(FileId(0), 0, 4), "in this Deployment"),
                Finding::new(
                    "SEC001",
                    Severity::Note,
                    Span::new(FileId(0), 0, 4),
                    "looks like a secret".into(),
                ),
                Finding::new(
                    "XX001",
                    Severity::Warning,
                    Span::new(FileId(1), 0, 3),
                    "from an unregistered rule".into(),
                ),
            ],
        )
    }

    fn parsed(r: &Report) -> Value {
        serde_json::from_str(&render(r)).unwrap()
    }

    #[test]
    fn levels() {
        assert_eq!(level(Severity::Error), "error");
        assert_eq!(level(Severity::Warning), "warning");
        assert_eq!(level(Severity::Note), "note");
        assert_eq!(problem_severity(Severity::Note), "recommendation");
        let v = parsed(&sample());
        let results = v["runs"][0]["results"].as_array().unwrap();
        let levels: Vec<&str> = results
            .iter()
            .map(|r| r["level"].as_str().unwrap())
            .collect();
        // Sorted by path then position: k8s/my app.yaml 1:1 (SEC001), 3:10 (BO001), prod.tfvars.
        assert_eq!(levels, ["note", "error", "warning"]);
    }

    #[test]
    fn header_and_run() {
        let v = parsed(&sample());
        assert_eq!(v["$schema"], SCHEMA_URI);
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"].as_array().unwrap().len(), 1);
        let run = &v["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        assert_eq!(run["tool"]["driver"]["name"], "guard");
        assert_eq!(
            run["tool"]["driver"]["semanticVersion"],
            env!("CARGO_PKG_VERSION")
        );
        let base = &run["originalUriBaseIds"]["%SRCROOT%"];
        assert!(base["description"]["text"].is_string());
        assert!(
            base.get("uri").is_none(),
            "no machine-specific absolute uri"
        );
    }

    #[test]
    fn every_rule_is_described_and_rule_indexes_match() {
        let v = parsed(&sample());
        let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
        let catalogue = rules::all();
        assert_eq!(rules.len(), catalogue.len() + 1, "catalogue plus XX001");
        for (d, r) in rules.iter().zip(catalogue) {
            assert_eq!(d["id"], r.id);
            assert_eq!(d["name"], r.name);
            assert_eq!(d["shortDescription"]["text"], r.summary);
            assert!(
                d["fullDescription"]["text"]
                    .as_str()
                    .unwrap()
                    .contains(r.help)
            );
            assert_eq!(d["help"]["markdown"], r.explanation);
            assert!(!d["help"]["text"].as_str().unwrap().contains("```"));
            assert_eq!(d["defaultConfiguration"]["level"], level(r.severity));
            let p = &d["properties"];
            let input = r.family == crate::rules::Family::Input;
            if input {
                assert!(p.get("security-severity").is_none(), "{}", r.id);
            } else {
                assert_eq!(p["security-severity"], r.security_severity);
            }
            assert_eq!(p["precision"], "high");
            assert_eq!(p["problem.severity"], problem_severity(r.severity));
            let tags: Vec<&str> = p["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(tags.contains(&"security"), !input, "{}", r.id);
            assert!(tags.contains(&r.family.as_str()));
            for t in r.tags {
                assert!(tags.contains(t));
            }
        }
        assert_eq!(rules.last().unwrap(), &serde_json::json!({"id": "XX001"}));
        for res in v["runs"][0]["results"].as_array().unwrap() {
            let i = res["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[i]["id"], res["ruleId"]);
        }
    }

    #[test]
    fn results_carry_relative_uris_regions_fingerprints_and_flows() {
        let r = sample();
        let v = parsed(&r);
        let res = &v["runs"][0]["results"][1];
        assert_eq!(res["ruleId"], "BO001");
        assert_eq!(
            res["message"]["text"],
            "image `nginx:latest` uses the mutable tag `latest` [environment: prod]"
        );
        assert_eq!(
            res["properties"]["environments"],
            serde_json::json!(["prod"])
        );
        let loc = &res["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "k8s/my%20app.yaml");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(
            loc["region"],
            serde_json::json!({"startLine": 3, "startColumn": 10, "endLine": 3, "endColumn": 22})
        );
        assert_eq!(
            res["partialFingerprints"][FINGERPRINT_KEY],
            r.findings[1].fingerprint.as_str()
        );
        let related = res["relatedLocations"].as_array().unwrap();
        assert_eq!(related.len(), 2);
        assert_eq!(related[0]["id"], 1);
        assert_eq!(related[0]["message"]["text"], "tag set here");
        assert_eq!(
            related[0]["physicalLocation"]["artifactLocation"]["uri"],
            "prod.tfvars"
        );
        let steps = res["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .unwrap();
        let labels: Vec<&str> = steps
            .iter()
            .map(|s| s["location"]["message"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            labels,
            [
                "tag set here",
                "in this Deployment",
                "image `nginx:latest` uses the mutable tag `latest`"
            ]
        );
        // Without related locations: neither relatedLocations nor codeFlows.
        let plain = &v["runs"][0]["results"][0];
        assert!(plain.get("relatedLocations").is_none());
        assert!(plain.get("codeFlows").is_none());
        assert!(plain.get("properties").is_none());
        assert_eq!(plain["message"]["text"], "looks like a secret");
        for res in v["runs"][0]["results"].as_array().unwrap() {
            let fp = res["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap();
            assert_eq!(fp.len(), 32);
        }
    }

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(relative_uri("a/b.yaml"), "a/b.yaml");
        assert_eq!(relative_uri("my dir/x y.yml"), "my%20dir/x%20y.yml");
        assert_eq!(relative_uri("c:d/100%#?.tf"), "c%3Ad/100%25%23%3F.tf");
        assert_eq!(relative_uri("café.yaml"), "caf%C3%A9.yaml");
        assert_eq!(relative_uri("/abs/x.tf"), "abs/x.tf");
        assert_eq!(relative_uri("//host/x.tf"), "host/x.tf");
        assert_eq!(relative_uri("win\\path.tf"), "win/path.tf");
    }

    #[test]
    fn regions_are_clamped() {
        let lc = |line, column| LineCol { line, column };
        let loc = |s, e| Location {
            path: "x".into(),
            uri: "x".into(),
            start: s,
            end: e,
        };
        assert_eq!(
            region(&loc(lc(0, 0), lc(0, 0))),
            Region {
                start_line: 1,
                start_column: 1,
                end_line: 1,
                end_column: 1
            }
        );
        assert_eq!(
            region(&loc(lc(2, 5), lc(2, 3))),
            Region {
                start_line: 2,
                start_column: 5,
                end_line: 2,
                end_column: 5
            }
        );
        assert_eq!(
            region(&loc(lc(2, 5), lc(3, 1))),
            Region {
                start_line: 2,
                start_column: 5,
                end_line: 3,
                end_column: 1
            }
        );
    }

    #[test]
    fn deterministic() {
        let a = sample();
        let mut b = sample();
        b.timings.total_micros = 42;
        assert_eq!(render(&a), render(&b));
        assert!(render(&a).ends_with("}\n"));
    }

    #[test]
    fn empty_report_still_lists_rules() {
        let v = parsed(&test_report(&[], vec![]));
        assert_eq!(v["runs"][0]["results"], serde_json::json!([]));
        assert_eq!(
            v["runs"][0]["tool"]["driver"]["rules"]
                .as_array()
                .unwrap()
                .len(),
            rules::all().len()
        );
    }

    #[test]
    fn markdown_becomes_plain_text() {
        let md = "**Why.** The *build once* rule, see [the docs](https://x.y/z).\n\
                  Keep `a*b` and 2 * 3.\n\n* a bullet\n\n## Heading\n```yaml\n# bad\nimage: app:latest\n```\n```yaml\n# good\n```\n";
        assert_eq!(
            markdown_to_text(md),
            "Why. The build once rule, see the docs (https://x.y/z).\n\
             Keep `a*b` and 2 * 3.\n\n* a bullet\n\nHeading\n\n    # bad\n    image: app:latest\n\n    # good\n"
        );
    }
}
