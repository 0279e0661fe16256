//! `cargo models gc`: remove the blobs no lockfile on disk references, least recently used
//! first, and leftover temp files, under the exclusive cache lock.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::cache::{Cache, CacheError};
use crate::error::ErrorKind;
use crate::hash::Sha256Digest;
use crate::lock::LockError;
use crate::lockfile::Lockfile;
use crate::report::human_size;
use crate::usage;

/// What `gc` removes, resolved from its flags. With neither `max_size` nor `older_than`, every
/// unreferenced blob goes.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    /// Remove unreferenced blobs, least recently used first, while all blobs together take
    /// more than this many bytes.
    pub max_size: Option<u64>,
    /// Remove unreferenced blobs last used longer ago than this.
    pub older_than: Option<Duration>,
    /// Find what would be removed; change nothing.
    pub dry_run: bool,
    /// Treat every blob as unreferenced, even those a lockfile on disk pins.
    pub all: bool,
}

/// What `gc` removed (or, with `dry_run`, would remove) and kept.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    /// Removed blobs, least recently used first.
    pub removed: Vec<RemovedBlob>,
    /// Files removed from the temp folder (partial downloads, stray temp files).
    pub temp_files: usize,
    /// Bytes of the removed blobs and temp files.
    pub freed_bytes: u64,
    /// Blobs left in the cache, and their bytes.
    pub kept: usize,
    pub kept_bytes: u64,
    /// Blobs that were due to go but were locked by another process (one that does not take the
    /// cache lock, such as an older cargo-models); kept.
    pub busy: Vec<Sha256Digest>,
    /// Lockfiles that used the cache and no longer exist: forgotten, they protect nothing.
    pub forgotten_lockfiles: Vec<PathBuf>,
    /// Lockfiles that exist but could not be read or parsed.
    pub unreadable_lockfiles: Vec<UnreadableLockfile>,
    /// The `max_size` asked for, when the blobs kept still take more (referenced blobs are
    /// never removed to meet it).
    pub over_max_size: Option<u64>,
}

/// A blob `gc` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedBlob {
    pub sha256: Sha256Digest,
    pub size: u64,
    /// Unix seconds of its last use.
    pub last_used: u64,
}

/// A lockfile on disk that could not be read or parsed. Its models are unknown, so every blob
/// whose SHA-256 appears anywhere in its text is kept.
#[derive(Debug, Clone, Serialize)]
pub struct UnreadableLockfile {
    pub path: PathBuf,
    pub error: String,
    /// How many SHA-256 hashes were found in its text (and their blobs kept).
    pub hashes_kept: usize,
}

/// Why `gc` could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

impl GcError {
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Transfer
    }
}

/// A blob that no lockfile protects.
struct Candidate {
    digest: Sha256Digest,
    size: u64,
    last_used: SystemTime,
}

/// Removes unreferenced blobs (all blobs with `all`) as `options` asks, least recently used
/// first, with their stamps, provenance and usage markers, and every file of the temp folder.
/// Holds the cache lock exclusively for the whole run, so no other command sees a blob vanish
/// while it uses it; `on_wait` is called once if other processes hold it.
pub fn gc(cache: &Cache, options: &GcOptions, on_wait: impl FnOnce()) -> Result<GcReport, GcError> {
    let _cache_lock = cache.lock_exclusive(on_wait)?;
    let now = SystemTime::now();
    let mut report = GcReport {
        dry_run: options.dry_run,
        ..GcReport::default()
    };
    let referenced = referenced_blobs(cache, options, &mut report);

    let blobs = cache.blobs();
    let mut total = 0;
    let mut candidates = Vec::new();
    for digest in &blobs {
        let Some(size) = cache.blob_size(digest) else {
            continue;
        };
        total += size;
        if !referenced.contains(digest) {
            candidates.push(Candidate {
                digest: *digest,
                size,
                last_used: usage::last_used(cache, digest).unwrap_or(UNIX_EPOCH),
            });
        }
    }
    candidates.sort_by_key(|c| (c.last_used, c.digest));
    let sizes: Vec<(SystemTime, u64)> = candidates.iter().map(|c| (c.last_used, c.size)).collect();
    let due = due_count(&sizes, total, options, now);

    let mut removed_bytes = 0;
    for c in &candidates[..due] {
        if !options.dry_run {
            match cache.lock(&c.digest, Some(Duration::ZERO), || {}) {
                Ok(lock) => cache.purge(&c.digest, &lock)?,
                Err(LockError::Timeout { .. }) => {
                    report.busy.push(c.digest);
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            usage::forget_blob(cache, &c.digest);
        }
        removed_bytes += c.size;
        report.removed.push(RemovedBlob {
            sha256: c.digest,
            size: c.size,
            last_used: unix_secs(c.last_used),
        });
    }
    report.kept = blobs.len() - report.removed.len();
    report.kept_bytes = total - removed_bytes;
    report.over_max_size = options.max_size.filter(|max| report.kept_bytes > *max);

    let mut temp_bytes = 0;
    for path in cache.temp_files() {
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        if options.dry_run || cache.remove_temp(&path)? {
            report.temp_files += 1;
            temp_bytes += size;
        }
    }
    report.freed_bytes = removed_bytes + temp_bytes;

    if !options.dry_run {
        usage::forget_missing_blobs(cache, &cache.blobs());
    }
    Ok(report)
}

/// The blobs that lockfiles still on disk pin (none with `all`). Lockfiles that no longer exist
/// are forgotten (unless `dry_run`); one that cannot be parsed protects every hash in its text.
fn referenced_blobs(
    cache: &Cache,
    options: &GcOptions,
    report: &mut GcReport,
) -> HashSet<Sha256Digest> {
    let mut referenced = HashSet::new();
    for path in usage::known_lockfiles(cache) {
        if matches!(path.try_exists(), Ok(false)) {
            if !options.dry_run {
                usage::forget_lockfile(cache, &path);
            }
            report.forgotten_lockfiles.push(path);
            continue;
        }
        if options.all {
            continue;
        }
        match Lockfile::load(&path) {
            Ok(lockfile) => referenced.extend(lockfile.models.iter().map(|m| m.sha256)),
            Err(e) => {
                let hashes = std::fs::read_to_string(&path)
                    .map(|text| hashes_in(&text))
                    .unwrap_or_default();
                report.unreadable_lockfiles.push(UnreadableLockfile {
                    path,
                    error: e.to_string(),
                    hashes_kept: hashes.len(),
                });
                referenced.extend(hashes);
            }
        }
    }
    referenced
}

/// Every run of exactly 64 hex digits in `text`.
fn hashes_in(text: &str) -> Vec<Sha256Digest> {
    text.split(|c: char| !c.is_ascii_hexdigit())
        .filter(|word| word.len() == 64)
        .filter_map(|word| word.parse().ok())
        .collect()
}

/// How many of the unreferenced blobs, given as `(last used, size)` least recently used first,
/// are to go: those last used before `now - older_than`, then more while all blobs together
/// (`total` bytes) take more than `max_size`; with neither limit, all of them.
fn due_count(
    candidates: &[(SystemTime, u64)],
    total: u64,
    options: &GcOptions,
    now: SystemTime,
) -> usize {
    if options.older_than.is_none() && options.max_size.is_none() {
        return candidates.len();
    }
    let mut due = match options.older_than.map(|age| now.checked_sub(age)) {
        Some(Some(cutoff)) => candidates.iter().take_while(|(t, _)| *t < cutoff).count(),
        _ => 0,
    };
    if let Some(max) = options.max_size {
        let mut left = total - candidates[..due].iter().map(|(_, s)| s).sum::<u64>();
        while left > max && due < candidates.len() {
            left -= candidates[due].1;
            due += 1;
        }
    }
    due
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl GcReport {
    /// What the user should know beyond the removals: lockfiles that could not be used, blobs
    /// kept because they were busy, a `max_size` that could not be met.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for l in &self.unreadable_lockfiles {
            out.push(format!(
                "could not use the lockfile `{}` to find the models it pins, so only blobs whose \
                 sha256 appears in its text are kept ({}):\n{}",
                l.path.display(),
                plural(l.hashes_kept, "hash", "hashes"),
                l.error
            ));
        }
        for digest in &self.busy {
            out.push(format!(
                "kept sha256 {}: another process holds its lock",
                digest.short()
            ));
        }
        if let Some(max) = self.over_max_size {
            out.push(format!(
                "the cache still holds {} of blobs, above --max-size {}: the rest is pinned by \
                 lockfiles on disk (see `cargo models cache`; --all removes those too)",
                human_size(self.kept_bytes),
                human_size(max)
            ));
        }
        out
    }
}

/// The report for people, as cargo-style status lines `(verb, message)`: one per forgotten
/// lockfile and per removed blob, then a summary. `now` dates the "last used" ages.
pub fn render(report: &GcReport, now: SystemTime) -> Vec<(&'static str, String)> {
    let dry = report.dry_run;
    let mut lines = Vec::new();
    for path in &report.forgotten_lockfiles {
        lines.push((
            if dry { "Would forget" } else { "Forgetting" },
            format!("{} (no longer exists)", path.display()),
        ));
    }
    for blob in &report.removed {
        let used = UNIX_EPOCH + Duration::from_secs(blob.last_used);
        lines.push((
            if dry { "Would remove" } else { "Removing" },
            format!(
                "sha256 {}  {}, last used {}",
                blob.sha256.short(),
                human_size(blob.size),
                human_age(now.duration_since(used).unwrap_or_default())
            ),
        ));
    }
    let mut what = plural(report.removed.len(), "blob", "blobs");
    if report.temp_files > 0 {
        what.push_str(" and ");
        what.push_str(&plural(
            report.temp_files,
            "temporary file",
            "temporary files",
        ));
    }
    lines.push((
        if dry { "Would remove" } else { "Removed" },
        format!(
            "{what}, {}; kept {}, {}{}",
            human_size(report.freed_bytes),
            plural(report.kept, "blob", "blobs"),
            human_size(report.kept_bytes),
            if dry { " (dry run)" } else { "" }
        ),
    ));
    lines
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How long ago, coarsely: `3 minutes ago`, `5 hours ago`, `45 days ago`.
fn human_age(age: Duration) -> String {
    let secs = age.as_secs();
    let (n, one, many) = match secs {
        0..60 => return "less than a minute ago".to_string(),
        60..3600 => (secs / 60, "minute", "minutes"),
        3600..172_800 => (secs / 3600, "hour", "hours"),
        _ => (secs / 86400, "day", "days"),
    };
    format!("{} ago", plural(n as usize, one, many))
}

/// Parses a size for `--max-size`: bytes, or a number (decimals allowed) with a unit: `KB`,
/// `MB`, `GB`, `TB` are powers of 1000 (as cargo reads them); `KiB`, `MiB`, `GiB`, `TiB` and the
/// one-letter `K`, `M`, `G`, `T` (as `du` and `sort -h` read them) are powers of 1024. Case does
/// not matter; a space before the unit is allowed.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let err = || "expected bytes, or a number and a unit: `20GB`, `500MiB`, `1.5G`".to_string();
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let factor: f64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(err()),
    };
    let value: f64 = number.parse().map_err(|_| err())?;
    let bytes = (value * factor).round();
    if bytes.is_finite() && bytes < u64::MAX as f64 {
        Ok(bytes as u64)
    } else {
        Err(err())
    }
}

/// Parses an age for `--older-than`: a number (decimals allowed) with a unit, `s`, `m`
/// (minutes), `h`, `d` or `w`: `30d`, `12h`, `90m`, `45s`.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let err = || "expected a number and a unit: `30d`, `12h`, `90m` or `45s`".to_string();
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let secs: f64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        "w" => 7.0 * 86400.0,
        _ => return Err(err()),
    };
    let value: f64 = number.parse().map_err(|_| err())?;
    Duration::try_from_secs_f64(value * secs).map_err(|_| err())
}

#[cfg(test)]
mod tests {
    use std::fs::{self, File};
    use std::io::Write;
    use std::path::Path;

    use super::*;

    const DAY: Duration = Duration::from_secs(86400);

    /// A cache in a temp folder, and lockfiles beside it.
    struct Fixture {
        dir: tempfile::TempDir,
        cache: Cache,
    }

    impl Fixture {
        fn new() -> Fixture {
            let dir = tempfile::tempdir().unwrap();
            let cache = Cache::open(&dir.path().join("cache")).unwrap();
            Fixture { dir, cache }
        }

        /// Commits `data` as a blob, the way `fetch` does.
        fn blob(&self, data: &[u8]) -> Sha256Digest {
            let (digest, _) = crate::hash::hash_reader(data).unwrap();
            let lock = self.cache.lock(&digest, None, || {}).unwrap();
            let (mut partial, _) = self.cache.open_partial(&digest, &lock).unwrap();
            partial.file.write_all(data).unwrap();
            self.cache.commit_partial(partial, &digest, &lock).unwrap();
            self.cache
                .record_source(&digest, "https://example.org/m", &lock)
                .unwrap();
            digest
        }

        /// Writes a lockfile pinning `digests` and records its use, as `fetch` will.
        fn lockfile(&self, name: &str, digests: &[Sha256Digest]) -> PathBuf {
            let path = self.dir.path().join(name).join("models.lock");
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            let mut text = String::from("version = 1\n");
            for (i, d) in digests.iter().enumerate() {
                text.push_str(&format!(
                    "\n[[model]]\nname = \"m{i}\"\nurl = \"https://example.org/m{i}\"\nsha256 = \"{d}\"\n"
                ));
            }
            fs::write(&path, text).unwrap();
            usage::record_use(&self.cache, &path, digests);
            path
        }

        /// Makes the blob look last used `age` ago: its usage marker's mtime.
        fn age(&self, digest: &Sha256Digest, age: Duration) {
            let key = &digest.to_hex()[..32];
            let marker = self
                .cache
                .root()
                .join("usage-v1/blobs")
                .join(&key[..2])
                .join(key);
            fs::create_dir_all(marker.parent().unwrap()).unwrap();
            File::create(marker)
                .unwrap()
                .set_modified(SystemTime::now() - age)
                .unwrap();
        }

        fn gc(&self, options: GcOptions) -> GcReport {
            gc(&self.cache, &options, || {
                panic!("nobody holds the cache lock")
            })
            .unwrap()
        }

        fn cached(&self) -> Vec<Sha256Digest> {
            let mut blobs = self.cache.blobs();
            blobs.sort();
            blobs
        }

        /// Every file of the cache but lock files, which gc leaves alone.
        fn files(&self) -> Vec<PathBuf> {
            fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
                for e in fs::read_dir(dir).unwrap().flatten() {
                    if e.path().is_dir() {
                        walk(&e.path(), out);
                    } else if !e.path().to_string_lossy().contains("locks-v1") {
                        out.push(e.path());
                    }
                }
            }
            let mut out = Vec::new();
            walk(self.cache.root(), &mut out);
            out.sort();
            out
        }
    }

    fn removed(report: &GcReport) -> Vec<Sha256Digest> {
        report.removed.iter().map(|r| r.sha256).collect()
    }

    #[test]
    fn only_unreferenced_blobs_go_and_a_dry_run_changes_nothing() {
        let f = Fixture::new();
        let kept = f.blob(b"kept");
        let unused = f.blob(b"unused");
        f.lockfile("project", &[kept]);
        f.age(&unused, DAY);
        fs::write(f.cache.root().join("tmp-v1/stray.tmp"), b"junk").unwrap();
        let before = f.files();

        let dry = f.gc(GcOptions {
            dry_run: true,
            ..GcOptions::default()
        });
        assert_eq!(removed(&dry), [unused]);
        assert_eq!((dry.kept, dry.temp_files, dry.freed_bytes), (1, 1, 6 + 4));
        assert_eq!(f.files(), before, "a dry run changes nothing");

        let report = f.gc(GcOptions::default());
        assert_eq!(removed(&report), [unused]);
        assert_eq!((report.kept, report.kept_bytes), (1, 4));
        assert_eq!(f.cached(), [kept]);
        // The blob's stamp, provenance and marker went with it; nothing else of it is left.
        let key = &unused.to_hex()[..32];
        let leftovers: Vec<_> = f
            .files()
            .into_iter()
            .filter(|p| p.to_string_lossy().contains(key))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert!(f.cache.temp_files().is_empty());
        assert_eq!(f.cache.served_by(&kept).len(), 1);
    }

    #[test]
    fn all_removes_referenced_blobs_too() {
        let f = Fixture::new();
        let a = f.blob(b"a");
        f.lockfile("project", &[a]);
        let report = f.gc(GcOptions {
            all: true,
            ..GcOptions::default()
        });
        assert_eq!(removed(&report), [a]);
        assert!(f.cached().is_empty());
    }

    #[test]
    fn a_deleted_lockfile_is_forgotten_and_protects_nothing() {
        let f = Fixture::new();
        let (shared, gone) = (f.blob(b"shared"), f.blob(b"gone"));
        f.lockfile("kept", &[shared]);
        let deleted = f.lockfile("deleted", &[shared, gone]);
        fs::remove_file(&deleted).unwrap();

        let dry = f.gc(GcOptions {
            dry_run: true,
            ..GcOptions::default()
        });
        assert_eq!(dry.forgotten_lockfiles, std::slice::from_ref(&deleted));
        assert_eq!(usage::known_lockfiles(&f.cache).len(), 2, "dry run");

        let report = f.gc(GcOptions::default());
        assert_eq!(report.forgotten_lockfiles, [deleted]);
        assert_eq!(removed(&report), [gone]);
        assert_eq!(f.cached(), [shared]);
        assert_eq!(usage::known_lockfiles(&f.cache).len(), 1);
    }

    #[test]
    fn a_lockfile_that_does_not_parse_keeps_every_hash_in_its_text() {
        let f = Fixture::new();
        let (a, b) = (f.blob(b"a"), f.blob(b"b"));
        let path = f.lockfile("project", &[a]);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("version = 1", "version = 9")).unwrap();
        let report = f.gc(GcOptions::default());
        assert_eq!(removed(&report), [b]);
        assert_eq!(report.unreadable_lockfiles.len(), 1);
        assert_eq!(report.unreadable_lockfiles[0].hashes_kept, 1);
        assert!(report.warnings()[0].contains("models.lock"));
        assert_eq!(f.cached(), [a]);
    }

    #[test]
    fn older_than_then_max_size_remove_least_recently_used_first() {
        let f = Fixture::new();
        let old = f.blob(&[1; 100]);
        let stale = f.blob(&[2; 200]);
        let recent = f.blob(&[3; 300]);
        let pinned = f.blob(&[4; 50]);
        f.lockfile("project", &[pinned]);
        f.age(&old, 40 * DAY);
        f.age(&stale, 10 * DAY);
        f.age(&recent, DAY);
        f.age(&pinned, 90 * DAY);

        let thirty_days = f.gc(GcOptions {
            older_than: Some(30 * DAY),
            dry_run: true,
            ..GcOptions::default()
        });
        assert_eq!(removed(&thirty_days), [old]);

        // 650 bytes; at most 400: `old`, then `stale` (older), not `recent` (bigger).
        let report = f.gc(GcOptions {
            max_size: Some(400),
            ..GcOptions::default()
        });
        assert_eq!(removed(&report), [old, stale]);
        assert_eq!((report.kept_bytes, report.over_max_size), (350, None));
        let mut left = vec![recent, pinned];
        left.sort();
        assert_eq!(f.cached(), left);

        // Referenced blobs are never removed to meet the size: all the others go, and it says so.
        let report = f.gc(GcOptions {
            max_size: Some(10),
            older_than: Some(30 * DAY),
            ..GcOptions::default()
        });
        assert_eq!(removed(&report), [recent]);
        assert_eq!(report.over_max_size, Some(10));
        assert_eq!(f.cached(), [pinned]);
    }

    #[test]
    fn a_blob_locked_by_another_process_is_kept() {
        let f = Fixture::new();
        let a = f.blob(b"a");
        let _held = f.cache.lock(&a, None, || {}).unwrap();
        let report = f.gc(GcOptions::default());
        assert_eq!(
            (report.removed.len(), report.busy.as_slice()),
            (0, &[a][..])
        );
        assert_eq!(f.cached(), [a]);
    }

    #[test]
    fn due_count_picks_a_least_recently_used_prefix() {
        let now = SystemTime::now();
        let c = [(now - 5 * DAY, 10), (now - 3 * DAY, 20), (now - DAY, 30)];
        let opts = |max_size, older_than| GcOptions {
            max_size,
            older_than,
            ..GcOptions::default()
        };
        assert_eq!(due_count(&c, 100, &opts(None, None), now), 3);
        assert_eq!(due_count(&c, 100, &opts(None, Some(2 * DAY)), now), 2);
        assert_eq!(due_count(&c, 100, &opts(None, Some(DAY * 9000)), now), 0);
        assert_eq!(due_count(&c, 100, &opts(Some(100), None), now), 0);
        assert_eq!(due_count(&c, 100, &opts(Some(80), None), now), 2);
        assert_eq!(due_count(&c, 100, &opts(Some(0), Some(4 * DAY)), now), 3);
    }

    #[test]
    fn renders_one_line_per_blob_and_a_summary() {
        let now = SystemTime::now();
        let digest: Sha256Digest =
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                .parse()
                .unwrap();
        let report = GcReport {
            dry_run: true,
            removed: vec![RemovedBlob {
                sha256: digest,
                size: 17_563_584,
                last_used: unix_secs(now - 45 * DAY),
            }],
            temp_files: 1,
            freed_bytes: 17_563_584 + 1024,
            kept: 2,
            kept_bytes: 2 << 30,
            forgotten_lockfiles: vec![PathBuf::from("/old/models.lock")],
            ..GcReport::default()
        };
        let text: Vec<String> = render(&report, now)
            .into_iter()
            .map(|(verb, msg)| format!("{verb:>12} {msg}"))
            .collect();
        assert_eq!(
            text,
            [
                "Would forget /old/models.lock (no longer exists)",
                "Would remove sha256 9f86d08188  16.7 MiB, last used 45 days ago",
                "Would remove 1 blob and 1 temporary file, 16.8 MiB; kept 2 blobs, 2.0 GiB (dry run)",
            ]
        );
        let done = GcReport {
            dry_run: false,
            temp_files: 0,
            ..report
        };
        assert_eq!(
            render(&done, now).last().unwrap(),
            &(
                "Removed",
                "1 blob, 16.8 MiB; kept 2 blobs, 2.0 GiB".to_string()
            )
        );
    }

    #[test]
    fn ages_are_coarse() {
        assert_eq!(human_age(Duration::from_secs(5)), "less than a minute ago");
        assert_eq!(human_age(Duration::from_secs(60)), "1 minute ago");
        assert_eq!(human_age(Duration::from_secs(7200)), "2 hours ago");
        assert_eq!(human_age(45 * DAY), "45 days ago");
    }

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("20GB"), Ok(20_000_000_000));
        assert_eq!(parse_size("500MiB"), Ok(500 << 20));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("2 kb"), Ok(2000));
        assert_eq!(parse_size("10k"), Ok(10240));
        assert_eq!(parse_size("3B"), Ok(3));
        for bad in ["", "GB", "12XB", "-1", "1.2.3G", "1e9"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ages_parse_with_units() {
        assert_eq!(parse_age("30d"), Ok(30 * DAY));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_age("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_age("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_age("2w"), Ok(14 * DAY));
        for bad in ["", "30", "d", "30y", "-3d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashes_are_found_in_any_text() {
        let hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let text = format!(
            "sha256 = \"{hex}\"\n# {hex}0 is too long\nx = \"{}\"",
            &hex[1..]
        );
        assert_eq!(hashes_in(&text), [hex.parse().unwrap()]);
    }
}
