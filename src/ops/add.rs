//! `cargo models add`: download a file once, learning its SHA-256 and size in the same pass,
//! and pin it in `models.lock`.

use std::path::Path;

use url::Url;

use crate::Error;
use crate::cache::Cache;
use crate::edit::{LockMode, LockfileEdit, NewModel};
use crate::formats::Fingerprint;
use crate::hash::Sha256Digest;
use crate::lockfile::{LockedModel, Lockfile, name_problem};
use crate::ops::fetch::{FetchOptions, fetch, fetch_new};
use crate::report::{Event, Reporter};

/// What to add.
#[derive(Debug, Clone)]
pub struct AddOptions {
    pub url: Url,
    /// The entry's name [default: the URL's file name without its extension, made valid].
    pub name: Option<String>,
    /// The expected hash: a download with another one is a mismatch and nothing is written.
    pub sha256: Option<Sha256Digest>,
    pub path: Option<String>,
    pub mirrors: Vec<Url>,
    pub aliases: Vec<String>,
    pub mode: LockMode,
    pub fetch: FetchOptions,
}

/// The name `add` gives a URL: its file name without extension, with every character that a
/// name may not have replaced by `-`.
pub fn default_name(url: &Url) -> String {
    let file = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_else(|| "model".to_string());
    let file = file.as_str();
    let stem = match file.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file,
    };
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if name.is_empty() || name == "." || name == ".." {
        "model".to_string()
    } else {
        name
    }
}

/// For a Hugging Face URL that follows a branch (`resolve/main/…`) rather than a commit, the
/// warning to give, with the pinned form to use.
pub fn moving_revision(url: &Url) -> Option<String> {
    let rev = crate::diff::revision(url)
        .filter(|r| r.forge == crate::diff::Forge::HuggingFace && !r.is_commit())?;
    let host = url.host_str()?;
    let mut pinned: Vec<&str> = url.path_segments()?.collect();
    pinned[rev.segment] = "<commit>";
    Some(format!(
        "{url} follows the branch `{}`, so the file behind it can change; pin a commit instead: https://{host}/{} (the commit is on the model's page, or in the `X-Repo-Commit` header of the response)",
        rev.name,
        pinned.join("/")
    ))
}

fn name_taken(lockfile: &Lockfile, name: &str, aliases: &[String]) -> Result<(), Error> {
    let taken = |n: &str| {
        lockfile
            .models
            .iter()
            .find(|m| m.name == n || m.aliases.iter().any(|a| a == n))
    };
    for n in std::iter::once(name).chain(aliases.iter().map(String::as_str)) {
        if let Some(m) = taken(n) {
            return Err(Error::NameTaken {
                name: n.to_string(),
                owner: m.name.clone(),
                lockfile: lockfile.path.clone(),
                line: m.line,
            });
        }
    }
    Ok(())
}

/// Adds the file at `options.url` to the lockfile at `lockfile_path` (created if missing).
pub fn add(
    lockfile_path: &Path,
    cache: &Cache,
    options: &AddOptions,
    reporter: &dyn Reporter,
) -> Result<Lockfile, Error> {
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| default_name(&options.url));
    if let Some(problem) = name_problem("name", &name) {
        return Err(Error::Usage(format!(
            "{problem}; choose a name with --name"
        )));
    }
    for alias in &options.aliases {
        if let Some(problem) = name_problem("alias", alias) {
            return Err(Error::Usage(problem));
        }
    }
    if lockfile_path.exists() {
        name_taken(&Lockfile::load(lockfile_path)?, &name, &options.aliases)?;
    }
    options
        .mode
        .allow(lockfile_path, || format!("adding `{name}`"))?;
    if let Some(warning) = moving_revision(&options.url) {
        reporter.event(&Event::Warning {
            name: Some(&name),
            message: warning,
        });
    }
    let sources: Vec<Url> = std::iter::once(options.url.clone())
        .chain(options.mirrors.iter().cloned())
        .collect();
    let (sha256, size) = match options.sha256 {
        Some(pinned) => {
            let model = LockedModel {
                name: name.clone(),
                url: options.url.clone(),
                sha256: pinned,
                size: None,
                mirrors: options.mirrors.clone(),
                path: None,
                aliases: Vec::new(),
                fingerprint: None,
                line: 0,
                sha256_line: 0,
            };
            let draft = Lockfile {
                path: lockfile_path.to_path_buf(),
                models: vec![model],
            };
            let report = fetch(&draft, &[&draft.models[0]], cache, &options.fetch, reporter);
            match report.results.into_iter().next().expect("one model").1 {
                Ok(fetched) => (pinned, fetched.size),
                Err(e) => return Err(e.into()),
            }
        }
        None => fetch_new(&name, &sources, cache, &options.fetch, reporter)?,
    };
    let fingerprint = fingerprint(cache, &sha256, &name, reporter);
    let lockfile = {
        let _guard = cache.lock_lockfile(lockfile_path)?;
        let mut edit = LockfileEdit::open(lockfile_path)?;
        if lockfile_path.exists() {
            // Another `add` may have landed while this one downloaded.
            name_taken(&Lockfile::load(lockfile_path)?, &name, &options.aliases)?;
        }
        edit.add(&NewModel {
            name: name.clone(),
            url: options.url.to_string(),
            sha256,
            size,
            fingerprint,
            mirrors: options.mirrors.iter().map(ToString::to_string).collect(),
            aliases: options.aliases.clone(),
            path: options.path.clone(),
        });
        edit.save()?
    };
    crate::usage::record_use(cache, &lockfile.path, [&sha256]);
    reporter.event(&Event::Added {
        name: &name,
        sha256: &sha256,
        size,
        lockfile: &lockfile.path,
    });
    if options.path.is_some() {
        let model = lockfile.get(&name).expect("just added");
        let report = fetch(&lockfile, &[model], cache, &options.fetch, reporter);
        if let Some(Err(e)) = report.results.into_iter().next().map(|r| r.1) {
            return Err(e.into());
        }
    }
    Ok(lockfile)
}

/// The structural fingerprint of the cached blob `sha256`, read from its header; `None` for
/// other formats, and with a warning for a safetensors or GGUF file whose header is bad.
pub(crate) fn fingerprint(
    cache: &Cache,
    sha256: &Sha256Digest,
    name: &str,
    reporter: &dyn Reporter,
) -> Option<Fingerprint> {
    match crate::formats::fingerprint_file(&cache.blob_path(sha256)) {
        Ok(f) => f,
        Err(e) => {
            reporter.event(&Event::Warning {
                name: Some(name),
                message: format!("no `fingerprint` recorded: {e}"),
            });
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_come_from_the_file_name() {
        let name = |u: &str| default_name(&Url::parse(u).unwrap());
        assert_eq!(name("https://x/org/tiny-bert.safetensors"), "tiny-bert");
        assert_eq!(
            name("https://x/a/Llama 3 (8B).Q4_K_M.gguf"),
            "Llama-3--8B-.Q4_K_M"
        );
        assert_eq!(name("https://x/"), "model");
    }

    #[test]
    fn branch_urls_on_hugging_face_are_flagged() {
        let warn = |u: &str| moving_revision(&Url::parse(u).unwrap());
        let w = warn("https://huggingface.co/org/repo/resolve/main/model.safetensors").unwrap();
        assert!(
            w.contains("https://huggingface.co/org/repo/resolve/<commit>/model.safetensors"),
            "{w}"
        );
        assert!(
            warn(&format!(
                "https://huggingface.co/org/repo/resolve/{}/m.gguf",
                "a".repeat(40)
            ))
            .is_none()
        );
        assert!(warn("https://example.org/org/repo/resolve/main/m.gguf").is_none());
    }
}
