//! Is the config file that holds the tokens readable by others? A `~/.databrickscfg` that group
//! or other users can read (or write) earns a warning naming the file and the fix.

use std::path::Path;

/// The warning for a config file with permission bits `mode`, if any (`mode & 0o077 != 0`).
pub fn mode_warning(path: &Path, mode: u32) -> Option<String> {
    (mode & 0o077 != 0).then(|| {
        format!(
            "{} holds tokens but other users can access it (mode {:03o}): run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )
    })
}

/// The warning for the config file at `path`, if it exists and others can access it.
#[cfg(unix)]
pub fn check(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    mode_warning(path, mode)
}

/// Permission bits are a Unix matter.
#[cfg(not(unix))]
pub fn check(_path: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owner_access_is_quiet() {
        let p = Path::new("/home/u/.databrickscfg");
        assert_eq!(mode_warning(p, 0o100600), None);
        assert_eq!(mode_warning(p, 0o400), None);
        let w = mode_warning(p, 0o100644).expect("warned");
        assert_eq!(
            w,
            "/home/u/.databrickscfg holds tokens but other users can access it (mode 644): run `chmod 600 /home/u/.databrickscfg`"
        );
        assert!(mode_warning(p, 0o640).is_some() && mode_warning(p, 0o602).is_some());
    }
}
