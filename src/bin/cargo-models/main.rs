//! `cargo-models`: parses arguments, calls the library, renders, maps errors to exit codes.

mod cli;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use cargo_models::auth::{Credentials, Netrc};
use cargo_models::download::TransportSettings;
use cargo_models::edit::LockMode;
use cargo_models::github::{self, GithubReporter, GithubSettings};
use cargo_models::lockfile::LockfileError;
use cargo_models::ops::fetch::{FetchOptions, fetch};
use cargo_models::ops::{self, add, list, remove, update, verify};
use cargo_models::report::human_size;
use cargo_models::report::{HumanReporter, JsonReporter, Reporter};
use cargo_models::{Cache, Error, ErrorKind, Lockfile, Project, discover};

use cli::{
    Cli, Color, Command, GlobalArgs, ListFormat, LockArgs, MessageFormat, NetworkArgs, VerifyMode,
};

fn main() -> ExitCode {
    // `cargo models fetch` runs `cargo-models models fetch`.
    let mut args: Vec<_> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "models") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let out = Output::new(&cli.global);
    match run(&cli, &out) {
        Ok(code) => code,
        Err(e) => {
            out.render_error(&e);
            exit(e.kind())
        }
    }
}

fn exit(kind: ErrorKind) -> ExitCode {
    ExitCode::from(match kind {
        ErrorKind::Integrity => 1,
        ErrorKind::Input => 2,
        ErrorKind::Transfer => 3,
    })
}

/// How this run prints: the human reporter (also used for errors), or JSON events.
struct Output {
    human: HumanReporter,
    json: bool,
    /// GitHub Actions annotations, summary and outputs.
    github: bool,
    ci: bool,
    cwd: PathBuf,
}

impl Output {
    fn new(g: &GlobalArgs) -> Output {
        let tty = std::io::stderr().is_terminal();
        let color = use_color(g.color, tty);
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        let format = g.message_format.unwrap_or(
            if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
                MessageFormat::Github
            } else {
                MessageFormat::Human
            },
        );
        let json = format == MessageFormat::Json;
        Output {
            human: HumanReporter::new(tty && !ci && !json, g.quiet, color, g.verbose > 0),
            json,
            github: format == MessageFormat::Github,
            ci,
            cwd: std::env::current_dir().unwrap_or_default(),
        }
    }

    fn reporter(&self) -> &dyn Reporter {
        if self.json {
            &JsonReporter
        } else {
            &self.human
        }
    }

    fn relative<'a>(&self, p: &'a Path) -> &'a Path {
        p.strip_prefix(&self.cwd).unwrap_or(p)
    }

    /// The lockfile as GitHub annotations name it: relative to `$GITHUB_WORKSPACE`.
    fn workspace_relative(&self, p: &Path) -> String {
        let base = std::env::var_os("GITHUB_WORKSPACE")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.cwd.clone());
        let base = std::fs::canonicalize(&base).unwrap_or(base);
        let p = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        p.strip_prefix(&base).unwrap_or(&p).display().to_string()
    }

    /// The reporter for `fetch` and `verify`: in GitHub mode, one that also annotates and
    /// collects the summary and outputs.
    fn github_reporter<'a>(&'a self, lockfile: &Lockfile) -> Option<GithubReporter<'a>> {
        self.github.then(|| {
            let settings = GithubSettings {
                summary: std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from),
                output: std::env::var_os("GITHUB_OUTPUT").map(PathBuf::from),
                lockfile: self.workspace_relative(&lockfile.path),
            };
            GithubReporter::new(&self.human, settings, lockfile)
        })
    }

    fn render_error(&self, e: &Error) {
        match e {
            Error::Lockfile(e) => self.render_lockfile_error(e),
            Error::Diff(ops::diff::DiffError::Lockfiles(errors)) => {
                errors.iter().for_each(|e| self.render_lockfile_error(e))
            }
            other => self.human.error(&other.to_string()),
        }
    }

    fn render_lockfile_error(&self, e: &LockfileError) {
        match e {
            LockfileError::Invalid { path, problems } => {
                for p in problems {
                    self.human
                        .error(&format!("`{}`:{p}", self.relative(path).display()));
                }
                if self.github {
                    let file = self.workspace_relative(path);
                    for line in github::lockfile_problems(&file, problems) {
                        println!("{line}");
                    }
                }
            }
            other => self.human.error(&other.to_string()),
        }
    }
}

/// Whether to color a stream, given `--color` and whether the stream is a terminal.
fn use_color(choice: Color, tty: bool) -> bool {
    match choice {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Credentials from `NETRC` or `~/.netrc`, `HF_TOKEN` (for `huggingface.co`, `hf.co` and the
/// host of `HF_ENDPOINT`), and `CARGO_MODELS_AUTH_HEADER_<HOST>` variables.
fn credentials_from_env(human: &HumanReporter) -> Credentials {
    let netrc_path = std::env::var_os("NETRC")
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".netrc")));
    let netrc = netrc_path.and_then(|p| match Netrc::load(&p) {
        Ok(n) => n,
        Err(e) => {
            human.warning(&format!("ignoring the netrc file: {e}"));
            None
        }
    });
    let mut hf_hosts = vec!["huggingface.co".to_string(), "hf.co".to_string()];
    if let Some(host) = std::env::var("HF_ENDPOINT")
        .ok()
        .and_then(|e| url::Url::parse(&e).ok())
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
    {
        hf_hosts.push(host);
    }
    Credentials {
        netrc,
        hf_token: std::env::var("HF_TOKEN").ok().filter(|t| !t.is_empty()),
        hf_hosts,
        headers: std::env::vars()
            .filter_map(|(k, v)| Credentials::header_from_env(&k, &v))
            .collect(),
    }
}

fn lock_mode(a: &LockArgs) -> LockMode {
    if a.frozen {
        LockMode::Frozen
    } else if a.locked {
        LockMode::Locked
    } else {
        LockMode::Write
    }
}

/// Fetch settings shared by `fetch`, `add` and `update`.
fn fetch_options(out: &Output, n: &NetworkArgs, lock_timeout: Option<Duration>) -> FetchOptions {
    FetchOptions {
        lock_timeout,
        check_sources: out.ci,
        transport: TransportSettings {
            connect_timeout: Duration::from_secs_f64(n.connect_timeout),
            read_timeout: Duration::from_secs_f64(n.read_timeout),
            retries: n.retries,
            backoff: Duration::from_secs_f64(n.backoff),
            max_retry_after: Duration::from_secs_f64(n.max_retry_after),
            max_redirects: n.max_redirects,
            credentials: credentials_from_env(&out.human),
            ca_bundle: n
                .ca_bundle
                .clone()
                .or_else(|| std::env::var_os("SSL_CERT_FILE").map(PathBuf::from)),
        },
        ..FetchOptions::default()
    }
}

/// A URL, or a local path made into a `file://` URL.
fn source_url(arg: &str, cwd: &Path) -> Result<url::Url, Error> {
    if let Ok(u) = url::Url::parse(arg)
        && matches!(u.scheme(), "https" | "http" | "file")
    {
        return Ok(u);
    }
    let path = cwd.join(arg);
    if !path.is_file() {
        return Err(Error::Usage(format!(
            "`{arg}` is neither an http(s) or file URL nor an existing file"
        )));
    }
    url::Url::from_file_path(std::path::absolute(&path).unwrap_or(path))
        .map_err(|()| Error::Usage(format!("`{arg}` cannot be made a file URL")))
}

fn run(cli: &Cli, out: &Output) -> Result<ExitCode, Error> {
    if let Command::Diff(a) = &cli.command {
        return run_diff(a, &cli.global, out);
    }
    if let Command::Inspect(a) = &cli.command {
        return run_inspect(a, &cli.global, out);
    }
    let g = &cli.global;
    // Before the shared cache lock: `gc` takes it exclusively, `cache` only reads.
    match &cli.command {
        Command::Gc(a) => return run_gc(a, g, out),
        Command::Cache(a) => return run_cache(a, g),
        _ => {}
    }
    let found = match &g.lockfile {
        Some(p) => Some(p.clone()),
        None => discover::find_lockfile(&out.cwd),
    };
    let cache_dir = discover::cache_dir(g.cache_dir.clone())?;
    let cache = Cache::open(&cache_dir)?;
    let lock_timeout = g.lock_timeout.map(Duration::from_secs_f64);
    if let Command::Add(a) = &cli.command {
        let lockfile = found.unwrap_or_else(|| discover::new_lockfile_path(&out.cwd));
        let sha256 = match &a.sha256 {
            Some(h) => Some(
                h.parse()
                    .map_err(|e| Error::Usage(format!("--sha256 {e}")))?,
            ),
            None => None,
        };
        let mode = lock_mode(&a.lock);
        let mut fetch = fetch_options(out, &a.network, lock_timeout);
        fetch.offline = mode == LockMode::Frozen;
        let options = add::AddOptions {
            url: source_url(&a.url, &out.cwd)?,
            name: a.name.clone(),
            sha256,
            path: a.path.clone(),
            mirrors: a
                .mirrors
                .iter()
                .map(|m| source_url(m, &out.cwd))
                .collect::<Result<_, _>>()?,
            aliases: a.aliases.clone(),
            mode,
            fetch,
        };
        add::add(&lockfile, &cache, &options, out.reporter())?;
        return Ok(ExitCode::SUCCESS);
    }
    let lockfile_path = match found {
        Some(p) => p,
        None => discover::require_lockfile(&out.cwd)?,
    };
    let project = Project {
        lockfile: Lockfile::load(&lockfile_path)?,
        cache,
    };
    match &cli.command {
        Command::Add(_)
        | Command::Gc(_)
        | Command::Cache(_)
        | Command::Diff(_)
        | Command::Inspect(_) => {
            unreachable!("handled above")
        }
        Command::Remove(a) => {
            let removed =
                remove::remove(&lockfile_path, &a.names, &project.cache, lock_mode(&a.lock))?;
            for name in removed {
                out.human.status(
                    "Removed",
                    &format!(
                        "{name} from {}",
                        out.relative(&project.lockfile.path).display()
                    ),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Update(a) => {
            let mode = lock_mode(&a.lock);
            let mut options = fetch_options(out, &a.network, lock_timeout);
            options.offline = mode == LockMode::Frozen;
            let results = update::update(
                &lockfile_path,
                &a.names,
                &project.cache,
                mode,
                &options,
                out.reporter(),
            )?;
            for u in &results {
                if out.json {
                    println!(
                        "{}",
                        serde_json::json!({"reason": "updated", "changed": u.changed(), "model": u})
                    );
                } else if u.changed() {
                    out.human.status(
                        "Updated",
                        &format!(
                            "{}: {} ({}) -> {} ({})",
                            u.name,
                            u.old_sha256.short(),
                            u.old_size.map_or("size not pinned".into(), human_size),
                            u.sha256.short(),
                            human_size(u.size)
                        ),
                    );
                } else {
                    out.human
                        .status("Unchanged", &format!("{} ({})", u.name, u.sha256.short()));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch(a) => {
            let models = project.lockfile.select(&a.names)?;
            let mode = lock_mode(&a.lock);
            let unsized_models: Vec<String> = models
                .iter()
                .filter(|m| m.size.is_none())
                .map(|m| format!("`{}`", m.name))
                .collect();
            if !unsized_models.is_empty() {
                mode.allow(&lockfile_path, || {
                    format!("pinning the `size` of {}", unsized_models.join(", "))
                })?;
            }
            let offline_env = std::env::var("CARGO_NET_OFFLINE").is_ok_and(|v| v == "true");
            let mut options = fetch_options(out, &a.network, lock_timeout);
            options.jobs = a.jobs.max(1);
            options.offline = a.offline || offline_env || mode == LockMode::Frozen;
            options.full_verify = a.verify == VerifyMode::Full;
            options.force = a.force;
            if a.check_sources || a.no_check_sources {
                options.check_sources = a.check_sources;
            }
            let github = out.github_reporter(&project.lockfile);
            let reporter: &dyn Reporter = match &github {
                Some(g) => g,
                None => out.reporter(),
            };
            let report = fetch(
                &project.lockfile,
                &models,
                &project.cache,
                &options,
                reporter,
            );
            if let Some(g) = &github {
                g.finish("fetch");
            }
            let sizes: Vec<_> = models
                .iter()
                .zip(&report.results)
                .filter(|(m, _)| m.size.is_none())
                .filter_map(|(m, (_, r))| {
                    r.as_ref().ok().map(|f| (m.name.clone(), m.sha256, f.size))
                })
                .collect();
            update::pin_sizes(&lockfile_path, &project.cache, &sizes)?;
            let failures: Vec<_> = report.failures().collect();
            if failures.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            let list: Vec<String> = failures
                .iter()
                .map(|f| format!("`{}` ({})", f.name(), f.summary()))
                .collect();
            out.human.error(&format!(
                "{} of {} models failed: {}",
                failures.len(),
                models.len(),
                list.join(", ")
            ));
            Ok(exit(
                failures.iter().map(|f| f.kind()).min().expect("non-empty"),
            ))
        }
        Command::Verify(a) => {
            let models = project.lockfile.select(&a.names)?;
            let jobs = a.jobs.unwrap_or_else(ops::default_hash_jobs).max(1);
            let github = out.github_reporter(&project.lockfile);
            let reporter: &dyn Reporter = match &github {
                Some(g) => g,
                None => out.reporter(),
            };
            let results = if a.fast {
                verify::verify_fast(&models, &project.cache, jobs, reporter)
            } else {
                verify::verify(&models, &project.cache, jobs, lock_timeout, reporter)
            };
            if let Some(g) = &github {
                g.finish("verify");
            }
            let ok = models
                .iter()
                .zip(&results)
                .filter(|(_, (_, v))| v.is_ok())
                .map(|(m, _)| &m.sha256);
            cargo_models::usage::record_use(&project.cache, &project.lockfile.path, ok);
            let bad: Vec<_> = results.iter().filter(|(_, v)| !v.is_ok()).collect();
            if bad.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            let names: Vec<String> = bad.iter().map(|(n, _)| format!("`{n}`")).collect();
            out.human.error(&format!(
                "{} of {} models failed verification: {}",
                bad.len(),
                models.len(),
                names.join(", ")
            ));
            let io_only = bad
                .iter()
                .all(|(_, v)| matches!(v, verify::Verdict::Failed { .. }));
            Ok(exit(if io_only {
                ErrorKind::Transfer
            } else {
                ErrorKind::Integrity
            }))
        }
        Command::Path(a) => {
            println!("{}", project.model_path(&a.name)?.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::List(a) => {
            let models = project.lockfile.select(&[])?;
            let rows = list::list(&models, &project.cache);
            match a.format {
                ListFormat::Text => print!("{}", list::render_table(&rows)),
                ListFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&rows).expect("rows serialize")
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `gc` works on the cache alone: no lockfile needed.
fn run_gc(a: &cli::GcArgs, g: &GlobalArgs, out: &Output) -> Result<ExitCode, Error> {
    use cargo_models::ops::gc;
    let cache = Cache::open(&discover::cache_dir(g.cache_dir.clone())?)?;
    let options = gc::GcOptions {
        max_size: a.max_size,
        older_than: a.older_than,
        dry_run: a.dry_run,
        all: a.all,
    };
    let waiting = || {
        out.human.status(
            "Blocking",
            "waiting for other cargo-models processes using the cache",
        )
    };
    let report = match gc::gc(&cache, &options, waiting) {
        Ok(report) => report,
        Err(e) => {
            out.human.error(&e.to_string());
            return Ok(exit(e.kind()));
        }
    };
    match a.format {
        ListFormat::Text => {
            for (verb, message) in gc::render(&report, std::time::SystemTime::now()) {
                out.human.status(verb, &message);
            }
        }
        ListFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serializes")
        ),
    }
    for warning in report.warnings() {
        out.human.warning(&warning);
    }
    Ok(ExitCode::SUCCESS)
}

/// `cache` works on the cache alone: no lockfile needed, and no lock (it only reads).
fn run_cache(a: &cli::CacheArgs, g: &GlobalArgs) -> Result<ExitCode, Error> {
    use cargo_models::ops::cache_info;
    let cache = Cache::open(&discover::cache_dir(g.cache_dir.clone())?)?;
    let info = cache_info::cache_info(&cache);
    match a.format {
        ListFormat::Text => print!("{}", cache_info::render(&info)),
        ListFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&info).expect("info serializes")
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `inspect` of a FILE needs no lockfile or cache; a NAME is read from the cache, never
/// downloaded.
fn run_inspect(a: &cli::InspectArgs, g: &GlobalArgs, out: &Output) -> Result<ExitCode, Error> {
    use cargo_models::ops::inspect;
    let file = out.cwd.join(&a.target);
    let (path, model) = if file.is_file() {
        (file, None)
    } else {
        let lockfile = match &g.lockfile {
            Some(p) => p.clone(),
            None => discover::find_lockfile(&out.cwd).ok_or_else(|| {
                Error::Usage(format!(
                    "`{}` is not a file, and there is no models.lock to look it up in",
                    a.target
                ))
            })?,
        };
        let project = Project::open(&lockfile, &discover::cache_dir(g.cache_dir.clone())?)?;
        let name = project.lockfile.select(std::slice::from_ref(&a.target))?[0]
            .name
            .clone();
        (project.model_path(&name)?, Some(name))
    };
    let inspection = inspect::inspect(&path, model.as_deref())?;
    match a.format {
        ListFormat::Text => print!("{}", inspect::render(&inspection, out.relative(&path))),
        ListFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&inspection).expect("inspection serializes")
        ),
    }
    Ok(if inspection.is_damaged() {
        exit(ErrorKind::Integrity)
    } else {
        ExitCode::SUCCESS
    })
}

/// `diff` needs no cache, and no lockfile on disk.
fn run_diff(a: &cli::DiffArgs, g: &GlobalArgs, out: &Output) -> Result<ExitCode, Error> {
    use cargo_models::diff::{render_json, render_markdown, render_text};
    use std::io::Write;
    let (text, changed) = match &a.textconv {
        Some(file) => (ops::diff::textconv(file)?, false),
        None => {
            let lockfile = g.lockfile.clone().unwrap_or_else(|| {
                discover::find_lockfile(&out.cwd)
                    .unwrap_or_else(|| discover::new_lockfile_path(&out.cwd))
            });
            let diff = ops::diff::diff(&ops::diff::DiffOptions {
                old: a.old.clone(),
                new: a.new.clone(),
                lockfile,
                cwd: out.cwd.clone(),
            })?;
            let text = match a.format {
                cli::DiffFormat::Text => {
                    render_text(&diff, use_color(g.color, std::io::stdout().is_terminal()))
                }
                cli::DiffFormat::Markdown => render_markdown(&diff),
                cli::DiffFormat::Json => render_json(&diff),
            };
            (text, diff.has_changes())
        }
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(ExitCode::from(u8::from(a.exit_code && changed)))
}
