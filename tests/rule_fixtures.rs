//! Every rule has fixtures that fail and fixtures that pass
//! (`fixtures/rules/<ID>/{fail,pass}/`). The failing side must raise the
//! rule, the passing side must not, and the failing side's text output is a
//! reviewed snapshot.

mod common;

use std::path::{Path, PathBuf};

use guard::render::{Format, RenderOptions, render};

fn fixture(id: &str, side: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules")
        .join(id)
        .join(side)
}

fn check(dir: &Path) -> guard::Report {
    check_for(dir, None)
}

/// The check a rule's fixtures are snapshotted with: the workload baseline
/// and the hardening family (which most manifests trip) only for their own
/// rules, so that each snapshot shows what its rule is about.
fn check_for(dir: &Path, rule: Option<&guard::rules::Rule>) -> guard::Report {
    let mut ignore: Vec<String> = Vec::new();
    for (family, name) in [
        (guard::rules::Family::Workload, "workload"),
        (guard::rules::Family::Hardening, "hardening"),
    ] {
        if rule.is_some_and(|r| r.family != family) {
            ignore.push(name.into());
        }
    }
    guard::check(&guard::Options {
        paths: vec![dir.to_path_buf()],
        excludes: vec![],
        ignore,
        // The hardening family is opt-in.
        extend_select: if rule.is_some_and(|r| r.family == guard::rules::Family::Hardening) {
            vec!["hardening".into()]
        } else {
            vec![]
        },
        ..Default::default()
    })
    .expect("check runs")
}

/// Text output without the run time, which changes from run to run.
fn stable_text(report: &guard::Report) -> String {
    common::untimed(&render(Format::Text, report, RenderOptions::default()))
}

#[test]
fn every_rule_fails_and_passes_its_fixtures() {
    let mut problems = Vec::new();
    for rule in guard::rules::all() {
        let (fail, pass) = (fixture(rule.id, "fail"), fixture(rule.id, "pass"));
        if !fail.is_dir() || !pass.is_dir() {
            problems.push(format!(
                "{}: fixtures/rules/{}/{{fail,pass}} missing",
                rule.id, rule.id
            ));
            continue;
        }
        let failing = check_for(&fail, Some(rule));
        let hits = failing
            .findings
            .iter()
            .filter(|f| f.rule == rule.id)
            .count();
        if hits == 0 {
            problems.push(format!("{}: the fail fixture raised nothing", rule.id));
        }
        let passing = check_for(&pass, Some(rule));
        let wrong: Vec<String> = passing
            .findings
            .iter()
            .filter(|f| f.rule == rule.id)
            .map(|f| {
                format!(
                    "{}:{} {}",
                    f.location.path, f.location.start.line, f.message
                )
            })
            .collect();
        if !wrong.is_empty() {
            problems.push(format!("{}: the pass fixture raised {wrong:?}", rule.id));
        }
        insta::assert_snapshot!(format!("{}-fail", rule.id), stable_text(&failing));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// No output format of any fixture shows a secret value a rule found: every
/// span a rule marked as a secret is looked for, beyond its first four
/// characters, in the text, JSON, SARIF, GitHub, concise and summary output.
#[test]
fn no_fixture_prints_a_secret_in_any_format() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs: Vec<PathBuf> = vec![root.join("article"), root.join("layouts/cfn-ecs/fail")];
    for rule in guard::rules::all() {
        dirs.push(fixture(rule.id, "fail"));
    }
    let mut checked = 0;
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        let report = check(dir);
        let secrets: Vec<String> = report
            .redactions
            .iter()
            .filter_map(|s| {
                let text = report.model.sources.get(s.file)?.slice(*s);
                let value = text.trim_matches(['"', '\'']);
                // What must never show: the value past its first four characters.
                let hidden: String = value.chars().skip(4).collect();
                (hidden.chars().count() >= 4).then_some(hidden)
            })
            .collect();
        if secrets.is_empty() {
            continue;
        }
        let mut outputs = vec![
            guard::render::summary::render(&report),
            guard::render::concise(&report),
        ];
        for format in [Format::Text, Format::Json, Format::Github] {
            outputs.push(render(format, &report, RenderOptions::default()));
        }
        // SARIF's results (its rule metadata holds the catalogue's examples).
        let sarif: serde_json::Value =
            serde_json::from_str(&render(Format::Sarif, &report, RenderOptions::default()))
                .unwrap();
        outputs.push(sarif["runs"][0]["results"].to_string());
        for s in &secrets {
            for (i, out) in outputs.iter().enumerate() {
                assert!(
                    !out.contains(s.as_str()),
                    "{}: output {i} shows the secret `{s}`:\n{out}",
                    dir.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} secrets were looked for");
}

/// CloudFormation ECS task definitions (YAML and JSON templates): a literal
/// secret in a container's `Environment` is SEC002, located at the `Value`
/// literal, as in ECS task-definition JSON; intrinsic functions (`!Ref`,
/// `!Sub`, `!GetAtt`, `!ImportValue`, `!Join`, `{"Ref": ..}`, `{"Fn::Sub":
/// ..}`), `{{resolve:..}}` dynamic references and `Secrets[].ValueFrom` are
/// references, never secrets.
#[test]
fn cloudformation_ecs_environment_secrets() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/layouts/cfn-ecs");
    let secrets = |side: &str| -> (guard::Report, Vec<String>) {
        let report = check(&dir.join(side));
        let found = report
            .findings
            .iter()
            .filter(|f| f.rule.starts_with("SEC"))
            .map(|f| {
                let file = f.location.path.rsplit('/').next().unwrap_or("");
                format!(
                    "{} {file}:{}:{}",
                    f.rule, f.location.start.line, f.location.start.column
                )
            })
            .collect();
        (report, found)
    };
    let (failing, found) = secrets("fail");
    assert_eq!(
        found,
        [
            "SEC002 service.yaml:21:22",
            "SEC002 service.yaml:23:22",
            "SEC002 worker.json:18:55",
        ],
        "{found:?}"
    );
    insta::assert_snapshot!("layout-cfn-ecs-fail", stable_text(&failing));
    let (passing, found) = secrets("pass");
    assert!(found.is_empty(), "{found:?}");
    // The variables are still known (by name) to parity, without values.
    let api = passing
        .model
        .containers
        .iter()
        .find(|c| c.name == "api")
        .expect("the api container");
    let names: Vec<(&str, bool)> = api
        .env_vars
        .iter()
        .map(|v| (v.name.as_str(), v.value.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("LOG_LEVEL", true),
            ("DB_PASSWORD", false),
            ("PAYMENT_API_KEY", false),
            ("SESSION_SECRET", false),
            ("AUTH_TOKEN", false),
            ("REDIS_PASSWORD", false),
            ("ADMIN_PASSWORD", false),
        ]
    );
}

/// Parity compares versions, not identifiers: an ECS family, a resource
/// name or a container's task definition that embeds its environment's own
/// name (`shop-stage-api` / `shop-production-api`, `shop-stg-worker` /
/// `shop-prd-worker`, `aws_sqs_queue.orders_stage` / `orders_production`,
/// `module.events_stage` / `module.events_production`)
/// is the same thing in both environments: paired, and no PAR finding.
/// A name both sides write alike (`aws_iam_role.prod_backup_reader`) pairs
/// as written. The failing twin keeps real differences: postgres 15.4 vs
/// 14.9, a family that differs beyond the environment's name, a variable
/// only prod's (paired) container sets, and another image repository in
/// prod's (paired) container (BO004).
#[test]
fn parity_compares_versions_not_identifiers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/layouts/parity-identifiers");
    let parity = |side: &str| -> (guard::Report, Vec<String>) {
        let report = check(&dir.join(side));
        let found = report
            .findings
            .iter()
            .filter(|f| f.rule.starts_with("PAR") || f.rule.starts_with("BO"))
            .map(|f| {
                let at = f.location.path.split_once(side).map_or("", |(_, p)| p);
                format!("{} {at}:{}", f.rule, f.location.start.line)
            })
            .collect();
        (report, found)
    };
    let (failing, found) = parity("fail");
    assert_eq!(
        found,
        [
            "BO004 /ecs/prod/task-definition.json:7",
            "PAR002 /ecs/staging/task-definition.json:6",
            "PAR002 /environments/prod/main.tf:27",
            "PAR001 /environments/staging/main.tf:9",
            "PAR001 /environments/staging/main.tf:25",
        ],
        "{found:?}"
    );
    insta::assert_snapshot!("layout-parity-identifiers-fail", stable_text(&failing));
    let (passing, found) = parity("pass");
    assert!(found.is_empty(), "{found:?}");
    // Every resource and container is paired; the env-named family is an
    // identifier, the instance class may differ.
    let tables = guard::rules::parity::compare_all(&passing.model);
    let rows: Vec<(String, guard::rules::parity::Status)> = tables
        .iter()
        .flat_map(|t| &t.rows)
        .map(|r| (r.subject.clone(), r.status))
        .collect();
    use guard::rules::parity::Status;
    for (subject, status) in &rows {
        assert!(
            !matches!(
                status,
                Status::OnlyInLower | Status::OnlyInUpper | Status::Differs
            ),
            "{subject}: {status:?} in {rows:?}"
        );
    }
    let status = |s: &str| rows.iter().find(|(r, _)| r == s).map(|(_, st)| *st);
    assert_eq!(
        status("aws_ecs_task_definition.worker.family"),
        Some(Status::Identifier)
    );
    assert_eq!(
        status("aws_db_instance.db.instance_class"),
        Some(Status::MayDiffer)
    );
    assert_eq!(status("aws_sqs_queue.orders_stage"), Some(Status::Same));
    assert_eq!(status("module.events_stage"), Some(Status::Same));
    // A name both sides write alike pairs as written, whatever it names.
    assert_eq!(
        status("aws_iam_role.prod_backup_reader"),
        Some(Status::Same)
    );
    assert_eq!(
        status("module.events_stage.aws_sqs_queue.this"),
        Some(Status::Same)
    );
    assert_eq!(
        status("task definition shop-stage-api / api"),
        Some(Status::Same)
    );
}

/// The hardening rules judge each environment's rendering of a Kustomize
/// base: prod's patch sets `readOnlyRootFilesystem: true`, so the missing
/// setting is a staging finding only (a note there), and the `privileged:
/// true` that patch adds is a prod finding located in the patch file.
/// The base's `runAsNonRoot: false`, which both renderings keep, is one
/// finding naming both environments, with prod's severity.
#[test]
fn hardening_judges_each_overlay_rendering() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hardening/overlay-renders");
    let report = check(&dir);
    let hd: Vec<(String, String, u32, Vec<String>)> = report
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("HD"))
        .map(|f| {
            (
                f.rule.to_string(),
                format!("{:?}", f.severity),
                f.location.start.line,
                f.envs.iter().map(|e| e.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        hd,
        vec![
            (
                "HD022".to_string(),
                "Error".to_string(),
                16,
                vec!["staging".to_string(), "prod".to_string()]
            ),
            (
                "HD030".to_string(),
                "Note".to_string(),
                22,
                vec!["staging".to_string()]
            ),
            (
                "HD002".to_string(),
                "Error".to_string(),
                12,
                vec!["prod".to_string()]
            ),
        ],
        "{hd:?}"
    );
    let privileged = report.findings.iter().find(|f| f.rule == "HD002");
    assert_eq!(
        privileged.map(|f| f.location.path.as_str()),
        Some("fixtures/hardening/overlay-renders/overlays/prod/hardening.yaml")
    );
}

/// One finding per value: a secret that a format rule reports (a ConfigMap
/// entry, SEC001) is not reported again by SEC011, which reads only the
/// files no other secrets rule reads; and every file of the SEC011 fixtures
/// that it reports is one guard models no further.
#[test]
fn a_secret_a_format_rule_reports_is_reported_once() {
    let report = check(&fixture("SEC011", "pass"));
    let at_configmap: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.location.path.ends_with("configmap.yaml") && f.location.start.line == 7)
        .map(|f| f.rule)
        .collect();
    assert_eq!(at_configmap, ["SEC001"]);
    let failing = check(&fixture("SEC011", "fail"));
    let secrets: Vec<&guard::finding::Located> = failing
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("SEC"))
        .collect();
    assert!(secrets.len() >= 10);
    assert!(secrets.iter().all(|f| f.rule == "SEC011"));
}
