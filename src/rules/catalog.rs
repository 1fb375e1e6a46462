//! The rule catalogue: `guard rules`, `guard explain` and the Markdown pages
//! under `rules/`, all generated from the rule definitions.

use std::fmt::Write as _;
use std::path::Path;

use super::{Rule, all};

/// The table `guard rules` prints.
pub fn table() -> String {
    let rules = all();
    let w = rules.iter().map(|r| r.name.len()).max().unwrap_or(4);
    let iw = rules.iter().map(|r| r.id.len()).max().unwrap_or(2);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<iw$}  {:<w$}  {:<10}  {:<8}  SUMMARY",
        "ID", "NAME", "FAMILY", "SEVERITY"
    );
    for r in rules {
        let _ = writeln!(
            out,
            "{:<iw$}  {:<w$}  {:<10}  {:<8}  {}",
            r.id,
            r.name,
            r.family.as_str(),
            r.severity.as_str(),
            r.summary
        );
    }
    out
}

/// One rule's page: what `guard explain` prints and `rules/<ID>.md` holds.
pub fn page(r: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} {}\n", r.id, r.name);
    let _ = writeln!(out, "{}\n", r.summary);
    let _ = writeln!(
        out,
        "- Family: `{}`\n- Default severity: `{}`\n- Tags: {}\n- Fix in one line: {}\n",
        r.family.as_str(),
        r.severity.as_str(),
        r.tags
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(", "),
        r.help
    );
    out.push_str(&label_examples(r.explanation.trim_end()));
    out.push('\n');
    out.push_str(&suppressing(r));
    out
}

/// A page for a terminal: headings and `**bold**` drawn as bold, code
/// blocks indented (dimmed with colour), the Markdown markers gone.
pub fn terminal(r: &Rule, color: bool) -> String {
    use anstyle::{AnsiColor, Style};
    let (bold, dim, bad, good) = if color {
        (
            Style::new().bold(),
            AnsiColor::Cyan.on_default(),
            AnsiColor::Red.on_default().bold(),
            AnsiColor::Green.on_default().bold(),
        )
    } else {
        (Style::new(), Style::new(), Style::new(), Style::new())
    };
    let paint = |s: Style, t: &str| format!("{s}{t}{s:#}");
    let mut out = String::new();
    let mut in_code = false;
    for line in page(r).lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            let _ = writeln!(out, "    {}", paint(dim, line));
            continue;
        }
        if let Some(h) = line.strip_prefix("## ").or_else(|| line.strip_prefix("# ")) {
            let _ = writeln!(out, "{}", paint(bold, h));
            continue;
        }
        match line {
            "Bad:" => {
                let _ = writeln!(out, "{}", paint(bad, "Bad:"));
                continue;
            }
            "Good:" => {
                let _ = writeln!(out, "{}", paint(good, "Good:"));
                continue;
            }
            _ => {}
        }
        // **bold** spans.
        let mut rest = line;
        let mut shown = String::new();
        while let Some(a) = rest.find("**") {
            let Some(b) = rest[a + 2..].find("**") else {
                break;
            };
            shown.push_str(&rest[..a]);
            shown.push_str(&paint(bold, &rest[a + 2..a + 2 + b]));
            rest = &rest[a + 2 + b + 2..];
        }
        shown.push_str(rest);
        let _ = writeln!(out, "{shown}");
    }
    out
}

/// Every explanation ends with a bad and a good example (two code blocks);
/// where their first lines do not already say so, a label is put above each.
fn label_examples(explanation: &str) -> String {
    let lines: Vec<&str> = explanation.lines().collect();
    // Opening fences: a fence line at an even position among fence lines.
    let fences: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("```"))
        .map(|(i, _)| i)
        .collect();
    let openings: Vec<usize> = fences.iter().step_by(2).copied().collect();
    let n = openings.len();
    let mut labels: Vec<(usize, &str)> = Vec::new();
    if n >= 2 {
        for (at, label) in [(openings[n - 2], "bad"), (openings[n - 1], "good")] {
            let first = lines
                .get(at + 1)
                .map_or(String::new(), |l| l.to_ascii_lowercase());
            let before = at
                .checked_sub(1)
                .and_then(|i| lines.get(i))
                .map_or(String::new(), |l| l.to_ascii_lowercase());
            if !first.contains(label) && !before.contains(label) {
                labels.push((at, label));
            }
        }
    }
    let mut out = String::with_capacity(explanation.len() + 32);
    for (i, l) in lines.iter().enumerate() {
        if let Some((_, label)) = labels.iter().find(|(at, _)| *at == i) {
            let _ = writeln!(out, "{}:", if *label == "bad" { "Bad" } else { "Good" });
        }
        out.push_str(l);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// How to silence the rule where its finding is accepted.
fn suppressing(r: &Rule) -> String {
    if r.family == super::Family::Input && r.id >= "GD004" && r.id <= "GD007" {
        return "\n## Suppressing\n\nFindings about suppressions cannot themselves be suppressed: fix the \
                suppression instead. `select`/`ignore` in guard.toml (or `--ignore`) switch the rule off.\n"
            .to_string();
    }
    format!(
        r#"
## Suppressing

Where a finding of this rule is accepted, say so next to it, with the reason (and, for a
temporary exception, an expiry). In YAML, Terraform and Dockerfiles, a comment on the line,
or on the line above a block (which covers the whole block):

```yaml
image: registry.example.com/app  # guard:ignore[{id}] <why this is acceptable> until=2027-01-31
```

In `guard.toml` (the only way for JSON files), by path, and optionally by environment:

```toml
[[ignore]]
path = "path/to/file-or-glob"
rules = ["{id}"]          # or "{name}", or the family "{family}"
reason = "<why this is acceptable>"
until = 2027-01-31
```

To switch the rule off: `ignore = ["{id}"]` in guard.toml, or `--ignore {id}`; to change its
severity: `[rules.{id}] severity = "warning"`. Suppressed findings stay in JSON and SARIF
(as suppressions) and are counted; `--no-suppressions` shows them as if unsuppressed.
"#,
        id = r.id,
        name = r.name,
        family = r.family.as_str()
    )
}

/// `rules/README.md`: the index.
pub fn index() -> String {
    let mut out = String::from(
        "# guard rule catalogue\n\nGenerated by `guard rules --docs rules/` from the rule definitions in `src/rules/`; do not edit by hand (a test fails when a page is stale).\n\n| ID | Name | Family | Severity | Summary |\n|---|---|---|---|---|\n",
    );
    for r in all() {
        let _ = writeln!(
            out,
            "| [{id}]({id}.md) | `{}` | {} | {} | {} |",
            r.name,
            r.family.as_str(),
            r.severity.as_str(),
            r.summary.replace('|', "\\|"),
            id = r.id
        );
    }
    out
}

/// The markers around the generated rule table in the project README.
pub const README_START: &str = "<!-- rules-table: generated by `guard rules --docs rules/ --readme README.md`; do not edit -->";
pub const README_END: &str = "<!-- rules-table end -->";

/// The README's rule table: one row per built-in rule, grouped by family
/// (the family named on its first row), with the rule's summary.
pub fn readme_table() -> String {
    let mut out = String::from("| family | rule | what it finds |\n|---|---|---|\n");
    let mut rules: Vec<&Rule> = super::builtin().to_vec();
    rules.sort_by_key(|r| (r.family, r.id));
    let mut last = None;
    for r in rules {
        let family = (last != Some(r.family)).then(|| r.family.as_str());
        last = Some(r.family);
        let _ = writeln!(
            out,
            "| {} | `{}` {} | {} |",
            family.map(|f| format!("**{f}**")).unwrap_or_default(),
            r.id,
            r.name,
            r.summary.replace('|', "\\|")
        );
    }
    out
}

/// `readme` with the text between [`README_START`] and [`README_END`]
/// replaced by [`readme_table`]; `None` when the markers are missing.
pub fn with_readme_table(readme: &str) -> Option<String> {
    let start = readme.find(README_START)? + README_START.len();
    let end = start + readme[start..].find(README_END)?;
    Some(format!(
        "{}\n\n{}\n{}",
        &readme[..start],
        readme_table(),
        &readme[end..]
    ))
}

/// Rewrite the rule table of the README at `path` (between the markers).
pub fn write_readme(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let new = with_readme_table(&text).ok_or_else(|| {
        format!("no rule table markers (`{README_START}` ... `{README_END}`) in it")
    })?;
    if new != text {
        std::fs::write(path, new).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Every file of the catalogue: (file name, contents).
pub fn files() -> Vec<(String, String)> {
    let mut v = vec![("README.md".to_string(), index())];
    for r in all() {
        v.push((format!("{}.md", r.id), page(r)));
    }
    v
}

/// Write the catalogue into `dir`; returns how many files were written.
pub fn write(dir: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let files = files();
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)?;
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_labels_its_bad_and_good_examples() {
        for r in all() {
            let p = page(r).to_ascii_lowercase();
            assert!(p.contains("bad"), "{}: no bad example labelled", r.id);
            assert!(p.contains("good"), "{}: no good example labelled", r.id);
        }
        let labelled = label_examples("x\n```hcl\na = 1\n```\n```hcl\na = 2\n```");
        assert_eq!(
            labelled,
            "x\nBad:\n```hcl\na = 1\n```\nGood:\n```hcl\na = 2\n```"
        );
    }

    /// The README's rule table must list every built-in rule as the
    /// registry has it.
    #[test]
    fn readme_rule_table_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).expect("README.md");
        let fresh = with_readme_table(&readme).expect("the README has the rule table markers");
        assert!(
            fresh == readme,
            "README.md's rule table is stale; regenerate it with \
             `cargo run -- rules --docs rules/ --readme README.md`"
        );
        for r in super::super::builtin() {
            assert!(
                readme.contains(&format!("`{}` {}", r.id, r.name)),
                "{}",
                r.id
            );
        }
    }

    /// The committed `rules/` folder must match what the code generates.
    #[test]
    fn committed_catalogue_is_current() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let mut stale = Vec::new();
        for (name, text) in files() {
            let on_disk = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
            if on_disk != text {
                stale.push(name);
            }
        }
        let expected: std::collections::BTreeSet<String> =
            files().into_iter().map(|(n, _)| n).collect();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !expected.contains(&name) {
                stale.push(format!("{name} (no such rule)"));
            }
        }
        assert!(
            stale.is_empty(),
            "rules/ is stale ({stale:?}); run `cargo run -- rules --docs rules/`"
        );
    }
}
