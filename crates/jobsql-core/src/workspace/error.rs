//! Why no workspace could be resolved. Messages are built by the resolver from the provider's
//! profile (its environment variables, config file and keys), never holding a secret.

/// Why no workspace could be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    /// Nothing configured for the default workspace.
    #[error("{message}")]
    NotConfigured {
        /// What to set, in the profile's words.
        message: String,
    },
    /// The profile named by the profile's `profile_env` does not exist.
    #[error("{message}")]
    ProfileNotFound {
        /// Which profile, and what to do.
        message: String,
    },
    /// A name that is no profile, and no credentials in the environment for the template.
    #[error("{message}")]
    DeploymentNotConfigured {
        /// What to set.
        message: String,
    },
    /// A setting is missing.
    #[error("{what}")]
    MissingSetting {
        /// What is missing and what to set.
        what: String,
    },
    /// `auth_type` names no method of the provider.
    #[error("{message}")]
    UnknownAuthType {
        /// The name and the methods there are.
        message: String,
    },
    /// `auth_type` forces a method whose settings are not all set.
    #[error("{message}")]
    MethodIncomplete {
        /// The missing settings, each with its environment variables and key.
        message: String,
    },
    /// No method's settings are all set.
    #[error("{message}")]
    NoMethod {
        /// What each method needs.
        message: String,
    },
    /// A deployment name that cannot be part of a host name.
    #[error("invalid deployment_name '{name}': use only letters, digits, '-', '_' and '.'")]
    InvalidDeploymentName {
        /// The name, as given.
        name: String,
    },
    /// A host that is not a usable workspace URL.
    #[error("invalid workspace host '{host}' for '{workspace}': {reason}")]
    InvalidHost {
        /// The workspace name.
        workspace: String,
        /// The host, as given.
        host: String,
        /// What is wrong.
        reason: String,
    },
    /// `http://` to a host that is not loopback.
    #[error("refusing http:// for workspace '{workspace}' ({host}): plain HTTP is allowed only for loopback hosts (127.0.0.1, localhost, [::1]); use https://")]
    InsecureHost {
        /// The workspace name.
        workspace: String,
        /// The host.
        host: String,
    },
    /// A token that cannot be sent in a header (it is never shown).
    #[error("invalid token for workspace '{workspace}': {reason}")]
    InvalidToken {
        /// The workspace name.
        workspace: String,
        /// What is wrong (never the token itself).
        reason: String,
    },
    /// The config file exists but could not be read or parsed.
    #[error("cannot use {config}: {message}")]
    Config {
        /// The config file.
        config: String,
        /// What is wrong.
        message: String,
    },
}
