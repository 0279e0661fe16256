//! `cargo models verify`: rehash cached blobs in parallel; never downloads.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cache::{Cache, Rehash};
use crate::hash::Sha256Digest;
use crate::lockfile::LockedModel;
use crate::ops::parallel_map;
use crate::report::{Event, Reporter};

/// The state of one entry's cached blob after a full rehash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Verdict {
    Ok {
        size: u64,
    },
    Missing,
    /// The content did not match; the blob was removed from the cache.
    Corrupt {
        actual: Sha256Digest,
        size: u64,
        /// Why, from the header of a safetensors or GGUF file; see [`crate::formats::diagnose`].
        #[serde(skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// `--fast`: the size or the header's structure is not what `models.lock` pins; the blob
    /// is left alone for a full `verify` to rehash.
    Mismatch {
        message: String,
    },
    /// The blob could not be read or locked.
    Failed {
        message: String,
    },
}

impl Verdict {
    pub fn is_ok(&self) -> bool {
        matches!(self, Verdict::Ok { .. })
    }
}

/// Rehashes the blobs of `models` with `jobs` threads.
pub fn verify(
    models: &[&LockedModel],
    cache: &Cache,
    jobs: usize,
    lock_timeout: Option<Duration>,
    reporter: &dyn Reporter,
) -> Vec<(String, Verdict)> {
    let _shared = crate::ops::hold_cache(cache, reporter);
    check_all(models, jobs, reporter, |model| {
        verify_one(model, cache, lock_timeout, reporter)
    })
}

/// `verify --fast`: checks each blob's size, and for safetensors and GGUF files its header
/// (the size it declares, and the pinned `fingerprint`), without hashing the weights. A quick
/// check for truncation and swapped files, not a replacement for the SHA-256.
pub fn verify_fast(
    models: &[&LockedModel],
    cache: &Cache,
    jobs: usize,
    reporter: &dyn Reporter,
) -> Vec<(String, Verdict)> {
    let _shared = crate::ops::hold_cache(cache, reporter);
    check_all(models, jobs, reporter, |model| fast_one(model, cache))
}

fn check_all(
    models: &[&LockedModel],
    jobs: usize,
    reporter: &dyn Reporter,
    check: impl Fn(&LockedModel) -> Verdict + Sync,
) -> Vec<(String, Verdict)> {
    let start = Instant::now();
    let results = parallel_map(models, jobs, |model| {
        let verdict = check(model);
        reporter.event(&Event::Verified {
            name: &model.name,
            sha256: &model.sha256,
            verdict: &verdict,
        });
        (model.name.clone(), verdict)
    });
    reporter.event(&Event::Finished {
        command: "verify",
        models: models.len(),
        failed: results.iter().filter(|(_, v)| !v.is_ok()).count(),
        downloaded: 0,
        downloaded_bytes: 0,
        seconds: start.elapsed().as_secs_f64(),
    });
    results
}

fn fast_one(model: &LockedModel, cache: &Cache) -> Verdict {
    let Some(size) = cache.blob_size(&model.sha256) else {
        return Verdict::Missing;
    };
    let header = crate::formats::read_header(&cache.blob_path(&model.sha256));
    if let Err(crate::formats::FormatError::Io { source, .. }) = &header {
        return Verdict::Failed {
            message: source.to_string(),
        };
    }
    let fingerprint_differs = match (&header, &model.fingerprint) {
        (_, None) => false,
        (Ok(Some(h)), Some(f)) => h.fingerprint() != *f,
        (_, Some(_)) => true,
    };
    let damaged = match &header {
        Ok(Some(h)) => !h.size_matches(size),
        Ok(None) => false,
        Err(_) => true,
    };
    let size_differs = model.size.is_some_and(|s| s != size);
    if !(fingerprint_differs || damaged || size_differs) {
        return Verdict::Ok { size };
    }
    let mut message = match model.size {
        Some(pinned) if pinned != size => {
            format!("the cached file is {size} bytes, `models.lock` pins {pinned}")
        }
        _ => format!("the cached file ({size} bytes) is not the pinned one"),
    };
    if let Some(cause) =
        crate::formats::diagnose(&header, size, model.size, model.fingerprint.as_ref())
    {
        message.push_str("; ");
        message.push_str(&cause);
    }
    Verdict::Mismatch { message }
}

fn verify_one(
    model: &LockedModel,
    cache: &Cache,
    lock_timeout: Option<Duration>,
    reporter: &dyn Reporter,
) -> Verdict {
    let failed = |e: &dyn std::fmt::Display| Verdict::Failed {
        message: e.to_string(),
    };
    if cache.blob_size(&model.sha256).is_none() {
        return Verdict::Missing;
    }
    let lock = match cache.lock(&model.sha256, lock_timeout, || {
        reporter.event(&Event::Waiting { name: &model.name })
    }) {
        Ok(l) => l,
        Err(e) => return failed(&e),
    };
    // Read before the rehash, which removes a corrupt blob: microseconds next to the hashing.
    let header = crate::formats::read_header(&cache.blob_path(&model.sha256));
    match cache.rehash(&model.sha256, &lock) {
        Ok(Rehash::Ok { size }) => Verdict::Ok { size },
        Ok(Rehash::Missing) => Verdict::Missing,
        Ok(Rehash::Corrupt { actual, size }) => Verdict::Corrupt {
            actual,
            size,
            cause: crate::formats::diagnose(&header, size, model.size, model.fingerprint.as_ref()),
        },
        Err(e) => failed(&e),
    }
}
