//! HCL parser: arbitrary bytes (lossily decoded) into `parse::hcl::parse_file`.
#![no_main]

use guard::source::{FileId, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let file = SourceFile::new(FileId(0), "main.tf".into(), "main.tf".into(), text);
    match guard::parse::hcl::parse_file(&file) {
        Ok(parsed) => {
            std::hint::black_box(parsed.body.len());
        }
        Err(d) => {
            std::hint::black_box(file.line_col(d.span.start));
            std::hint::black_box(file.slice(d.span));
        }
    }
});
