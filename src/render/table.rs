//! A table (`--format table`), the shape of Conftest's `--output table`: one row per finding
//! with its result (`failure` for errors, `warning`, `note`), its place (`file:line:col`), the
//! rule and the message, in the report's order. Columns are padded to their widest cell (in
//! characters); an empty report prints nothing, as Conftest's.

use super::{place, sanitize};
use crate::Report;
use crate::finding::Severity;

pub fn render(report: &Report) -> String {
    let rows: Vec<[String; 4]> = report
        .active()
        .map(|f| {
            let result = match f.severity {
                Severity::Error => "failure",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let mut message = sanitize(&f.message).into_owned();
            if let Some(envs) = f.env_label() {
                message.push_str(&format!(" [{envs}]"));
            }
            [result.to_string(), place(f), f.rule.to_string(), message]
        })
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let header = ["RESULT", "FILE", "RULE", "MESSAGE"].map(str::to_string);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 4]| -> String {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut out = line(&header);
    out.push_str(&format!("|-{}-|\n", rule.join("-|-")));
    for row in &rows {
        out.push_str(&line(row));
    }
    out
}
