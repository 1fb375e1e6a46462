//! Which Terraform workspaces a root selects its settings by, read from
//! its configuration: the keys of maps looked up with
//! `terraform.workspace` (`lookup(local.size, terraform.workspace, ...)`,
//! `local.size[terraform.workspace]`, `var.x[terraform.workspace]`) and the
//! strings compared with it (`terraform.workspace == "prod"`,
//! `contains(["prod", "staging"], terraform.workspace)`).

use std::collections::BTreeSet;
use std::sync::OnceLock;

use hcl_edit::expr::{Expression, ObjectKey};
use regex::Regex;

use super::config::ModuleCfg;

fn patterns() -> &'static [Regex; 4] {
    static P: OnceLock<[Regex; 4]> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).unwrap_or_else(|_| Regex::new("$^").expect("valid"));
        [
            // terraform.workspace == "x", "x" != terraform.workspace. The
            // length bounds (names up to 64, lists up to 512 bytes) are
            // checked on the match: counted repetitions in the pattern
            // made compiling these four cost as much as parsing 100 kB.
            re(r#"terraform\.workspace\s*[!=]=\s*"([^"\\]+)"|"([^"\\]+)"\s*[!=]=\s*terraform\.workspace"#),
            // lookup(local.m, terraform.workspace ...)
            re(r"lookup\(\s*(local|var)\.([A-Za-z_][A-Za-z0-9_-]*)\s*,\s*terraform\.workspace"),
            // local.m[terraform.workspace]
            re(r"(local|var)\.([A-Za-z_][A-Za-z0-9_-]*)\s*\[\s*terraform\.workspace\s*\]"),
            // contains(["a", "b"], terraform.workspace)
            re(r"contains\(\s*\[([^\]]*)\]\s*,\s*terraform\.workspace"),
        ]
    })
}

/// The workspace names `cfg` distinguishes (`default` left out).
pub fn names(cfg: &ModuleCfg<'_>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in &cfg.files {
        let text = f.text.as_str();
        if !text.contains("terraform.workspace") {
            continue;
        }
        // Compiled on the first configuration that names a workspace.
        let [cmp, lookup, index, contains] = patterns();
        for c in cmp.captures_iter(text) {
            if let Some(m) = c.get(1).or_else(|| c.get(2))
                && m.len() <= 64
            {
                out.insert(m.as_str().to_string());
            }
        }
        for c in contains.captures_iter(text) {
            let list = c.get(1).map_or("", |m| m.as_str());
            if list.len() > 512 {
                continue;
            }
            for item in list.split(',') {
                let item = item.trim();
                if let Some(s) = item.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                    out.insert(s.to_string());
                }
            }
        }
        for re in [lookup, index] {
            for c in re.captures_iter(text) {
                let (Some(kind), Some(name)) = (c.get(1), c.get(2)) else {
                    continue;
                };
                let expr = match kind.as_str() {
                    "local" => cfg.locals.get(name.as_str()).map(|l| l.expr),
                    _ => cfg.var(name.as_str()).and_then(|v| v.default),
                };
                if let Some(Expression::Object(o)) = expr {
                    for (k, _) in o.iter() {
                        let key = match k {
                            ObjectKey::Ident(id) => Some(id.as_str().to_string()),
                            ObjectKey::Expression(Expression::String(s)) => {
                                Some(s.as_str().to_string())
                            }
                            ObjectKey::Expression(Expression::Variable(v)) => {
                                Some(v.as_str().to_string())
                            }
                            _ => None,
                        };
                        out.extend(key);
                    }
                }
            }
        }
    }
    out.remove("default");
    out.retain(|n| !n.is_empty());
    out
}
