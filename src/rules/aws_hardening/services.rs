//! KMS key rotation, CloudTrail, ECR repositories, Secrets Manager
//! rotation.

use super::{Issue, blocks, bool_of, cfn_ref, cfn_rule, covered, str_of, tf_rule, want_true};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::rules::{Family, Rule, TierSeverity};

/// A CloudFormation boolean that must be true (false when unset).
fn cfn_true(res: &super::CfnRes<'_>, prop: &[&str], what: &str, issues: &mut Vec<Issue>) {
    let name = prop.join(".");
    match res.prop(prop) {
        None => issues.push(Issue::here(
            res.key,
            format!("{what} (`{name}` is not set; it defaults to false)"),
        )),
        Some(n) if bool_of(n) == Some(false) => {
            issues.push(Issue::at(n, format!("{what} (`{name}` is false)")))
        }
        Some(_) => {}
    }
}

pub static KMS_ROTATION: Rule = Rule {
    id: "HD073",
    name: "kms-key-rotation-disabled",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A symmetric customer-managed KMS key does not rotate its key material",
    help: "set enable_key_rotation = true (EnableKeyRotation: true)",
    explanation: r#"**Why.** Yearly (or shorter, with `rotation_period_in_days`) rotation of a KMS key's material
limits how much data one key version protects and is required by most baselines (CIS, PCI).
Rotation is transparent: old ciphertexts still decrypt, nothing in the application changes.
The keys that protect prod's databases, buckets and secrets (HD050, HD058, HD068) should rotate,
and staging's should too so that the same configuration is tested. Reported on `aws_kms_key`
and CloudFormation `AWS::KMS::Key` whose `enable_key_rotation` / `EnableKeyRotation` is missing
or false, for symmetric encryption keys only (asymmetric and HMAC keys cannot rotate
automatically).

Severity follows the environment tier: warning in prod and staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_7`; Trivy `AVD-AWS-0065`; KICS
`22fbfeac-7b5a-421a-8a27-7a2178bb910b` (CMK Rotation Disabled).

**How to fix.**

```hcl
# bad
resource "aws_kms_key" "db" {
  description = "prod database"
}
```
```hcl
# good
resource "aws_kms_key" "db" {
  description         = "prod database"
  enable_key_rotation = true
}
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "kms",
        "encryption",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_kms),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn symmetric(spec: Option<&crate::node::Node>, usage: Option<&crate::node::Node>) -> bool {
    spec.and_then(str_of)
        .is_none_or(|s| s == "SYMMETRIC_DEFAULT")
        && usage
            .and_then(str_of)
            .is_none_or(|u| u == "ENCRYPT_DECRYPT")
        && spec.is_none_or(|s| !s.is_unknown())
        && usage.is_none_or(|u| !u.is_unknown())
}

fn check_kms(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(m, out, &KMS_ROTATION, &["aws_kms_key"], |_, r, issues| {
        if !symmetric(
            r.attrs.get("customer_master_key_spec"),
            r.attrs.get("key_usage"),
        ) {
            return;
        }
        want_true(
            &r.attrs,
            "enable_key_rotation",
            r.span,
            "does not rotate its key material",
            issues,
        );
    });
    cfn_rule(m, out, &KMS_ROTATION, &["AWS::KMS::Key"], |res, issues| {
        if !symmetric(res.prop(&["KeySpec"]), res.prop(&["KeyUsage"])) {
            return;
        }
        cfn_true(
            res,
            &["EnableKeyRotation"],
            "does not rotate its key material",
            issues,
        );
    });
}

pub static TRAIL_MULTI_REGION: Rule = Rule {
    id: "HD074",
    name: "cloudtrail-not-multi-region",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A CloudTrail trail records only its own region",
    help: "set is_multi_region_trail = true (IsMultiRegionTrail: true)",
    explanation: r#"**Why.** An attacker with stolen credentials works where nobody looks: a region the company
does not use. The article restricts regions with SCPs (REG001), but a single-region trail would
not even record the attempts, nor global-service events delivered to us-east-1. A multi-region
trail records every region in one place. Reported on `aws_cloudtrail` and CloudFormation
`AWS::CloudTrail::Trail` whose `is_multi_region_trail` / `IsMultiRegionTrail` is missing or false.
An organization trail of the management account covers member accounts as well.

Severity follows the environment tier: warning in prod and staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_67`; Trivy `AVD-AWS-0014`; KICS
`8173d5eb-96b5-4aa6-a71b-ecfa153c123d` (CloudTrail Multi Region Disabled).

**How to fix.**

```hcl
# bad
is_multi_region_trail = false
```
```hcl
# good
resource "aws_cloudtrail" "org" {
  name                       = "org-trail"
  s3_bucket_name             = aws_s3_bucket.trail.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
}
```
"#,
    security_severity: "5.0",
    tags: &[
        "hardening",
        "aws",
        "cloudtrail",
        "logging",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_trail_regions),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn check_trail_regions(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &TRAIL_MULTI_REGION,
        &["aws_cloudtrail"],
        |_, r, issues| {
            want_true(
                &r.attrs,
                "is_multi_region_trail",
                r.span,
                "records only its own region",
                issues,
            );
        },
    );
    cfn_rule(
        m,
        out,
        &TRAIL_MULTI_REGION,
        &["AWS::CloudTrail::Trail"],
        |res, issues| {
            cfn_true(
                res,
                &["IsMultiRegionTrail"],
                "records only its own region",
                issues,
            );
        },
    );
}

pub static TRAIL_VALIDATION: Rule = Rule {
    id: "HD075",
    name: "cloudtrail-log-validation-disabled",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A CloudTrail trail does not sign its log files (log file validation is off)",
    help: "set enable_log_file_validation = true (EnableLogFileValidation: true)",
    explanation: r#"**Why.** After an intrusion, the first thing an attacker with S3 access edits is the audit log.
Log file validation makes CloudTrail deliver a signed digest every hour, so `aws cloudtrail
validate-logs` proves whether any log file was changed or deleted. Without it the trail of prod's
activity is evidence nobody can trust. Reported on `aws_cloudtrail` and CloudFormation
`AWS::CloudTrail::Trail` whose `enable_log_file_validation` / `EnableLogFileValidation` is missing
or false.

Severity follows the environment tier: warning in prod and staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_36`; Trivy `AVD-AWS-0016`; KICS
`52ffcfa6-6c70-4ea6-8376-d828d3961669` (CloudTrail Log File Validation Disabled).

**How to fix.**

```hcl
# bad
enable_log_file_validation = false
```
```hcl
# good
enable_log_file_validation = true
```
"#,
    security_severity: "5.0",
    tags: &[
        "hardening",
        "aws",
        "cloudtrail",
        "logging",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_trail_validation),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn check_trail_validation(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &TRAIL_VALIDATION,
        &["aws_cloudtrail"],
        |_, r, issues| {
            want_true(
                &r.attrs,
                "enable_log_file_validation",
                r.span,
                "does not validate its log files",
                issues,
            );
        },
    );
    cfn_rule(
        m,
        out,
        &TRAIL_VALIDATION,
        &["AWS::CloudTrail::Trail"],
        |res, issues| {
            cfn_true(
                res,
                &["EnableLogFileValidation"],
                "does not validate its log files",
                issues,
            );
        },
    );
}

pub static ECR_SCAN: Rule = Rule {
    id: "HD076",
    name: "ecr-scan-on-push-disabled",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An ECR repository does not scan images when they are pushed",
    help: "set image_scanning_configuration { scan_on_push = true }, or enable registry-wide scanning",
    explanation: r#"**Why.** The article builds an image once and promotes the same digest from dev to prod
(build once, deploy many): the moment it is pushed is the one place to learn it ships a known
vulnerability, before it reaches any environment. Reported on `aws_ecr_repository` whose
`image_scanning_configuration.scan_on_push` is missing or false, and CloudFormation
`AWS::ECR::Repository` whose `ImageScanningConfiguration.ScanOnPush` is. A root with an
`aws_ecr_registry_scanning_configuration` (registry-wide basic or enhanced scanning, which
supersedes the per-repository setting) is not reported.

Severity follows the environment tier: warning in prod and staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_163`; Trivy `AVD-AWS-0030`; KICS
`9630336b-3fed-4096-8173-b9afdfe346a7` (Unscanned ECR Image).

**How to fix.**

```hcl
# bad
image_scanning_configuration {
  scan_on_push = false
}
```
```hcl
# good
resource "aws_ecr_repository" "api" {
  name                 = "api"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
}
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "ecr",
        "build-once",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_ecr_scan),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn check_ecr_scan(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &ECR_SCAN,
        &["aws_ecr_repository"],
        |root, r, issues| {
            if root
                .resources_of("aws_ecr_registry_scanning_configuration")
                .next()
                .is_some()
            {
                return;
            }
            let cfg = blocks(r.attrs.get("image_scanning_configuration"));
            match cfg.first() {
                None => issues.push(Issue::here(
                    r.span,
                    "does not scan images on push (no `image_scanning_configuration`)",
                )),
                Some(c) => want_true(
                    c,
                    "scan_on_push",
                    r.span,
                    "does not scan images on push",
                    issues,
                ),
            }
        },
    );
    cfn_rule(
        m,
        out,
        &ECR_SCAN,
        &["AWS::ECR::Repository"],
        |res, issues| {
            cfn_true(
                res,
                &["ImageScanningConfiguration", "ScanOnPush"],
                "does not scan images on push",
                issues,
            );
        },
    );
}

pub static ECR_MUTABLE: Rule = Rule {
    id: "HD077",
    name: "ecr-tags-mutable",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An ECR repository lets a tag be pushed again with different content",
    help: "set image_tag_mutability = \"IMMUTABLE\" (ImageTagMutability: IMMUTABLE)",
    explanation: r#"**Why.** Build once, deploy many (the article's section on promotion, and BO001 for the
manifests): what was tested in staging must be, byte for byte, what runs in prod. With mutable
tags (`MUTABLE`, the default), `api:1.4.2` can be pushed again with other content after staging
tested it, by a re-run pipeline or by an attacker with push rights, and prod pulls something
nobody tested. Immutable tags make the registry refuse the overwrite. Reported on
`aws_ecr_repository` and CloudFormation `AWS::ECR::Repository` whose `image_tag_mutability` /
`ImageTagMutability` is missing or `MUTABLE` (`IMMUTABLE_WITH_EXCLUSION` passes: the exclusions
are deliberate).

Severity follows the environment tier: error in prod, warning in staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_51`; Trivy `AVD-AWS-0031`; KICS
`d1846b12-20c5-4d45-8798-fc35b79268eb` (ECR Image Tag Not Immutable).

**How to fix.**

```hcl
# bad
resource "aws_ecr_repository" "api" {
  name = "api"
}
```
```hcl
# good
resource "aws_ecr_repository" "api" {
  name                 = "api"
  image_tag_mutability = "IMMUTABLE"
}
```
"#,
    security_severity: "6.0",
    tags: &[
        "hardening",
        "aws",
        "ecr",
        "build-once",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_ecr_mutable),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

fn check_ecr_mutable(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &ECR_MUTABLE,
        &["aws_ecr_repository"],
        |_, r, issues| match r.attrs.get("image_tag_mutability") {
            None => issues.push(Issue::here(
                r.span,
                "has mutable tags (`image_tag_mutability` is not set; it defaults to MUTABLE)",
            )),
            Some(n) => {
                if str_of(n) == Some("MUTABLE") {
                    issues.push(Issue::at(
                        n,
                        "has mutable tags (`image_tag_mutability` is MUTABLE)",
                    ));
                }
            }
        },
    );
    cfn_rule(
        m,
        out,
        &ECR_MUTABLE,
        &["AWS::ECR::Repository"],
        |res, issues| match res.prop(&["ImageTagMutability"]) {
            None => issues.push(Issue::here(
                res.key,
                "has mutable tags (`ImageTagMutability` is not set; it defaults to MUTABLE)",
            )),
            Some(n) => {
                if str_of(n) == Some("MUTABLE") {
                    issues.push(Issue::at(
                        n,
                        "has mutable tags (`ImageTagMutability` is MUTABLE)",
                    ));
                }
            }
        },
    );
}

pub static SECRET_ROTATION: Rule = Rule {
    id: "HD078",
    name: "secret-rotation-missing",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A Secrets Manager secret has no rotation configured",
    help: "add an aws_secretsmanager_secret_rotation for the secret (or use manage_master_user_password for RDS)",
    explanation: r#"**Why.** A credential that never changes stays valid for whoever copied it once: a former
employee, a leaked CI log, a laptop backup. Secrets Manager rotates it on a schedule with a Lambda
function (or natively for RDS master passwords); applications read the current value at run time,
so nothing is redeployed. The article keeps secrets out of code and out of reach (SEC rules);
rotation limits the damage when one leaks anyway. Reported: an `aws_secretsmanager_secret` with no
`aws_secretsmanager_secret_rotation` whose `secret_id` refers to it in the same root (one whose
target cannot be told covers only secrets whose own name cannot be told either), and a CloudFormation `AWS::SecretsManager::Secret` with
no `AWS::SecretsManager::RotationSchedule` whose `SecretId` refers to it; and a rotation more than
90 days apart (`automatically_after_days`, or a `rate(N days)` `schedule_expression`, over 90; an
unknown interval is not judged). Some secrets cannot rotate (a third party's API key): suppress the finding with that reason.

Severity: warning in prod, note in staging, not reported in dev.

Equivalent checks: Checkov `CKV2_AWS_57` (automatic rotation), `CKV_AWS_304` (rotated within 90
days); Trivy and KICS have no equivalent Terraform check.

**How to fix.**

```hcl
# bad: a secret and nothing that rotates it
resource "aws_secretsmanager_secret" "db" {
  name = "prod/db-password"
}
```
```hcl
# good
resource "aws_secretsmanager_secret_rotation" "db" {
  secret_id           = aws_secretsmanager_secret.db.id
  rotation_lambda_arn = aws_lambda_function.rotate.arn
  rotation_rules {
    automatically_after_days = 30
  }
}
```
"#,
    security_severity: "4.0",
    tags: &["hardening", "aws", "secrets", "terraform", "cloudformation"],
    check: Some(check_secret_rotation),
    tiers: Some(TierSeverity {
        dev: None,
        staging: Severity::Note,
        prod: Severity::Warning,
    }),
};

/// The longest rotation interval that counts as rotating (days).
const MAX_ROTATION_DAYS: f64 = 90.0;

/// The days of a `rate(N days)` schedule (`rate(N hours)` and cron: none).
fn rate_days(expr: &str) -> Option<f64> {
    let inner = expr.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: f64 = n.trim().parse().ok()?;
    matches!(unit.trim(), "day" | "days").then_some(n)
}

fn check_secret_rotation(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &SECRET_ROTATION,
        &["aws_secretsmanager_secret"],
        |root, r, issues| {
            if !covered(
                m,
                root,
                r,
                "aws_secretsmanager_secret_rotation",
                "secret_id",
                "name",
            ) {
                issues.push(Issue::here(
                    r.span,
                    "is never rotated (no aws_secretsmanager_secret_rotation refers to it)",
                ));
            }
        },
    );
    // A rotation so rare it hardly limits a leak: more than 90 days apart.
    tf_rule(
        m,
        out,
        &SECRET_ROTATION,
        &["aws_secretsmanager_secret_rotation"],
        |_, r, issues| {
            for rules in blocks(r.attrs.get("rotation_rules")) {
                if let Some(n) = rules.get("automatically_after_days")
                    && let Some(days) = n.as_f64()
                    && days > MAX_ROTATION_DAYS
                {
                    issues.push(Issue::at(
                        n,
                        format!("rotates the secret only every {days} days (more than {MAX_ROTATION_DAYS})"),
                    ));
                }
                if let Some(n) = rules.get("schedule_expression")
                    && let Some(days) = n.as_str().and_then(rate_days)
                    && days > MAX_ROTATION_DAYS
                {
                    issues.push(Issue::at(
                        n,
                        format!("rotates the secret only every {days} days (more than {MAX_ROTATION_DAYS})"),
                    ));
                }
            }
        },
    );
    cfn_rule(
        m,
        out,
        &SECRET_ROTATION,
        &["AWS::SecretsManager::Secret"],
        |res, issues| {
            let rotated = res
                .others("AWS::SecretsManager::RotationSchedule")
                .any(|s| match s.path(&["Properties", "SecretId"]) {
                    Some(id) => cfn_ref(id).is_none_or(|r| r == res.name),
                    None => false,
                });
            if !rotated {
                issues.push(Issue::here(
                    res.key,
                    "is never rotated (no AWS::SecretsManager::RotationSchedule refers to it)",
                ));
            }
        },
    );
}
