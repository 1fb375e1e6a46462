//! Adversarial trees, end to end through the binary: each hostile file gets
//! a located diagnostic (or is read correctly), and a real violation in a
//! sibling file is still reported. Nothing is read outside the project,
//! nothing of the machine is printed, and output does not depend on the
//! thread count.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn write(root: &Path, path: &str, content: &[u8]) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

const SIBLING: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: sibling
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:latest
";

/// A project holding the sibling violation and `files`.
fn project(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "guard.toml", b"# adversarial fixture\n");
    write(d, "k8s/sibling.yaml", SIBLING.as_bytes());
    for (p, c) in files {
        write(d, p, c);
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(args)
        .current_dir(dir)
        .env_remove("GUARD_CONFIG")
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn json(dir: &Path) -> Value {
    let (code, out, err) = run(dir, &["check", "--format", "json"]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    serde_json::from_str(&out).unwrap()
}

/// (rule, path, line, column) of every finding.
fn found(v: &Value) -> Vec<(String, String, u64, u64)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap().to_string(),
                f["location"]["start"]["line"].as_u64().unwrap(),
                f["location"]["start"]["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has(v: &Value, rule: &str, path: &str, line: u64) -> bool {
    found(v)
        .iter()
        .any(|(r, p, l, _)| r == rule && p == path && *l == line)
}

fn assert_sibling(v: &Value) {
    assert!(
        has(v, "BO001", "k8s/sibling.yaml", 10),
        "the sibling violation is still reported: {:?}",
        found(v)
    );
}

#[test]
fn line_endings_agree_everywhere() {
    let lf = SIBLING.replace("sibling", "lf");
    let crlf = lf.replace("name: lf", "name: crlf").replace('\n', "\r\n");
    let cr = lf.replace("name: lf", "name: cr").replace('\n', "\r");
    // Mixed: the first half LF, the rest CR.
    let (a, b) = lf.split_at(lf.find("spec:").unwrap());
    let mixed = format!(
        "{}{}",
        a.replace("name: lf", "name: mixed"),
        b.replace('\n', "\r")
    );
    let tabs = lf.replace("name: lf", "name: tabs").replace(
        "image: nginx:latest",
        "image: nginx:latest\t# a tab before the comment",
    );
    let dir = project(&[
        ("k8s/lf.yaml", lf.into_bytes()),
        ("k8s/crlf.yaml", crlf.into_bytes()),
        ("k8s/cr.yaml", cr.into_bytes()),
        ("k8s/mixed.yaml", mixed.into_bytes()),
        ("k8s/tabs.yaml", tabs.into_bytes()),
        (
            "tf/main.tf",
            b"resource \"aws_db_instance\" \"db\" {\r\n  engine = \"postgres\"\r\n  publicly_accessible = true\r\n}\r\n".to_vec(),
        ),
        // HCL (like Terraform) does not take a lone CR as a line break:
        // a located parse error, at the line our one line index gives.
        (
            "tf-cr/main.tf",
            b"resource \"aws_db_instance\" \"db\" {\r  publicly_accessible = true\r}\r".to_vec(),
        ),
        ("docker/Dockerfile", b"FROM alpine:3.19\r\nENV API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\r\n".to_vec()),
    ]);
    let v = json(dir.path());
    assert_sibling(&v);
    for f in ["lf", "crlf", "cr", "mixed"] {
        assert!(
            has(&v, "BO001", &format!("k8s/{f}.yaml"), 10),
            "{f}: {:?}",
            found(&v)
        );
    }
    let at = |rule: &str, path: &str| {
        found(&v)
            .into_iter()
            .find(|(r, p, _, _)| r == rule && p == path)
            .map(|(_, _, l, c)| (l, c))
    };
    assert_eq!(at("BO001", "k8s/cr.yaml"), Some((10, 18)));
    assert_eq!(
        at("BO001", "k8s/tabs.yaml"),
        Some((10, 18)),
        "a tab is one column"
    );
    assert_eq!(at("DB001", "tf/main.tf"), Some((3, 25)));
    assert_eq!(at("GD001", "tf-cr/main.tf"), Some((1, 34)));
    assert_eq!(at("SEC006", "docker/Dockerfile").map(|(l, _)| l), Some(2));
    // The text output never echoes a whole CR file as "line 1".
    let (_, text, _) = run(dir.path(), &["check", "--color", "never"]);
    assert!(!text.contains('\r'), "{text:?}");
}

#[test]
fn unreadable_binary_oversize_and_encoded_files_are_located() {
    let mut utf16 = vec![0xFF, 0xFE];
    for u in SIBLING.replace("sibling", "utf16").encode_utf16() {
        utf16.extend(u.to_le_bytes());
    }
    let mut padded =
        b"resource \"aws_db_instance\" \"db\" {\n  publicly_accessible = true\n}\n".to_vec();
    padded.extend(std::iter::repeat_n(b'#', 5 * 1024 * 1024));
    let dir = project(&[
        ("k8s/utf16.yaml", utf16),
        (
            "infra/main.tf",
            b"\x7fELF\x02\x01\x01\x00\x00binary".to_vec(),
        ),
        ("big/main.tf", padded),
        ("k8s/invalid.yaml", b"a: \xff\xfe\n".to_vec()),
        ("k8s/empty.yaml", Vec::new()),
        (
            "k8s/comments.yaml",
            b"# only a comment\n# and another\n".to_vec(),
        ),
        ("k8s/list.yaml", b"- a\n- b\n".to_vec()),
        ("k8s/scalar.yaml", b"just a string\n".to_vec()),
        ("tf/comments.tf", b"# nothing here\n".to_vec()),
    ]);
    let v = json(dir.path());
    assert_sibling(&v);
    assert!(
        has(&v, "BO001", "k8s/utf16.yaml", 10),
        "UTF-16 is decoded: {:?}",
        found(&v)
    );
    assert!(
        has(&v, "GD001", "infra/main.tf", 1),
        "binary: {:?}",
        found(&v)
    );
    let big: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "GD003" && f["location"]["path"] == "big/main.tf")
        .collect();
    assert_eq!(big.len(), 1, "{:?}", found(&v));
    assert_eq!(big[0]["severity"], "error", "padding cannot open the gate");
    assert!(
        big[0]["message"]
            .as_str()
            .unwrap()
            .contains("max-file-size")
    );
    assert!(has(&v, "GD001", "k8s/invalid.yaml", 1));
    for quiet in [
        "k8s/empty.yaml",
        "k8s/comments.yaml",
        "k8s/list.yaml",
        "k8s/scalar.yaml",
        "tf/comments.tf",
    ] {
        assert!(
            !found(&v).iter().any(|(_, p, _, _)| p == quiet),
            "{quiet} is fine: {:?}",
            found(&v)
        );
    }
    // Raising the limit in guard.toml reads the padded file: the public
    // database in it is found.
    write(
        dir.path(),
        "guard.toml",
        b"[limits]\nmax-file-size = 8_000_000\n",
    );
    let v = json(dir.path());
    assert!(has(&v, "DB001", "big/main.tf", 2), "{:?}", found(&v));
}

#[cfg(unix)]
#[test]
fn nothing_outside_the_project_is_read_or_printed() {
    use std::os::unix::fs::symlink;
    let outer = tempfile::tempdir().unwrap();
    let secret = "TOKEN_should_never_be_printed_4711";
    write(outer.path(), "outside.txt", secret.as_bytes());
    write(
        outer.path(),
        "outside.yaml",
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  note: {secret}\n")
            .as_bytes(),
    );
    let root = outer.path().join("repo");
    let tf = "locals {\n  a = file(\"../outside.txt\")\n  b = file(\"leak.txt\")\n  c = templatefile(\"../../outside.txt\", {})\n  d = file(\"environ\")\n}\nresource \"aws_ecs_task_definition\" \"t\" {\n  family = \"t\"\n  container_definitions = jsonencode([{ name = \"a\", image = \"${local.a}${local.b}${local.c}${local.d}:latest\" }])\n}\n";
    write(&root, "guard.toml", b"# the project\n");
    write(&root, "k8s/sibling.yaml", SIBLING.as_bytes());
    write(&root, "infra/main.tf", tf.as_bytes());
    symlink(
        outer.path().join("outside.txt"),
        root.join("infra/leak.txt"),
    )
    .unwrap();
    symlink("/proc/self/environ", root.join("infra/environ")).unwrap();
    symlink(
        outer.path().join("outside.yaml"),
        root.join("k8s/linked.yaml"),
    )
    .unwrap();
    symlink(outer.path(), root.join("k8s/outer-dir")).unwrap();
    let abs = fs::canonicalize(outer.path()).unwrap();
    let abs = abs.to_string_lossy();
    for format in ["text", "json", "sarif", "github"] {
        for cwd in [root.clone(), root.join("infra")] {
            let (code, out, err) = run(
                &cwd,
                &["check", "..", "--format", format, "--color", "never"],
            );
            let out_all = format!("{out}{err}");
            assert!(code == 1, "{format}: exit {code}: {err}");
            assert!(
                !out_all.contains(secret),
                "{format} printed a file from outside: {out_all}"
            );
            assert!(
                !out_all.contains("PATH="),
                "{format} printed the environment"
            );
            assert!(
                !out_all.contains(abs.as_ref()),
                "{format} printed an absolute path: {out_all}"
            );
        }
    }
    let v = json(&root);
    assert_sibling(&v);
    assert!(has(&v, "GD005", "k8s/linked.yaml", 1), "{:?}", found(&v));
    assert!(has(&v, "GD005", "k8s/outer-dir", 1), "{:?}", found(&v));
}

#[cfg(unix)]
#[test]
fn unreadable_paths_are_errors_not_silence() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[
        (
            "locked/deployment.yaml",
            SIBLING.replace("sibling", "locked").into_bytes(),
        ),
        (
            "k8s/configmap.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n".to_vec(),
        ),
    ]);
    let d = dir.path();
    fs::set_permissions(d, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(
        d.join("k8s/configmap.yaml"),
        fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    // As root every file is readable: run guard as another user.
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if is_root {
        let ok = Command::new("setpriv").arg("--version").output().is_ok();
        if !ok {
            common::skip(
                "unreadable_paths_are_errors_not_silence",
                "running as root without setpriv",
            );
            fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
            return;
        }
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_guard"),
        ]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_guard"))
    };
    // The binary and the directories above the tree must be reachable.
    let o = cmd
        .args(["check", "--format", "json"])
        .current_dir(d)
        .output()
        .unwrap();
    fs::set_permissions(d.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    if is_root && out.is_empty() {
        common::skip(
            "unreadable_paths_are_errors_not_silence",
            &format!(
                "the unprivileged user cannot reach the binary or the tree: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
        );
        return;
    }
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_sibling(&v);
    assert!(has(&v, "GD005", "locked", 1), "{:?}", found(&v));
    assert!(has(&v, "GD005", "k8s/configmap.yaml", 1), "{:?}", found(&v));
}

#[test]
fn terminal_escapes_never_reach_the_output() {
    // A raw ESC on the finding's line (in a comment: YAML accepts it there),
    // which the text output echoes as the snippet.
    let esc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:latest  # \u{1b}[2J\u{1b}]0;pwned\u{7} evil\n";
    let dir = project(&[("k8s/pod.yaml", esc.as_bytes().to_vec())]);
    let (_, out, _) = run(dir.path(), &["check", "--format", "github"]);
    assert!(!out.contains('\u{1b}'), "github: raw ESC in {out:?}");
    let (_, out, _) = run(dir.path(), &["check", "--color", "never"]);
    assert!(out.contains("evil"), "{out}");
    assert!(!out.contains('\u{1b}'), "text: raw ESC in {out:?}");
    assert!(!out.contains('\u{7}'), "text: raw BEL in {out:?}");
    assert!(out.contains("\\u{1b}"), "text: shown escaped: {out}");
}

#[test]
fn big_inputs_stay_bounded_and_deterministic() {
    // 10,000 documents in one file; duplicate keys by the thousand on one
    // line; a 5,000-container one-line task definition; a Terraform root
    // with 5,000 module calls; a Helm template.
    let docs: String = (0..10_000)
        .map(|i| {
            format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v\n"
            )
        })
        .collect();
    let dups = format!("{{{}}}\n", vec!["a: 1"; 5000].join(", "));
    let containers: Vec<String> = (0..5000)
        .map(|i| format!("{{\"name\":\"c{i}\",\"image\":\"nginx:latest\"}}"))
        .collect();
    let task = format!(
        "{{\"family\":\"x\",\"containerDefinitions\":[{}]}}",
        containers.join(",")
    );
    let calls: String = (0..5000)
        .map(|i| format!("module \"m{i}\" {{\n  source = \"../modules/m\"\n}}\n"))
        .collect();
    let dir = project(&[
        ("k8s/many.yaml", docs.into_bytes()),
        ("k8s/dups.yaml", dups.into_bytes()),
        ("ecs/task-definition.json", task.into_bytes()),
        ("live/main.tf", calls.into_bytes()),
        (
            "modules/m/main.tf",
            b"variable \"x\" { default = 1 }\n".to_vec(),
        ),
        (
            "chart/templates/deploy.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Values.name }}\n"
                .to_vec(),
        ),
    ]);
    let v = json(dir.path());
    assert_sibling(&v);
    let per = |rule: &str, path: &str| {
        found(&v)
            .iter()
            .filter(|(r, p, _, _)| r == rule && p == path)
            .count()
    };
    // 100 findings, then one summary of the rest.
    assert_eq!(per("GD002", "k8s/dups.yaml"), 101);
    assert_eq!(per("BO001", "ecs/task-definition.json"), 101);
    let summary =
        v["findings"].as_array().unwrap().iter().find(|f| {
            f["rule"] == "BO001" && f["message"].as_str().unwrap().starts_with("4900 more")
        });
    assert!(summary.is_some(), "the rest is summarised");
    // The same bytes on one thread and on two.
    let one = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    let two = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .unwrap();
    assert_eq!(one.stdout, two.stdout);
}

#[test]
fn a_terraform_stage_out_of_time_says_so_at_each_root() {
    let dir = project(&[(
        "envs/prod/main.tf",
        b"resource \"aws_db_instance\" \"db\" {\n  publicly_accessible = true\n}\n".to_vec(),
    )]);
    let o = Command::new(env!("CARGO_BIN_EXE_guard"))
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .env("GUARD_TERRAFORM_BUDGET_MS", "0")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_sibling(&v);
    assert!(has(&v, "GD003", "envs/prod/main.tf", 1), "{:?}", found(&v));
    assert!(!has(&v, "DB001", "envs/prod/main.tf", 2));
    assert!(has(&json(dir.path()), "DB001", "envs/prod/main.tf", 2));
}

#[test]
fn no_output_format_prints_a_secret_value() {
    let secrets = [
        "hunter2-Correct-Horse-Battery",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        // Not a dummy (`UberSecretPassword` is SEC008's, not SEC003's).
        "Uber-Secr3t-Passw0rd!",
        "sk_live_51HxYzABCDEFGHIJKLMNOPQRS",
    ];
    let dir = project(&[
        (
            "k8s/configmap.yaml",
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  DB_PASSWORD: {}\n  STRIPE: {}\n", secrets[0], secrets[5]).into_bytes(),
        ),
        (
            "k8s/deploy.yaml",
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: app:1.0.0\n          env:\n            - name: DB_PASSWORD\n              value: \"{}\"\n", secrets[0]).into_bytes(),
        ),
        (
            "tf/main.tf",
            format!("variable \"db_password\" {{\n  default = \"{}\"\n}}\nresource \"aws_db_instance\" \"db\" {{\n  password = \"{}\"\n}}\n", secrets[4], secrets[4]).into_bytes(),
        ),
        (
            "docker/Dockerfile",
            format!("FROM alpine:3.19\nENV GITHUB_TOKEN={}\n", secrets[3]).into_bytes(),
        ),
        (
            ".github/workflows/ci.yml",
            format!("on: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n      AWS_ACCESS_KEY_ID: {}\n      AWS_SECRET_ACCESS_KEY: {}\n    steps:\n      - run: echo\n", secrets[1], secrets[2]).into_bytes(),
        ),
    ]);
    let v = json(dir.path());
    let rules: Vec<String> = found(&v).into_iter().map(|(r, _, _, _)| r).collect();
    for r in ["SEC001", "SEC002", "SEC003", "SEC005", "SEC006", "SEC009"] {
        assert!(rules.iter().any(|x| x == r), "{r} fires: {rules:?}");
    }
    for format in ["text", "json", "sarif", "github"] {
        for extra in [&[][..], &["--no-suppressions"][..]] {
            let mut args = vec!["check", "--format", format, "--color", "never"];
            args.extend(extra);
            let (_, out, err) = run(dir.path(), &args);
            for s in secrets {
                // The first four characters may show; the rest never.
                assert!(
                    !out.contains(&s[4..]) && !err.contains(&s[4..]),
                    "{format} prints {s}:\n{out}"
                );
            }
        }
    }
}

#[test]
fn huge_flow_collections_are_reported_and_the_rest_is_read() {
    // A one-line flow mapping of one repeated key just under the file size
    // limit (the YAML parser would hold all of its tokens at once), then a
    // real violation in the same file's next document; and a large flow
    // list as a value.
    let keys = (4 * 1024 * 1024 - 4096) / "a: 1, ".len();
    let mapping = format!("{{{}}}\n", vec!["a: 1"; keys].join(", "));
    let pod = SIBLING.replace("sibling", "after");
    let list = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  list: [{}]\n",
        vec!["x"; 200_000].join(", ")
    );
    let dir = project(&[
        ("k8s/flow.yaml", format!("{mapping}---\n{pod}").into_bytes()),
        ("k8s/list.yaml", list.into_bytes()),
    ]);
    let v = json(dir.path());
    assert_sibling(&v);
    let f = found(&v);
    assert!(has(&v, "GD003", "k8s/flow.yaml", 1), "{f:?}");
    assert!(has(&v, "GD003", "k8s/list.yaml", 6), "{f:?}");
    // The next document of the same file is still checked.
    assert!(
        f.iter()
            .any(|(r, p, l, _)| r == "BO001" && p == "k8s/flow.yaml" && *l == 12),
        "{f:?}"
    );
    let gd003 = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "GD003" && x["location"]["path"] == "k8s/list.yaml")
        .unwrap();
    assert_eq!(gd003["severity"], "error", "padding cannot open the gate");
    assert_eq!(gd003["location"]["start"]["column"], 9);
    let (code, _, _) = run(dir.path(), &["check"]);
    assert_eq!(code, 1);
}
