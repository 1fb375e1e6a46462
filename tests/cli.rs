//! End to end: the `guard` binary over `fixtures/`, compared with reviewed
//! snapshots, and its exit statuses.

mod common;

use common::{guard, stdout, untimed};
use std::path::Path;
use std::process::{Command, Output};

#[test]
fn article_text() {
    let o = guard(&["check", "fixtures/article", "--color", "never"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    insta::assert_snapshot!("article-text", untimed(&stdout(&o)));
}

#[test]
fn terraform_article_layout_reports_prod_only_with_the_chain() {
    let o = guard(&[
        "check",
        "fixtures/terraform/article-layout",
        "--color",
        "never",
    ]);
    insta::assert_snapshot!("terraform-article-layout", untimed(&stdout(&o)));
    let o = guard(&[
        "check",
        "fixtures/terraform/article-layout",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let db: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "DB001")
        .collect();
    assert_eq!(db.len(), 1, "{v:#}");
    assert_eq!(db[0]["environments"][0], "prod");
    assert_eq!(
        db[0]["location"]["path"],
        "fixtures/terraform/article-layout/environments/prod/terraform.tfvars"
    );
    let labels: Vec<&str> = db[0]["related"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["label"].as_str())
        .collect();
    assert!(
        labels.iter().any(|l| l.starts_with("passed to module.db")),
        "{labels:?}"
    );
    assert!(
        labels
            .iter()
            .any(|l| l.starts_with("used by aws_db_instance.this")),
        "{labels:?}"
    );
}

#[test]
fn downloaded_registry_modules_are_evaluated() {
    // `terraform init` left the registry module in .terraform/modules/;
    // modules.json maps the call to it, so the value is followed inside.
    let o = guard(&[
        "check",
        "fixtures/terraform/downloaded",
        "--format",
        "json",
        "--ignore",
        "hardening",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "DB001", "{v:#}");
    assert_eq!(
        f["location"]["path"],
        "fixtures/terraform/downloaded/terraform.tfvars"
    );
    assert!(
        f["related"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["location"]["path"]
                == "fixtures/terraform/downloaded/.terraform/modules/db/main.tf"),
        "{v:#}"
    );
}

#[test]
fn article_json() {
    let o = guard(&["check", "fixtures/article", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("article-json", stdout(&o));
}

#[test]
fn article_sarif() {
    let o = guard(&["check", "fixtures/article", "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("article-sarif", stdout(&o));
}

#[test]
fn article_github() {
    let o = guard(&["check", "fixtures/article", "--format", "github"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!("article-github", stdout(&o));
}

#[test]
fn article_flags_the_ecs_environment_tag_at_its_line() {
    let o = guard(&["check", "fixtures/article", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let hit = v["findings"].as_array().into_iter().flatten().any(|f| {
        f["rule"] == "BO002"
            && f["location"]["path"] == "fixtures/article/ecs/task-definition.json"
            && f["location"]["start"]["line"] == 12
            && f["location"]["start"]["column"] == 16
    });
    assert!(
        hit,
        "BO002 at ecs/task-definition.json:12:16 expected in {v:#}"
    );
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let run = |threads: &str| {
        Command::new(env!("CARGO_BIN_EXE_guard"))
            .args(["check", "fixtures", "--format", "json"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .expect("guard runs")
            .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
}

#[test]
fn exit_statuses() {
    // Findings at or above --fail-on: 1; below: 0.
    assert_eq!(
        guard(&["check", "fixtures/rules/BO003/fail"]).status.code(),
        Some(0)
    );
    assert_eq!(
        guard(&["check", "fixtures/rules/BO003/fail", "--fail-on", "warning"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        guard(&["check", "fixtures/article", "--fail-on", "never"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        guard(&["check", "fixtures/rules/BO001/pass"]).status.code(),
        Some(0)
    );
    // Usage and I/O failures: 2.
    assert_eq!(guard(&["check", "no/such/dir"]).status.code(), Some(2));
    assert_eq!(guard(&["check", "--format", "xml"]).status.code(), Some(2));
    assert_eq!(guard(&["explain", "NOPE999"]).status.code(), Some(2));
    assert_eq!(
        guard(&["check", ".", "--exclude", "a[b"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_named_file_guard_does_not_check_is_said_on_stderr() {
    let o = guard(&["check", "README.md", "--allow-empty"]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("README.md: not a format guard checks"),
        "{err}"
    );
    // Without --allow-empty, a run that checked nothing is not a pass.
    let o = guard(&["check", "README.md"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no file was checked"), "{err}");
}

#[test]
fn output_file_and_excludes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.sarif");
    let o = guard(&[
        "check",
        "fixtures/article",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("\"version\": \"2.1.0\""));
    // Excluding the files with findings leaves none: and, as nothing is
    // left to check, that is not a pass.
    let o = guard(&[
        "check",
        "fixtures/rules/BO002/fail",
        "--exclude",
        "*.json",
        "--exclude",
        "*.yaml",
        "--exclude",
        "*.yml",
        "--exclude",
        "*.tf",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let o = guard(&["check", "fixtures/rules/BO002/fail", "--exclude", "*.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // An exclude that matches nothing is a mistake worth a warning.
    let o = guard(&[
        "check",
        "fixtures/rules/BO002/fail",
        "--exclude",
        "no-such-dir",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("exclude `no-such-dir` matched no file"),
        "{err}"
    );
}

#[test]
fn color_is_off_unless_asked_and_no_color_is_honoured() {
    let plain = stdout(&guard(&["check", "fixtures/rules/BO002/fail"]));
    assert!(!plain.contains('\u{1b}'));
    let colored = stdout(&guard(&[
        "check",
        "fixtures/rules/BO002/fail",
        "--color",
        "always",
    ]));
    assert!(colored.contains('\u{1b}'));
}

#[test]
fn rules_explain_envs() {
    let o = guard(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("rules-table", stdout(&o));
    let by_id = stdout(&guard(&["explain", "BO002"]));
    let by_name = stdout(&guard(&["explain", "environment-specific-image"]));
    assert_eq!(by_id, by_name);
    assert!(by_id.contains("How to fix"));
    let o = guard(&["envs", "fixtures/article"]);
    assert_eq!(o.status.code(), Some(0));
    insta::assert_snapshot!("article-envs", stdout(&o));
}

#[test]
fn stats_are_printed_on_request() {
    let o = guard(&["check", "fixtures/article", "--stats", "--color", "never"]);
    let s = stdout(&o);
    assert!(
        s.contains("stats:") && s.contains("discovery") && s.contains("terraform"),
        "{s}"
    );
    let o = guard(&["check", "fixtures/article", "--stats", "--format", "json"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("stats:"));
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/article")
            .is_dir()
    );
}

#[test]
fn concise_statistics_quiet_summary_and_capped_annotations() {
    // The rules the article's expectations below are about (new rules
    // must not change them).
    const RULES: &str = "REG001,PIPE003,BO002,BO003,SEC005,TRF002";
    let concise_of = |dir: &str, rules: &str, quiet: bool| {
        let mut args = vec!["check", dir, "--select", rules, "--format", "concise"];
        if quiet {
            args.push("-q");
        }
        stdout(&guard(&args))
    };
    let concise = concise_of("fixtures/article", RULES, false);
    let lines: Vec<&str> = concise.lines().collect();
    // Ten findings, then the summary line (the text summary's counts).
    assert_eq!(lines.len(), 11, "{concise}");
    assert!(
        lines[10].starts_with("Found 8 errors, 2 warnings, 0 notes in ")
            && lines[10].ends_with(" files"),
        "{concise}"
    );
    // `--quiet` drops the summary: only the findings.
    let quiet = concise_of("fixtures/article", RULES, true);
    assert_eq!(quiet.lines().collect::<Vec<_>>(), lines[..10], "{quiet}");
    // A clean run says so.
    let clean = concise_of("fixtures/rules/BO001/pass", "BO001", false);
    assert!(
        clean.starts_with("No findings in ") && clean.lines().count() == 1,
        "{clean}"
    );
    assert!(lines.contains(
        &"fixtures/article/docker-compose.prod.yml:5:5: BO003 compose service app builds its own image in prod instead of running an image promoted from the environment before it [prod]"
    ));
    let stats = stdout(&guard(&[
        "check",
        "fixtures/article",
        "--select",
        RULES,
        "--statistics",
    ]));
    assert_eq!(
        stats,
        "4\tREG001\terror  \tregion-not-allowed\n2\tPIPE003\terror  \tdeploy-condition-never-true\n1\tBO002\terror  \tenvironment-specific-image\n1\tBO003\twarning\tcompose-builds-in-upper-env\n1\tSEC005\twarning\tlong-lived-aws-keys-in-workflow\n1\tTRF002\terror  \tingress-backend-missing\n10\ttotal\n"
    );
    let quiet = stdout(&guard(&[
        "check",
        "fixtures/article",
        "--select",
        RULES,
        "-q",
        "--color",
        "never",
    ]));
    assert!(!quiet.contains("Found "), "{quiet}");
    assert!(quiet.contains("error[BO002]"));
    // Errors first, three annotations, then one notice for the rest.
    let gh = stdout(&guard(&[
        "check",
        "fixtures/article",
        "--select",
        RULES,
        "--format",
        "github",
        "--max-annotations",
        "3",
    ]));
    let gh: Vec<&str> = gh.lines().collect();
    assert_eq!(gh.len(), 4);
    assert!(gh[..3].iter().all(|l| l.starts_with("::error ")));
    assert!(
        gh[3].starts_with("::notice title=guard::7 more findings"),
        "{}",
        gh[3]
    );
    // SARIF and a Markdown summary beside any format.
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("g.sarif");
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "previous step\n").unwrap();
    let o = guard(&[
        "check",
        "fixtures/article",
        "--select",
        RULES,
        "--format",
        "concise",
        "--sarif-file",
        sarif.to_str().unwrap(),
        "--summary-file",
        summary.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["runs"][0]["results"].as_array().unwrap().len(), 10);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("previous step\n## guard: 8 errors, 2 warnings, 0 notes"),
        "{md}"
    );
    assert!(
        md.contains("| `REG001` | region-not-allowed | error | 4 | dev (4) |"),
        "{md}"
    );
    // An output path that cannot be written is named in the error.
    let o = guard(&[
        "check",
        "fixtures/article",
        "--select",
        RULES,
        "-o",
        "/no/such/dir/x.txt",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/no/such/dir/x.txt"));
    assert_eq!(guard(&["envs", "no/such/dir"]).status.code(), Some(2));
}

/// Display width of text as a terminal draws it (CJK ideographs and kana
/// are two columns wide).
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFF00..=0xFF60 => 2,
            _ => 1,
        })
        .sum()
}

#[test]
fn carets_stay_under_the_span_after_wide_characters_and_tabs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("guard.toml"), "# a project\n").unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p  # 本番用のポッド\nspec:\n  containers:\n    - {name: 日本語のアプリ, image: nginx:latest}\n    - {name: t,\timage: busybox}\n",
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--color", "never"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let mut checked = 0;
    for (i, l) in lines.iter().enumerate() {
        for (needle, span) in [
            ("日本語のアプリ, image: ", "nginx:latest"),
            ("image: busybox", "busybox"),
        ] {
            if !(l.contains(needle) || l.contains(span) && l.contains("{name: t"))
                || !l.contains(" | ")
            {
                continue;
            }
            let Some(carets) = lines.get(i + 1) else {
                continue;
            };
            let Some(at) = l.find(span) else { continue };
            let expected = width(&l[..at].replace('\t', "    "));
            let got = width(&carets[..carets.find('^').unwrap()]);
            assert_eq!(got, expected, "caret under `{span}`:\n{l}\n{carets}");
            assert_eq!(
                carets
                    .trim_end()
                    .chars()
                    .rev()
                    .take_while(|&c| c == '^')
                    .count(),
                span.chars().count()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "{text}");
}

#[test]
fn parity_side_by_side_in_text_markdown_and_json() {
    let text = stdout(&guard(&["parity", "fixtures/rules/PAR001/fail"]));
    insta::assert_snapshot!("parity-text", text);
    let md = stdout(&guard(&[
        "parity",
        "fixtures/rules/PAR001/fail",
        "--format",
        "markdown",
    ]));
    insta::assert_snapshot!("parity-markdown", md);
    let json: serde_json::Value = serde_json::from_str(&stdout(&guard(&[
        "parity",
        "fixtures/rules/PAR001/pass",
        "--from",
        "staging",
        "--to",
        "prod",
        "--format",
        "json",
    ])))
    .unwrap();
    let rows: Vec<&serde_json::Value> = json
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["rows"].as_array().unwrap())
        .collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["status"] != "differs"), "{json:#}");
    assert!(rows.iter().any(|r| r["status"] == "may-differ"));
}

/// A check a rule cannot decide (a value only known after apply) is
/// counted per rule, said in the summary, and a note with --strict.
#[test]
fn undecided_checks_are_counted_and_reported_with_strict() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    std::fs::write(root.join("guard.toml"), "").expect("write");
    std::fs::create_dir_all(root.join("environments/prod")).expect("mkdir");
    std::fs::write(
        root.join("environments/prod/main.tf"),
        "data \"aws_ssm_parameter\" \"public\" {\n  name = \"/db/public\"\n}\n\nresource \"aws_db_instance\" \"main\" {\n  engine              = \"postgres\"\n  publicly_accessible = data.aws_ssm_parameter.public.value\n}\n",
    )
    .expect("write");
    let p = root.to_str().expect("utf-8");
    let o = guard(&["check", p, "--color", "never"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("1 check could not be decided"),
        "{}",
        stdout(&o)
    );
    let o = guard(&["check", p, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["summary"]["undecided"][0]["rule"], "DB001");
    assert_eq!(v["summary"]["undecided"][0]["count"], 1);
    assert!(v["findings"].as_array().expect("findings").is_empty());
    let o = guard(&["check", p, "--strict", "--format", "concise", "-q"]);
    assert!(
        stdout(&o).trim_end().ends_with(
        "environments/prod/main.tf:7:25: DB001 could not decide whether aws_db_instance.main is publicly accessible: the value is not known statically (a data source, another resource's attribute, or a module guard could not read) [prod]"),
        "{}",
        stdout(&o)
    );
}

/// A copy of a fixture layout as a repository of its own (a `.git`
/// directory marks its root), and `guard` run in it.
fn layout_repo(name: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let (src, dst) = (e.path(), to.join(e.file_name()));
            if src.is_dir() {
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/layouts")
            .join(name),
        dir.path(),
    );
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn guard_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("guard runs")
}

/// Environments named by region (`envs/prod-eu/`, `envs/prod-us/`), without
/// a guard.toml: each is a prod-tier environment of its own, `guard envs`
/// shows them, parity compares qa and staging with each (prod-us runs
/// postgres 14.9, the others 15.4: two PAR001, none against prod-eu; the
/// instance classes may differ), and `guard parity --from qa --to prod-eu`
/// knows them.
#[test]
fn region_named_environments_are_environments_of_their_tier() {
    let repo = layout_repo("region-envs");
    let o = guard_in(repo.path(), &["envs", "."]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    insta::assert_snapshot!("region-envs-envs", stdout(&o));
    let o = guard_in(repo.path(), &["check", ".", "--color", "never"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    insta::assert_snapshot!("region-envs-check", untimed(&stdout(&o)));
    let o = guard_in(
        repo.path(),
        &["parity", ".", "--from", "qa", "--to", "prod-eu"],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = stdout(&o);
    assert!(
        text.starts_with("envs/{env}: qa (envs/qa) vs prod-eu (envs/prod-eu): 0 differences"),
        "{text}"
    );
    let o = guard_in(repo.path(), &["parity", ".", "--format", "json"]);
    let tables: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let pairs: Vec<String> = tables
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}>{}",
                t["lower"].as_str().unwrap(),
                t["upper"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            "qa>prod-eu",
            "qa>prod-us",
            "staging>prod-eu",
            "staging>prod-us"
        ]
    );
}

/// Settings keyed by an environment's name apply to the environments the
/// paths name by region or cell from it: `[regions.env] prod` to `prod-eu`
/// and `prod-us`, `[parity] pairs` with `prod` to both, an `[[ignore]]` with
/// `environment = "prod"` and `--env prod` too.
#[test]
fn settings_of_an_environment_reach_its_region_named_environments() {
    let repo = layout_repo("region-envs");
    let p = repo.path();
    for (env, region) in [("prod-eu", "eu-west-1"), ("prod-us", "us-east-1")] {
        std::fs::write(
            p.join("envs").join(env).join("provider.tf"),
            format!("provider \"aws\" {{\n  region = \"{region}\"\n}}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        p.join("guard.toml"),
        "[regions.env]\nprod = [\"eu-west-1\"]\n\n[parity]\npairs = [[\"staging\", \"prod\"]]\n",
    )
    .unwrap();
    let found = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["check", ".", "--format", "json"];
        all.extend(args);
        let o = guard_in(p, &all);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["suppression"].is_null())
            .map(|f| {
                format!(
                    "{} {} {}",
                    f["rule"].as_str().unwrap(),
                    f["location"]["path"].as_str().unwrap(),
                    f["environments"][0].as_str().unwrap_or("all")
                )
            })
            .collect()
    };
    // prod's allowed regions hold in prod-us; only staging is paired.
    assert_eq!(
        found(&[]),
        [
            "REG001 envs/prod-us/provider.tf prod-us",
            "PAR001 envs/staging/terraform.tfvars staging",
        ]
    );
    assert_eq!(
        found(&["--env", "prod"]),
        ["REG001 envs/prod-us/provider.tf prod-us"]
    );
    let mut toml = std::fs::read_to_string(p.join("guard.toml")).unwrap();
    toml.push_str("\n[[ignore]]\nrule = \"REG001\"\nenvironment = \"prod\"\nreason = \"US launch approved\"\n");
    std::fs::write(p.join("guard.toml"), toml).unwrap();
    assert_eq!(found(&[]), ["PAR001 envs/staging/terraform.tfvars staging"]);
}

/// `guard --help` and `guard check --help` list the exit statuses of
/// README's "Exit status".
#[test]
fn help_lists_the_exit_statuses() {
    for args in [&["--help"][..], &["check", "--help"][..]] {
        let o = guard(args);
        assert_eq!(o.status.code(), Some(0));
        let help = stdout(&o);
        assert!(help.contains("Exit status:"), "{args:?}: {help}");
        for status in ["0  no counting finding", "1  at least one", "2  usage"] {
            assert!(help.contains(status), "{args:?} lacks `{status}`: {help}");
        }
    }
}

/// A file named on the command line (the pre-commit hook's staged files)
/// reports only the findings located in it: staging's PAR001, whose chain
/// cites prod's tfvars, is not reported for prod's tfvars alone, and is
/// for staging's. A directory still reports what passes through it.
#[test]
fn named_files_report_only_the_findings_located_in_them() {
    let base = "fixtures/rules/PAR001/fail/environments";
    let prod = format!("{base}/prod/terraform.tfvars");
    let staging = format!("{base}/staging/terraform.tfvars");
    let run = |paths: &[&str]| {
        let mut args = vec!["check", "--select", "PAR001", "--format", "concise", "-q"];
        args.extend_from_slice(paths);
        let o = guard(&args);
        (o.status.code(), stdout(&o))
    };
    let (code, out) = run(&[&prod]);
    assert_eq!((code, out.as_str()), (Some(0), ""), "{out}");
    let (code, out) = run(&[&prod, &staging]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.starts_with(&format!("{staging}:1:17: PAR001 ")) && out.lines().count() == 1,
        "{out}"
    );
    let (code, out) = run(&[&format!("{base}/prod")]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains(&format!("{staging}:1:17: PAR001 ")), "{out}");
}

/// Hardening severity is per environment: a finding holds only where its
/// tier is not silent. HD021 (restricted: silent in dev) on a base rendered
/// by the dev and prod overlays is prod's alone, and `--env dev` does not
/// list it; the AWS rules silent in dev (HD052-HD054) on a module reached
/// by dev, staging and prod name staging and prod only, in the message too.
#[test]
fn hardening_findings_hold_only_where_their_tier_is_not_silent() {
    let json = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut all = vec!["check", "--extend-select", "hardening", "--format", "json"];
        all.extend_from_slice(args);
        let v: serde_json::Value = serde_json::from_slice(&guard(&all).stdout).expect("json");
        v["findings"].as_array().cloned().unwrap_or_default()
    };
    let base = |f: &serde_json::Value| {
        f["rule"] == "HD021"
            && f["location"]["path"] == "fixtures/rules/HD021/fail/k8s/base/deployment.yaml"
    };
    let all = json(&["fixtures/rules/HD021/fail"]);
    let hd021: Vec<_> = all.iter().filter(|f| base(f)).collect();
    assert_eq!(hd021.len(), 1, "{all:#?}");
    assert_eq!(hd021[0]["environments"], serde_json::json!(["prod"]));
    let dev = json(&["fixtures/rules/HD021/fail", "--env", "dev"]);
    assert!(!dev.iter().any(|f| f["rule"] == "HD021"), "{dev:#?}");

    let module = "fixtures/rules/HD050/fail/modules/db/main.tf";
    let all = json(&["fixtures/rules/HD050/fail"]);
    let quiet_in_dev: Vec<_> = all
        .iter()
        .filter(|f| {
            f["location"]["path"] == module
                && ["HD052", "HD053", "HD054"].contains(&f["rule"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(quiet_in_dev.len(), 3, "{all:#?}");
    for f in &quiet_in_dev {
        assert_eq!(f["environments"], serde_json::json!(["staging", "prod"]));
        assert!(
            f["message"]
                .as_str()
                .unwrap()
                .ends_with("in staging and prod"),
            "{f:#}"
        );
    }
    // Nor, under `--env dev`, where the finding holds in every environment
    // (the project's root module): dev is silent for these rules.
    let dev = json(&["fixtures/rules/HD050/fail", "--env", "dev"]);
    assert!(
        !dev.iter()
            .any(|f| ["HD052", "HD053", "HD054"].contains(&f["rule"].as_str().unwrap_or(""))),
        "{dev:#?}"
    );
    assert!(dev.iter().any(|f| f["rule"] == "HD050"), "{dev:#?}");
}

#[test]
fn a_config_with_thousands_of_errors_shows_the_first_hundred() {
    // 20,000 unknown keys and a select of 20,000 unknown rules: 40,000
    // errors, of which the first 100 in file order are shown, then a count.
    let dir = tempfile::tempdir().unwrap();
    let mut t = String::from("select = [");
    for i in 0..20_000 {
        t.push_str(&format!("\"XX{i}\", "));
    }
    t.push_str("]\n");
    for i in 0..20_000 {
        t.push_str(&format!("unknown-key-{i} = 1\n"));
    }
    std::fs::write(dir.path().join("guard.toml"), &t).unwrap();
    std::fs::write(dir.path().join("main.tf"), "locals {}\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() <= 102, "{} lines", lines.len());
    assert!(
        lines[0].starts_with("guard: guard.toml:1:11: no rule, rule name or family `XX0`"),
        "{}",
        lines[0]
    );
    assert!(
        err.contains("guard.toml: 39900 more errors not shown"),
        "{}",
        lines.last().unwrap_or(&"")
    );
}

#[test]
fn a_guard_toml_that_is_not_utf8_is_an_error_at_the_first_invalid_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("guard.toml"),
        b"fail-on = \"error\"\nselect = [\"\xC3\xA9\xFF\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("main.tf"), "locals {}\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("guard.toml:2:13: not UTF-8 text: byte 0xFF is not valid UTF-8 here"),
        "{err}"
    );
}
