//! GitHub Actions workflows: jobs, the environment each job deploys to, and
//! what it needs. Pipeline rules read this.

use crate::env::{Assignment, EnvSet, Evidence};
use crate::model::{Doc, DocKind};
use crate::node::Node;
use crate::source::{FileId, Span};

#[derive(Clone, Debug)]
pub struct Job {
    pub file: FileId,
    /// The job id (`deploy-prod`).
    pub id: String,
    pub id_span: Span,
    /// `environment:` as written (`production`, or `{name: production}`).
    pub environment: Option<(String, Span)>,
    /// The job's environment: from `environment:`, else the workflow file's.
    pub assignment: Assignment,
    /// `needs:` job ids.
    pub needs: Vec<(String, Span)>,
    /// `if:` condition text.
    pub condition: Option<(String, Span)>,
}

fn needs_of(job: &Node) -> Vec<(String, Span)> {
    let Some(n) = job.get("needs") else {
        return Vec::new();
    };
    if let Some(s) = n.as_str() {
        return vec![(s.to_string(), n.span)];
    }
    n.as_seq()
        .iter()
        .filter_map(|i| i.as_str().map(|s| (s.to_string(), i.span)))
        .collect()
}

/// The jobs of every workflow document.
pub fn jobs(docs: &[Doc], envs: &EnvSet) -> Vec<Job> {
    let mut out = Vec::new();
    for doc in docs {
        if doc.kind != DocKind::Workflow {
            continue;
        }
        let Some(jobs) = doc.root.get("jobs") else {
            continue;
        };
        for e in jobs.entries() {
            let Some(id) = e.key_str() else { continue };
            let job = &e.value;
            let environment = job.get("environment").and_then(|env| {
                let n = if env.is_map() { env.get("name")? } else { env };
                n.as_str().map(|s| (s.to_string(), n.span))
            });
            let assignment = environment
                .as_ref()
                .and_then(|(name, span)| {
                    let e = envs.words(name)?;
                    Some(Assignment::new(
                        e,
                        Evidence::WorkflowJob {
                            job: id.to_string(),
                            span: *span,
                            value: name.clone(),
                        },
                    ))
                })
                .unwrap_or_else(|| doc.assignment.clone());
            out.push(Job {
                file: doc.file,
                id: id.to_string(),
                id_span: e.key.span,
                environment,
                assignment,
                needs: needs_of(job),
                condition: job
                    .get("if")
                    .and_then(|c| c.scalar_text().map(|t| (t.into_owned(), c.span))),
            });
        }
    }
    out
}
