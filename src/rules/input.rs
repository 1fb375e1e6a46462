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
    tiers: None,
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
    tiers: None,
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

Two bounds are errors, because what they leave out is not read at all and padding must not
open a CI gate: a file over the size limit (`[limits] max-file-size` in `guard.toml`), and a
YAML flow collection (`[...]`, `{...}`) in block context longer than 256 KiB, which guard's
YAML parser holds whole while it reads it (about 150 times its size in memory). Such a
collection reads as null; the rest of its file is still checked.

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
    check: Some(|m, out| {
        report(&LIMIT, DiagKind::Limit, m, out);
        // A file over the size limit was not checked at all: an error, so
        // that padding a file with comments cannot open the gate.
        let start = out.len();
        report(&LIMIT, DiagKind::TooLarge, m, out);
        for f in &mut out[start..] {
            f.severity = Severity::Error;
        }
    }),
    tiers: None,
};

pub static UNREADABLE: Rule = Rule {
    id: "GD005",
    name: "unreadable-path",
    family: Family::Input,
    severity: Severity::Error,
    summary: "A path guard should check cannot be read: permissions, I/O, a symlink out of the project, a special file",
    help: "make the file readable, or remove the link; exclude it if it is not configuration",
    explanation: r#"guard checks every file of the project whose name says it is configuration. When one
cannot be read, its guardrails are silent, so guard says so, at the path, as an error: a CI
gate that skipped a file it could not read must not pass green.

Reported here:

- a file or directory the user running guard may not read (permissions), or an I/O error;
- a **symlink whose target is outside the project**. guard never follows one: a pull request
  could otherwise point `values.yaml` at `/proc/self/environ` or at a file of the CI machine
  and have its content printed into the logs (Terraform's `file()` and `templatefile()`,
  Kustomize paths and module sources are held to the same boundary);
- a symlink that leads nowhere (dangling, or a loop);
- a FIFO, socket or device with a configuration name, which guard never opens.

Every other file is still checked.

**How to fix.** Make the file readable by the CI user, replace the link with the file
itself (or a link inside the repository), or, if the path is not configuration, exclude
it (`exclude` in guard.toml).

```text
# bad: a link out of the repository
k8s/values.yaml -> /etc/app/values.yaml
```
```text
# good: the file itself, committed
k8s/values.yaml
```
"#,
    security_severity: "5.0",
    tags: &["input"],
    check: Some(|m, out| report(&UNREADABLE, DiagKind::Unreadable, m, out)),
    tiers: None,
};

pub static SUPPRESSION_WITHOUT_REASON: Rule = Rule {
    id: "GD004",
    name: "suppression-without-reason",
    family: Family::Input,
    severity: Severity::Warning,
    summary: "A suppression does not say why the finding is acceptable",
    help: "write the reason after the rule list: `# guard:ignore[BO001] tag pinned by the deploy tool`",
    explanation: r#"A suppression is a decision that a guardrail does not apply here. Without its reason
the next reader cannot tell a deliberate exception from a shortcut taken under pressure, and
nobody can later judge whether the reason still holds. guard still honours the suppression
(the finding it silences is reported as suppressed, not as active), and warns about the
suppression itself.

The reason is the free text after the rule list of a `guard:ignore` comment, or the
`reason` key of an `[[ignore]]` entry in `guard.toml`. An optional `until=YYYY-MM-DD`
makes the exception expire.

**How to fix.** Say why, in a few words, and give an expiry when the exception is temporary.

```yaml
# bad
image: adservice  # guard:ignore[BO001]
```
```yaml
# good
image: adservice  # guard:ignore[BO001] skaffold replaces the tag with the build's digest until=2027-06-30
```
"#,
    security_severity: "2.0",
    tags: &["input", "suppression"],
    check: None,
    tiers: None,
};

pub static SUPPRESSION_EXPIRED: Rule = Rule {
    id: "GD006",
    name: "suppression-expired",
    family: Family::Input,
    severity: Severity::Warning,
    summary: "A suppression's `until=` date has passed; the findings it silenced count again",
    help: "fix the finding, or renew the exception with a new date and a reason that still holds",
    explanation: r#"A suppression with `until=YYYY-MM-DD` (in a `guard:ignore` comment, or `until` in a
`guard.toml` `[[ignore]]` entry) is a temporary exception: the team agreed to live with a
finding until a date. After that date the suppression no longer silences anything, the
findings it covered are reported (and fail the run) again, and this warning points at the
stale suppression so it is fixed or renewed deliberately rather than forgotten.

The date is compared with today's date in UTC (`GUARD_TODAY=YYYY-MM-DD` overrides it, to
reproduce a run).

**How to fix.** Fix the finding and delete the suppression, or, if the exception still
holds, move the date and update the reason.

```hcl
# bad: expired
# guard:ignore[DB001] migration window until=2025-01-31
publicly_accessible = true
```
```hcl
# good
publicly_accessible = false
```
"#,
    security_severity: "3.0",
    tags: &["input", "suppression"],
    check: None,
    tiers: None,
};

pub static SUPPRESSION_UNUSED: Rule = Rule {
    id: "GD007",
    name: "suppression-unused",
    family: Family::Input,
    severity: Severity::Warning,
    summary: "A suppression silences nothing: no finding matches it, or it names no rule",
    help: "remove the suppression, or correct the rule it names and the line it sits on",
    explanation: r#"A suppression that matches no finding is noise at best. At worst it is a trap: the
problem was fixed, the comment stayed, and the next time the same mistake is made on that
line it is silenced before anyone sees it. Suppressions that name no rule (a typo in the id,
a rule that was renamed) never silenced anything in the first place.

guard reports a suppression as unused when none of the findings of the rules it names lies
on the lines it covers (the line itself, the next code line for a comment on its own line,
or the whole block that line opens), or, for `[[ignore]]` in `guard.toml`, in the files and
environment it names. Suppressions of rules that are switched off by the configuration are
not reported.

**How to fix.** Delete it, or correct the rule key and put it on the line of the finding.

```yaml
# bad: the image is pinned now; the suppression hides the next regression
image: registry.example.com/app:1.4.2  # guard:ignore[BO001] tag set by CD
```
```yaml
# good
image: registry.example.com/app:1.4.2
```
"#,
    security_severity: "2.0",
    tags: &["input", "suppression"],
    check: None,
    tiers: None,
};

pub static POLICY_ERROR: Rule = Rule {
    id: "GD008",
    name: "policy-error",
    family: Family::Input,
    severity: Severity::Error,
    summary: "One of the project's Rego policies failed on a document, so it could not judge it",
    help: "give each complete rule and function one value per document (exclusive definitions, `else`), or fix the document",
    explanation: r#"The project's own Rego policies (see `docs/policies.md`) are evaluated on every document.
Most surprises in a document are not errors, as in OPA: a missing key, a string where the policy
expects an object, a builtin or operator given the wrong type are *undefined*, and the rule
simply does not apply. What remains are the errors OPA raises too, such as a complete rule or a
function giving two different values for one document (a conflict). Then the policy could not
judge the document: guard reports it as an error and goes on with every other document and
rule. A CI gate must not pass a document a policy could not read.

There is one finding per policy rule for the whole run, at the first document the rule failed
on, with the number of documents; after 20 failures the rule is not evaluated on the run's
remaining documents, and the finding says on how many. (A policy that does not parse, or runs
past its time limit, stops the whole check instead: that is a broken policy, not a surprising
document.) All policies share one time budget for the run (`GUARD_POLICY_BUDGET_S`, default
30 s), so a slow policy over many documents cannot hold a runner for hours: past it, the
documents not yet evaluated are left out and one GD008 error, at the first of them, says how
many.

**How to fix.** Give each complete rule one value per document: definitions that cannot hold
together, or `else`.

```rego
# bad: a document with both labels gives `owner` two values
owner := input.metadata.labels.team
owner := input.metadata.labels.owner
```
```rego
# good: the second definition applies only without the first
owner := input.metadata.labels.team
owner := input.metadata.labels.owner if not input.metadata.labels.team
```
"#,
    security_severity: "5.0",
    tags: &["input", "policy"],
    check: None,
    tiers: None,
};

pub static NOT_EVALUATED: Rule = Rule {
    id: "GD009",
    name: "not-evaluated",
    family: Family::Input,
    severity: Severity::Warning,
    summary: "Part of a deployment could not be evaluated statically, so the rules that read it could not judge it",
    help: "make the path or value resolvable inside the project (a file that exists, no cycle), or exclude the unit",
    explanation: r#"guard evaluates deployments the way their tools would before a plan: a Terragrunt unit
with its includes, `read_terragrunt_config` files, `dependency` mocks and `generate` blocks. When
part of that cannot be evaluated from the repository alone, the rules that would read it are
silent there, so guard says so, at the place, with what could not be judged: an `include` or
`read_terragrunt_config` of a file that is missing or outside the project, an include cycle, a
unit whose `terraform { source }` cannot be computed, a `generate` block whose contents do not
render or do not parse, a map a root selects from by `terraform.workspace` that has no entry for
one of its workspaces (`local.size[terraform.workspace]`; Terraform would fail in that
workspace; the message names it). Everything else in the project is still checked, and nothing outside the
project is ever read.

A module the unit takes from a remote address (a git URL, a registry) is not in the repository
at all: that is reported as a note in the run's Terraform summary, as for remote Terraform
modules, and the unit's inputs are still checked (secrets written there are found).

**How to fix.** Point the path at a file in the project, break the cycle, or give the value a
literal the repository holds.

```hcl
# bad: env.hcl does not exist above this unit
include "root" {
  path = find_in_parent_folders("root.hcl")
}
locals {
  env = read_terragrunt_config("../env.hcl").locals.environment
}
```
```hcl
# good
include "root" {
  path = find_in_parent_folders("root.hcl")
}
locals {
  env = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals.environment
}
```
"#,
    security_severity: "3.0",
    tags: &["input", "terragrunt"],
    check: Some(|m, out| report(&NOT_EVALUATED, DiagKind::NotEvaluated, m, out)),
    tiers: None,
};

pub static RULES: &[&Rule] = &[
    &PARSE_ERROR,
    &POLICY_ERROR,
    &DUPLICATE_KEY,
    &LIMIT,
    &SUPPRESSION_WITHOUT_REASON,
    &UNREADABLE,
    &SUPPRESSION_EXPIRED,
    &NOT_EVALUATED,
    &SUPPRESSION_UNUSED,
];
