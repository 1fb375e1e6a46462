//! Environments, and the evidence that puts a file or document in one.
//!
//! Evidence, strongest first: path segments (`environments/prod/`,
//! `overlays/staging/`, `prod/`), the file name (`docker-compose.prod.yml`,
//! `values-staging.yaml`, `prod.tfvars`), Kubernetes `metadata.namespace` or a
//! Kustomization's `namespace`, a workflow job's `environment:`. A Kustomize
//! overlay's environment flows to the base resources it includes. No evidence
//! means the file applies to all environments.

use std::fmt;

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Dev,
    Staging,
    Prod,
}

impl Env {
    pub const ALL: [Env; 3] = [Env::Dev, Env::Staging, Env::Prod];

    pub fn as_str(self) -> &'static str {
        match self {
            Env::Dev => "dev",
            Env::Staging => "staging",
            Env::Prod => "prod",
        }
    }

    /// The environment a whole word names: dev/development, stg/stage/staging,
    /// prod/prd/production (case-insensitive).
    pub fn from_word(word: &str) -> Option<Env> {
        match word.to_ascii_lowercase().as_str() {
            "dev" | "development" => Some(Env::Dev),
            "stg" | "stage" | "staging" | "preprod" | "preproduction" => Some(Env::Staging),
            "prod" | "prd" | "production" => Some(Env::Prod),
            _ => None,
        }
    }

    /// The environment named by one of the `-`, `_`, `.` separated words of
    /// `s` (`docker-compose.prod`, `values-staging`, `app-dev`). When words
    /// name different environments, none is returned.
    pub fn from_words(s: &str) -> Option<Env> {
        let mut found = None;
        let mut prev = "";
        for w in s.split(['-', '_', '.']) {
            // `multi-stage`, `build-stage`: a Docker build stage, not staging;
            // `non-prod` is every environment but prod; `pre-prod` is staging.
            let p = prev.to_ascii_lowercase();
            let build_stage =
                w.eq_ignore_ascii_case("stage") && matches!(p.as_str(), "multi" | "build");
            let negated = matches!(p.as_str(), "non" | "not");
            let pre = p == "pre" && Env::from_word(w) == Some(Env::Prod);
            prev = w;
            if build_stage || negated {
                continue;
            }
            let word_env = if pre {
                Some(Env::Staging)
            } else {
                Env::from_word(w)
            };
            if let Some(e) = word_env {
                if found.is_some_and(|f| f != e) {
                    return None;
                }
                found = Some(e);
            }
        }
        found
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a file or document belongs to an environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// A directory in the path names the environment (`environments/prod/`).
    PathSegment(String),
    /// The file name names it (`docker-compose.prod.yml`).
    FileName(String),
    /// Kubernetes `metadata.namespace`.
    Namespace { span: Span, value: String },
    /// A Kustomization's `namespace:`.
    KustomizeNamespace { span: Span, value: String },
    /// Included by a Kustomize overlay that belongs to the environment.
    Overlay { kustomization: String, span: Span },
    /// A GitHub Actions job's `environment:`.
    WorkflowJob {
        job: String,
        span: Span,
        value: String,
    },
    /// A Terraform root evaluated with an environment's var file.
    VarFile(String),
}

impl Evidence {
    /// A sentence fragment for `guard envs` and finding notes.
    pub fn describe(&self) -> String {
        match self {
            Evidence::PathSegment(s) => format!("path segment `{s}/`"),
            Evidence::FileName(s) => format!("file name `{s}`"),
            Evidence::Namespace { value, .. } => format!("metadata.namespace `{value}`"),
            Evidence::KustomizeNamespace { value, .. } => {
                format!("kustomization namespace `{value}`")
            }
            Evidence::Overlay { kustomization, .. } => {
                format!("included by overlay `{kustomization}`")
            }
            Evidence::WorkflowJob { job, value, .. } => {
                format!("job `{job}` has environment `{value}`")
            }
            Evidence::VarFile(s) => format!("var file `{s}`"),
        }
    }
}

/// An environment and the evidence for it. `env: None` means all environments.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Assignment {
    pub env: Option<Env>,
    pub evidence: Option<Evidence>,
}

impl Assignment {
    pub fn all() -> Assignment {
        Assignment::default()
    }

    pub fn new(env: Env, evidence: Evidence) -> Assignment {
        Assignment {
            env: Some(env),
            evidence: Some(evidence),
        }
    }

    pub fn label(&self) -> &'static str {
        self.env.map_or("all", Env::as_str)
    }
}

/// Environment from the directories of a `/`-separated relative path (the
/// file name excluded). The deepest directory that names an environment wins,
/// so `prod/overlays/staging/x.yaml` is staging.
pub fn from_dirs(path: &str) -> Option<Assignment> {
    let mut segs: Vec<&str> = path.split('/').collect();
    segs.pop();
    segs.iter().rev().find_map(|seg| {
        Env::from_word(seg)
            .or_else(|| Env::from_words(seg).filter(|_| looks_like_env_dir(seg)))
            .map(|e| Assignment::new(e, Evidence::PathSegment((*seg).to_string())))
    })
}

/// A compound directory name names an environment when its other words
/// only qualify it: `env-prod`, `prod-eu`, `production-ap-northeast-1`,
/// `prod-blue`; not `production-data` or `dev-tools`.
fn looks_like_env_dir(seg: &str) -> bool {
    seg.split(['-', '_', '.']).all(|w| {
        let w = w.to_ascii_lowercase();
        Env::from_word(&w).is_some()
            || w.is_empty()
            || w.chars().all(|c| c.is_ascii_digit())
            || matches!(
                w.as_str(),
                "env"
                    | "envs"
                    | "environment"
                    | "ou"
                    | "account"
                    | "acct"
                    | "cluster"
                    | "aws"
                    | "gcp"
                    | "azure"
                    | "k8s"
                    | "eks"
                    | "gke"
                    | "aks"
                    | "blue"
                    | "green"
                    | "primary"
                    | "secondary"
                    | "dr"
                    | "pre"
                    | "us"
                    | "eu"
                    | "ap"
                    | "sa"
                    | "ca"
                    | "me"
                    | "af"
                    | "il"
                    | "cn"
                    | "gov"
                    | "east"
                    | "west"
                    | "north"
                    | "south"
                    | "central"
                    | "northeast"
                    | "southeast"
                    | "northwest"
                    | "southwest"
                    | "global"
                    | "region"
                    | "tokyo"
                    | "singapore"
                    | "jp"
                    | "sg"
            )
    })
}

/// Environment from a file name: `docker-compose.prod.yml`,
/// `values-staging.yaml`, `prod.tfvars`, `deploy-dev.yml`.
pub fn from_file_name(path: &str) -> Option<Assignment> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').collect::<Vec<_>>();
    // Drop the extension(s) that are formats, keep the rest.
    let words: Vec<&str> = stem
        .iter()
        .copied()
        .filter(|w| !matches!(*w, "yml" | "yaml" | "json" | "tf" | "tfvars" | "hcl"))
        .collect();
    let joined = words.join(".");
    Env::from_words(&joined).map(|e| Assignment::new(e, Evidence::FileName(name.to_string())))
}

/// Path evidence: directories first, then the file name.
pub fn from_path(path: &str) -> Option<Assignment> {
    from_dirs(path).or_else(|| from_file_name(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        for (w, e) in [
            ("dev", Env::Dev),
            ("Development", Env::Dev),
            ("stg", Env::Staging),
            ("stage", Env::Staging),
            ("staging", Env::Staging),
            ("PRD", Env::Prod),
            ("production", Env::Prod),
        ] {
            assert_eq!(Env::from_word(w), Some(e), "{w}");
        }
        assert_eq!(Env::from_word("devops"), None);
        assert_eq!(Env::from_word("product"), None);
    }

    #[test]
    fn path_segments_deepest_wins() {
        let a = from_path("environments/prod/main.tf").unwrap();
        assert_eq!(a.env, Some(Env::Prod));
        assert_eq!(a.evidence, Some(Evidence::PathSegment("prod".into())));
        assert_eq!(
            from_path("prod/overlays/staging/k.yaml").unwrap().env,
            Some(Env::Staging)
        );
        assert_eq!(from_path("envs/env-dev/x.tf").unwrap().env, Some(Env::Dev));
        assert_eq!(from_path("modules/rds/main.tf"), None);
        assert_eq!(
            from_path("environments/production-ap-northeast-1/main.tf")
                .unwrap()
                .env,
            Some(Env::Prod)
        );
        assert_eq!(from_path("production-data/x.yaml"), None);
        assert_eq!(from_path("dev-tools/x.yaml"), None);
        assert_eq!(from_path("non-prod/x.yaml"), None);
        assert_eq!(
            from_path("pre-prod/x.yaml").unwrap().env,
            Some(Env::Staging)
        );
        assert_eq!(from_path("preprod/x.yaml").unwrap().env, Some(Env::Staging));
        assert_eq!(from_path("devops/tools/main.tf"), None);
    }

    #[test]
    fn file_names() {
        for (p, e) in [
            ("docker-compose.prod.yml", Env::Prod),
            ("values-staging.yaml", Env::Staging),
            ("prod.tfvars", Env::Prod),
            ("ci/deploy-dev.yml", Env::Dev),
        ] {
            assert_eq!(from_path(p).unwrap().env, Some(e), "{p}");
        }
        assert_eq!(from_path("docker-compose.yml"), None);
        assert_eq!(from_path("Dockerfile.multi-stage"), None);
        assert_eq!(from_path("ci/build-stage.yml"), None);
        // Two different environments in one name: no assignment.
        assert_eq!(from_path("dev-to-prod.yml"), None);
    }
}
