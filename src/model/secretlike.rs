//! What looks like a secret: key names, known token shapes, credentials in
//! URLs, high-entropy strings. Shared by every rule that looks for secrets.

use crate::model::image::has_placeholder;

/// A name that says its value is a secret (`DB_PASSWORD`, `apiKey`,
/// `STRIPE_SECRET_KEY`), but not one that names *where* a secret is
/// (`PASSWORD_FILE`, `SECRET_ARN`, `TOKEN_URL`, `secretName`).
pub fn is_secret_name(name: &str) -> bool {
    let words = words(name);
    if words.is_empty() {
        return false;
    }
    let last = words.last().map(String::as_str).unwrap_or("");
    if matches!(
        last,
        "file"
            | "path"
            | "arn"
            | "name"
            | "id"
            | "url"
            | "uri"
            | "endpoint"
            | "ref"
            | "key_ref"
            | "length"
            | "type"
            | "policy"
            | "version"
            | "dir"
            | "mount"
            | "header"
            | "expiry"
            | "ttl"
            | "rotation"
            | "enabled"
            | "provider"
            | "store"
            | "manager"
            | "location"
            | "kms"
            | "env"
            | "prefix"
            | "field"
            | "selector"
            | "arns"
            | "names"
            | "ids"
            | "spec"
            | "specs"
            | "paths"
            | "files"
            | "urls"
            | "refs"
            | "versions"
            | "count"
            | "schedule"
            | "expression"
            | "config"
            | "configuration"
            | "parameter"
            | "issuer"
            | "audience"
            | "algorithm"
            | "hasher"
            | "timeout"
            | "lifetime"
            | "required"
            | "auth"
            | "scope"
            | "scopes"
            | "format"
    ) {
        return false;
    }
    // A flag about a secret (`manage_master_user_password`,
    // `create_random_password`) is not the secret.
    let first = words.first().map(String::as_str).unwrap_or("");
    if matches!(
        first,
        "manage"
            | "create"
            | "enable"
            | "enabled"
            | "use"
            | "rotate"
            | "generate"
            | "allow"
            | "require"
            | "is"
            | "has"
            | "should"
            | "skip"
            | "disable"
            | "random"
    ) {
        return false;
    }
    // The secret word must end within the last two words: `db_password`,
    // `password_wo`, `secret_key_base`, but not
    // `master_user_password_rotation_schedule_expression`.
    let n = words.len();
    let near_end = |i: usize| i + 2 >= n;
    let single = [
        "password",
        "passwd",
        "pass",
        "passphrase",
        "pwd",
        "secret",
        "token",
        "apikey",
        "credentials",
        "credential",
        "privatekey",
    ];
    let pairs = [
        ("api", "key"),
        ("private", "key"),
        ("access", "key"),
        ("secret", "key"),
        ("client", "secret"),
        ("auth", "key"),
        ("connection", "string"),
        ("encryption", "key"),
        ("signing", "key"),
        ("master", "key"),
    ];
    words.iter().enumerate().any(|(i, w)| {
        // `PGPASSWORD`, `MYSQLPASSWORD`: a password glued to a prefix.
        (single.contains(&w.as_str()) || w.ends_with("password")) && near_end(i)
    }) || words
        .windows(2)
        .enumerate()
        .any(|(i, p)| pairs.contains(&(p[0].as_str(), p[1].as_str())) && near_end(i + 1))
}

/// Split `DB_PASSWORD`, `dbPassword`, `db-password`, `db.password` into
/// lower-case words.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        cur.push(ch.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A value that is not a secret whatever its key says: empty, a
/// placeholder, a reference to a secret store, a boolean or number, an
/// obvious dummy.
pub fn is_inert_value(v: &str) -> bool {
    let t = v.trim();
    t.is_empty()
        || has_placeholder(t)
        || t.starts_with("arn:aws:secretsmanager:")
        || t.starts_with("arn:aws:ssm:")
        || t.starts_with("projects/") && t.contains("/secrets/")
        || t.starts_with('/') && !t.contains(' ')
        || matches!(
            t.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "none" | "yes" | "no" | "<none>" | "changeme-in-secret"
        )
        || t.parse::<f64>().is_ok()
        || (t.starts_with('<') && t.ends_with('>'))
        || t.chars().all(|c| c == '*' || c == 'x' || c == 'X')
}

/// For a value whose name says it is a secret: inert as [`is_inert_value`]
/// says, except that a number is a literal (`POSTGRES_PASSWORD: 123456`).
pub fn is_inert_for_secret_name(v: &str) -> bool {
    is_inert_value(v) && v.trim().parse::<f64>().is_err()
}

/// The kind of secret a value's shape gives away, if any.
pub fn secret_shape(v: &str) -> Option<&'static str> {
    let t = v.trim();
    if t.contains("-----BEGIN") && t.contains("PRIVATE KEY") {
        return Some("a PEM private key");
    }
    for word in t.split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',') {
        if let Some(kind) = token_shape(word) {
            return Some(kind);
        }
    }
    if url_has_password(t) {
        return Some("a URL with an embedded password");
    }
    None
}

fn token_shape(w: &str) -> Option<&'static str> {
    let b = w.as_bytes();
    let upper_alnum = |s: &[u8]| {
        s.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    if b.len() == 20 && (w.starts_with("AKIA") || w.starts_with("ASIA")) && upper_alnum(b) {
        return Some("an AWS access key id");
    }
    let alnum = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    for (prefix, min, kind) in [
        ("ghp_", 30, "a GitHub token"),
        ("gho_", 30, "a GitHub token"),
        ("ghs_", 30, "a GitHub token"),
        ("github_pat_", 30, "a GitHub token"),
        ("glpat-", 20, "a GitLab token"),
        ("sk_live_", 20, "a Stripe live secret key"),
        ("rk_live_", 20, "a Stripe restricted key"),
        ("xoxb-", 20, "a Slack token"),
        ("xoxp-", 20, "a Slack token"),
        ("AIza", 35, "a Google API key"),
    ] {
        if let Some(rest) = w.strip_prefix(prefix)
            && w.len() >= min
            && alnum(&rest.replace('-', "_"))
        {
            return Some(kind);
        }
    }
    None
}

/// `scheme://user:password@host` with a literal password.
pub fn url_has_password(v: &str) -> bool {
    let Some(i) = v.find("://") else {
        return false;
    };
    let rest = &v[i + 3..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _host)) = authority.rsplit_once('@') else {
        return false;
    };
    let Some((_user, pass)) = userinfo.split_once(':') else {
        return false;
    };
    !pass.is_empty() && !is_inert_value(pass)
}

/// A literal that reads like a password or key rather than a word or code:
/// one token, no code punctuation, and either long or mixing character
/// classes (`hunter2`, `S3cr3t!`, but not `files`, `os.environ[...]`).
pub fn is_password_like(v: &str) -> bool {
    let t = v.trim();
    if t.len() < 4 || t.contains(char::is_whitespace) || is_inert_value(t) {
        return false;
    }
    if t.contains(['(', ')', '[', ']', '{', '}', '$', '<', '>']) {
        return false;
    }
    let classes = [
        t.chars().any(|c| c.is_ascii_lowercase()),
        t.chars().any(|c| c.is_ascii_uppercase()),
        t.chars().any(|c| c.is_ascii_digit()),
        t.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count();
    classes >= 2 || t.len() >= 16
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A long random-looking token (mixed case and digits, high entropy), not
/// a path, URL, hash-prefixed digest or sentence.
pub fn is_high_entropy(v: &str) -> bool {
    let t = v.trim();
    if t.len() < 24 || t.len() > 512 || t.contains(char::is_whitespace) {
        return false;
    }
    if t.contains("://")
        || t.contains('/') && t.matches('/').count() > 2
        || t.starts_with("sha256:")
    {
        return false;
    }
    let upper = t.chars().any(|c| c.is_ascii_uppercase());
    let lower = t.chars().any(|c| c.is_ascii_lowercase());
    let digit = t.chars().any(|c| c.is_ascii_digit());
    upper && lower && digit && entropy(t) >= 4.3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "DB_PASSWORD",
            "dbPassword",
            "API_KEY",
            "apiKey",
            "STRIPE_SECRET_KEY",
            "GITHUB_TOKEN",
            "aws_secret_access_key",
            "client-secret",
            "PRIVATE_KEY",
            "credentials",
            "password_wo",
            "SECRET_KEY_BASE",
            "DB_PASS",
            "PGPASSWORD",
            "ENCRYPTION_KEY",
            "ssh_passphrase",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "PASSWORD_FILE",
            "DB_SECRET_ARN",
            "TOKEN_URL",
            "secretName",
            "NODE_ENV",
            "keyspace",
            "tokenizer_path",
            "monkey",
            "PUBLIC_KEY",
            "master_user_password_rotation_schedule_expression",
            "task_exec_secret_arns",
            "credentialSpecs",
            "manage_master_user_password",
            "TOKEN_ISSUER",
            "PASSWORD_HASHER",
            "TOKEN_TIMEOUT",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(
            secret_shape("AKIAIOSFODNN7EXAMPLE"),
            Some("an AWS access key id")
        );
        assert_eq!(
            secret_shape("postgres://app:s3cr3t@db:5432/app"),
            Some("a URL with an embedded password")
        );
        assert_eq!(secret_shape("postgres://app:${DB_PASS}@db/app"), None);
        assert_eq!(secret_shape("postgres://db:5432/app"), None);
        assert_eq!(
            secret_shape("-----BEGIN RSA PRIVATE KEY-----\nabc"),
            Some("a PEM private key")
        );
        assert_eq!(
            secret_shape("ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            Some("a GitHub token")
        );
        assert_eq!(secret_shape("http://example.com"), None);
    }

    #[test]
    fn inert_and_entropy() {
        assert!(is_inert_value("${DB_PASSWORD}"));
        assert!(is_inert_value(
            "arn:aws:secretsmanager:us-east-1:1:secret:x"
        ));
        assert!(is_inert_value(""));
        assert!(!is_inert_value("hunter2"));
        assert!(is_high_entropy("wJalrXUtnFEMI0K7MDENGbPxRfiCYEXAMPLEKEY"));
        assert!(is_password_like("hunter2"));
        assert!(!is_password_like("files"));
        assert!(!is_password_like("os.environ[\"HF_TOKEN\"]"));
        assert!(!is_high_entropy("this-is-a-normal-config-value"));
        assert!(!is_high_entropy("sha256:4a1c0e9d5b7f3a2e8c6d0b1f4e7a9c3d"));
    }
}
