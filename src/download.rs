//! Transport: one source (http, https or file URL) streamed into a sink while hashing, with
//! retries and backoff for transient failures, and hard limits against wrong or hostile servers.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header;
use url::Url;

use crate::auth::{Auth, Credentials};
use crate::hash::{Hasher, Sha256Digest};

/// Read and write size of a download. Small enough to stay in cache between the hash and the
/// write: on the VMs measured in BENCHMARKS.md, 1 MiB writes into fresh page cache were 5x
/// slower than 64 KiB ones.
const STREAM_BUF: usize = 64 << 10;

/// Network limits and retry policy, resolved from flags and environment by the CLI.
#[derive(Debug, Clone)]
pub struct TransportSettings {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed without receiving a single byte (waiting for headers, or mid-body) before
    /// the attempt is abandoned and retried. A slow but moving transfer never hits it.
    pub read_timeout: Duration,
    /// Retries after the first attempt, for transient failures.
    pub retries: u32,
    /// First backoff pause; doubles on every retry.
    pub backoff: Duration,
    /// Longest `Retry-After` honoured; longer requests are capped to this.
    pub max_retry_after: Duration,
    /// Most redirects followed for one request.
    pub max_redirects: usize,
    /// Credentials, attached per host on every hop.
    pub credentials: Credentials,
    /// Extra trusted root certificates (a PEM bundle), added to the system's, for mirrors
    /// behind a private certificate authority.
    pub ca_bundle: Option<PathBuf>,
}

impl Default for TransportSettings {
    fn default() -> Self {
        TransportSettings {
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(60),
            max_redirects: 10,
            credentials: Credentials::default(),
            ca_bundle: None,
        }
    }
}

/// An HTTP client configured with [`TransportSettings`].
#[derive(Debug, Clone)]
pub struct Transport {
    client: Client,
    settings: TransportSettings,
}

/// The transport could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TransportInitError {
    #[error("could not set up the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("could not read the CA bundle `{}`: {message}", path.display())]
    CaBundle { path: PathBuf, message: String },
}

/// What one source gave instead of the pinned file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceError {
    /// The whole body arrived, but its hash or size differs from the pin.
    Mismatch {
        sha256: Sha256Digest,
        size: u64,
        /// Why, from the header of a safetensors or GGUF file; see [`crate::formats::diagnose`].
        #[serde(skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// More bytes arrived than the pinned size; reading stopped at `limit + 1`.
    TooLong { limit: u64 },
    /// The server announced a `Content-Length` other than the pinned size; nothing was read.
    Announced { length: u64 },
    /// An HTTP status that is an answer, not a glitch (or a glitch that outlasted the retries).
    Status {
        status: u16,
        reason: String,
        attempts: u32,
    },
    /// The connection failed, stalled or broke, on every attempt.
    Network { message: String, attempts: u32 },
    /// A `file://` source could not be read.
    File { message: String },
}

impl SourceError {
    /// The source answered with different content: an integrity failure, not a transfer one.
    pub fn is_integrity(&self) -> bool {
        matches!(
            self,
            SourceError::Mismatch { .. }
                | SourceError::TooLong { .. }
                | SourceError::Announced { .. }
        )
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::Mismatch { sha256, size, .. } => {
                write!(f, "sha256 {sha256}  {size} bytes")
            }
            SourceError::TooLong { limit } => {
                write!(
                    f,
                    "more than {limit} bytes (stopped reading at {})",
                    limit + 1
                )
            }
            SourceError::Announced { length } => {
                write!(f, "server announced {length} bytes (not downloaded)")
            }
            SourceError::Status {
                status,
                reason,
                attempts,
            } => {
                write!(f, "HTTP {status} {reason}")?;
                match status {
                    404 | 410 => write!(f, "; check that the URL in `models.lock` is right"),
                    401 | 403 => write!(
                        f,
                        "; the server wants credentials: check access to this URL \
                         (~/.netrc, HF_TOKEN for huggingface.co, or CARGO_MODELS_AUTH_HEADER_<HOST>; \
                         credentials are sent over https only)"
                    ),
                    _ if *attempts > 1 => write!(f, " ({attempts} attempts)"),
                    _ => Ok(()),
                }
            }
            SourceError::Network { message, attempts } => {
                write!(f, "{message} ({attempts} attempts)")
            }
            SourceError::File { message } => f.write_str(message),
        }
    }
}

/// A download attempt's outcome that is not a [`SourceError`]: the local disk failed.
#[derive(Debug)]
pub enum DownloadError {
    Source(SourceError),
    Sink(io::Error),
}

impl From<SourceError> for DownloadError {
    fn from(e: SourceError) -> Self {
        DownloadError::Source(e)
    }
}

/// Callbacks from a download in progress.
pub trait DownloadObserver {
    /// A response was accepted; `size` is the expected total length when known, `offset` the
    /// byte it continues from (0 unless resumed).
    fn started(&self, size: Option<u64>, offset: u64);
    /// `bytes` more bytes were received.
    fn progress(&self, bytes: u64);
    /// The server identified the content by this validator (a strong ETag or Last-Modified):
    /// a resumed request sends it as `If-Range`. Empty when the response had none, so that the
    /// bytes that follow cannot be resumed later.
    fn validator(&self, validator: &str);
    /// Retry `attempt` of `retries` follows after `delay`.
    fn retrying(&self, attempt: u32, retries: u32, delay: Duration, reason: &str);
}

/// Where a download's bytes go, and how far it has got: the hasher carries over from one
/// attempt to the next, so a broken transfer resumes with `Range` instead of starting again.
pub struct Download<'f> {
    file: Option<&'f mut File>,
    hasher: Hasher,
    validator: Option<String>,
}

impl<'f> Download<'f> {
    /// Into `file`, from its start (it is truncated).
    pub fn to_file(file: &'f mut File) -> io::Result<Download<'f>> {
        file.set_len(0)?;
        file.rewind()?;
        Ok(Download {
            file: Some(file),
            hasher: Hasher::new(),
            validator: None,
        })
    }

    /// Continues a partial download: `file` holds exactly the bytes `hasher` has seen, which
    /// came from a response identified by `validator`.
    pub fn resume(
        file: &'f mut File,
        hasher: Hasher,
        validator: String,
    ) -> io::Result<Download<'f>> {
        file.seek(io::SeekFrom::Start(hasher.len()))?;
        file.set_len(hasher.len())?;
        Ok(Download {
            file: Some(file),
            hasher,
            validator: Some(validator),
        })
    }

    /// Hashes without keeping the bytes (to prove that a source serves a file).
    pub fn discard() -> Download<'static> {
        Download {
            file: None,
            hasher: Hasher::new(),
            validator: None,
        }
    }

    /// Bytes received so far.
    pub fn offset(&self) -> u64 {
        self.hasher.len()
    }

    fn reset(&mut self) -> Result<(), DownloadError> {
        self.hasher = Hasher::new();
        self.validator = None;
        if let Some(f) = self.file.as_mut() {
            f.set_len(0).map_err(DownloadError::Sink)?;
            f.rewind().map_err(DownloadError::Sink)?;
        }
        Ok(())
    }
}

enum Attempt {
    Done(Sha256Digest, u64),
    Retry {
        reason: String,
        after: Option<Duration>,
        status: Option<(u16, String)>,
    },
}

impl Attempt {
    fn retry(reason: impl Into<String>) -> Attempt {
        Attempt::Retry {
            reason: reason.into(),
            after: None,
            status: None,
        }
    }
}

impl Transport {
    pub fn new(settings: TransportSettings) -> Result<Transport, TransportInitError> {
        let mut builder = Client::builder();
        if let Some(path) = &settings.ca_bundle {
            let error = |message: String| TransportInitError::CaBundle {
                path: path.clone(),
                message,
            };
            let pem = std::fs::read(path).map_err(|e| error(e.to_string()))?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| error(e.to_string()))?;
            if certs.is_empty() {
                return Err(error("no PEM certificate in it".into()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let client = builder
            .user_agent(concat!("cargo-models/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(settings.connect_timeout)
            // In reqwest's blocking client this bounds the wait for headers and for each read
            // of the body: an idle timeout, not a limit on the whole transfer.
            .timeout(settings.read_timeout)
            // Redirects are followed by `send`, which picks credentials for every hop itself.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Transport { client, settings })
    }

    /// Streams `url` into `download`, hashing every byte once as it passes. With `size`
    /// pinned, a different announced length fails before the body is read and the body is cut
    /// off at `size + 1` bytes. Transient failures are retried with backoff; a transfer that
    /// broke resumes from where it stopped when the server honours `Range` (and `If-Range`),
    /// and starts again from zero when it does not.
    pub fn download(
        &self,
        url: &Url,
        size: Option<u64>,
        download: &mut Download<'_>,
        observer: &dyn DownloadObserver,
    ) -> Result<(Sha256Digest, u64), DownloadError> {
        if url.scheme() == "file" {
            return copy_file(url, size, download, observer);
        }
        let attempts = self.settings.retries + 1;
        for attempt in 1..=attempts {
            let (reason, after, status) = match self.attempt(url, size, download, observer)? {
                Attempt::Done(digest, len) => return Ok((digest, len)),
                Attempt::Retry {
                    reason,
                    after,
                    status,
                } => (reason, after, status),
            };
            if attempt == attempts {
                return Err(match status {
                    Some((status, reason)) => SourceError::Status {
                        status,
                        reason,
                        attempts,
                    },
                    None => SourceError::Network {
                        message: reason,
                        attempts,
                    },
                }
                .into());
            }
            let backoff = self.settings.backoff * 2u32.saturating_pow(attempt - 1);
            let delay = after
                .map(|a| a.min(self.settings.max_retry_after))
                .unwrap_or(backoff);
            observer.retrying(attempt, self.settings.retries, delay, &reason);
            std::thread::sleep(delay);
        }
        unreachable!("the last attempt returns")
    }

    /// Sends a GET for `url` (with `Range` from `offset` when it is not 0), following
    /// redirects itself so that each hop gets only its own host's credentials.
    fn send(&self, url: &Url, offset: u64, validator: Option<&str>) -> Result<Response, Attempt> {
        // A `user:password@` in the URL is a credential like any other: taken out of the URL
        // (reqwest would send it anywhere, even over plain http) and sent by the same rules.
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        let userinfo = (!url.username().is_empty())
            .then(|| (decode(url.username()), url.password().map(decode)));
        let mut current = url.clone();
        let _ = current.set_username("");
        let _ = current.set_password(None);
        let origin = (
            current.host_str().map(str::to_owned),
            current.port_or_known_default(),
        );
        for _ in 0..=self.settings.max_redirects {
            let mut request = self.client.get(current.clone());
            let same_host = (
                current.host_str().map(str::to_owned),
                current.port_or_known_default(),
            ) == origin;
            if let Some((user, password)) = &userinfo
                && same_host
                && crate::auth::may_send_credentials(&current)
            {
                request = request.basic_auth(user, password.as_ref());
            }
            for auth in self.settings.credentials.for_hop(&current, same_host) {
                request = match auth {
                    Auth::Basic { login, password } => request.basic_auth(login, Some(password)),
                    Auth::Bearer(token) => request.bearer_auth(token),
                    Auth::Header { name, value } => request.header(name, value),
                };
            }
            if offset > 0 {
                request = request.header(header::RANGE, format!("bytes={offset}-"));
                if let Some(v) = validator {
                    request = request.header(header::IF_RANGE, v);
                }
            }
            let response = request.send().map_err(|e| Attempt::retry(describe(&e)))?;
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok());
            match location {
                Some(location) if response.status().is_redirection() => {
                    current = current.join(location).map_err(|e| {
                        Attempt::retry(format!("redirect to an invalid location: {e}"))
                    })?;
                }
                _ => return Ok(response),
            }
        }
        Err(Attempt::retry(format!(
            "more than {} redirects",
            self.settings.max_redirects
        )))
    }

    fn attempt(
        &self,
        url: &Url,
        size: Option<u64>,
        download: &mut Download<'_>,
        observer: &dyn DownloadObserver,
    ) -> Result<Attempt, DownloadError> {
        if download.offset() > 0 && download.validator.is_none() {
            // Nothing proves the server still has the same file: never splice, start over.
            download.reset()?;
        }
        let offset = download.offset();
        if offset > 0 && size == Some(offset) {
            // A partial that is already whole: the hash decides, no request needed.
            let (digest, len) = std::mem::take(&mut download.hasher).finish();
            return Ok(Attempt::Done(digest, len));
        }
        let response = match self.send(url, offset, download.validator.as_deref()) {
            Ok(r) => r,
            Err(retry) => return Ok(retry),
        };
        let status = response.status();
        if offset > 0 && status == StatusCode::RANGE_NOT_SATISFIABLE {
            download.reset()?;
            return Ok(Attempt::retry("the server refused to resume (HTTP 416)"));
        }
        if !status.is_success() {
            let reason = status.canonical_reason().unwrap_or("").to_string();
            let transient = status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT;
            if !transient {
                return Err(SourceError::Status {
                    status: status.as_u16(),
                    reason,
                    attempts: 1,
                }
                .into());
            }
            return Ok(Attempt::Retry {
                after: retry_after(response.headers()),
                reason: format!("HTTP {} {reason}", status.as_u16()),
                status: Some((status.as_u16(), reason)),
            });
        }
        let resumed = offset > 0 && status == StatusCode::PARTIAL_CONTENT;
        if resumed {
            let range = content_range(response.headers());
            let same_file = validator(response.headers())
                .is_none_or(|v| Some(&v) == download.validator.as_ref());
            let fits = same_file
                && range.is_some_and(|(start, total)| {
                    start == offset && size.is_none_or(|s| total.is_none_or(|t| t == s))
                });
            if !fits {
                download.reset()?;
                return Ok(Attempt::retry(
                    "the server answered with another range than asked for",
                ));
            }
        } else if offset > 0 {
            // A 200: the server ignored `Range`, or `If-Range` found the content changed.
            download.reset()?;
        }
        if !resumed {
            download.validator = validator(response.headers());
            // An empty validator tells the observer the bytes can no longer be resumed.
            observer.validator(download.validator.as_deref().unwrap_or(""));
        }
        let announced = response.content_length().map(|n| n + download.offset());
        if let (Some(length), Some(size)) = (announced, size)
            && length != size
        {
            return Err(SourceError::Announced { length }.into());
        }
        observer.started(size.or(announced), download.offset());
        match stream(response, size, download, observer)? {
            Ok(()) => {
                let (digest, len) = std::mem::take(&mut download.hasher).finish();
                Ok(Attempt::Done(digest, len))
            }
            Err(e) => Ok(Attempt::retry(format!(
                "the transfer broke: {}",
                describe_io(&e)
            ))),
        }
    }
}

/// Copies the body into the download, hashing as it goes. The outer error is a failed source
/// or a failed sink; the inner one is a broken transfer worth retrying. Everything hashed is
/// written (and flushed) before returning, so the file always matches the hasher.
fn stream(
    mut body: impl Read,
    limit: Option<u64>,
    download: &mut Download<'_>,
    observer: &dyn DownloadObserver,
) -> Result<Result<(), io::Error>, DownloadError> {
    let mut buf = vec![0u8; STREAM_BUF];
    let hasher = &mut download.hasher;
    let mut writeback = download
        .file
        .as_deref()
        .map(|f| Writeback::new(f, hasher.len()));
    let mut out = download
        .file
        .as_mut()
        .map(|f| io::BufWriter::with_capacity(STREAM_BUF, &mut **f));
    let result = loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        };
        let mut chunk = &buf[..n];
        if let Some(limit) = limit {
            let room = (limit + 1).saturating_sub(hasher.len());
            if chunk.len() as u64 > room {
                chunk = &chunk[..room as usize];
            }
            if hasher.len() + chunk.len() as u64 > limit {
                return Err(SourceError::TooLong { limit }.into());
            }
        }
        hasher.update(chunk);
        if let Some(out) = out.as_mut() {
            out.write_all(chunk).map_err(DownloadError::Sink)?;
            if let Some(wb) = writeback.as_mut() {
                wb.advance(out, hasher.len()).map_err(DownloadError::Sink)?;
            }
        }
        observer.progress(chunk.len() as u64);
    };
    if let Some(mut out) = out {
        out.flush().map_err(DownloadError::Sink)?;
    }
    Ok(result)
}

/// Starts the disk writes of a download while it runs, so that the fsync before the rename
/// finds little left to do (on Linux, `sync_file_range` every [`WRITEBACK_EVERY`] bytes; it
/// waits for nothing). Elsewhere it does nothing and the fsync does all the work.
struct Writeback {
    #[cfg(target_os = "linux")]
    fd: std::os::fd::RawFd,
    started: u64,
}

/// Bytes written between two writeback kicks.
const WRITEBACK_EVERY: u64 = 32 << 20;

impl Writeback {
    fn new(file: &File, offset: u64) -> Writeback {
        #[cfg(not(target_os = "linux"))]
        let _ = file;
        Writeback {
            #[cfg(target_os = "linux")]
            fd: std::os::fd::AsRawFd::as_raw_fd(file),
            started: offset,
        }
    }

    fn advance(&mut self, out: &mut io::BufWriter<&mut File>, written: u64) -> io::Result<()> {
        if written - self.started < WRITEBACK_EVERY {
            return Ok(());
        }
        out.flush()?;
        #[cfg(target_os = "linux")]
        // SAFETY: `fd` belongs to the file `out` writes to, which outlives this call;
        // sync_file_range only reads the range arguments.
        unsafe {
            libc::sync_file_range(
                self.fd,
                self.started as libc::off64_t,
                (written - self.started) as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
        self.started = written;
        Ok(())
    }
}

fn copy_file(
    url: &Url,
    size: Option<u64>,
    download: &mut Download<'_>,
    observer: &dyn DownloadObserver,
) -> Result<(Sha256Digest, u64), DownloadError> {
    let file_error = |e: io::Error| SourceError::File {
        message: format!("could not read the file: {e}"),
    };
    let path = url.to_file_path().map_err(|()| SourceError::File {
        message: "not a local file path".to_string(),
    })?;
    download.reset()?;
    let file = File::open(&path).map_err(file_error)?;
    let length = file.metadata().map_err(file_error)?.len();
    if let Some(size) = size
        && length != size
    {
        return Err(SourceError::Announced { length }.into());
    }
    observer.started(Some(length), 0);
    match stream(file, size, download, observer)? {
        Ok(()) => Ok(std::mem::take(&mut download.hasher).finish()),
        Err(e) => Err(file_error(e).into()),
    }
}

/// `Content-Range: bytes START-END/TOTAL` as (START, TOTAL), TOTAL `None` for `*`.
fn content_range(headers: &header::HeaderMap) -> Option<(u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let (range, total) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, _) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

/// The validator `If-Range` can use: a strong ETag, else Last-Modified.
fn validator(headers: &header::HeaderMap) -> Option<String> {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    get(header::ETAG)
        .filter(|e| !e.starts_with("W/"))
        .or_else(|| get(header::LAST_MODIFIED))
        .map(str::to_string)
}

/// A one-line description of a reqwest error, with its causes, without the URL (which the
/// caller prints once).
fn describe(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    if e.is_timeout() {
        parts.push("timed out: no data received within the read timeout".to_string());
    } else if e.is_connect() {
        parts.push("could not connect".to_string());
    } else if e.is_redirect() {
        parts.push("too many redirects".to_string());
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        parts.push(match e.status() {
            Some(s) => format!("HTTP {s}"),
            None => "request failed".to_string(),
        });
    }
    parts.join(": ")
}

/// A body read error, described through the reqwest error inside it when there is one.
fn describe_io(e: &io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
        Some(inner) => describe(inner),
        None => e.to_string(),
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate(value)?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Parses the IMF-fixdate form of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate(s: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').filter_map(|p| p.parse().ok()).collect();
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + sec;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(secs).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_dates() {
        let t = httpdate("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        assert!(httpdate("yesterday").is_none());
    }

    #[test]
    fn retry_after_reads_seconds() {
        let mut h = header::HeaderMap::new();
        h.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
    }
}
