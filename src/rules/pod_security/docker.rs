//! Dockerfile hardening (issue 18, part 5): HEALTHCHECK, `ADD <url>`, and
//! package-manager hygiene in the stages that end up in the final image.

use super::walk::{Command, commands, final_chain, flags, stages, values};
use crate::finding::{Finding, Severity};
use crate::model::{DocKind, Model};
use crate::node::Node;
use crate::rules::{Family, Rule, TierSeverity};

/// A note everywhere.
const NOTE: TierSeverity = TierSeverity {
    dev: Some(Severity::Note),
    staging: Severity::Note,
    prod: Severity::Note,
};

pub static MISSING_HEALTHCHECK: Rule = Rule {
    id: "HD040",
    name: "dockerfile-missing-healthcheck",
    family: Family::Hardening,
    severity: Severity::Note,
    summary: "A Dockerfile's final stage defines no HEALTHCHECK (or HEALTHCHECK NONE)",
    help: "add `HEALTHCHECK CMD <probe>` to the final stage (Kubernetes ignores it: use probes there)",
    explanation: r#"**Why.** Docker, Compose and ECS know whether a container is healthy only if the image
(or the task definition) says how to ask. Without a `HEALTHCHECK`, a hung process is "running"
and keeps receiving traffic; the article's zero-downtime rollout (section 4) needs a health
signal to wait for. guard reads the final stage (and the stages it builds on) and reports a
missing `HEALTHCHECK`, or one that turns it off with `NONE`. Kubernetes ignores the
instruction (it uses readiness and liveness probes, WL001), so images that only run there can
suppress this rule. A warning where the image reaches prod, a note elsewhere.

Equivalent checks: Checkov CKV_DOCKER_2; Trivy DS026; KICS "Healthcheck Instruction Missing"
(b03a748a-542d-44f4-bb86-9199ab4fd2d5).

**How to fix.**

```dockerfile
# bad
FROM node:20-alpine
CMD ["node", "server.js"]
```
```dockerfile
# good
FROM node:20-alpine
HEALTHCHECK --interval=30s --timeout=3s CMD wget -qO- http://localhost:8080/healthz || exit 1
CMD ["node", "server.js"]
```
"#,
    security_severity: "2.0",
    tags: &["hardening", "dockerfile", "reliability"],
    check: Some(check_healthcheck),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Note,
        prod: Severity::Warning,
    }),
};

fn check_healthcheck(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Dockerfile) {
        let all = stages(&doc.root);
        let chain = final_chain(&all);
        let Some(last) = chain.first() else { continue };
        // `FROM scratch` images (a static binary) have nothing to probe with.
        if last.base == "scratch" {
            continue;
        }
        let hc = chain
            .iter()
            .find_map(|s| {
                s.ins
                    .iter()
                    .rev()
                    .find(|i| i.str_at(&["Cmd"]) == Some("healthcheck"))
            })
            .copied();
        match hc {
            Some(i)
                if values(i)
                    .first()
                    .is_some_and(|v| v.eq_ignore_ascii_case("none")) =>
            {
                out.push(MISSING_HEALTHCHECK.finding(
                    i.span,
                    "the final stage turns the health check off (`HEALTHCHECK NONE`)".into(),
                ));
            }
            Some(_) => {}
            None => out.push(MISSING_HEALTHCHECK.finding(
                last.from.span,
                "the final stage of this Dockerfile defines no HEALTHCHECK".into(),
            )),
        }
    }
}

pub static ADD_URL: Rule = Rule {
    id: "HD041",
    name: "dockerfile-add-url",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A Dockerfile downloads with `ADD <url>` without `--checksum`",
    help: "download with curl and verify a checksum in a RUN, or use `ADD --checksum=sha256:...`, or COPY a vendored file",
    explanation: r#"**Why.** `ADD https://...` fetches whatever the server returns at build time, with no
integrity check: the same Dockerfile builds different images on different days, and a
compromised or hijacked download lands in the image unnoticed. That breaks the article's
build-once promise at its root (section 2): the artifact is not reproducible. guard reports
each `ADD` of an `http(s)://` or `git@` source without `--checksum` (BuildKit's verified
download), in any stage.

Equivalent checks: Checkov CKV_DOCKER_4 (any ADD); Trivy DS005 (ADD instead of COPY); KICS "Add
Instead of Copy" (9513a694-aa0d-41d8-be61-3271e056f36b).

**How to fix.**

```dockerfile
# bad
ADD https://example.com/tool.tar.gz /opt/
```
```dockerfile
# good
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d \
    https://example.com/tool.tar.gz /opt/
```
"#,
    security_severity: "5.0",
    tags: &["hardening", "dockerfile", "supply-chain"],
    check: Some(check_add_url),
    tiers: Some(TierSeverity {
        dev: Some(Severity::Note),
        staging: Severity::Warning,
        prod: Severity::Warning,
    }),
};

fn check_add_url(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Dockerfile) {
        for i in doc.root.as_seq() {
            if i.str_at(&["Cmd"]) != Some("add") {
                continue;
            }
            if flags(i).iter().any(|f| f.starts_with("--checksum")) {
                continue;
            }
            let vals = i.get("Value").map(Node::as_seq).unwrap_or(&[]);
            // Every value but the last (the destination) is a source.
            for v in vals.iter().take(vals.len().saturating_sub(1)) {
                let Some(s) = v.as_str() else { continue };
                let lower = s.to_ascii_lowercase();
                if lower.starts_with("http://")
                    || lower.starts_with("https://")
                    || lower.starts_with("git@")
                {
                    out.push(ADD_URL.finding(
                        v.span,
                        format!("`ADD` downloads `{s}` at build time without a checksum"),
                    ));
                }
            }
        }
    }
}

pub static APT_HYGIENE: Rule = Rule {
    id: "HD042",
    name: "dockerfile-apt-get-hygiene",
    family: Family::Hardening,
    severity: Severity::Note,
    summary: "`apt-get install` without --no-install-recommends, or without removing /var/lib/apt/lists in the same RUN",
    help: "use `apt-get install -y --no-install-recommends ... && rm -rf /var/lib/apt/lists/*` in one RUN",
    explanation: r#"**Why.** Every package in the final image is attack surface and something to patch.
`apt-get install` without `--no-install-recommends` pulls in "recommended" packages nobody
asked for; the package lists it downloaded stay in the layer unless the same `RUN` deletes
`/var/lib/apt/lists` (a later `RUN rm` cannot shrink an earlier layer). guard checks the RUN
instructions of the final stage and the stages it builds on (a builder stage is thrown away,
so it is not judged); a BuildKit cache mount of `/var/lib/apt` counts as cleaning.

Equivalent checks: Trivy DS029 (`--no-install-recommends`); KICS "APT-GET Not Avoiding
Additional Packages" (7384dfb2-fcd1-4fbf-91cd-6c44c318c33c) and "Apt Get Install Lists Were Not
Deleted" (df746b39-6564-4fed-bf85-e9c44382303c). (Checkov's CKV_DOCKER_9 is about `apt`, not
`apt-get`.)

**How to fix.**

```dockerfile
# bad
RUN apt-get update && apt-get install -y curl
```
```dockerfile
# good
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
```
"#,
    security_severity: "2.0",
    tags: &["hardening", "dockerfile"],
    check: Some(check_apt),
    tiers: Some(NOTE),
};

/// The words of a command after `sudo` and `VAR=value` assignments.
fn program(cmd: &Command) -> &[(String, crate::source::Span)] {
    let skip = cmd
        .iter()
        .take_while(|(w, _)| w == "sudo" || w == "env" || (w.contains('=') && !w.starts_with('-')))
        .count();
    &cmd[skip..]
}

/// A cache mount of `dir` (`RUN --mount=type=cache,target=/var/lib/apt`).
fn cache_mount(i: &Node, dir: &str) -> bool {
    flags(i)
        .iter()
        .any(|f| f.starts_with("--mount") && f.contains("type=cache") && f.contains(dir))
}

fn check_apt(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Dockerfile) {
        let all = stages(&doc.root);
        for st in final_chain(&all) {
            for i in st.ins.iter().filter(|i| i.str_at(&["Cmd"]) == Some("run")) {
                let cmds = commands(i);
                let cleans = cache_mount(i, "/var/lib/apt")
                    || cmds
                        .iter()
                        .flatten()
                        .any(|(w, _)| w.contains("/var/lib/apt/lists"));
                for c in &cmds {
                    let words = program(c);
                    let Some((first, at)) = words.first() else {
                        continue;
                    };
                    if first != "apt-get" || !words.iter().any(|(w, _)| w == "install") {
                        continue;
                    }
                    let no_rec = words.iter().any(|(w, _)| {
                        w == "--no-install-recommends" || w.contains("Install-Recommends=")
                    });
                    let mut missing = Vec::new();
                    if !no_rec {
                        missing.push("`--no-install-recommends`");
                    }
                    if !cleans {
                        missing.push("removing /var/lib/apt/lists in the same RUN");
                    }
                    if !missing.is_empty() {
                        out.push(APT_HYGIENE.finding(
                            *at,
                            format!(
                                "`apt-get install` without {}",
                                missing.join(" and without ")
                            ),
                        ));
                    }
                }
            }
        }
    }
}

pub static APK_NO_CACHE: Rule = Rule {
    id: "HD043",
    name: "dockerfile-apk-no-cache",
    family: Family::Hardening,
    severity: Severity::Note,
    summary: "`apk add` without --no-cache (and without removing /var/cache/apk in the same RUN)",
    help: "use `apk add --no-cache ...`",
    explanation: r#"**Why.** `apk add` keeps the package index it downloaded in `/var/cache/apk` unless told
not to; the layer carries it forever, and it goes stale the day after the build. `--no-cache`
fetches the index to a temporary place and leaves nothing behind (no `apk update` needed
either). guard checks the RUN instructions of the final stage and the stages it builds on; a
`rm -rf /var/cache/apk` in the same RUN, or a BuildKit cache mount of it, counts as cleaning.

Equivalent checks: Trivy DS025; KICS "Apk Add Using Local Cache Path"
(ae9c56a6-3ed1-4ac0-9b54-31267f51151d). (No Checkov equivalent.)

**How to fix.**

```dockerfile
# bad
RUN apk update && apk add curl
```
```dockerfile
# good
RUN apk add --no-cache curl
```
"#,
    security_severity: "1.5",
    tags: &["hardening", "dockerfile"],
    check: Some(check_apk),
    tiers: Some(NOTE),
};

fn check_apk(m: &Model, out: &mut Vec<Finding>) {
    for doc in m.docs.iter().filter(|d| d.kind == DocKind::Dockerfile) {
        let all = stages(&doc.root);
        for st in final_chain(&all) {
            for i in st.ins.iter().filter(|i| i.str_at(&["Cmd"]) == Some("run")) {
                let cmds = commands(i);
                let cleans = cache_mount(i, "/var/cache/apk")
                    || cmds
                        .iter()
                        .flatten()
                        .any(|(w, _)| w.contains("/var/cache/apk"));
                if cleans {
                    continue;
                }
                for c in &cmds {
                    let words = program(c);
                    let Some((first, at)) = words.first() else {
                        continue;
                    };
                    if first != "apk" || words.get(1).map(|w| w.0.as_str()) != Some("add") {
                        continue;
                    }
                    if words.iter().any(|(w, _)| w == "--no-cache") {
                        continue;
                    }
                    out.push(
                        APK_NO_CACHE.finding(
                            *at,
                            "`apk add` without `--no-cache` keeps the package index in the image"
                                .into(),
                        ),
                    );
                }
            }
        }
    }
}
