use std::rc::Rc;

use super::*;
use crate::source::FileId;

fn parsed(text: &str) -> Parsed {
    parse(Rc::new(Source {
        name: "t".into(),
        file: FileId(0),
        text: text.into(),
        fixed: None,
    }))
    .expect("parses")
}

#[test]
fn text_ranges_are_after_trimming() {
    let p = parsed("a \n{{- 1 -}}\n b");
    let Item::Text(a) = &p.body[0] else { panic!() };
    let Item::Text(b) = &p.body[2] else { panic!() };
    assert_eq!((*a, *b), ((0, 1), (14, 15)));
    let Item::Action { at, .. } = &p.body[1] else {
        panic!()
    };
    assert_eq!(*at, (3, 12));
}

#[test]
fn field_chains_stop_at_spaces() {
    let p = parsed("{{ f .a.b .c $x.y (.d).e }}");
    let Item::Action { pipe, .. } = &p.body[0] else {
        panic!()
    };
    let args = &pipe.cmds[0].args;
    assert!(matches!(&args[0], Term::Func(f, _) if f == "f"));
    assert!(matches!(&args[1], Term::Field(v, _) if v == &["a", "b"]));
    assert!(matches!(&args[2], Term::Field(v, _) if v == &["c"]));
    assert!(matches!(&args[3], Term::Var(n, v, _) if n == "$x" && v == &["y"]));
    assert!(matches!(&args[4], Term::Sub(_, v) if v == &["e"]));
}

#[test]
fn defines_are_collected_and_blocks_call_themselves() {
    let p = parsed("{{ define \"a\" }}A{{ end }}{{ block \"b\" . }}B{{ end }}");
    let names: Vec<&str> = p.defines.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(matches!(&p.body[0], Item::Template { name, .. } if name == "b"));
}

#[test]
fn range_declares_two_variables_and_else_if_chains() {
    let p = parsed(
        "{{ range $i, $v := . }}{{ end }}{{ if 1 }}{{ else if 2 }}{{ else if 3 }}{{ else }}{{ end }}",
    );
    let Item::Range { pipe, .. } = &p.body[0] else {
        panic!()
    };
    assert_eq!(pipe.decl, ["$i", "$v"]);
    let Item::If { arms, els, .. } = &p.body[1] else {
        panic!()
    };
    assert_eq!(arms.len(), 3);
    assert!(els.is_empty());
}
