//! S3: public access block, default encryption, versioning, public ACLs
//! and policies.

use super::{Issue, blocks, bool_of, cfn_rule, covered, str_of, tf_rule};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::node::{Node, Value};
use crate::rules::{Family, Rule, TierSeverity};
use crate::terraform::{Resource, RootEval};

const FLAGS: &[&str] = &[
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];
const CFN_FLAGS: &[&str] = &[
    "BlockPublicAcls",
    "BlockPublicPolicy",
    "IgnorePublicAcls",
    "RestrictPublicBuckets",
];

pub static PUBLIC_ACCESS_BLOCK: Rule = Rule {
    id: "HD057",
    name: "s3-public-access-not-blocked",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An S3 bucket has no public access block, or one with a flag turned off",
    help: "add an aws_s3_bucket_public_access_block for the bucket with all four flags true",
    explanation: r#"**Why.** S3 Block Public Access is the switch that makes a bucket private whatever its ACLs and
policy say later: a policy with `"Principal": "*"` added in a hurry, an object uploaded with
`public-read`. The article's account guardrails put this at the account level; each bucket should
also say it, so that the configuration states what is intended and a console change shows up as
drift. Since April 2023 AWS turns Block Public Access on for new buckets, but a bucket created
before, or one whose flags were turned off, is not covered: the Terraform configuration is the
place to pin it. Reported: an `aws_s3_bucket` with no `aws_s3_bucket_public_access_block` whose
`bucket` refers to it in the same root (an account-wide `aws_s3_account_public_access_block`
covers every bucket; a block whose bucket is passed in as another bucket's reference is matched
to that bucket; a block whose bucket cannot be told at all covers only buckets whose own name
cannot be told either, so `bucket = var.bucket` does not silence every bucket of the root), and
a public access block with any of `block_public_acls`, `block_public_policy`,
`ignore_public_acls`, `restrict_public_buckets` false or unset (they default to false).
CloudFormation: `AWS::S3::Bucket` `PublicAccessBlockConfiguration`.

Severity follows the environment tier: error in prod, warning in staging, note in dev.

Equivalent checks: Checkov `CKV2_AWS_6` (bucket has a public access block), `CKV_AWS_53`,
`CKV_AWS_54`, `CKV_AWS_55`, `CKV_AWS_56` (the four flags); Trivy `AVD-AWS-0094` (specify a public
access block), `AVD-AWS-0086`, `AVD-AWS-0087`, `AVD-AWS-0091`, `AVD-AWS-0093` (the four flags);
KICS `1ec253ab-c220-4d63-b2de-5b40e0af9293` (S3 Bucket Without Restriction Of Public Bucket).

**How to fix.**

```hcl
# bad: a bucket alone
resource "aws_s3_bucket" "uploads" {
  bucket = "acme-uploads"
}
```
```hcl
# good
resource "aws_s3_bucket_public_access_block" "uploads" {
  bucket                  = aws_s3_bucket.uploads.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
```
"#,
    security_severity: "7.5",
    tags: &["hardening", "aws", "s3", "terraform", "cloudformation"],
    check: Some(check_pab),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

/// Every bucket of the root is covered by an account-wide block with all
/// four flags true (or not known to be false).
fn account_blocked(root: &RootEval) -> bool {
    root.resources_of("aws_s3_account_public_access_block")
        .any(|a| {
            FLAGS
                .iter()
                .all(|f| a.attrs.get(f).is_some_and(|n| bool_of(n) != Some(false)))
        })
}

fn check_pab(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &PUBLIC_ACCESS_BLOCK,
        &["aws_s3_bucket", "aws_s3_bucket_public_access_block"],
        |root, r, issues| {
            if r.rtype == "aws_s3_bucket_public_access_block" {
                for f in FLAGS {
                    match r.attrs.get(f) {
                        None => issues.push(Issue::here(
                            r.span,
                            format!("does not block public access (`{f}` is not set; it defaults to false)"),
                        )),
                        Some(n) if bool_of(n) == Some(false) => issues.push(Issue::at(
                            n,
                            format!("does not block public access (`{f}` is false)"),
                        )),
                        Some(_) => {}
                    }
                }
                return;
            }
            if account_blocked(root)
                || covered(
                    m,
                    root,
                    r,
                    "aws_s3_bucket_public_access_block",
                    "bucket",
                    "bucket",
                )
            {
                return;
            }
            issues.push(Issue::here(
                r.span,
                "has no aws_s3_bucket_public_access_block",
            ));
        },
    );
    cfn_rule(
        m,
        out,
        &PUBLIC_ACCESS_BLOCK,
        &["AWS::S3::Bucket"],
        |res, issues| {
            let Some(cfg) = res.prop(&["PublicAccessBlockConfiguration"]) else {
                issues.push(Issue::here(
                    res.key,
                    "has no `PublicAccessBlockConfiguration`",
                ));
                return;
            };
            if !cfg.is_map() {
                return;
            }
            for f in CFN_FLAGS {
                match cfg.get(f) {
                    None => issues.push(Issue::here(
                        cfg.span,
                        format!(
                            "does not block public access (`{f}` is not set; it defaults to false)"
                        ),
                    )),
                    Some(n) if bool_of(n) == Some(false) => issues.push(Issue::at(
                        n,
                        format!("does not block public access (`{f}` is false)"),
                    )),
                    Some(_) => {}
                }
            }
        },
    );
}

pub static ENCRYPTION: Rule = Rule {
    id: "HD058",
    name: "s3-encryption-not-declared",
    family: Family::Hardening,
    severity: Severity::Note,
    summary: "A prod S3 bucket does not declare its default encryption",
    help: "add an aws_s3_bucket_server_side_encryption_configuration (SSE-KMS with a customer-managed key for sensitive data)",
    explanation: r#"**Why, and why only a note.** Since January 2023 AWS encrypts every new object in every
bucket with SSE-S3: a bucket without an encryption configuration is **not** unencrypted, and guard
does not pretend it is (the older "bucket not encrypted" checks of other tools now mostly raise
noise). What a missing configuration still means: the key is AWS's, its use is not logged per
request in CloudTrail and no key policy can deny a reader, and the configuration does not say what
prod relies on. For prod data the article wants explicit protection, so guard reports, as a
**note** in staging and prod (nothing in dev), an `aws_s3_bucket` with neither an inline
`server_side_encryption_configuration` nor an `aws_s3_bucket_server_side_encryption_configuration`
referring to it in the same root (one whose bucket cannot be told covers only buckets whose own
name cannot be told either), and CloudFormation `AWS::S3::Bucket` without `BucketEncryption`. Raise it with
`[rules.HD058] severity = "warning"` if your policy requires SSE-KMS everywhere.

Equivalent checks: Checkov `CKV_AWS_19` (encrypted at rest), `CKV_AWS_145` (KMS by default);
Trivy `AVD-AWS-0088` (unencrypted bucket, deprecated in recent Trivy for the reason above),
`AVD-AWS-0132` (customer-managed key); KICS "S3 Bucket Without Server-side-encryption".

**How to fix.**

```hcl
# bad (encrypted by AWS's default key, nothing declared)
resource "aws_s3_bucket" "invoices" {
  bucket = "acme-invoices"
}
```
```hcl
# good
resource "aws_s3_bucket_server_side_encryption_configuration" "invoices" {
  bucket = aws_s3_bucket.invoices.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.invoices.arn
    }
  }
}
```
"#,
    security_severity: "3.0",
    tags: &[
        "hardening",
        "aws",
        "s3",
        "encryption",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_encryption),
    tiers: Some(TierSeverity {
        dev: None,
        staging: Severity::Note,
        prod: Severity::Note,
    }),
};

fn check_encryption(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &ENCRYPTION,
        &["aws_s3_bucket"],
        |root, r, issues| {
            if r.attrs
                .get("server_side_encryption_configuration")
                .is_some()
                || covered(
                    m,
                    root,
                    r,
                    "aws_s3_bucket_server_side_encryption_configuration",
                    "bucket",
                    "bucket",
                )
            {
                return;
            }
            issues.push(Issue::here(
                r.span,
                "does not declare its default encryption (AWS's SSE-S3 default applies)",
            ));
        },
    );
    cfn_rule(m, out, &ENCRYPTION, &["AWS::S3::Bucket"], |res, issues| {
        if res.prop(&["BucketEncryption"]).is_none() {
            issues.push(Issue::here(
                res.key,
                "does not declare its default encryption (`BucketEncryption`; AWS's SSE-S3 default applies)",
            ));
        }
    });
}

pub static VERSIONING: Rule = Rule {
    id: "HD059",
    name: "s3-versioning-disabled",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A prod S3 bucket does not keep object versions",
    help: "add an aws_s3_bucket_versioning with status = \"Enabled\" (VersioningConfiguration: Status: Enabled)",
    explanation: r#"**Why.** Without versioning, an overwrite or a delete (a buggy job, a leaked credential, a
ransomware script) destroys the object for good; with it, the previous version stays and can be
restored, and replication and Object Lock require it. The article protects prod data first: the
finding is a warning in prod, a note in staging and not reported in dev (where buckets are
scratch space). Reported: an `aws_s3_bucket` with neither an inline `versioning { enabled = true }`
nor an `aws_s3_bucket_versioning` referring to it in the same root (one whose bucket cannot be
told covers only buckets whose own name cannot be told either), an `aws_s3_bucket_versioning` whose `versioning_configuration.status`
is not `Enabled`, and CloudFormation `AWS::S3::Bucket` without `VersioningConfiguration.Status:
Enabled`.

Equivalent checks: Checkov `CKV_AWS_21`; Trivy `AVD-AWS-0090`; KICS
`568a4d22-3517-44a6-a7ad-6a7eed88722c` (S3 Bucket Without Versioning).

**How to fix.**

```hcl
# bad
resource "aws_s3_bucket_versioning" "invoices" {
  bucket = aws_s3_bucket.invoices.id
  versioning_configuration {
    status = "Suspended"
  }
}
```
```hcl
# good
  versioning_configuration {
    status = "Enabled"
  }
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "s3",
        "backup",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_versioning),
    tiers: Some(TierSeverity {
        dev: None,
        staging: Severity::Note,
        prod: Severity::Warning,
    }),
};

fn check_versioning(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &VERSIONING,
        &["aws_s3_bucket", "aws_s3_bucket_versioning"],
        |root, r, issues| {
            if r.rtype == "aws_s3_bucket_versioning" {
                for cfg in blocks(r.attrs.get("versioning_configuration")) {
                    if let Some(s) = cfg.get("status")
                        && let Some(v) = str_of(s)
                        && v != "Enabled"
                    {
                        issues.push(Issue::at(
                            s,
                            format!("does not keep object versions (status `{v}`)"),
                        ));
                    }
                }
                return;
            }
            let inline = blocks(r.attrs.get("versioning"));
            if let Some(v) = inline.first() {
                match v.get("enabled") {
                    Some(n) if bool_of(n) == Some(false) => {
                        issues.push(Issue::at(
                            n,
                            "does not keep object versions (`versioning.enabled` is false)",
                        ));
                        return;
                    }
                    Some(n) if bool_of(n) == Some(true) => return,
                    Some(_) => return,
                    None => {}
                }
            }
            if covered(m, root, r, "aws_s3_bucket_versioning", "bucket", "bucket") {
                return;
            }
            issues.push(Issue::here(
                r.span,
                "does not keep object versions (no aws_s3_bucket_versioning)",
            ));
        },
    );
    cfn_rule(
        m,
        out,
        &VERSIONING,
        &["AWS::S3::Bucket"],
        |res, issues| match res.prop(&["VersioningConfiguration", "Status"]) {
            None => issues.push(Issue::here(
                res.key,
                "does not keep object versions (no `VersioningConfiguration`)",
            )),
            Some(s) => {
                if let Some(v) = str_of(s)
                    && v == "Suspended"
                {
                    issues.push(Issue::at(
                        s,
                        format!("does not keep object versions (status `{v}`)"),
                    ));
                }
            }
        },
    );
}

pub static PUBLIC_BUCKET: Rule = Rule {
    id: "HD060",
    name: "s3-bucket-public",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An S3 bucket is made public by a canned ACL or a bucket policy open to everyone",
    help: "use a private ACL and restrict the policy's Principal (or add a Condition); serve public content through CloudFront",
    explanation: r#"**Why.** `acl = "public-read"` lets anyone on the internet list and download the bucket;
`public-read-write` lets anyone write to it; `authenticated-read` lets any AWS account read it,
which is anyone who signs up. A bucket policy statement that `Allow`s
`"Principal": "*"` (or `{"AWS": "*"}`) with no `Condition` does the same for whatever actions it
names. This is how most S3 data leaks happen, and the article's guardrails forbid it in every
account: it is an error in staging and prod and a warning even in dev (dev buckets hold copies of
real data too). Checked: `aws_s3_bucket.acl`, `aws_s3_bucket_acl.acl`, `aws_s3_bucket.policy`,
`aws_s3_bucket_policy.policy` (its `jsonencode` structure or JSON text), CloudFormation
`AWS::S3::Bucket` `AccessControl: PublicRead/PublicReadWrite/AuthenticatedRead` and `AWS::S3::BucketPolicy`
`PolicyDocument`, and the grants of `aws_s3_bucket_acl.access_control_policy` (and the
inline `grant` blocks of `aws_s3_bucket`) to the `AllUsers` or `AuthenticatedUsers` groups. A
statement is not reported when its `Condition` restricts who can use it: a source VPC or VPC
endpoint, a source IP range other than everything, an organisation, account, ARN or user of the
principal or the source (`aws:SourceVpc`, `aws:SourceVpce`, `aws:SourceIp`, `aws:PrincipalOrgID`,
`aws:PrincipalAccount`, `aws:SourceArn`, `aws:SourceAccount`, ...), or a condition guard cannot
read, or the VPC endpoints of an account or organisation (`aws:VpceAccount`, `aws:VpceOrgID`). A
condition that does not restrict who (`aws:SecureTransport`, `aws:Referer`, which any client
sets), or whose values match everyone (`*`, an ARN of any account such as `arn:aws:iam::*`),
leaves the statement public.

Equivalent checks: Checkov `CKV_AWS_20` (public read ACL), `CKV_AWS_57` (public write ACL),
`CKV_AWS_70` (policy allowing everyone); Trivy `AVD-AWS-0092` (no public bucket ACLs); KICS
`38c5ee0d-7f22-4260-ab72-5073048df100` (S3 Bucket ACL Allows Read Or Write to All Users).

**How to fix.**

```hcl
# bad
resource "aws_s3_bucket_acl" "assets" {
  bucket = aws_s3_bucket.assets.id
  acl    = "public-read"
}
```
```hcl
# good: private bucket, public through CloudFront with origin access control
resource "aws_s3_bucket_acl" "assets" {
  bucket = aws_s3_bucket.assets.id
  acl    = "private"
}
```
"#,
    security_severity: "8.5",
    tags: &["hardening", "aws", "s3", "terraform", "cloudformation"],
    check: Some(check_public),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Warning),
        staging: Severity::Error,
        prod: Severity::Error,
    }),
};

/// The ACL grantee groups that are everyone.
fn public_group(uri: &str) -> Option<&'static str> {
    let u = uri.trim_end_matches('/');
    if u.ends_with("/global/AllUsers") {
        Some("AllUsers")
    } else if u.ends_with("/global/AuthenticatedUsers") {
        Some("AuthenticatedUsers")
    } else {
        None
    }
}

/// `aws_s3_bucket_acl.access_control_policy.grant.grantee.uri` and
/// `aws_s3_bucket.grant.uri` naming everyone.
fn public_grants(r: &Resource, issues: &mut Vec<Issue>) {
    let mut uris: Vec<&Node> = Vec::new();
    for acp in blocks(r.attrs.get("access_control_policy")) {
        for g in blocks(acp.get("grant")) {
            for grantee in blocks(g.get("grantee")) {
                uris.extend(grantee.get("uri"));
            }
        }
    }
    for g in blocks(r.attrs.get("grant")) {
        uris.extend(g.get("uri"));
    }
    for uri in uris {
        if let Some(group) = str_of(uri).and_then(public_group) {
            issues.push(Issue::at(
                uri,
                format!("is public: its ACL grants access to the `{group}` group"),
            ));
        }
    }
}

/// Condition keys that restrict who can use a statement (lower case).
const RESTRICTING_KEYS: [&str; 19] = [
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:vpceaccount",
    "aws:vpceorgid",
    "aws:vpceorgpaths",
    "aws:sourceip",
    "aws:vpcsourceip",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalservicename",
    "aws:sourcearn",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:userid",
    "aws:username",
    "s3:dataaccesspointaccount",
];

/// Does a statement's `Condition` restrict who can use it? Unreadable:
/// yes (nothing is guessed).
fn condition_restricts(cond: &Node) -> bool {
    let Value::Map(ops) = &cond.value else {
        return true;
    };
    ops.iter().any(|op| {
        let Value::Map(keys) = &op.value.value else {
            return true;
        };
        keys.iter().any(|k| {
            let Some(key) = k.key_str() else {
                return true;
            };
            let key = key.to_ascii_lowercase();
            if !RESTRICTING_KEYS.contains(&key.as_str()) {
                return false;
            }
            // `aws:SourceIp` of every address, `*`, or an ARN of any account
            // (`arn:aws:iam::*`) restricts nothing.
            let everywhere = |n: &Node| match n.as_str() {
                Some("0.0.0.0/0" | "::/0" | "*") => true,
                Some(v) if v.starts_with("arn:") => {
                    v.split(':').nth(4).is_none_or(|account| account == "*")
                }
                _ => false,
            };
            let values: Vec<&Node> = match &k.value.value {
                Value::Seq(items) => items.iter().collect(),
                _ => vec![&k.value],
            };
            values.is_empty() || !values.iter().all(|v| everywhere(v))
        })
    })
}

fn public_acl(n: &Node, issues: &mut Vec<Issue>) {
    if let Some(a) = str_of(n) {
        let a_lower = a.to_ascii_lowercase();
        // `authenticated-read`: any AWS account in the world, which is
        // anyone who signs up.
        if a_lower == "public-read"
            || a_lower == "public-read-write"
            || a_lower == "authenticated-read"
            || a == "PublicRead"
            || a == "PublicReadWrite"
            || a == "AuthenticatedRead"
        {
            issues.push(Issue::at(n, format!("is public: its ACL is `{a}`")));
        }
    }
}

/// Statements of a policy that allow everyone without a condition that
/// restricts who: the
/// `"*"` of each one's `Principal`.
fn open_statements(policy: &Node) -> Vec<&Node> {
    let Some(st) = policy.get("Statement") else {
        return Vec::new();
    };
    let list: Vec<&Node> = match &st.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Map(_) => vec![st],
        _ => Vec::new(),
    };
    list.into_iter()
        .filter(|s| s.str_at(&["Effect"]) == Some("Allow"))
        .filter(|s| !s.get("Condition").is_some_and(condition_restricts))
        .filter_map(|s| s.get("Principal"))
        .filter_map(everyone)
        .collect()
}

/// The `"*"` of a principal that is everyone: `"*"`, `{"AWS": "*"}`,
/// `{"AWS": [.., "*"]}`.
fn everyone(p: &Node) -> Option<&Node> {
    let star = |n: &Node| n.as_str() == Some("*");
    match &p.value {
        Value::String(_) => star(p).then_some(p),
        Value::Map(_) => {
            let a = p.get("AWS")?;
            match &a.value {
                Value::String(_) => star(a).then_some(a),
                Value::Seq(items) => items.iter().find(|i| star(i)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn tf_policy(m: &Model, r: &Resource, issues: &mut Vec<Issue>) {
    let Some(p) = r.attrs.get("policy") else {
        return;
    };
    let Some(tree) = crate::model::json_tree(p, &m.sources) else {
        return;
    };
    for principal in open_statements(&tree) {
        issues.push(Issue::at(
            principal,
            "is public: its bucket policy allows `Principal: \"*\"` with no condition that restricts who",
        ));
    }
}

fn check_public(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &PUBLIC_BUCKET,
        &["aws_s3_bucket", "aws_s3_bucket_acl", "aws_s3_bucket_policy"],
        |_, r, issues| {
            if let Some(a) = r.attrs.get("acl") {
                public_acl(a, issues);
            }
            public_grants(r, issues);
            tf_policy(m, r, issues);
        },
    );
    cfn_rule(
        m,
        out,
        &PUBLIC_BUCKET,
        &["AWS::S3::Bucket", "AWS::S3::BucketPolicy"],
        |res, issues| {
            if let Some(a) = res.prop(&["AccessControl"]) {
                public_acl(a, issues);
            }
            if let Some(doc) = res.prop(&["PolicyDocument"]) {
                for principal in open_statements(doc) {
                    issues.push(Issue::at(
                        principal,
                        "is public: its policy allows `Principal: \"*\"` with no condition that restricts who",
                    ));
                }
            }
        },
    );
}
