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
        "secrets",
        "db_creds",
        "APP_KEY",
        "WIREGUARD_PRESHARED_KEY",
        "ENCRYPTION_SALT",
        "ADMIN_PW",
        "SMTP_PWD",
        "redis_pass",
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
        "SECRET_PORT",
        "domain_validation_token",
        "MYSQL_ALLOW_EMPTY_PASSWORD",
        "max_total_tokens",
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
        secret_shape("-----BEGIN RSA PRIVATE KEY-----\nMIIEabc"),
        Some("a PEM private key")
    );
    assert_eq!(
        secret_shape("-----BEGIN PRIVATE KEY-----\n<PRIVKEY>\n-----END PRIVATE KEY-----"),
        None
    );
    assert_eq!(
        secret_shape("ghp_FAKEfake0123456789FAKEfake0123456789"),
        Some("a GitHub token")
    );
    assert_eq!(
        secret_shape("ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        None
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
    assert!(is_inert_value("'<PRIVKEY>'"));
    assert!(!is_inert_value("hunter2"));
    assert!(is_high_entropy("wJalrXUtnFEMI0K7MDENGbPxRfiCYEXAMPLEKEY"));
    assert!(is_password_like("hunter2"));
    assert!(!is_password_like("files"));
    assert!(!is_password_like("os.environ[\"HF_TOKEN\"]"));
    assert!(!is_high_entropy("this-is-a-normal-config-value"));
    assert!(!is_high_entropy("sha256:4a1c0e9d5b7f3a2e8c6d0b1f4e7a9c3d"));
}

#[test]
fn template_paths() {
    assert!(is_template_path("deploy/compose.example.yml"));
    assert!(is_template_path("values.sample.yaml"));
    assert!(!is_template_path("examples/compose.yml"));
    assert!(!is_template_path("k8s/secret.yaml"));
}

/// Every line of `corpus.txt`: `LABEL name value  # why`, LABEL one of
/// SECRET, WEAK, NOT; name `-` for a value without one; `\n` in a value is
/// a newline. The value ends at two spaces and `#`.
#[test]
fn labelled_corpus() {
    let corpus = include_str!("corpus.txt");
    let mut wrong = Vec::new();
    let (mut secret, mut weak, mut not) = (0, 0, 0);
    for (i, line) in corpus.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let body = line.split_once("  #").map_or(line, |(b, _)| b);
        let mut it = body.splitn(3, ' ');
        let (Some(label), Some(name), value) = (it.next(), it.next(), it.next()) else {
            wrong.push(format!("line {}: malformed", i + 1));
            continue;
        };
        let value = value.unwrap_or("").trim().replace("\\n", "\n");
        let name = (name != "-").then_some(name);
        let got = classify(name, &value);
        let ok = match label {
            "SECRET" => {
                secret += 1;
                matches!(got, Verdict::Secret(_))
            }
            "WEAK" => {
                weak += 1;
                got == Verdict::Weak
            }
            "NOT" => {
                not += 1;
                got == Verdict::Not
            }
            _ => false,
        };
        if !ok {
            wrong.push(format!("line {}: {line}\n    got {got:?}", i + 1));
        }
    }
    assert!(
        secret >= 60 && not >= 100 && weak >= 15,
        "corpus too small: {secret} secret, {weak} weak, {not} not"
    );
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The quick rejection in `secret_name_kind` never turns away a name the
/// word-by-word reading accepts: every word it looks for, alone and
/// inside names of every common spelling, passes the fragment check.
#[test]
fn quick_rejection_keeps_every_name_the_words_accept() {
    let mut words: Vec<String> = PASSWORD_WORDS
        .iter()
        .chain(KEY_WORDS)
        .map(|w| w.to_string())
        .collect();
    words.extend(KEY_PAIRS.iter().map(|(a, b)| format!("{a}_{b}")));
    words.extend(["pgpassword", "mysqlpasswd", "db_passwd"].map(String::from));
    let mut checked = 0;
    for w in &words {
        let camel: String = w
            .split('_')
            .enumerate()
            .map(|(i, p)| {
                if i == 0 {
                    p.to_string()
                } else {
                    p[..1].to_ascii_uppercase() + &p[1..]
                }
            })
            .collect();
        for name in [
            w.clone(),
            w.to_ascii_uppercase(),
            format!("db_{w}"),
            format!("DB-{}", w.to_ascii_uppercase()),
            format!("app.{w}"),
            format!("my{camel}"),
            format!("service{}", camel[..1].to_ascii_uppercase() + &camel[1..]),
        ] {
            if kind_from_words(&name).is_some() {
                checked += 1;
                assert!(may_name_a_secret(&name), "{name} rejected too early");
            }
        }
    }
    assert!(checked > 100, "only {checked} names exercised the check");
    // And it does reject names without any such word.
    for n in [
        "vpc_id",
        "instance_type",
        "tags",
        "ENABLE_FEATURE_X",
        "replicas",
    ] {
        assert!(!may_name_a_secret(n), "{n}");
    }
}

#[test]
fn a_parameter_default_is_judged_as_the_value() {
    assert_eq!(shell_default("${DB_PASSWORD:-hunter2}"), Some("hunter2"));
    assert_eq!(shell_default("${DB_PASSWORD-x}"), Some("x"));
    assert_eq!(shell_default("${DB_PASSWORD:=x}"), Some("x"));
    assert_eq!(shell_default("${DB_PASSWORD}"), None);
    assert_eq!(shell_default("${A:-${B}}"), None);
    assert_eq!(shell_default("prefix-${A:-x}"), None);
    assert!(matches!(
        classify(Some("DB_PASSWORD"), "${DB_PASSWORD:-Vq8#zLm2!pR7wXe4}"),
        Verdict::Secret(_)
    ));
    assert_eq!(
        classify(Some("DB_PASSWORD"), "${DB_PASSWORD}"),
        Verdict::Not
    );
    assert_eq!(
        classify(Some("DB_PASSWORD"), "${DB_PASSWORD:-}"),
        Verdict::Not
    );
    assert_eq!(
        classify(Some("LOG_LEVEL"), "${LOG_LEVEL:-info}"),
        Verdict::Not
    );
}

#[test]
fn remembered_answers_are_the_answers() {
    // Pairs whose name and value run together the same way must not share
    // an answer; asked twice, each answer is the one `judge` gives.
    let pairs = [
        (Some("DB_"), "PASSWORDs3cr3t-Zq8v"),
        (Some("DB_PASSWORD"), "s3cr3t-Zq8v"),
        (Some("DB_PASSWORD"), "changeme"),
        (Some("LOG_LEVEL"), "changeme"),
        (None, "changeme"),
        (None, "AKIAIOSFODNN7EXAMPLE"),
        (Some("api_key"), "${var.api_key}"),
        (Some("TOKEN"), "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
        (Some(""), "TOKENghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    ];
    for _ in 0..2 {
        for (name, value) in pairs {
            assert_eq!(
                classify(name, value),
                judge(name, value),
                "{name:?} {value:?}"
            );
        }
    }
    assert_ne!(
        classify(Some("DB_"), "PASSWORDs3cr3t-Zq8v"),
        classify(Some("DB_PASSWORD"), "s3cr3t-Zq8v")
    );
}
