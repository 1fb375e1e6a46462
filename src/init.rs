//! `guard init` (a commented starter guard.toml from what guard detects)
//! and `guard config` (the effective settings and where each came from).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::Loaded;
use crate::env::Env;
use crate::settings::Origin;

/// What guard detects in a project, for the starter file.
struct Detected {
    /// Environment -> evidence descriptions (counted).
    envs: BTreeMap<Env, BTreeMap<String, usize>>,
    /// Terraform roots: (dir, environment label, var file).
    roots: Vec<(String, String, Option<String>)>,
    /// Regions the SCPs allow, with the policy names.
    regions: BTreeMap<String, BTreeSet<String>>,
}

fn detect(l: &Loaded) -> Detected {
    let m = &l.model;
    let mut envs: BTreeMap<Env, BTreeMap<String, usize>> = BTreeMap::new();
    for f in &m.files {
        if let (Some(e), Some(ev)) = (f.assignment.env, &f.assignment.evidence) {
            *envs.entry(e).or_default().entry(ev.describe()).or_default() += 1;
        }
    }
    for d in &m.docs {
        if let (Some(e), Some(ev)) = (d.assignment.env, &d.assignment.evidence) {
            *envs.entry(e).or_default().entry(ev.describe()).or_default() += 1;
        }
    }
    let roots = m
        .terraform
        .roots
        .iter()
        .map(|r| {
            (
                if r.dir.is_empty() {
                    ".".to_string()
                } else {
                    r.dir.clone()
                },
                r.assignment.label().to_string(),
                r.var_file.clone(),
            )
        })
        .collect();
    let mut regions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in crate::model::scp::region_denies(&m.policies, true) {
        for r in &d.allowed {
            regions
                .entry(r.clone())
                .or_default()
                .insert(d.policy.name.clone());
        }
    }
    Detected {
        envs,
        roots,
        regions,
    }
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
        .collect();
    format!("[{}]", quoted.join(", "))
}

/// A commented guard.toml for the project. Deterministic: the same tree
/// gives the same file.
pub fn starter(l: &Loaded) -> String {
    let d = detect(l);
    let mut o = String::new();
    o.push_str(
        "# guard.toml: guard's configuration for this project, written by `guard init`.\n\
         # Every key is optional; `guard config` prints the effective settings and where\n\
         # each comes from. This directory is the project root: paths below are relative to it.\n\n",
    );
    o.push_str(
        "# Rules: every rule runs by default. Select or ignore by id, name or family\n\
         # (`guard rules` lists them); [rules.ID] changes a rule's severity or turns it off.\n\
         # select = [\"build-once\", \"secrets\", \"public-db\", \"regions\", \"scp\"]\n\
         # ignore = [\"BO001\"]\n\
         # [rules.SEC004]\n\
         # severity = \"note\"\n\n",
    );
    o.push_str(
        "# Paths never checked (globs from the project root).\n# exclude = [\"vendor/**\"]\n\n",
    );
    o.push_str(
        "# The least severe finding that fails `guard check`: error, warning, note or never.\n\
         fail-on = \"error\"\n\n",
    );
    o.push_str("[environments]\n");
    if d.envs.is_empty() {
        o.push_str(
            "# guard found no environment evidence (no env-named directory, file, namespace or\n\
             # var file). Declare yours below, e.g. with `globs`.\n",
        );
    } else {
        o.push_str("# Detected (environment: evidence, number of files and documents):\n");
        for (e, evs) in &d.envs {
            let mut parts: Vec<String> = evs.iter().map(|(ev, n)| format!("{ev} ({n})")).collect();
            if parts.len() > 4 {
                let more = parts.len() - 4;
                parts.truncate(4);
                parts.push(format!("and {more} more"));
            }
            let _ = writeln!(
                o,
                "#   {} (tier {}): {}",
                e.as_str(),
                e.tier(),
                parts.join(", ")
            );
        }
        // Environments found by region or cell in the paths (`prod-eu`) are
        // found again on every run; `order` may only name declared ones.
        let order: Vec<String> = d
            .envs
            .keys()
            .filter(|e| {
                l.model
                    .envs
                    .defs()
                    .iter()
                    .any(|d| d.name == e.as_str() && d.derived_from.is_none())
            })
            .map(|e| e.as_str().to_string())
            .collect();
        if !order.is_empty() {
            let _ = writeln!(o, "order = {}", toml_list(&order));
        }
    }
    let dirs: Vec<String> = l.model.envs.non_env_dirs().to_vec();
    let _ = writeln!(
        o,
        "# Directory names whose contents are never environment evidence (examples/dev/ is\n\
         # an example, not dev):\n# non-environment-dirs = {}",
        toml_list(&dirs)
    );
    if !d.roots.is_empty() {
        o.push_str("#\n# Terraform roots guard evaluates (directory: environment, var file):\n");
        for (dir, env, vf) in d.roots.iter().take(30) {
            let vf = vf.as_deref().map(|v| format!(", {v}")).unwrap_or_default();
            let _ = writeln!(o, "#   {dir}: {env}{vf}");
        }
        if d.roots.len() > 30 {
            let _ = writeln!(o, "#   ... and {} more", d.roots.len() - 30);
        }
    }
    o.push_str(
        "#\n# An environment guard cannot see from names (or a second prod):\n\
         # [environments.prod-eu]\n\
         # tier = \"prod\"                        # dev, staging or prod: what the rules reason about\n\
         # globs = [\"deploy/eu/**\"]             # its files\n\
         # var-files = [\"terraform/eu.tfvars\"]  # its Terraform var files\n\
         # overlays = [\"k8s/overlays/eu\"]       # its Kustomize overlays\n\
         # namespaces = [\"shop-eu\"]             # its Kubernetes namespaces\n\n",
    );
    o.push_str("[regions]\n");
    if d.regions.is_empty() {
        o.push_str(
            "# No SCP here restricts regions. To allow only some (REG001 reports the rest):\n\
             # allowed = [\"ap-northeast-1\", \"ap-southeast-1\"]\n",
        );
    } else {
        o.push_str(
            "# The SCPs here allow (region: policies); guard.toml overrides them when set:\n",
        );
        for (r, ps) in &d.regions {
            let ps: Vec<&str> = ps.iter().map(String::as_str).collect();
            let _ = writeln!(o, "#   {r}: {}", ps.join(", "));
        }
        let list: Vec<String> = d.regions.keys().cloned().collect();
        let _ = writeln!(o, "# allowed = {}", toml_list(&list));
    }
    o.push_str(
        "\n# Accept a finding, with a reason (in YAML, HCL and Dockerfiles a comment does the\n\
         # same: `# guard:ignore[BO001] reason until=2027-01-31`):\n\
         # [[ignore]]\n\
         # path = \"legacy/**\"\n\
         # rules = [\"BO001\"]\n\
         # environment = \"dev\"\n\
         # reason = \"images are retagged by the legacy deploy script\"\n\
         # until = 2027-01-31\n",
    );
    o
}

/// The effective configuration, with where each value came from.
pub fn effective(l: &Loaded) -> String {
    let s = &l.settings;
    let cfg_shown = s.config_path.as_ref().map(|p| {
        l.plan
            .cwd
            .as_ref()
            .and_then(|c| crate::project::rel_path(p, c))
            .unwrap_or_else(|| p.display().to_string())
    });
    let origin = |o: &Origin| o.describe(cfg_shown.as_deref());
    let mut o = String::new();
    let _ = writeln!(
        o,
        "configuration: {}",
        cfg_shown.as_deref().unwrap_or("none (built-in defaults)")
    );
    for r in &l.plan.roots {
        let kind = match &r.kind {
            crate::project::RootKind::Config(_) => "holds the configuration",
            crate::project::RootKind::Git => "git work tree",
            crate::project::RootKind::Path => "the path given",
        };
        let shown = l
            .plan
            .cwd
            .as_ref()
            .and_then(|c| crate::project::rel_path(&r.dir, c))
            .map(|p| if p.is_empty() { ".".to_string() } else { p })
            .unwrap_or_else(|| {
                r.dir
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
            });
        let _ = writeln!(o, "project root: {shown} ({kind})");
    }
    o.push_str("\nenvironments, in promotion order:\n");
    let declared: Vec<&str> = s
        .config
        .as_ref()
        .map(|c| {
            c.environments
                .declared
                .iter()
                .map(|d| d.name.value.as_str())
                .collect()
        })
        .unwrap_or_default();
    for def in l.model.envs.all() {
        let Some(d) = l.model.envs.defs().iter().find(|d| d.name == def.as_str()) else {
            continue;
        };
        let mut extra = Vec::new();
        for (what, v) in [
            ("aliases", &d.aliases),
            ("globs", &d.globs),
            ("var-files", &d.var_files),
            ("workspaces", &d.workspaces),
            ("overlays", &d.overlays),
            ("values", &d.values),
            ("namespaces", &d.namespaces),
        ] {
            if !v.is_empty() {
                extra.push(format!("{what} {}", v.join(", ")));
            }
        }
        let from = if declared.contains(&def.as_str()) {
            cfg_shown.clone().unwrap_or_default()
        } else if let Some(base) = &d.derived_from {
            format!("a directory name: {base} by region or cell")
        } else {
            "default".to_string()
        };
        let _ = writeln!(
            o,
            "  {:<12} tier {:<8} {}  ({from})",
            def.as_str(),
            def.tier().as_str(),
            extra.join("; ")
        );
    }
    let _ = writeln!(
        o,
        "  not evidence: directories named {}",
        l.model.envs.non_env_dirs().join(", ")
    );
    o.push_str("\nrules:\n");
    for r in crate::rules::all() {
        let (on, from) = s
            .enabled
            .get(r.id)
            .cloned()
            .unwrap_or((true, Origin::Default));
        let (sev, sev_from) = s
            .severities
            .get(r.id)
            .map(|(sv, o)| (*sv, Some(o.clone())))
            .unwrap_or((r.severity, None));
        let state = if on { sev.as_str() } else { "off" };
        let why = match (on, sev_from) {
            (true, Some(o)) => origin(&o),
            _ => origin(&from),
        };
        let _ = writeln!(o, "  {:<7} {:<40} {:<8} ({why})", r.id, r.name, state);
    }
    o.push_str("\nexclude:\n");
    if s.excludes.is_empty() {
        o.push_str("  (none)\n");
    }
    for (g, from) in &s.excludes {
        let _ = writeln!(o, "  {g}  ({})", origin(from));
    }
    let (fail, from) = s
        .fail_on
        .as_ref()
        .map(|(f, o)| (f.as_str(), origin(o)))
        .unwrap_or(("error", "default".to_string()));
    let _ = writeln!(o, "\nfail-on: {fail}  ({from})");
    o.push_str("\nallowed regions:\n");
    match &s.regions.global {
        Some((l, _)) => {
            let _ = writeln!(o, "  all environments: {}", l.join(", "));
        }
        None => o.push_str("  all environments: what the SCPs allow\n"),
    }
    for (e, l, _) in &s.regions.per_env {
        let _ = writeln!(o, "  {e}: {}", l.join(", "));
    }
    // The Pod Security Standards the hardening controls follow.
    let hardening = s.config.as_ref().map(|c| (c, &c.hardening));
    let at = |span: &std::ops::Range<usize>| {
        hardening.map_or_else(
            || "default".to_string(),
            |(c, _)| origin(&Origin::Config(c.line_col(span.start).0)),
        )
    };
    let (version, from) = match hardening.and_then(|(_, h)| h.pod_security_version.as_ref()) {
        Some(v) => (v.value, at(&v.span)),
        None => (
            crate::config::PssVersion::LATEST,
            "default: latest".to_string(),
        ),
    };
    let _ = writeln!(
        o,
        "\npod security standards: Kubernetes {version}  ({from})"
    );
    let (profiles, from) = match hardening.and_then(|(_, h)| h.pod_security.as_ref()) {
        Some(p) => (Some(p.value), at(&p.span)),
        None => (None, "default".to_string()),
    };
    match profiles {
        Some(p) => {
            let _ = writeln!(
                o,
                "  profiles: dev {}, staging {}, prod {}  ({from})",
                p.dev.as_str(),
                p.staging.as_str(),
                p.prod.as_str()
            );
        }
        None => {
            let _ = writeln!(o, "  profiles: each rule's own severity per tier  ({from})");
        }
    }
    let n = s.config.as_ref().map_or(0, |c| c.ignores.len());
    let _ = writeln!(o, "\nsuppressions in the configuration: {n}");
    o
}
