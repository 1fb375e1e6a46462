//! The `guard` command line: parse arguments, call the library, map the
//! result to an exit status (0 clean, 1 findings at or above --fail-on,
//! 2 usage, configuration or I/O failure).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc: allocation is a quarter of guard's CPU time on real trees
/// (many small nodes built and freed in parallel); measured faster than the
/// system allocator on the corpus.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(all(not(feature = "system-alloc"), target_os = "linux"))]
mod allocator {
    use std::ffi::{c_int, c_long};

    unsafe extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
    }

    /// `mi_option_arena_eager_commit` (mimalloc v3's option 4): 0 commits
    /// arena memory as it is used and gives freed pages back, where the
    /// default keeps them: the corpus peaks at 81 instead of 124 MB, at the
    /// same speed (measured with MIMALLOC_ARENA_EAGER_COMMIT=0).
    const ARENA_EAGER_COMMIT: c_int = 4;

    /// Runs before `main` and before the first allocation, when mimalloc
    /// reserves its first arena (so it allocates nothing itself, and the
    /// environment variable no longer applies).
    extern "C" fn configure() {
        // SAFETY: sets an integer option; no memory is touched.
        unsafe { mi_option_set(ARENA_EAGER_COMMIT, 0) };
    }

    #[used]
    #[unsafe(link_section = ".init_array.00099")]
    static CONFIGURE: extern "C" fn() = configure;
}
use guard::render::{self, Format, RenderOptions};

#[derive(Parser)]
#[command(
    name = "guard",
    version,
    about = "Environment-aware guardrails for Terraform, Kubernetes, compose, ECS, SCPs and workflows",
    after_help = EXIT_STATUS
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The exit statuses, as README's "Exit status" gives them (shown by
/// `guard --help` and `guard check --help`).
const EXIT_STATUS: &str = "Exit status:
  0  no counting finding at or above --fail-on (suppressed and baselined findings do not
     count), or a baseline written (--write-baseline)
  1  at least one counting finding at or above --fail-on
  2  usage, configuration or I/O failure, or nothing was checked (unless --allow-empty)";

#[derive(Subcommand)]
enum Command {
    /// Check files and directories (default: the current directory).
    #[command(after_help = EXIT_STATUS)]
    Check(Box<CheckArgs>),
    /// List every rule: id, name, family, default severity, summary (with
    /// the rules of ./policy and ./policies, or of --policy).
    Rules {
        /// Write the rule catalogue (one Markdown page per rule and an index) to DIR
        /// (built-in rules only, unless --policy is given).
        #[arg(long, value_name = "DIR")]
        docs: Option<PathBuf>,
        /// With --docs: also rewrite the rule table of this README (between
        /// its `rules-table` markers).
        #[arg(long, value_name = "FILE", requires = "docs")]
        readme: Option<PathBuf>,
        /// Rego policies to list the rules of (repeatable).
        #[arg(long, short = 'p', value_name = "DIR")]
        policy: Vec<PathBuf>,
    },
    /// Show the long explanation of one rule, by id or name; or explain the
    /// findings at one place (FILE:LINE[:COLUMN], or a finding's fingerprint):
    /// how the value got there, the environments and why, whether it counts.
    Explain {
        /// Rule id (BO001) or name (mutable-image-tag), a place
        /// (charts/app/values-prod.yaml:4, main.tf:12:3) or a fingerprint.
        #[arg(value_name = "RULE|FILE:LINE[:COL]|FINGERPRINT")]
        rule: String,
        /// `markdown`: a rule's page as it is in rules/; `json`: a place's
        /// findings as data (default: drawn for a terminal).
        #[arg(long, value_enum, default_value = "terminal")]
        format: ExplainFormat,
        /// Rego policies whose rules may be explained (default: ./policy and ./policies).
        #[arg(long, short = 'p', value_name = "DIR")]
        policy: Vec<PathBuf>,
        /// For a place: the configuration file (default: the project root's guard.toml).
        #[arg(long, value_name = "FILE", env = "GUARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Show which environment each file and document was assigned to, and why.
    Envs {
        /// Paths to inspect (default: the current directory).
        paths: Vec<PathBuf>,
        #[arg(long = "exclude", value_name = "GLOB")]
        exclude: Vec<String>,
        /// The configuration file (default: the project root's guard.toml).
        #[arg(long, value_name = "FILE", env = "GUARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Compare what two environments deploy (default: every staging-tier
    /// environment with every prod-tier one): Terraform resources and versions.
    Parity {
        /// A path in the project (default: the current directory).
        path: Option<PathBuf>,
        /// The lower environment (staging).
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// The upper environment (prod).
        #[arg(long, requires = "from")]
        to: Option<String>,
        /// text, markdown (a pull-request comment) or json.
        #[arg(long, value_enum, default_value = "text")]
        format: ParityFormat,
        /// The configuration file (default: the project root's guard.toml).
        #[arg(long, value_name = "FILE", env = "GUARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the effective configuration, and where each value came from.
    Config {
        /// A path in the project (default: the current directory).
        path: Option<PathBuf>,
        /// The configuration file (default: the project root's guard.toml).
        #[arg(long, value_name = "FILE", env = "GUARD_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Run the Rego policies' tests (`test_*` rules), as `opa test` does.
    Test {
        /// Policy directories or files (default: ./policy and ./policies).
        paths: Vec<PathBuf>,
        /// Data for the policies: every JSON/YAML file below DIR (repeatable).
        #[arg(long, value_name = "DIR")]
        data: Vec<PathBuf>,
        /// Run only the tests whose name (`data.main.test_x`) matches REGEX.
        #[arg(long, value_name = "REGEX")]
        run: Option<String>,
        /// Run only the tests of these packages (repeatable; glob patterns such as `main.*`).
        #[arg(long, value_name = "PACKAGE")]
        namespace: Vec<String>,
        /// text or json.
        #[arg(long, value_enum, default_value = "text")]
        format: TestFormat,
        /// Print every test, not only the failures.
        #[arg(long, short)]
        verbose: bool,
        /// Print every test with its evaluation trace (rules entered, statements evaluated
        /// and failed, with file:line), as `conftest verify --trace`.
        #[arg(long)]
        trace: bool,
        /// Parse the policies as this Rego version only, as Conftest's --rego-version.
        #[arg(long, value_enum, value_name = "VERSION")]
        rego_version: Option<guard::rego::RegoVersion>,
    },
    /// Write a commented guard.toml for the project, from what guard detects.
    Init {
        /// The project directory (default: the current directory).
        path: Option<PathBuf>,
        /// Print the file instead of writing it.
        #[arg(long)]
        stdout: bool,
        /// Start a project of its own here even inside another project (a
        /// parent with guard.toml, or a git work tree whose root is above).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ParityFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExplainFormat {
    Terminal,
    Markdown,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Note,
    Never,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files or directories to check.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity (default: guard.toml's `fail-on`, else error).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Colour text output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Skip paths matching GLOB (repeatable), relative to the checked path.
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// Print files, bytes and the time spent in each stage.
    #[arg(long)]
    stats: bool,
    /// The configuration file (default: the project root's guard.toml).
    #[arg(long, value_name = "FILE", env = "GUARD_CONFIG")]
    config: Option<PathBuf>,
    /// Read guard.toml, the --baseline file and the policies from git revision REF (a pull
    /// request's base) instead of the work tree; the files checked are the work tree's, and
    /// their inline suppressions of input-safety (GD) findings are not honoured.
    #[arg(long, value_name = "REF", conflicts_with = "write_baseline")]
    config_from: Option<String>,
    /// Print what the work tree's guard.toml switches off or weakens relative to
    /// --config-from's (else the defaults), one line each, and exit 0 without checking.
    #[arg(long)]
    explain_config: bool,
    /// Check only the paths given, as projects of their own, instead of
    /// reporting the whole project's findings in them.
    #[arg(long)]
    no_project: bool,
    /// Run only these rules (ids, names or families; comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    select: Vec<String>,
    /// Do not run these rules.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    ignore: Vec<String>,
    /// Run these rules in addition to the selection.
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    extend_select: Vec<String>,
    /// Report only findings that hold in this environment (repeatable).
    #[arg(long = "env", value_name = "ENV")]
    env: Vec<String>,
    /// Audit mode: report suppressed findings as if they were not suppressed.
    #[arg(long)]
    no_suppressions: bool,
    /// Leave out the findings recorded in this baseline file (with paths,
    /// only their entries are judged).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file and exit 0 (with
    /// paths, only their entries are replaced; the others are kept).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Exit 0 even when no file was checked.
    #[arg(long)]
    allow_empty: bool,
    /// Print how many findings each rule has instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// Print only the findings: no summary line.
    #[arg(long, short)]
    quiet: bool,
    /// Also write the report as SARIF to FILE (whatever --format is).
    #[arg(long, value_name = "FILE")]
    sarif_file: Option<PathBuf>,
    /// Append a Markdown summary to FILE (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    summary_file: Option<PathBuf>,
    /// `--format github`: at most N annotations, errors first, the rest in one notice (0: all).
    #[arg(long, value_name = "N", default_value_t = 50)]
    max_annotations: usize,
    /// Rego policies: a directory or file (repeatable); replaces guard.toml's
    /// `policies` and the project's `policy/` / `policies/`.
    #[arg(long, short = 'p', value_name = "DIR")]
    policy: Vec<PathBuf>,
    /// Data for the policies: every JSON/YAML file below DIR (repeatable).
    #[arg(long, value_name = "DIR")]
    data: Vec<PathBuf>,
    /// Conftest packages to evaluate per document (repeatable; default `main`).
    #[arg(long, value_name = "PACKAGE")]
    namespace: Vec<String>,
    /// Evaluate every package per document.
    #[arg(long)]
    all_namespaces: bool,
    /// Conftest's --combine: one input, `[{path, contents}]` of every document.
    #[arg(long)]
    combine: bool,
    /// Parse the policies as this Rego version only, as Conftest's --rego-version (default: v1,
    /// else v0 for a file v1 refuses).
    #[arg(long, value_enum, value_name = "VERSION")]
    rego_version: Option<guard::rego::RegoVersion>,
    /// Run no Rego policies.
    #[arg(long, conflicts_with = "policy")]
    no_policies: bool,
    /// Report, as notes, every check a rule could not decide because a value
    /// is not known statically (a data source, a module guard cannot read).
    #[arg(long)]
    strict: bool,
}

/// Write the report to `output` (a file), else to standard output, through
/// one buffer.
fn write_report(
    output: Option<&std::path::Path>,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    match output {
        Some(path) => {
            let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
            write(&mut w)?;
            w.flush()
        }
        None => {
            let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            write(&mut w)?;
            w.flush()
        }
    }
}

fn main() -> ExitCode {
    // Rego evaluation meets errors it turns into "undefined" (OPA's semantics), and each
    // error would capture a stack trace when RUST_BACKTRACE is set: 4.5% of a policy run
    // (callgrind). guard never shows those traces; a panic's still follows RUST_BACKTRACE.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first statement of main, before any thread exists.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Rules {
            docs,
            readme,
            policy,
        } => rules(docs, readme, policy),
        Command::Explain {
            rule,
            format,
            policy,
            config,
        } => explain(&rule, format, policy, config),
        Command::Test {
            paths,
            data,
            run,
            namespace,
            format,
            verbose,
            trace,
            rego_version,
        } => test(
            paths,
            data,
            run,
            namespace,
            format,
            verbose || trace,
            trace,
            rego_version,
        ),
        Command::Envs {
            paths,
            exclude,
            config,
        } => envs(paths, exclude, config),
        Command::Config { path, config } => show_config(path, config),
        Command::Parity {
            path,
            from,
            to,
            format,
            config,
        } => parity(path, from, to, format, config),
        Command::Init {
            path,
            stdout,
            force,
        } => init(path, stdout, force),
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("guard: {msg}");
    ExitCode::from(2)
}

fn check(args: CheckArgs) -> ExitCode {
    let opts = guard::Options {
        paths: args.paths,
        excludes: args.exclude,
        no_project: args.no_project,
        config: args.config,
        select: args.select,
        ignore: args.ignore,
        extend_select: args.extend_select,
        envs: args.env,
        no_suppressions: args.no_suppressions,
        // Writing a baseline records every current finding: one left out by
        // the baseline read (often the same file) would be dropped from it.
        baseline: if args.write_baseline.is_some() {
            None
        } else {
            args.baseline
        },
        config_from: args.config_from,
        policy: args.policy,
        data: args.data,
        namespaces: args.namespace,
        all_namespaces: args.all_namespaces,
        combine: args.combine,
        rego_version: args.rego_version,
        no_policies: args.no_policies,
        strict: args.strict,
        as_root: false,
    };
    if args.explain_config {
        return match guard::explain_config(&opts) {
            Ok((lines, against)) => {
                if lines.is_empty() {
                    println!("guard.toml weakens nothing relative to {against}");
                } else {
                    println!("What guard.toml weakens relative to {against}:");
                    for l in lines {
                        println!("{l}");
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        };
    }
    guard::terraform::build_global_pool();
    let progress = Progress::start();
    let result = guard::check(&opts);
    progress.finish();
    // Never dropped: the process ends right after, and freeing a large
    // model (millions of small allocations) took 7% of a monorepo's run.
    let report = match result {
        Ok(r) => std::mem::ManuallyDrop::new(r),
        Err(e) => return fail(e),
    };
    for path in &report.walk.unchecked_args {
        eprintln!("guard: {path}: not a format guard checks (by its name); skipped");
    }
    for w in &report.warnings {
        eprintln!("guard: warning: {w}");
    }
    if let Some((reference, commit)) = &report.gate {
        let short = commit.get(..12).unwrap_or(commit);
        eprintln!(
            "guard: judged by {reference}'s gate (commit {short}): its guard.toml, baseline and policies"
        );
    }
    if report.files_in_scope == 0 && !args.allow_empty {
        return fail(
            "no file was checked (nothing guard reads is in the paths given, or everything was excluded); \
             a check of nothing is not a pass (--allow-empty accepts it)",
        );
    }
    if let Some(path) = &args.write_baseline {
        // With paths, only their entries are replaced; the rest of an
        // existing baseline is kept as it is.
        let old = if path.exists() {
            match guard::baseline::Baseline::read(path) {
                Ok(b) => b,
                Err(e) => return fail(e),
            }
        } else {
            guard::baseline::Baseline::default()
        };
        let (b, u) = guard::baseline::Baseline::of(&report.findings)
            .update(&old, |uri| report.uri_in_scope(uri));
        if let Err(e) = std::fs::write(path, b.to_text()) {
            return fail(format!("cannot write the baseline {}: {e}", path.display()));
        }
        let added = u.written - u.kept;
        eprintln!(
            "guard: baseline {}: {} written ({added} new, {} kept, {} removed as fixed)",
            path.display(),
            plural_entries(u.written),
            u.kept,
            u.removed
        );
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    if let Some(path) = &args.sarif_file
        && let Err(e) = std::fs::write(path, render::sarif::render(&report))
    {
        return fail(format!("cannot write SARIF to {}: {e}", path.display()));
    }
    if let Some(path) = &args.summary_file {
        use std::io::Write as _;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(render::summary::render(&report).as_bytes()));
        if let Err(e) = appended {
            return fail(format!(
                "cannot write the summary to {}: {e}",
                path.display()
            ));
        }
    }
    // JSON is written as it is serialised: on a monorepo the whole text
    // would be tens of MB held at the run's peak.
    let written = if args.format == Format::Json && !args.statistics {
        write_report(args.output.as_deref(), |w| render::json::write(&report, w))
    } else {
        let text = if args.statistics {
            render::statistics(&report)
        } else {
            render::render(
                args.format,
                &report,
                RenderOptions {
                    color,
                    stats: args.stats,
                    max_annotations: args.max_annotations,
                    quiet: args.quiet,
                },
            )
        };
        write_report(args.output.as_deref(), |w| w.write_all(text.as_bytes()))
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        let target = args.output.as_ref().map_or_else(
            || "standard output".to_string(),
            |p| p.display().to_string(),
        );
        return fail(format!("cannot write the report to {target}: {e}"));
    }
    if args.stats && args.format != Format::Text {
        eprint!("{}", render::text::render_stats(&report));
    }
    let threshold = args
        .fail_on
        .map(|f| match f {
            FailOn::Error => guard::config::FailOn::Error,
            FailOn::Warning => guard::config::FailOn::Warning,
            FailOn::Note => guard::config::FailOn::Note,
            FailOn::Never => guard::config::FailOn::Never,
        })
        .or(report.settings.fail_on.as_ref().map(|f| f.0))
        .unwrap_or(guard::config::FailOn::Error)
        .threshold();
    match (threshold, report.worst()) {
        // Writing a baseline accepts today's findings: not a failure.
        _ if args.write_baseline.is_some() => ExitCode::SUCCESS,
        // Findings past the run's cap were not reported: not a pass.
        (Some(_), _) if !report.over_cap.is_empty() => ExitCode::from(1),
        (Some(t), Some(w)) if w >= t => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn plural_entries(n: usize) -> String {
    if n == 1 {
        "1 entry".to_string()
    } else {
        format!("{n} entries")
    }
}

/// The policy directories `guard rules`, `explain` and `test` use: the
/// ones given, else the project's (guard.toml's `policies`, else its
/// `policy/` and `policies/`).
fn default_policy_dirs(given: Vec<PathBuf>) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given;
    }
    guard::project_policy_dirs(&guard::Options::default()).unwrap_or_default()
}

/// Load the policies' rules into the registry.
fn register_policies(dirs: Vec<PathBuf>) -> Result<(), String> {
    if dirs.is_empty() {
        return Ok(());
    }
    let loaded = guard::rego::Policies::load(&guard::rego::Options {
        dirs,
        all_namespaces: true,
        ..guard::rego::Options::default()
    })
    .map_err(|e| e.0)?;
    if let Some(p) = loaded {
        guard::rules::register(&p.guard_rules());
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn test(
    paths: Vec<PathBuf>,
    data: Vec<PathBuf>,
    run: Option<String>,
    namespace: Vec<String>,
    format: TestFormat,
    verbose: bool,
    trace: bool,
    rego_version: Option<guard::rego::RegoVersion>,
) -> ExitCode {
    let dirs = default_policy_dirs(paths);
    if dirs.is_empty() {
        return fail("no policy directory: give one, or run where ./policy or ./policies is");
    }
    let filter = match run.as_deref().map(regex::Regex::new).transpose() {
        Ok(f) => f,
        Err(e) => return fail(format!("--run: {e}")),
    };
    if trace && !guard::rego::test::TRACE_SUPPORTED {
        eprintln!(
            "guard: --trace needs the regorus patch guard is built with from its repository \
             (this build uses the published crate, e.g. `cargo install guard-iac`); the tests run without a trace"
        );
    }
    let outcomes = match guard::rego::test::run_traced(
        &dirs,
        &data,
        &namespace,
        filter.as_ref(),
        rego_version,
        trace,
    ) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    if outcomes.is_empty() {
        return fail("no test (a rule named test_*) in the policies");
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    match format {
        TestFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&outcomes).unwrap_or_default()
            );
        }
        TestFormat::Text => {
            let mut by_file: std::collections::BTreeMap<&str, Vec<&guard::rego::test::Outcome>> =
                std::collections::BTreeMap::new();
            for o in &outcomes {
                by_file.entry(o.file.as_str()).or_default().push(o);
            }
            for (file, list) in by_file {
                let shown: Vec<_> = list.iter().filter(|o| verbose || !o.passed).collect();
                if shown.is_empty() {
                    continue;
                }
                println!("{file}:");
                for o in shown {
                    let verdict = if o.passed { "PASS" } else { "FAIL" };
                    println!(
                        "  {}: {verdict} ({:.1}ms)",
                        o.name,
                        o.micros as f64 / 1000.0
                    );
                    if let Some(d) = &o.detail {
                        println!("    at {}:{}: {d}", o.file, o.line);
                    }
                    for l in &o.explanation {
                        println!("    {l}");
                    }
                    // As `opa test`: print() output of failed tests, of every test with -v.
                    for l in &o.prints {
                        println!("    print: {l}");
                    }
                    // `--trace`: the test's evaluation, as `conftest verify --trace`.
                    for l in &o.trace {
                        println!("    {l}");
                    }
                }
            }
            println!("{}", "-".repeat(40));
            let passed = outcomes.len() - failed;
            if passed > 0 {
                println!("PASS: {passed}/{}", outcomes.len());
            }
            if failed > 0 {
                println!("FAIL: {failed}/{}", outcomes.len());
            }
        }
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn rules(docs: Option<PathBuf>, readme: Option<PathBuf>, policy: Vec<PathBuf>) -> ExitCode {
    let dirs = if docs.is_some() {
        policy
    } else {
        default_policy_dirs(policy)
    };
    if let Err(e) = register_policies(dirs) {
        return fail(e);
    }
    if let Some(path) = &readme
        && let Err(e) = guard::rules::catalog::write_readme(path)
    {
        return fail(format!("{}: {e}", path.display()));
    }
    if let Some(dir) = docs {
        return match guard::rules::catalog::write(&dir) {
            Ok(n) => {
                println!("wrote {n} files to {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("{}: {e}", dir.display())),
        };
    }
    print!("{}", guard::rules::catalog::table());
    ExitCode::SUCCESS
}

fn explain(
    key: &str,
    format: ExplainFormat,
    policy: Vec<PathBuf>,
    config: Option<PathBuf>,
) -> ExitCode {
    use guard::render::explain::Place;
    let place = Place::parse(key);
    if guard::rules::find(key).is_none()
        && place.is_none()
        && let Err(e) = register_policies(default_policy_dirs(policy.clone()))
    {
        return fail(e);
    }
    let color = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    match (guard::rules::find(key), place) {
        (Some(rule), _) => {
            match format {
                ExplainFormat::Markdown => print!("{}", guard::rules::catalog::page(rule)),
                ExplainFormat::Terminal => {
                    print!("{}", guard::rules::catalog::terminal(rule, color));
                }
                ExplainFormat::Json => {
                    return fail(
                        "--format json explains a place (FILE:LINE or a fingerprint), not a rule",
                    );
                }
            }
            ExitCode::SUCCESS
        }
        (None, Some(place)) => explain_place(key, &place, format, policy, config, color),
        (None, None) => fail(format!(
            "no rule `{key}`; `guard rules` lists them by id and name (a finding's place is FILE:LINE[:COLUMN] or its fingerprint)"
        )),
    }
}

/// `guard explain FILE:LINE[:COL]` / `guard explain FINGERPRINT`: check the
/// project the place is in and explain the findings there.
fn explain_place(
    key: &str,
    place: &guard::render::explain::Place,
    format: ExplainFormat,
    policy: Vec<PathBuf>,
    config: Option<PathBuf>,
    color: bool,
) -> ExitCode {
    use guard::render::explain::{self, Place};
    let (start, file) = match place {
        Place::At { path, .. } => {
            let p = PathBuf::from(path);
            match std::fs::canonicalize(&p) {
                Ok(c) if c.is_file() => {
                    (c.parent().map(PathBuf::from).unwrap_or_default(), Some(c))
                }
                _ => return fail(format!("{path}: no such file")),
            }
        }
        Place::Fingerprint(_) => match std::env::current_dir().and_then(std::fs::canonicalize) {
            Ok(d) => (d, None),
            Err(e) => return fail(format!("the current directory: {e}")),
        },
    };
    let (root, _) = guard::project::find_root(&start);
    let opts = guard::Options {
        paths: vec![root],
        config,
        policy,
        ..guard::Options::default()
    };
    let report = match guard::check(&opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    // The place's file as the report names it (a project-relative URI).
    let uri = match &file {
        Some(f) => {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let found = report.model.sources.files().iter().find(|s| {
                s.uri.rsplit('/').next() == Some(name.as_str())
                    && std::fs::canonicalize(&*s.disk_path).is_ok_and(|d| d == *f)
            });
            match found {
                Some(s) => s.uri.to_string(),
                None => {
                    return fail(format!(
                        "{key}: guard did not read this file (outside the project, excluded, or not a format guard checks)"
                    ));
                }
            }
        }
        None => String::new(),
    };
    let selected = explain::select(&report, place, &uri);
    if selected.is_empty() {
        let lines = explain::lines_with_findings(&report, &uri);
        let more = match place {
            Place::Fingerprint(_) => {
                " (fingerprints are those of `guard check --format json` run in this project)"
                    .to_string()
            }
            Place::At { .. } if lines.is_empty() => " (and none anywhere in this file)".to_string(),
            Place::At { .. } => format!(
                "; this file has findings at line{} {}",
                if lines.len() == 1 { "" } else { "s" },
                lines
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        eprintln!("guard: no finding at {key}{more}");
        return ExitCode::from(1);
    }
    match format {
        ExplainFormat::Json => print!("{}", explain::render_json(&report, &selected)),
        ExplainFormat::Terminal | ExplainFormat::Markdown => {
            print!("{}", explain::render_text(&report, &selected, color))
        }
    }
    ExitCode::SUCCESS
}

fn envs(paths: Vec<PathBuf>, exclude: Vec<String>, config: Option<PathBuf>) -> ExitCode {
    let opts = guard::Options {
        paths,
        excludes: exclude,
        config,
        ..guard::Options::default()
    };
    match guard::load(&opts) {
        Ok(loaded) => {
            print!("{}", guard::render::envs::render(&loaded.model));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn show_config(path: Option<PathBuf>, config: Option<PathBuf>) -> ExitCode {
    let opts = guard::Options {
        paths: path.into_iter().collect(),
        config,
        ..guard::Options::default()
    };
    match guard::load(&opts) {
        Ok(loaded) => {
            print!("{}", guard::init::effective(&loaded));
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

fn init(path: Option<PathBuf>, stdout: bool, force: bool) -> ExitCode {
    let dir = path.unwrap_or_else(|| PathBuf::from("."));
    if !dir.is_dir() {
        return fail(format!("{}: not a directory", dir.display()));
    }
    // Inside a project already: its root is where guard.toml belongs.
    if let Some((root, why)) = enclosing_project(&dir) {
        let msg = format!(
            "{} is inside the project at {} ({why}): guard check there reads the whole \
             project, and its guard.toml belongs at that root; run `guard init {}` \
             (or `guard init --force` to start a project of its own here)",
            dir.display(),
            root.display(),
            root.display()
        );
        if !force && !stdout {
            return fail(msg);
        }
        if !force {
            eprintln!("guard: warning: {msg}");
        }
    }
    if !stdout {
        for name in guard::config::FILE_NAMES {
            if dir.join(name).exists() {
                return fail(format!(
                    "{} already exists; guard init never overwrites a configuration (--stdout prints a new one)",
                    dir.join(name).display()
                ));
            }
        }
    }
    let opts = guard::Options {
        paths: vec![dir.clone()],
        no_project: true,
        as_root: true,
        ..guard::Options::default()
    };
    let loaded = match guard::load(&opts) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let text = guard::init::starter(&loaded);
    if stdout {
        print!("{text}");
        return ExitCode::SUCCESS;
    }
    let target = dir.join("guard.toml");
    match std::fs::write(&target, text) {
        Ok(()) => {
            println!("wrote {}", target.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("cannot write {}: {e}", target.display())),
    }
}

/// The project `dir` is below, when it is not a root itself: the nearest
/// parent with a guard.toml, or the root of the git work tree holding it.
fn enclosing_project(dir: &std::path::Path) -> Option<(PathBuf, &'static str)> {
    let dir = std::fs::canonicalize(dir).ok()?;
    if dir.join(".git").exists() {
        return None;
    }
    let parent = dir.parent()?;
    match guard::project::find_root(parent) {
        (root, guard::project::RootKind::Config(cfg)) => {
            let hidden = cfg.file_name().is_some_and(|n| n == ".guard.toml");
            Some((
                root,
                if hidden {
                    "it holds .guard.toml"
                } else {
                    "it holds guard.toml"
                },
            ))
        }
        (root, guard::project::RootKind::Git) => Some((root, "the git work tree's root")),
        (_, guard::project::RootKind::Path) => None,
    }
}

/// A spinner on standard error for runs longer than a second, only when a
/// person watches: stderr is a terminal and no CI variable is set.
struct Progress {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    fn start() -> Progress {
        use std::sync::atomic::{AtomicBool, Ordering};
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let watching = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let thread = watching.then(|| {
            let done = done.clone();
            std::thread::spawn(move || {
                let started = std::time::Instant::now();
                while started.elapsed() < std::time::Duration::from_secs(1) {
                    if done.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_message("reading the project, evaluating Terraform, checking…");
                while !done.load(Ordering::Relaxed) {
                    bar.tick();
                    std::thread::sleep(std::time::Duration::from_millis(80));
                }
                bar.finish_and_clear();
            })
        });
        Progress { done, thread }
    }

    fn finish(mut self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn parity(
    path: Option<PathBuf>,
    from: Option<String>,
    to: Option<String>,
    format: ParityFormat,
    config: Option<PathBuf>,
) -> ExitCode {
    let opts = guard::Options {
        paths: path.into_iter().collect(),
        config,
        ..guard::Options::default()
    };
    let loaded = match guard::load(&opts) {
        Ok(l) => l,
        Err(e) => return fail(e),
    };
    let m = &loaded.model;
    let tables = match (from, to) {
        (Some(f), Some(t)) => {
            let env = |n: &str| m.envs.named(n).or_else(|| m.envs.word(n));
            let (Some(lower), Some(upper)) = (env(&f), env(&t)) else {
                let names: Vec<&str> = m.envs.all().iter().map(|e| e.as_str()).collect();
                return fail(format!(
                    "no environment `{f}` or `{t}`; the environments are {}",
                    names.join(", ")
                ));
            };
            // As for every pair: Terraform, then what the workloads run.
            let mut t = guard::rules::parity::compare(m, lower, upper);
            t.extend(guard::rules::parity::compare_workloads(m, lower, upper));
            t
        }
        _ => guard::rules::parity::compare_all(m),
    };
    match format {
        ParityFormat::Text => print!("{}", guard::rules::parity::render(&tables, false)),
        ParityFormat::Markdown => print!("{}", guard::rules::parity::render(&tables, true)),
        ParityFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&tables).unwrap_or_default()
            )
        }
    }
    ExitCode::SUCCESS
}
