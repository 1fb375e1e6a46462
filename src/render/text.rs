//! Human output: each finding with its source line and the offending span
//! underlined, its provenance chain, a `help:` line, then a summary.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::RenderOptions;
use crate::Report;
use crate::finding::{Located, Severity};
use crate::source::{LineCol, Location, SourceFile};

struct Styles {
    error: Style,
    warning: Style,
    note: Style,
    bold: Style,
    dim: Style,
    help: Style,
}

impl Styles {
    fn new(color: bool) -> Styles {
        if !color {
            let p = Style::new();
            return Styles {
                error: p,
                warning: p,
                note: p,
                bold: p,
                dim: p,
                help: p,
            };
        }
        Styles {
            error: AnsiColor::Red.on_default().bold(),
            warning: AnsiColor::Yellow.on_default().bold(),
            note: AnsiColor::Cyan.on_default().bold(),
            bold: Style::new().bold(),
            dim: AnsiColor::Blue.on_default().bold(),
            help: AnsiColor::Green.on_default().bold(),
        }
    }

    fn severity(&self, s: Severity) -> Style {
        match s {
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            Severity::Note => self.note,
        }
    }
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

pub fn render(report: &Report, opts: RenderOptions) -> String {
    let st = Styles::new(opts.color);
    let mut out = String::new();
    for f in report.active() {
        finding(&mut out, report, f, &st);
    }
    if !opts.quiet {
        summary(&mut out, report, &st, opts.stats);
    }
    out
}

fn source_of<'a>(report: &'a Report, path: &str) -> Option<&'a SourceFile> {
    report
        .model
        .sources
        .files()
        .iter()
        .find(|s| s.shown == path)
}

fn finding(out: &mut String, report: &Report, f: &Located, st: &Styles) {
    let sev = st.severity(f.severity);
    let _ = writeln!(
        out,
        "{}{} {}",
        paint(sev, &format!("{}[{}]", f.severity.as_str(), f.rule)),
        paint(st.bold, &format!(" {}:", f.name)),
        paint(st.bold, &super::sanitize(&f.message)),
    );
    let width = gutter_width(f);
    let pad = " ".repeat(width);
    let _ = writeln!(
        out,
        "{pad}{} {}:{}:{}",
        paint(st.dim, "-->"),
        super::sanitize(&f.location.path),
        f.location.start.line,
        f.location.start.column
    );
    if let Some(src) = source_of(report, &f.location.path) {
        snippet(
            out,
            src,
            &f.location,
            width,
            sev,
            st,
            None,
            &report.redactions,
        );
    }
    for r in &f.related {
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            paint(st.dim, ":::"),
            super::sanitize(&r.location.path),
            r.location.start.line,
            r.location.start.column
        );
        if let Some(src) = source_of(report, &r.location.path) {
            snippet(
                out,
                src,
                &r.location,
                width,
                st.dim,
                st,
                Some(&super::sanitize(&r.label)),
                &report.redactions,
            );
        }
    }
    if let Some(envs) = f.env_label() {
        let word = if f.envs.len() > 1 {
            "environments"
        } else {
            "environment"
        };
        let _ = writeln!(out, "{pad} {} {word}: {envs}", paint(st.dim, "="));
    }
    if let Some(rule) = crate::rules::find(f.rule) {
        let _ = writeln!(
            out,
            "{pad} {} {}: {} (guard explain {})",
            paint(st.dim, "="),
            paint(st.help, "help"),
            rule.help,
            rule.id
        );
    }
    out.push('\n');
}

fn gutter_width(f: &Located) -> usize {
    let max_line = f
        .related
        .iter()
        .map(|r| r.location.start.line)
        .chain([f.location.start.line])
        .max()
        .unwrap_or(1);
    max_line.to_string().len() + 1
}

/// A line's text with every secret value on it masked: the first four
/// characters of the value are kept (after an opening quote; none when the
/// value began on an earlier line), the rest are `*`, so columns stay where
/// they were and the value is never shown.
fn mask_secrets<'a>(
    src: &'a SourceFile,
    line: u32,
    redactions: &[crate::source::Span],
) -> std::borrow::Cow<'a, str> {
    let text = src.line_text(line);
    let start = src.offset_of(line.saturating_sub(1) as usize, 0);
    let end = start + text.len();
    let lo = redactions.partition_point(|s| s.file < src.id);
    // (first byte on the line, end on the line, bytes of it kept visible)
    let hits: Vec<(usize, usize, usize)> = redactions[lo..]
        .iter()
        .take_while(|s| s.file == src.id)
        .filter(|s| (s.start as usize) < end && (s.end as usize) > start)
        .map(|s| {
            let (a, b) = (
                (s.start as usize).max(start) - start,
                (s.end as usize).min(end) - start,
            );
            let value = &text[a..b];
            let visible = if (s.start as usize) < start {
                0
            } else {
                let quote = usize::from(value.starts_with(['"', '\'']));
                quote
                    + value[quote..]
                        .char_indices()
                        .nth(4)
                        .map_or(value.len() - quote, |(i, _)| i)
            };
            (a, b, visible)
        })
        .collect();
    if hits.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let masked = hits.iter().any(|&(a, b, visible)| {
            let closing_quote =
                i + c.len_utf8() == b && matches!(c, '"' | '\'') && b > a + 1 && visible > 0;
            (a + visible..b).contains(&i) && !closing_quote
        });
        out.push(if masked { '*' } else { c });
    }
    std::borrow::Cow::Owned(out)
}

/// Print the first line of a location with a caret underline.
#[allow(clippy::too_many_arguments)]
fn snippet(
    out: &mut String,
    src: &SourceFile,
    loc: &Location,
    width: usize,
    mark: Style,
    st: &Styles,
    label: Option<&str>,
    redactions: &[crate::source::Span],
) {
    let line = loc.start.line;
    let masked = mask_secrets(src, line, redactions);
    let text: &str = &masked;
    let start_col = loc.start.column.max(1) as usize;
    let end_col = end_column(loc, text);
    // Long lines are shown as a window of SHOWN characters around the span.
    const SHOWN: usize = 200;
    let skip = if start_col > SHOWN - 40 {
        start_col - 40
    } else {
        0
    };
    let mut shown: String = text
        .chars()
        .skip(skip)
        .take(SHOWN)
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    if src.text.is_empty() {
        return; // a file that was not read: nothing to show
    }
    // Control characters would move the caret; they are shown escaped,
    // and the caret placed by the escaped text.
    let escaped = super::sanitize(&shown).into_owned();
    let lead_extra = if escaped.len() != shown.len() {
        let before: String = text
            .chars()
            .skip(skip)
            .take(start_col.saturating_sub(1 + skip))
            .collect();
        super::sanitize(&before).chars().count() - before.chars().count()
    } else {
        0
    };
    shown = escaped;
    let lead = lead_extra
        + if skip > 0 {
            shown.insert(0, '…');
            start_col - skip
        } else {
            start_col - 1
        };
    if text.chars().count() > skip + SHOWN {
        shown.push('…');
    }
    let len = end_col.saturating_sub(start_col).clamp(1, SHOWN);
    let pad = " ".repeat(width);
    let bar = paint(st.dim, "|");
    let _ = writeln!(out, "{pad}{bar}");
    let _ = writeln!(
        out,
        "{}{bar} {shown}",
        paint(st.dim, &format!("{line:<width$}"))
    );
    let carets = "^".repeat(len);
    let label = label.map(|l| format!(" {l}")).unwrap_or_default();
    let _ = writeln!(
        out,
        "{pad}{bar} {}{}",
        " ".repeat(lead),
        paint(mark, &format!("{carets}{label}"))
    );
}

/// Column where the underline ends: the span's end on the same line, or the
/// end of the line for spans that run past it.
fn end_column(loc: &Location, text: &str) -> usize {
    let line_end = text.chars().count() + 1;
    let LineCol { line, column } = loc.end;
    if line == loc.start.line {
        (column as usize).min(line_end.max(loc.start.column as usize + 1))
    } else {
        line_end
    }
}

fn summary(out: &mut String, report: &Report, st: &Styles, stats: bool) {
    let (e, w, n) = (
        report.count(Severity::Error),
        report.count(Severity::Warning),
        report.count(Severity::Note),
    );
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let ms = report.timings.total_micros as f64 / 1000.0;
    let files = report.files_in_scope;
    let head = if e + w + n == 0 {
        paint(st.help, "No findings")
    } else {
        paint(
            st.bold,
            &format!(
                "Found {}, {}, {}",
                plural(e, "error"),
                plural(w, "warning"),
                plural(n, "note")
            ),
        )
    };
    let _ = writeln!(
        out,
        "{head} in {} ({} checked) in {ms:.0} ms",
        plural(files, "file"),
        plural(report.model.docs.len(), "document")
    );
    let suppressed = report.suppressed();
    if suppressed > 0 || report.baselined > 0 || report.baseline_fixed > 0 {
        let mut parts = Vec::new();
        if suppressed > 0 {
            parts.push(format!(
                "{} suppressed (--no-suppressions shows them)",
                plural(suppressed, "finding")
            ));
        }
        if report.baselined > 0 {
            parts.push(format!(
                "{} in the baseline",
                plural(report.baselined, "finding")
            ));
        }
        if report.baseline_fixed > 0 {
            parts.push(format!(
                "{} of the baseline fixed since",
                plural(report.baseline_fixed, "entry").replace("entrys", "entries")
            ));
        }
        let _ = writeln!(out, "{}", parts.join("; "));
    }
    if report.model.stats.templates > 0 {
        let _ = writeln!(
            out,
            "{} not checked: Helm/Go templates are not YAML",
            plural(report.model.stats.templates, "template")
        );
    }
    if stats {
        out.push_str(&render_stats(report));
    }
}

/// The `--stats` block: files, bytes, what was skipped, time per stage.
pub fn render_stats(report: &Report) -> String {
    let mut buf = String::new();
    let out = &mut buf;
    let s = &report.model.stats;
    let t = &report.timings;
    let tf = &report.model.terraform.stats;
    let ms = |us: u128| us as f64 / 1000.0;
    let _ = writeln!(out, "\nstats:");
    let _ = writeln!(
        out,
        "  files           {} ({} bytes), {} documents, {} not a checked format",
        s.files, s.bytes, s.documents, s.unrecognized_documents
    );
    let _ = writeln!(
        out,
        "  skipped         {} over the size limit, {} binary or not UTF-8, {} templates, {} other files",
        report.walk.too_large, s.unreadable, s.templates, report.walk.not_config
    );
    let _ = writeln!(
        out,
        "  terraform       {} roots, {} evaluations, {} module calls, {} modules not evaluated",
        tf.roots, tf.evaluations, tf.module_calls, tf.modules_not_evaluated
    );
    const NOTES_SHOWN: usize = 10;
    let notes = &report.model.terraform.notes;
    for note in notes.iter().take(NOTES_SHOWN) {
        let _ = writeln!(out, "    note: {note}");
    }
    if notes.len() > NOTES_SHOWN {
        let _ = writeln!(out, "    ... and {} more notes", notes.len() - NOTES_SHOWN);
    }
    let _ = writeln!(
        out,
        "  time            discovery {:.1} ms, parsing {:.1} ms, model {:.1} ms, terraform {:.1} ms, rules {:.1} ms, total {:.1} ms",
        ms(t.discover_micros),
        ms(t.parse_micros),
        ms(t.model_micros),
        ms(t.terraform_micros),
        ms(t.rules_micros),
        ms(t.total_micros)
    );
    let _ = writeln!(out, "  threads         {}", rayon::current_num_threads());
    buf
}
