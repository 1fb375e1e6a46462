//! Every rule has fixtures that fail and fixtures that pass
//! (`fixtures/rules/<ID>/{fail,pass}/`). The failing side must raise the
//! rule, the passing side must not, and the failing side's text output is a
//! reviewed snapshot.

mod common;

use std::path::{Path, PathBuf};

use guard::render::{Format, RenderOptions, render};

fn fixture(id: &str, side: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/rules")
        .join(id)
        .join(side)
}

fn check(dir: &Path) -> guard::Report {
    guard::check(&guard::Options {
        paths: vec![dir.to_path_buf()],
        excludes: vec![],
        ..Default::default()
    })
    .expect("check runs")
}

/// Text output without the run time, which changes from run to run.
fn stable_text(report: &guard::Report) -> String {
    common::untimed(&render(Format::Text, report, RenderOptions::default()))
}

#[test]
fn every_rule_fails_and_passes_its_fixtures() {
    let mut problems = Vec::new();
    for rule in guard::rules::all() {
        let (fail, pass) = (fixture(rule.id, "fail"), fixture(rule.id, "pass"));
        if !fail.is_dir() || !pass.is_dir() {
            problems.push(format!(
                "{}: fixtures/rules/{}/{{fail,pass}} missing",
                rule.id, rule.id
            ));
            continue;
        }
        let failing = check(&fail);
        let hits = failing
            .findings
            .iter()
            .filter(|f| f.rule == rule.id)
            .count();
        if hits == 0 {
            problems.push(format!("{}: the fail fixture raised nothing", rule.id));
        }
        let passing = check(&pass);
        let wrong: Vec<String> = passing
            .findings
            .iter()
            .filter(|f| f.rule == rule.id)
            .map(|f| {
                format!(
                    "{}:{} {}",
                    f.location.path, f.location.start.line, f.message
                )
            })
            .collect();
        if !wrong.is_empty() {
            problems.push(format!("{}: the pass fixture raised {wrong:?}", rule.id));
        }
        insta::assert_snapshot!(format!("{}-fail", rule.id), stable_text(&failing));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
