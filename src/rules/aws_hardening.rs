//! Family `hardening`: AWS foundational checks on evaluated Terraform and CloudFormation, severity by environment tier.

use super::Rule;

pub static RULES: &[&Rule] = &[];
