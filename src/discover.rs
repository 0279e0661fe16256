//! Finding things: the lockfile (walking up from a folder), where a new one belongs, and the
//! cache folder.

use std::path::{Path, PathBuf};

use crate::lockfile::FILE_NAME;

/// The first `models.lock` in `start` or its ancestors.
pub fn find_lockfile(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Where a new lockfile belongs: the root of the cargo workspace containing `cwd` (asked of
/// `cargo metadata --no-deps`), else `cwd` itself.
pub fn new_lockfile_path(cwd: &Path) -> PathBuf {
    let root = cargo_metadata::MetadataCommand::new()
        .current_dir(cwd)
        .no_deps()
        .exec()
        .map(|m| m.workspace_root.into_std_path_buf())
        .unwrap_or_else(|_| cwd.to_path_buf());
    root.join(FILE_NAME)
}

/// No lockfile was found.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not find `{FILE_NAME}` in `{}` or any parent folder; create `{}` with `cargo models add URL`, or pass --lockfile PATH",
    start.display(), suggested.display()
)]
pub struct NoLockfile {
    pub start: PathBuf,
    pub suggested: PathBuf,
}

/// Finds the lockfile from `start`, or says where one would be created.
pub fn require_lockfile(start: &Path) -> Result<PathBuf, NoLockfile> {
    find_lockfile(start).ok_or_else(|| NoLockfile {
        start: start.to_path_buf(),
        suggested: new_lockfile_path(start),
    })
}

/// The per-user cache folder used when neither `--cache-dir` nor `CARGO_MODELS_CACHE` is set:
/// `$XDG_CACHE_HOME/cargo-models` or `~/.cache/cargo-models` on Linux,
/// `~/Library/Caches/cargo-models` on macOS, `%LOCALAPPDATA%\cargo-models` on Windows.
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("cargo-models"))
}

/// No cache folder could be determined.
#[derive(Debug, thiserror::Error)]
#[error(
    "could not determine a cache folder for this user; set CARGO_MODELS_CACHE or pass --cache-dir"
)]
pub struct NoCacheDir;

/// The cache folder: `flag` (from `--cache-dir` or `CARGO_MODELS_CACHE`), else the per-user one.
pub fn cache_dir(flag: Option<PathBuf>) -> Result<PathBuf, NoCacheDir> {
    flag.filter(|p| !p.as_os_str().is_empty())
        .or_else(default_cache_dir)
        .ok_or(NoCacheDir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_lockfile_upwards() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(find_lockfile(&deep), None);
        std::fs::write(dir.path().join("a").join(FILE_NAME), "version = 1\n").unwrap();
        assert_eq!(
            find_lockfile(&deep),
            Some(dir.path().join("a").join(FILE_NAME))
        );
    }
}
