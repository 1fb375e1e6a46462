//! JSON/JSONC parser: arbitrary bytes (lossily decoded) into
//! `parse::json::parse_with_diags`.
#![no_main]

use guard::source::{FileId, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let file = SourceFile::new(FileId(0), "f.json".into(), "f.json".into(), text);
    let out = guard::parse::json::parse_with_diags(&file);
    for d in &out.diags {
        std::hint::black_box(file.line_col(d.span.start));
        std::hint::black_box(file.slice(d.span));
    }
    std::hint::black_box(out.root.is_some());
});
