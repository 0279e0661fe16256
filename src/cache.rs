//! The content-addressed blob cache: its layout, stamps, and the commit of verified files.
//!
//! ```text
//! <root>/
//!   CACHEDIR.TAG
//!   blobs-v1/sha256/ab/<64 hex>    verified content, read-only; the name is the SHA-256 of the bytes
//!   stamps-v1/ab/<32 hex>.json     size, mtime and inode of the blob when it was last verified
//!   locks-v1/ab/<32 hex>.lock      one exclusive lock per blob (see `lock.rs`)
//!   locks-v1/cache.lock            shared by every command, exclusive for `gc`
//!   locks-v1/lockfiles/<32 hex>.lock  serialises edits of one lockfile
//!   sources-v1/ab/<32 hex>.json    which URLs have served the blob, and when
//!   tmp-v1/<32 hex>.partial        the download in progress (or left by a killed run), resumable
//!   tmp-v1/<32 hex>.partial.json   the URL and validator (ETag / Last-Modified) it came from
//!   usage-v1/                      which lockfiles used the cache and when each blob was last
//!                                  used, for `gc` (see `usage.rs`)
//! ```
//!
//! Only blobs carry a full 64-hex digest in their file name, so that any file whose name is a
//! SHA-256 has exactly that content: stamps, locks and temp files are keyed by the first 32 hex
//! digits (128 bits) instead.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::fs::{sync_dir, write_atomic};
use crate::hash::{Hasher, Sha256Digest, hash_file};
use crate::lock::{BlobLock, CacheLock, LockError};

/// Version of the on-disk layout. Bump it (and the folder suffixes) when the meaning of a file
/// in the cache changes; a new version starts with an empty cache beside the old one.
const LAYOUT: &str = "v1";

/// A cache root that exists and has the folders of this layout.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// A cache that could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[error("cache `{}`: {action}: {source}", path.display())]
pub struct CacheError {
    pub path: PathBuf,
    pub action: &'static str,
    pub source: io::Error,
}

impl CacheError {
    fn new(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> CacheError {
        let path = path.to_path_buf();
        move |source| CacheError {
            path,
            action,
            source,
        }
    }
}

/// What the cache knows about a blob without reading its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobState {
    /// Present, and its stamp matches its size, mtime and inode: verified, no rehash needed.
    Fresh,
    /// Present but without a matching stamp: must be rehashed before it is trusted.
    Unstamped,
    Missing,
}

/// Result of rehashing a cached blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rehash {
    /// The content matches its name; the stamp was renewed.
    Ok { size: u64 },
    /// The blob was absent.
    Missing,
    /// The content did not match its name; the blob (and its stamp) were removed.
    Corrupt { actual: Sha256Digest, size: u64 },
}

/// The resumable download of one blob: `tmp-v1/<key>.partial`, protected by the blob's lock.
#[derive(Debug)]
pub struct Partial {
    pub file: File,
    path: PathBuf,
    meta: PathBuf,
}

/// What a partial download left by an earlier run can be resumed from.
pub struct Resume {
    /// The source it came from.
    pub url: String,
    /// `If-Range` value for the request that continues it.
    pub validator: String,
    /// The hash state over the bytes already in the file.
    pub hasher: Hasher,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PartialMeta {
    sha256: String,
    url: String,
    validator: String,
}

/// One URL that served a blob.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub url: String,
    /// Unix seconds of the first and latest time it served the verified bytes.
    pub first: u64,
    pub last: u64,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Provenance {
    sha256: String,
    sources: Vec<Served>,
}

/// Partial downloads older than this are removed when their lock is free; younger ones are
/// kept for a later run to resume.
const PARTIAL_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Eq, Debug)]
struct Stamp {
    sha256: String,
    size: u64,
    mtime_ns: i128,
    ino: u64,
}

impl Stamp {
    fn of(digest: &Sha256Digest, meta: &fs::Metadata) -> Stamp {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let ino = 0;
        Stamp {
            sha256: digest.to_hex(),
            size: meta.len(),
            mtime_ns,
            ino,
        }
    }
}

impl Cache {
    /// Opens (creating when needed) the cache at `root`.
    pub fn open(root: &Path) -> Result<Cache, CacheError> {
        let cache = Cache {
            root: root.to_path_buf(),
        };
        for dir in [cache.blobs_dir(), cache.tmp_dir()] {
            fs::create_dir_all(&dir).map_err(CacheError::new(&dir, "could not create folder"))?;
        }
        let tag = root.join("CACHEDIR.TAG");
        if !tag.exists() {
            let text = "Signature: 8a477f597d28d172789f06886806bc55\n\
                        # This file is a cache directory tag created by cargo-models.\n\
                        # For information about cache directory tags see https://bford.info/cachedir/\n";
            write_atomic(&tag, text.as_bytes())
                .map_err(CacheError::new(&tag, "could not write"))?;
        }
        Ok(cache)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blobs_dir(&self) -> PathBuf {
        self.root.join(format!("blobs-{LAYOUT}")).join("sha256")
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(format!("tmp-{LAYOUT}"))
    }

    /// Where the verified content of `digest` lives.
    pub fn blob_path(&self, digest: &Sha256Digest) -> PathBuf {
        let hex = digest.to_hex();
        self.blobs_dir().join(&hex[..2]).join(hex)
    }

    fn key(digest: &Sha256Digest) -> String {
        digest.to_hex()[..32].to_string()
    }

    fn stamp_path(&self, digest: &Sha256Digest) -> PathBuf {
        let key = Self::key(digest);
        self.root
            .join(format!("stamps-{LAYOUT}"))
            .join(&key[..2])
            .join(format!("{key}.json"))
    }

    fn lock_path(&self, digest: &Sha256Digest) -> PathBuf {
        self.lock_path_for_key(&Self::key(digest))
    }

    fn lock_path_for_key(&self, key: &str) -> PathBuf {
        self.root
            .join(format!("locks-{LAYOUT}"))
            .join(&key[..2])
            .join(format!("{key}.lock"))
    }

    /// Takes the cache-wide lock shared (every command but `gc`); see [`CacheLock`].
    pub fn lock_shared(&self, on_wait: impl FnOnce()) -> Result<CacheLock, LockError> {
        CacheLock::shared(&self.cache_lock_path(), on_wait)
    }

    /// Takes the cache-wide lock exclusively (`gc`); see [`CacheLock`].
    pub fn lock_exclusive(&self, on_wait: impl FnOnce()) -> Result<CacheLock, LockError> {
        CacheLock::exclusive(&self.cache_lock_path(), on_wait)
    }

    fn cache_lock_path(&self) -> PathBuf {
        self.root.join(format!("locks-{LAYOUT}")).join("cache.lock")
    }

    /// Whether `digest` is cached and stamped, from metadata only (no hashing).
    pub fn state(&self, digest: &Sha256Digest) -> BlobState {
        let Ok(meta) = fs::metadata(self.blob_path(digest)) else {
            return BlobState::Missing;
        };
        let stamp = fs::read(self.stamp_path(digest))
            .ok()
            .and_then(|b| serde_json::from_slice::<Stamp>(&b).ok());
        if stamp.is_some_and(|s| s == Stamp::of(digest, &meta)) {
            BlobState::Fresh
        } else {
            BlobState::Unstamped
        }
    }

    /// Size of the cached blob, if present.
    pub fn blob_size(&self, digest: &Sha256Digest) -> Option<u64> {
        fs::metadata(self.blob_path(digest)).ok().map(|m| m.len())
    }

    /// Takes the exclusive lock for `digest`; see [`BlobLock::acquire`].
    pub fn lock(
        &self,
        digest: &Sha256Digest,
        timeout: Option<Duration>,
        on_wait: impl FnOnce(),
    ) -> Result<BlobLock, LockError> {
        BlobLock::acquire(&self.lock_path(digest), timeout, on_wait)
    }

    /// Rehashes the cached blob and renews its stamp, or removes it if its content is wrong.
    /// Call with the blob's lock held.
    pub fn rehash(&self, digest: &Sha256Digest, _lock: &BlobLock) -> Result<Rehash, CacheError> {
        let path = self.blob_path(digest);
        let (actual, size) = match hash_file(&path) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Rehash::Missing),
            Err(e) => return Err(CacheError::new(&path, "could not read")(e)),
        };
        if actual == *digest {
            self.write_stamp(digest)?;
            Ok(Rehash::Ok { size })
        } else {
            self.remove(digest, _lock)?;
            Ok(Rehash::Corrupt { actual, size })
        }
    }

    /// Removes a blob and its stamp. Call with the blob's lock held.
    pub fn remove(&self, digest: &Sha256Digest, _lock: &BlobLock) -> Result<(), CacheError> {
        let path = self.blob_path(digest);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(CacheError::new(&path, "could not remove")(e)),
        }
        let _ = fs::remove_file(self.stamp_path(digest));
        Ok(())
    }

    /// Removes a blob with its stamp and its provenance (`gc`: the blob is no longer wanted,
    /// unlike a corrupt one whose sources are still worth remembering). Its lock file stays:
    /// deleting a lock file another process may be waiting on is unsafe. Call with the blob's
    /// lock held.
    pub fn purge(&self, digest: &Sha256Digest, lock: &BlobLock) -> Result<(), CacheError> {
        self.remove(digest, lock)?;
        let _ = fs::remove_file(self.sources_path(digest));
        Ok(())
    }

    fn write_stamp(&self, digest: &Sha256Digest) -> Result<(), CacheError> {
        let blob = self.blob_path(digest);
        let meta = fs::metadata(&blob).map_err(CacheError::new(&blob, "could not stat"))?;
        let stamp = Stamp::of(digest, &meta);
        let path = self.stamp_path(digest);
        let json = serde_json::to_vec(&stamp).expect("stamp serializes");
        write_atomic(&path, &json).map_err(CacheError::new(&path, "could not write stamp"))
    }

    /// Removes temp files left by killed runs, for every blob whose lock is free (a busy lock
    /// means a live process is still writing). Returns how many were removed.
    pub fn clean_stale_temps(&self) -> usize {
        let Ok(entries) = fs::read_dir(self.tmp_dir()) else {
            return 0;
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((key, rest)) = name.split_once('.') else {
                continue;
            };
            let young = || {
                entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_none_or(|age| age < PARTIAL_MAX_AGE)
            };
            if rest.starts_with("partial") && young() {
                continue;
            }
            if key.len() != 32 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let lock = BlobLock::try_acquire(&self.lock_path_for_key(key));
            if matches!(lock, Ok(Some(_))) && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        removed
    }

    /// Every file in the temp folder: partial downloads, their metadata, stray temp files.
    pub fn temp_files(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.tmp_dir()) else {
            return Vec::new();
        };
        let mut out: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .collect();
        out.sort();
        out
    }

    /// Removes a file of the temp folder, whatever its age, unless it belongs to a blob whose
    /// lock is held (a live process is writing it). For `gc`, which holds the cache lock
    /// exclusively; the blob lock still guards against a process that does not take the cache
    /// lock. Returns whether the file was removed (false: in use, or already gone).
    pub fn remove_temp(&self, path: &Path) -> Result<bool, CacheError> {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        let key = name.split('.').next().unwrap_or_default();
        let _lock = if key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
            match BlobLock::try_acquire(&self.lock_path_for_key(key)) {
                Ok(Some(lock)) => Some(lock),
                // Busy, or a lock that cannot be opened: the file may be in use; keep it.
                Ok(None) | Err(_) => return Ok(false),
            }
        } else {
            None
        };
        match fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(CacheError::new(path, "could not remove")(e)),
        }
    }

    fn partial_paths(&self, digest: &Sha256Digest) -> (PathBuf, PathBuf) {
        let key = Self::key(digest);
        let dir = self.tmp_dir();
        (
            dir.join(format!("{key}.partial")),
            dir.join(format!("{key}.partial.json")),
        )
    }

    /// Opens the partial download of `digest`, and what it can be resumed from: an earlier
    /// run's bytes are rehashed (never trusted) and kept only when their source and validator
    /// are known. Call with the blob's lock held.
    pub fn open_partial(
        &self,
        digest: &Sha256Digest,
        _lock: &BlobLock,
    ) -> Result<(Partial, Option<Resume>), CacheError> {
        let (path, meta) = self.partial_paths(digest);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(CacheError::new(&path, "could not open"))?;
        let resume = fs::read(&meta)
            .ok()
            .and_then(|b| serde_json::from_slice::<PartialMeta>(&b).ok())
            .filter(|m| m.sha256 == digest.to_hex())
            .and_then(|m| {
                let mut hasher = Hasher::new();
                let mut buf = vec![0u8; crate::hash::IO_BUF];
                loop {
                    match file.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => hasher.update(&buf[..n]),
                        Err(_) => return None,
                    }
                }
                (!hasher.is_empty()).then_some(Resume {
                    url: m.url,
                    validator: m.validator,
                    hasher,
                })
            });
        if resume.is_none() {
            let _ = fs::remove_file(&meta);
        }
        Ok((Partial { file, path, meta }, resume))
    }

    /// Records where the partial download's bytes come from, so that a later run can resume it.
    pub fn save_partial_source(
        &self,
        digest: &Sha256Digest,
        url: &str,
        validator: &str,
    ) -> Result<(), CacheError> {
        let (_, meta_path) = self.partial_paths(digest);
        let meta = PartialMeta {
            sha256: digest.to_hex(),
            url: url.to_string(),
            validator: validator.to_string(),
        };
        let json = serde_json::to_vec(&meta).expect("meta serializes");
        write_atomic(&meta_path, &json).map_err(CacheError::new(&meta_path, "could not write"))
    }

    /// Forgets the partial's source (its bytes are about to be replaced).
    pub fn forget_partial_source(&self, digest: &Sha256Digest) {
        let _ = fs::remove_file(self.partial_paths(digest).1);
    }

    /// Removes a partial download whose bytes turned out wrong.
    pub fn discard_partial(&self, partial: Partial) {
        let _ = fs::remove_file(&partial.meta);
        let _ = fs::remove_file(&partial.path);
    }

    /// Moves a fully downloaded and verified partial into place as the blob of `digest`:
    /// read-only, fsynced, renamed atomically, then stamped.
    pub fn commit_partial(
        &self,
        partial: Partial,
        digest: &Sha256Digest,
        lock: &BlobLock,
    ) -> Result<PathBuf, CacheError> {
        let dst = self.commit_file(&partial.file, &partial.path, digest, lock)?;
        let _ = fs::remove_file(&partial.meta);
        Ok(dst)
    }

    /// Moves a downloaded temp file whose hash was just computed into place as the blob of
    /// `digest` (for `add` and `update`, which learn the hash by downloading).
    pub fn commit_temp(
        &self,
        temp: tempfile::NamedTempFile,
        digest: &Sha256Digest,
        lock: &BlobLock,
    ) -> Result<PathBuf, CacheError> {
        let (file, path) = temp.keep().map_err(|e| {
            CacheError::new(self.tmp_dir().as_path(), "could not keep temp file")(e.error)
        })?;
        let result = self.commit_file(&file, &path, digest, lock);
        if result.is_err() {
            let _ = fs::remove_file(&path);
        }
        result
    }

    /// A new temp file on the cache's filesystem, deleted when dropped.
    pub fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        let dir = self.tmp_dir();
        tempfile::Builder::new()
            .prefix("new.")
            .tempfile_in(&dir)
            .map_err(CacheError::new(&dir, "could not create temp file"))
    }

    fn commit_file(
        &self,
        file: &File,
        path: &Path,
        digest: &Sha256Digest,
        _lock: &BlobLock,
    ) -> Result<PathBuf, CacheError> {
        let dst = self.blob_path(digest);
        let dir = dst.parent().expect("blob path has a parent");
        fs::create_dir_all(dir).map_err(CacheError::new(dir, "could not create folder"))?;
        let meta = file
            .metadata()
            .map_err(CacheError::new(path, "could not stat"))?;
        file.set_permissions(read_only_for_all(meta.permissions()))
            .map_err(CacheError::new(path, "could not make read-only"))?;
        file.sync_all()
            .map_err(CacheError::new(path, "could not fsync"))?;
        fs::rename(path, &dst).map_err(CacheError::new(&dst, "could not rename into place"))?;
        sync_dir(dir);
        self.write_stamp(digest)?;
        Ok(dst)
    }

    /// Takes the lock that serialises edits of the lockfile at `lockfile`, so that concurrent
    /// `add`s both land.
    pub fn lock_lockfile(&self, lockfile: &Path) -> Result<BlobLock, LockError> {
        let absolute = std::path::absolute(lockfile).unwrap_or_else(|_| lockfile.to_path_buf());
        let (key, _) = crate::hash::hash_reader(absolute.as_os_str().as_encoded_bytes())
            .expect("hashing memory cannot fail");
        let key = Self::key(&key);
        let path = self
            .root
            .join(format!("locks-{LAYOUT}"))
            .join("lockfiles")
            .join(format!("{key}.lock"));
        BlobLock::acquire(&path, None, || {})
    }

    fn sources_path(&self, digest: &Sha256Digest) -> PathBuf {
        let key = Self::key(digest);
        self.root
            .join(format!("sources-{LAYOUT}"))
            .join(&key[..2])
            .join(format!("{key}.json"))
    }

    /// The URLs that have served the verified content of `digest`.
    pub fn served_by(&self, digest: &Sha256Digest) -> Vec<Served> {
        fs::read(self.sources_path(digest))
            .ok()
            .and_then(|b| serde_json::from_slice::<Provenance>(&b).ok())
            .filter(|p| p.sha256 == digest.to_hex())
            .map(|p| p.sources)
            .unwrap_or_default()
    }

    /// Records that `url` just served the verified content of `digest`. Call with the blob's
    /// lock held.
    pub fn record_source(
        &self,
        digest: &Sha256Digest,
        url: &str,
        _lock: &BlobLock,
    ) -> Result<(), CacheError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut sources = self.served_by(digest);
        match sources.iter_mut().find(|s| s.url == url) {
            Some(s) => s.last = now,
            None => sources.push(Served {
                url: url.to_string(),
                first: now,
                last: now,
            }),
        }
        let provenance = Provenance {
            sha256: digest.to_hex(),
            sources,
        };
        let path = self.sources_path(digest);
        let json = serde_json::to_vec_pretty(&provenance).expect("provenance serializes");
        write_atomic(&path, &json).map_err(CacheError::new(&path, "could not write"))
    }

    /// Every blob in the cache, by digest.
    pub fn blobs(&self) -> Vec<Sha256Digest> {
        let mut out = Vec::new();
        let Ok(shards) = fs::read_dir(self.blobs_dir()) else {
            return out;
        };
        for shard in shards.flatten() {
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            out.extend(files.flatten().filter_map(|f| {
                f.file_name()
                    .to_str()
                    .and_then(|n| n.parse::<Sha256Digest>().ok())
            }));
        }
        out
    }

    /// True when `path` is a link to (or a copy's inode of) one of this cache's blobs: a file
    /// that `fetch` placed and may replace.
    pub fn is_cache_link(&self, path: &Path) -> bool {
        if let Ok(target) = fs::read_link(path) {
            return target.starts_with(self.blobs_dir())
                || fs::canonicalize(&target)
                    .ok()
                    .zip(fs::canonicalize(self.blobs_dir()).ok())
                    .is_some_and(|(t, b)| t.starts_with(b));
        }
        self.blobs()
            .iter()
            .any(|d| crate::fs::same_file(&self.blob_path(d), path))
    }
}

/// Blobs are read-only for everyone: no process of ours ever writes one in place, and a
/// read-only hard link in a project discourages editing the shared content by accident.
fn read_only_for_all(mut perms: fs::Permissions) -> fs::Permissions {
    #[cfg(unix)]
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o444);
    #[cfg(not(unix))]
    perms.set_readonly(true);
    perms
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn commit_then_state_then_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (digest, _) = crate::hash::hash_reader(&b"weights"[..]).unwrap();
        assert_eq!(cache.state(&digest), BlobState::Missing);
        let lock = cache.lock(&digest, None, || {}).unwrap();
        let (mut partial, resume) = cache.open_partial(&digest, &lock).unwrap();
        assert!(resume.is_none());
        partial.file.write_all(b"weights").unwrap();
        let path = cache.commit_partial(partial, &digest, &lock).unwrap();
        assert!(path.ends_with(format!("{}/{digest}", &digest.to_hex()[..2])));
        assert_eq!(cache.state(&digest), BlobState::Fresh);
        assert!(fs::metadata(&path).unwrap().permissions().readonly());

        // A sync tool truncates the file: the stamp no longer matches, and a rehash removes it.
        let mut perms = fs::metadata(&path).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        fs::set_permissions(&path, perms).unwrap();
        fs::write(&path, b"weig").unwrap();
        assert_eq!(cache.state(&digest), BlobState::Unstamped);
        assert!(matches!(
            cache.rehash(&digest, &lock).unwrap(),
            Rehash::Corrupt { size: 4, .. }
        ));
        assert_eq!(cache.state(&digest), BlobState::Missing);
    }

    #[test]
    fn partials_resume_only_with_a_known_source_and_stale_temps_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (a, _) = crate::hash::hash_reader(&b"a"[..]).unwrap();
        let lock = cache.lock(&a, None, || {}).unwrap();
        let (mut partial, _) = cache.open_partial(&a, &lock).unwrap();
        partial.file.write_all(b"first half").unwrap();
        drop(partial); // as if killed before the response named a validator
        assert!(cache.open_partial(&a, &lock).unwrap().1.is_none());
        let (mut partial, _) = cache.open_partial(&a, &lock).unwrap();
        partial.file.write_all(b"first half").unwrap();
        cache
            .save_partial_source(&a, "http://x/a", "\"v1\"")
            .unwrap();
        drop(partial);
        let (_, resume) = cache.open_partial(&a, &lock).unwrap();
        let resume = resume.unwrap();
        assert_eq!(
            (resume.url.as_str(), resume.hasher.len()),
            ("http://x/a", 10)
        );

        // A young partial survives cleaning; a random temp file of a free lock does not.
        drop(lock);
        let stray = cache.tmp_dir().join(format!("{}.xyz", Cache::key(&a)));
        fs::write(&stray, b"junk").unwrap();
        assert_eq!(cache.clean_stale_temps(), 1);
        assert!(!stray.exists());
        assert!(cache.partial_paths(&a).0.exists());
    }

    #[test]
    fn provenance_records_urls() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (a, _) = crate::hash::hash_reader(&b"a"[..]).unwrap();
        let lock = cache.lock(&a, None, || {}).unwrap();
        assert!(cache.served_by(&a).is_empty());
        cache.record_source(&a, "https://x/a", &lock).unwrap();
        cache.record_source(&a, "https://x/a", &lock).unwrap();
        cache.record_source(&a, "https://m/a", &lock).unwrap();
        let urls: Vec<String> = cache.served_by(&a).into_iter().map(|s| s.url).collect();
        assert_eq!(urls, ["https://x/a", "https://m/a"]);
    }

    #[test]
    fn only_blobs_carry_a_full_digest_in_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (digest, _) = crate::hash::hash_reader(&b"x"[..]).unwrap();
        let hex = digest.to_hex();
        for p in [cache.stamp_path(&digest), cache.lock_path(&digest)] {
            assert!(!p.to_string_lossy().contains(&hex), "{}", p.display());
        }
    }
}
