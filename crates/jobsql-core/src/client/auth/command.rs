//! A token printed by a command (`databricks auth token --host <host>`): the program is run
//! directly (no shell) with a timeout; the token is its trimmed output, or the string at the
//! `token` path of its JSON output, with an RFC 3339 `expiry` when the profile names one. A
//! failure is reported with the command's first line of standard error (redacted).

use std::process::Stdio;
use std::time::Duration;

use super::{fresh_until, Token};
use crate::workspace::{CommandAuth, Secret};

/// How long a token command may run.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Run `c` and read its token.
pub async fn run(c: &CommandAuth) -> Result<Token, String> {
    let program = &c.program;
    let child = tokio::process::Command::new(program)
        .args(&c.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    let output = tokio::time::timeout(TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| format!("`{program}` did not finish within {} s", TIMEOUT.as_secs()))?
        .map_err(|e| format!("`{program}` failed: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().map(str::trim).find(|l| !l.is_empty());
        return Err(format!(
            "`{program}` failed ({}){}",
            output.status,
            first.map(|l| format!(": {l}")).unwrap_or_default()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (token, expiry) = match &c.token {
        None => (stdout.trim().to_string(), None),
        Some(path) => {
            let json: serde_json::Value = serde_json::from_str(&stdout)
                .map_err(|e| format!("the output of `{program}` is not JSON: {e}"))?;
            let at = |p: &str| {
                p.split('.')
                    .try_fold(&json, |v, k| v.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            let token = at(path)
                .ok_or_else(|| format!("the output of `{program}` has no string at `{path}`"))?;
            (token, c.expiry.as_deref().and_then(at))
        }
    };
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!("`{program}` printed no usable token"));
    }
    let fresh = match expiry {
        None => None,
        Some(text) => {
            let at = chrono::DateTime::parse_from_rfc3339(&text).map_err(|e| {
                format!("the expiry '{text}' printed by `{program}` is not RFC 3339: {e}")
            })?;
            let left = at.signed_duration_since(chrono::Utc::now());
            Some(fresh_until(left.to_std().unwrap_or(Duration::ZERO)))
        }
    };
    Ok(Token {
        secret: Secret::new(&token),
        fresh_until: fresh,
    })
}
