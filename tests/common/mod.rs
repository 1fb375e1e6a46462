//! Helpers shared by the end-to-end tests.

/// Text output with the run time of the summary line replaced by `<time>`,
/// so that snapshots compare what guard says, not how fast it said it.
pub fn untimed(s: &str) -> String {
    s.lines()
        .map(|l| match l.rfind(" in ") {
            Some(i) if l.ends_with(" ms") => format!("{} in <time>", &l[..i]),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
