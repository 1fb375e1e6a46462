//! The hash maps and sets guard uses: std's tables with foldhash instead
//! of SipHash. Keys are short strings and spans looked up millions of
//! times per run (Terraform scopes, YAML keys, finding merges); SipHash
//! was about 3% of a run's CPU. The seed is still random per process, as
//! with std's default, and no output depends on a table's order.

pub type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
pub type HashSet<T> = std::collections::HashSet<T, foldhash::fast::RandomState>;
