//! The AWS hardening rules against Checkov's own test cases for the checks they share
//! (`tests/terraform/checks/resource/aws/` of bridgecrewio/checkov: `test_<Check>.py` with
//! inline `hcl2.loads("""...""")` cases and their expected `CheckResult`, or an
//! `example_<Check>/` directory with the expected passing and failing resources).
//!
//! Each case runs through guard (`--select <rule>`, hardening on) in a project of its own; a
//! resource fails when a finding of the rule is inside its block. The agreement is printed per
//! rule; every disagreement must be one of [`DECIDED`], each a documented decision (README,
//! "Agreement with Checkov"), so a new one fails the test, and one that starts agreeing is
//! printed to be taken off the list.
//!
//! The fixtures are not in this repository: `GUARD_CHECKOV_FIXTURES` names that directory (or a
//! copy at `../shared/checkov/tests/terraform/checks/resource/aws`); without it the test prints
//! a visible skip line, also under `GUARD_REQUIRE_ALL` (the data is not part of `../shared`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// (guard rule, Checkov check class) for the checks both have.
const PAIRS: &[(&str, &str)] = &[
    ("HD050", "RDSEncryption"),
    ("HD050", "AuroraEncryption"),
    ("HD051", "RDSInstanceDeletionProtection"),
    ("HD051", "RDSDeletionProtection"),
    ("HD052", "DBInstanceBackupRetentionPeriod"),
    ("HD053", "RDSIAMAuthentication"),
    ("HD053", "RDSClusterIAMAuthentication"),
    ("HD054", "RDSMultiAZEnabled"),
    ("HD055", "DBInstanceMinorUpgrade"),
    ("HD056", "RDSInstancePerfInsightsEncryptionWithCMK"),
    ("HD057", "S3BlockPublicACLs"),
    ("HD057", "S3BlockPublicPolicy"),
    ("HD057", "S3IgnorePublicACLs"),
    ("HD057", "S3RestrictPublicBuckets"),
    ("HD060", "S3AllowsAnyPrincipal"),
    ("HD061", "SecurityGroupUnrestrictedIngress22"),
    ("HD061", "SecurityGroupUnrestrictedIngress3389"),
    ("HD065", "IMDSv1Disabled"),
    ("HD066", "EBSEncryption"),
    ("HD066", "LaunchConfigurationEBSEncryption"),
    ("HD066", "EBSVolumeEncryptedWithCMK"),
    ("HD067", "EKSPublicAccessCIDR"),
    ("HD067", "EKSPublicAccess"),
    ("HD068", "EKSSecretsEncryption"),
    ("HD069", "EKSControlPlaneLogging"),
    ("HD070", "ECSContainerPrivilege"),
    ("HD071", "ECSContainerReadOnlyRoot"),
    ("HD073", "KMSRotation"),
    ("HD074", "CloudtrailMultiRegion"),
    ("HD075", "CloudtrailLogValidation"),
    ("HD076", "ECRImageScanning"),
    ("HD077", "ECRImmutableTags"),
    ("HD078", "SecretManagerSecret90days"),
];

/// Disagreements that are decisions, not bugs: (check, case), each explained in the README.
const DECIDED: &[(&str, &str)] = &[
    // `False`/`True` capitalised: Terraform reads a reference to an undefined name and rejects
    // the file; guard does not guess the value.
    (
        "RDSEncryption",
        "example_RDSEncryption aws_db_instance.disabled",
    ),
    (
        "EBSEncryption",
        "example_EBSEncryption aws_ebs_volume.disabled",
    ),
    (
        "LaunchConfigurationEBSEncryption",
        "example_LaunchConfigurationEBSEncryption aws_instance.fail",
    ),
    (
        "EKSPublicAccess",
        "example_EKSPublicAccess aws_eks_cluster.enabled",
    ),
    // A retention of 36 days is refused by AWS (at most 35): not a deployable configuration.
    (
        "DBInstanceBackupRetentionPeriod",
        "example_DBInstanceBackupRetentionPeriod aws_db_instance.fail",
    ),
    (
        "DBInstanceBackupRetentionPeriod",
        "example_DBInstanceBackupRetentionPeriod aws_rds_cluster.fail",
    ),
    // No retention set: the provider's default (1 day) is what runs, and guard judges it.
    (
        "DBInstanceBackupRetentionPeriod",
        "example_DBInstanceBackupRetentionPeriod aws_db_instance.pass2",
    ),
    (
        "DBInstanceBackupRetentionPeriod",
        "example_DBInstanceBackupRetentionPeriod aws_rds_cluster.pass2",
    ),
    // `auto_minor_version_upgrade` unset: the provider's default is true.
    (
        "DBInstanceMinorUpgrade",
        "example_DBInstanceMinorUpgrade aws_db_instance.fail2",
    ),
    (
        "DBInstanceMinorUpgrade",
        "example_DBInstanceMinorUpgrade aws_rds_cluster_instance.fail2",
    ),
    // TCP from port 0 to port 0 is port 0, not SSH; every port and protocol (`-1`) is HD063's
    // finding, not a second one here; a rule with no source (no CIDR, `self = false`) admits
    // nobody.
    (
        "SecurityGroupUnrestrictedIngress22",
        "example_SecurityGroupUnrestrictedIngress22 aws_security_group.fail2",
    ),
    (
        "SecurityGroupUnrestrictedIngress22",
        "example_SecurityGroupUnrestrictedIngress22 aws_security_group.fail4",
    ),
    (
        "SecurityGroupUnrestrictedIngress22",
        "example_SecurityGroupUnrestrictedIngress22 aws_security_group.not_self",
    ),
    (
        "SecurityGroupUnrestrictedIngress22",
        "example_SecurityGroupUnrestrictedIngress22 aws_vpc_security_group_ingress_rule.fail2",
    ),
    // `root_block_device` has no `snapshot_id` argument: the fixture's volume is unencrypted.
    (
        "LaunchConfigurationEBSEncryption",
        "example_LaunchConfigurationEBSEncryption aws_instance.pass",
    ),
    // CKV_AWS_189 asks for a customer-managed key; HD066 asks for encryption.
    (
        "EBSVolumeEncryptedWithCMK",
        "example_EBSVolumeEncryptedWithCMK aws_ebs_volume.fail",
    ),
    // HD069 asks for the audit log (`api` and `audit` here); Checkov for all five types.
    (
        "EKSControlPlaneLogging",
        "example_EKSControlPlaneLogging aws_eks_cluster.partially_enabled",
    ),
    // Checkov reads `privilege`, which ECS does not have (its field is `privileged`).
    (
        "ECSContainerPrivilege",
        "example_ECSContainerPrivilege aws_ecs_task_definition.fail",
    ),
    // An interval from a variable is unknown: not judged.
    (
        "SecretManagerSecret90days",
        "example_SecretManagerSecret90days aws_secretsmanager_secret_rotation.fail_2",
    ),
];

fn fixtures() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("GUARD_CHECKOV_FIXTURES").map(PathBuf::from),
        Some(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/checkov/tests/terraform/checks/resource/aws"),
        ),
    ];
    candidates.into_iter().flatten().find(|p| p.is_dir())
}

/// One expectation: a case of a check, whether Checkov says it fails.
struct Case {
    name: String,
    files: Vec<(String, String)>,
    /// Resource address (or the case's only resource, `""`) -> fails.
    expect: Vec<(String, bool)>,
}

/// The text of every `"""..."""` string passed to `hcl2.loads` in `body`.
fn hcl_strings(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("hcl2.loads(") {
        rest = &rest[at + "hcl2.loads(".len()..];
        let Some(open) = rest.find("\"\"\"") else {
            break;
        };
        let after = &rest[open + 3..];
        let Some(close) = after.find("\"\"\"") else {
            break;
        };
        out.push(after[..close].to_string());
        rest = &after[close + 3..];
    }
    out
}

/// The quoted strings of the Python set literal assigned to `name` in `text`.
fn python_set(text: &str, name: &str) -> Option<BTreeSet<String>> {
    let at = text.find(&format!("{name} = {{"))?;
    let body = &text[at..];
    let end = body.find('}')?;
    Some(
        body[..end]
            .split(['"', '\''])
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s.to_string())
            .collect(),
    )
}

fn cases(dir: &Path, class: &str) -> Vec<Case> {
    let Ok(test) = std::fs::read_to_string(dir.join(format!("test_{class}.py"))) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let example = dir.join(format!("example_{class}"));
    if example.is_dir()
        && let (Some(pass), Some(fail)) = (
            python_set(&test, "passing_resources"),
            python_set(&test, "failing_resources"),
        )
    {
        let mut files = Vec::new();
        if let Ok(rd) = std::fs::read_dir(&example) {
            let mut names: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            names.sort();
            for p in names {
                if p.extension().is_some_and(|e| e == "tf")
                    && let Ok(t) = std::fs::read_to_string(&p)
                {
                    let name = p.file_name().unwrap().to_string_lossy().to_string();
                    files.push((name, t));
                }
            }
        }
        let expect = fail
            .into_iter()
            .map(|r| (r, true))
            .chain(pass.into_iter().map(|r| (r, false)))
            .collect();
        out.push(Case {
            name: format!("example_{class}"),
            files,
            expect,
        });
    }
    // Inline cases: one method each, its HCL and the result it asserts.
    for method in test.split("    def ").skip(1) {
        let name = method.split('(').next().unwrap_or("?").to_string();
        let hcl = hcl_strings(method);
        let fails = method.contains("CheckResult.FAILED");
        let passes = method.contains("CheckResult.PASSED");
        if hcl.len() != 1 || fails == passes {
            continue;
        }
        out.push(Case {
            name,
            files: vec![("main.tf".into(), hcl[0].clone())],
            expect: vec![(String::new(), fails)],
        });
    }
    out
}

/// The resources of the files, `type.name` with the line each block starts on.
fn resources(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if !t.starts_with("resource") {
            continue;
        }
        let words: Vec<&str> = t
            .trim_start_matches("resource")
            .split(|c: char| c.is_whitespace() || c == '{')
            .map(|w| w.trim_matches('"'))
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() >= 2 {
            out.push((i + 1, format!("{}.{}", words[0], words[1])));
        }
    }
    out
}

/// The resources a rule fails in `files`, run as a project of their own.
fn failed(rule: &str, files: &[(String, String)]) -> Result<BTreeSet<String>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join("guard.toml"), "[hardening]\n").map_err(|e| e.to_string())?;
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).map_err(|e| e.to_string())?;
    }
    let root = dir.path().to_string_lossy().to_string();
    let o = common::guard(&["check", &root, "--select", rule, "--format", "json"]);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).map_err(|e| format!("{e}: {}", common::stdout(&o)))?;
    let mut out = BTreeSet::new();
    for f in v["findings"].as_array().into_iter().flatten() {
        if f["rule"] != rule {
            continue;
        }
        let path = f["location"]["path"].as_str().unwrap_or("");
        let line = f["location"]["start"]["line"].as_u64().unwrap_or(0) as usize;
        let Some((_, text)) = files.iter().find(|(n, _)| path.ends_with(n.as_str())) else {
            continue;
        };
        if let Some((_, r)) = resources(text).into_iter().rev().find(|(l, _)| *l <= line) {
            out.insert(r);
        }
    }
    Ok(out)
}

#[test]
fn aws_rules_agree_with_checkov_test_cases() {
    let Some(dir) = fixtures() else {
        // Not `common::skip`: the fixtures are not part of `../shared`, so CI
        // (GUARD_REQUIRE_ALL=1) cannot have them either.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED aws_rules_agree_with_checkov_test_cases: set GUARD_CHECKOV_FIXTURES to checkov's tests/terraform/checks/resource/aws (or put it at ../shared/checkov/tests/terraform/checks/resource/aws)"
        );
        return;
    };
    let (mut agree, mut total) = (0usize, 0usize);
    let mut new: Vec<String> = Vec::new();
    let mut fixed: Vec<String> = Vec::new();
    println!("Checkov test cases through guard:");
    for (rule, class) in PAIRS {
        let cs = cases(&dir, class);
        if cs.is_empty() {
            // Checkov tests some checks on Python dictionaries, not HCL: nothing to run.
            println!("  {rule} {class:<42} no HCL case");
            continue;
        }
        let (mut a, mut t) = (0usize, 0usize);
        for c in &cs {
            let got = failed(rule, &c.files).unwrap_or_else(|e| panic!("{class} {}: {e}", c.name));
            let declared: BTreeSet<String> = c
                .files
                .iter()
                .flat_map(|(_, t)| resources(t).into_iter().map(|(_, r)| r))
                .collect();
            // An expectation about a resource the files do not declare (commented out
            // there) cannot be run.
            for (res, fails) in c
                .expect
                .iter()
                .filter(|(r, _)| r.is_empty() || declared.contains(r))
            {
                let verdict = if res.is_empty() {
                    !got.is_empty()
                } else {
                    got.contains(res)
                };
                t += 1;
                let case = if res.is_empty() {
                    c.name.clone()
                } else {
                    format!("{} {res}", c.name)
                };
                let decided = DECIDED.contains(&(*class, case.as_str()));
                if verdict == *fails {
                    a += 1;
                    if decided {
                        fixed.push(format!("{class} {case}"));
                    }
                } else {
                    let what = format!(
                        "{rule} {class} {case}: Checkov {}, guard {}",
                        if *fails { "fails it" } else { "passes it" },
                        if verdict { "fails it" } else { "passes it" }
                    );
                    println!("  disagree: {what}");
                    if !decided {
                        new.push(what);
                    }
                }
            }
        }
        println!("  {rule} {class:<42} {a}/{t}");
        agree += a;
        total += t;
    }
    println!(
        "Checkov agreement: {agree}/{total} ({:.1}%)",
        100.0 * agree as f64 / total.max(1) as f64
    );
    for f in &fixed {
        println!("  now agrees (take it off DECIDED): {f}");
    }
    assert!(
        new.is_empty(),
        "disagreements that are not documented decisions:\n{}",
        new.join("\n")
    );
}
