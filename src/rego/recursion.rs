//! Recursion between policy functions, refused when the policies load, as OPA's compiler refuses
//! it (`rego_recursion_error`). regorus would follow a function that calls itself until the
//! process's stack overflows, which kills the run without a word; a hostile or mistaken policy
//! must be an error that names the cycle instead.
//!
//! The call graph is read from regorus's AST (`Engine::get_modules`, walked as typed nodes:
//! serialising it to JSON and back cost as much as evaluating a small tree): each function's
//! full name (`data.<package>.<name>`), and the calls in its head and bodies, resolved through
//! the module's package and imports. Only calls to functions the policies define are edges.

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{Expr, Literal, Query, Rule, RuleHead};
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
pub fn find(engine: &mut regorus::Engine) -> Option<Cycle> {
    let mut defs: BTreeMap<String, String> = BTreeMap::new();
    let mut calls: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for module in engine.get_modules().iter() {
        let file = module.package.span.source.file();
        let package = format!("data.{}", dotted_expr(&module.package.refr)?);
        // `import data.lib.util` makes `util.h(x)` a call of `data.lib.util.h`;
        // `import data.lib.util as u`, of `u.h(x)`.
        let mut aliases: BTreeMap<String, String> = BTreeMap::new();
        for i in &module.imports {
            let Some(path) = dotted_expr(&i.refr) else {
                continue;
            };
            let alias = i
                .r#as
                .as_ref()
                .map(|a| a.text().to_string())
                .or_else(|| path.rsplit('.').next().map(str::to_string));
            if let Some(a) = alias {
                aliases.insert(a, path);
            }
        }
        for r in &module.policy {
            let Rule::Spec {
                head:
                    RuleHead::Func {
                        span,
                        refr,
                        args,
                        assign,
                    },
                bodies,
                ..
            } = r.as_ref()
            else {
                continue;
            };
            let Some(name) = dotted_expr(refr) else {
                continue;
            };
            let full = format!("{package}.{name}");
            defs.entry(full.clone())
                .or_insert(format!("{file}:{}", span.line));
            let mut found = BTreeSet::new();
            for a in args {
                expr_calls(a, 0, &mut found);
            }
            if let Some(a) = assign {
                expr_calls(&a.value, 0, &mut found);
            }
            for b in bodies {
                if let Some(a) = &b.assign {
                    expr_calls(&a.value, 0, &mut found);
                }
                query_calls(&b.query, 0, &mut found);
            }
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

/// The names of every function called in `q`'s statements.
fn query_calls(q: &Query, depth: usize, out: &mut BTreeSet<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let d = depth + 1;
    for stmt in &q.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => in_calls(key.as_deref(), value, collection, d, out),
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => expr_calls(expr, d, out),
            Literal::Every { domain, query, .. } => {
                expr_calls(domain, d, out);
                query_calls(query, d, out);
            }
        }
        for w in &stmt.with_mods {
            expr_calls(&w.refr, d, out);
            expr_calls(&w.r#as, d, out);
        }
    }
}

/// The names of every function called in `e`.
fn expr_calls(e: &Expr, depth: usize, out: &mut BTreeSet<String>) {
    if depth > MAX_DEPTH {
        return;
    }
    let d = depth + 1;
    match e {
        Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. }
        | Expr::Var { .. } => {}
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for i in items {
                expr_calls(i, d, out);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, k, v) in fields {
                expr_calls(k, d, out);
                expr_calls(v, d, out);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            expr_calls(term, d, out);
            query_calls(query, d, out);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            expr_calls(key, d, out);
            expr_calls(value, d, out);
            query_calls(query, d, out);
        }
        Expr::Call { fcn, params, .. } => {
            if let Some(name) = dotted_expr(fcn) {
                out.insert(name);
            }
            expr_calls(fcn, d, out);
            for p in params {
                expr_calls(p, d, out);
            }
        }
        Expr::UnaryExpr { expr, .. } => expr_calls(expr, d, out),
        Expr::RefDot { refr, .. } => expr_calls(refr, d, out),
        Expr::RefBrack { refr, index, .. } => {
            expr_calls(refr, d, out);
            expr_calls(index, d, out);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            expr_calls(lhs, d, out);
            expr_calls(rhs, d, out);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => in_calls(key.as_deref(), value, collection, d, out),
    }
}

/// The names of every function called in `key, value in collection` (a membership test or
/// `some ... in`).
fn in_calls(
    key: Option<&Expr>,
    value: &Expr,
    collection: &Expr,
    depth: usize,
    out: &mut BTreeSet<String>,
) {
    if let Some(k) = key {
        expr_calls(k, depth, out);
    }
    expr_calls(value, depth, out);
    expr_calls(collection, depth, out);
}

/// `a.b.c` of a `Var` / `RefDot` chain; `None` for anything else (a computed reference).
fn dotted_expr(e: &Expr) -> Option<String> {
    let mut parts = Vec::new();
    let mut at = e;
    for _ in 0..64 {
        match at {
            Expr::Var { value, .. } => {
                parts.push(value.as_string().ok()?.to_string());
                parts.reverse();
                return Some(parts.join("."));
            }
            Expr::RefDot { refr, field, .. } => {
                parts.push(field.1.as_string().ok()?.to_string());
                at = refr;
            }
            _ => return None,
        }
    }
    None
}

/// [`dotted_expr`] of the JSON form of the AST (`Engine::get_ast_as_json`).
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
        find(&mut e).map(|c| format!("{} at {}", c.chain, c.at))
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
    fn calls_in_comprehensions_every_not_with_and_collections_are_edges() {
        for rule in [
            "f(x) := [y | y := f(x)]",
            "f(x) := {k: 1 | some k in [f(x)]}",
            "f(x) if {\n\tevery v in [x] {\n\t\tf(v)\n\t}\n}",
            "f(x) if {\n\tnot f(x)\n}",
            "f(x) if {\n\tinput.a with input as f(x)\n}",
            "f(x) if {\n\t1 in f(x)\n}",
            "f(x) := {\"k\": [1, f(x)]}",
            "f(x) := y if {\n\ty := -f(x) + 1\n}",
        ] {
            let text = format!("package main\nimport rego.v1\n\n{rule}\n");
            assert_eq!(
                cycle(&[("p.rego", &text)]).as_deref(),
                Some("data.main.f -> data.main.f at p.rego:4"),
                "{rule}"
            );
        }
    }

    #[test]
    fn builtins_and_other_packages_functions_of_the_same_name_are_no_cycle() {
        let a = "package a\n\nf(x) := data.b.f(x)\n\ncount_of(xs) := count(xs)\n";
        let b = "package b\n\nf(x) := x + 1\n";
        assert_eq!(cycle(&[("a.rego", a), ("b.rego", b)]), None);
    }
}
