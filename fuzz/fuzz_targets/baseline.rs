//! Baseline JSON: arbitrary bytes (lossily decoded) read by
//! `baseline::Baseline::parse`. A baseline that reads is written again
//! (`to_text`), and that text must read back to the same text: what guard
//! writes, it reads.
#![no_main]

use guard::baseline::Baseline;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(b) = Baseline::parse(&text, "fuzz.json") else {
        return;
    };
    let written = b.to_text();
    let again = Baseline::parse(&written, "written.json")
        .unwrap_or_else(|e| panic!("guard cannot read the baseline it wrote: {e}\n{written}"));
    assert_eq!(written, again.to_text(), "writing a baseline twice differs");
});
