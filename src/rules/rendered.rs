//! Findings on Helm renderings, made readable: a chart renders once per
//! environment (and per GitOps application), so one template line can give
//! the same finding several times.
//!
//! - A secret is one finding: where a template prints a value of a values
//!   file (or an application's parameter), the rendering's finding (at the
//!   template line, with the values line on its chain) replaces SEC010's
//!   at the values line, and masks that line; a finding of another secrets
//!   rule at the literal replaces the rendering's.
//! - The same finding of several renderings (messages that differ only in
//!   the rendered workload's name, `shop-prod` / `shop-staging`) is one
//!   finding holding in each rendering's environment, naming the others.

use crate::finding::Finding;
use crate::hash::HashSet;
use crate::model::{DocKind, Model};
use crate::source::Span;

use super::Family;

/// The other renderings a merged finding names, at most.
const NAMES_SHOWN: usize = 5;

pub fn merge(model: &Model, out: &mut Vec<Finding>) {
    if model.rendered_files.is_empty() {
        return;
    }
    let rendered = |f: &Finding| model.rendered_files.binary_search(&f.span.file).is_ok();
    let secrets = |f: &Finding| super::find(f.rule).is_some_and(|r| r.family == Family::Secrets);

    // Secrets: one finding per value. Where the template prints a value
    // of a values file or an application's parameter, the rendering's
    // finding (at the template line, the values line on its chain) stands
    // for SEC010's at the values line; any other rule's finding at the
    // literal stands for the rendering's.
    let values_rule = |f: &Finding| f.rule == super::secrets::HELM_VALUES_SECRET.id;
    let rendered_hops: HashSet<Span> = out
        .iter()
        .filter(|f| rendered(f) && secrets(f))
        .flat_map(|f| f.related.iter().filter(|r| r.flow).map(|r| r.span))
        .collect();
    out.retain(|f| !(values_rule(f) && !rendered(f) && rendered_hops.contains(&f.span)));
    let literal: HashSet<Span> = out
        .iter()
        .filter(|f| secrets(f) && !rendered(f) && !values_rule(f))
        .map(|f| f.span)
        .collect();
    out.retain(|f| {
        !(rendered(f)
            && secrets(f)
            && f.related
                .iter()
                .any(|r| r.flow && literal.contains(&r.span)))
    });
    for f in out.iter_mut().filter(|f| rendered(f) && secrets(f)) {
        let hops: Vec<Span> = f
            .related
            .iter()
            .filter(|r| r.flow && model.rendered_files.binary_search(&r.span.file).is_err())
            .map(|r| r.span)
            .collect();
        if hops.is_empty() {
            continue;
        }
        // The template prints the value (`{{ .Values.password }}`): the
        // secret is where it was written.
        let primary = f.span;
        let is_action = model
            .sources
            .get(primary.file)
            .and_then(|s| s.text.get(primary.start as usize..primary.end as usize))
            .is_some_and(|t| t.contains("{{"));
        if is_action {
            f.secrets.retain(|s| *s != primary);
        }
        f.secrets.extend(hops);
    }

    // The same finding from several renderings of one place.
    let mut names_by_file: crate::hash::HashMap<crate::source::FileId, Vec<&str>> =
        Default::default();
    for d in &model.docs {
        if let DocKind::Kubernetes {
            name: Some(name), ..
        } = &d.kind
            && model.rendered_files.binary_search(&d.file).is_ok()
        {
            let v = names_by_file.entry(d.file).or_default();
            if !v.contains(&name.as_str()) {
                v.push(name.as_str());
            }
        }
    }
    for v in names_by_file.values_mut() {
        // Longest first: `shop-prod-db` before `shop-prod`.
        v.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    }
    let key = |f: &Finding| -> Option<(&'static str, Span, String)> {
        if !rendered(f) {
            return None;
        }
        let mut m = f.message.clone();
        for n in names_by_file.get(&f.span.file).into_iter().flatten() {
            if !n.is_empty() {
                m = m.replace(n, "\u{0}");
            }
        }
        Some((f.rule, f.span, m))
    };
    let mut first: crate::hash::HashMap<(&'static str, Span, String), usize> = Default::default();
    let mut others: Vec<Vec<usize>> = vec![Vec::new(); out.len()];
    let mut keep = vec![true; out.len()];
    for (i, f) in out.iter().enumerate() {
        let Some(k) = key(f) else { continue };
        match first.get(&k) {
            Some(&j) if out[j].message != f.message => {
                others[j].push(i);
                keep[i] = false;
            }
            Some(_) => {} // the same message: merged when located
            None => {
                first.insert(k, i);
            }
        }
    }
    if keep.iter().all(|k| *k) {
        return;
    }
    for (j, merged) in others.iter().enumerate() {
        if merged.is_empty() {
            continue;
        }
        let mut envs = if out[j].envs.is_empty() {
            model.envs_at(out[j].span)
        } else {
            out[j].envs.clone()
        };
        let mut all = envs.is_empty();
        let mut also: Vec<String> = Vec::new();
        let mut related = Vec::new();
        let mut secrets = Vec::new();
        for &i in merged {
            let f = &out[i];
            let e = if f.envs.is_empty() {
                model.envs_at(f.span)
            } else {
                f.envs.clone()
            };
            all |= e.is_empty();
            envs.extend(e);
            for n in names_by_file.get(&f.span.file).into_iter().flatten() {
                if f.message.contains(n) && !out[j].message.contains(n) {
                    also.push(n.to_string());
                    break;
                }
            }
            related.extend(f.related.iter().cloned());
            secrets.extend(f.secrets.iter().copied());
        }
        also.sort();
        also.dedup();
        let severity = merged
            .iter()
            .map(|&i| out[i].severity)
            .fold(out[j].severity, Ord::max);
        let target = &mut out[j];
        target.severity = severity;
        if all {
            envs.clear();
        } else {
            envs.sort();
            envs.dedup();
        }
        target.envs = envs;
        for r in related {
            if !target.related.contains(&r) {
                target.related.push(r);
            }
        }
        target.secrets.extend(secrets);
        if !also.is_empty() {
            let shown = also
                .iter()
                .take(NAMES_SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            let more = also.len().saturating_sub(NAMES_SHOWN);
            target.message = if more > 0 {
                format!(
                    "{} (also in its renderings {shown} and {more} more)",
                    target.message
                )
            } else {
                format!("{} (also in its renderings {shown})", target.message)
            };
        }
    }
    let mut i = 0;
    out.retain(|_| {
        i += 1;
        keep[i - 1]
    });
}
