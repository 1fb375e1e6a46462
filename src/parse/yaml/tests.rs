use super::*;
use crate::source::{FileId, LineCol};

fn file(text: &str) -> SourceFile {
    SourceFile::new(FileId(0), "t.yaml".into(), "t.yaml".into(), text.into())
}

fn lc(f: &SourceFile, offset: u32) -> (u32, u32) {
    let LineCol { line, column } = f.line_col(offset);
    (line, column)
}

fn one(text: &str) -> (SourceFile, Node) {
    let f = file(text);
    let out = parse(&f);
    assert!(out.diags.is_empty(), "unexpected diags: {:?}", out.diags);
    assert_eq!(out.docs.len(), 1, "docs: {:?}", out.docs);
    let root = out.docs.into_iter().next().unwrap().root;
    (f, root)
}

#[test]
fn spans_of_keys_and_values() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web, 'tier': \"front\"}\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n      ports: [80, 443]\n";
    let (f, root) = one(text);
    let e = root.entry("kind").unwrap();
    assert_eq!(f.slice(e.key.span), "kind");
    assert_eq!(lc(&f, e.key.span.start), (2, 1));
    assert_eq!(f.slice(e.value.span), "Pod");
    assert_eq!(lc(&f, e.value.span.start), (2, 7));
    let labels = root.path(&["metadata", "labels"]).unwrap();
    assert_eq!(f.slice(labels.span), "{app: web, 'tier': \"front\"}");
    let tier = labels.entry("tier").unwrap();
    assert_eq!(f.slice(tier.key.span), "'tier'");
    assert_eq!(f.slice(tier.value.span), "\"front\"");
    let c = &root.path(&["spec", "containers"]).unwrap().as_seq()[0];
    assert_eq!(lc(&f, c.span.start), (8, 7));
    assert_eq!(f.slice(c.get("image").unwrap().span), "nginx:1.25");
    let ports = c.get("ports").unwrap();
    assert_eq!(f.slice(ports.span), "[80, 443]");
    assert_eq!(ports.as_seq()[1].value, Value::Number("443".into()));
    assert_eq!(f.slice(ports.as_seq()[1].span), "443");
    // Block mapping: from its first key to the end of its last value.
    let meta = root.get("metadata").unwrap();
    assert!(f.slice(meta.span).starts_with("name: web"));
    assert!(f.slice(meta.span).ends_with("\"front\"}"));
    let seq = root.path(&["spec", "containers"]).unwrap();
    assert!(f.slice(seq.span).starts_with("- name: c"));
    assert!(f.slice(seq.span).ends_with("[80, 443]"));
    assert_eq!(f.slice(root.span), text.trim_end());
    // Indentless sequences start at their first `-` too.
    let (f, root) = one("cmd:\n- a\n- b\nx:\n-\n  - c\nz:\n- -1\n");
    assert_eq!(f.slice(root.get("cmd").unwrap().span), "- a\n- b");
    let x = root.get("x").unwrap();
    assert_eq!(f.slice(x.span), "-\n  - c");
    assert_eq!(f.slice(x.as_seq()[0].span), "- c");
    assert_eq!(f.slice(root.get("z").unwrap().span), "- -1");
}

#[test]
fn spans_stop_before_trailing_comments() {
    let text = "a: \"x\"   # note \"q\"\nb: ['y' , {c: d}  ]  # c\ne: {}   \nf: !!null   # n\ng: 'it''s'  \nh: \"a\\\"b\" # \"\n";
    let (f, root) = one(text);
    assert_eq!(f.slice(root.get("a").unwrap().span), "\"x\"");
    let b = root.get("b").unwrap();
    assert_eq!(f.slice(b.span), "['y' , {c: d}  ]");
    assert_eq!(f.slice(b.as_seq()[0].span), "'y'");
    assert_eq!(f.slice(b.as_seq()[1].span), "{c: d}");
    assert_eq!(f.slice(root.get("e").unwrap().span), "{}");
    let fv = root.get("f").unwrap();
    assert_eq!(fv.value, Value::Null);
    assert_eq!(f.slice(fv.span), "!!null");
    assert_eq!(f.slice(root.get("g").unwrap().span), "'it''s'");
    assert_eq!(root.str_at(&["g"]), Some("it's"));
    assert_eq!(f.slice(root.get("h").unwrap().span), "\"a\\\"b\"");
    assert_eq!(
        f.slice(root.span),
        text.trim_end().trim_end_matches(" # \"")
    );
}

#[test]
fn scalar_resolution() {
    let (_, root) = one(
        "a: ~\nb:\nc: True\nd: 0x1F\ne: -1.5e3\nf: .inf\ng: yes\nh: '1'\ni: 0o17\nj: .NaN\nk: 1.\nl: 1_000\nm: null\nn: FALSE\no: !!str 3\np: !!int '7'\n",
    );
    let v = |k: &str| root.get(k).unwrap().value.clone();
    assert_eq!(v("a"), Value::Null);
    assert_eq!(v("b"), Value::Null);
    assert_eq!(v("c"), Value::Bool(true));
    assert_eq!(v("d"), Value::Number("0x1F".into()));
    assert_eq!(v("e"), Value::Number("-1.5e3".into()));
    assert_eq!(v("f"), Value::Number(".inf".into()));
    assert_eq!(v("g"), Value::String("yes".into()));
    assert_eq!(v("h"), Value::String("1".into()));
    assert_eq!(v("i"), Value::Number("0o17".into()));
    assert_eq!(v("j"), Value::Number(".NaN".into()));
    assert_eq!(v("k"), Value::Number("1.".into()));
    assert_eq!(v("l"), Value::String("1_000".into()));
    assert_eq!(v("m"), Value::Null);
    assert_eq!(v("n"), Value::Bool(false));
    assert_eq!(v("o"), Value::String("3".into()));
    assert_eq!(v("p"), Value::Number("7".into()));
}

#[test]
fn empty_values_have_empty_spans_after_the_indicator() {
    let (f, root) = one("a:\nb: 1\nc:\n  - \n  - x\n");
    let a = root.get("a").unwrap();
    assert_eq!(a.value, Value::Null);
    assert_eq!(a.span.start, a.span.end);
    assert_eq!(lc(&f, a.span.start), (1, 3));
    let items = root.get("c").unwrap().as_seq();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].value, Value::Null);
    assert_eq!(lc(&f, items[0].span.start).0, 4);
}

#[test]
fn multi_document_streams_keep_indices() {
    let f = file("---\n---\na: 1\n---\n# only a comment\n---\n~\n---\n- x\n...\n");
    let out = parse(&f);
    assert!(out.diags.is_empty(), "{:?}", out.diags);
    let idx: Vec<usize> = out.docs.iter().map(|d| d.index).collect();
    assert_eq!(idx, vec![1, 4]);
    assert_eq!(lc(&f, out.docs[0].root.span.start), (3, 1));
    assert_eq!(lc(&f, out.docs[1].root.span.start), (9, 1));
}

#[test]
fn implicit_first_document_is_index_zero() {
    let f = file("a: 1\n---\nb: 2\n");
    let out = parse(&f);
    let idx: Vec<usize> = out.docs.iter().map(|d| d.index).collect();
    assert_eq!(idx, vec![0, 1]);
    assert!(parse(&file("")).docs.is_empty());
    assert!(parse(&file("# nothing\n")).docs.is_empty());
}

#[test]
fn duplicate_keys_keep_the_last_value() {
    let f = file("name: a\nimage: x\nname: b\nname: c\n");
    let out = parse(&f);
    assert_eq!(out.docs.len(), 1);
    let root = &out.docs[0].root;
    assert_eq!(root.entries().len(), 2);
    assert_eq!(root.str_at(&["name"]), Some("c"));
    let d: Vec<_> = out
        .diags
        .iter()
        .filter(|d| d.kind == DiagKind::DuplicateKey)
        .collect();
    assert_eq!(d.len(), 2);
    assert_eq!(lc(&f, d[0].span.start), (3, 1));
    assert_eq!(f.slice(d[0].span), "name");
    assert_eq!(
        d[0].message,
        "mapping key `name` repeats (first at line 1); the later value wins"
    );
    assert_eq!(lc(&f, d[0].related[0].0.start), (1, 1));
    assert_eq!(lc(&f, d[1].span.start), (4, 1));
    assert_eq!(lc(&f, d[1].related[0].0.start), (1, 1));
    // Different scalar types are different keys; nested maps are separate.
    let (_, r) = one("1: a\n'1': b\nx: {a: 1}\ny: {a: 2}\n");
    assert_eq!(r.entries().len(), 4);
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let text = "base: &base\n  cpu: 1\n  mem: 2\nother: &o {mem: 3, disk: 4}\nuse:\n  <<: *base\n  cpu: 9\nmulti:\n  <<: [*o, *base]\nref: *base\ninline:\n  <<: {z: 1}\n  y: 2\n";
    let (f, root) = one(text);
    let u = root.get("use").unwrap();
    assert_eq!(u.get("cpu").unwrap().value, Value::Number("9".into()));
    assert_eq!(u.get("mem").unwrap().value, Value::Number("2".into()));
    assert!(u.get("<<").is_none());
    assert_eq!(u.entries().len(), 2);
    // Merged values keep the spans of where they were written.
    assert_eq!(lc(&f, u.get("mem").unwrap().span.start), (3, 8));
    let m = root.get("multi").unwrap();
    assert_eq!(m.get("mem").unwrap().value, Value::Number("3".into()));
    assert_eq!(m.get("cpu").unwrap().value, Value::Number("1".into()));
    assert_eq!(m.get("disk").unwrap().value, Value::Number("4".into()));
    assert_eq!(m.entries().len(), 3);
    let r = root.get("ref").unwrap();
    assert_eq!(
        r.get("cpu").unwrap().span,
        root.path(&["base", "cpu"]).unwrap().span
    );
    let i = root.get("inline").unwrap();
    assert_eq!(i.entries().len(), 2);
    // A quoted "<<" is an ordinary key.
    let (_, q) = one("a: &a {x: 1}\nb:\n  '<<': *a\n");
    assert!(q.path(&["b", "<<", "x"]).is_some());
}

#[test]
fn alias_bomb_is_bounded() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for w in names.windows(2) {
        let r = format!("*{}", w[0]);
        text.push_str(&format!(
            "{}: &{} [{}]\n",
            w[1],
            w[1],
            [r.as_str(); 9].join(",")
        ));
    }
    let f = file(&text);
    let t = std::time::Instant::now();
    let out = parse(&f);
    assert!(t.elapsed().as_secs() < 5);
    let limits: Vec<_> = out
        .diags
        .iter()
        .filter(|d| d.kind == DiagKind::Limit)
        .collect();
    assert_eq!(limits.len(), 1, "{:?}", out.diags);
    assert_eq!(out.docs.len(), 1);
    fn count(n: &Node) -> usize {
        1 + n.as_seq().iter().map(count).sum::<usize>()
            + n.entries().iter().map(|e| count(&e.value)).sum::<usize>()
    }
    assert!(count(&out.docs[0].root) < 2 * MAX_ALIAS_NODES + 10_000);
}

#[test]
fn deep_nesting_is_bounded() {
    // Block nesting: the subtree past MAX_DEPTH reads as Unknown.
    let mut text: String = (0..300)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    text.push_str("top2: x\n");
    let f = file(&text);
    let out = parse(&f);
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
    assert_eq!(out.diags[0].kind, DiagKind::Limit);
    assert_eq!(out.docs.len(), 1);
    let mut n = &out.docs[0].root;
    let mut depth = 0;
    while let Some(e) = n.entries().first() {
        n = &e.value;
        depth += 1;
    }
    assert_eq!(n.value, Value::Unknown);
    assert_eq!(depth, MAX_DEPTH);
    assert_eq!(lc(&f, n.span.start), (257, 257));
    assert_eq!(out.docs[0].root.str_at(&["top2"]), Some("x"));
    // Block nesting continued by flow nesting.
    let mut text: String = (0..200)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    text.push_str(&format!(
        "{}k: {}1{}\n",
        " ".repeat(200),
        "[".repeat(100),
        "]".repeat(100)
    ));
    let out = parse(&file(&text));
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
    assert_eq!(out.diags[0].kind, DiagKind::Limit);
    assert_eq!(out.docs.len(), 1);
    // Flow nesting: saphyr itself stops at 255 levels; that is a Limit too.
    for text in [
        "[".repeat(100_000),
        format!("{}1{}", "[".repeat(300), "]".repeat(300)),
    ] {
        let out = parse(&file(&text));
        assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
        assert_eq!(out.diags[0].kind, DiagKind::Limit);
        assert!(out.docs.is_empty());
    }
    // Aliases cannot stack nesting past the limit either.
    let mut text = format!("a: &a {}1{}\n", "[".repeat(200), "]".repeat(200));
    text.push_str(&format!(
        "b: {}*a{}\nc: [*a]\n",
        "[".repeat(60),
        "]".repeat(60)
    ));
    let out = parse(&file(&text));
    assert_eq!(
        out.diags
            .iter()
            .filter(|d| d.kind == DiagKind::Limit)
            .count(),
        1
    );
    let mut n = out.docs[0].root.get("b").unwrap();
    while let Some(first) = n.as_seq().first() {
        n = first;
    }
    assert_eq!(n.value, Value::Unknown);
    assert_eq!(
        out.docs[0].root.get("c").unwrap().as_seq()[0]
            .as_seq()
            .len(),
        1
    );
}

#[test]
fn parse_error_location_and_earlier_documents() {
    let f = file("a: 1\n---\nb: [1, 2\nc: 3\n");
    let out = parse(&f);
    assert_eq!(out.docs.len(), 1);
    assert_eq!(out.docs[0].index, 0);
    let errs: Vec<_> = out
        .diags
        .iter()
        .filter(|d| d.kind == DiagKind::ParseError)
        .collect();
    assert_eq!(errs.len(), 1);
    assert_eq!(lc(&f, errs[0].span.start), (4, 2));
    assert!(!errs[0].message.is_empty());

    let f = file("a:\n  b: 1\n c: 2\n");
    let out = parse(&f);
    assert!(out.docs.is_empty());
    assert_eq!(out.diags.len(), 1);
    assert_eq!(out.diags[0].kind, DiagKind::ParseError);
    assert_eq!(lc(&f, out.diags[0].span.start).0, 3);
}

#[test]
fn helm_templates_are_reported_not_parsed() {
    let helm = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"x.fullname\" . }}\n  labels:\n    {{- include \"x.labels\" . | nindent 4 }}\nspec:\n  {{- if .Values.replicas }}\n  replicas: {{ .Values.replicas }}\n  {{- end }}\n";
    let f = file(helm);
    let out = parse(&f);
    assert!(out.docs.is_empty());
    assert_eq!(out.diags.len(), 1);
    assert_eq!(out.diags[0].kind, DiagKind::Template);
    assert_eq!(lc(&f, out.diags[0].span.start), (4, 9));
    // A template that happens to parse as YAML (`{{ x }}` is a flow map).
    let f = file("metadata:\n  name: {{ template \"fullname\" . }}\n");
    let out = parse(&f);
    assert!(out.docs.is_empty());
    assert_eq!(out.diags[0].kind, DiagKind::Template);
    // Quoted template text is just a string.
    let (_, root) = one("name: \"{{ .Values.name }}\"\nimg: '{{ x }}'\n");
    assert_eq!(root.str_at(&["name"]), Some("{{ .Values.name }}"));
}

#[test]
fn workflow_expressions_parse() {
    let text = "on: push\njobs:\n  build:\n    runs-on: ${{ matrix.os }}\n    steps:\n      - run: echo ${{ secrets.TOKEN }}\n        if: ${{ github.event_name == 'push' }}\n      - uses: actions/checkout@v4\n        with:\n          token: ${{ secrets.X }}\n";
    let (f, root) = one(text);
    let os = root.path(&["jobs", "build", "runs-on"]).unwrap();
    assert_eq!(os.as_str(), Some("${{ matrix.os }}"));
    assert_eq!(f.slice(os.span), "${{ matrix.os }}");
    let step = &root.path(&["jobs", "build", "steps"]).unwrap().as_seq()[0];
    assert_eq!(step.str_at(&["run"]), Some("echo ${{ secrets.TOKEN }}"));
    // `on` is a string key under the 1.2 core schema.
    assert!(root.get("on").is_some());
}

#[test]
fn non_ascii_text() {
    let text = "# ünïcödé comment ✓\nnäme: \"日本語\"\nlabel: café au lait\nlist:\n  - 🚀 rocket\n  - x\nafter: ok\n";
    let (f, root) = one(text);
    let e = root.entry("näme").unwrap();
    assert_eq!(f.slice(e.key.span), "näme");
    assert_eq!(lc(&f, e.key.span.start), (2, 1));
    assert_eq!(f.slice(e.value.span), "\"日本語\"");
    assert_eq!(lc(&f, e.value.span.start), (2, 7));
    let l = root.get("label").unwrap();
    assert_eq!(f.slice(l.span), "café au lait");
    let items = root.get("list").unwrap().as_seq();
    assert_eq!(f.slice(items[0].span), "🚀 rocket");
    assert_eq!(f.slice(items[1].span), "x");
    let a = root.entry("after").unwrap();
    assert_eq!(f.slice(a.key.span), "after");
    assert_eq!(lc(&f, a.value.span.start), (7, 8));
    // A parse error after non-ASCII text is located in chars correctly.
    let f = file("é: [ü\n");
    let out = parse(&f);
    assert_eq!(out.diags[0].kind, DiagKind::ParseError);
    assert!(f.text.is_char_boundary(out.diags[0].span.start as usize));
}

#[test]
fn block_scalars_span_their_lines() {
    let text = "script: |\n  echo one\n  echo two\n\nfolded: >- # comment | here\n  a\n  b\nnext: 1\nempty: |\nlast: &x !t |+\n  kept\n\n";
    let (f, root) = one(text);
    let s = root.get("script").unwrap();
    assert_eq!(s.as_str(), Some("echo one\necho two\n"));
    assert_eq!(f.slice(s.span), "|\n  echo one\n  echo two");
    assert_eq!(lc(&f, s.span.start), (1, 9));
    let fo = root.get("folded").unwrap();
    assert_eq!(fo.as_str(), Some("a b"));
    assert_eq!(f.slice(fo.span), ">- # comment | here\n  a\n  b");
    let e = root.get("empty").unwrap();
    assert_eq!(e.as_str(), Some(""));
    assert_eq!(f.slice(e.span), "|");
    let l = root.get("last").unwrap();
    assert_eq!(l.as_str(), Some("kept\n\n"));
    assert_eq!(f.slice(l.span), "&x !t |+\n  kept");
    // Block scalar at the end of the text without a newline.
    let (f, root) = one("k: |");
    assert_eq!(f.slice(root.get("k").unwrap().span), "|");
    let (f, root) = one("k: |\n  a\n  b");
    let k = root.get("k").unwrap();
    assert_eq!(k.as_str(), Some("a\nb"));
    assert_eq!(f.slice(k.span), "|\n  a\n  b");
    let (_, root) = one("k: >\n  a\n  b\n");
    assert_eq!(root.str_at(&["k"]), Some("a b\n"));
    // Sequence item block scalar.
    let (f, root) = one("- |\n  x\n- y\n");
    assert_eq!(f.slice(root.as_seq()[0].span), "|\n  x");
}

#[test]
fn under_indented_quoted_scalars_are_read_like_libyaml() {
    let text = "a:\n  description: \"List of regions for\n  Appengine (i.e 'asia*')\\\n    .\"\n  other: 'x\n\n   y  \n z'\n  d: \"\"\nb: 1\n";
    let (f, root) = one(text);
    let d = root.path(&["a", "description"]).unwrap();
    assert_eq!(
        d.as_str(),
        Some("List of regions for Appengine (i.e 'asia*').")
    );
    assert_eq!(lc(&f, d.span.start), (2, 16));
    assert!(f.slice(d.span).starts_with("\"List") && f.slice(d.span).ends_with(".\""));
    let o = root.path(&["a", "other"]).unwrap();
    assert_eq!(o.as_str(), Some("x\ny z"));
    let b = root.entry("b").unwrap();
    assert_eq!(lc(&f, b.key.span.start), (10, 1));
    // CRLF line ends.
    let (_, root) = one("a:\r\n  b: \"x\r\n  y\"\r\n");
    assert_eq!(root.str_at(&["a", "b"]), Some("x y"));
}

#[test]
fn cloudformation_tags_are_kept_as_values() {
    let text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: !Sub '${AWS::StackName}-b'\n      Vpc: !Ref VpcId\n      Azs: !GetAZs ''\n      Sel: !Select [0, !GetAZs '']\n      Att: !GetAtt\n        - A\n        - Arn\n      J: !Join\n        - ''\n        - [a, !Ref B]\n";
    let (f, root) = one(text);
    let p = root.path(&["Resources", "B", "Properties"]).unwrap();
    assert_eq!(p.str_at(&["BucketName"]), Some("${AWS::StackName}-b"));
    assert_eq!(
        f.slice(p.get("BucketName").unwrap().span),
        "!Sub '${AWS::StackName}-b'"
    );
    assert_eq!(p.str_at(&["Vpc"]), Some("VpcId"));
    assert_eq!(p.get("Sel").unwrap().as_seq().len(), 2);
    assert_eq!(p.get("Att").unwrap().as_seq().len(), 2);
    assert_eq!(
        p.get("J").unwrap().as_seq()[1].as_seq()[1].as_str(),
        Some("B")
    );
}

#[test]
fn crlf_and_bom() {
    let (f, root) = one("\u{feff}a: 1\r\nb: x y\r\n");
    let b = root.entry("b").unwrap();
    assert_eq!(f.slice(b.key.span), "b");
    assert_eq!(f.slice(b.value.span), "x y");
    assert_eq!(lc(&f, b.value.span.start), (2, 4));
}

#[test]
fn never_panics_on_garbage() {
    let samples = [
        "",
        "-",
        "?",
        ":",
        "&",
        "*",
        "!",
        "|",
        ">",
        "{",
        "[",
        "]",
        "}",
        "'",
        "\"",
        "%YAML 1.2",
        "--- |\n",
        "a: *b",
        "a: &a [*a]",
        "? - a\n  - b\n: c",
        "- - - -",
        "{a: [}",
        "\t- x",
        "a: |0\n",
        "key: \"\\u12\"",
        "!<tag:x> a",
        "%TAG ! x\n--- !a b",
        "a:\n- b\n-c:",
        "[a: b, c]",
        "{? a}",
        "...\n...",
        "a: b: c",
        "\u{feff}\u{feff}",
    ];
    for s in samples {
        let _ = parse(&file(s));
    }
    // Every prefix of a realistic file.
    let text = "a: &a\n  b: [1, {c: 'd'}]\n  e: |\n    f\n<<: *a\n- g\n";
    for i in 0..=text.len() {
        let _ = parse(&file(&text[..i]));
    }
}

#[test]
fn documents_after_a_broken_one_are_still_read() {
    let text = "a: 1\n---\nb:\n\t- tab\n---\nc: 3\n---\nd: 4\n";
    let f = SourceFile::new(FileId(0), "x.yaml".into(), "x.yaml".into(), text.into());
    let out = parse(&f);
    assert_eq!(
        out.diags
            .iter()
            .filter(|d| d.kind == DiagKind::ParseError)
            .count(),
        1
    );
    let keys: Vec<&str> = out
        .docs
        .iter()
        .filter_map(|d| d.root.entries().first().and_then(|e| e.key.as_str()))
        .collect();
    assert_eq!(keys, ["a", "c", "d"]);
    let c = &out.docs[1].root.entries()[0].key;
    assert_eq!(f.line_col(c.span.start).line, 6);
    assert_eq!(out.docs[1].index, 2);
}

#[test]
fn a_flow_collection_over_the_limit_is_a_located_null() {
    let list = format!("[{}]", vec!["x"; 150_000].join(", "));
    let text = format!("a: {list}\nb: 2\nc:\n  - {{k: v}}\n");
    let f = file(&text);
    let out = parse(&f);
    let root = &out.docs[0].root;
    assert_eq!(root.get("a").map(|n| &n.value), Some(&Value::Null));
    assert_eq!(root.get("a").unwrap().span.start, 3);
    assert_eq!(root.str_at(&["b"]), None);
    assert_eq!(root.get("b").unwrap().as_f64(), Some(2.0));
    assert_eq!(root.get("c").unwrap().as_seq()[0].str_at(&["k"]), Some("v"));
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
    let d = &out.diags[0];
    assert_eq!(d.kind, DiagKind::TooLarge);
    assert_eq!(f.line_col(d.span.start), LineCol { line: 1, column: 4 });
    assert!(
        d.message.contains(&format!("of {} bytes", list.len())),
        "{}",
        d.message
    );
}
