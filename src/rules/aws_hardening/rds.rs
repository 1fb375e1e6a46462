//! RDS and Aurora: encryption, deletion protection, backups, IAM
//! authentication, Multi-AZ, minor version upgrades, Performance Insights.

use super::{Issue, bool_of, cfn_rule, not_false, str_of, tf_rule, want_true};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::rules::{Family, Rule, TierSeverity};
use crate::terraform::Resource;

const TF_DB: &[&str] = &["aws_db_instance", "aws_rds_cluster"];
const CFN_DB: &[&str] = &["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"];

/// Quiet in dev, a note in staging, a warning in prod: availability and
/// recovery settings that only matter where the real data is.
const PROD_ONLY: TierSeverity = TierSeverity {
    dev: None,
    staging: Severity::Note,
    prod: Severity::Warning,
};

/// A read replica or an instance restored from a snapshot inherits its
/// source's storage settings.
fn inherits(r: &Resource) -> bool {
    ["replicate_source_db", "replication_source_identifier"]
        .iter()
        .any(|a| {
            r.attrs
                .get(a)
                .is_some_and(|n| n.value != crate::node::Value::Null)
        })
}

/// A CloudFormation DB instance that belongs to an Aurora cluster (the
/// cluster decides) or replicates another one.
fn cfn_member(res: &super::CfnRes<'_>) -> bool {
    res.rtype == "AWS::RDS::DBInstance"
        && (res.prop(&["DBClusterIdentifier"]).is_some()
            || res.prop(&["SourceDBInstanceIdentifier"]).is_some())
}

/// A CloudFormation boolean property that must be true (false when unset).
fn cfn_want_true(res: &super::CfnRes<'_>, prop: &str, what: &str, issues: &mut Vec<Issue>) {
    match res.prop(&[prop]) {
        None => issues.push(Issue::here(
            res.key,
            format!("{what} (`{prop}` is not set; it defaults to false)"),
        )),
        Some(n) if bool_of(n) == Some(false) => {
            issues.push(Issue::at(n, format!("{what} (`{prop}` is false)")))
        }
        Some(_) => {}
    }
}

pub static STORAGE: Rule = Rule {
    id: "HD050",
    name: "rds-storage-not-encrypted",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An RDS instance or Aurora cluster does not encrypt its storage",
    help: "set storage_encrypted = true (StorageEncrypted: true), with a customer-managed kms_key_id for prod",
    explanation: r#"**Why.** Production data is what the article's guardrails protect first: a database whose
volumes, automated backups, snapshots and read replicas are stored in clear can be read by anyone
who obtains a snapshot (shared by mistake, copied to another account) or the underlying media.
Encryption at rest can only be chosen when the database is created: turning it on later means a
snapshot, an encrypted copy and a restore, so the decision has to be right in the module from the
start, and staging, which mirrors prod (section 1.2), must make the same one. `aws_db_instance`
and `aws_rds_cluster` both default `storage_encrypted` to false (Aurora Serverless v1 is always
encrypted and is not reported; read replicas, and instances restored from a snapshot, inherit
their source: a `snapshot_identifier` that is null, as modules pass it, restores nothing). CloudFormation
`AWS::RDS::DBInstance` / `AWS::RDS::DBCluster` `StorageEncrypted` is checked the same way.

Severity follows the environment tier: error in prod, warning in staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_16` (instance), `CKV_AWS_96` (cluster); Trivy `AVD-AWS-0080`
(instance), `AVD-AWS-0079` (cluster); KICS `08bd0760-8752-44e1-9779-7bb369b2b4e4` (DB Instance
Storage Not Encrypted), `3199c26c-7871-4cb3-99c2-10a59244ce7f` (RDS Storage Not Encrypted).

**How to fix.** Set `storage_encrypted = true` and, in prod, `kms_key_id` to a customer-managed
key whose policy you control.

```hcl
# bad: the default leaves the volumes and backups in clear
resource "aws_db_instance" "orders" {
  engine         = "postgres"
  instance_class = "db.t3.medium"
}
```
```hcl
# good
resource "aws_db_instance" "orders" {
  engine            = "postgres"
  instance_class    = "db.t3.medium"
  storage_encrypted = true
  kms_key_id        = aws_kms_key.db.arn
}
```
"#,
    security_severity: "7.5",
    tags: &[
        "hardening",
        "aws",
        "rds",
        "encryption",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_storage),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

fn check_storage(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(m, out, &STORAGE, TF_DB, |_, r, issues| {
        // Restored from a snapshot: the snapshot decides (a null
        // `snapshot_identifier`, as modules pass it, restores nothing).
        let restored = r
            .attrs
            .get("snapshot_identifier")
            .is_some_and(|n| n.value != crate::node::Value::Null);
        if inherits(r) || restored {
            return;
        }
        if r.rtype == "aws_rds_cluster"
            && r.attrs.get("engine_mode").and_then(str_of) == Some("serverless")
        {
            return;
        }
        want_true(
            &r.attrs,
            "storage_encrypted",
            r.span,
            "does not encrypt its storage",
            issues,
        );
    });
    cfn_rule(m, out, &STORAGE, CFN_DB, |res, issues| {
        if cfn_member(res)
            || res.prop(&["SnapshotIdentifier"]).is_some()
            || res.prop(&["DBSnapshotIdentifier"]).is_some()
            || res.prop(&["EngineMode"]).and_then(str_of) == Some("serverless")
        {
            return;
        }
        cfn_want_true(
            res,
            "StorageEncrypted",
            "does not encrypt its storage",
            issues,
        );
    });
}

pub static DELETION: Rule = Rule {
    id: "HD051",
    name: "rds-deletion-protection-disabled",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An RDS instance or Aurora cluster can be deleted without first turning off deletion protection",
    help: "set deletion_protection = true (DeletionProtection: true)",
    explanation: r#"**Why.** The article keeps production data out of reach of accidents: a `terraform destroy`
in the wrong directory, a resource renamed in a refactoring (Terraform plans a delete and a
create), a CloudFormation stack deleted by hand. With `deletion_protection = true` the API refuses
to delete the database until someone deliberately turns the flag off in a separate change, which a
review sees. Staging mirrors prod (section 1.2): it should carry the same protection, so that the
change that would remove it is tested there first. `aws_db_instance` and `aws_rds_cluster`
default to false; so do CloudFormation `AWS::RDS::DBInstance` / `AWS::RDS::DBCluster`
`DeletionProtection`. Instances inside an Aurora cluster are protected by the cluster.

Severity follows the environment tier: error in prod, warning in staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_293` (instance), `CKV_AWS_139` (cluster); Trivy
`AVD-AWS-0177`; KICS `2c161e58-cb52-454f-abea-6470c37b5e6e` (RDS DB Instance With Deletion
Protection Disabled, CloudFormation).

**How to fix.**

```hcl
# bad
resource "aws_rds_cluster" "main" {
  engine = "aurora-postgresql"
}
```
```hcl
# good
resource "aws_rds_cluster" "main" {
  engine              = "aurora-postgresql"
  deletion_protection = true
}
```
"#,
    security_severity: "6.0",
    tags: &["hardening", "aws", "rds", "terraform", "cloudformation"],
    check: Some(check_deletion),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

fn check_deletion(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(m, out, &DELETION, TF_DB, |_, r, issues| {
        want_true(
            &r.attrs,
            "deletion_protection",
            r.span,
            "has no deletion protection",
            issues,
        );
    });
    cfn_rule(m, out, &DELETION, CFN_DB, |res, issues| {
        if res.rtype == "AWS::RDS::DBInstance" && res.prop(&["DBClusterIdentifier"]).is_some() {
            return;
        }
        cfn_want_true(
            res,
            "DeletionProtection",
            "has no deletion protection",
            issues,
        );
    });
}

pub static BACKUP: Rule = Rule {
    id: "HD052",
    name: "rds-backup-retention-short",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An RDS instance or Aurora cluster keeps automated backups for less than 7 days",
    help: "set backup_retention_period to 7 or more (BackupRetentionPeriod: 7)",
    explanation: r#"**Why.** Point-in-time recovery only reaches back as far as the automated backups are kept.
Data corruption (a bad migration, a faulty deploy, ransomware) is often noticed days later, over a
weekend: one day of retention (the default) or zero (backups off) leaves nothing to restore. The
article protects prod data above all; seven days is the common floor (AWS Foundational Security
Best Practices, CIS). This matters where the real data is: the finding is a warning in prod, a
note in staging and is not reported in dev, where short retention saves money. A value in a shared
module reached by every environment is reported once, at prod's severity. Read replicas (no
backups of their own) are skipped. `aws_db_instance`, `aws_rds_cluster` and CloudFormation
`BackupRetentionPeriod` are checked.

Equivalent checks: Checkov `CKV_AWS_133` (backup policy); Trivy `AVD-AWS-0077` (retention longer
than the default); KICS `1dc73fb4-5b51-430c-8c5f-25dcf9090b02` (RDS With Backup Disabled),
`e542bd46-58c4-4e0f-a52a-1fb4f9548e02` (RDS Cluster With Backup Disabled). guard is stricter:
below 7 days, not only 0.

**How to fix.**

```hcl
# environments/prod/terraform.tfvars — bad
backup_retention_days = 1
```
```hcl
# good
backup_retention_days = 14
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "rds",
        "backup",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_backup),
    tiers: Some(PROD_ONLY),
};

fn check_backup(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(m, out, &BACKUP, TF_DB, |_, r, issues| {
        if inherits(r) {
            return;
        }
        match r.attrs.get("backup_retention_period") {
            None => issues.push(Issue::here(
                r.span,
                "keeps backups for 1 day at most (`backup_retention_period` is not set)",
            )),
            Some(n) => {
                if let Some(days) = n.as_f64()
                    && days < 7.0
                {
                    issues.push(Issue::at(
                        n,
                        format!("keeps backups for {}, fewer than 7 days", days_text(days)),
                    ));
                }
            }
        }
    });
    cfn_rule(m, out, &BACKUP, CFN_DB, |res, issues| {
        if cfn_member(res) {
            return;
        }
        match res.prop(&["BackupRetentionPeriod"]) {
            None => issues.push(Issue::here(
                res.key,
                "keeps backups for 1 day (`BackupRetentionPeriod` is not set)",
            )),
            Some(n) => {
                if let Some(days) = n.as_f64()
                    && days < 7.0
                {
                    issues.push(Issue::at(
                        n,
                        format!("keeps backups for {}, fewer than 7 days", days_text(days)),
                    ));
                }
            }
        }
    });
}

fn days_text(days: f64) -> String {
    if days == 0.0 {
        "0 days (backups are off)".to_string()
    } else if days == 1.0 {
        "1 day".to_string()
    } else {
        format!("{days} days")
    }
}

/// Engines that support IAM database authentication; `None` when the
/// engine is not known (then nothing is said).
fn iam_capable(engine: Option<&crate::node::Node>) -> Option<bool> {
    let e = engine?.as_str()?;
    Some(
        ["mysql", "postgres", "mariadb", "aurora"]
            .iter()
            .any(|p| e.starts_with(p)),
    )
}

pub static IAM_AUTH: Rule = Rule {
    id: "HD053",
    name: "rds-iam-auth-disabled",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An RDS instance or Aurora cluster does not enable IAM database authentication",
    help: "set iam_database_authentication_enabled = true and let applications connect with IAM tokens",
    explanation: r#"**Why.** With only database passwords, every application and every person holds a long-lived
secret that works from anywhere the network allows, is rarely rotated and is not tied to an
identity in CloudTrail. IAM database authentication lets roles connect with 15-minute tokens,
granted and revoked with IAM policies, the same way the article controls every other access to
prod (accounts per environment, least privilege). It does not remove the master password, but it
lets applications stop using passwords. Checked on `aws_db_instance` and `aws_rds_cluster` (and
CloudFormation `EnableIAMDatabaseAuthentication`) whose engine supports it (MySQL, MariaDB,
PostgreSQL, Aurora; every cluster engine, and a cluster without `engine`, which is Aurora
MySQL); the default is false. Aurora instances inherit their cluster's setting.

Severity: warning in prod, note in staging, not reported in dev.

Equivalent checks: Checkov `CKV_AWS_161` (instance), `CKV_AWS_162` (cluster); Trivy
`AVD-AWS-0176`; KICS `88fd05e0-ac0e-43d2-ba6d-fc0ba60ae1a6` (IAM Database Auth Not Enabled),
`228497f6-414f-41c8-9113-f36a2b1b7975` (IAM DB Cluster Auth Not Enabled).

**How to fix.**

```hcl
# bad
resource "aws_db_instance" "app" {
  engine = "mysql"
}
```
```hcl
# good
resource "aws_db_instance" "app" {
  engine                              = "mysql"
  iam_database_authentication_enabled = true
}
```
"#,
    security_severity: "5.0",
    tags: &[
        "hardening",
        "aws",
        "rds",
        "iam",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_iam),
    tiers: Some(PROD_ONLY),
};

fn check_iam(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(m, out, &IAM_AUTH, TF_DB, |_, r, issues| {
        // Every cluster engine supports it (no `engine` is Aurora MySQL).
        let capable =
            r.rtype == "aws_rds_cluster" || iam_capable(r.attrs.get("engine")) == Some(true);
        if !capable {
            return;
        }
        want_true(
            &r.attrs,
            "iam_database_authentication_enabled",
            r.span,
            "does not enable IAM database authentication",
            issues,
        );
    });
    cfn_rule(m, out, &IAM_AUTH, CFN_DB, |res, issues| {
        if cfn_member(res) || iam_capable(res.prop(&["Engine"])) != Some(true) {
            return;
        }
        cfn_want_true(
            res,
            "EnableIAMDatabaseAuthentication",
            "does not enable IAM database authentication",
            issues,
        );
    });
}

pub static MULTI_AZ: Rule = Rule {
    id: "HD054",
    name: "rds-not-multi-az",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An RDS instance runs in a single Availability Zone",
    help: "set multi_az = true for prod databases (MultiAZ: true)",
    explanation: r#"**Why.** A single-AZ instance goes down with its Availability Zone and during many
maintenance operations (instance class changes, some engine upgrades), and a storage failure
means restoring from backup with data loss up to the last backed-up transaction log. Multi-AZ
keeps a synchronous standby in another zone and fails over in a minute or two. This is a prod
concern: dev and staging may run single-AZ to save money (staging mirrors prod in versions and
configuration, the article says, not necessarily in redundancy), so the finding is a warning in
prod, a note in staging and not reported in dev. Aurora stores data across three zones by design
and is not checked here (add replicas in other zones for compute failover); read replicas are
skipped. `aws_db_instance` `multi_az` and CloudFormation `AWS::RDS::DBInstance` `MultiAZ` default
to false.

Equivalent checks: Checkov `CKV_AWS_157`; Trivy has no Terraform check for it; KICS
`53598739-ffe2-4b77-9fe5-de95f2252345` (RDS Multi-AZ Deployment Disabled, a recent query: older
KICS releases lack it); AWS Security Hub control RDS.5.

**How to fix.**

```hcl
# environments/prod/terraform.tfvars — bad
db_multi_az = false
```
```hcl
# good
db_multi_az = true
```
"#,
    security_severity: "3.0",
    tags: &[
        "hardening",
        "aws",
        "rds",
        "availability",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_multi_az),
    tiers: Some(PROD_ONLY),
};

fn check_multi_az(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(m, out, &MULTI_AZ, &["aws_db_instance"], |_, r, issues| {
        if inherits(r)
            || r.attrs
                .get("engine")
                .and_then(str_of)
                .is_some_and(|e| e.starts_with("aurora"))
        {
            return;
        }
        want_true(
            &r.attrs,
            "multi_az",
            r.span,
            "runs in a single Availability Zone",
            issues,
        );
    });
    cfn_rule(
        m,
        out,
        &MULTI_AZ,
        &["AWS::RDS::DBInstance"],
        |res, issues| {
            if cfn_member(res)
                || res
                    .prop(&["Engine"])
                    .and_then(str_of)
                    .is_some_and(|e| e.starts_with("aurora"))
            {
                return;
            }
            cfn_want_true(res, "MultiAZ", "runs in a single Availability Zone", issues);
        },
    );
}

pub static MINOR_UPGRADE: Rule = Rule {
    id: "HD055",
    name: "rds-auto-minor-upgrade-disabled",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An RDS instance turns off automatic minor version upgrades",
    help: "remove auto_minor_version_upgrade = false (the default is true) and pin versions through the maintenance window instead",
    explanation: r#"**Why.** Minor engine versions carry security fixes. With `auto_minor_version_upgrade = false`
they are applied only when someone remembers to, and databases drift to versions with known
vulnerabilities. Leaving automatic minor upgrades on (the default) applies them in the maintenance
window. When a team needs control, the article's answer is order, not freezing: upgrade staging
first (staging mirrors prod, section 1.2) and prod right after; PAR001 then checks that both run
the same version. Only an explicit `false` is reported, on `aws_db_instance`,
`aws_rds_cluster_instance` and CloudFormation `AutoMinorVersionUpgrade`.

Severity: warning in prod, note in staging and dev.

Equivalent checks: Checkov `CKV_AWS_226`; Trivy and KICS have no equivalent Terraform check.

**How to fix.**

```hcl
# bad
resource "aws_db_instance" "app" {
  auto_minor_version_upgrade = false
}
```
```hcl
# good
resource "aws_db_instance" "app" {
  auto_minor_version_upgrade = true
  maintenance_window         = "Sun:03:00-Sun:04:00"
}
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "rds",
        "patching",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_minor),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Note,
        prod: Severity::Warning,
    }),
};

fn check_minor(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &MINOR_UPGRADE,
        &["aws_db_instance", "aws_rds_cluster_instance"],
        |_, r, issues| {
            not_false(
                &r.attrs,
                "auto_minor_version_upgrade",
                "does not apply minor version upgrades",
                issues,
            );
        },
    );
    cfn_rule(
        m,
        out,
        &MINOR_UPGRADE,
        &["AWS::RDS::DBInstance"],
        |res, issues| {
            if let Some(n) = res.prop(&["AutoMinorVersionUpgrade"])
                && bool_of(n) == Some(false)
            {
                issues.push(Issue::at(
                    n,
                    "does not apply minor version upgrades (`AutoMinorVersionUpgrade` is false)",
                ));
            }
        },
    );
}

pub static PI_KMS: Rule = Rule {
    id: "HD056",
    name: "rds-performance-insights-not-kms",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "Performance Insights is enabled without a customer-managed KMS key",
    help: "set performance_insights_kms_key_id to a customer-managed key (PerformanceInsightsKMSKeyId)",
    explanation: r#"**Why.** Performance Insights stores samples of the queries the database runs, with their
literal values: customer e-mails, tokens, whatever the application puts in a `WHERE` clause.
Without `performance_insights_kms_key_id`, AWS encrypts them with the account's AWS-managed RDS
key, whose key policy you cannot restrict: anyone with `pi:*` and RDS read access can see them.
A customer-managed key lets the key policy decide who can read prod's query samples, the same
separation the article draws between the people who deploy and the data of prod. The key can only
be set when Performance Insights is first enabled. Reported when `performance_insights_enabled`
(`EnablePerformanceInsights`) is true and no key is given, on `aws_db_instance`,
`aws_rds_cluster`, `aws_rds_cluster_instance` and CloudFormation DB instances and clusters.

Severity: warning in prod, note in staging, not reported in dev.

Equivalent checks: Checkov `CKV_AWS_354`; Trivy `AVD-AWS-0078` (Performance Insights encrypted with
a customer key); KICS has no equivalent query.

**How to fix.**

```hcl
# bad
performance_insights_enabled = true
```
```hcl
# good
performance_insights_enabled    = true
performance_insights_kms_key_id = aws_kms_key.db.arn
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "rds",
        "encryption",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_pi),
    tiers: Some(PROD_ONLY),
};

fn check_pi(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &PI_KMS,
        &[
            "aws_db_instance",
            "aws_rds_cluster",
            "aws_rds_cluster_instance",
        ],
        |_, r, issues| {
            let Some(on) = r.attrs.get("performance_insights_enabled") else {
                return;
            };
            if bool_of(on) != Some(true) {
                return;
            }
            let key = r.attrs.get("performance_insights_kms_key_id");
            if key.is_none_or(|k| k.value == crate::node::Value::Null || k.as_str() == Some("")) {
                issues.push(Issue::at(
                    on,
                    "enables Performance Insights without a customer-managed KMS key (`performance_insights_kms_key_id` is not set)",
                ));
            }
        },
    );
    cfn_rule(m, out, &PI_KMS, CFN_DB, |res, issues| {
        let Some(on) = res.prop(&["EnablePerformanceInsights"]) else {
            return;
        };
        if bool_of(on) == Some(true) && res.prop(&["PerformanceInsightsKMSKeyId"]).is_none() {
            issues.push(Issue::at(
                on,
                "enables Performance Insights without a customer-managed KMS key (`PerformanceInsightsKMSKeyId` is not set)",
            ));
        }
    });
}
