//! Family `hardening`: Kubernetes Pod Security Standards (baseline, restricted) and container hardening, severity by environment tier.

use super::Rule;

pub static RULES: &[&Rule] = &[];
