//! Exclusive file locks, one per blob, through std's `File::lock`.
//!
//! Locks are advisory OS locks on a small lock file that is never deleted (deleting a lock file
//! while another process waits on it would let two processes "hold" it). The OS releases them
//! when the holder exits, including on `kill -9`, so a crash never leaves a stuck lock.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An exclusive lock on one cache blob, held from the second cache check through download,
/// verification and the rename into place. Released on drop.
#[derive(Debug)]
pub struct BlobLock {
    _file: File,
}

/// A lock that could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("could not open lock file `{}`: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error(
        "timed out after {}s waiting for the lock `{}`; another process is still downloading it \
         (raise CARGO_MODELS_LOCK_TIMEOUT, or find the process holding the lock)",
        waited.as_secs(), path.display()
    )]
    Timeout { path: PathBuf, waited: Duration },
}

impl BlobLock {
    /// Takes the lock at `path` if it is free; `None` if another holder has it.
    pub fn try_acquire(path: &Path) -> Result<Option<BlobLock>, LockError> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(BlobLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(source)) => Err(LockError::Open {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Takes the lock at `path`. If another process holds it, calls `on_wait` once (to say who
    /// waits for what) and then blocks, up to `timeout` when one is given.
    pub fn acquire(
        path: &Path,
        timeout: Option<Duration>,
        on_wait: impl FnOnce(),
    ) -> Result<BlobLock, LockError> {
        let open_err = |source| LockError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => return Ok(BlobLock { _file: file }),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(open_err(e)),
        }
        on_wait();
        let Some(timeout) = timeout else {
            file.lock().map_err(open_err)?;
            return Ok(BlobLock { _file: file });
        };
        let start = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(BlobLock { _file: file }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => return Err(open_err(e)),
            }
            if start.elapsed() >= timeout {
                return Err(LockError::Timeout {
                    path: path.to_path_buf(),
                    waited: start.elapsed(),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(250));
        }
    }
}

/// The lock of a whole cache: held shared by every command that reads or writes blobs (so
/// `fetch`es run side by side), and exclusive by `gc`, so that no command sees a blob vanish
/// while it uses it. Released on drop or process death.
#[derive(Debug)]
pub struct CacheLock {
    _file: File,
}

impl CacheLock {
    /// Takes the lock in shared mode; `on_wait` is called once if `gc` holds it.
    pub fn shared(path: &Path, on_wait: impl FnOnce()) -> Result<CacheLock, LockError> {
        Self::take(path, true, on_wait)
    }

    /// Takes the lock in exclusive mode; `on_wait` is called once if any command holds it.
    pub fn exclusive(path: &Path, on_wait: impl FnOnce()) -> Result<CacheLock, LockError> {
        Self::take(path, false, on_wait)
    }

    fn take(path: &Path, shared: bool, on_wait: impl FnOnce()) -> Result<CacheLock, LockError> {
        let file = open(path)?;
        let err = |source| LockError::Open {
            path: path.to_path_buf(),
            source,
        };
        let attempt = if shared {
            file.try_lock_shared()
        } else {
            file.try_lock()
        };
        match attempt {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                on_wait();
                if shared {
                    file.lock_shared()
                } else {
                    file.lock()
                }
                .map_err(err)?;
            }
            Err(TryLockError::Error(e)) => return Err(err(e)),
        }
        Ok(CacheLock { _file: file })
    }
}

fn open(path: &Path) -> Result<File, LockError> {
    let open_err = |source| LockError::Open {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(open_err)?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(open_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_waits_then_times_out() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.lock");
        let held = BlobLock::acquire(&p, None, || panic!("free lock must not wait")).unwrap();
        let mut waited = false;
        let err = BlobLock::acquire(&p, Some(Duration::from_millis(50)), || waited = true);
        assert!(waited);
        assert!(matches!(err, Err(LockError::Timeout { .. })));
        drop(held);
        BlobLock::acquire(&p, Some(Duration::ZERO), || {
            panic!("released lock must be free")
        })
        .unwrap();
    }
}
