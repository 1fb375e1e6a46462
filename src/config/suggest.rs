//! "Did you mean": the nearest of the names a misspelt one may stand for.

/// Edit distance in characters.
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate `word` was most likely meant to be: the same up to case
/// and `_`/`-`, or within edit distance 2 (and closer than the word's length).
pub(crate) fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    nearest(word, candidates, 2)
}

/// [`did_you_mean`] within edit distance `max`.
fn nearest<'c>(word: &str, candidates: &[&'c str], max: usize) -> Option<&'c str> {
    let norm = |s: &str| s.to_lowercase().replace('_', "-");
    let w = norm(word);
    let len = w.chars().count();
    candidates
        .iter()
        .map(|c| (levenshtein(&w, &norm(c)), *c))
        .filter(|(d, _)| *d <= max && *d < len)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// ` (did you mean `BO001`?)` for a key that names no rule, rule name or
/// family (`BO01`, `mutable-image-tg`, `secrts`), from the registry (with
/// the policies' rules once registered), else nothing. An id is suggested
/// one edit away (`BO999` is no typo of `BO001`), a name or family two.
pub fn rule_key_suggestion(word: &str) -> String {
    let rules = crate::rules::all();
    let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
    let mut words: Vec<&str> = rules.iter().map(|r| r.name).collect();
    words.extend(rules.iter().map(|r| r.family.as_str()));
    words.sort_unstable();
    words.dedup();
    nearest(word, &ids, 1)
        .or_else(|| did_you_mean(word, &words))
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

pub(crate) fn suggestion(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

pub(crate) fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("{s:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
