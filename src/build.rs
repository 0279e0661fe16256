//! Helpers for build scripts: fail `cargo build` with a clear message when a pinned model is
//! missing or corrupt, and hand its verified path to the crate through `env!`.
//!
//! In `build.rs`'s `main`:
//!
//! ```no_run
//! cargo_models::build::require(&["tiny-bert"]);
//! ```
//!
//! and in the crate: `const WEIGHTS: &str = env!("CARGO_MODELS_TINY_BERT");`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use crate::ops::fetch::{FetchOptions, fetch};
use crate::report::Silent;
use crate::{Error, Project};

/// What a build script needs: a set of models, and whether it may download missing ones.
#[derive(Debug, Clone, Default)]
pub struct Require {
    names: Vec<String>,
    fetch_missing: bool,
}

impl Require {
    pub fn new(names: &[&str]) -> Require {
        Require {
            names: names.iter().map(|n| n.to_string()).collect(),
            fetch_missing: false,
        }
    }

    /// Download models that are not cached (off by default, so builds work offline once
    /// fetched and never surprise anyone with a multi-GB download).
    pub fn fetch_missing(mut self, yes: bool) -> Require {
        self.fetch_missing = yes;
        self
    }

    /// Checks the models of the project found from `CARGO_MANIFEST_DIR` and prints the
    /// `cargo:` lines on stdout, where cargo reads them; see [`Require::run_in`].
    pub fn run(&self) -> Result<Vec<PathBuf>, Error> {
        self.run_in(&Project::from_env()?, &mut std::io::stdout().lock())
    }

    /// Checks the models and writes the `cargo:` lines to `out`: `rerun-if-changed` for
    /// `models.lock` and each blob, and `rustc-env=CARGO_MODELS_<NAME>=<path>` for each model
    /// (the name upper-cased, other characters than letters and digits as `_`). Returns the
    /// verified paths.
    pub fn run_in(&self, project: &Project, out: &mut dyn Write) -> Result<Vec<PathBuf>, Error> {
        let io = |e: std::io::Error| Error::Output(e.to_string());
        writeln!(
            out,
            "cargo:rerun-if-changed={}",
            project.lockfile.path.display()
        )
        .map_err(io)?;
        writeln!(out, "cargo:rerun-if-env-changed=CARGO_MODELS_CACHE").map_err(io)?;
        if self.fetch_missing {
            let models = project.lockfile.select(&self.names)?;
            let report = fetch(
                &project.lockfile,
                &models,
                &project.cache,
                &FetchOptions::default(),
                &Silent,
            );
            if let Some((_, Err(e))) = report.results.into_iter().find(|(_, r)| r.is_err()) {
                return Err(e.into());
            }
        }
        let mut seen: HashMap<String, &str> = HashMap::new();
        let mut paths = Vec::new();
        for name in &self.names {
            let path = project.model_path(name)?;
            let var = env_name(name);
            if let Some(other) = seen.insert(var.clone(), name) {
                return Err(Error::Output(format!(
                    "models `{other}` and `{name}` both map to the variable {var}"
                )));
            }
            writeln!(out, "cargo:rerun-if-changed={}", path.display()).map_err(io)?;
            writeln!(out, "cargo:rustc-env={var}={}", path.display()).map_err(io)?;
            paths.push(path);
        }
        Ok(paths)
    }
}

/// `CARGO_MODELS_` and the name upper-cased, with every other character than A-Z and 0-9 as `_`.
pub fn env_name(name: &str) -> String {
    let tail: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("CARGO_MODELS_{tail}")
}

/// [`Require::run`] for `names`, without downloading; on failure prints the error and exits,
/// which fails the build with that message.
pub fn require(names: &[&str]) -> Vec<PathBuf> {
    match Require::new(names).run() {
        Ok(paths) => paths,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn env_names() {
        assert_eq!(super::env_name("tiny-bert.v2"), "CARGO_MODELS_TINY_BERT_V2");
    }
}
