//! Conftest compatibility: each case of `tests/conftest_compat/cases.json` runs an unmodified
//! Conftest policy (from Conftest's `examples/`, or written for a parser behaviour) through
//! `guard check` and compares the failures, warnings and exceptions with what Conftest gives
//! (its acceptance tests' expectations, or its parsers' documented behaviour). Cases of formats
//! guard does not read are listed as `unsupported` and counted apart.

use std::path::Path;
use std::process::Command;

fn sorted(v: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|m| m.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn conftest_examples_give_conftests_results() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conftest_compat");
    let cases: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(root.join("cases.json")).expect("cases.json"),
    )
    .expect("cases.json is JSON");
    let mut agree = Vec::new();
    let mut differ = Vec::new();
    let mut known = Vec::new();
    let mut unsupported = 0;
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        if case.get("unsupported").is_some() {
            unsupported += 1;
            continue;
        }
        let args: Vec<&str> = case["args"]
            .as_array()
            .expect("args")
            .iter()
            .filter_map(|a| a.as_str())
            .collect();
        let o = Command::new(env!("CARGO_BIN_EXE_guard"))
            .args(["check", "--format", "json", "--fail-on", "never"])
            .args(args.iter().map(|a| if *a == "-p" { "--policy" } else { a }))
            .current_dir(&root)
            .env_remove("GUARD_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .expect("guard runs");
        let v: serde_json::Value = match serde_json::from_slice(&o.stdout) {
            Ok(v) => v,
            Err(_) => {
                let why = format!(
                    "{name}: guard exited {:?}: {}",
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr)
                );
                match case["differs"].as_str() {
                    Some(d) => known.push(format!("{name}: {d}")),
                    None => differ.push(why),
                }
                continue;
            }
        };
        let mut failures = Vec::new();
        let mut warnings = Vec::new();
        // The policies' findings (ids `package.rule`) and policy errors (GD008); not the
        // built-in rules'.
        for f in v["findings"].as_array().into_iter().flatten() {
            let rule = f["rule"].as_str().unwrap_or("");
            if !rule.contains('.') && rule != "GD008" {
                continue;
            }
            let m = format!(
                "{}{}",
                if rule == "GD008" { "GD008: " } else { "" },
                f["message"].as_str().unwrap_or("")
            );
            match f["severity"].as_str() {
                Some("error") => failures.push(m),
                _ => warnings.push(m),
            }
        }
        failures.sort();
        warnings.sort();
        let exceptions = v["summary"]["policies"]["exceptions"].as_u64().unwrap_or(0);
        let want = (
            sorted(&case["failures"]),
            sorted(&case["warnings"]),
            case["exceptions"].as_u64().unwrap_or(0),
        );
        let got = (failures, warnings, exceptions);
        if got == want {
            agree.push(name);
        } else if let Some(why) = case["differs"].as_str() {
            // A difference decided and documented in README.md: still counted as one.
            known.push(format!("{name}: {why}"));
        } else {
            differ.push(format!(
                "{name}: guard gives {got:?}; conftest gives {want:?}"
            ));
        }
    }
    let run = agree.len() + differ.len() + known.len();
    eprintln!(
        "conftest compatibility: {} of {run} cases agree ({unsupported} cases of formats guard does not read); decided differences:\n{}",
        agree.len(),
        known.join("\n")
    );
    assert!(
        differ.is_empty(),
        "cases that differ:\n{}",
        differ.join("\n")
    );
    assert!(run >= 18, "the suite lost cases: {run}");
}

/// `guard check --policy P FILE --format F` run in a fresh project: F's output.
fn formatted(format: &str, dir: &Path) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--select", "policy", "--format", format])
        .args(["--policy", "policy", "deploy.yaml"])
        .current_dir(dir)
        .env_remove("GUARD_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("guard runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

fn format_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    std::fs::create_dir(p.join("policy")).expect("mkdir");
    std::fs::write(
        p.join("policy/p.rego"),
        "package main\n\nimport rego.v1\n\n\
         deny contains \"a <b> & \\\"c\\\" 'd'\\nsecond line\" if input.kind == \"Deployment\"\n\n\
         warn contains \"no replicas\" if not input.spec.replicas\n",
    )
    .expect("policy");
    std::fs::write(
        p.join("deploy.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec: {}\n",
    )
    .expect("input");
    std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(p)
        .status()
        .expect("git init");
    dir
}

#[test]
fn conftest_output_formats_tap_table_and_junit() {
    // Conftest's --output tap|table|junit (output/tap.go, output/table.go, output/junit.go):
    // one line, row or test case per result, failures before warnings; guard adds the place
    // (file:line:col) and the rule to each.
    let dir = format_project();

    let (code, tap) = formatted("tap", dir.path());
    assert_eq!(code, Some(1), "{tap}");
    assert_eq!(
        tap,
        "1..2\n\
         not ok 1 - deploy.yaml:2:7 - main.deny - a <b> & \"c\" 'd'\\u{a}second line\n\
         # warnings\n\
         not ok 2 - deploy.yaml:2:7 - main.warn - no replicas\n"
    );

    let (_, table) = formatted("table", dir.path());
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("| RESULT  | FILE            | RULE      | MESSAGE"),
        "{table}"
    );
    assert!(
        lines[2].starts_with("| failure | deploy.yaml:2:7 | main.deny | a <b>"),
        "{table}"
    );
    assert!(
        lines[3].starts_with("| warning | deploy.yaml:2:7 | main.warn | no replicas"),
        "{table}"
    );
    // Every row as wide as the header.
    assert!(
        lines
            .iter()
            .all(|l| l.chars().count() == lines[0].chars().count()),
        "{table}"
    );

    let (_, junit) = formatted("junit", dir.path());
    let doc = roxmltree::Document::parse(&junit).unwrap_or_else(|e| panic!("{e}: {junit}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("2"));
    let cases: Vec<(String, String, String)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            let failure = n
                .children()
                .find(|c| c.has_tag_name("failure"))
                .expect("a failure per finding");
            (
                n.attribute("name").unwrap_or("").to_string(),
                failure.attribute("type").unwrap_or("").to_string(),
                failure.text().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(cases.len(), 2, "{junit}");
    // guard writes a message's line break as `\u{a}` (as every format does).
    assert_eq!(
        cases[0].0,
        "deploy.yaml:2:7 - a <b> & \"c\" 'd'\\u{a}second line"
    );
    assert_eq!(cases[0].1, "error");
    assert!(
        cases[0].2.starts_with(
            "deploy.yaml:2:7: error main.deny: a <b> & \"c\" 'd'\\u{a}second line\nhelp: "
        ),
        "{junit}"
    );
    assert_eq!(cases[1].0, "deploy.yaml:2:7 - no replicas");
    assert_eq!(cases[1].1, "warning");

    // No finding: an empty table, TAP's empty plan, JUnit with no test case.
    std::fs::write(
        dir.path().join("deploy.yaml"),
        "kind: Service\nspec:\n  replicas: 1\n",
    )
    .expect("input");
    assert_eq!(formatted("table", dir.path()), (Some(0), String::new()));
    assert_eq!(
        formatted("tap", dir.path()),
        (Some(0), "1..0\n".to_string())
    );
    let (_, junit) = formatted("junit", dir.path());
    let doc = roxmltree::Document::parse(&junit).unwrap_or_else(|e| panic!("{e}: {junit}"));
    assert_eq!(doc.root_element().attribute("tests"), Some("0"));
}
