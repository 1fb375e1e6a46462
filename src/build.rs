//! Build script: whether regorus is guard's patched copy (`vendor/regorus`, through
//! `[patch.crates-io]`), which has the statement-level trace hook of `guard test --trace`, or
//! the published crate, which a build from the registry's sources (`cargo install guard-iac`)
//! uses since cargo does not publish `[patch]`. The patched copy says so through its `links`
//! metadata; the code is compiled with `cfg(regorus_trace)` then.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(regorus_trace)");
    println!("cargo::rerun-if-changed=src/build.rs");
    println!("cargo::rerun-if-env-changed=DEP_REGORUS_GUARD_PATCH_STATEMENT_TRACE");
    if std::env::var_os("DEP_REGORUS_GUARD_PATCH_STATEMENT_TRACE").is_some() {
        println!("cargo::rustc-cfg=regorus_trace");
    }
}
