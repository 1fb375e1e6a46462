//! Human output: each finding with its source line and the offending span
//! underlined, its provenance chain, a `help:` line, then a summary.

use crate::hash::HashMap;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use super::RenderOptions;
use crate::Report;
use crate::finding::{Located, Severity};
use crate::source::{LineCol, Location, SourceFile};

/// The styles of the summary (findings are drawn by annotate-snippets).
struct Styles {
    bold: Style,
    help: Style,
}

impl Styles {
    fn new(color: bool) -> Styles {
        if !color {
            return Styles {
                bold: Style::new(),
                help: Style::new(),
            };
        }
        Styles {
            bold: Style::new().bold(),
            help: AnsiColor::Green.on_default().bold(),
        }
    }
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The files of a report by their path as shown (what locations name).
pub(crate) fn by_shown(report: &Report) -> HashMap<&str, &SourceFile> {
    report
        .model
        .sources
        .files()
        .iter()
        .map(|s| (&*s.shown, s))
        .collect()
}

fn snippet_renderer(color: bool) -> annotate_snippets::Renderer {
    if color {
        annotate_snippets::Renderer::styled()
    } else {
        annotate_snippets::Renderer::plain()
    }
}

pub fn render(report: &Report, opts: RenderOptions) -> String {
    let st = Styles::new(opts.color);
    let renderer = snippet_renderer(opts.color);
    let by_shown = by_shown(report);
    // Drawing a finding is most of this renderer's time (a thousand take
    // tens of milliseconds): drawn in parallel, joined in order.
    use rayon::prelude::*;
    let active: Vec<&Located> = report.active().collect();
    // As Conftest's `stdout` output: the policies' print() lines first, `PRNT` and
    // `file:line: text` (the machine formats leave them out, as Conftest's do).
    let mut prints = String::new();
    for l in report.policies.iter().flat_map(|p| &p.prints) {
        prints.push_str("PRNT  ");
        prints.push_str(&super::sanitize(l));
        prints.push('\n');
    }
    let drawn: Vec<String> = active
        .par_iter()
        .with_min_len(16)
        .map(|f| {
            let mut one = String::new();
            finding(&mut one, report, f, &renderer, &by_shown);
            one
        })
        .collect();
    let mut out = prints;
    out.reserve(drawn.iter().map(String::len).sum::<usize>() + 4096);
    for one in &drawn {
        out.push_str(one);
    }
    drop(drawn);
    if !opts.quiet {
        summary(&mut out, report, &st, opts.stats);
    }
    out
}

/// One finding drawn as [`render`] draws it (`guard explain` of a place).
pub(crate) fn render_one(report: &Report, f: &Located, color: bool) -> String {
    let mut out = String::new();
    finding(
        &mut out,
        report,
        f,
        &snippet_renderer(color),
        &by_shown(report),
    );
    out
}

/// One line of a file as shown: secrets masked, control characters escaped,
/// at most [`SHOWN`] characters around the span; and the span's byte range
/// within that text.
struct Shown {
    text: String,
    span: std::ops::Range<usize>,
}

/// Long lines are shown as a window of this many characters around the span.
const SHOWN: usize = 200;

fn shown_line(src: &SourceFile, loc: &Location, redactions: &[crate::source::Span]) -> Shown {
    let line = loc.start.line;
    let masked = mask_secrets(src, line, redactions);
    let text: &str = &masked;
    let start_col = loc.start.column.max(1) as usize;
    let end_col = end_column(loc, text).max(start_col + 1);
    let skip = start_col.saturating_sub(1).saturating_sub(SHOWN / 5);
    let total = text.chars().count();
    let mut out = String::new();
    if skip > 0 {
        out.push('…');
    }
    let (mut a, mut b) = (None, None);
    for (i, c) in text.chars().skip(skip).take(SHOWN).enumerate() {
        let col = skip + i + 1;
        if col == start_col {
            a = Some(out.len());
        }
        if col == end_col {
            b = Some(out.len());
        }
        let mut buf = [0u8; 4];
        out.push_str(&super::sanitize(c.encode_utf8(&mut buf)));
    }
    let end = out.len();
    if total > skip + SHOWN {
        out.push('…');
    }
    let a = a.unwrap_or(end);
    let b = b.unwrap_or(end).max(a);
    Shown {
        text: out,
        span: a..b,
    }
}

/// A place of a finding as shown: its path, line, text and label.
struct Place {
    path: String,
    /// 0: the file was not read; only the path is shown.
    line: u32,
    shown: Shown,
    label: Option<String>,
    primary: bool,
}

fn finding(
    out: &mut String,
    report: &Report,
    f: &Located,
    renderer: &annotate_snippets::Renderer,
    by_shown: &HashMap<&str, &SourceFile>,
) {
    use annotate_snippets::{AnnotationKind, Group, Level, Snippet};
    let level = match f.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let title = format!("{}: {}", f.name, super::sanitize(&f.message));
    let mut places: Vec<Place> = Vec::new();
    let mut push = |loc: &Location, label: Option<String>, primary: bool| {
        let path = super::sanitize(&loc.path).into_owned();
        match by_shown
            .get(loc.path.as_str())
            .filter(|s| !s.text.is_empty())
        {
            Some(src) => places.push(Place {
                path,
                line: loc.start.line,
                shown: shown_line(src, loc, &report.redactions),
                label,
                primary,
            }),
            None => places.push(Place {
                path: format!("{path}:{}:{}", loc.start.line, loc.start.column),
                line: 0,
                shown: Shown {
                    text: String::new(),
                    span: 0..0,
                },
                label,
                primary,
            }),
        }
    };
    push(&f.location, None, true);
    for r in &f.related {
        push(
            &r.location,
            Some(super::sanitize(&r.label).into_owned()),
            false,
        );
    }
    let mut group = Group::with_title(level.primary_title(title.as_str()).id(f.rule));
    for p in &places {
        let snippet = if p.line == 0 {
            Snippet::source("").path(p.path.as_str())
        } else {
            let kind = if p.primary {
                AnnotationKind::Primary
            } else {
                AnnotationKind::Context
            };
            let mut ann = kind.span(p.shown.span.clone());
            if let Some(l) = &p.label {
                ann = ann.label(l.as_str());
            }
            Snippet::source(p.shown.text.as_str())
                .line_start(p.line as usize)
                .path(p.path.as_str())
                .annotation(ann)
        };
        group = group.element(snippet);
    }
    let env = f.env_label().map(|envs| {
        let word = if f.envs.len() > 1 {
            "environments"
        } else {
            "environment"
        };
        format!("{word}: {envs}")
    });
    let help = crate::rules::find(f.rule).map(|r| format!("{} (guard explain {})", r.help, r.id));
    let mut groups: Vec<Group<'_>> = vec![group];
    if let Some(e) = &env {
        groups.push(Group::with_title(Level::NOTE.secondary_title(e.as_str())));
    }
    if let Some(h) = &help {
        groups.push(Group::with_title(Level::HELP.secondary_title(h.as_str())));
    }
    out.push_str(&renderer.render(&groups));
    out.push_str("\n\n");
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
    use super::plural;
    let ms = report.timings.total_micros as f64 / 1000.0;
    let files = report.files_in_scope;
    let head = match super::found(report) {
        None => paint(st.help, "No findings"),
        Some(found) => paint(st.bold, &found),
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
    let undecided: usize = report.undecided.iter().map(|u| u.count).sum();
    if undecided > 0 {
        let _ = writeln!(
            out,
            "{} could not be decided: a value is not known statically (--strict reports them, --stats says why)",
            plural(undecided, "check")
        );
    }
    for l in [super::limits_line(report), super::over_cap_line(report)]
        .into_iter()
        .flatten()
    {
        let _ = writeln!(out, "{}", paint(st.bold, &l));
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
    let helm = &report.model.helm;
    if !helm.is_empty() {
        let mut charts: Vec<&str> = helm.iter().map(|r| r.chart.as_str()).collect();
        charts.dedup();
        let mut remote: Vec<(&str, &String)> = helm
            .iter()
            .flat_map(|r| r.remote.iter().map(move |m| (r.chart.as_str(), m)))
            .collect();
        remote.sort();
        remote.dedup();
        let _ = writeln!(
            out,
            "  helm            {} charts, {} renderings, {} objects, {} remote dependencies not rendered",
            charts.len(),
            helm.len(),
            helm.iter().map(|r| r.objects).sum::<usize>(),
            remote.len()
        );
    }
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
        "  time            discovery {:.1} ms, parsing {:.1} ms and terraform {:.1} ms side by side, model {:.1} ms (helm {:.1} ms), rules {:.1} ms, total {:.1} ms",
        ms(t.discover_micros),
        ms(t.parse_micros),
        ms(t.terraform_micros),
        ms(t.model_micros),
        ms(s.helm_micros),
        ms(t.rules_micros),
        ms(t.total_micros)
    );
    for u in &report.undecided {
        let _ = writeln!(
            out,
            "  undecided       {} x{}: {} (--strict reports them)",
            u.rule, u.count, u.reason
        );
    }
    if let Some(p) = &report.policies {
        let evals = (p.rules * p.inputs).max(1);
        let _ = writeln!(
            out,
            "  policies        {} rules over {} inputs in {:.1} ms (inputs built in {:.1} ms; {:.1} µs per input, {:.2} µs per rule and input); {} result(s) excepted",
            p.rules,
            p.inputs,
            ms(t.policy_micros),
            ms(p.input_micros),
            t.policy_micros as f64 / p.inputs.max(1) as f64,
            t.policy_micros as f64 / evals as f64,
            p.exceptions
        );
    }
    let _ = writeln!(out, "  threads         {}", rayon::current_num_threads());
    buf
}
