//! guard's patch (README.md) must not change what the parser returns: the trees (with spans
//! and decor) or errors of this copy and of the published 0.10.0 must be identical, on every
//! HCL file of guard's repository and on generated strings, heredocs and templates built
//! from the bytes the patch treats specially.

use std::path::{Path, PathBuf};

fn both(text: &str) -> [(String, String); 2] {
    let body = |r: Result<hcl_edit::structure::Body, hcl_edit::parser::Error>| match r {
        Ok(b) => format!("{b:?}"),
        Err(e) => format!("error: {e}"),
    };
    let body_pub = |r: Result<published::structure::Body, published::parser::Error>| match r {
        Ok(b) => format!("{b:?}"),
        Err(e) => format!("error: {e}"),
    };
    let tpl = |r: Result<hcl_edit::template::Template, hcl_edit::parser::Error>| match r {
        Ok(b) => format!("{b:?}"),
        Err(e) => format!("error: {e}"),
    };
    let tpl_pub = |r: Result<published::template::Template, published::parser::Error>| match r {
        Ok(b) => format!("{b:?}"),
        Err(e) => format!("error: {e}"),
    };
    [
        (
            body(hcl_edit::parser::parse_body(text)),
            body_pub(published::parser::parse_body(text)),
        ),
        (
            tpl(hcl_edit::parser::parse_template(text)),
            tpl_pub(published::parser::parse_template(text)),
        ),
    ]
}

fn hcl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if p.is_dir() {
            hcl_files(&p, out);
        } else if [".tf", ".tfvars", ".hcl", ".tpl", ".tftpl"]
            .iter()
            .any(|x| name.ends_with(x))
        {
            out.push(p);
        }
    }
}

#[test]
fn same_trees_on_the_repository_files() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for d in ["fixtures", "tests", "policies"] {
        hcl_files(&repo.join(d), &mut files);
    }
    files.sort();
    assert!(files.len() > 100, "guard's HCL fixtures were not found");
    let mut parsed = 0;
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for (ours, theirs) in both(&text) {
            assert_eq!(ours, theirs, "{}", f.display());
        }
        parsed += 1;
    }
    println!("{parsed} files parse the same");
}

#[test]
fn same_trees_on_generated_strings() {
    let atoms = [
        "$", "%", "{", "}", "$${", "%%{", "${", "%{", "\\", "\\n", "\\\"", "\"", "a", "é", "\n",
        "\r\n", "EOT", "  ", "x}", "~", "if", "for", "endfor", "endif", "var.x", "\\u00e9", "\\u12",
        "\t",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut ok = 0;
    for _ in 0..30_000 {
        let len = (next() % 12) as usize;
        let mut inner = String::new();
        for _ in 0..len {
            inner.push_str(atoms[(next() % atoms.len() as u64) as usize]);
        }
        for text in [
            format!("a = \"{inner}\"\n"),
            format!("a = <<EOT\n{inner}\nEOT\n"),
            format!("a = <<-EOT\n  {inner}\n  EOT\n"),
            format!("b {{\n  c = \"x{inner}\"\n}}\n"),
            inner.clone(),
        ] {
            let [(b, bp), (t, tp)] = both(&text);
            ok += usize::from(!b.starts_with("error"));
            assert_eq!(b, bp, "{text:?}");
            assert_eq!(t, tp, "{text:?}");
        }
    }
    // Most generated inputs parse: the comparison is not only of errors.
    assert!(ok > 50_000, "only {ok} generated bodies parsed");
}

#[test]
fn same_trees_on_generated_bodies() {
    // Identifiers (ASCII, Unicode, with `-`), whitespace, comments and
    // expressions: the paths the patch takes byte by byte.
    let atoms = [
        "a", "b_c", "é", "x-y", "_", "-", "1", "2.5e3", " ", "\t", "\n", "\r\n", "#c\n", "//c\n",
        "/*c*/", "/*", "=", "{", "}", "[", "]", "(", ")", ",", "\"s\"", "\"${a}\"", "var.x", "f(",
        ".", "*", "?", ":", "日本", "aé", "a日", "true", "null", "for", "in", "if", "=>", "...",
        "<<EOT\nx\nEOT\n", "::", "!", "&&", "==", "blk", "\u{a0}", "ä-b",
    ];
    let mut seed: u64 = 0x1234_5678_9abc_def1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut ok = 0;
    for _ in 0..60_000 {
        let len = (next() % 16) as usize;
        let shape = next() % 3;
        let mut text = String::from(match shape {
            0 => "a = ",
            1 => "blk \"l\" {\n  x = ",
            _ => "",
        });
        for _ in 0..len {
            text.push_str(atoms[(next() % atoms.len() as u64) as usize]);
        }
        if shape == 1 {
            text.push_str("\n}\n");
        }
        let [(b, bp), _] = both(&text);
        ok += usize::from(!b.starts_with("error"));
        assert_eq!(b, bp, "{text:?}");
        let e = match hcl_edit::parser::parse_expr(&text) {
            Ok(x) => format!("{x:?}"),
            Err(e) => format!("error: {e}"),
        };
        let ep = match published::parser::parse_expr(&text) {
            Ok(x) => format!("{x:?}"),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(e, ep, "{text:?}");
    }
    assert!(ok > 1_000, "only {ok} generated bodies parsed");
}

