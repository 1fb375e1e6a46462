//! Flow collections too large to hand to the YAML parser.
//!
//! saphyr keeps every token of a flow collection (`[...]`, `{...}`) that
//! starts in block context until the collection ends: the collection might
//! still turn out to be a mapping key, and the scanner only gives up on that
//! outside flow context. A one-line flow mapping of 4 MiB is 150 times its
//! size in tokens. [`oversized`] finds, before parsing, the block-context
//! flow collections longer than [`MAX_FLOW_BYTES`]; [`blank`] replaces each
//! with a null (`~`) padded to the same bytes and line breaks, so that every
//! offset and line after it is unchanged, and the rest of the file is still
//! read.
//!
//! The scan is a small lexer of YAML's block context: comments, quoted and
//! block scalars are skipped, and a `[` or `{` counts only where a node
//! starts (a line's first character, or after `- `, `? `, `: `, an anchor or
//! a tag). Inside a flow collection it follows nesting, quoted scalars and
//! comments to the closing bracket. Files no longer than the limit are not
//! scanned at all.

/// The longest flow collection in block context that is parsed (bytes).
pub const MAX_FLOW_BYTES: usize = 256 * 1024;

/// Byte ranges of the flow collections in block context longer than
/// `limit` (an unclosed one runs to the end of the text).
pub fn oversized(text: &str, limit: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if text.len() <= limit {
        return out;
    }
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        i = block_line(b, i, limit, &mut out);
    }
    out
}

/// `text` with each range replaced by `~` and spaces, byte for byte (line
/// breaks kept), so that every offset and line of the text is unchanged.
/// The ranges start at an ASCII bracket and end after one or at the end,
/// so whole characters are replaced.
pub fn blank(text: &str, ranges: &[(usize, usize)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(start, end) in ranges {
        for (k, byte) in bytes.iter_mut().enumerate().take(end).skip(start) {
            if !is_break(*byte) {
                *byte = if k == start { b'~' } else { b' ' };
            }
        }
    }
    String::from_utf8(bytes).unwrap_or_default()
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t')
}

fn is_break(c: u8) -> bool {
    matches!(c, b'\n' | b'\r')
}

/// The start of the line after `i` (past `\n`, `\r\n` or a lone `\r`).
fn next_line(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !is_break(b[i]) {
        i += 1;
    }
    if b.get(i) == Some(&b'\r') && b.get(i + 1) == Some(&b'\n') {
        i += 1;
    }
    (i + 1).min(b.len())
}

/// The number of leading spaces of the line starting at `i`.
fn indent_at(b: &[u8], i: usize) -> usize {
    b[i..].iter().take_while(|&&c| c == b' ').count()
}

/// One line of block context from its start `line`; returns where the
/// scan goes on (the next line, or past a multi-line scalar or collection).
fn block_line(b: &[u8], line: usize, limit: usize, out: &mut Vec<(usize, usize)>) -> usize {
    let indent = indent_at(b, line);
    let mut i = line + indent;
    // Document markers start a node on their line.
    if (b[i..].starts_with(b"---") || b[i..].starts_with(b"..."))
        && b.get(i + 3).is_none_or(|&c| is_blank(c) || is_break(c))
    {
        i += 3;
    }
    let mut at_node = true;
    while i < b.len() {
        let c = b[i];
        if is_break(c) {
            return next_line(b, i);
        }
        if is_blank(c) {
            i += 1;
            continue;
        }
        if c == b'#' && (i == line || b.get(i.wrapping_sub(1)).is_some_and(|&p| is_blank(p))) {
            return next_line(b, i);
        }
        if !at_node {
            // Inside a plain scalar or after a node: a `: ` starts the value.
            if c == b':' && b.get(i + 1).is_none_or(|&n| is_blank(n) || is_break(n)) {
                at_node = true;
            }
            i += 1;
            continue;
        }
        match c {
            b'[' | b'{' => {
                let end = flow_end(b, i);
                if end - i > limit {
                    out.push((i, end));
                }
                i = end;
                at_node = false;
            }
            b'"' | b'\'' => {
                i = quoted_end(b, i);
                at_node = false;
            }
            b'|' | b'>' => return block_scalar_end(b, i, indent),
            b'-' | b'?' if b.get(i + 1).is_none_or(|&n| is_blank(n) || is_break(n)) => i += 1,
            b'&' | b'!' => {
                while i < b.len() && !is_blank(b[i]) && !is_break(b[i]) {
                    i += 1;
                }
            }
            _ => at_node = false,
        }
    }
    b.len()
}

/// Past the quoted scalar starting at `i` (its closing quote), or the end.
fn quoted_end(b: &[u8], i: usize) -> usize {
    let quote = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if quote == b'"' => j += 2,
            q if q == quote => {
                // `''` inside a single-quoted scalar is an escaped quote.
                if quote == b'\'' && b.get(j + 1) == Some(&b'\'') {
                    j += 2;
                } else {
                    return j + 1;
                }
            }
            _ => j += 1,
        }
    }
    b.len()
}

/// Past a block scalar whose indicator is at `i` on a line indented by
/// `indent`: its content is the following lines indented more, and blank
/// lines.
fn block_scalar_end(b: &[u8], i: usize, indent: usize) -> usize {
    let mut line = next_line(b, i);
    while line < b.len() {
        let n = indent_at(b, line);
        let rest = b.get(line + n).copied();
        let blank_line = rest.is_none_or(|c| is_break(c) || c == b'\t');
        if !blank_line && n <= indent {
            return line;
        }
        line = next_line(b, line);
    }
    b.len()
}

/// Past the flow collection opening at `i` (its closing bracket), or the
/// end of the text when it never closes. Quoted scalars count where a node
/// starts, comments after a blank.
fn flow_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    // The last byte that was not blank: a quote after `[ { , :` starts a
    // quoted scalar; after anything else it is part of a plain scalar.
    let mut last = b'[';
    while j < b.len() {
        let c = b[j];
        match c {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            b'"' | b'\'' if matches!(last, b'[' | b'{' | b',' | b':' | b'?') => {
                j = quoted_end(b, j);
                last = c;
                continue;
            }
            b'#' if j > 0 && (is_blank(b[j - 1]) || is_break(b[j - 1])) => {
                j = next_line(b, j);
                continue;
            }
            _ => {}
        }
        if !is_blank(c) && !is_break(c) {
            last = c;
        }
        j += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, limit: usize) -> Vec<&str> {
        oversized(text, limit)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn small_files_are_not_scanned() {
        assert!(oversized("a: [1, 2, 3]\n", 100).is_empty());
    }

    #[test]
    fn finds_long_collections_where_nodes_start() {
        let long = format!("[{}]", vec!["x"; 40].join(", "));
        let text = format!("a: 1\nb: {long}\nc:\n  - {long}\n{long}\n--- {long}\nshort: [1]\n");
        assert_eq!(found(&text, 50), vec![long.as_str(); 4]);
        // Not where a plain scalar, a quoted scalar, a comment or a block
        // scalar has it.
        let text = format!(
            "a: x {long}\nb: \"{long}\"\nc: '{long}'\n# {long}\nd: |\n  {long}\n  more\ne: {long}\n"
        );
        assert_eq!(found(&text, 50), vec![long.as_str()]);
    }

    #[test]
    fn follows_nesting_quotes_and_comments_inside_a_collection() {
        let text = "k: {a: [1, {b: 2}], \"c]\": 'd}''', e: it's, # }\n  f: 3}\nnext: [";
        let long = found(text, 20);
        assert_eq!(
            long,
            ["{a: [1, {b: 2}], \"c]\": 'd}''', e: it's, # }\n  f: 3}"]
        );
        // An unclosed collection runs to the end of the text.
        let text = format!("k: [{}\n", "x, ".repeat(30));
        assert_eq!(found(&text, 20), [&text[3..]]);
    }

    proptest::proptest! {
        /// On any text: no panic, ranges at a bracket and on char
        /// boundaries, in order, and blanking keeps every offset and line.
        #[test]
        fn any_text_scans_safely(text in r#"[-:?#|>&!*'"\\\[\]{}, a-zé\n\r\t]{0,200}"#, limit in 0usize..40) {
            let ranges = oversized(&text, limit);
            let mut last = 0;
            for &(start, end) in &ranges {
                proptest::prop_assert!(last <= start && start < end && end <= text.len());
                proptest::prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
                let at_bracket = matches!(text.as_bytes()[start], b'[' | b'{');
                proptest::prop_assert!(at_bracket);
                proptest::prop_assert!(end - start > limit);
                last = end;
            }
            let blanked = blank(&text, &ranges);
            proptest::prop_assert_eq!(blanked.len(), text.len());
            let breaks = |t: &str| t.bytes().enumerate().filter(|(_, c)| matches!(c, b'\n' | b'\r')).map(|(i, _)| i).collect::<Vec<_>>();
            proptest::prop_assert_eq!(breaks(&blanked), breaks(&text));
        }
    }

    #[test]
    fn blanking_keeps_offsets_and_lines() {
        let text = "a: {é: 1,\n  b: 2}\nc: 3\n";
        let ranges = oversized(text, 5);
        assert_eq!(ranges.len(), 1);
        let blanked = blank(text, &ranges);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked, "a: ~      \n       \nc: 3\n");
    }
}
