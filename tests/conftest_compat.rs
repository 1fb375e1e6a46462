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
