//! The machine-readable outputs on a real run: SARIF validated against the
//! official SARIF 2.1.0 schema (offline) plus what GitHub code scanning
//! needs, the JSON schema of `docs/output.md`, and GitHub workflow commands.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A small repository: a prod Deployment running `nginx:latest` and a
/// ConfigMap holding a password, in a file whose name needs URI encoding.
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    // A root outside the current directory is shown under its own name.
    let root = dir.path().join("checkout");
    let prod = root.join("environments/prod");
    std::fs::create_dir_all(&prod).unwrap();
    std::fs::write(
        prod.join("deployment.yaml"),
        "apiVersion: apps/v1\n\
         kind: Deployment\n\
         metadata:\n  name: web\n\
         spec:\n\
         \x20 template:\n\
         \x20   spec:\n\
         \x20     containers:\n\
         \x20       - name: web\n\
         \x20         image: nginx:latest\n",
    )
    .unwrap();
    std::fs::write(
        prod.join("app config.yaml"),
        "apiVersion: v1\n\
         kind: ConfigMap\n\
         metadata:\n  name: app\n\
         data:\n\
         \x20 LOG_LEVEL: info\n\
         \x20 DB_PASSWORD: hunter2\n",
    )
    .unwrap();
    (dir, root)
}

fn report(root: PathBuf) -> guard::Report {
    guard::check(&guard::Options {
        paths: vec![root],
        excludes: vec![],
        ..Default::default()
    })
    .expect("guard::check")
}

/// The official schema, compiled so that it can never fetch anything: every
/// `$ref` in it is local, and the offline retriever refuses the rest.
fn sarif_validator() -> Option<jsonschema::Validator> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/schemas/sarif-schema-2.1.0.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            common::skip(
                "SARIF schema validation",
                &format!("cannot read {}: {e}", path.display()),
            );
            return None;
        }
    };
    let schema: Value = serde_json::from_str(&text).expect("the SARIF schema is JSON");
    // The OASIS schema declares draft-04 (`"$schema": ".../draft-04/schema#"`).
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .offline()
        .build(&schema)
        .expect("the SARIF schema compiles without network access");
    Some(validator)
}

fn schema_errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn sarif_is_valid_and_fit_for_code_scanning() {
    let (_dir, root) = fixture();
    let report = report(root);
    if report.findings.is_empty() {
        eprintln!(
            "note: the fixture produced no findings (parser or rules not ready?); validating anyway"
        );
    }
    check_sarif(&report);
}

/// Findings of every shape (environment, provenance chain, a non-ASCII
/// column, a multi-line span, an unregistered rule) on the fixture's files,
/// so the schema sees results even while the parsers produce none.
#[test]
fn synthetic_findings_give_valid_sarif() {
    use guard::finding::{Finding, Severity, locate_all};
    use guard::source::{FileId, SourceFile, SourceMap, Span};
    let deploy = "kind: Deployment\nspec:\n  image: caf\u{e9}/nginx:latest\n";
    let config = "kind: ConfigMap\ndata:\n  DB_PASSWORD: hunter2\n";
    let sources = SourceMap::new(vec![
        SourceFile::new(
            FileId(0),
            "environments/prod/app config.yaml".into(),
            "x".into(),
            config.into(),
        ),
        SourceFile::new(
            FileId(1),
            "environments/prod/deployment.yaml".into(),
            "y".into(),
            deploy.into(),
        ),
    ]);
    let img = deploy.find("latest").unwrap();
    let pw = config.find("DB_PASSWORD").unwrap();
    let findings = vec![
        Finding::new(
            "BO001",
            Severity::Error,
            Span::new(FileId(1), img, img + 6),
            "mutable tag `latest`".into(),
        )
        .env(guard::env::EnvSet::builtin().named("prod"))
        .flow(Span::new(FileId(0), 0, 15), "first hop")
        .flow(Span::new(FileId(1), 0, 4), "second hop"),
        Finding::new(
            "SEC001",
            Severity::Warning,
            Span::new(FileId(0), pw, pw + 11),
            "secret-like key".into(),
        ),
        Finding::new(
            "GD001",
            Severity::Note,
            Span::new(FileId(0), 0, config.len()),
            "whole file".into(),
        ),
        Finding::new(
            "ZZ999",
            Severity::Note,
            Span::new(FileId(1), 0, 0),
            "empty span, unknown rule".into(),
        ),
    ];
    let located = locate_all(findings, &sources, |id| {
        guard::rules::find(id).map_or("unknown", |r| r.name)
    });
    let mut model = guard::model::build(&[], Vec::new(), &guard::env::EnvSet::builtin());
    model.sources = sources;
    let report = guard::Report {
        model,
        findings: located,
        walk: Default::default(),
        timings: Default::default(),
        files_in_scope: 0,
        warnings: Vec::new(),
        settings: guard::settings::Settings::defaults(),
        baselined: 0,
        baseline_fixed: 0,
        redactions: Vec::new(),
        policies: None,
        undecided: Vec::new(),
        scope_uris: None,
        over_cap: Vec::new(),
        gate: None,
    };
    let sarif = check_sarif(&report);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert!(results.iter().any(|r| {
        r["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .map(Vec::len)
            == Some(3)
    }));
    assert!(
        sarif
            .to_string()
            .contains("environments/prod/app%20config.yaml")
    );
}

/// Validate a report's SARIF and check what code scanning needs; returns it.
fn check_sarif(report: &guard::Report) -> Value {
    let text = guard::render::sarif::render(report);
    assert_eq!(text, guard::render::sarif::render(report), "deterministic");
    assert!(text.ends_with("}\n"));
    let sarif: Value = serde_json::from_str(&text).expect("SARIF is JSON");

    if let Some(validator) = sarif_validator() {
        let errors = schema_errors(&validator, &sarif);
        assert!(
            errors.is_empty(),
            "SARIF does not match the schema:\n{}",
            errors.join("\n")
        );
        // The validator really validates: a log without `version` fails.
        let mut broken = sarif.clone();
        broken.as_object_mut().unwrap().remove("version");
        assert!(
            !validator.is_valid(&broken),
            "the schema must reject a log without version"
        );
        // ... and it follows the `$ref`s down to regions: line 0 fails.
        let mut broken = sarif.clone();
        broken["runs"][0]["results"] = serde_json::json!([{
            "message": {"text": "m"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "a.yaml"},
                "region": {"startLine": 0}
            }}]
        }]);
        assert!(
            !validator.is_valid(&broken),
            "the schema must reject startLine 0"
        );
    }

    assert_eq!(sarif["version"], "2.1.0");
    let runs = sarif["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("driver.rules");
    let catalogue = guard::rules::all();
    assert!(rules.len() >= catalogue.len(), "every rule is described");
    for r in catalogue {
        assert!(
            rules.iter().any(|d| d["id"] == r.id),
            "{} missing from driver.rules",
            r.id
        );
    }
    for d in rules.iter().take(catalogue.len()) {
        let p = &d["properties"];
        // Diagnostics about the input (GD...) are not security alerts.
        let input = d["id"].as_str().unwrap().starts_with("GD");
        let security = p["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "security");
        assert_eq!(security, !input, "{}", d["id"]);
        if input {
            assert!(p.get("security-severity").is_none());
            continue;
        }
        let sev: f64 = p["security-severity"]
            .as_str()
            .expect("security-severity is a string")
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(d["help"]["markdown"].is_string() && d["help"]["text"].is_string());
    }

    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), report.findings.len());
    for (res, f) in results.iter().zip(&report.findings) {
        let id = res["ruleId"].as_str().expect("ruleId");
        assert_eq!(id, f.rule);
        let index = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], id, "ruleIndex points at ruleId");
        let fp = res["partialFingerprints"]["guard/v1"]
            .as_str()
            .expect("partialFingerprints");
        assert_eq!(fp, f.fingerprint);
        let locations = std::iter::once(&res["locations"][0])
            .chain(res["relatedLocations"].as_array().into_iter().flatten());
        for loc in locations {
            let phys = &loc["physicalLocation"];
            let uri = phys["artifactLocation"]["uri"].as_str().expect("uri");
            assert!(
                !uri.starts_with('/')
                    && !uri.contains("://")
                    && !uri.contains(' ')
                    && !uri.contains(':'),
                "uri must be relative and encoded: {uri}"
            );
            assert_eq!(phys["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            let region = &phys["region"];
            let n = |k: &str| region[k].as_u64().expect(k);
            assert!(n("startLine") >= 1 && n("startColumn") >= 1);
            assert!((n("endLine"), n("endColumn")) >= (n("startLine"), n("startColumn")));
        }
    }
    // A file name with a space is percent-encoded, never written raw.
    assert!(!text.contains("app config.yaml"));
    if report
        .findings
        .iter()
        .any(|f| f.location.path.ends_with("app config.yaml"))
    {
        assert!(text.contains("environments/prod/app%20config.yaml\""));
    }
    sarif
}

#[test]
fn json_has_the_documented_keys() {
    let (_dir, root) = fixture();
    let report = report(root);
    let text = guard::render::json::render(&report);
    assert!(text.ends_with("}\n"));
    assert_eq!(text, guard::render::json::render(&report), "deterministic");
    let v: Value = serde_json::from_str(&text).expect("JSON output parses");
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["findings", "summary", "terraform", "tool", "version"]
    );
    assert!(v["terraform"]["notes"].is_array());
    assert_eq!(v["version"], 2);
    assert_eq!(v["tool"]["name"], "guard");
    assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
    let summary = v["summary"].as_object().unwrap();
    let mut skeys: Vec<&str> = summary.keys().map(String::as_str).collect();
    skeys.sort_unstable();
    assert_eq!(
        skeys,
        [
            "baseline_fixed",
            "baselined",
            "documents",
            "errors",
            "files",
            "notes",
            "suppressed",
            "templates_skipped",
            "warnings"
        ]
    );
    assert_eq!(v["summary"]["files"], 2);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), report.findings.len());
    let total = ["errors", "warnings", "notes"]
        .iter()
        .map(|k| v["summary"][k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(total as usize, findings.len());
    for f in findings {
        let mut fkeys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        fkeys.sort_unstable();
        assert_eq!(
            fkeys,
            [
                "environments",
                "fingerprint",
                "help",
                "location",
                "message",
                "name",
                "related",
                "rule",
                "severity",
                "suppression"
            ]
        );
        assert!(["error", "warning", "note"].contains(&f["severity"].as_str().unwrap()));
        assert!(
            f["environments"].is_null()
                || f["environments"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string))
        );
        assert!(f["location"]["path"].is_string());
        for k in ["start", "end"] {
            assert!(f["location"][k]["line"].as_u64().unwrap() >= 1);
            assert!(f["location"][k]["column"].as_u64().unwrap() >= 1);
        }
        assert!(f["related"].is_array());
    }
    if !findings.is_empty() {
        let paths: Vec<&str> = findings
            .iter()
            .map(|f| f["location"]["path"].as_str().unwrap())
            .collect();
        assert!(
            paths
                .iter()
                .all(|p| p.starts_with("checkout/environments/prod/")),
            "{paths:?}"
        );
    }
}

#[test]
fn github_prints_one_command_per_finding() {
    let (_dir, root) = fixture();
    let report = report(root);
    let text = guard::render::github::render(&report);
    assert_eq!(text.lines().count(), report.findings.len());
    for line in text.lines() {
        assert!(
            line.starts_with("::error file=")
                || line.starts_with("::warning file=")
                || line.starts_with("::notice file="),
            "{line}"
        );
        // Relative to the project root, as GitHub resolves annotations.
        assert!(line.contains(" file=environments/prod/"), "{line}");
    }
}
