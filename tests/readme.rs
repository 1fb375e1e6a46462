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
        .split("The\nrelease binary is ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<f64>().ok())
        .expect("README's Performance section states the release binary's size");
    // The binary of the release archives: what `.ci/release` builds with `dist build` for the
    // host (target/<host>/dist/guard), current whenever CI has run it.
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let built = std::fs::read_dir(&target).ok().and_then(|rd| {
        rd.flatten()
            .map(|e| e.path().join("dist").join("guard"))
            .find(|p| p.is_file())
    });
    let Some(size) = built
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
    else {
        // Not common::skip: a plain `cargo test` need not make release archives.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED the_release_binary_size_is_the_one_the_readme_states: no target/<host>/dist/guard (.ci/release builds it with dist build)"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs .ci/release before the tests: the dist binary must be there"
        );
        return;
    };
    let mb = size as f64 / 1e6;
    assert!(
        (mb - claim).abs() <= claim / 4.0,
        "README says the release binary is {claim} MB; it is {mb:.1} MB: update README's Performance section"
    );
}
