use super::parse::*;
use super::suggest::*;
use super::*;
use crate::finding::Severity;

fn known(s: &str) -> bool {
    matches!(
        s,
        "BO001" | "BO002" | "BO003" | "BO010" | "secrets" | "public-bucket"
    )
}

fn ok(text: &str) -> Config {
    match Config::parse(text, &known) {
        Ok(c) => c,
        Err(errors) => panic!("unexpected errors: {errors:#?}"),
    }
}

/// The errors, rendered `line:column: message`.
fn errors(text: &str) -> Vec<String> {
    match Config::parse(text, &known) {
        Ok(c) => panic!("expected errors, parsed {c:#?}"),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    }
}

/// The byte range of the `nth` (0-based) occurrence of `needle`.
fn at(text: &str, needle: &str, nth: usize) -> ByteSpan {
    let start = text
        .match_indices(needle)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} not in the text"));
    start..start + needle.len()
}

/// A string value spanning its quoted occurrence number `nth`.
fn s(text: &str, value: &str, nth: usize) -> Spanned<String> {
    Spanned::new(value.to_owned(), at(text, &format!("{value:?}"), nth))
}

fn values(v: &[Spanned<String>]) -> Vec<&str> {
    v.iter().map(|s| s.value.as_str()).collect()
}

/// The example in this module's documentation.
fn doc_example() -> String {
    let source = include_str!("mod.rs");
    let mut lines = source
        .lines()
        .map_while(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .skip_while(|l| *l != "```toml")
        .skip(1);
    let mut out = String::new();
    for l in lines.by_ref() {
        if l == "```" {
            break;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[test]
fn the_documented_example_is_valid() {
    let text = doc_example();
    assert!(text.contains("[[ignore]]"), "{text}");
    let c = ok(&text);
    assert_eq!(values(&c.select), ["secrets", "BO001"]);
    assert_eq!(values(&c.extend_select), ["BO010"]);
    assert_eq!(c.fail_on.as_ref().map(|f| f.value), Some(FailOn::Warning));
    let names: Vec<&str> = c
        .environments
        .declared
        .iter()
        .map(|d| d.name.value.as_str())
        .collect();
    assert_eq!(names, ["prod", "perf"]);
    assert_eq!(
        c.environments.declared[0].effective_tier(),
        Some(Tier::Prod)
    );
    assert_eq!(c.tier_of("load-test"), Some(Tier::Staging));
    assert_eq!(c.ignores.len(), 1);
    assert_eq!(
        c.limits.max_file_size.as_ref().map(|l| l.value),
        Some(5_000_000)
    );
}

const FULL: &str = r#"select = ["secrets", "BO001"]
ignore = ["BO002"]
extend-select = ["BO010"]
exclude = ["vendor/**"]
fail-on = "never"
policies = ["policies"]

[environments]
defaults = true
order = ["dev", "staging", "prod"]
non-environment-dirs = ["modules"]

[environments.prod]
aliases = ["live"]

[environments.perf]
tier = "staging"
aliases = ["load"]
globs = ["deploy/perf/**"]
var-files = ["envs/perf.tfvars"]
workspaces = ["perf-ws"]
overlays = ["k8s/overlays/perf"]
values = ["values-perf.yaml"]
namespaces = ["app-perf"]

[regions]
allowed = ["us-east-1", "us-gov-west-1"]

[regions.env]
live = ["us-east-1"]

[rules.BO003]
severity = "warning"

[rules.secrets]
severity = "off"

[parity]
pairs = [["staging", "prod"]]
allow = ["aws_db_instance.*.instance_class"]

[limits]
max-file-size = 1_000_000
max-findings-per-file = 50

[[suppress]]
path = "legacy/**"
rules = ["BO001", "secrets"]
environment = "load"
reason = "old"
until = "2027-01-31"

[[suppress]]
rule = "BO003"
until = 2028-02-29
"#;

#[test]
fn a_full_file_parses_into_the_expected_config() {
    let t = FULL;
    let c = ok(t);
    let first_suppress = at(t, "[[suppress]]", 0);
    let second_suppress = at(t, "[[suppress]]", 1);
    let expected = Config {
        text: t.to_owned(),
        environments: Environments {
            defaults: true,
            order: Some(Spanned::new(
                vec![s(t, "dev", 0), s(t, "staging", 0), s(t, "prod", 0)],
                at(t, r#"["dev", "staging", "prod"]"#, 0),
            )),
            declared: vec![
                EnvDecl {
                    aliases: vec![s(t, "live", 0)],
                    ..EnvDecl::new(Spanned::new(
                        "prod".to_owned(),
                        at(t, "prod]", 0).start..at(t, "prod]", 0).end - 1,
                    ))
                },
                EnvDecl {
                    name: Spanned::new(
                        "perf".to_owned(),
                        at(t, "perf]", 0).start..at(t, "perf]", 0).end - 1,
                    ),
                    tier: Some(Spanned::new(Tier::Staging, at(t, "\"staging\"", 1))),
                    aliases: vec![s(t, "load", 0)],
                    globs: vec![s(t, "deploy/perf/**", 0)],
                    var_files: vec![s(t, "envs/perf.tfvars", 0)],
                    workspaces: vec![s(t, "perf-ws", 0)],
                    overlays: vec![s(t, "k8s/overlays/perf", 0)],
                    values: vec![s(t, "values-perf.yaml", 0)],
                    namespaces: vec![s(t, "app-perf", 0)],
                },
            ],
            non_environment_dirs: Some(vec![s(t, "modules", 0)]),
        },
        regions: Regions {
            allowed: Some(vec![s(t, "us-east-1", 0), s(t, "us-gov-west-1", 0)]),
            per_env: vec![(
                Spanned::new(
                    "live".to_owned(),
                    at(t, "live =", 0).start..at(t, "live =", 0).start + 4,
                ),
                vec![s(t, "us-east-1", 1)],
            )],
        },
        select: vec![s(t, "secrets", 0), s(t, "BO001", 0)],
        ignore: vec![s(t, "BO002", 0)],
        extend_select: vec![s(t, "BO010", 0)],
        rules: vec![
            RuleSetting {
                rule: Spanned::new(
                    "BO003".to_owned(),
                    at(t, "BO003]", 0).start..at(t, "BO003]", 0).end - 1,
                ),
                severity: Some(Spanned::new(Severity::Warning, at(t, "\"warning\"", 0))),
                enabled: true,
            },
            RuleSetting {
                rule: Spanned::new(
                    "secrets".to_owned(),
                    at(t, "secrets]", 0).start..at(t, "secrets]", 0).end - 1,
                ),
                severity: None,
                enabled: false,
            },
        ],
        exclude: vec![s(t, "vendor/**", 0)],
        fail_on: Some(Spanned::new(FailOn::Never, at(t, "\"never\"", 0))),
        hardening: Hardening::default(),
        parity: Parity {
            pairs: vec![(s(t, "staging", 2), s(t, "prod", 1))],
            allow: vec![s(t, "aws_db_instance.*.instance_class", 0)],
        },
        policies: Some(vec![s(t, "policies", 0)]),
        ignores: vec![
            IgnoreEntry {
                span: first_suppress.start..at(t, "\"2027-01-31\"", 0).end,
                path: Some(s(t, "legacy/**", 0)),
                rules: vec![s(t, "BO001", 1), s(t, "secrets", 1)],
                environment: Some(s(t, "load", 1)),
                reason: Some(s(t, "old", 0)),
                until: Some(Spanned::new(
                    Date {
                        year: 2027,
                        month: 1,
                        day: 31,
                    },
                    at(t, "\"2027-01-31\"", 0),
                )),
            },
            IgnoreEntry {
                span: second_suppress.start..at(t, "2028-02-29", 0).end,
                path: None,
                rules: vec![s(t, "BO003", 0)],
                environment: None,
                reason: None,
                until: Some(Spanned::new(
                    Date {
                        year: 2028,
                        month: 2,
                        day: 29,
                    },
                    at(t, "2028-02-29", 0),
                )),
            },
        ],
        limits: Limits {
            max_file_size: Some(Spanned::new(1_000_000, at(t, "1_000_000", 0))),
            max_findings_per_file: Some(Spanned::new(50, at(t, "50", 0))),
            max_findings: None,
        },
        derived: Derived::default(),
    };
    assert_eq!(c, expected);
    assert_eq!(&c.text[c.select[1].span.clone()], "\"BO001\"");
    assert_eq!(c.line_col(c.ignores[1].span.start), (53, 1));
    assert_eq!(c.tier_of("live"), Some(Tier::Prod));
    assert_eq!(c.tier_of("perf"), Some(Tier::Staging));
    assert_eq!(c.tier_of("qa"), Some(Tier::Staging));
    assert_eq!(c.tier_of("nowhere"), None);
    assert_eq!(c.resolve_environment("load").as_deref(), Some("perf"));
}

#[test]
fn an_empty_file_is_the_default_config() {
    let c = ok("");
    assert_eq!(c, Config::default());
    assert!(c.environments.defaults);
    let c = ok("# nothing but a comment\n\n");
    assert!(c.select.is_empty() && c.ignores.is_empty() && c.fail_on.is_none());
}

#[test]
fn syntax_errors_are_located() {
    assert_eq!(
        errors("select = [\"BO001\"]\nfail-on = \"error\n"),
        ["2:17: invalid TOML: invalid basic string, expected `\"`"]
    );
    assert_eq!(
        errors("a = 1\nb = \n"),
        ["2:5: invalid TOML: string values must be quoted, expected literal string"]
    );
    // A TOML date that is no date is TOML's error, still located.
    let e = errors("[[ignore]]\nrule = \"BO001\"\nuntil = 2027-02-30\n");
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("3:9: invalid TOML: invalid date"), "{e:?}");
}

#[test]
fn ignore_list_and_ignore_tables_cannot_share_a_file() {
    let e = errors("ignore = [\"BO001\"]\n\n[[ignore]]\nrule = \"BO002\"\n");
    assert_eq!(
        e,
        [
            "3:3: invalid TOML: duplicate key `ignore`; `ignore = [...]` (rules to ignore) \
          and `[[ignore]]` (suppressions) cannot share one file: write the suppressions \
          as `[[suppress]]`"
        ]
    );
    // The supported spelling.
    let c = ok("ignore = [\"BO001\"]\n\n[[suppress]]\nrule = \"BO002\"\n");
    assert_eq!(values(&c.ignore), ["BO001"]);
    assert_eq!(values(&c.ignores[0].rules), ["BO002"]);
}

#[test]
fn ignore_and_suppress_tables() {
    let t = "[[ignore]]\nrule = \"BO001\"\nreason = \"a\"\n\n[[ignore]]\npath = \"x/*.tf\"\nrules = [\"BO002\", \"secrets\"]\n";
    let c = ok(t);
    assert!(c.ignore.is_empty());
    assert_eq!(c.ignores.len(), 2);
    assert_eq!(values(&c.ignores[0].rules), ["BO001"]);
    assert_eq!(c.ignores[0].span, 0..at(t, "\"a\"", 0).end);
    assert_eq!(
        c.ignores[0].reason.as_ref().map(|r| r.value.as_str()),
        Some("a")
    );
    assert_eq!(values(&c.ignores[1].rules), ["BO002", "secrets"]);
    assert_eq!(c.ignores[1].reason, None);
    assert_eq!(
        c.ignores[1].path.as_ref().map(|p| p.value.as_str()),
        Some("x/*.tf")
    );

    let t = "[[suppress]]\nrule = \"BO001\"\n[[suppress]]\nrules = [\"BO003\"]\nrule = \"BO002\"\n";
    let c = ok(t);
    assert_eq!(values(&c.ignores[0].rules), ["BO001"]);
    // `rule` and `rules` together: both, in file order.
    assert_eq!(values(&c.ignores[1].rules), ["BO003", "BO002"]);

    // An array of inline tables is the same thing.
    let c =
        ok("ignore = [{ rule = \"BO001\" }, { rules = [\"BO002\"], environment = \"prod\" }]\n");
    assert_eq!(c.ignores.len(), 2);
    assert_eq!(
        c.ignores[1].environment.as_ref().map(|e| e.value.as_str()),
        Some("prod")
    );
    assert!(c.ignore.is_empty());

    // [[ignore]] and [[suppress]] in one file, merged in file order.
    let c = ok(
        "[[suppress]]\nrule = \"BO001\"\n[[ignore]]\nrule = \"BO002\"\n[[suppress]]\nrule = \"BO003\"\n",
    );
    let rules: Vec<&str> = c
        .ignores
        .iter()
        .map(|i| i.rules[0].value.as_str())
        .collect();
    assert_eq!(rules, ["BO001", "BO002", "BO003"]);
}

#[test]
fn suppression_errors() {
    assert_eq!(
        errors("[[ignore]]\npath = \"a/**\"\n\n[[suppress]]\nrules = []\n"),
        [
            "1:1: [[ignore]] needs `rule = \"ID\"` or `rules = [...]`: the rules it suppresses",
            "5:9: `rules` must name at least one rule",
        ]
    );
    assert_eq!(
        errors(
            "[[ignore]]\nrule = \"BO001\"\nenvironment = \"prdo\"\nreson = \"x\"\nuntil = \"2027-02-30\"\npath = \"a/{b\"\n"
        ),
        [
            "3:15: unknown environment `prdo` (did you mean `prod`?)",
            "4:1: unknown key `reson` in [[ignore]] (did you mean `reason`?)",
            "5:9: `until` must be a date as YYYY-MM-DD, like 2027-01-31; \"2027-02-30\" is not one",
            "6:8: invalid glob `a/{b`: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)",
        ]
    );
    assert_eq!(
        errors("ignore = 3\nsuppress = \"x\"\n"),
        [
            "1:10: `ignore` must be an array of rules to ignore, or [[ignore]] tables of suppressions, found an integer",
            "2:12: `suppress` must be [[suppress]] tables, found a string",
        ]
    );
    assert_eq!(
        errors("until = 1\n[[ignore]]\nrule = \"BO001\"\nuntil = 2027-01-31T10:00:00Z\n"),
        [
            "1:1: unknown key `until` at the top level",
            "4:9: `until` must be a date as YYYY-MM-DD, like 2027-01-31; 2027-01-31T10:00:00Z is not one",
        ]
    );
}

#[test]
fn until_as_string_or_toml_date() {
    let c = ok(
        "[[ignore]]\nrule = \"BO001\"\nuntil = \"2027-01-31\"\n[[ignore]]\nrule = \"BO001\"\nuntil = 2027-01-31\n",
    );
    let d = Date {
        year: 2027,
        month: 1,
        day: 31,
    };
    assert_eq!(c.ignores[0].until.as_ref().map(|u| u.value), Some(d));
    assert_eq!(c.ignores[1].until.as_ref().map(|u| u.value), Some(d));
    assert_eq!(c.ignores[0].until.as_ref().map(|u| u.span.len()), Some(12));
    assert_eq!(c.ignores[1].until.as_ref().map(|u| u.span.len()), Some(10));
}

#[test]
fn dates_are_strict() {
    assert_eq!(
        Date::parse("2027-01-31"),
        Some(Date {
            year: 2027,
            month: 1,
            day: 31
        })
    );
    assert_eq!(
        Date::parse("2028-02-29"),
        Some(Date {
            year: 2028,
            month: 2,
            day: 29
        })
    );
    assert_eq!(
        Date::parse("2000-02-29"),
        Some(Date {
            year: 2000,
            month: 2,
            day: 29
        })
    );
    assert_eq!(Date::parse("2027-02-29"), None);
    assert_eq!(Date::parse("1900-02-29"), None);
    assert_eq!(Date::parse("2027-02-30"), None);
    assert_eq!(Date::parse("2027-04-31"), None);
    assert_eq!(Date::parse("2027-13-01"), None);
    assert_eq!(Date::parse("2027-00-10"), None);
    assert_eq!(Date::parse("2027-01-00"), None);
    assert_eq!(Date::parse("2027-1-31"), None);
    assert_eq!(Date::parse("2027-01-31 "), None);
    assert_eq!(Date::parse("2027/01/31"), None);
    assert_eq!(Date::parse("+027-01-31"), None);
    assert_eq!(Date::parse("２０２7-01-31"), None);
    assert_eq!(Date::parse(""), None);
    assert_eq!(
        Date {
            year: 2027,
            month: 1,
            day: 3
        }
        .to_string(),
        "2027-01-03"
    );
    assert!(Date::parse("2027-01-31") < Date::parse("2027-02-01"));

    let ok_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = \"2028-02-29\"\n";
    assert_eq!(
        ok(ok_leap).ignores[0].until.as_ref().map(|u| u.value.day),
        Some(29)
    );
    let bad_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = \"2027-02-29\"\n";
    assert_eq!(
        errors(bad_leap),
        ["3:9: `until` must be a date as YYYY-MM-DD, like 2027-01-31; \"2027-02-29\" is not one"]
    );
    let toml_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = 2028-02-29\n";
    assert_eq!(
        ok(toml_leap).ignores[0]
            .until
            .as_ref()
            .map(|u| u.value.month),
        Some(2)
    );
    let toml_bad_leap = "[[ignore]]\nrule = \"BO001\"\nuntil = 2027-02-29\n";
    let e = errors(toml_bad_leap);
    assert!(e[0].starts_with("3:9: invalid TOML: invalid date"), "{e:?}");
}

#[test]
fn civil_dates_from_days() {
    assert_eq!(
        Date::from_days(0),
        Date {
            year: 1970,
            month: 1,
            day: 1
        }
    );
    assert_eq!(
        Date::from_days(-1),
        Date {
            year: 1969,
            month: 12,
            day: 31
        }
    );
    assert_eq!(
        Date::from_days(11_016),
        Date {
            year: 2000,
            month: 2,
            day: 29
        }
    );
    assert_eq!(
        Date::from_days(20_454),
        Date {
            year: 2026,
            month: 1,
            day: 1
        }
    );
    assert_eq!(
        Date::from_days(19_782),
        Date {
            year: 2024,
            month: 2,
            day: 29
        }
    );
}

#[test]
fn today_honours_guard_today() {
    // SAFETY: no other test in this crate reads or writes GUARD_TODAY,
    // and no library code reads the environment while unit tests run.
    unsafe { std::env::set_var("GUARD_TODAY", "2031-12-24") };
    let overridden = Date::today();
    unsafe { std::env::set_var("GUARD_TODAY", "2031-02-30") };
    let invalid = Date::today();
    unsafe { std::env::remove_var("GUARD_TODAY") };
    let real = Date::today();
    assert_eq!(
        overridden,
        Date {
            year: 2031,
            month: 12,
            day: 24
        }
    );
    // An invalid override is ignored.
    assert_eq!(invalid, real);
    assert!(
        real >= Date {
            year: 2025,
            month: 1,
            day: 1
        },
        "{real}"
    );
    assert!(Date::new(real.year, real.month, real.day).is_some());
}

#[test]
fn unknown_keys_say_what_was_meant() {
    let t = "exlude = [\"a\"]\nfailon = \"error\"\nfail_on = \"error\"\nFail-On = \"note\"\nzzz = 1\n\n[environments.qa2]\ntier = \"dev\"\nvar_files = [\"x.tfvars\"]\nVALUES = []\n";
    assert_eq!(
        errors(t),
        [
            "1:1: unknown key `exlude` at the top level (did you mean `exclude`?)",
            "2:1: unknown key `failon` at the top level (did you mean `fail-on`?)",
            "3:1: unknown key `fail_on` at the top level (did you mean `fail-on`?)",
            "4:1: unknown key `Fail-On` at the top level (did you mean `fail-on`?)",
            "5:1: unknown key `zzz` at the top level",
            "9:1: unknown key `var_files` in [environments.qa2] (did you mean `var-files`?)",
            "10:1: unknown key `VALUES` in [environments.qa2] (did you mean `values`?)",
        ]
    );
}

#[test]
fn unknown_keys_in_every_table() {
    let t = r#"[environments]
oder = ["dev"]
prod = "x"
[regions]
alowed = ["us-east-1"]
prod = ["us-east-1"]
[rules.BO001]
severty = "note"
[parity]
pair = []
[limits]
max_file_size = 3
[[ignore]]
rule = "BO001"
paht = "x"
"#;
    assert_eq!(
        errors(t),
        [
            "2:1: unknown key `oder` in [environments] (did you mean `order`?)",
            "3:1: unknown key `prod` in [environments] (an environment is declared as a table: [environments.prod])",
            "5:1: unknown key `alowed` in [regions] (did you mean `allowed`?)",
            "6:1: unknown key `prod` in [regions] (regions of one environment go in [regions.env]: prod = [...])",
            "8:1: unknown key `severty` in [rules.BO001] (did you mean `severity`?)",
            "10:1: unknown key `pair` in [parity] (did you mean `pairs`?)",
            "12:1: unknown key `max_file_size` in [limits] (did you mean `max-file-size`?)",
            "15:1: unknown key `paht` in [[ignore]] (did you mean `path`?)",
        ]
    );
}

#[test]
fn wrong_types_are_located_at_the_value() {
    let t = r#"exclude = "vendor"
select = ["BO001", 3]
fail-on = "warn"
policies = [true]
environments = 1
rules = []
parity = { pairs = [["dev"], ["dev", "dev"], "x"], allow = "y" }
limits = { max-file-size = 0, max-findings-per-file = "10" }
"#;
    assert_eq!(
        errors(t),
        [
            "1:11: `exclude` must be an array of strings, found a string",
            "2:20: `select` must be an array of strings, found an integer in it",
            "3:11: `fail-on` must be one of \"error\", \"warning\", \"note\", \"never\"",
            "4:13: `policies` must be an array of strings, found a boolean in it",
            "5:16: `environments` must be a table, found an integer",
            "6:9: `rules` must be a table, found an array",
            "7:21: each entry of `pairs` must be two environment names, like [\"staging\", \"prod\"]",
            "7:30: a pair needs two different environments",
            "7:46: each entry of `pairs` must be two environment names, like [\"staging\", \"prod\"]",
            "7:60: `allow` must be an array of strings, found a string",
            "8:28: `max-file-size` must be a positive integer",
            "8:55: `max-findings-per-file` must be a positive integer",
        ]
    );
    assert_eq!(
        errors("[environments.perf]\ntier = \"production\"\n[environments]\ndefaults = \"no\"\n"),
        [
            "2:8: `tier` must be one of \"dev\", \"staging\", \"prod\"",
            "4:12: `defaults` must be true or false, found a string",
        ]
    );
    assert_eq!(
        errors("[limits]\nmax-file-size = -5\nmax-findings-per-file = 1.5\n"),
        [
            "2:17: `max-file-size` must be a positive integer",
            "3:25: `max-findings-per-file` must be a positive integer",
        ]
    );
    assert_eq!(
        errors("[rules]\nBO001 = \"off\"\n[rules.BO002]\nseverity = \"fatal\"\n"),
        [
            "2:9: `BO001` in [rules] must be a table: [rules.BO001] severity = \"warning\"",
            "4:12: `severity` must be one of \"error\", \"warning\", \"note\", \"off\"",
        ]
    );
}

/// Misspelt rule ids, names and families get the registry's nearest: an
/// id one edit away, a name or family two.
#[test]
fn misspelt_rule_keys_get_a_did_you_mean() {
    let t = "select = [\"BO01\"]\nignore = [\"mutable-image-tg\"]\nextend-select = [\"hardning\"]\n[rules.SEC02]\nseverity = \"note\"\n";
    assert_eq!(
        errors(t),
        [
            "1:11: no rule, rule name or family `BO01` (did you mean `BO001`?); `guard rules` lists them",
            "2:11: no rule, rule name or family `mutable-image-tg` (did you mean `mutable-image-tag`?); `guard rules` lists them",
            "3:18: no rule, rule name or family `hardning` (did you mean `hardening`?); `guard rules` lists them",
            "4:8: no rule, rule name or family `SEC02` (did you mean `SEC002`?); `guard rules` lists them",
        ]
    );
    assert_eq!(rule_key_suggestion("BO999"), "");
}

#[test]
fn unknown_rules() {
    let t = "select = [\"BO001\", \"BO999\"]\nextend-select = [\"secret\"]\nignore = [\"\"]\n[rules.XX1]\nseverity = \"note\"\n[[suppress]]\nrule = \"nope\"\n";
    assert_eq!(
        errors(t),
        [
            "1:20: no rule, rule name or family `BO999`; `guard rules` lists them",
            "2:18: no rule, rule name or family `secret` (did you mean `secrets`?); `guard rules` lists them",
            "3:11: no rule, rule name or family ``; `guard rules` lists them",
            "4:8: no rule, rule name or family `XX1`; `guard rules` lists them",
            "7:8: no rule, rule name or family `nope`; `guard rules` lists them",
        ]
    );
}

#[test]
fn environment_references() {
    let t = r#"[environments]
order = ["dev", "prdo", "live", "dev"]
[environments.prod]
aliases = ["live"]
[regions.env]
stagin = ["us-east-1"]
live = ["eu-west-1"]
[parity]
pairs = [["qa", "zzzzzz"]]
"#;
    assert_eq!(
        errors(t),
        [
            "2:17: unknown environment `prdo` (did you mean `prod`?)",
            "2:33: `dev` is twice in `order`",
            "6:1: unknown environment `stagin` (did you mean `staging`?)",
            "9:17: unknown environment `zzzzzz`; the environments are sandbox, dev, qa, uat, \
             staging, prod (declare others as [environments.NAME])",
        ]
    );
}

#[test]
fn environment_declarations() {
    let t = r#"[environments.Perf]
tier = "dev"
[environments.order]
tier = "dev"
[environments.perf2]
aliases = ["p2"]
[environments.prod]
aliases = ["live", "p2", "staging", "live"]
[environments."a b"]
tier = "prod"
"#;
    assert_eq!(
        errors(t),
        [
            "1:15: environment name `Perf` must be lowercase letters, digits, `-` and `_`, \
             starting with a letter or digit",
            "3:15: `order` is a setting of [environments], not an environment name",
            "5:15: environment `perf2` needs a `tier`: one of \"dev\", \"staging\", \"prod\"",
            "8:20: alias `p2` is already an alias of `perf2`",
            "8:26: alias `staging` is already the name of an environment",
            "8:37: alias `live` is given twice",
            "9:15: environment name `a b` must be lowercase letters, digits, `-` and `_`, \
             starting with a letter or digit",
        ]
    );
    // A declared environment named like an earlier alias.
    assert_eq!(
        errors("[environments.prod]\naliases = [\"live\"]\n[environments.live]\ntier = \"prod\"\n"),
        ["3:15: environment `live` is already an alias of `prod`"]
    );
    // An unknown key in [environments] with a table value is an environment:
    // it needs a tier, and then is fine.
    let c = ok(
        "[environments.perf]\ntier = \"staging\"\n[environments.prod]\naliases = [\"live\", \"prod\"]\n",
    );
    assert_eq!(
        c.environments.declared[0].effective_tier(),
        Some(Tier::Staging)
    );
    assert_eq!(c.environments.declared[1].tier, None);
    assert_eq!(
        c.environments.declared[1].effective_tier(),
        Some(Tier::Prod)
    );
    // Inline tables and dotted keys declare environments too.
    let c = ok("environments = { perf = { tier = \"dev\" } }\n");
    assert_eq!(c.environments.declared[0].name.value, "perf");
    let c = ok("environments.perf.tier = \"prod\"\n");
    assert_eq!(c.tier_of("perf"), Some(Tier::Prod));
}

#[test]
fn environment_names_with_and_without_defaults() {
    let c =
        ok("[environments.perf]\ntier = \"staging\"\n[environments.prod]\naliases = [\"live\"]\n");
    assert_eq!(
        c.environment_names(),
        ["sandbox", "dev", "qa", "uat", "staging", "prod", "perf"]
    );
    let t = "[environments]\ndefaults = false\n[environments.perf]\ntier = \"staging\"\n[environments.prod]\naliases = [\"live\", \"staging\"]\n";
    let c = ok(t);
    assert_eq!(c.environment_names(), ["perf", "prod"]);
    assert_eq!(c.tier_of("staging"), Some(Tier::Prod));
    assert_eq!(c.tier_of("dev"), None);
    // With the defaults off, a default name is unknown unless declared.
    assert_eq!(
        errors("[environments]\ndefaults = false\norder = [\"dev\"]\n"),
        [
            "3:10: unknown environment `dev`; no environment exists: declare one as [environments.NAME]"
        ]
    );
    assert_eq!(
        errors(
            "[environments]\ndefaults = false\norder = [\"dev\", \"perf\"]\n[environments.perf]\ntier = \"dev\"\n"
        ),
        [
            "3:10: unknown environment `dev`; the environments are perf (declare others as [environments.NAME])"
        ]
    );
    assert_eq!(Config::default().environment_names().len(), 6);
}

/// An environment a directory names by region or cell (`envs/prod-eu/`)
/// may be named without declaring it, unless `defaults = false`.
#[test]
fn region_named_environments_need_no_declaration() {
    ok(
        "[regions.env]\nprod-eu = [\"eu-west-1\"]\n[parity]\npairs = [[\"staging-2\", \"prod-us\"]]\n",
    );
    // The environment of `production-eu/` is `prod-eu`.
    assert_eq!(
        errors("[regions.env]\nproduction-eu = [\"eu-west-1\"]\n").len(),
        1
    );
    // Not with the defaults off.
    assert_eq!(
        errors("[environments]\ndefaults = false\n[environments.prod]\n[regions.env]\nprod-eu = [\"eu-west-1\"]\n").len(),
        1
    );
}

#[test]
fn regions_are_shaped_like_aws_regions() {
    for r in [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "us-iso-east-1",
        "us-isob-east-1",
        "cn-north-1",
        "ap-southeast-4",
    ] {
        assert!(is_region(r), "{r}");
    }
    for r in [
        "US-EAST-1",
        "us-east",
        "us-east-12",
        "useast-1",
        "us-isobc-east-1",
        "us--1",
        "u-east-1",
        "us-east-1 ",
        "",
        "us-gov-west-1-1",
        "us-fips-east-1",
    ] {
        assert!(!is_region(r), "{r}");
    }
    assert_eq!(
        errors(
            "[regions]\nallowed = [\"us-east-1\", \"US-EAST-1\"]\n[regions.env]\nprod = [\"eu-west\"]\n"
        ),
        [
            "2:25: `US-EAST-1` is not an AWS region (like \"us-east-1\" or \"us-gov-west-1\")",
            "4:9: `eu-west` is not an AWS region (like \"us-east-1\" or \"us-gov-west-1\")",
        ]
    );
}

#[test]
fn globs_are_checked() {
    assert_eq!(
        errors(
            "exclude = [\"ok/**\", \"a/[b\", \"\"]\n[environments.perf]\ntier = \"dev\"\nglobs = [\"{x\"]\nvar-files = [\"envs/[.tfvars\"]\n"
        ),
        [
            "1:21: invalid glob `a/[b`: unclosed character class; missing ']'",
            "1:29: an empty glob matches nothing",
            "4:10: invalid glob `{x`: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)",
            "5:14: invalid glob `envs/[.tfvars`: unclosed character class; missing ']'",
        ]
    );
}

#[test]
fn errors_are_all_reported_in_file_order_with_char_columns() {
    // `é` is two bytes and one column.
    let t = "# é\npolicies = [\"é\", 1]\n[environments]\norder = [\"nowhere\"]\nexlude = []\n";
    let errs = Config::parse(t, &known).expect_err("invalid");
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(
        rendered,
        [
            "2:18: `policies` must be an array of strings, found an integer in it",
            "4:10: unknown environment `nowhere`; the environments are sandbox, dev, qa, uat, \
             staging, prod (declare others as [environments.NAME])",
            "5:1: unknown key `exlude` in [environments] (an environment is declared as a \
             table: [environments.exlude])",
        ]
    );
    assert_eq!(&t[errs[0].span.clone()], "1");
    assert_eq!(line_col(t, 0), (1, 1));
    assert_eq!(line_col(t, 4), (1, 4));
    assert_eq!(line_col(t, 5), (2, 1));
    assert_eq!(line_col(t, usize::MAX), line_col(t, t.len()));
    // In the middle of a character: that character.
    assert_eq!(line_col("é", 1), (1, 1));
    assert_eq!(line_col("aé", 2), (1, 2));
    assert_eq!(line_col("aé", 3), (1, 3));
}

#[test]
fn levenshtein_and_suggestions() {
    assert_eq!(levenshtein("", "abc"), 3);
    assert_eq!(levenshtein("kitten", "sitting"), 3);
    assert_eq!(levenshtein("exlude", "exclude"), 1);
    assert_eq!(levenshtein("é", "e"), 1);
    assert_eq!(did_you_mean("var_files", ENV_DECL_KEYS), Some("var-files"));
    assert_eq!(did_you_mean("exlude", TOP_KEYS), Some("exclude"));
    assert_eq!(did_you_mean("fail_on", TOP_KEYS), Some("fail-on"));
    assert_eq!(did_you_mean("failon", TOP_KEYS), Some("fail-on"));
    assert_eq!(did_you_mean("xyz", TOP_KEYS), None);
    assert_eq!(did_you_mean("a", &["b"]), None);
}

#[test]
fn find_upward_finds_the_nearest_config() {
    let root = tempfile::tempdir().expect("tempdir");
    let deep = root.path().join("a/b/c");
    std::fs::create_dir_all(&deep).expect("mkdir");
    assert_eq!(
        find_upward(&deep).filter(|p| p.starts_with(root.path())),
        None
    );

    std::fs::write(root.path().join(".guard.toml"), "").expect("write");
    assert_eq!(find_upward(&deep), Some(root.path().join(".guard.toml")));

    std::fs::write(root.path().join("a/guard.toml"), "").expect("write");
    assert_eq!(find_upward(&deep), Some(root.path().join("a/guard.toml")));

    // guard.toml wins over .guard.toml in one directory.
    std::fs::write(root.path().join("a/.guard.toml"), "").expect("write");
    assert_eq!(find_upward(&deep), Some(root.path().join("a/guard.toml")));
    assert_eq!(
        find_upward(&root.path().join("a")),
        Some(root.path().join("a/guard.toml"))
    );

    // `..` is resolved before walking up: `c/..` is `b`, whose parent is `a`.
    std::fs::write(deep.join("guard.toml"), "").expect("write");
    assert_eq!(
        find_upward(&deep.join("..")),
        Some(root.path().join("a/guard.toml"))
    );
    std::fs::remove_file(deep.join("guard.toml")).expect("rm");

    // A directory named guard.toml is not a config file.
    std::fs::create_dir(deep.join("guard.toml")).expect("mkdir");
    assert_eq!(find_upward(&deep), Some(root.path().join("a/guard.toml")));
}

#[test]
fn no_input_panics() {
    let mut inputs: Vec<String> = vec![
        "\u{0}".to_owned(),
        "[".to_owned(),
        "[[".to_owned(),
        "é = 1".to_owned(),
        "\"é\" = 1".to_owned(),
        "[environments.\"\"]\n".to_owned(),
        "[rules.\"\"]\n".to_owned(),
        "ignore = [{}, 1]\n".to_owned(),
        "ignore = [1, {}]\n".to_owned(),
        "suppress = [1]\n".to_owned(),
        "[limits]\nmax-file-size = 99999999999999999999\n".to_owned(),
        "[[ignore]]\nuntil = 00:32:00\n".to_owned(),
        "[[ignore]]\nuntil = 9999-12-31\n".to_owned(),
        "[parity]\npairs = [[1, 2], [], [[\"a\"]]]\n".to_owned(),
        "[regions.env]\n\"\" = [\"\"]\n".to_owned(),
    ];
    let full = format!(
        "{FULL}\n{}",
        doc_example().replace("[[ignore]]", "[[suppress]]")
    );
    inputs.extend(
        full.char_indices()
            .map(|(i, _)| full[..i].to_owned())
            .step_by(7),
    );
    for text in &inputs {
        for result in [Config::parse(text, &known), Config::parse(text, &|_| false)] {
            if let Err(errors) = result {
                assert!(!errors.is_empty());
                for e in errors {
                    assert!(e.span.start <= text.len(), "{e:?} in {text:?}");
                    assert!(e.line >= 1 && e.column >= 1);
                }
            }
        }
    }
}

#[test]
fn hardening_pod_security_profiles_per_tier() {
    let c = ok("[hardening]\npod-security = { prod = \"restricted\", dev = \"off\" }\n");
    let p = c.hardening.pod_security.map(|p| p.value);
    assert_eq!(
        p,
        Some(PodSecurityProfiles {
            dev: PssProfile::Off,
            staging: PssProfile::Baseline,
            prod: PssProfile::Restricted,
        })
    );
    let c = ok("[hardening.pod-security]\nstaging = \"restricted\"\n");
    let p = c.hardening.pod_security.map(|p| p.value.staging);
    assert_eq!(p, Some(PssProfile::Restricted));
    assert_eq!(ok("").hardening.pod_security, None);
    assert!(!ok("").hardening.enabled);
    assert!(ok("[hardening]\n").hardening.enabled);
}

#[test]
fn hardening_errors_are_located() {
    let t =
        "[hardening]\npod-security = { prod = \"strict\", qa = \"baseline\" }\npod-securty = 1\n";
    assert_eq!(
        errors(t),
        [
            "2:25: `prod` must be one of \"restricted\", \"baseline\", \"off\"",
            "2:35: unknown key `qa` in [hardening.pod-security] (the keys are environment tiers: dev, staging, prod)",
            "3:1: unknown key `pod-securty` in [hardening] (did you mean `pod-security`?)",
        ]
    );
    assert_eq!(
        errors("hardening = { pod-security = \"restricted\" }\n"),
        ["1:30: `pod-security` must be a table, found a string"]
    );
}

#[test]
fn hardening_pod_security_version() {
    let v = |t: &str| ok(t).hardening.pod_security_version.map(|v| v.value);
    assert_eq!(v(""), None);
    assert_eq!(
        v("[hardening]\npod-security-version = \"v1.29\"\n"),
        Some(PssVersion::v1(29))
    );
    assert_eq!(
        v("[hardening]\npod-security-version = \"1.0\"\n"),
        Some(PssVersion::v1(0))
    );
    assert_eq!(
        v("[hardening]\npod-security-version = \"latest\"\n"),
        Some(PssVersion::LATEST)
    );
    assert_eq!(PssVersion::default(), PssVersion::LATEST);
    assert_eq!(PssVersion::LATEST.to_string(), "v1.37");
    assert!(PssVersion::v1(35).since(35) && !PssVersion::v1(34).since(35));
    for bad in ["v1.38", "v2.0", "v1.", "v1.x", "1", "v1.29.1", ""] {
        assert_eq!(PssVersion::parse(bad), None, "{bad}");
    }
    assert_eq!(
        errors("[hardening]\npod-security-version = \"v1.99\"\n"),
        [
            "2:24: `pod-security-version` must be \"latest\" or a Kubernetes release from \"v1.0\" to \"v1.37\" (like \"v1.29\"), found \"v1.99\""
        ]
    );
    assert_eq!(
        errors("[hardening]\npod-security-version = 1.29\n"),
        ["2:24: `pod-security-version` must be a string, found a float"]
    );
}

/// The bytes read to locate the errors of `text` (its one index, then at
/// most a block per error), and the errors.
fn bytes_read_locating(text: &str) -> (u64, usize) {
    BYTES_READ.with(|c| c.set(0));
    let n = Config::parse(text, &known).err().map_or(0, |e| e.len());
    (BYTES_READ.with(std::cell::Cell::get), n)
}

#[test]
fn locating_many_errors_reads_the_text_once() {
    // Unknown top-level keys and a select of unknown rules, each an error.
    let file = |n: usize| {
        let mut t = String::from("select = [");
        for i in 0..n {
            t.push_str(&format!("\"XX{i}\", "));
        }
        t.push_str("]\n");
        for i in 0..n {
            t.push_str(&format!("unknown-key-{i} = 1\n"));
        }
        t
    };
    let (small, errors_small) = bytes_read_locating(&file(2_000));
    let (large, errors_large) = bytes_read_locating(&file(4_000));
    assert_eq!((errors_small, errors_large), (4_000, 8_000));
    // Twice the input, about twice the reading (a scan from the start for
    // each error would be four times).
    assert!(
        large <= small * 5 / 2,
        "read {small} bytes for 2,000 keys, {large} for 4,000"
    );
    let len = file(4_000).len() as u64;
    assert!(large <= len + 8_000 * 64, "read {large} bytes of {len}");
}

#[test]
fn suggestions_among_many_environments_have_a_bounded_cost() {
    // Each misspelt environment is within two edits of every declared one:
    // suggesting for each would cost their product.
    let n = 3_000;
    let mut t = String::from("[environments]\norder = [");
    for i in 0..n {
        t.push_str(&format!("\"e{i:04}x\", "));
    }
    t.push_str("]\n");
    for i in 0..n {
        t.push_str(&format!("[environments.e{i:04}]\ntier = \"dev\"\n"));
    }
    CELLS.with(|c| c.set(0));
    let errors = match Config::parse(&t, &known) {
        Ok(_) => panic!("the misspelt environments are errors"),
        Err(e) => e,
    };
    assert_eq!(errors.len(), n);
    let cells = CELLS.with(std::cell::Cell::get);
    assert!(cells <= SUGGESTION_BUDGET, "{cells} cells");
    // The first ones still get their suggestion.
    assert!(
        errors[0].message.contains("did you mean"),
        "{}",
        errors[0].message
    );
}
