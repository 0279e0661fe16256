//! Command-line arguments. Doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  integrity failure: hash or size mismatch, corrupt or missing model
  2  bad input: lockfile, arguments, a `path` that is taken
  3  transfer failure after retries: network, HTTP status, disk";

/// Pin ML model files by SHA-256 in models.lock and fetch them into a verified,
/// content-addressed cache.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-models",
    bin_name = "cargo models",
    version,
    after_help = EXIT_CODES,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path of the lockfile [default: the first models.lock in the current folder or a parent]
    #[arg(long, global = true, value_name = "PATH")]
    pub lockfile: Option<PathBuf>,

    /// Cache folder shared by every project [default: ~/.cache/cargo-models on Linux, the
    /// per-user cache folder elsewhere]
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "CARGO_MODELS_CACHE",
        hide_env_values = true
    )]
    pub cache_dir: Option<PathBuf>,

    /// Print errors only
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Print more: each download's source URL
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// How to print progress and results: human text on stderr; one JSON object per line on
    /// stdout; or GitHub Actions annotations, step summary and outputs besides the human text
    /// [default: github when GITHUB_ACTIONS=true, else human]
    #[arg(long, global = true, value_enum, value_name = "FMT")]
    pub message_format: Option<MessageFormat>,

    /// When to color output
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = Color::Auto)]
    pub color: Color,

    /// Longest wait, in seconds, for another process's lock on a model [default: no limit]
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        env = "CARGO_MODELS_LOCK_TIMEOUT",
        hide_env_values = true
    )]
    pub lock_timeout: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    Human,
    Json,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download every model of models.lock that is not cached, verifying each byte
    Fetch(FetchArgs),
    /// Rehash cached models and report each as ok, missing or corrupt; never downloads
    Verify(VerifyArgs),
    /// Print the path of a model's verified cached file
    Path(PathArgs),
    /// List the models of models.lock with short hash, size, cache state and aliases
    List(ListArgs),
    /// Download a file, learn its SHA-256 and size in that one pass, and pin it in models.lock
    Add(AddArgs),
    /// Remove models from models.lock (their files stay in the cache until `gc`)
    Remove(RemoveArgs),
    /// Download models again from their URL and re-pin those whose content changed
    Update(UpdateArgs),
    /// Remove cached models that no lockfile uses any more, and leftover temporary files
    ///
    /// A blob pinned by a lockfile that still exists is never removed (unless --all); the
    /// lockfiles are those that fetch, verify and path have used with this cache, as `cargo
    /// models cache` lists them. With neither --max-size nor --older-than, every other blob goes;
    /// otherwise those not used for longer than --older-than, then more, least recently used
    /// first, while the cache is larger than --max-size. Waits for other cargo-models processes
    /// using the cache to finish.
    Gc(GcArgs),
    /// Print the cache's location, size and blob count, and the lockfiles that use it
    Cache(CacheArgs),
    /// Show how models.lock changed between two git revisions or files, for review
    Diff(DiffArgs),
    /// Show a checkpoint's format, tensors and metadata from its header, and its hashes
    ///
    /// Reads the header of a safetensors or GGUF file alone, never the weights, and prints the
    /// format, header size, tensor and parameter counts, the dtype / quantization mix, for GGUF
    /// the architecture, name and file type, for safetensors the `__metadata__` map, the
    /// structural fingerprint, and the full SHA-256, the AutoV2 short hash (10 hex) and the
    /// legacy Stable Diffusion web UI model hash (8 hex). A NAME is looked up in models.lock and
    /// read from the cache, never downloaded; a FILE works outside any project. Exits with 1 when
    /// the header is unreadable or declares another size than the file has.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Fail instead of changing models.lock (as cargo's --locked), so CI can assert it is up to
    /// date
    #[arg(long)]
    pub locked: bool,

    /// --locked and --offline together
    #[arg(long)]
    pub frozen: bool,
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct AddArgs {
    /// The file's URL (https, http or file), or a local path
    pub url: String,

    /// The entry's name [default: the URL's file name without its extension]
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// The SHA-256 the file must have; a download with another one is a mismatch and nothing
    /// is written
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,

    /// Where `fetch` links the file, relative to the lockfile's folder
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,

    /// Another URL with the same file, tried in order after the first (repeatable)
    #[arg(long = "mirror", value_name = "URL")]
    pub mirrors: Vec<String>,

    /// Another name for the model (repeatable)
    #[arg(long = "alias", value_name = "NAME")]
    pub aliases: Vec<String>,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct RemoveArgs {
    /// The models to remove: names, aliases or hashes
    #[arg(required = true)]
    pub names: Vec<String>,

    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct UpdateArgs {
    /// The models to update [default: all]
    pub names: Vec<String>,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct FetchArgs {
    /// Fetch only these models (names, aliases or hashes) [default: all]
    pub names: Vec<String>,

    /// Downloads at once
    #[arg(
        short,
        long,
        value_name = "N",
        env = "CARGO_MODELS_JOBS",
        hide_env_values = true,
        default_value_t = 4
    )]
    pub jobs: usize,

    /// Never use the network; models that are not cached fail [env: CARGO_NET_OFFLINE=true]
    #[arg(long)]
    pub offline: bool,

    /// How to check cached models: `stamp` trusts a blob whose size, mtime and inode match
    /// those recorded when it was verified; `full` rehashes every blob
    #[arg(long, value_enum, value_name = "MODE", default_value_t = VerifyMode::Stamp)]
    pub verify: VerifyMode,

    /// Replace files at an entry's `path` that cargo-models did not put there
    #[arg(long)]
    pub force: bool,

    /// Before trusting a cached file for an entry whose `url` has never been seen serving it,
    /// download it from that `url` once to prove it does [default: on when CI is set]
    #[arg(long, overrides_with = "no_check_sources")]
    pub check_sources: bool,

    /// Only warn about an entry whose `url` has never been seen serving its cached file
    #[arg(long, overrides_with = "check_sources")]
    pub no_check_sources: bool,

    #[command(flatten)]
    pub lock: LockArgs,

    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyMode {
    Stamp,
    Full,
}

#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Retries after a transient failure (connection error, timeout, HTTP 5xx, 408, 429)
    #[arg(
        long,
        value_name = "N",
        env = "CARGO_MODELS_RETRIES",
        hide_env_values = true,
        default_value_t = 3
    )]
    pub retries: u32,

    /// Seconds allowed to connect
    #[arg(
        long,
        value_name = "SECS",
        env = "CARGO_MODELS_CONNECT_TIMEOUT",
        hide_env_values = true,
        default_value_t = 30.0
    )]
    pub connect_timeout: f64,

    /// Seconds without receiving any byte before an attempt is abandoned and retried; a slow
    /// but moving transfer never times out
    #[arg(
        long,
        value_name = "SECS",
        env = "CARGO_MODELS_READ_TIMEOUT",
        hide_env_values = true,
        default_value_t = 60.0
    )]
    pub read_timeout: f64,

    /// Longest Retry-After, in seconds, that a server can ask for
    #[arg(
        long,
        value_name = "SECS",
        env = "CARGO_MODELS_MAX_RETRY_AFTER",
        hide_env_values = true,
        default_value_t = 60.0
    )]
    pub max_retry_after: f64,

    /// Most redirects followed for one request
    #[arg(
        long,
        value_name = "N",
        env = "CARGO_MODELS_MAX_REDIRECTS",
        hide_env_values = true,
        default_value_t = 10
    )]
    pub max_redirects: usize,

    /// PEM file of extra root certificates to trust, added to the system's (for a mirror behind
    /// a private CA) [default: SSL_CERT_FILE when set]
    #[arg(
        long,
        value_name = "PATH",
        env = "CARGO_MODELS_CA_BUNDLE",
        hide_env_values = true
    )]
    pub ca_bundle: Option<PathBuf>,

    /// Pause before the first retry, in seconds; doubles on each further retry
    #[arg(
        long,
        value_name = "SECS",
        env = "CARGO_MODELS_BACKOFF",
        hide_env_values = true,
        default_value_t = 0.5
    )]
    pub backoff: f64,
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct VerifyArgs {
    /// Verify only these models (names, aliases or hashes) [default: all]
    pub names: Vec<String>,

    /// Check only each file's size and, for safetensors and GGUF, its header against the
    /// pinned `fingerprint`: milliseconds per file, for truncated or swapped files. A quick
    /// check, not a replacement for rehashing: changed weights under an intact header pass
    #[arg(long)]
    pub fast: bool,

    /// Files hashed at once [default: the number of CPUs]
    #[arg(
        short,
        long,
        value_name = "N",
        env = "CARGO_MODELS_JOBS",
        hide_env_values = true
    )]
    pub jobs: Option<usize>,
}

#[derive(Debug, Args)]
pub struct PathArgs {
    /// The model: its name, an alias, a hash or a short hash, or its file name
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Output format
    #[arg(long, value_enum, value_name = "FMT", default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

pub const DIFF_EXIT_CODES: &str = "\
Exit codes:
  0  success, whether or not there are changes
  1  with --exit-code: there are changes
  2  bad input: an invalid lockfile, an argument that is neither a file nor a git revision
  3  git failed";

#[derive(Debug, Args)]
#[command(after_help = DIFF_EXIT_CODES)]
pub struct DiffArgs {
    /// The old lockfile: a git revision (HEAD~1, origin/main), or a lockfile's path
    /// [default: HEAD]
    pub old: Option<String>,

    /// The new lockfile: a git revision, or a lockfile's path [default: the lockfile in the
    /// working tree]
    pub new: Option<String>,

    /// Output format: text (colored on a terminal), markdown (a table and the flags, for a
    /// pull-request comment or a step summary) or json
    #[arg(long, value_enum, value_name = "FMT", default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,

    /// Exit with 1 when there are changes (as `git diff --exit-code`)
    #[arg(long)]
    pub exit_code: bool,

    /// Print the lockfile FILE with one line per model, sorted, for a git diff driver's
    /// textconv, and exit
    #[arg(long, value_name = "FILE", conflicts_with_all = ["old", "new", "exit_code"])]
    pub textconv: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct InspectArgs {
    /// A file's path, or a model of models.lock: its name, an alias, a hash or a short hash
    #[arg(value_name = "NAME|FILE")]
    pub target: String,

    /// Output format
    #[arg(long, value_enum, value_name = "FMT", default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES)]
pub struct GcArgs {
    /// Remove unused blobs, least recently used first, until all blobs take at most SIZE:
    /// bytes, or with a unit: 20GB (powers of 1000), 500MiB or 1.5G (powers of 1024)
    #[arg(long, value_name = "SIZE", value_parser = cargo_models::ops::gc::parse_size)]
    pub max_size: Option<u64>,

    /// Remove unused blobs not used for AGE: 30d, 12h, 90m, 45s
    #[arg(long, value_name = "AGE", value_parser = cargo_models::ops::gc::parse_age)]
    pub older_than: Option<std::time::Duration>,

    /// Print what would be removed; remove nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Also remove blobs that lockfiles on disk still pin
    #[arg(long)]
    pub all: bool,

    /// Output format: status lines on stderr, or the report as JSON on stdout
    #[arg(long, value_enum, value_name = "FMT", default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct CacheArgs {
    /// Output format
    #[arg(long, value_enum, value_name = "FMT", default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}
