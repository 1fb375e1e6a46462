//! A tree that holds several git repositories is several projects: an SCP
//! of one repository does not judge the regions of another.

use std::fs;

fn write(root: &std::path::Path, path: &str, text: &str) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

const SCP: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "NotAction": ["iam:*", "sts:*", "organizations:*", "cloudfront:*", "route53:*", "support:*"],
    "Resource": "*",
    "Condition": { "StringNotEquals": { "aws:RequestedRegion": ["ap-northeast-1"] } }
  }]
}"#;

const PROVIDER: &str = "provider \"aws\" {\n  region = \"us-west-2\"\n}\n";

fn region_findings(root: &std::path::Path) -> Vec<String> {
    let report = guard::check(&guard::Options {
        paths: vec![root.to_path_buf()],
        excludes: vec![],
    })
    .unwrap();
    report
        .findings
        .iter()
        .filter(|f| f.rule == "REG001")
        .map(|f| f.location.path.clone())
        .collect()
}

#[test]
fn scps_judge_their_own_repository_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "org/.git/HEAD", "ref: refs/heads/main\n");
    write(d, "org/scp/regions.json", SCP);
    write(d, "org/infra/main.tf", PROVIDER);
    write(d, "other/.git/HEAD", "ref: refs/heads/main\n");
    write(d, "other/main.tf", PROVIDER);
    assert_eq!(region_findings(d), ["org/infra/main.tf"]);
}

#[test]
fn one_repository_is_one_project() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "scp/regions.json", SCP);
    write(d, "infra/main.tf", PROVIDER);
    write(d, "app/main.tf", PROVIDER);
    assert_eq!(region_findings(d), ["app/main.tf", "infra/main.tf"]);
}
