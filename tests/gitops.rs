//! GitOps manifests as deployments (`fixtures/layouts/{argocd,flux}/{fail,pass}`): Argo CD
//! Applications (Helm parameters, value files, inline values, Kustomize image overrides), an
//! ApplicationSet's list generator expanded into one application per environment, and a Flux
//! HelmRelease rendered per environment by the Kustomize overlays that patch its values. Their
//! overrides reach the build-once and secrets rules at the line that decided them; the clean
//! twins are silent.

mod common;
use common::{guard, stdout};

fn concise(dir: &str) -> (Option<i32>, String) {
    let o = guard(&["check", dir, "--format", "concise", "-q"]);
    (o.status.code(), stdout(&o))
}

#[test]
fn argo_cd_applications_are_judged_per_environment() {
    let (code, out) = concise("fixtures/layouts/argocd/fail");
    assert_eq!(code, Some(1), "{out}");
    insta::assert_snapshot!("argocd-fail", out);
    let (code, out) = concise("fixtures/layouts/argocd/pass");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.trim().is_empty(), "{out}");
}

#[test]
fn an_application_set_element_is_the_decisive_line_with_the_template_on_the_chain() {
    let o = guard(&[
        "check",
        "fixtures/layouts/argocd/fail",
        "--format",
        "json",
        "--select",
        "BO001",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("workers-prod"))
        .expect("the prod element's finding");
    let at = |l: &serde_json::Value| {
        format!(
            "{}:{}",
            l["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("fixtures/layouts/argocd/fail/"),
            l["start"]["line"]
        )
    };
    assert_eq!(at(&f["location"]), "apps/workers.yaml:16", "{f:#}");
    assert_eq!(f["environments"], serde_json::json!(["prod"]));
    let chain: Vec<String> = f["related"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] == "flow")
        .map(|h| format!("{} {}", at(&h["location"]), h["label"].as_str().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            "apps/workers.yaml:29 the ApplicationSet template's `{{tag}}`",
            "apps/workers.yaml:28 Helm parameter `image.tag`",
            "charts/shop/values.yaml:3 repository `ghcr.io/acme/shop`",
        ],
        "{f:#}"
    );
}

#[test]
fn flux_helm_releases_are_rendered_by_their_overlays() {
    let (code, out) = concise("fixtures/layouts/flux/fail");
    assert_eq!(code, Some(1), "{out}");
    insta::assert_snapshot!("flux-fail", out);
    let (code, out) = concise("fixtures/layouts/flux/pass");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.trim().is_empty(), "{out}");
}

#[test]
fn guard_envs_lists_the_applications() {
    let out = stdout(&guard(&["envs", "fixtures/layouts/argocd/fail"]));
    let apps = out
        .split("GitOps applications")
        .nth(1)
        .expect("an applications section");
    insta::assert_snapshot!("argocd-envs", apps);
    let out = stdout(&guard(&["envs", "fixtures/layouts/flux/fail"]));
    assert!(
        out.contains("prod     Flux HelmRelease `shop` in apps/base/shop/release.yaml: chart `shop` (inline values); rendered by overlay `apps/production/kustomization.yaml`"),
        "{out}"
    );
}
