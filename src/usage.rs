//! Which lockfiles used the cache, and when each blob was last used: the records `gc` reads
//! to decide what it may remove.
//!
//! ```text
//! <root>/usage-v1/
//!   blobs/ab/<32 hex>          empty marker; its mtime is when the blob was last used
//!   lockfiles/<32 hex>.json    {"path", "last_used"} of a lockfile that used the cache; the name
//!                              is the first 32 hex of the SHA-256 of the lockfile's absolute path
//! ```
//!
//! Recording must not slow a no-op `fetch` down: it costs one `stat` per blob and one for the
//! lockfile, and writes only a record older than [`REFRESH`]. Records are advisory: they are
//! never trusted for integrity, recording never fails a command, and a missing record only makes
//! `gc` fall back to the blob's mtime, or not know a lockfile until its next use. Like blobs'
//! other files, markers are keyed by the first 32 hex digits of the digest, so that only blobs
//! carry a full SHA-256 in their name.
//!
//! Record with the cache lock held shared: `gc` holds it exclusively while it reads and removes
//! records.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest as _, Sha256};

use crate::cache::Cache;
use crate::fs::write_atomic;
use crate::hash::Sha256Digest;

/// The folder of these records. Bump the suffix when the meaning of a record changes.
const DIR: &str = "usage-v1";

/// A record younger than this is not rewritten: "last used" is precise to about an hour, and a
/// command run in a loop writes nothing.
pub const REFRESH: Duration = Duration::from_secs(3600);

#[derive(serde::Serialize, serde::Deserialize)]
struct LockfileRecord {
    path: PathBuf,
    /// Unix seconds of the latest recorded use.
    last_used: u64,
}

/// Records that the lockfile at `lockfile` used the cache now, and that each of `digests` was
/// used now. Best effort: a record that cannot be written is skipped silently (it only makes
/// `gc` less precise). Call with the cache lock held shared.
pub fn record_use<'a>(
    cache: &Cache,
    lockfile: &Path,
    digests: impl IntoIterator<Item = &'a Sha256Digest>,
) {
    let now = SystemTime::now();
    for digest in digests {
        let _ = touch(&marker_path(cache, digest), now);
    }
    let _ = record_lockfile(cache, lockfile, now);
}

/// When the blob of `digest` was last used: its marker's mtime, else the blob's own mtime
/// (when it was downloaded), else `None` (no such blob).
pub fn last_used(cache: &Cache, digest: &Sha256Digest) -> Option<SystemTime> {
    fs::metadata(marker_path(cache, digest))
        .or_else(|_| fs::metadata(cache.blob_path(digest)))
        .and_then(|m| m.modified())
        .ok()
}

/// Absolute paths of the lockfiles that have used the cache, sorted; some may no longer exist.
pub fn known_lockfiles(cache: &Cache) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(lockfiles_dir(cache)) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice::<LockfileRecord>(&b).ok())
        .map(|r| r.path)
        .collect();
    out.sort();
    out
}

/// Forgets the lockfile at `path` (it no longer exists), until it is used again.
pub(crate) fn forget_lockfile(cache: &Cache, path: &Path) {
    let _ = fs::remove_file(lockfile_record_path(cache, path));
}

/// Forgets when the blob of `digest` was used (the blob was removed).
pub(crate) fn forget_blob(cache: &Cache, digest: &Sha256Digest) {
    let _ = fs::remove_file(marker_path(cache, digest));
}

/// Removes the markers of blobs that are no longer cached. Returns how many were removed.
pub(crate) fn forget_missing_blobs(cache: &Cache, cached: &[Sha256Digest]) -> usize {
    let keys: std::collections::HashSet<String> = cached.iter().map(key).collect();
    let Ok(shards) = fs::read_dir(cache.root().join(DIR).join("blobs")) else {
        return 0;
    };
    let mut removed = 0;
    for shard in shards.flatten() {
        let Ok(markers) = fs::read_dir(shard.path()) else {
            continue;
        };
        for marker in markers.flatten() {
            let name = marker.file_name().to_string_lossy().into_owned();
            if !keys.contains(&name) && fs::remove_file(marker.path()).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

fn key(digest: &Sha256Digest) -> String {
    digest.to_hex()[..32].to_string()
}

fn marker_path(cache: &Cache, digest: &Sha256Digest) -> PathBuf {
    let key = key(digest);
    cache
        .root()
        .join(DIR)
        .join("blobs")
        .join(&key[..2])
        .join(key)
}

fn lockfiles_dir(cache: &Cache) -> PathBuf {
    cache.root().join(DIR).join("lockfiles")
}

fn lockfile_record_path(cache: &Cache, lockfile: &Path) -> PathBuf {
    let hash = Sha256::digest(lockfile.as_os_str().as_encoded_bytes());
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    lockfiles_dir(cache).join(format!("{hex}.json"))
}

/// True when the file at `path` was modified less than [`REFRESH`] before `now`.
fn fresh(path: &Path, now: SystemTime) -> bool {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| now.duration_since(t).unwrap_or_default() < REFRESH)
}

/// Sets the marker's mtime to `now`, creating it (and its folder) when needed; does nothing
/// when it is fresh.
fn touch(path: &Path, now: SystemTime) -> io::Result<()> {
    if fresh(path, now) {
        return Ok(());
    }
    let open = || {
        File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
    };
    let file = match open() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(crate::fs::parent(path))?;
            open()?
        }
        other => other?,
    };
    file.set_modified(now)
}

fn record_lockfile(cache: &Cache, lockfile: &Path, now: SystemTime) -> io::Result<()> {
    let path = std::path::absolute(lockfile)?;
    if path.to_str().is_none() {
        // A JSON record cannot hold a path that is not UTF-8; such a lockfile stays unknown.
        return Ok(());
    }
    let record_path = lockfile_record_path(cache, &path);
    if fresh(&record_path, now) {
        return Ok(());
    }
    let record = LockfileRecord {
        path,
        last_used: now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    };
    let json = serde_json::to_vec_pretty(&record).expect("lockfile record serializes");
    write_atomic(&record_path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(data: &[u8]) -> Sha256Digest {
        crate::hash::hash_reader(data).unwrap().0
    }

    fn set_mtime(path: &Path, t: SystemTime) {
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(t)
            .unwrap();
    }

    fn mtime(path: &Path) -> SystemTime {
        fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn records_blobs_and_lockfiles_and_rewrites_only_stale_records() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("cache")).unwrap();
        let lockfile = dir.path().join("project/models.lock");
        let (a, b) = (digest(b"a"), digest(b"b"));
        assert_eq!(last_used(&cache, &a), None);
        assert!(known_lockfiles(&cache).is_empty());

        record_use(&cache, &lockfile, [&a, &b]);
        assert_eq!(known_lockfiles(&cache), std::slice::from_ref(&lockfile));
        let used = last_used(&cache, &a).unwrap();
        assert!(used.elapsed().unwrap_or_default() < Duration::from_secs(60));

        // A marker used 10 minutes ago is fresh and left alone; one used 2 hours ago is renewed.
        let now = SystemTime::now();
        let recent = now - Duration::from_secs(600);
        let old = now - Duration::from_secs(7200);
        set_mtime(&marker_path(&cache, &a), recent);
        set_mtime(&marker_path(&cache, &b), old);
        let record = lockfile_record_path(&cache, &lockfile);
        set_mtime(&record, old);
        record_use(&cache, &lockfile, &[a, b]);
        assert_eq!(last_used(&cache, &a), Some(recent));
        assert!(last_used(&cache, &b).unwrap() > old + Duration::from_secs(3600));
        assert!(mtime(&record) > old + Duration::from_secs(3600));
        assert_eq!(known_lockfiles(&cache), std::slice::from_ref(&lockfile));

        forget_lockfile(&cache, &lockfile);
        forget_blob(&cache, &a);
        assert!(known_lockfiles(&cache).is_empty());
        assert_eq!(last_used(&cache, &a), None);
    }

    #[test]
    fn a_blob_without_a_marker_was_last_used_when_it_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let a = digest(b"a");
        let blob = cache.blob_path(&a);
        fs::create_dir_all(blob.parent().unwrap()).unwrap();
        fs::write(&blob, b"a").unwrap();
        let then = SystemTime::now() - Duration::from_secs(86400);
        set_mtime(&blob, then);
        assert_eq!(last_used(&cache, &a), Some(then));
    }

    #[test]
    fn records_name_no_file_by_a_full_digest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let a = digest(b"a");
        let lockfile = dir.path().join("models.lock");
        for p in [
            marker_path(&cache, &a),
            lockfile_record_path(&cache, &lockfile),
        ] {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(name.trim_end_matches(".json").len(), 32, "{name}");
        }
    }

    #[test]
    fn markers_of_blobs_no_longer_cached_are_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let (a, b) = (digest(b"a"), digest(b"b"));
        record_use(&cache, &dir.path().join("models.lock"), [&a, &b]);
        assert_eq!(forget_missing_blobs(&cache, &[a]), 1);
        assert!(marker_path(&cache, &a).exists());
        assert!(!marker_path(&cache, &b).exists());
    }
}
