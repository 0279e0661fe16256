//! cargo-models: pin ML model files in `models.lock` by SHA-256 and size, and fetch them into
//! a shared, locked, content-addressed cache where every byte is verified.
//!
//! For tests, [`model_path`] returns the verified cached file of an entry; for build scripts,
//! [`build::require`] fails `cargo build` with a clear message when a model is missing.

pub mod auth;
pub mod build;
pub mod cache;
pub mod diff;
pub mod discover;
pub mod download;
pub mod edit;
pub mod error;
pub mod formats;
pub mod fs;
pub mod github;
pub mod hash;
pub mod lock;
pub mod lockfile;
pub mod ops;
pub mod report;
pub mod resolve;
pub mod usage;

use std::path::{Path, PathBuf};

pub use cache::Cache;
pub use error::ErrorKind;
pub use hash::Sha256Digest;
pub use lockfile::{LockedModel, Lockfile};

/// Why the library API could not give a model's path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    NoLockfile(#[from] discover::NoLockfile),
    #[error(transparent)]
    Lockfile(#[from] lockfile::LockfileError),
    #[error(transparent)]
    Resolve(#[from] resolve::ResolveError),
    #[error(transparent)]
    NoCacheDir(#[from] discover::NoCacheDir),
    #[error(transparent)]
    Cache(#[from] cache::CacheError),
    #[error(transparent)]
    Path(#[from] ops::path::PathError),
    #[error(transparent)]
    Fetch(Box<ops::fetch::FetchError>),
    #[error(transparent)]
    Edit(#[from] edit::EditError),
    #[error(transparent)]
    Diff(#[from] ops::diff::DiffError),
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    #[error(transparent)]
    Inspect(#[from] ops::inspect::InspectError),
    #[error(
        "`{name}` is already {} in `{}` (line {line}); choose another name with --name, or use `cargo models update {owner}`",
        if name == owner { "a model".to_string() } else { format!("an alias of model `{owner}`") },
        lockfile.display()
    )]
    NameTaken {
        name: String,
        owner: String,
        lockfile: std::path::PathBuf,
        line: usize,
    },
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    /// Writing the build script's directives failed.
    #[error("{0}")]
    Output(String),
}

impl From<ops::fetch::FetchError> for Error {
    fn from(e: ops::fetch::FetchError) -> Self {
        Error::Fetch(Box::new(e))
    }
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoLockfile(_) | Error::Lockfile(lockfile::LockfileError::Invalid { .. }) => {
                ErrorKind::Input
            }
            Error::Resolve(_) | Error::NoCacheDir(_) => ErrorKind::Input,
            Error::Lockfile(_) | Error::Cache(_) | Error::Lock(_) => ErrorKind::Transfer,
            Error::Path(e) => e.kind(),
            Error::Diff(e) => e.kind(),
            Error::Inspect(e) => e.kind(),
            Error::Fetch(e) => e.kind(),
            Error::Output(_) | Error::Usage(_) | Error::NameTaken { .. } => ErrorKind::Input,
            Error::Edit(edit::EditError::Read { .. } | edit::EditError::Write { .. }) => {
                ErrorKind::Transfer
            }
            Error::Edit(_) => ErrorKind::Input,
        }
    }
}

/// A lockfile and the cache its models live in.
#[derive(Debug, Clone)]
pub struct Project {
    pub lockfile: Lockfile,
    pub cache: Cache,
}

impl Project {
    /// Finds `models.lock` from `CARGO_MANIFEST_DIR` (set by cargo for tests and build
    /// scripts) or the current folder upwards, and opens the cache named by
    /// `CARGO_MODELS_CACHE`, else the per-user cache.
    pub fn from_env() -> Result<Project, Error> {
        let start = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        let cache = discover::cache_dir(std::env::var_os("CARGO_MODELS_CACHE").map(PathBuf::from))?;
        Project::open(&discover::require_lockfile(&start)?, &cache)
    }

    /// Opens the lockfile at `lockfile` and the cache at `cache_dir`.
    pub fn open(lockfile: &Path, cache_dir: &Path) -> Result<Project, Error> {
        Ok(Project {
            lockfile: Lockfile::load(lockfile)?,
            cache: Cache::open(cache_dir)?,
        })
    }

    /// The verified cached file of the entry `name`; never downloads.
    pub fn model_path(&self, name: &str) -> Result<PathBuf, Error> {
        let model = self.lockfile.select(&[name.to_string()])?[0];
        let _shared = self.cache.lock_shared(|| {})?;
        let path = ops::path::verified_path(model, &self.cache, None)?;
        usage::record_use(&self.cache, &self.lockfile.path, [&model.sha256]);
        Ok(path)
    }
}

/// The verified cached file of the `models.lock` entry `name`, for tests:
///
/// ```no_run
/// let weights = cargo_models::model_path("tiny-bert").unwrap();
/// ```
///
/// Finds the lockfile from `CARGO_MANIFEST_DIR` upwards and never downloads: a model that is
/// not fetched is an error telling the user to run `cargo models fetch`.
pub fn model_path(name: &str) -> Result<PathBuf, Error> {
    Project::from_env()?.model_path(name)
}
