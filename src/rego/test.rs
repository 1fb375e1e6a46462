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
            let t = Instant::now();
            let r = engine.eval_rule(name.clone());
            let micros = t.elapsed().as_micros();
            let (passed, detail) = match r {
                Ok(Value::Bool(true)) => (true, None),
                Ok(Value::Undefined) => (
                    false,
                    Some("undefined (a condition did not hold)".to_string()),
                ),
                Ok(v) => (false, Some(format!("evaluated to {}", super::json_of(&v)))),
                Err(e) => (
                    false,
                    Some(
                        crate::render::sanitize(format!("{e}").lines().next().unwrap_or(""))
                            .into_owned(),
                    ),
                ),
            };
            out.push(Outcome {
                name,
                file: f.shown.clone(),
                line: h.line,
                passed,
                detail,
                micros,
            });
        }
    }
    Ok(out)
}
