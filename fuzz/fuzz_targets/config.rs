//! guard.toml: arbitrary bytes (lossily decoded) parsed and validated by
//! `config::Config::parse`, with the rule keys guard knows.
//!
//! Invariants checked besides "no panic": every error is located on a line
//! and column >= 1 with a span inside the text, and every `[[ignore]]`
//! entry's span is inside the text on character boundaries.
#![no_main]

use guard::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    match Config::parse(&text, &guard::suppress::key_known) {
        Ok(config) => {
            for e in &config.ignores {
                assert!(e.span.start <= e.span.end && e.span.end <= text.len());
                assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
                std::hint::black_box(config.line_col(e.span.start));
            }
            std::hint::black_box(config.environment_names());
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "an error result without an error");
            for e in &errors {
                assert!(e.line >= 1 && e.column >= 1, "unlocated error: {e}");
                assert!(
                    e.span.start <= e.span.end && e.span.end <= text.len(),
                    "error span {:?} outside the text of {} bytes: {e}",
                    e.span,
                    text.len()
                );
                std::hint::black_box(e.to_string());
            }
        }
    }
});
