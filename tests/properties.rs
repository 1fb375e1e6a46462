//! Property tests: every span a parser reports maps to a line and column
//! that map back to the same byte, whatever the line endings; and the
//! output is the same bytes on one thread and on two.

use guard::node::Node;
use guard::source::{FileId, SourceFile};
use proptest::prelude::*;

/// Every node of a tree, keys included.
fn nodes(n: &Node, out: &mut Vec<Node>) {
    out.push(n.clone());
    for e in n.entries() {
        nodes(&e.key, out);
        nodes(&e.value, out);
    }
    for i in n.as_seq() {
        nodes(i, out);
    }
}

/// Line and column computed independently of `SourceFile`: `\n`, `\r\n`
/// and a lone `\r` each end a line; columns count characters.
fn expected(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset];
    let b = before.as_bytes();
    let mut line = 1;
    let mut line_start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n') && i + 1 != b.len() + 1) {
            // A CR right before the span start followed (after it) by LF
            // is the first half of a CRLF.
            if c == b'\r' && i + 1 == b.len() && text.as_bytes().get(offset) == Some(&b'\n') {
                continue;
            }
            line += 1;
            line_start = i + 1;
        }
    }
    (line, before[line_start..].chars().count() as u32 + 1)
}

fn check_spans(file: &SourceFile, all: &[Node]) -> Result<(), TestCaseError> {
    let len = file.text.len() as u32;
    for n in all {
        prop_assert!(
            n.span.start <= n.span.end && n.span.end <= len,
            "{:?}",
            n.span
        );
        prop_assert!(file.text.is_char_boundary(n.span.start as usize));
        let lc = file.line_col(n.span.start);
        prop_assert_eq!(
            (lc.line, lc.column),
            expected(&file.text, n.span.start as usize),
            "at byte {}",
            n.span.start
        );
        prop_assert!(lc.line >= 1 && (lc.line as usize) <= file.line_count());
        let back = file.offset_of(lc.line as usize - 1, lc.column as usize - 1);
        prop_assert_eq!(
            back,
            n.span.start as usize,
            "line {} column {}",
            lc.line,
            lc.column
        );
        prop_assert_eq!(file.line_of(n.span.start), lc.line);
    }
    Ok(())
}

fn line_break() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_-]{0,8}",
        "\"[a-zé日本 ]{0,6}\"",
        "[0-9]{1,4}",
        Just("nginx:latest".to_string()),
        Just("true".to_string()),
    ]
}

/// A YAML document: nested mappings and sequences, comments, any line
/// endings (mixed within the file).
fn yaml_doc() -> impl Strategy<Value = String> {
    let line = (0usize..3, scalar(), scalar(), 0usize..4, line_break());
    proptest::collection::vec(line, 1..30).prop_map(|lines| {
        let mut s = String::new();
        let mut depth = 0usize;
        for (step, k, v, shape, br) in lines {
            depth = match step {
                0 => depth.saturating_sub(1),
                1 => depth,
                _ => (depth + 1).min(4),
            };
            let pad = "  ".repeat(depth);
            match shape {
                0 => s.push_str(&format!("{pad}{k}: {v}{br}")),
                1 => s.push_str(&format!("{pad}- {v}{br}")),
                2 => s.push_str(&format!("{pad}# {v}{br}")),
                _ => s.push_str(&format!("{pad}{k}: [{v}, {v}]{br}")),
            }
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn yaml_spans_map_to_lines_and_back(text in yaml_doc()) {
        let file = SourceFile::new(FileId(0), "t.yaml".into(), "t.yaml".into(), text);
        let out = guard::parse::yaml::parse(&file);
        let mut all = Vec::new();
        for d in &out.docs {
            nodes(&d.root, &mut all);
        }
        check_spans(&file, &all)?;
        for d in &out.diags {
            prop_assert!(d.span.end as usize <= file.text.len());
        }
    }

    #[test]
    fn json_spans_map_to_lines_and_back(
        pairs in proptest::collection::vec(("[a-z]{1,6}", scalar(), line_break()), 0..20)
    ) {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v, br)| {
                let v = if v.starts_with('"') || v.parse::<f64>().is_ok() || v == "true" {
                    v.clone()
                } else {
                    format!("\"{v}\"")
                };
                format!("{br}  \"{k}\": {v}")
            })
            .collect();
        let text = format!("{{{}\n}}\n", body.join(","));
        let file = SourceFile::new(FileId(0), "t.json".into(), "t.json".into(), text);
        let out = guard::parse::json::parse_with_diags(&file);
        let mut all = Vec::new();
        if let Some(root) = &out.root {
            nodes(root, &mut all);
        }
        check_spans(&file, &all)?;
    }
}

/// Same tree, one thread or two: the same bytes, in every format.
#[test]
fn output_does_not_depend_on_the_thread_count() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for _ in 0..8 {
        let docs = proptest::collection::vec(yaml_doc(), 3..8)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("guard.toml"), "# a project\n").unwrap();
        for (i, d) in docs.iter().enumerate() {
            let env = ["dev", "staging", "prod"][i % 3];
            let p = dir.path().join(format!("k8s/{env}/f{i}.yaml"));
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            // A real workload in each, so there is something to report.
            let text = format!(
                "{d}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: w{i}\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: app:{}\n",
                if i % 2 == 0 { "latest" } else { env }
            );
            std::fs::write(p, text).unwrap();
        }
        for format in ["text", "json", "sarif", "github"] {
            let run = |threads: &str| {
                std::process::Command::new(env!("CARGO_BIN_EXE_guard"))
                    .args(["check", "--format", format, "--color", "never"])
                    .current_dir(dir.path())
                    .env("RAYON_NUM_THREADS", threads)
                    .output()
                    .unwrap()
                    .stdout
            };
            let strip = |b: Vec<u8>| -> String {
                // The text summary carries the run time.
                String::from_utf8_lossy(&b)
                    .lines()
                    .filter(|l| !l.contains(" ms"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(strip(run("1")), strip(run("2")), "{format}");
        }
    }
}
