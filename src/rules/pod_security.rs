//! Family `hardening`: Kubernetes Pod Security Standards (baseline, restricted) and container hardening, severity by environment tier.
//!
//! One rule per control of the Kubernetes project's Pod Security Standards
//! (so a suppression maps to a control), a few controls the usual scanners
//! add (read-only root filesystem, service account token, namespace, pull
//! policy), and Dockerfile hygiene. A finding holds in the environments of
//! the place it is written at (a base line: every overlay rendering it); its
//! severity comes from the strictest tier among them (see [`tier_severity`]),
//! and guard.toml's `[hardening] pod-security` decides which profile each
//! tier must meet.

mod docker;
mod walk;

use super::{Family, Rule, TierSeverity};
use crate::config::{PodSecurityProfiles, PssProfile, PssVersion};
use crate::env::{Env, Tier};
use crate::finding::{Finding, Severity};
use crate::model::{DocKind, Model};
use crate::node::Node;
use walk::{container_anchor, is_false, is_true, kv, pods, sc, text};

/// Baseline controls: error in prod, warning in staging, note in dev.
const BASELINE: TierSeverity = TierSeverity::STRICT_IN_PROD;
/// Restricted-only controls: error in prod, note in staging, silent in dev.
const RESTRICTED: TierSeverity = TierSeverity {
    dev: None,
    staging: Severity::Note,
    prod: Severity::Error,
};
/// Advice more than a control (namespace, pull policy): warning in prod.
const ADVISORY: TierSeverity = TierSeverity {
    dev: None,
    staging: Severity::Note,
    prod: Severity::Warning,
};

/// The severity of a finding of `rule` that holds in `envs` (empty: every
/// environment, judged as prod); `None` drops it. Without
/// `[hardening] pod-security`, the rule's tier severities; with it, a
/// Pod Security control holds only in the tiers whose profile includes it
/// (a tier the rule is silent in by default then gets a note).
pub fn tier_severity(
    rule: &Rule,
    envs: &[Env],
    profiles: Option<&PodSecurityProfiles>,
) -> Option<Severity> {
    let t = rule.tiers?;
    let (Some(p), Some(level)) = (profiles, level(rule)) else {
        return t.for_envs(envs);
    };
    let tiers: Vec<Tier> = if envs.is_empty() {
        vec![Tier::Prod]
    } else {
        envs.iter().map(|e| e.tier()).collect()
    };
    tiers
        .into_iter()
        .filter(|tier| p.for_tier(*tier) >= level)
        .map(|tier| match tier {
            Tier::Dev => t.dev.unwrap_or(Severity::Note),
            Tier::Staging => t.staging,
            Tier::Prod => t.prod,
        })
        .max()
}

/// The profile a rule's control belongs to (its `pss-*` tag); the extra
/// Kubernetes controls count as restricted.
fn level(rule: &Rule) -> Option<PssProfile> {
    if rule.tags.contains(&"pss-baseline") {
        Some(PssProfile::Baseline)
    } else if rule.tags.contains(&"pss-restricted") {
        Some(PssProfile::Restricted)
    } else {
        None
    }
}

/// A finding about one rendering of a pod, in the environments of that
/// rendering (the same place from several renderings becomes one finding
/// when findings are located, in `finding::locate_all`).
fn push(
    out: &mut Vec<Finding>,
    p: &walk::Pod<'_>,
    rule: &'static Rule,
    at: impl Into<walk::At>,
    msg: String,
) {
    let at = at.into();
    out.push(
        rule.finding(at.span, msg)
            .envs(p.envs.iter().copied())
            .via(&at.via),
    );
}

// ---------------------------------------------------------------- baseline

pub static HOST_NAMESPACES: Rule = Rule {
    id: "HD001",
    name: "host-namespaces",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod shares the node's network, PID or IPC namespace (hostNetwork/hostPID/hostIPC)",
    help: "remove hostNetwork, hostPID and hostIPC (or set them to false)",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "Host Namespaces". A pod
with `hostNetwork: true` sees every interface of the node and can bind its ports; with
`hostPID: true` it sees (and with the right capabilities, signals or traces) every process of
the node; with `hostIPC: true` it shares the node's shared memory. Each one removes a wall
between the workload and the machine it runs on. The article's point applies directly: staging
exists to rehearse prod, so a pod that would be refused by a prod cluster enforcing the baseline
profile should already fail in staging. guard reports it as an error where the workload reaches
prod, a warning in staging, a note in dev.

Equivalent checks: Checkov CKV_K8S_17 (hostPID), CKV_K8S_18 (hostIPC), CKV_K8S_19
(hostNetwork); Trivy KSV010 (hostPID), KSV008 (hostIPC), KSV009 (hostNetwork); KICS "Shared Host
PID Namespace" (302736f4-b16c-41b8-befe-c0baffa0bd9d), "Shared Host IPC Namespace"
(cd290efd-6c82-4e9d-a698-be12ae31d536), "Shared Host Network Namespace"
(6b6bdfb3-c3ae-44cb-88e4-7405c1ba2c8a).

**How to fix.** Drop the field. An agent that truly needs the host (a CNI plugin, a node
exporter) belongs in a namespace labelled for the privileged profile, with a suppression that
says why.

```yaml
# bad
spec:
  hostNetwork: true
  containers:
    - name: app
      image: registry.example.com/app:1.4.2
```
```yaml
# good
spec:
  containers:
    - name: app
      image: registry.example.com/app:1.4.2
```
"#,
    security_severity: "8.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_host_namespaces),
    tiers: Some(BASELINE),
};

fn check_host_namespaces(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            if let Some(e) = p.spec.entry(key).filter(|e| is_true(&e.value)) {
                let msg = format!(
                    "{} sets `{key}: true`: it shares the node's namespace",
                    p.owner
                );
                push(out, &p, &HOST_NAMESPACES, kv(e), msg);
            }
        }
    }
}

pub static PRIVILEGED: Rule = Rule {
    id: "HD002",
    name: "privileged-container",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container runs privileged (securityContext.privileged: true)",
    help: "remove `privileged: true`; grant the one capability the process needs instead",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "Privileged Containers". A
privileged container gets every capability, every device of the node and no seccomp or AppArmor
confinement: root in it is root on the node. It is the first thing an attacker who lands in a
pod looks for. Staging should refuse it just as prod does, or the first time anyone notices is
the prod admission webhook rejecting the rollout.

Equivalent checks: Checkov CKV_K8S_16; Trivy KSV017; KICS "Container Is Privileged"
(dd29336b-fe57-445b-a26e-e6aa867ae609).

**How to fix.** Remove the flag; if the process needs one specific power, add that capability
(and only it).

```yaml
# bad
securityContext:
  privileged: true
```
```yaml
# good
securityContext:
  privileged: false
  capabilities:
    drop: [ALL]
```
"#,
    security_severity: "9.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_privileged),
    tiers: Some(BASELINE),
};

fn check_privileged(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        for c in p.containers() {
            if let Some(e) = sc(c, "privileged").filter(|e| is_true(&e.value)) {
                let msg = format!("{} runs privileged", p.describe(c));
                push(out, &p, &PRIVILEGED, kv(e), msg);
            }
        }
    }
}

/// The capabilities the baseline profile allows adding.
const BASELINE_CAPS: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `cap_sys_admin` → `SYS_ADMIN`: the name a capability is usually meant
/// as (Pod Security compares the names as written; this only words a hint).
fn cap_name(s: &str) -> String {
    let u = s.trim().to_ascii_uppercase();
    u.strip_prefix("CAP_").map(str::to_string).unwrap_or(u)
}

pub static ADDED_CAPABILITIES: Rule = Rule {
    id: "HD003",
    name: "capabilities-beyond-baseline",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container adds a Linux capability outside the baseline profile's list (SYS_ADMIN, NET_ADMIN, NET_RAW, ...)",
    help: "remove the capability from securityContext.capabilities.add",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "Capabilities". The baseline
profile lets a container add only the capabilities a default container runtime grants anyway
(AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP,
SETGID, SETPCAP, SETUID, SYS_CHROOT). Anything else widens the kernel surface: `SYS_ADMIN` is
close to privileged, `NET_ADMIN` rewrites the node's network, `SYS_PTRACE` reads other
processes' memory. guard reports each such capability where it is added. Names are compared
exactly as written, as Pod Security Admission compares them: `chown` or `CAP_CHOWN` is not
`CHOWN` and is refused (the message says which name was meant). The *restricted* profile's
stricter rule (drop ALL, add at most NET_BIND_SERVICE) is HD025.

Equivalent checks: Checkov CKV_K8S_25 (added capability), CKV_K8S_39 (SYS_ADMIN); Trivy
KSV022 (non-default capabilities), KSV005 (SYS_ADMIN); KICS "Allowed Capabilities"
(19ebaa28-fc86-4a58-bcfa-015c9e22fe40).

**How to fix.** Remove the capability; redesign so the container does not need it, or isolate
the workload that does.

```yaml
# bad
securityContext:
  capabilities:
    add: [NET_ADMIN]
```
```yaml
# good
securityContext:
  capabilities:
    drop: [ALL]
```
"#,
    security_severity: "7.5",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_added_caps),
    tiers: Some(BASELINE),
};

fn check_added_caps(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        for c in p.containers() {
            let Some(add) = c.path(&["securityContext", "capabilities", "add"]) else {
                continue;
            };
            for cap in add.as_seq() {
                let written = text(cap);
                if written.is_empty() || BASELINE_CAPS.contains(&written.as_str()) {
                    continue;
                }
                let meant = cap_name(&written);
                let msg = if BASELINE_CAPS.contains(&meant.as_str()) {
                    format!(
                        "{} adds the capability `{written}`: Pod Security compares names exactly, write `{meant}`",
                        p.describe(c)
                    )
                } else {
                    format!("{} adds the capability `{written}`", p.describe(c))
                };
                push(out, &p, &ADDED_CAPABILITIES, cap.span, msg);
            }
        }
    }
}

pub static HOST_PATH: Rule = Rule {
    id: "HD004",
    name: "host-path-volume",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod mounts a directory of the node (a hostPath volume)",
    help: "use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead of hostPath",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "HostPath Volumes". A
hostPath volume gives the container the node's files: `/var/run/docker.sock` or the containerd
socket is control of every container of the node, `/etc` or `/var/lib/kubelet` are the node's
credentials. Writable, it is a way out of the container; read-only, it still leaks. Because the
node differs between environments (a kind cluster in dev, hardened nodes in prod) a hostPath
that "works in staging" proves little about prod.

Equivalent checks: Checkov CKV_K8S_27 (the docker socket only); Trivy KSV023 (hostPath
volumes), KSV006 (docker.sock).

**How to fix.** Use a volume type that belongs to the pod.

```yaml
# bad
volumes:
  - name: docker
    hostPath:
      path: /var/run/docker.sock
```
```yaml
# good
volumes:
  - name: scratch
    emptyDir: {}
```
"#,
    security_severity: "8.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_host_path),
    tiers: Some(BASELINE),
};

fn check_host_path(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        for v in p.spec.get("volumes").map(Node::as_seq).unwrap_or(&[]) {
            let Some(e) = v.entry("hostPath") else {
                continue;
            };
            let path = e.value.str_at(&["path"]).unwrap_or("?");
            let msg = format!(
                "volume `{}` of {} mounts the node's `{path}`",
                v.str_at(&["name"]).unwrap_or("?"),
                p.owner
            );
            push(out, &p, &HOST_PATH, e.key.span, msg);
        }
    }
}

pub static HOST_PORTS: Rule = Rule {
    id: "HD005",
    name: "host-port",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container binds a port of the node (ports[].hostPort)",
    help: "remove hostPort; expose the port through a Service",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "Host Ports". A `hostPort`
opens the port on the node's own address, around the Service and NetworkPolicy layer; it also
ties the pod to nodes where the port is free, so a rollout can stall for lack of room. guard
reports every non-zero `hostPort` of any container (init and ephemeral too).

Equivalent checks: Checkov CKV_K8S_26; Trivy KSV024.

**How to fix.** Remove `hostPort` and reach the pod through a Service (NodePort or a load
balancer when it must be reachable from outside).

```yaml
# bad
ports:
  - containerPort: 8080
    hostPort: 8080
```
```yaml
# good
ports:
  - containerPort: 8080
```
"#,
    security_severity: "5.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_host_ports),
    tiers: Some(BASELINE),
};

fn check_host_ports(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        for c in p.containers() {
            for port in c.get("ports").map(Node::as_seq).unwrap_or(&[]) {
                if let Some(e) = port.entry("hostPort") {
                    let t = text(&e.value);
                    if t.is_empty() || t == "0" {
                        continue;
                    }
                    let msg = format!("{} binds the node's port {t}", p.describe(c));
                    push(out, &p, &HOST_PORTS, kv(e), msg);
                }
            }
        }
    }
}

pub static APPARMOR: Rule = Rule {
    id: "HD006",
    name: "apparmor-profile-overridden",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod or container sets an AppArmor profile other than the runtime default or a localhost profile",
    help: "use `runtime/default` (annotation) or `type: RuntimeDefault` (appArmorProfile), or a localhost profile",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "AppArmor". On nodes with
AppArmor, the runtime's default profile confines every container; setting a container to
`unconfined` (the `container.apparmor.security.beta.kubernetes.io/<name>` annotation) or
`appArmorProfile.type: Unconfined` (Kubernetes 1.30+) removes that confinement. The baseline
profile allows only the runtime default and `localhost/` profiles. guard reads both the
annotation on the pod template and the `appArmorProfile` field of the pod and each container.

Equivalent checks: Trivy KSV002. (Checkov has no Kubernetes AppArmor check.)

**How to fix.** Remove the override, or name the runtime default.

```yaml
# bad
metadata:
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
```
```yaml
# good
spec:
  securityContext:
    appArmorProfile:
      type: RuntimeDefault
```
"#,
    security_severity: "6.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_apparmor),
    tiers: Some(BASELINE),
};

fn check_apparmor(m: &Model, out: &mut Vec<Finding>) {
    const PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";
    for p in pods(m).iter() {
        let annotations = p.meta.and_then(|m| m.get("annotations"));
        for e in annotations.map(Node::entries).unwrap_or(&[]) {
            let Some(cname) = e.key_str().and_then(|k| k.strip_prefix(PREFIX)) else {
                continue;
            };
            let v = text(&e.value);
            if v == "runtime/default" || v.starts_with("localhost/") || v.is_empty() {
                continue;
            }
            let msg = format!(
                "container `{cname}` of {} runs with the AppArmor profile `{v}`",
                p.owner
            );
            push(out, &p, &APPARMOR, kv(e), msg);
        }
        let mut places: Vec<(String, &Node)> = vec![(p.owner.clone(), p.spec)];
        places.extend(p.containers().map(|c| (p.describe(c), c)));
        for (who, n) in places {
            if let Some(e) = n
                .path(&["securityContext", "appArmorProfile"])
                .and_then(|a| a.entry("type"))
            {
                let v = text(&e.value);
                if v != "RuntimeDefault" && v != "Localhost" && !v.is_empty() {
                    let msg = format!("{who} sets the AppArmor profile type `{v}`");
                    push(out, &p, &APPARMOR, kv(e), msg);
                }
            }
        }
    }
}

/// The SELinux types the baseline profile allows (`container_engine_t`
/// since v1.31).
fn selinux_type_allowed(t: &str, v: PssVersion) -> bool {
    matches!(t, "container_t" | "container_init_t" | "container_kvm_t")
        || (t == "container_engine_t" && v.since(31))
}

pub static SELINUX: Rule = Rule {
    id: "HD007",
    name: "selinux-options",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod or container sets a custom SELinux type, user or role",
    help: "remove seLinuxOptions.user/role and use a container_* type (or none)",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "SELinux". SELinux labels
confine a container to its own files; choosing a custom type (`spc_t` is "super privileged
container"), user or role can switch that confinement off. The baseline profile allows only the
types `container_t`, `container_init_t`, `container_kvm_t` and (since Kubernetes v1.31)
`container_engine_t`, and no user or role. guard checks `seLinuxOptions` of the pod and of every
container, at the release `[hardening] pod-security-version` names (default: the latest).

Equivalent checks: Trivy KSV025. (Checkov has no Kubernetes SELinux check.)

**How to fix.** Remove the options, or keep only `level` (MCS categories are allowed).

```yaml
# bad
securityContext:
  seLinuxOptions:
    type: spc_t
```
```yaml
# good
securityContext:
  seLinuxOptions:
    level: "s0:c123,c456"
```
"#,
    security_severity: "6.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_selinux),
    tiers: Some(BASELINE),
};

fn check_selinux(m: &Model, out: &mut Vec<Finding>) {
    let version = m.pss_version;
    for p in pods(m).iter() {
        let mut places: Vec<(String, &Node)> = vec![(p.owner.clone(), p.spec)];
        places.extend(p.containers().map(|c| (p.describe(c), c)));
        for (who, n) in places {
            let Some(opts) = n.path(&["securityContext", "seLinuxOptions"]) else {
                continue;
            };
            for e in opts.entries() {
                let v = text(&e.value);
                let bad = match e.key_str() {
                    Some("type") => !v.is_empty() && !selinux_type_allowed(&v, version),
                    Some("user" | "role") => !v.is_empty(),
                    _ => false,
                };
                if bad {
                    let msg = format!(
                        "{who} sets the SELinux {} `{v}`",
                        e.key_str().unwrap_or("?")
                    );
                    push(out, &p, &SELINUX, kv(e), msg);
                }
            }
        }
    }
}

pub static PROC_MOUNT: Rule = Rule {
    id: "HD008",
    name: "unmasked-proc-mount",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container mounts /proc unmasked (securityContext.procMount other than Default)",
    help: "remove procMount (or set it to Default)",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "/proc Mount Type". The
runtime masks parts of `/proc` (kernel keys, timers, sysrq) so a container cannot read or poke
the node's kernel through them; `procMount: Unmasked` lifts the mask. It exists for nested
container runtimes, not applications. Since Kubernetes v1.35 the baseline profile allows it in a
pod with its own user namespace (`hostUsers: false`), where root in the container is not root on
the node; the restricted profile still refuses it there (HD026). `[hardening]
pod-security-version` picks the release (default: the latest).

Equivalent checks: Trivy KSV027. (Checkov has no procMount check.)

**How to fix.** Remove `procMount`.

```yaml
# bad
securityContext:
  procMount: Unmasked
```
```yaml
# good
securityContext:
  allowPrivilegeEscalation: false
```
"#,
    security_severity: "6.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_proc_mount),
    tiers: Some(BASELINE),
};

/// `spec.hostUsers: false`: the pod runs in its own user namespace.
fn user_namespaced(p: &walk::Pod<'_>) -> bool {
    p.spec.get("hostUsers").is_some_and(is_false)
}

/// The containers that mount /proc other than `Default`, with the value.
fn unmasked_proc<'a>(
    p: &walk::Pod<'a>,
) -> impl Iterator<Item = (&'a Node, &'a crate::node::Entry, String)> + 'a {
    p.containers().filter_map(|c| {
        let e = sc(c, "procMount")?;
        let v = text(&e.value);
        (!v.is_empty() && v != "Default").then_some((c, e, v))
    })
}

fn check_proc_mount(m: &Model, out: &mut Vec<Finding>) {
    let relaxed = m.pss_version.since(35);
    for p in pods(m).iter() {
        if relaxed && user_namespaced(&p) {
            continue; // HD026's
        }
        for (c, e, v) in unmasked_proc(&p) {
            let msg = format!("{} mounts /proc as `{v}`", p.describe(c));
            push(out, &p, &PROC_MOUNT, kv(e), msg);
        }
    }
}

pub static PROC_MOUNT_USERNS: Rule = Rule {
    id: "HD026",
    name: "unmasked-proc-mount-userns",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container of a user-namespaced pod (hostUsers: false) mounts /proc unmasked",
    help: "remove procMount (or set it to Default)",
    explanation: r#"**Why.** Pod Security Standards, *restricted* profile, control "/proc Mount Type" (since
Kubernetes v1.35). A pod with `hostUsers: false` runs in its own user namespace, so the
*baseline* profile lets its containers set `procMount: Unmasked` (nested container builds need
it); the restricted profile does not: an unmasked `/proc` still shows kernel interfaces that a
hardened workload has no use for. The same setting outside a user namespace is a baseline
violation, HD008. Before v1.35 (`[hardening] pod-security-version`) this rule is silent and HD008
judges every pod.

Equivalent checks: Trivy KSV027 (every unmasked /proc, user namespace or not). (Checkov has no
procMount check.)

**How to fix.** Remove `procMount`, or keep the pod at the baseline profile on purpose.

```yaml
# bad
spec:
  hostUsers: false
  containers:
    - name: builder
      securityContext:
        procMount: Unmasked
```
```yaml
# good
spec:
  hostUsers: false
  containers:
    - name: builder
```
"#,
    security_severity: "5.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_proc_mount_userns),
    tiers: Some(RESTRICTED),
};

fn check_proc_mount_userns(m: &Model, out: &mut Vec<Finding>) {
    if !m.pss_version.since(35) {
        return;
    }
    for p in pods(m).iter().filter(user_namespaced) {
        for (c, e, v) in unmasked_proc(&p) {
            let msg = format!(
                "{} mounts /proc as `{v}`: allowed by the baseline profile in a user namespace, not by restricted",
                p.describe(c)
            );
            push(out, &p, &PROC_MOUNT_USERNS, kv(e), msg);
        }
    }
}

/// The sysctls the baseline profile allows, each with the Kubernetes minor
/// release that first allowed it.
const SAFE_SYSCTLS: [(&str, u16); 14] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

/// Since which release a sysctl is safe (`None`: never).
fn sysctl_safe_since(name: &str) -> Option<u16> {
    SAFE_SYSCTLS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, since)| *since)
}

pub static SYSCTLS: Rule = Rule {
    id: "HD009",
    name: "unsafe-sysctls",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod sets a sysctl outside the safe set",
    help: "remove the sysctl, or tune it on the nodes of a dedicated pool",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "Sysctls". Only a handful of
kernel parameters are namespaced per pod and known to be harmless: `kernel.shm_rmid_forced`,
`net.ipv4.ip_local_port_range`, `net.ipv4.ip_unprivileged_port_start`,
`net.ipv4.tcp_syncookies` and `net.ipv4.ping_group_range` from the start,
`net.ipv4.ip_local_reserved_ports` since Kubernetes v1.27, the `net.ipv4.tcp_keepalive_time`,
`_intvl`, `_probes` and `net.ipv4.tcp_fin_timeout` timers since v1.29, `net.ipv4.tcp_rmem` and
`tcp_wmem` since v1.32, `net.ipv4.tcp_slow_start_after_idle` and `tcp_notsent_lowat` since
v1.37. guard judges at the release `[hardening] pod-security-version` names (default: the
latest), and says when a sysctl becomes safe in a later one. Any other sysctl can affect every
pod of the node, and the kubelet refuses it unless the node allows it explicitly: a pod that
runs on a permissive dev node fails on prod nodes.

Equivalent checks: Trivy KSV026; KICS "Cluster Allows Unsafe Sysctls"
(9127f0d9-2310-42e7-866f-5fd9d20dcbad).

**How to fix.** Remove it, or set it on the nodes themselves.

```yaml
# bad
securityContext:
  sysctls:
    - name: kernel.msgmax
      value: "65536"
```
```yaml
# good
securityContext:
  sysctls:
    - name: net.ipv4.ip_local_port_range
      value: "1024 65535"
```
"#,
    security_severity: "5.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_sysctls),
    tiers: Some(BASELINE),
};

fn check_sysctls(m: &Model, out: &mut Vec<Finding>) {
    let version = m.pss_version;
    for p in pods(m).iter() {
        let Some(list) = p.pod_sc("sysctls") else {
            continue;
        };
        for s in list.value.as_seq() {
            let Some(n) = s.get("name") else { continue };
            let name = text(n);
            if name.is_empty() {
                continue;
            }
            let msg = match sysctl_safe_since(&name) {
                Some(since) if version.since(since) => continue,
                Some(since) => format!(
                    "{} sets the sysctl `{name}`, safe only from Kubernetes v1.{since} (pod-security-version is {version})",
                    p.owner
                ),
                None => format!("{} sets the unsafe sysctl `{name}`", p.owner),
            };
            push(out, &p, &SYSCTLS, n.span, msg);
        }
    }
}

pub static SECCOMP_UNCONFINED: Rule = Rule {
    id: "HD010",
    name: "seccomp-unconfined",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod or container turns seccomp off (seccompProfile.type: Unconfined)",
    help: "set seccompProfile.type to RuntimeDefault (or Localhost with a profile)",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "Seccomp". Seccomp filters
the system calls a container may make; the runtime's default filter blocks the ones container
escapes rely on. `type: Unconfined` disables it. The baseline profile allows only
`RuntimeDefault` and `Localhost` where a type is written, on the pod or a container; the
restricted profile goes further and requires a profile to be set (HD024). Before Kubernetes
v1.19 the profile was set by annotations (`seccomp.security.alpha.kubernetes.io/pod`,
`container.seccomp.security.alpha.kubernetes.io/<name>`), and with `[hardening]
pod-security-version` older than v1.19 guard judges those instead (allowed: `runtime/default`,
`docker/default`, `localhost/...`); from v1.19 on, as Pod Security Admission, the fields.

Equivalent checks: Trivy KSV104; Checkov CKV_K8S_31 (seccomp set to the runtime default);
KICS "Seccomp Profile Is Not Configured" (f377b83e-bd07-4f48-a591-60c82b14a78b).

**How to fix.** Use the runtime default.

```yaml
# bad
securityContext:
  seccompProfile:
    type: Unconfined
```
```yaml
# good
securityContext:
  seccompProfile:
    type: RuntimeDefault
```
"#,
    security_severity: "6.5",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_seccomp_unconfined),
    tiers: Some(BASELINE),
};

fn seccomp_type(n: &Node) -> Option<&crate::node::Entry> {
    n.path(&["securityContext", "seccompProfile"])?
        .entry("type")
}

/// A `seccompProfile.type` the baseline profile allows.
fn seccomp_type_allowed(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

fn check_seccomp_unconfined(m: &Model, out: &mut Vec<Finding>) {
    let fields = m.pss_version.since(19);
    for p in pods(m).iter() {
        if !fields {
            seccomp_annotations(&p, out);
            continue;
        }
        let mut places: Vec<(String, &Node)> = vec![(p.owner.clone(), p.spec)];
        places.extend(p.containers().map(|c| (p.describe(c), c)));
        for (who, n) in places {
            let Some(e) = seccomp_type(n) else { continue };
            let v = text(&e.value);
            if seccomp_type_allowed(&v) {
                continue;
            }
            let msg = if v == "Unconfined" {
                format!("{who} runs without seccomp (`Unconfined`)")
            } else {
                format!("{who} sets the seccomp profile type `{v}`")
            };
            push(out, &p, &SECCOMP_UNCONFINED, kv(e), msg);
        }
    }
}

/// Before v1.19: the seccomp annotations of the pod and of its containers.
fn seccomp_annotations(p: &walk::Pod<'_>, out: &mut Vec<Finding>) {
    const POD: &str = "seccomp.security.alpha.kubernetes.io/pod";
    const CONTAINER: &str = "container.seccomp.security.alpha.kubernetes.io/";
    let Some(annotations) = p.meta.and_then(|m| m.get("annotations")) else {
        return;
    };
    let names: Vec<&str> = p.containers().filter_map(|c| c.str_at(&["name"])).collect();
    for e in annotations.entries() {
        let Some(k) = e.key_str() else { continue };
        let judged = k == POD
            || k.strip_prefix(CONTAINER)
                .is_some_and(|name| names.contains(&name));
        let v = text(&e.value);
        let allowed =
            v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/");
        if judged && !allowed {
            let msg = format!("{} sets the seccomp annotation `{k}: {v}`", p.owner);
            push(out, p, &SECCOMP_UNCONFINED, kv(e), msg);
        }
    }
}

pub static WINDOWS_HOST_PROCESS: Rule = Rule {
    id: "HD011",
    name: "windows-host-process",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A Windows pod or container runs as a host process (windowsOptions.hostProcess: true)",
    help: "remove windowsOptions.hostProcess (or set it to false)",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "HostProcess". A Windows
HostProcess container is not isolated at all: it runs as a process of the node, with the node's
network, files and (with the right account) SYSTEM rights. It is Windows' counterpart of a
privileged container with the host's namespaces, meant for node agents, not applications. The
setting may be written on the pod (`spec.securityContext.windowsOptions.hostProcess`) or on any
container (init and ephemeral too); guard reports each place that sets it to `true`.

Equivalent checks: none that guard knows of in Checkov or Trivy; the reference is Pod Security
Admission's `windowsHostProcess` check.

**How to fix.** Remove the flag. A node agent that needs it belongs in a namespace labelled for
the privileged profile, with a suppression that says why.

```yaml
# bad
spec:
  securityContext:
    windowsOptions:
      hostProcess: true
  hostNetwork: true
```
```yaml
# good
spec:
  securityContext:
    windowsOptions:
      runAsUserName: ContainerUser
```
"#,
    security_severity: "9.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_windows_host_process),
    tiers: Some(BASELINE),
};

fn check_windows_host_process(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        let mut places: Vec<(String, &Node)> = vec![(p.owner.clone(), p.spec)];
        places.extend(p.containers().map(|c| (p.describe(c), c)));
        for (who, n) in places {
            if let Some(e) = n
                .path(&["securityContext", "windowsOptions"])
                .and_then(|w| w.entry("hostProcess"))
                .filter(|e| is_true(&e.value))
            {
                let msg = format!("{who} runs as a Windows host process");
                push(out, &p, &WINDOWS_HOST_PROCESS, kv(e), msg);
            }
        }
    }
}

pub static PROBE_HOST: Rule = Rule {
    id: "HD012",
    name: "probe-or-lifecycle-host",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A probe or lifecycle hook sends its request to another host (httpGet.host / tcpSocket.host)",
    help: "remove `host` from the probe or hook: the kubelet then checks the pod's own IP",
    explanation: r#"**Why.** Pod Security Standards, *baseline* profile, control "Probes / Lifecycle Hooks"
(since Kubernetes v1.34). An `httpGet` or `tcpSocket` probe, and a `postStart`/`preStop` hook, is
carried out by the kubelet, from the node. Without `host` it targets the pod's own IP; with one,
whoever writes the pod spec makes the node send requests wherever they like: to the cloud's
metadata endpoint, to services only the node's network reaches, to the node's own loopback. The
baseline profile allows `host` only unset or empty, on the liveness, readiness and startup probes
and the lifecycle handlers of every container (init and ephemeral too). Before v1.34
(`[hardening] pod-security-version`) the control does not exist and this rule is silent.

Equivalent checks: none that guard knows of in Checkov or Trivy; the reference is Pod Security
Admission's `hostProbesAndHostLifecycle` check.

**How to fix.** Remove `host`; to probe through a name (a virtual host), set the `Host` header
in `httpHeaders` instead.

```yaml
# bad
livenessProbe:
  httpGet:
    host: 169.254.169.254
    path: /latest/meta-data/
    port: 80
```
```yaml
# good
livenessProbe:
  httpGet:
    path: /healthz
    port: 8080
```
"#,
    security_severity: "5.0",
    tags: &["hardening", "kubernetes", "pss-baseline"],
    check: Some(check_probe_host),
    tiers: Some(BASELINE),
};

fn check_probe_host(m: &Model, out: &mut Vec<Finding>) {
    if !m.pss_version.since(34) {
        return;
    }
    const HANDLERS: [(&str, &str); 5] = [
        ("livenessProbe", ""),
        ("readinessProbe", ""),
        ("startupProbe", ""),
        ("lifecycle", "postStart"),
        ("lifecycle", "preStop"),
    ];
    for p in pods(m).iter() {
        for c in p.containers() {
            for (key, sub) in HANDLERS {
                let handler = if sub.is_empty() {
                    c.get(key)
                } else {
                    c.path(&[key, sub])
                };
                let Some(handler) = handler else { continue };
                for action in ["httpGet", "tcpSocket"] {
                    let Some(e) = handler.get(action).and_then(|a| a.entry("host")) else {
                        continue;
                    };
                    let host = text(&e.value);
                    if host.is_empty() {
                        continue;
                    }
                    let what = if sub.is_empty() { key } else { sub };
                    let msg = format!(
                        "the {what} {action} of {} targets the host `{host}`",
                        p.describe(c)
                    );
                    push(out, &p, &PROBE_HOST, kv(e), msg);
                }
            }
        }
    }
}

// -------------------------------------------------------------- restricted

/// The volume types the restricted profile allows.
const RESTRICTED_VOLUMES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

pub static VOLUME_TYPES: Rule = Rule {
    id: "HD020",
    name: "restricted-volume-types",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod uses a volume type the restricted profile does not allow (nfs, iscsi, rbd, ...)",
    help: "use configMap, secret, emptyDir, projected, downwardAPI, csi, ephemeral, image or a persistentVolumeClaim",
    explanation: r#"**Why.** Pod Security Standards, *restricted* profile, control "Volume Types". Inline
volume sources such as `nfs`, `iscsi`, `rbd` or `cephfs` let a pod mount storage directly, with
credentials and server addresses in the pod spec and outside the PersistentVolume access
controls. The restricted profile allows only `configMap`, `csi`, `downwardAPI`, `emptyDir`,
`ephemeral`, `image` (an OCI image mounted read-only), `persistentVolumeClaim`, `projected` and
`secret`. (`hostPath` is already a
baseline violation: HD004.) Restricted-only controls are errors in prod, notes in staging and
silent in dev by default (see `[hardening] pod-security`).

Equivalent checks: Trivy KSV028. (Checkov has no volume-type check.)

**How to fix.** Claim the storage through a PersistentVolumeClaim.

```yaml
# bad
volumes:
  - name: data
    nfs: { server: nfs.internal, path: /exports/app }
```
```yaml
# good
volumes:
  - name: data
    persistentVolumeClaim: { claimName: app-data }
```
"#,
    security_severity: "4.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_volume_types),
    tiers: Some(RESTRICTED),
};

fn check_volume_types(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        for v in p.spec.get("volumes").map(Node::as_seq).unwrap_or(&[]) {
            for e in v.entries() {
                let Some(k) = e.key_str() else { continue };
                if k == "name" || k == "hostPath" || RESTRICTED_VOLUMES.contains(&k) {
                    continue;
                }
                let msg = format!(
                    "volume `{}` of {} is of type `{k}`",
                    v.str_at(&["name"]).unwrap_or("?"),
                    p.owner
                );
                push(out, &p, &VOLUME_TYPES, e.key.span, msg);
            }
        }
    }
}

pub static PRIVILEGE_ESCALATION: Rule = Rule {
    id: "HD021",
    name: "privilege-escalation-allowed",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container does not set allowPrivilegeEscalation: false",
    help: "set securityContext.allowPrivilegeEscalation: false on every container",
    explanation: r#"**Why.** Pod Security Standards, *restricted* profile, control "Privilege Escalation".
Unless `allowPrivilegeEscalation` is `false`, a process in the container can gain more
privileges than its parent (set-user-ID binaries, file capabilities): the `no_new_privs` bit is
not set. Kubernetes defaults it to allowed, so the field must be written, on every container
(init and ephemeral containers included; there is no pod-level field). The control exists since
Kubernetes v1.8, and since v1.25 Windows pods (`spec.os.name: windows`) are exempt (`[hardening]
pod-security-version` picks the release; default: the latest).

Equivalent checks: Checkov CKV_K8S_20; Trivy KSV001; KICS "Privilege Escalation Allowed"
(5572cc5e-1e4c-4113-92a6-7a8a3bd25e6d).

**How to fix.**

```yaml
# bad
containers:
  - name: app
    image: registry.example.com/app:1.4.2
```
```yaml
# good
containers:
  - name: app
    image: registry.example.com/app:1.4.2
    securityContext:
      allowPrivilegeEscalation: false
```
"#,
    security_severity: "6.5",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_privilege_escalation),
    tiers: Some(RESTRICTED),
};

/// Windows pods are exempt from a Linux-only restricted control (since v1.25).
fn exempt_windows(m: &Model, p: &walk::Pod<'_>) -> bool {
    m.pss_version.since(25) && p.is_windows()
}

fn check_privilege_escalation(m: &Model, out: &mut Vec<Finding>) {
    if !m.pss_version.since(8) {
        return;
    }
    for p in pods(m).iter().filter(|p| !exempt_windows(m, p)) {
        for c in p.containers() {
            match sc(c, "allowPrivilegeEscalation") {
                Some(e) if is_false(&e.value) => {}
                Some(e) => {
                    let msg = format!("{} allows privilege escalation", p.describe(c));
                    push(out, &p, &PRIVILEGE_ESCALATION, kv(e), msg);
                }
                None => {
                    let msg = format!(
                        "{} does not set `allowPrivilegeEscalation: false`",
                        p.describe(c)
                    );
                    push(out, &p, &PRIVILEGE_ESCALATION, container_anchor(c), msg);
                }
            }
        }
    }
}

pub static RUN_AS_NON_ROOT: Rule = Rule {
    id: "HD022",
    name: "run-as-non-root-not-set",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container may run as root: runAsNonRoot is not true (pod or container)",
    help: "set securityContext.runAsNonRoot: true on the pod (and not false on any container)",
    explanation: r#"**Why.** Pod Security Standards, *restricted* profile, control "Running as Non-root".
With `runAsNonRoot: true` the kubelet refuses to start a container whose image would run as
UID 0, whatever the Dockerfile says; without it, an image rebuilt with a forgotten `USER` line
runs as root silently. The field follows Kubernetes' override order: a container's own value
wins over the pod's, so the pod may set it once and no container may set it to `false`. guard
reports each container whose value in effect is not `true`, at the container's own setting,
else at the pod's, else where the container is declared. Since Kubernetes v1.35 a pod with its own
user namespace (`hostUsers: false`) is exempt: UID 0 in it is not root on the node (`[hardening]
pod-security-version` picks the release; default: the latest). (An image that runs as root is
WL004.)

Equivalent checks: Checkov CKV_K8S_23; Trivy KSV012.

**How to fix.**

```yaml
# bad
spec:
  containers:
    - name: app
      securityContext:
        runAsNonRoot: false
```
```yaml
# good
spec:
  securityContext:
    runAsNonRoot: true
  containers:
    - name: app
```
"#,
    security_severity: "6.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_run_as_non_root),
    tiers: Some(RESTRICTED),
};

/// A user-namespaced pod, exempt from the run-as-root controls since v1.35.
fn exempt_userns(m: &Model, p: &walk::Pod<'_>) -> bool {
    m.pss_version.since(35) && user_namespaced(p)
}

fn check_run_as_non_root(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter().filter(|p| !exempt_userns(m, p)) {
        for c in p.containers() {
            match p.effective(c, "runAsNonRoot") {
                Some((e, _)) if is_true(&e.value) => {}
                Some((e, pod_level)) => {
                    let whose = if pod_level { "its pod sets" } else { "it sets" };
                    let msg = format!(
                        "{} may run as root: {whose} `runAsNonRoot: {}`",
                        p.describe(c),
                        text(&e.value)
                    );
                    push(out, &p, &RUN_AS_NON_ROOT, kv(e), msg);
                }
                None => {
                    let msg = format!(
                        "{} may run as root: neither it nor its pod sets `runAsNonRoot: true`",
                        p.describe(c)
                    );
                    push(out, &p, &RUN_AS_NON_ROOT, container_anchor(c), msg);
                }
            }
        }
    }
}

pub static RUN_AS_ROOT_UID: Rule = Rule {
    id: "HD023",
    name: "run-as-user-root",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod or container sets runAsUser: 0",
    help: "set runAsUser to a non-zero UID (or remove it and set runAsNonRoot: true)",
    explanation: r#"**Why.** Pod Security Standards, *restricted* profile, control "Running as Non-root user".
`runAsUser: 0` asks for root explicitly, and the restricted profile refuses it wherever it is
written: on the pod and on each container. A container's own `runAsUser` overrides the pod's
at run time, but admission judges every field, so guard reports each place that says 0. The
control exists since Kubernetes v1.23; since v1.35 a pod with its own user namespace
(`hostUsers: false`) is exempt (`[hardening] pod-security-version` picks the release; default:
the latest).

Equivalent checks: Trivy KSV105; Checkov CKV_K8S_40 (a high UID) is stricter and related.

**How to fix.**

```yaml
# bad
securityContext:
  runAsUser: 0
```
```yaml
# good
securityContext:
  runAsUser: 10001
  runAsNonRoot: true
```
"#,
    security_severity: "7.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_run_as_root_uid),
    tiers: Some(RESTRICTED),
};

fn check_run_as_root_uid(m: &Model, out: &mut Vec<Finding>) {
    if !m.pss_version.since(23) {
        return;
    }
    for p in pods(m).iter().filter(|p| !exempt_userns(m, p)) {
        if let Some(e) = p.pod_sc("runAsUser").filter(|e| text(&e.value) == "0") {
            let msg = format!("{} runs its containers as root (`runAsUser: 0`)", p.owner);
            push(out, &p, &RUN_AS_ROOT_UID, kv(e), msg);
        }
        for c in p.containers() {
            if let Some(e) = sc(c, "runAsUser").filter(|e| text(&e.value) == "0") {
                let msg = format!("{} runs as root (`runAsUser: 0`)", p.describe(c));
                push(out, &p, &RUN_AS_ROOT_UID, kv(e), msg);
            }
        }
    }
}

pub static SECCOMP_REQUIRED: Rule = Rule {
    id: "HD024",
    name: "seccomp-profile-not-set",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container runs with no seccomp profile set (pod or container): neither RuntimeDefault nor Localhost",
    help: "set securityContext.seccompProfile.type: RuntimeDefault on the pod",
    explanation: r#"**Why.** Pod Security Standards, *restricted* profile, control "Seccomp". Unless the
kubelet is configured to default to it, a container without a seccomp profile runs
*unconfined*: every system call is allowed. The restricted profile requires
`seccompProfile.type` to be `RuntimeDefault` or `Localhost`, set on the pod or on each
container (a container's value overrides the pod's). guard reports each container with no
profile in effect (a profile of another type, `Unconfined` included, is HD010). The control
exists since Kubernetes v1.19 (before, the baseline annotations were all there was); since v1.25
Windows pods are exempt (`[hardening] pod-security-version` picks the release; default: the
latest).

Equivalent checks: Checkov CKV_K8S_31; Trivy KSV030; KICS "Seccomp Profile Is Not Configured"
(f377b83e-bd07-4f48-a591-60c82b14a78b).

**How to fix.** Set it once on the pod.

```yaml
# bad
spec:
  containers:
    - name: app
```
```yaml
# good
spec:
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: app
```
"#,
    security_severity: "5.5",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_seccomp_required),
    tiers: Some(RESTRICTED),
};

fn check_seccomp_required(m: &Model, out: &mut Vec<Finding>) {
    if !m.pss_version.since(19) {
        return;
    }
    for p in pods(m).iter().filter(|p| !exempt_windows(m, p)) {
        // A type that is not allowed, the pod's or a container's, is HD010's.
        let pod = seccomp_type(p.spec);
        for c in p.containers() {
            match seccomp_type(c).or(pod) {
                Some(_) => {}
                None => {
                    let msg = format!(
                        "{} has no seccomp profile: neither it nor its pod sets `seccompProfile.type: RuntimeDefault`",
                        p.describe(c)
                    );
                    push(out, &p, &SECCOMP_REQUIRED, container_anchor(c), msg);
                }
            }
        }
    }
}

pub static CAPABILITIES_DROP_ALL: Rule = Rule {
    id: "HD025",
    name: "capabilities-not-dropped",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container does not drop ALL capabilities, or adds one other than NET_BIND_SERVICE",
    help: "set securityContext.capabilities.drop: [ALL] and add back at most NET_BIND_SERVICE",
    explanation: r#"**Why.** Pod Security Standards, *restricted* profile, control "Capabilities". The
runtime's default capability set (CHOWN, DAC_OVERRIDE, SETUID, NET_RAW, ...) is far more than an
application needs; `NET_RAW` alone allows ARP and DNS spoofing inside the node's network. The
restricted profile requires every container to drop `ALL` and to add back nothing but
`NET_BIND_SERVICE`. guard reports the missing `drop: [ALL]` and each baseline-allowed
capability added back (one outside the baseline list is already HD003). Names compare exactly,
as Pod Security Admission compares them: `drop: [all]` does not drop `ALL`. The control exists
since Kubernetes v1.22; since v1.25 Windows pods are exempt (`[hardening] pod-security-version`
picks the release; default: the latest).

Equivalent checks: Checkov CKV_K8S_37 (capabilities assigned), CKV_K8S_28 (NET_RAW); Trivy
KSV003 (drop all), KSV106 (only NET_BIND_SERVICE).

**How to fix.**

```yaml
# bad
securityContext:
  capabilities:
    drop: [NET_RAW]
    add: [CHOWN]
```
```yaml
# good
securityContext:
  capabilities:
    drop: [ALL]
    add: [NET_BIND_SERVICE]
```
"#,
    security_severity: "5.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_caps_drop_all),
    tiers: Some(RESTRICTED),
};

fn check_caps_drop_all(m: &Model, out: &mut Vec<Finding>) {
    if !m.pss_version.since(22) {
        return;
    }
    for p in pods(m).iter().filter(|p| !exempt_windows(m, p)) {
        for c in p.containers() {
            let caps = c.path(&["securityContext", "capabilities"]);
            let drop = caps.and_then(|n| n.entry("drop"));
            let dropped: Vec<String> = drop
                .map(|e| e.value.as_seq().iter().map(text).collect())
                .unwrap_or_default();
            if !dropped.iter().any(|d| d == "ALL") {
                let at = drop.map_or_else(|| container_anchor(c), |e| e.key.span);
                let near = dropped.iter().find(|d| cap_name(d) == "ALL");
                let msg = match near {
                    Some(d) => format!(
                        "{} drops `{d}`, which is not `ALL`: Pod Security compares names exactly",
                        p.describe(c)
                    ),
                    None => format!("{} does not drop ALL capabilities", p.describe(c)),
                };
                push(out, &p, &CAPABILITIES_DROP_ALL, at, msg);
            }
            for cap in caps
                .and_then(|n| n.get("add"))
                .map(Node::as_seq)
                .unwrap_or(&[])
            {
                // A name outside the baseline list is HD003's.
                let name = text(cap);
                if name != "NET_BIND_SERVICE" && BASELINE_CAPS.contains(&name.as_str()) {
                    let msg = format!("{} adds the capability `{name}` back", p.describe(c));
                    push(out, &p, &CAPABILITIES_DROP_ALL, cap.span, msg);
                }
            }
        }
    }
}

// ------------------------------------------------- beyond the PSS profiles

pub static READ_ONLY_ROOT_FS: Rule = Rule {
    id: "HD030",
    name: "writable-root-filesystem",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A container's root filesystem is writable (readOnlyRootFilesystem is not true)",
    help: "set securityContext.readOnlyRootFilesystem: true; mount an emptyDir where the process writes",
    explanation: r#"**Why.** Not a Pod Security Standards control, but in every scanner's baseline: with a
writable root filesystem, an intruder can drop tools or change the application's own files, and
the change lives as long as the container. A read-only root makes the image the only source of
code, which is also the article's build-once promise (section 2): what runs is what was built.
guard counts it with the restricted controls (error in prod, note in staging, silent in dev;
`[hardening] pod-security` treats it as restricted).

Equivalent checks: Checkov CKV_K8S_22; Trivy KSV014; KICS "Root Container Not Mounted As
Read-only" (a9c2f49d-0671-4fc9-9ece-f4e261e128d0).

**How to fix.** Make the root read-only and give the process a writable scratch directory.

```yaml
# bad
containers:
  - name: app
    image: registry.example.com/app:1.4.2
```
```yaml
# good
containers:
  - name: app
    image: registry.example.com/app:1.4.2
    securityContext:
      readOnlyRootFilesystem: true
    volumeMounts:
      - { name: tmp, mountPath: /tmp }
```
"#,
    security_severity: "4.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_read_only_root),
    tiers: Some(RESTRICTED),
};

fn check_read_only_root(m: &Model, out: &mut Vec<Finding>) {
    for p in pods(m).iter() {
        for c in p.containers() {
            match sc(c, "readOnlyRootFilesystem") {
                Some(e) if is_true(&e.value) => {}
                Some(e) => {
                    let msg = format!("{} has a writable root filesystem", p.describe(c));
                    push(out, &p, &READ_ONLY_ROOT_FS, kv(e), msg);
                }
                None => {
                    let msg = format!(
                        "{} has a writable root filesystem: `readOnlyRootFilesystem: true` is not set",
                        p.describe(c)
                    );
                    push(out, &p, &READ_ONLY_ROOT_FS, container_anchor(c), msg);
                }
            }
        }
    }
}

pub static SA_TOKEN: Rule = Rule {
    id: "HD031",
    name: "service-account-token-mounted",
    family: Family::Hardening,
    severity: Severity::Error,
    summary: "A pod mounts its service account token (automountServiceAccountToken is not false)",
    help: "set automountServiceAccountToken: false on the pod (or its ServiceAccount) unless it calls the Kubernetes API",
    explanation: r#"**Why.** Every pod gets a token of its service account mounted at
`/var/run/secrets/kubernetes.io/serviceaccount` unless told otherwise. Most applications never
call the Kubernetes API; for them the token is only something an intruder can use to talk to
the API server with the account's rights. guard reports pods whose spec does not set
`automountServiceAccountToken: false`, unless the ServiceAccount they use (`serviceAccountName`,
else `default`), found among the checked manifests, sets it to false. Counted with the
restricted controls.

Equivalent checks: Checkov CKV_K8S_38; Trivy KSV036; KICS "Service Account Token Automount Not
Disabled" (48471392-d4d0-47c0-b135-cdec95eb3eef).

**How to fix.**

```yaml
# bad
spec:
  containers:
    - name: app
```
```yaml
# good
spec:
  automountServiceAccountToken: false
  containers:
    - name: app
```
"#,
    security_severity: "4.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_sa_token),
    tiers: Some(RESTRICTED),
};

fn check_sa_token(m: &Model, out: &mut Vec<Finding>) {
    let quiet_accounts: crate::hash::HashSet<&str> = m
        .docs
        .iter()
        .filter(|d| matches!(&d.kind, DocKind::Kubernetes { kind, .. } if kind == "ServiceAccount"))
        .filter(|d| {
            d.root
                .get("automountServiceAccountToken")
                .is_some_and(is_false)
        })
        .filter_map(|d| d.root.str_at(&["metadata", "name"]))
        .collect();
    for p in pods(m).iter() {
        match p.spec.entry("automountServiceAccountToken") {
            Some(e) if is_false(&e.value) => {}
            Some(e) => {
                let msg = format!("{} mounts its service account token", p.owner);
                push(out, &p, &SA_TOKEN, kv(e), msg);
            }
            None => {
                let account = p
                    .spec
                    .str_at(&["serviceAccountName"])
                    .or_else(|| p.spec.str_at(&["serviceAccount"]))
                    .unwrap_or("default");
                if quiet_accounts.contains(account) {
                    continue;
                }
                let at = p
                    .spec
                    .entry("serviceAccountName")
                    .or_else(|| p.spec.entry("containers"))
                    .map_or(p.spec.span, |e| e.key.span);
                let msg = format!(
                    "{} mounts the token of service account `{account}`: `automountServiceAccountToken: false` is not set",
                    p.owner
                );
                push(out, &p, &SA_TOKEN, at, msg);
            }
        }
    }
}

pub static DEFAULT_NAMESPACE: Rule = Rule {
    id: "HD032",
    name: "default-namespace",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A workload is deployed to the `default` namespace (or to no namespace, with no kustomize namespace)",
    help: "set metadata.namespace (or `namespace:` in the kustomization) to the application's namespace",
    explanation: r#"**Why.** The `default` namespace is where everything lands by accident: it has no
Pod Security admission label, no quota, no NetworkPolicy, and everyone's `kubectl` points at it.
A workload there shares all of that with whatever else was applied without a namespace. guard
reports workloads whose `metadata.namespace` is `default`, and workloads with no namespace at
all when no Kustomize overlay rendering them sets `namespace:` (a base line carries the
environments of the overlays that do not). A warning in prod, a note in staging, silent in dev.

Equivalent checks: Checkov CKV_K8S_21; Trivy KSV110; KICS "Using Default Namespace"
(611ab018-c4aa-4ba2-b0f6-a448337509a6).

**How to fix.** Name the namespace, once, in the kustomization (or in each manifest).

```yaml
# bad
metadata:
  name: web
  namespace: default
```
```yaml
# good (kustomization.yaml)
namespace: shop-prod
resources:
  - ../../base
```
"#,
    security_severity: "3.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_default_namespace),
    tiers: Some(ADVISORY),
};

fn check_default_namespace(m: &Model, out: &mut Vec<Finding>) {
    // Kustomizations that set a namespace, by path and by directory.
    let mut ns_files = crate::hash::HashSet::default();
    let mut ns_dirs: Vec<&str> = Vec::new();
    for k in m.docs.iter().filter(|d| d.kind == DocKind::Kustomization) {
        if k.root.str_at(&["namespace"]).is_some_and(|n| !n.is_empty()) {
            let path = m.sources.path(k.file);
            ns_files.insert(path);
            ns_dirs.push(crate::source::parent_dir(path));
        }
    }
    for p in pods(m).iter() {
        let meta = p.doc.root.get("metadata");
        match meta.and_then(|md| md.entry("namespace")) {
            Some(e) if text(&e.value) == "default" => {
                let msg = format!("{} is deployed to the `default` namespace", p.owner);
                push(out, &p, &DEFAULT_NAMESPACE, kv(e), msg);
            }
            Some(_) => {}
            None => {
                // Helm installs what a chart renders without a namespace into the
                // release's (`helm install -n`, an application's destination).
                if m.rendered_files.binary_search(&p.doc.file).is_ok() {
                    continue;
                }
                let path = m.sources.path(p.doc.file);
                // A kustomization of the manifest's own directory (or above) names one.
                if ns_dirs
                    .iter()
                    .any(|d| d.is_empty() || path.starts_with(&format!("{d}/")))
                {
                    continue;
                }
                let at = p
                    .doc
                    .root
                    .path(&["metadata", "name"])
                    .map_or(p.doc.root.span, |n| n.span);
                let msg = format!(
                    "{} names no namespace, so it lands in `default` unless applied with one",
                    p.owner
                );
                if p.doc.overlays.is_empty() {
                    push(out, &p, &DEFAULT_NAMESPACE, at, msg);
                    continue;
                }
                let bare: Vec<&crate::model::kustomize::Overlay> = p
                    .doc
                    .overlays
                    .iter()
                    .filter(|o| !ns_files.contains(o.kustomization.as_str()))
                    .collect();
                if bare.is_empty() {
                    continue;
                }
                let mut f = DEFAULT_NAMESPACE.finding(at, msg);
                if bare.iter().all(|o| o.env.is_some()) {
                    f = f.envs(bare.iter().filter_map(|o| o.env));
                }
                out.push(f);
            }
        }
    }
}

/// Tags that move: a pull policy that keeps a node's cached copy runs
/// whatever was pulled first.
const MOVING_TAGS: [&str; 10] = [
    "latest", "main", "master", "develop", "dev", "edge", "nightly", "stable", "staging", "prod",
];

pub static PULL_POLICY: Rule = Rule {
    id: "HD033",
    name: "stale-image-pull-policy",
    family: Family::Hardening,
    severity: Severity::Warning,
    summary: "A container with a moving tag (latest, main, ...) does not pull it Always",
    help: "pin the image by digest or a release tag, or set imagePullPolicy: Always",
    explanation: r#"**Why.** With `imagePullPolicy: IfNotPresent` (the default for any tag but `latest`)
a node runs the copy it pulled first. For a moving tag (`latest`, `main`, `stable`, ...) that
means different nodes run different builds of "the same" image, and a rollback changes nothing:
the opposite of the article's build-once, promote-the-same-artifact flow. guard reports
containers whose image has a moving tag and no digest, and whose pull policy in effect is not
`Always`. (An image without tag or with `latest` defaults to `Always`: only an explicit
`IfNotPresent` or `Never` is reported then.) The real fix is an immutable reference (BO001); this
rule catches the case where the moving tag also goes stale. A warning in prod, a note in
staging, silent in dev.

Equivalent checks: Checkov CKV_K8S_15 (pull policy Always, for every image); KICS "Image Pull
Policy Of The Container Is Not Set To Always" (caa3479d-885d-4882-9aac-95e5e78ef5c2).

**How to fix.**

```yaml
# bad
image: registry.example.com/app:main
imagePullPolicy: IfNotPresent
```
```yaml
# good
image: registry.example.com/app:1.4.2@sha256:3c1f...e9
```
"#,
    security_severity: "3.0",
    tags: &["hardening", "kubernetes", "pss-restricted"],
    check: Some(check_pull_policy),
    tiers: Some(ADVISORY),
};

fn check_pull_policy(m: &Model, out: &mut Vec<Finding>) {
    use crate::model::image::ImageRef;
    for p in pods(m).iter() {
        for c in p.containers() {
            let Some(img) = c.get("image") else { continue };
            let Some(s) = img.as_str() else { continue };
            let Some(r) = ImageRef::parse(s) else {
                continue;
            };
            if r.digest.is_some_and(|d| !d.is_empty()) || crate::model::image::has_placeholder(s) {
                continue;
            }
            let tag = r.tag.unwrap_or("latest");
            if !MOVING_TAGS.contains(&tag.to_ascii_lowercase().as_str()) {
                continue;
            }
            let policy = c.entry("imagePullPolicy");
            let written = policy.map(|e| text(&e.value));
            let effective = written.clone().unwrap_or_else(|| {
                if tag.eq_ignore_ascii_case("latest") {
                    "Always".into()
                } else {
                    "IfNotPresent".into()
                }
            });
            if effective == "Always" {
                continue;
            }
            let at = policy.map_or(walk::At::from(img.span), kv);
            let msg = format!(
                "{} runs the moving tag `{tag}` with pull policy `{effective}`{}",
                p.describe(c),
                if written.is_none() {
                    " (the default)"
                } else {
                    ""
                }
            );
            push(out, &p, &PULL_POLICY, at, msg);
        }
    }
}

/// The rules that are controls of the Pod Security Standards themselves
/// (not the extra checks counted with them), with the profile each belongs
/// to: what a Pod Security Admission verdict is compared with.
pub fn pss_controls() -> impl Iterator<Item = (&'static Rule, PssProfile)> {
    RULES.iter().copied().filter_map(|r| {
        let extra = [
            &READ_ONLY_ROOT_FS,
            &SA_TOKEN,
            &DEFAULT_NAMESPACE,
            &PULL_POLICY,
        ];
        let control = !extra.iter().any(|e| e.id == r.id);
        control.then_some((r, level(r)?))
    })
}

pub use docker::{ADD_URL, APK_NO_CACHE, APT_HYGIENE, MISSING_HEALTHCHECK};

pub static RULES: &[&Rule] = &[
    &HOST_NAMESPACES,
    &PRIVILEGED,
    &ADDED_CAPABILITIES,
    &HOST_PATH,
    &HOST_PORTS,
    &APPARMOR,
    &SELINUX,
    &PROC_MOUNT,
    &SYSCTLS,
    &SECCOMP_UNCONFINED,
    &WINDOWS_HOST_PROCESS,
    &PROBE_HOST,
    &VOLUME_TYPES,
    &PRIVILEGE_ESCALATION,
    &RUN_AS_NON_ROOT,
    &RUN_AS_ROOT_UID,
    &SECCOMP_REQUIRED,
    &CAPABILITIES_DROP_ALL,
    &PROC_MOUNT_USERNS,
    &READ_ONLY_ROOT_FS,
    &SA_TOKEN,
    &DEFAULT_NAMESPACE,
    &PULL_POLICY,
    &MISSING_HEALTHCHECK,
    &ADD_URL,
    &APT_HYGIENE,
    &APK_NO_CACHE,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Env {
        crate::env::EnvSet::builtin()
            .named(name)
            .expect("a default environment")
    }

    #[test]
    fn tier_severities_by_default_and_by_profile() {
        let (dev, stg, prod) = (env("dev"), env("staging"), env("prod"));
        // Defaults: baseline strict in prod, restricted silent in dev.
        assert_eq!(
            tier_severity(&PRIVILEGED, &[dev], None),
            Some(Severity::Note)
        );
        assert_eq!(
            tier_severity(&PRIVILEGED, &[stg], None),
            Some(Severity::Warning)
        );
        assert_eq!(tier_severity(&PRIVILEGE_ESCALATION, &[dev], None), None);
        assert_eq!(
            tier_severity(&PRIVILEGE_ESCALATION, &[stg], None),
            Some(Severity::Note)
        );
        assert_eq!(
            tier_severity(&PRIVILEGE_ESCALATION, &[dev, prod], None),
            Some(Severity::Error)
        );
        assert_eq!(
            tier_severity(&PRIVILEGE_ESCALATION, &[], None),
            Some(Severity::Error)
        );
        // Configured: staging restricted, dev off.
        let p = PodSecurityProfiles {
            dev: PssProfile::Off,
            staging: PssProfile::Restricted,
            prod: PssProfile::Restricted,
        };
        assert_eq!(tier_severity(&PRIVILEGED, &[dev], Some(&p)), None);
        assert_eq!(
            tier_severity(&PRIVILEGE_ESCALATION, &[stg], Some(&p)),
            Some(Severity::Note)
        );
        // Prod only baseline: a restricted control is dropped there.
        let p = PodSecurityProfiles {
            dev: PssProfile::Restricted,
            staging: PssProfile::Baseline,
            prod: PssProfile::Baseline,
        };
        assert_eq!(
            tier_severity(&PRIVILEGE_ESCALATION, &[prod], Some(&p)),
            None
        );
        assert_eq!(
            tier_severity(&PRIVILEGE_ESCALATION, &[dev], Some(&p)),
            Some(Severity::Note)
        );
        assert_eq!(
            tier_severity(&PRIVILEGED, &[prod], Some(&p)),
            Some(Severity::Error)
        );
        // Dockerfile rules are not Pod Security controls: the profile does not apply.
        assert_eq!(
            tier_severity(&ADD_URL, &[dev], Some(&p)),
            ADD_URL.tiers.and_then(|t| t.for_envs(&[dev]))
        );
    }

    #[test]
    fn every_rule_is_in_the_family_and_names_its_peers() {
        for r in RULES {
            assert_eq!(r.family, Family::Hardening, "{}", r.id);
            assert!(r.tiers.is_some(), "{}", r.id);
            assert!(r.tags.contains(&"hardening"), "{}", r.id);
            assert!(
                r.explanation.contains("Trivy") || r.explanation.contains("Checkov"),
                "{} names no peer check",
                r.id
            );
            assert!(r.explanation.contains("# bad") && r.explanation.contains("# good"));
        }
    }

    #[test]
    fn capability_names_are_read_as_kubernetes_reads_them() {
        assert_eq!(cap_name("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(cap_name(" NET_RAW "), "NET_RAW");
    }
}
