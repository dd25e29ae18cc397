//! A workspace's credentials as data ([`Auth`]): the sign-in method a provider profile chose,
//! its templates expanded. Static schemes (bearer, header, basic) are sent as they are; OAuth 2
//! client credentials and token commands are turned into a bearer token by the client
//! (`crate::client`'s token sources). Every secret is a [`Secret`], which never prints: `Debug`
//! shows `***` and there is no `Display`.

use std::fmt;
use std::sync::Arc;

pub use crate::spec::ClientAuth;

/// A secret value (token, password, client secret) that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wrap `value` (and register it with [`crate::redact`]).
    pub fn new(value: &str) -> Self {
        crate::redact::register(value);
        Secret(value.into())
    }

    /// The value, to put on a request (never in a message).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How a request to a workspace is authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// A header of its own (`X-Api-Key: <value>`).
    Header {
        /// The header's name.
        name: String,
        /// Its value.
        value: Secret,
    },
    /// `Authorization: Basic`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// OAuth 2 client credentials: a bearer token from a token endpoint.
    OAuth2(OAuth2Auth),
    /// A bearer token printed by a command.
    Command(CommandAuth),
}

/// OAuth 2 client credentials (RFC 6749 §4.4), expanded for one workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Auth {
    /// The token endpoint, when given directly.
    pub token_url: Option<String>,
    /// The metadata document (RFC 8414) naming the token endpoint, otherwise.
    pub discovery: Option<String>,
    /// The client id (shown in errors).
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
    /// HTTP Basic or form fields.
    pub client_auth: ClientAuth,
    /// The scope requested.
    pub scope: Option<String>,
    /// More form fields (not secrets: they may show in `Debug`).
    pub form: Vec<(String, String)>,
    /// Hosts besides the workspace's own that may serve the token endpoint.
    pub token_hosts: Vec<String>,
}

/// A command printing a token, expanded for one workspace; run without a shell.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandAuth {
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The token's path in JSON output; `None`: the trimmed output is the token.
    pub token: Option<String>,
    /// The expiry's path (RFC 3339) in JSON output.
    pub expiry: Option<String>,
}

impl fmt::Debug for CommandAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Arguments may carry expanded settings: only the program and their number show.
        f.debug_struct("CommandAuth")
            .field("program", &self.program)
            .field("args", &self.args.len())
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// The static bearer token (a PAT), if this is one.
    pub fn bearer_token(&self) -> Option<&str> {
        match self {
            Auth::Bearer(t) => Some(t.expose()),
            _ => None,
        }
    }
}
