//! Recursion between policy functions, refused when the policies load, as OPA's compiler refuses
//! it (`rego_recursion_error`). regorus would follow a function that calls itself until the
//! process's stack overflows, which kills the run without a word; a hostile or mistaken policy
//! must be an error that names the cycle instead.
//!
//! The call graph is read from regorus's AST (`Engine::get_ast_as_json`): each function's full
//! name (`data.<package>.<name>`), and the calls in its head and bodies, resolved through the
//! module's package and imports. Only calls to functions the policies define are edges.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// How deep the AST walk goes (the AST of a loadable policy is far shallower).
const MAX_DEPTH: usize = 512;

/// A function that is part of a cycle: the cycle (`data.main.f -> data.main.f`) and where the
/// first function of it is defined (`policy/rec.rego:3`).
pub struct Cycle {
    pub chain: String,
    pub at: String,
}

/// The first cycle among the policies' functions, by name, if there is one.
pub fn find(engine: &regorus::Engine) -> Option<Cycle> {
    let ast: Value = serde_json::from_str(&engine.get_ast_as_json().ok()?).ok()?;
    let mut defs: BTreeMap<String, String> = BTreeMap::new();
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for m in ast.as_array()? {
        let file = m["source"]["file"].as_str().unwrap_or("?");
        let module = &m["ast"];
        let package = format!("data.{}", dotted(&module["package"]["refr"])?);
        // `import data.lib.util` makes `util.h(x)` a call of `data.lib.util.h`;
        // `import data.lib.util as u`, of `u.h(x)`.
        let mut aliases: BTreeMap<String, String> = BTreeMap::new();
        for i in module["imports"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let Some(path) = dotted(&i["refr"]) else {
                continue;
            };
            let alias = i["as"]
                .as_str()
                .map(str::to_string)
                .or_else(|| path.rsplit('.').next().map(str::to_string));
            if let Some(a) = alias {
                aliases.insert(a, path);
            }
        }
        for r in module["rules"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let spec = &r["Spec"];
            let Some(func) = spec["head"].get("Func") else {
                continue;
            };
            let Some(name) = dotted(&func["refr"]) else {
                continue;
            };
            let full = format!("{package}.{name}");
            let line = func["span"]["line"].as_u64().unwrap_or(0);
            defs.entry(full.clone()).or_insert(format!("{file}:{line}"));
            let mut found = BTreeSet::new();
            collect_calls(spec, 0, &mut found);
            let resolved = found.into_iter().map(|c| resolve(&c, &package, &aliases));
            calls.entry(full).or_default().extend(resolved);
        }
    }
    // Depth-first, by name: the first function that reaches itself.
    for start in defs.keys() {
        let mut path = vec![start.clone()];
        let mut seen = BTreeSet::new();
        if reaches(start, start, &calls, &defs, &mut path, &mut seen) {
            return Some(Cycle {
                chain: path.join(" -> "),
                at: defs.get(start).cloned().unwrap_or_default(),
            });
        }
    }
    None
}

fn reaches(
    from: &str,
    target: &str,
    calls: &BTreeMap<String, BTreeSet<String>>,
    defs: &BTreeMap<String, String>,
    path: &mut Vec<String>,
    seen: &mut BTreeSet<String>,
) -> bool {
    for next in calls.get(from).into_iter().flatten() {
        if !defs.contains_key(next) {
            continue;
        }
        if next == target {
            path.push(next.clone());
            return true;
        }
        if path.len() < 256 && seen.insert(next.clone()) {
            path.push(next.clone());
            if reaches(next, target, calls, defs, path, seen) {
                return true;
            }
            path.pop();
        }
    }
    false
}

/// A call's full name: `data.x.f` as written, an import alias expanded, else the module's own.
fn resolve(call: &str, package: &str, aliases: &BTreeMap<String, String>) -> String {
    if call.starts_with("data.") {
        return call.to_string();
    }
    let (first, rest) = call.split_once('.').unwrap_or((call, ""));
    match aliases.get(first) {
        Some(path) if !rest.is_empty() => format!("{path}.{rest}"),
        _ => format!("{package}.{call}"),
    }
}

/// The names of every function called below `v`.
fn collect_calls(v: &Value, depth: usize, out: &mut BTreeSet<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    match v {
        Value::Object(o) => {
            if let Some(call) = o.get("Call")
                && let Some(name) = dotted(&call["fcn"])
            {
                out.insert(name);
            }
            for x in o.values() {
                collect_calls(x, depth + 1, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                collect_calls(x, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// `a.b.c` of a `Var` / `RefDot` chain; `None` for anything else (a computed reference).
pub(super) fn dotted(e: &Value) -> Option<String> {
    let mut parts = Vec::new();
    let mut at = e;
    for _ in 0..64 {
        if let Some(v) = at.get("Var") {
            parts.push(v["value"].as_str()?.to_string());
            parts.reverse();
            return Some(parts.join("."));
        }
        let r = at.get("RefDot")?;
        parts.push(r["field"].get(1)?.as_str()?.to_string());
        at = &r["refr"];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(policies: &[(&str, &str)]) -> Option<String> {
        let mut e = regorus::Engine::new();
        for (name, text) in policies {
            e.add_policy((*name).to_string(), (*text).to_string())
                .unwrap();
        }
        find(&e).map(|c| format!("{} at {}", c.chain, c.at))
    }

    #[test]
    fn a_function_that_calls_itself_is_a_cycle() {
        assert_eq!(
            cycle(&[(
                "p.rego",
                "package main\n\nf(x) := y if {\n\ty := f(x + 1)\n}\n"
            )])
            .as_deref(),
            Some("data.main.f -> data.main.f at p.rego:3")
        );
    }

    #[test]
    fn cycles_through_other_functions_and_imports_are_found() {
        let lib = "package lib.util\n\nh(x) := y if {\n\ty := data.main.g(x)\n}\n";
        let main = "package main\n\nimport data.lib.util\n\ng(x) := util.h(x)\n";
        assert_eq!(
            cycle(&[("lib.rego", lib), ("main.rego", main)]).as_deref(),
            Some("data.lib.util.h -> data.main.g -> data.lib.util.h at lib.rego:3")
        );
    }

    #[test]
    fn builtins_and_other_packages_functions_of_the_same_name_are_no_cycle() {
        let a = "package a\n\nf(x) := data.b.f(x)\n\ncount_of(xs) := count(xs)\n";
        let b = "package b\n\nf(x) := x + 1\n";
        assert_eq!(cycle(&[("a.rego", a), ("b.rego", b)]), None);
    }
}
