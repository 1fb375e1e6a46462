//! Suppression comments: arbitrary bytes (lossily decoded) scanned for
//! `guard:ignore` directives in every comment style (`suppress::scan`).
//! The first byte picks the style; the rest is the text (`guard:ignore` is
//! prepended when the text lacks it, so the scanner always runs).
//!
//! Invariants checked besides "no panic": every directive's span and rule
//! ranges lie inside the text on character boundaries, its line is >= 1,
//! and scanning the same text twice gives the same directives.
#![no_main]

use guard::suppress::scan::{Style, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let style = match sel % 4 {
        0 => Style::Hcl,
        1 => Style::Yaml,
        2 => Style::Dockerfile,
        _ => Style::Json,
    };
    let mut text = String::from_utf8_lossy(rest).into_owned();
    if !text.contains("guard:ignore") {
        text = format!("# guard:ignore{text}");
    }
    let found = scan(&text, style);
    for d in &found {
        assert!(d.line >= 1, "directive on line 0: {d:?}");
        for r in std::iter::once(&d.span).chain(d.rules.iter().map(|(_, r)| r)) {
            assert!(
                r.start <= r.end && r.end <= text.len(),
                "range {r:?} outside the text of {} bytes: {d:?}",
                text.len()
            );
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }
    assert_eq!(found, scan(&text, style), "scanning twice differs");
});
