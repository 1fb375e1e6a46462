//! What a YAML or JSON document is, from its path and its content.

use crate::node::Node;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocKind {
    /// A Kubernetes object (`apiVersion` + `kind`).
    Kubernetes { kind: String, name: Option<String> },
    /// A `kustomization.yaml`.
    Kustomization,
    /// A docker-compose file.
    Compose,
    /// An ECS task definition (`containerDefinitions`).
    EcsTaskDefinition,
    /// An IAM policy or SCP (`Version` + `Statement`).
    IamPolicy,
    /// An eksctl `ClusterConfig`.
    Eksctl,
    /// A GitHub Actions workflow.
    Workflow,
    /// A CloudFormation template.
    CloudFormation,
    /// A Dockerfile: a sequence of instructions (see `parse::dockerfile`).
    Dockerfile,
    /// A Helm values file (`values.yaml`, `values-prod.yaml`,
    /// `values/prod.yaml`...): its images feed the inventory, deep-merged
    /// per environment; the chart's templates stay unrendered.
    HelmValues,
}

impl DocKind {
    pub fn label(&self) -> &'static str {
        match self {
            DocKind::Kubernetes { .. } => "kubernetes",
            DocKind::Kustomization => "kustomization",
            DocKind::Compose => "compose",
            DocKind::EcsTaskDefinition => "ecs task definition",
            DocKind::IamPolicy => "iam policy",
            DocKind::Eksctl => "eksctl cluster",
            DocKind::Workflow => "github workflow",
            DocKind::CloudFormation => "cloudformation",
            DocKind::Dockerfile => "dockerfile",
            DocKind::HelmValues => "helm values",
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_compose_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    (n.starts_with("compose") || n.starts_with("docker-compose"))
        && (n.ends_with(".yml") || n.ends_with(".yaml"))
}

fn is_workflow_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    (lower.starts_with(".github/workflows/") || lower.contains("/.github/workflows/"))
        && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
}

/// `services:` whose entries look like compose services (image or build).
fn has_compose_services(root: &Node) -> bool {
    let Some(services) = root.get("services") else {
        return false;
    };
    let entries = services.entries();
    !entries.is_empty()
        && entries
            .iter()
            .all(|e| e.value.is_map() || matches!(e.value.value, crate::node::Value::Null))
        && entries
            .iter()
            .any(|e| e.value.get("image").is_some() || e.value.get("build").is_some())
}

/// An IAM policy document or SCP: `Statement` (a statement or a list of
/// them) whose statements have an `Effect`; `Version` may be missing (an
/// SCP without it is still an SCP, and an invalid one).
fn is_policy(root: &Node) -> bool {
    let Some(st) = root.get("Statement") else {
        return false;
    };
    let has_effect = |n: &Node| n.get("Effect").is_some();
    root.get("Version").is_some()
        || if st.is_map() {
            has_effect(st)
        } else {
            !st.as_seq().is_empty() && st.as_seq().iter().all(has_effect)
        }
}

/// `values.yaml`, `values-prod.yaml`, `values.prod.yaml`, `prod-values.yaml`,
/// `prod.values.yaml`, or any YAML file in a `values/` directory.
pub fn is_helm_values_path(path: &str) -> bool {
    let lower = file_name(path).to_ascii_lowercase();
    let Some(stem) = lower
        .strip_suffix(".yaml")
        .or_else(|| lower.strip_suffix(".yml"))
    else {
        return false;
    };
    stem == "values"
        || stem.starts_with("values-")
        || stem.starts_with("values.")
        || stem.ends_with("-values")
        || stem.ends_with(".values")
        || path
            .rsplit('/')
            .nth(1)
            .is_some_and(|d| d.eq_ignore_ascii_case("values"))
}

/// A kubeadm patch file (`kubeadm init --patches <dir>`): named
/// `<target>[suffix][+<patchtype>].<ext>`, the target a control-plane
/// component (`kube-apiserver+json.yaml`, `etcd0+strategic.yaml`). It
/// changes a static Pod kubeadm writes; it is not a Pod of its own. Told by
/// a patch type in the name, or by a `patches` directory.
pub fn is_kubeadm_patch_path(path: &str) -> bool {
    const TARGETS: [&str; 6] = [
        "kube-controller-manager",
        "kube-apiserver",
        "kube-scheduler",
        "kubeletconfiguration",
        "corednsdeployment",
        "etcd",
    ];
    let name = file_name(path).to_ascii_lowercase();
    let Some(stem) = [".yaml", ".yml", ".json"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
    else {
        return false;
    };
    let (base, patch_type) = match stem.rsplit_once('+') {
        Some((b, t)) => (b, Some(t)),
        None => (stem, None),
    };
    if !TARGETS.iter().any(|t| base.starts_with(t)) {
        return false;
    }
    match patch_type {
        Some(t) => matches!(t, "json" | "merge" | "strategic"),
        None => path
            .rsplit('/')
            .nth(1)
            .is_some_and(|d| d.to_ascii_lowercase().contains("patches")),
    }
}

pub fn classify(path: &str, root: &Node) -> Option<DocKind> {
    let name = file_name(path);
    if is_kubeadm_patch_path(path) {
        return None;
    }
    if is_workflow_path(path) && root.is_map() {
        return (root.get("jobs").is_some() || root.get("on").is_some())
            .then_some(DocKind::Workflow);
    }
    let lower = name.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "kustomization.yaml" | "kustomization.yml" | "kustomization"
    ) || root.str_at(&["kind"]) == Some("Kustomization")
        && root
            .str_at(&["apiVersion"])
            .is_some_and(|v| v.starts_with("kustomize.config.k8s.io"))
    {
        return Some(DocKind::Kustomization);
    }
    if let (Some(api), Some(kind)) = (root.str_at(&["apiVersion"]), root.str_at(&["kind"])) {
        if api.starts_with("eksctl.io") && kind == "ClusterConfig" {
            return Some(DocKind::Eksctl);
        }
        return Some(DocKind::Kubernetes {
            kind: kind.to_string(),
            name: root.str_at(&["metadata", "name"]).map(str::to_string),
        });
    }
    if (is_compose_name(name) && root.get("services").is_some()) || has_compose_services(root) {
        return Some(DocKind::Compose);
    }
    if root.get("containerDefinitions").is_some() {
        return Some(DocKind::EcsTaskDefinition);
    }
    if is_policy(root) {
        return Some(DocKind::IamPolicy);
    }
    if is_helm_values_path(path) && root.is_map() {
        return Some(DocKind::HelmValues);
    }
    if root.get("AWSTemplateFormatVersion").is_some()
        || root.get("Resources").is_some_and(|r| {
            r.entries().iter().any(|e| {
                e.value
                    .str_at(&["Type"])
                    .is_some_and(|t| t.starts_with("AWS::"))
            })
        })
    {
        return Some(DocKind::CloudFormation);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_kubeadm_patch_path;

    #[test]
    fn kubeadm_patch_files_are_told_by_name_and_directory() {
        for p in [
            "cluster/patches/kube-apiserver+json.yaml",
            "kube-controller-manager0+merge.yaml",
            "kubeadm/etcd+strategic.json",
            "control-plane/patches/kube-scheduler.yaml",
            "patches/kubeletconfiguration.yaml",
        ] {
            assert!(is_kubeadm_patch_path(p), "{p}");
        }
        for p in [
            // The static Pod kubeadm writes is a Pod.
            "etc/kubernetes/manifests/kube-apiserver.yaml",
            "patches/kube-apiserver+yaml.yaml",
            "patches/deployment.yaml",
            "k8s/etcd-operator+json.txt",
        ] {
            assert!(!is_kubeadm_patch_path(p), "{p}");
        }
    }
}
