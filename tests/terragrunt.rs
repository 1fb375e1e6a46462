//! Terragrunt live repositories, end to end: `fixtures/layouts/terragrunt`
//! has a violating tree (`fail/`) and its clean twin (`pass/`).
//!
//! Terragrunt itself cannot be installed here (no network), so what each
//! unit evaluates to is checked against a reviewed expectation table
//! ([`units_evaluate_as_terragrunt_would`]): each row was worked out by
//! hand from Terragrunt's documented semantics (`find_in_parent_folders`
//! starts in the unit directory's parent; included files are evaluated in
//! the unit's context; `path_relative_to_include()` is the unit's path
//! from the included file's directory; shallow merge by top-level key;
//! `dependency` blocks resolve to `mock_outputs`).

mod common;

use common::{guard, stdout, untimed};
use std::path::Path;
use std::process::Command;

const FAIL: &str = "fixtures/layouts/terragrunt/fail";
const PASS: &str = "fixtures/layouts/terragrunt/pass";

#[test]
fn a_live_tree_is_judged_through_its_units() {
    let o = guard(&["check", FAIL, "--color", "never"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    insta::assert_snapshot!("terragrunt-fail-text", untimed(&stdout(&o)));

    let o = guard(&["check", FAIL, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = v["findings"].as_array().expect("findings");
    let rule = |id: &str| -> Vec<&serde_json::Value> {
        findings.iter().filter(|f| f["rule"] == id).collect()
    };
    // The public database: at the unit's `inputs` line, in prod only, with
    // the chain unit line -> variable -> resource.
    let db = rule("DB001");
    assert_eq!(db.len(), 1, "{v:#}");
    assert_eq!(db[0]["environments"], serde_json::json!(["prod"]));
    assert_eq!(
        db[0]["location"]["path"],
        format!("{FAIL}/live/prod/eu-west-1/rds/terragrunt.hcl")
    );
    assert_eq!(db[0]["location"]["start"]["line"], 22);
    let chain = serde_json::to_string(&db[0]).unwrap_or_default();
    assert!(chain.contains("set in inputs of live/prod/eu-west-1/rds/terragrunt.hcl"));
    assert!(chain.contains("used by aws_db_instance.this.publicly_accessible"));
    // The literal password in the prod unit's inputs.
    let sec = rule("SEC003");
    assert_eq!(sec.len(), 1, "{v:#}");
    assert_eq!(sec[0]["location"]["start"]["line"], 25);
    // Version drift between the staging and prod units of one module.
    assert_eq!(rule("PAR001").len(), 1, "{v:#}");
    // The missing file a unit reads: located, not silent.
    let gd = rule("GD009");
    assert_eq!(gd.len(), 1, "{v:#}");
    assert_eq!(
        gd[0]["location"]["path"],
        format!("{FAIL}/live/prod/eu-west-1/cache/terragrunt.hcl")
    );
    // The module units instantiate is not judged alone with its defaults.
    assert!(
        !findings.iter().any(
            |f| f["location"]["path"] == format!("{FAIL}/modules/rds/main.tf")
                && f["environments"].as_array().is_some_and(|e| e.is_empty())
        ),
        "{v:#}"
    );
}

#[test]
fn the_clean_twin_passes() {
    let o = guard(&["check", PASS, "--color", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    insta::assert_snapshot!("terragrunt-pass-text", untimed(&stdout(&o)));
}

#[test]
fn guard_envs_lists_every_unit_with_its_environment_and_module() {
    let o = guard(&["envs", FAIL]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("terragrunt-envs", stdout(&o));
}

/// The reviewed expectation table: unit -> (environment, module, inputs as
/// Terragrunt would pass them).
#[test]
fn units_evaluate_as_terragrunt_would() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(FAIL);
    let files = common::source_tree(&dir, |n| {
        n.ends_with(".tf") || n.ends_with(".hcl") || n.ends_with(".tfvars")
    });
    let refs: Vec<&guard::source::SourceFile> = files.iter().collect();
    let m = guard::terraform::evaluate(&refs, &guard::env::EnvSet::builtin());
    let table = [
        (
            "live/prod/eu-west-1/rds",
            "prod",
            "modules/rds",
            serde_json::json!({
                "environment": "prod",
                "state_key": "live/prod/eu-west-1/rds/terraform.tfstate",
                "engine_version": "14.9",
                "instance_class": "db.t3.medium",
                "name": "shop-prod-db",
                "publicly_accessible": true,
                "subnet_ids": ["subnet-00000000"],
                "master_password": "Vq8#zLm2!pR7wXe4",
            }),
        ),
        (
            "live/staging/eu-west-1/rds",
            "staging",
            "modules/rds",
            serde_json::json!({
                "environment": "staging",
                "state_key": "live/staging/eu-west-1/rds/terraform.tfstate",
                "engine_version": "15.4",
                "instance_class": "db.t3.medium",
                "name": "shop-staging-db",
                "subnet_ids": ["subnet-00000000"],
            }),
        ),
        (
            "live/prod/eu-west-1/vpc",
            "prod",
            "git::https://github.com/example/infrastructure-modules.git//vpc?ref=v1.4.0",
            serde_json::json!({
                "environment": "prod",
                "state_key": "live/prod/eu-west-1/vpc/terraform.tfstate",
                "cidr_block": "10.20.0.0/16",
            }),
        ),
    ];
    for (unit, env, module, inputs) in table {
        let r = m
            .roots
            .iter()
            .find(|r| r.dir == unit)
            .unwrap_or_else(|| panic!("unit {unit} not evaluated"));
        assert_eq!(r.assignment.label(), env, "{unit}");
        assert_eq!(r.source.as_deref(), Some(module), "{unit}");
        let got: serde_json::Map<String, serde_json::Value> = r
            .inputs
            .iter()
            .map(|l| (l.name.to_string(), l.value.to_json()))
            .collect();
        assert_eq!(serde_json::Value::Object(got), inputs, "{unit}");
        // The generated provider joins the unit's module, located at the
        // `generate` block of root.hcl.
        let p = r
            .providers
            .iter()
            .find(|p| p.is_aws_provider())
            .unwrap_or_else(|| panic!("{unit}: no generated provider"));
        assert_eq!(p.attrs.str_at(&["region"]), Some("eu-west-1"), "{unit}");
    }
    // The module directory is not a root of its own.
    assert!(!m.roots.iter().any(|r| r.dir == "modules/rds"));
    // The only RDS instance of a unit comes from the module, once.
    let prod = m
        .roots
        .iter()
        .find(|r| r.dir == "live/prod/eu-west-1/rds")
        .expect("prod unit");
    assert_eq!(prod.resources_of("aws_db_instance").count(), 1);
}

/// An include cycle, an include of a missing file, a file outside the
/// project, a generate that does not render: located notes, the rest of
/// the tree still checked, nothing read outside the project.
#[test]
fn bad_terragrunt_input_is_located_never_silent() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let write = |p: &str, text: &str| {
        let f = root.join(p);
        std::fs::create_dir_all(f.parent().expect("parent")).expect("mkdir");
        std::fs::write(f, text).expect("write");
    };
    write("guard.toml", "");
    write(
        "modules/db/main.tf",
        "variable \"public\" {\n  default = false\n}\nresource \"aws_db_instance\" \"x\" {\n  publicly_accessible = var.public\n}\n",
    );
    write(
        "live/prod/a/terragrunt.hcl",
        "include \"root\" {\n  path = \"../../../outside.hcl\"\n}\nterraform {\n  source = \"../../../modules//db\"\n}\ninputs = {\n  public = true\n}\n",
    );
    write(
        "live/prod/b/terragrunt.hcl",
        "locals {\n  x = read_terragrunt_config(\"/etc/passwd\")\n}\ngenerate \"p\" {\n  path = \"p.tf\"\n  contents = get_env(\"NOPE\")\n}\nterraform {\n  source = \"../../../modules//db\"\n}\n",
    );
    write(
        "live/prod/c/terragrunt.hcl",
        "locals {\n  me = read_terragrunt_config(\"terragrunt.hcl\")\n}\nterraform {\n  source = \"../../../modules//db\"\n}\n",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", ".", "--format", "json"])
        .current_dir(root)
        .output()
        .expect("guard runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let findings = v["findings"].as_array().expect("findings");
    let at = |rule: &str, path: &str| {
        findings
            .iter()
            .filter(|f| f["rule"] == rule && f["location"]["path"] == path)
            .count()
    };
    assert_eq!(at("GD009", "live/prod/a/terragrunt.hcl"), 1, "{v:#}");
    assert_eq!(at("GD009", "live/prod/b/terragrunt.hcl"), 2, "{v:#}");
    assert_eq!(at("GD009", "live/prod/c/terragrunt.hcl"), 1, "{v:#}");
    // Unit a's own inputs are still evaluated: the public database is found.
    assert_eq!(at("DB001", "live/prod/a/terragrunt.hcl"), 1, "{v:#}");
    assert_eq!(o.status.code(), Some(1));
}

mod robustness {
    use proptest::prelude::*;

    /// Pieces of Terragrunt configuration that refer to each other in every
    /// way that can go wrong: includes of files that include back, reads of
    /// themselves and of missing files, generate blocks of unknown contents,
    /// dependencies without mocks, locals referring to locals.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n".to_string()),
            Just("include \"me\" {\n  path = \"terragrunt.hcl\"\n  expose = true\n}\n".to_string()),
            Just("include \"up\" {\n  path = \"../terragrunt.hcl\"\n  merge_strategy = \"deep\"\n}\n".to_string()),
            Just("locals {\n  a = local.b\n  b = local.a\n  c = read_terragrunt_config(\"terragrunt.hcl\")\n}\n".to_string()),
            Just("locals {\n  r = read_terragrunt_config(find_in_parent_folders(\"root.hcl\"))\n  x = local.r.locals.x\n}\n".to_string()),
            Just("terraform {\n  source = \"../../modules//m\"\n}\n".to_string()),
            Just("terraform {\n  source = \"${get_parent_terragrunt_dir()}/modules//m\"\n}\n".to_string()),
            Just("dependency \"d\" {\n  config_path = \"../d\"\n}\n".to_string()),
            Just("generate \"p\" {\n  path = \"p.tf\"\n  contents = \"provider \\\"aws\\\" { region = \\\"${get_env(\\\"R\\\")}\\\" }\"\n}\n".to_string()),
            Just("generate \"q\" {\n  path = \"main.tf\"\n  if_exists = \"overwrite\"\n  contents = \"resource \\\"aws_db_instance\\\" \\\"x\\\" { publicly_accessible = true }\"\n}\n".to_string()),
            Just("inputs = merge(local.r.inputs, { x = dependency.d.outputs.y, p = path_relative_to_include() })\n".to_string()),
            "[a-z{}=\" \\n.()\\[\\],$]{0,40}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// Whatever the pieces, evaluation ends, never panics, and reads
        /// only the files given.
        #[test]
        fn any_configuration_is_evaluated_without_panic(
            root in proptest::collection::vec(piece(), 0..4),
            unit in proptest::collection::vec(piece(), 0..6),
            upper in proptest::collection::vec(piece(), 0..3),
        ) {
            let files: Vec<guard::source::SourceFile> = [
                ("root.hcl", root.concat()),
                ("live/prod/terragrunt.hcl", upper.concat()),
                ("live/prod/a/terragrunt.hcl", unit.concat()),
                ("modules/m/main.tf", "variable \"x\" {}\nresource \"aws_db_instance\" \"y\" {\n  publicly_accessible = var.x\n}\n".to_string()),
            ]
            .into_iter()
            .enumerate()
            .map(|(i, (p, t))| {
                guard::source::SourceFile::new(
                    guard::source::FileId(i as u32),
                    p.to_string(),
                    format!("/nonexistent/{p}").into(),
                    t,
                )
            })
            .collect();
            let refs: Vec<&guard::source::SourceFile> = files.iter().collect();
            let m = guard::terraform::evaluate(&refs, &guard::env::EnvSet::builtin());
            prop_assert!(m.roots.len() <= 3);
        }
    }
}
