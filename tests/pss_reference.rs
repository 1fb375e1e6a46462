//! guard's Pod Security Standards controls against reference verdicts.
//!
//! Two sources of cases, judged the same way: a pod fails a profile at a
//! version when guard, run with `[hardening] pod-security-version` set to
//! that version, raises any control of that profile (for restricted: any
//! baseline or restricted control; the extra checks counted with them, such
//! as a read-only root filesystem, are not controls and are left out).
//!
//! - `fixtures/pss/`: our own cases and their expected verdicts
//!   (`expected.tsv`), always run.
//! - The Pod Security Admission project's generated test fixtures
//!   (`testdata/<level>/<version>/{pass,fail}/*.yaml`), a differential
//!   harness: from `GUARD_PSA_FIXTURES` (the `testdata` directory), else
//!   from `../shared/pod-security-admission/testdata` when that copy exists.
//!   Without either it says it skipped, and is not required by
//!   `GUARD_REQUIRE_ALL` (the data is not part of `../shared` then).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use guard::config::PssProfile;

/// The ids of the controls a profile enforces.
fn controls(level: PssProfile) -> Vec<String> {
    guard::rules::pod_security::pss_controls()
        .filter(|(_, l)| *l <= level)
        .map(|(r, _)| r.id.to_string())
        .collect()
}

/// Per file name of `dir`: whether guard fails it at `level` and `version`
/// (with the findings that make it fail).
fn verdicts(dir: &Path, level: PssProfile, version: &str) -> BTreeMap<String, Vec<String>> {
    let cfg_dir = std::env::temp_dir().join(format!(
        "guard-pss-{}-{}-{}",
        std::process::id(),
        level.as_str(),
        version
    ));
    std::fs::create_dir_all(&cfg_dir).expect("a temporary directory");
    let cfg = cfg_dir.join("guard.toml");
    std::fs::write(
        &cfg,
        format!("[hardening]\npod-security-version = \"{version}\"\n"),
    )
    .expect("the configuration is written");
    let report = guard::check(&guard::Options {
        paths: vec![dir.to_path_buf()],
        config: Some(cfg),
        select: controls(level),
        no_project: true,
        ..Default::default()
    })
    .expect("check runs");
    let _ = std::fs::remove_dir_all(&cfg_dir);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &report.findings {
        let name = f
            .location
            .path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        out.entry(name)
            .or_default()
            .push(format!("{} {}", f.rule, f.message));
    }
    out
}

fn yaml_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".yaml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn our_reference_cases_get_their_expected_verdicts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pss");
    let table = std::fs::read_to_string(root.join("expected.tsv")).expect("expected.tsv");
    // (level, version) -> [(file, fails)]
    let mut groups: BTreeMap<(String, String), Vec<(String, bool)>> = BTreeMap::new();
    for (n, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [file, level, version, verdict] = cols[..] else {
            panic!("expected.tsv:{}: four columns expected", n + 1);
        };
        assert!(
            root.join("cases").join(file).is_file(),
            "expected.tsv:{}: no case {file}",
            n + 1
        );
        assert!(matches!(verdict, "pass" | "fail"), "{verdict}");
        groups
            .entry((level.to_string(), version.to_string()))
            .or_default()
            .push((file.to_string(), verdict == "fail"));
    }
    // Every case has at least one expectation.
    let listed: std::collections::BTreeSet<&String> =
        groups.values().flatten().map(|(f, _)| f).collect();
    for f in yaml_files(&root.join("cases")) {
        assert!(listed.contains(&f), "{f} has no expected verdict");
    }
    let mut wrong = Vec::new();
    let mut judged = 0;
    for ((level, version), cases) in &groups {
        let l = PssProfile::parse(level).expect("a level");
        let got = verdicts(&root.join("cases"), l, version);
        for (file, fails) in cases {
            judged += 1;
            let found = got.get(file);
            if found.is_some() != *fails {
                wrong.push(format!(
                    "{file} at {level} {version}: expected {}, guard says {} {found:?}",
                    if *fails { "fail" } else { "pass" },
                    if found.is_some() { "fail" } else { "pass" },
                ));
            }
        }
    }
    assert!(judged >= 40, "only {judged} verdicts checked");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Where the Pod Security Admission fixtures are, and whether they must be.
fn psa_fixtures() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GUARD_PSA_FIXTURES") {
        let p = PathBuf::from(p);
        assert!(
            p.join("baseline").is_dir() && p.join("restricted").is_dir(),
            "GUARD_PSA_FIXTURES={} holds no baseline/ and restricted/",
            p.display()
        );
        return Some(p);
    }
    let shared =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/pod-security-admission/testdata");
    if shared.is_dir() {
        return Some(shared);
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED psa_reference_fixtures: set GUARD_PSA_FIXTURES to Pod Security Admission's \
         test/testdata (or put it at ../shared/pod-security-admission/testdata)"
    );
    None
}

/// `v1.9` < `v1.10`.
fn version_key(v: &str) -> u32 {
    v.strip_prefix("v1.")
        .and_then(|m| m.parse().ok())
        .unwrap_or(u32::MAX)
}

#[test]
fn psa_reference_fixtures() {
    let Some(root) = psa_fixtures() else {
        return;
    };
    let only = std::env::var("GUARD_PSA_VERSIONS").ok();
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    let (mut all, mut agreed) = (0usize, 0usize);
    for level in [PssProfile::Baseline, PssProfile::Restricted] {
        let dir = root.join(level.as_str());
        let mut versions: Vec<String> = std::fs::read_dir(&dir)
            .expect("the level's directory")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|v| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == v)))
            .collect();
        versions.sort_by_key(|v| version_key(v));
        for version in versions {
            let (mut n, mut ok) = (0usize, 0usize);
            for side in ["pass", "fail"] {
                let d = dir.join(&version).join(side);
                let got = verdicts(&d, level, &version);
                for file in yaml_files(&d) {
                    n += 1;
                    let fails = got.get(&file);
                    if fails.is_some() == (side == "fail") {
                        ok += 1;
                    } else {
                        wrong.push(format!(
                            "{}/{version}/{side}/{file}: guard says {} {fails:?}",
                            level.as_str(),
                            if fails.is_some() { "fail" } else { "pass" }
                        ));
                    }
                }
            }
            report.push(format!(
                "{:<10} {version:<6} {ok:>3}/{n:<3} {:.1}%",
                level.as_str(),
                100.0 * ok as f64 / n.max(1) as f64
            ));
            all += n;
            agreed += ok;
        }
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "Pod Security Admission fixtures: {agreed}/{all} agree\n{}",
        report.join("\n")
    );
    assert!(all > 0, "no fixtures under {}", root.display());
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
