//! The INI format of a provider's config file (`~/.databrickscfg`), parsed by hand (the file
//! is small and simple).

use std::collections::BTreeMap;

/// A parsed INI file: section → key (lower case) → value.
pub type Profiles = BTreeMap<String, BTreeMap<String, String>>;

/// Parse the INI format of `~/.databrickscfg`: `[section]`, `key = value` (or `key: value`),
/// `#` / `;` comment lines. Keys before any section belong to `default_section` (the
/// profile's `default_profile`).
pub fn parse_ini(text: &str, default_section: &str) -> Result<Profiles, String> {
    let mut profiles = Profiles::new();
    let mut section = default_section.to_string();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| format!("line {}: malformed section header", i + 1))?;
            section = name.to_string();
            profiles.entry(section.clone()).or_default();
            continue;
        }
        let split = line
            .find(['=', ':'])
            .ok_or_else(|| format!("line {}: expected `key = value`", i + 1))?;
        let key = line[..split].trim().to_ascii_lowercase();
        if key.is_empty() {
            return Err(format!("line {}: missing key before '='", i + 1));
        }
        let value = unquote(line[split + 1..].trim());
        profiles
            .entry(section.clone())
            .or_default()
            .insert(key, value.to_string());
    }
    Ok(profiles)
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_sections_comments_and_quotes() {
        let p = parse_ini(
            "top = 1\n# c\n; c\n[a]\nHost = \"x\"\n[ b ]\ntoken: y=z\n",
            "DEFAULT",
        )
        .expect("parses");
        assert_eq!(p["DEFAULT"]["top"], "1");
        assert_eq!(p["a"]["host"], "x");
        assert_eq!(p["b"]["token"], "y=z");
        assert!(parse_ini("[a\n", "DEFAULT").is_err());
        assert!(parse_ini("[a]\njust words\n", "DEFAULT")
            .unwrap_err()
            .contains("line 2"));
    }
}
