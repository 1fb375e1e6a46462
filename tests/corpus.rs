//! guard over the real public repositories in `../shared/corpus`: no crash,
//! no hang, and no `parse-error` on files that are valid (the corpus holds
//! none that are invalid; Helm templates are recognised and skipped).
//! Skips, saying so, where the corpus is absent.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
fn corpus_runs_clean_of_crashes_and_false_parse_errors() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if !corpus.is_dir() {
        common::skip("corpus", &format!("{} not found", corpus.display()));
        return;
    }
    let run = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_guard"))
            .args(["check", "--format", "json", "--fail-on", "never"])
            .arg(&corpus)
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("guard runs")
    };
    let out = run("2");
    // Byte-for-byte the same output on one thread as on two.
    assert!(
        out.stdout == run("1").stdout,
        "output depends on the thread count"
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "guard failed on the corpus: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let findings = v["findings"].as_array().expect("findings");
    let parse_errors: Vec<String> = findings
        .iter()
        .filter(|f| f["rule"] == "GD001")
        .map(|f| format!("{} {}", f["location"]["path"], f["message"]))
        .collect();
    assert!(
        parse_errors.is_empty(),
        "false parse errors: {parse_errors:#?}"
    );
    // Eight real manifests repeat a mapping key: each is a warning, and the
    // rest of the document is still checked.
    let dup_files: std::collections::BTreeSet<&str> = findings
        .iter()
        .filter(|f| f["rule"] == "GD002")
        .filter_map(|f| f["location"]["path"].as_str())
        .collect();
    assert_eq!(dup_files.len(), 8, "{dup_files:#?}");
    assert!(v["summary"]["files"].as_u64().unwrap_or(0) > 2500);
    assert!(v["summary"]["templates_skipped"].as_u64().unwrap_or(0) > 50);
    // Some real findings, so the rules did run.
    assert!(findings.iter().any(|f| f["rule"] == "BO001"));
}
