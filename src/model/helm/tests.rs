use super::*;

pub(super) fn files(list: &[(&str, &str)]) -> Vec<ChartFile> {
    list.iter()
        .enumerate()
        .map(|(i, (p, t))| ChartFile {
            path: p.to_string(),
            file: FileId(i as u32),
            text: Arc::from(*t),
        })
        .collect()
}

const CHART: &str = "apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: \"4.5\"\n";

#[test]
fn chart_metadata_is_strings_as_helm_reads_it() {
    let chart = "apiVersion: v2\nname: n\nversion: 1.10\nappVersion: 2.0\nannotations:\n  team: web\nmaintainers:\n- name: a\n  url: u\n";
    let fs = files(&[
        ("Chart.yaml", chart),
        (
            "templates/t.yaml",
            "{{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.Annotations.team }} {{ (first .Chart.Maintainers).URL }} {{ .Chart.APIVersion }}",
        ),
    ]);
    let r = render_chart(&fs, &[], &ReleaseInfo::default(), &Limits::default());
    assert_eq!(r.docs[0].text, "1.10 2.0 web u v2");
}

fn render_with(tmpl: &str, values: &str, limits: &Limits) -> Result<String, String> {
    let fs = files(&[
        ("Chart.yaml", CHART),
        ("values.yaml", values),
        ("templates/t.yaml", tmpl),
    ]);
    let r = render_chart(&fs, &[], &ReleaseInfo::default(), limits);
    if let Some(n) = r.notes.first() {
        return Err(n.message.clone());
    }
    Ok(r.docs.first().map(|d| d.text.clone()).unwrap_or_default())
}

fn render(tmpl: &str, values: &str) -> Result<String, String> {
    render_with(tmpl, values, &Limits::default())
}

fn ok(tmpl: &str, values: &str) -> String {
    match render(tmpl, values) {
        Ok(s) => s,
        Err(e) => panic!("{tmpl:?} failed: {e}"),
    }
}

fn fails(tmpl: &str, values: &str) -> String {
    match render(tmpl, values) {
        Ok(s) => panic!(
            "{:?} rendered {:?}",
            tmpl.chars().take(200).collect::<String>(),
            s.chars().take(200).collect::<String>()
        ),
        Err(e) => e,
    }
}

#[test]
fn text_actions_and_trimming() {
    assert_eq!(ok("a {{ 1 }} b", ""), "a 1 b");
    assert_eq!(ok("a  {{- 1 -}}  \n b", ""), "a1b");
    assert_eq!(ok("a\n  {{- 1 }}\n", ""), "a1\n");
    // `{{-3}}` is the number -3, not a trim marker.
    assert_eq!(ok("a {{-3}} b", ""), "a -3 b");
    assert_eq!(ok("x {{/* a comment */}} y", ""), "x  y");
    assert_eq!(ok("x \n{{- /* trimmed */ -}}\n y", ""), "xy");
}

#[test]
fn literals() {
    assert_eq!(
        ok(r#"{{ "a\tb\"c\u00e9\x41" }}"#, ""),
        "a\tb\"cé\x41".replace("\\x41", "A")
    );
    assert_eq!(ok("{{ `raw\\n` }}", ""), "raw\\n");
    assert_eq!(
        ok("{{ 0x1F }} {{ 1.5 }} {{ -2 }} {{ 'a' }} {{ 1e3 }}", ""),
        "31 1.5 -2 97 1000"
    );
    assert_eq!(ok("{{ true }} {{ false }} {{ nil }}", ""), "true false ");
}

#[test]
fn pipelines_and_parentheses() {
    assert_eq!(ok(r#"{{ "a" | upper | quote }}"#, ""), "\"A\"");
    assert_eq!(ok(r#"{{ printf "%s-%s" "a" ("b" | upper) }}"#, ""), "a-B");
    assert_eq!(ok(r#"{{ (dict "k" "v").k }}"#, ""), "v");
    assert_eq!(ok("{{ .Values.a.b | default 3 }}", "a:\n  b: 0\n"), "3");
}

#[test]
fn variables_and_scopes() {
    assert_eq!(ok("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", ""), "2");
    assert!(
        fails("{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}", "").contains("undefined variable $y")
    );
    // `$` is the root inside range and with.
    assert_eq!(
        ok(
            "{{ range .Values.l }}{{ $.Values.p }}{{ . }}{{ end }}",
            "l: [a, b]\np: x\n"
        ),
        "xaxb"
    );
    // An assignment in a loop changes the outer variable.
    assert_eq!(
        ok(
            "{{ $c := 0 }}{{ range .Values.l }}{{ $c = add $c 1 }}{{ end }}{{ $c }}",
            "l: [a, b, c]\n"
        ),
        "3"
    );
}

#[test]
fn fields_of_missing_values() {
    assert_eq!(ok("[{{ .Values.missing }}]", ""), "[]");
    let e = fails("{{ .Values.missing.deeper }}", "");
    assert!(
        e.contains("nil pointer evaluating interface {}.deeper"),
        "{e}"
    );
    assert!(
        fails("{{ .Values.s.x }}", "s: str\n").contains("can't evaluate field x in type string")
    );
}

#[test]
fn conditionals() {
    let t = "{{ if .Values.a }}A{{ else if .Values.b }}B{{ else }}C{{ end }}";
    assert_eq!(ok(t, "a: 1\n"), "A");
    // Values read as Helm reads them, YAML 1.1: `yes` and `off` are
    // booleans, quoted they are strings; `0644` is octal.
    assert_eq!(ok(t, "b: yes\n"), "B");
    assert_eq!(ok(t, "a: off\nb: 'no'\n"), "B");
    assert_eq!(
        ok(
            "{{ .Values.a }} {{ .Values.b }} {{ .Values.m | int }}",
            "a: on\nb: !!str on\nm: 0644\n"
        ),
        "true on 420"
    );
    assert_eq!(ok(t, "b: true\n"), "B");
    assert_eq!(ok(t, ""), "C");
    assert_eq!(
        ok(
            "{{ with .Values.m }}{{ .k }}{{ else }}none{{ end }}",
            "m: {k: v}\n"
        ),
        "v"
    );
    assert_eq!(
        ok(
            "{{ with .Values.m }}{{ .k }}{{ else }}none{{ end }}",
            "m: {}\n"
        ),
        "none"
    );
    assert_eq!(
        ok(
            "{{ with $x := .Values.m }}{{ $x.k }}{{ end }}",
            "m: {k: v}\n"
        ),
        "v"
    );
    assert_eq!(
        ok(
            "{{ with .Values.a }}a{{ else with .Values.b }}{{ . }}{{ end }}",
            "b: z\n"
        ),
        "z"
    );
}

#[test]
fn truthiness_is_gos() {
    for (v, want) in [
        ("0", "F"),
        ("1", "T"),
        ("0.0", "F"),
        ("\"\"", "F"),
        ("\"0\"", "T"),
        ("[]", "F"),
        ("[0]", "T"),
        ("{}", "F"),
        ("null", "F"),
        ("false", "F"),
    ] {
        assert_eq!(
            ok(
                "{{ if .Values.v }}T{{ else }}F{{ end }}",
                &format!("v: {v}\n")
            ),
            want,
            "{v}"
        );
    }
}

#[test]
fn ranges() {
    assert_eq!(
        ok(
            "{{ range $i, $v := .Values.l }}{{ $i }}={{ $v }};{{ end }}",
            "l: [a, b]\n"
        ),
        "0=a;1=b;"
    );
    // Maps in key order, whatever the file's order.
    assert_eq!(
        ok(
            "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
            "m: {b: 2, a: 1, c: 3}\n"
        ),
        "a=1;b=2;c=3;"
    );
    assert_eq!(
        ok("{{ range .Values.l }}x{{ else }}empty{{ end }}", "l: []\n"),
        "empty"
    );
    assert_eq!(
        ok("{{ range .Values.missing }}x{{ else }}empty{{ end }}", ""),
        "empty"
    );
    assert_eq!(
        ok(
            "{{ range $v := .Values.l }}{{ if eq $v \"b\" }}{{ continue }}{{ end }}{{ if eq $v \"d\" }}{{ break }}{{ end }}{{ $v }}{{ end }}",
            "l: [a, b, c, d, e]\n"
        ),
        "ac"
    );
    assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}", ""), "012");
    assert_eq!(
        ok("{{ range $i, $e := until 3 }}{{ $i }}{{ end }}", ""),
        "012"
    );
    assert!(fails("{{ range \"s\" }}{{ end }}", "").contains("range can't iterate over s"));
}

#[test]
fn define_template_block_include_tpl() {
    let t = r#"{{- define "x" }}<{{ . }}>{{ end -}}
{{ template "x" "a" }}{{ include "x" "b" | upper }}{{ block "y" "c" }}[{{ . }}]{{ end }}
{{ tpl "{{ .Values.num }}-{{ .Release.Name }}" $ }}"#;
    assert_eq!(ok(t, "num: 5\n"), "<a><B>[c]\n5-release-name");
    // nindent after include, as charts write labels.
    let t = "{{- define \"labels\" -}}\na: 1\nb: 2\n{{- end }}\nmetadata:\n  labels:\n    {{- include \"labels\" . | nindent 4 }}\n";
    assert_eq!(ok(t, ""), "\nmetadata:\n  labels:\n    a: 1\n    b: 2\n");
    assert!(fails("{{ include \"nope\" . }}", "").contains("no template named \"nope\""));
}

#[test]
fn helm_objects() {
    let t = "{{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }} {{ .Release.IsInstall }} {{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Template.Name }} {{ .Template.BasePath }} {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.APIVersions.Has \"policy/v1\" }}";
    assert_eq!(
        ok(t, ""),
        "release-name default Helm true demo 1.2.3 4.5 demo/templates/t.yaml demo/templates v1.36.0 true"
    );
    assert_eq!(
        ok("{{ lookup \"v1\" \"Secret\" \"ns\" \"n\" | len }}", ""),
        "0"
    );
    assert_eq!(
        ok(
            "{{ if semverCompare \">=1.21-0\" .Capabilities.KubeVersion.GitVersion }}new{{ end }}",
            ""
        ),
        "new"
    );
}

#[test]
fn files_get_stays_inside_the_chart() {
    let fs = files(&[
        ("Chart.yaml", CHART),
        ("files/conf.txt", "hello"),
        (
            "templates/t.yaml",
            "{{ .Files.Get \"files/conf.txt\" }}|{{ .Files.Get \"../outside\" }}|{{ .Files.Get \"/etc/passwd\" }}|{{ .Files.Get \"missing\" }}",
        ),
    ]);
    let r = render_chart(&fs, &[], &ReleaseInfo::default(), &Limits::default());
    assert_eq!(r.docs[0].text, "hello|||");
    let fs = files(&[
        ("Chart.yaml", CHART),
        (
            "templates/t.yaml",
            "{{ (.Files.Glob \"files/*\").AsConfig }}",
        ),
    ]);
    let r = render_chart(&fs, &[], &ReleaseInfo::default(), &Limits::default());
    assert!(
        r.notes[0]
            .message
            .ends_with("Files.Glob is not supported by guard's Helm renderer"),
        "{:?}",
        r.notes
    );
}

#[test]
fn sprig_functions() {
    let cases: &[(&str, &str)] = &[
        (
            "{{ default \"d\" \"\" }} {{ default \"d\" \"v\" }} {{ empty list }} {{ coalesce \"\" nil \"c\" }}",
            "d v true c",
        ),
        (
            "{{ ternary \"y\" \"n\" true }} {{ \"a\" | quote }} {{ \"a\" | squote }}",
            "y \"a\" 'a'",
        ),
        (
            "{{ \"  x \" | trim }}|{{ trimSuffix \"-\" \"a-\" }}|{{ trimPrefix \"v\" \"v1\" }}|{{ trunc 3 \"abcdef\" }}|{{ trunc -2 \"abcdef\" }}",
            "x|a|1|abc|ef",
        ),
        (
            "{{ upper \"a\" }}{{ lower \"B\" }} {{ title \"hello world\" }} {{ replace \"+\" \"_\" \"1+2\" }}",
            "Ab Hello World 1_2",
        ),
        (
            "{{ contains \"b\" \"abc\" }} {{ hasPrefix \"a\" \"abc\" }} {{ hasSuffix \"c\" \"abc\" }}",
            "true true true",
        ),
        (
            "{{ printf \"%s:%d:%v:%q\" \"a\" 1 true \"q\" }} {{ print \"a\" 1 2 \"b\" }} {{ cat \"a\" nil \"b\" }}",
            "a:1:true:\"q\" a1 2b a b",
        ),
        (
            "{{ join \",\" (list \"a\" \"b\") }} {{ (split \"/\" \"a/b\")._1 }} {{ splitList \"/\" \"a/b\" | last }}",
            "a,b b b",
        ),
        (
            "{{ b64enc \"hi\" }} {{ b64dec \"aGk=\" }} {{ sha256sum \"\" | trunc 8 }}",
            "aGk= hi e3b0c442",
        ),
        (
            "{{ $d := dict \"a\" 1 }}{{ $_ := set $d \"b\" 2 }}{{ $d.b }} {{ get $d \"a\" }} {{ hasKey $d \"b\" }} {{ $_ := unset $d \"b\" }}{{ hasKey $d \"b\" }} {{ keys (dict \"y\" 1 \"x\" 2) }}",
            "2 1 true false [x y]",
        ),
        (
            "{{ $m := merge (dict \"a\" 1) (dict \"a\" 2 \"b\" 3) }}{{ $m.a }}{{ $m.b }} {{ $o := mergeOverwrite (dict \"a\" 1) (dict \"a\" 2) }}{{ $o.a }}",
            "13 2",
        ),
        (
            "{{ pluck \"a\" (dict \"a\" 1) (dict \"b\" 2) (dict \"a\" 3) }} {{ first (list 1 2) }} {{ append (list 1) 2 }} {{ concat (list 1) (list 2 3) }} {{ uniq (list 1 1 2) }}",
            "[1 3] 1 [1 2] [1 2 3] [1 2]",
        ),
        (
            "{{ toString 5 }} {{ int \"42\" }} {{ int 3.9 }} {{ float64 \"1.5\" }} {{ add 1 2 3 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 3 }} {{ min 4 2 }}",
            "5 42 3 1.5 6 3 6 3 1 5 2",
        ),
        (
            "{{ eq 1 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt \"b\" \"a\" }} {{ ge 1 2 }} {{ and 1 0 }} {{ or 0 \"x\" }} {{ not 0 }} {{ eq \"a\" \"b\" \"a\" }}",
            "true true true true true false 0 x true true",
        ),
        (
            "{{ len \"abc\" }} {{ len (list 1 2) }} {{ index (list \"a\" \"b\") 1 }} {{ index (dict \"k\" (dict \"j\" 5)) \"k\" \"j\" }}",
            "3 2 b 5",
        ),
        (
            "{{ regexMatch \"^a.c$\" \"abc\" }} {{ regexReplaceAll \"(a)(b)\" \"abab\" \"${2}$1\" }} {{ kindIs \"map\" (dict) }} {{ typeOf 1 }} {{ toStrings (list 1 \"a\") }}",
            "true baba true int [1 a]",
        ),
        (
            "{{ randAlphaNum 5 }} {{ \"a: 1\" | fromYaml | toJson }} {{ list 1 \"a\" (dict \"k\" true) | toJson }}",
            "xxxxx {\"a\":1} [1,\"a\",{\"k\":true}]",
        ),
        (
            "{{ indent 2 \"a\\nb\" }}|{{ nindent 2 \"a\" }}",
            "  a\n  b|\n  a",
        ),
        ("{{ nindent 1 \"é\\nü\" }}", "\n é\n ü"),
        (
            "{{ base \"a/b.txt\" }} {{ dir \"a/b.txt\" }} {{ ext \"a/b.txt\" }} {{ snakecase \"fooBar\" }} {{ kebabcase \"fooBar\" }} {{ camelcase \"foo_bar\" }} {{ regexFindAll \"[0-9]\" \"a1b2\" -1 }} {{ uuidv4 }}",
            "b.txt a .txt foo_bar foo-bar FooBar [1 2] 00000000-0000-4000-8000-000000000000",
        ),
        // A negative range runs no iteration; a define inside `tpl` holds
        // only while it runs.
        (
            r#"{{ range -3 }}x{{ end }}{{ define "t" }}{{ end }}{{ tpl "{{ define \"t\" }}T{{ end }}{{ include \"t\" . }}" . }}[{{ include "t" . }}]"#,
            "T[]",
        ),
    ];
    for (t, want) in cases {
        assert_eq!(&ok(t, ""), want, "{t}");
    }
}

#[test]
fn values_numbers_are_float64_as_in_helm() {
    // Helm reads values through JSON: a big integer prints in exponent form.
    assert_eq!(
        ok(
            "{{ .Values.big }} {{ .Values.m }} {{ .Values.big | int }} {{ .Values.f }}",
            "big: 1000000\nm: 123456\nf: 0.5\n"
        ),
        "1e+06 123456 1000000 0.5"
    );
    // ... and a literal int does not compare with a float64.
    assert!(
        fails("{{ eq .Values.one 1 }}", "one: 1\n").contains("incompatible types for comparison")
    );
    assert_eq!(ok("{{ eq (int .Values.one) 1 }}", "one: 1\n"), "true");
    // A plain `n:` key is the boolean false, so the key "false" (Helm:
    // `.Values.n` is empty); quoted, it stays `n`.
    assert_eq!(
        ok(
            "{{ .Values.n }}|{{ .Values.y }}|{{ keys .Values | sortAlpha }}",
            "n: 5\n\"y\": 6\n"
        ),
        "|6|[false y]"
    );
}

#[test]
fn to_yaml_as_helm_writes_it() {
    // As Helm v4.2 writes it (read off Helm by tests/helm_reference.rs'
    // oracle): go-yaml v2 (YAML 1.1) double-quotes what would read as
    // another type (`y`, `true`, the empty string); the null-valued key is
    // gone (Helm drops them from the values).
    let v = "m:\n  b: [1, two, {x: 'y'}]\n  a: 'true'\n  e: ''\n  s: \"multi\\nline\"\n  n: null\n  z: {}\n";
    assert_eq!(
        ok("{{ toYaml .Values.m }}", v),
        "a: \"true\"\nb:\n- 1\n- two\n- x: \"y\"\ne: \"\"\ns: |-\n  multi\n  line\nz: {}"
    );
    assert_eq!(
        ok(
            "x:\n  {{- toYaml .Values.l | nindent 2 }}",
            "l:\n- name: a\n  v: 1\n"
        ),
        "x:\n  - name: a\n    v: 1"
    );
}

#[test]
fn errors_are_located_notes_and_other_templates_render() {
    let fs = files(&[
        ("Chart.yaml", CHART),
        ("templates/a.yaml", "a: {{ nosuchfunc 1 }}"),
        (
            "templates/b.yaml",
            "b: {{ required \"b.x is required\" .Values.x }}",
        ),
        ("templates/c.yaml", "c: {{ fail \"stop\" }}"),
        ("templates/d.yaml", "d: {{ if }}"),
        ("templates/e.yaml", "e: ok"),
        ("templates/NOTES.txt", "{{ fail \"never rendered\" }}"),
        ("templates/_helpers.tpl", "{{ define \"h\" }}h{{ end }}"),
    ]);
    let r = render_chart(&fs, &[], &ReleaseInfo::default(), &Limits::default());
    assert_eq!(r.docs.len(), 1);
    assert_eq!(r.docs[0].text, "e: ok");
    let notes: Vec<(u32, u32, u32, &str)> = r
        .notes
        .iter()
        .map(|n| (n.span.file.0, n.span.start, n.span.end, n.message.as_str()))
        .collect();
    assert_eq!(
        notes,
        vec![
            (
                4,
                3,
                11,
                "template demo/templates/d.yaml does not parse: missing value for command"
            ),
            (
                1,
                6,
                18,
                "template demo/templates/a.yaml did not render: function \"nosuchfunc\" not defined"
            ),
            (
                2,
                6,
                42,
                "template demo/templates/b.yaml did not render: b.x is required"
            ),
            (
                3,
                6,
                17,
                "template demo/templates/c.yaml did not render: stop"
            ),
        ]
    );
}

#[test]
fn locations_point_at_the_template_and_the_values() {
    let values = "image:\n  repository: nginx\n  tag: latest\n";
    let tmpl = "kind: Pod\nspec:\n  image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n  name: {{ .Chart.Name }}\n";
    let prod = "image:\n  tag: \"1.25\"\n";
    let fs = files(&[
        ("Chart.yaml", CHART),
        ("values.yaml", values),
        ("templates/pod.yaml", tmpl),
        ("values-prod.yaml", prod),
    ]);
    let prod_node = chart::parse_yaml(&fs[3]).unwrap().unwrap();
    let r = render_chart(
        &fs,
        &[&prod_node],
        &ReleaseInfo::default(),
        &Limits::default(),
    );
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    let (docs, notes) = parse_rendered(&r.docs[0]);
    assert!(notes.is_empty());
    let root = &docs[0].root;
    let image = root.path(&["spec", "image"]).unwrap();
    assert_eq!(image.as_str(), Some("nginx:1.25"));
    // The scalar is located at its text in the template, quotes included.
    assert_eq!(
        &tmpl[image.span.start as usize..image.span.end as usize],
        "\"{{ .Values.image.repository }}:{{ .Values.image.tag }}\""
    );
    assert_eq!(image.span.file, FileId(2));
    // Its chain: the repository in values.yaml, the tag in values-prod.yaml.
    let via: Vec<(u32, String)> = image
        .via
        .as_ref()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h.span.file.0,
                fs[h.span.file.0 as usize].text[h.span.start as usize..h.span.end as usize]
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        via,
        vec![(1, "nginx".to_string()), (3, "\"1.25\"".to_string())]
    );
    // A key written literally maps byte for byte; a value from .Chart has no values hop.
    let name = root.path(&["spec", "name"]).unwrap();
    assert_eq!(
        &tmpl[name.span.start as usize..name.span.end as usize],
        "{{ .Chart.Name }}"
    );
    assert!(name.via.is_none());
    let key = &root.get("spec").unwrap().entries()[0].key;
    assert_eq!(
        &tmpl[key.span.start as usize..key.span.end as usize],
        "image"
    );
}

#[test]
fn values_inside_to_yaml_keep_their_lines() {
    let values = "securityContext:\n  privileged: true\n  runAsUser: 0\n";
    let tmpl = "kind: Pod\nspec:\n  securityContext:\n    {{- toYaml .Values.securityContext | nindent 4 }}\n";
    let fs = files(&[
        ("Chart.yaml", CHART),
        ("values.yaml", values),
        ("templates/pod.yaml", tmpl),
    ]);
    let r = render_chart(&fs, &[], &ReleaseInfo::default(), &Limits::default());
    let (docs, _) = parse_rendered(&r.docs[0]);
    let p = docs[0]
        .root
        .path(&["spec", "securityContext", "privileged"])
        .unwrap();
    assert_eq!(p.as_bool(), Some(true));
    assert_eq!(
        &tmpl[p.span.start as usize..p.span.end as usize],
        "{{- toYaml .Values.securityContext | nindent 4 }}"
    );
    let hop = p.via.as_ref().unwrap().last().span;
    assert_eq!(
        (hop.file.0, &values[hop.start as usize..hop.end as usize]),
        (1, "true")
    );
}

#[test]
fn subcharts_scope_values_and_share_globals() {
    let fs = files(&[
        (
            "Chart.yaml",
            "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: sub\n  repository: file://sub\n  condition: sub.enabled\n- name: gone\n  repository: file://charts/gone\n  condition: gone.enabled\n- name: remote\n  repository: https://charts.example.com\n- name: remote2\n  repository: oci://example.com/x\n",
        ),
        (
            "values.yaml",
            "global:\n  region: eu\nsub:\n  enabled: true\n  greeting: hi\ngone:\n  enabled: false\n",
        ),
        ("templates/_h.tpl", "{{ define \"who\" }}top{{ end }}"),
        (
            "charts/sub/Chart.yaml",
            "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
        ),
        (
            "charts/sub/values.yaml",
            "greeting: hello\nname: s\nglobal:\n  own: 1\n",
        ),
        (
            "charts/sub/templates/cm.yaml",
            "g: {{ .Values.greeting }}\nn: {{ .Values.name }}\nr: {{ .Values.global.region }}\no: {{ .Values.global.own }}\nc: {{ .Chart.Name }}\nt: {{ .Template.Name }}\nw: {{ include \"who\" . }}",
        ),
        (
            "charts/gone/Chart.yaml",
            "apiVersion: v2\nname: gone\nversion: 0.1.0\n",
        ),
        (
            "charts/gone/templates/x.yaml",
            "{{ fail \"disabled chart rendered\" }}",
        ),
    ]);
    let r = render_chart(&fs, &[], &ReleaseInfo::default(), &Limits::default());
    assert_eq!(r.docs.len(), 1, "{:?}", r.notes);
    assert_eq!(
        r.docs[0].text,
        "g: hi\nn: s\nr: eu\no: 1\nc: sub\nt: top/charts/sub/templates/cm.yaml\nw: top"
    );
    assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
    assert!(r.notes[0].message.contains(
        "dependency `remote` (https://charts.example.com) is not in the chart's charts/ directory"
    ));
}

// Hostile input: every bound is a note, never a hang, a crash or a stack
// overflow.

#[test]
fn self_including_define_is_bounded() {
    let e = fails(
        "{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" . }}",
        "",
    );
    assert!(e.contains("include each other more than 64 deep"), "{e}");
    let e = fails(
        "{{ define \"r\" }}x{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}",
        "",
    );
    assert!(e.contains("more than 64 deep"), "{e}");
    let e = fails(
        "{{ define \"r\" }}{{ tpl \"{{ include \\\"r\\\" . }}\" . }}{{ end }}{{ include \"r\" . }}",
        "",
    );
    assert!(e.contains("deep"), "{e}");
    // The worst nesting of the stack: each level of inclusion inside the
    // deepest control structures and parentheses a template may have.
    let body = format!(
        "{}{{{{ include \"r\" {}.{} }}}}{}",
        "{{ if true }}{{ with . }}".repeat(49),
        "(".repeat(99),
        ")".repeat(99),
        "{{ end }}{{ end }}".repeat(49)
    );
    let t = format!("{{{{ define \"r\" }}}}{body}{{{{ end }}}}{{{{ include \"r\" . }}}}");
    let e = fails(&t, "a: 1\n");
    assert!(e.contains("more than 64 deep"), "{e}");
}

#[test]
fn huge_ranges_and_outputs_are_bounded() {
    let e = fails("{{ range until 1000000000 }}x{{ end }}", "");
    assert!(e.contains("more than 100000"), "{e}");
    let e = fails("{{ range 1000000000 }}x{{ end }}", "");
    assert!(e.contains("more than 100000"), "{e}");
    let e = fails(
        "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}",
        "",
    );
    assert!(e.contains("evaluation steps"), "{e}");
    let e = fails(
        "{{ $s := \"xxxxxxxxxxxxxxxx\" }}{{ range until 40 }}{{ $s = printf \"%s%s\" $s $s }}{{ end }}",
        "",
    );
    assert!(
        e.contains("printf would make more than 8388608 bytes"),
        "{e}"
    );
    // Many references to one long string, joined, printed or written as
    // YAML, stop at the bound before the text is made.
    let long = "{{ $s := repeat 1000000 \"x\" }}{{ $l := list }}{{ range until 20 }}{{ $l = append $l $s }}{{ end }}";
    for (use_, want) in [
        ("{{ join \",\" $l }}", "join would make more than"),
        ("{{ cat $l }}", "cat would make more than"),
        ("{{ $l }}", "passed 8388608 bytes"),
        ("{{ toYaml $l }}", "toYaml of a value nested deeper than 64"),
        ("{{ toJson $l }}", "toJson of a value nested deeper than 64"),
        ("{{ toStrings $l }}", "toStrings would make more than"),
        (
            "{{ replace \"\" \"yyyyyyyyyy\" $s }}",
            "replace would make more than",
        ),
        (
            "{{ regexReplaceAll \"x\" $s \"$0$0$0$0$0$0$0$0$0\" }}",
            "regexReplaceAll would make more than",
        ),
        (
            "{{ splitList \"\" $s }}",
            "splitList would make more than 100000 items",
        ),
        (
            "{{ nindent 1000 (repeat 100000 \"\\n\") }}",
            "nindent would make more than",
        ),
    ] {
        let e = fails(&format!("{long}{use_}"), "");
        assert!(e.contains(want), "{use_}: {e}");
    }
    let small = Limits {
        max_output: 1000,
        ..Limits::default()
    };
    let e = render_with("{{ range until 2000 }}x{{ end }}", "", &small).unwrap_err();
    assert!(e.contains("passed 1000 bytes"), "{e}");
    // Reading a long text over and over costs steps.
    let e = fails(
        "{{ $s := repeat 4000000 \"x\" }}{{ range until 1000 }}{{ $_ := contains \"y\" $s }}{{ end }}",
        "",
    );
    assert!(e.contains("evaluation steps"), "{e}");
    let e = fails("{{ repeat 100000000 \"abc\" }}", "");
    assert!(e.contains("over the output limit"), "{e}");
}

#[test]
fn values_shared_many_times_over_are_bounded() {
    // 2^60 paths through 60 maps, each holding the next one twice.
    let dag = "{{ $m := dict }}{{ range until 60 }}{{ $m = dict \"a\" $m \"b\" $m }}{{ end }}";
    let dag2 = "{{ $n := dict }}{{ range until 60 }}{{ $n = dict \"a\" $n \"b\" $n }}{{ end }}";
    for (use_, want) in [
        ("{{ eq (list $m) (list $n) }}", "more than a million values"),
        ("{{ deepCopy $m }}", "deepCopy of more than 100000"),
        (
            "{{ merge (deepCopy (dict)) $m $n }}",
            "merge of more than 100000 entries",
        ),
        ("{{ toYaml $m }}", "toYaml of a value nested deeper than 64"),
        ("{{ toJson $m }}", "nested deeper than 64"),
        ("{{ uniq (list $m $n) }}", "more than a million values"),
        ("{{ has $m (list $n) }}", "more than a million values"),
    ] {
        let e = fails(&format!("{dag}{dag2}{use_}"), "");
        assert!(e.contains(want), "{use_}: {e}");
    }
    // The same list twice is equal at once.
    assert_eq!(ok(&format!("{dag}{{{{ eq $m $m }}}}"), ""), "true");
    let e = fails("{{ uniq (until 100000) }}", "");
    assert!(e.contains("evaluation steps"), "{e}");
}

#[test]
fn deep_nesting_is_bounded() {
    let t = "{{ if true }}".repeat(5000) + &"{{ end }}".repeat(5000);
    assert!(fails(&t, "").contains("nested deeper than 100"));
    let t = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    assert!(fails(&t, "").contains("nested deeper than 100"));
    let t = format!(
        "{{{{ if false }}}}{}{{{{ end }}}}",
        "{{ else if false }}".repeat(5000)
    );
    assert!(fails(&t, "").contains("too many else arms"));
    // A map that holds itself.
    let e = fails(
        "{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ toYaml $d }}",
        "",
    );
    assert!(e.contains("toYaml of a value nested deeper than 64"), "{e}");
    let e = fails(
        "{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ toJson $d }}",
        "",
    );
    assert!(e.contains("nested deeper"), "{e}");
    // Printing it stops at a depth too.
    assert!(ok("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ $d }}", "").contains("..."));
    // Deep values.
    let deep = "a: ".to_string() + &"{x: ".repeat(200) + "1" + &"}".repeat(200) + "\n";
    assert!(fails("{{ toYaml .Values }}", &deep).contains("nested deeper"));
}

#[test]
fn unclosed_and_broken_templates_are_syntax_errors() {
    for t in [
        "{{ if true }}",
        "{{ end }}",
        "{{ else }}",
        "{{ \"unterminated }}",
        "{{ 1 ",
        "{{/* open",
        "{{ ( 1 }}",
        "{{ 1) }}",
        "{{ range $a, $b, $c := . }}{{ end }}",
        "{{ $x := }}",
        "{{ .a | }}",
        "{{ define 1 }}{{ end }}",
        "{{ @ }}",
    ] {
        let e = fails(t, "");
        assert!(e.contains("does not parse"), "{t}: {e}");
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "{{ ",
        " }}",
        "{{- ",
        " -}}",
        "{{/* c */}}",
        "if ",
        "else ",
        "end",
        "range ",
        "with ",
        "define \"d\"",
        "template \"d\" .",
        "include \"d\" .",
        "$x := ",
        "$x",
        "$",
        ".",
        ".Values",
        ".a",
        "(",
        ")",
        "|",
        "\"s\"",
        "`r`",
        "1",
        "-2",
        "nil",
        "true",
        "quote",
        "toYaml",
        "nindent 2",
        "dict \"k\" ",
        "list 1 2",
        "tpl \"{{ . }}\" .",
        "until 5",
        "printf \"%s\"",
        "default 1",
        "\n",
        "text: ",
        "- ",
        "key: {{ .Values.a }}\n",
        "break",
        "continue",
    ];

    fn template() -> impl Strategy<Value = String> {
        proptest::collection::vec(0..FRAGMENTS.len(), 0..40)
            .prop_map(|ix| ix.into_iter().map(|i| FRAGMENTS[i]).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Any mix of template syntax renders or gives notes, never
        /// panics, and the output's segments stay inside the template.
        #[test]
        fn renders_or_notes_never_panics(t in template()) {
            let limits = Limits { max_output: 1 << 16, max_steps: 20_000, ..Limits::default() };
            let fs = files(&[("Chart.yaml", CHART), ("values.yaml", "a: {b: [1, x]}\n"), ("templates/t.yaml", &t)]);
            let r = render_chart(&fs, &[], &ReleaseInfo::default(), &limits);
            prop_assert!(r.docs.len() + r.notes.len() >= 1);
            for d in &r.docs {
                prop_assert!(d.text.len() <= 1 << 16);
                let mut last = 0;
                for s in &d.segs {
                    prop_assert!(s.start >= last && s.end > s.start && s.end as usize <= d.text.len());
                    last = s.end;
                    if s.exact {
                        prop_assert_eq!(&t[s.tmpl.start as usize..s.tmpl.end as usize], &d.text[s.start as usize..s.end as usize]);
                    }
                }
                let _ = parse_rendered(d);
            }
        }
    }
}

#[test]
fn per_environment_renders_do_not_share_state() {
    // `set` on .Values in one environment's render must not reach the next.
    let fs = files(&[
        ("Chart.yaml", CHART),
        ("values.yaml", "m: {a: base}\n"),
        (
            "templates/t.yaml",
            "{{ .Values.m.a }}{{ $_ := set .Values.m \"a\" \"changed\" }}",
        ),
        ("values-prod.yaml", "x: 1\n"),
        ("values-off.yaml", "m: {a: other}\n"),
    ]);
    let prod = chart::parse_yaml(&fs[3]).unwrap().unwrap();
    let off = chart::parse_yaml(&fs[4]).unwrap().unwrap();
    let sets: [&[&Node]; 3] = [&[], &[&prod], &[&off]];
    let r = render_chart_per_env(&fs, &sets, &ReleaseInfo::default(), &Limits::default());
    let texts: Vec<&str> = r.iter().map(|r| r.docs[0].text.as_str()).collect();
    assert_eq!(texts, ["base", "base", "other"]);
}
