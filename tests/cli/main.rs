//! Integration tests: the real `cargo-models` binary against a loopback fault-injecting server,
//! asserting on the cache contents afterwards.

mod authoring;
mod concurrency;
mod diff;
mod fetch;
mod gc;
mod github;
mod help;
mod inspect;
mod lockfile;
mod query;
mod server;
mod tls;
mod transport;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_cargo-models");

/// A temp workspace with a project folder and its own cache, and helpers to run the binary.
pub struct TestContext {
    pub dir: TempDir,
    pub project: PathBuf,
    pub cache: PathBuf,
}

/// One `[[model]]` of a lockfile written by a test.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub name: String,
    pub url: String,
    pub sha256: String,
    pub size: Option<u64>,
    pub mirrors: Vec<String>,
    pub path: Option<String>,
}

impl Entry {
    /// An entry pinning `data` at `url`, with its size.
    pub fn new(name: &str, url: &str, data: &[u8]) -> Entry {
        Entry {
            name: name.into(),
            url: url.into(),
            sha256: sha256_hex(data),
            size: Some(data.len() as u64),
            ..Entry::default()
        }
    }
}

/// The finished run of a command.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

#[allow(clippy::new_without_default)]
impl TestContext {
    pub fn new() -> TestContext {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        let cache = dir.path().join("cache");
        fs::create_dir_all(&project).unwrap();
        TestContext {
            dir,
            project,
            cache,
        }
    }

    /// The binary with a hermetic environment, run in the project folder.
    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(&self.project)
            .env("CARGO_MODELS_CACHE", &self.cache)
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "0")
            .env("NO_PROXY", "127.0.0.1,127.0.0.2,localhost")
            .env("CARGO_MODELS_BACKOFF", "0.05")
            .env_remove("CI")
            .env_remove("CARGO_NET_OFFLINE")
            .env_remove("CARGO_MODELS_JOBS")
            .env_remove("CARGO_MODELS_RETRIES")
            .env_remove("CARGO_MODELS_READ_TIMEOUT")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY");
        cmd
    }

    /// Starts `fetch`, waits until its partial download holds at least `min_bytes`, then kills
    /// it with SIGKILL.
    pub fn fetch_and_kill_after(&self, min_bytes: u64) {
        let mut child = self
            .cmd()
            .arg("fetch")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let written: u64 = self
                .temp_files()
                .iter()
                .filter_map(|p| fs::metadata(p).ok())
                .map(|m| m.len())
                .sum();
            if written >= min_bytes {
                break;
            }
            assert!(Instant::now() < deadline, "the download never got going");
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd().args(args).output().unwrap().into()
    }

    pub fn lockfile_path(&self) -> PathBuf {
        self.project.join("models.lock")
    }

    pub fn write_lockfile(&self, entries: &[Entry]) {
        let mut text = String::from("# written by a test\nversion = 1\n");
        for e in entries {
            text.push_str(&format!(
                "\n[[model]]\nname = \"{}\"\nurl = \"{}\"\nsha256 = \"{}\"\n",
                e.name, e.url, e.sha256
            ));
            if let Some(size) = e.size {
                text.push_str(&format!("size = {size}\n"));
            }
            if !e.mirrors.is_empty() {
                let quoted: Vec<String> = e.mirrors.iter().map(|m| format!("\"{m}\"")).collect();
                text.push_str(&format!("mirrors = [{}]\n", quoted.join(", ")));
            }
            if let Some(p) = &e.path {
                text.push_str(&format!("path = \"{p}\"\n"));
            }
        }
        fs::write(self.lockfile_path(), text).unwrap();
    }

    /// Where the cache keeps the verified content of `data`.
    pub fn blob_path(&self, data: &[u8]) -> PathBuf {
        let hex = sha256_hex(data);
        self.cache.join("blobs-v1/sha256").join(&hex[..2]).join(hex)
    }

    /// Every file under the cache folder.
    pub fn cache_files(&self) -> Vec<PathBuf> {
        walk(&self.cache)
    }

    /// Files in the cache's temp folder (downloads in progress or left by a kill).
    pub fn temp_files(&self) -> Vec<PathBuf> {
        walk(&self.cache.join("tmp-v1"))
    }

    /// The cache invariant: every file whose name carries a SHA-256 has exactly that content.
    /// Returns how many such files there are.
    pub fn assert_cache_invariant(&self) -> usize {
        let mut blobs = 0;
        for f in self.cache_files() {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(hex) = find_hex64(&name) {
                let data = fs::read(&f).unwrap();
                assert_eq!(
                    sha256_hex(&data),
                    hex,
                    "{} does not have the content its name says",
                    f.display()
                );
                assert!(
                    f.starts_with(self.cache.join("blobs-v1")),
                    "only blobs carry a full digest in their name: {}",
                    f.display()
                );
                blobs += 1;
            }
        }
        blobs
    }

    /// Filters for snapshots: temp paths, server address, timings.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.replace(&self.cache.display().to_string(), "[CACHE]");
        out = out.replace(&self.project.display().to_string(), "[ROOT]");
        out = out.replace(&self.dir.path().display().to_string(), "[TMP]");
        let re_server = regex_lite::Regex::new(r"127\.0\.0\.\d+:\d+").unwrap();
        out = re_server.replace_all(&out, "[SERVER]").into_owned();
        let re_time = regex_lite::Regex::new(r"\d+\.\d+s\b").unwrap();
        out = re_time.replace_all(&out, "[TIME]").into_owned();
        let re_rate = regex_lite::Regex::new(r"\d+(\.\d+)? [KMGT]?i?B/s").unwrap();
        re_rate.replace_all(&out, "[RATE]").into_owned()
    }
}

fn find_hex64(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    (0..bytes.len().saturating_sub(63)).find_map(|i| {
        let w = &name[i..i + 64];
        w.bytes()
            .all(|b| b.is_ascii_hexdigit())
            .then(|| w.to_ascii_lowercase())
    })
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic pseudo-random bytes (xorshift), so tests need no fixtures of their own.
pub fn data(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
