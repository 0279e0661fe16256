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
    let start = Instant::now();
    let results = parallel_map(models, jobs, |model| {
        let verdict = verify_one(model, cache, lock_timeout, reporter);
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
    match cache.rehash(&model.sha256, &lock) {
        Ok(Rehash::Ok { size }) => Verdict::Ok { size },
        Ok(Rehash::Missing) => Verdict::Missing,
        Ok(Rehash::Corrupt { actual, size }) => Verdict::Corrupt { actual, size },
        Err(e) => failed(&e),
    }
}
