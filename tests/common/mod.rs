//! Helpers shared by the end-to-end tests.

/// Text output with the run time of the summary line replaced by `<time>`,
/// so that snapshots compare what guard says, not how fast it said it.
#[allow(dead_code)]
pub fn untimed(s: &str) -> String {
    s.lines()
        .map(|l| match l.rfind(" in ") {
            Some(i) if l.ends_with(" ms") => format!("{} in <time>", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Skip a test that needs something this machine lacks (`../shared`,
/// `terraform`, `kubectl`), saying so where it is seen: the line is written
/// straight to standard error, which the test harness does not capture, so
/// it shows in the normal `cargo test` output. With `GUARD_REQUIRE_ALL=1`
/// (CI sets it) a skip is a failure instead.
#[allow(dead_code)]
pub fn skip(test: &str, why: &str) {
    use std::io::Write as _;
    if std::env::var_os("GUARD_REQUIRE_ALL").is_some_and(|v| v == "1") {
        panic!("{test} cannot be skipped here (GUARD_REQUIRE_ALL=1): {why}");
    }
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}
