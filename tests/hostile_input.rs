//! Hostile input, end to end through `guard::check`: every case is a tree
//! generated in a temporary directory with one hostile file (or
//! directory) beside an ordinary Deployment whose `image: nginx:latest`
//! must still be reported (BO001). None of them may panic, hang or hide
//! the other file's finding; the limits they hit are reported where they
//! were hit (GD003 `input-limit`).
//!
//! There is deliberately no timing assertion: a case that does not finish
//! shows up as the test suite timing out.

use std::path::Path;

use guard::Report;

/// The ordinary file every tree also has.
const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:latest
";

/// A tree with `files` (path, content) and `ok/deploy.yaml`.
fn tree(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "ok/deploy.yaml", DEPLOYMENT.as_bytes());
    for (path, content) in files {
        write(dir.path(), path, content);
    }
    dir
}

fn write(root: &Path, path: &str, content: &[u8]) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

fn text(s: impl Into<String>) -> Vec<u8> {
    s.into().into_bytes()
}

fn check(dir: &Path) -> Report {
    guard::check(&guard::Options {
        paths: vec![dir.to_path_buf()],
        excludes: vec![],
        ..Default::default()
    })
    .expect("check runs")
}

/// Check a tree; the Deployment beside the hostile input is still
/// reported, and the same input gives the same findings a second time.
fn check_tree(dir: &tempfile::TempDir) -> Report {
    let report = check(dir.path());
    let found = report
        .findings
        .iter()
        .any(|f| f.rule == "BO001" && f.location.path.ends_with("ok/deploy.yaml"));
    assert!(
        found,
        "BO001 on ok/deploy.yaml is missing: {:#?}",
        summary(&report)
    );
    let again = check(dir.path());
    assert_eq!(summary(&report), summary(&again), "not deterministic");
    report
}

fn summary(r: &Report) -> Vec<String> {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}:{} {}",
                f.rule, f.location.path, f.location.start.line, f.location.start.column, f.message
            )
        })
        .collect()
}

/// Whether a GD003 (input limit) is reported in the file at `path`.
fn limit_in(r: &Report, path: &str) -> bool {
    r.findings
        .iter()
        .any(|f| f.rule == "GD003" && f.location.path.ends_with(path))
}

fn assert_limit(r: &Report, path: &str) {
    assert!(limit_in(r, path), "no GD003 in {path}: {:#?}", summary(r));
}

/// `terraform {}` makes a directory a root module.
fn tf(body: &str) -> Vec<u8> {
    text(format!("terraform {{}}\n{body}"))
}

// ---------------------------------------------------------------- YAML

#[test]
fn yaml_billion_laughs() {
    let mut lol = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let r = format!("*{}", w[0]);
        lol.push_str(&format!(
            "{}: &{} [{}]\n",
            w[1],
            w[1],
            [r.as_str(); 9].join(",")
        ));
    }
    let dir = tree(&[("lol.yaml", text(lol))]);
    let r = check_tree(&dir);
    assert_limit(&r, "lol.yaml");
}

#[test]
fn yaml_many_documents_of_laughs_share_one_budget() {
    // Each document alone stays under the alias budget; together they
    // would expand to 2,000 x 100,000 nodes.
    let doc = "---\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n\
               c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
               e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n";
    let dir = tree(&[("lol.yaml", text(doc.repeat(2_000)))]);
    let r = check_tree(&dir);
    assert_limit(&r, "lol.yaml");
}

#[test]
fn yaml_deep_nesting() {
    let dir = tree(&[
        ("block.yaml", text(format!("{}x\n", "- ".repeat(10_000)))),
        (
            "flow.yaml",
            text(format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000))),
        ),
        ("map.yaml", text(format!("{}1\n", "{a: ".repeat(10_000)))),
    ]);
    let r = check_tree(&dir);
    for f in ["block.yaml", "flow.yaml", "map.yaml"] {
        assert_limit(&r, f);
    }
}

#[test]
fn yaml_template_braces() {
    // Millions of `{{` once took quadratic time looking for a Helm template.
    let dir = tree(&[
        ("braces.yaml", text("{".repeat(2_000_000))),
        (
            "helm.yaml",
            text(format!("a: {}\n", "{{ x }}".repeat(200_000))),
        ),
        (
            "comment.yaml",
            text(format!("# {}\nb: 1\n", "{{".repeat(1_000_000))),
        ),
    ]);
    check_tree(&dir);
}

// ---------------------------------------------------------------- JSON

#[test]
fn json_deep_nesting() {
    let dir = tree(&[
        (
            "arrays.json",
            text(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000))),
        ),
        (
            "objects.json",
            text(format!(
                "{}1{}",
                "{\"a\":".repeat(10_000),
                "}".repeat(10_000)
            )),
        ),
    ]);
    let r = check_tree(&dir);
    assert_limit(&r, "arrays.json");
    assert_limit(&r, "objects.json");
}

// ----------------------------------------------------------- any file

#[test]
fn file_over_the_size_limit_is_skipped_and_counted() {
    let big = format!("a: {}\n", "x".repeat(5 << 20));
    let dir = tree(&[("big.yaml", text(big))]);
    let r = check_tree(&dir);
    assert_eq!(r.walk.too_large, 1);
}

#[test]
fn binary_and_invalid_utf8_files() {
    let binary: Vec<u8> = (0..=255u8).cycle().take(64 << 10).collect();
    let dir = tree(&[
        ("binary.yaml", binary.clone()),
        ("binary.tf", binary),
        ("latin1.yaml", b"a: \"\xff\xfe\xc3\x28\"\n".to_vec()),
        (
            "latin1.tf",
            b"terraform {}\nlocals { a = \"\xff\" }\n".to_vec(),
        ),
        ("latin1.json", b"{\"a\": \"\xe9\"}".to_vec()),
    ]);
    let r = check_tree(&dir);
    assert!(r.model.stats.unreadable >= 5, "{:?}", r.model.stats);
}

#[cfg(unix)]
#[test]
fn symlink_loops() {
    let dir = tree(&[("d/x.yaml", text("a: 1\n"))]);
    let root = dir.path();
    std::os::unix::fs::symlink("..", root.join("d/up")).expect("symlink");
    std::os::unix::fs::symlink(root, root.join("d/root")).expect("symlink");
    std::os::unix::fs::symlink("loop2", root.join("loop1")).expect("symlink");
    std::os::unix::fs::symlink("loop1", root.join("loop2")).expect("symlink");
    std::os::unix::fs::symlink("self.yaml", root.join("self.yaml")).expect("symlink");
    check_tree(&dir);
}

// ----------------------------------------------------------- Kustomize

#[test]
fn kustomize_overlays_in_a_cycle() {
    let dir = tree(&[
        (
            "k/base/kustomization.yaml",
            text("resources:\n  - deploy.yaml\n  - ../overlays/prod\n  - ../base\n  - .\n  - ..\n"),
        ),
        ("k/base/deploy.yaml", text(DEPLOYMENT.replace("web", "api"))),
        (
            "k/overlays/prod/kustomization.yaml",
            text(
                "resources:\n  - ../../base\n  - ../prod\n  - ../staging\nimages:\n  - name: nginx\n    newTag: latest\n",
            ),
        ),
        (
            "k/overlays/staging/kustomization.yaml",
            text("resources:\n  - ../prod\n  - ../staging\n"),
        ),
        (
            "k/kustomization.yaml",
            text("resources:\n  - k\n  - base\n  - overlays/prod\n"),
        ),
    ]);
    check_tree(&dir);
}

// ----------------------------------------------------------- Terraform

#[test]
fn hcl_deep_nesting() {
    let dir = tree(&[
        (
            "brackets/main.tf",
            tf(&format!(
                "locals {{\n  x = {}{}\n}}\n",
                "[".repeat(10_000),
                "]".repeat(10_000)
            )),
        ),
        (
            "parens/main.tf",
            tf(&format!(
                "locals {{\n  x = {}1{}\n}}\n",
                "(".repeat(100_000),
                ")".repeat(100_000)
            )),
        ),
        (
            "not/main.tf",
            tf(&format!(
                "locals {{\n  x = {}true\n}}\n",
                "!".repeat(100_000)
            )),
        ),
        (
            "cond/main.tf",
            tf(&format!(
                "locals {{\n  x = {}1\n}}\n",
                "true ? 1 : ".repeat(10_000)
            )),
        ),
        (
            "plus/main.tf",
            tf(&format!(
                "locals {{\n  x = 1{}\n}}\n",
                " + 1".repeat(100_000)
            )),
        ),
        (
            "template/main.tf",
            tf(&format!(
                "locals {{\n  x = {}1{}\n}}\n",
                "\"${".repeat(10_000),
                "}\"".repeat(10_000)
            )),
        ),
        (
            "blocks/main.tf",
            tf(&format!(
                "{}{}",
                "a {\n".repeat(10_000),
                "}\n".repeat(10_000)
            )),
        ),
        (
            "traversal/main.tf",
            tf(&format!(
                "locals {{\n  y = {{}}\n  x = local.y{}\n}}\n",
                ".a".repeat(100_000)
            )),
        ),
    ]);
    let r = check_tree(&dir);
    for d in [
        "brackets", "parens", "not", "cond", "plus", "template", "blocks",
    ] {
        assert_limit(&r, &format!("{d}/main.tf"));
    }
}

#[test]
fn module_calling_itself() {
    let dir = tree(&[
        (
            "self/main.tf",
            tf(
                "module \"me\" {\n  source = \"./\"\n}\nmodule \"again\" {\n  source = \"../self\"\n}\n",
            ),
        ),
        (
            "pair/main.tf",
            tf("module \"a\" {\n  source = \"./a\"\n}\n"),
        ),
        (
            "pair/a/main.tf",
            text("module \"b\" {\n  source = \"../b\"\n}\n"),
        ),
        (
            "pair/b/main.tf",
            text(
                "module \"a\" {\n  source = \"../a\"\n}\nmodule \"up\" {\n  source = \"../\"\n}\n",
            ),
        ),
    ]);
    check_tree(&dir);
}

#[test]
fn modules_fanning_out() {
    // Ten calls per module, sixteen levels deep, each with 10,000
    // resources: 10^16 module instances if nothing bounded them.
    let mut files = vec![(
        "fan/main.tf".to_string(),
        tf("module \"m\" {\n  source = \"./m1\"\n}\n"),
    )];
    for i in 1..=17 {
        let mut body = String::new();
        for j in 0..10 {
            body.push_str(&format!(
                "module \"c{j}\" {{\n  source = \"../m{}\"\n  count = 10000\n}}\n",
                i + 1
            ));
        }
        body.push_str("resource \"aws_s3_bucket\" \"b\" {\n  count = 10000\n  bucket = \"b${count.index}\"\n}\n");
        files.push((format!("fan/m{i}/main.tf"), text(body)));
    }
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let dir = tree(&files);
    let r = check_tree(&dir);
    assert!(
        r.findings.iter().any(|f| f.rule == "GD003"),
        "{:#?}",
        summary(&r)
    );
}

#[test]
fn locals_that_double_sixty_times() {
    let double = |make: &dyn Fn(usize) -> String| {
        let mut body = String::from("locals {\n  l0 = [\"x\"]\n");
        for i in 0..60 {
            body.push_str(&format!("  l{} = {}\n", i + 1, make(i)));
        }
        body.push_str(
            "}\nresource \"aws_s3_bucket\" \"b\" {\n  tags = { t = jsonencode(local.l60) }\n}\n",
        );
        tf(&body)
    };
    let dir = tree(&[
        (
            "concat/main.tf",
            double(&|i| format!("concat(local.l{i}, local.l{i})")),
        ),
        (
            "nested/main.tf",
            double(&|i| format!("[local.l{i}, local.l{i}]")),
        ),
        (
            "map/main.tf",
            double(&|i| format!("{{ a = local.l{i}, b = local.l{i} }}")),
        ),
        (
            "string/main.tf",
            double(&|i| format!("\"${{jsonencode(local.l{i})}}${{jsonencode(local.l{i})}}\"")),
        ),
        (
            "flatten/main.tf",
            double(&|i| format!("flatten([local.l{i}, local.l{i}])")),
        ),
    ]);
    let r = check_tree(&dir);
    for d in ["concat", "nested", "map"] {
        assert_limit(&r, &format!("{d}/main.tf"));
    }
}

#[test]
fn a_long_chain_of_locals() {
    // Each local wraps the one before: the value nests ever deeper and its
    // provenance grows by one hop per local.
    let mut body = String::from("locals {\n  a0 = 1\n");
    for i in 0..3_000 {
        body.push_str(&format!("  a{} = [local.a{i}]\n", i + 1));
    }
    body.push_str("}\noutput \"o\" {\n  value = local.a3000\n}\n");
    let dir = tree(&[("chain/main.tf", tf(&body))]);
    let r = check_tree(&dir);
    assert_limit(&r, "chain/main.tf");
}

#[test]
fn huge_counts_and_ranges() {
    let dir = tree(&[
        (
            "count/main.tf",
            tf(
                "resource \"aws_s3_bucket\" \"b\" {\n  count = 100000000\n  bucket = \"b${count.index}\"\n}\n\
                resource \"aws_s3_bucket\" \"c\" {\n  count = 1e300\n}\n\
                resource \"aws_s3_bucket\" \"d\" {\n  count = -1\n}\n",
            ),
        ),
        (
            "foreach/main.tf",
            tf(
                "resource \"aws_s3_bucket\" \"b\" {\n  for_each = toset([for i in range(1000000000) : tostring(i)])\n  bucket = each.key\n}\n\
                locals {\n  r = range(1e9)\n  r2 = range(0, 1e300, 1e-300)\n  r3 = range(1e18, 1e18 + 100000)\n  r4 = range(1, 10, 0)\n}\n",
            ),
        ),
        (
            "nested_for/main.tf",
            tf(
                "locals {\n  x = [for i in range(10000) : [for j in range(10000) : [for k in range(10000) : k]]]\n  \
                y = [for i in range(10000) : range(10000)]\n  z = {for i in range(10000) : i => range(10000)}\n}\n",
            ),
        ),
    ]);
    check_tree(&dir);
}

#[test]
fn functions_with_extreme_arguments() {
    let dir = tree(&[(
        "fn/main.tf",
        tf(r#"locals {
  a = format("%0999999999d", 1)
  b = format("%999999999999999999999999s", "x")
  c = format("%.99999999999f", 1)
  d = format("%")
  e = substr("abc", 1, 99999999999999999999)
  f = substr("abc", -99999999999999999999, 1e300)
  g = element([1], 1e300)
  h = slice([1, 2], 1e300, -5)
  i = parseint("zzzzzzzzzzzzzzzzzzzzzzzz", 36)
  j = parseint("Zz", 62)
  k = parseint("1", 1e300)
  l = [1, 2][1e300]
  m = 1e308 * 10
  n = 5 % 0
  o = replace(join("", [for i in range(10000) : "aaaaaaaaaa"]), "a", join("", [for i in range(10000) : "bbbbbbbbbb"]))
  p = replace("aaaaaaaa", "/a*/", join("", [for i in range(10000) : "bbbbbbbbbbbbbbbbbbbb"]))
  q = join(join("", [for i in range(10000) : "xxxxxxxxxx"]), [for i in range(10000) : "y"])
  r = [for i in range(10000) : join("", [for j in range(10000) : "x"])]
  s = title("ǅǆ")
  t = split("", "abc")
  u = toset([for i in range(10000) : "v${i % 100}"])
  v = [for i in range(10000) : merge({for j in range(1000) : "k${j}" => j}, {a = i})]
}
resource "aws_s3_bucket" "b" {
  bucket = local.a
}
"#),
    )]);
    check_tree(&dir);
}

#[test]
fn templatefile_recursion() {
    let dir = tree(&[
        (
            "tpl/main.tf",
            tf(
                "locals {\n  t = templatefile(\"${path.module}/t.tpl\", {})\n}\noutput \"o\" {\n  value = local.t\n}\n",
            ),
        ),
        (
            "tpl/t.tpl",
            text("${templatefile(\"t.tpl\", {})}${templatefile(\"t.tpl\", {})}${file(\"t.tpl\")}"),
        ),
    ]);
    check_tree(&dir);
}

#[test]
fn everything_at_once() {
    // All of it in one scan: each limit stays with its own file.
    let dir = tree(&[
        (
            "lol.yaml",
            text(
                "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
            ),
        ),
        ("deep.json", text("[".repeat(10_000))),
        ("broken.yaml", text("a: [1, 2\n")),
        ("broken/main.tf", tf("locals {\n  a = = 1\n}\n")),
        (
            "loop/main.tf",
            tf(
                "locals {\n  a = local.b\n  b = local.a\n}\nmodule \"me\" {\n  source = \"./\"\n}\n",
            ),
        ),
        (
            "double/main.tf",
            tf(&format!(
                "locals {{\n  l0 = [1]\n{}}}\n",
                (0..40)
                    .map(|i| format!("  l{} = concat(local.l{i}, local.l{i})\n", i + 1))
                    .collect::<String>()
            )),
        ),
    ]);
    let r = check_tree(&dir);
    assert_limit(&r, "lol.yaml");
    assert_limit(&r, "deep.json");
    assert_limit(&r, "loop/main.tf");
    assert_limit(&r, "double/main.tf");
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "GD001" && f.location.path.ends_with("broken.yaml"))
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "GD001" && f.location.path.ends_with("broken/main.tf"))
    );
}
