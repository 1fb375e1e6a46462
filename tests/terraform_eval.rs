//! End-to-end tests of the Terraform evaluator on the fixtures in
//! `fixtures/terraform/`, and differential tests against `terraform console`
//! (skipped, with a message, when terraform is not installed or cannot
//! initialise offline).

mod common;

use std::path::{Path, PathBuf};

use guard::env::{Env, EnvSet, Evidence};

fn env_prod() -> Env {
    EnvSet::builtin().named("prod").unwrap()
}

fn env_staging() -> Env {
    EnvSet::builtin().named("staging").unwrap()
}

#[allow(dead_code)]
fn env_dev() -> Env {
    EnvSet::builtin().named("dev").unwrap()
}
use guard::node::{Node, Value};
use guard::source::{FileId, SourceFile};
use guard::terraform::{Mode, Resource, RootEval, TfModel, evaluate};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/terraform")
        .join(name)
}

fn is_tf(p: &str) -> bool {
    p.ends_with(".tf")
        || p.ends_with(".tfvars")
        || p.ends_with(".tf.json")
        || p.ends_with(".tfvars.json")
}

/// Every Terraform file under `root`, paths relative to it.
fn load(root: &Path) -> Vec<SourceFile> {
    common::source_tree(root, is_tf)
}

fn eval_dir(root: &Path) -> (Vec<SourceFile>, TfModel) {
    let files = load(root);
    let refs: Vec<&SourceFile> = files.iter().collect();
    let model = evaluate(&refs, &guard::env::EnvSet::builtin());
    (files, model)
}

fn text<'f>(files: &'f [SourceFile], n: &Node) -> &'f str {
    files[n.span.file.0 as usize].slice(n.span)
}

fn path_of<'f>(files: &'f [SourceFile], n: &Node) -> &'f str {
    &files[n.span.file.0 as usize].path
}

fn root<'m>(m: &'m TfModel, dir: &str) -> &'m RootEval {
    m.roots.iter().find(|r| r.dir == dir).unwrap_or_else(|| {
        panic!(
            "no root {dir}: {:?}",
            m.roots.iter().map(|r| &r.dir).collect::<Vec<_>>()
        )
    })
}

fn res<'r>(r: &'r RootEval, rtype: &str, name: &str) -> Vec<&'r Resource> {
    r.resources
        .iter()
        .filter(|x| x.rtype == rtype && x.name == name)
        .collect()
}

#[test]
fn article_layout_prod_is_public_because_of_its_tfvars() {
    let (files, m) = eval_dir(&fixture("article-layout"));
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    assert_eq!(m.stats.roots, 3);
    let dirs: Vec<&str> = m.roots.iter().map(|r| r.dir.as_str()).collect();
    assert_eq!(
        dirs,
        [
            "environments/dev",
            "environments/prod",
            "environments/staging"
        ]
    );

    let prod = root(&m, "environments/prod");
    assert_eq!(prod.assignment.env, Some(env_prod()));
    assert_eq!(
        prod.assignment.evidence,
        Some(Evidence::PathSegment("prod".into()))
    );
    let db = &res(prod, "aws_db_instance", "this")[0];
    assert_eq!(&*db.module_path, "module.db");
    let pa = db.attrs.get("publicly_accessible").unwrap();
    assert_eq!(pa.value, Value::Bool(true));
    assert_eq!(path_of(&files, pa), "environments/prod/terraform.tfvars");
    assert_eq!(text(&files, pa), "true");
    let lc = files[pa.span.file.0 as usize].line_col(pa.span.start);
    assert_eq!(lc.line, 6);
    let via = pa.via.as_ref().unwrap();
    let labels: Vec<&str> = via.iter().map(|h| &*h.label).collect();
    assert_eq!(
        labels,
        [
            "set in environments/prod/terraform.tfvars",
            "passed to module.db as `publicly_accessible`",
            "used by aws_db_instance.this.publicly_accessible",
        ]
    );
    assert_eq!(
        path_of(&files, &Node::new(via[1].span, Value::Null)),
        "environments/prod/main.tf"
    );
    assert_eq!(
        files[via[2].span.file.0 as usize].slice(via[2].span),
        "publicly_accessible = var.publicly_accessible"
    );
    // Strings built from module arguments.
    assert_eq!(db.attrs.str_at(&["identifier"]), Some("app-prod-db"));
    assert_eq!(db.attrs.str_at(&["instance_class"]), Some("db.t3.micro"));
    assert_eq!(db.attrs.str_at(&["tags", "Environment"]), Some("prod"));
    assert_eq!(db.attrs.str_at(&["tags", "Module"]), Some("rds"));
    // Root output through the module.
    assert_eq!(prod.output("db_public").unwrap().value, Value::Bool(true));
    // Provider region per environment, and the backend.
    let aws = prod
        .providers
        .iter()
        .find(|b| b.kind == "provider")
        .unwrap();
    assert_eq!(aws.labels, ["aws"]);
    assert_eq!(aws.attrs.str_at(&["region"]), Some("us-east-1"));
    let tf = prod
        .providers
        .iter()
        .find(|b| b.kind == "terraform")
        .unwrap();
    assert_eq!(
        tf.attrs.str_at(&["backend", "key"]),
        Some("prod/terraform.tfstate")
    );

    for env in ["dev", "staging"] {
        let r = root(&m, &format!("environments/{env}"));
        let db = &res(r, "aws_db_instance", "this")[0];
        let pa = db.attrs.get("publicly_accessible").unwrap();
        assert_eq!(pa.value, Value::Bool(false), "{env}");
        let aws = r.providers.iter().find(|b| b.kind == "provider").unwrap();
        assert_eq!(aws.attrs.str_at(&["region"]), Some("eu-west-1"));
    }
    // dev: the default of the root variable.
    let dev = root(&m, "environments/dev");
    let pa = res(dev, "aws_db_instance", "this")[0]
        .attrs
        .get("publicly_accessible")
        .unwrap()
        .clone();
    assert_eq!(path_of(&files, &pa), "environments/dev/main.tf");
    assert_eq!(
        &*pa.via.as_ref().unwrap()[0].label,
        "default of var.db_public"
    );
    // Variables of every module instance.
    let v = dev
        .variables
        .iter()
        .find(|v| v.name == "publicly_accessible")
        .unwrap();
    assert_eq!(&*v.module_path, "module.db");
    assert_eq!(v.value.value, Value::Bool(false));
    assert!(v.default().is_some());
    // The environments evaluate the same module: their hops share one
    // label, not a copy each.
    let used_by = |r: &RootEval| {
        let db = &res(r, "aws_db_instance", "this")[0];
        let via = db.attrs.get("publicly_accessible").unwrap().via.clone();
        via.unwrap().last().label.clone()
    };
    let (in_dev, in_prod) = (used_by(dev), used_by(prod));
    assert_eq!(&*in_dev, "used by aws_db_instance.this.publicly_accessible");
    assert!(std::sync::Arc::ptr_eq(&in_dev, &in_prod));
}

#[test]
fn shared_module_differs_per_caller() {
    let (_f, m) = eval_dir(&fixture("shared-module"));
    assert_eq!(m.stats.roots, 2);
    let web = root(&m, "apps/web");
    let b = &res(web, "aws_s3_bucket", "this")[0];
    assert_eq!(&*b.module_path, "module.assets");
    assert_eq!(b.attrs.str_at(&["acl"]), Some("public-read"));
    // "false" converted to a bool by the variable's type.
    assert_eq!(
        b.attrs.path(&["versioning", "enabled"]).unwrap().value,
        Value::Bool(false)
    );
    assert_eq!(web.output("bucket").unwrap().as_str(), Some("web-assets"));
    let api = root(&m, "apps/api");
    let b = &res(api, "aws_s3_bucket", "this")[0];
    assert_eq!(b.attrs.str_at(&["acl"]), Some("private"));
    assert_eq!(
        b.attrs.path(&["versioning", "enabled"]).unwrap().value,
        Value::Bool(true)
    );
    assert_eq!(api.assignment.env, None);
}

#[test]
fn count_and_for_each_instances() {
    let (_f, m) = eval_dir(&fixture("count-foreach"));
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    let r = root(&m, "");
    let web = res(r, "aws_instance", "web");
    assert_eq!(web.len(), 2);
    assert_eq!(web[0].key.as_deref(), Some("0"));
    assert_eq!(web[0].attrs.str_at(&["instance_type"]), Some("t3.large"));
    assert_eq!(web[1].attrs.str_at(&["instance_type"]), Some("t3.micro"));
    assert_eq!(web[1].attrs.str_at(&["tags", "Name"]), Some("web-1"));
    assert!(res(r, "aws_instance", "never").is_empty());
    assert_eq!(res(r, "aws_instance", "maybe").len(), 1);
    let unk = res(r, "aws_instance", "unknown_count");
    assert_eq!(unk.len(), 1);
    assert_eq!(unk[0].key, None);
    assert!(unk[0].attrs.path(&["tags", "Index"]).unwrap().is_unknown());
    let b = res(r, "aws_s3_bucket", "b");
    let keys: Vec<_> = b.iter().map(|x| x.key.clone().unwrap()).collect();
    assert_eq!(keys, ["assets", "logs"]);
    assert_eq!(b[0].attrs.str_at(&["acl"]), Some("public-read"));
    assert_eq!(b[1].attrs.str_at(&["acl"]), Some("private"));
    assert_eq!(b[0].attrs.str_at(&["bucket"]), Some("acme-assets"));
    let users: Vec<_> = res(r, "aws_iam_user", "u")
        .iter()
        .map(|x| x.attrs.str_at(&["name"]).unwrap().to_string())
        .collect();
    assert_eq!(users, ["alice", "bob"]);
    let sg = &res(r, "aws_security_group", "sg")[0];
    let ingress = sg.attrs.get("ingress").unwrap().as_seq();
    assert_eq!(ingress.len(), 2);
    assert_eq!(ingress[1].get("from_port").unwrap().as_f64(), Some(443.0));
    assert!(sg.attrs.get("egress").unwrap().is_map());
    let q = res(r, "aws_sqs_queue", "q");
    let paths: Vec<_> = q.iter().map(|x| &*x.module_path).collect();
    assert_eq!(
        paths,
        [r#"module.queue["events"]"#, r#"module.queue["orders"]"#]
    );
    assert_eq!(
        q[1].attrs
            .get("visibility_timeout_seconds")
            .unwrap()
            .as_f64(),
        Some(30.0)
    );
    // Module outputs depend on a resource attribute: unknown.
    assert!(
        r.output("queue_names")
            .unwrap()
            .as_seq()
            .iter()
            .all(|n| n.is_unknown())
    );
}

#[test]
fn unknown_values_are_never_guessed() {
    let (_f, m) = eval_dir(&fixture("unknown"));
    let r = root(&m, "");
    let db = &res(r, "aws_db_instance", "from_data")[0];
    assert!(db.attrs.get("publicly_accessible").unwrap().is_unknown());
    assert!(db.attrs.get("storage_encrypted").unwrap().is_unknown());
    assert!(db.attrs.get("identifier").unwrap().is_unknown());
    let db = &res(r, "aws_db_instance", "from_remote")[0];
    assert!(db.attrs.get("publicly_accessible").unwrap().is_unknown());
    assert!(db.attrs.get("created").unwrap().is_unknown());
    assert!(db.attrs.get("required").unwrap().is_unknown());
    let data = r.resources.iter().find(|x| x.mode == Mode::Data).unwrap();
    assert_eq!(data.attrs.str_at(&["name"]), Some("/db/public"));
    assert!(
        m.notes
            .iter()
            .any(|n| n == "module `remote` (source `terraform-aws-modules/rds/aws`) not evaluated: remote source"),
        "{:?}",
        m.notes
    );
    assert_eq!(m.stats.modules_not_evaluated, 1);
}

#[test]
fn locals_cycle_is_reported_not_hung() {
    let (files, m) = eval_dir(&fixture("locals-cycle"));
    let msgs: Vec<&str> = m.diags.iter().map(|d| d.message.as_str()).collect();
    assert!(
        msgs.contains(&"local.a refers to itself through local.b"),
        "{msgs:?}"
    );
    assert_eq!(
        m.diags
            .iter()
            .filter(|d| d.message.contains("local.self refers to itself"))
            .count(),
        1,
        "every local is evaluated (guard reports them all), so an unused cycle is reported once, as `terraform validate` does: {msgs:?}"
    );
    let d = m
        .diags
        .iter()
        .find(|d| d.message.starts_with("local.a"))
        .unwrap();
    assert_eq!(d.kind, guard::parse::DiagKind::Limit);
    assert!(
        files[0].slice(d.span).starts_with("a "),
        "{}",
        files[0].slice(d.span)
    );
    let r = root(&m, "");
    let b = &res(r, "aws_s3_bucket", "b")[0];
    assert!(b.attrs.get("bucket").unwrap().is_unknown());
    assert_eq!(b.attrs.str_at(&["acl"]), Some("fine"));
}

#[test]
fn ecs_container_definitions_keep_structure() {
    let (files, m) = eval_dir(&fixture("ecs-jsonencode"));
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    let r = root(&m, "");
    let td = &res(r, "aws_ecs_task_definition", "inline")[0];
    let defs = td.attrs.get("container_definitions").unwrap();
    let items = defs.as_seq();
    assert_eq!(items.len(), 2);
    let image = items[0].get("image").unwrap();
    assert_eq!(image.as_str(), Some("repo/app:prod"));
    assert_eq!(text(&files, image), "\"repo/app:${var.env}\"");
    let privileged = items[1].get("privileged").unwrap();
    assert_eq!(privileged.value, Value::Bool(true));
    assert_eq!(text(&files, privileged), "true");
    assert!(privileged.via.is_none());
    assert_eq!(
        items[0].str_at(&["logConfiguration", "options", "awslogs-group"]),
        Some("/ecs/app-prod")
    );

    let f = res(r, "aws_ecs_task_definition", "from_file")[0]
        .attrs
        .get("container_definitions")
        .unwrap();
    assert!(f.as_str().unwrap().contains("\"privileged\": true"));
    assert_eq!(text(&files, f), "file(\"${path.module}/task.json\")");

    let d = res(r, "aws_ecs_task_definition", "decoded")[0]
        .attrs
        .get("container_definitions")
        .unwrap();
    assert_eq!(
        d.as_seq()[0].get("privileged").unwrap().value,
        Value::Bool(true)
    );

    let t = res(r, "aws_ecs_task_definition", "templated")[0]
        .attrs
        .get("container_definitions")
        .unwrap();
    let s = t.as_str().unwrap();
    let j: serde_json::Value = serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"));
    assert_eq!(j[0]["image"], "repo/worker:prod");
    assert_eq!(j[0]["portMappings"][1]["containerPort"], 443);
}

#[test]
fn scp_content_is_structured() {
    let (_f, m) = eval_dir(&fixture("scp"));
    let r = root(&m, "");
    let p = &res(r, "aws_organizations_policy", "deny_regions")[0];
    let c = p.attrs.get("content").unwrap();
    assert_eq!(c.str_at(&["Version"]), Some("2012-10-17"));
    let st = &c.get("Statement").unwrap().as_seq()[0];
    assert_eq!(st.str_at(&["Effect"]), Some("Deny"));
    let regions = st
        .path(&["Condition", "StringNotEquals", "aws:RequestedRegion"])
        .unwrap();
    assert_eq!(regions.as_seq().len(), 2);
    assert_eq!(
        &*regions.via.as_ref().unwrap()[0].label,
        "default of var.allowed_regions"
    );
    let leave = &res(r, "aws_organizations_policy", "deny_leave")[0];
    assert!(leave.attrs.get("content").unwrap().is_unknown());
    let doc = r
        .resources
        .iter()
        .find(|x| x.rtype == "aws_iam_policy_document")
        .unwrap();
    assert_eq!(doc.attrs.str_at(&["statement", "effect"]), Some("Deny"));
}

#[test]
fn env_var_files_give_one_evaluation_each() {
    let (files, m) = eval_dir(&fixture("var-files"));
    assert_eq!(m.stats.roots, 1);
    assert_eq!(m.stats.evaluations, 2);
    let files_used: Vec<_> = m
        .roots
        .iter()
        .map(|r| r.var_file.clone().unwrap())
        .collect();
    assert_eq!(files_used, ["env/staging.tfvars", "prod.tfvars"]);
    let staging = &m.roots[0];
    assert_eq!(staging.assignment.env, Some(env_staging()));
    assert_eq!(
        staging.assignment.evidence,
        Some(Evidence::VarFile("env/staging.tfvars".into()))
    );
    let prod = &m.roots[1];
    assert_eq!(prod.assignment.env, Some(env_prod()));
    let db = &res(prod, "aws_db_instance", "main")[0];
    // "true" converted to bool for a bool variable, located in prod.tfvars.
    let multi = db.attrs.get("multi_az").unwrap();
    assert_eq!(multi.value, Value::Bool(true));
    assert_eq!(path_of(&files, multi), "prod.tfvars");
    assert_eq!(db.attrs.str_at(&["instance_class"]), Some("db.r5.large"));
    let db = &res(staging, "aws_db_instance", "main")[0];
    assert_eq!(db.attrs.get("multi_az").unwrap().value, Value::Bool(false));
    // common.auto.tfvars is auto-loaded: 2 instances → large.
    assert_eq!(db.attrs.str_at(&["instance_class"]), Some("db.r5.large"));
    let aws = staging
        .providers
        .iter()
        .find(|b| b.kind == "provider")
        .unwrap();
    assert_eq!(aws.attrs.str_at(&["region"]), Some("eu-west-1"));
}

#[test]
fn parse_errors_are_located() {
    let f = SourceFile::new(
        FileId(0),
        "x/main.tf".into(),
        "x/main.tf".into(),
        "provider \"aws\" {\n  region = \n}\n".into(),
    );
    let m = evaluate(&[&f], &guard::env::EnvSet::builtin());
    assert_eq!(m.diags.len(), 1);
    assert_eq!(m.diags[0].kind, guard::parse::DiagKind::ParseError);
    assert_eq!(f.line_col(m.diags[0].span.start).line, 2);
}

// ---------------------------------------------------------------------------
// Differential tests against `terraform console`.

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

/// Evaluate `exprs` with terraform console in a temporary copy of the
/// fixture; None (after printing why) when terraform is unusable here.
fn terraform_console(
    fixture_dir: &Path,
    var_file: Option<&str>,
    exprs: &[String],
) -> Option<Vec<serde_json::Value>> {
    use std::process::{Command, Stdio};
    let tf = std::env::var("TERRAFORM").unwrap_or_else(|_| "terraform".into());
    if Command::new(&tf)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err()
    {
        common::skip("terraform differential test", &format!("`{tf}` not found"));
        return None;
    }
    let tmp = tempfile::tempdir().ok()?;
    copy_dir(fixture_dir, tmp.path());
    let init = Command::new(&tf)
        .args(["init", "-backend=false", "-input=false", "-no-color"])
        .current_dir(tmp.path())
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()?;
    if !init.status.success() {
        common::skip(
            "terraform differential test",
            &format!(
                "terraform init failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ),
        );
        return None;
    }
    let mut cmd = Command::new(&tf);
    cmd.arg("console")
        .current_dir(tmp.path())
        .env("CHECKPOINT_DISABLE", "1");
    if let Some(v) = var_file {
        cmd.arg(format!("-var-file={v}"));
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    {
        use std::io::Write;
        let mut stdin = child.stdin.take()?;
        // The console prints only the last line's value: one expression.
        writeln!(stdin, "jsonencode([{}])", exprs.join(", ")).ok()?;
    }
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        common::skip(
            "terraform differential test",
            &format!(
                "terraform console failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rfind(|l| !l.trim().is_empty())?;
    // The console prints an HCL string: "…" with \" escapes and `${`/`%{`
    // doubled.
    let unq: String = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let unq = unq.replace("$${", "${").replace("%%{", "%{");
    let all: serde_json::Value =
        serde_json::from_str(&unq).unwrap_or_else(|e| panic!("{e}: {unq}"));
    let items = all.as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), exprs.len(), "console output: {stdout}");
    Some(items)
}

/// Numbers compare numerically (1 == 1.0).
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        // guard keeps jsonencode results structured; terraform has the text.
        (J::Object(_) | J::Array(_), J::String(s)) => {
            serde_json::from_str(s).is_ok_and(|t| same(a, &t))
        }
        _ => a == b,
    }
}

fn differential(var_file: Option<&str>) {
    let dir = fixture("differential");
    let mut files = load(&dir);
    if var_file.is_none() {
        // Without an env var file the root is evaluated once, as terraform
        // console without -var-file sees it.
        files.retain(|f| !f.path.ends_with("prod.tfvars"));
    }
    let refs: Vec<&SourceFile> = files.iter().collect();
    let m = evaluate(&refs, &guard::env::EnvSet::builtin());
    let r = m.roots.iter().find(|r| {
        r.var_file.as_deref() == var_file || (var_file.is_none() && r.assignment.env.is_none())
    });
    let r = r.unwrap_or_else(|| {
        panic!(
            "no evaluation for {var_file:?}: {:?}",
            m.roots.iter().map(|r| &r.var_file).collect::<Vec<_>>()
        )
    });
    // Every local of the root: read them back through an output-like view.
    let main = files.iter().find(|f| &*f.path == "main.tf").unwrap();
    let local_names: Vec<String> = locals_of(&main.text);
    let mut exprs: Vec<String> = local_names.iter().map(|n| format!("local.{n}")).collect();
    let out_names: Vec<String> = r.outputs.iter().map(|(n, _)| n.clone()).collect();
    exprs.extend(out_names.iter().map(|n| format!("output_{n}")));
    // Outputs are not addressable in the console: evaluate their expressions.
    let console_exprs: Vec<String> = exprs
        .iter()
        .map(|e| match e.strip_prefix("output_") {
            Some(n) => output_expr(&main.text, n),
            None => e.clone(),
        })
        .collect();
    let Some(expected) = terraform_console(&dir, var_file, &console_exprs) else {
        return;
    };
    let ours = guard_locals(&refs, r, &local_names);
    let mut mismatches = Vec::new();
    for (i, e) in exprs.iter().enumerate() {
        let got = if let Some(n) = e.strip_prefix("output_") {
            r.output(n).map(Node::to_json)
        } else {
            ours.get(i).cloned()
        };
        let got = got.unwrap_or(serde_json::Value::String("<missing>".into()));
        if !same(&got, &expected[i]) {
            mismatches.push(format!("{e}: guard {got} != terraform {}", expected[i]));
        }
    }
    eprintln!(
        "differential {var_file:?}: {} expressions compared, {} mismatches",
        exprs.len(),
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Names of the locals in a fixture file (simple line scan).
fn locals_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("locals {") {
            inside = true;
            continue;
        }
        if inside && line.starts_with('}') {
            inside = false;
        }
        if inside
            && line.starts_with("  ")
            && !line.starts_with("   ")
            && let Some((k, _)) = line.trim().split_once('=')
        {
            let k = k.trim();
            if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.push(k.to_string());
            }
        }
    }
    out
}

fn output_expr(text: &str, name: &str) -> String {
    let needle = format!("output \"{name}\" {{ value = ");
    let line = text.lines().find(|l| l.starts_with(&needle)).unwrap();
    line[needle.len()..]
        .trim_end_matches('}')
        .trim()
        .to_string()
}

/// guard's values of root locals: add an output per local to a copy of the
/// sources (an output exposes exactly the local's value).
fn guard_locals(files: &[&SourceFile], r: &RootEval, names: &[String]) -> Vec<serde_json::Value> {
    let mut extra = String::new();
    for n in names {
        extra.push_str(&format!("output \"__local_{n}\" {{ value = local.{n} }}\n"));
    }
    let next = files.len() as u32;
    let f = SourceFile::new(
        FileId(next),
        "zz_locals.tf".into(),
        "zz_locals.tf".into(),
        extra,
    );
    let mut all: Vec<&SourceFile> = files.to_vec();
    all.push(&f);
    let m = evaluate(&all, &guard::env::EnvSet::builtin());
    let r2 = m.roots.iter().find(|x| x.var_file == r.var_file).unwrap();
    names
        .iter()
        .map(|n| {
            r2.output(&format!("__local_{n}"))
                .map_or(serde_json::Value::String("<missing>".into()), Node::to_json)
        })
        .collect()
}

#[test]
fn differential_defaults() {
    differential(None);
}

#[test]
fn differential_prod_var_file() {
    differential(Some("prod.tfvars"));
}

/// Module instances share their variables' defaults and types (the
/// evaluator remembers them): every instance still sees exactly what
/// evaluating them afresh gives, provenance included.
#[test]
fn repeated_module_instances_see_the_same_defaults() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |p: &str, s: &str| {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, s).unwrap();
    };
    write(
        "main.tf",
        "terraform {}\nmodule \"m\" {\n  source = \"./m\"\n  count  = 3\n}\n\
         module \"one\" {\n  source = \"./m\"\n}\n",
    );
    write(
        "m/main.tf",
        r#"variable "cfg" {
  type = object({
    name    = optional(string, "svc")
    public  = optional(bool, false)
    ports   = optional(list(number), [80])
  })
  default = { public = "true" }
}
variable "fallback" {
  default = try(var.nope, "fallback")
}
variable "can" {
  default = can(var.nope)
}
variable "joined" {
  default = join("-", [for s in ["a", "b"] : upper(s)])
}
resource "aws_db_instance" "db" {
  publicly_accessible = var.cfg.public
  identifier          = "${var.cfg.name}-${var.fallback}-${var.joined}"
  port                = var.cfg.ports[0]
  tags                = { can = var.can }
}
"#,
    );
    let (_files, m) = eval_dir(dir.path());
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    let r = root(&m, "");
    let dbs = res(r, "aws_db_instance", "db");
    assert_eq!(dbs.len(), 4);
    let first = &dbs[0].attrs;
    assert_eq!(
        first.get("publicly_accessible").unwrap().as_bool(),
        Some(true)
    );
    assert_eq!(first.str_at(&["identifier"]), Some("svc-fallback-A-B"));
    assert_eq!(first.get("port").unwrap().as_f64(), Some(80.0));
    assert_eq!(first.path(&["tags", "can"]).unwrap().as_bool(), Some(false));
    for db in &dbs[1..] {
        assert_eq!(&db.attrs, first, "{}", db.module_path);
    }
    let vars: Vec<_> = r.variables.iter().filter(|v| v.name == "cfg").collect();
    assert_eq!(vars.len(), 4);
    for v in &vars[1..] {
        assert_eq!(v.value, vars[0].value);
        assert_eq!(v.default(), vars[0].default());
    }
}

// Terraform's JSON syntax (`.tf.json`).

/// The local names of a `.tf.json` file (its `"//"` comment left out).
fn json_locals(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).expect("fixture JSON");
    v["locals"]
        .as_object()
        .map(|o| o.keys().filter(|k| *k != "//").cloned().collect())
        .unwrap_or_default()
}

/// Every local of the JSON-only root `differential-json` (and the one of
/// its `.tf` file) is what `terraform console` evaluates it to.
#[test]
fn differential_tf_json() {
    let dir = fixture("differential-json");
    let files = load(&dir);
    let refs: Vec<&SourceFile> = files.iter().collect();
    let m = evaluate(&refs, &guard::env::EnvSet::builtin());
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let r = root(&m, "");
    let main = files
        .iter()
        .find(|f| &*f.path == "main.tf.json")
        .expect("main.tf.json");
    let mut names = json_locals(&main.text);
    names.push("in_hcl".into());
    assert!(names.len() > 20, "{names:?}");
    let ours = guard_locals(&refs, r, &names);
    let exprs: Vec<String> = names.iter().map(|n| format!("local.{n}")).collect();
    let Some(expected) = terraform_console(&dir, None, &exprs) else {
        return;
    };
    let mismatches: Vec<String> = names
        .iter()
        .zip(ours.iter().zip(&expected))
        .filter(|(_, (g, t))| !same(g, t))
        .map(|(n, (g, t))| format!("local.{n}: guard {g} != terraform {t}"))
        .collect();
    eprintln!(
        "differential .tf.json: {} locals compared, {} mismatches",
        names.len(),
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// The same locals written in `.tf.json` and in `.tf` evaluate alike, and
/// the JSON values are located in the JSON file.
#[test]
fn tf_json_and_its_hcl_twin_evaluate_alike() {
    let json_dir = fixture("differential-json");
    let (jfiles, jm) = eval_dir(&json_dir);
    let (hfiles, hm) = eval_dir(&fixture("differential-json-twin"));
    assert!(
        jm.diags.is_empty() && hm.diags.is_empty(),
        "{:?} {:?}",
        jm.diags,
        hm.diags
    );
    let main = jfiles
        .iter()
        .find(|f| &*f.path == "main.tf.json")
        .expect("main.tf.json");
    let mut names = json_locals(&main.text);
    names.push("in_hcl".into());
    let jr = root(&jm, "");
    let hr = root(&hm, "");
    let jrefs: Vec<&SourceFile> = jfiles.iter().collect();
    let hrefs: Vec<&SourceFile> = hfiles.iter().collect();
    let j = guard_locals(&jrefs, jr, &names);
    let h = guard_locals(&hrefs, hr, &names);
    for (n, (a, b)) in names.iter().zip(j.iter().zip(&h)) {
        assert!(same(a, b), "local.{n}: .tf.json {a} != .tf {b}");
        assert_ne!(a, &serde_json::json!("<missing>"), "local.{n}");
    }
    // Locations: a local's value is at its JSON literal, a variable's
    // default flows with the default's place.
    let local = |name: &str| {
        jr.locals
            .iter()
            .find(|l| &*l.name == name)
            .unwrap_or_else(|| panic!("local.{name}"))
    };
    let number = local("number");
    assert_eq!(path_of(&jfiles, &number.value), "main.tf.json");
    assert_eq!(text(&jfiles, &number.value), "42");
    assert_eq!(text(&jfiles, &local("negative").value), "-3.5");
    assert_eq!(
        local("object")
            .value
            .path(&["b", "c"])
            .map(|n| text(&jfiles, n)),
        Some("[2, 3]")
    );
    let value = &local("value").value;
    assert_eq!(text(&jfiles, value), "{ \"small\": 1, \"large\": 4 }");
    let labels: Vec<&str> = value
        .via
        .as_ref()
        .map(|v| v.iter().map(|h| &*h.label).collect())
        .unwrap_or_default();
    assert_eq!(labels.first(), Some(&"default of var.sizes"), "{labels:?}");
    let from_tf = &local("from_tf").value;
    assert_eq!(path_of(&jfiles, from_tf), "other.tf");
}

/// `.tf` roots call modules written in JSON and JSON roots call `.tf`
/// modules; values flow both ways with their places.
#[test]
fn json_modules_and_json_roots_join_their_configurations() {
    let (files, m) = eval_dir(&fixture("json-modules"));
    assert!(m.diags.is_empty(), "{:?}", m.diags);
    assert!(m.notes.is_empty(), "{:?}", m.notes);
    let dirs: Vec<&str> = m.roots.iter().map(|r| r.dir.as_str()).collect();
    assert_eq!(dirs, ["hcl-root", "json-root"]);

    let hcl = root(&m, "hcl-root");
    let db = res(hcl, "aws_db_instance", "this");
    assert_eq!(db.len(), 1);
    assert_eq!(&*db[0].module_path, "module.db");
    assert_eq!(
        path_of(&files, &Node::new(db[0].span, Value::Null)),
        "modules/db/main.tf.json"
    );
    assert_eq!(
        files[db[0].span.file.0 as usize].slice(db[0].span),
        "\"this\""
    );
    let pa = db[0].attrs.get("publicly_accessible").expect("attribute");
    assert_eq!(pa.value, Value::Bool(true));
    assert_eq!(path_of(&files, pa), "hcl-root/main.tf");
    let labels: Vec<&str> = pa.via.as_ref().unwrap().iter().map(|h| &*h.label).collect();
    assert_eq!(
        labels,
        [
            "passed to module.db as `public`",
            "used by aws_db_instance.this.publicly_accessible"
        ]
    );
    let used = pa.via.as_ref().unwrap().iter().last().unwrap();
    let f = &files[used.span.file.0 as usize];
    assert_eq!(&*f.path, "modules/db/main.tf.json");
    assert_eq!(
        f.slice(used.span),
        "\"publicly_accessible\": \"${var.public}\""
    );
    assert_eq!(f.line_col(used.span.start).line, 7);

    let json = root(&m, "json-root");
    let vpc = res(json, "aws_vpc", "this");
    assert_eq!(vpc.len(), 1);
    let cidr = vpc[0].attrs.get("cidr_block").expect("cidr_block");
    assert_eq!(cidr.as_str(), Some("10.1.0.0/16"));
    assert_eq!(path_of(&files, cidr), "json-root/main.tf.json");
    assert_eq!(text(&files, cidr), "\"10.1.0.0/16\"");
    assert_eq!(
        json.output("cidr").and_then(Node::as_str),
        Some("10.1.0.0/16")
    );
    let backend = json
        .providers
        .iter()
        .find(|b| b.kind == "terraform")
        .and_then(|b| b.attrs.path(&["backend", "encrypt"]))
        .expect("backend");
    assert_eq!(backend.as_bool(), Some(true));
    assert_eq!(text(&files, backend), "true");
}
