//! Dockerfile parser: arbitrary bytes (lossily decoded) into
//! `parse::dockerfile::parse`, which never fails.
#![no_main]

use guard::source::{FileId, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let file = SourceFile::new(FileId(0), "Dockerfile".into(), "Dockerfile".into(), text);
    let node = guard::parse::dockerfile::parse(&file);
    std::hint::black_box(file.slice(node.span));
});
