//! Filesystem helpers that must be exactly right: atomic writes and atomic links.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename, and an
/// fsync of the folder. Readers see the old content or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent(path);
    fs::create_dir_all(dir)?;
    let mut tmp = NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename in `dir` durable. Best effort: some filesystems cannot fsync a folder.
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

pub(crate) fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// How a verified blob was placed at a project path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// The path already was this blob.
    Unchanged,
    Hardlink,
    Symlink,
    Copy,
}

/// Places `blob` at `dst` atomically: a hard link where possible (same filesystem), else a
/// symbolic link, else a copy. The new entry is created under a temporary name in `dst`'s folder
/// and renamed over `dst`, so `dst` is never missing or half-written.
pub fn link_atomic(blob: &Path, dst: &Path) -> io::Result<LinkKind> {
    let dir = parent(dst);
    fs::create_dir_all(dir)?;
    let tmp = temp_name(dir, dst);
    let kind = if fs::hard_link(blob, &tmp).is_ok() {
        LinkKind::Hardlink
    } else if symlink(blob, &tmp).is_ok() {
        LinkKind::Symlink
    } else {
        let mut copy = NamedTempFile::new_in(dir)?;
        io::copy(&mut File::open(blob)?, &mut copy)?;
        copy.as_file().sync_all()?;
        copy.persist(dst).map_err(|e| e.error)?;
        sync_dir(dir);
        return Ok(LinkKind::Copy);
    };
    if let Err(e) = fs::rename(&tmp, dst) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir);
    Ok(kind)
}

fn temp_name(dir: &Path, dst: &Path) -> PathBuf {
    let name = dst
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ u64::from(std::process::id()) << 32;
    dir.join(format!(".{name}.cargo-models-{unique:x}.tmp"))
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    std::os::windows::fs::symlink_file(target, link)
}

/// True when `a` and `b` are the same file (same device and inode), following symlinks.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::metadata(a), fs::metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        match (fs::canonicalize(a), fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn link_atomic_replaces_existing_path() {
        let dir = tempfile::tempdir().unwrap();
        let blob = dir.path().join("blob");
        fs::write(&blob, b"weights").unwrap();
        let dst = dir.path().join("models/m.bin");
        fs::create_dir_all(dst.parent().unwrap()).unwrap();
        fs::write(&dst, b"old").unwrap();
        assert_eq!(link_atomic(&blob, &dst).unwrap(), LinkKind::Hardlink);
        assert!(same_file(&blob, &dst));
        assert_eq!(fs::read_dir(dst.parent().unwrap()).unwrap().count(), 1);
    }
}
