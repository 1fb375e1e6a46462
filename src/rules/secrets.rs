//! Secrets stay out of plain configuration (article 6, 3.1, 2.2).
//! Messages never repeat a secret's value.

use super::{Family, Rule};
use crate::env::Env;
use crate::finding::{Finding, Severity};
use crate::model::secretlike::{
    NameKind, Verdict, Why, classify, is_high_entropy, is_inert_value, is_password_like,
    is_secret_name, is_template_path, is_weak, secret_name_kind, secret_shape,
};
use crate::model::{DocKind, Model, Platform};
use crate::node::Node;
use crate::source::Span;

pub static CONFIGMAP_SECRET: Rule = Rule {
    id: "SEC001",
    name: "secret-in-configmap",
    family: Family::Secrets,
    severity: Severity::Error,
    summary: "A ConfigMap key or value looks like a secret",
    help: "move the value to a Secret backed by a secret manager and reference it with secretKeyRef",
    explanation: r#"**Why.** The article (section 6) separates the two on purpose: a ConfigMap holds
non-sensitive settings (`NODE_ENV`, `LOG_LEVEL`, `API_BASE_URL`); anything sensitive goes to a
Secret, and better to AWS Secrets Manager mounted through the Secrets Store CSI driver (ASCP)
with IRSA. A ConfigMap is stored unencrypted, readable by anyone with `get configmaps` in the
namespace, printed by `kubectl describe`, and committed in plain text to this repository.

guard's secret classifier decides on the **value first**: a known token shape (`AKIA...`,
`ghp_...`, `sk_live_...`, `xoxb-...`, `AIza...`, a JWT, a Laravel `base64:` key), a PEM private
key or a URL or connection string with a password is a secret whatever the key; a value that
cannot be one (a number, a duration such as `30s`, a size such as `512Mi`, a path such as
`%kernel.project_dir%/config/jwt/private.pem`, a URL without credentials, an ARN, a placeholder
such as `${VAR}`, `{{ .Values.x }}` or `'<PRIVKEY>'`) is not, whatever the key. In between, the
**key** decides: an entry whose key names a secret (`PASSWORD`, `SECRET`, `TOKEN`, `API_KEY`,
`PRIVATE_KEY`, `CREDENTIALS`, `PRESHARED_KEY`, ...; not `PASSWORD_FILE`, `SECRET_NAME` or
`SECRET_PORT`) and holds a literal; and a long high-entropy value under any key. Dummies such as
`changeme` are SEC008's. Embedded files (`application.properties: |`) are read line by line.
Values are never shown in the output.

**How to fix.** Move the value to a Secret backed by a secret manager and reference it with
`secretKeyRef` or a CSI volume; keep only non-sensitive settings in the ConfigMap.

```yaml
# bad
kind: ConfigMap
data:
  LOG_LEVEL: info
  DB_PASSWORD: hunter2
```
```yaml
# good
kind: ConfigMap
data:
  LOG_LEVEL: info
---
# in the Deployment
env:
  - name: DB_PASSWORD
    valueFrom:
      secretKeyRef: { name: database-secret, key: password }
```
"#,
    security_severity: "8.0",
    tags: &["secrets", "kubernetes"],
    check: Some(check_configmaps),
    tiers: None,
};

fn check_configmaps(m: &Model, out: &mut Vec<Finding>) {
    for doc in &m.docs {
        let DocKind::Kubernetes { kind, name } = &doc.kind else {
            continue;
        };
        if kind != "ConfigMap" {
            continue;
        }
        let cm = name.as_deref().unwrap_or("?");
        // `binaryData` values are base64: only their key names can tell.
        for e in doc.root.get("binaryData").map(Node::entries).unwrap_or(&[]) {
            if let Some(key) = e.key.as_str().filter(|k| is_secret_name(k)) {
                out.push(
                    CONFIGMAP_SECRET
                        .finding(
                            e.key.span,
                            format!("ConfigMap `{cm}` binaryData `{key}` holds a secret: its key names a secret"),
                        )
                        .secret(e.value.span)
                        .env(doc.assignment.env),
                );
            }
        }
        let Some(data) = doc.root.get("data") else {
            continue;
        };
        for e in data.entries() {
            let Some(key) = e.key.scalar_text() else {
                continue;
            };
            let value = e.value.scalar_text();
            let value = value.as_deref().unwrap_or("");
            let reason = match classify(Some(&key), value) {
                Verdict::Secret(Why::Shape(shape)) => {
                    Some((e.value.span, format!("its value looks like {shape}")))
                }
                Verdict::Secret(_) => Some((e.key.span, "its key names a secret".to_string())),
                // A dummy (`changeme`) is SEC008's.
                Verdict::Weak => None,
                Verdict::Not if value.contains('\n') => embedded_secret(m, &e.value, value),
                Verdict::Not => (!is_secret_name(&key) && is_high_entropy(value)).then(|| {
                    (
                        e.value.span,
                        "its value looks like a random token".to_string(),
                    )
                }),
            };
            if let Some((span, why)) = reason {
                out.push(
                    CONFIGMAP_SECRET
                        .finding(
                            span,
                            format!("ConfigMap `{cm}` entry `{key}` holds a secret: {why}"),
                        )
                        // The value, or the part of it that is the secret.
                        .secret(if span == e.key.span {
                            e.value.span
                        } else {
                            span
                        })
                        .env(doc.assignment.env),
                );
            }
        }
    }
}

/// A secret inside an embedded file (`key=value` or `key: value` lines).
fn embedded_secret(m: &Model, node: &Node, text: &str) -> Option<(Span, String)> {
    if !text.contains('\n') {
        return None;
    }
    for line in text.lines() {
        let l = line.trim();
        let Some((k, v)) = l.split_once('=').or_else(|| l.split_once(": ")) else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        // A bare word is a setting of the embedded file (nsswitch.conf's
        // `passwd: compat`), not its password.
        let secret = match classify(Some(k), v) {
            Verdict::Secret(why) => why.strong() || is_password_like(v),
            _ => false,
        };
        if secret {
            return Some((
                line_span(m, node, line.trim()),
                format!("its embedded setting `{k}` has a literal value"),
            ));
        }
    }
    None
}

/// The span of one line of a block scalar, found in the node's source text
/// (the whole node when the line cannot be found verbatim).
fn line_span(m: &Model, node: &Node, line: &str) -> Span {
    let Some(file) = m.sources.get(node.span.file) else {
        return node.span;
    };
    match file.slice(node.span).find(line) {
        Some(i) if !line.is_empty() => {
            let start = node.span.start as usize + i;
            Span::new(node.span.file, start, start + line.len())
        }
        _ => node.span,
    }
}

pub static PLAIN_ENV_SECRET: Rule = Rule {
    id: "SEC002",
    name: "secret-in-plain-env",
    family: Family::Secrets,
    severity: Severity::Error,
    summary: "A container environment variable holds a literal secret",
    help: "reference the secret from a secret store instead of writing it in the environment",
    explanation: r#"**Why.** A secret written as a literal environment variable is committed to the
repository, visible in `kubectl describe pod`, `docker inspect`, the ECS console and every task
definition revision, and cannot be rotated without a redeploy. The article's ECS task
definition shows the right shape: plain settings in `environment`, sensitive ones in
`secrets` with `valueFrom` pointing to Secrets Manager; its Kubernetes Deployment takes
`DATABASE_URL` from `valueFrom.secretKeyRef`.

guard reports an environment variable of a Kubernetes container (`env`), a compose service
(`environment`) or an ECS container definition (`environment`, CloudFormation `Environment`)
whose name says it is a secret and whose value is a literal, or whose value has the shape of a
secret (a known token, a JWT, a PEM key, a Laravel `base64:` key, a URL with a password)
whatever its name. Under a password name any literal is the password; under a key or token name
the literal must look like a key (long and mixed or random enough). Never reported:
placeholders (`${DB_PASSWORD}`, `$(DB_PASSWORD)`, `<password>`, `INSERT_TOKEN_HERE`; a
placeholder's default, `${DB_PASSWORD:-hunter2}`, is committed and judged like a value),
references to a secret store (CloudFormation intrinsic functions such as `!Ref`, `!Sub`,
`Fn::ImportValue` and `{{resolve:...}}` dynamic references included), numbers
(`SECRET_PORT=3000`), durations, sizes and paths. Dummies that would really run (`changeme`)
are reported by SEC008 instead. Values are never shown in the output.

**How to fix.** Kubernetes: `valueFrom.secretKeyRef` (or a CSI secret volume). ECS: move the
variable to `secrets` with `valueFrom` = the Secrets Manager or SSM ARN. Compose: pass it
from the environment or an untracked `.env` file (`DB_PASSWORD: ${DB_PASSWORD}`), or use
compose `secrets:`.

```json
"environment": [{ "name": "DATABASE_URL", "value": "postgres://app:hunter2@db/app" }]
```
```json
"secrets": [{ "name": "DATABASE_URL",
              "valueFrom": "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:prod/database-url" }]
```
"#,
    security_severity: "8.0",
    tags: &["secrets", "kubernetes", "compose", "ecs"],
    check: Some(check_env_vars),
    tiers: None,
};

fn check_env_vars(m: &Model, out: &mut Vec<Finding>) {
    for c in &m.containers {
        for v in &c.env_vars {
            let Some(value) = &v.value else { continue };
            let Some(text) = value.scalar_text() else {
                continue;
            };
            let Verdict::Secret(why) = classify(Some(&v.name), &text) else {
                continue;
            };
            let why = why.describe();
            let owner = c.describe();
            let fix = match c.platform {
                Platform::Kubernetes => "use valueFrom.secretKeyRef",
                Platform::Compose => "pass it from the environment or compose secrets",
                Platform::Ecs => "move it to `secrets` with valueFrom",
            };
            out.push(
                PLAIN_ENV_SECRET
                    .finding(
                        value.span,
                        format!(
                            "environment variable `{}` of {owner} holds a secret: {why}; {fix}",
                            v.name
                        ),
                    )
                    .secret(value.span)
                    .env(c.env)
                    .via(&value.via),
            );
        }
    }
}

pub static TERRAFORM_SECRET: Rule = Rule {
    id: "SEC003",
    name: "secret-in-terraform",
    family: Family::Secrets,
    severity: Severity::Error,
    summary: "A secret is written in Terraform: a variable default, a tfvars value, a local, a `secret_string` or provider keys",
    help: "pass the secret at apply time (TF_VAR_..., a secret store data source) instead of committing it",
    explanation: r#"**Why.** Terraform code and `*.tfvars` files are committed; a password in a variable
default or in `terraform.tfvars` is in the repository's history forever, and in the state file
in plain text as well. The article keeps the database URL in AWS Secrets Manager
(`aws_secretsmanager_secret_version` with `secret_string = jsonencode({ url = var.database_url })`,
section 6) precisely so that the value never appears in code: `var.database_url` has no
default and is supplied at apply time.

guard evaluates Terraform per environment and reports, at the line that holds the literal:
a secret-named variable (`db_password`, `api_key`, ...) whose default or tfvars value is a
literal; an entry named like a secret in an object variable's default or value
(`default = { password = "..." }`); a value of any variable or local with the shape of a secret
(a known token, a PEM key, a URL with a password); a Terragrunt unit's `inputs` (through the
module's variables, or as inputs when the module is remote); a known `secret_string` of `aws_secretsmanager_secret_version`; a
literal `access_key` / `secret_key` / `token` in a `provider "aws"` block; the known `value` of an
`aws_ssm_parameter` of type `SecureString`. Unknown values
(data sources, unset variables) are never reported, nor a Terragrunt `get_env("X", "fallback")`
fallback (the deployment's environment sets `X`).

**How to fix.** Declare the variable without a default and with `sensitive = true`, and supply
it at apply time (`TF_VAR_db_password` from the CI secret store), or read it from Secrets
Manager / SSM with a data source; use OIDC roles instead of provider access keys.

```hcl
variable "db_password" {
  default = "hunter2"
}
```
```hcl
variable "db_password" {
  type      = string
  sensitive = true
}
```
"#,
    security_severity: "8.5",
    tags: &["secrets", "terraform"],
    check: Some(check_terraform),
    tiers: None,
};

fn check_terraform(m: &Model, out: &mut Vec<Finding>) {
    // One finding per literal: a value passed down through nested modules
    // is reported once, under the outermost variable.
    let mut seen = crate::hash::HashSet::default();
    let mut report = |node: &Node, what: String, env| {
        if set_at_deploy_time(node) || !seen.insert((node.span, env)) {
            return;
        }
        out.push(
            TERRAFORM_SECRET
                .finding(node.span, what)
                .secret(node.span)
                .env(env)
                .via(&node.via),
        );
    };
    for root in &m.terraform.roots {
        let env = root.assignment.env;
        for v in &root.variables {
            // The final value: a literal from tfvars or the default. Reported
            // in the environment only when a var file decided it.
            let Some(text) = v.value.as_str() else {
                continue;
            };
            let from_default = v.default().is_some_and(|d| d.span == v.value.span);
            if let Some(why) = literal_secret(&v.name, text) {
                let prefix = if v.module_path.is_empty() {
                    String::new()
                } else {
                    format!("{}.", v.module_path)
                };
                let origin = if from_default { "default" } else { "value" };
                report(
                    &v.value,
                    format!("{origin} of variable `{prefix}var.{}` {why}", v.name),
                    if from_default { None } else { env },
                );
            }
        }
        // An object's entries named like secrets (`default = { password =
        // "..." }`), written literally in the variable's default or value.
        for v in &root.variables {
            if !v.value.is_map() {
                continue;
            }
            let from_default = v.default().is_some_and(|d| d.span == v.value.span);
            let mut found = Vec::new();
            secret_entries(&v.value, &mut found, 0);
            for (key, node, why) in found {
                let origin = if from_default { "default" } else { "value" };
                let prefix = if v.module_path.is_empty() {
                    String::new()
                } else {
                    format!("{}.", v.module_path)
                };
                report(
                    node,
                    format!(
                        "{origin} of variable `{prefix}var.{}`, key `{key}`, {why}",
                        v.name
                    ),
                    if from_default { None } else { env },
                );
            }
        }
        for l in &root.locals {
            let Some(text) = l.value.as_str() else {
                continue;
            };
            let defined_here = l.value.span.file == l.span.file
                && l.value.span.start >= l.span.start
                && l.value.span.end <= l.span.end;
            if !defined_here {
                continue; // flowed from a variable: reported there
            }
            if let Some(why) = literal_secret(&l.name, text) {
                report(&l.value, format!("local `{}` {why}", l.name), None);
            }
        }
        // A Terragrunt unit's inputs: those its module declares were
        // reported above through the variable (with the whole chain); the
        // rest (a remote module, an input no variable takes) here.
        for i in &root.inputs {
            let Some(text) = i.value.as_str() else {
                continue;
            };
            if let Some(why) = literal_secret(&i.name, text) {
                report(
                    &i.value,
                    format!("input `{}` of Terragrunt unit `{}` {why}", i.name, root.dir),
                    env,
                );
            }
        }
        for r in root.resources_of("aws_secretsmanager_secret_version") {
            let Some(v) = r.attrs.get("secret_string") else {
                continue;
            };
            if v.is_unknown() || contains_unknown(v) {
                continue;
            }
            report(
                v,
                format!(
                    "`secret_string` of {}.{} is known from the code, so the secret is committed",
                    r.rtype, r.name
                ),
                env,
            );
        }
        // A SecureString parameter exists to hold a secret: its value written in the code (or
        // in a variable's default) is committed.
        for r in root.resources_of("aws_ssm_parameter") {
            // `lifecycle { ignore_changes = [value] }`: the value is set outside Terraform and
            // what is written is a placeholder.
            let managed_outside = r
                .attrs
                .get("lifecycle")
                .into_iter()
                .flat_map(|l| l.as_seq().iter().chain(std::iter::once(l)))
                .any(|l| l.get("ignore_changes").is_some());
            if r.attrs.str_at(&["type"]) != Some("SecureString") || managed_outside {
                continue;
            }
            for key in ["value", "insecure_value"] {
                let Some(v) = r.attrs.get(key) else { continue };
                // Judged as the secret it is meant to hold: placeholders and references are not.
                let Some(text) = v.as_str() else { continue };
                if !matches!(classify(Some("secret"), text), Verdict::Secret(_)) {
                    continue;
                }
                report(
                    v,
                    format!(
                        "`{key}` of SecureString parameter {}.{} is known from the code, so the secret is committed",
                        r.rtype, r.name
                    ),
                    None,
                );
            }
        }
        for p in &root.providers {
            if !p.is_aws_provider() {
                continue;
            }
            for key in ["access_key", "secret_key", "token"] {
                if let Some(v) = p.attrs.get(key)
                    && v.as_str().is_some_and(|t| !is_inert_value(t))
                {
                    report(v, format!("provider \"aws\" has a literal `{key}`"), env);
                }
            }
        }
    }
}

/// Entries of a map (at any depth up to 8) whose key names a secret and
/// whose value is a literal secret.
fn secret_entries<'n>(n: &'n Node, out: &mut Vec<(String, &'n Node, String)>, depth: usize) {
    if depth > 8 {
        return;
    }
    for e in n.entries() {
        let Some(key) = e.key.scalar_text() else {
            continue;
        };
        match e.value.as_str() {
            Some(text) => {
                if let Some(why) = literal_secret(&key, text) {
                    out.push((key.into_owned(), &e.value, why));
                }
            }
            None => secret_entries(&e.value, out, depth + 1),
        }
    }
    for i in n.as_seq() {
        secret_entries(i, out, depth + 1);
    }
}

/// A value the deployment's environment replaces: the fallback of a
/// Terragrunt `get_env("NAME", "fallback")`, used only where `NAME` is not
/// set (a developer's machine), never the secret committed for a
/// deployment.
fn set_at_deploy_time(n: &Node) -> bool {
    n.via.as_ref().is_some_and(|c| {
        c.iter()
            .any(|h| h.label.starts_with("fallback of get_env("))
    })
}

/// Why a named literal is a secret, or `None`.
fn literal_secret(name: &str, text: &str) -> Option<String> {
    match classify(Some(name), text) {
        Verdict::Secret(Why::Shape(s)) => Some(format!("looks like {s}")),
        Verdict::Secret(_) => Some("is a literal secret".to_string()),
        Verdict::Weak | Verdict::Not => None,
    }
}

fn contains_unknown(n: &Node) -> bool {
    match &n.value {
        crate::node::Value::Unknown => true,
        crate::node::Value::Seq(items) => items.iter().any(contains_unknown),
        crate::node::Value::Map(entries) => entries.iter().any(|e| contains_unknown(&e.value)),
        _ => false,
    }
}

pub static NOT_SENSITIVE: Rule = Rule {
    id: "SEC004",
    name: "secret-variable-not-sensitive",
    family: Family::Secrets,
    severity: Severity::Warning,
    summary: "A Terraform variable named like a secret is not marked `sensitive = true`",
    help: "add `sensitive = true` to the variable",
    explanation: r#"**Why.** Terraform prints variable values in `plan` output, CI logs and error
messages unless the variable is marked `sensitive = true`. A `db_password` variable without it
leaks the password into every pipeline log that runs `terraform plan` — the logs the article's
promotion pipeline (section 5) produces for every environment.

guard reports a variable whose name says it holds a secret (`password`, `secret`, `token`,
`api_key`, `private_key`, plural and compound names such as `secrets`, `credentials`,
`db_creds`; not `password_length`, `secret_arn` or public values such as
`domain_validation_token`) and that is not `sensitive = true`.

It judges the variable by what it is given and how it is used: a variable that holds a
*reference* to a secret is not a secret. Not reported: a variable whose default or value is an
ARN (`arn:aws:secretsmanager:...`, `arn:aws:ssm:...`), whose declaration says it is one (a
`credentialsParameter` field, "the ARN of ..."), whose module passes it to `valueFrom`,
`secret_arn`, any `*_arn`, `secret_id` or a parameter name, or whose default cannot be a
secret (a path, a URL, a number, a boolean).

**How to fix.**

```hcl
variable "db_password" {
  type = string
}
```
```hcl
variable "db_password" {
  type      = string
  sensitive = true
}
```
"#,
    security_severity: "4.0",
    tags: &["secrets", "terraform"],
    check: Some(check_sensitive),
    tiers: None,
};

fn check_sensitive(m: &Model, out: &mut Vec<Finding>) {
    for root in &m.terraform.roots {
        for v in &root.variables {
            if v.sensitive || !is_secret_name(&v.name) {
                continue;
            }
            // A boolean or number default says the variable is a setting.
            if v.default().is_some_and(|d| {
                matches!(
                    d.value,
                    crate::node::Value::Bool(_) | crate::node::Value::Number(_)
                )
            }) {
                continue;
            }
            // A reference to a secret (an ARN, a secret's id) is not the
            // secret.
            if is_reference_variable(m, v) {
                continue;
            }
            let mut f = NOT_SENSITIVE.finding(
                v.span,
                format!(
                    "variable `{}` holds a secret but is not `sensitive = true`",
                    v.name
                ),
            );
            if let Some(d) = v.default() {
                f = f.secret(d.span);
            }
            out.push(f);
        }
    }
}

/// A variable that holds a reference to a secret rather than the secret:
/// its value or default is an ARN (or another secret-store reference), its
/// block says it is an ARN (`credentialsParameter`, "the ARN of..."), or
/// its module passes it to `valueFrom`, `*_arn`, `secret_id` or a
/// parameter name.
fn is_reference_variable(m: &Model, v: &crate::terraform::Variable) -> bool {
    let is_ref = |n: &Node| {
        n.as_str().is_some_and(|t| {
            let t = t.trim_start();
            t.starts_with("arn:") || (t.starts_with("projects/") && t.contains("/secrets/"))
        })
    };
    if v.default().is_some_and(is_ref) || is_ref(&v.value) {
        return true;
    }
    // A default that cannot be a secret (a path, a URL, a number).
    if v.default()
        .and_then(Node::as_str)
        .is_some_and(|d| !d.trim().is_empty() && is_inert_value(d))
    {
        return true;
    }
    let Some(file) = m.sources.get(v.span.file) else {
        return false;
    };
    if variable_block(&file.text, v.span.start as usize).is_some_and(block_says_reference) {
        return true;
    }
    // Where the module uses it.
    let dir = crate::source::parent_dir(&file.path);
    let needle = format!("var.{}", v.name);
    m.sources
        .files()
        .iter()
        .filter(|f| f.path.ends_with(".tf") && crate::source::parent_dir(&f.path) == dir)
        .any(|f| {
            f.text.match_indices(&needle).any(|(i, _)| {
                let after = f.text[i + needle.len()..].chars().next();
                if after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    return false;
                }
                let line_start = f.text[..i].rfind('\n').map_or(0, |j| j + 1);
                attribute_takes_reference(&f.text[line_start..i])
            })
        })
}

/// The `variable "x" { ... }` block whose name label starts at `at`.
fn variable_block(text: &str, at: usize) -> Option<&str> {
    let rest = text.get(at..)?;
    let open = rest.find('{')?;
    let mut depth = 0usize;
    for (i, c) in rest[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return rest.get(open..open + i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn block_says_reference(block: &str) -> bool {
    let lower = block.to_ascii_lowercase();
    lower.contains("credentialsparameter")
        || lower.contains("valuefrom")
        || lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == "arn" || w == "arns")
}

/// `secret_arn = `, `"valueFrom" = `, `secret_id: ` before a `var.x`.
fn attribute_takes_reference(before: &str) -> bool {
    let t = before.trim_end();
    let Some(t) = t.strip_suffix('=').or_else(|| t.strip_suffix(':')) else {
        return false;
    };
    let key = t
        .trim_end()
        .trim_matches('"')
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    key.ends_with("arn")
        || key.ends_with("arns")
        || key == "valuefrom"
        || key.ends_with("secret_id")
        || key.ends_with("secret_name")
        || key.ends_with("parameter")
        || key.ends_with("parameter_name")
        || key == "credentialsparameter"
}

pub static WORKFLOW_KEYS: Rule = Rule {
    id: "SEC005",
    name: "long-lived-aws-keys-in-workflow",
    family: Family::Secrets,
    severity: Severity::Warning,
    summary: "A workflow configures AWS with long-lived access keys instead of an OIDC role",
    help: "grant `id-token: write` and use `role-to-assume` with GitHub's OIDC provider; delete the stored keys",
    explanation: r#"**Why.** The article's pipeline (section 5) configures AWS with
`aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}` and `aws-secret-access-key`. Those are
an IAM user's long-lived keys: they never expire, are copied into every repository that
deploys, survive the departure of whoever created them, and, once leaked from a log or a
compromised action, give an attacker the deploy role's power until someone notices. GitHub's
OIDC provider lets the job assume an IAM role with short-lived credentials scoped to the
repository, branch and environment, and there is nothing to store or rotate.

guard reports a step that uses `aws-actions/configure-aws-credentials` with
`aws-access-key-id` or `aws-secret-access-key`, and `AWS_ACCESS_KEY_ID` /
`AWS_SECRET_ACCESS_KEY` set in a workflow, job or step `env:`.

**How to fix.**

```yaml
- uses: aws-actions/configure-aws-credentials@v4
  with:
    aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
    aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
    aws-region: ap-northeast-1
```
```yaml
permissions:
  id-token: write
  contents: read
steps:
  - uses: aws-actions/configure-aws-credentials@v4
    with:
      role-to-assume: arn:aws:iam::123456789012:role/deploy-prod
      aws-region: ap-northeast-1
```
"#,
    security_severity: "6.5",
    tags: &["secrets", "pipeline", "github-actions", "aws"],
    check: Some(check_workflow_keys),
    tiers: None,
};

/// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` in an `env:` mapping.
/// A literal key in a workflow (not a `${{ secrets.X }}` reference) is a
/// secret value to mask wherever its line is shown.
fn literal_key(f: Finding, value: &Node) -> Finding {
    match value.as_str() {
        Some(v) if !v.contains("${{") => f.secret(value.span),
        _ => f,
    }
}

fn env_keys(env: Option<&Node>, scope: &str, e: Option<Env>, out: &mut Vec<Finding>) {
    for entry in env.map(Node::entries).unwrap_or(&[]) {
        if let Some(k) = entry
            .key_str()
            .filter(|k| matches!(*k, "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY"))
        {
            out.push(literal_key(
                WORKFLOW_KEYS
                    .finding(
                        entry.key.span,
                        format!("{scope} sets `{k}`: long-lived AWS keys instead of an OIDC role"),
                    )
                    .env(e),
                &entry.value,
            ));
        }
    }
}

fn check_workflow_keys(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Workflow) {
        env_keys(doc.root.get("env"), "the workflow", doc.assignment.env, out);
        for job in doc.root.get("jobs").map(Node::entries).unwrap_or(&[]) {
            let id = job.key_str().unwrap_or("?");
            let env = m
                .jobs
                .iter()
                .find(|j| j.file == doc.file && j.id == id)
                .and_then(|j| j.assignment.env);
            env_keys(job.value.get("env"), &format!("job `{id}`"), env, out);
            for step in job.value.get("steps").map(Node::as_seq).unwrap_or(&[]) {
                env_keys(step.get("env"), &format!("a step of job `{id}`"), env, out);
                let uses = step.str_at(&["uses"]).unwrap_or("");
                if !uses.starts_with("aws-actions/configure-aws-credentials") {
                    continue;
                }
                let with = step.get("with");
                let Some(e) = with.and_then(|w| {
                    w.entry("aws-access-key-id")
                        .or_else(|| w.entry("aws-secret-access-key"))
                }) else {
                    continue;
                };
                out.push(literal_key(
                    WORKFLOW_KEYS
                        .finding(
                            e.key.span,
                            format!(
                                "job `{id}` configures AWS with long-lived access keys (`{}`) instead of an OIDC role",
                                e.key_str().unwrap_or("")
                            ),
                        )
                        .env(env),
                    &e.value,
                ));
            }
        }
    }
}

pub static DOCKERFILE_SECRET: Rule = Rule {
    id: "SEC006",
    name: "secret-in-dockerfile",
    family: Family::Secrets,
    severity: Severity::Error,
    summary: "A Dockerfile bakes a secret into the image with `ENV` or passes it as a build `ARG`",
    help: "inject secrets at run time, or at build time with `RUN --mount=type=secret`",
    explanation: r#"**Why.** The article's rule is that the image carries no configuration: the same image
runs in dev, staging and prod, and each environment injects its settings and secrets at run
time (section 2.2). A secret in an `ENV` instruction is stored in the image configuration:
anyone who can pull the image reads it with `docker inspect`, in every environment the image is
promoted to, forever. A build `ARG` is no better for secrets: its value is recorded in the
image history (`docker history`) of every layer whose `RUN` uses it.

guard reports an `ENV` whose name says it is a secret and whose value is a literal, any `ENV`
or `ARG` whose value has the shape of a secret (a known token, a PEM key, a URL with a
password), and, as a warning, an `ARG` whose name says it is a secret.

**How to fix.** Pass run-time secrets from the orchestrator (Kubernetes `secretKeyRef`, ECS
`secrets`), and build-time secrets with BuildKit secret mounts.

```dockerfile
ARG NPM_TOKEN
ENV DB_PASSWORD=hunter2
RUN npm ci
```
```dockerfile
# syntax=docker/dockerfile:1
RUN --mount=type=secret,id=npm_token NPM_TOKEN=$(cat /run/secrets/npm_token) npm ci
```
"#,
    security_severity: "7.5",
    tags: &["secrets", "dockerfile", "build-once"],
    check: Some(check_dockerfiles),
    tiers: None,
};

/// Declarations of an `ENV` or `ARG`: `KEY=value` words (an `ARG` word may
/// have no value), or the legacy `ENV KEY value with spaces` form.
/// `(name, value, span of the pair, span of the value)` of each pair.
fn dockerfile_pairs(cmd: &str, values: &[Node]) -> Vec<DockerPair> {
    let Some(first) = values.first().and_then(Node::as_str) else {
        return Vec::new();
    };
    if cmd == "env" && !first.contains('=') {
        let rest: Vec<&str> = values[1..].iter().filter_map(Node::as_str).collect();
        let value = (!rest.is_empty()).then(|| rest.join(" "));
        let span = values
            .last()
            .map_or(values[0].span, |l| values[0].span.to(l.span));
        let value_span = match (values.get(1), values.last()) {
            (Some(a), Some(b)) => Some(a.span.to(b.span)),
            _ => None,
        };
        return vec![(first.to_string(), value, span, value_span)];
    }
    values
        .iter()
        .filter_map(|v| {
            let t = v.as_str()?;
            Some(match t.split_once('=') {
                Some((k, val)) => {
                    // The value's bytes: after the `=` of the word as written.
                    let at = v.span.start as usize + k.len() + 1;
                    let vs = Span::new(
                        v.span.file,
                        at.min(v.span.end as usize),
                        v.span.end as usize,
                    );
                    (k.to_string(), Some(val.to_string()), v.span, Some(vs))
                }
                None => (t.to_string(), None, v.span, None),
            })
        })
        .collect()
}

type DockerPair = (String, Option<String>, Span, Option<Span>);

fn check_dockerfiles(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Dockerfile) {
        for ins in doc.root.as_seq() {
            let cmd = ins.str_at(&["Cmd"]).unwrap_or("");
            if cmd != "env" && cmd != "arg" {
                continue;
            }
            let values = ins.get("Value").map(Node::as_seq).unwrap_or(&[]);
            for (name, value, span, value_span) in dockerfile_pairs(cmd, values) {
                let upper = cmd.to_ascii_uppercase();
                let literal = value.as_deref().filter(|v| !is_inert_value(v));
                let verdict = value
                    .as_deref()
                    .map_or(Verdict::Not, |v| classify(Some(&name), v));
                let finding = if let Verdict::Secret(Why::Shape(shape)) = verdict {
                    DOCKERFILE_SECRET.finding(
                        span,
                        format!("{upper} `{name}` holds what looks like {shape}"),
                    )
                } else if cmd == "env" && matches!(verdict, Verdict::Secret(_)) {
                    DOCKERFILE_SECRET.finding(
                        span,
                        format!("ENV `{name}` bakes a literal secret into the image, readable with `docker inspect`"),
                    )
                } else if is_secret_name(&name) && cmd == "arg" {
                    let mut f = DOCKERFILE_SECRET.finding(
                        span,
                        format!("build ARG `{name}` carries a secret: build args are recorded in the image history"),
                    );
                    if literal.is_none() {
                        f.severity = Severity::Warning;
                    }
                    f
                } else {
                    continue;
                };
                // The value is the secret; an ARG without one has none.
                let finding = match value_span {
                    Some(vs) => finding.secret(vs),
                    None => finding,
                };
                out.push(finding.env(doc.assignment.env));
            }
        }
    }
}

pub static LITERAL_K8S_SECRET: Rule = Rule {
    id: "SEC007",
    name: "literal-kubernetes-secret",
    family: Family::Secrets,
    severity: Severity::Warning,
    summary: "A Kubernetes Secret with literal `data` or `stringData` is committed to the repository",
    help: "keep the value in a secret store (Secrets Manager with the CSI driver, External Secrets) or encrypt the file (SOPS, Sealed Secrets)",
    explanation: r#"**Why.** A Kubernetes Secret is not secret in a repository: `data` is base64, which anyone
decodes, and `stringData` is plain text. The article keeps secrets in AWS Secrets Manager and
brings them into the cluster at run time (section 6: Secrets Manager and the Secrets Store CSI
driver, ASCP), so the repository never holds a value. A committed Secret manifest puts the
value in every clone and in the history for good, for every environment that applies it.

guard reports a `Secret` whose `data` or `stringData` holds values, at that key, and masks the
values wherever they are shown. Not reported: a file encrypted with SOPS (a top-level `sops:`
section, `ENC[...]` values), `SealedSecret` resources (encrypted for one cluster), and Secrets
whose values are all placeholders (`${DB_PASSWORD}`, `<password>`) or empty.

**How to fix.** Reference the secret store instead (an `ExternalSecret`, or a
`SecretProviderClass` for the CSI driver), or encrypt the manifest with SOPS.

```yaml
# bad
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: hunter2-prod
```
```yaml
# good: External Secrets fetches it from Secrets Manager
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
spec:
  secretStoreRef: { name: aws-secrets-manager, kind: ClusterSecretStore }
  target: { name: db }
  data:
    - secretKey: password
      remoteRef: { key: prod/db, property: password }
```
"#,
    security_severity: "7.0",
    tags: &["secrets", "kubernetes"],
    check: Some(check_k8s_secrets),
    tiers: None,
};

/// The keys of an Argo CD repository, repo-creds or cluster Secret that are settings.
const ARGO_CD_SECRET_SETTINGS: &[&str] = &[
    "type",
    "url",
    "name",
    "project",
    "insecure",
    "enableLfs",
    "enableOCI",
    "forceHttpBasicAuth",
    "proxy",
    "noProxy",
    "server",
    "namespaces",
    "clusterResources",
    "githubAppID",
    "githubAppInstallationID",
    "githubAppEnterpriseBaseUrl",
    "username",
];

fn check_k8s_secrets(m: &Model, out: &mut Vec<Finding>) {
    for doc in &m.docs {
        let DocKind::Kubernetes { kind, name } = &doc.kind else {
            continue;
        };
        if kind != "Secret" || doc.root.get("sops").is_some() {
            continue;
        }
        // An Argo CD repository or cluster Secret: its `url`, `type`, `name`, ... are how Argo CD
        // finds the repository, not credentials; only its other keys can be secrets.
        let argo_settings: &[&str] = if doc
            .root
            .str_at(&["metadata", "labels", "argocd.argoproj.io/secret-type"])
            .is_some()
        {
            ARGO_CD_SECRET_SETTINGS
        } else {
            &[]
        };
        for key in ["data", "stringData"] {
            let Some(entry) = doc.root.entry(key) else {
                continue;
            };
            let literal: Vec<&crate::node::Entry> = entry
                .value
                .entries()
                .iter()
                .filter(|e| {
                    e.value
                        .scalar_text()
                        .is_some_and(|v| !is_inert_value(&v) && !v.trim_start().starts_with("ENC["))
                        && !e.key_str().is_some_and(|k| argo_settings.contains(&k))
                })
                .collect();
            if literal.is_empty() {
                continue;
            }
            let names: Vec<String> = literal
                .iter()
                .filter_map(|e| e.key_str().map(|k| format!("`{k}`")))
                .collect();
            let mut f = LITERAL_K8S_SECRET
                .finding(
                    entry.key.span,
                    format!(
                        "Secret `{}` commits {} literal {} ({}): {}",
                        name.as_deref().unwrap_or("?"),
                        literal.len(),
                        if literal.len() == 1 {
                            "value"
                        } else {
                            "values"
                        },
                        names.join(", "),
                        if key == "data" {
                            "base64 is an encoding, not encryption"
                        } else {
                            "stringData is plain text"
                        }
                    ),
                )
                .env(doc.assignment.env);
            // Every value is masked wherever its line is shown.
            for e in &literal {
                f = f.secret(e.value.span);
            }
            out.push(f);
        }
    }
}

pub static WEAK_PLACEHOLDER: Rule = Rule {
    id: "SEC008",
    name: "weak-placeholder-secret",
    family: Family::Secrets,
    severity: Severity::Warning,
    summary: "A secret is set to a dummy value (`changeme`, `your_api_key_here`, `password`) that would really be used",
    help: "supply the real secret from a secret store at deploy time; never ship a default password",
    explanation: r#"**Why.** A placeholder is not harmless once it is deployed: `POSTGRES_PASSWORD: changeme` in
a compose file, a Deployment or an ECS task definition *is* the database password wherever that
file is applied, and it is the first one an attacker tries. The article's rule is that secrets
are not written in configuration at all: they live in AWS Secrets Manager or SSM Parameter
Store and are injected at run time (section 6), so there is no value in the file to forget to
change, and each environment gets its own.

guard's secret classifier decides on the value first. A value that cannot be a secret (a
number, a path, a URL without credentials, a reference such as `${DB_PASSWORD}`,
`{{ .Values.x }}`, `<password>`, an ARN, `valueFrom`) is never reported. A dummy that would be
used as-is — `changeme`, `CHANGE_ME`, `changeit`, `your_api_key_here`, `replace-me`,
`password`, `secret`, `admin`, `123456`, `fake_password`, `mysecretpassword` — under a name
that says it is a secret (or any value that asks to be replaced, whatever its name) is reported
here, as a warning, instead of as a literal secret (SEC001, SEC002, SEC003, SEC006): it is not a
leaked credential, but a default credential waiting to be deployed.

guard reads container environments (Kubernetes, compose, ECS), ConfigMaps, Dockerfile
`ENV`/`ARG` defaults and Terraform variable values and locals. Files that are templates by
name (`compose.example.yml`, `values.sample.yaml`, `*.template.yaml`, `*.dist`) are not
deployed and are not reported. Values are never shown in the output.

**How to fix.** Remove the value and reference the secret store: `valueFrom.secretKeyRef`,
ECS `secrets` with `valueFrom`, compose `${DB_PASSWORD}` from an untracked `.env` or
compose `secrets:`, a Terraform variable without default marked `sensitive = true`.

```yaml
# bad
services:
  app:
    environment:
      ENCRYPTION_SALT: ChangeMe
      DB_PASSWORD: changeme
```
```yaml
# good
services:
  app:
    environment:
      ENCRYPTION_SALT: ${ENCRYPTION_SALT:?set it}
    secrets: [db_password]
```
"#,
    security_severity: "5.0",
    tags: &[
        "secrets",
        "kubernetes",
        "compose",
        "ecs",
        "dockerfile",
        "terraform",
    ],
    check: Some(check_weak_placeholders),
    tiers: None,
};

fn check_weak_placeholders(m: &Model, out: &mut Vec<Finding>) {
    let deployed = |file| !is_template_path(m.sources.path(file));
    let weak = |name: &str, text: &str| classify(Some(name), text) == Verdict::Weak;
    const WHY: &str = "a dummy value that would really be used as the secret";
    for c in m.containers.iter().filter(|c| deployed(c.file)) {
        for v in &c.env_vars {
            let Some(value) = &v.value else { continue };
            if value.scalar_text().is_some_and(|t| weak(&v.name, &t)) {
                out.push(
                    WEAK_PLACEHOLDER
                        .finding(
                            value.span,
                            format!(
                                "environment variable `{}` of {} is set to {WHY}",
                                v.name,
                                c.describe()
                            ),
                        )
                        .secret(value.span)
                        .env(c.env)
                        .via(&value.via),
                );
            }
        }
    }
    for doc in m.docs.iter().filter(|d| deployed(d.file)) {
        match &doc.kind {
            DocKind::Kubernetes { kind, name } if kind == "ConfigMap" => {
                for e in doc.root.get("data").map(Node::entries).unwrap_or(&[]) {
                    let (Some(key), Some(text)) = (e.key.scalar_text(), e.value.scalar_text())
                    else {
                        continue;
                    };
                    if weak(&key, &text) {
                        out.push(
                            WEAK_PLACEHOLDER
                                .finding(
                                    e.value.span,
                                    format!(
                                        "ConfigMap `{}` entry `{key}` is set to {WHY}",
                                        name.as_deref().unwrap_or("?")
                                    ),
                                )
                                .secret(e.value.span)
                                .env(doc.assignment.env),
                        );
                    }
                }
            }
            DocKind::Dockerfile => {
                for ins in doc.root.as_seq() {
                    let cmd = ins.str_at(&["Cmd"]).unwrap_or("");
                    if cmd != "env" && cmd != "arg" {
                        continue;
                    }
                    let values = ins.get("Value").map(Node::as_seq).unwrap_or(&[]);
                    for (name, value, _, value_span) in dockerfile_pairs(cmd, values) {
                        let (Some(value), Some(vs)) = (value, value_span) else {
                            continue;
                        };
                        if weak(&name, &value) {
                            out.push(
                                WEAK_PLACEHOLDER
                                    .finding(
                                        vs,
                                        format!(
                                            "{} `{name}` is set to {WHY}, baked into the image",
                                            cmd.to_ascii_uppercase()
                                        ),
                                    )
                                    .secret(vs)
                                    .env(doc.assignment.env),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut seen = crate::hash::HashSet::default();
    for root in &m.terraform.roots {
        let env = root.assignment.env;
        for v in &root.variables {
            let Some(text) = v.value.as_str() else {
                continue;
            };
            if !deployed(v.value.span.file) || !weak(&v.name, text) || set_at_deploy_time(&v.value)
            {
                continue;
            }
            let from_default = v.default().is_some_and(|d| d.span == v.value.span);
            let env = if from_default { None } else { env };
            if !seen.insert((v.value.span, env)) {
                continue;
            }
            let prefix = if v.module_path.is_empty() {
                String::new()
            } else {
                format!("{}.", v.module_path)
            };
            out.push(
                WEAK_PLACEHOLDER
                    .finding(
                        v.value.span,
                        format!(
                            "{} of variable `{prefix}var.{}` is {WHY}",
                            if from_default { "default" } else { "value" },
                            v.name
                        ),
                    )
                    .secret(v.value.span)
                    .env(env)
                    .via(&v.value.via),
            );
        }
        for l in &root.locals {
            let Some(text) = l.value.as_str() else {
                continue;
            };
            let defined_here = l.value.span.file == l.span.file
                && l.value.span.start >= l.span.start
                && l.value.span.end <= l.span.end;
            if !defined_here || !weak(&l.name, text) || !seen.insert((l.value.span, None)) {
                continue;
            }
            out.push(
                WEAK_PLACEHOLDER
                    .finding(l.value.span, format!("local `{}` is {WHY}", l.name))
                    .secret(l.value.span),
            );
        }
    }
}

pub static WORKFLOW_LITERAL: Rule = Rule {
    id: "SEC009",
    name: "literal-secret-in-workflow",
    family: Family::Secrets,
    severity: Severity::Error,
    summary: "A GitHub Actions workflow writes a secret literally in `env:` or a step's `with:` instead of `${{ secrets.X }}`",
    help: "store the value as a GitHub Actions secret (or better, fetch it from AWS Secrets Manager with OIDC) and reference it as `${{ secrets.NAME }}`",
    explanation: r#"**Why.** A workflow file is code: it is committed, copied into forks, and readable by anyone
who can read the repository. A token written in its `env:` or in a step's `with:` is leaked
the moment it is pushed, and GitHub cannot mask it in the logs because it does not know it is
a secret. The article's pipeline (section 5) only ever refers to credentials as
`${{ secrets.X }}` (and for AWS, prefers an OIDC role to any stored key, see SEC005); its
application secrets live in AWS Secrets Manager (section 6), never in a file.

guard reads the workflow-level, job-level and step-level `env:` mappings and every step's
`with:` inputs, and reports a value that the secret classifier calls a secret: a known token
shape whatever the name (`ghp_...`, `AKIA...`, `xoxb-...`, a JWT, a PEM private key, a URL with a
password), a random key under a secret's name (`API_TOKEN`, `npm-token`), and, in `with:`,
any literal under a secret's name (`password: hunter2` for a login action). Expressions
(`${{ secrets.X }}`, `${{ github.token }}`), placeholders, numbers and paths are never reported.
A plain word under a password name in `env:` (`POSTGRES_PASSWORD: postgres` for a throwaway
CI database) is not reported either.

This is a rule of its own rather than part of SEC005: SEC005 is a warning about *how* AWS is
reached (long-lived keys instead of OIDC), even when the keys are properly stored as
secrets; this rule is an error about *any* credential committed in the workflow, AWS or not.
A literal AWS key in `env:` raises both: two problems, two fixes.

**How to fix.**

```yaml
# bad
env:
  NPM_TOKEN: npm_FAKEfake0123456789FAKEfake0123456789
steps:
  - uses: docker/login-action@v3
    with:
      username: deploy
      password: hunter2
```
```yaml
# good
env:
  NPM_TOKEN: ${{ secrets.NPM_TOKEN }}
steps:
  - uses: docker/login-action@v3
    with:
      username: deploy
      password: ${{ secrets.REGISTRY_PASSWORD }}
```
"#,
    security_severity: "8.0",
    tags: &["secrets", "pipeline", "github-actions"],
    check: Some(check_workflow_literals),
    tiers: None,
};

/// Literal secrets in one `env:` or `with:` mapping.
fn workflow_literals(
    map: Option<&Node>,
    scope: &str,
    inputs: bool,
    e: Option<Env>,
    out: &mut Vec<Finding>,
) {
    for entry in map.map(Node::entries).unwrap_or(&[]) {
        let (Some(name), Some(text)) = (entry.key_str(), entry.value.scalar_text()) else {
            continue;
        };
        let Verdict::Secret(why) = classify(Some(name), &text) else {
            continue;
        };
        // In `env:`, a word under a password name is most often a throwaway
        // CI database's; an action's input named `password` is a real login.
        let named_key = secret_name_kind(name) == Some(NameKind::Key);
        if !(why.strong() || inputs || named_key) {
            continue;
        }
        let what = if inputs { "input" } else { "variable" };
        out.push(
            WORKFLOW_LITERAL
                .finding(
                    entry.value.span,
                    format!(
                        "{scope} sets {what} `{name}` to a literal secret: {}; reference it as `${{{{ secrets.NAME }}}}`",
                        why.describe()
                    ),
                )
                .secret(entry.value.span)
                .env(e),
        );
    }
}

fn check_workflow_literals(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Workflow) {
        workflow_literals(
            doc.root.get("env"),
            "the workflow",
            false,
            doc.assignment.env,
            out,
        );
        for job in doc.root.get("jobs").map(Node::entries).unwrap_or(&[]) {
            let id = job.key_str().unwrap_or("?");
            let env = m
                .jobs
                .iter()
                .find(|j| j.file == doc.file && j.id == id)
                .and_then(|j| j.assignment.env);
            workflow_literals(
                job.value.get("env"),
                &format!("job `{id}`"),
                false,
                env,
                out,
            );
            for step in job.value.get("steps").map(Node::as_seq).unwrap_or(&[]) {
                let scope = format!("a step of job `{id}`");
                workflow_literals(step.get("env"), &scope, false, env, out);
                workflow_literals(step.get("with"), &scope, true, env, out);
            }
        }
    }
}

pub static HELM_VALUES_SECRET: Rule = Rule {
    id: "SEC010",
    name: "secret-in-helm-values",
    family: Family::Secrets,
    severity: Severity::Error,
    summary: "A Helm values entry, Argo CD Helm parameter or Flux HelmRelease value holds a literal secret",
    help: "keep the value in a secret manager or a Kubernetes Secret and point the chart at it (`existingSecret`, `secretKeyRef`); keep only references in values",
    explanation: r#"**Why.** Values files, an Argo CD `Application`'s `helm.parameters` and inline
`helm.values`/`valuesObject`, and a Flux `HelmRelease`'s `values` are committed configuration,
like a ConfigMap (article section 6): a database password or an API token written there is in
the repository's history, readable by everyone who can clone it, and rendered by the chart into
whatever the chart makes of it (often a plain environment variable). guard judges each entry
as it judges a ConfigMap's: the value's shape first (a known token, a private key, a URL or
connection string with a password is a secret under any key), then a literal under a key that
names a secret (`password`, `apiKey`, `token`, ...), never a reference (`existingSecret`,
`secretKeyRef`, `${VAR}`, `{{ .Values.x }}`), an empty value or a placeholder (dummies such as
`changeme` are SEC008's). An `env`/`extraEnv` list entry (`{name, value}`) is judged by its
`name`. The finding is at the entry, in the environment of the values file or application
(`values-prod.yaml`, the Application deploying into prod); the value is never shown.

**How to fix.** Store the secret in AWS Secrets Manager (External Secrets, the Secrets Store CSI
driver) or a Secret, and give the chart its name: most charts take `existingSecret` or
`envFrom`/`secretKeyRef`.

```yaml
# bad: an Argo CD Application
spec:
  source:
    helm:
      parameters:
        - name: database.password
          value: s3cr3t-Pa55w0rd
```
```yaml
# good
spec:
  source:
    helm:
      parameters:
        - name: database.existingSecret
          value: shop-database
```
"#,
    security_severity: "8.0",
    tags: &["secrets", "kubernetes", "helm", "gitops"],
    check: Some(check_helm_values),
    tiers: None,
};

/// How deep a values tree is walked.
const VALUES_DEPTH: usize = 24;

fn check_helm_values(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::HelmValues) {
        let path = m.sources.path(doc.file);
        let what = format!("values file `{}`", path.rsplit('/').next().unwrap_or(path));
        values_secrets(&doc.root, "", &what, doc.assignment.env, 0, out);
    }
    for app in &m.apps {
        let what = app.describe();
        for s in &app.sources {
            for p in &s.parameters {
                let (Some(name), Some(value)) = (p.name.as_str(), p.value.scalar_text()) else {
                    continue;
                };
                let key = name.rsplit(['.', '[']).next().unwrap_or(name);
                if let Some((span, why)) = judge(key, &value, &p.name, &p.value) {
                    out.push(
                        HELM_VALUES_SECRET
                            .finding(
                                span,
                                format!("Helm parameter `{name}` of {what} holds a secret: {why}"),
                            )
                            .secret(p.value.span)
                            .env(app.env),
                    );
                }
            }
            for v in &s.values {
                values_secrets(
                    v,
                    "",
                    &format!("the inline values of {what}"),
                    app.env,
                    0,
                    out,
                );
            }
        }
    }
}

/// A finding's place and reason for one entry, if it holds a secret.
fn judge(key: &str, value: &str, key_node: &Node, value_node: &Node) -> Option<(Span, String)> {
    match classify(Some(key), value) {
        Verdict::Secret(Why::Shape(shape)) => {
            Some((value_node.span, format!("its value looks like {shape}")))
        }
        Verdict::Secret(_) => Some((key_node.span, "its key names a secret".to_string())),
        Verdict::Weak | Verdict::Not => None,
    }
}

fn values_secrets(
    n: &Node,
    at: &str,
    what: &str,
    env: Option<Env>,
    depth: usize,
    out: &mut Vec<Finding>,
) {
    if depth > VALUES_DEPTH {
        return;
    }
    let report = |out: &mut Vec<Finding>, path: &str, span: Span, secret: Span, why: String| {
        out.push(
            HELM_VALUES_SECRET
                .finding(span, format!("`{path}` in {what} holds a secret: {why}"))
                .secret(secret)
                .env(env),
        );
    };
    for e in n.entries() {
        let Some(k) = e.key_str() else { continue };
        let path = if at.is_empty() {
            k.to_string()
        } else {
            format!("{at}.{k}")
        };
        if e.value.is_map() {
            values_secrets(&e.value, &path, what, env, depth + 1, out);
            continue;
        }
        let items = e.value.as_seq();
        if !items.is_empty() {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                // An `env`/`extraEnv` entry: `{name: DB_PASSWORD, value: ...}`.
                if let (Some(name), Some(value)) = (item.get("name"), item.get("value"))
                    && let (Some(n), Some(v)) = (name.as_str(), value.scalar_text())
                {
                    if let Some((span, why)) = judge(n, &v, name, value) {
                        report(out, &format!("{item_path} ({n})"), span, value.span, why);
                    }
                    continue;
                }
                if item.is_map() {
                    values_secrets(item, &item_path, what, env, depth + 1, out);
                } else if let Some(v) = item.as_str()
                    && let Verdict::Secret(Why::Shape(shape)) = classify(None, v)
                {
                    report(
                        out,
                        &item_path,
                        item.span,
                        item.span,
                        format!("its value looks like {shape}"),
                    );
                }
            }
            continue;
        }
        let Some(value) = e.value.scalar_text() else {
            continue;
        };
        if let Some((span, why)) = judge(k, &value, &e.key, &e.value) {
            report(out, &path, span, e.value.span, why);
        }
    }
}

pub static FILE_SECRET: Rule = Rule {
    id: "SEC011",
    name: "secret-in-file",
    family: Family::Secrets,
    severity: Severity::Error,
    summary: "A literal credential is written in a file no other secrets rule reads (`.env`, a template, a script, a config file)",
    help: "remove the value from the repository, rotate it, and read it at run time from a secret store or the environment",
    explanation: r#"**Why.** A file guard does not model is no reason to miss a credential in it. A password
in a `.env` file, a live payment key in a `*.tpl` template rendered into user data, a connection
string with an inline password in a `*.properties` file or a private key in a shell script is
committed like any other line: in every clone and in the history for good. The article keeps
every secret in AWS Secrets Manager or SSM Parameter Store and injects it at run time (section
6), so no file of the repository holds one.

guard reads, besides the formats it models, text files that hold settings: dotenv files
(`.env`, `.env.*`, `*.env`), templates (`*.tpl`, `*.tftpl`, `*.tmpl`), shell scripts (`*.sh`,
`*.bash`), `*.properties`, `*.ini`, `*.conf`, `*.cfg`, `*.cnf`, `*.toml` (not `guard.toml`),
`.npmrc` and `.pypirc`, and the YAML and JSON files in which it recognises no document. It runs guard's one secret
classifier over their `key = value`, `key: value` and `KEY=value` lines (`export` and quotes
allowed) and over the words of other lines, like gitleaks or Checkov's secrets framework:

- a provider key format whatever the key: Stripe `sk_live_`/`rk_live_`, GitHub `ghp_` and
  `github_pat_`, GitLab `glpat-`, Slack `xox[bpars]-`, Google `AIza`, npm, Hugging Face,
  Anthropic and OpenAI keys, a JWT; an AWS access key id (`AKIA...`) only with a 40-character
  secret access key within three lines;
- a PEM private key block (`-----BEGIN ... PRIVATE KEY-----` with a real body);
- a URL or connection string with an inline password (`postgres://app:S3cret@db/app`,
  `Password=...;`), unless the password is a dummy;
- under a key that names a credential (`password`, `api_key`, `TOKEN`, `client_secret`, ...)
  a random key, or a literal that reads like a password (`hunter2`, not `postgres`).

Never reported: placeholders and references (`${DB_PASSWORD}`, `{{ .Values.x }}`, `$(...)`,
`<password>`, `arn:...`, `ref+vault://...`, `secretKeyRef`), dummies such as `changeme`,
AWS's documented example keys (`...EXAMPLE`), encrypted files and values (SOPS files with
their `sops` metadata, `ENC[AES256_GCM,...]`, Sealed Secrets' `encryptedData`, Ansible Vault;
git-crypt files are binary and not read). In example files (`.env.example`, `*.sample`,
`*.dist`) and comment lines only a provider key format or a private key is reported. A file
another secrets rule reads (Kubernetes, compose, ECS, Helm values, workflows, Dockerfiles,
Terraform and Terragrunt) is left to that rule, so a value is reported once. The finding is at
the value, in the environment of the file's path; the value is never shown.

**How to fix.** Delete the value from the file and rotate it (it is in the history). Read it
at run time instead: from the environment (`${DB_PASSWORD}`), a secret store (Secrets Manager,
SSM, Vault), or an untracked file; keep a `.env.example` with placeholders.

```sh
# .env (committed)
DATABASE_URL=postgres://app:S3cr3t-Pa55@db.internal:5432/app
STRIPE_SECRET_KEY=sk_live_FAKEfake0123456789FAKEfake
```
```sh
# .env.example (committed); .env is in .gitignore
DATABASE_URL=postgres://app:${DB_PASSWORD}@db.internal:5432/app
STRIPE_SECRET_KEY=<from Secrets Manager: prod/stripe>
```
"#,
    security_severity: "8.0",
    tags: &["secrets"],
    check: Some(check_files),
    tiers: None,
};

/// The files SEC011 reads: text files read for it alone, and YAML or JSON
/// files in which no document is one guard models (no other secrets rule
/// reads them). A chart's `_helpers.tpl` is the chart's, checked as what
/// it renders.
fn scanned_by_sec011(f: &crate::model::FileInfo) -> bool {
    use crate::discover::Syntax;
    f.readable
        && match f.syntax {
            Syntax::Text => f.kind == crate::model::TEXT_FILE,
            Syntax::Yaml | Syntax::Json => f.kind == crate::model::NOT_CHECKED,
            _ => false,
        }
}

fn check_files(m: &Model, out: &mut Vec<Finding>) {
    for f in m.files.iter().filter(|f| scanned_by_sec011(f)) {
        let Some(source) = m.sources.get(f.file) else {
            continue;
        };
        if is_encrypted_file(&source.text) {
            continue;
        }
        let path = source.path.as_ref();
        let name = path.rsplit('/').next().unwrap_or(path);
        let example = is_example_file(path);
        for hit in scan_text(&source.text) {
            if example && !hit.format {
                continue;
            }
            let span = Span::new(f.file, hit.value.start, hit.value.end);
            let message = match &hit.key {
                Some(key) => format!("`{key}` in `{name}` holds a secret: {}", hit.why),
                None => format!(
                    "`{name}` holds a secret: {}",
                    hit.why
                        .replacen("its value looks like", "a value that looks like", 1)
                ),
            };
            let mut finding = FILE_SECRET.finding(span, message).secret(span);
            for extra in &hit.also {
                finding = finding.secret(Span::new(f.file, extra.start, extra.end));
            }
            out.push(finding);
        }
    }
}

/// Encrypted as a whole: SOPS (its `sops` metadata in YAML, JSON, INI or
/// dotenv form), a Sealed Secret, Ansible Vault.
fn is_encrypted_file(text: &str) -> bool {
    text.starts_with("$ANSIBLE_VAULT;")
        || text.contains("ENC[AES256_GCM,")
        || text.lines().any(|l| {
            let t = l.trim_start();
            l.starts_with("sops:")
                || t.starts_with("\"sops\":")
                || t.starts_with("sops_version=")
                || t.starts_with("sops_mac=")
                || t == "[sops]"
        })
        || (text.contains("SealedSecret") && text.contains("encryptedData"))
}

/// A file to copy, not what is deployed (`.env.example`, `app.sample.conf`,
/// `config.dist.ini`). A `*.tpl`, `*.tmpl` or `*.tftpl` file is rendered
/// into what is deployed, and is not one.
fn is_example_file(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let rendered = [".tpl", ".tmpl", ".tftpl"]
        .iter()
        .any(|e| lower.ends_with(e));
    (is_template_path(path) && !rendered)
        || lower
            .rsplit('/')
            .next()
            .is_some_and(|n| n.contains("example") || n.contains("sample"))
}

/// One secret the text scan found.
#[derive(Debug, PartialEq)]
struct TextHit {
    /// The key it is written under, when it is a `key = value` line.
    key: Option<String>,
    /// The value's bytes.
    value: std::ops::Range<usize>,
    /// More bytes to mask (an AWS key id's secret key).
    also: Vec<std::ops::Range<usize>>,
    /// Why, for the message ("its value looks like a GitHub token").
    why: String,
    /// A provider key format or a private key: certain on its own.
    format: bool,
}

/// At most this many lines between an AWS access key id and its secret key.
const AWS_PAIR_LINES: usize = 3;

/// The literal secrets of a text file, in text order, one per value: PEM
/// private key blocks, `key = value` lines the classifier calls a secret,
/// and words of other lines with a provider key format. Linear in the
/// text (a PEM block's end is looked for in its next 16 KiB only).
fn scan_text(text: &str) -> Vec<TextHit> {
    let mut hits = Vec::new();
    // Byte offset of each line and its text (without the line break).
    let lines: Vec<(usize, &str)> = {
        let mut v = Vec::new();
        let mut at = 0;
        for l in text.split_inclusive('\n') {
            v.push((at, l.trim_end_matches(['\n', '\r'])));
            at += l.len();
        }
        v
    };
    // AWS access key ids, decided once every line is read.
    let mut key_ids: Vec<(usize, Option<String>, std::ops::Range<usize>)> = Vec::new();
    let mut hit_lines: Vec<usize> = Vec::new();
    let mut skip_to = 0usize;
    for (i, &(at, line)) in lines.iter().enumerate() {
        if at < skip_to {
            continue;
        }
        if let Some((range, end)) = pem_block(text, at, line) {
            hits.push(TextHit {
                key: None,
                value: range.clone(),
                also: Vec::new(),
                why: "its value looks like a PEM private key".into(),
                format: true,
            });
            hit_lines.push(i);
            skip_to = end;
            continue;
        }
        let (comment, body, body_at) = strip_comment_marker(line, at);
        if let Some((key, vr)) = assignment(body) {
            let value = &body[vr.clone()];
            let range = body_at + vr.start..body_at + vr.end;
            match judge_text_value(Some(key), value) {
                Judged::Secret { why, format } if format || !comment => {
                    hits.push(TextHit {
                        key: Some(key.to_string()),
                        value: range.clone(),
                        also: Vec::new(),
                        why,
                        format,
                    });
                    hit_lines.push(i);
                }
                Judged::KeyId => key_ids.push((i, Some(key.to_string()), range)),
                _ => {}
            }
            continue;
        }
        for wr in words(body) {
            let word = &body[wr.clone()];
            let range = body_at + wr.start..body_at + wr.end;
            match judge_text_value(None, word) {
                // Without a name, only a shape: a provider format, or a URL
                // or connection string with a password (not in a comment).
                Judged::Secret { why, format } if format || !comment => {
                    hits.push(TextHit {
                        key: None,
                        value: range.clone(),
                        also: Vec::new(),
                        why,
                        format,
                    });
                    hit_lines.push(i);
                }
                Judged::KeyId => key_ids.push((i, None, range)),
                _ => {}
            }
        }
    }
    // An AWS access key id is an identifier; with its secret access key
    // beside it, it is a credential. Reported at the id, once, unless the
    // secret key's line was reported already.
    for (i, key, id) in key_ids {
        let lo = i.saturating_sub(AWS_PAIR_LINES);
        let hi = (i + AWS_PAIR_LINES).min(lines.len().saturating_sub(1));
        let secret = (lo..=hi).find_map(|j| {
            let (at, line) = lines[j];
            words(line)
                .into_iter()
                .find(|w| {
                    let s = &line[w.clone()];
                    crate::model::secretlike::is_aws_secret_key(s) && !s.contains("EXAMPLE")
                })
                .map(|w| (j, at + w.start..at + w.end))
        });
        let Some((j, secret)) = secret else { continue };
        if hit_lines.contains(&j) || hit_lines.contains(&i) {
            continue;
        }
        hits.push(TextHit {
            key,
            value: id,
            also: vec![secret],
            why: format!(
                "its value looks like an AWS access key id, with its secret access key on line {}",
                j + 1
            ),
            format: true,
        });
        hit_lines.push(i);
    }
    hits.sort_by_key(|h| h.value.start);
    hits
}

/// What the scan makes of one value.
enum Judged {
    Secret {
        why: String,
        format: bool,
    },
    /// An AWS access key id: a credential only beside its secret key.
    KeyId,
    Not,
}

fn judge_text_value(key: Option<&str>, value: &str) -> Judged {
    let value = value.trim();
    if value.starts_with("ENC[") || value.contains("EXAMPLE") || value.contains("example") {
        return Judged::Not;
    }
    match classify(key, value) {
        Verdict::Secret(Why::Shape("an AWS access key id")) => Judged::KeyId,
        Verdict::Secret(Why::Shape(shape)) => {
            // A dummy password in a URL (`postgres://user:pass@localhost`)
            // is an example of the URL's form.
            if url_password(value).is_some_and(|p| is_weak(p) || !is_password_like(p)) {
                return Judged::Not;
            }
            let format = !shape.contains("password");
            Judged::Secret {
                why: format!("its value looks like {shape}"),
                format,
            }
        }
        Verdict::Secret(Why::Random) => Judged::Secret {
            why: Why::Random.describe(),
            format: false,
        },
        Verdict::Secret(Why::Named) if is_password_like(value) => Judged::Secret {
            why: Why::Named.describe(),
            format: false,
        },
        _ => Judged::Not,
    }
}

/// The password of the first `scheme://user:password@host` in `value`.
fn url_password(value: &str) -> Option<&str> {
    let i = value.find("://")?;
    let rest = &value[i + 3..];
    let authority = rest
        .split(['/', '?', '#', ' ', '"', '\''])
        .next()
        .unwrap_or("");
    let (userinfo, _host) = authority.rsplit_once('@')?;
    let (_user, pass) = userinfo.split_once(':')?;
    Some(pass)
}

/// A comment line's text after its marker (`#`, `//`, `;`, `--`, `REM`),
/// with its offset; `(false, line, at)` for other lines.
fn strip_comment_marker(line: &str, at: usize) -> (bool, &str, usize) {
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    for marker in ["#", "//", ";", "--"] {
        if let Some(rest) = trimmed.strip_prefix(marker) {
            let inner = rest.trim_start_matches(['#', '/', ';', '-', '!', ' ', '\t']);
            let skipped = trimmed.len() - inner.len();
            return (true, inner, at + lead + skipped);
        }
    }
    (false, line, at)
}

/// A `key = value`, `key: value`, `KEY=value`, `export KEY="value"`,
/// `"key": "value",` line: the key, and the value's byte range in `line`
/// (inside its quotes).
fn assignment(line: &str) -> Option<(&str, std::ops::Range<usize>)> {
    let mut rest = line.trim_start();
    let mut at = line.len() - rest.len();
    for prefix in [
        "- ",
        "export ",
        "local ",
        "readonly ",
        "declare -x ",
        "set ",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            let r2 = r.trim_start();
            at += rest.len() - r2.len();
            rest = r2;
        }
    }
    // The key, quoted or bare.
    let (key, after) = match rest.as_bytes().first() {
        Some(q @ (b'"' | b'\'')) => {
            let close = rest[1..].find(*q as char)? + 1;
            (&rest[1..close], close + 1)
        }
        _ => {
            let n = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_.-/[]".contains(c)))
                .unwrap_or(rest.len());
            (&rest[..n], n)
        }
    };
    if key.is_empty() || key.len() > 128 || !key.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let tail = &rest[after..];
    let sep_lead = tail.len() - tail.trim_start_matches([' ', '\t']).len();
    let t = &tail[sep_lead..];
    let sep = if t.starts_with(":=") || t.starts_with("=>") {
        2
    } else if (t.starts_with('=') && !t.starts_with("=="))
        || (t.starts_with(':') && (t.len() == 1 || t[1..].starts_with([' ', '\t'])))
    {
        1
    } else {
        return None;
    };
    let vstart = after + sep_lead + sep;
    let v = &rest[vstart..];
    let vtrim = v.trim_start();
    let mut start = vstart + (v.len() - vtrim.len());
    let mut end;
    match vtrim.as_bytes().first() {
        None => return None,
        Some(b'{' | b'[' | b'|' | b'>' | b'&' | b'*' | b'!') => return None,
        Some(q @ (b'"' | b'\'')) => {
            let q = *q as char;
            let inner = &vtrim[1..];
            let close = inner
                .char_indices()
                .find(|&(i, c)| c == q && !(q == '"' && i > 0 && inner.as_bytes()[i - 1] == b'\\'))
                .map_or(inner.len(), |(i, _)| i);
            start += 1;
            end = start + close;
        }
        Some(_) => {
            // An unquoted value ends at a comment or the line's end, without
            // a trailing `,` or `;`.
            let cut = vtrim.find(" #").unwrap_or(vtrim.len());
            let v = vtrim[..cut].trim_end().trim_end_matches([',', ';']);
            end = start + v.len();
        }
    }
    end = end.max(start);
    Some((key, at + start..at + end))
}

/// The words of a line (split at whitespace, quotes and separators), with
/// their byte ranges.
fn words(line: &str) -> Vec<std::ops::Range<usize>> {
    let sep = |c: char| c.is_whitespace() || "\"'`,;=()<>|".contains(c);
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (sep(c), start) {
            (true, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..line.len());
    }
    // Shorter than any token the classifier knows.
    out.retain(|r| r.len() >= 15);
    out
}

/// A PEM private key block starting on this line: its bytes (from
/// `-----BEGIN` to the end of `-----END ...-----`) and where the scan goes
/// on. Only a block with a body (at least 64 base64 characters) that the
/// classifier calls a private key.
fn pem_block(text: &str, at: usize, line: &str) -> Option<(std::ops::Range<usize>, usize)> {
    let b = line.find("-----BEGIN")?;
    if !line[b..].contains("PRIVATE KEY-----") {
        return None;
    }
    let start = at + b;
    let window_end = floor_char_boundary(text, (start + 16 * 1024).min(text.len()));
    let window = &text[start..window_end];
    let e = window.find("-----END")?;
    let close = window[e + 8..].find("-----")? + e + 8 + 5;
    let block = &window[..close];
    let header_end = block.find("KEY-----")? + 8;
    let body = &block[header_end..e];
    let base64 = body
        .split("\\n")
        .flat_map(|p| p.chars())
        .filter(|c| c.is_ascii_alphanumeric() || *c == '+' || *c == '/')
        .count();
    if base64 < 64 || secret_shape(block) != Some("a PEM private key") {
        return None;
    }
    Some((start..start + close, start + close))
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub static RULES: &[&Rule] = &[
    &LITERAL_K8S_SECRET,
    &CONFIGMAP_SECRET,
    &PLAIN_ENV_SECRET,
    &TERRAFORM_SECRET,
    &NOT_SENSITIVE,
    &WORKFLOW_KEYS,
    &DOCKERFILE_SECRET,
    &WEAK_PLACEHOLDER,
    &WORKFLOW_LITERAL,
    &HELM_VALUES_SECRET,
    &FILE_SECRET,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The (key, value text) of each hit.
    fn scan(text: &str) -> Vec<(Option<String>, String)> {
        scan_text(text)
            .into_iter()
            .map(|h| (h.key, text[h.value].to_string()))
            .collect()
    }

    fn one(key: &str, value: &str) -> Vec<(Option<String>, String)> {
        vec![(Some(key.to_string()), value.to_string())]
    }

    #[test]
    fn assignments_in_every_syntax() {
        let stripe = "sk_live_FAKEfake0123456789FAKEfake";
        for line in [
            format!("STRIPE_KEY={stripe}"),
            format!("export STRIPE_KEY=\"{stripe}\""),
            format!("STRIPE_KEY = '{stripe}' # prod"),
            format!("  STRIPE_KEY: {stripe}"),
            format!("  \"STRIPE_KEY\": \"{stripe}\","),
            format!("- STRIPE_KEY={stripe}"),
        ] {
            assert_eq!(scan(&line), one("STRIPE_KEY", stripe), "{line}");
        }
        assert_eq!(
            scan("spring.datasource.password=Pr0d-Passw0rd!\n"),
            one("spring.datasource.password", "Pr0d-Passw0rd!")
        );
    }

    #[test]
    fn words_of_other_lines() {
        let hits =
            scan("curl -H \"Authorization: token ghp_FAKEfake0123456789FAKEfake0123456789\" x\n");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].1, "ghp_FAKEfake0123456789FAKEfake0123456789");
        assert_eq!(
            scan("psql postgres://app:S3cr3t-Pa55@db/app -c 'select 1'\n")[0].1,
            "postgres://app:S3cr3t-Pa55@db/app"
        );
    }

    #[test]
    fn not_secrets() {
        for text in [
            "DB_PASSWORD=changeme",
            "DB_PASSWORD=<password>",
            "DB_PASSWORD=${DB_PASSWORD}",
            "DB_PASSWORD=\"$(cat /run/secrets/db)\"",
            "password: {{ .Values.db.password }}",
            "DB_SECRET=arn:aws:secretsmanager:eu-west-1:123456789012:secret:db",
            "VAULT_TOKEN=ref+vault://secret/db#token",
            "password: ENC[AES256_GCM,data:Zm9v,iv:YmFy,tag:YmF6,type:str]",
            "POSTGRES_PASSWORD=postgres",
            "DATABASE_URL=postgres://postgres:postgres@localhost/app",
            "DATABASE_URL=postgres://user:password@localhost/app",
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "if [ \"$A\" == \"ghp_FAKE\" ]; then",
            "# DB_PASSWORD=hunter2-Prod",
            "# psql postgres://app:S3cr3t-Pa55@db/app",
            "db_password = %(DB_PASSWORD)s",
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
            "TOKEN_TTL=3600",
            "SECRET_NAME=prod-db-credentials",
        ] {
            assert_eq!(scan(text), vec![], "{text}");
        }
    }

    #[test]
    fn a_comment_line_reports_only_a_provider_format() {
        assert_eq!(
            scan("# STRIPE_KEY=sk_live_FAKEfake0123456789FAKEfake\n"),
            one("STRIPE_KEY", "sk_live_FAKEfake0123456789FAKEfake")
        );
    }

    #[test]
    fn an_aws_key_id_only_with_its_secret_key() {
        let id = "AKIAFAKEFAKE01234567";
        let secret = "FAKEfake0123456789+/FAKEfake0123456789+/";
        assert_eq!(scan(&format!("key_id = {id}\n")), vec![]);
        let hits = scan_text(&format!(
            "key_id = {id}\nother = 1\naws configure set aws_secret_access_key {secret}\n"
        ));
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].also.len(), 1);
        // Under its name, the secret key is reported, once for the pair.
        let text = format!("AWS_ACCESS_KEY_ID={id}\nAWS_SECRET_ACCESS_KEY={secret}\n");
        assert_eq!(scan(&text), one("AWS_SECRET_ACCESS_KEY", secret));
    }

    #[test]
    fn a_pem_block_is_one_finding() {
        let body = "MIIEowIBAAKCAQEAzFAKEfake0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP";
        let text = format!(
            "cat <<K\n-----BEGIN RSA PRIVATE KEY-----\n{body}\n{body}\n-----END RSA PRIVATE KEY-----\nK\n"
        );
        let hits = scan(&text);
        assert_eq!(hits.len(), 1);
        assert!(hits[0].1.starts_with("-----BEGIN") && hits[0].1.ends_with("KEY-----"));
        // Escaped in one line (JSON).
        let one_line = format!(
            "\"key\": \"-----BEGIN PRIVATE KEY-----\\n{body}\\n-----END PRIVATE KEY-----\\n\""
        );
        assert_eq!(scan(&one_line).len(), 1);
    }

    #[test]
    fn encrypted_files() {
        assert!(is_encrypted_file(
            "a: ENC[AES256_GCM,data:x]\nsops:\n  mac: x\n"
        ));
        assert!(is_encrypted_file("$ANSIBLE_VAULT;1.1;AES256\n6162\n"));
        assert!(is_encrypted_file(
            "kind: SealedSecret\nspec:\n  encryptedData:\n    a: Ag\n"
        ));
        assert!(is_encrypted_file(
            "A=ENC[AES256_GCM,data:x]\nsops_version=3.8.1\n"
        ));
        assert!(!is_encrypted_file(
            "DB_PASSWORD=hunter2\n# sops: not here\n"
        ));
    }

    #[test]
    fn example_files() {
        assert!(is_example_file("app/.env.example"));
        assert!(is_example_file("config/app.sample.conf"));
        assert!(!is_example_file("templates/user_data.tpl"));
        assert!(!is_example_file("envs/prod/.env"));
    }

    #[test]
    fn hostile_text_is_bounded() {
        // Long lines, unmatched quotes, a PEM header with no end, non-ASCII.
        let mut text = String::from("-----BEGIN PRIVATE KEY-----\n");
        text.push_str(&"é=\"x".repeat(10_000));
        text.push_str("\nKEY='unterminated\n:=\n= value\n\"\":\"\"\n");
        assert_eq!(scan(&text), vec![]);
    }
}
