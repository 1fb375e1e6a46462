//! "Did you mean": the nearest of the names a misspelt one may stand for.

#[cfg(test)]
thread_local! {
    /// The edit-distance cells [`nearest_within`] has filled on this thread
    /// (tests count work with it instead of timing it).
    pub(crate) static CELLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

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
#[cfg(test)]
pub(crate) fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    nearest_within(word, candidates, 2, &mut { u64::MAX })
}

/// The candidate `word` was most likely meant to be within edit distance
/// `max` (the same up to case and `_`/`-` is distance 0), spending at most
/// `budget` cells of edit-distance tables (what it spends is taken off):
/// past it, no suggestion. A suggestion is help, not a judgement, so a
/// config with many misspellings among many names gets them while they are
/// cheap, in the order asked.
pub(crate) fn nearest_within<'c>(
    word: &str,
    candidates: &[&'c str],
    max: usize,
    budget: &mut u64,
) -> Option<&'c str> {
    let norm = |s: &str| s.to_lowercase().replace('_', "-");
    let w = norm(word);
    let len = w.chars().count();
    let mut best: Option<(usize, &'c str)> = None;
    for c in candidates {
        // The distance is at least the difference in length (lowercasing
        // keeps the length of the ASCII names suggested).
        if len.abs_diff(c.chars().count()) > max {
            continue;
        }
        let c_norm = norm(c);
        let c_len = c_norm.chars().count();
        let cells = (len as u64 + 1).saturating_mul(c_len as u64 + 1);
        if *budget < cells {
            *budget = 0;
            return None;
        }
        *budget -= cells;
        #[cfg(test)]
        CELLS.with(|c| c.set(c.get() + cells));
        let d = levenshtein(&w, &c_norm);
        if d <= max && d < len && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// ` (did you mean `BO001`?)` for a key that names no rule, rule name or
/// family (`BO01`, `mutable-image-tg`, `secrts`), from the registry (with
/// the policies' rules once registered), else nothing. An id is suggested
/// one edit away (`BO999` is no typo of `BO001`), a name or family two.
pub fn rule_key_suggestion(word: &str) -> String {
    let mut unlimited = u64::MAX;
    rule_key_suggestion_within(word, &mut unlimited)
}

/// [`rule_key_suggestion`] within a budget (see [`nearest_within`]).
pub(crate) fn rule_key_suggestion_within(word: &str, budget: &mut u64) -> String {
    let rules = crate::rules::all();
    let ids: Vec<&str> = rules.iter().map(|r| r.id).collect();
    let mut words: Vec<&str> = rules.iter().map(|r| r.name).collect();
    words.extend(rules.iter().map(|r| r.family.as_str()));
    words.sort_unstable();
    words.dedup();
    nearest_within(word, &ids, 1, budget)
        .or_else(|| nearest_within(word, &words, 2, budget))
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

/// ` (did you mean `X`?)` or nothing, within a budget (see [`nearest_within`]).
pub(crate) fn suggestion_within(word: &str, candidates: &[&str], budget: &mut u64) -> String {
    nearest_within(word, candidates, 2, budget)
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
