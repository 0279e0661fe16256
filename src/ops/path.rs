//! `cargo models path`: the verified cached file of one entry, without downloading.

use std::path::PathBuf;
use std::time::Duration;

use crate::cache::{BlobState, Cache, Rehash};
use crate::error::ErrorKind;
use crate::hash::Sha256Digest;
use crate::lockfile::LockedModel;

/// Why there is no verified file for an entry.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("model `{name}` is not fetched; run `cargo models fetch`")]
    NotFetched { name: String },
    #[error(
        "model `{name}` was corrupt in the cache (expected sha256 {expected}, found {actual}); it was removed: run `cargo models fetch`"
    )]
    Corrupt {
        name: String,
        expected: Sha256Digest,
        actual: Sha256Digest,
    },
    #[error(
        "`models.lock` pins `{name}` at {pinned} bytes, but the cached content with its sha256 is {actual} bytes; correct `size`"
    )]
    PinnedSize {
        name: String,
        pinned: u64,
        actual: u64,
    },
    #[error("could not check model `{name}` in the cache: {message}")]
    Cache { name: String, message: String },
}

impl PathError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            PathError::Cache { .. } => ErrorKind::Transfer,
            _ => ErrorKind::Integrity,
        }
    }
}

/// The path of `model`'s verified blob. A blob whose stamp is stale is rehashed first (and
/// removed if corrupt); nothing is downloaded.
pub fn verified_path(
    model: &LockedModel,
    cache: &Cache,
    lock_timeout: Option<Duration>,
) -> Result<PathBuf, PathError> {
    let name = || model.name.clone();
    let digest = &model.sha256;
    let cache_err = |e: &dyn std::fmt::Display| PathError::Cache {
        name: name(),
        message: e.to_string(),
    };
    match cache.state(digest) {
        BlobState::Fresh => {}
        BlobState::Missing => return Err(PathError::NotFetched { name: name() }),
        BlobState::Unstamped => {
            let lock = cache
                .lock(digest, lock_timeout, || {})
                .map_err(|e| cache_err(&e))?;
            match cache.rehash(digest, &lock).map_err(|e| cache_err(&e))? {
                Rehash::Ok { .. } => {}
                Rehash::Missing => return Err(PathError::NotFetched { name: name() }),
                Rehash::Corrupt { actual, .. } => {
                    return Err(PathError::Corrupt {
                        name: name(),
                        expected: *digest,
                        actual,
                    });
                }
            }
        }
    }
    let actual = cache.blob_size(digest).unwrap_or(0);
    if let Some(pinned) = model.size
        && pinned != actual
    {
        return Err(PathError::PinnedSize {
            name: name(),
            pinned,
            actual,
        });
    }
    Ok(cache.blob_path(digest))
}
