//! `cargo models remove`: drop entries from `models.lock` (their blobs stay in the cache until
//! `gc`).

use std::path::Path;

use crate::Error;
use crate::cache::Cache;
use crate::edit::{LockMode, LockfileEdit};
use crate::lockfile::Lockfile;

/// Removes the entries that `queries` name; returns their names.
pub fn remove(
    lockfile_path: &Path,
    queries: &[String],
    cache: &Cache,
    mode: LockMode,
) -> Result<Vec<String>, Error> {
    if queries.is_empty() {
        return Err(Error::Usage("name at least one model to remove".into()));
    }
    let names: Vec<String> = Lockfile::load(lockfile_path)?
        .select(queries)?
        .iter()
        .map(|m| m.name.clone())
        .collect();
    mode.allow(lockfile_path, || {
        let ticked: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!("removing {}", ticked.join(", "))
    })?;
    let _guard = cache.lock_lockfile(lockfile_path)?;
    let mut edit = LockfileEdit::open(lockfile_path)?;
    for name in &names {
        edit.remove(name);
    }
    edit.save()?;
    Ok(names)
}
