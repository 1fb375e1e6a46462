//! Security groups open to the internet, VPC flow logs.

use super::{Issue, blocks, cfn_ref, cfn_rule, covered, str_of, tf_rule};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::node::{Node, Value};
use crate::rules::{Family, Rule, TierSeverity};

const ADMIN: &[(u32, &str)] = &[(22, "SSH"), (3389, "RDP")];
const DATABASES: &[(u32, &str)] = &[
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (27017, "MongoDB"),
    (6379, "Redis"),
    (9200, "Elasticsearch"),
];

/// Which control a rule enforces.
#[derive(Clone, Copy, PartialEq)]
enum Control {
    Admin,
    Databases,
    AllPorts,
}

/// One ingress permission, read from any of the syntaxes.
struct Ingress<'a> {
    protocol: Option<&'a Node>,
    from: Option<&'a Node>,
    to: Option<&'a Node>,
    /// The CIDR literals open to the world (`0.0.0.0/0`, `::/0`).
    open: Vec<&'a Node>,
}

fn open_cidrs<'a>(n: Option<&'a Node>, out: &mut Vec<&'a Node>) {
    let Some(n) = n else {
        return;
    };
    match &n.value {
        Value::String(s) if s == "0.0.0.0/0" || s == "::/0" => out.push(n),
        Value::Seq(items) => {
            for i in items {
                open_cidrs(Some(i), out);
            }
        }
        _ => {}
    }
}

/// What an ingress permission opens to the world for `control`: `None`
/// when it does not (or cannot be known), else the ports named.
fn opens(i: &Ingress<'_>, control: Control) -> Option<String> {
    let proto = i.protocol.and_then(|p| p.scalar_text())?;
    let proto = proto.to_ascii_lowercase();
    let all_protocols = proto == "-1" || proto == "all";
    if !all_protocols && !matches!(proto.as_str(), "tcp" | "6" | "udp" | "17") {
        return None;
    }
    if all_protocols {
        return (control == Control::AllPorts).then(|| "every port and protocol".to_string());
    }
    let from = i.from.and_then(|n| n.as_f64())?;
    let to = i.to.and_then(|n| n.as_f64())?;
    let (from, to) = if from < 0.0 || to < 0.0 {
        (0.0, 65535.0)
    } else {
        (from, to)
    };
    if from <= 0.0 && to >= 65535.0 {
        return (control == Control::AllPorts).then(|| "every port".to_string());
    }
    let list = match control {
        Control::AllPorts => return None,
        Control::Admin => ADMIN,
        Control::Databases => DATABASES,
    };
    let hit: Vec<String> = list
        .iter()
        .filter(|(p, _)| from <= f64::from(*p) && f64::from(*p) <= to)
        .map(|(p, name)| format!("{name} ({p})"))
        .collect();
    (!hit.is_empty()).then(|| hit.join(", "))
}

fn tf_ingresses(r: &crate::terraform::Resource) -> Vec<Ingress<'_>> {
    let mut v = Vec::new();
    match r.rtype.as_str() {
        "aws_security_group" => {
            for b in blocks(r.attrs.get("ingress")) {
                let mut open = Vec::new();
                open_cidrs(b.get("cidr_blocks"), &mut open);
                open_cidrs(b.get("ipv6_cidr_blocks"), &mut open);
                v.push(Ingress {
                    protocol: b.get("protocol"),
                    from: b.get("from_port"),
                    to: b.get("to_port"),
                    open,
                });
            }
        }
        "aws_security_group_rule" => {
            if r.attrs.get("type").and_then(str_of) != Some("ingress") {
                return v;
            }
            let mut open = Vec::new();
            open_cidrs(r.attrs.get("cidr_blocks"), &mut open);
            open_cidrs(r.attrs.get("ipv6_cidr_blocks"), &mut open);
            v.push(Ingress {
                protocol: r.attrs.get("protocol"),
                from: r.attrs.get("from_port"),
                to: r.attrs.get("to_port"),
                open,
            });
        }
        "aws_vpc_security_group_ingress_rule" => {
            let mut open = Vec::new();
            open_cidrs(r.attrs.get("cidr_ipv4"), &mut open);
            open_cidrs(r.attrs.get("cidr_ipv6"), &mut open);
            v.push(Ingress {
                protocol: r.attrs.get("ip_protocol"),
                from: r.attrs.get("from_port"),
                to: r.attrs.get("to_port"),
                open,
            });
        }
        _ => {}
    }
    v
}

fn cfn_ingress(n: &Node) -> Ingress<'_> {
    let mut open = Vec::new();
    open_cidrs(n.get("CidrIp"), &mut open);
    open_cidrs(n.get("CidrIpv6"), &mut open);
    Ingress {
        protocol: n.get("IpProtocol"),
        from: n.get("FromPort"),
        to: n.get("ToPort"),
        open,
    }
}

fn check_control(m: &Model, out: &mut Vec<Finding>, rule: &'static Rule, control: Control) {
    tf_rule(
        m,
        out,
        rule,
        &[
            "aws_security_group",
            "aws_security_group_rule",
            "aws_vpc_security_group_ingress_rule",
        ],
        |_, r, issues| {
            for i in tf_ingresses(r) {
                let Some(ports) = opens(&i, control) else {
                    continue;
                };
                for c in &i.open {
                    let cidr = c.as_str().unwrap_or("?");
                    issues.push(Issue::at(c, format!("allows {ports} from {cidr}")));
                }
            }
        },
    );
    cfn_rule(
        m,
        out,
        rule,
        &["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"],
        |res, issues| {
            let perms: Vec<&Node> = if res.rtype == "AWS::EC2::SecurityGroup" {
                res.prop(&["SecurityGroupIngress"])
                    .map(|l| l.as_seq().iter().collect())
                    .unwrap_or_default()
            } else {
                res.props.into_iter().collect()
            };
            for p in perms {
                let i = cfn_ingress(p);
                let Some(ports) = opens(&i, control) else {
                    continue;
                };
                for c in &i.open {
                    let cidr = c.as_str().unwrap_or("?");
                    issues.push(Issue::at(c, format!("allows {ports} from {cidr}")));
                }
            }
        },
    );
}

pub static ADMIN_PORTS: Rule = Rule {
    id: "HD061",
    name: "sg-admin-port-open-to-internet",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A security group allows SSH (22) or RDP (3389) from anywhere",
    help: "restrict the source to a bastion or VPN range, or remove the rule and use SSM Session Manager",
    explanation: r#"**Why.** SSH and RDP open to `0.0.0.0/0` or `::/0` are scanned and brute-forced within minutes
of being exposed; one weak password or one unpatched daemon is enough. The article reaches
servers through controlled paths (SSM Session Manager, a VPN, a bastion), never straight from the
internet, in any account: this is an error in staging and prod and a warning in dev. Checked:
`ingress` blocks of `aws_security_group`, `aws_security_group_rule` (type `ingress`),
`aws_vpc_security_group_ingress_rule`, CloudFormation `AWS::EC2::SecurityGroup`
`SecurityGroupIngress` and `AWS::EC2::SecurityGroupIngress`. A port range that includes 22 or 3389
counts; the finding is at the open CIDR literal (or the tfvars line it came from).

Equivalent checks: Checkov `CKV_AWS_24` (22), `CKV_AWS_25` (3389); Trivy `AVD-AWS-0107`
(unrestricted ingress to SSH or RDP); KICS `65905cec-d691-4320-b320-2000436cb696` (Security Group
With Unrestricted Access To SSH), `381c3f2a-ef6f-4eff-99f7-b169cda3422c` (Sensitive Port Is
Exposed To Entire Network, which includes 3389).

**How to fix.**

```hcl
# bad
ingress {
  from_port   = 22
  to_port     = 22
  protocol    = "tcp"
  cidr_blocks = ["0.0.0.0/0"]
}
```
```hcl
# good: no inbound SSH at all, sessions through SSM; or the VPN's range
ingress {
  from_port   = 22
  to_port     = 22
  protocol    = "tcp"
  cidr_blocks = ["10.20.0.0/16"]
}
```
"#,
    security_severity: "8.0",
    tags: &["hardening", "aws", "network", "terraform", "cloudformation"],
    check: Some(check_admin),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Warning),
        staging: Severity::Error,
        prod: Severity::Error,
    }),
};

fn check_admin(m: &Model, out: &mut Vec<Finding>) {
    check_control(m, out, &ADMIN_PORTS, Control::Admin);
}

pub static DB_PORTS: Rule = Rule {
    id: "HD062",
    name: "sg-database-port-open-to-internet",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A security group allows a database port (MySQL, PostgreSQL, SQL Server, Oracle, MongoDB, Redis, Elasticsearch) from anywhere",
    help: "allow the database port only from the application's security group or private subnets",
    explanation: r#"**Why.** The article's first rule is that no database is reachable from outside (section 1.1,
DB001 for the `publicly_accessible` flag). A security group that opens 3306, 5432, 1433, 1521,
27017, 6379 or 9200 to `0.0.0.0/0` or `::/0` is the other half of that exposure: any instance,
container or database behind it that has a public address is one default credential away from a
leak (Redis and Elasticsearch without authentication are harvested automatically). Error in
staging and prod, warning in dev. The same resources as HD061 are checked; a port range that
includes one of these ports counts.

Equivalent checks: KICS `381c3f2a-ef6f-4eff-99f7-b169cda3422c` (Sensitive Port Is Exposed To
Entire Network); Checkov has no single check for database ports (its port checks are
`CKV_AWS_24`, `CKV_AWS_25`, `CKV_AWS_260`, `CKV_AWS_277`); Trivy's `AVD-AWS-0107` covers SSH and
RDP only.

**How to fix.**

```hcl
# bad
resource "aws_vpc_security_group_ingress_rule" "pg" {
  security_group_id = aws_security_group.db.id
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = "0.0.0.0/0"
}
```
```hcl
# good
resource "aws_vpc_security_group_ingress_rule" "pg" {
  security_group_id            = aws_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.app.id
}
```
"#,
    security_severity: "8.0",
    tags: &["hardening", "aws", "network", "terraform", "cloudformation"],
    check: Some(check_db),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Warning),
        staging: Severity::Error,
        prod: Severity::Error,
    }),
};

fn check_db(m: &Model, out: &mut Vec<Finding>) {
    check_control(m, out, &DB_PORTS, Control::Databases);
}

pub static ALL_PORTS: Rule = Rule {
    id: "HD063",
    name: "sg-all-ports-open-to-internet",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A security group allows every port (0-65535, or protocol -1) from anywhere",
    help: "open only the ports the service serves (usually 443, behind a load balancer)",
    explanation: r#"**Why.** An ingress rule for every port from `0.0.0.0/0` or `::/0` (protocol `-1`, or
`0`-`65535`) turns the security group off: every daemon on the instances behind it, including the
ones nobody knows are listening, is on the internet. It is usually a debugging shortcut that
reached a module shared by every environment. Error in staging and prod, warning in dev. The same
resources as HD061 are checked.

Equivalent checks: Checkov `CKV_AWS_277` (no ingress from 0.0.0.0/0 to port -1); KICS
`4728cd65-a20c-49da-8b31-9c08b423e4db` (Unrestricted Security Group Ingress); Trivy's
`AVD-AWS-0107` covers SSH and RDP only.

**How to fix.**

```hcl
# bad
ingress {
  from_port   = 0
  to_port     = 0
  protocol    = "-1"
  cidr_blocks = ["0.0.0.0/0"]
}
```
```hcl
# good
ingress {
  from_port   = 443
  to_port     = 443
  protocol    = "tcp"
  cidr_blocks = ["0.0.0.0/0"]
}
```
"#,
    security_severity: "8.5",
    tags: &["hardening", "aws", "network", "terraform", "cloudformation"],
    check: Some(check_all),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Warning),
        staging: Severity::Error,
        prod: Severity::Error,
    }),
};

fn check_all(m: &Model, out: &mut Vec<Finding>) {
    check_control(m, out, &ALL_PORTS, Control::AllPorts);
}

pub static FLOW_LOGS: Rule = Rule {
    id: "HD064",
    name: "vpc-flow-logs-missing",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A VPC has no flow log",
    help: "add an aws_flow_log with vpc_id = aws_vpc.<name>.id (to CloudWatch Logs or S3)",
    explanation: r#"**Why.** VPC flow logs record which addresses talked to which, on which ports, accepted or
rejected. Without them an incident in prod cannot be reconstructed (what did the compromised
instance connect to? was the database reached from outside?) and a misconfigured security group
cannot be diagnosed. The article keeps prod observable and auditable; staging mirrors prod, so it
should log the same way. Reported: an `aws_vpc` (or the adopted `aws_default_vpc`) with no `aws_flow_log` whose `vpc_id` refers to it
in the same root (a flow log whose target cannot be told statically, e.g. a module output, counts
as covering, nothing is guessed), and a CloudFormation `AWS::EC2::VPC` with no
`AWS::EC2::FlowLog` whose `ResourceId` refers to it in the template.

Severity follows the environment tier: warning in prod and staging, note in dev.

Equivalent checks: Checkov `CKV2_AWS_11`; Trivy `AVD-AWS-0178`; KICS
`f83121ea-03da-434f-9277-9cd247ab3047` (VPC flow logs disabled).

**How to fix.**

```hcl
# bad: a VPC nobody logs
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}
```
```hcl
# good
resource "aws_flow_log" "main" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = aws_s3_bucket.flow_logs.arn
}
```
"#,
    security_severity: "4.0",
    tags: &[
        "hardening",
        "aws",
        "network",
        "logging",
        "terraform",
        "cloudformation",
    ],
    check: Some(check_flow_logs),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn check_flow_logs(m: &Model, out: &mut Vec<Finding>) {
    tf_rule(
        m,
        out,
        &FLOW_LOGS,
        &["aws_vpc", "aws_default_vpc"],
        |root, r, issues| {
            if !covered(m, root, r, "aws_flow_log", "vpc_id", "id") {
                issues.push(Issue::here(
                    r.span,
                    "has no flow log (no aws_flow_log refers to it)",
                ));
            }
        },
    );
    cfn_rule(m, out, &FLOW_LOGS, &["AWS::EC2::VPC"], |res, issues| {
        let logged =
            res.others("AWS::EC2::FlowLog")
                .any(|f| match f.path(&["Properties", "ResourceId"]) {
                    Some(id) => cfn_ref(id).is_none_or(|r| r == res.name),
                    None => false,
                });
        if !logged {
            issues.push(Issue::here(
                res.key,
                "has no flow log (no AWS::EC2::FlowLog refers to it)",
            ));
        }
    });
}

#[cfg(test)]
pub(super) mod tests_support {
    use super::*;
    use crate::source::Span;

    /// [`opens`] on literal values; `control`: "admin", "db" or "all".
    pub fn opens_text(protocol: &str, from: i64, to: i64, control: &str) -> Option<String> {
        let n = |v: Value| Node::new(Span::default(), v);
        let (p, f, t) = (
            n(Value::String(protocol.into())),
            n(Value::Number(from.to_string().into())),
            n(Value::Number(to.to_string().into())),
        );
        let i = Ingress {
            protocol: Some(&p),
            from: Some(&f),
            to: Some(&t),
            open: Vec::new(),
        };
        let control = match control {
            "admin" => Control::Admin,
            "db" => Control::Databases,
            _ => Control::AllPorts,
        };
        opens(&i, control)
    }
}
