//! Why no workspace could be resolved.

use super::{ENV_HOST, ENV_PROFILE, ENV_TOKEN};

/// Why no workspace could be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    /// Nothing configured for the default workspace.
    #[error("no workspace configured: set {ENV_HOST} and {ENV_TOKEN}, or add a [{profile}] profile with host and token to {config}")]
    NotConfigured {
        /// The profile that was looked for.
        profile: String,
        /// The config file, as shown to the user.
        config: String,
    },
    /// The profile named by `DATABRICKS_CONFIG_PROFILE` does not exist.
    #[error("profile [{profile}] (named by {ENV_PROFILE}) is not in {config}: add it with host and token, or unset {ENV_PROFILE}")]
    ProfileNotFound {
        /// The profile.
        profile: String,
        /// The config file.
        config: String,
    },
    /// `deployment_name = 'x'` but neither a profile `[x]` nor `DATABRICKS_TOKEN`.
    #[error("no credentials for deployment_name '{name}': add a [{name}] profile with host and token to {config}, or set {ENV_TOKEN} (used with https://{name}.cloud.databricks.com)")]
    DeploymentNotConfigured {
        /// The deployment name.
        name: String,
        /// The config file.
        config: String,
    },
    /// One half of a pair of settings is missing.
    #[error("{what}")]
    MissingSetting {
        /// What is missing and what to set.
        what: String,
    },
    /// A profile uses an authentication method other than personal access tokens.
    #[error("profile [{profile}] in {config} uses {method} authentication; jobsql supports only personal access tokens: add `token = <personal access token>` to the profile")]
    UnsupportedAuth {
        /// The profile.
        profile: String,
        /// The config file.
        config: String,
        /// The keys or `auth_type` that name the other method.
        method: String,
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
