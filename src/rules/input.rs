//! Diagnostics about the input itself. Parsers and the Terraform evaluator
//! record them while reading; these rules turn them into findings so they
//! are located, sorted, rendered and counted like every other finding.

use super::{Family, Rule};
use crate::finding::{Finding, Severity};
use crate::model::Model;
use crate::parse::DiagKind;

fn report(rule: &'static Rule, kind: DiagKind, model: &Model, out: &mut Vec<Finding>) {
    for d in model.diags.iter().filter(|d| d.kind == kind) {
        let mut f = rule.finding(d.span, d.message.clone());
        for (span, label) in &d.related {
            f = f.related(*span, label.clone());
        }
        out.push(f);
    }
}

pub static PARSE_ERROR: Rule = Rule {
    id: "GD001",
    name: "parse-error",
    family: Family::Input,
    severity: Severity::Error,
    summary: "A file that should be configuration does not parse",
    help: "fix the syntax at the reported position, or --exclude the file if it is not meant to be parsed",
    explanation: r#"guard could not parse this file as the syntax its name says (YAML, JSON, HCL).
Nothing in it was checked, so every guardrail that would have applied to it is silent.
The finding points at the position the parser stopped at, with the parser's own message.

Every other file is still checked: one broken file never hides the findings of the rest.

**How to fix.** Correct the syntax at the reported position (an indentation error, an
unclosed quote or bracket, a tab used for indentation in YAML). If the file is not meant to
be parsed (a fixture of broken input, a template in another language), exclude it with
`--exclude 'path/glob'`.

```yaml
# bad: the list item is indented less than its key
containers:
- name: app
   image: app:1.4.2
```
```yaml
# good
containers:
  - name: app
    image: app:1.4.2
```
"#,
    security_severity: "5.0",
    tags: &["input"],
    check: Some(|m, out| report(&PARSE_ERROR, DiagKind::ParseError, m, out)),
};

pub static DUPLICATE_KEY: Rule = Rule {
    id: "GD002",
    name: "duplicate-key",
    family: Family::Input,
    severity: Severity::Warning,
    summary: "A mapping repeats a key; only the last value takes effect",
    help: "remove the entry you did not mean, or merge the two",
    explanation: r#"YAML says mapping keys are unique; many tools (`kubectl`, kustomize, Helm) accept a
repeated key anyway and silently keep the **last** value. The first value is dead text that a
reviewer reads and believes: a second `image:` or `env:` further down a long manifest quietly
replaces what the first one says.

guard reads the document the way Kubernetes tools do (last one wins), reports the duplicate
at the repeated key with the first occurrence as a related location, and goes on checking the
rest of the document.

**How to fix.** Delete the entry you did not mean, or merge the two.

```yaml
# bad
metadata:
  labels:
    app: web
  labels:
    tier: frontend
```
```yaml
# good
metadata:
  labels:
    app: web
    tier: frontend
```
"#,
    security_severity: "3.0",
    tags: &["input"],
    check: Some(|m, out| report(&DUPLICATE_KEY, DiagKind::DuplicateKey, m, out)),
};

pub static LIMIT: Rule = Rule {
    id: "GD003",
    name: "input-limit",
    family: Family::Input,
    severity: Severity::Warning,
    summary: "Input exceeds a safety limit (nesting, alias expansion, evaluation) and was not fully read",
    help: "break the reference cycle or flatten the structure",
    explanation: r#"guard bounds the work any one input can cause: YAML nesting depth, the number of nodes
alias expansion may produce ("billion laughs"), and Terraform evaluation depth and cycles
(a `local` that refers to itself through others). When a bound is hit, the part beyond it is
not read and this warning says where; everything else is still checked.

Real configuration never needs hundreds of nesting levels or millions of alias-expanded
nodes; hitting the bound means the file is hostile, generated wrongly, or contains a
reference cycle.

**How to fix.** Break the cycle (Terraform locals that refer to each other), or flatten the
generated structure.

```hcl
# bad: a cycle between locals
locals {
  a = local.b
  b = local.a
}
```
```hcl
# good
locals {
  a = "value"
  b = local.a
}
```
"#,
    security_severity: "3.0",
    tags: &["input"],
    check: Some(|m, out| report(&LIMIT, DiagKind::Limit, m, out)),
};

pub static RULES: &[&Rule] = &[&PARSE_ERROR, &DUPLICATE_KEY, &LIMIT];
