//! `cargo models fetch`: make every selected entry's verified file present in the cache, and
//! linked at its `path`.
//!
//! Per entry: check the cache (stamp) → lock the blob → check again → download from `url`, then
//! each mirror, hashing while streaming → compare → commit atomically → unlock → link.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::auth::redact_url;
use crate::cache::{BlobState, Cache, Partial, Rehash, Resume};
use crate::download::{
    Download, DownloadError, DownloadObserver, SourceError, Transport, TransportSettings,
};
use crate::error::ErrorKind;
use crate::fs::{LinkKind, link_atomic, same_file};
use crate::hash::Sha256Digest;
use crate::lock::BlobLock;
use crate::lockfile::{LockedModel, Lockfile};
use crate::ops::parallel_map;
use crate::report::{Event, Ready, Reporter};

/// Settings of one `fetch`, resolved from flags and environment before work starts.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Entries downloaded at once.
    pub jobs: usize,
    /// Never touch the network; entries not in the cache fail.
    pub offline: bool,
    /// Rehash every cached blob instead of trusting its stamp.
    pub full_verify: bool,
    /// Replace files at `path` that cargo-models did not put there.
    pub force: bool,
    /// Longest wait for another process's lock on a blob; `None` waits as long as it takes.
    pub lock_timeout: Option<Duration>,
    /// Before trusting a cached blob for an entry whose `url` has never been seen serving it,
    /// download it from that `url` once (hashing only) to prove it does.
    pub check_sources: bool,
    pub transport: TransportSettings,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            jobs: 4,
            offline: false,
            full_verify: false,
            force: false,
            lock_timeout: None,
            check_sources: false,
            transport: TransportSettings::default(),
        }
    }
}

/// A model that is ready to use.
#[derive(Debug, Clone, Serialize)]
pub struct Fetched {
    pub how: Ready,
    pub size: u64,
    /// The verified blob in the cache.
    pub blob: PathBuf,
    /// Where it was linked, for entries with `path`.
    pub link: Option<(PathBuf, LinkKind)>,
}

/// One source tried for an entry and what it gave.
#[derive(Debug, Clone, Serialize)]
pub struct SourceAttempt {
    pub url: String,
    pub error: SourceError,
}

/// Why an entry could not be made ready.
#[derive(Debug, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FetchError {
    /// Every source failed; at least one gave other bytes (`model hash mismatch`) or none
    /// answered with the file at all.
    #[error("{}", render_sources(name, expected, expected_size, attempts))]
    Sources {
        name: String,
        expected: Sha256Digest,
        expected_size: Option<u64>,
        attempts: Vec<SourceAttempt>,
    },
    /// A file whose hash is not known yet (`add`, `update`) could not be downloaded from any
    /// of its sources.
    #[error("could not download `{name}`{}", render_attempts(attempts))]
    Download {
        name: String,
        attempts: Vec<SourceAttempt>,
    },
    /// The cache has the pinned file, but the entry's `url` was checked and serves other bytes
    /// (or could not be checked).
    #[error("{0}")]
    SourceUnproven(Box<Unproven>),
    #[error(
        "`{name}` (sha256 {}) is not in the cache and the network is off (--offline or CARGO_NET_OFFLINE=true); run `cargo models fetch` with network access",
        sha256.short()
    )]
    Offline { name: String, sha256: Sha256Digest },
    #[error(
        "`models.lock` pins `{name}` at {pinned} bytes, but the content with sha256 {sha256} is {actual} bytes; correct `size`"
    )]
    PinnedSize {
        name: String,
        sha256: Sha256Digest,
        pinned: u64,
        actual: u64,
    },
    #[error(
        "`{}` exists and was not placed by cargo-models, so `{name}` was not linked there; move it away or pass --force to replace it",
        path.display()
    )]
    LinkConflict { name: String, path: PathBuf },
    #[error("`{name}`: {message}")]
    Local { name: String, message: String },
}

impl FetchError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::Sources { attempts, .. } => {
                if attempts.iter().any(|a| a.error.is_integrity()) {
                    ErrorKind::Integrity
                } else {
                    ErrorKind::Transfer
                }
            }
            FetchError::SourceUnproven(u) => {
                if u.error.is_integrity() {
                    ErrorKind::Integrity
                } else {
                    ErrorKind::Transfer
                }
            }
            FetchError::Offline { .. } | FetchError::PinnedSize { .. } => ErrorKind::Integrity,
            FetchError::LinkConflict { .. } => ErrorKind::Input,
            FetchError::Local { .. } | FetchError::Download { .. } => ErrorKind::Transfer,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            FetchError::SourceUnproven(u) => &u.name,
            FetchError::Sources { name, .. }
            | FetchError::Download { name, .. }
            | FetchError::Offline { name, .. }
            | FetchError::PinnedSize { name, .. }
            | FetchError::LinkConflict { name, .. }
            | FetchError::Local { name, .. } => name,
        }
    }

    /// A short phrase for summaries.
    pub fn summary(&self) -> &'static str {
        match self {
            FetchError::Sources { .. } if self.kind() == ErrorKind::Integrity => {
                "model hash mismatch"
            }
            FetchError::Sources { .. } | FetchError::Download { .. } => "download failed",
            FetchError::SourceUnproven { .. } if self.kind() == ErrorKind::Integrity => {
                "`url` serves other bytes"
            }
            FetchError::SourceUnproven { .. } => "`url` could not be checked",
            FetchError::Offline { .. } => "not cached (offline)",
            FetchError::PinnedSize { .. } => "size differs from `size`",
            FetchError::LinkConflict { .. } => "`path` is taken",
            FetchError::Local { .. } => "local I/O error",
        }
    }
}

fn render_attempts(attempts: &[SourceAttempt]) -> String {
    attempts
        .iter()
        .map(|a| format!("\n  url:      {}\n  error:    {}", a.url, a.error))
        .collect()
}

fn render_sources(
    name: &str,
    expected: &Sha256Digest,
    expected_size: &Option<u64>,
    attempts: &[SourceAttempt],
) -> String {
    let integrity = attempts.iter().any(|a| a.error.is_integrity());
    let mut s = String::new();
    let title = if integrity {
        "model hash mismatch for"
    } else {
        "could not download"
    };
    let _ = fmt::write(&mut s, format_args!("{title} `{name}`"));
    let expected_line = format!(
        "  expected: sha256 {expected}  {}",
        expected_size.map_or("(size not pinned)".to_string(), |n| format!("{n} bytes"))
    );
    let cause = |e: &SourceError| match e {
        SourceError::Mismatch { cause: Some(c), .. } => format!("\n  cause:    {c}"),
        _ => String::new(),
    };
    if let [only] = attempts {
        s.push_str(&format!("\n  url:      {}\n{expected_line}", only.url));
        s.push_str(&format!(
            "\n  actual:   {}{}",
            only.error,
            cause(&only.error)
        ));
    } else {
        s.push_str(&format!("\n{expected_line}"));
        for (i, a) in attempts.iter().enumerate() {
            let label = if i == 0 { "url:     " } else { "mirror:  " };
            s.push_str(&format!(
                "\n  {label} {}\n  actual:   {}{}",
                a.url,
                a.error,
                cause(&a.error)
            ));
        }
    }
    if integrity {
        s.push_str("\n  the file was not cached; nothing under that hash was changed");
    }
    s
}

/// Why the bytes a source gave are not the pinned file, from their header (the downloaded
/// `file` is read from its start, then left at its end).
fn mismatch_cause(file: &mut std::fs::File, size: u64, model: &LockedModel) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    let header = crate::formats::read_header_from(&mut *file);
    let _ = file.seek(SeekFrom::End(0));
    crate::formats::diagnose(&header, size, model.size, model.fingerprint.as_ref())
}

/// An entry's `url` that was downloaded to prove it serves the cached file, and did not.
#[derive(Debug, Serialize)]
pub struct Unproven {
    pub name: String,
    pub url: String,
    pub expected: Sha256Digest,
    pub expected_size: Option<u64>,
    pub error: SourceError,
    /// A URL that did serve the cached file, if one is known.
    pub cached_from: Option<String>,
}

impl fmt::Display for Unproven {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let integrity = self.error.is_integrity();
        if integrity {
            write!(
                f,
                "model hash mismatch for `{}`: its `url` does not serve the pinned file",
                self.name
            )?;
        } else {
            write!(
                f,
                "could not check that the `url` of `{}` serves the pinned file",
                self.name
            )?;
        }
        let from = self
            .cached_from
            .as_ref()
            .map(|u| format!(" (it came from {u})"))
            .unwrap_or_default();
        write!(
            f,
            "\n  url:      {}\n  expected: sha256 {}  {}\n  actual:   {}\n  the cached file{from} was kept; fix `url` or `sha256` in `models.lock`{}",
            self.url,
            self.expected,
            self.expected_size
                .map_or("(size not pinned)".to_string(), |n| format!("{n} bytes")),
            self.error,
            if integrity {
                ""
            } else {
                ", or pass --no-check-sources to skip this check"
            }
        )
    }
}

/// The outcome of `fetch` for each selected entry, in lockfile order.
#[derive(Debug)]
pub struct FetchReport {
    pub results: Vec<(String, Result<Fetched, FetchError>)>,
}

impl FetchReport {
    pub fn failures(&self) -> impl Iterator<Item = &FetchError> {
        self.results.iter().filter_map(|(_, r)| r.as_ref().err())
    }
}

struct Context<'a> {
    lockfile: &'a Lockfile,
    cache: &'a Cache,
    options: &'a FetchOptions,
    reporter: &'a dyn Reporter,
    transport: OnceLock<Result<Transport, String>>,
    warned_hosts: Mutex<HashSet<String>>,
}

/// Fetches `models` (entries of `lockfile`) into `cache`.
pub fn fetch(
    lockfile: &Lockfile,
    models: &[&LockedModel],
    cache: &Cache,
    options: &FetchOptions,
    reporter: &dyn Reporter,
) -> FetchReport {
    let start = Instant::now();
    let ctx = Context {
        lockfile,
        cache,
        options,
        reporter,
        transport: OnceLock::new(),
        warned_hosts: Mutex::new(HashSet::new()),
    };
    let _shared = crate::ops::hold_cache(cache, reporter);
    cache.clean_stale_temps();
    let states: Vec<BlobState> = models.iter().map(|m| cache.state(&m.sha256)).collect();
    let cached = states
        .iter()
        .filter(|s| **s == BlobState::Fresh && !options.full_verify)
        .count();
    let bytes = models
        .iter()
        .zip(&states)
        .filter(|(_, s)| **s == BlobState::Missing)
        .map(|(m, _)| m.size.unwrap_or(0))
        .sum();
    reporter.event(&Event::Plan {
        models: models.len(),
        cached,
        to_fetch: states.iter().filter(|s| **s == BlobState::Missing).count(),
        bytes,
    });
    let work: Vec<(&LockedModel, BlobState)> = models.iter().copied().zip(states).collect();
    // A full verify is hashing-bound: use every core for it, however few downloads run at once.
    let workers = if options.full_verify {
        options.jobs.max(crate::ops::default_hash_jobs())
    } else {
        options.jobs
    };
    let results = parallel_map(&work, workers, |(model, state)| {
        let started = Instant::now();
        let result = ctx.fetch_one(model, *state);
        match &result {
            Ok(f) => reporter.event(&Event::ModelReady {
                name: &model.name,
                sha256: &model.sha256,
                size: f.size,
                how: f.how,
                seconds: started.elapsed().as_secs_f64(),
                path: &f.blob,
                link: f.link.as_ref().map(|(p, _)| p.as_path()),
            }),
            Err(error) => reporter.event(&Event::ModelFailed {
                name: &model.name,
                error,
            }),
        }
        (model.name.clone(), result)
    });
    let report = FetchReport { results };
    let ready = models
        .iter()
        .zip(&report.results)
        .filter(|(_, (_, r))| r.is_ok())
        .map(|(m, _)| &m.sha256);
    crate::usage::record_use(cache, &lockfile.path, ready);
    let downloaded: Vec<&Fetched> = report
        .results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .filter(|f| f.how == Ready::Downloaded)
        .collect();
    reporter.event(&Event::Finished {
        command: "fetch",
        models: models.len(),
        failed: report.failures().count(),
        downloaded: downloaded.len(),
        downloaded_bytes: downloaded.iter().map(|f| f.size).sum(),
        seconds: start.elapsed().as_secs_f64(),
    });
    report
}

/// Downloads a file whose hash is not known yet (for `add` and `update`) from `sources`, in
/// order, hashing it in the same pass, and puts it into the cache (or finds it already there).
/// Returns its digest and size.
pub fn fetch_new(
    name: &str,
    sources: &[url::Url],
    cache: &Cache,
    options: &FetchOptions,
    reporter: &dyn Reporter,
) -> Result<(Sha256Digest, u64), FetchError> {
    let local = |message: String| FetchError::Local {
        name: name.to_string(),
        message,
    };
    if options.offline {
        return Err(local(
            "downloading is needed to learn its hash, but the network is off (--offline or --frozen)".into(),
        ));
    }
    let _shared = crate::ops::hold_cache(cache, reporter);
    let transport = Transport::new(options.transport.clone()).map_err(|e| local(e.to_string()))?;
    let mut attempts = Vec::new();
    for url in sources {
        let started = Instant::now();
        let mut temp = cache.temp_file().map_err(|e| local(e.to_string()))?;
        let mut download = Download::to_file(temp.as_file_mut())
            .map_err(|e| local(format!("could not write the download: {e}")))?;
        let shown = redact_url(url);
        let observer = Observer {
            reporter,
            name,
            url: &shown,
            on_validator: &|_| {},
        };
        let (digest, size) = match transport.download(url, None, &mut download, &observer) {
            Ok(done) => done,
            Err(DownloadError::Source(error)) => {
                attempts.push(SourceAttempt { url: shown, error });
                continue;
            }
            Err(DownloadError::Sink(e)) => {
                return Err(local(format!("could not write the download: {e}")));
            }
        };
        drop(download);
        let lock = cache
            .lock(&digest, options.lock_timeout, || {
                reporter.event(&Event::Waiting { name })
            })
            .map_err(|e| local(e.to_string()))?;
        if cache.state(&digest) != BlobState::Fresh {
            cache
                .commit_temp(temp, &digest, &lock)
                .map_err(|e| local(e.to_string()))?;
        }
        cache
            .record_source(&digest, &redact_url(url), &lock)
            .map_err(|e| local(e.to_string()))?;
        reporter.event(&Event::ModelReady {
            name,
            sha256: &digest,
            size,
            how: Ready::Downloaded,
            seconds: started.elapsed().as_secs_f64(),
            path: &cache.blob_path(&digest),
            link: None,
        });
        return Ok((digest, size));
    }
    Err(FetchError::Download {
        name: name.to_string(),
        attempts,
    })
}

impl Context<'_> {
    fn local(&self, model: &LockedModel) -> impl Fn(String) -> FetchError {
        let name = model.name.clone();
        move |message| FetchError::Local {
            name: name.clone(),
            message,
        }
    }

    fn fetch_one(&self, model: &LockedModel, state: BlobState) -> Result<Fetched, FetchError> {
        let digest = &model.sha256;
        let local = self.local(model);
        let how = if state == BlobState::Fresh && !self.options.full_verify {
            Ready::Cached
        } else if state == BlobState::Missing && self.options.offline {
            return Err(FetchError::Offline {
                name: model.name.clone(),
                sha256: *digest,
            });
        } else {
            let lock = self
                .cache
                .lock(digest, self.options.lock_timeout, || {
                    self.reporter.event(&Event::Waiting { name: &model.name })
                })
                .map_err(|e| local(e.to_string()))?;
            self.under_lock(model, &lock)?
        };
        let blob = self.cache.blob_path(digest);
        let size = self
            .cache
            .blob_size(digest)
            .ok_or_else(|| local(format!("`{}` vanished from the cache", blob.display())))?;
        if let Some(pinned) = model.size
            && pinned != size
        {
            return Err(FetchError::PinnedSize {
                name: model.name.clone(),
                sha256: *digest,
                pinned,
                actual: size,
            });
        }
        if how != Ready::Downloaded {
            self.check_source(model)?;
        }
        let link = match &model.path {
            Some(p) => {
                let dst = self.lockfile.dir().join(p);
                Some((dst.clone(), self.place(model, &blob, &dst)?))
            }
            None => None,
        };
        Ok(Fetched {
            how,
            size,
            blob,
            link,
        })
    }

    /// The second check, and the download, with the blob's lock held.
    fn under_lock(&self, model: &LockedModel, lock: &BlobLock) -> Result<Ready, FetchError> {
        let digest = &model.sha256;
        let local = self.local(model);
        match self.cache.state(digest) {
            BlobState::Fresh if !self.options.full_verify => return Ok(Ready::Cached),
            BlobState::Missing => {}
            BlobState::Fresh | BlobState::Unstamped => {
                match self
                    .cache
                    .rehash(digest, lock)
                    .map_err(|e| local(e.to_string()))?
                {
                    Rehash::Ok { .. } => return Ok(Ready::Rehashed),
                    Rehash::Missing => {}
                    Rehash::Corrupt { actual, size } => self.reporter.event(&Event::Warning {
                        name: Some(&model.name),
                        message: format!(
                            "the cached file was corrupt (sha256 {actual}, {size} bytes); removed it{}",
                            if self.options.offline {
                                ""
                            } else {
                                " and downloading it again"
                            }
                        ),
                    }),
                }
            }
        }
        if self.options.offline {
            return Err(FetchError::Offline {
                name: model.name.clone(),
                sha256: *digest,
            });
        }
        self.download(model, lock)?;
        Ok(Ready::Downloaded)
    }

    fn transport(&self) -> Result<&Transport, String> {
        self.transport
            .get_or_init(|| {
                Transport::new(self.options.transport.clone()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn download(&self, model: &LockedModel, lock: &BlobLock) -> Result<(), FetchError> {
        let local = self.local(model);
        let digest = &model.sha256;
        let (mut partial, mut earlier) = self
            .cache
            .open_partial(digest, lock)
            .map_err(|e| local(e.to_string()))?;
        let mut attempts = Vec::new();
        let sources: Vec<_> = model.sources().collect();
        for (i, url) in sources.iter().enumerate() {
            self.warn_plain_http(model, url);
            let resume = earlier.take().filter(|r| r.url == redact_url(url));
            let resumed = resume.is_some();
            let mut outcome = self.try_source(model, url, &mut partial, resume)?;
            if resumed && outcome.as_ref().is_err_and(SourceError::is_integrity) {
                // The bytes an earlier run left may be what is wrong: start over, once.
                self.reporter.event(&Event::Warning {
                    name: Some(&model.name),
                    message:
                        "the resumed download did not match; downloading it again from the start"
                            .into(),
                });
                outcome = self.try_source(model, url, &mut partial, None)?;
            }
            let error = match outcome {
                Ok(()) => {
                    self.cache
                        .commit_partial(partial, digest, lock)
                        .map_err(|e| local(e.to_string()))?;
                    self.cache
                        .record_source(digest, &redact_url(url), lock)
                        .map_err(|e| local(e.to_string()))?;
                    return Ok(());
                }
                Err(error) => error,
            };
            if i + 1 < sources.len() {
                self.reporter.event(&Event::Warning {
                    name: Some(&model.name),
                    message: format!("{} gave {error}; trying the next source", redact_url(url)),
                });
            }
            attempts.push(SourceAttempt {
                url: redact_url(url),
                error,
            });
        }
        // Keep a partial that a later run can resume; drop one whose bytes are wrong.
        if attempts.last().is_some_and(|a| a.error.is_integrity()) {
            self.cache.discard_partial(partial);
        }
        Err(FetchError::Sources {
            name: model.name.clone(),
            expected: model.sha256,
            expected_size: model.size,
            attempts,
        })
    }

    /// Downloads from one source into the partial file, resuming an earlier run's bytes when
    /// given. The outer error is local (disk); the inner one is what the source gave.
    fn try_source(
        &self,
        model: &LockedModel,
        url: &url::Url,
        partial: &mut Partial,
        resume: Option<Resume>,
    ) -> Result<Result<(), SourceError>, FetchError> {
        let local = self.local(model);
        let transport = self.transport().map_err(&local)?;
        let digest = model.sha256;
        let started = match resume {
            Some(r) => {
                self.reporter.event(&Event::Resuming {
                    name: &model.name,
                    offset: r.hasher.len(),
                    size: model.size,
                });
                Download::resume(&mut partial.file, r.hasher, r.validator)
            }
            None => {
                self.cache.forget_partial_source(&digest);
                Download::to_file(&mut partial.file)
            }
        };
        let mut download =
            started.map_err(|e| local(format!("could not write the download: {e}")))?;
        let save = |validator: &str| {
            if validator.is_empty() {
                self.cache.forget_partial_source(&digest);
            } else {
                let _ = self
                    .cache
                    .save_partial_source(&digest, &redact_url(url), validator);
            }
        };
        let observer = Observer {
            reporter: self.reporter,
            name: &model.name,
            url: &redact_url(url),
            on_validator: &save,
        };
        Ok(
            match transport.download(url, model.size, &mut download, &observer) {
                Ok((actual, size)) if actual == digest && model.size.is_none_or(|s| s == size) => {
                    Ok(())
                }
                Ok((sha256, size)) => Err(SourceError::Mismatch {
                    sha256,
                    size,
                    cause: mismatch_cause(&mut partial.file, size, model),
                }),
                Err(DownloadError::Source(e)) => Err(e),
                Err(DownloadError::Sink(e)) => {
                    return Err(local(format!("could not write the download: {e}")));
                }
            },
        )
    }

    /// A cached blob is trusted for an entry only if its `url` has served those bytes: warn
    /// when it never has, or (with `check_sources`) download from it once to prove it does.
    fn check_source(&self, model: &LockedModel) -> Result<(), FetchError> {
        let digest = &model.sha256;
        let served = self.cache.served_by(digest);
        if served.iter().any(|s| s.url == redact_url(&model.url)) {
            return Ok(());
        }
        let cached_from = served.first().map(|s| s.url.clone());
        let origin = match &cached_from {
            Some(u) => format!("the cache got it from {u}"),
            None => "the cache has no record of where it came from".to_string(),
        };
        if !self.options.check_sources || self.options.offline {
            self.reporter.event(&Event::Warning {
                name: Some(&model.name),
                message: format!(
                    "{} has never been seen serving the pinned file ({origin}); pass --check-sources to download it once and prove it does",
                    redact_url(&model.url)
                ),
            });
            return Ok(());
        }
        let local = self.local(model);
        let transport = self.transport().map_err(&local)?;
        let mut download = Download::discard();
        let observer = Observer {
            reporter: self.reporter,
            name: &model.name,
            url: &redact_url(&model.url),
            on_validator: &|_| {},
        };
        let error = match transport.download(&model.url, model.size, &mut download, &observer) {
            Ok((actual, size)) if actual == *digest && model.size.is_none_or(|s| s == size) => {
                let lock = self
                    .cache
                    .lock(digest, self.options.lock_timeout, || {})
                    .map_err(|e| local(e.to_string()))?;
                self.cache
                    .record_source(digest, &redact_url(&model.url), &lock)
                    .map_err(|e| local(e.to_string()))?;
                self.reporter.event(&Event::SourceChecked {
                    name: &model.name,
                    url: &redact_url(&model.url),
                });
                return Ok(());
            }
            Ok((sha256, size)) => SourceError::Mismatch {
                sha256,
                size,
                cause: None,
            },
            Err(DownloadError::Source(e)) => e,
            Err(DownloadError::Sink(e)) => return Err(local(e.to_string())),
        };
        Err(FetchError::SourceUnproven(Box::new(Unproven {
            name: model.name.clone(),
            url: redact_url(&model.url),
            expected: *digest,
            expected_size: model.size,
            error,
            cached_from,
        })))
    }

    fn warn_plain_http(&self, model: &LockedModel, url: &url::Url) {
        if url.scheme() != "http" {
            return;
        }
        let host = url.host_str().unwrap_or_default().to_string();
        if self.warned_hosts.lock().unwrap().insert(host.clone()) {
            self.reporter.event(&Event::Warning {
                name: Some(&model.name),
                message: format!(
                    "downloading over plain http from `{host}`; the SHA-256 check still decides what is cached"
                ),
            });
        }
    }

    /// Links the verified blob at `dst`, unless something else is there.
    fn place(&self, model: &LockedModel, blob: &Path, dst: &Path) -> Result<LinkKind, FetchError> {
        if std::fs::symlink_metadata(dst).is_ok() {
            if same_file(blob, dst) {
                return Ok(LinkKind::Unchanged);
            }
            if !self.options.force && !self.cache.is_cache_link(dst) {
                return Err(FetchError::LinkConflict {
                    name: model.name.clone(),
                    path: dst.to_path_buf(),
                });
            }
        }
        link_atomic(blob, dst).map_err(|e| {
            self.local(model)(format!("could not link it at `{}`: {e}", dst.display()))
        })
    }
}

struct Observer<'a> {
    reporter: &'a dyn Reporter,
    name: &'a str,
    url: &'a str,
    on_validator: &'a dyn Fn(&str),
}

impl DownloadObserver for Observer<'_> {
    fn started(&self, size: Option<u64>, offset: u64) {
        self.reporter.event(&Event::DownloadStarted {
            name: self.name,
            url: self.url,
            size,
            offset,
        });
    }

    fn validator(&self, validator: &str) {
        (self.on_validator)(validator);
    }

    fn progress(&self, bytes: u64) {
        self.reporter.event(&Event::Progress {
            name: self.name,
            bytes,
        });
    }

    fn retrying(&self, attempt: u32, retries: u32, delay: Duration, reason: &str) {
        self.reporter.event(&Event::Retrying {
            name: self.name,
            url: self.url,
            attempt,
            retries,
            delay_ms: delay.as_millis() as u64,
            cause: reason,
        });
    }
}
