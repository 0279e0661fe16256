//! Progress and results: the events commands emit, and their renderers (terminal bars, plain
//! lines for logs and CI, JSON lines). The library never prints except through a [`Reporter`].

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::hash::Sha256Digest;
use crate::ops::fetch::FetchError;
use crate::ops::verify::Verdict;

/// How a model became available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ready {
    /// Already cached with a valid stamp.
    Cached,
    /// Already cached, rehashed because its stamp was stale or `--verify full` was asked.
    Rehashed,
    Downloaded,
}

/// Something a command did or found. Serialized as one JSON object per event, tagged by
/// `reason` as cargo's `--message-format json` is.
#[derive(Debug, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Event<'a> {
    /// What `fetch` is about to do.
    Plan {
        models: usize,
        cached: usize,
        to_fetch: usize,
        /// Bytes to download, counting the entries whose size is pinned.
        bytes: u64,
    },
    /// Another process holds the blob's lock; this one waits for it.
    Waiting { name: &'a str },
    /// A response was accepted (again, after a retry); `offset` is where it continues from.
    DownloadStarted {
        name: &'a str,
        url: &'a str,
        size: Option<u64>,
        offset: u64,
    },
    /// A partial download left by an earlier run is continued from `offset`.
    Resuming {
        name: &'a str,
        offset: u64,
        size: Option<u64>,
    },
    /// The entry's `url` was downloaded once and served the cached file's bytes.
    SourceChecked { name: &'a str, url: &'a str },
    /// Bytes received; rendered as progress bars, never serialized.
    #[serde(skip)]
    Progress { name: &'a str, bytes: u64 },
    Retrying {
        name: &'a str,
        url: &'a str,
        /// 1-based number of this retry.
        attempt: u32,
        retries: u32,
        delay_ms: u64,
        cause: &'a str,
    },
    Warning {
        name: Option<&'a str>,
        message: String,
    },
    ModelReady {
        name: &'a str,
        sha256: &'a Sha256Digest,
        size: u64,
        how: Ready,
        seconds: f64,
        path: &'a Path,
        link: Option<&'a Path>,
    },
    ModelFailed {
        name: &'a str,
        error: &'a FetchError,
    },
    /// An entry was added to the lockfile.
    Added {
        name: &'a str,
        sha256: &'a Sha256Digest,
        size: u64,
        lockfile: &'a Path,
    },
    Verified {
        name: &'a str,
        sha256: &'a Sha256Digest,
        verdict: &'a Verdict,
    },
    Finished {
        command: &'a str,
        models: usize,
        failed: usize,
        downloaded: usize,
        downloaded_bytes: u64,
        seconds: f64,
    },
}

/// Receives events from any thread.
pub trait Reporter: Sync {
    fn event(&self, event: &Event<'_>);
}

/// Discards everything (for the library API and build scripts).
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: &Event<'_>) {}
}

/// One JSON object per line on stdout.
pub struct JsonReporter;

impl Reporter for JsonReporter {
    fn event(&self, event: &Event<'_>) {
        if matches!(event, Event::Progress { .. }) {
            return;
        }
        let line = serde_json::to_string(event).expect("events serialize");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

/// Output for people: progress bars on a terminal, or one plain line per finished file.
pub struct HumanReporter {
    quiet: bool,
    color: bool,
    verbose: bool,
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    total: Mutex<Option<ProgressBar>>,
    files: Mutex<HashMap<String, ProgressBar>>,
}

impl HumanReporter {
    /// `bars`: draw progress bars (stderr is a terminal and not CI). `quiet`: errors only.
    /// `verbose`: also a line for each download's start, with its URL.
    pub fn new(bars: bool, quiet: bool, color: bool, verbose: bool) -> HumanReporter {
        HumanReporter {
            quiet,
            color,
            verbose,
            bars: (bars && !quiet).then(|| Bars {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                total: Mutex::new(None),
                files: Mutex::new(HashMap::new()),
            }),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A cargo-style status line: a right-aligned green verb, then the message.
    pub fn status(&self, verb: &str, message: &str) {
        if self.quiet {
            return;
        }
        self.line(&format!(
            "{} {message}",
            self.paint("1;32", &format!("{verb:>12}"))
        ));
    }

    pub fn warning(&self, message: &str) {
        if !self.quiet {
            self.line(&format!("{}: {message}", self.paint("1;33", "warning")));
        }
    }

    pub fn error(&self, message: &str) {
        self.line(&format!("{}: {message}", self.paint("1;31", "error")));
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some(b) => b.multi.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    fn bar_style() -> ProgressStyle {
        ProgressStyle::with_template(
            "{prefix:>12.cyan.bold} [{bar:25}] {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12} {eta:>4} {msg}",
        )
        .expect("valid template")
        .progress_chars("=> ")
    }
}

impl Reporter for HumanReporter {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Plan {
                to_fetch, bytes, ..
            } => {
                if let (Some(b), true) = (&self.bars, *to_fetch > 0) {
                    let bar = b.multi.add(ProgressBar::new(*bytes));
                    bar.set_style(Self::bar_style());
                    bar.set_prefix("Total");
                    bar.set_message(format!("{to_fetch} to download"));
                    *b.total.lock().unwrap() = Some(bar);
                }
            }
            Event::Waiting { name } => self.status(
                "Blocking",
                &format!("waiting for another process downloading `{name}`"),
            ),
            Event::DownloadStarted {
                name,
                url,
                size,
                offset,
            } => {
                if self.verbose {
                    self.status("Downloading", &format!("{name} from {url}"));
                }
                if let Some(b) = &self.bars {
                    let mut files = b.files.lock().unwrap();
                    if let Some(bar) = files.get(*name) {
                        // A retry: resumed at `offset`, or restarted from 0.
                        if let Some(total) = &*b.total.lock().unwrap() {
                            let lost = bar.position().saturating_sub(*offset);
                            total.set_position(total.position().saturating_sub(lost));
                        }
                        bar.set_length(size.unwrap_or(0));
                        bar.set_position(*offset);
                        return;
                    }
                    let bar = b.multi.insert_from_back(1, ProgressBar::new(size.unwrap_or(0)));
                    bar.set_position(*offset);
                    if let Some(total) = &*b.total.lock().unwrap() {
                        total.inc(*offset);
                    }
                    bar.set_style(Self::bar_style());
                    bar.set_prefix("Downloading");
                    bar.set_message(name.to_string());
                    bar.enable_steady_tick(Duration::from_millis(200));
                    files.insert(name.to_string(), bar);
                }
            }
            Event::Progress { name, bytes } => {
                if let Some(b) = &self.bars {
                    if let Some(bar) = b.files.lock().unwrap().get(*name) {
                        bar.inc(*bytes);
                    }
                    if let Some(total) = &*b.total.lock().unwrap() {
                        total.inc(*bytes);
                    }
                }
            }
            Event::Retrying {
                name,
                attempt,
                retries,
                delay_ms,
                cause,
                ..
            } => {
                self.warning(&format!(
                    "`{name}`: {cause}; retrying in {:.1}s ({attempt}/{retries})",
                    *delay_ms as f64 / 1000.0,
                ));
            }
            Event::Resuming { name, offset, size } => self.status(
                "Resuming",
                &format!(
                    "{name} from {}{} left by an earlier run",
                    human_size(*offset),
                    size.map(|s| format!(" of {}", human_size(s)))
                        .unwrap_or_default()
                ),
            ),
            Event::SourceChecked { name, url } => {
                self.status("Checked", &format!("{url} serves the pinned `{name}`"))
            }
            Event::Warning { name, message } => match name {
                Some(n) => self.warning(&format!("`{n}`: {message}")),
                None => self.warning(message),
            },
            Event::ModelReady {
                name,
                size,
                how,
                seconds,
                ..
            } => {
                if let Some(b) = &self.bars
                    && let Some(bar) = b.files.lock().unwrap().remove(*name)
                {
                    bar.finish_and_clear();
                    b.multi.remove(&bar);
                }
                match how {
                    Ready::Downloaded => self.status(
                        "Downloaded",
                        &format!(
                            "{name} ({}) in {seconds:.2}s, {}/s",
                            human_size(*size),
                            human_size((*size as f64 / seconds.max(1e-6)) as u64)
                        ),
                    ),
                    Ready::Rehashed => self.status(
                        "Verified",
                        &format!("{name} ({}) in {seconds:.2}s", human_size(*size)),
                    ),
                    Ready::Cached => {}
                }
            }
            Event::ModelFailed { name, error } => {
                if let Some(b) = &self.bars
                    && let Some(bar) = b.files.lock().unwrap().remove(*name)
                {
                    bar.finish_and_clear();
                    b.multi.remove(&bar);
                }
                self.error(&error.to_string());
            }
            Event::Added {
                name,
                sha256,
                size,
                lockfile,
            } => self.status(
                "Added",
                &format!(
                    "{name} (sha256 {}, {}) to {}",
                    sha256.short(),
                    human_size(*size),
                    lockfile.display()
                ),
            ),
            Event::Verified {
                name,
                sha256,
                verdict,
            } => match verdict {
                Verdict::Ok { size } => {
                    self.status("Verified", &format!("{name} ({})", human_size(*size)))
                }
                Verdict::Missing => self.error(&format!(
                    "`{name}` is missing from the cache (sha256 {}); run `cargo models fetch`",
                    sha256.short()
                )),
                Verdict::Corrupt {
                    actual,
                    size,
                    cause,
                } => self.error(&format!(
                    "`{name}` was corrupt in the cache\n  expected: sha256 {sha256}\n  actual:   sha256 {actual}  {size} bytes\n{}  the corrupt file was removed; run `cargo models fetch` to download it again",
                    cause
                        .as_ref()
                        .map_or(String::new(), |c| format!("  cause:    {c}\n"))
                )),
                Verdict::Mismatch { message } => self.error(&format!(
                    "`{name}` failed the fast check: {message}; run `cargo models verify {name}` to rehash it"
                )),
                Verdict::Failed { message } => {
                    self.error(&format!("could not verify `{name}`: {message}"))
                }
            },
            Event::Finished {
                command,
                models,
                failed,
                downloaded,
                downloaded_bytes,
                seconds,
            } => {
                if let Some(b) = &self.bars
                    && let Some(total) = b.total.lock().unwrap().take()
                {
                    total.finish_and_clear();
                    b.multi.remove(&total);
                }
                let what = if *command == "verify" {
                    "verifying "
                } else {
                    ""
                };
                let mut msg = format!(
                    "{what}{models} model{} in {seconds:.2}s",
                    if *models == 1 { "" } else { "s" }
                );
                if *command == "fetch" {
                    msg.push_str(&format!(
                        ": {downloaded} downloaded ({}), {} cached",
                        human_size(*downloaded_bytes),
                        models - downloaded - failed
                    ));
                }
                if *failed > 0 {
                    msg.push_str(&format!(", {failed} failed"));
                }
                self.status("Finished", &msg);
            }
        }
    }
}

/// Bytes in binary units with one decimal: `16.7 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_are_binary_units() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(17_563_584), "16.7 MiB");
        assert_eq!(human_size(2 << 30), "2.0 GiB");
    }
}
