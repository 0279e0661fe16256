//! `cargo models update`: download entries again from their URL and re-pin those whose content
//! changed (for URLs that follow a branch, such as Hugging Face's `resolve/main/`).

use std::path::Path;

use serde::Serialize;

use crate::Error;
use crate::cache::Cache;
use crate::edit::{LockMode, LockfileEdit};
use crate::hash::Sha256Digest;
use crate::lockfile::Lockfile;
use crate::ops::fetch::{FetchOptions, fetch_new};
use crate::report::Reporter;

/// One entry after `update`.
#[derive(Debug, Clone, Serialize)]
pub struct Updated {
    pub name: String,
    pub old_sha256: Sha256Digest,
    pub old_size: Option<u64>,
    pub sha256: Sha256Digest,
    pub size: u64,
}

impl Updated {
    pub fn changed(&self) -> bool {
        self.old_sha256 != self.sha256 || self.old_size != Some(self.size)
    }
}

/// Downloads the entries `queries` name (all when empty) from their `url` and re-pins those
/// whose hash or size changed.
pub fn update(
    lockfile_path: &Path,
    queries: &[String],
    cache: &Cache,
    mode: LockMode,
    options: &FetchOptions,
    reporter: &dyn Reporter,
) -> Result<Vec<Updated>, Error> {
    let lockfile = Lockfile::load(lockfile_path)?;
    let mut results = Vec::new();
    for model in lockfile.select(queries)? {
        let (sha256, size) = fetch_new(
            &model.name,
            std::slice::from_ref(&model.url),
            cache,
            options,
            reporter,
        )?;
        results.push(Updated {
            name: model.name.clone(),
            old_sha256: model.sha256,
            old_size: model.size,
            sha256,
            size,
        });
    }
    crate::usage::record_use(cache, &lockfile.path, results.iter().map(|u| &u.sha256));
    let changed: Vec<&Updated> = results.iter().filter(|u| u.changed()).collect();
    if changed.is_empty() {
        return Ok(results);
    }
    mode.allow(lockfile_path, || {
        let ticked: Vec<String> = changed.iter().map(|u| format!("`{}`", u.name)).collect();
        format!("updating {}", ticked.join(", "))
    })?;
    let _guard = cache.lock_lockfile(lockfile_path)?;
    // Re-read under the lock: an entry edited meanwhile is not overwritten with a stale pin.
    let current = Lockfile::load(lockfile_path)?;
    let mut edit = LockfileEdit::open(lockfile_path)?;
    for u in &changed {
        let unchanged = current.get(&u.name).is_some_and(|m| {
            m.sha256 == u.old_sha256 && lockfile.get(&u.name).is_some_and(|o| o.url == m.url)
        });
        if !unchanged {
            return Err(Error::Usage(format!(
                "`{}` changed in `{}` while it was being updated; run `cargo models update {}` again",
                u.name,
                lockfile_path.display(),
                u.name
            )));
        }
        edit.set_pin(&u.name, &u.sha256, u.size);
        let fingerprint = crate::ops::add::fingerprint(cache, &u.sha256, &u.name, reporter);
        edit.set_fingerprint(&u.name, fingerprint.as_ref());
    }
    edit.save()?;
    Ok(results)
}

/// Writes the `size` of entries that were fetched without one (hand-written lockfiles), as
/// tools always pin it.
pub fn pin_sizes(
    lockfile_path: &Path,
    cache: &Cache,
    sizes: &[(String, Sha256Digest, u64)],
) -> Result<(), Error> {
    if sizes.is_empty() {
        return Ok(());
    }
    let _guard = cache.lock_lockfile(lockfile_path)?;
    let mut edit = LockfileEdit::open(lockfile_path)?;
    let current = Lockfile::load(lockfile_path)?;
    for (name, sha256, size) in sizes {
        // Only if the entry still pins the same content and still has no size.
        if current
            .get(name)
            .is_some_and(|m| m.sha256 == *sha256 && m.size.is_none())
        {
            edit.set_pin(name, sha256, *size);
        }
    }
    edit.save()?;
    Ok(())
}
