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
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use guard::finding::Severity;
use guard::render::{self, Format, RenderOptions};

#[derive(Parser)]
#[command(
    name = "guard",
    version,
    about = "Environment-aware guardrails for Terraform, Kubernetes, compose, ECS, SCPs and workflows"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check files and directories (default: the current directory).
    Check(CheckArgs),
    /// List every rule: id, name, family, default severity, summary.
    Rules {
        /// Write the rule catalogue (one Markdown page per rule and an index) to DIR.
        #[arg(long, value_name = "DIR")]
        docs: Option<PathBuf>,
    },
    /// Show the long explanation of one rule, by id or name.
    Explain {
        /// Rule id (BO001) or name (mutable-image-tag).
        rule: String,
    },
    /// Show which environment each file and document was assigned to, and why.
    Envs {
        /// Paths to inspect (default: the current directory).
        paths: Vec<PathBuf>,
        #[arg(long = "exclude", value_name = "GLOB")]
        exclude: Vec<String>,
    },
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
    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value = "error")]
    fail_on: FailOn,
    /// Colour text output (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value = "auto")]
    color: ColorChoice,
    /// Skip paths matching GLOB (repeatable), relative to the checked path.
    #[arg(long = "exclude", value_name = "GLOB")]
    exclude: Vec<String>,
    /// Print files, bytes and the time spent in each stage.
    #[arg(long)]
    stats: bool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rules { docs } => rules(docs),
        Command::Explain { rule } => explain(&rule),
        Command::Envs { paths, exclude } => envs(paths, exclude),
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
        ..guard::Options::default()
    };
    let report = match guard::check(&opts) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    for path in &report.walk.unchecked_args {
        eprintln!("guard: {path}: not a format guard checks (by its name); skipped");
    }
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let text = render::render(
        args.format,
        &report,
        RenderOptions {
            color,
            stats: args.stats,
        },
    );
    let written = match &args.output {
        Some(path) => std::fs::write(path, text.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return fail(format!("cannot write the report: {e}"));
    }
    if args.stats && args.format != Format::Text {
        eprint!("{}", render::text::render_stats(&report));
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Note => Some(Severity::Note),
        FailOn::Never => None,
    };
    match (threshold, report.worst()) {
        (Some(t), Some(w)) if w >= t => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

fn rules(docs: Option<PathBuf>) -> ExitCode {
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

fn explain(key: &str) -> ExitCode {
    match guard::rules::find(key) {
        Some(rule) => {
            print!("{}", guard::rules::catalog::page(rule));
            ExitCode::SUCCESS
        }
        None => fail(format!(
            "no rule `{key}`; `guard rules` lists them by id and name"
        )),
    }
}

fn envs(paths: Vec<PathBuf>, exclude: Vec<String>) -> ExitCode {
    let opts = guard::Options {
        paths,
        excludes: exclude,
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
