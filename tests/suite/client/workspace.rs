//! Workspace and credential resolution, rule by rule, with explicit environments and config
//! files (never the machine's own).

use std::collections::HashMap;
use std::path::PathBuf;

use jobsql_core::workspace::{Workspace, WorkspaceError, WorkspaceResolver};

const TOKEN: &str = "dapi0123456789secret";

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn resolver(pairs: &[(&str, &str)], config: Option<&str>) -> WorkspaceResolver {
    WorkspaceResolver::from_parts(env(pairs), config.map(str::to_string), None)
}

fn err(r: &WorkspaceResolver, name: Option<&str>) -> String {
    match r.resolve(name) {
        Ok(ws) => panic!("expected an error, got {ws:?}"),
        Err(e) => {
            let text = e.to_string();
            assert!(
                !text.contains(TOKEN) && !text.contains("profile-token"),
                "{text}"
            );
            text
        }
    }
}

const CONFIG: &str = "\
# my workspaces
[DEFAULT]
host = https://acme.cloud.databricks.com
token = default-token

[prod]
host = acme-prod.cloud.databricks.com/
token = profile-token

; a service principal
[sp]
host = https://sp.cloud.databricks.com
client_id = abc
client_secret = def

[azure]
host = https://adb-1.2.azuredatabricks.net
azure_tenant_id = t

[cli]
host = https://cli.cloud.databricks.com
auth_type = databricks-cli

[hostless]
token = profile-token
";

#[test]
fn host_and_token_from_the_environment_come_first() {
    let r = resolver(
        &[
            ("DATABRICKS_HOST", "https://myco.cloud.databricks.com"),
            ("DATABRICKS_TOKEN", TOKEN),
            ("DATABRICKS_CONFIG_PROFILE", "prod"),
        ],
        Some(CONFIG),
    );
    let ws = r.resolve(None).expect("resolves");
    assert_eq!(ws.name, "myco");
    assert_eq!(ws.base_url().as_str(), "https://myco.cloud.databricks.com/");
    assert_eq!(ws.token(), TOKEN);
    // Its name resolves back to it.
    assert_eq!(r.resolve(Some("myco")).expect("round trip"), ws);
}

#[test]
fn hosts_without_a_scheme_get_https_and_http_is_only_for_loopback() {
    let ws = resolver(
        &[
            ("DATABRICKS_HOST", "adb-42.7.azuredatabricks.net"),
            ("DATABRICKS_TOKEN", TOKEN),
        ],
        None,
    )
    .resolve(None)
    .expect("resolves");
    assert_eq!(
        ws.base_url().as_str(),
        "https://adb-42.7.azuredatabricks.net/"
    );
    assert_eq!(ws.name, "adb-42");
    let copied = Workspace::new(
        "w",
        "https://adb-42.7.azuredatabricks.net/?o=42#job/3",
        TOKEN,
    )
    .expect("ws");
    assert_eq!(
        copied.base_url().as_str(),
        "https://adb-42.7.azuredatabricks.net/"
    );

    let e = err(
        &resolver(
            &[
                ("DATABRICKS_HOST", "http://acme.cloud.databricks.com"),
                ("DATABRICKS_TOKEN", TOKEN),
            ],
            None,
        ),
        None,
    );
    assert!(
        e.contains("http://") && e.contains("loopback") && e.contains("https://"),
        "{e}"
    );
    for host in [
        "http://10.0.0.1:80",
        "http://localhost.evil.com",
        "ftp://acme.com",
    ] {
        assert!(Workspace::new("x", host, TOKEN).is_err(), "{host}");
    }

    for (host, name) in [
        ("http://127.0.0.1:8080", "127.0.0.1:8080"),
        ("http://localhost:9", "localhost:9"),
        ("http://[::1]:7000/base", "[::1]:7000"),
        ("http://127.1.2.3", "127.1.2.3"),
    ] {
        let r = resolver(
            &[("DATABRICKS_HOST", host), ("DATABRICKS_TOKEN", TOKEN)],
            None,
        );
        let ws = r.resolve(None).unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(ws.name, name);
        assert_eq!(ws.base_url().scheme(), "http");
    }
}

#[test]
fn the_profile_named_by_the_environment_then_default() {
    let named = resolver(&[("DATABRICKS_CONFIG_PROFILE", "prod")], Some(CONFIG));
    let ws = named.resolve(None).expect("prod");
    assert_eq!(ws.name, "prod");
    assert_eq!(
        ws.base_url().as_str(),
        "https://acme-prod.cloud.databricks.com/"
    );
    assert_eq!(ws.token(), "profile-token");

    let default = resolver(&[], Some(CONFIG)).resolve(None).expect("DEFAULT");
    assert_eq!(default.name, "DEFAULT");
    assert_eq!(default.token(), "default-token");

    let e = err(
        &resolver(&[("DATABRICKS_CONFIG_PROFILE", "staging")], Some(CONFIG)),
        None,
    );
    assert!(
        e.contains("[staging]") && e.contains("DATABRICKS_CONFIG_PROFILE"),
        "{e}"
    );
}

#[test]
fn missing_settings_name_what_to_set() {
    assert_eq!(
        err(&resolver(&[], None), None),
        "no workspace configured: set DATABRICKS_HOST and DATABRICKS_TOKEN, or add a [DEFAULT] profile with host and token to ~/.databrickscfg"
    );
    // A token alone is not a workspace.
    let e = err(
        &resolver(
            &[("DATABRICKS_TOKEN", TOKEN)],
            Some("[other]\nhost=x\ntoken=y\n"),
        ),
        None,
    );
    assert!(e.starts_with("no workspace configured"), "{e}");
    let e = err(
        &resolver(&[("DATABRICKS_HOST", "acme.cloud.databricks.com")], None),
        None,
    );
    assert!(e.contains("DATABRICKS_TOKEN is not"), "{e}");
    let e = err(
        &resolver(&[("DATABRICKS_CONFIG_PROFILE", "hostless")], Some(CONFIG)),
        None,
    );
    assert!(e.contains("[hostless]") && e.contains("no host"), "{e}");
    // The config file named by DATABRICKS_CONFIG_FILE is the one named in messages.
    let r = resolver(&[("DATABRICKS_CONFIG_FILE", "/etc/dbcfg")], None);
    assert!(err(&r, None).ends_with("to /etc/dbcfg"));
    let r = WorkspaceResolver::from_parts(
        HashMap::new(),
        None,
        Some(PathBuf::from("/home/me/.databrickscfg")),
    );
    assert!(err(&r, None).ends_with("to /home/me/.databrickscfg"));
    // Empty values count as unset.
    let e = err(
        &resolver(&[("DATABRICKS_HOST", ""), ("DATABRICKS_TOKEN", " ")], None),
        None,
    );
    assert!(e.starts_with("no workspace configured"), "{e}");
}

#[test]
fn deployment_names_pick_a_profile_else_the_cloud_url_with_the_env_token() {
    let r = resolver(&[("DATABRICKS_TOKEN", TOKEN)], Some(CONFIG));
    let prod = r.resolve(Some("prod")).expect("profile");
    assert_eq!(
        (prod.name.as_str(), prod.token()),
        ("prod", "profile-token")
    );
    let other = r.resolve(Some("acme-dev")).expect("by name");
    assert_eq!(other.name, "acme-dev");
    assert_eq!(
        other.base_url().as_str(),
        "https://acme-dev.cloud.databricks.com/"
    );
    assert_eq!(other.token(), TOKEN);

    let e = err(&resolver(&[], Some(CONFIG)), Some("acme-dev"));
    assert!(
        e.contains("deployment_name 'acme-dev'")
            && e.contains("[acme-dev]")
            && e.contains("DATABRICKS_TOKEN"),
        "{e}"
    );
}

#[test]
fn deployment_names_cannot_change_the_url() {
    let r = resolver(&[("DATABRICKS_TOKEN", TOKEN)], None);
    for bad in [
        "evil.com/x",
        "a@evil.com",
        "x y",
        "a#b",
        "a?b=1",
        "..",
        "",
        "a:80",
        "ü",
    ] {
        let e = err(&r, Some(bad));
        assert!(e.starts_with("invalid deployment_name"), "{bad}: {e}");
    }
}

#[test]
fn other_methods_sign_in_as_their_keys_say() {
    // Was `only_personal_access_tokens` (these profiles were refused); each now signs in with
    // its method, and the environment's token is not used for them.
    let r = resolver(&[("DATABRICKS_TOKEN", TOKEN)], Some(CONFIG));
    assert_eq!(r.resolve(Some("sp")).expect("sp").method(), "oauth-m2m");
    assert_eq!(
        r.resolve(Some("cli")).expect("cli").method(),
        "databricks-cli"
    );
    let e = err(&r, Some("azure"));
    assert!(
        e.contains("[azure]") && e.contains("has no credentials") && e.contains("azure_client_id"),
        "{e}"
    );
}

#[test]
fn the_token_never_prints() {
    let ws = Workspace::new("w", "https://w.cloud.databricks.com", TOKEN).expect("ws");
    let r = resolver(
        &[
            ("DATABRICKS_HOST", "w.cloud.databricks.com"),
            ("DATABRICKS_TOKEN", TOKEN),
        ],
        Some(CONFIG),
    )
    .with_named(ws.clone());
    for text in [format!("{ws:?}"), format!("{ws}"), format!("{r:?}")] {
        assert!(
            !text.contains(TOKEN) && !text.contains("profile-token"),
            "{text}"
        );
        assert!(
            text.contains("***") || text.contains("DATABRICKS_TOKEN"),
            "{text}"
        );
    }
    let e = Workspace::new(
        "w",
        "https://w.cloud.databricks.com",
        "bad token with blanks",
    )
    .expect_err("invalid");
    assert!(!e.to_string().contains("blanks"), "{e}");
    assert!(matches!(
        Workspace::new("w", "w.com", ""),
        Err(WorkspaceError::InvalidToken { .. })
    ));
}

#[test]
fn credentials_in_a_host_url_appear_in_no_message() {
    let hosts = [
        "https://x:SECRET@acme.cloud.databricks.com",
        "http://x:SECRET@acme.cloud.databricks.com",
        "http://x:SECRET@127.0.0.1:8080",
        "SECRET@acme.cloud.databricks.com/",
        "https://x:SECRET@acme.cloud.databricks.com:notaport/",
        "ftp://x:SECRET@acme.cloud.databricks.com",
        "https://x:SECRET@/path",
    ];
    for host in hosts {
        let mut messages = Vec::new();
        let e = Workspace::new("w", host, TOKEN).expect_err(host);
        messages.push(e.to_string());
        messages.push(format!("{e:?}"));
        let config =
            format!("[DEFAULT]\nhost = {host}\ntoken = {TOKEN}\n[p]\nhost = {host}\ntoken = t\n");
        let from_env = resolver(
            &[("DATABRICKS_HOST", host), ("DATABRICKS_TOKEN", TOKEN)],
            None,
        );
        let from_file = resolver(&[], Some(&config));
        for (r, name) in [
            (&from_env, None),
            (&from_file, None),
            (&from_file, Some("p")),
        ] {
            let e = r.resolve(name).expect_err(host);
            messages.push(e.to_string());
            messages.push(format!("{e:?}"));
        }
        for m in &messages {
            assert!(!m.contains("SECRET"), "{host}: {m}");
            assert!(!m.contains("x:"), "{host}: {m}");
        }
        assert!(
            messages[0].contains("host") && messages[0].contains("acme") == host.contains("acme"),
            "{}",
            messages[0]
        );
    }
}

#[test]
fn explicit_workspaces_override_the_environment() {
    let emu = Workspace::new("emu", "http://127.0.0.1:1234", "emu-token").expect("ws");
    let second = Workspace::new("prod", "http://127.0.0.1:5678", "emu-token-2").expect("ws");
    let r = resolver(
        &[
            ("DATABRICKS_HOST", "acme.cloud.databricks.com"),
            ("DATABRICKS_TOKEN", TOKEN),
        ],
        Some(CONFIG),
    )
    .with_default(emu.clone())
    .with_named(second.clone());
    assert_eq!(r.resolve(None).expect("default"), emu);
    assert_eq!(r.resolve(Some("emu")).expect("default by name"), emu);
    assert_eq!(
        r.resolve(Some("prod")).expect("named beats the profile"),
        second
    );
    assert_eq!(
        r.resolve(Some("DEFAULT"))
            .expect("profiles still there")
            .token(),
        "default-token"
    );
}

#[test]
fn a_broken_config_file_is_reported_only_when_it_is_needed() {
    let broken = "[DEFAULT]\nhost = https://a.cloud.databricks.com\nthis line is wrong\n";
    let e = err(&resolver(&[], Some(broken)), None);
    assert!(
        e.contains("~/.databrickscfg") && e.contains("line 3"),
        "{e}"
    );
    let r = resolver(
        &[
            ("DATABRICKS_HOST", "a.cloud.databricks.com"),
            ("DATABRICKS_TOKEN", TOKEN),
        ],
        Some(broken),
    );
    assert_eq!(r.resolve(None).expect("env is enough").name, "a");
}
