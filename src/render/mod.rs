//! Renderers: one file per output format. A renderer reads a finished
//! [`Report`](crate::Report) and never asks a rule anything.

pub mod envs;
pub mod github;
pub mod json;
pub mod sarif;
pub mod text;

use crate::Report;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

/// Options that change what a renderer prints.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    pub color: bool,
    pub stats: bool,
}

/// Text from the scanned files made safe for a terminal or a CI log: control
/// characters (ESC, CR, lone line breaks, C1 controls) and bidirectional
/// overrides are written as `\u{..}` escapes, so that a file can never
/// rewrite what a reader of the output sees. Tabs stay.
pub fn sanitize(s: &str) -> std::borrow::Cow<'_, str> {
    sanitize_keeping(s, &['\t'])
}

/// [`sanitize`], keeping the control characters in `keep` (the GitHub
/// format encodes line breaks itself).
pub fn sanitize_keeping<'a>(s: &'a str, keep: &[char]) -> std::borrow::Cow<'a, str> {
    let unsafe_char = |c: char| {
        (c.is_control() && !keep.contains(&c))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    };
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

pub fn render(format: Format, report: &Report, opts: RenderOptions) -> String {
    match format {
        Format::Text => text::render(report, opts),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Github => github::render(report),
    }
}
