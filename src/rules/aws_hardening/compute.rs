//! EC2 and launch templates (IMDSv2, EBS encryption), EKS clusters, ECS
//! task definitions.

use super::{Issue, blocks, bool_of, cfn_rule, has_unknown, str_of, tf_rule, want_true};
use crate::finding::{Finding, Severity};
use crate::model::{DocKind, Model};
use crate::node::Node;
use crate::rules::{Family, Rule, TierSeverity};
use crate::terraform::RootEval;

pub static IMDSV2: Rule = Rule {
    id: "HD065",
    name: "ec2-imdsv2-not-required",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An EC2 instance or launch template does not require IMDSv2 session tokens",
    help: "set metadata_options { http_tokens = \"required\" } (MetadataOptions: HttpTokens: required)",
    explanation: r#"**Why.** The instance metadata service hands out the instance role's temporary credentials.
With IMDSv1 allowed (`http_tokens = "optional"`, the provider's default), a single server-side
request forgery in any application on the instance (a URL fetcher, an image proxy, an XML parser)
reads `http://169.254.169.254/...` and walks away with the role: that is how the Capital One
breach happened. IMDSv2 requires a PUT to obtain a session token first, which SSRF primitives
almost never can do. The article's prod data sits behind those roles; this is an error in prod,
a warning in staging, a note in dev. Checked: `aws_instance`, `aws_launch_template`,
`aws_launch_configuration` (`metadata_options.http_tokens`, missing = optional; a disabled
endpoint, `http_endpoint = "disabled"`, passes), and CloudFormation
`AWS::EC2::LaunchTemplate` `LaunchTemplateData.MetadataOptions.HttpTokens`. An account-wide
`aws_ec2_instance_metadata_defaults` with `http_tokens = "required"` in the same root covers
every instance. An AMI registered with `ImdsSupport = v2.0` (Amazon Linux 2023) also requires
IMDSv2, which the configuration does not show: say it in `metadata_options` anyway, so that a
change of AMI does not silently bring IMDSv1 back.

Equivalent checks: Checkov `CKV_AWS_79`; Trivy `AVD-AWS-0028` (instances), `AVD-AWS-0130`
(launch configurations and templates); KICS `c306ac53-ee5b-41d3-86a9-0fd2722b4e67` (Instance
Uses Metadata Service IMDSv1; its tests cover instances and launch configurations, not launch
templates).

**How to fix.**

```hcl
# bad
resource "aws_launch_template" "web" {
  image_id = var.ami
}
```
```hcl
# good
resource "aws_launch_template" "web" {
  image_id = var.ami
  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
  }
}
```
"#,
    security_severity: "7.5",
    tags: &["hardening", "aws", "ec2", "terraform", "cloudformation"],
    check: Some(check_imds),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

fn account_imdsv2(root: &RootEval) -> bool {
    root.resources_of("aws_ec2_instance_metadata_defaults")
        .any(|d| d.attrs.get("http_tokens").and_then(str_of) == Some("required"))
}

fn check_imds(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &IMDSV2,
        &[
            "aws_instance",
            "aws_launch_template",
            "aws_launch_configuration",
        ],
        |root, r, issues| {
            if account_imdsv2(root) {
                return;
            }
            let opts = blocks(r.attrs.get("metadata_options"));
            let Some(o) = opts.first() else {
                if r.attrs.get("metadata_options").is_some_and(has_unknown) {
                    return;
                }
                issues.push(Issue::here(
                    r.span,
                    "allows IMDSv1 (no `metadata_options`; `http_tokens` defaults to optional)",
                ));
                return;
            };
            if o.get("http_endpoint").and_then(str_of) == Some("disabled") {
                return;
            }
            match o.get("http_tokens") {
                None => issues.push(Issue::here(
                    r.span,
                    "allows IMDSv1 (`metadata_options.http_tokens` is not set; it defaults to optional)",
                )),
                Some(t) => {
                    if str_of(t) == Some("optional") {
                        issues.push(Issue::at(t, "allows IMDSv1 (`http_tokens` is optional)"));
                    }
                }
            }
        },
    );
    cfn_rule(
        m,
        out,
        &IMDSV2,
        &["AWS::EC2::LaunchTemplate"],
        |res, issues| {
            let Some(data) = res.prop(&["LaunchTemplateData"]) else {
                return;
            };
            match data.path(&["MetadataOptions", "HttpTokens"]) {
                None => {
                    if data.str_at(&["MetadataOptions", "HttpEndpoint"]) != Some("disabled") {
                        issues.push(Issue::here(
                        res.key,
                        "allows IMDSv1 (`MetadataOptions.HttpTokens` is not set; it defaults to optional)",
                    ));
                    }
                }
                Some(t) => {
                    if str_of(t) == Some("optional") {
                        issues.push(Issue::at(t, "allows IMDSv1 (`HttpTokens` is optional)"));
                    }
                }
            }
        },
    );
}

pub static EBS: Rule = Rule {
    id: "HD066",
    name: "ebs-not-encrypted",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An EBS volume (standalone, or an instance's root or data volume) is not encrypted",
    help: "set encrypted = true on the volume or block device, or enable aws_ebs_encryption_by_default",
    explanation: r#"**Why.** EBS volumes hold what instances write: database files, caches, logs with tokens,
application uploads. An unencrypted volume's snapshots are unencrypted too, and a snapshot shared
or copied by mistake is readable anywhere. As with RDS (HD050), encryption can only be chosen at
creation, so the module has to get it right everywhere, staging included (it mirrors prod).
Checked: `aws_ebs_volume.encrypted`; `root_block_device` and `ebs_block_device` `encrypted` of
`aws_instance` and `aws_launch_configuration` (an instance with no `root_block_device` block gets
an unencrypted root volume unless the AMI's snapshot is encrypted); `block_device_mappings.ebs.
encrypted` of `aws_launch_template`; CloudFormation `AWS::EC2::Volume` `Encrypted` and the
`BlockDeviceMappings[].Ebs.Encrypted` of `AWS::EC2::Instance` and `AWS::EC2::LaunchTemplate`. A root with
`aws_ebs_encryption_by_default` enabled (account-wide encryption by default) is not reported.

Severity follows the environment tier: error in prod, warning in staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_3` (EBS volume), `CKV_AWS_8` (launch configuration),
`CKV_AWS_189` (EBS volume with KMS key); Trivy `AVD-AWS-0026` (EBS volume), `AVD-AWS-0131`
(instance block devices), `AVD-AWS-0008` (launch configuration); KICS
`cc997676-481b-4e93-aa81-d19f8c5e9b12` (EBS Volume Encryption Disabled).

**How to fix.**

```hcl
# bad
resource "aws_instance" "worker" {
  ami           = var.ami
  instance_type = "t3.large"
}
```
```hcl
# good
resource "aws_instance" "worker" {
  ami           = var.ami
  instance_type = "t3.large"
  root_block_device {
    encrypted = true
  }
}
```
"#,
    security_severity: "7.0",
    tags: &[
        "hardening",
        "aws",
        "ec2",
        "ebs",
        "encryption",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_ebs),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

fn encrypted_by_default(root: &RootEval) -> bool {
    root.resources_of("aws_ebs_encryption_by_default").any(|d| {
        d.attrs
            .get("enabled")
            .is_none_or(|n| bool_of(n) != Some(false))
    })
}

fn check_ebs(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &EBS,
        &[
            "aws_ebs_volume",
            "aws_instance",
            "aws_launch_configuration",
            "aws_launch_template",
        ],
        |root, r, issues| {
            if encrypted_by_default(root) {
                return;
            }
            match r.rtype.as_str() {
                "aws_ebs_volume" => {
                    if r.attrs.get("snapshot_id").is_some() {
                        return;
                    }
                    want_true(&r.attrs, "encrypted", r.span, "is not encrypted", issues);
                }
                "aws_launch_template" => {
                    for b in blocks(r.attrs.get("block_device_mappings")) {
                        for ebs in blocks(b.get("ebs")) {
                            if ebs.get("snapshot_id").is_some() {
                                continue;
                            }
                            want_true(
                                ebs,
                                "encrypted",
                                r.span,
                                "has an unencrypted EBS volume",
                                issues,
                            );
                        }
                    }
                }
                _ => {
                    let root_dev = r.attrs.get("root_block_device");
                    let roots = blocks(root_dev);
                    if roots.is_empty() {
                        if !root_dev.is_some_and(has_unknown) {
                            issues.push(Issue::here(
                                r.span,
                                "has an unencrypted root volume (no `root_block_device` with `encrypted = true`)",
                            ));
                        }
                    } else {
                        for b in roots {
                            want_true(
                                b,
                                "encrypted",
                                r.span,
                                "has an unencrypted root volume",
                                issues,
                            );
                        }
                    }
                    for b in blocks(r.attrs.get("ebs_block_device")) {
                        if b.get("snapshot_id").is_some() {
                            continue;
                        }
                        want_true(
                            b,
                            "encrypted",
                            r.span,
                            "has an unencrypted EBS data volume",
                            issues,
                        );
                    }
                }
            }
        },
    );
    cfn_rule(
        m,
        out,
        &EBS,
        &["AWS::EC2::Instance", "AWS::EC2::LaunchTemplate"],
        |res, issues| {
            let mappings = if res.rtype == "AWS::EC2::Instance" {
                res.prop(&["BlockDeviceMappings"])
            } else {
                res.prop(&["LaunchTemplateData", "BlockDeviceMappings"])
            };
            for b in mappings.map(Node::as_seq).unwrap_or(&[]) {
                let Some(entry) = b.entry("Ebs").filter(|e| e.value.is_map()) else {
                    continue;
                };
                let ebs = &entry.value;
                if ebs.get("SnapshotId").is_some() {
                    continue;
                }
                match ebs.get("Encrypted") {
                    None => issues.push(Issue::here(
                        entry.key.span,
                        "has an unencrypted EBS volume (`Ebs.Encrypted` is not set; it defaults to false)",
                    )),
                    Some(n) if bool_of(n) == Some(false) => issues.push(Issue::at(
                        n,
                        "has an unencrypted EBS volume (`Ebs.Encrypted` is false)",
                    )),
                    Some(_) => {}
                }
            }
        },
    );
    cfn_rule(m, out, &EBS, &["AWS::EC2::Volume"], |res, issues| {
        if res.prop(&["SnapshotId"]).is_some() {
            return;
        }
        match res.prop(&["Encrypted"]) {
            None => issues.push(Issue::here(
                res.key,
                "is not encrypted (`Encrypted` is not set; it defaults to false)",
            )),
            Some(n) if bool_of(n) == Some(false) => {
                issues.push(Issue::at(n, "is not encrypted (`Encrypted` is false)"))
            }
            Some(_) => {}
        }
    });
}

pub static EKS_ENDPOINT: Rule = Rule {
    id: "HD067",
    name: "eks-public-endpoint-open",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An EKS cluster's API endpoint is public and open to 0.0.0.0/0",
    help: "set endpoint_public_access = false, or restrict public_access_cidrs to your VPN/office ranges",
    explanation: r#"**Why.** The Kubernetes API server is the control plane of everything the cluster runs. By
default `aws_eks_cluster` exposes it publicly (`endpoint_public_access = true`) to every address
(`public_access_cidrs = ["0.0.0.0/0"]`): authentication still applies, but every Kubernetes or
EKS authentication bug, leaked kubeconfig or token is then exploitable from anywhere. The article
reaches prod through controlled paths only. Reported when the public endpoint is on (explicitly
or by default) and the allowed CIDRs are missing, empty (AWS then applies `0.0.0.0/0`) or
include `0.0.0.0/0`; at the open CIDR (or the empty list), the
`endpoint_public_access = true` line, or the resource when both are defaults. CloudFormation
`AWS::EKS::Cluster` `ResourcesVpcConfig` is checked the same way. A call of the community EKS
module (`terraform-aws-modules/eks/aws`, from the registry or its git repository) that guard does
not evaluate (not downloaded) is judged by its inputs: `endpoint_public_access` /
`endpoint_public_access_cidrs` (module v21 on) or `cluster_endpoint_public_access` /
`cluster_endpoint_public_access_cidrs` (before): reported when public access is `true` and the
CIDRs are left at the module's default (`0.0.0.0/0`), empty or include `0.0.0.0/0`. Public
access left unset is the module's default, off since v19; with a `version` before 19 (where it
was on) the call itself is reported.

Severity follows the environment tier: error in prod, warning in staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_38` (public access CIDRs), `CKV_AWS_39` (public endpoint);
Trivy `AVD-AWS-0040` (no public cluster access), `AVD-AWS-0041` (no public access to 0.0.0.0/0);
KICS `42f4b905-3736-4213-bfe9-c0660518cda8` (EKS Cluster Has Public Access).

**How to fix.**

```hcl
# bad: defaults
vpc_config {
  subnet_ids = var.private_subnets
}
```
```hcl
# good
vpc_config {
  subnet_ids              = var.private_subnets
  endpoint_private_access = true
  endpoint_public_access  = false
}
```
"#,
    security_severity: "7.5",
    tags: &[
        "hardening",
        "aws",
        "eks",
        "kubernetes",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_eks_endpoint),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

/// A call of the community EKS module (the cluster module, not one of its
/// submodules): registry `terraform-aws-modules/eks/aws`, or its git repository.
fn is_eks_module(source: &str) -> bool {
    let s = source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(source);
    if s == "terraform-aws-modules/eks/aws" {
        return true;
    }
    let git = s.contains("terraform-aws-modules/terraform-aws-eks");
    let path = s.split('?').next().unwrap_or(s);
    let sub = path
        .split_once("//")
        .is_some_and(|(_, rest)| rest.contains('/') && !rest.starts_with("github.com"));
    git && !sub
}

/// The major version a module call's `version` constraint names first
/// (`"~> 18.31"` → 18).
fn major_version(v: &str) -> Option<u32> {
    let digits: String = v
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The community EKS module's inputs, judged like `vpc_config`.
fn eks_module_issues(
    inputs: &Node,
    call: crate::source::Span,
    version: Option<u32>,
    issues: &mut Vec<Issue>,
) {
    let get = |new: &str, old: &str| {
        inputs
            .get(new)
            .or_else(|| inputs.get(old))
            .filter(|n| n.value != crate::node::Value::Null)
    };
    let public = get("endpoint_public_access", "cluster_endpoint_public_access");
    let cidrs = get(
        "endpoint_public_access_cidrs",
        "cluster_endpoint_public_access_cidrs",
    );
    const WHAT: &str = "(terraform-aws-modules/eks) has a public API endpoint open to 0.0.0.0/0";
    match public {
        Some(p) if bool_of(p) == Some(true) => {}
        Some(_) => return,
        // The module's default: on before v19, off since.
        None if version.is_some_and(|v| v < 19) => {}
        None => return,
    }
    match cidrs {
        Some(c) if has_unknown(c) => {}
        Some(c) if matches!(c.value, crate::node::Value::Seq(_)) && c.as_seq().is_empty() => {
            issues.push(Issue::at(
                c,
                format!("{WHAT} (an empty list of CIDRs is AWS's default, 0.0.0.0/0)"),
            ));
        }
        Some(c) => {
            for item in c.as_seq() {
                if item.as_str() == Some("0.0.0.0/0") {
                    issues.push(Issue::at(item, WHAT));
                }
            }
        }
        None => match public {
            Some(p) => issues.push(Issue::at(
                p,
                format!("{WHAT} (the CIDRs are left at the module's default, 0.0.0.0/0)"),
            )),
            None => issues.push(Issue::here(
                call,
                format!("{WHAT} (a module version before 19 turns public access on by default, for 0.0.0.0/0)"),
            )),
        },
    }
}

/// HD067 on the community EKS module's calls that were not evaluated.
fn check_eks_module_calls(m: &Model, out: &mut Vec<Finding>) {
    let mut by_line: std::collections::BTreeMap<(crate::source::Span, String), Vec<super::Hit>> =
        std::collections::BTreeMap::new();
    let mut issues = Vec::new();
    for root in &m.terraform.roots {
        let place = super::place_of(root);
        for b in root.providers.iter().filter(|b| b.kind == "module") {
            let (Some(name), Some(inputs)) = (b.labels.first(), b.attrs.get("inputs")) else {
                continue;
            };
            if !b
                .attrs
                .get("source")
                .and_then(str_of)
                .is_some_and(is_eks_module)
            {
                continue;
            }
            let version = b
                .attrs
                .get("version")
                .and_then(str_of)
                .and_then(major_version);
            issues.clear();
            eks_module_issues(inputs, b.span, version, &mut issues);
            let addr = if b.module_path.is_empty() {
                format!("module.{name}")
            } else {
                format!("{}.module.{name}", b.module_path)
            };
            for i in issues.drain(..) {
                by_line
                    .entry((i.span, i.what))
                    .or_default()
                    .push(super::Hit {
                        addr: addr.clone(),
                        env: root.assignment.env,
                        place: place.clone(),
                        via: i.via,
                        decl: b.span,
                    });
            }
        }
    }
    super::emit(out, &EKS_ENDPOINT, by_line);
}

fn check_eks_endpoint(m: &Model, out: &mut Vec<Finding>) {
    check_eks_module_calls(m, out);
    tf_rule(
        m,
        out,
        &EKS_ENDPOINT,
        &["aws_eks_cluster"],
        |_, r, issues| {
            let cfgs = blocks(r.attrs.get("vpc_config"));
            let Some(v) = cfgs.first() else {
                return;
            };
            let public = v.get("endpoint_public_access");
            if public.is_some_and(|p| bool_of(p) != Some(true)) {
                return;
            }
            match v.get("public_access_cidrs").filter(|c| c.value != crate::node::Value::Null) {
            Some(c) if has_unknown(c) => {}
            // An empty list is AWS's default: 0.0.0.0/0.
            Some(c) if matches!(c.value, crate::node::Value::Seq(_)) && c.as_seq().is_empty() => {
                issues.push(Issue::at(
                    c,
                    "has a public API endpoint open to 0.0.0.0/0 (an empty `public_access_cidrs` is AWS's default, 0.0.0.0/0)",
                ));
            }
            Some(c) => {
                for item in c.as_seq() {
                    if item.as_str() == Some("0.0.0.0/0") {
                        issues.push(Issue::at(
                            item,
                            "has a public API endpoint open to 0.0.0.0/0",
                        ));
                    }
                }
            }
            None => match public {
                Some(p) => issues.push(Issue::at(
                    p,
                    "has a public API endpoint open to 0.0.0.0/0 (`public_access_cidrs` is not set)",
                )),
                None => issues.push(Issue::here(
                    r.span,
                    "has a public API endpoint open to 0.0.0.0/0 (`endpoint_public_access` and `public_access_cidrs` are not set)",
                )),
            },
        }
        },
    );
    cfn_rule(
        m,
        out,
        &EKS_ENDPOINT,
        &["AWS::EKS::Cluster"],
        |res, issues| {
            let Some(v) = res.prop(&["ResourcesVpcConfig"]) else {
                return;
            };
            let public = v.get("EndpointPublicAccess");
            if public.is_some_and(|p| bool_of(p) != Some(true)) {
                return;
            }
            match v.get("PublicAccessCidrs") {
                Some(c) => {
                    for item in c.as_seq() {
                        if item.as_str() == Some("0.0.0.0/0") {
                            issues.push(Issue::at(
                                item,
                                "has a public API endpoint open to 0.0.0.0/0",
                            ));
                        }
                    }
                }
                None => issues.push(Issue::here(
                    res.key,
                    "has a public API endpoint open to 0.0.0.0/0 (`PublicAccessCidrs` is not set)",
                )),
            }
        },
    );
}

pub static EKS_SECRETS: Rule = Rule {
    id: "HD068",
    name: "eks-secrets-not-encrypted",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An EKS cluster does not encrypt Kubernetes Secrets with a KMS key",
    help: "add encryption_config { resources = [\"secrets\"] provider { key_arn = aws_kms_key.eks.arn } }",
    explanation: r#"**Why.** Kubernetes Secrets are base64, not encrypted: without envelope encryption they are
stored in etcd as readable as any other object, and anyone who reads an etcd backup reads every
database password and API token of prod. `encryption_config` wraps them with a KMS key whose
policy and CloudTrail log you control. It can be added to an existing cluster but never removed:
decide it in the module, for every environment (staging mirrors prod). Reported on an
`aws_eks_cluster` without an `encryption_config` whose `resources` include `secrets` (only
`resources` decides: a `key_arn` that is another resource's ARN, unknown before apply, does not
hide a missing `secrets`; an unknown `resources` is not judged), and on a CloudFormation
`AWS::EKS::Cluster` without `EncryptionConfig`.

Severity follows the environment tier: error in prod, warning in staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_58`; Trivy `AVD-AWS-0039`; KICS
`63ebcb19-2739-4d3f-aa5c-e8bbb9b85281` (EKS Cluster Encryption Disabled).

**How to fix.**

```hcl
# bad: no encryption_config
resource "aws_eks_cluster" "main" {
  name     = "main"
  role_arn = aws_iam_role.eks.arn
}
```
```hcl
# good
resource "aws_eks_cluster" "main" {
  # ...
  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.eks.arn
    }
  }
}
```
"#,
    security_severity: "7.0",
    tags: &[
        "hardening",
        "aws",
        "eks",
        "kubernetes",
        "encryption",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_eks_secrets),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

fn check_eks_secrets(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &EKS_SECRETS,
        &["aws_eks_cluster"],
        |_, r, issues| {
            let enc = r.attrs.get("encryption_config");
            // Only `resources` decides (the key is nearly always another
            // resource's ARN, unknown here): unknown there, nothing is said.
            if enc.is_some_and(|e| e.is_unknown())
                || blocks(enc)
                    .iter()
                    .any(|e| e.get("resources").is_some_and(has_unknown))
            {
                return;
            }
            let ok = blocks(enc).iter().any(|e| {
                e.get("resources")
                    .is_some_and(|l| l.as_seq().iter().any(|i| i.as_str() == Some("secrets")))
            });
            if !ok {
                issues.push(Issue::here(
                r.span,
                "does not encrypt Kubernetes Secrets with a KMS key (no `encryption_config` for `secrets`)",
            ));
            }
        },
    );
    cfn_rule(
        m,
        out,
        &EKS_SECRETS,
        &["AWS::EKS::Cluster"],
        |res, issues| {
            if res.prop(&["EncryptionConfig"]).is_none() {
                issues.push(Issue::here(
                    res.key,
                    "does not encrypt Kubernetes Secrets with a KMS key (no `EncryptionConfig`)",
                ));
            }
        },
    );
}

pub static EKS_LOGGING: Rule = Rule {
    id: "HD069",
    name: "eks-control-plane-logging-disabled",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An EKS cluster does not send its audit (control plane) logs to CloudWatch",
    help: "set enabled_cluster_log_types = [\"api\", \"audit\", \"authenticator\"] (at least audit)",
    explanation: r#"**Why.** The Kubernetes audit log is the only record of who read which Secret, who exec'd into
which pod, who changed which RBAC binding. EKS does not keep control-plane logs unless asked:
without `enabled_cluster_log_types` an incident in prod cannot be investigated. The article keeps
prod auditable; staging mirrors it. Reported on an `aws_eks_cluster` whose
`enabled_cluster_log_types` is missing, empty or lacks `audit`, and on a CloudFormation
`AWS::EKS::Cluster` whose `Logging.ClusterLogging.EnabledTypes` lacks `audit`.

Severity follows the environment tier: warning in prod and staging, note in dev.

Equivalent checks: Checkov `CKV_AWS_37` (all log types); Trivy `AVD-AWS-0038`; KICS
`37304d3f-f852-40b8-ae3f-725e87a7cedf` (EKS cluster logging is not enabled).

**How to fix.**

```hcl
# bad
enabled_cluster_log_types = ["api"]
```
```hcl
# good
enabled_cluster_log_types = ["api", "audit", "authenticator"]
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "eks",
        "kubernetes",
        "logging",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_eks_logging),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn lacks_audit(list: &Node) -> bool {
    !list.as_seq().iter().any(|i| i.as_str() == Some("audit"))
}

fn check_eks_logging(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &EKS_LOGGING,
        &["aws_eks_cluster"],
        |_, r, issues| match r.attrs.get("enabled_cluster_log_types") {
            None => issues.push(Issue::here(
                r.span,
                "keeps no control plane audit log (`enabled_cluster_log_types` is not set)",
            )),
            Some(l) if has_unknown(l) => {}
            Some(l) if lacks_audit(l) => issues.push(Issue::at(
                l,
                "keeps no control plane audit log (`enabled_cluster_log_types` lacks `audit`)",
            )),
            Some(_) => {}
        },
    );
    cfn_rule(
        m,
        out,
        &EKS_LOGGING,
        &["AWS::EKS::Cluster"],
        |res, issues| match res.prop(&["Logging", "ClusterLogging", "EnabledTypes"]) {
            None => issues.push(Issue::here(
                res.key,
                "keeps no control plane audit log (no `Logging.ClusterLogging.EnabledTypes`)",
            )),
            Some(l) => {
                let types: Vec<&str> = l
                    .as_seq()
                    .iter()
                    .filter_map(|t| t.str_at(&["Type"]).or_else(|| t.as_str()))
                    .collect();
                if !types.contains(&"audit") {
                    issues.push(Issue::at(
                        l,
                        "keeps no control plane audit log (`EnabledTypes` lacks `audit`)",
                    ));
                }
            }
        },
    );
}

/// Which container setting an ECS rule checks.
#[derive(Clone, Copy, PartialEq)]
enum EcsControl {
    Privileged,
    ReadOnly,
    User,
}

/// The issues of one container definition (keys in camelCase for JSON and
/// Terraform, PascalCase for CloudFormation).
fn ecs_container(c: &Node, control: EcsControl, pascal: bool, issues: &mut Vec<Issue>) {
    let key =
        |camel: &'static str, pascal_key: &'static str| if pascal { pascal_key } else { camel };
    let name = c.str_at(&[key("name", "Name")]).unwrap_or("?");
    let at = c.get(key("name", "Name")).map(|n| n.span).unwrap_or(c.span);
    match control {
        EcsControl::Privileged => {
            if let Some(p) = c.get(key("privileged", "Privileged"))
                && bool_of(p) == Some(true)
            {
                issues.push(Issue::at(p, format!("runs container `{name}` privileged")));
            }
        }
        EcsControl::ReadOnly => match c
            .get(key("readonlyRootFilesystem", "ReadonlyRootFilesystem"))
            .filter(|n| n.value != crate::node::Value::Null)
        {
            None => issues.push(Issue::here(
                at,
                format!("lets container `{name}` write to its root filesystem (`readonlyRootFilesystem` is not set)"),
            )),
            Some(n) if bool_of(n) == Some(false) => issues.push(Issue::at(
                n,
                format!("lets container `{name}` write to its root filesystem (`readonlyRootFilesystem` is false)"),
            )),
            Some(_) => {}
        },
        EcsControl::User => match c
            .get(key("user", "User"))
            .filter(|n| n.value != crate::node::Value::Null)
        {
            None => issues.push(Issue::here(
                at,
                format!("does not set a non-root `user` for container `{name}` (it runs as the image's user, root unless the image says otherwise)"),
            )),
            Some(u) => {
                if let Some(s) = u.as_str() {
                    let who = s.split(':').next().unwrap_or(s);
                    if who == "root" || who == "0" {
                        issues.push(Issue::at(u, format!("runs container `{name}` as root (`user` is `{s}`)")));
                    }
                }
            }
        },
    }
}

fn check_ecs(m: &Model, out: &mut Vec<Finding>, rule: &'static Rule, control: EcsControl) {
    tf_rule(
        m,
        out,
        rule,
        &["aws_ecs_task_definition"],
        |_, r, issues| {
            let Some(defs) = r.attrs.get("container_definitions") else {
                return;
            };
            let Some(tree) = crate::model::json_tree(defs, &m.sources) else {
                return;
            };
            for c in tree.as_seq() {
                if c.is_map() {
                    ecs_container(c, control, false, issues);
                }
            }
        },
    );
    cfn_rule(
        m,
        out,
        rule,
        &["AWS::ECS::TaskDefinition"],
        |res, issues| {
            for c in res
                .prop(&["ContainerDefinitions"])
                .map(Node::as_seq)
                .unwrap_or(&[])
            {
                if c.is_map() {
                    ecs_container(c, control, true, issues);
                }
            }
        },
    );
    // Task definitions as JSON files (`aws ecs register-task-definition`).
    for doc in &m.docs {
        if doc.kind != DocKind::EcsTaskDefinition {
            continue;
        }
        let family = doc.root.str_at(&["family"]).unwrap_or("?");
        let mut issues = Vec::new();
        for c in doc
            .root
            .get("containerDefinitions")
            .map(Node::as_seq)
            .unwrap_or(&[])
        {
            if c.is_map() {
                ecs_container(c, control, false, &mut issues);
            }
        }
        for i in issues {
            out.push(
                rule.finding(i.span, format!("ECS task definition `{family}` {}", i.what))
                    .env(doc.assignment.env),
            );
        }
    }
}

const ECS_TAGS: &[&str] = &[
    "hardening",
    "aws",
    "ecs",
    "containers",
    "terraform",
    "cloudformation",
];

pub static ECS_PRIVILEGED: Rule = Rule {
    id: "HD070",
    name: "ecs-privileged-container",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "An ECS container definition runs privileged",
    help: "remove \"privileged\": true; grant the specific Linux capability the container needs instead",
    explanation: r#"**Why.** A privileged container has every Linux capability and access to the host's devices:
escaping to the EC2 host (and to every other task on it, and to the instance role) is a matter of
mounting the host disk. It is almost never needed by an application; the few agents that need
more want one capability (`linuxParameters.capabilities.add`). Error in prod, warning in staging,
note in dev. Checked: `container_definitions` of `aws_ecs_task_definition` (the `jsonencode`
structure or the JSON text, each value located at its own line), CloudFormation
`AWS::ECS::TaskDefinition` `ContainerDefinitions[].Privileged`, and task definition JSON files.
Fargate rejects privileged containers; the finding still shows the intent.

Equivalent checks: Checkov `CKV_AWS_334`; Trivy has no Terraform check for it; KICS has no
confirmed equivalent.

**How to fix.**

```hcl
# bad
container_definitions = jsonencode([{
  name       = "agent"
  image      = "acme/agent:1.4.2"
  privileged = true
}])
```
```hcl
# good
container_definitions = jsonencode([{
  name  = "agent"
  image = "acme/agent:1.4.2"
  linuxParameters = { capabilities = { add = ["NET_ADMIN"] } }
}])
```
"#,
    security_severity: "8.0",
    tags: ECS_TAGS,
    check: Some(check_ecs_privileged),
    tiers: Some(TierSeverity::STRICT_IN_PROD),
};

fn check_ecs_privileged(m: &Model, out: &mut Vec<Finding>) {
    check_ecs(m, out, &ECS_PRIVILEGED, EcsControl::Privileged);
}

pub static ECS_READONLY: Rule = Rule {
    id: "HD071",
    name: "ecs-writable-root-filesystem",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An ECS container definition does not make its root filesystem read-only",
    help: "set \"readonlyRootFilesystem\": true and mount a volume for the paths the app writes",
    explanation: r#"**Why.** A writable root filesystem lets an attacker who gets code execution in the container
drop tools, modify binaries and persist across processes; a read-only one confines writes to the
volumes you mount (a scratch `tmp` volume, a data volume). It also makes the container what the
image says it is, which is the article's build-once idea carried to run time: the artifact that
was tested is the artifact that runs. Warning in prod and staging, note in dev. Reported when
`readonlyRootFilesystem` (`ReadonlyRootFilesystem`) is missing or false, in Terraform
`container_definitions`, CloudFormation and task definition JSON files.

Equivalent checks: Checkov `CKV_AWS_336`; Trivy has no Terraform check for it; KICS has no
confirmed equivalent.

**How to fix.**

```json
// bad
{ "name": "web", "image": "acme/web:2.1.0" }
```
```json
// good
{ "name": "web", "image": "acme/web:2.1.0", "readonlyRootFilesystem": true,
  "mountPoints": [{ "sourceVolume": "tmp", "containerPath": "/tmp" }] }
```
"#,
    security_severity: "5.0",
    tags: ECS_TAGS,
    check: Some(check_ecs_readonly),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn check_ecs_readonly(m: &Model, out: &mut Vec<Finding>) {
    check_ecs(m, out, &ECS_READONLY, EcsControl::ReadOnly);
}

pub static ECS_USER: Rule = Rule {
    id: "HD072",
    name: "ecs-container-runs-as-root",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "An ECS container definition declares no non-root user (or declares root)",
    help: "set \"user\": \"1000:1000\" (or the image's unprivileged user)",
    explanation: r#"**Why.** Most images run as root unless told otherwise. Root in the container is not root on the
host, but it is one kernel bug or one mis-mounted volume away from it, and it can read and write
everything in the container. Declaring the user in the task definition makes it explicit and
reviewable, whatever the image does. Warning in prod and staging, note in dev. Reported when
`user` (`User`) is missing, or is `root` or `0` (with or without a group), in Terraform
`container_definitions`, CloudFormation and task definition JSON files. An image whose
Dockerfile sets a non-root `USER` is safe in practice: declare the same user in the task
definition, or suppress the finding with that reason.

Equivalent checks: none of Checkov, Trivy or KICS has an ECS check for the user (Checkov's ECS
container checks are `CKV_AWS_334` privileged and `CKV_AWS_336` read-only root); the Kubernetes
equivalents are Checkov `CKV_K8S_23` and Trivy `KSV012`.

**How to fix.**

```json
// bad
{ "name": "web", "image": "acme/web:2.1.0", "user": "0" }
```
```json
// good
{ "name": "web", "image": "acme/web:2.1.0", "user": "10001:10001" }
```
"#,
    security_severity: "5.0",
    tags: ECS_TAGS,
    check: Some(check_ecs_user),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn check_ecs_user(m: &Model, out: &mut Vec<Finding>) {
    check_ecs(m, out, &ECS_USER, EcsControl::User);
}
