//! Containers Terraform declares without a manifest: an ECS task whose
//! `container_definitions` is rendered by `templatefile()` (with `%{ for }`
//! over the environment) and a `kubernetes_deployment_v1`
//! (`fixtures/layouts/tf-containers/{fail,pass}`): their images and
//! environment variables reach the build-once and secrets rules.

use std::process::Command;

fn concise(dir: &str) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", dir, "--format", "concise", "-q"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("guard runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn templatefile_tasks_and_terraform_deployments_are_checked() {
    let (code, out) = concise("fixtures/layouts/tf-containers/fail");
    assert_eq!(code, Some(1), "{out}");
    insta::assert_snapshot!("tf-containers-fail", out);
    let (code, out) = concise("fixtures/layouts/tf-containers/pass");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.trim().is_empty(), "{out}");
}
