//! The serde model of a provider profile: `provider-spec/<provider>/provider.yaml`, what a
//! provider's services share: where its API lives, how a user signs in, and how its errors
//! read. Every struct denies unknown keys.
//!
//! ```yaml
//! provider: acme
//! server:
//!   url: "https://{region}.api.acme.test/v1"
//!   variable: account          # the column (and WHERE key) naming one endpoint, optional
//! errors: { code: error.code, message: error.message }
//! sign_in:
//!   settings:
//!     region:  { env: ACME_REGION, default: eu }
//!     api_key: { env: ACME_API_KEY, secret: true }
//!   methods:
//!     - name: api-key
//!       needs: [api_key]
//!       scheme: { header: { name: X-Api-Key, value: "{api_key}" } }
//! ```
//!
//! Templates (`server.url`, a scheme's values, a command's arguments) name settings as
//! `{setting}`; `{host}` is the endpoint's base URL once resolved (without a trailing `/`), and
//! the server URL's `{variable}` is the endpoint's name.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One provider profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// Provider name: the SQL catalog (`databricks_workspace`); the services' `provider`.
    pub provider: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Where the API lives.
    pub server: ServerSpec,
    /// Where the code and message of an error sit in an error body.
    #[serde(default)]
    pub errors: ErrorSpec,
    /// How a user signs in: the settings, where they come from, and the methods.
    pub sign_in: SignInSpec,
    /// Whether its tables answer to short names (`job_runs`, `jobs.job_runs`) when no other
    /// provider's do: a provider whose table names repeat another's says `false`, so that
    /// adding it does not make the other's short names ambiguous (its tables then answer to
    /// their full names only).
    #[serde(default = "yes")]
    pub short_names: bool,
}

fn yes() -> bool {
    true
}

/// The base URL of an endpoint (a workspace, an account).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// URL template, e.g. `https://{deployment_name}.cloud.databricks.com`: `{variable}` is the
    /// endpoint's name, other `{x}` are settings. The `sign_in.host` setting, when set,
    /// replaces it.
    pub url: String,
    /// The template variable that names an endpoint; also a column of every resource.
    pub variable: String,
    /// Description of the variable (the column's description).
    #[serde(default)]
    pub description: String,
}

/// Where an error body keeps its code and message: dotted paths into the JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorSpec {
    /// The error code (`error_code`; `error.code`), when the API sends one.
    #[serde(default)]
    pub code: Option<String>,
    /// The message (`message`; `error.message`).
    #[serde(default = "default_message")]
    pub message: String,
}

impl Default for ErrorSpec {
    fn default() -> Self {
        ErrorSpec {
            code: None,
            message: default_message(),
        }
    }
}

fn default_message() -> String {
    "message".into()
}

/// Sign-in: the settings (each from environment variables, a config file's profile, or a
/// default) and the methods that turn them into credentials, tried in order.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInSpec {
    /// An INI file of named profiles (`~/.databrickscfg`); absent: settings come from the
    /// environment and defaults only.
    #[serde(default)]
    pub config_file: Option<ConfigFileSpec>,
    /// The settings by name.
    pub settings: BTreeMap<String, SettingSpec>,
    /// The setting holding an endpoint's base URL (`host`), which replaces the server
    /// template when set.
    #[serde(default)]
    pub host: Option<String>,
    /// The setting that forces one method by name (`auth_type`); without it the first method
    /// whose `needs` are all set is used.
    #[serde(default)]
    pub auth_type: Option<String>,
    /// The methods, in the order they are tried.
    pub methods: Vec<AuthMethodSpec>,
}

/// An INI config file of named profiles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFileSpec {
    /// Its default path (`~/` is the home directory).
    pub path: String,
    /// The environment variable naming another path.
    #[serde(default)]
    pub path_env: Option<String>,
    /// The environment variable naming the profile used when none is named.
    #[serde(default)]
    pub profile_env: Option<String>,
    /// The profile used when none is named.
    #[serde(default = "default_profile")]
    pub default_profile: String,
}

fn default_profile() -> String {
    "DEFAULT".into()
}

/// One setting: where its value comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingSpec {
    /// Environment variables that hold it, the first set one wins.
    #[serde(default, deserialize_with = "one_or_many")]
    pub env: Vec<String>,
    /// Its key in a config-file profile (default: the setting's name).
    #[serde(default)]
    pub key: Option<String>,
    /// Its value when no source sets it.
    #[serde(default)]
    pub default: Option<String>,
    /// Whether it is a secret: never shown, and masked wherever it could appear.
    #[serde(default)]
    pub secret: bool,
    /// Free text (for messages and docs).
    #[serde(default)]
    pub description: String,
}

/// One way to sign in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthMethodSpec {
    /// Its name (what `auth_type` names).
    pub name: String,
    /// The settings it needs; it is chosen (without `auth_type`) when all are set.
    #[serde(default)]
    pub needs: Vec<String>,
    /// Only when `auth_type` names it, never by the order of methods.
    #[serde(default)]
    pub explicit_only: bool,
    /// How the credentials go on a request.
    pub scheme: AuthScheme,
}

/// How credentials go on a request: exactly one of the keys of [`SchemeKeys`].
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "SchemeKeys")]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token (a template).
        token: String,
    },
    /// A header of its own (`X-Api-Key: <key>`).
    Header {
        /// The header's name.
        name: String,
        /// Its value (a template).
        value: String,
    },
    /// `Authorization: Basic` with a user name and password.
    Basic {
        /// The user name (a template).
        username: String,
        /// The password (a template).
        password: String,
    },
    /// OAuth 2 client credentials: a token from a token endpoint, sent as a Bearer token,
    /// cached until shortly before it expires.
    OAuth2(OAuth2Spec),
    /// A command that prints a token (plain, or JSON with the token at a path).
    Command(CommandSpec),
}

/// `scheme:` as written: one key naming the scheme (a map rather than a YAML tag).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeKeys {
    #[serde(default)]
    bearer: Option<BearerKeys>,
    #[serde(default)]
    header: Option<HeaderKeys>,
    #[serde(default)]
    basic: Option<BasicKeys>,
    #[serde(default)]
    oauth2_client_credentials: Option<OAuth2Spec>,
    #[serde(default)]
    command: Option<CommandSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BearerKeys {
    token: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderKeys {
    name: String,
    value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicKeys {
    username: String,
    password: String,
}

impl TryFrom<SchemeKeys> for AuthScheme {
    type Error = String;

    fn try_from(k: SchemeKeys) -> Result<Self, String> {
        let mut found: Vec<AuthScheme> = Vec::new();
        found.extend(k.bearer.map(|b| AuthScheme::Bearer { token: b.token }));
        found.extend(k.header.map(|h| AuthScheme::Header {
            name: h.name,
            value: h.value,
        }));
        found.extend(k.basic.map(|b| AuthScheme::Basic {
            username: b.username,
            password: b.password,
        }));
        found.extend(k.oauth2_client_credentials.map(AuthScheme::OAuth2));
        found.extend(k.command.map(AuthScheme::Command));
        match found.len() {
            1 => Ok(found.remove(0)),
            n => Err(format!(
                "a scheme is exactly one of bearer, header, basic, oauth2_client_credentials, \
                 command ({n} given)"
            )),
        }
    }
}

/// OAuth 2 client credentials (RFC 6749 §4.4).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Spec {
    /// The token endpoint (a template); or give `discovery`.
    #[serde(default)]
    pub token_url: Option<String>,
    /// The authorization server's metadata document (RFC 8414), whose `token_endpoint` is
    /// used (a template).
    #[serde(default)]
    pub discovery: Option<String>,
    /// The client id (a template).
    pub client_id: String,
    /// The client secret (a template).
    pub client_secret: String,
    /// How the client authenticates: HTTP Basic, or the id and secret as form fields.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// The scope requested, when there is one.
    #[serde(default)]
    pub scope: Option<String>,
    /// More form fields (templates).
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// Hosts besides the endpoint's own that may serve the token endpoint (Microsoft Entra's
    /// `login.microsoftonline.com`); the client secret is sent nowhere else.
    #[serde(default)]
    pub token_hosts: Vec<String>,
}

/// How an OAuth client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `Authorization: Basic` (`client_secret_basic`).
    #[default]
    Basic,
    /// `client_id` and `client_secret` form fields (`client_secret_post`).
    Form,
}

/// A command that prints a token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandSpec {
    /// The program and its arguments (templates); run without a shell.
    pub run: Vec<String>,
    /// The token's path in the command's JSON output; absent: the output, trimmed, is the
    /// token.
    #[serde(default)]
    pub token: Option<String>,
    /// The path of the token's expiry (RFC 3339) in the JSON output; absent: the command is
    /// run again when the API refuses the token.
    #[serde(default)]
    pub expiry: Option<String>,
}

fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}
