//! `guard.toml` (or `.guard.toml`): the project's configuration.
//!
//! guard uses the nearest config file: the first directory, from the checked
//! directory up to the filesystem root, that holds `guard.toml` or
//! `.guard.toml` (`guard.toml` wins when a directory has both). Every key is
//! optional. An unknown key, a value of the wrong type, or a name that refers
//! to no rule or environment is an error reported at its line and column;
//! all of a file's errors are reported at once (the first 100 shown). The
//! work is linear in the file's size.
//!
//! ```toml
//! # Rules are named by id ("BO001"), by name, or by family ("secrets").
//! select = ["secrets", "BO001"]        # check only these (default: every rule)
//! extend-select = ["BO010"]            # add these to the selection
//! # ignore = ["BO002"]                 # remove these from the selection (see below)
//! exclude = ["vendor/**", "**/testdata/**"]  # path globs never checked
//! fail-on = "warning"                  # "error" | "warning" | "note" | "never":
//!                                      # the least severe finding that fails the run
//! policies = ["policies"]              # directories of the project's own policies
//!
//! [rules.BO003]                        # one table per rule, name or family
//! severity = "warning"                 # "error" | "warning" | "note" | "off"
//!
//! [environments]
//! defaults = true                      # false: only the environments declared below exist
//! order = ["dev", "staging", "prod"]   # promotion order
//! non-environment-dirs = ["modules", "shared"]  # directory names that never name an environment
//!
//! [environments.prod]                  # a default environment keeps its tier
//! aliases = ["live"]
//!
//! [environments.perf]                  # a new environment needs a tier
//! tier = "staging"                     # "dev" | "staging" | "prod"
//! aliases = ["load-test"]              # other names of it in paths and namespaces
//! globs = ["deploy/perf/**"]           # its files (path globs from the project root)
//! var-files = ["envs/perf.tfvars"]     # its Terraform var files (paths or globs)
//! workspaces = ["perf"]                # its Terraform workspaces
//! overlays = ["k8s/overlays/perf"]     # its Kustomize overlay directories
//! values = ["charts/app/values-perf.yaml"]  # its Helm values files
//! namespaces = ["app-perf"]            # its Kubernetes namespaces
//!
//! [regions]
//! allowed = ["us-east-1", "eu-west-1"] # the AWS regions resources may be in
//! [regions.env]
//! prod = ["us-east-1"]                 # ... per environment
//!
//! [parity]
//! pairs = [["staging", "prod"]]        # environments whose settings should match
//! allow = ["aws_db_instance.*.instance_class"]  # differences that are intended
//!
//! [hardening]                        # present: the hardening family runs (it is opt-in;
//!                                      # `extend-select = ["hardening"]` runs it too)
//!                                      # which Pod Security Standards profile each tier must meet:
//! pod-security = { prod = "restricted", staging = "baseline", dev = "off" }
//!                                      # "restricted" | "baseline" | "off" per tier (dev, staging, prod)
//! pod-security-version = "v1.37"       # the Kubernetes release whose standards apply, as Pod
//!                                      # Security Admission's enforce-version ("latest": v1.37)
//!
//! [limits]
//! max-file-size = 5_000_000            # bytes (a positive integer)
//! max-findings-per-file = 200          # (a positive integer)
//! max-findings = 10000                 # the findings one run keeps; 0: all
//!
//! [[ignore]]                           # a suppression; `[[suppress]]` is the same
//! path = "legacy/**"                   # a path glob; omitted: every file
//! rules = ["BO001", "secrets"]         # or `rule = "BO001"`; at least one
//! environment = "dev"                  # omitted: every environment
//! reason = "replaced in Q3"            # why (guard warns when it is missing)
//! until = 2027-01-31                   # expiry: a TOML date or "2027-01-31"
//! ```
//!
//! Environments: the defaults are `sandbox` and `dev` (tier dev), `qa`,
//! `uat` and `staging` (tier staging) and `prod` (tier prod); a declared
//! environment with a default's name keeps that tier unless it sets one,
//! even with `defaults = false`. A name is lowercase letters, digits, `-`
//! and `_`, starting with a letter or digit. Wherever an environment is named
//! (`order`, `[regions.env]`, `[parity] pairs`, `[[ignore]] environment`),
//! an alias of a declared environment may stand for it. No alias may name
//! two environments.
//!
//! `ignore` means two things, told apart by its TOML type: an array of
//! strings (`ignore = ["BO002"]`) removes rules from the selection,
//! `[[ignore]]` tables are suppressions. TOML lets a key be only one of these
//! in a file, so a file that uses `ignore = [...]` writes its suppressions as
//! `[[suppress]]` tables, which mean the same as `[[ignore]]` tables.

mod parse;
mod suggest;
#[cfg(test)]
mod tests;
mod types;

pub use parse::{find_upward, is_region};
pub use suggest::rule_key_suggestion;
pub use types::*;
