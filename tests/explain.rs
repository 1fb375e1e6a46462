//! `guard explain PLACE`: the findings at a file's line (reported there, or
//! whose chain passes there) or with a fingerprint, with the chain, the
//! evidence for their environments and their status.

mod common;

use common::{guard, stdout};

const HELM: &str = "fixtures/layouts/helm/fail/charts/shop";

#[test]
fn a_values_line_explains_the_rendered_finding_it_feeds() {
    let o = guard(&["explain", &format!("{HELM}/values-prod.yaml:4")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.starts_with(&format!(
            "{HELM}/values-prod.yaml:4 is a step of the chain of this finding:"
        )),
        "{out}"
    );
    assert!(out.contains("error[HD002]"), "{out}");
    // The chain, first to last, ends at the template line.
    let chain = out
        .split("How the value got there, first to last:\n")
        .nth(1)
        .unwrap_or_default();
    assert!(
        chain.starts_with(&format!(
            "  1. {HELM}/values-prod.yaml:4:15  set in the chart's values\n  2. {HELM}/templates/deployment.yaml:37:13  reported here\n"
        )),
        "{out}"
    );
    // Why prod: the rendering, and only the prod one.
    assert!(out.contains("Holds in: prod\n"), "{out}");
    assert!(
        out.contains("the chart charts/shop rendered with values-prod.yaml -> prod"),
        "{out}"
    );
    assert!(!out.contains("values-staging.yaml"), "{out}");
    assert!(out.contains("Status: counts: an error"), "{out}");
    assert!(out.contains("guard:ignore[HD002]"), "{out}");
    // The other finding of the file (SEC002 at line 27) is not this place's.
    assert!(!out.contains("SEC002"), "{out}");
}

#[test]
fn a_secret_is_never_printed_when_its_finding_is_explained() {
    for format in ["terminal", "json"] {
        let o = guard(&[
            "explain",
            &format!("{HELM}/values-prod.yaml:6"),
            "--format",
            format,
        ]);
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(out.contains("SEC002"), "{out}");
        assert!(!out.contains("Wq8-kz2Lp7-Rv4m"), "{format}: {out}");
    }
}

#[test]
fn a_terraform_finding_shows_the_variable_chain() {
    let o = guard(&[
        "explain",
        "fixtures/terraform/article-layout/modules/rds/main.tf:5",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let items = v["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{v:#}");
    let item = &items[0];
    assert_eq!(item["matched"], "step");
    assert_eq!(item["finding"]["rule"], "DB001");
    assert_eq!(
        item["finding"]["location"]["path"],
        "fixtures/terraform/article-layout/environments/prod/terraform.tfvars"
    );
    assert_eq!(item["finding"]["environments"][0], "prod");
    let evidence = item["evidence"].as_array().cloned().unwrap_or_default();
    assert!(
        evidence.iter().any(|e| e["environment"] == "prod"
            && e["what"]
                .as_str()
                .is_some_and(|w| w.contains("terraform.tfvars"))),
        "{v:#}"
    );
}

#[test]
fn a_fingerprint_from_the_json_output_finds_its_finding() {
    let dir = "fixtures/layouts/argocd-git/fail";
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", ".", "--format", "json"])
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .output()
        .expect("guard runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let fp = v["findings"][0]["fingerprint"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(fp.len(), 32, "{v:#}");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["explain", &fp])
        .current_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
        .output()
        .expect("guard runs");
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains(&format!("Fingerprint: {fp}\n")), "{out}");
    assert!(
        out.contains("rendered with Argo CD ApplicationSet `shop-prod`"),
        "{out}"
    );
}

#[test]
fn no_finding_at_a_place_says_where_the_file_has_some() {
    let o = guard(&["explain", &format!("{HELM}/templates/deployment.yaml:1")]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no finding at") && err.contains("this file has findings at lines 27, 37"),
        "{err}"
    );
    let o = guard(&["explain", "fixtures/no/such/file.yaml:3"]);
    assert_eq!(o.status.code(), Some(2));
    // A rule still explains as before.
    let o = guard(&["explain", "HD002"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("privileged"));
}
