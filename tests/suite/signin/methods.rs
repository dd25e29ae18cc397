//! The choice of a sign-in method, rule by rule, with explicit environments and config files:
//! `auth_type` forcing (an unknown name, missing settings), the first complete method in the
//! profile's order, what an incomplete setup is told, a provider with neither host setting nor
//! config file, and secrets registered for redaction.

use std::collections::HashMap;
use std::sync::Arc;

use jobsql_core::spec::ProviderSpec;
use jobsql_core::workspace::{Auth, WorkspaceResolver};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn resolver(pairs: &[(&str, &str)], config: Option<&str>) -> WorkspaceResolver {
    WorkspaceResolver::from_parts(env(pairs), config.map(str::to_string), None)
}

const HOST: &str = "https://acme.cloud.databricks.com";

const CONFIG: &str = "\
[sp]
host = https://sp.cloud.databricks.com
client_id = sp-client
client_secret = sp-secret-value-1234

[azure]
host = https://adb-1234567890123456.7.azuredatabricks.net
azure_client_id = az-app
azure_client_secret = az-secret-value-5678
azure_tenant_id = tenant-9

[tenant-only]
host = https://adb-1.2.azuredatabricks.net
azure_tenant_id = t

[cli]
host = https://cli.cloud.databricks.com
auth_type = databricks-cli

[gcp]
host = https://1234567890.5.gcp.databricks.com
token = gcp-token-value-0001

[forced]
host = https://f.cloud.databricks.com
token = forced-token-value
auth_type = basic
";

#[test]
fn auth_type_forces_a_method_by_name() {
    let base = [
        ("DATABRICKS_HOST", HOST),
        ("DATABRICKS_TOKEN", "pat-value-0001"),
        ("DATABRICKS_CLIENT_ID", "cid"),
        ("DATABRICKS_CLIENT_SECRET", "csecret-value-0001"),
    ];
    let first = resolver(&base, None).resolve(None).expect("resolves");
    assert_eq!(first.method(), "pat", "the first complete method");
    let mut forced = base.to_vec();
    forced.push(("DATABRICKS_AUTH_TYPE", "oauth-m2m"));
    let ws = resolver(&forced, None).resolve(None).expect("resolves");
    assert_eq!(ws.method(), "oauth-m2m");
    let Auth::OAuth2(o) = ws.auth() else {
        panic!("{ws:?}")
    };
    assert_eq!(
        o.discovery.as_deref(),
        Some("https://acme.cloud.databricks.com/oidc/.well-known/oauth-authorization-server")
    );
    assert_eq!(
        (o.client_id.as_str(), o.scope.as_deref()),
        ("cid", Some("all-apis"))
    );

    // Forcing a method whose settings are missing names each, with its variable and key.
    let mut basic = base.to_vec();
    basic.push(("DATABRICKS_AUTH_TYPE", "basic"));
    let e = resolver(&basic, None)
        .resolve(None)
        .expect_err("incomplete")
        .to_string();
    assert_eq!(
        e,
        "DATABRICKS_HOST: auth_type 'basic' needs username (DATABRICKS_USERNAME or `username` in \
         a profile) and password (DATABRICKS_PASSWORD or `password` in a profile), which are not set"
    );
    // An unknown name lists the methods.
    let mut unknown = base.to_vec();
    unknown.push(("DATABRICKS_AUTH_TYPE", "oauth"));
    let e = resolver(&unknown, None)
        .resolve(None)
        .expect_err("unknown")
        .to_string();
    assert!(
        e.contains("auth_type 'oauth'")
            && e.contains("DATABRICKS_AUTH_TYPE")
            && e.ends_with(
                "the methods are pat, basic, oauth-m2m, azure-client-secret, databricks-cli"
            ),
        "{e}"
    );
    // In a profile, its own auth_type key forces the method.
    let e = resolver(&[], Some(CONFIG))
        .resolve(Some("forced"))
        .expect_err("basic without username")
        .to_string();
    assert!(
        e.starts_with("profile [forced] in ~/.databrickscfg: auth_type 'basic' needs username"),
        "{e}"
    );
    assert!(!e.contains("forced-token-value"), "{e}");
}

#[test]
fn a_profile_signs_in_with_the_first_method_its_keys_complete() {
    // The environment's token is not used for a profile that has credentials of its own.
    let r = resolver(&[("DATABRICKS_TOKEN", "env-token-value-01")], Some(CONFIG));
    let sp = r.resolve(Some("sp")).expect("sp");
    assert_eq!(sp.method(), "oauth-m2m");
    let az = r.resolve(Some("azure")).expect("azure");
    assert_eq!(az.method(), "azure-client-secret");
    assert_eq!(
        az.base_url().as_str(),
        "https://adb-1234567890123456.7.azuredatabricks.net/"
    );
    let Auth::OAuth2(o) = az.auth() else {
        panic!("{az:?}")
    };
    assert_eq!(
        o.token_url.as_deref(),
        Some("https://login.microsoftonline.com/tenant-9/oauth2/v2.0/token")
    );
    assert_eq!(
        o.scope.as_deref(),
        Some("2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default")
    );
    let cli = r.resolve(Some("cli")).expect("cli");
    assert_eq!(cli.method(), "databricks-cli");
    let Auth::Command(c) = cli.auth() else {
        panic!("{cli:?}")
    };
    assert_eq!(c.program, "databricks");
    assert_eq!(
        c.args,
        [
            "auth",
            "token",
            "--host",
            "https://cli.cloud.databricks.com"
        ]
    );
    let gcp = r.resolve(Some("gcp")).expect("gcp");
    assert_eq!(
        (gcp.method(), gcp.token(), gcp.base_url().as_str()),
        (
            "pat",
            "gcp-token-value-0001",
            "https://1234567890.5.gcp.databricks.com/"
        )
    );
    // A profile with part of a method: what each method needs, as profile keys.
    let e = r
        .resolve(Some("tenant-only"))
        .expect_err("incomplete")
        .to_string();
    assert!(
        e.starts_with("profile [tenant-only] in ~/.databrickscfg has no credentials: pat needs `token`")
            && e.contains("azure-client-secret needs `azure_client_id` and `azure_client_secret` and `azure_tenant_id`")
            && !e.contains("databricks-cli"),
        "{e}"
    );
}

#[test]
fn nothing_complete_lists_what_each_method_needs() {
    let e = resolver(&[("DATABRICKS_HOST", HOST)], None)
        .resolve(None)
        .expect_err("no credentials")
        .to_string();
    assert!(
        e.starts_with("DATABRICKS_HOST is set but DATABRICKS_TOKEN is not, nor the settings of another sign-in method: pat needs token (DATABRICKS_TOKEN or `token` in a profile); basic needs")
            && e.contains("oauth-m2m needs client_id (DATABRICKS_CLIENT_ID or `client_id` in a profile) and client_secret (DATABRICKS_CLIENT_SECRET or `client_secret` in a profile)")
            && e.contains("azure_tenant_id (ARM_TENANT_ID"),
        "{e}"
    );
    // The template with the environment's client credentials is a workspace too.
    let ws = resolver(
        &[
            ("DATABRICKS_CLIENT_ID", "c"),
            ("DATABRICKS_CLIENT_SECRET", "s-value-0001"),
        ],
        None,
    )
    .resolve(Some("acme-dev"))
    .expect("template");
    assert_eq!(ws.method(), "oauth-m2m");
    assert_eq!(
        ws.base_url().as_str(),
        "https://acme-dev.cloud.databricks.com/"
    );
}

const LAKESAIL_LIKE: &str = r#"
provider: sailish
server:
  url: "{api_url}"
  variable: account
sign_in:
  settings:
    api_url: { env: SAILISH_API_URL, default: "https://platform.sailish.test/api/v1" }
    token: { env: SAILISH_TOKEN, secret: true }
  methods:
    - name: bearer
      needs: [token]
      scheme: { bearer: { token: "{token}" } }
"#;

#[test]
fn a_provider_without_host_setting_or_config_file_uses_env_and_defaults() {
    let profile: Arc<ProviderSpec> =
        Arc::new(serde_yaml_ng::from_str(LAKESAIL_LIKE).expect("yaml"));
    let r = |pairs: &[(&str, &str)]| {
        WorkspaceResolver::from_parts_for(profile.clone(), env(pairs), None, None)
    };
    let ws = r(&[("SAILISH_TOKEN", "sail-token-value-77")])
        .resolve(None)
        .expect("default");
    assert_eq!(
        ws.base_url().as_str(),
        "https://platform.sailish.test/api/v1"
    );
    assert_eq!(
        (ws.name.as_str(), ws.method(), ws.token()),
        ("platform", "bearer", "sail-token-value-77")
    );
    // Its name leads back to it.
    let again = r(&[("SAILISH_TOKEN", "sail-token-value-77")]).resolve(Some("platform"));
    assert_eq!(again.expect("by name"), ws);
    let local = r(&[
        ("SAILISH_TOKEN", "t-value-1"),
        ("SAILISH_API_URL", "http://127.0.0.1:9/api/v1"),
    ])
    .resolve(None)
    .expect("loopback");
    assert_eq!(local.base_url().as_str(), "http://127.0.0.1:9/api/v1");
    let e = r(&[
        ("SAILISH_TOKEN", "t-value-1"),
        ("SAILISH_API_URL", "http://sail.example.com"),
    ])
    .resolve(None)
    .expect_err("plain http")
    .to_string();
    assert!(e.contains("loopback"), "{e}");
    let e = r(&[]).resolve(None).expect_err("no token").to_string();
    assert_eq!(
        e,
        "no credentials for https://platform.sailish.test/api/v1: bearer needs token (SAILISH_TOKEN)"
    );
    // Its secrets are registered for redaction as soon as the resolver exists.
    let _ = r(&[("SAILISH_TOKEN", "sail-registered-secret-42")]);
    assert_eq!(
        jobsql_core::redact::redact("x sail-registered-secret-42 y"),
        "x *** y"
    );
}

#[test]
fn every_secret_of_every_profile_is_registered() {
    let _ = resolver(
        &[("DATABRICKS_CLIENT_SECRET", "env-client-secret-31")],
        Some(CONFIG),
    );
    for secret in [
        "sp-secret-value-1234",
        "az-secret-value-5678",
        "gcp-token-value-0001",
        "env-client-secret-31",
    ] {
        assert_eq!(
            jobsql_core::redact::redact(&format!("a {secret} b")),
            "a *** b",
            "{secret}"
        );
    }
    // Debug of the resolver and of its workspaces shows none.
    let r = resolver(&[], Some(CONFIG));
    let text = format!(
        "{r:?} {:?} {:?} {}",
        r.resolve(Some("sp")).expect("sp"),
        r.resolve(Some("azure")).expect("azure"),
        r.resolve(Some("sp")).expect("sp")
    );
    for secret in ["sp-secret-value-1234", "az-secret-value-5678"] {
        assert!(!text.contains(secret), "{text}");
    }
    assert!(text.contains("client_secret: ***"), "{text}");
}
