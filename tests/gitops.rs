//! GitOps manifests as deployments (`fixtures/layouts/{argocd,flux}/{fail,pass}`): Argo CD
//! Applications (Helm parameters, value files, inline values, Kustomize image overrides), an
//! ApplicationSet's list generator expanded into one application per environment, and a Flux
//! HelmRelease rendered per environment by the Kustomize overlays that patch its values. Their
//! overrides reach the build-once and secrets rules at the line that decided them; the clean
//! twins are silent.

mod common;
use common::{guard, stdout};

/// Write `text` at `path` below `root`, its directories made.
fn write_file(root: &std::path::Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `charts/shop`: a Deployment whose image tag is the value `tag` (`1.0` by default).
fn write_shop_chart(root: &std::path::Path) {
    write_file(
        root,
        "charts/shop/Chart.yaml",
        "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    );
    write_file(root, "charts/shop/values.yaml", "tag: \"1.0\"\n");
    write_file(
        root,
        "charts/shop/templates/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: shop\n          image: \"ghcr.io/acme/shop:{{ .Values.tag }}\"\n",
    );
}

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

/// A chart rendered per environment (`fixtures/layouts/helm`): prod's values make the container
/// privileged and write the database URL, password included, into a plain env var. Both are
/// found at the template line that prints them, in prod only, with the values line on the chain;
/// the secret is masked at that values line in every format; the clean twin is silent.
#[test]
fn a_chart_is_rendered_per_environment_and_judged_at_the_template_with_the_values_chain() {
    let (code, out) = concise("fixtures/layouts/helm/fail");
    assert_eq!(code, Some(1), "{out}");
    insta::assert_snapshot!("helm-fail", out);
    let (code, out) = concise("fixtures/layouts/helm/pass");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.trim().is_empty(), "{out}");

    let o = guard(&["check", "fixtures/layouts/helm/fail", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let chain = |rule: &str| -> (u64, Vec<(String, u64)>, Vec<String>) {
        let f = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} in {v}"));
        (
            f["location"]["start"]["line"].as_u64().unwrap(),
            f["related"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["location"]["path"].as_str().unwrap().to_string(),
                        r["location"]["start"]["line"].as_u64().unwrap(),
                    )
                })
                .collect(),
            f["environments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
                .collect(),
        )
    };
    let values = "fixtures/layouts/helm/fail/charts/shop/values-prod.yaml".to_string();
    assert_eq!(
        chain("HD002"),
        (37, vec![(values.clone(), 4)], vec!["prod".into()])
    );
    assert_eq!(
        chain("SEC002"),
        (27, vec![(values, 6)], vec!["prod".into()])
    );
    // One finding for the secret: the rendering's stands for SEC010's at the values line.
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "SEC010"),
        "{v}"
    );
    for format in ["text", "json", "sarif", "github"] {
        let o = guard(&["check", "fixtures/layouts/helm/fail", "--format", format]);
        let all = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
        assert!(!all.contains("Wq8-kz2Lp7"), "{format}: {all}");
    }
}

/// `guard envs` lists each chart's renderings: the environment, what decided it, what rendered.
#[test]
fn guard_envs_lists_the_rendered_charts() {
    let o = guard(&["envs", "fixtures/layouts/helm/fail"]);
    let out = stdout(&o);
    assert!(
        out.contains("staging  charts/shop with values-staging.yaml: 1 template, 1 object")
            && out.contains("prod     charts/shop with values-prod.yaml: 1 template, 1 object"),
        "{out}"
    );
    assert!(out.contains("helm template, rendered"), "{out}");
}

/// An ApplicationSet's git directory generator over this repository (`envs/*/shop`, with an
/// `exclude`) makes one application per directory; each renders the chart with its directory's
/// values file, so prod's `latest` tag is found at the template with prod's values line on the
/// chain; the excluded sandbox directory is no application; the clean twin is silent.
#[test]
fn a_git_directory_generator_over_this_repository_makes_one_application_per_directory() {
    let (code, out) = concise("fixtures/layouts/argocd-git/fail");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.lines().any(|l| l == "fixtures/layouts/argocd-git/fail/charts/shop/templates/deployment.yaml:11:18: BO001 image `ghcr.io/acme/shop:latest` of container `shop` of Deployment/shop-prod uses the mutable tag `latest` [prod]"),
        "{out}"
    );
    assert_eq!(out.matches("Deployment/shop-").count(), 1, "{out}");
    let o = guard(&[
        "check",
        "fixtures/layouts/argocd-git/fail",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let related: Vec<String> = v["findings"][0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r["location"]["path"].as_str().unwrap(),
                r["location"]["start"]["line"]
            )
        })
        .collect();
    assert!(
        related.contains(&"fixtures/layouts/argocd-git/fail/envs/prod/shop/values.yaml:2".into()),
        "{related:?}"
    );
    let (code, out) = concise("fixtures/layouts/argocd-git/pass");
    assert_eq!(code, Some(0), "{out}");
    let envs = stdout(&guard(&["envs", "fixtures/layouts/argocd-git/fail"]));
    assert!(
        envs.contains("prod     Argo CD ApplicationSet `shop-prod`"),
        "{envs}"
    );
    assert!(
        envs.contains("staging  Argo CD ApplicationSet `shop-staging`"),
        "{envs}"
    );
    assert!(!envs.contains("shop-sandbox"), "{envs}");
}

/// A Flux HelmRelease's `valuesFrom` ConfigMap, per overlay: staging's is a ConfigMap manifest
/// whose `data.values.yaml` is parsed where it is written (the finding at its line, in staging);
/// production's comes from a Kustomize `configMapGenerator` file. Each overlay reads its own
/// ConfigMap of that name; the clean twin is silent.
#[test]
fn a_helm_release_reads_its_values_from_the_overlays_config_map() {
    let (code, out) = concise("fixtures/layouts/flux-valuesfrom/fail");
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        out.trim(),
        "fixtures/layouts/flux-valuesfrom/fail/apps/production/shop-values.yaml:4:8: BO001 image `ghcr.io/acme/shop:latest` of container `image` of Helm chart apps/production uses the mutable tag `latest` [prod]\nfixtures/layouts/flux-valuesfrom/fail/apps/staging/values.yaml:10:12: BO001 image `ghcr.io/acme/shop:main` of Helm values `image` of Flux HelmRelease `shop` uses the channel tag `main`, which moves to each new build of the image [staging]"
    );
    let (code, out) = concise("fixtures/layouts/flux-valuesfrom/pass");
    assert_eq!(code, Some(0), "{out}");
}

/// An ApplicationSet of 70 elements over one chart of the project: 64 renderings, and one
/// located GD003 note for the rest, at the chart; a violation of a rendered one still found.
#[test]
fn renderings_of_one_chart_are_bounded_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |p: &str, t: &str| write_file(root, p, t);
    write("guard.toml", "# its own project\n");
    write_shop_chart(root);
    let mut elements = String::new();
    for i in 0..70 {
        let tag = if i == 0 { "latest" } else { "1.0" };
        elements.push_str(&format!(
            "          - name: s{i:02}\n            tag: \"{tag}\"\n"
        ));
    }
    write(
        "apps/shop.yaml",
        &format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: shop\nspec:\n  generators:\n    - list:\n        elements:\n{elements}  template:\n    metadata:\n      name: 'shop-{{{{name}}}}'\n    spec:\n      source:\n        repoURL: https://github.com/acme/platform.git\n        path: charts/shop\n        helm:\n          parameters:\n            - name: tag\n              value: '{{{{tag}}}}'\n      destination:\n        namespace: prod\n"
        ),
    );
    let path = root.to_string_lossy().to_string();
    let o = guard(&["check", &path, "--format", "concise", "-q"]);
    let out = stdout(&o);
    assert!(
        out.contains("charts/shop/Chart.yaml:1:1: GD003")
            && out.contains("6 more renderings (applications or environments) than the 64"),
        "{out}"
    );
    assert!(
        out.contains(
            "charts/shop/templates/deployment.yaml:10:18: BO001 image `ghcr.io/acme/shop:latest`"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "(also in its renderings shop-s01, shop-s02, shop-s03, shop-s04, shop-s05 and 58 more)"
        ),
        "{out}"
    );
    let envs = stdout(&guard(&["envs", &path]));
    assert_eq!(
        envs.matches("charts/shop with Argo CD").count(),
        64,
        "{envs}"
    );
}

/// A Flux Kustomization's `images` overrides are the images its environment runs: production's
/// `newTag: latest` is found at that line, in prod; staging's pinned digest is silent.
#[test]
fn a_flux_kustomization_image_override_is_judged_in_its_environment() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |p: &str, t: &str| write_file(root, p, t);
    write("guard.toml", "# its own project\n");
    for (env, images) in [
        (
            "production",
            "    - name: ghcr.io/acme/shop\n      newTag: latest\n",
        ),
        (
            "staging",
            "    - name: ghcr.io/acme/shop\n      digest: sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
        ),
    ] {
        write(
            &format!("clusters/{env}/apps.yaml"),
            &format!(
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./apps/{env}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  images:\n{images}"
            ),
        );
    }
    let path = root.to_string_lossy().to_string();
    let out = stdout(&guard(&["check", &path, "--format", "concise", "-q"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].ends_with(
            "clusters/production/apps.yaml:14:15: BO001 image `ghcr.io/acme/shop:latest` of the Kustomize image override of Flux Kustomization `apps` uses the mutable tag `latest` [prod]"
        ),
        "{out}"
    );
}

/// An app-of-apps chart: its template renders one Argo CD Application per entry of its values;
/// each rendered Application deploys `charts/shop` with its parameters, so prod's `latest` tag
/// (a value of the app-of-apps chart) is found, in prod, and `guard envs` lists both renderings
/// of the shop chart.
#[test]
fn applications_an_app_of_apps_chart_renders_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |p: &str, t: &str| write_file(root, p, t);
    write("guard.toml", "# its own project\n");
    write_shop_chart(root);
    write(
        "apps/Chart.yaml",
        "apiVersion: v2\nname: apps\nversion: 1.0.0\n",
    );
    write(
        "apps/values.yaml",
        "envs:\n  staging:\n    tag: \"1.0\"\n  prod:\n    tag: latest\n",
    );
    write(
        "apps/templates/shop.yaml",
        "{{- range $env, $v := .Values.envs }}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop-{{ $env }}\nspec:\n  source:\n    repoURL: https://github.com/acme/platform.git\n    path: charts/shop\n    helm:\n      parameters:\n        - name: tag\n          value: {{ $v.tag | quote }}\n  destination:\n    namespace: {{ $env }}\n{{- end }}\n",
    );
    let path = root.to_string_lossy().to_string();
    let out = stdout(&guard(&[
        "check", &path, "--format", "concise", "-q", "--select", "BO001",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].contains("BO001 image `ghcr.io/acme/shop:latest`") && lines[0].ends_with("[prod]"),
        "{out}"
    );
    let envs = stdout(&guard(&["envs", &path]));
    assert!(
        envs.contains("prod     charts/shop with Argo CD Application `shop-prod`")
            && envs.contains("staging  charts/shop with Argo CD Application `shop-staging`"),
        "{envs}"
    );
}

/// Every finding of `dir` as `RULE path:line [envs]` (path below `dir`), and the flow hops of
/// each as `path:line label`, sorted.
fn located(dir: &str, extra: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut args = vec!["check", dir, "--format", "json"];
    args.extend_from_slice(extra);
    let o = guard(&args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let at = |l: &serde_json::Value| {
        format!(
            "{}:{}",
            l["path"]
                .as_str()
                .unwrap()
                .trim_start_matches(dir)
                .trim_start_matches('/'),
            l["start"]["line"]
        )
    };
    let mut out: Vec<(String, Vec<String>)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let envs: Vec<&str> = f["environments"]
                .as_array()
                .map(|a| a.iter().filter_map(|e| e.as_str()).collect())
                .unwrap_or_default();
            let chain = f["related"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter(|h| h["kind"] == "flow")
                        .map(|h| format!("{} {}", at(&h["location"]), h["label"].as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            (
                format!(
                    "{} {} [{}]",
                    f["rule"].as_str().unwrap_or("?"),
                    at(&f["location"]),
                    envs.join(", ")
                ),
                chain,
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn an_application_s_kustomize_patches_are_applied_in_its_environment_at_the_patch_line() {
    let dir = "fixtures/layouts/argocd-patches/fail";
    let found: Vec<String> = located(dir, &[]).into_iter().map(|(f, _)| f).collect();
    // The strategic-merge patch's `privileged: true` and the JSON 6902 operation's image, in
    // the Application file, in prod only (staging deploys the overlay as written).
    assert_eq!(
        found,
        [
            "BO001 apps/web-prod.yaml:37 [prod]",
            "HD002 apps/web-prod.yaml:30 [prod]"
        ],
        "{found:#?}"
    );
    let (code, out) = concise("fixtures/layouts/argocd-patches/pass");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.trim().is_empty(), "{out}");
}

#[test]
fn a_flux_kustomization_s_patches_and_post_build_variables_are_applied_per_cluster() {
    let dir = "fixtures/layouts/flux-postbuild/fail";
    let found = located(dir, &[]);
    let summary: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        summary,
        [
            // The image `registry.example.com/web:${IMAGE_TAG:=1.4.2}`: prod's `latest`
            // (staging takes the default).
            "BO001 apps/web/deployment.yaml:29 [prod]",
            // The Secret of `substituteFrom` is a located note.
            "GD009 clusters/production/apps.yaml:31 [prod]",
            // The JSON 6902 patch's value.
            "HD002 clusters/production/apps.yaml:23 [prod]",
            // `${DATABASE_URL}` is the whole value: the inline `substitute` entry (over the
            // cluster-vars ConfigMap's) decides it.
            "SEC002 clusters/production/apps.yaml:27 [prod]",
        ],
        "{found:#?}"
    );
    // The substituted image names the substitute line.
    assert_eq!(
        found[0].1,
        [
            "clusters/production/apps.yaml:26 `${IMAGE_TAG}` = `latest` from postBuild of Flux Kustomization `web`"
        ],
        "{found:#?}"
    );
    // The whole-value substitution names the reference it replaced.
    assert!(
        found[3]
            .1
            .iter()
            .any(|h| h.starts_with("apps/web/deployment.yaml:34 ")),
        "{found:#?}"
    );
    let envs = stdout(&guard(&["envs", "fixtures/layouts/flux-postbuild/fail"]));
    assert!(
        envs.contains("prod     Flux Kustomization `web` in clusters/production/apps.yaml: path `./apps/web` (1 patch, 4 post-build variables)"),
        "{envs}"
    );
    let (code, out) = concise("fixtures/layouts/flux-postbuild/pass");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.trim().is_empty(), "{out}");
}

/// An ApplicationSet's git files generator over this repository (`config/*/payments.json`,
/// qa's file excluded) makes one application per file: the file's nested keys fill
/// `{{release.tag}}` and its directory `{{path.basename}}` / `{{path[1]}}`; prod's `latest` is
/// found at the file's line with the template and the parameter on the chain; the clean twin
/// is silent.
#[test]
fn a_git_files_generator_over_this_repository_makes_one_application_per_file() {
    let dir = "fixtures/layouts/argocd-git/fail";
    let found = located(dir, &[]);
    let payments: Vec<&(String, Vec<String>)> = found
        .iter()
        .filter(|(f, _)| f.contains("config/"))
        .collect();
    assert_eq!(payments.len(), 1, "{found:#?}");
    assert_eq!(payments[0].0, "BO001 config/prod/payments.json:4 [prod]");
    assert_eq!(
        payments[0].1,
        [
            "apps/payments.yaml:29 the ApplicationSet template's `{{release.tag}}`",
            "apps/payments.yaml:28 Helm parameter `image.tag`",
            "charts/payments/values.yaml:3 repository `ghcr.io/acme/payments`",
        ],
        "{found:#?}"
    );
    let envs = stdout(&guard(&["envs", dir]));
    for line in [
        "prod     Argo CD ApplicationSet `payments-prod` in apps/payments.yaml",
        "staging  Argo CD ApplicationSet `payments-staging` in apps/payments.yaml",
    ] {
        assert!(envs.contains(line), "{envs}");
    }
    // The excluded file makes no application.
    assert!(!envs.contains("payments-qa"), "{envs}");
}

/// A files generator whose pattern matches nothing here (another repository) is still noted
/// and its template read once; one over more files than the element limit is a located note.
#[test]
fn a_git_files_generator_is_bounded_and_noted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_shop_chart(root);
    let mut set = String::from(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: many\nspec:\n  generators:\n    - git:\n        repoURL: https://github.com/acme/platform.git\n        files:\n          - path: 'config/**/c.json'\n  template:\n    metadata:\n      name: 'many-{{path.basenameNormalized}}'\n    spec:\n      source:\n        path: charts/shop\n        helm:\n          parameters:\n            - name: tag\n              value: '{{tag}}'\n      destination:\n        namespace: x\n",
    );
    write_file(root, "apps/many.yaml", &set);
    write_file(root, "guard.toml", "# the project root\n");
    for i in 0..1002 {
        write_file(root, &format!("config/d{i}/c.json"), "{\"tag\": \"1.0\"}\n");
    }
    write_file(root, "config/bad/c.json", "[1, 2]\n");
    let path = root.to_string_lossy().to_string();
    let out = stdout(&guard(&["check", &path, "--format", "concise", "-q"]));
    assert!(
        out.contains("apps/many.yaml:7:5:") && out.contains("only the first 1000 are checked"),
        "{out}"
    );
    assert!(
        out.contains(
            "`config/bad/c.json` matches this files generator but is not a JSON or YAML map"
        ),
        "{out}"
    );
    set = set.replace("config/**/c.json", "elsewhere/*.json");
    write_file(root, "apps/many.yaml", &set);
    let envs = stdout(&guard(&["envs", &path]));
    assert!(
        envs.contains("its generators read cluster state or other repositories"),
        "{envs}"
    );
}

/// `spec.sources[]` patches apply like `spec.source`'s, to a plain directory too (no
/// kustomization: Argo CD renders the directory's manifests); a Flux Kustomization of an OCI
/// artifact is a located note, its patches not applied to this repository's files; a patch
/// given as a file is a located note.
#[test]
fn multi_source_patches_and_unapplied_overrides_are_located() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_file(root, "guard.toml", "[hardening]\n");
    write_file(
        root,
        "deploy/web/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/web:1.0\n",
    );
    write_file(
        root,
        "apps/web.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web-prod\nspec:\n  sources:\n    - repoURL: https://github.com/acme/platform.git\n      path: deploy/web\n      kustomize:\n        patches:\n          - target: {kind: Deployment, name: web}\n            patch: |-\n              - op: add\n                path: /spec/template/spec/hostNetwork\n                value: true\n          - path: extra.yaml\n  destination:\n    namespace: web-prod\n",
    );
    write_file(
        root,
        "clusters/staging/web.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: web\nspec:\n  sourceRef:\n    kind: OCIRepository\n    name: web\n  path: ./deploy/web\n  postBuild:\n    substitute:\n      TAG: latest\n",
    );
    let path = root.to_string_lossy().to_string();
    let out = stdout(&guard(&["check", &path, "--format", "concise", "-q"]));
    let at = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or("")
            .to_string()
    };
    // The JSON 6902 value's line, in prod only.
    assert!(at("hostNetwork").contains("apps/web.yaml:15:"), "{out}");
    assert!(at("hostNetwork").ends_with("[prod]"), "{out}");
    assert!(at("is not inline").contains("apps/web.yaml:16:"), "{out}");
    assert!(
        at("of OCIRepository `web`").contains("clusters/staging/web.yaml:7:"),
        "{out}"
    );
}

/// With `goTemplate`, a files generator's keys are nested (`{{.cluster.env}}`) and the path
/// parameters are under `.path` (`{{.path.basename}}`); a YAML file that is a list makes one
/// application per item.
#[test]
fn a_go_template_files_generator_reads_nested_keys_and_list_files() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_shop_chart(root);
    write_file(root, "guard.toml", "# the project root\n");
    write_file(
        root,
        "apps/set.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: set\nspec:\n  goTemplate: true\n  generators:\n    - git:\n        repoURL: https://github.com/acme/platform.git\n        files:\n          - path: 'clusters/*.yaml'\n  template:\n    metadata:\n      name: 'shop-{{.cluster.env}}-{{.path.filenameNormalized}}'\n    spec:\n      source:\n        path: charts/shop\n        helm:\n          parameters:\n            - name: tag\n              value: '{{.cluster.tag}}'\n      destination:\n        namespace: 'shop-{{.cluster.env}}'\n",
    );
    write_file(
        root,
        "clusters/all.yaml",
        "- cluster:\n    env: staging\n    tag: \"1.0\"\n- cluster:\n    env: prod\n    tag: latest\n",
    );
    let path = root.to_string_lossy().to_string();
    let envs = stdout(&guard(&["envs", &path]));
    for line in [
        "prod     Argo CD ApplicationSet `shop-prod-all-yaml`",
        "staging  Argo CD ApplicationSet `shop-staging-all-yaml`",
    ] {
        assert!(envs.contains(line), "{envs}");
    }
    let out = stdout(&guard(&["check", &path, "--format", "concise", "-q"]));
    let latest: Vec<&str> = out.lines().filter(|l| l.contains("BO001")).collect();
    assert_eq!(latest.len(), 1, "{out}");
    assert!(
        latest[0].contains("charts/shop/templates/deployment.yaml:10:18:")
            && latest[0].ends_with("[prod]"),
        "{out}"
    );
    // The prod item's `tag` is on the chain.
    let o = guard(&["check", &path, "--format", "json", "--select", "BO001"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let hops: Vec<String> = v["findings"][0]["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{}:{}",
                h["location"]["path"].as_str().unwrap(),
                h["location"]["start"]["line"]
            )
        })
        .collect();
    assert!(
        hops.iter().any(|h| h.ends_with("clusters/all.yaml:6")),
        "{hops:?}"
    );
}

/// An ApplicationSet over Argo CD's `clusters` generator, merged by `server`: the clusters are
/// Secrets in the cluster, so guard makes one application per cluster label the selectors name
/// (the base generator's values under each one's), plus one for the clusters none picks. The
/// staging clusters' `latest` tag is found in staging at the generator's value; prod keeps the
/// base tag; a list-generator merge by a known key overrides only the matching element.
#[test]
fn a_clusters_generator_makes_one_application_per_selected_label() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_file(root, "guard.toml", "# a project of its own\n");
    write_shop_chart(root);
    write_file(
        root,
        "apps/shop.yaml",
        r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: shop
spec:
  generators:
    - merge:
        mergeKeys: [server]
        generators:
          - clusters:
              values:
                tag: "1.4.2"
          - clusters:
              selector:
                matchLabels:
                  environment: staging
              values:
                tag: latest
          - clusters:
              selector:
                matchExpressions:
                  - key: environment
                    operator: In
                    values: [prod]
  template:
    metadata:
      name: 'shop-{{name}}'
    spec:
      source:
        repoURL: https://example.com/repo.git
        path: charts/shop
        helm:
          parameters:
            - name: tag
              value: '{{values.tag}}'
      destination:
        server: '{{server}}'
        namespace: shop
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: lists
spec:
  generators:
    - merge:
        mergeKeys: [env]
        generators:
          - list:
              elements:
                - env: staging
                  tag: "2.0"
                - env: prod
                  tag: "2.0"
          - list:
              elements:
                - env: prod
                  tag: stable
                - env: qa
                  tag: latest
  template:
    metadata:
      name: 'lists-{{env}}'
    spec:
      source:
        repoURL: https://example.com/repo.git
        path: charts/shop
        helm:
          parameters:
            - name: tag
              value: '{{tag}}'
      destination:
        server: https://kubernetes.default.svc
        namespace: 'lists-{{env}}'
"#,
    );
    let o = common::git_env_command(env!("CARGO_BIN_EXE_guard"), root)
        .args(["check", ".", "--format", "concise", "-q"])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let found: Vec<&str> = out.lines().filter(|l| l.contains("BO001")).collect();
    // Staging's clusters: `latest`; the list merge: prod's `stable` overrides (a channel tag, in
    // prod); qa's element has no base element, so it makes no application.
    assert!(
        found
            .iter()
            .any(|l| l.contains("shop:latest") && l.ends_with("[staging]")),
        "{out}"
    );
    assert!(
        found
            .iter()
            .any(|l| l.contains("shop:stable") && l.ends_with("[prod]")),
        "{out}"
    );
    assert!(!out.contains("qa"), "{out}");
    assert_eq!(found.len(), 2, "{out}");
    // Each is decided at the generator's value, on its chain.
    let o = common::git_env_command(env!("CARGO_BIN_EXE_guard"), root)
        .args(["check", ".", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let chains: Vec<Vec<String>> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "BO001")
        .map(|f| {
            f["related"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    format!(
                        "{}:{}",
                        r["location"]["path"].as_str().unwrap(),
                        r["location"]["start"]["line"]
                    )
                })
                .collect()
        })
        .collect();
    assert!(
        chains
            .iter()
            .any(|c| c.contains(&"apps/shop.yaml:18".to_string())),
        "{chains:?}"
    );
    assert!(
        chains
            .iter()
            .any(|c| c.contains(&"apps/shop.yaml:58".to_string())),
        "{chains:?}"
    );
    let envs = stdout(
        &common::git_env_command(env!("CARGO_BIN_EXE_guard"), root)
            .args(["envs", "."])
            .output()
            .unwrap(),
    );
    assert!(
        envs.contains("prod     Argo CD ApplicationSet `shop`")
            && envs.contains("cluster label `environment` `prod`"),
        "{envs}"
    );
}
