//! What guard needs to know about a Rego file before evaluating it: its
//! package, the rules it defines (with their lines) and the OPA
//! `# METADATA` annotations above them.
//!
//! The scan is textual: a rule head starts at the beginning of a line (as
//! `opa fmt` writes every policy), and an annotation is the comment block
//! that starts with `# METADATA` and ends at the next non-comment line.

/// One rule head in a policy file.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    pub name: String,
    /// 1-based line of the head.
    pub line: u32,
    /// The `# METADATA` annotation right above it, as JSON.
    pub meta: Option<serde_json::Value>,
}

/// The scan of one policy file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scanned {
    /// `main`, `guard.images` (without `data.`); empty when absent.
    pub package: String,
    pub package_line: u32,
    /// The package's own annotation (`scope: package`, or one written
    /// above the `package` line).
    pub package_meta: Option<serde_json::Value>,
    pub heads: Vec<Head>,
}

/// Words that start a line but are not rule names.
const KEYWORDS: [&str; 6] = ["package", "import", "else", "not", "some", "every"];

pub fn scan(text: &str) -> Scanned {
    let mut out = Scanned::default();
    let mut pending: Option<(Vec<String>, bool)> = None; // (annotation lines, still open)
    for (i, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if let Some(comment) = trimmed.strip_prefix('#') {
            if comment.trim() == "METADATA" {
                pending = Some((Vec::new(), true));
            } else if let Some((lines, open)) = &mut pending
                && *open
            {
                lines.push(comment.strip_prefix(' ').unwrap_or(comment).to_string());
            }
            continue;
        }
        if trimmed.is_empty() {
            if let Some((_, open)) = &mut pending {
                *open = false;
            }
            continue;
        }
        let meta = pending
            .take()
            .and_then(|(lines, _)| parse_meta(&lines.join("\n")));
        if line.starts_with([' ', '\t']) {
            continue;
        }
        if let Some(rest) = line.strip_prefix("package ") {
            out.package = rest
                .split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_end_matches(';')
                .to_string();
            out.package_line = line_no;
            out.package_meta = meta;
            continue;
        }
        let mut word = ident(line);
        if word == "default" {
            word = ident(line["default".len()..].trim_start());
        }
        if word.is_empty() || KEYWORDS.contains(&word) {
            continue;
        }
        // A package-scoped annotation written above a rule applies to the package.
        let meta = match meta {
            Some(m) if m.get("scope").and_then(|s| s.as_str()) == Some("package") => {
                out.package_meta = Some(m);
                None
            }
            m => m,
        };
        out.heads.push(Head {
            name: word.to_string(),
            line: line_no,
            meta,
        });
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_alphanumeric() || *c == '_') || (*i == 0 && c.is_ascii_digit()))
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// The annotation's YAML as JSON; `None` when it does not parse.
fn parse_meta(yaml: &str) -> Option<serde_json::Value> {
    let (docs, _) = super::yaml_documents("METADATA", yaml.to_string());
    docs.into_iter().next().filter(serde_json::Value::is_object)
}

/// Conftest's rule kinds: `deny`/`violation` (failures) and `warn`, each
/// with optional `_suffix`es.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Failure,
    Warning,
}

pub fn kind_of(name: &str) -> Option<Kind> {
    let suffix_ok = |rest: &str| {
        rest.is_empty()
            || (rest.starts_with('_')
                && rest[1..]
                    .split('_')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())))
    };
    for (prefix, kind) in [
        ("deny", Kind::Failure),
        ("violation", Kind::Failure),
        ("warn", Kind::Warning),
    ] {
        if let Some(rest) = name.strip_prefix(prefix)
            && suffix_ok(rest)
        {
            return Some(kind);
        }
    }
    None
}

/// The name an `exception` rule uses for a rule: without its kind prefix
/// (`deny_run_as_root` → `run_as_root`; `deny` → ``).
pub fn exception_name(name: &str) -> &str {
    for prefix in ["deny", "violation", "warn"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest.strip_prefix('_').unwrap_or(rest);
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_package_heads_and_metadata() {
        let text = "# METADATA\n# title: Labels\n# scope: package\npackage main\nimport rego.v1\n\n# METADATA\n# title: Needs an app label\n# custom:\n#   id: ORG001\n#   severity: warning\ndeny_missing_label contains msg if {\n  not input.metadata.labels.app\n  msg := \"x\"\n}\n\ndefault allow := false\n\nwarn[msg] {\n  true\n}\n";
        let s = scan(text);
        assert_eq!(s.package, "main");
        assert_eq!(s.package_line, 4);
        assert_eq!(
            s.package_meta.as_ref().and_then(|m| m["title"].as_str()),
            Some("Labels")
        );
        let names: Vec<(&str, u32)> = s.heads.iter().map(|h| (h.name.as_str(), h.line)).collect();
        assert_eq!(
            names,
            [("deny_missing_label", 12), ("allow", 17), ("warn", 19)]
        );
        let m = s.heads[0].meta.as_ref().expect("metadata");
        assert_eq!(m["custom"]["id"], "ORG001");
        assert_eq!(m["custom"]["severity"], "warning");
        assert!(s.heads[2].meta.is_none());
    }

    #[test]
    fn kinds_follow_conftest() {
        assert_eq!(kind_of("deny"), Some(Kind::Failure));
        assert_eq!(kind_of("deny_run_as_root"), Some(Kind::Failure));
        assert_eq!(kind_of("violation_x1"), Some(Kind::Failure));
        assert_eq!(kind_of("warn"), Some(Kind::Warning));
        assert_eq!(kind_of("denylist"), None);
        assert_eq!(kind_of("deny_"), None);
        assert_eq!(kind_of("warning"), None);
        assert_eq!(exception_name("deny_run_as_root"), "run_as_root");
        assert_eq!(exception_name("deny"), "");
    }
}
