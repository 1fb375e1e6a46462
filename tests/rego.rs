//! The Rego bridge end to end: Conftest-style policies run unchanged and
//! are located, guard/v1 policies see environments, `guard test` runs the
//! policies' tests, and broken or hostile policies are refused.

use std::path::Path;
use std::process::{Command, Output};

fn guard_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_guard"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GUARD_CONFIG")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("guard runs")
}

fn guard(args: &[&str]) -> Output {
    guard_env(args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `rule path:line:col message` of every finding of the policy family.
/// A temporary directory holding `files` (paths relative to it, parents made).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for (path, text) in files {
        let p = dir.path().join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
    dir
}

fn verdicts(args: &[&str]) -> Vec<String> {
    let mut a = vec!["check", "--select", "policy", "--format", "json"];
    a.extend_from_slice(args);
    let o = guard(&a);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(1),
        "{}",
        stderr(&o)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}:{} {}",
                f["rule"].as_str().unwrap_or(""),
                f["location"]["path"].as_str().unwrap_or(""),
                f["location"]["start"]["line"],
                f["location"]["start"]["column"],
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn conftest_style_policies_give_conftests_verdicts_located() {
    // Kubernetes: v0 `deny[msg]`, `future.keywords` `warn`, v1 `violation`
    // objects; a multi-document file is checked document by document.
    assert_eq!(
        verdicts(&["fixtures/rego/kubernetes"]),
        [
            "main.warn fixtures/rego/kubernetes/deployment.yaml:4:9 Service hello-kubernetes is exposed by a load balancer",
            "main.deny fixtures/rego/kubernetes/deployment.yaml:14:7 Containers must not run as root",
            "main.violation fixtures/rego/kubernetes/deployment.yaml:16:9 Deployment hello-kubernetes asks for more than 2 replicas",
        ]
    );
    // Terraform through Conftest's hcl2 shape (blocks end in arrays).
    assert_eq!(
        verdicts(&["fixtures/rego/terraform"]),
        [
            "main.deny fixtures/rego/terraform/main.tf:2:17 security group rule `my-rule` opens ingress to the world",
            "main.deny fixtures/rego/terraform/main.tf:6:29 aws_alb_listener.my-alb-listener is missing tags environment,owner",
            "main.deny fixtures/rego/terraform/main.tf:8:14 ALB listener `my-alb-listener` uses HTTP rather than HTTPS",
            "main.deny fixtures/rego/terraform/main.tf:11:33 Azure disk `source` is not encrypted",
        ]
    );
    // Dockerfile instructions; package `commands` only with a namespace.
    assert_eq!(
        verdicts(&["fixtures/rego/docker"]),
        [
            "main.deny fixtures/rego/docker/Dockerfile:1:6 base image openjdk:8-jdk-alpine is not allowed"
        ]
    );
    let commands = [
        "commands.deny fixtures/rego/docker/Dockerfile:5:5 RUN uses apk: apk add --no-cache curl",
        "commands.deny fixtures/rego/docker/Dockerfile:5:5 RUN uses curl: apk add --no-cache curl",
    ];
    assert_eq!(
        verdicts(&["fixtures/rego/docker", "--namespace", "commands"]),
        commands
    );
    let all = verdicts(&["fixtures/rego/docker", "--all-namespaces"]);
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(commands.iter().all(|c| all.contains(&c.to_string())));
    // exception rules turn a rule off for the inputs they match.
    assert_eq!(
        verdicts(&["fixtures/rego/exceptions"]),
        [
            "main.deny_run_as_root fixtures/rego/exceptions/deployments.yaml:4:9 Containers must not run as root in Deployment cannot-run-as-root"
        ]
    );
    let o = guard(&["check", "fixtures/rego/exceptions", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["summary"]["policies"]["exceptions"], 1);
    assert_eq!(v["summary"]["policies"]["inputs"], 2);
    // --combine: one input of every document, located through its path.
    assert_eq!(
        verdicts(&["fixtures/rego/combine", "--combine"]),
        [
            "main.deny fixtures/rego/combine/team.yaml:6:29 teams name users that do not exist: carol@example.com",
            "main.deny fixtures/rego/combine/users.yaml:3:9 the name alice is used by more than one document (users.yaml)",
            "main.deny fixtures/rego/combine/users.yaml:13:9 the name alice is used by more than one document (users.yaml)",
        ]
    );
    // Without --combine the combined policy sees single documents: nothing.
    assert!(verdicts(&["fixtures/rego/combine"]).is_empty());
}

#[test]
fn an_unmodified_conftest_policy_is_located_in_sarif() {
    let o = guard(&[
        "check",
        "fixtures/rego/kubernetes/deployment.yaml",
        "--policy",
        "fixtures/rego/kubernetes/policy/deny.rego",
        "--select",
        "policy",
        "--format",
        "sarif",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("sarif");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["ruleId"], "main.deny");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "fixtures/rego/kubernetes/deployment.yaml"
    );
    // The Deployment is the second document: line 14, never line 1.
    assert_eq!(loc["region"]["startLine"], 14);
    let rules = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let rule = rules
        .iter()
        .find(|x| x["id"] == "main.deny")
        .expect("the policy rule is described");
    assert!(
        rule["fullDescription"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("deny.rego:5"),
        "{rule}"
    );
}

#[test]
fn the_environment_aware_example_policy_reports_prod_only() {
    let v = verdicts(&["fixtures/rego/guard-input", "--policy", "policies/guard"]);
    assert_eq!(
        v,
        [
            "ORG100 fixtures/rego/guard-input/k8s/prod/deployment.yaml:12:18 container `api` runs shop/api-hotfix in prod, but staging tested shop/api"
        ]
    );
    let o = guard(&[
        "check",
        "fixtures/rego/guard-input",
        "--policy",
        "policies/guard",
        "--select",
        "ORG100",
        "--format",
        "json",
    ]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        j["findings"][0]["environments"],
        serde_json::json!(["prod"])
    );
}

#[test]
fn the_policy_library_checks_with_its_data_and_metadata() {
    // ORG002 reads the allowed registries from data (--data).
    let v = verdicts(&[
        "policies/fixtures",
        "--no-project",
        "--policy",
        "policies/kubernetes",
        "--data",
        "policies/data.yaml",
    ]);
    assert!(
        v.contains(&"ORG002 policies/fixtures/deployment-unlabelled.yaml:12:18 container 0 of Deployment/web runs nginx:1.25, which is not from an allowed registry".to_string()),
        "{v:?}"
    );
    assert!(
        v.contains(&"ORG001 policies/fixtures/deployment-unlabelled.yaml:3:1 Deployment/web has no team label(s)".to_string())
            || v.iter().any(|x| x.starts_with("ORG001 policies/fixtures/deployment-unlabelled.yaml:")),
        "{v:?}"
    );
    assert!(
        !v.iter().any(|x| x.contains("deployment-labelled.yaml")),
        "{v:?}"
    );
    // METADATA makes the rule's documentation and severity.
    let o = guard(&["rules", "--policy", "policies"]);
    let table = stdout(&o);
    assert!(
        table.lines().any(|l| l.starts_with("ORG001")
            && l.contains("policy")
            && l.contains("warning")
            && l.contains("Workloads carry the app and team labels")),
        "{table}"
    );
    let o = guard(&[
        "explain", "ORG001", "--policy", "policies", "--format", "markdown",
    ]);
    let page = stdout(&o);
    assert!(
        page.contains("Cost reports are grouped by `team`"),
        "{page}"
    );
    assert!(page.contains("common-labels"), "{page}");
    assert!(
        page.contains("policies/kubernetes/labels.rego:25"),
        "{page}"
    );
}

#[test]
fn selection_suppressions_and_severity_apply_to_policy_rules() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    std::fs::create_dir_all(root.join("policy")).expect("mkdir");
    std::fs::write(
        root.join("guard.toml"),
        "[rules.\"main.warn\"]\nseverity = \"error\"\n",
    )
    .expect("write");
    std::fs::write(
        root.join("policy/p.rego"),
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == \"ConfigMap\"\n  msg := sprintf(\"ConfigMap %s is not allowed\", [input.metadata.name])\n}\n\nwarn contains \"a warning\" if input.kind == \"ConfigMap\"\n",
    )
    .expect("write");
    std::fs::write(
        root.join("a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n---\napiVersion: v1\nkind: ConfigMap\n# guard:ignore[main.deny] reviewed: this one is generated\nmetadata:\n  name: two\n",
    )
    .expect("write");
    let p = root.to_str().expect("utf-8");
    let run = |extra: &[&str]| -> serde_json::Value {
        let mut a = vec!["check", p, "--format", "json"];
        a.extend_from_slice(extra);
        let o = guard(&a);
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&o), stderr(&o)))
    };
    let v = run(&[]);
    let f = v["findings"].as_array().expect("findings");
    let deny: Vec<_> = f.iter().filter(|x| x["rule"] == "main.deny").collect();
    assert_eq!(deny.len(), 2);
    assert!(deny[0]["suppression"].is_null());
    assert_eq!(deny[1]["suppression"]["kind"], "in-source", "{}", deny[1]);
    // guard.toml's [rules] severity applies.
    assert!(
        f.iter()
            .filter(|x| x["rule"] == "main.warn")
            .all(|x| x["severity"] == "error")
    );
    // --ignore by family and --select by id.
    let v = run(&["--ignore", "policy"]);
    assert!(
        !v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|x| x["rule"].as_str().unwrap_or("").starts_with("main."))
    );
    let v = run(&["--select", "main.warn"]);
    let rules: Vec<&str> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|x| x["rule"].as_str())
        .collect();
    assert_eq!(rules, ["main.warn", "main.warn"]);
    // --no-policies runs none.
    let v = run(&["--no-policies"]);
    assert!(
        !v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|x| x["rule"].as_str().unwrap_or("").starts_with("main."))
    );
}

#[test]
fn guard_test_runs_the_library_and_fails_on_a_broken_policy() {
    let o = guard(&["test", "policies"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("PASS: 14/14"), "{}", stdout(&o));

    // A policy whose behaviour changed: its tests fail, located.
    let dir = tempfile::tempdir().expect("tmp");
    copy_dir(Path::new("policies"), dir.path());
    let labels = dir.path().join("kubernetes/labels.rego");
    let text = std::fs::read_to_string(&labels).expect("read");
    std::fs::write(
        &labels,
        text.replace("{\"app\", \"team\"}", "{\"app\", \"owner\"}"),
    )
    .expect("write");
    let p = dir.path().to_str().expect("utf-8");
    let o = guard(&["test", p]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("data.main.test_deployment_without_team_label_is_denied: FAIL"),
        "{out}"
    );
    assert!(out.contains("labels_test.rego:5:"), "{out}");
    assert!(out.contains("FAIL: 3/14"), "{out}");

    // A policy that does not parse: exit 2, file:line:col.
    std::fs::write(
        &labels,
        "package main\n\ndeny contains msg if {\n  input.kind ==\n}\n",
    )
    .expect("write");
    let o = guard(&["test", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("kubernetes/labels.rego:5:1: expecting expression"),
        "{}",
        stderr(&o)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(from)).expect("read") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&from.join(e.file_name()), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

#[test]
fn broken_hostile_and_runaway_policies_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    std::fs::write(root.join("guard.toml"), "").expect("write");
    std::fs::write(
        root.join("a.yaml"),
        "kind: Deployment\nmetadata:\n  name: a\n",
    )
    .expect("write");
    std::fs::create_dir_all(root.join("policy")).expect("mkdir");
    let p = root.to_str().expect("utf-8");
    let policy = root.join("policy/p.rego");
    let run = |rego: &str, env: &[(&str, &str)]| -> Output {
        std::fs::write(&policy, rego).expect("write");
        guard_env(&["check", p], env)
    };
    // Syntax error: located in the policy file.
    let o = run("package main\n\ndeny[msg] {\n  input.kind == \n}\n", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("policy/p.rego:3:11: expecting }"),
        "{}",
        stderr(&o)
    );
    // No network, no environment.
    let o = run(
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  r := http.send({\"method\": \"get\", \"url\": \"http://169.254.169.254/\"})\n  msg := r.body\n}\n",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("policy/p.rego:5:8: `http.send` is not available"),
        "{}",
        stderr(&o)
    );
    // Every refused call is named, not only the first (as OPA's capabilities check lists
    // every unavailable builtin).
    let o = run(
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  t := time.now_ns()\n  n := rand.intn(\"x\", 10)\n  msg := sprintf(\"%d %d %v\", [t, n, opa.runtime()])\n}\n",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    for want in [
        "3 calls of builtins that are not available",
        "policy/p.rego:5:8: `time.now_ns`",
        "policy/p.rego:6:8: `rand.intn`",
        "policy/p.rego:7:37: `opa.runtime`",
    ] {
        assert!(stderr(&o).contains(want), "{want}: {}", stderr(&o));
    }
    let o = run(
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  msg := opa.runtime().env.HOME\n}\n",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    // A rule that fails on one document (two complete definitions giving different values
    // are an error in OPA too: "eval_conflict_error", https://www.openpolicyagent.org/docs/latest/policy-language/#complete-definitions):
    // a located GD008 there, the rest still checked (exit 1, not 2).
    let o = run(
        "package main\nimport rego.v1\n\nx := input.kind\n\nx := input.metadata.name\n\ndeny contains msg if {\n  msg := x\n}\n",
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(
            "error[GD008]: policy-error: policy rule data.main.deny failed on this document: "
        ) && out.contains("policy/p.rego:6:1: rule conflicts with rule at ")
            && out.contains("policy/p.rego:4:1"),
        "{out}"
    );
    // No absolute path of the machine, even for a project outside the
    // current directory.
    assert!(!out.contains(&*root.to_string_lossy()), "{out}");
    // A runaway policy is stopped, naming the rule.
    let o = run(
        "package main\nimport rego.v1\n\ndeny contains msg if {\n  x := [i | some a in numbers.range(1, 4000); some b in numbers.range(1, 4000); i := a * b]\n  count(x) > 0\n  msg := \"never\"\n}\n",
        &[("GUARD_POLICY_TIMEOUT_MS", "200")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("policy rule data.main.deny was stopped after 200 ms on a.yaml"),
        "{}",
        stderr(&o)
    );
    // guard.toml (part of the scanned repository) cannot point outside it.
    std::fs::write(root.join("guard.toml"), "policies = [\"..\"]\n").expect("write");
    let o = guard(&["check", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a directory inside the project"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn policy_output_is_the_same_whatever_the_thread_count() {
    let args = [
        "check",
        "fixtures/rego",
        "--all-namespaces",
        "--policy",
        "fixtures/rego/kubernetes/policy",
        "--policy",
        "fixtures/rego/terraform/policy",
        "--policy",
        "fixtures/rego/docker/policy",
        "--format",
        "json",
    ];
    let one = guard_env(&args, &[("RAYON_NUM_THREADS", "1")]);
    let two = guard_env(&args, &[("RAYON_NUM_THREADS", "2")]);
    assert!(!one.stdout.is_empty());
    assert_eq!(stdout(&one), stdout(&two));
}

/// The guard/v1 input's shape is recorded per schema version: a change of
/// shape needs a new version (and a new record), never a silent change.
#[test]
fn the_guard_input_schema_changes_only_with_its_version() {
    let opts = guard::Options {
        paths: vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rego/guard-input")],
        no_policies: true,
        ..guard::Options::default()
    };
    let loaded = guard::load(&opts).expect("loads");
    let input = guard::rego::guard_input::build(&loaded.model);
    assert_eq!(input.value["schema"], guard::rego::guard_input::SCHEMA);
    let shape: Vec<String> = guard::rego::guard_input::shape(&input.value)
        .into_iter()
        .collect();
    let record = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/policy_input/{}.shape",
        guard::rego::guard_input::SCHEMA.replace('/', "-")
    ));
    if std::env::var_os("GUARD_RECORD_SHAPE").is_some() {
        std::fs::create_dir_all(record.parent().expect("dir")).expect("mkdir");
        std::fs::write(&record, shape.join("\n") + "\n").expect("write");
    }
    let recorded = std::fs::read_to_string(&record).unwrap_or_else(|_| {
        panic!(
            "{} is not recorded: a new schema version records its shape (GUARD_RECORD_SHAPE=1)",
            record.display()
        )
    });
    let recorded: Vec<&str> = recorded.lines().collect();
    assert_eq!(
        shape, recorded,
        "the guard/v1 input changed shape: bump guard_input::SCHEMA, document it in docs/policy-input.md and record the new shape"
    );
    // Every entity kind is in the fixture, so every part of the shape is checked.
    for part in [
        "documents[]",
        "terraform[].resources[]",
        "images[]",
        "parity[]",
    ] {
        assert!(
            shape
                .iter()
                .any(|s| s.starts_with(&format!("input.{part}.location"))),
            "{part} has no location in the fixture"
        );
    }
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy-input.md"))
            .expect("docs/policy-input.md");
    assert!(docs.contains(&format!("`{}`", guard::rego::guard_input::SCHEMA)));
}

/// The policies share one time budget over the whole run (`GUARD_POLICY_BUDGET_S`): a slow
/// policy over many documents stops at it, with one GD008 error saying how many documents it
/// left out, instead of holding the runner for hours; the built-in rules still run.
#[test]
fn the_policies_time_budget_bounds_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("guard.toml"), "").unwrap();
    std::fs::create_dir(root.join("policy")).unwrap();
    std::fs::write(
        root.join("policy/slow.rego"),
        "package main\n\ndeny contains msg if {\n\tcount([x | some x in numbers.range(1, 600000); x % 7 == 0]) < 0\n\tmsg := \"never\"\n}\n",
    )
    .unwrap();
    for i in 0..60 {
        std::fs::write(
            root.join(format!("cm{i:02}.yaml")),
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  DB_PASSWORD: hunter2-but-longer-{i}\n"),
        )
        .unwrap();
    }
    let dir = root.to_str().unwrap();
    let o = guard_env(
        &["check", dir, "--format", "json"],
        &[
            ("GUARD_POLICY_BUDGET_S", "1"),
            ("GUARD_POLICY_TIMEOUT_MS", "60000"),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a JSON report");
    let findings = v["findings"].as_array().unwrap();
    let budget: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["rule"] == "GD008" && f["message"].as_str().unwrap().contains("time budget"))
        .collect();
    assert_eq!(budget.len(), 1, "{findings:#?}");
    assert!(
        budget[0]["message"]
            .as_str()
            .unwrap()
            .contains("of 60 documents"),
        "{:#}",
        budget[0]
    );
    // The built-in rules judged every document.
    assert_eq!(
        findings.iter().filter(|f| f["rule"] == "SEC001").count(),
        60
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// A policy function that calls itself is refused when the policies load, naming the cycle, as
/// OPA's compiler refuses it: evaluated, it would overflow the stack and kill the run without a
/// word.
#[test]
fn a_recursive_policy_function_is_refused_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("guard.toml"), "").unwrap();
    std::fs::create_dir(root.join("policy")).unwrap();
    std::fs::write(
        root.join("policy/rec.rego"),
        "package main\n\nf(x) := y if {\n\ty := f(x + 1)\n}\n\ndeny contains msg if {\n\tf(1) > 0\n\tmsg := \"x\"\n}\n",
    )
    .unwrap();
    std::fs::write(root.join("a.yaml"), "a: 1\n").unwrap();
    let o = guard(&["check", root.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "policy/rec.rego:3: policy function is recursive (data.main.f -> data.main.f)"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_denial_with_an_empty_message_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("p.rego"),
        "package main\n\ndeny contains msg if {\n\tinput.kind == \"Deployment\"\n\tmsg := \"  \"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("d.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--format", "json", "--select", "policy", "."])
        .current_dir(dir.path())
        .env_remove("GUARD_CONFIG")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["findings"][0]["message"],
        "the policy denies this input without a reason (its message is empty)",
        "{}",
        stderr(&o)
    );
}

#[test]
fn undefined_is_not_an_error_as_in_opa() {
    // fixtures/rego/opa-semantics/policy/undefined.rego: every reference OPA finds undefined
    // (a field of a string, an index of a number, a missing key, `some .. in` a string,
    // builtins and arithmetic given the wrong types, a rule head or comprehension over a
    // missing path) makes its rule report nothing, without an error; the set rule whose head
    // iterated over nothing is the empty set. The OPA documentation for each case is cited
    // next to it. Only the conflict of failing.rego is an error, as in OPA.
    let v = verdicts(&["fixtures/rego/opa-semantics", "--select", "GD008"]);
    let p = "fixtures/rego/opa-semantics/pod.yaml";
    let undefined: Vec<&String> = v
        .iter()
        .filter(|l| {
            [
                "field of a string",
                "index of a number",
                "missing key",
                "some in a string",
                "builtin given a list",
                "count of a number",
                "arithmetic on",
                "deny_head_over_string",
                "GD008",
            ]
            .iter()
            .any(|w| l.contains(w))
                && !l.contains("deny_conflicting")
        })
        .collect();
    assert!(undefined.is_empty(), "{undefined:#?}");
    assert!(
        v.contains(&format!(
            "main.deny_no_volumes {p}:2:7 the pod has no volumes"
        )),
        "{v:#?}"
    );
    assert!(
        v.contains(&format!(
            "main.deny_empty_comprehension {p}:10:3 no init containers"
        )),
        "{v:#?}"
    );
}

#[test]
fn comprehension_and_some_scopes_are_as_in_opa() {
    // fixtures/rego/opa-semantics/policy/scoping.rego (OPA docs cited there): a reference in a
    // comprehension written before the comprehension's own `name := ...` is the rule's `name`
    // (OPA: "other services: DB,CACHE"; regorus 0.14.1 refused the policy, "var `name` used
    // before definition below"), and `some i` is declared afresh on each iteration of the rule
    // body (OPA: "a at 1", "b at 1"; regorus 0.14.1: "duplicated definition of local variable").
    let v = verdicts(&["fixtures/rego/opa-semantics", "--select", "GD008"]);
    let p = "fixtures/rego/opa-semantics/pod.yaml";
    let scoping: Vec<&String> = v
        .iter()
        .filter(|l| l.contains("deny_shadowed") || l.contains("deny_some_in_loop"))
        .collect();
    assert_eq!(
        scoping,
        [
            &format!("main.deny_shadowed {p}:2:7 other services: DB,CACHE"),
            &format!("main.deny_some_in_loop {p}:2:7 a at 1"),
            &format!("main.deny_some_in_loop {p}:2:7 b at 1"),
        ],
        "{v:#?}"
    );
    assert!(!v.iter().any(|l| l.contains("scoping.rego")), "{v:#?}");
}

#[test]
fn a_failing_rule_leaves_the_other_rules_results_and_helpers_are_not_reported() {
    let v = verdicts(&["fixtures/rego/opa-semantics", "--select", "GD008"]);
    let p = "fixtures/rego/opa-semantics/pod.yaml";
    // The conflict fails deny_conflicting only: one located GD008...
    let errors: Vec<&String> = v.iter().filter(|l| l.starts_with("GD008 ")).collect();
    assert_eq!(errors.len(), 1, "{v:#?}");
    assert!(
        errors[0].starts_with(&format!(
            "GD008 {p}:2:7 policy rule data.main.deny_conflicting failed on this document: "
        )) && errors[0].contains("rule conflicts with rule at"),
        "{v:#?}"
    );
    // ... and every other rule of package main still reports (the package's rules are
    // evaluated together, then one by one when one of them fails).
    for want in [
        "main.deny_v0 ",
        "main.deny_future_keywords ",
        "main.deny_metadata ",
        "main.deny_sprintf ",
        "main.deny_reordered ",
        "main.warn_labels ",
    ] {
        assert!(v.iter().any(|l| l.starts_with(want)), "{want}: {v:#?}");
    }
    // Only Conftest's result rules are reported (deny, violation, warn, with `_suffix`es):
    // `helper` and `denyall` are helpers (https://www.conftest.dev/#rule-names ... "deny",
    // "violation" and "warn" rules, optionally followed by `_` and a suffix).
    assert!(
        !v.iter()
            .any(|l| l.contains("a helper") || l.contains("not a result rule")),
        "{v:#?}"
    );
}

#[test]
fn rego_loads_and_formats_as_opa() {
    let v = verdicts(&["fixtures/rego/opa-semantics", "--select", "GD008"]);
    let p = "fixtures/rego/opa-semantics/pod.yaml";
    for want in [
        // v0 syntax and future.keywords imports next to rego.v1 files in one package.
        format!("main.deny_v0 {p}:2:7 written in v0 syntax"),
        format!("main.deny_future_keywords {p}:2:7 written with future keywords"),
        // A variable used one line before the unification that binds it: OPA reorders.
        format!(
            "main.deny_reordered {p}:12:14 image registry.example/web:1.0 is bound on the next line"
        ),
        // rego.metadata.rule() is the rule's METADATA; chain() starts at the rule
        // (https://www.openpolicyagent.org/docs/policy-reference/builtins/rego).
        format!(
            "main.deny_metadata {p}:2:7 Images come from the organisation's registry (IMG-1); chain of 1, first deny_metadata"
        ),
        // sprintf as Go's fmt: %f has 6 decimals (Go: fmt, "The default precision ... %f is 6").
        format!("main.deny_sprintf {p}:2:7 1.500000 2.35 1.5 [\"a\", 1] 7 x"),
    ] {
        assert!(v.contains(&want), "{want}\n{v:#?}");
    }
}

#[test]
fn a_policy_failing_everywhere_is_one_finding_and_is_stopped() {
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    std::fs::write(root.join("guard.toml"), "").expect("write");
    std::fs::create_dir_all(root.join("policy")).expect("mkdir");
    std::fs::write(
        root.join("policy/p.rego"),
        "package main\nimport rego.v1\n\nx := input.kind\n\nx := input.metadata.name\n\ndeny contains msg if {\n  msg := x\n}\n\nwarn contains \"checked\" if input.kind\n",
    )
    .expect("write");
    for i in 0..300 {
        std::fs::write(
            root.join(format!("d{i:03}.yaml")),
            format!("kind: ConfigMap\nmetadata:\n  name: c{i}\n"),
        )
        .expect("write");
    }
    let p = root.to_str().expect("utf-8");
    let o = guard(&[
        "check",
        p,
        "--format",
        "concise",
        "--select",
        "policy,GD008",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let errors: Vec<&str> = out.lines().filter(|l| l.contains(" GD008 ")).collect();
    // One finding for the rule, at the first document, with the count: never one per document.
    assert_eq!(errors.len(), 1, "{out}");
    assert!(
        errors[0].contains("d000.yaml:1:7: GD008 policy rule data.main.deny failed on 256 documents, this one first: ")
            && errors[0].ends_with(
                "; after 20 failures it was not evaluated on the 44 remaining documents"
            ),
        "{out}"
    );
    // The package's other rule ran on every document.
    assert_eq!(out.lines().filter(|l| l.ends_with(" checked")).count(), 300);
}

#[test]
fn policies_see_only_the_documents_of_the_paths_given() {
    // `conftest test team.yaml --combine` combines team.yaml alone: every user it names is
    // unknown. The project's users.yaml is not part of the input.
    let v = verdicts(&["fixtures/rego/combine/team.yaml", "--combine"]);
    assert_eq!(
        v,
        [
            "main.deny fixtures/rego/combine/team.yaml:5:11 teams name users that do not exist: alice@example.com, bob@example.com, carol@example.com"
        ]
    );
}

#[test]
fn guard_test_without_a_test_fails_as_conftest_verify_does() {
    // A run where no test ran is not a pass: exit 2, saying so (also when --run matches none).
    let o = guard(&["test", "fixtures/rego/opa-semantics/policy"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("no test (a rule named test_*)"),
        "{}",
        stderr(&o)
    );
    let o = guard(&["test", "policies", "--run", "no_such_test_name"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
}

#[test]
fn conftest_findings_land_on_the_key_they_name() {
    // Conftest's hcl2 example: a message naming the resource type and name lands on the
    // block's name label (the deepest key it quotes), not on line 1 of another block.
    let c = "tests/conftest_compat/examples/hcl2";
    let v = verdicts(&[
        "--policy",
        &format!("{c}/policy"),
        &format!("{c}/terraform.tf"),
    ]);
    let at = |needle: &str| {
        v.iter()
            .find(|l| l.contains(needle))
            .map(|l| l.split(' ').nth(1).unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(
        at("named \"my-alb-listener\""),
        format!("{c}/terraform.tf:6:29"),
        "{v:?}"
    );
    assert_eq!(
        at("named \"my-group\""),
        format!("{c}/terraform.tf:11:34"),
        "{v:?}"
    );
    assert_eq!(
        at("ALB `my-alb-listener` is using HTTP"),
        format!("{c}/terraform.tf:8:14")
    );
    // A Dockerfile in BuildKit's shape: ENV names, the shell form's one string, a flag and a
    // comment are each located at their bytes.
    let c = "tests/conftest_compat/guard/dockerfile";
    let v = verdicts(&[
        "--policy",
        &format!("{c}/policy"),
        &format!("{c}/Dockerfile"),
    ]);
    let f = format!("{c}/Dockerfile");
    for want in [
        format!("main.deny {f}:2:5 ENV APP_SECRET looks like a secret"),
        format!("main.deny {f}:3:5 ENV LEGACY_SECRET looks like a secret"),
        format!("main.deny {f}:6:6 COPY sets ownership with --chown=app:app"),
        format!("main.deny {f}:7:1 unresolved comment in stage 1: TODO pin the base image"),
        format!("main.deny {f}:9:9 ONBUILD RUN is not allowed"),
    ] {
        assert!(v.contains(&want), "{want} not in {v:?}");
    }
    // A result object's `path` into the input, and Conftest's `_loc` (`{file, line}`, the
    // file defaulting to the input's): exactly there.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("policy");
    std::fs::create_dir(&p).unwrap();
    std::fs::write(
        p.join("p.rego"),
        "package main\n\nimport rego.v1\n\ndeny contains {\"msg\": \"image is not pinned\", \"path\": [\"spec\", \"containers\", i, \"image\"]} if {\n\tsome i, c in input.spec.containers\n\tendswith(c.image, \":latest\")\n}\n\nwarn contains {\"msg\": \"see here\", \"_loc\": {\"line\": \"4\"}} if input.kind == \"Pod\"\n\nwarn contains {\"msg\": \"run\", \"path\": [2, \"Value\", 0]} if input[2].Cmd == \"run\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n    name: web\nspec:\n  containers:\n    - name: a\n      image: nginx:1.27\n    - name: b\n      image: redis:latest\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        "# base\nFROM alpine\nRUN echo \\\n  done\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--format", "json", "--select", "policy", "."])
        .current_dir(dir.path())
        .env_remove("GUARD_CONFIG")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let got: Vec<String> = v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{} {}",
                f["location"]["path"].as_str().unwrap_or(""),
                f["location"]["start"]["line"],
                f["location"]["start"]["column"],
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            "Dockerfile:3:5 run",
            "pod.yaml:4:5 see here",
            "pod.yaml:10:14 image is not pinned"
        ],
        "{}",
        stderr(&o)
    );
}

#[test]
fn guard_test_filters_packages_as_conftest_verify_does() {
    // `conftest verify --namespace 'ma*'`: the tests of the packages the pattern matches.
    let count = |ns: &str| {
        let o = guard(&["test", "policies", "--namespace", ns, "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        v.as_array().map_or(0, Vec::len)
    };
    assert_eq!(count("guard.*"), 2);
    assert_eq!(count("ma*"), 12);
    assert_eq!(count("main"), 12);
    assert_eq!(count("*"), 14);
    // No package matches: no test ran, which is an error.
    let o = guard(&["test", "policies", "--namespace", "doesnotexist"]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
}

#[test]
fn an_empty_policy_directory_is_an_error_as_in_conftest() {
    // `conftest test -p empty/`: "no policies found". guard says so and exits 2, rather than
    // checking with no policy at all; the project's own default directories may be empty.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    std::fs::write(dir.path().join("empty/README.md"), "not a policy\n").unwrap();
    std::fs::write(dir.path().join("guard.toml"), "# a project\n").unwrap();
    std::fs::write(dir.path().join("a.yaml"), "a: 1\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", ".", "--policy", "empty"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no policies found in empty"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn rego_version_forces_the_syntax_as_conftests_flag() {
    // Conftest's --rego-version (https://www.conftest.dev/options/#-rego-version): v1 parses
    // every policy as Rego v1, so a policy in v0 syntax fails to load, located; v0 parses as
    // Rego v0, where `contains`/`if` without `import rego.v1` (or future.keywords) are not
    // keywords, so a v1 policy fails to load; without the flag guard takes each file as v1,
    // else v0.
    let dir = tempfile::tempdir().expect("tmp");
    let root = dir.path();
    std::fs::write(root.join("guard.toml"), "").expect("write");
    std::fs::write(root.join("a.yaml"), "kind: Pod\n").expect("write");
    std::fs::create_dir_all(root.join("v0")).expect("mkdir");
    std::fs::create_dir_all(root.join("v1")).expect("mkdir");
    std::fs::write(
        root.join("v0/p.rego"),
        "package main\n\ndeny[msg] {\n  input.kind == \"Pod\"\n  msg := \"v0 pod\"\n}\n",
    )
    .expect("write");
    std::fs::write(
        root.join("v1/p.rego"),
        "package main\n\ndeny contains msg if {\n  input.kind == \"Pod\"\n  msg := \"v1 pod\"\n}\n",
    )
    .expect("write");
    let a = root.join("a.yaml");
    let a = a.to_str().expect("utf-8");
    let run = |policy: &str, version: Option<&str>| -> Output {
        let p = root.join(policy);
        let mut args = vec!["check", "--select", "policy", "--format", "concise"];
        args.extend(["--policy", p.to_str().expect("utf-8"), a]);
        if let Some(v) = version {
            args.extend(["--rego-version", v]);
        }
        guard(&args)
    };
    for (policy, version, code, out) in [
        ("v0", None, 1, "v0 pod"),
        ("v1", None, 1, "v1 pod"),
        ("v0", Some("v0"), 1, "v0 pod"),
        ("v1", Some("v1"), 1, "v1 pod"),
        ("v0", Some("v1"), 2, "v0/p.rego:3:"),
        ("v1", Some("v0"), 2, "v1/p.rego:3:"),
    ] {
        let o = run(policy, version);
        let text = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(code), "{policy} {version:?}: {text}");
        assert!(text.contains(out), "{policy} {version:?}: {text}");
    }
}

#[test]
fn guard_test_explains_a_failure_with_values_and_prints_as_opa_test() {
    // `opa test` (https://www.openpolicyagent.org/docs/latest/policy-testing/): print() output
    // is shown for failing tests (and every test with -v), located `file:line`; `--explain
    // fails` shows the expression that failed. guard shows the first statement of the test
    // body that does not hold, with the values of a comparison's sides and of the variables
    // bound before it.
    let dir = tree(&[
        (
            "policy/p.rego",
            "package main\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == \"Pod\"\n  msg := \"pod\"\n}\n",
        ),
        (
            "policy/p_test.rego",
            "package main\nimport rego.v1\n\ntest_pod if {\n  x := 1\n  print(\"x is\", x)\n  count(deny) == 2 with input as {\"kind\": \"Pod\"}\n}\n\ntest_service if {\n  print(\"checked\")\n  count(deny) == 0 with input as {\"kind\": \"Service\"}\n}\n\ntest_groovy if {\n  parse_config(\"groovy\", \"x\") == {}\n}\n",
        ),
    ]);
    let root = dir.path();
    let p = root.join("policy");
    let p = p.to_str().expect("utf-8");
    let o = guard(&["test", p]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "data.main.test_pod: FAIL",
        "p_test.rego:7: `count(deny) == 2 with input as {\"kind\": \"Pod\"}` does not hold",
        "  count(deny) = 1\n",
        "  x = 1\n",
        "p_test.rego:6: x is 1\n",
        // An evaluation error is shown whole (regorus starts it with a blank line).
        "no parser `groovy`",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
    // The constant side is not repeated; a passing test's prints only with -v.
    assert!(!out.contains("  2 = 2"), "{out}");
    assert!(!out.contains("checked"), "{out}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let o = guard(&["test", "-v", p]);
    assert!(
        stdout(&o).contains("p_test.rego:11: checked\n"),
        "{}",
        stdout(&o)
    );
    let o = guard(&["test", "--format", "json", p]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let pod = v
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "data.main.test_pod"))
        .expect("test_pod");
    assert_eq!(pod["explanation"][1], "  count(deny) = 1", "{pod}");
    assert!(
        pod["prints"][0]
            .as_str()
            .is_some_and(|s| s.ends_with("p_test.rego:6: x is 1")),
        "{pod}"
    );
}

#[test]
fn guard_test_trace_shows_rules_and_statements_as_opa_pretty_trace() {
    // `conftest verify --trace` / `opa test -v --explain full`: every test with its evaluation
    // trace, one event per line at the policy's file:line, nested by `| ` per rule entered (a
    // rule's `Enter` at the depth of the statement that refers to it, its body one deeper)
    // (https://www.openpolicyagent.org/docs/latest/policy-testing/#test-output): `Enter` a
    // rule, `Eval` a statement, `Fail` one that does not hold, `Exit` the rule.
    let dir = tree(&[
        (
            "policy/p.rego",
            "package main\nimport rego.v1\n\ndeny contains msg if {\n  input.kind == \"Pod\"\n  msg := \"pod\"\n}\n",
        ),
        (
            "policy/p_test.rego",
            "package main\nimport rego.v1\n\ntest_pod if {\n  count(deny) == 1 with input as {\"kind\": \"Pod\"}\n}\n\ntest_service if {\n  count(deny) == 1 with input as {\"kind\": \"Service\"}\n}\n",
        ),
    ]);
    let root = dir.path();
    let p = root.join("policy");
    let p = p.to_str().expect("utf-8");
    // Without --trace: no trace.
    let o = guard(&["test", "-v", p]);
    assert!(!stdout(&o).contains("Enter"), "{}", stdout(&o));
    let o = guard(&["test", "--trace", p]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let has = |suffix: &str, needle: &str| {
        lines
            .iter()
            .any(|l| l.contains(suffix) && l.ends_with(needle))
    };
    // The passing test (shown: --trace implies -v) and the failing one, each traced.
    assert!(out.contains("data.main.test_pod: PASS"), "{out}");
    assert!(out.contains("data.main.test_service: FAIL"), "{out}");
    assert!(has("p_test.rego:4 ", "Enter test_pod"), "{out}");
    assert!(
        has(
            "p_test.rego:5 ",
            "| Eval count(deny) == 1 with input as {\"kind\": \"Pod\"}"
        ),
        "{out}"
    );
    assert!(has("p.rego:4 ", "| Enter deny"), "{out}");
    assert!(has("p.rego:5 ", "| | Eval input.kind == \"Pod\""), "{out}");
    assert!(has("p.rego:6 ", "| | Eval msg := \"pod\""), "{out}");
    assert!(has("p.rego:4 ", "| Exit deny"), "{out}");
    // For the Service, the rule body fails at its first statement, and so does the test.
    assert!(has("p.rego:5 ", "| | Fail input.kind == \"Pod\""), "{out}");
    assert!(
        has(
            "p_test.rego:9 ",
            "| Fail count(deny) == 1 with input as {\"kind\": \"Service\"}"
        ),
        "{out}"
    );
    // The Service's trace has no `msg :=`: the body stopped at the failed statement.
    let service = out
        .split("data.main.test_service")
        .nth(1)
        .expect("service test");
    assert!(!service.contains("Eval msg :="), "{service}");
    // JSON: the same lines in `trace`.
    let o = guard(&["test", "--trace", "--format", "json", p]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let pod = v
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "data.main.test_pod"))
        .expect("test_pod");
    let trace: Vec<&str> = pod["trace"]
        .as_array()
        .expect("trace")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    assert!(
        trace
            .first()
            .is_some_and(|l| l.contains("p_test.rego:4") && l.ends_with("Enter test_pod")),
        "{trace:?}"
    );
    let o = guard(&["test", "--format", "json", p]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(
        v.as_array()
            .is_some_and(|a| a.iter().all(|t| t.get("trace").is_none())),
        "{v}"
    );
}

#[test]
fn print_during_check_is_shown_as_conftest_shows_it() {
    // Conftest gathers print() output per query and its `stdout` output writes it first, one
    // `PRNT` line per call with the policy's file:line (conftest: output/standard.go,
    // policy/engine.go printHook); its json and other outputs leave it out. guard: the same in
    // `text` (nothing on stderr), none in json/sarif.
    let dir = tree(&[
        (
            "policy/p.rego",
            "package main\nimport rego.v1\n\ndeny contains msg if {\n  print(\"kind is\", input.kind)\n  input.kind == \"Pod\"\n  msg := \"no pods\"\n}\n",
        ),
        ("a.yaml", "kind: Pod\n---\nkind: Service\n"),
    ]);
    let root = dir.path();
    let r = root.to_str().expect("utf-8");
    let o = guard(&[
        "check",
        r,
        "--select",
        "policy",
        "--policy",
        root.join("policy").to_str().expect("utf-8"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let prints: Vec<&str> = out.lines().filter(|l| l.starts_with("PRNT")).collect();
    assert_eq!(prints.len(), 2, "{out}");
    assert!(prints[0].ends_with("p.rego:5: kind is Pod"), "{out}");
    assert!(prints[1].ends_with("p.rego:5: kind is Service"), "{out}");
    // First, before the findings.
    assert!(out.starts_with("PRNT"), "{out}");
    assert!(out.contains("no pods"), "{out}");
    assert!(!stderr(&o).contains("kind is"), "{}", stderr(&o));
    let o = guard(&[
        "check",
        r,
        "--select",
        "policy",
        "--format",
        "json",
        "--policy",
        root.join("policy").to_str().expect("utf-8"),
    ]);
    let _: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(!stdout(&o).contains("kind is"), "{}", stdout(&o));
    assert!(!stderr(&o).contains("kind is"), "{}", stderr(&o));
}

#[test]
fn rules_and_calls_read_again_give_opas_values_under_with_and_across_modules() {
    // The vendored regorus remembers what it looked up (vendor/regorus/README.md, item 11):
    // a rule path already evaluated, a name's path in its module, a call's resolved function.
    // What OPA gives for each (https://www.openpolicyagent.org/docs/latest/policy-language/#with-keyword:
    // `with` replaces input for the one expression and rules under it are evaluated again):
    // `both` is [2, 11, 2] (y read, y under `with`, y read again); each module's `h.f`
    // resolves through its own import; a default function answers where no body does; rules
    // with ref heads (`limits.cpu := "1"`) are read by their full path and as one object.
    let dir = tree(&[
        (
            "policy/main.rego",
            "package main\nimport rego.v1\n\ny := input.a + 1\n\ninner := v if {\n  v := y with input as {\"a\": 10}\n}\n\nboth := [y, inner, y]\n\ndefault g(_) := 0\n\nlimits.cpu := \"1\"\nlimits.memory := \"1Gi\"\n",
        ),
        (
            "policy/lib_a.rego",
            "package lib.a\nimport rego.v1\n\nf(x) := x + 1\n",
        ),
        (
            "policy/lib_b.rego",
            "package lib.b\nimport rego.v1\n\nf(x) := x + 100\n",
        ),
        (
            "policy/p1.rego",
            "package p1\nimport rego.v1\nimport data.lib.a as h\n\nr := h.f(1)\n",
        ),
        (
            "policy/p2.rego",
            "package p2\nimport rego.v1\nimport data.lib.b as h\n\nr := h.f(1)\n",
        ),
        (
            "policy/main_test.rego",
            "package main\nimport rego.v1\n\ntest_with if {\n  both == [2, 11, 2] with input as {\"a\": 1}\n  both == [4, 11, 4] with input as {\"a\": 3}\n}\n\ntest_modules if {\n  data.p1.r == 2\n  data.p2.r == 101\n  data.p1.r + data.p2.r == 103\n}\n\ntest_default_function if {\n  g(1) == 0\n  g(2) == 0\n}\n\ntest_ref_heads if {\n  limits.cpu == \"1\"\n  limits.memory == \"1Gi\"\n  limits == {\"cpu\": \"1\", \"memory\": \"1Gi\"}\n}\n",
        ),
    ]);
    let p = dir.path().join("policy");
    let o = guard(&["test", "-v", p.to_str().expect("utf-8")]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    for want in [
        "data.main.test_with: PASS",
        "data.main.test_modules: PASS",
        "data.main.test_default_function: PASS",
        "data.main.test_ref_heads: PASS",
    ] {
        assert!(out.contains(want), "{want}: {out}");
    }
}

/// The vendored regorus looks string keys up without building a string value
/// (`Value::index_str`, `Object::get_str`): the same answer as indexing with the value, for
/// objects of every kind of key, present and absent keys, and both of its object layouts
/// (JSON-read objects are stored frozen, built ones in a tree).
#[cfg(regorus_trace)]
#[test]
fn string_key_lookups_agree_with_value_key_lookups() {
    use regorus::Value;
    let probes = [
        "",
        "a",
        "b",
        "ab",
        "apiVersion",
        "kind",
        "metadata",
        "z",
        "zz",
        "null",
        "1",
        "true",
    ];
    let mut built = Value::new_object();
    {
        let o = built.as_object_mut().expect("object");
        o.insert(Value::Null, Value::from("null key"));
        o.insert(Value::from(true), Value::from("bool key"));
        o.insert(Value::from(1u64), Value::from("number key"));
        o.insert(Value::from("a"), Value::from(1u64));
        o.insert(Value::from("kind"), Value::from("Pod"));
        o.insert(Value::from("zz"), Value::from(2u64));
        o.insert(Value::new_array(), Value::from("array key"));
        o.insert(Value::new_object(), Value::from("object key"));
    }
    let frozen = Value::from_json_str(
        r#"{"": 0, "a": 1, "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "zz": 2}"#,
    )
    .expect("json");
    let mut set = Value::new_set();
    set.as_set_mut().expect("set").insert(Value::from("a"));
    for v in [
        &built,
        &frozen,
        &set,
        &Value::Null,
        &Value::from("a"),
        &Value::new_array(),
    ] {
        for k in probes {
            assert_eq!(v.index_str(k), &v[&Value::from(k)], "{v:?}[{k:?}]");
            if let Ok(o) = v.as_object() {
                assert_eq!(o.get_str(k), o.get(&Value::from(k)), "{v:?}.get({k:?})");
            }
        }
    }
}
