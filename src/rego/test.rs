//! `guard test`: the policies' own tests, as `opa test` runs them (every
//! rule named `test_*` must be true), with Conftest's helpers to build an
//! input from a real file: `parse_config(parser, text)` and
//! `parse_config_file(path)`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use regorus::Value;

use super::{Options, Policies, PolicyError};
use crate::source::{FileId, SourceFile};

/// Conftest's value of a configuration text for a parser name.
pub fn parse_config(parser: &str, name: &str, text: &str) -> Result<serde_json::Value, String> {
    let file = SourceFile::new(
        FileId(0),
        name.to_string(),
        PathBuf::new(),
        text.to_string(),
    );
    let parser = parser.to_ascii_lowercase();
    match parser.as_str() {
        "yaml" | "yml" => {
            let (docs, error) = super::yaml_documents(name, text.to_string());
            if let Some(e) = error {
                return Err(e);
            }
            Ok(match docs.len() {
                0 => serde_json::Value::Null,
                1 => docs.into_iter().next().unwrap_or_default(),
                _ => serde_json::Value::Array(docs),
            })
        }
        "json" => serde_json::from_str(text).map_err(|e| format!("{name}: {e}")),
        "hcl2" | "hcl" | "tf" | "terraform" => super::input::hcl2(&file)
            .map(|n| n.to_json())
            .map_err(|d| format!("{name}: {}", d.message)),
        // Conftest's Dockerfile parser gives a list of one instruction list.
        "dockerfile" | "docker" => Ok(serde_json::Value::Array(vec![
            super::dockerfile::conftest(&file).to_json(),
        ])),
        other => Err(format!(
            "parse_config: no parser `{other}` (yaml, json, hcl2, dockerfile)"
        )),
    }
}

fn parser_for(path: &Path) -> &'static str {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name == "dockerfile" || name.starts_with("dockerfile.") || name.ends_with(".dockerfile") {
        "dockerfile"
    } else if name.ends_with(".json") {
        "json"
    } else if name.ends_with(".tf") || name.ends_with(".tfvars") || name.ends_with(".hcl") {
        "hcl2"
    } else {
        "yaml"
    }
}

fn arg_str(args: &[Value], i: usize, f: &str) -> anyhow::Result<String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.to_string()),
        _ => anyhow::bail!("{f}: argument {} must be a string", i + 1),
    }
}

/// Register the helpers. `read_below`: the directories
/// `parse_config_file` may read below (`guard test` only; `None` makes it
/// an error, so that policies never read files during a check).
pub fn add_extensions(engine: &mut regorus::Engine, read_below: Option<Vec<PathBuf>>) {
    let parse = |args: Vec<Value>| -> anyhow::Result<Value> {
        let parser = arg_str(&args, 0, "parse_config")?;
        let text = arg_str(&args, 1, "parse_config")?;
        let v = parse_config(&parser, "parse_config", &text).map_err(anyhow::Error::msg)?;
        Ok(Value::from(v))
    };
    let roots: Vec<PathBuf> = read_below
        .iter()
        .flatten()
        .filter_map(|d| std::fs::canonicalize(d).ok())
        .map(|d| {
            if d.is_file() {
                d.parent().map(Path::to_path_buf).unwrap_or(d)
            } else {
                d
            }
        })
        .collect();
    let testing = read_below.is_some();
    let parse_file = move |args: Vec<Value>| -> anyhow::Result<Value> {
        let path = arg_str(&args, 0, "parse_config_file")?;
        if !testing {
            anyhow::bail!(
                "parse_config_file reads files, which policies may only do in `guard test`"
            );
        }
        let rel = Path::new(&path);
        let candidates: Vec<PathBuf> = if rel.is_absolute() {
            vec![rel.to_path_buf()]
        } else {
            let mut c: Vec<PathBuf> = roots.iter().map(|r| r.join(rel)).collect();
            if let Ok(cwd) = std::env::current_dir() {
                c.push(cwd.join(rel));
            }
            c
        };
        for c in candidates {
            let Ok(real) = std::fs::canonicalize(&c) else {
                continue;
            };
            if !roots.iter().any(|r| real.starts_with(r)) {
                anyhow::bail!("parse_config_file: {path} is outside the policy directories");
            }
            if !real.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&real)
                .map_err(|e| anyhow::anyhow!("parse_config_file: {path}: {e}"))?;
            let v = parse_config(parser_for(&real), &path, &text).map_err(anyhow::Error::msg)?;
            return Ok(Value::from(v));
        }
        anyhow::bail!("parse_config_file: {path}: no such file below the policy directories")
    };
    // Registration fails only when the name is taken, which it is not on a new engine.
    let _ = engine.add_extension("parse_config".to_string(), 2, Box::new(parse));
    let _ = engine.add_extension("parse_config_file".to_string(), 1, Box::new(parse_file));
}

/// One test's outcome.
#[derive(Debug, serde::Serialize)]
pub struct Outcome {
    /// `data.main.test_deny_latest`.
    pub name: String,
    pub file: String,
    pub line: u32,
    pub passed: bool,
    /// Why it failed: `undefined`, the value, or the evaluation error.
    pub detail: Option<String>,
    /// For a test whose body did not hold: the first statement that does not hold
    /// (`file:line: `stmt` does not hold`), then `  expr = value` lines for a comparison's
    /// sides and the variables bound before it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
    /// What the test's `print()` calls wrote, each `file:line: text`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prints: Vec<String>,
    /// With `--trace`: the test's evaluation, one line per event, as OPA's pretty trace
    /// (`file:line  | Eval stmt`: rules entered and exited, statements evaluated and failed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
    pub micros: u128,
}

/// Run every `test_*` rule of the policies below `dirs`.
pub fn run(
    dirs: &[PathBuf],
    data: &[PathBuf],
    filter: Option<&regex::Regex>,
) -> Result<Vec<Outcome>, PolicyError> {
    run_in(dirs, data, &[], filter)
}

/// Run the `test_*` rules of the packages `namespaces` names (Conftest's `verify --namespace`:
/// glob patterns, as `check --namespace`; none: every package).
pub fn run_in(
    dirs: &[PathBuf],
    data: &[PathBuf],
    namespaces: &[String],
    filter: Option<&regex::Regex>,
) -> Result<Vec<Outcome>, PolicyError> {
    run_with(dirs, data, namespaces, filter, None)
}

/// [`run_in`], parsing the policies as `rego_version` only when given (`--rego-version`).
pub fn run_with(
    dirs: &[PathBuf],
    data: &[PathBuf],
    namespaces: &[String],
    filter: Option<&regex::Regex>,
    rego_version: Option<super::RegoVersion>,
) -> Result<Vec<Outcome>, PolicyError> {
    run_traced(dirs, data, namespaces, filter, rego_version, false)
}

/// [`run_with`], with each test's evaluation trace when `trace` (`--trace`).
pub fn run_traced(
    dirs: &[PathBuf],
    data: &[PathBuf],
    namespaces: &[String],
    filter: Option<&regex::Regex>,
    rego_version: Option<super::RegoVersion>,
    trace: bool,
) -> Result<Vec<Outcome>, PolicyError> {
    let opts = Options {
        dirs: dirs.to_vec(),
        data: data.to_vec(),
        all_namespaces: true,
        testing: true,
        rego_version,
        ..Options::default()
    };
    let Some(p) = Policies::load(&opts)? else {
        return Err(PolicyError(format!(
            "no policies (.rego files) below {}",
            dirs.iter()
                .map(|d| super::shown(d))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let mut out = Vec::new();
    for f in &p.files {
        for h in &f.scan.heads {
            if !h.name.starts_with("test_") {
                continue;
            }
            let name = format!("data.{}.{}", f.scan.package, h.name);
            if out.iter().any(|o: &Outcome| o.name == name) {
                continue;
            }
            if filter.is_some_and(|re| !re.is_match(&name)) {
                continue;
            }
            if !namespaces.is_empty()
                && !namespaces
                    .iter()
                    .any(|n| super::namespace_matches(n, &f.scan.package))
            {
                continue;
            }
            let mut engine = p.engine.clone();
            engine.set_input(Value::new_object());
            engine.set_gather_prints(true);
            #[cfg(regorus_trace)]
            engine.set_statement_trace(trace);
            let t = Instant::now();
            let r = engine.eval_rule(name.clone());
            let micros = t.elapsed().as_micros();
            #[cfg(regorus_trace)]
            let trace = render_trace(&engine.take_statement_trace());
            #[cfg(not(regorus_trace))]
            let trace: Vec<String> = {
                let _ = trace;
                Vec::new()
            };
            let prints: Vec<String> = engine
                .take_prints()
                .unwrap_or_default()
                .iter()
                .map(|l| crate::render::sanitize(l).into_owned())
                .collect();
            let explanation = if matches!(r, Ok(Value::Undefined)) {
                explain_failure(&p.engine, &f.shown, &h.name)
            } else {
                Vec::new()
            };
            let (passed, detail) = match r {
                Ok(Value::Bool(true)) => (true, None),
                Ok(Value::Undefined) => (
                    false,
                    Some("undefined (a condition did not hold)".to_string()),
                ),
                Ok(v) => (false, Some(format!("evaluated to {}", super::json_of(&v)))),
                // The error's lines that say something (regorus starts some with a blank line
                // and a source excerpt), on one line.
                Err(e) => {
                    let text = format!("{e:#}");
                    let lines: Vec<&str> = text
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect();
                    (
                        false,
                        Some(crate::render::sanitize(&lines.join(" ")).into_owned()),
                    )
                }
            };
            out.push(Outcome {
                name,
                file: f.shown.clone(),
                line: h.line,
                passed,
                detail,
                explanation,
                prints,
                trace,
                micros,
            });
        }
    }
    Ok(out)
}

/// Whether `--trace` can trace: the trace hook is a patch of the vendored regorus
/// (`vendor/regorus`); a build from the registry's sources uses the published crate, which has
/// none (`src/build.rs` tells which one this build has).
pub const TRACE_SUPPORTED: bool = cfg!(regorus_trace);

/// Trace events as OPA's pretty trace shows them: the location (padded to one width), then
/// `| ` per rule entered, the operation and the rule or statement (`Eval`, `Fail`; `Enter`,
/// `Exit`, `Error`). Policy text is sanitized (no terminal control characters).
#[cfg(regorus_trace)]
fn render_trace(events: &[regorus::TraceEvent]) -> Vec<String> {
    let locs: Vec<String> = events
        .iter()
        .map(|e| format!("{}:{}", e.file, e.line))
        .collect();
    let width = locs.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    events
        .iter()
        .zip(&locs)
        .map(|(e, loc)| {
            let line = format!("{loc:<width$} {}{} {}", "| ".repeat(e.depth), e.op, e.text);
            crate::render::sanitize(line.trim_end()).into_owned()
        })
        .collect()
}

/// A byte range of a policy text, from an AST span.
fn span_text<'a>(contents: &'a str, span: &serde_json::Value) -> Option<&'a str> {
    let start = usize::try_from(span["start"].as_u64()?).ok()?;
    let end = usize::try_from(span["end"].as_u64()?).ok()?;
    contents.get(start..end)
}

/// One statement of a test body: its text (with its `with` modifiers), its line, the texts
/// of a comparison's sides, and the variable an assignment binds.
struct Stmt {
    text: String,
    line: u64,
    sides: Option<(String, String)>,
    binds: Option<String>,
    with: String,
}

/// The statements of the first body of rule `rule` of policy file `file`, the file's package
/// and its imports as Rego text.
fn test_body(
    engine: &regorus::Engine,
    file: &str,
    rule: &str,
) -> Option<(String, String, Vec<Stmt>)> {
    let ast: serde_json::Value = serde_json::from_str(&engine.get_ast_as_json().ok()?).ok()?;
    let m = ast
        .as_array()?
        .iter()
        .find(|m| m["source"]["file"].as_str() == Some(file))?;
    let contents = m["source"]["contents"].as_str()?;
    let module = &m["ast"];
    let package = super::recursion::dotted(&module["package"]["refr"])?;
    let mut imports = String::new();
    for i in module["imports"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let path = super::recursion::dotted(&i["refr"])?;
        imports.push_str(&format!("import {path}"));
        if let Some(alias) = i.get("as").and_then(|a| span_text(contents, a)) {
            imports.push_str(&format!(" as {alias}"));
        }
        imports.push('\n');
    }
    let spec = module["rules"].as_array()?.iter().find_map(|r| {
        let spec = &r["Spec"];
        let head = &spec["head"]["Compr"];
        (super::recursion::dotted(&head["refr"]).as_deref() == Some(rule)).then_some(spec)
    })?;
    let stmts = spec["bodies"].get(0)?["query"]["stmts"].as_array()?;
    let mut out = Vec::new();
    for s in stmts {
        let mut text = span_text(contents, &s["span"])?.to_string();
        let mut with = String::new();
        for w in s["with_mods"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let t = span_text(contents, &w["span"])?;
            if !text.contains(t) {
                text.push(' ');
                text.push_str(t);
            }
            with.push(' ');
            with.push_str(t);
        }
        let expr = &s["literal"]["Expr"]["expr"];
        let sides = expr.get("BoolExpr").and_then(|b| {
            Some((
                span_text(contents, &b["lhs"].as_object()?.values().next()?["span"])?.to_string(),
                span_text(contents, &b["rhs"].as_object()?.values().next()?["span"])?.to_string(),
            ))
        });
        let binds = expr.get("AssignExpr").and_then(|a| {
            let v = a["lhs"].get("Var")?;
            let name = v["value"].as_str()?;
            (name != "_").then(|| name.to_string())
        });
        out.push(Stmt {
            text,
            line: s["span"]["line"].as_u64().unwrap_or(0),
            sides,
            binds,
            with,
        });
    }
    Some((package, imports, out))
}

/// Why a test whose body did not hold failed, as `opa test --explain fails` tells: the first
/// statement of its body that does not hold, with the values of a comparison's two sides and of
/// the variables bound before it. Empty when it cannot be told (a body with `else`, a
/// statement the generated query cannot hold).
fn explain_failure(engine: &regorus::Engine, file: &str, rule: &str) -> Vec<String> {
    let Some((package, imports, stmts)) = test_body(engine, file, rule) else {
        return Vec::new();
    };
    if !package.split('.').all(super::is_ident) || stmts.is_empty() {
        return Vec::new();
    }
    let mut text = format!("package {package}\n\n{imports}\n");
    for k in 1..=stmts.len() {
        text.push_str(&format!("__guard_explain_{k} if {{\n"));
        for s in &stmts[..k] {
            text.push_str(&format!("\t{}\n", s.text));
        }
        text.push_str("}\n\n");
    }
    let mut e = engine.clone();
    e.set_rego_v0(false);
    e.set_gather_prints(true);
    if e.add_policy(format!("{file} (explained)"), text.clone())
        .is_err()
    {
        return Vec::new();
    }
    let holds = |e: &mut regorus::Engine, k: usize| {
        matches!(
            e.eval_rule(format!("data.{package}.__guard_explain_{k}")),
            Ok(Value::Bool(true))
        )
    };
    let Some(k) = (1..=stmts.len()).find(|&k| !holds(&mut e, k)) else {
        return Vec::new();
    };
    let failed = &stmts[k - 1];
    let mut out = vec![format!(
        "{file}:{}: `{}` does not hold",
        failed.line,
        crate::render::sanitize(&failed.text)
    )];
    // The values: a comparison's sides, then the variables bound before it.
    let before: Vec<&str> = stmts[..k - 1].iter().map(|s| s.text.as_str()).collect();
    let mut values: Vec<(String, String)> = Vec::new();
    if let Some((l, r)) = &failed.sides {
        // A side written as a constant (`2`, `"x"`) says nothing more.
        for side in [l, r] {
            if serde_json::from_str::<serde_json::Value>(side).is_err() {
                values.push((side.clone(), format!("{side}{}", failed.with)));
            }
        }
    }
    for s in &stmts[..k - 1] {
        if let Some(v) = &s.binds {
            values.push((v.clone(), v.clone()));
        }
    }
    let mut q = format!("package {package}\n\n{imports}\n");
    for (i, (_, expr)) in values.iter().enumerate() {
        q.push_str(&format!("__guard_value_{i} := __guard_x if {{\n"));
        for b in &before {
            q.push_str(&format!("\t{b}\n"));
        }
        q.push_str(&format!("\t__guard_x := {expr}\n}}\n\n"));
    }
    if values.is_empty() || e.add_policy(format!("{file} (values)"), q).is_err() {
        return out;
    }
    for (i, (shown, _)) in values.iter().enumerate() {
        let v = match e.eval_rule(format!("data.{package}.__guard_value_{i}")) {
            Ok(Value::Undefined) | Err(_) => "undefined".to_string(),
            Ok(v) => super::json_of(&v).to_string(),
        };
        out.push(format!(
            "  {} = {}",
            crate::render::sanitize(shown),
            crate::render::sanitize(&v)
        ));
    }
    out
}
