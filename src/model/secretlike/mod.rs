//! What is a secret: one classifier for every format (environment
//! variables, ConfigMaps, compose, ECS, Dockerfiles, Terraform, workflows).
//!
//! It decides on the **value first**: a known token shape (`AKIA...`,
//! `ghp_...`, a JWT, a PEM private key, a URL with a password) is a secret
//! whatever its name, and a value that cannot be a secret (a number, a
//! duration, a path, a reference to a secret store, a placeholder) is not
//! one whatever its name. Only in between does the **name** decide: a
//! literal under a password name is the password; under a key or token name
//! it must look like a key (long enough, random enough). Dummy values that
//! would really be used (`changeme`, `your_api_key_here`) are a verdict of
//! their own, [`Verdict::Weak`].
//!
//! `corpus.txt` beside this file is a labelled corpus the tests check.

/// What a value is, given its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Not a secret: a setting, a reference to a secret, a placeholder.
    Not,
    /// A dummy that would really be used as the secret (`changeme`).
    Weak,
    /// A secret.
    Secret(Why),
}

/// Why a value is a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Its shape gives it away (`a GitHub token`).
    Shape(&'static str),
    /// Its name says it is a secret and it reads like a random key.
    Random,
    /// Its name says it is a secret and it is a literal (`hunter2`).
    Named,
}

impl Why {
    /// Certain enough on its own: a known shape or a random key, not just a
    /// word under a password name (`POSTGRES_PASSWORD: postgres` in a CI
    /// service container).
    pub fn strong(self) -> bool {
        !matches!(self, Why::Named)
    }

    /// For messages: "its value looks like a GitHub token".
    pub fn describe(self) -> String {
        match self {
            Why::Shape(s) => format!("its value looks like {s}"),
            Why::Random => "its name says it is a secret and its value is a random key".into(),
            Why::Named => "its name says it is a secret and its value is a literal".into(),
        }
    }
}

impl Verdict {
    pub fn secret(self) -> Option<Why> {
        match self {
            Verdict::Secret(w) => Some(w),
            _ => None,
        }
    }
}

/// What kind of secret a name announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameKind {
    /// A password: any literal is the password, however weak.
    Password,
    /// A key, token or other credential: a literal must look like one.
    Key,
}

/// Classify `value`, written under `name` when it has one.
pub fn classify(name: Option<&str>, value: &str) -> Verdict {
    // The secrets rules ask about the same values many times over (a
    // Terraform value is judged as a literal, as a placeholder and where it
    // flows to): each thread remembers its answers for short values.
    const MAX_KEY: usize = 512;
    const MAX_ENTRIES: usize = 1 << 16;
    thread_local! {
        static SEEN: std::cell::RefCell<(String, crate::hash::HashMap<Box<str>, Verdict>)> =
            Default::default();
    }
    if value.len() + name.map_or(0, str::len) > MAX_KEY {
        return judge(name, value);
    }
    SEEN.with(|seen| {
        let Ok(mut seen) = seen.try_borrow_mut() else {
            return judge(name, value);
        };
        let (key, map) = &mut *seen;
        key.clear();
        match name {
            Some(n) => {
                // The name's length first: no two pairs give one key.
                use std::fmt::Write;
                let _ = write!(key, "{}:{n}", n.len());
            }
            None => key.push('-'),
        }
        key.push_str(value);
        if let Some(v) = map.get(key.as_str()) {
            return *v;
        }
        let v = judge(name, value);
        if map.len() < MAX_ENTRIES {
            map.insert(key.as_str().into(), v);
        }
        v
    })
}

/// [`classify`], without remembering.
fn judge(name: Option<&str>, value: &str) -> Verdict {
    let t = unquote(value);
    if t.is_empty() {
        return Verdict::Not;
    }
    // `${DB_PASSWORD:-hunter2}`: the default is a value committed here,
    // used wherever the variable is unset.
    if let Some(default) = shell_default(t) {
        return judge(name, default);
    }
    // 1. The value's shape decides first.
    if let Some(shape) = secret_shape(t) {
        return Verdict::Secret(Why::Shape(shape));
    }
    let kind = name.and_then(secret_name_kind);
    if let (Some(n), Some(_)) = (name, kind)
        && is_aws_secret_key_name(n)
        && is_aws_secret_key(t)
    {
        return Verdict::Secret(Why::Shape("an AWS secret access key"));
    }
    // 2. Values that are never secrets. A number is a setting, unless it
    // is a dummy password under a secret's name (`123456`). Whether the
    // value is a dummy is asked only where the answer matters (most values
    // have no name, or no secret's name).
    if is_never_secret(t) {
        return Verdict::Not;
    }
    if is_scalar_setting(t) && !(kind.is_some() && is_weak(t)) {
        return Verdict::Not;
    }
    // 3. The name.
    let Some(kind) = kind else {
        // A dummy under a name that is no secret's (`ADMIN_USER=changeme`)
        // is reported only when the dummy says "fill me in".
        return if name.is_some() && is_weak(t) && is_fill_me_in(t) {
            Verdict::Weak
        } else {
            Verdict::Not
        };
    };
    if is_weak(t) {
        return Verdict::Weak;
    }
    if is_placeholder_text(t, name.unwrap_or("")) || is_prose(t) || is_code(t) {
        return Verdict::Not;
    }
    if is_random(t) {
        return Verdict::Secret(Why::Random);
    }
    match kind {
        NameKind::Password => Verdict::Secret(Why::Named),
        NameKind::Key if is_key_like(t) => Verdict::Secret(Why::Named),
        NameKind::Key => Verdict::Not,
    }
}

/// The value without surrounding whitespace and one level of matching
/// quotes (`'<PRIVKEY>'`, `"hunter2"`).
pub fn unquote(v: &str) -> &str {
    let t = v.trim();
    for q in ['"', '\''] {
        if t.len() >= 2
            && t.starts_with(q)
            && t.ends_with(q)
            && let Some(inner) = t.get(1..t.len() - 1)
        {
            return inner.trim();
        }
    }
    t
}

// ---------------------------------------------------------------------------
// Names

/// A name that says its value is a secret (`DB_PASSWORD`, `apiKey`,
/// `STRIPE_SECRET_KEY`, `db_creds`, `secrets`), but not one that names
/// *where* a secret is (`PASSWORD_FILE`, `SECRET_ARN`, `TOKEN_URL`,
/// `secretName`) or a setting about one (`SECRET_PORT`,
/// `password_length`, `domain_validation_token`).
pub fn is_secret_name(name: &str) -> bool {
    secret_name_kind(name).is_some()
}

/// The kind of secret a name announces, if any.
pub fn secret_name_kind(name: &str) -> Option<NameKind> {
    if !may_name_a_secret(name) {
        return None;
    }
    kind_from_words(name)
}

/// [`secret_name_kind`] without the quick rejection.
fn kind_from_words(name: &str) -> Option<NameKind> {
    let words = words(name);
    let last = words.last().map(String::as_str)?;
    if NOT_LAST.contains(&last) {
        return None;
    }
    // A flag or count about a secret (`manage_master_user_password`,
    // `max_tokens`) is not the secret.
    let first = words.first().map(String::as_str).unwrap_or("");
    if NOT_FIRST.contains(&first) {
        return None;
    }
    // A public value named like a secret (`domain_validation_token`,
    // `PUBLIC_KEY`, `MYSQL_ALLOW_EMPTY_PASSWORD`).
    if words.iter().any(|w| NOT_ANYWHERE.contains(&w.as_str())) {
        return None;
    }
    // The secret word must end within the last two words: `db_password`,
    // `password_wo`, `secret_key_base`, but not
    // `master_user_password_rotation_schedule_expression`.
    let n = words.len();
    let near_end = |i: usize| i + 2 >= n;
    let mut kind = None;
    for (i, w) in words.iter().enumerate() {
        if !near_end(i) {
            continue;
        }
        let w = w.as_str();
        // `PGPASSWORD`, `MYSQLPASSWORD`: a password glued to a prefix.
        if PASSWORD_WORDS.contains(&w) || w.ends_with("password") || w.ends_with("passwd") {
            return Some(NameKind::Password);
        }
        if KEY_WORDS.contains(&w) {
            kind = Some(NameKind::Key);
        }
    }
    for (i, p) in words.windows(2).enumerate() {
        if near_end(i + 1) && KEY_PAIRS.contains(&(p[0].as_str(), p[1].as_str())) {
            kind = Some(NameKind::Key);
        }
    }
    kind
}

/// Whether `name` holds, in any case, one of the fragments every word
/// [`secret_name_kind`] looks for contains (its password words, key words
/// and the last words of its key pairs). Most names hold none, and are
/// rejected here without being split into words.
fn may_name_a_secret(name: &str) -> bool {
    let b = name.as_bytes();
    let at = |i: usize, f: &[u8]| {
        b.get(i..i + f.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(f))
    };
    // Dispatch on the first letter: one comparison for most bytes.
    (0..b.len()).any(|i| match b[i].to_ascii_lowercase() {
        b'p' => at(i, b"pass") || at(i, b"pw") || at(i, b"psk") || at(i, b"pepper"),
        b's' => at(i, b"secret") || at(i, b"salt") || at(i, b"string"),
        b't' => at(i, b"token"),
        b'k' => at(i, b"key"),
        b'c' => at(i, b"cred"),
        _ => false,
    })
}

const PASSWORD_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "passphrase",
    "pwd",
    "pw",
    "passwords",
];

const KEY_WORDS: &[&str] = &[
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "apikeys",
    "credentials",
    "credential",
    "creds",
    "cred",
    "privatekey",
    "salt",
    "psk",
    "pepper",
];

const KEY_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("api", "keys"),
    ("app", "key"),
    ("private", "key"),
    ("access", "key"),
    ("secret", "key"),
    ("client", "secret"),
    ("auth", "key"),
    ("connection", "string"),
    ("encryption", "key"),
    ("signing", "key"),
    ("master", "key"),
    ("preshared", "key"),
    ("shared", "key"),
    ("license", "key"),
];

/// Last words that say the value is about a secret, not the secret.
const NOT_LAST: &[&str] = &[
    "file",
    "path",
    "arn",
    "name",
    "id",
    "url",
    "uri",
    "endpoint",
    "ref",
    "length",
    "type",
    "policy",
    "version",
    "dir",
    "mount",
    "header",
    "expiry",
    "ttl",
    "rotation",
    "enabled",
    "provider",
    "store",
    "manager",
    "location",
    "kms",
    "env",
    "prefix",
    "field",
    "selector",
    "arns",
    "names",
    "ids",
    "spec",
    "specs",
    "paths",
    "files",
    "urls",
    "refs",
    "versions",
    "count",
    "schedule",
    "expression",
    "config",
    "configuration",
    "parameter",
    "issuer",
    "audience",
    "algorithm",
    "hasher",
    "timeout",
    "lifetime",
    "required",
    "auth",
    "scope",
    "scopes",
    "format",
    "port",
    "host",
    "hostname",
    "user",
    "username",
    "region",
    "size",
    "mode",
    "namespace",
    "label",
    "labels",
    "keyid",
    "bucket",
    "table",
    "topic",
    "queue",
    "project",
    "group",
    "role",
    "policies",
    "duration",
    "days",
    "hours",
    "seconds",
    "minutes",
    "interval",
    "age",
    "limit",
    "max",
    "min",
    "min_length",
    "hash",
    "digest",
    "secretname",
    "template",
    "description",
    "tag",
    "tags",
    "email",
    "sid",
    "directory",
    "volume",
    "volumes",
    "annotation",
    "annotations",
];

/// First words of flags and settings about a secret.
const NOT_FIRST: &[&str] = &[
    "manage", "create", "enable", "enabled", "use", "rotate", "generate", "allow", "require", "is",
    "has", "should", "skip", "disable", "random", "max", "min", "num", "no", "ignore",
    // The name of a Secret that holds it (Helm charts' `existingSecret`).
    "existing",
];

/// Words that make a secret-sounding name public or a flag.
const NOT_ANYWHERE: &[&str] = &[
    "public",
    "publishable",
    "validation",
    "verification",
    "allow",
    "empty",
    "csrf",
    "tokenizer",
    "rotation",
];

/// `aws_secret_access_key`, `AWS_SECRET_ACCESS_KEY`, `secretAccessKey`.
fn is_aws_secret_key_name(name: &str) -> bool {
    words(name)
        .windows(3)
        .any(|w| w == ["secret", "access", "key"])
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

// ---------------------------------------------------------------------------
// Values that are never secrets

/// A value that is not a secret whatever its name says: empty, a
/// placeholder, a reference to a secret store, a boolean, number, duration
/// or size, a path, a URL without credentials, an obvious dummy.
pub fn is_inert_value(v: &str) -> bool {
    let t = unquote(v);
    t.is_empty() || is_never_secret(t) || is_scalar_setting(t) || is_placeholder_text(t, "")
}

/// Placeholders, references, paths, URLs without credentials (numbers and
/// the like are [`is_scalar_setting`]).
fn is_never_secret(t: &str) -> bool {
    has_placeholder(t)
        || is_reference(t)
        || is_path(t)
        || (t.contains("://") && !t.contains(char::is_whitespace) && !url_has_password(t))
        || (t.starts_with('<') && t.ends_with('>'))
        || t.chars()
            .all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '-' | '#'))
}

/// The default of a whole-value shell/compose parameter expansion with a
/// default: `${NAME:-default}`, `${NAME-default}`, `${NAME:=default}`
/// (none when the default holds another expansion).
fn shell_default(t: &str) -> Option<&str> {
    let inner = t.strip_prefix("${")?.strip_suffix('}')?;
    let name_len = inner
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    if name_len == 0 || inner.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    let rest = &inner[name_len..];
    let default = [":-", ":=", "-", "="]
        .iter()
        .find_map(|op| rest.strip_prefix(op))?;
    (!default.contains('$') && !default.contains('}')).then_some(default)
}

/// `${VAR}`, `$(VAR)`, `$VAR`, `{{ .Values.x }}`, `${{ secrets.X }}`,
/// `%env(DB_PASSWORD)%`, `#{Password}#`, Python configuration interpolation
/// `%(db_password)s`, an autoconf/token-replacement `@DB_PASSWORD@`.
pub fn has_placeholder(s: &str) -> bool {
    // Every form below has one of these bytes: one pass rules most values
    // out before the substring searches.
    if !s
        .bytes()
        .any(|b| matches!(b, b'$' | b'{' | b'%' | b'#' | b'@'))
    {
        return false;
    }
    s.contains("${")
        || s.contains("{{")
        || s.contains("$(")
        || s.contains("%env(")
        || (s.contains("%(") && s.contains(")s"))
        || is_at_placeholder(s)
        || (s.contains("#{") && s.contains('}'))
        || s.as_bytes()
            .windows(2)
            .any(|w| w[0] == b'$' && (w[1].is_ascii_alphabetic() || w[1] == b'_'))
}

/// `@DB_PASSWORD@`: a whole value that a build step replaces.
fn is_at_placeholder(s: &str) -> bool {
    s.len() > 2
        && s.starts_with('@')
        && s.ends_with('@')
        && s[1..s.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// A reference to a secret, not the secret: an ARN, a GCP secret version, a
/// Vault path, a Kubernetes reference.
fn is_reference(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.starts_with("arn:")
        || (lower.starts_with("projects/") && lower.contains("/secrets/"))
        || is_cloud_resource_name(&lower)
        || lower.starts_with("vault:")
        || lower.starts_with("ref+")
        || lower.starts_with("sm://")
        || lower.starts_with("secretsmanager:")
        || lower.starts_with("ssm:")
        || lower.starts_with("secretkeyref")
        || lower.starts_with("valuefrom")
}

/// A Google Cloud resource name (`projects/p/instances/i/databases/d`):
/// `collection/id` pairs that name a resource, and carry no credential.
fn is_cloud_resource_name(lower: &str) -> bool {
    let parts: Vec<&str> = lower.split('/').collect();
    (lower.starts_with("projects/")
        || lower.starts_with("organizations/")
        || lower.starts_with("folders/"))
        && parts.len() >= 4
        && parts.len().is_multiple_of(2)
        && parts
            .iter()
            .step_by(2)
            .all(|c| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_lowercase()))
        && !lower.contains('@')
        && !lower.contains(':')
}

/// Booleans, nulls, numbers, durations (`30s`, `1h30m`), sizes (`512Mi`).
fn is_scalar_setting(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "nil" | "none" | "yes" | "no" | "on" | "off" | "~" | "<none>"
    ) {
        return true;
    }
    if t.parse::<f64>().is_ok() || is_number_with_unit(t) {
        return true;
    }
    false
}

/// `30s`, `1h30m`, `500ms`, `512Mi`, `1.5Gi`, `10MB`, `100m`.
fn is_number_with_unit(t: &str) -> bool {
    const UNITS: &[&str] = &[
        "ns", "us", "µs", "ms", "s", "m", "h", "d", "w", "y", "k", "ki", "mi", "gi", "ti", "pi",
        "kb", "mb", "gb", "tb", "b", "g", "t", "%",
    ];
    let mut rest = t;
    let mut groups = 0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        if unit == 0 || !UNITS.contains(&rest[..unit].to_ascii_lowercase().as_str()) {
            return false;
        }
        rest = &rest[unit..];
        groups += 1;
    }
    groups > 0
}

/// A file path: `/etc/ssl/app.pem`, `./certs/key.pem`, `~/.ssh/id_rsa`,
/// `%kernel.project_dir%/config/jwt/private.pem`, `C:\keys\app.pfx`,
/// `config/jwt/private.pem`. Not a random base64 key that starts with `/`.
fn is_path(t: &str) -> bool {
    if t.contains(char::is_whitespace) || is_random(t) {
        return false;
    }
    let starts = t.starts_with('/')
        || t.starts_with("./")
        || t.starts_with("../")
        || t.starts_with("~/")
        || t.starts_with("file:")
        || (t.starts_with('%') && t[1..].contains("%/"))
        || t.get(1..3) == Some(":\\");
    if starts {
        return true;
    }
    const EXT: &[&str] = &[
        ".pem",
        ".key",
        ".crt",
        ".cer",
        ".der",
        ".p12",
        ".pfx",
        ".jks",
        ".json",
        ".txt",
        ".yaml",
        ".yml",
        ".env",
        ".pub",
        ".keystore",
        ".asc",
        ".gpg",
    ];
    let lower = t.to_ascii_lowercase();
    t.contains('/') && EXT.iter().any(|e| lower.ends_with(e))
}

/// A placeholder written as text: `xxx`, `<password>`, `INSERT_TOKEN_HERE`,
/// `HF_TOKEN` (an identifier where a value should be), `sk-ant-PLACEHOLDER`,
/// the name itself.
fn is_placeholder_text(t: &str, name: &str) -> bool {
    if t.starts_with('<') && t.ends_with('>') {
        return true;
    }
    if !name.is_empty() && t.eq_ignore_ascii_case(name) {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "xxx"
            | "xxxx"
            | "tbd"
            | "todo"
            | "fixme"
            | "redacted"
            | "n/a"
            | "placeholder"
            | "none"
            | "null"
            | "unset"
            | "empty"
    ) || lower.contains("xxxxx")
        || t.chars()
            .all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '-' | '#'))
    {
        return true;
    }
    // `tfc-agent-k8s-secrets`, `db-credentials`: the name of a secret.
    let segments: Vec<&str> = t.split(['-', '_', '.']).collect();
    if segments.len() >= 2
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        && segments.iter().any(|s| {
            matches!(
                *s,
                "secret"
                    | "secrets"
                    | "token"
                    | "tokens"
                    | "credentials"
                    | "creds"
                    | "key"
                    | "keys"
            )
        })
    {
        return true;
    }
    // `INSERT_ETCD_DISCOVERY_TOKEN`, `GOOGLE_API_KEY_VAL`: a constant's name.
    let ident = t
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let letters = t.chars().filter(char::is_ascii_uppercase).count();
    if ident && t.contains('_') && letters * 2 > t.len() {
        return true;
    }
    // `nvapi-NVKEY`, `sk-ant-api03-PLACEHOLDER`: an all-capitals word that
    // names what should be there.
    const MARKERS: &[&str] = &[
        "KEY",
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PLACEHOLDER",
        "REPLACE",
        "INSERT",
        "REDACTED",
        "VALUE",
    ];
    t.split(|c: char| !c.is_ascii_alphanumeric()).any(|seg| {
        seg.len() >= 3
            && seg.chars().all(|c| c.is_ascii_uppercase())
            && MARKERS.iter().any(|m| seg.contains(m))
    })
}

/// A sentence, not a value (`The shared secret used in the VPN.`).
fn is_prose(t: &str) -> bool {
    t.split_whitespace().count() >= 3
}

/// Code, not a value (`os.environ["HF_TOKEN"]`, `local.psk_secret_data`).
fn is_code(t: &str) -> bool {
    (t.contains('(') && t.ends_with(')'))
        || (t.contains('[') && t.ends_with(']'))
        || ["var.", "local.", "data.", "module.", "each.", "self."]
            .iter()
            .any(|p| {
                t.starts_with(p)
                    && t[p.len()..]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-[]\"".contains(c))
            })
        || is_dotted_path(t)
}

/// `random_password.db.result`, `settings.db.password`: an attribute path.
fn is_dotted_path(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().any(|c| c.is_ascii_lowercase())
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
}

// ---------------------------------------------------------------------------
// Weak placeholders

/// A dummy value that would be used as-is if deployed: `changeme`,
/// `your_api_key_here`, `password`, `secret123`, `fake_password`.
pub fn is_weak(t: &str) -> bool {
    if t.len() > 40 || t.contains(char::is_whitespace) {
        return false;
    }
    let norm: String = t
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if norm.is_empty() || t.contains(char::is_whitespace) || t.len() > 40 {
        return false;
    }
    const WORDS: &[&str] = &[
        "changeme",
        "changeit",
        "changethis",
        "replaceme",
        "password",
        "passw0rd",
        "p4ssw0rd",
        "pssword",
        "secret",
        "s3cr3t",
        "mysecret",
        "mypassword",
        "supersecret",
        "topsecret",
        "example",
        "test",
        "testing",
        "dummy",
        "fake",
        "sample",
        "default",
        "admin",
        "letmein",
        "qwerty",
        "123456",
        "1234567",
        "12345678",
        "123456789",
        "1234567890",
        "abc123",
        "foobar",
        "foo",
        "bar",
        "pass",
        "pass123",
        "password1",
        "password123",
        "secret123",
        "admin123",
        "root",
        "toor",
        "demo",
        "notsecret",
        "insecure",
    ];
    if WORDS.contains(&norm.as_str()) || is_fill_me_in(t) {
        return true;
    }
    // Only letters (digits at the end allowed) and built from dummy words:
    // `fake_password`, `UberSecretPassword`, `mysecretpassword`, `example_123`.
    let letters_then_digits = norm.trim_end_matches(|c: char| c.is_ascii_digit());
    t.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && letters_then_digits.chars().all(|c| c.is_ascii_lowercase())
        && [
            "password", "secret", "example", "dummy", "fake", "changeme", "sample",
        ]
        .iter()
        .any(|w| letters_then_digits.contains(w))
}

/// A dummy that asks to be replaced: `changeme`, `CHANGE_ME`,
/// `your_api_key_here`, `replace-me`, `set-me`.
fn is_fill_me_in(t: &str) -> bool {
    let norm: String = t
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    norm.starts_with("changeme")
        || norm.starts_with("changeit")
        || norm.starts_with("changethis")
        || norm.starts_with("replaceme")
        || norm.starts_with("replacewith")
        || norm == "setme"
        || norm == "fillme"
        || norm == "fillmein"
        || norm.ends_with("goeshere")
        || ((norm.starts_with("your") || norm.ends_with("here"))
            && [
                "pass", "secret", "key", "token", "value", "api", "cred", "salt",
            ]
            .iter()
            .any(|w| norm.contains(w)))
}

// ---------------------------------------------------------------------------
// Shapes

/// The kind of secret a value's shape gives away, if any: known tokens,
/// PEM private keys, JWTs, Laravel keys, URLs and connection strings with a
/// password.
pub fn secret_shape(v: &str) -> Option<&'static str> {
    let t = unquote(v);
    if t.contains("-----BEGIN")
        && t.contains("PRIVATE KEY")
        && !t.contains('<')
        && !t.contains("...")
        && !has_placeholder(t)
    {
        return Some("a PEM private key");
    }
    for word in t.split(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '"' | '\'' | ',' | '=' | ';' | '&' | '?' | '(' | ')' | '`'
            )
    }) {
        if let Some(kind) = token_shape(word) {
            return Some(kind);
        }
    }
    if t.contains("hooks.slack.com/services/T") {
        return Some("a Slack webhook URL");
    }
    if let Some(key) = t.strip_prefix("base64:")
        && key.len() >= 40
        && key.len() <= 100
        && key.chars().all(is_base64_char)
        && distinct(key) >= 16
    {
        return Some("a Laravel application key");
    }
    if url_has_password(t) {
        return Some("a URL with an embedded password");
    }
    if connection_string_password(t) {
        return Some("a connection string with a password");
    }
    None
}

fn is_base64_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_')
}

fn distinct(s: &str) -> usize {
    let mut seen = [false; 256];
    for b in s.bytes() {
        seen[b as usize] = true;
    }
    seen.iter().filter(|&&b| b).count()
}

fn token_shape(w: &str) -> Option<&'static str> {
    // The shortest token below is a Slack prefix and ten characters; most
    // words of a value are shorter and need no look at the prefixes.
    if w.len() < 15 {
        return None;
    }
    let b = w.as_bytes();
    let upper_alnum = |s: &[u8]| {
        s.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    };
    if b.len() == 20 && (w.starts_with("AKIA") || w.starts_with("ASIA")) && upper_alnum(b) {
        return Some("an AWS access key id");
    }
    let body_ok = |rest: &str, extra: &str| {
        rest.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
            && distinct(rest) >= 8
    };
    for (prefix, min, extra, kind) in [
        ("ghp_", 36, "", "a GitHub token"),
        ("gho_", 36, "", "a GitHub token"),
        ("ghs_", 36, "", "a GitHub token"),
        ("ghu_", 36, "", "a GitHub token"),
        ("ghr_", 36, "", "a GitHub token"),
        ("github_pat_", 22, "_", "a GitHub token"),
        ("glpat-", 20, "-_", "a GitLab token"),
        ("sk_live_", 20, "", "a Stripe live secret key"),
        ("rk_live_", 20, "", "a Stripe restricted key"),
        ("xoxb-", 10, "-", "a Slack token"),
        ("xoxp-", 10, "-", "a Slack token"),
        ("xoxa-", 10, "-", "a Slack token"),
        ("xoxr-", 10, "-", "a Slack token"),
        ("xoxs-", 10, "-", "a Slack token"),
        ("sk-ant-", 32, "-_", "an Anthropic API key"),
        ("sk-proj-", 32, "-_", "an OpenAI API key"),
        ("npm_", 36, "", "an npm token"),
        ("hf_", 30, "", "a Hugging Face token"),
    ] {
        if let Some(rest) = w.strip_prefix(prefix)
            && rest.len() >= min
            && body_ok(rest, extra)
        {
            return Some(kind);
        }
    }
    if let Some(rest) = w.strip_prefix("AIza")
        && rest.len() == 35
        && body_ok(rest, "-_")
    {
        return Some("a Google API key");
    }
    if is_jwt(w) {
        return Some("a JSON Web Token");
    }
    None
}

/// `eyJhbGciOi...`.`eyJzdWIiOi...`.`signature`: three base64url parts, the
/// first a JSON header.
fn is_jwt(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| {
            p.len() >= 10
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// A 40-character AWS secret access key.
pub fn is_aws_secret_key(t: &str) -> bool {
    t.len() == 40
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '+')
        && distinct(t) >= 16
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

/// `Server=db;User Id=app;Password=hunter2;` (ADO.NET, JDBC properties).
fn connection_string_password(t: &str) -> bool {
    if !t.contains(';') {
        return false;
    }
    t.split(';').any(|part| {
        let Some((k, v)) = part.split_once('=') else {
            return false;
        };
        let k = k.trim().to_ascii_lowercase();
        matches!(k.as_str(), "password" | "pwd" | "passwd")
            && !v.trim().is_empty()
            && !is_inert_value(v)
    })
}

// ---------------------------------------------------------------------------
// Randomness

/// A literal that reads like a password or key rather than a word or code:
/// one token, no code punctuation, and either long or mixing character
/// classes (`hunter2`, `S3cr3t!`, but not `files`, `os.environ[...]`).
pub fn is_password_like(v: &str) -> bool {
    let t = unquote(v);
    if t.len() < 4 || t.contains(char::is_whitespace) || is_inert_value(t) {
        return false;
    }
    if t.contains(['(', ')', '[', ']', '{', '}', '$', '<', '>']) {
        return false;
    }
    classes(t) >= 2 || t.len() >= 16
}

/// How many of lower, upper, digit, other a string mixes.
fn classes(t: &str) -> usize {
    [
        t.chars().any(|c| c.is_ascii_lowercase()),
        t.chars().any(|c| c.is_ascii_uppercase()),
        t.chars().any(|c| c.is_ascii_digit()),
        t.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&b| b)
    .count()
}

/// Under a key or token name: long enough and mixed or random enough to be
/// a key (`9f8e7d6c5b4a`), not a word (`minio`, `enabled`).
fn is_key_like(t: &str) -> bool {
    t.len() >= 8 && !t.contains(char::is_whitespace) && (classes(t) >= 2 || entropy(t) >= 3.0)
}

/// Random-looking: at least 16 characters of a key alphabet, with letters
/// and digits and high entropy (`wJalrXUtnFEMI/K7MDENG+bPxRfiCY`, a
/// 44-character WireGuard key).
fn is_random(t: &str) -> bool {
    t.len() >= 16
        && t.len() <= 512
        && t.chars().all(is_base64_char)
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().any(|c| c.is_ascii_alphabetic())
        && entropy(t) >= 3.5
        && distinct(t) >= 10
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
/// a path, URL, hash-prefixed digest or sentence. For values without a
/// secret name (a ConfigMap value).
pub fn is_high_entropy(v: &str) -> bool {
    let t = unquote(v);
    if t.len() < 24 || t.len() > 512 || t.contains(char::is_whitespace) {
        return false;
    }
    if t.contains("://")
        || t.contains('/') && t.matches('/').count() > 2
        || t.starts_with("sha256:")
        || is_never_secret(t)
    {
        return false;
    }
    let upper = t.chars().any(|c| c.is_ascii_uppercase());
    let lower = t.chars().any(|c| c.is_ascii_lowercase());
    let digit = t.chars().any(|c| c.is_ascii_digit());
    upper && lower && digit && entropy(t) >= 4.3
}

/// A file whose values are a template to copy, not what is deployed:
/// `compose.example.yml`, `values.sample.yaml`, `secret.template.yaml`,
/// `app.env.dist`.
pub fn is_template_path(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    file.split('.').skip(1).any(|part| {
        matches!(
            part,
            "example" | "examples" | "sample" | "template" | "tmpl" | "tpl" | "dist" | "skel"
        )
    })
}

#[cfg(test)]
mod tests;
