//! GitHub Actions: workflow-command annotations on the exact `models.lock` line, a Markdown step
//! summary, and step outputs. Rendered from the same events as every other output.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::hash::Sha256Digest;
use crate::lockfile::{Lockfile, Problem};
use crate::ops::verify::Verdict;
use crate::report::{Event, HumanReporter, Ready, Reporter, human_size};

/// GitHub shows about this many annotations per step; the summary lists the rest.
pub const MAX_ANNOTATIONS: usize = 10;

/// GitHub truncates step summaries above 1 MiB; stay under it.
pub const MAX_SUMMARY: usize = 1000 * 1024;

/// Escapes the message of a workflow command (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command (also `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error file=…,line=…[,col=…],title=…::message`
pub fn error_command(
    file: &str,
    line: usize,
    col: Option<usize>,
    title: &str,
    message: &str,
) -> String {
    let col = col.map(|c| format!(",col={c}")).unwrap_or_default();
    format!(
        "::error file={},line={line}{col},title={}::{}",
        escape_property(file),
        escape_property(title),
        escape_data(message)
    )
}

/// Annotations for the problems of an invalid lockfile, shown as `file` (workspace-relative).
pub fn lockfile_problems(file: &str, problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .take(MAX_ANNOTATIONS)
        .map(|p| {
            let message = match &p.entry {
                Some(e) => format!("model `{e}`: {}", p.message),
                None => p.message.clone(),
            };
            error_command(
                file,
                p.line,
                Some(p.column),
                "invalid models.lock",
                &message,
            )
        })
        .collect()
}

/// Where GitHub wants the results, resolved from the environment by the CLI.
#[derive(Debug, Clone, Default)]
pub struct GithubSettings {
    /// `$GITHUB_STEP_SUMMARY`
    pub summary: Option<PathBuf>,
    /// `$GITHUB_OUTPUT`
    pub output: Option<PathBuf>,
    /// The lockfile as annotations name it: relative to `$GITHUB_WORKSPACE`.
    pub lockfile: String,
}

/// One model's result, for the summary and outputs.
#[derive(Debug, Clone)]
struct Row {
    name: String,
    sha256: Sha256Digest,
    size: Option<u64>,
    result: String,
    failed: bool,
    seconds: Option<f64>,
    path: Option<PathBuf>,
    detail: Option<String>,
}

/// What an event says of a model, before the lockfile fills in the rest of its [`Row`].
#[derive(Default)]
struct Outcome {
    result: String,
    failed: bool,
    seconds: Option<f64>,
    path: Option<PathBuf>,
    detail: Option<String>,
    size: Option<u64>,
}

/// Human output on stderr, plus annotations on stdout; [`GithubReporter::finish`] writes the
/// step summary and outputs.
pub struct GithubReporter<'a> {
    human: &'a HumanReporter,
    settings: GithubSettings,
    /// name → (line of its `sha256` key, pinned size, digest)
    models: HashMap<String, (usize, Option<u64>, Sha256Digest)>,
    rows: Mutex<Vec<Row>>,
    /// How many annotations were printed, and where they go (stdout, where the runner reads
    /// workflow commands).
    annotations: Mutex<(usize, Box<dyn Write + Send>)>,
}

impl<'a> GithubReporter<'a> {
    pub fn new(human: &'a HumanReporter, settings: GithubSettings, lockfile: &Lockfile) -> Self {
        GithubReporter {
            human,
            settings,
            models: lockfile
                .models
                .iter()
                .map(|m| (m.name.clone(), (m.sha256_line, m.size, m.sha256)))
                .collect(),
            rows: Mutex::new(Vec::new()),
            annotations: Mutex::new((0, Box::new(std::io::stdout()))),
        }
    }

    /// Sends the annotations to `out` instead of stdout (for tests).
    pub fn with_annotations_to(self, out: Box<dyn Write + Send>) -> Self {
        *self.annotations.lock().unwrap() = (0, out);
        self
    }

    fn annotate(&self, name: &str, title: &str, message: &str) {
        let mut guard = self.annotations.lock().unwrap();
        let (count, out) = &mut *guard;
        if *count >= MAX_ANNOTATIONS {
            return;
        }
        *count += 1;
        let line = self.models.get(name).map_or(1, |m| m.0);
        let _ = writeln!(
            out,
            "{}",
            error_command(&self.settings.lockfile, line, None, title, message)
        );
        let _ = out.flush();
    }

    /// Records a model's result; `sha256` and a missing `size` come from the lockfile.
    fn row(&self, name: &str, row: Outcome) {
        let Some((_, pinned, sha256)) = self.models.get(name) else {
            return;
        };
        self.rows.lock().unwrap().push(Row {
            name: name.to_string(),
            sha256: *sha256,
            size: row.size.or(*pinned),
            result: row.result,
            failed: row.failed,
            seconds: row.seconds,
            path: row.path,
            detail: row.detail,
        });
    }

    /// The step summary's Markdown: failures first, then the rest by name.
    pub fn summary(&self, command: &str) -> String {
        let mut rows = self.rows.lock().unwrap().clone();
        rows.sort_by(|a, b| b.failed.cmp(&a.failed).then(a.name.cmp(&b.name)));
        let failed = rows.iter().filter(|r| r.failed).count();
        let mut md = format!(
            "### cargo models {command}: {} model{}, {}\n\n| | model | sha256 | size | result | seconds |\n|---|---|---|---:|---|---:|\n",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            if failed == 0 {
                "all verified".to_string()
            } else {
                format!("{failed} failed")
            }
        );
        let mut details = String::new();
        for (i, r) in rows.iter().enumerate() {
            let line = format!(
                "| {} | `{}` | `{}` | {} | {} | {} |\n",
                if r.failed { "❌" } else { "✅" },
                r.name,
                r.sha256.short(),
                r.size.map_or("?".to_string(), human_size),
                r.result,
                r.seconds.map_or("".to_string(), |s| format!("{s:.2}"))
            );
            if md.len() + line.len() + details.len() > MAX_SUMMARY - 200 {
                md.push_str(&format!(
                    "\n… and {} more models (summary size limit)\n",
                    rows.len() - i
                ));
                break;
            }
            md.push_str(&line);
            if let Some(d) = &r.detail {
                details.push_str(&format!(
                    "\n<details><summary>{}</summary>\n\n```\n{d}\n```\n</details>\n",
                    r.name
                ));
            }
        }
        if md.len() + details.len() <= MAX_SUMMARY {
            md.push_str(&details);
        }
        md
    }

    /// The step outputs: `verified`, `failed`, and `models` (JSON name → blob path) in the
    /// heredoc form.
    pub fn outputs(&self) -> String {
        let rows = self.rows.lock().unwrap();
        let verified = rows.iter().filter(|r| !r.failed).count();
        let paths: std::collections::BTreeMap<&str, String> = rows
            .iter()
            .filter_map(|r| {
                r.path
                    .as_ref()
                    .map(|p| (r.name.as_str(), p.display().to_string()))
            })
            .collect();
        let json = serde_json::to_string(&paths).expect("paths serialize");
        let mut delimiter = "cargo_models_EOF".to_string();
        while json.contains(&delimiter) {
            delimiter.push('_');
        }
        format!(
            "verified={verified}\nfailed={}\nmodels<<{delimiter}\n{json}\n{delimiter}\n",
            rows.len() - verified
        )
    }

    /// Appends the summary and outputs to the files GitHub named.
    pub fn finish(&self, command: &str) {
        let append = |path: &Option<PathBuf>, text: String| {
            if let Some(p) = path
                && let Ok(mut f) = OpenOptions::new().create(true).append(true).open(p)
            {
                let _ = f.write_all(text.as_bytes());
            }
        };
        append(&self.settings.summary, self.summary(command));
        append(&self.settings.output, self.outputs());
    }
}

impl Reporter for GithubReporter<'_> {
    fn event(&self, event: &Event<'_>) {
        self.human.event(event);
        match event {
            Event::ModelReady {
                name,
                size,
                how,
                seconds,
                path,
                ..
            } => {
                let result = match how {
                    Ready::Cached => "cached",
                    Ready::Rehashed => "verified",
                    Ready::Downloaded => "downloaded",
                };
                self.row(
                    name,
                    Outcome {
                        result: result.into(),
                        seconds: Some(*seconds),
                        path: Some(path.to_path_buf()),
                        size: Some(*size),
                        ..Outcome::default()
                    },
                );
            }
            Event::ModelFailed { name, error } => {
                let text = error.to_string();
                self.annotate(name, error.summary(), &text);
                self.row(
                    name,
                    Outcome {
                        result: error.summary().into(),
                        failed: true,
                        detail: Some(text),
                        ..Outcome::default()
                    },
                );
            }
            Event::Verified { name, verdict, .. } => match verdict {
                Verdict::Ok { size } => self.row(
                    name,
                    Outcome {
                        result: "verified".into(),
                        size: Some(*size),
                        ..Outcome::default()
                    },
                ),
                other => {
                    let (title, text) = match other {
                        Verdict::Missing => (
                            "model missing".to_string(),
                            format!("`{name}` is not in the cache; run `cargo models fetch`"),
                        ),
                        Verdict::Corrupt {
                            actual,
                            size,
                            cause,
                        } => (
                            "model hash mismatch".to_string(),
                            format!(
                                "`{name}` was corrupt in the cache (sha256 {actual}, {size} bytes) and was removed{}",
                                cause.as_ref().map_or(String::new(), |c| format!("; {c}"))
                            ),
                        ),
                        Verdict::Mismatch { message } => {
                            ("model mismatch (fast check)".to_string(), message.clone())
                        }
                        Verdict::Failed { message } => {
                            ("model could not be verified".to_string(), message.clone())
                        }
                        Verdict::Ok { .. } => unreachable!(),
                    };
                    self.annotate(name, &title, &text);
                    self.row(
                        name,
                        Outcome {
                            result: title,
                            failed: true,
                            detail: Some(text),
                            ..Outcome::default()
                        },
                    );
                }
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn workflow_commands_are_escaped() {
        insta::assert_snapshot!(error_command(
            "ml/models, v2.lock",
            12,
            Some(3),
            "model hash mismatch: 50%",
            "line one\r\nline two: 100%"
        ), @"::error file=ml/models%2C v2.lock,line=12,col=3,title=model hash mismatch%3A 50%25::line one%0D%0Aline two: 100%25");
    }

    fn lockfile() -> Lockfile {
        let entry = |name: &str, c: char| {
            format!(
                "[[model]]\nname = \"{name}\"\nurl = \"https://x/{name}\"\nsha256 = \"{}\"\nsize = 2048\n",
                c.to_string().repeat(64)
            )
        };
        Lockfile::parse(
            &format!(
                "version = 1\n{}{}{}",
                entry("b", 'b'),
                entry("a", 'a'),
                entry("c.v2", 'c')
            ),
            Path::new("models.lock"),
        )
        .unwrap()
    }

    #[test]
    fn summary_lists_failures_first_and_outputs_use_a_heredoc() {
        let human = HumanReporter::new(false, true, false, false);
        let lock = lockfile();
        let r = GithubReporter::new(
            &human,
            GithubSettings {
                lockfile: "models.lock".into(),
                ..Default::default()
            },
            &lock,
        )
        .with_annotations_to(Box::new(std::io::sink()));
        let sha = lock.models[0].sha256;
        r.event(&Event::ModelReady {
            name: "a",
            sha256: &sha,
            size: 2048,
            how: Ready::Downloaded,
            seconds: 0.5,
            path: Path::new("/cache/blobs-v1/a"),
            link: None,
        });
        r.event(&Event::ModelReady {
            name: "c.v2",
            sha256: &sha,
            size: 2048,
            how: Ready::Cached,
            seconds: 0.0,
            path: Path::new("/cache/blobs-v1/c"),
            link: None,
        });
        r.event(&Event::Verified {
            name: "b",
            sha256: &sha,
            verdict: &Verdict::Missing,
        });
        insta::assert_snapshot!(r.summary("fetch"));
        insta::assert_snapshot!(r.outputs(), @r#"
        verified=2
        failed=1
        models<<cargo_models_EOF
        {"a":"/cache/blobs-v1/a","c.v2":"/cache/blobs-v1/c"}
        cargo_models_EOF
        "#);
    }
}
