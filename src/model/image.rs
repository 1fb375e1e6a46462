//! Container image references: `[registry/]repository[:tag][@digest]`.

use crate::env::{Env, EnvSet};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef<'a> {
    pub registry: Option<&'a str>,
    /// Repository path without registry, tag or digest.
    pub repository: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// How mutable a reference is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutability {
    /// Pinned by digest, or tagged with a concrete, non-`latest` tag.
    Pinned,
    /// The tag comes from a placeholder (`${IMAGE_TAG}`): promoted at deploy time.
    Placeholder,
    /// No tag at all: Docker pulls `latest`.
    NoTag,
    /// Tagged `latest`.
    Latest,
    /// The tag is a placeholder whose default is `latest`
    /// (`${IMAGE_TAG:-latest}`): unset, it pulls `latest`.
    DefaultsToLatest,
    /// A release channel (`nightly`, `stable`, `edge`, `dev` on a
    /// third-party image): a name that moves to each new build.
    Channel,
}

/// Tags that name a release channel, not a release: they move.
const CHANNELS: [&str; 16] = [
    "dev",
    "develop",
    "development",
    "edge",
    "nightly",
    "main",
    "master",
    "stable",
    "canary",
    "beta",
    "alpha",
    "next",
    "unstable",
    "mainline",
    "rolling",
    "lts",
];

/// Registries only publishers push to: no project's own image is there.
const PUBLISHER_REGISTRIES: [&str; 4] = [
    "registry.k8s.io",
    "k8s.gcr.io",
    "mcr.microsoft.com",
    "docker.elastic.co",
];

/// The AWS accounts whose ECR repositories hold images AWS publishes:
/// EKS add-ons (602401143452), App Mesh's Envoy (840364872350), AWS for
/// Fluent Bit (906394416424), Deep Learning Containers (763104351884).
const AWS_PUBLISHER_ACCOUNTS: [&str; 4] = [
    "602401143452",
    "840364872350",
    "906394416424",
    "763104351884",
];

/// Docker Hub namespaces of publishers whose images a project runs but
/// does not build (besides the official, single-name images).
const PUBLISHERS: [&str; 10] = [
    "library",
    "bitnami",
    "bitnamicharts",
    "grafana",
    "prom",
    "hashicorp",
    "localstack",
    "minio",
    "confluentinc",
    "docker",
];

/// Official Docker Hub images a project commonly runs (`node:dev` is
/// Node's channel; an unknown single name such as `app` may be the
/// project's own image).
const OFFICIAL: [&str; 64] = [
    "adminer",
    "alpine",
    "amazoncorretto",
    "amazonlinux",
    "bash",
    "busybox",
    "caddy",
    "cassandra",
    "centos",
    "clojure",
    "consul",
    "couchdb",
    "debian",
    "docker",
    "eclipse-temurin",
    "elasticsearch",
    "erlang",
    "fedora",
    "gcc",
    "ghost",
    "golang",
    "gradle",
    "haproxy",
    "hello-world",
    "httpd",
    "influxdb",
    "jenkins",
    "jetty",
    "julia",
    "kibana",
    "kong",
    "mariadb",
    "maven",
    "memcached",
    "mongo",
    "mongo-express",
    "mysql",
    "neo4j",
    "nextcloud",
    "nginx",
    "node",
    "openjdk",
    "percona",
    "perl",
    "php",
    "postgres",
    "python",
    "rabbitmq",
    "redis",
    "registry",
    "rockylinux",
    "ruby",
    "rust",
    "solr",
    "sonarqube",
    "swift",
    "telegraf",
    "tomcat",
    "traefik",
    "ubuntu",
    "vault",
    "wordpress",
    "zookeeper",
    "nats",
];

/// `s` with each `${VAR:-default}` / `${VAR-default}` placeholder replaced
/// by its default; None when `s` has no placeholder with a default.
pub fn with_defaults(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let inner = &after[..j];
        let default = if inner.contains(['$', '{']) {
            None
        } else {
            inner
                .split_once(":-")
                .or_else(|| inner.split_once('-'))
                .map(|(_, d)| d)
        };
        match default {
            Some(d) => {
                out.push_str(d);
                changed = true;
            }
            None => {
                out.push_str("${");
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Does the text hold a template placeholder (`${X}`, `$X`, `${{ x }}`, `{{ x }}`, `$(x)`)?
pub fn has_placeholder(s: &str) -> bool {
    s.contains("${") || s.contains("{{") || s.contains("$(") || {
        let b = s.as_bytes();
        b.windows(2)
            .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_'))
    }
}

/// The variable names of the placeholders in `s` (`${ENVIRONMENT}` → `ENVIRONMENT`,
/// `${{ needs.build.outputs.image-tag }}` → `needs.build.outputs.image-tag`).
pub fn placeholder_names(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let (inner, after) = if let Some(r) = rest.strip_prefix("{{") {
            match r.find("}}") {
                Some(j) => (r[..j].trim(), &r[j + 2..]),
                None => break,
            }
        } else if let Some(r) = rest.strip_prefix('{') {
            match r.find('}') {
                Some(j) => (r[..j].trim(), &r[j + 1..]),
                None => break,
            }
        } else if let Some(r) = rest.strip_prefix('(') {
            match r.find(')') {
                Some(j) => (r[..j].trim(), &r[j + 1..]),
                None => break,
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        // `${VAR:-default}` and `${VAR:0:8}`: the name is before the colon.
        let name = inner.split([':', '-']).next().unwrap_or(inner).trim();
        let name = if inner.contains('.') { inner } else { name };
        if !name.is_empty() {
            out.push(name);
        }
        rest = after;
    }
    out
}

/// A placeholder name that stands for the environment (`ENVIRONMENT`, `ENV`,
/// `STAGE`, `var.environment`, `env_name`).
pub fn is_env_placeholder(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    matches!(
        last.as_str(),
        "env"
            | "environment"
            | "stage"
            | "env_name"
            | "environment_name"
            | "deploy_env"
            | "deployment_environment"
            | "target_env"
            | "app_env"
            | "stage_name"
    ) || last.ends_with("_environment")
}

impl<'a> ImageRef<'a> {
    pub fn parse(s: &'a str) -> Option<ImageRef<'a>> {
        let s = s.trim();
        if s.is_empty() || (s.chars().any(char::is_whitespace) && !has_placeholder(s)) {
            return None;
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (s, None),
        };
        let (registry, path) = match rest.split_once('/') {
            Some((first, after))
                if first.contains('.') || first.contains(':') || first == "localhost" =>
            {
                (Some(first), after)
            }
            _ => (None, rest),
        };
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match last_colon_outside_braces(&path[last_slash..]) {
            Some(i) => {
                let i = last_slash + i;
                (&path[..i], Some(&path[i + 1..]))
            }
            None => (path, None),
        };
        if repository.is_empty() {
            return None;
        }
        Some(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The mutability of the reference, judging a placeholder's default.
    pub fn mutability(&self) -> Mutability {
        if self.digest.is_some_and(|d| !d.is_empty()) {
            return Mutability::Pinned;
        }
        match self.tag {
            // `${IMAGE}` or `registry/${NAME}` may carry a tag; a placeholder
            // only in the registry part (`${REGISTRY}/app`) does not.
            None if has_placeholder(self.repository.rsplit('/').next().unwrap_or("")) => {
                Mutability::Placeholder
            }
            None => Mutability::NoTag,
            Some(t) if default_is_latest(t) => Mutability::DefaultsToLatest,
            Some(t) if has_placeholder(t) => Mutability::Placeholder,
            Some(t) if t.eq_ignore_ascii_case("latest") || t.is_empty() => Mutability::Latest,
            Some(t) if CHANNELS.iter().any(|c| t.eq_ignore_ascii_case(c)) => Mutability::Channel,
            // `latest-alpine`, `frontend-latest`, `1.2-latest`: a moving tag
            // with a qualifier.
            Some(t)
                if t.split(['-', '_', '.'])
                    .any(|w| w.eq_ignore_ascii_case("latest")) =>
            {
                Mutability::Channel
            }
            Some(_) => Mutability::Pinned,
        }
    }

    /// An image a publisher builds and the project only runs: an official
    /// Docker Hub image (`node`, `redis`) or one of a known publisher
    /// (`bitnami/redis`), an image of a registry that only publishers push
    /// to (`registry.k8s.io`, `mcr.microsoft.com`), or one of the ECR
    /// accounts AWS publishes its own images from (EKS add-ons, App Mesh's
    /// Envoy, FireLens' Fluent Bit, Deep Learning Containers). Its `dev` or
    /// `-prod` tag is the publisher's naming, not the project's environment.
    pub fn is_third_party(&self) -> bool {
        if let Some(r) = self.registry {
            if PUBLISHER_REGISTRIES.contains(&r) {
                return true;
            }
            let account = r.split('.').next().unwrap_or_default();
            if r.contains(".dkr.ecr.") && AWS_PUBLISHER_ACCOUNTS.contains(&account) {
                return true;
            }
            if !matches!(r, "docker.io" | "index.docker.io" | "registry-1.docker.io") {
                return false;
            }
        }
        match self.repository.split_once('/') {
            None => OFFICIAL.contains(&self.repository),
            Some((ns, _)) => PUBLISHERS.contains(&ns),
        }
    }

    /// The environment the tag or the repository's last path component
    /// names (`app:prod`, `app-dev:1.2`), or an env placeholder in either.
    /// A third-party image's tag is the publisher's, not an environment.
    pub fn names_environment(&self, envs: &EnvSet) -> Option<EnvNaming<'a>> {
        if self.is_third_party() {
            return None;
        }
        let repo_last = self
            .repository
            .rsplit('/')
            .next()
            .unwrap_or(self.repository);
        for (part, what) in [(self.tag, "tag"), (Some(repo_last), "repository")] {
            let Some(part) = part else { continue };
            for name in placeholder_names(part) {
                if is_env_placeholder(name) {
                    return Some(EnvNaming::Placeholder { what, name });
                }
            }
            if has_placeholder(part) {
                continue;
            }
            if let Some(env) = envs.words(part) {
                return Some(EnvNaming::Literal { what, env, part });
            }
        }
        None
    }
}

/// A tag that is one shell-style placeholder whose default is `latest`:
/// `${IMAGE_TAG:-latest}`, `${TAG-latest}`.
fn default_is_latest(tag: &str) -> bool {
    let Some(inner) = tag.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
        return false;
    };
    if inner.contains(['$', '{', '}']) {
        return false;
    }
    let default = inner
        .split_once(":-")
        .or_else(|| inner.split_once('-'))
        .map(|(_, d)| d);
    default.is_some_and(|d| d.eq_ignore_ascii_case("latest"))
}

/// The last `:` that is not inside a `${...}` placeholder (`${TAG:-1.0}`).
fn last_colon_outside_braces(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut last = None;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => last = Some(i),
            _ => {}
        }
    }
    last
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvNaming<'a> {
    Literal {
        what: &'static str,
        env: Env,
        part: &'a str,
    },
    Placeholder {
        what: &'static str,
        name: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("registry:5000/team/app:1.2@sha256:ab").unwrap();
        assert_eq!(r.registry, Some("registry:5000"));
        assert_eq!(r.repository, "team/app");
        assert_eq!(r.tag, Some("1.2"));
        assert_eq!(r.digest, Some("sha256:ab"));
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!((r.registry, r.repository, r.tag), (None, "nginx", None));
        let r = ImageRef::parse("your-registry/app:${ENVIRONMENT}").unwrap();
        assert_eq!(r.tag, Some("${ENVIRONMENT}"));
        let r = ImageRef::parse("app:${TAG:-1.0}").unwrap();
        assert_eq!(r.tag, Some("${TAG:-1.0}"));
        let r = ImageRef::parse("${REGISTRY}/app").unwrap();
        assert_eq!(r.repository, "${REGISTRY}/app");
        assert_eq!(r.tag, None);
    }

    #[test]
    fn mutability() {
        let m = |s| ImageRef::parse(s).unwrap().mutability();
        assert_eq!(m("nginx"), Mutability::NoTag);
        assert_eq!(m("nginx:latest"), Mutability::Latest);
        assert_eq!(m("nginx:1.25"), Mutability::Pinned);
        assert_eq!(m("nginx@sha256:0123"), Mutability::Pinned);
        assert_eq!(m("app:${IMAGE_TAG}"), Mutability::Placeholder);
        assert_eq!(
            m("app:${{ needs.build.outputs.image-tag }}"),
            Mutability::Placeholder
        );
        assert_eq!(m("${IMAGE}"), Mutability::Placeholder);
        assert_eq!(m("${REGISTRY}/app"), Mutability::NoTag);
    }

    #[test]
    fn a_placeholder_defaulting_to_latest_is_mutable() {
        let m = |s| ImageRef::parse(s).unwrap().mutability();
        assert_eq!(m("app:${IMAGE_TAG:-latest}"), Mutability::DefaultsToLatest);
        assert_eq!(
            m("registry.example.com/app:${TAG-latest}"),
            Mutability::DefaultsToLatest
        );
        assert_eq!(m("app:${IMAGE_TAG:-1.4.2}"), Mutability::Placeholder);
        assert_eq!(m("app:${IMAGE_TAG}"), Mutability::Placeholder);
        assert_eq!(m("app:${A:-${B:-latest}}"), Mutability::Placeholder);
    }

    #[test]
    fn environment_naming() {
        let envs = EnvSet::builtin();
        let n = |s| ImageRef::parse(s).unwrap().names_environment(&envs);
        assert!(matches!(
            n("app:prod"),
            Some(EnvNaming::Literal {
                env,
                what: "tag",
                ..
            }) if env.as_str() == "prod"
        ));
        assert!(matches!(
            n("registry/app-dev:1.2"),
            Some(EnvNaming::Literal {
                env,
                what: "repository",
                ..
            }) if env.as_str() == "dev"
        ));
        assert!(matches!(
            n("your-registry/app:${ENVIRONMENT}"),
            Some(EnvNaming::Placeholder {
                name: "ENVIRONMENT",
                ..
            })
        ));
        assert_eq!(n("app:${IMAGE_TAG}"), None);
        assert_eq!(n("gcr.io/devtools/app:1.0"), None);
        assert_eq!(n("postgres:14-alpine"), None);
    }

    #[test]
    fn channel_tags_are_mutable_and_third_party_ones_name_no_environment() {
        let envs = EnvSet::builtin();
        let r = |s| ImageRef::parse(s).unwrap();
        assert_eq!(
            r("rayproject/ray:nightly").mutability(),
            Mutability::Channel
        );
        assert_eq!(r("nginx:stable").mutability(), Mutability::Channel);
        assert_eq!(r("node:dev").mutability(), Mutability::Channel);
        assert_eq!(r("node:18-alpine").mutability(), Mutability::Pinned);
        assert_eq!(r("nginx:latest-alpine").mutability(), Mutability::Channel);
        assert_eq!(
            r("acme/web:frontend-latest").mutability(),
            Mutability::Channel
        );
        assert_eq!(r("acme/web:1.2-latest").mutability(), Mutability::Channel);
        assert_eq!(r("acme/web:latestfix-2").mutability(), Mutability::Pinned);
        assert_eq!(r("node:dev").names_environment(&envs), None);
        assert_eq!(r("bitnami/redis:dev").names_environment(&envs), None);
        assert_eq!(
            r("docker.io/library/redis:dev").names_environment(&envs),
            None
        );
        assert!(
            r("registry.example.com/app:dev")
                .names_environment(&envs)
                .is_some()
        );
        assert!(r("team/app:dev").names_environment(&envs).is_some());
        // AWS's own images on ECR, and publisher-only registries: theirs.
        assert_eq!(
            r("840364872350.dkr.ecr.us-east-1.amazonaws.com/aws-appmesh-envoy:v1.12.2.1-prod")
                .names_environment(&envs),
            None
        );
        assert_eq!(
            r("registry.k8s.io/e2e-test-images/agnhost:dev").names_environment(&envs),
            None
        );
        // The project's own ECR account is the project's.
        assert!(
            r("111122223333.dkr.ecr.eu-west-1.amazonaws.com/shop/web:prod")
                .names_environment(&envs)
                .is_some()
        );
    }

    #[test]
    fn defaults_are_substituted() {
        assert_eq!(
            with_defaults("app:${TAG:-latest}").as_deref(),
            Some("app:latest")
        );
        assert_eq!(
            with_defaults("${IMAGE:-r.io/x/epp:main}").as_deref(),
            Some("r.io/x/epp:main")
        );
        assert_eq!(
            with_defaults("${REG}/app:${TAG-1.2}").as_deref(),
            Some("${REG}/app:1.2")
        );
        assert_eq!(with_defaults("app:${TAG}"), None);
        assert_eq!(with_defaults("app:1.0"), None);
    }

    #[test]
    fn placeholder_names_cover_the_shapes() {
        assert_eq!(placeholder_names("a:${X}-$Y"), ["X", "Y"]);
        assert_eq!(
            placeholder_names("${{ needs.build.outputs.image-tag }}"),
            ["needs.build.outputs.image-tag"]
        );
        assert_eq!(placeholder_names("${TAG:-latest}"), ["TAG"]);
    }
}
