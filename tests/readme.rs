//! README claims a test can check, checked: the environments label of the
//! text output and the release binary's size. (The rule table's freshness
//! is `rules::catalog::tests::readme_rule_table_is_current`.)

mod common;

use common::{guard, stdout};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README")
}

/// README: "Text shows `note: environments: staging, prod`": the label the
/// text renderer prints under a finding that holds in several environments.
#[test]
fn the_environments_label_is_the_one_the_readme_shows() {
    let text = readme();
    let start = text
        .find("Text shows\n`")
        .or_else(|| text.find("Text shows `"));
    let claim = start
        .and_then(|i| text[i..].split('`').nth(1))
        .expect("README says what text shows for the environments");
    let (label, envs) = claim.rsplit_once(": ").expect("`label: envs`");
    assert_eq!(envs, "staging, prod", "{claim}");
    // DB001's module line is reached by dev, staging and prod.
    let o = guard(&["check", "fixtures/rules/DB001/fail", "--color", "never"]);
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("{label}: ")) && l.contains(", prod")),
        "README says `{claim}`; the text output has no `{label}: ` line:\n{out}"
    );
}

/// README "Performance": "the binary goes from 8.5 MB to X MB". Checked
/// against the release binary when one is built (beside the test binary's
/// target directory), within a quarter; otherwise skipped, saying so (a
/// release build is minutes, not something a debug test run should do).
#[test]
fn the_release_binary_size_is_the_one_the_readme_states() {
    let text = readme();
    let claim = text
        .split("the binary goes from ")
        .nth(1)
        .and_then(|r| r.split(" MB").nth(1))
        .and_then(|r| r.trim_start().strip_prefix("to "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .expect("README's Performance section states the release binary's size");
    // target/debug/guard -> target/release/guard
    let debug = std::path::Path::new(env!("CARGO_BIN_EXE_guard"));
    let release = debug
        .parent()
        .and_then(|d| d.parent())
        .map(|t| t.join("release").join(debug.file_name().unwrap()));
    let Some(size) = release
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
    else {
        // Not common::skip: CI's GUARD_REQUIRE_ALL must not demand a
        // release build of every test run.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the_release_binary_size_is_the_one_the_readme_states: no release binary at {} (cargo build --release builds it)",
            release.map(|p| p.display().to_string()).unwrap_or_default()
        );
        return;
    };
    let mb = size as f64 / 1e6;
    assert!(
        (mb - claim).abs() <= claim / 4.0,
        "README says the release binary is {claim} MB; it is {mb:.1} MB: update README's Performance section"
    );
}
