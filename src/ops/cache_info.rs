//! `cargo models cache`: where the cache is, what it holds, and which lockfiles use it.

use std::fs;
use std::path::PathBuf;

use serde::Serialize;

use crate::cache::Cache;
use crate::report::human_size;
use crate::usage;

/// A summary of the cache, from metadata only (nothing is hashed or locked).
#[derive(Debug, Clone, Serialize)]
pub struct CacheInfo {
    pub root: PathBuf,
    pub blobs: usize,
    /// Bytes of all blobs.
    pub bytes: u64,
    /// Files in the temp folder (partial downloads, stray temp files), and their bytes.
    pub temp_files: usize,
    pub temp_bytes: u64,
    /// The lockfiles that have used the cache; `gc` keeps the blobs of those that exist.
    pub lockfiles: Vec<KnownLockfile>,
}

/// A lockfile that has used the cache.
#[derive(Debug, Clone, Serialize)]
pub struct KnownLockfile {
    pub path: PathBuf,
    /// False once it was deleted (`gc` then forgets it).
    pub exists: bool,
}

/// Describes `cache`.
pub fn cache_info(cache: &Cache) -> CacheInfo {
    let blobs = cache.blobs();
    let temps = cache.temp_files();
    let size = |p: &PathBuf| fs::metadata(p).map_or(0, |m| m.len());
    CacheInfo {
        root: cache.root().to_path_buf(),
        bytes: blobs.iter().filter_map(|d| cache.blob_size(d)).sum(),
        blobs: blobs.len(),
        temp_bytes: temps.iter().map(size).sum(),
        temp_files: temps.len(),
        lockfiles: usage::known_lockfiles(cache)
            .into_iter()
            .map(|path| KnownLockfile {
                exists: !matches!(path.try_exists(), Ok(false)),
                path,
            })
            .collect(),
    }
}

/// `info` for people: one `key: value` line each, then the lockfiles, indented.
pub fn render(info: &CacheInfo) -> String {
    let mut out = format!(
        "location:   {}\nblobs:      {}\nsize:       {}\ntemp files: {}",
        info.root.display(),
        info.blobs,
        human_size(info.bytes),
        info.temp_files,
    );
    if info.temp_files > 0 {
        out.push_str(&format!(" ({})", human_size(info.temp_bytes)));
    }
    out.push_str(&format!("\nlockfiles:  {}\n", info.lockfiles.len()));
    for l in &info.lockfiles {
        out.push_str(&format!("  {}", l.path.display()));
        if !l.exists {
            out.push_str(" (no longer exists)");
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_blobs_temps_and_lockfiles() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("cache")).unwrap();
        let (digest, _) = crate::hash::hash_reader(&b"weights"[..]).unwrap();
        let blob = cache.blob_path(&digest);
        fs::create_dir_all(blob.parent().unwrap()).unwrap();
        fs::write(&blob, b"weights").unwrap();
        fs::write(cache.root().join("tmp-v1/x.tmp"), [0; 2048]).unwrap();
        let here = dir.path().join("models.lock");
        fs::write(&here, "version = 1\n").unwrap();
        let gone = dir.path().join("gone/models.lock");
        usage::record_use(&cache, &here, [&digest]);
        usage::record_use(&cache, &gone, [&digest]);

        let info = cache_info(&cache);
        assert_eq!((info.blobs, info.bytes), (1, 7));
        assert_eq!((info.temp_files, info.temp_bytes), (1, 2048));
        let text = render(&info).replace(&dir.path().display().to_string(), "[TMP]");
        assert_eq!(
            text,
            "location:   [TMP]/cache\n\
             blobs:      1\n\
             size:       7 B\n\
             temp files: 1 (2.0 KiB)\n\
             lockfiles:  2\n  \
             [TMP]/gone/models.lock (no longer exists)\n  \
             [TMP]/models.lock\n"
        );
    }
}
