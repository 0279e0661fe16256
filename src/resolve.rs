//! One resolver for every command that takes a model: a query may be an entry's name, an
//! alias, a full or short SHA-256, the file name of its URL, `name [shorthash]`, or a
//! case-insensitive part of any of those.

use std::fmt;
use std::path::PathBuf;

use crate::lockfile::{LockedModel, Lockfile};

/// Shortest hex prefix accepted as a short hash (Stable Diffusion's legacy hash is 8 hex).
pub const MIN_SHORT_HASH: usize = 8;

/// A query that did not name exactly one entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "no model matches `{query}` in `{}`{}",
        lockfile.display(),
        suggestion(suggestions)
    )]
    NotFound {
        query: String,
        lockfile: PathBuf,
        suggestions: Vec<String>,
    },
    #[error("`{query}` is ambiguous in `{}`; it matches:\n{}\nuse a full name, an alias or a longer hash", lockfile.display(), Candidates(candidates))]
    Ambiguous {
        query: String,
        lockfile: PathBuf,
        /// (name, 10-hex short hash) of every match.
        candidates: Vec<(String, String)>,
    },
}

struct Candidates<'a>(&'a [(String, String)]);

impl fmt::Display for Candidates<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.0.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let lines: Vec<String> = self
            .0
            .iter()
            .map(|(n, h)| format!("  {n:<width$}  {h}"))
            .collect();
        f.write_str(&lines.join("\n"))
    }
}

fn suggestion(s: &[String]) -> String {
    if s.is_empty() {
        "; run `cargo models list` to see its models".to_string()
    } else {
        let ticked: Vec<String> = s.iter().map(|n| format!("`{n}`")).collect();
        format!("; did you mean {}?", ticked.join(" or "))
    }
}

/// The last path segment of the entry's URL, and that without its extension.
fn file_names(model: &LockedModel) -> Option<(String, String)> {
    let name = model
        .url
        .path_segments()?
        .next_back()
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })?;
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => name.clone(),
    };
    Some((name, stem))
}

/// Finds the one entry `query` names; see the module docs for the order of the steps.
pub fn resolve<'a>(lockfile: &'a Lockfile, query: &str) -> Result<&'a LockedModel, ResolveError> {
    let models = &lockfile.models;
    let one = |matches: Vec<&'a LockedModel>| -> Option<Result<&'a LockedModel, ResolveError>> {
        match matches.as_slice() {
            [] => None,
            [m] => Some(Ok(*m)),
            _ => Some(Err(ambiguous(lockfile, query, &matches))),
        }
    };
    let q = query.trim();
    let hex = q.len() >= MIN_SHORT_HASH && q.bytes().all(|b| b.is_ascii_hexdigit());
    let lower = q.to_ascii_lowercase();
    let steps: [&dyn Fn(&LockedModel) -> bool; 5] = [
        &|m| m.name == q,
        &|m| m.aliases.iter().any(|a| a == q),
        &|m| hex && q.len() == 64 && m.sha256.to_hex() == lower,
        &|m| hex && m.sha256.to_hex().starts_with(&lower),
        &|m| file_names(m).is_some_and(|(f, s)| f == q || s == q),
    ];
    for step in steps {
        if let Some(r) = one(models.iter().filter(|m| step(m)).collect()) {
            return r;
        }
    }
    // `name [shorthash]`, as Stable Diffusion's web UI shows a checkpoint.
    if let Some((name, rest)) = q.rsplit_once(" [")
        && let Some(short) = rest.strip_suffix(']')
    {
        let short = short.to_ascii_lowercase();
        let matches = models
            .iter()
            .filter(|m| {
                (m.name == name.trim() || m.aliases.iter().any(|a| a == name.trim()))
                    && short.len() >= MIN_SHORT_HASH
                    && m.sha256.to_hex().starts_with(&short)
            })
            .collect();
        if let Some(r) = one(matches) {
            return r;
        }
    }
    // A part of a name, alias or file name; the shortest matching string wins.
    let mut best: Vec<(usize, &LockedModel)> = Vec::new();
    for m in models {
        let mut texts: Vec<String> = vec![m.name.clone()];
        texts.extend(m.aliases.iter().cloned());
        if let Some((f, _)) = file_names(m) {
            texts.push(f);
        }
        let shortest = texts
            .iter()
            .filter(|t| t.to_ascii_lowercase().contains(&lower))
            .map(String::len)
            .min();
        if let Some(len) = shortest
            && !lower.is_empty()
        {
            best.push((len, m));
        }
    }
    if let Some(min) = best.iter().map(|(l, _)| *l).min() {
        let winners: Vec<&LockedModel> = best
            .iter()
            .filter(|(l, _)| *l == min)
            .map(|(_, m)| *m)
            .collect();
        if let Some(r) = one(winners) {
            return r;
        }
    }
    let known: Vec<&str> = models
        .iter()
        .flat_map(|m| std::iter::once(m.name.as_str()).chain(m.aliases.iter().map(String::as_str)))
        .collect();
    Err(ResolveError::NotFound {
        query: query.to_string(),
        lockfile: lockfile.path.clone(),
        suggestions: crate::lockfile::closest(q, &known)
            .map(|s| vec![s.to_string()])
            .unwrap_or_default(),
    })
}

fn ambiguous(lockfile: &Lockfile, query: &str, matches: &[&LockedModel]) -> ResolveError {
    ResolveError::Ambiguous {
        query: query.to_string(),
        lockfile: lockfile.path.clone(),
        candidates: matches
            .iter()
            .map(|m| (m.name.clone(), m.sha256.short()))
            .collect(),
    }
}

/// Resolves every query (all entries when there is none), in lockfile order, without
/// duplicates.
pub fn resolve_all<'a>(
    lockfile: &'a Lockfile,
    queries: &[String],
) -> Result<Vec<&'a LockedModel>, ResolveError> {
    if queries.is_empty() {
        return Ok(lockfile.models.iter().collect());
    }
    let mut found: Vec<&LockedModel> = Vec::new();
    for q in queries {
        let m = resolve(lockfile, q)?;
        if !found.iter().any(|f| f.name == m.name) {
            found.push(m);
        }
    }
    found.sort_by_key(|m| lockfile.models.iter().position(|x| x.name == m.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn lock() -> Lockfile {
        let entry = |name: &str, url: &str, hash: char, aliases: &str| {
            let sha = format!("{hash}{}", "0".repeat(63));
            format!(
                "[[model]]\nname = \"{name}\"\nurl = \"{url}\"\nsha256 = \"{sha}\"\naliases = [{aliases}]\n"
            )
        };
        let text = format!(
            "version = 1\n{}{}{}{}",
            entry(
                "tiny-bert",
                "https://x/bert-tiny.safetensors",
                'a',
                "\"tb\""
            ),
            entry("tiny-bert-large", "https://x/large.safetensors", 'b', ""),
            entry(
                "sd15",
                "https://x/v1-5-pruned.ckpt",
                'c',
                "\"stable-diffusion\""
            ),
            entry("sd21", "https://x/v2-1.ckpt", 'd', "")
        );
        Lockfile::parse(&text, Path::new("models.lock")).unwrap()
    }

    fn name(q: &str) -> Result<String, ResolveError> {
        let l = lock();
        resolve(&l, q).map(|m| m.name.clone())
    }

    #[test]
    fn every_step_of_the_chain() {
        assert_eq!(name("tiny-bert").unwrap(), "tiny-bert");
        assert_eq!(name("tb").unwrap(), "tiny-bert");
        assert_eq!(name(&format!("C{}", "0".repeat(63))).unwrap(), "sd15");
        assert_eq!(name("d0000000").unwrap(), "sd21");
        assert_eq!(name("bert-tiny.safetensors").unwrap(), "tiny-bert");
        assert_eq!(name("v1-5-pruned").unwrap(), "sd15");
        assert_eq!(name("sd15 [c000000000]").unwrap(), "sd15");
        assert_eq!(name("STABLE").unwrap(), "sd15");
        // Both tiny-bert names contain "bert"; the shortest match wins.
        assert_eq!(name("bert").unwrap(), "tiny-bert");
    }

    #[test]
    fn ambiguity_and_suggestions() {
        let err = name("00000000").unwrap_err();
        assert!(matches!(&err, ResolveError::NotFound { .. }), "{err}");
        let err = name("sd").unwrap_err();
        let ResolveError::Ambiguous { candidates, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(candidates.len(), 2);
        assert_eq!(
            err.to_string(),
            "`sd` is ambiguous in `models.lock`; it matches:\n  sd15  c000000000\n  sd21  d000000000\nuse a full name, an alias or a longer hash"
        );
        assert_eq!(
            name("tiny-brt").unwrap_err().to_string(),
            "no model matches `tiny-brt` in `models.lock`; did you mean `tiny-bert`?"
        );
        assert!(name("sd15 [d000000000]").is_err());
        assert!(name("c000000").is_err(), "7 hex is too short for a hash");
    }
}
